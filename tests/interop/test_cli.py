"""The `upnpy` command on the lab's devices, run as `python -m upnpy` in the client namespace.

Exit statuses: 0 done, 1 a failure (a device's fault, an unknown name), 2 a usage error, 130
Ctrl-C. LOCATIONs are compared over IPv4 (`-4`): the lab's devices answer over IPv6 too.
"""

import json
import signal
import subprocess
import sys
import time

import pytest

import upnpy

NAMES = {"gw": "upnpy lab gateway", "dms": "Lab Media Server", "light": "upnpy lab light"}


def cli(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "upnpy", *args], capture_output=True, text=True, timeout=timeout
    )


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "upnpy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt(process, timeout=30):
    """Ctrl-C *process*; its exit status and stderr."""
    try:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=timeout)
        return status, process.stderr.read()
    finally:
        reap(process)


def reap(process):
    """Kill *process* if it still runs; close its pipes."""
    if process.poll() is None:
        process.kill()
        process.wait()
    process.stdout.close()
    process.stderr.close()


@pytest.fixture(scope="module")
def udns(lab):
    found = {}
    for key, url in (("gw", lab.gw_url), ("dms", lab.dms_url), ("light", lab.light_url)):
        with upnpy.Device(url) as device:
            found[key] = device.udn
    return found


# --- discover ---------------------------------------------------------------------------------


def test_discover_prints_a_table(lab, udns):
    done = cli("discover", "--timeout", "3", "-4")
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "LOCATION", "UDN"]
    assert sorted(row.split()[-1] for row in rows) == sorted(udns.values())
    for row in rows:
        assert row.index(row.split()[-1]) == header.index("UDN")  # aligned
    light = next(row for row in rows if row.endswith(udns["light"]))
    assert light.startswith("upnpy lab light ") and " DimmableLight:1 " in light
    assert f"http://{lab.light_ip}:" in light
    assert done.stderr == ""


def test_discover_json_lines(lab):
    done = cli("discover", "--timeout", "3", "-4", "--json")
    assert done.returncode == 0, done.stderr
    listed = {d["location"]: d for d in map(json.loads, done.stdout.splitlines())}
    assert set(listed) == {lab.gw_url, lab.dms_url, lab.light_url}
    assert listed[lab.gw_url]["devices"][0]["devices"][0]["services"][0]["service_type"] == (
        "urn:schemas-upnp-org:service:WANIPConnection:2"
    )
    assert listed[lab.light_url]["friendly_name"] == NAMES["light"]


def test_discover_limit_ends_the_search_early(lab):
    began = time.monotonic()
    done = cli("discover", "--timeout", "10", "--limit", "1", "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert time.monotonic() - began < 5


def test_discover_prints_each_device_as_it_is_described(lab):
    process = start("discover", "--timeout", "8", "--json")
    began = time.monotonic()
    try:
        line = process.stdout.readline()
        assert json.loads(line)["friendly_name"] in NAMES.values()
        assert time.monotonic() - began < 5  # not held back until the timeout
    finally:
        status, stderr = interrupt(process)  # and Ctrl-C during a search
    assert status == 130 and "Traceback" not in stderr, stderr


def test_discover_usage_errors(lab):
    for args in (["--timeout", "0"], ["--limit", "0"], ["--timeout", "x"], ["--st", ""]):
        done = cli("discover", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stdout == ""


# --- devices and services by name -------------------------------------------------------------


def test_call_by_friendly_name(lab):
    done = cli("call", "Lab Gateway", "WANIPConnection", "GetExternalIPAddress")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"NewExternalIPAddress = {lab.wan_ip!r}\n"
    done = cli("call", "UPNPY LAB LIGHT", "switchpower", "GetStatus", "--json")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"ResultStatus"}


def test_call_by_udn(lab, udns):
    done = cli("call", udns["light"], "Dimming", "GetLoadLevelStatus", "--json")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"retLoadlevelStatus"}


def test_call_an_embedded_device_by_name_and_by_type(lab):
    for name in ("WANConnectionDevice", "urn:schemas-upnp-org:device:WANConnectionDevice:2"):
        done = cli("call", name, "WANIPConnection", "GetExternalIPAddress")
        assert done.returncode == 0, (name, done.stderr)
        assert done.stdout == f"NewExternalIPAddress = {lab.wan_ip!r}\n"


def test_describe_by_name(lab):
    done = cli("describe", "Lab Media Server")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Lab Media Server  [urn:schemas-upnp-org:device:MediaServer:1]")
    assert "Browse(ObjectID, BrowseFlag" in done.stdout


def test_a_misspelled_name_gets_did_you_mean_and_status_1(lab):
    done = cli("call", "upnpy lab ligth", "SwitchPower", "GetStatus")
    assert done.returncode == 1
    assert done.stderr == (
        "upnpy: no device called 'upnpy lab ligth' answered within 2 s; "
        "did you mean 'upnpy lab light'?\n"
    )
    done = cli("call", "upnpy lab light", "SwichPower", "GetStatus")
    assert done.returncode == 1
    assert done.stderr == (
        "upnpy: 'upnpy lab light' has no service 'SwichPower'; did you mean 'SwitchPower'?\n"
    )
    done = cli("call", "upnpy lab light", "SwitchPower", "GetStatsu")
    assert done.returncode == 1
    assert (
        done.stderr == "upnpy: SwitchPower has no action 'GetStatsu'; did you mean 'GetStatus'?\n"
    )


def test_debug_logs_the_http_exchanges(lab):
    done = cli("--debug", "call", lab.light_url, "SwitchPower", "GetStatus")
    assert done.returncode == 0, done.stderr
    assert f"> GET {lab.light_url}" in done.stderr
    assert "#GetStatus" in done.stderr and "< 200 OK" in done.stderr
    assert "<ResultStatus>" in done.stderr


# --- subscribe --------------------------------------------------------------------------------


def test_subscribe_prints_events_until_ctrl_c(lab):
    process = start("subscribe", "upnpy lab light", "SwitchPower")
    try:
        first = process.stdout.readline()
        assert first.startswith("seq=0 ") and "Status=" in first, first
        status = "Status=True" in first
        with upnpy.Device(lab.light_url) as light:
            light.SwitchPower.SetTarget(not status)
            try:
                deadline = time.monotonic() + 10
                line = process.stdout.readline()
                while f"Status={not status}" not in line and time.monotonic() < deadline:
                    line = process.stdout.readline()
                assert line.startswith("seq=") and f"Status={not status}" in line, line
            finally:
                light.SwitchPower.SetTarget(status)
    finally:
        code, stderr = interrupt(process)
    assert code == 130 and "Traceback" not in stderr, stderr


def test_subscribe_json(lab, udns):
    process = start("subscribe", udns["light"], "Dimming", "--json")
    try:
        event = json.loads(process.stdout.readline())
        assert event["seq"] == 0 and event["service"] == "Dimming"
        assert "LoadLevelStatus" in event["variables"]
    finally:
        code, stderr = interrupt(process)
    assert code == 130 and "Traceback" not in stderr, stderr


def test_call_prints_typed_json(lab):
    done = cli("call", lab.light_url, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=33")
    assert done.returncode == 0, done.stderr
    done = cli("call", lab.light_url, "Dimming", "GetLoadLevelStatus", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"retLoadlevelStatus": 33}


def test_call_errors_are_one_line_and_exit_1(lab):
    done = cli(
        "call",
        lab.gw_url,
        "WANIPConnection",
        "GetSpecificPortMappingEntry",
        "NewRemoteHost=",
        "NewExternalPort=9",
        "NewProtocol=TCP",
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == "upnpy: GetSpecificPortMappingEntry: UPnP error 714: NoSuchEntryInArray"
    )
    done = cli("call", lab.light_url, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=101")
    assert done.returncode == 1 and "101" in done.stderr


def test_describe_lists_actions(lab):
    done = cli("describe", lab.light_url)
    assert done.returncode == 0, done.stderr
    assert "SetTarget(newTargetValue)" in done.stdout and "GetLoadLevelStatus()" in done.stdout


# --- the gateway commands: what people use `upnpc -a/-l/-d` for --------------------------

PORT = 28580


def test_ip(lab):
    done = cli("ip", "--gateway", lab.gw_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == lab.wan_ip


def test_ip_of_a_gateway_named_or_found(lab):
    for args in (["--gateway", "upnpy lab gateway"], ["--gateway", "InternetGatewayDevice"], []):
        done = cli("ip", *args)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout == f"{lab.wan_ip}\n"


def test_ports_add_list_rm(lab):
    done = cli("ports", "--gateway", lab.gw_url, "add", str(PORT), "--lease", "600")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"TCP {lab.wan_ip}:{PORT} -> {lab.client_ip}:{PORT} (lease 600 s)"
    try:
        done = cli("ports", "--gateway", lab.gw_url, "--json")
        assert done.returncode == 0, done.stderr
        mine = [m for m in map(json.loads, done.stdout.splitlines()) if m["external_port"] == PORT]
        assert [(m["protocol"], m["internal_client"], m["description"]) for m in mine] == [
            ("TCP", lab.client_ip, "upnpy")
        ]
        table = cli("ports", "--gateway", lab.gw_url).stdout
        assert table.splitlines()[0].split() == [
            "PROTO",
            "EXTERNAL",
            "INTERNAL",
            "LEASE",
            "DESCRIPTION",
        ]
        assert f"{lab.client_ip}:{PORT}" in table
    finally:
        done = cli("ports", "--gateway", lab.gw_url, "rm", str(PORT))
    assert done.returncode == 0, done.stderr
    assert f"dport {PORT} " not in lab.nft_nat_rules()


def test_a_port_out_of_range_is_refused_before_anything_is_sent(lab):
    done = cli("ports", "--gateway", lab.gw_url, "add", "70000")
    assert done.returncode == 2 and "not a port number" in done.stderr  # upnpc: port 4464


def test_forward_holds_the_mapping_until_ctrl_c(lab):
    process = start("forward", str(PORT), "--gateway", lab.gw_url)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"forwarding TCP {lab.wan_ip}:{PORT} -> "), line
        assert f"dport {PORT} dnat ip to {lab.client_ip}:{PORT}" in lab.nft_nat_rules()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        reap(process)
    assert f"dport {PORT} " not in lab.nft_nat_rules()
