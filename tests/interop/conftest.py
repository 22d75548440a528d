"""The real-device test LAN, as the tests see it.

``make test`` (through ``lab/lab.sh run``) builds the lab and runs pytest inside its client
namespace with ``UPNPY_LAB_*`` variables set. Anywhere else these tests skip with the
reason, and with ``CI=true`` that skip is a failure (see ``tests/conftest.py``).
"""

import os
import subprocess

import pytest
from labtools import Lab

import upnpy


def _current_netns() -> str:
    try:
        return subprocess.run(
            ["ip", "netns", "identify", str(os.getpid())], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _why_no_lab() -> str:
    if os.geteuid() != 0:
        return "not root: the test LAN needs root and `ip netns` (run `make test` as root)"
    return "no test LAN in this process: run through `make test` (lab/lab.sh run ...)"


@pytest.fixture(scope="session")
def lab() -> Lab:
    env = os.environ
    if "UPNPY_LAB" not in env:
        pytest.skip(_why_no_lab())
    # Safety: lab traffic only ever leaves from the lab's own client namespace.
    here = _current_netns()
    if here != env["UPNPY_LAB_CLIENT_NS"]:
        pytest.fail(
            f"interop tests must run inside {env['UPNPY_LAB_CLIENT_NS']}, not {here or 'the host'}"
        )
    return Lab(
        folder=env["UPNPY_LAB"],
        client_ns=env["UPNPY_LAB_CLIENT_NS"],
        gw_ns=env["UPNPY_LAB_GW_NS"],
        client_ip=env["UPNPY_LAB_CLIENT_IP"],
        gw_ip=env["UPNPY_LAB_GW_IP"],
        dms_ip=env["UPNPY_LAB_DMS_IP"],
        light_ip=env["UPNPY_LAB_LIGHT_IP"],
        wan_ip=env["UPNPY_LAB_WAN_IP"],
        gw_url=env["UPNPY_LAB_GW_URL"],
        dms_url=env["UPNPY_LAB_DMS_URL"],
        light_url=env["UPNPY_LAB_LIGHT_URL"],
        tracks=int(env["UPNPY_LAB_TRACKS"]),
        inet_ns=env["UPNPY_LAB_INET_NS"],
        inet_ip=env["UPNPY_LAB_INET_IP"],
        gw2_ns=env["UPNPY_LAB_GW2_NS"],
        gw2_ip=env["UPNPY_LAB_GW2_IP"],
        gw2_url=env["UPNPY_LAB_GW2_URL"],
        gw2_wan_ip=env["UPNPY_LAB_GW2_WAN_IP"],
        cgn_ns=env["UPNPY_LAB_CGN_NS"],
        dmr_url=env["UPNPY_LAB_DMR_URL"],
        long_track=env["UPNPY_LAB_LONG_TRACK"],
    )


@pytest.fixture(scope="module")
def light(lab):
    """The GUPnP light, described once per test module."""
    with upnpy.Device(lab.light_url) as device:
        yield device


@pytest.fixture(scope="module")
def dmr_running(lab):
    """The renderer (gmediarender, ``lab.dmr_url``) running for the module: it runs on demand,
    so that outside such a module discovery finds the lab's three usual devices."""
    with lab.running("dmr"):
        yield


@pytest.fixture(scope="module")
def router(lab):
    """The miniupnpd gateway, described once per test module."""
    with upnpy.Device(lab.gw_url) as device:
        yield device
