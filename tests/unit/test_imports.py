"""upnpy's modules import alone, import no cycle, and ``import upnpy`` stays light.

The modules are found by listing ``upnpy/*.py``, so a module added or renamed is checked too.

1. Each module is imported alone in a fresh interpreter (as python-zeroconf's
   tests/test_circular_imports.py does): an import cycle that only bites in one import order
   fails here.
2. The package's import graph, read with :mod:`ast`, has no cycle. It counts every import that
   runs (in functions too) and leaves out ``if TYPE_CHECKING:`` blocks, which never run.
3. ``import upnpy`` loads neither requests, xmltodict nor the eventing module, nor what only
   some calls need (ifaddr and ctypes, the thread pool, platform, decimal, fractions, uuid,
   base64):
   the import cost target depends on it.
4. ``import upnpy`` generates no code: its records are :func:`upnpy._records.record` classes,
   which compile nothing, where dataclasses and named tuples compile their methods.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "upnpy"
PACKAGE_DIR = ROOT / PACKAGE
INIT = "__init__"  # the package itself, in the graph

#: every module of the package by file name, ``__init__`` included
MODULES = sorted(path.stem for path in PACKAGE_DIR.glob("*.py"))


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run *code* in a fresh interpreter at the repository root (so its upnpy is imported)."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_modules_are_found():
    assert {INIT, "_proxy", "_subscription"} <= set(MODULES)


# --- 1. every module imports alone ------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name in MODULES if name != "__main__"])
def test_module_imports_alone(name):  # __main__ is left out: importing it runs the CLI
    module = PACKAGE if name == INIT else f"{PACKAGE}.{name}"
    result = run_python(f"import {module}")
    assert result.returncode == 0, f"import {module} failed alone:\n{result.stderr}"


# --- 2. no import cycle ------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING``, ``typing.TYPE_CHECKING``, ``_typing.TYPE_CHECKING``..."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(node: ast.AST) -> Iterator[ast.AST]:
    """Every import statement in or under *node* that can run: not under ``if TYPE_CHECKING:``."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for statement in node.orelse:  # the else branch does run
            yield from _runtime_imports(statement)
    else:
        for child in ast.iter_child_nodes(node):
            yield from _runtime_imports(child)


def imports_of(source: str, modules: Set[str], package: str = PACKAGE) -> Set[str]:
    """The modules of *package* (names as in *modules*; the package is ``__init__``) that
    *source*, a module directly inside *package*, imports at run time."""

    def target(dotted: str) -> Optional[str]:  # "upnpy._x" -> "_x", "upnpy" -> "__init__"
        if dotted == package:
            return INIT
        head, _, rest = dotted.partition(".")
        return rest.partition(".")[0] if head == package else None

    edges: Set[str] = set()
    for node in _runtime_imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            found = (target(alias.name) for alias in node.names)
            edges.update(name for name in found if name)
            continue
        if node.level:  # relative: level 1 is the package itself, deeper is outside it
            if node.level > 1:
                continue
            base = package + (f".{node.module}" if node.module else "")
        else:
            base = node.module or ""
        if base == package:  # from . import x / from upnpy import x: a module, or a name
            edges.update(alias.name if alias.name in modules else INIT for alias in node.names)
        else:
            name = target(base)
            if name:
                edges.add(name)
    return edges


def import_graph() -> Dict[str, Set[str]]:
    """Module -> the package's modules it imports at run time (self-imports left out)."""
    modules = set(MODULES)
    graph = {}
    for name in MODULES:
        source = (PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8")
        graph[name] = imports_of(source, modules) - {name}
    return graph


def find_cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """One cycle (``[a, b, ..., a]``) for each group of modules that import each other."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    groups: List[List[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(group, graph) for group in sorted(groups)]


def _cycle_through(group: List[str], graph: Dict[str, Set[str]]) -> List[str]:
    """The shortest path from the group's first module back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return paths[node] + [start]
            if nxt in members and nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {group}")  # a component always has one


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert graph[INIT], "the graph is empty: the import reader is broken"
    cycles = [" -> ".join(cycle) for cycle in find_cycles(graph)]
    assert not cycles, "import cycles in upnpy/:\n  " + "\n  ".join(cycles)


def test_the_cycle_finder_finds_cycles():
    acyclic = {"__init__": {"_a", "_b"}, "_a": {"_b"}, "_b": {"_c"}, "_c": set()}
    assert find_cycles(acyclic) == []
    cyclic = {
        "__init__": {"_a"},
        "_a": {"_b"},
        "_b": {"_c", "_d"},
        "_c": {"_a"},
        "_d": {"_e"},
        "_e": {"_d"},
    }
    assert find_cycles(cyclic) == [["_a", "_b", "_c", "_a"], ["_d", "_e", "_d"]]
    assert find_cycles({"_a": {"__init__"}, "__init__": {"_a"}}) == [["__init__", "_a", "__init__"]]
    assert find_cycles({"_a": {"_a"}}) == [["_a", "_a"]]


def test_the_import_reader_counts_what_runs():
    source = textwrap.dedent(
        """
        import json
        import upnpy._a
        import upnpy
        from . import _b, helper
        from ._c import thing
        from .. import elsewhere
        from upnpy import _d
        from upnpy._e import other
        from upnpy import Device
        import typing
        import typing as _typing
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from ._f import Hint
        if typing.TYPE_CHECKING:
            import upnpy._g
        if _typing.TYPE_CHECKING:
            from . import _h
        else:
            from . import _i

        def later():
            from ._j import late
            if TYPE_CHECKING:
                from ._k import Nope
            elif TYPE_CHECKING:
                from ._k import Nope
            else:
                import upnpy._l.sub
        """
    )
    modules = {"__init__", "_a", "_b", "_c", "_d", "_e", "_f", "_g", "_h", "_i", "_j", "_k", "_l"}
    expected = {"_a", "__init__", "_b", "_c", "_d", "_e", "_i", "_j", "_l"}
    assert imports_of(source, modules) == expected
    assert imports_of("from . import helper", modules) == {"__init__"}  # a name: the package
    assert imports_of("import upnpyx\nfrom upnpyx import _a", modules) == set()


# --- 3. import upnpy stays light ------------------------------------------------------------


def test_import_upnpy_loads_no_heavy_module():
    heavy = ["requests", "xmltodict", "upnpy._subscription"]
    result = run_python(
        f"import sys, upnpy; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], f"import upnpy loaded {result.stdout.split()}"


#: Modules that only some uses need, loaded then (the first interface listing, discovery's
#: thread pool, a fixed.14.4 or float argument, a range check, a uuid.UUID value, a
#: bin.base64 value).
DEFERRED = [
    "ifaddr",
    "ctypes",
    "concurrent.futures",
    "platform",
    "decimal",
    "fractions",
    "uuid",
    "base64",
]


def test_import_upnpy_defers_what_only_some_calls_need():
    result = run_python(
        f"import sys, upnpy; print(' '.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], f"import upnpy loaded {result.stdout.split()}"


def test_the_deferred_modules_load_when_used():
    code = """
import sys, socket, uuid
from decimal import Decimal
from upnpy import _datatypes, _interfaces
from upnpy._records import StateVariableInfo
_interfaces.interfaces(include_loopback=True)
var = StateVariableInfo("V", "ui1", minimum=1, maximum=9)
assert _datatypes.encode(3, var) == "3"
assert _datatypes.encode(Decimal("1.5"), StateVariableInfo("F", "fixed.14.4")) == "1.5"
assert _datatypes.encode(uuid.UUID(int=1), StateVariableInfo("U", "uuid")).endswith("0001")
print(' '.join(m for m in ("ifaddr", "fractions") if m in sys.modules))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ifaddr", "fractions"]


#: Counts compile() of source made up at run time (dataclasses, namedtuple and typing's
#: forward references generate code that way) on behalf of upnpy's own modules, while CODE
#: runs; prints the count and where the first ones came from.
GENERATED = """
import os, sys
GENERATORS = ("dataclasses.py", os.path.join("collections", "__init__.py"), "typing.py")
generated = []
def hook(event, args):
    if event != "compile" or str(args[1]).endswith(".py"):
        return  # a module's own source, not generated code
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<")
        or frame.f_code.co_filename.endswith(GENERATORS)
    ):
        frame = frame.f_back
    if frame is not None and os.sep + "upnpy" + os.sep in frame.f_code.co_filename:
        generated.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")
sys.addaudithook(hook)
CODE
print(len(generated), *generated[:5])
"""


def test_import_upnpy_generates_no_code():
    result = run_python(GENERATED.replace("CODE", "import upnpy"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "0", f"code generated at import: {result.stdout}"


def test_the_generated_code_counter_counts():
    code = "from upnpy import _tracker"  # DeviceChange is a NamedTuple, on purpose
    result = run_python(GENERATED.replace("CODE", code))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) > 0
