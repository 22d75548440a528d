"""The ``upnpy`` command's pure parts, and its commands against a loopback device.

Nothing here searches the network: wherever the CLI would call ``discover_iter``, a fake that
yields chosen devices is put in its place (and the network guard refuses anything else).
"""

import io
import json
import subprocess
import sys
import threading
import time
import types

import pytest
from fakes import FakeDevice, close_unsubscribed, scpd, soap_response

import upnpy
from upnpy import _cli, _cli_names, _cli_text

# --- a loopback device: a light, with a dimmer embedded -------------------------------------------

SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
DIMMING = "urn:schemas-upnp-org:service:Dimming:1"


def description(name="fake light", udn="uuid:fake-light") -> bytes:
    return f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>
<friendlyName>{name}</friendlyName><manufacturer>upnpy</manufacturer><modelName>m</modelName>
<UDN>{udn}</UDN>
<serviceList><service><serviceType>{SWITCH}</serviceType>
<serviceId>urn:upnp-org:serviceId:SwitchPower:1</serviceId>
<SCPDURL>/switch.xml</SCPDURL><controlURL>/switch</controlURL><eventSubURL>/switch/evt</eventSubURL>
</service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:Dimmer:1</deviceType>
<friendlyName>fake dimmer</friendlyName><manufacturer>upnpy</manufacturer><modelName>m</modelName>
<UDN>{udn}-dimmer</UDN>
<serviceList><service><serviceType>{DIMMING}</serviceType>
<serviceId>urn:upnp-org:serviceId:Dimming:1</serviceId>
<SCPDURL>/dimming.xml</SCPDURL><controlURL>/dimming</controlURL><eventSubURL>/dimming/evt</eventSubURL>
</service></serviceList></device></deviceList>
</device></root>""".encode()


@pytest.fixture
def light():
    fake = FakeDevice(
        {
            "/desc.xml": description(),
            "/switch.xml": scpd("GetStatus", "ResultStatus", "Status", "boolean"),
            "/dimming.xml": scpd("GetLoadLevelStatus", "Level", "LoadLevelStatus", "ui1"),
        },
        initial={"Status": "1"},
    )
    fake.answer("/switch", SWITCH, "GetStatus", [("ResultStatus", "1")])
    fake.answer("/dimming", DIMMING, "GetLoadLevelStatus", [("Level", "33")])
    fake.location = fake.url + "/desc.xml"
    try:
        yield fake
    finally:
        close_unsubscribed(fake)


class Searches:
    """A stand-in for ``discover_iter``: yields the devices at *locations*, records each call."""

    def __init__(self, *locations):
        self.locations = locations
        self.calls = []
        self.yielded = 0
        self.closed = False

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return self._run()

    def _run(self):
        try:
            for location in self.locations:
                self.yielded += 1
                yield upnpy.Device(location)
        finally:
            self.closed = True


def patch_search(monkeypatch, searches):
    """Searches go to *searches*: the discover command's, and the name lookups'."""
    monkeypatch.setattr(_cli, "discover_iter", searches)
    monkeypatch.setattr(_cli_names, "discover_iter", searches)


@pytest.fixture
def search(monkeypatch, light):
    searches = Searches(light.location)
    patch_search(monkeypatch, searches)
    return searches


def run(capsys, *argv):
    """main(argv): (status, stdout, stderr)."""
    status = _cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- parsing and usage errors ---------------------------------------------------------------------


def test_the_commands_parse():
    parser = _cli.build_parser()
    args = parser.parse_args(["discover", "--timeout", "1.5", "--limit", "2", "-4", "--json"])
    assert (args.timeout, args.limit, args.family, args.json, args.st) == (
        1.5,
        2,
        2,  # AF_INET
        True,
        "ssdp:all",
    )
    args = parser.parse_args(["call", "upnpy lab light", "SwitchPower", "SetTarget", "a=1"])
    assert (args.device, args.service, args.action, args.arguments) == (
        "upnpy lab light",
        "SwitchPower",
        "SetTarget",
        ["a=1"],
    )
    assert args.timeout == _cli.NAME_TIMEOUT and args.debug is False
    args = parser.parse_args(["subscribe", "uuid:x", "SwitchPower", "--json", "--debug"])
    assert (args.device, args.service, args.json, args.debug) == ("uuid:x", "SwitchPower", 1, 1)
    assert parser.parse_args(["--debug", "describe", "x"]).debug is True
    args = parser.parse_args(["ports", "--gateway", "upnpy lab gateway", "add", "8080"])
    assert (args.gateway, args.ports_command, args.port) == ("upnpy lab gateway", "add", 8080)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["discover", "--timeout", "0"], "argument --timeout: '0' is not a number of seconds"),
        (["discover", "--timeout=-1"], "is not a number of seconds above 0"),
        (["discover", "--timeout", "nan"], "is not a number of seconds above 0"),
        (["discover", "--timeout", "soon"], "is not a number of seconds above 0"),
        (["discover", "--limit", "0"], "argument --limit: '0' is not a whole number above 0"),
        (["call", "x", "S"], "the following arguments are required: ACTION"),
        (["ports", "add", "70000"], "'70000' is not a port number"),
        (["describe", "x", "--timeout", "0"], "is not a number of seconds above 0"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_a_usage_error_is_one_line_and_status_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit:
        _cli.main(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "--help" in err, err
    assert err.startswith("upnpy")


def test_an_argument_without_equals_is_a_usage_error_before_any_search(capsys, search):
    status, out, err = run(capsys, "call", "fake light", "SwitchPower", "GetStatus", "on")
    assert status == 2 and out == ""
    assert err == "upnpy call: argument 'on' is not NAME=VALUE (see 'upnpy call --help')\n"
    assert search.calls == []


def test_python_dash_m_upnpy_is_the_command():  # --version: nothing reaches the network
    done = subprocess.run(
        [sys.executable, "-m", "upnpy", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"upnpy {upnpy.__version__}\n", "")
    done = subprocess.run(
        [sys.executable, "-m", "upnpy", "discover", "--timeout", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        _cli.main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"upnpy {upnpy.__version__}\n"


# --- the discover table ---------------------------------------------------------------------------


def test_the_table_has_fixed_columns_and_cuts_long_cells():
    widths = _cli_text.WIDTHS
    row = _cli_text.table_row(
        "n" * 30, "t" * 30, "http://10.0.0.1:80/" + "p" * 60, "uuid:" + "u" * 50
    )
    name, kind, location, udn = row.split("  ")
    assert (len(name), len(kind), len(location)) == widths
    assert name == "n" * (widths[0] - 1) + "…" and kind.endswith("…")
    assert location == "http://10.0.0.1:80/…" + "p" * (widths[2] - 20)  # host and end kept
    odd = _cli_text.table_row("n", "t", "x" * 60, "u")
    assert odd.split()[2] == "x" * (widths[2] - 1) + "…"
    assert udn == "uuid:" + "u" * 50  # never cut
    short = _cli_text.table_row("lamp", "DimmableLight:1", "http://h/", "uuid:1")
    assert short == "lamp".ljust(widths[0]) + "  " + "DimmableLight:1".ljust(widths[1]) + (
        "  " + "http://h/".ljust(widths[2]) + "  uuid:1"
    )
    header = _cli_text.TABLE_HEADER
    assert [header.index(word) for word in ("TYPE", "LOCATION", "UDN")] == [
        short.index("DimmableLight"),
        short.index("http://"),
        short.index("uuid:1"),
    ]


def test_discover_prints_a_row_as_soon_as_a_device_is_described(capsys, monkeypatch, light):
    seen = []

    def found(**kwargs):
        yield upnpy.Device(light.location)
        seen.append(capsys.readouterr().out)  # printed before the search goes on
        yield upnpy.Device(light.location)

    patch_search(monkeypatch, found)
    status, out, err = run(capsys, "discover")
    assert status == 0 and err == ""
    header, row = seen[0].splitlines()
    assert header == _cli_text.TABLE_HEADER
    assert row.split() == ["fake", "light", "BinaryLight:1", light.location, "uuid:fake-light"]
    assert out.splitlines() == [row]


def test_discover_json_prints_one_object_per_line(capsys, monkeypatch, light):
    searches = Searches(light.location, light.location)
    patch_search(monkeypatch, searches)
    status, out, _ = run(capsys, "discover", "--json", "--limit", "2", "-6", "--st", "x:y")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and lines[0]["udn"] == "uuid:fake-light"
    assert lines[0]["devices"][0]["friendly_name"] == "fake dimmer"
    assert searches.calls == [
        {"st": "x:y", "timeout": 2.0, "limit": 2, "cache": False, "family": 10}  # AF_INET6
    ]


def test_discover_says_so_on_stderr_when_nothing_answers(capsys, monkeypatch):
    patch_search(monkeypatch, Searches())
    status, out, err = run(capsys, "discover", "--timeout", "0.5")
    assert status == 0 and out == _cli_text.TABLE_HEADER + "\n"
    assert err == "upnpy: no device answered within 0.5 s\n"


def test_ctrl_c_during_discovery_is_status_130_without_a_traceback(capsys, monkeypatch, light):
    stopped = []

    def found(**kwargs):
        try:
            yield upnpy.Device(light.location)
            raise KeyboardInterrupt
        finally:
            stopped.append(True)

    patch_search(monkeypatch, found)
    status, out, err = run(capsys, "discover")
    assert status == 130 and err == "" and stopped == [True]
    assert len(out.splitlines()) == 2


# --- the progress line ----------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_drawn_on_a_terminal_and_cleared(capsys):
    stream = Terminal()
    with _cli_text.Progress("searching", 2.0, stream) as progress:
        time.sleep(0.15)
        progress.found = 1
        progress.print("a row")
        time.sleep(0.15)
    drawn = stream.getvalue()
    assert "\rsearching… 0 found, " in drawn.replace("\x1b[K", "")
    assert "1 found, 1." in drawn and " s left" in drawn
    assert drawn.endswith("\r\x1b[K")  # cleared at the end
    assert capsys.readouterr().out == "a row\n"
    assert not any(t.name == "upnpy-progress" for t in threading.enumerate())


def test_no_progress_unless_a_terminal(capsys):
    stream = io.StringIO()
    with _cli_text.Progress("searching", 2.0, stream) as progress:
        progress.print("a row")
    assert stream.getvalue() == "" and capsys.readouterr().out == "a row\n"


# --- names ----------------------------------------------------------------------------------------


def fake_device(name, kind, udn, *children):
    return types.SimpleNamespace(
        friendly_name=name,
        device_type=f"urn:schemas-upnp-org:device:{kind}",
        udn=udn,
        location=f"http://10.0.0.9/{udn}.xml",
        devices=children,
    )


GATEWAY = fake_device(
    "upnpy lab gateway",
    "InternetGatewayDevice:2",
    "uuid:gw",
    fake_device(
        "WANDevice",
        "WANDevice:2",
        "uuid:gw-wan",
        fake_device("WANConnectionDevice", "WANConnectionDevice:2", "uuid:gw-conn"),
    ),
)
LIGHT = fake_device("upnpy lab light", "DimmableLight:1", "uuid:light")
MEDIA = fake_device("upnpy lab media", "MediaServer:1", "uuid:media")
ROOTS = [GATEWAY, LIGHT, MEDIA]


@pytest.mark.parametrize(
    "name, udn",
    [
        ("upnpy lab light", "uuid:light"),
        ("UPnPy Lab Light", "uuid:light"),  # any case
        ("uuid:light", "uuid:light"),
        ("UUID:LIGHT", "uuid:light"),
        ("light", "uuid:light"),  # the UDN without uuid: (before a part of a name)
        ("Lab Gateway", "uuid:gw"),  # a unique part of a name
        ("media", "uuid:media"),
        ("urn:schemas-upnp-org:device:MediaServer:1", "uuid:media"),
        ("MediaServer:1", "uuid:media"),
        ("mediaserver", "uuid:media"),
        ("WANConnectionDevice", "uuid:gw-conn"),  # an embedded device
        ("uuid:gw-wan", "uuid:gw-wan"),
    ],
)
def test_a_device_is_named_by_udn_name_or_type(name, udn):
    root, device = _cli_names.pick_device(ROOTS, name, 2.0)
    assert device.udn == udn
    assert root is (GATEWAY if udn.startswith("uuid:gw") else device)


def test_a_misspelled_name_gets_the_closest_names():
    with pytest.raises(_cli_names.Failure) as failure:
        _cli_names.pick_device(ROOTS, "upnpy lab ligth", 2.0)
    assert str(failure.value) == (
        "no device called 'upnpy lab ligth' answered within 2 s; did you mean 'upnpy lab light'?"
    )
    with pytest.raises(_cli_names.Failure) as failure:
        _cli_names.pick_device(ROOTS, "toaster", 2.0)
    assert str(failure.value) == (
        "no device called 'toaster' answered within 2 s; found: 'upnpy lab gateway', "
        "'upnpy lab light', 'upnpy lab media'"
    )
    with pytest.raises(
        _cli_names.Failure, match=r"no device answered the search for 'x' within 1\.5 s"
    ):
        _cli_names.pick_device([], "x", 1.5)


def test_a_name_two_devices_share_is_refused_with_both():
    twin = fake_device("upnpy lab light", "DimmableLight:1", "uuid:twin")
    with pytest.raises(_cli_names.Failure) as failure:
        _cli_names.pick_device([LIGHT, twin], "upnpy lab light", 2.0)
    message = str(failure.value)
    assert message.startswith("'upnpy lab light' names 2 devices: ")
    assert "uuid:light" in message and "uuid:twin" in message and "(give a UDN or URL)" in message
    with pytest.raises(_cli_names.Failure, match="'lab' names 3 devices"):
        _cli_names.pick_device(ROOTS, "lab", 2.0)


def test_did_you_mean():
    assert _cli_names.did_you_mean("SwichPower", ["SwitchPower", "Dimming"]) == (
        "; did you mean 'SwitchPower'?"
    )
    assert _cli_names.did_you_mean("zzz", ["SwitchPower"]) == ""
    assert _cli_names.did_you_mean("lamp 3", ["Lamp 1", "lamp 2", "Lamp 1", "kitchen"]) == (
        "; did you mean 'Lamp 1' or 'lamp 2'?"  # as close as each other, each named once
    )


def test_a_udn_or_device_type_is_the_search_target_and_the_first_match_ends_it(search):
    root, device = _cli_names.open_device("uuid:fake-light-dimmer", 1.0)
    with root:
        assert device.friendly_name == "fake dimmer" and root.friendly_name == "fake light"
    assert search.calls == [{"st": "uuid:fake-light-dimmer", "timeout": 1.0, "family": None}]
    assert search.closed
    root, _ = _cli_names.open_device("urn:schemas-upnp-org:device:Dimmer:1", 1.0)
    root.close()
    assert search.calls[-1]["st"] == "urn:schemas-upnp-org:device:Dimmer:1"


def test_a_friendly_name_waits_for_every_answer(monkeypatch, light):
    searches = Searches(light.location, light.location)
    patch_search(monkeypatch, searches)
    with pytest.raises(_cli_names.Failure, match="'Fake Light' names 2 devices"):
        _cli_names.open_device("Fake Light", 1.0)
    assert searches.yielded == 2 and searches.calls[0]["st"] == "upnp:rootdevice"


def test_a_url_is_not_searched(search, light):
    root, device = _cli_names.open_device(light.location)
    with root:
        assert root is device and device.udn == "uuid:fake-light"
    assert search.calls == []


# --- describe, call, subscribe on the loopback device ---------------------------------------------


def test_call_by_friendly_name_in_any_case(capsys, search):
    status, out, err = run(capsys, "call", "FAKE LIGHT", "switchpower", "getstatus")
    assert (status, out, err) == (0, "ResultStatus = True\n", "")
    status, out, _ = run(capsys, "call", "fake dimmer", "Dimming", "GetLoadLevelStatus", "--json")
    assert status == 0 and json.loads(out) == {"Level": 33}


def test_call_by_url_and_udn(capsys, search, light):
    status, out, _ = run(capsys, "call", light.location, "SwitchPower:1", "GetStatus")
    assert (status, out) == (0, "ResultStatus = True\n")
    status, out, _ = run(capsys, "call", "uuid:fake-light", "SwitchPower", "GetStatus")
    assert (status, out) == (0, "ResultStatus = True\n")


def test_a_service_of_another_embedded_device_is_not_found(capsys, search):
    status, out, err = run(capsys, "call", "fake dimmer", "SwitchPower", "GetStatus")
    assert status == 1 and out == ""
    assert err == "upnpy: 'fake dimmer' has no service 'SwitchPower'; services: Dimming:1\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fake ligth", "SwitchPower", "GetStatus"], "did you mean 'fake light'?"),
        (["fake light", "SwichPower", "GetStatus"], "has no service 'SwichPower'; did you mean"),
        (["fake light", "SwitchPower", "GetStatuss"], "has no action 'GetStatuss'; did you mean"),
        (["fake light", "SwitchPower", "GetStatus", "x=1"], "GetStatus"),  # Python's TypeError
    ],
)
def test_unknown_names_are_one_line_and_status_1(capsys, search, argv, message):
    status, out, err = run(capsys, "call", *argv)
    assert status == 1 and out == ""
    assert err.startswith("upnpy: ") and err.count("\n") == 1 and message in err, err


class TwoSwitches:
    """A device-like object with two SwitchPower services (a root's and an embedded one's)."""

    friendly_name = "twin"

    def __init__(self):
        self.all_services = tuple(
            types.SimpleNamespace(
                name="SwitchPower",
                version="1",
                service_type=SWITCH,
                service_id=f"urn:upnp-org:serviceId:SwitchPower{n}",
                device=types.SimpleNamespace(friendly_name=f"part {n}"),
            )
            for n in (1, 2)
        )

    def __getitem__(self, name):
        raise KeyError(name)


def test_a_service_named_twice_is_refused_with_both():
    with pytest.raises(_cli_names.Failure) as failure:
        _cli_names.find_service(TwoSwitches(), "switchpower")
    assert str(failure.value) == (
        "'switchpower' names 2 services of 'twin': urn:upnp-org:serviceId:SwitchPower1 in "
        "'part 1'; urn:upnp-org:serviceId:SwitchPower2 in 'part 2'"
    )
    assert _cli_names.find_service(TwoSwitches(), "SWITCHPOWER2").service_id.endswith("Power2")


def test_a_device_fault_is_status_1(capsys, search, light):
    light.answers[("/switch", "GetStatus")] = (500, soap_response(SWITCH, "x", []))
    status, _, err = run(capsys, "call", light.location, "SwitchPower", "GetStatus")
    assert status == 1 and err.startswith("upnpy: ") and err.count("\n") == 1


def test_describe_an_embedded_device_by_name(capsys, search):
    status, out, _ = run(capsys, "describe", "fake dimmer")
    assert status == 0
    assert out.splitlines()[0] == (
        "fake dimmer  [urn:schemas-upnp-org:device:Dimmer:1]  uuid:fake-light-dimmer"
    )
    assert "GetLoadLevelStatus()" in out and "SwitchPower" not in out


def test_debug_logs_the_http_exchanges(capsys, search, light):
    status, out, err = run(capsys, "call", "--debug", light.location, "SwitchPower", "GetStatus")
    assert status == 0 and out == "ResultStatus = True\n"
    assert f"> GET {light.location}" in err and "> POST " + light.url + "/switch" in err
    assert "SOAPACTION: " in err.upper() and "< 200 OK" in err and "<ResultStatus>1" in err
    status, _, err = run(capsys, "call", light.location, "SwitchPower", "GetStatus")
    assert err == ""  # the next run without --debug logs nothing


class Interrupting(io.StringIO):
    """stdout that raises KeyboardInterrupt after *lines* lines, as Ctrl-C would."""

    def __init__(self, lines):
        super().__init__()
        self.lines = lines

    def write(self, text):
        written = super().write(text)
        if self.getvalue().count("\n") >= self.lines and text.endswith("\n"):
            raise KeyboardInterrupt
        return written


def test_subscribe_prints_events_until_ctrl_c(monkeypatch, search, light):
    stdout = Interrupting(lines=1)
    monkeypatch.setattr("sys.stdout", stdout)
    assert _cli.main(["subscribe", "fake light", "SwitchPower"]) == 130
    assert stdout.getvalue() == "seq=0 Status=True\n"
    assert light.requests("UNSUBSCRIBE")  # the subscription ended with the command


def test_subscribe_json(monkeypatch, search, light):
    stdout = Interrupting(lines=1)
    monkeypatch.setattr("sys.stdout", stdout)
    assert _cli.main(["subscribe", "fake light", "SwitchPower", "--json"]) == 130
    event = json.loads(stdout.getvalue())
    assert (event["seq"], event["service"], event["variables"]) == (0, "SwitchPower", {"Status": 1})
    assert event["udn"] == "uuid:fake-light" and event["sid"].startswith("uuid:fake-")


def test_a_lastchange_is_expanded():
    last = (
        '<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0">'
        '<TransportState val="PLAYING"/><Volume channel="Master" val="10"/></InstanceID>'
        '<InstanceID val="1"><Mute channel="Master" val="1"/></InstanceID></Event>'
    )
    service = types.SimpleNamespace(state_variables={})
    event = types.SimpleNamespace(variables={"LastChange": last, "Other": 2}, service=service)
    variables = _cli_text.event_variables(event)
    assert variables == {
        "LastChange": {
            0: {"TransportState": "PLAYING", "Volume": {"Master": "10"}},
            1: {"Mute": {"Master": "1"}},
        },
        "Other": 2,
    }
    assert _cli_text.event_line(4, variables) == (
        "seq=4 TransportState='PLAYING' Volume[Master]='10' 1/Mute[Master]='1' Other=2"
    )
    event.variables = {"LastChange": "not xml"}
    assert _cli_text.event_variables(event) == {"LastChange": "not xml"}  # kept as text


def test_device_text_is_printed_as_one_line_of_text():
    from upnpy._cli_text import cut

    hostile = "a\x1b[2Jb\u009b31mc\nd\u2028e\tf"
    assert cut(hostile, 60) == r"a\x1b[2Jb\x9b31mc\nd\u2028e\tf"
    assert cut("Küche · 📺", 60) == "Küche · 📺"
    assert cut("x\ny" * 10, 5) == r"x\ny…"
