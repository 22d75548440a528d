"""The discovery cache's figure for ``make bench`` (issue 11).

The second ``upnpy.discover(st=<IGD type>, limit=1, cache=...)`` against the lab's gateway,
next to two floors measured in the same run: a raw GET of the cached LOCATION (what checking
a cached device must do at least) and a raw M-SEARCH → first answer → GET (what a search
without a cache costs at least). Target: ≤ 10 ms median.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Any, Dict, List

import floor
from peers import clock

#: Issue 11's target for the second discovery with a cache, in seconds.
MAX_CACHED_DISCOVER = 0.010
RUNS = 30
IGD = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"


def _figures(samples: List[float]) -> Dict[str, Any]:
    return {"n": len(samples), "median": statistics.median(samples), "min": min(samples)}


def measure_cached_discover(location: str, local_ip: str) -> Dict[str, Any]:
    """Medians of the cached discovery and its two floors, taking turns, *RUNS* each."""
    import upnpy

    folder = tempfile.mkdtemp(prefix="upnpy-bench-cache-")
    path = os.path.join(folder, "devices.json")
    first = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
    if not first or first[0].location != location:
        return {"error": f"the first discovery found {first!r}, not {location}"}
    first[0].WANIPConnection.GetExternalIPAddress()  # its SCPD goes into the cache too
    cached: List[float] = []
    get_floor: List[float] = []
    search_floor: List[float] = []
    wrong = 0
    for _ in range(RUNS):
        t0 = clock()
        devices = upnpy.discover(st=IGD, limit=1, cache=path, timeout=3)
        cached.append(clock() - t0)
        wrong += not devices or devices[0].location != location
        t0 = clock()
        floor.exchange(floor.get_request(location))
        get_floor.append(clock() - t0)
        t0 = clock()
        floor.discover_first(local_ip, IGD, mx=1, timeout=3)
        search_floor.append(clock() - t0)
        time.sleep(0.05)  # let the late answers to the search go by
    return {
        "upnpy cached": _figures(cached),
        "raw GET of LOCATION": _figures(get_floor),
        "raw M-SEARCH + GET": _figures(search_floor),
        "wrong": wrong,
    }


def report(figures: Dict[str, Any]) -> str:
    """A few lines for the bench's printout."""
    if "error" in figures:
        return f"cached discovery: {figures['error']}"
    median = figures["upnpy cached"]["median"]
    verdict = "PASS" if median <= MAX_CACHED_DISCOVER and not figures["wrong"] else "MISS"
    return "\n".join(
        [
            "Second discover(st=IGD:2, limit=1, cache=...) — medians of "
            f"{figures['upnpy cached']['n']} runs",
            f"  upnpy, cached             {median * 1e3:6.2f} ms   target ≤ "
            f"{MAX_CACHED_DISCOVER * 1e3:.0f} ms: {verdict}",
            f"  floor: raw GET LOCATION   {figures['raw GET of LOCATION']['median'] * 1e3:6.2f} ms",
            f"  floor: raw M-SEARCH + GET {figures['raw M-SEARCH + GET']['median'] * 1e3:6.2f} ms"
            "   (no cache: SSDP itself)",
        ]
    )
