"""The test tree itself: pytest imports test modules by basename (rootdir mode, no packages),
so a unit and an interop test file of the same name break the collection of the whole run —
which a run of tests/unit alone would not show."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def test_test_module_basenames_are_unique():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
