"""The cost of ``import upnpy`` next to ``import requests``, like for like (issue 13).

Each figure is the median wall time of ``python -c 'import X'`` in a fresh child, minus that of
``python -c pass``. The machine sets ``PYTHONDONTWRITEBYTECODE=1``: with an editable install
whose ``__pycache__`` is stale or missing, every import would compile upnpy's source, while
requests' byte code was compiled by pip at install. So, first, upnpy is byte-compiled the way
pip does at install (``python -m compileall -q <package dir>``, which writes the ``.pyc`` files
whatever PYTHONDONTWRITEBYTECODE says). Then one extra child per package, not timed, checks
that its import compiled nothing: an audit hook counts the ``compile`` events (importlib
compiles a module's source through ``compile()``; so do dataclasses and namedtuple for the code
they generate), and every module's ``__cached__`` ``.pyc`` is checked against its source's
mtime and size.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Dict, List, Optional

from peers import clock
from text import attempt, ms, ratio, table

REPO = Path(__file__).resolve().parent.parent
IMPORT_RUNS = 25
#: Issue 5's target and issue 13's, as ratios of import upnpy's net cost to import requests'.
MAX_IMPORT_RATIO_5 = 1.2
MAX_IMPORT_RATIO_13 = 1.0
#: The packages whose import is checked for compiled and generated code.
CHECKED = ("upnpy", "requests")

#: Run once per package, not timed: ``python -c CHECK_CHILD <module>``; one line of JSON out.
CHECK_CHILD = r"""
import importlib, importlib.util, json, os, sys

module = sys.argv[1]
# The stdlib modules that exec generated source on their callers' behalf.
GENERATORS = ("dataclasses.py", os.sep.join(("", "collections", "__init__.py")),
              os.sep + "typing.py")
compiled, generated = [], []

def origin():
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<")
                                 or frame.f_code.co_filename.endswith(GENERATORS)):
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else ("?", 0)

def hook(event, args):
    if event != "compile":
        return
    filename = args[1]
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if isinstance(filename, str) and filename.endswith(".py"):
        compiled.append(filename)
    else:
        generated.append(origin())

sys.addaudithook(hook)
package = importlib.import_module(module)
root = os.path.dirname(package.__file__) + os.sep

def pyc_problem(source, cached):
    try:
        with open(cached, "rb") as f:
            head = f.read(16)
        st = os.stat(source)
    except OSError:
        return "missing"
    if head[:4] != importlib.util.MAGIC_NUMBER:
        return "another Python's"
    if int.from_bytes(head[4:8], "little"):
        return None  # hash-based: checked by hash, not by time
    if (int.from_bytes(head[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF
            or int.from_bytes(head[12:16], "little") != st.st_size & 0xFFFFFFFF):
        return "stale"
    return None

own = [m for m in list(sys.modules.values())
       if (getattr(m, "__file__", None) or "").startswith(root)]
problems = {}
for m in own:
    cached = getattr(m, "__cached__", None)
    problem = pyc_problem(m.__file__, cached) if cached else "no __cached__"
    if problem:
        problems[m.__name__] = problem
sites = {}
for filename, line in generated:
    if filename.startswith(root):
        where = f"{module}/{filename[len(root):]}:{line}"
        sites[where] = sites.get(where, 0) + 1
print(json.dumps({
    "modules": len(own),
    "compiled_own": sorted(f for f in compiled if f.startswith(root)),
    "compiled_other": len([f for f in compiled if not f.startswith(root)]),
    "pyc_problems": problems,
    "generated_own": sum(sites.values()),
    "generated_other": len(generated) - sum(sites.values()),
    "generated_sites": sorted(sites.items(), key=lambda kv: -kv[1])[:5],
}))
"""


def package_dir(name: str) -> Path:
    """Where package *name* lives, found without importing it."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"no package {name}")
    return Path(next(iter(spec.submodule_search_locations)))


def compile_at_install(name: str) -> str:
    """Byte-compile package *name* as pip does at install; return the command run."""
    folder = package_dir(name)
    command = [sys.executable, "-m", "compileall", "-q", str(folder)]
    subprocess.run(command, check=True, cwd=REPO, timeout=120, capture_output=True)
    return f"python -m compileall -q {folder}"


def check_bytecode(module: str) -> Dict[str, Any]:
    """What one ``import <module>`` compiled, and whether its ``.pyc`` files are fresh."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK_CHILD, module],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    figures: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def heaviest_imports(count: int = 6) -> List[Dict[str, Any]]:
    """The modules with the most self time in one ``python -X importtime -c 'import upnpy'``."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import upnpy"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stderr
    rows: List[Dict[str, Any]] = []
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append(
                {
                    "module": parts[2].strip(),
                    "self": int(parts[0]) / 1e6,
                    "cumulative": int(parts[1]) / 1e6,
                }
            )
    return sorted(rows, key=lambda row: row["self"], reverse=True)[:count]


def _once(code: str) -> float:
    t0 = clock()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
    return clock() - t0


def measure_import() -> Dict[str, Any]:
    """Compile upnpy as at install and check that its import compiles nothing; time the three
    children in turns; check again (upnpy's source may have been edited meanwhile)."""
    compiled = compile_at_install("upnpy")
    before = {name: attempt(f"{name} byte code", check_bytecode, name) for name in CHECKED}
    codes = {
        "python -c pass": "pass",
        "import requests": "import requests",
        "import upnpy": "import upnpy",
    }
    samples: Dict[str, List[float]] = {name: [] for name in codes}
    for code in codes.values():  # warm-up: page cache
        _once(code)
    for _ in range(IMPORT_RUNS):
        for name, code in codes.items():
            samples[name].append(_once(code))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    after = attempt("upnpy byte code, after", check_bytecode, "upnpy")
    base = medians["python -c pass"]
    cost_requests = medians["import requests"] - base
    cost_upnpy = medians["import upnpy"] - base
    heaviest = attempt("import profile", heaviest_imports)
    return {
        "runs": IMPORT_RUNS,
        "compiled_at_install": compiled,
        "python_pass": base,
        "requests_wall": medians["import requests"],
        "upnpy_wall": medians["import upnpy"],
        "requests": cost_requests,
        "upnpy": cost_upnpy,
        "ratio": cost_upnpy / cost_requests if cost_requests > 0 else None,
        "bytecode": before,
        "upnpy_bytecode_after": after,
        "heaviest": heaviest if isinstance(heaviest, list) else [],
    }


def bytecode_line(check: Dict[str, Any], name: str, when: str = "") -> str:
    """One line: whether *name*'s import compiled nothing (its ``.pyc`` files fresh)."""
    if "error" in check:
        return f"{name} bytecode: not checked ({check['error']})"
    if not check["compiled_own"] and not check["pyc_problems"]:
        return (
            f"{name} bytecode: compiled at install, nothing compiled at import"
            f" ({check['modules']} modules, every .pyc fresh{when})"
        )
    problems = ", ".join(f"{m} {p}" for m, p in sorted(check["pyc_problems"].items())[:5])
    return (
        f"WARNING {name} bytecode: {len(check['compiled_own'])} source file(s) compiled at"
        f" import; .pyc problems: {problems or 'none'}"
    )


def generated_line(checks: Dict[str, Any]) -> str:
    """Code generated at import (dataclasses, namedtuple: compile() of made-up source)."""
    parts = []
    for name, check in checks.items():
        if "error" not in check:
            sites = ", ".join(f"{where} ×{n}" for where, n in check["generated_sites"][:3])
            parts.append(
                f"{name}'s own modules {check['generated_own']}"
                + (f" ({sites} …)" if sites else "")
                + f", its dependencies {check['generated_other']}"
            )
    return "code generated at import (compile() of source made up at run time): " + "; ".join(parts)


def nothing_compiled(check: Any) -> Optional[bool]:
    """Whether the checked import compiled none of the package's source (``None``: unknown)."""
    if not isinstance(check, dict) or "error" in check:
        return None
    return not check["compiled_own"] and not check["pyc_problems"]


def report(imports: Dict[str, Any], check: Any) -> str:
    """The import section; *check* is :meth:`text.Verdicts.check`."""
    figures = imports
    goal13 = check(
        13,
        "import upnpy ≤ 1.00× import requests",
        figures["ratio"],
        MAX_IMPORT_RATIO_13,
        f"{ratio(figures['ratio'])} ({ms(figures['upnpy'])} vs {ms(figures['requests'])})",
        f"≤ {MAX_IMPORT_RATIO_13:.2f}×",
    )
    goal5 = check(
        5,
        f"import upnpy ≤ {MAX_IMPORT_RATIO_5:g}× import requests",
        figures["ratio"],
        MAX_IMPORT_RATIO_5,
        ratio(figures["ratio"]),
        f"≤ {MAX_IMPORT_RATIO_5:g}×",
    )
    upnpy_check = figures["bytecode"].get("upnpy") or {}
    clean = nothing_compiled(upnpy_check)
    check(
        13,
        "import upnpy compiles none of upnpy's source",
        None if clean is None else float(not clean),
        0.0,
        "nothing compiled" if clean else "—" if clean is None else "source compiled",
        "none",
    )
    generated = upnpy_check.get("generated_own")
    check(
        13,
        "import upnpy generates no code (upnpy's modules)",
        generated,
        0,
        "—" if generated is None else f"{generated} compile() of generated source",
        "none",
    )
    lines = [
        f"Import cost — median of {figures['runs']} runs of `python -c 'import X'` each, minus"
        f" `python -c pass`; PYTHONDONTWRITEBYTECODE=1 here, so upnpy was byte-compiled first"
        f" as pip does at install:\n  {figures['compiled_at_install']} (requests: by pip)",
        table(
            ["", "wall", "net of python -c pass"],
            [
                ["python -c pass", ms(figures["python_pass"]), "—"],
                ["import requests", ms(figures["requests_wall"]), ms(figures["requests"])],
                ["import upnpy", ms(figures["upnpy_wall"]), ms(figures["upnpy"])],
                [
                    "upnpy − requests",
                    "",
                    f"{(figures['upnpy'] - figures['requests']) * 1e3:+.1f} ms",
                ],
            ],
        ),
        f"  upnpy/requests {ratio(figures['ratio'])}: issue 13 {goal13}; issue 5 {goal5}",
    ]
    for name, entry in figures["bytecode"].items():
        lines.append("  " + bytecode_line(entry, name, ", checked before timing"))
    after = figures["upnpy_bytecode_after"]
    if clean and nothing_compiled(after) is False:
        lines.append(
            "  WARNING upnpy's source changed while the imports were timed (edited meanwhile):"
            f" after timing, {bytecode_line(after, 'upnpy')}"
        )
    lines.append("  " + generated_line(figures["bytecode"]))
    if figures["heaviest"]:
        lines.append(
            "  most self time (one -X importtime run): "
            + ", ".join(f"{row['module']} {ms(row['self'])}" for row in figures["heaviest"])
        )
    return "\n".join(lines)
