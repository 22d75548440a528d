"""Where the time of one upnpy operation goes, next to its floor: cProfile, and py-spy if present.

Run inside the lab's client namespace (it refuses to run anywhere else), for example::

    lab/lab.sh run .venv/bin/python bench/profile.py dms first
    lab/lab.sh run .venv/bin/python bench/profile.py light call --py-spy

``KEY`` is a lab device (``light``, ``dms``, ``gw``, ``gw2``, ``dmr``: bench.py's devices and
actions); ``MODE`` is ``first`` (description URL → first completed action, fresh objects each
time) or ``call`` (the action again and again on one ``upnpy.Device``). It prints:

(a) the median wall time of the operation and of its floor, measured without a profiler, taking
    turns (the floor is issue 13's: one connection kept alive where the device keeps
    connections, else a new connection per request; bench/floor.py);
(b) the top functions by self time (tottime) while the operation runs in a loop for a few
    seconds under cProfile, per operation;
(c) the same self time grouped: every function's self time goes to one group, chosen by its
    file and name (:data:`GROUPS`, first match; C functions by their name: the methods of
    ``_socket.socket`` and ``select`` are socket syscalls, ``pyexpat``'s are XML parsing).

cProfile adds a cost to every Python call, so the shares lean towards Python code; the wall
medians in (a) carry no profiler. With ``--py-spy`` (when ``.venv/bin/py-spy`` exists), the loop
runs once more in a child under ``py-spy record --idle -f raw`` (sampling, no per-call cost) and
the samples taken inside the loop are grouped the same way by their innermost Python frame; as
py-spy sees no C frames, a sample whose innermost line calls a socket method (``.recv(``,
``.sendall(`` ...) counts as a socket syscall, one that calls ``.Parse(`` as XML parsing.
"""

from __future__ import annotations

import argparse
import importlib
import linecache
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PY_SPY = Path(sys.executable).parent / "py-spy"

#: The operation's loop runs this long (seconds), at most this many times.
SECONDS = 3.0
MAX_RUNS = 200_000
#: The wall medians: turns of the operation and its floor, this long in all.
WALL_SECONDS = 2.0
TOP = 25
#: Samples per second for py-spy.
SPY_RATE = 1000

Op = Callable[[], object]


def stdlib_module(name: str) -> ModuleType:
    """Import stdlib *name* with this folder off ``sys.path``: this file's name shadows the
    stdlib's ``profile``, which cProfile imports."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    try:
        return importlib.import_module(name)
    finally:
        sys.path[:] = saved


# --- grouping ------------------------------------------------------------------------------

SOCKET_CALL = re.compile(
    r"\.(recv|recv_into|sendall|send|connect|connect_ex|close|settimeout|setsockopt|poll)\("
    r"|socket\.socket\(|create_connection\(|select\.(poll|select)\("
)
EXPAT_CALL = re.compile(r"\.(Parse|ParseFile)\(|ParserCreate\(")


def _in(filename: str, *names: str) -> bool:
    path = filename.replace("\\", "/")
    return any(path.endswith(name) or f"/{name}" in path for name in names)


def _is_socket(filename: str, function: str) -> bool:
    if filename == "~":  # cProfile's name for C functions
        return "socket" in function or "select." in function
    return _in(filename, "socket.py", "selectors.py")


def _is_xml(filename: str, function: str) -> bool:
    return (
        "pyexpat" in function
        or _in(filename, "xmltodict.py", "xml/", "upnpy/_xml.py", "upnpy/_description.py")
        or "upnpy/_reader" in filename.replace("\\", "/")
    )


#: (group, test on a function's file and name), first match wins; what matches none is "rest".
GROUPS: List[Tuple[str, Callable[[str, str], bool]]] = [
    ("socket syscalls (recv/connect/sendall/close/socket(), select)", _is_socket),
    ("XML parsing (pyexpat, xml.*, xmltodict, upnpy._xml/_description/_reader*)", _is_xml),
    ("Action objects (upnpy._proxy, inspect)",
     lambda f, _: _in(f, "upnpy/_proxy.py", "inspect.py")),
    ("HTTP head parsing (upnpy._response, upnpy._http)",
     lambda f, _: _in(f, "upnpy/_response.py", "upnpy/_http.py")),
    ("SOAP (upnpy._soap)", lambda f, _: _in(f, "upnpy/_soap.py")),
    ("upnpy, other modules", lambda f, _: "/upnpy/" in f.replace("\\", "/")),
]  # fmt: skip
REST = "rest (stdlib, interpreter, this loop)"


def group_of(filename: str, function: str, line: str = "") -> str:
    """The group of a function (or of a py-spy sample's innermost *line*)."""
    if line and SOCKET_CALL.search(line):
        return GROUPS[0][0]
    if line and EXPAT_CALL.search(line):
        return GROUPS[1][0]
    for name, test in GROUPS:
        if test(filename, function):
            return name
    return REST


def short(filename: str) -> str:
    """*filename* relative to the repository or to its ``site-packages``/stdlib folder."""
    if filename == "~":
        return "C builtins"
    path = filename.replace("\\", "/")
    for marker in (str(REPO) + "/", "site-packages/", "/lib/python3."):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[1] if marker == "/lib/python3." else rest
    return path


def print_groups(totals: Dict[str, float], unit: str, per_op: float) -> None:
    """Each group's share of *totals*, and its amount per operation."""
    whole = sum(totals.values()) or 1.0
    for name in [*(g for g, _ in GROUPS), REST]:
        value = totals.get(name, 0.0)
        print(f"  {100 * value / whole:5.1f}%  {value / per_op:9.1f} {unit}  {name}")


def print_rest_files(by_file: Dict[str, float], per_op: float, unit: str) -> None:
    top = sorted(by_file.items(), key=lambda kv: -kv[1])[:4]
    if top:
        print(
            "  (upnpy's other modules and the rest, biggest files: "
            + ", ".join(f"{short(f)} {v / per_op:.1f} {unit}" for f, v in top)
            + ")"
        )


# --- the operations ------------------------------------------------------------------------


def operations(target: Any, mode: str) -> Tuple[Op, Callable[[], float], Callable[[], float]]:
    """``(operation, timed operation, timed floor)`` for *target* in *mode*."""
    import peers

    import upnpy

    floor_client: Any = peers.KeepAliveFloor() if target.keep_alive else peers.Floor()
    if mode == "first":

        def first() -> None:
            with upnpy.Device(target.location) as device:
                device[target.service_type][target.action]()

        upnpy_client = peers.Upnpy()
        return (
            first,
            lambda: upnpy_client.first_call(target),
            lambda: floor_client.first_call(target),
        )
    device = upnpy.Device(target.location)
    action = device[target.service_type][target.action]
    run_floor = floor_client.per_call(target)
    run_upnpy = peers.Upnpy().per_call(target)
    return action, lambda: run_upnpy(1)[0], lambda: run_floor(1)[0]


def wall_medians(timed: Callable[[], float], floor_timed: Callable[[], float]) -> Dict[str, Any]:
    """Medians of the operation and its floor, in turns of 5, for :data:`WALL_SECONDS`."""
    import statistics

    samples: Dict[str, List[float]] = {"upnpy": [], "floor": []}
    medians: Dict[str, Any] = {}
    for _ in range(5):  # warm-up
        timed()
        floor_timed()
    deadline = time.monotonic() + WALL_SECONDS
    while time.monotonic() < deadline and len(samples["upnpy"]) < 20_000:
        for name, fn in (("upnpy", timed), ("floor", floor_timed)):
            samples[name] += [fn() for _ in range(5)]
    for name, values in samples.items():
        medians[name] = statistics.median(values)
    medians["n"] = len(samples["upnpy"])
    return medians


def profiled_loop(operation: Op, seconds: float) -> int:
    """Run *operation* for *seconds* (at most :data:`MAX_RUNS` times); how many runs."""
    deadline = time.monotonic() + seconds
    runs = 0
    while runs < MAX_RUNS and time.monotonic() < deadline:
        operation()
        runs += 1
    return runs


# --- cProfile ------------------------------------------------------------------------------


def run_cprofile(operation: Op, seconds: float) -> Tuple[Dict[Any, Any], int, float]:
    """The loop under cProfile: ``(pstats' raw stats, runs, wall seconds)``."""
    cprofile = stdlib_module("cProfile")
    pstats = stdlib_module("pstats")
    profiler = cprofile.Profile()
    started = time.perf_counter()
    profiler.enable()
    runs = profiled_loop(operation, seconds)
    profiler.disable()
    wall = time.perf_counter() - started
    stats: Dict[Any, Any] = pstats.Stats(profiler).stats
    return stats, runs, wall


def label(key: Tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename == "~":  # a C function: "<function socket.close at 0x7f...>" and the like
        return re.sub(r" at 0x[0-9a-f]+>$", ">", function)
    return f"{short(filename)}:{line}({function})"


def report_cprofile(stats: Dict[Any, Any], runs: int, wall: float, top: int) -> None:
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])
    print(
        f"\n(b) cProfile: {runs} runs, {1e6 * wall / runs:.0f} µs per run under the profiler;"
        f" top {top} functions by self time, per run:"
    )
    print(f"  {'self µs':>8} {'cum µs':>8} {'calls':>6}  function")
    for key, (_, calls, tottime, cumtime, _) in rows[:top]:
        print(
            f"  {1e6 * tottime / runs:8.1f} {1e6 * cumtime / runs:8.1f}"
            f" {calls / runs:6.1f}  {label(key)}"
        )
    totals: Dict[str, float] = {}
    rest_files: Dict[str, float] = {}
    for (filename, _, function), value in stats.items():
        group = group_of(filename, function)
        totals[group] = totals.get(group, 0.0) + value[2]
        if group in (REST, GROUPS[-1][0]):
            rest_files[filename] = rest_files.get(filename, 0.0) + value[2]
    print("\n(c) cProfile self time by group, share and µs per run:")
    print_groups(totals, "µs", runs / 1e6)
    print_rest_files(rest_files, runs / 1e6, "µs")


# --- py-spy --------------------------------------------------------------------------------

FRAME = re.compile(r"^(?P<function>.*) \((?P<filename>.*):(?P<line>\d+)\)$")


def parse_raw(lines: Iterable[str], inside: str) -> List[Tuple[str, str, int, int]]:
    """``(function, filename, line, count)`` of the innermost frame of each sample whose stack
    holds a frame of function *inside*."""
    samples = []
    for text in lines:
        stack, _, count = text.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or not any(f.startswith(inside + " (") for f in frames):
            continue
        match = FRAME.match(frames[-1])
        if match:
            samples.append((match["function"], match["filename"], int(match["line"]), int(count)))
    return samples


def run_py_spy(key: str, mode: str, seconds: float) -> Optional[Tuple[List[Any], int]]:
    """This script's loop alone in a child under py-spy; ``(samples, runs)``."""
    if not PY_SPY.exists():
        print(f"\npy-spy: {PY_SPY} is not installed")
        return None
    with tempfile.TemporaryDirectory(prefix="upnpy-profile-") as folder:
        raw = Path(folder) / "samples.txt"
        command = [
            str(PY_SPY), "record", "--idle", "--full-filenames", "-r", str(SPY_RATE),
            "-f", "raw", "-o", str(raw), "--",
            sys.executable, str(Path(__file__).resolve()), key, mode,
            "--loop-only", "--seconds", str(seconds),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        if done.returncode != 0 or not raw.exists():
            print(f"\npy-spy failed ({done.returncode}): {done.stderr.strip()[-400:]}")
            return None
        runs = [line for line in done.stdout.splitlines() if line.startswith("runs ")]
        if not runs:  # the child failed: py-spy still wrote what it sampled
            print(f"\npy-spy: the loop did not run: {done.stderr.strip()[-600:]}")
            return None
        samples = parse_raw(raw.read_text(encoding="utf-8").splitlines(), "profiled_loop")
        return samples, int(runs[-1].split()[1])


def report_py_spy(samples: List[Tuple[str, str, int, int]], runs: int) -> None:
    count = sum(n for *_, n in samples)
    if not count or not runs:
        print("\npy-spy: no sample inside the loop")
        return
    totals: Dict[str, float] = {}
    rest_files: Dict[str, float] = {}
    for function, filename, line, n in samples:
        group = group_of(filename, function, linecache.getline(filename, line))
        totals[group] = totals.get(group, 0.0) + n
        if group in (REST, GROUPS[-1][0]):
            rest_files[filename] = rest_files.get(filename, 0.0) + n
    print(
        f"\n(c') py-spy: {count} samples inside the loop ({SPY_RATE}/s, idle included: waiting"
        f" in recv counts), {runs} runs; by group, share and µs per run (a sample ="
        f" {1e6 / SPY_RATE:.0f} µs):"
    )
    per_run = runs * SPY_RATE / 1e6  # samples → µs per run
    print_groups(totals, "µs", per_run)
    print_rest_files(rest_files, per_run, "µs")


# --- main ----------------------------------------------------------------------------------


def arguments(argv: Sequence[str]) -> argparse.Namespace:
    import bench

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("key", choices=list(bench.DEVICES))
    parser.add_argument("mode", choices=["first", "call"])
    parser.add_argument("--seconds", type=float, default=SECONDS, help="loop time (3 s)")
    parser.add_argument("--top", type=int, default=TOP, help="functions listed (25)")
    parser.add_argument("--py-spy", action="store_true", help="also sample the loop with py-spy")
    parser.add_argument("--loop-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> None:
    args = arguments(argv)
    seconds = min(max(args.seconds, 0.1), 60.0)
    import bench

    bench.check_namespace()
    target = bench.lab_target(args.key)
    operation, timed, floor_timed = operations(target, args.mode)
    if args.loop_only:  # py-spy's child: the loop alone
        operation()
        print(f"runs {profiled_loop(operation, seconds)}")
        return
    what = "URL → first completed action" if args.mode == "first" else "one call, one Device"
    floor_name = "one connection kept" if target.keep_alive else "a new connection per request"
    print(f"{target.label} — {what}; the device keeps connections: {target.keep_alive_note}")
    medians = wall_medians(timed, floor_timed)
    mine, base = medians["upnpy"], medians["floor"]
    print(
        f"\n(a) wall medians, no profiler, {medians['n']} runs each in turns:"
        f" upnpy {1e6 * mine:.0f} µs, floor ({floor_name}) {1e6 * base:.0f} µs,"
        f" overhead {1e6 * (mine - base):+.0f} µs ({mine / base:.2f}×)"
    )
    stats, runs, wall = run_cprofile(operation, seconds)
    report_cprofile(stats, runs, wall, args.top)
    if args.py_spy:
        spied = run_py_spy(args.key, args.mode, seconds)
        if spied:
            report_py_spy(*spied)


if __name__ == "__main__":
    main(sys.argv[1:])
