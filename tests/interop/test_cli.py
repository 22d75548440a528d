"""The `upnpy` command on the lab's devices (run as `python -m upnpy`)."""

import json
import subprocess
import sys


def upnpy(*args):
    return subprocess.run(
        [sys.executable, "-m", "upnpy", *args], capture_output=True, text=True, timeout=60
    )


def test_discover_json_lists_the_devices(lab):
    done = upnpy("discover", "--timeout", "3", "--json")
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
