"""upnpy's benchmark on the lab of real devices: latency and discovery next to a raw-socket floor.

Run by ``make bench`` inside the lab's client namespace (``lab/lab.sh run``, with a crowd of
media servers: ``UPNPY_LAB_CROWD=30``). It measures, for each lab device:

- per-call latency: the median of many sequential calls after a warm-up, for the raw-socket
  floor (prebuilt request bytes, a new TCP connection per call), upnpy (one ``Device``), and
  the peers when installed (the ``bench`` extra: upnpclient, async-upnp-client with one reused
  aiohttp session, timed inside one event loop). Clients take turns in rounds, so that the
  machine's drifts hit them alike;
- description URL → first completed action, fresh objects each run (the floor: raw GET of the
  description, raw GET of the SCPD, raw POST of the action);
- ``upnpy.discover(st=<device type>, limit=1)`` until it returns the device, next to one plain
  UDP M-SEARCH → first answer → raw GET of its LOCATION (and the peers' own discovery calls);

and once: the cost of ``import upnpy`` against ``import requests``, and how many of the crowd's
media servers one ``upnpy.discover(..., timeout=3)`` finds. It prints tables with the targets
of issue 5 (PASS/MISS) and writes every figure as JSON to ``$UPNPY_LAB/bench.json`` and
``bench/last.json``. A benchmark, not a test: nothing is asserted; every loop is bounded.
"""

from __future__ import annotations

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

import floor
import peers
from peers import Target, clock

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
FIRST_RUNS = 15  # URL → first action, per client
DISCOVER_RUNS = 15  # upnpy.discover(limit=1) and its floor, per device type
PEER_DISCOVER_RUNS = 2  # the peers' discovery waits out its timeout: a few runs only
DISCOVER_TIMEOUT = 2.0  # upnpy's default; also given to the peers
IMPORT_RUNS = 25
CROWD_RUNS = 5
CROWD_TIMEOUT = 3.0
MEDIA_SERVER = "urn:schemas-upnp-org:device:MediaServer:1"

# Issue 5's targets.
MAX_FLOOR_RATIO = 2.0
MAX_PEER_RATIO = 0.8
MAX_FIRST_CALL_GW = 0.020
MAX_DISCOVER_GW = 0.050
MAX_IMPORT_RATIO = 1.2


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ms(seconds: Optional[float]) -> str:
    if seconds is None:
        return "—"
    value = seconds * 1e3
    return (
        f"{value:.2f} ms"
        if value < 10
        else f"{value:.1f} ms"
        if value < 1000
        else f"{value:.0f} ms"
    )


def ratio(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.2f}×"


def verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def summary(samples: Sequence[float]) -> Dict[str, Any]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "n": n,
        "median": statistics.median(ordered),
        "p10": ordered[int(0.1 * (n - 1))],
        "p90": ordered[int(0.9 * (n - 1))],
        "min": ordered[0],
    }


def attempt(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Return ``fn(*args)``; on an exception, say so and return ``{"error": ...}``."""
    try:
        return fn(*args)
    except Exception as exc:  # a benchmark reports a failing client and goes on
        say(f"{what}: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join(
        [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(row) for row in rows)]
    )


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


def lab_targets() -> List[Target]:
    env = os.environ
    specs = [
        (
            "light",
            "GUPnP light SwitchPower.GetStatus",
            env["UPNPY_LAB_LIGHT_URL"],
            "urn:schemas-upnp-org:device:DimmableLight:1",
            "urn:schemas-upnp-org:service:SwitchPower:1",
            "GetStatus",
            "ResultStatus",
        ),
        (
            "dms",
            "minidlna ContentDirectory.GetSystemUpdateID",
            env["UPNPY_LAB_DMS_URL"],
            MEDIA_SERVER,
            "urn:schemas-upnp-org:service:ContentDirectory:1",
            "GetSystemUpdateID",
            "Id",
        ),
        (
            "gw",
            "miniupnpd WANIPConnection.GetExternalIPAddress",
            env["UPNPY_LAB_GW_URL"],
            "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
            "urn:schemas-upnp-org:service:WANIPConnection:2",
            "GetExternalIPAddress",
            "NewExternalIPAddress",
        ),
    ]
    return [
        Target(
            key,
            label,
            url,
            device_type,
            service_type,
            action,
            out,
            floor.find_service(url, service_type),
        )
        for key, label, url, device_type, service_type, action, out in specs
    ]


# --- measurements --------------------------------------------------------------------------


def measure_per_call(target: Target, clients: list) -> Dict[str, Any]:
    runs: Dict[str, Tuple[Callable[[int], List[float]], int]] = {}
    result: Dict[str, Any] = {}
    for client in clients:
        run = attempt(f"{client.name} on {target.key}", client.per_call, target)
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
        got = attempt(f"{client.name} first call on {target.key}", client.first_call, target)
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


def measure_import() -> Dict[str, Any]:
    codes = {
        "python -c pass": "pass",
        "import requests": "import requests",
        "import upnpy": "import upnpy",
    }
    samples: Dict[str, List[float]] = {name: [] for name in codes}

    def once(code: str) -> float:
        t0 = clock()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
        return clock() - t0

    for code in codes.values():  # warm-up: byte code, page cache
        once(code)
    for _ in range(IMPORT_RUNS):
        for name, code in codes.items():
            samples[name].append(once(code))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    heaviest = attempt("import profile", heaviest_imports)
    base = medians["python -c pass"]
    cost_requests = medians["import requests"] - base
    cost_upnpy = medians["import upnpy"] - base
    return {
        "runs": IMPORT_RUNS,
        "python_pass": base,
        "requests": cost_requests,
        "upnpy": cost_upnpy,
        "ratio": cost_upnpy / cost_requests if cost_requests > 0 else None,
        "heaviest": heaviest if isinstance(heaviest, list) else [],
    }


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
    rows = []
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


# --- report --------------------------------------------------------------------------------


def median_of(figures: Dict[str, Any], name: str) -> Optional[float]:
    entry = figures.get(name)
    return entry.get("median") if isinstance(entry, dict) else None


def cell(figures: Dict[str, Any], name: str, base: Optional[float] = None) -> str:
    entry = figures.get(name)
    if entry is None:
        return "—"
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


def report(
    results: Dict[str, Any], targets: List[Target], peer_names: List[str]
) -> List[Dict[str, Any]]:
    verdicts: List[Dict[str, Any]] = []

    def check(
        name: str,
        figure: Optional[float],
        limit: float,
        shown: str,
        target: str,
        at_least: bool = False,
        floor_shown: str = "",
    ) -> str:
        """Record one target: *figure* must be ≤ *limit* (≥ with *at_least*)."""
        ok = None if figure is None else figure >= limit if at_least else figure <= limit
        verdicts.append(
            {
                "target": name,
                "figure": figure,
                "limit": limit,
                "shown": shown,
                "wanted": target,
                "pass": ok,
                "floor": floor_shown,
            }
        )
        return f"{target} {verdict(ok)}"

    print("\nPer-call latency — median of sequential calls after warm-up;", end=" ")
    print("(×) = ratio to the raw floor")
    rows = []
    for target in targets:
        figures = results["per_call"][target.key]
        base = median_of(figures, "raw floor")
        mine = median_of(figures, "upnpy")
        peer_medians = [m for m in (median_of(figures, p) for p in peer_names) if m]
        best = min(peer_medians) if peer_medians else None
        floor_ratio = mine / base if mine and base else None
        peer_ratio = mine / best if mine and best else None
        figures["ratios"] = {
            "upnpy/floor": floor_ratio,
            "upnpy/best peer": peer_ratio,
            **{
                f"{p}/floor": (median_of(figures, p) / base)
                if median_of(figures, p) and base
                else None
                for p in peer_names
            },
        }
        spread = figures.get("raw floor", {})
        rows.append(
            [
                target.label,
                cell(figures, "raw floor"),
                f"{ms(spread['p10'])}–{ms(spread['p90'])}" if "p10" in spread else "—",
                cell(figures, "upnpy", base),
                *(cell(figures, p, base) for p in peer_names),
                ratio(peer_ratio),
                check(
                    f"per-call {target.key} ≤ {MAX_FLOOR_RATIO:g}× floor",
                    floor_ratio,
                    MAX_FLOOR_RATIO,
                    ratio(floor_ratio),
                    f"≤{MAX_FLOOR_RATIO:g}× floor",
                    floor_shown=ms(base),
                ),
                check(
                    f"per-call {target.key} ≤ {MAX_PEER_RATIO:g}× best peer",
                    peer_ratio,
                    MAX_PEER_RATIO,
                    ratio(peer_ratio),
                    f"≤{MAX_PEER_RATIO:g}× peer",
                ),
            ]
        )
    print(
        table(
            [
                "device / action",
                "raw floor",
                "floor p10–p90",
                "upnpy",
                *peer_names,
                "upnpy/best peer",
                "target",
                "target",
            ],
            rows,
        )
    )

    print(
        "\nDescription URL → first completed action — fresh objects each run, median"
        " (raw floor: GET description + GET SCPD + POST)"
    )
    rows = []
    for target in targets:
        figures = results["first_call"][target.key]
        base = median_of(figures, "raw floor")
        mine = median_of(figures, "upnpy")
        goal = ""
        if target.key == "gw":
            goal = check(
                "URL → first action on miniupnpd ≤ 20 ms",
                mine,
                MAX_FIRST_CALL_GW,
                ms(mine),
                f"≤ {MAX_FIRST_CALL_GW * 1e3:g} ms",
                floor_shown=ms(base),
            )
        rows.append(
            [
                target.label.split(" ")[0],
                cell(figures, "raw floor"),
                cell(figures, "upnpy", base),
                *(cell(figures, p, base) for p in peer_names),
                goal,
            ]
        )
    print(table(["device", "raw floor", "upnpy", *peer_names, "target"], rows))

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

    imports = results["import"]
    print(
        f"\nImport cost — median of {imports['runs']} runs of `python -c 'import X'`"
        f" minus `python -c pass` ({ms(imports['python_pass'])})"
    )
    goal = check(
        "import upnpy ≤ 1.2× import requests",
        imports["ratio"],
        MAX_IMPORT_RATIO,
        ratio(imports["ratio"]),
        f"≤ {MAX_IMPORT_RATIO:g}× requests",
    )
    print(
        table(
            ["import requests", "import upnpy", "ratio", "target"],
            [[ms(imports["requests"]), ms(imports["upnpy"]), ratio(imports["ratio"]), goal]],
        )
    )
    if imports["heaviest"]:
        print(
            "  most self time (one -X importtime run): "
            + ", ".join(f"{row['module']} {ms(row['self'])}" for row in imports["heaviest"])
        )

    crowd = results.get("crowd")
    if crowd and "error" not in crowd:
        print(
            f"\nCrowd — upnpy.discover(st=MediaServer:1, timeout={CROWD_TIMEOUT:g}) among"
            f" {crowd['crowd']} crowd servers + the lab's minidlna, {len(crowd['runs'])} runs"
        )
        goal = check(
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
    elif crowd:
        print(f"\nCrowd: {crowd['error']}")

    print("\nTargets (issue 5)")
    print(
        table(
            ["target", "measured", "raw floor", "verdict"],
            [[v["target"], v["shown"], v["floor"] or "—", verdict(v["pass"])] for v in verdicts],
        )
    )
    return verdicts


def main() -> None:
    check_namespace()
    started = time.monotonic()
    import upnpy

    clients: list = [peers.Floor(), peers.Upnpy()]
    peer_clients, missing = peers.installed_peers()
    for note in missing:
        say(note)
    clients += peer_clients
    peer_names = [client.name for client in peer_clients]
    targets = lab_targets()
    results: Dict[str, Any] = {"per_call": {}, "first_call": {}, "discover": {}}
    for target in targets:
        say(f"per-call latency: {target.label}")
        results["per_call"][target.key] = measure_per_call(target, clients)
    for target in targets:
        say(f"URL → first action: {target.label}")
        results["first_call"][target.key] = measure_first_call(target, clients)
    for target in targets:
        say(f"discovery: {target.device_type}")
        results["discover"][target.key] = measure_discover(target, peer_clients)
    say("import cost")
    results["import"] = measure_import()
    if int(os.environ.get("UPNPY_LAB_CROWD", "0") or 0) > 0:
        say(f"crowd of {os.environ['UPNPY_LAB_CROWD']}")
        results["crowd"] = attempt("crowd", measure_crowd)
    else:
        say("no crowd in this lab (UPNPY_LAB_CROWD=0): crowd discovery skipped")
    for client in clients:
        if hasattr(client, "close"):
            attempt(f"closing {client.name}", client.close)

    meta = {
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
            t.key: {"label": t.label, "location": t.location, "control_url": t.urls.control_url}
            for t in targets
        },
    }
    peer_text = (
        ", ".join(f"{name} {v}" for name, v in meta["peers"].items()) or "no peers installed"
    )
    print(
        f"upnpy {meta['upnpy']} bench — {meta['date']}, Python {meta['python']},"
        f" {meta['cpus']} CPUs, lab {meta['lab']} (crowd {meta['crowd']}); {peer_text}"
    )
    results["targets"] = report(results, targets, peer_names)
    meta["seconds"] = round(time.monotonic() - started, 1)
    print(f"\n(bench took {meta['seconds']:.0f} s)")
    document = {"meta": meta, **results}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    for path in (Path(os.environ["UPNPY_LAB"]) / "bench.json", HERE / "last.json"):
        try:
            path.write_text(text, encoding="utf-8")
            say(f"figures written to {path}")
        except OSError as exc:
            say(f"cannot write {path}: {exc}")


if __name__ == "__main__":
    main()
