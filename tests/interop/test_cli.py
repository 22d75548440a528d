"""The `upnpy` command on the lab's devices (run as `python -m upnpy`)."""

import json
import signal
import subprocess
import sys


def upnpy(*args):
    return subprocess.run(
        [sys.executable, "-m", "upnpy", *args], capture_output=True, text=True, timeout=60
    )


def test_discover_json_lists_the_devices(lab):
    done = upnpy("discover", "--timeout", "3", "-4", "--json")
    assert done.returncode == 0, done.stderr
    listed = {d["location"]: d for d in json.loads(done.stdout)}
    assert set(listed) == {lab.gw_url, lab.dms_url, lab.light_url}
    assert listed[lab.gw_url]["devices"][0]["devices"][0]["services"][0]["service_type"] == (
        "urn:schemas-upnp-org:service:WANIPConnection:2"
    )


def test_call_prints_typed_json(lab):
    done = upnpy("call", lab.light_url, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=33")
    assert done.returncode == 0, done.stderr
    done = upnpy("call", lab.light_url, "Dimming", "GetLoadLevelStatus", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"retLoadlevelStatus": 33}


def test_call_errors_are_one_line_and_exit_1(lab):
    done = upnpy(
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
    done = upnpy("call", lab.light_url, "Dimming", "SetLoadLevelTarget", "newLoadlevelTarget=101")
    assert done.returncode == 1 and "101" in done.stderr


def test_describe_lists_actions(lab):
    done = upnpy("describe", lab.light_url)
    assert done.returncode == 0, done.stderr
    assert "SetTarget(newTargetValue)" in done.stdout and "GetLoadLevelStatus()" in done.stdout


# --- the gateway commands: what people use `upnpc -a/-l/-d` for --------------------------

PORT = 28580


def test_ip(lab):
    done = upnpy("ip", "--gateway", lab.gw_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == lab.wan_ip


def test_ports_add_list_rm(lab):
    done = upnpy("ports", "--gateway", lab.gw_url, "add", str(PORT), "--lease", "600")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"TCP {lab.wan_ip}:{PORT} -> {lab.client_ip}:{PORT} (lease 600 s)"
    try:
        done = upnpy("ports", "--gateway", lab.gw_url, "--json")
        assert done.returncode == 0, done.stderr
        mine = [m for m in map(json.loads, done.stdout.splitlines()) if m["external_port"] == PORT]
        assert [(m["protocol"], m["internal_client"], m["description"]) for m in mine] == [
            ("TCP", lab.client_ip, "upnpy")
        ]
        table = upnpy("ports", "--gateway", lab.gw_url).stdout
        assert table.splitlines()[0].split() == [
            "PROTO",
            "EXTERNAL",
            "INTERNAL",
            "LEASE",
            "DESCRIPTION",
        ]
        assert f"{lab.client_ip}:{PORT}" in table
    finally:
        done = upnpy("ports", "--gateway", lab.gw_url, "rm", str(PORT))
    assert done.returncode == 0, done.stderr
    assert f"dport {PORT} " not in lab.nft_nat_rules()


def test_a_port_out_of_range_is_refused_before_anything_is_sent(lab):
    done = upnpy("ports", "--gateway", lab.gw_url, "add", "70000")
    assert done.returncode == 2 and "not a port number" in done.stderr  # upnpc: port 4464


def test_forward_holds_the_mapping_until_ctrl_c(lab):
    process = subprocess.Popen(
        [sys.executable, "-m", "upnpy", "forward", str(PORT), "--gateway", lab.gw_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(f"forwarding TCP {lab.wan_ip}:{PORT} -> "), line
        assert f"dport {PORT} dnat ip to {lab.client_ip}:{PORT}" in lab.nft_nat_rules()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    assert f"dport {PORT} " not in lab.nft_nat_rules()
