"""upnpy's benchmark on the lab of real devices: latency and discovery next to a raw-socket floor.

Run by ``make bench`` inside the lab's client namespace (``lab/lab.sh run``, with a crowd of
media servers: ``UPNPY_LAB_CROWD=30``). Whether each device keeps connections alive is read
first from its own answers (floor.probe_keep_alive: HTTP/1.1, no ``Connection: close``, one
socket carrying its description, its SCPD and the action twice). Then it measures, for each
lab device (the light, the media server, the gateway, and — in the latency sections — the
second gateway and the renderer):

- per-call latency: the median of many sequential calls after a warm-up, for the raw-socket
  floors (prebuilt request bytes; a new TCP connection per call, and, where the device keeps
  connections, one connection kept alive), upnpy (one ``Device``), and the peers when installed
  (the ``bench`` extra: upnpclient, async-upnp-client with one reused aiohttp session, timed
  inside one event loop). Clients take turns in rounds, so that the machine's drifts hit them
  alike;
- description URL → first completed action, fresh objects each run (the floors: raw GET of the
  description, raw GET of the SCPD, raw POST of the action; on three connections, and on one
  where the device keeps connections);
- ``upnpy.discover(st=<device type>, limit=1)`` until it returns the device, next to one plain
  UDP M-SEARCH → first answer → raw GET of its LOCATION (and the peers' own discovery calls);

and once: the second ``discover(st=IGD:2, limit=1, cache=...)`` next to a raw GET of the cached
LOCATION (``bench/cache.py``, issue 11's ≤ 10 ms), the cost of ``import upnpy`` against
``import requests`` (``bench/imports.py``: upnpy byte-compiled as at install first, then checked
to compile nothing at import), and how many of the crowd's
media servers one ``upnpy.discover(..., timeout=3)`` finds; then discovery at scale: for N
emulated devices (30, 300, 2000: one lab/responder.py in the lab's ``P-crowd`` namespace), a raw
M-SEARCH's count and ``upnpy.discover()`` in a child under ``ulimit -n 1024`` — devices found,
wall time, the client's own cost past the last answer, peak memory.

The latency section's headline is issue 13's: per call and for the first call, each client's
median, its overhead above the floor that counts (the keep-alive floor where the device keeps
connections, else the new-connection floor) in µs, and its ratio to that floor. It prints tables
with the targets of issues 13 and 5 (PASS/MISS) and writes every figure as JSON to
``$UPNPY_LAB/bench.json`` and ``bench/last.json``. ``bench.py latency`` measures per-call,
first-call and import cost alone (JSON: ``$UPNPY_LAB/bench-latency.json``); ``bench.py scale``
discovery at scale alone. A benchmark, not a test: nothing is asserted; every loop is bounded.
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

import cache
import floor
import imports
import peers
from peers import Target, clock
from text import Verdicts, attempt, ms, ratio, say, summary, table, us

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Loop sizes: enough samples for a stable median, bounded in time on a slow device.
WARMUP_CALLS = 20
# Per-call: clients take short turns (about TURN_SECONDS, 3..60 calls) in rounds, so that a device
# that changes pace for a while (miniupnpd does) slows every client alike; until each client has
# PER_CALL_SAMPLES calls or PER_CALL_SECONDS have passed on that device.
TURN_SECONDS = 0.02
PER_CALL_SAMPLES = 400
PER_CALL_SECONDS = 8.0
FIRST_RUNS = 60  # URL → first action, per client (a median of 15 moved by ±10 % between runs)
DISCOVER_RUNS = 15  # upnpy.discover(limit=1) and its floor, per device type
PEER_DISCOVER_RUNS = 2  # the peers' discovery waits out its timeout: a few runs only
DISCOVER_TIMEOUT = 2.0  # upnpy's default; also given to the peers
CROWD_RUNS = 5
CROWD_TIMEOUT = 3.0
MEDIA_SERVER = "urn:schemas-upnp-org:device:MediaServer:1"

#: The floors' client names (peers.Floor, peers.KeepAliveFloor).
NEW = peers.Floor.name
KEPT = peers.KeepAliveFloor.name
PAUSED = peers.PausedFloor.name

# Issue 5's targets.
MAX_FLOOR_RATIO = 2.0
MAX_PEER_RATIO = 0.8
MAX_FIRST_CALL_GW = 0.020
MAX_DISCOVER_GW = 0.050
# Issue 13's: per call, overhead above the floor (seconds) and share of the best peer's; first
# call, ratio to the floor.
MAX_OVERHEAD = 50e-6
MAX_PEER_OVERHEAD_SHARE = 0.5
MAX_FIRST_CALL_RATIO = 2.0


# --- the lab -------------------------------------------------------------------------------


def check_namespace() -> None:
    """Refuse to run anywhere but the lab's client namespace (network safety)."""
    wanted = os.environ.get("UPNPY_LAB_CLIENT_NS")
    if not wanted:
        sys.exit("bench: run me through `make bench` (lab/lab.sh run ...): no lab in this process")
    here = subprocess.run(
        ["ip", "netns", "identify", str(os.getpid())], capture_output=True, text=True, timeout=5
    ).stdout.strip()
    if here != wanted:
        sys.exit(f"bench: must run inside the lab namespace {wanted}, not {here or 'the host'}")


#: key: (label, the variable of its description URL, device type, service type, action, an
#: out-argument of the answer).
DEVICES: Dict[str, Tuple[str, str, str, str, str, str]] = {
    "light": (
        "GUPnP light SwitchPower.GetStatus",
        "UPNPY_LAB_LIGHT_URL",
        "urn:schemas-upnp-org:device:DimmableLight:1",
        "urn:schemas-upnp-org:service:SwitchPower:1",
        "GetStatus",
        "ResultStatus",
    ),
    "dms": (
        "minidlna ContentDirectory.GetSystemUpdateID",
        "UPNPY_LAB_DMS_URL",
        MEDIA_SERVER,
        "urn:schemas-upnp-org:service:ContentDirectory:1",
        "GetSystemUpdateID",
        "Id",
    ),
    "gw": (
        "miniupnpd WANIPConnection.GetExternalIPAddress",
        "UPNPY_LAB_GW_URL",
        "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
        "urn:schemas-upnp-org:service:WANIPConnection:2",
        "GetExternalIPAddress",
        "NewExternalIPAddress",
    ),
    "gw2": (
        "miniupnpd (IGD:1, behind CGNAT) WANIPConnection.GetExternalIPAddress",
        "UPNPY_LAB_GW2_URL",
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
        "urn:schemas-upnp-org:service:WANIPConnection:1",
        "GetExternalIPAddress",
        "NewExternalIPAddress",
    ),
    "dmr": (
        "gmediarender ConnectionManager.GetCurrentConnectionIDs",
        "UPNPY_LAB_DMR_URL",
        "urn:schemas-upnp-org:device:MediaRenderer:1",
        "urn:schemas-upnp-org:service:ConnectionManager:1",
        "GetCurrentConnectionIDs",
        "ConnectionIDs",
    ),
}
#: The devices of issue 5's targets, and of the discovery sections (the others are found by
#: the same code; their rows would only repeat the figures).
FIRST_DEVICES = ("light", "dms", "gw")


def lab_target(key: str) -> Target:
    """The lab device *key* (of :data:`DEVICES`): its service's URLs read, and whether it keeps
    connections alive probed."""
    label, variable, device_type, service_type, action, out = DEVICES[key]
    url = os.environ[variable]
    target = Target(
        key,
        label,
        url,
        device_type,
        service_type,
        action,
        out,
        floor.find_service(url, service_type),
    )
    keeps, note = peers.probe(target)
    return dataclasses.replace(target, keep_alive=keeps, keep_alive_note=note)


def lab_targets() -> List[Target]:
    return [lab_target(key) for key in DEVICES]


def first_devices(targets: List[Target]) -> List[Target]:
    """The targets of :data:`FIRST_DEVICES`."""
    return [target for target in targets if target.key in FIRST_DEVICES]


# --- measurements --------------------------------------------------------------------------


def skipped(client: Any, target: Target) -> Optional[Dict[str, Any]]:
    """``{"skipped": why}`` when *client* does not apply to *target* (peers.KeepAliveFloor)."""
    skip = getattr(client, "skip", None)
    why = skip(target) if skip is not None else None
    return {"skipped": why} if why else None


def measure_per_call(target: Target, clients: list) -> Dict[str, Any]:
    runs: Dict[str, Tuple[Callable[[int], List[float]], int]] = {}
    result: Dict[str, Any] = {}
    for client in clients:
        skip = skipped(client, target)
        run = skip or attempt(f"{client.name} on {target.key}", client.per_call, target)
        if isinstance(run, dict):
            result[client.name] = run
            continue
        warm = attempt(f"{client.name} warm-up on {target.key}", run, WARMUP_CALLS)
        if isinstance(warm, dict):
            result[client.name] = warm
            continue
        runs[client.name] = (
            run,
            max(3, min(60, int(TURN_SECONDS / max(statistics.median(warm), 1e-6)))),
        )
    samples: Dict[str, List[float]] = {name: [] for name in runs}
    gc.collect()
    deadline = time.monotonic() + PER_CALL_SECONDS
    for turn in range(10_000):
        names = [
            name for name in runs if name not in result and len(samples[name]) < PER_CALL_SAMPLES
        ]
        if not names or time.monotonic() > deadline:
            break
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            run, count = runs[name]
            got = attempt(f"{name} on {target.key}", run, count)
            if isinstance(got, dict):
                result[name] = got
            else:
                samples[name] += got
    for name, values in samples.items():
        if name not in result and values:
            result[name] = summary(values)
    return result


def measure_first_call(target: Target, clients: list) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    samples: Dict[str, List[float]] = {client.name: [] for client in clients}
    for client in clients:  # warm-up: lazy imports, first connections
        skip = skipped(client, target)
        got = skip or attempt(
            f"{client.name} first call on {target.key}", client.first_call, target
        )
        if isinstance(got, dict):
            result[client.name] = got
    started = time.monotonic()
    for turn in range(FIRST_RUNS):
        for client in clients[turn % len(clients) :] + clients[: turn % len(clients)]:
            if client.name in result:
                continue
            got = attempt(f"{client.name} first call on {target.key}", client.first_call, target)
            if isinstance(got, dict):
                result[client.name] = got
            else:
                samples[client.name].append(got)
        if time.monotonic() - started > 30:
            say(f"first call on {target.key}: stopped after {turn + 1} rounds (30 s)")
            break
    for name, values in samples.items():
        if name not in result and values:
            result[name] = summary(values)
    return result


def upnpy_discover(st: str) -> tuple:
    import upnpy

    t0 = clock()
    devices = upnpy.discover(st=st, limit=1, timeout=DISCOVER_TIMEOUT)
    elapsed = clock() - t0
    found = bool(devices) and devices[0].device_type == st
    for device in devices:
        device.close()
    return elapsed, found


def floor_discover(st: str) -> tuple:
    local_ip = os.environ["UPNPY_LAB_CLIENT_IP"]
    t0 = clock()
    location = floor.discover_first(local_ip, st, mx=1, timeout=DISCOVER_TIMEOUT)
    return clock() - t0, location is not None


def discover_figures(times: List[float], found: List[bool]) -> Dict[str, Any]:
    if not times:
        return {"error": "no run"}
    figures = summary(times)
    figures["found"] = sum(found)
    figures["runs"] = len(found)
    return figures


def measure_discover(target: Target, peer_clients: list) -> Dict[str, Any]:
    st = target.device_type
    result: Dict[str, Any] = {}
    measures = [("raw floor", floor_discover), ("upnpy", upnpy_discover)]
    times: Dict[str, List[float]] = {name: [] for name, _ in measures}
    found: Dict[str, List[bool]] = {name: [] for name, _ in measures}
    for name, fn in measures:  # warm-up
        attempt(f"{name} discover {st}", fn, st)
        time.sleep(0.05)
    for turn in range(DISCOVER_RUNS):
        for name, fn in measures[turn % 2 :] + measures[: turn % 2]:
            if name in result:
                continue
            got = attempt(f"{name} discover {st}", fn, st)
            if isinstance(got, dict):
                result[name] = got
                continue
            times[name].append(got[0])
            found[name].append(got[1])
            time.sleep(0.05)  # let the late answers to this search go by
    for name, _ in measures:
        if name not in result:
            result[name] = discover_figures(times[name], found[name])
    for client in peer_clients:
        runs = [
            attempt(f"{client.name} discover {st}", client.discover, st, DISCOVER_TIMEOUT)
            for _ in range(PEER_DISCOVER_RUNS)
        ]
        good = [got for got in runs if not isinstance(got, dict)]
        result[client.name] = (
            discover_figures([t for t, _ in good], [f for _, f in good]) if good else runs[0]
        )
    return result


def measure_crowd() -> Dict[str, Any]:
    import upnpy

    crowd_ips = [ip for ip in os.environ.get("UPNPY_LAB_CROWD_IPS", "").split(",") if ip]
    expected = set(crowd_ips) | {os.environ["UPNPY_LAB_DMS_IP"]}
    runs = []
    for _ in range(CROWD_RUNS):
        t0 = clock()
        devices = upnpy.discover(st=MEDIA_SERVER, timeout=CROWD_TIMEOUT)
        elapsed = clock() - t0
        hosts = {urlsplit(device.location).hostname for device in devices}
        for device in devices:
            device.close()
        runs.append(
            {
                "seconds": elapsed,
                "found": len(hosts & expected),
                "missing": sorted(expected - hosts),
            }
        )
        time.sleep(0.2)
    percents = [100.0 * run["found"] / len(expected) for run in runs]
    return {
        "crowd": len(crowd_ips),
        "expected": len(expected),
        "runs": runs,
        "min_percent": min(percents),
        "median_percent": statistics.median(percents),
    }


# --- discovery at scale: a crowd of emulated devices (lab/responder.py) ----------------------

#: Crowd sizes, one responder process each (``UPNPY_BENCH_SCALE=30,300`` to change them).
SCALE_SIZES = (30, 300, 2000)
SCALE_RUNS = 2
SCALE_TIMEOUT = 5.0
SCALE_NOFILE = 1024
SCALE_PORT = 8300
RESPONDER = REPO / "lab" / "responder.py"

#: Run in a child process per round: RLIMIT_NOFILE soft limit lowered, the arrival of every
#: crowd answer timestamped (upnpy._ssdp.parse_response wrapped) and the end of every
#: description fetch (the first of upnpy._discovery's fetch functions found, wrapped), then one
#: upnpy.discover(); one line of JSON out.
SCALE_CHILD = r"""
import json, logging, resource, sys, time
from urllib.parse import urlsplit

nofile, timeout, listing = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
expected = set(open(listing, encoding="ascii").read().split())
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
import upnpy
from upnpy import _discovery, _ssdp

marks = {"answers": 0, "last_answer": None, "last_new": None, "described": 0,
         "last_described": None, "hook": None}
senders = set()
parse = _ssdp.parse_response

def timed_parse(data, address):
    response = parse(data, address)
    if response is not None and address[0] in expected:
        marks["answers"] += 1
        marks["last_answer"] = time.monotonic()
        if address[0] not in senders:  # a device's first answer
            senders.add(address[0])
            marks["last_new"] = marks["last_answer"]
    return response

_ssdp.parse_response = timed_parse
for name in ("_fetch_description", "describe", "_describe"):
    original = getattr(_discovery, name, None)
    if callable(original):
        def timed_fetch(*args, _original=original, **kwargs):
            result = _original(*args, **kwargs)
            now = time.monotonic()
            marks["described"] += 1
            marks["last_described"] = max(now, marks["last_described"] or now)
            return result
        setattr(_discovery, name, timed_fetch)
        marks["hook"] = name
        break
def peak_kib():
    # VmHWM is this process's own peak; ru_maxrss would keep the parent's across fork + exec
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

error = None
started = time.monotonic()
try:
    devices = upnpy.discover(timeout=timeout)
except Exception as exc:
    devices, error = [], f"{type(exc).__name__}: {exc}"
returned = time.monotonic()
found = {urlsplit(device.location).hostname for device in devices} & expected
for device in devices:
    device.close()
since = lambda mark: None if mark is None else mark - started
print(json.dumps({
    "found": len(found), "devices": len(devices), "error": error, "wall": returned - started,
    "answers": marks["answers"], "last_answer": since(marks["last_answer"]),
    "senders": len(senders), "last_new": since(marks["last_new"]),
    "described": marks["described"], "last_described": since(marks["last_described"]),
    "hook": marks["hook"], "maxrss_kib": peak_kib(),
}))
"""


def scale_sizes() -> List[int]:
    text = os.environ.get("UPNPY_BENCH_SCALE", "")
    return [int(size) for size in text.split(",") if size.strip()] if text else list(SCALE_SIZES)


def start_responder(addresses: List[str], folder: Path) -> Tuple[subprocess.Popen, Path]:
    """lab/responder.py for *addresses* in the lab's crowd namespace; return once it is ready."""
    listing = folder / f"scale-{len(addresses)}.addresses"
    listing.write_text("\n".join(addresses) + "\n", encoding="ascii")
    ready = folder / f"scale-{len(addresses)}.ready"
    ready.unlink(missing_ok=True)
    # The log is a file: a pipe that nobody reads could block the responder.
    with open(folder / f"scale-{len(addresses)}.log", "wb") as log:
        process = subprocess.Popen(
            [
                "ip", "netns", "exec", os.environ["UPNPY_LAB_EMU_CROWD_NS"], sys.executable,
                str(RESPONDER), "--addresses", f"@{listing}", "--http-port", str(SCALE_PORT),
                "--max-age", "1800", "--name-prefix", "upnpy bench", "--ready-file", str(ready),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_responder(process)
            raise RuntimeError(f"the responder for {len(addresses)} devices did not start")
        time.sleep(0.05)
    return process, listing


def stop_responder(process: subprocess.Popen) -> None:
    """SIGTERM (the devices say byebye), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def scale_round(listing: Path) -> Dict[str, Any]:
    """One upnpy.discover() in a child under ``ulimit -n SCALE_NOFILE``; its figures."""
    done = subprocess.run(
        [sys.executable, "-c", SCALE_CHILD, str(SCALE_NOFILE), str(SCALE_TIMEOUT), str(listing)],
        capture_output=True,
        text=True,
        timeout=SCALE_TIMEOUT + 120,
        cwd=REPO,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"child exited {done.returncode}: {done.stderr.strip()[-300:]}"}
    figures: Dict[str, Any] = json.loads(lines[-1])
    warnings = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    figures["warnings"] = len(warnings)
    figures["first_warnings"] = sorted(set(warnings))[:3]
    figures["emfile"] = sum("Too many open files" in line for line in done.stderr.splitlines())
    last_new, last_described = figures["last_new"], figures["last_described"]
    figures["client_cost"] = (
        last_described - last_new if last_new is not None and last_described is not None else None
    )
    last_answer = figures["last_answer"]
    figures["after_last_answer"] = (
        figures["wall"] - last_answer if last_answer is not None else None
    )
    return figures


def measure_scale() -> Dict[str, Any]:
    """Discovery among N emulated devices for each N of :func:`scale_sizes`."""
    pool = Path(os.environ["UPNPY_LAB_EMU_CROWD_FILE"]).read_text(encoding="ascii").split()
    folder = Path(os.environ["UPNPY_LAB"])
    local_ip = os.environ["UPNPY_LAB_CLIENT_IP"]
    sizes: Dict[str, Any] = {}
    for size in scale_sizes():
        if size > len(pool):
            sizes[str(size)] = {"error": f"the lab's pool has {len(pool)} addresses"}
            continue
        addresses = pool[:size]
        say(f"scale: {size} emulated devices")
        started = clock()
        process, listing = start_responder(addresses, folder)
        entry: Dict[str, Any] = {"n": size, "responder_start": clock() - started}
        try:
            entry["floor"] = floor.count_answers(
                local_ip, "upnp:rootdevice", mx=1, seconds=2.5, senders=set(addresses)
            )
            time.sleep(0.5)
            entry["runs"] = []
            for _ in range(SCALE_RUNS):
                entry["runs"].append(attempt(f"scale {size}", scale_round, listing))
                time.sleep(0.5)
        finally:
            stopping = clock()
            stop_responder(process)
            entry["responder_stop"] = clock() - stopping
            entry["responder_exit"] = process.returncode
        sizes[str(size)] = entry
    return {"timeout": SCALE_TIMEOUT, "nofile": SCALE_NOFILE, "sizes": sizes}


def report_scale(scale: Dict[str, Any]) -> None:
    print(
        f"\nDiscovery at scale — N emulated BinaryLight:1 devices (lab/responder.py, one process);"
        f" upnpy.discover(timeout={scale['timeout']:g}) in a child under ulimit -n"
        f" {scale['nofile']}, {SCALE_RUNS} runs each"
    )
    rows = []
    for size, entry in scale["sizes"].items():
        if "error" in entry:
            rows.append([size, entry["error"]])
            continue
        base = entry["floor"]
        for number, run in enumerate(entry["runs"], 1):
            if "found" not in run:
                rows.append([size, f"run {number}: {run.get('error')}"])
                continue

            def at(value: Optional[float]) -> str:
                return "—" if value is None else f"{value:.2f} s"

            rows.append(
                [
                    size if number == 1 else "",
                    f"{base['senders']}/{size} by {base['last']:.2f} s" if number == 1 else "",
                    f"{run['found']}/{size}" + (f" ({run['error']})" if run["error"] else ""),
                    at(run["wall"]),
                    f"{run['senders']}",
                    at(run["last_new"]),
                    at(run["last_described"]),
                    "—" if run["client_cost"] is None else f"{run['client_cost'] * 1e3:.0f} ms",
                    f"{run['maxrss_kib'] / 1024:.0f} MiB",
                    f"{run['emfile']} EMFILE" if run["emfile"] else str(run["warnings"]),
                ]
            )
    print(
        table(
            [
                "N",
                "raw floor (senders)",
                "found",
                "wall",
                "answered",
                "last new device at",
                "last described at",
                "client cost",
                "peak RSS",
                "warnings",
            ],
            rows,
        )
    )
    print(
        "  raw floor: one M-SEARCH (upnp:rootdevice, MX 1) from a plain socket, distinct senders"
        " within 2.5 s. found: devices of the crowd discover() returned; answered: crowd devices"
        " whose answer upnpy parsed.\n  client cost: from the first answer of the last device to"
        " answer, to the last description fetched (upnpy's own time, past the devices'; the"
        " devices spread their\n  answers over MX ≤ 1 s). warnings: upnpy log lines at WARNING"
        " or above."
    )
    for size, entry in scale["sizes"].items():
        lines = {line for run in entry.get("runs", []) for line in run.get("first_warnings", [])}
        for line in sorted(lines):
            print(f"  N={size}: {line[:160]}")


# --- report --------------------------------------------------------------------------------

Check = Callable[..., str]  # text.Verdicts.check


def median_of(figures: Dict[str, Any], name: str) -> Optional[float]:
    entry = figures.get(name)
    return entry.get("median") if isinstance(entry, dict) else None


def cell(figures: Dict[str, Any], name: str, base: Optional[float] = None) -> str:
    entry = figures.get(name)
    if entry is None:
        return "—"
    if "skipped" in entry:
        return "n/a"
    if "error" in entry:
        return "error"
    text = ms(entry["median"])
    if base:
        text += f" ({ratio(entry['median'] / base)})"
    return text


def found(figures: Dict[str, Any], name: str) -> str:
    """`` [found/runs]`` for a discovery figure."""
    entry = figures.get(name) or {}
    return f" [{entry['found']}/{entry['runs']}]" if "runs" in entry else ""


def counting_floor(figures: Dict[str, Any], target: Target) -> Tuple[str, Optional[float]]:
    """Issue 13's floor: the keep-alive floor where the device keeps connections, else the
    new-connection floor; ``(its name, its median)``."""
    kept = median_of(figures, KEPT)
    if target.keep_alive and kept is not None:
        return KEPT, kept
    return NEW, median_of(figures, NEW)


def overhead_figures(
    figures: Dict[str, Any], target: Target, clients: Sequence[str], peer_names: Sequence[str]
) -> Dict[str, Any]:
    """Each client's overhead above the floor that counts and ratio to it; the best peer."""
    name, base = counting_floor(figures, target)
    overhead: Dict[str, Optional[float]] = {}
    ratios: Dict[str, Optional[float]] = {}
    for client in clients:
        mine = median_of(figures, client)
        overhead[client] = mine - base if mine is not None and base else None
        ratios[client] = mine / base if mine is not None and base else None
    peer_overheads = {p: overhead[p] for p in peer_names if overhead.get(p) is not None}
    best = min(peer_overheads, key=lambda p: peer_overheads[p] or 0.0) if peer_overheads else None
    return {
        "floor": name,
        "floor_median": base,
        "keep_alive": target.keep_alive,
        "keep_alive_note": target.keep_alive_note,
        "overhead": overhead,
        "ratio": ratios,
        "best_peer": best,
        "best_peer_overhead": peer_overheads.get(best) if best else None,
    }


def client_cell(figures: Dict[str, Any], name: str, issue13: Dict[str, Any]) -> str:
    """``median +overhead ratio×`` against the floor that counts."""
    text = cell(figures, name)
    if issue13["overhead"].get(name) is None:
        return text
    return f"{text} {us(issue13['overhead'][name])} {ratio(issue13['ratio'][name])}"


def floor_cells(figures: Dict[str, Any], issue13: Dict[str, Any]) -> List[str]:
    """The two floors' medians, the one that counts marked with ``*``."""
    return [cell(figures, n) + (" *" if issue13["floor"] == n else "") for n in (NEW, KEPT)]


def device_name(target: Target) -> str:
    return f"{target.key} ({target.label.split(' ')[0]})"


def keeps_cell(target: Target) -> str:
    return "yes" if target.keep_alive else "no"


def measured_cells(
    target: Target, figures: Dict[str, Any], issue13: Dict[str, Any], clients: List[str]
) -> List[str]:
    """An issue-13 row's cells before its verdicts: device, keep-alive, floors, clients."""
    return [
        device_name(target),
        keeps_cell(target),
        *floor_cells(figures, issue13),
        *(client_cell(figures, name, issue13) for name in clients),
    ]


def report_per_call_13(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str], check: Check
) -> None:
    print(
        "\nPer call (issue 13) — median of sequential calls after warm-up; each client:"
        " median, overhead above the floor that counts (*), ratio to it"
    )
    clients = ["upnpy", *peer_names]
    rows = []
    for target in targets:
        figures = results["per_call"][target.key]
        issue13 = figures["issue13"] = overhead_figures(figures, target, clients, peer_names)
        mine = issue13["overhead"].get("upnpy")
        best = issue13["best_peer_overhead"]
        floor_shown = f"{ms(issue13['floor_median'])} ({issue13['floor']})"
        rows.append(
            [
                *measured_cells(target, figures, issue13, clients),
                check(
                    13,
                    f"per-call {target.key}: upnpy overhead ≤ {us(MAX_OVERHEAD, False)}",
                    mine,
                    MAX_OVERHEAD,
                    us(mine),
                    f"≤{us(MAX_OVERHEAD, False)}",
                    floor_shown=floor_shown,
                ),
                check(
                    13,
                    f"per-call {target.key}: upnpy overhead ≤ ½ best peer's",
                    None if mine is None or best is None else mine - MAX_PEER_OVERHEAD_SHARE * best,
                    0.0,
                    f"{us(mine)} vs {us(best)} ({issue13['best_peer']})",
                    f"≤½ peer's {us(best)}",
                    floor_shown=floor_shown,
                ),
            ]
        )
    headers = ["device", "keeps alive", "floor, new conn.", "floor, keep-alive", *clients]
    print(table([*headers, "target", "target"], rows))
    print(
        "  keeps alive: read from the device's answers (HTTP/1.1, no Connection: close, one"
        " socket for description, SCPD and two calls); "
        + "; ".join(f"{t.key}: {t.keep_alive_note}" for t in targets)
    )
    pause = f"{us(peers.PausedFloor.PAUSE, False)} of busy waiting before each call"
    print(paused_line("per call", pause, results["per_call"], targets))


def paused_line(what: str, pause: str, results: Dict[str, Any], targets: List[Target]) -> str:
    """The paused floor's medians (informational), next to the floor and to upnpy."""
    notes = []
    for target in targets:
        figures = results[target.key]
        base = counting_floor(figures, target)[1]
        paused, mine = median_of(figures, PAUSED), median_of(figures, "upnpy")
        if paused is not None and base is not None and mine is not None:
            notes.append(
                f"{target.key} {ms(paused)} (floor {us(paused - base)}, upnpy {us(mine - paused)})"
            )
    return (
        f"  {PAUSED}, {what} (informational): the floor that counts, with {pause}, not timed:"
        " what the exchanges cost when a client works between them, as every client does."
        " Its median, how much above (+) or below (-) the floor, and upnpy above it: "
        + ("; ".join(notes) or "not measured")
    )


def report_first_call_13(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str], check: Check
) -> None:
    print(
        "\nDescription URL → first completed action (issue 13) — fresh objects each run, median;"
        " floors: GET description + GET SCPD + POST on 3 connections, or on 1 where the device"
        " keeps connections (*: the floor that counts)"
    )
    clients = ["upnpy", *peer_names]
    rows = []
    for target in targets:
        figures = results["first_call"][target.key]
        issue13 = figures["issue13"] = overhead_figures(figures, target, clients, peer_names)
        base = issue13["floor_median"]
        limit = ms(base * MAX_FIRST_CALL_RATIO) if base else "—"
        mine = median_of(figures, "upnpy")
        rows.append(
            [
                *measured_cells(target, figures, issue13, clients),
                check(
                    13,
                    f"URL → first action {target.key} ≤ {MAX_FIRST_CALL_RATIO:g}× floor",
                    issue13["ratio"].get("upnpy"),
                    MAX_FIRST_CALL_RATIO,
                    f"{ratio(issue13['ratio'].get('upnpy'))} ({ms(mine)})",
                    f"≤{MAX_FIRST_CALL_RATIO:g}× = {limit}",
                    floor_shown=f"{ms(base)} ({issue13['floor']})",
                ),
                check(
                    5,
                    "URL → first action on miniupnpd ≤ 20 ms",
                    mine,
                    MAX_FIRST_CALL_GW,
                    ms(mine),
                    f"≤ {MAX_FIRST_CALL_GW * 1e3:g} ms",
                    floor_shown=ms(base),
                )
                if target.key == "gw"
                else "",
            ]
        )
    headers = ["device", "keeps alive", "floor, 3 conn.", "floor, 1 conn.", *clients]
    print(table([*headers, "target (13)", "target (5)"], rows))
    pause = (
        f"{us(peers.PausedFloor.FIRST_PAUSE, False)} of busy waiting before the SCPD's GET"
        " and before the action"
    )
    print(paused_line("first call", pause, results["first_call"], targets))


def report_per_call_5(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str], check: Check
) -> None:
    print(
        "\nPer call (issue 5) — against the new-connection floor; (×) = ratio to it;"
        " upnpy/best peer: ratio of medians"
    )
    rows = []
    for target in targets:
        figures = results["per_call"][target.key]
        base = median_of(figures, NEW)
        mine = median_of(figures, "upnpy")
        peer_medians = [m for m in (median_of(figures, p) for p in peer_names) if m]
        best = min(peer_medians) if peer_medians else None
        floor_ratio = mine / base if mine and base else None
        peer_ratio = mine / best if mine and best else None
        figures["ratios"] = {
            "upnpy/floor": floor_ratio,
            "upnpy/best peer": peer_ratio,
            **{
                f"{p}/floor": (median_of(figures, p) or 0.0) / base
                if median_of(figures, p) and base
                else None
                for p in peer_names
            },
        }
        spread = figures.get(NEW, {})
        rows.append(
            [
                device_name(target),
                cell(figures, NEW),
                f"{ms(spread['p10'])}–{ms(spread['p90'])}" if "p10" in spread else "—",
                cell(figures, "upnpy", base),
                *(cell(figures, p, base) for p in peer_names),
                ratio(peer_ratio),
                check(
                    5,
                    f"per-call {target.key} ≤ {MAX_FLOOR_RATIO:g}× floor",
                    floor_ratio,
                    MAX_FLOOR_RATIO,
                    ratio(floor_ratio),
                    f"≤{MAX_FLOOR_RATIO:g}× floor",
                    floor_shown=ms(base),
                ),
                check(
                    5,
                    f"per-call {target.key} ≤ {MAX_PEER_RATIO:g}× best peer",
                    peer_ratio,
                    MAX_PEER_RATIO,
                    ratio(peer_ratio),
                    f"≤{MAX_PEER_RATIO:g}× peer",
                ),
            ]
        )
    headers = ["device", "floor, new conn.", "floor p10–p90", "upnpy", *peer_names]
    print(table([*headers, "upnpy/best peer", "target", "target"], rows))


def report_discover(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str], check: Check
) -> None:
    print(
        f"\ndiscover(st=<device type>, limit=1) → the device, median of {DISCOVER_RUNS}"
        f" (raw floor: one M-SEARCH, MX 1 → first answer → GET LOCATION;"
        f" peers: their discovery with timeout={DISCOVER_TIMEOUT:g}, {PEER_DISCOVER_RUNS} runs)"
    )
    rows = []
    for target in targets:
        figures = results["discover"][target.key]
        mine = median_of(figures, "upnpy")
        base = median_of(figures, "raw floor")
        goal = ""
        if target.key == "gw":
            goal = check(
                5,
                "discover(limit=1) gateway ≤ 50 ms median",
                mine,
                MAX_DISCOVER_GW,
                ms(mine),
                f"≤ {MAX_DISCOVER_GW * 1e3:g} ms",
                floor_shown=ms(base),
            )
        rows.append(
            [
                target.device_type.split(":")[-2],
                cell(figures, "raw floor") + found(figures, "raw floor"),
                cell(figures, "upnpy") + found(figures, "upnpy"),
                f"{(mine - base) * 1e3:+.1f} ms" if mine and base else "—",
                *(cell(figures, p) + found(figures, p) for p in peer_names),
                goal,
            ]
        )
    print(
        table(["device type", "raw floor", "upnpy", "upnpy − floor", *peer_names, "target"], rows)
    )
    print(
        "  [found/runs]: runs that returned the device. MediaServer:1: the first of the lab's media"
        " servers (the crowd's too) to answer.\n  The light delays each answer at random within MX:"
        " upnpy sends its M-SEARCH 3 times (0.2 s apart), the floor once."
    )


def report_crowd(crowd: Dict[str, Any], check: Check) -> None:
    if "error" in crowd:
        print(f"\nCrowd: {crowd['error']}")
        return
    print(
        f"\nCrowd — upnpy.discover(st=MediaServer:1, timeout={CROWD_TIMEOUT:g}) among"
        f" {crowd['crowd']} crowd servers + the lab's minidlna, {len(crowd['runs'])} runs"
    )
    goal = check(
        5,
        f"discover finds 100% of {crowd['expected']} devices answering at once",
        crowd["min_percent"],
        100.0,
        f"{crowd['min_percent']:.0f}%",
        "100%",
        at_least=True,
    )
    print(
        table(
            ["found (min)", "found (median)", "per run", "seconds per run", "target"],
            [
                [
                    f"{crowd['min_percent']:.0f}%",
                    f"{crowd['median_percent']:.0f}%",
                    " ".join(str(run["found"]) for run in crowd["runs"])
                    + f" of {crowd['expected']}",
                    " ".join(f"{run['seconds']:.2f}" for run in crowd["runs"]),
                    goal,
                ]
            ],
        )
    )


def report(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str]
) -> List[Dict[str, Any]]:
    """Print every section measured; return the verdicts."""
    verdicts = Verdicts()
    check = verdicts.check
    report_per_call_13(results, targets, peer_names, check)
    report_first_call_13(results, targets, peer_names, check)
    report_per_call_5(results, first_devices(targets), peer_names, check)
    if "discover" in results:
        report_discover(results, first_devices(targets), peer_names, check)
    print("\n" + imports.report(results["import"], check))
    if results.get("crowd"):
        report_crowd(results["crowd"], check)
    for issue in (13, 5):
        print("\n" + verdicts.report(issue))
    return verdicts.rows


def show_scale(scale: Optional[Dict[str, Any]]) -> None:
    if scale and "error" not in scale:
        report_scale(scale)
    elif scale:
        print(f"\nDiscovery at scale: {scale['error']}")


def main_scale() -> None:
    """``bench.py scale``: the discovery-at-scale section alone, its figures written to
    ``$UPNPY_LAB/bench-scale.json``."""
    check_namespace()
    scale = measure_scale()
    show_scale(scale)
    path = Path(os.environ["UPNPY_LAB"]) / "bench-scale.json"
    path.write_text(json.dumps(scale, indent=2) + "\n", encoding="utf-8")
    say(f"figures written to {path}")


def measure_latency(targets: List[Target], clients: list) -> Dict[str, Any]:
    """Per-call and first-call figures of every client on every target."""
    results: Dict[str, Any] = {"per_call": {}, "first_call": {}}
    for target in targets:
        say(f"per-call latency: {target.label} (keeps alive: {keeps_cell(target)})")
        results["per_call"][target.key] = measure_per_call(target, clients)
    for target in targets:
        say(f"URL → first action: {target.label}")
        results["first_call"][target.key] = measure_first_call(target, clients)
    return results


def measure_discovery(targets: List[Target], peer_clients: list) -> Dict[str, Any]:
    """discover(limit=1) per device type, the cached discovery and the crowd."""
    results: Dict[str, Any] = {"discover": {}}
    for target in targets:
        say(f"discovery: {target.device_type}")
        results["discover"][target.key] = measure_discover(target, peer_clients)
    say("discovery with a cache")
    results["cached_discover"] = attempt(
        "cached discovery",
        cache.measure_cached_discover,
        os.environ["UPNPY_LAB_GW_URL"],
        os.environ["UPNPY_LAB_CLIENT_IP"],
    )
    if int(os.environ.get("UPNPY_LAB_CROWD", "0") or 0) > 0:
        say(f"crowd of {os.environ['UPNPY_LAB_CROWD']}")
        results["crowd"] = attempt("crowd", measure_crowd)
    else:
        say("no crowd in this lab (UPNPY_LAB_CROWD=0): crowd discovery skipped")
    return results


def describe_run(targets: List[Target], peer_clients: list, missing: List[str]) -> Dict[str, Any]:
    """The run's metadata for the JSON and the printout's first line."""
    import upnpy

    return {
        "units": "seconds (ratios: plain numbers; crowd: counts and percent)",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "upnpy": upnpy.__version__,
        "peers": {client.name: client.version for client in peer_clients},
        "peers_missing": missing,
        "lab": os.environ.get("UPNPY_LAB_PREFIX"),
        "crowd": int(os.environ.get("UPNPY_LAB_CROWD", "0") or 0),
        "devices": {
            t.key: {
                "label": t.label,
                "location": t.location,
                "control_url": t.urls.control_url,
                "keep_alive": t.keep_alive,
                "keep_alive_note": t.keep_alive_note,
            }
            for t in targets
        },
    }


def write_json(document: Dict[str, Any], paths: Sequence[Path]) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    for path in paths:
        try:
            path.write_text(text, encoding="utf-8")
            say(f"figures written to {path}")
        except OSError as exc:
            say(f"cannot write {path}: {exc}")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "all"
    if mode == "scale":
        main_scale()
        return
    if mode not in ("all", "latency"):
        sys.exit("usage: bench.py [latency | scale]")
    check_namespace()
    started = time.monotonic()
    clients: list = [peers.Floor(), peers.KeepAliveFloor(), peers.PausedFloor(), peers.Upnpy()]
    peer_clients, missing = peers.installed_peers()
    for note in missing:
        say(note)
    clients += peer_clients
    peer_names = [client.name for client in peer_clients]
    targets = lab_targets()
    results = measure_latency(targets, clients)
    if mode == "all":
        results.update(measure_discovery(first_devices(targets), peer_clients))
    say("import cost")
    results["import"] = imports.measure_import()
    if mode == "all" and os.environ.get("UPNPY_LAB_EMU_CROWD_NS"):
        results["scale"] = attempt("discovery at scale", measure_scale)
    elif mode == "all":
        say("no emulated crowd in this lab (an older lab.sh): discovery at scale skipped")
    for client in clients:
        if hasattr(client, "close"):
            attempt(f"closing {client.name}", client.close)

    meta = describe_run(targets, peer_clients, missing)
    peer_text = (
        ", ".join(f"{name} {v}" for name, v in meta["peers"].items()) or "no peers installed"
    )
    print(
        f"upnpy {meta['upnpy']} bench{' (latency and import only)' if mode == 'latency' else ''}"
        f" — {meta['date']}, Python {meta['python']}, {meta['cpus']} CPUs, lab {meta['lab']}"
        f" (crowd {meta['crowd']}); {peer_text}"
    )
    results["targets"] = report(results, targets, peer_names)
    if "cached_discover" in results:
        print("\n" + cache.report(results["cached_discover"]))
    show_scale(results.get("scale"))
    meta["seconds"] = round(time.monotonic() - started, 1)
    print(f"\n(bench took {meta['seconds']:.0f} s)")
    lab = Path(os.environ["UPNPY_LAB"])
    paths = [lab / "bench.json", HERE / "last.json"] if mode == "all" else []
    write_json({"meta": meta, **results}, paths or [lab / "bench-latency.json"])


if __name__ == "__main__":
    main()
