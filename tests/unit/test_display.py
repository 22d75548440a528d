"""upnpy._display: the rich display of devices, services, actions, events, subscriptions and
port mappings in IPython and Jupyter, and what IPython's inspector shows of an action.

The devices are loopback fakes (tests/fakes.py) serving the lab's captured documents; every
request is recorded, so "displaying a device makes no request" is counted. Hostile values
(markup in names, ``javascript:`` URLs) are checked by parsing the HTML produced: only known
tags, and only http(s) URLs in ``href`` and ``src``.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import pydoc
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
from fakes import GATEWAY_FILES, LAB_DATA, LIGHT_FILES, FakeDevice, lab_documents
from IPython.core.oinspect import Inspector
from IPython.lib.pretty import pretty

import upnpy
from upnpy import _display
from upnpy._gateway import PortMapping, PortMappings
from upnpy._records import DeviceInfo, IconInfo, ServiceInfo

HOSTILE = '<script>alert("x")</script>'

#: the only tags the display writes
TAGS = {
    "div", "style", "table", "thead", "tbody", "tr", "th", "td", "b", "i", "code", "span",
    "a", "img", "ul", "li",
}  # fmt: skip


class Served:
    """Fake devices serving the lab's documents, and the Devices on them; closed at the end."""

    def __init__(self) -> None:
        self.fakes: List[FakeDevice] = []
        self.devices: List[upnpy.Device] = []

    def device(
        self, files: Dict[str, str], root: str, **changes: Optional[bytes]
    ) -> Tuple[FakeDevice, upnpy.Device]:
        documents = lab_documents(files)
        for path, data in changes.items():
            if data is None:
                del documents[path]
            else:
                documents[path] = data
        fake = FakeDevice(documents, initial={"Status": "1"})
        self.fakes.append(fake)
        device = upnpy.Device(fake.url + root, timeout=(2, 5))
        self.devices.append(device)
        return fake, device


@pytest.fixture
def served() -> Iterator[Served]:
    served = Served()
    try:
        yield served
    finally:
        for device in served.devices:
            device.close()
        for fake in served.fakes:
            fake.close()


@pytest.fixture
def gateway(served):
    return served.device(GATEWAY_FILES, "/rootDesc.xml")


@pytest.fixture
def light(served):
    return served.device(LIGHT_FILES, "/8e2ad0a6-light/description.xml")


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML fragment."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: List[Tuple[str, Dict[str, Optional[str]]]] = []
        self.text: List[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_safe(markup: str) -> Tags:
    """Only the display's own tags; no event handler; only http(s) URLs; one <style>."""
    parsed = Tags(markup)
    assert {tag for tag, _ in parsed.tags} <= TAGS, parsed.tags
    assert [tag for tag, _ in parsed.tags].count("style") == 1
    for tag, attrs in parsed.tags:
        assert set(attrs) <= {
            "class", "href", "src", "target", "rel", "alt", "width", "height", "loading",
            "referrerpolicy", "rowspan",
        }, (tag, attrs)  # fmt: skip
        for name in ("href", "src"):
            if name in attrs:
                assert (attrs[name] or "").startswith(("http://", "https://")), attrs
    return parsed


# --- devices --------------------------------------------------------------------------------


def test_a_device_shows_its_tree_without_a_request(gateway):
    fake, device = gateway
    before = len(fake.requests())
    markup = device._repr_html_()
    text = pretty(device)
    assert len(fake.requests()) == before
    parsed = assert_safe(markup)
    shown = "".join(parsed.text)
    for words in (
        "upnpy lab gateway",
        "InternetGatewayDevice:2",
        device.udn,
        device.manufacturer,
        device.model_name,
        "WANDevice:2",
        "WANConnectionDevice:2",
        "WANIPConnection:2",
        "Layer3Forwarding:1",
    ):
        assert words in shown and words in text, words
    assert text.splitlines()[0] == repr(device)
    assert "└─ WANIPConnection:2" in text or "├─ WANIPConnection:2" in text


def test_a_device_icon_is_the_browsers_to_fetch(light):
    fake, device = light
    before = len(fake.requests())
    images = [attrs for tag, attrs in assert_safe(device._repr_html_()).tags if tag == "img"]
    assert [attrs["src"] for attrs in images] == [fake.url + "/pixmaps/network-light-256x256.png"]
    assert len(fake.requests()) == before  # upnpy fetched no icon


def test_inside_a_list_a_device_is_its_one_line_repr(gateway, light):
    _, router = gateway
    _, lamp = light
    text = pretty([router, lamp])
    assert repr(router) in text and repr(lamp) in text
    assert "─" not in text and router.udn not in text  # no tree


def hostile_device(location: str) -> upnpy.Device:
    service = ServiceInfo(
        service_type=f"urn:schemas-upnp-org:service:{HOSTILE}:1",
        service_id='urn:upnp-org:serviceId:"><img src=x onerror=alert(1)>',
        scpd_url="javascript:alert(1)",
        control_url=location,
        event_sub_url="",
    )
    child = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:<b>Child</b>:1",
        friendly_name="<iframe src=http://evil>",
        manufacturer="m",
        model_name="n",
        udn="uuid:<child>",
    )
    info = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:Light:1",
        friendly_name=HOSTILE,
        manufacturer='"><img src=x onerror=alert(1)>',
        manufacturer_url="javascript:alert(1)",
        model_name="<svg onload=alert(1)>",
        model_url='http://example.invalid/"onmouseover="alert(1)',
        presentation_url="data:text/html,<script>alert(1)</script>",
        udn="uuid:'\"<x>",
        icons=(
            IconInfo("image/png", 32, 32, 24, "javascript:alert(1)"),
            IconInfo("image/png", 48, 48, 24, 'http://example.invalid/i.png"onerror="alert(1)'),
        ),
        services=(service,),
        devices=(child,),
    )
    return upnpy.Device.from_info(info, location)


def test_everything_from_the_device_is_escaped(network_guard):
    device = hostile_device("http://127.0.0.1:9/desc.xml")  # never contacted
    markup = device._repr_html_()
    parsed = assert_safe(markup)
    assert "<script" not in markup and "<iframe" not in markup and "<svg" not in markup
    shown = "".join(parsed.text)
    assert HOSTILE in shown  # shown as text
    assert "<iframe src=http://evil>" in shown
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert 'http://example.invalid/"onmouseover="alert(1)' in links  # one attribute, quoted
    assert not any("javascript" in (href or "") for href in links)
    images = [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]
    assert images == ['http://example.invalid/i.png"onerror="alert(1)']
    assert "javascript:alert(1)" in shown  # the manufacturer URL is not a link
    text = pretty(device)
    assert HOSTILE in text
    assert network_guard.violations == []


def test_text_escapes_control_characters():
    assert _display.plain("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\nc"
    assert _display.web_url("http://a/\nb") is None
    assert _display.web_url("HTTPS://a/b") == "HTTPS://a/b"
    assert _display.web_url("//a/b") is None
    assert _display.web_url("file:///etc/passwd") is None


# --- services and actions -----------------------------------------------------------------------


def test_a_service_shows_its_actions_and_evented_variables(gateway):
    fake, device = gateway
    service = device.WANIPConnection
    markup = service._repr_html_()
    text = pretty(service)
    assert len(fake.gets("/WANIPCn.xml")) == 1  # fetched once, for both forms
    parsed = assert_safe(markup)
    shown = " ".join(parsed.text)
    for words in (
        "AddPortMapping",
        "NewProtocol",
        "'TCP', 'UDP'",
        "1..65535",
        "0..604800",
        "→ in",
        "← out",
        "ui4",
        "PortMappingNumberOfEntries",
        "ConnectionStatus",
    ):
        assert words in shown, words
    assert "Uptime" not in shown.split("Evented state variables")[1]  # not evented
    assert text.splitlines()[0] == repr(service)
    assert any(
        line.strip().startswith("AddPortMapping(NewRemoteHost: str") for line in text.splitlines()
    )
    assert "evented: " in text and "ConnectionStatus" in text


def test_a_service_whose_scpd_fails_shows_the_failure(served):
    _, device = served.device(GATEWAY_FILES, "/rootDesc.xml", **{"/WANIPCn.xml": None})
    service = device.WANIPConnection
    markup = service._repr_html_()
    assert "SCPD unavailable" in markup and "404" in markup
    assert "SCPD unavailable" in pretty(service)


def test_markup_in_an_scpd_is_escaped(served):
    scpd = (
        (LAB_DATA / "gw-WANIPCn.xml")
        .read_bytes()
        .replace(
            b"<allowedValue>TCP</allowedValue>",
            b"<allowedValue>&lt;script&gt;alert(1)&lt;/script&gt;</allowedValue>",
        )
    )
    _, device = served.device(GATEWAY_FILES, "/rootDesc.xml", **{"/WANIPCn.xml": scpd})
    service = device.WANIPConnection
    for markup in (service._repr_html_(), service.AddPortMapping._repr_html_()):
        parsed = assert_safe(markup)
        assert "<script" not in markup
        assert "'<script>alert(1)</script>'" in "".join(parsed.text)


def test_an_action_shows_its_signature_and_arguments(gateway):
    fake, device = gateway
    action = device.WANIPConnection.GetSpecificPortMappingEntry
    before = len(fake.requests())
    parsed = assert_safe(action._repr_html_())
    shown = " ".join(parsed.text)
    assert (
        "WANIPConnection.GetSpecificPortMappingEntry(NewRemoteHost: str, NewExternalPort: int, "
        "NewProtocol: str) -> dict" in shown
    )
    assert "NewLeaseDuration" in shown and "← out" in shown
    text = pretty(action)
    assert text.splitlines()[0].startswith("WANIPConnection.GetSpecificPortMappingEntry(")
    assert any(line.split()[:2] == ["NewProtocol", "in"] for line in text.splitlines())
    assert len(fake.requests()) == before  # no call was made


# --- IPython's inspector and completion ---------------------------------------------------------


def test_ipython_inspector_shows_an_action_once_with_its_file(gateway):
    _, device = gateway
    action = device.WANIPConnection.AddPortMapping
    info = Inspector(theme_name="nocolor").info(action, "wan.AddPortMapping")
    assert info["file"].endswith(str(Path("upnpy", "_proxy.py")))
    assert info["type_name"] == "Action"
    assert info["class_docstring"] is None
    assert info["call_def"] is None and info["call_docstring"] is None
    assert info["init_docstring"] is None
    assert ":param NewProtocol: string, one of 'TCP', 'UDP'" in info["docstring"]
    assert ":param NewInternalPort: ui2, 1..65535" in info["docstring"]
    shown = Inspector(theme_name="nocolor")._get_info(action, "wan.AddPortMapping")["text/plain"]
    assert shown.count("NewLeaseDuration: int") == 1  # the signature, once
    assert shown.count("Signature") == 1
    assert "__init__.py" not in shown


def test_help_still_shows_the_signature_and_the_argument_docs(gateway):
    _, device = gateway
    action = device.WANIPConnection.GetExternalIPAddress
    text = pydoc.render_doc(action, renderer=pydoc.plaintext)
    assert "GetExternalIPAddress() -> Dict[str, Any]" in text
    assert "NewExternalIPAddress" in text and "Call GetExternalIPAddress" in text
    assert isinstance(action, upnpy.Action)
    assert inspect.signature(action) == action.__signature__


def test_calling_an_action_still_validates_and_names_it(gateway):
    _, device = gateway
    with pytest.raises(TypeError, match=r"AddPortMapping\(\).*NewRemoteHost"):
        device.WANIPConnection.AddPortMapping(RemoteHost="")


def test_dir_of_a_device_lists_each_service_once(gateway):
    _, device = gateway
    names = dir(device)
    services = [name for name in names if name[0].isupper()]
    assert services == sorted(
        [
            "DeviceProtection",
            "Layer3Forwarding",
            "WANCommonInterfaceConfig",
            "WANIPConnection",
            "WANIPv6FirewallControl",
        ]
    )
    assert device.WANIPConn1 is device.WANIPConnection  # the alias still works
    assert device["L3Forwarding1"] is device.Layer3Forwarding


# --- events, subscriptions, port mappings ------------------------------------------------------


def test_an_event_and_a_subscription(light):
    _, device = light
    service = device.SwitchPower
    with service.subscribe(timeout=60, auto_renew=False) as sub:
        event = sub.get(timeout=5)
        parsed = assert_safe(sub._repr_html_())
        shown = " ".join(parsed.text)
        assert "SwitchPower:1" in shown and "active" in shown and (sub.sid or "") in shown
        assert pretty(sub).splitlines()[0] == repr(sub)
    assert "cancelled" in sub._repr_html_()
    parsed = assert_safe(event._repr_html_())
    shown = " ".join(parsed.text)
    assert "SEQ 0" in shown and "Status" in shown and "True" in shown
    assert pretty(event).splitlines()[1].split() == ["Status", "True"]


def test_an_event_with_markup_is_escaped(light):
    _, device = light
    event = upnpy.Event(
        device.SwitchPower,
        "uuid:<sid>",
        3,
        {"Name": HOSTILE},
        {"Name": HOSTILE},
        datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc),
    )
    markup = event._repr_html_()
    assert "<script" not in markup
    assert repr(HOSTILE) in "".join(assert_safe(markup).text)  # the value's repr, as text


def mapping(**changes) -> PortMapping:
    base = PortMapping("", 8080, "TCP", "10.77.0.2", 8080, True, "upnpy", 600, "11.22.33.44")
    return dataclasses.replace(base, **changes)


def test_port_mappings_are_a_table():
    mappings = PortMappings([mapping(), mapping(external_port=53, protocol="UDP", lease=0)])
    assert isinstance(mappings, list) and repr(mappings).startswith("[PortMapping(")
    parsed = assert_safe(mappings._repr_html_())
    cells = [text for text in parsed.text if text.strip()]
    assert "11.22.33.44:8080" in cells and "10.77.0.2:8080" in cells and "permanent" in cells
    text = pretty(mappings).splitlines()
    assert text[0].split() == ["PROTO", "EXTERNAL", "INTERNAL", "LEASE", "DESCRIPTION"]
    assert text[1].split() == ["TCP", "11.22.33.44:8080", "10.77.0.2:8080", "600", "s", "upnpy"]
    assert pretty(PortMappings()) == "[]"
    assert "no port mappings" in PortMappings()._repr_html_()


def test_a_port_mapping_description_is_escaped():
    one = mapping(description=HOSTILE)
    markup = one._repr_html_()
    assert "<script" not in markup
    assert HOSTILE in "".join(assert_safe(markup).text)


# --- media ----------------------------------------------------------------------------------


def media_list(*objects: str):
    from upnpy._mediaserver import MediaList

    didl = (
        '<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/">' + "".join(objects) + "</DIDL-Lite>"
    )
    return MediaList(upnpy.parse_didl(didl))


TRACK = (
    '<item id="7" parentID="1"><dc:title>Song</dc:title>'
    "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
    "<upnp:albumArtURI>http://10.77.0.3:8200/art/7.jpg</upnp:albumArtURI>"
    '<res protocolInfo="http-get:*:audio/x-wav:*" duration="0:01:00" size="960044">'
    "http://10.77.0.3:8200/MediaItems/7.wav</res></item>"
)
FOLDER = (
    '<container id="1" parentID="0" childCount="3"><dc:title>Music</dc:title>'
    "<upnp:class>object.container.storageFolder</upnp:class></container>"
)


def test_a_browse_result_is_a_table_with_art_and_links():
    found = media_list(FOLDER, TRACK)
    assert isinstance(found, list) and repr(found).startswith("[MediaContainer(")
    parsed = assert_safe(found._repr_html_())
    cells = [text for text in parsed.text if text.strip()]
    for shown in ("Music", "storageFolder", "3 children", "Song", "musicTrack", "0:01:00",
                  "audio/x-wav", "960.0 kB", "open", "7"):  # fmt: skip
        assert shown in cells, (shown, cells)
    attrs = dict(parsed.tags)
    assert attrs["img"]["src"] == "http://10.77.0.3:8200/art/7.jpg"
    assert attrs["a"]["href"] == "http://10.77.0.3:8200/MediaItems/7.wav"
    text = pretty(found).splitlines()
    assert text[0].split() == ["ID", "CLASS", "TITLE", "DURATION", "URL"]
    assert text[1].split() == ["1", "storageFolder", "Music", "3", "children"]
    assert text[2].split() == [
        "7",
        "musicTrack",
        "Song",
        "0:01:00",
        "http://10.77.0.3:8200/MediaItems/7.wav",
    ]
    assert pretty(media_list()) == "[]" and "no objects" in media_list()._repr_html_()


def test_hostile_media_text_and_urls_stay_inert():
    hostile = (
        f'<item id="x" parentID="0"><dc:title>{HOSTILE.replace("<", "&lt;")}</dc:title>'
        "<upnp:class>object.item</upnp:class>"
        "<upnp:albumArtURI>javascript:alert(1)</upnp:albumArtURI>"
        '<res protocolInfo="http-get:*:audio/x-wav:*">javascript:alert(2)</res></item>'
    )
    markup = media_list(hostile)._repr_html_()
    parsed = assert_safe(markup)  # no javascript: URL in an href or src
    assert "<script" not in markup and HOSTILE in "".join(parsed.text)
    assert "img" not in dict(parsed.tags)


def test_no_art_column_without_art():
    markup = media_list(FOLDER)._repr_html_()
    assert "<thead><tr><th>Title</th>" in markup
    assert "<thead><tr><th></th><th>Title</th>" in media_list(TRACK)._repr_html_()
