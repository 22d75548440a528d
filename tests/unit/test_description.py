"""Unit tests for upnpy.description: device descriptions and SCPDs, bytes → frozen records.

The fixtures in data/description/ are shaped like what real devices serve (miniupnpd 2.x,
GUPnP's network light, minidlna, a UDA 1.0 router with URLBase, a WeMo-style socket); the
quirks are built from them byte by byte.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upnpy._description import MAX_DEVICE_DEPTH, parse_device, parse_scpd
from upnpy._exceptions import DescriptionError, UPnPWarning
from upnpy._records import (
    ActionInfo,
    ArgumentInfo,
    DeviceInfo,
    IconInfo,
    ScpdInfo,
    ServiceInfo,
    StateVariableInfo,
)

DATA = Path(__file__).parent / "data" / "description"

IGD_LOCATION = "http://192.168.1.1:5000/rootDesc.xml"
LIGHT_LOCATION = "http://192.168.1.30:43317/3c7a2f10-5b2e-4d8e-9f41-6a0d1e2b3c4d.xml"
DLNA_LOCATION = "http://192.168.1.10:8200/rootDesc.xml"
BOX_LOCATION = "http://192.168.1.254:1900/igd/gatedesc.xml"
WEMO_LOCATION = "http://192.168.1.40:49153/setup.xml"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def strict(func, *args):
    """Call *func* and fail on any warning: clean real-device documents must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args)


def description(device: str = "", *, head: str = "", urlbase: str = "") -> bytes:
    """A minimal root description around the *device* body."""
    base = f"<URLBase>{urlbase}</URLBase>" if urlbase else ""
    return (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
        f"{head}<specVersion><major>1</major><minor>0</minor></specVersion>{base}"
        f"<device>{device}</device></root>"
    ).encode()


def service(
    scpd: str = "/scpd.xml",
    control: str = "/ctl",
    event: str = "/evt",
    service_type: str = "urn:schemas-upnp-org:service:Dimming:1",
) -> str:
    return (
        f"<service><serviceType>{service_type}</serviceType>"
        "<serviceId>urn:upnp-org:serviceId:Dimming:1</serviceId>"
        f"<SCPDURL>{scpd}</SCPDURL><controlURL>{control}</controlURL>"
        f"<eventSubURL>{event}</eventSubURL></service>"
    )


def service_list(*services: str) -> str:
    return "<serviceList>" + "".join(services) + "</serviceList>"


def scpd_doc(actions: str = "", variables: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<actionList>{actions}</actionList>"
        f"<serviceStateTable>{variables}</serviceStateTable></scpd>"
    ).encode()


def variable(body: str, attrs: str = "") -> str:
    return f"<stateVariable{attrs}>{body}</stateVariable>"


def only_variable(body: str, attrs: str = "") -> StateVariableInfo:
    data = scpd_doc(variables=variable(body, attrs))
    variables = parse_scpd(data, "http://h/s.xml").state_variables
    assert len(variables) == 1
    return next(iter(variables.values()))


# -- miniupnpd 2.x, IGD:2 ------------------------------------------------------------------------


def test_miniupnpd_root_device_every_field():
    root = strict(parse_device, load("miniupnpd-rootDesc.xml"), IGD_LOCATION)
    assert root.device_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
    assert root.friendly_name == "OpenWrt router"
    assert root.manufacturer == "OpenWrt"
    assert root.manufacturer_url == "https://openwrt.org/"
    assert root.model_description == "OpenWrt router"
    assert root.model_name == "OpenWrt router"
    assert root.model_number == "2.3.7"
    assert root.model_url == "https://openwrt.org/"
    assert root.serial_number == "12345678"
    assert root.udn == "uuid:b0a1c2d3-0000-4000-8000-0000000000aa"
    assert root.upc is None
    assert root.presentation_url == "http://192.168.1.1/"
    assert root.icons == ()
    assert root.spec_version == (2, 0)
    assert root.base_url == IGD_LOCATION
    assert root.services == (
        ServiceInfo(
            service_type="urn:schemas-upnp-org:service:Layer3Forwarding:1",
            service_id="urn:upnp-org:serviceId:L3Forwarding1",
            scpd_url="http://192.168.1.1:5000/L3F.xml",
            control_url="http://192.168.1.1:5000/ctl/L3F",
            event_sub_url="http://192.168.1.1:5000/evt/L3F",
        ),
    )


def test_miniupnpd_embedded_tree():
    root = parse_device(load("miniupnpd-rootDesc.xml"), IGD_LOCATION)
    (wan,) = root.devices
    assert wan.device_type == "urn:schemas-upnp-org:device:WANDevice:2"
    assert wan.udn == "uuid:b0a1c2d3-0000-4000-8000-0000000000ab"
    assert wan.upc == "000000000000"
    assert wan.model_number == "20230610"
    assert wan.manufacturer_url == "http://miniupnp.free.fr/"
    assert wan.presentation_url is None
    assert wan.spec_version is None  # only the root carries specVersion
    assert wan.base_url == IGD_LOCATION
    assert [s.service_type for s in wan.services] == [
        "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
    ]
    assert wan.services[0].control_url == "http://192.168.1.1:5000/ctl/CmnIfCfg"
    (conn,) = wan.devices
    assert conn.device_type == "urn:schemas-upnp-org:device:WANConnectionDevice:2"
    assert conn.friendly_name == "WANConnectionDevice"
    assert conn.model_name == "MiniUPnPd"
    assert conn.devices == ()
    assert conn.base_url == IGD_LOCATION
    assert conn.services == (
        ServiceInfo(
            service_type="urn:schemas-upnp-org:service:WANIPConnection:2",
            service_id="urn:upnp-org:serviceId:WANIPConn1",
            scpd_url="http://192.168.1.1:5000/WANIPCn.xml",
            control_url="http://192.168.1.1:5000/ctl/IPConn",
            event_sub_url="http://192.168.1.1:5000/evt/IPConn",
        ),
    )


def test_wanipconnection2_scpd_actions():
    scpd = strict(parse_scpd, load("miniupnpd-WANIPCn.xml"), "http://192.168.1.1:5000/WANIPCn.xml")
    assert isinstance(scpd, ScpdInfo)
    assert list(scpd.actions) == [
        "GetStatusInfo",
        "GetExternalIPAddress",
        "GetGenericPortMappingEntry",
        "AddPortMapping",
        "AddAnyPortMapping",
        "DeletePortMapping",
        "GetListOfPortMappings",
        "ForceTermination",
    ]
    add = scpd.actions["AddPortMapping"]
    assert add.name == "AddPortMapping"
    assert [a.name for a in add.arguments] == [
        "NewRemoteHost",
        "NewExternalPort",
        "NewProtocol",
        "NewInternalPort",
        "NewInternalClient",
        "NewEnabled",
        "NewPortMappingDescription",
        "NewLeaseDuration",
    ]
    assert add.in_arguments == add.arguments
    assert add.out_arguments == ()
    assert add.arguments[2] == ArgumentInfo(
        name="NewProtocol",
        direction="in",
        related_state_variable="PortMappingProtocol",
        retval=False,
    )
    any_port = scpd.actions["AddAnyPortMapping"]
    assert len(any_port.in_arguments) == 8
    assert any_port.out_arguments == (ArgumentInfo("NewReservedPort", "out", "ExternalPort"),)
    entry = scpd.actions["GetGenericPortMappingEntry"]
    assert [a.name for a in entry.in_arguments] == ["NewPortMappingIndex"]
    assert len(entry.out_arguments) == 8
    assert scpd.actions["ForceTermination"] == ActionInfo("ForceTermination", ())


def test_wanipconnection2_scpd_state_variables():
    scpd = parse_scpd(load("miniupnpd-WANIPCn.xml"), "http://192.168.1.1:5000/WANIPCn.xml")
    variables = scpd.state_variables
    assert len(variables) == 16
    assert list(variables)[:3] == ["ConnectionStatus", "Uptime", "LastConnectionError"]
    assert variables["PortMappingProtocol"] == StateVariableInfo(
        name="PortMappingProtocol",
        data_type="string",
        allowed_values=("TCP", "UDP"),
        send_events=False,
    )
    lease = variables["PortMappingLeaseDuration"]
    assert (lease.data_type, lease.default_value) == ("ui4", "3600")
    assert (lease.minimum, lease.maximum, lease.step) == (0, 604800, None)
    assert type(lease.minimum) is int and type(lease.maximum) is int
    assert variables["ExternalPort"] == StateVariableInfo(
        name="ExternalPort", data_type="ui2", send_events=False
    )
    assert (variables["InternalPort"].minimum, variables["InternalPort"].maximum) == (1, 65535)
    assert variables["ExternalIPAddress"].send_events is True
    assert variables["Uptime"].send_events is False
    assert variables["ConnectionStatus"].allowed_values[-1] == "Disconnected"
    assert variables["ConnectionStatus"].default_value == "Unconfigured"
    assert variables["RemoteHost"].default_value is None
    assert not any(v.multicast for v in variables.values())


# -- GUPnP network light --------------------------------------------------------------------------


def test_gupnp_light_description():
    light = strict(parse_device, load("gupnp-light-desc.xml"), LIGHT_LOCATION)
    assert light.device_type == "urn:schemas-upnp-org:device:DimmableLight:1"
    assert light.friendly_name == "Kitchen light"
    assert light.manufacturer_url == "http://www.gupnp.org"
    assert light.model_description == "Software emulated UPnP light bulb"
    assert light.serial_number == "0.1"
    assert light.presentation_url is None  # <presentationURL/> means "none", not the base
    assert light.devices == ()
    assert light.icons == (
        IconInfo(
            "image/png", 256, 256, 32, "http://192.168.1.30:43317/pixmaps/network-light-256x256.png"
        ),
        IconInfo(
            "image/png", 22, 22, 32, "http://192.168.1.30:43317/pixmaps/network-light-22x22.png"
        ),
    )
    switch, dimming = light.services
    # both serviceIds end in ":1": nothing may key them by the text after the last colon
    assert switch.service_id == "urn:upnp-org:serviceId:SwitchPower:1"
    assert dimming.service_id == "urn:upnp-org:serviceId:Dimming:1"
    assert switch.scpd_url == "http://192.168.1.30:43317/xml/SwitchPower-scpd.xml"
    assert switch.control_url == "http://192.168.1.30:43317/SwitchPower/Control"
    assert dimming.event_sub_url == "http://192.168.1.30:43317/Dimming/Events"


def test_gupnp_switchpower_scpd():
    scpd = strict(parse_scpd, load("gupnp-SwitchPower-scpd.xml"), "http://h/SwitchPower.xml")
    assert dict(scpd.actions) == {
        "SetTarget": ActionInfo("SetTarget", (ArgumentInfo("newTargetValue", "in", "Target"),)),
        "GetTarget": ActionInfo("GetTarget", (ArgumentInfo("RetTargetValue", "out", "Target"),)),
        "GetStatus": ActionInfo("GetStatus", (ArgumentInfo("ResultStatus", "out", "Status"),)),
    }
    assert dict(scpd.state_variables) == {
        "Target": StateVariableInfo("Target", "boolean", default_value="0", send_events=False),
        "Status": StateVariableInfo("Status", "boolean", default_value="0", send_events=True),
    }


# -- minidlna -------------------------------------------------------------------------------------


def test_minidlna_media_server_with_icons():
    server = strict(parse_device, load("minidlna-rootDesc.xml"), DLNA_LOCATION)
    assert server.device_type == "urn:schemas-upnp-org:device:MediaServer:1"
    assert server.friendly_name == "nas: minidlna"
    assert server.model_name == "Windows Media Connect compatible (MiniDLNA)"
    assert server.model_url == "http://www.netgear.com"
    assert server.presentation_url == "http://192.168.1.10:8200/"
    assert server.spec_version == (1, 0)
    assert server.icons == (
        IconInfo("image/png", 48, 48, 24, "http://192.168.1.10:8200/icons/sm.png"),
        IconInfo("image/png", 120, 120, 24, "http://192.168.1.10:8200/icons/lrg.png"),
        IconInfo("image/jpeg", 48, 48, 24, "http://192.168.1.10:8200/icons/sm.jpg"),
        IconInfo("image/jpeg", 120, 120, 24, "http://192.168.1.10:8200/icons/lrg.jpg"),
    )
    assert [s.service_id for s in server.services] == [
        "urn:upnp-org:serviceId:ContentDirectory",
        "urn:upnp-org:serviceId:ConnectionManager",
        "urn:microsoft.com:serviceId:X_MS_MediaReceiverRegistrar",
    ]
    # SCPDURL comes after controlURL in minidlna's output: order must not matter
    assert server.services[0].scpd_url == "http://192.168.1.10:8200/ContentDir.xml"
    assert server.services[2].control_url == (
        "http://192.168.1.10:8200/ctl/X_MS_MediaReceiverRegistrar"
    )


# -- URL resolution -------------------------------------------------------------------------------


def test_urlbase_with_a_path():
    root = parse_device(load("urlbase-igd1.xml"), BOX_LOCATION)
    base = "http://192.168.1.254:49152/upnp/"
    assert root.base_url == base  # stripped of the surrounding whitespace and newlines
    (l3f,) = root.services
    assert l3f.scpd_url == base + "_urn:schemas-upnp-org:service:Layer3Forwarding_1_scpd.xml"
    assert l3f.control_url == "http://192.168.1.254:49152/UD/?10"  # query string kept
    assert l3f.event_sub_url == ""  # empty stays empty, never the base
    wan, wfa = root.devices
    assert wan.base_url == wan.devices[0].base_url == wfa.base_url == base
    (ip,) = wan.devices[0].services
    assert ip.scpd_url == "http://192.168.1.254:5431/dyndev/WANIPConnection.xml"  # absolute
    assert ip.control_url == "http://192.168.1.254:49152/UD/?3"  # whitespace around it
    assert ip.event_sub_url == "http://192.168.1.254:49152/UD/?3&event"
    (wps,) = wfa.services
    assert wps.scpd_url == base + "49152wps_scpd.xml"  # not a scheme, not concatenated
    assert wps.control_url == base + "wps_control"
    assert wps.event_sub_url == base + "wps_event"
    assert root.presentation_url == "http://192.168.1.254:49152/"


def test_without_urlbase_the_location_is_the_base():
    data = load("urlbase-igd1.xml")
    start, end = data.index(b"<URLBase>"), data.index(b"</URLBase>") + len(b"</URLBase>")
    root = parse_device(data[:start] + data[end:], BOX_LOCATION)
    assert root.base_url == BOX_LOCATION
    assert root.services[0].control_url == "http://192.168.1.254:1900/UD/?10"
    assert root.devices[1].services[0].scpd_url == "http://192.168.1.254:1900/igd/49152wps_scpd.xml"
    assert root.devices[0].base_url == BOX_LOCATION


def test_url_oddities_in_the_urlbase_fixture():
    root = parse_device(load("urlbase-igd1.xml"), BOX_LOCATION)
    assert root.manufacturer_url == "http://www.sagemcom.com"  # scheme-less www. name
    assert root.model_url == "http://www.sagemcom.com/fast%205366"  # space inside the URL
    # width "48px", empty height, depth "-8": None, never a crash; the icon without url is dropped
    assert root.icons == (
        IconInfo("jpg", None, None, None, "http://192.168.1.254:49152/upnp/icons/box%20icon.png"),
    )
    # optional elements that are absent
    assert (root.model_description, root.model_number, root.serial_number, root.upc) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "written, expected",
    [
        ("www.example.com", "http://www.example.com"),
        ("WWW.Example.com:8080/x", "http://WWW.Example.com:8080/x"),
        ("example.com", "http://10.0.0.2/dev/example.com"),  # a relative path, as RFC 3986 says
        ("https://example.com/", "https://example.com/"),
        ("", None),
    ],
)
def test_manufacturer_and_model_urls(written, expected):
    data = description(
        f"<manufacturerURL>{written}</manufacturerURL><modelURL>{written}</modelURL>"
    )
    device = parse_device(data, "http://10.0.0.2/dev/d.xml")
    assert device.manufacturer_url == device.model_url == expected


@pytest.mark.parametrize("urlbase", ["", "   ", "\r\n"])
def test_empty_urlbase_falls_back_to_the_location(urlbase):
    data = description(service_list(service()), head=f"<URLBase>{urlbase}</URLBase>")
    root = parse_device(data, "http://10.0.0.2:80/dev/desc.xml")
    assert root.base_url == "http://10.0.0.2:80/dev/desc.xml"
    assert root.services[0].scpd_url == "http://10.0.0.2:80/scpd.xml"


def test_relative_urlbase_is_resolved_against_the_location():
    data = description(service_list(service(scpd="s.xml")), urlbase="/base/")
    root = parse_device(data, "http://10.0.0.2:80/d.xml")
    assert root.base_url == "http://10.0.0.2:80/base/"
    assert root.services[0].scpd_url == "http://10.0.0.2:80/base/s.xml"


@pytest.mark.parametrize(
    "written, expected",
    [
        ("scpd.xml", "http://10.0.0.2:80/dev/scpd.xml"),
        ("/scpd.xml", "http://10.0.0.2:80/scpd.xml"),
        ("../x/scpd.xml", "http://10.0.0.2:80/x/scpd.xml"),
        ("http://10.0.0.9:8080/other.xml", "http://10.0.0.9:8080/other.xml"),
        ("/UD/?10", "http://10.0.0.2:80/UD/?10"),
        ("?q=1", "http://10.0.0.2:80/dev/desc.xml?q=1"),
        ("  /a b/c d.xml\r\n", "http://10.0.0.2:80/a%20b/c%20d.xml"),
        ("//10.0.0.3/x.xml", "http://10.0.0.3/x.xml"),
        (
            "_urn:schemas-upnp-org:service:Dimming_1.xml",
            "http://10.0.0.2:80/dev/_urn:schemas-upnp-org:service:Dimming_1.xml",
        ),
        ("", ""),
        ("   ", ""),
    ],
)
def test_service_url_resolution(written, expected):
    root = parse_device(
        description(service_list(service(scpd=written, control=written, event=written))),
        "http://10.0.0.2:80/dev/desc.xml",
    )
    (svc,) = root.services
    assert svc.scpd_url == svc.control_url == svc.event_sub_url == expected


@pytest.mark.parametrize(
    "written",
    [
        "/ctl\r\nX-Injected: hx",  # was joined into the path: POST /ctlX-Injected:%20hx
        "/split\r\n/path.xml",
        "/a\rb",
        "/tab\there",
        "/del\x7f",
    ],
)
def test_a_url_with_a_control_character_inside_is_refused_with_a_warning(written):
    xml = description(service_list(service(scpd=written, control=written, event=written)))
    with pytest.warns(UPnPWarning, match="control character"):
        root = parse_device(xml, "http://10.0.0.2:80/dev/desc.xml")
    (svc,) = root.services
    assert svc.scpd_url == svc.control_url == svc.event_sub_url == ""


def test_missing_service_urls_are_empty():
    data = description(
        "<serviceList><service><serviceType>urn:x:service:Y:1</serviceType></service></serviceList>"
    )
    assert parse_device(data, "http://h/d.xml").services == (
        ServiceInfo("urn:x:service:Y:1", "", "", "", ""),
    )


def test_ipv6_location_and_bad_urls():
    root = parse_device(description(service_list(service())), "http://[fe80::1%25eth0]:5000/d.xml")
    assert root.services[0].scpd_url == "http://[fe80::1%25eth0]:5000/scpd.xml"
    with pytest.warns(UPnPWarning, match="cannot resolve"):
        root = parse_device(
            description(service_list(service(scpd="http://[::1/x.xml"))), "http://h/d.xml"
        )
    assert root.services[0].scpd_url == "http://[::1/x.xml"


# -- tolerated shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("<specVersion><major>1</major><minor>1</minor></specVersion>", (1, 1)),
        ("<specVersion><major> 2 </major><minor>0</minor></specVersion>", (2, 0)),
        ("", None),
        ("<specVersion/>", None),
        ("<specVersion><major>1</major></specVersion>", None),
        ("<specVersion><major>one</major><minor>0</minor></specVersion>", None),
        ("<specVersion><major>-1</major><minor>0</minor></specVersion>", None),
        ("<specVersion><major>1.0</major><minor>0</minor></specVersion>", None),
        ("<specVersion>1.0</specVersion>", None),
    ],
)
def test_spec_version(spec, expected):
    data = (
        f'<root xmlns="urn:schemas-upnp-org:device-1-0">{spec}'
        "<device><UDN>uuid:x</UDN></device></root>"
    ).encode()
    assert parse_device(data, "http://h/").spec_version == expected


def test_missing_required_fields_are_empty_strings():
    data = b"<root><device><serviceList/><iconList/></device></root>"
    device = strict(parse_device, data, "http://h/")
    assert device == DeviceInfo(
        device_type="",
        friendly_name="",
        manufacturer="",
        model_name="",
        udn="",
        base_url="http://h/",
    )


def test_service_without_service_type_is_skipped_with_a_warning():
    data = description(
        "<friendlyName>Box</friendlyName><serviceList>"
        + service(service_type="")
        + "<service><serviceId>urn:upnp-org:serviceId:X</serviceId></service>"
        + service()
        + "</serviceList>"
    )
    with pytest.warns(UPnPWarning, match="Box with no serviceType") as record:
        root = parse_device(data, "http://h/d.xml")
    assert len(record) == 2
    assert [s.service_type for s in root.services] == ["urn:schemas-upnp-org:service:Dimming:1"]


def test_empty_embedded_device_is_skipped_with_a_warning():
    data = description("<deviceList><device/><device><UDN>uuid:child</UDN></device></deviceList>")
    with pytest.warns(UPnPWarning, match="empty embedded"):
        root = parse_device(data, "http://h/d.xml")
    assert [d.udn for d in root.devices] == ["uuid:child"]


def test_embedded_devices_keep_document_order_across_lists():
    children_xml = "".join(f"<device><UDN>uuid:{i}</UDN></device>" for i in range(5))
    data = description(
        f"<deviceList>{children_xml}</deviceList><deviceList>"
        "<device><UDN>uuid:5</UDN></device></deviceList>"
    )
    assert [d.udn for d in parse_device(data, "http://h/").devices] == [
        f"uuid:{i}" for i in range(6)
    ]


def test_odd_values_inside_fields_never_crash():
    data = description(
        "<deviceType><b>nested</b></deviceType><friendlyName a='1'>Attr</friendlyName>"
        "<UDN>uuid:1</UDN><UDN>uuid:2</UDN><iconList>text</iconList><serviceList>text</serviceList>"
        "<deviceList>text</deviceList><modelNumber/>"
    )
    device = strict(parse_device, data, "http://h/")
    assert (device.device_type, device.friendly_name, device.udn) == ("", "Attr", "uuid:1")
    assert (device.icons, device.services, device.devices) == ((), (), ())
    assert device.model_number is None


def test_wemo_bom_crlf_nul_and_foreign_root_namespace():
    root = strict(parse_device, load("wemo-bom-crlf-nul.xml"), WEMO_LOCATION)
    assert root.device_type == "urn:Belkin:device:controllee:1"
    assert root.friendly_name == "Desk Lamp"
    assert root.udn == "uuid:Socket-1_0-221517K0101769"
    assert root.upc == "123456789"  # kept as written, not "fixed"
    assert root.icons == (IconInfo("jpg", 100, 100, 100, "http://192.168.1.40:49153/icon.jpg"),)
    assert root.services[0].scpd_url == "http://192.168.1.40:49153/eventservice.xml"
    assert root.presentation_url == "http://192.168.1.40:49153/pluginpres.html"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: b"\xef\xbb\xbf" + d,
        lambda d: d + b"\x00",
        lambda d: d.replace(b"><", b">\x00<", 3),
        lambda d: d + b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        lambda d: d + b"<garbage",
        lambda d: b"HTTP/1.1 200 OK\r\n\r\n" + d,
        lambda d: d.replace(b"<root", b'<?xml version="1.0"?>\n<root', 1),
        lambda d: d.replace(b"\n", b"\r\n"),
        lambda d: d.replace(
            b'xmlns="urn:schemas-upnp-org:device-1-0"', b'xmlns="urn:example:made-up"'
        ),
        lambda d: d.replace(b'xmlns="urn:schemas-upnp-org:device-1-0"', b""),
        lambda d: (
            d.replace(b"<", b"<d:")
            .replace(b"<d:/", b"</d:")
            .replace(b"<d:?", b"<?")
            .replace(b'xmlns="urn', b'xmlns:d="urn')
        ),
    ],
    ids=[
        "bom",
        "trailing-nul",
        "inner-nuls",
        "http-after",
        "junk-after",
        "http-before",
        "two-declarations",
        "crlf",
        "made-up-namespace",
        "no-namespace",
        "prefixed",
    ],
)
def test_garbage_around_a_description_is_ignored(mutate):
    clean = parse_device(load("miniupnpd-rootDesc.xml"), IGD_LOCATION)
    assert parse_device(mutate(load("miniupnpd-rootDesc.xml")), IGD_LOCATION) == clean


# -- encodings ------------------------------------------------------------------------------------


def test_iso_8859_1_declared_in_the_xml_declaration():
    data = load("latin1-renderer.xml")
    assert "é".encode("latin-1") in data and "é".encode() not in data  # really Latin-1 bytes
    root = strict(parse_device, data, "http://h/")
    assert root.friendly_name == "Télévision du séjour"
    assert root.manufacturer == "Société Générique"


def test_windows_1252_declared():
    data = (
        '<?xml version="1.0" encoding="windows-1252"?>'
        "<root><device><friendlyName>Caf\u00e9 \u20ac</friendlyName></device></root>"
    )
    assert parse_device(data.encode("cp1252"), "http://h/").friendly_name == "Café €"


def test_undeclared_latin1_is_read_with_a_warning():
    data = load("latin1-renderer.xml").replace(b' encoding="ISO-8859-1"', b"")
    with pytest.warns(UPnPWarning, match="ISO-8859-1"):
        root = parse_device(data, "http://h/")
    assert root.friendly_name == "Télévision du séjour"


def test_utf16_with_bom():
    text = (
        load("gupnp-light-desc.xml")
        .decode()
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
        .replace("Kitchen light", "Küche")
    )
    for codec in ("utf-16", "utf-16-be"):
        data = text.encode(codec)
        if codec == "utf-16-be":
            data = b"\xfe\xff" + data
        assert parse_device(data, LIGHT_LOCATION).friendly_name == "Küche"


def test_utf8_is_the_default():
    data = "<root><device><friendlyName>Wohnzimmer – Küche</friendlyName></device></root>"
    assert parse_device(data.encode(), "http://h/").friendly_name == "Wohnzimmer – Küche"


@pytest.mark.parametrize("encoding", ["bogus-encoding", "utf-32"])
def test_unknown_encoding_is_a_description_error(encoding):
    data = f'<?xml version="1.0" encoding="{encoding}"?><root><device/></root>'.encode()
    with pytest.raises(DescriptionError):
        parse_device(data, "http://h/")


# -- not a description ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "http://h/d.xml"),
        (b"   \r\n", "malformed"),
        (b"not xml at all", "malformed"),
        (b'{"json": true}', "malformed"),
        (b"<html><body><h1>404 Not Found</h1></body></html>", "found <html>"),
        (b"<scpd><actionList/></scpd>", "found <scpd>"),
        (b"<root/>", "no <device>"),
        (b"<root>text</root>", "no <device>"),
        (b"<root><device>text</device></root>", "no <device>"),
        (b"<root><specVersion/></root>", "no <device>"),
        (b"<root><device>", "malformed"),
        (b"<root><device></root>", "malformed"),
        (b"<ro ot>", "malformed"),
    ],
)
def test_not_a_device_description(data, match):
    with pytest.raises(DescriptionError, match=match) as info:
        parse_device(data, "http://h/d.xml")
    assert info.value.url == "http://h/d.xml"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE root [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<root><device><friendlyName>&lol2;</friendlyName></device></root>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<root><device><friendlyName>&xxe;</friendlyName></device></root>"""


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        XXE,
        b'<!doctype root SYSTEM "x.dtd"><root/>',
        b"<root><device><friendlyName>&undefined;</friendlyName></device></root>",
    ],
)
def test_dtds_and_entities_are_refused(data):
    with pytest.raises(DescriptionError):
        parse_device(data, "http://h/")
    with pytest.raises(DescriptionError):
        parse_scpd(data.replace(b"root", b"scpd"), "http://h/")


def nested_devices(levels: int) -> bytes:
    """A root device with *levels* levels of embedded devices below it."""
    inner = ""
    for level in range(levels, 0, -1):
        inner = f"<deviceList><device><UDN>uuid:{level}</UDN>{inner}</device></deviceList>"
    return description(f"<UDN>uuid:0</UDN>{inner}")


def test_deep_but_allowed_nesting():
    device = parse_device(nested_devices(MAX_DEVICE_DEPTH), "http://h/")
    depth = 0
    while device.devices:
        (device,) = device.devices
        depth += 1
    assert depth == MAX_DEVICE_DEPTH == 16
    assert device.udn == f"uuid:{MAX_DEVICE_DEPTH}"


@pytest.mark.parametrize("levels", [MAX_DEVICE_DEPTH + 1, 200])
def test_too_deep_device_nesting_is_refused(levels):
    with pytest.raises(DescriptionError, match="nested more than 16"):
        parse_device(nested_devices(levels), "http://h/")


def test_hostile_element_nesting_is_a_description_error():
    deep = b"<x>" * 20000 + b"</x>" * 20000
    with pytest.raises(DescriptionError):
        parse_device(b"<root><device>" + deep + b"</device></root>", "http://h/")
    with pytest.raises(DescriptionError):
        parse_scpd(b"<scpd>" + deep + b"</scpd>", "http://h/")


# -- SCPD quirks ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quirky():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scpd = parse_scpd(load("quirky-scpd.xml"), "http://h/RenderingControl.xml")
    return scpd, [str(w.message) for w in caught if issubclass(w.category, UPnPWarning)]


def test_quirky_scpd_warns_once_per_tolerated_problem(quirky):
    _, messages = quirky
    assert len(messages) == 6, messages
    assert all(m.endswith("(http://h/RenderingControl.xml)") for m in messages)
    expected = [
        "direction 'inout'",
        "argument with no name",
        "minimum 100 > maximum 0",
        "'yesterday' is not a number",
        "sendEvents='maybe'",
        "unknown dataType 'x-vendor-blob'",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), fragment


def test_quirky_scpd_arguments(quirky):
    scpd, _ = quirky
    assert list(scpd.actions) == ["SetVolume", "GetVolume", "X_Ping"]  # " SetVolume\r\n" trimmed
    assert scpd.actions["SetVolume"].arguments == (
        ArgumentInfo("InstanceID", "in", "A_ARG_TYPE_InstanceID"),  # " IN ", CRLF in the name
        ArgumentInfo("Channel", "in", "A_ARG_TYPE_Channel"),  # INOUT read as in
        ArgumentInfo("DesiredVolume", "in", "Volume"),  # the nameless argument is gone
    )
    assert scpd.actions["GetVolume"].arguments == (
        ArgumentInfo("InstanceID", "in", "A_ARG_TYPE_InstanceID"),
        ArgumentInfo("CurrentVolume", "out", "Volume", retval=True),  # "Out", <retval/>
        ArgumentInfo("Extra", "out", ""),  # no relatedStateVariable
    )
    assert scpd.actions["X_Ping"].arguments == ()


def test_quirky_scpd_state_variables(quirky):
    variables = quirky[0].state_variables
    assert list(variables) == [
        "A_ARG_TYPE_InstanceID",
        "A_ARG_TYPE_Channel",
        "Volume",
        "Brightness",
        "LastChange",
        "X_Vendor",
    ]
    assert variables["A_ARG_TYPE_InstanceID"] == StateVariableInfo(
        "A_ARG_TYPE_InstanceID", "ui4", send_events=False
    )
    assert variables["A_ARG_TYPE_Channel"] == StateVariableInfo(
        "A_ARG_TYPE_Channel",
        "string",
        default_value="Master",
        allowed_values=("Master", "LF", "RF"),
        send_events=False,
        multicast=True,
    )
    volume = variables["Volume"]
    assert (volume.minimum, volume.maximum, volume.step) == (0, 100, 1)  # swapped
    assert volume.send_events is False  # from <sendEventsAttribute>
    assert volume.default_value == "20"
    brightness = variables["Brightness"]
    assert brightness.data_type == "r4"
    assert (brightness.minimum, brightness.maximum, brightness.step) == (-1.5, 100.0, 0.5)
    assert type(brightness.maximum) is float  # "1e2" is not integral text
    last = variables["LastChange"]
    assert last.data_type == "dateTime.tz"
    assert (last.minimum, last.maximum) == (None, None)
    assert last.send_events is True
    assert variables["X_Vendor"].data_type == "x-vendor-blob"  # kept; datatypes treats it as string
    assert variables["X_Vendor"].send_events is True  # the default


@pytest.mark.parametrize(
    "written, expected",
    [
        ("Boolean", "boolean"),
        ("  UI2\r\n", "ui2"),
        ("STRING", "string"),
        ("bin.BASE64", "bin.base64"),
        ("datetime", "dateTime"),
        ("Fixed.14.4", "fixed.14.4"),
        ("uuid", "uuid"),
    ],
)
def test_data_type_spelling(written, expected):
    var = strict(only_variable, f"<name>V</name><dataType>{written}</dataType>")
    assert var.data_type == expected


def test_missing_data_type_is_string_with_a_warning():
    with pytest.warns(UPnPWarning, match="no dataType"):
        var = only_variable("<name>V</name>")
    assert var.data_type == "string"


@pytest.mark.parametrize(
    "bounds, expected, warns",
    [
        ("<minimum>0</minimum><maximum>255</maximum>", (0, 255, None), False),
        ("<minimum>+5</minimum><maximum>-0</maximum>", (0, 5, None), True),  # inverted
        ("<minimum>7</minimum><maximum>7</maximum>", (7, 7, None), False),
        ("<minimum>0.0</minimum><maximum>1</maximum><step>.25</step>", (0.0, 1, 0.25), False),
        ("<minimum> 1 </minimum>", (1, None, None), False),
        ("<maximum/>", (None, None, None), False),
        ("", (None, None, None), False),
        ("<minimum>1_000</minimum>", (None, None, None), True),
        ("<minimum>nan</minimum>", (None, None, None), True),
        ("<minimum>-inf</minimum>", (None, None, None), True),
        ("<minimum>1e999</minimum>", (None, None, None), True),
        ("<minimum>0x10</minimum>", (None, None, None), True),
        ("<minimum>" + "9" * 5000 + "</minimum>", (None, None, None), True),
        ("<step>0</step>", (None, None, None), True),
        ("<step>-1</step>", (None, None, None), True),
    ],
)
def test_allowed_value_range(bounds, expected, warns):
    body = f"<name>V</name><dataType>r8</dataType><allowedValueRange>{bounds}</allowedValueRange>"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        var = only_variable(body)
    assert (var.minimum, var.maximum, var.step) == expected
    assert [type(x) for x in (var.minimum, var.maximum, var.step)] == [type(x) for x in expected]
    assert bool(caught) is warns
    assert all(issubclass(w.category, UPnPWarning) for w in caught)


@pytest.mark.parametrize(
    "values, expected",
    [
        ("<allowedValue>A</allowedValue>", ("A",)),
        ("<allowedValue> A </allowedValue><allowedValue>B\r\n</allowedValue>", ("A", "B")),
        ("<allowedValue/><allowedValue>X</allowedValue>", ("", "X")),
        ("<allowedValue/>", ("",)),
        ("<allowedValue></allowedValue>", ("",)),
        ("", None),
    ],
)
def test_allowed_value_list(values, expected):
    var = only_variable(
        f"<name>V</name><dataType>string</dataType><allowedValueList>{values}</allowedValueList>"
    )
    assert var.allowed_values == expected


@pytest.mark.parametrize(
    "attrs, child, send_events, multicast",
    [
        ("", "", True, False),
        (' sendEvents="no"', "", False, False),
        (' sendEvents=" YES "', "", True, False),
        (' sendEvents="0" multicast="1"', "", False, True),
        (' multicast="no"', "", True, False),
        ("", "<sendEventsAttribute>no</sendEventsAttribute>", False, False),
        (' sendEvents="yes"', "<sendEventsAttribute>no</sendEventsAttribute>", True, False),
        (' xmlns:x="urn:x" x:sendEvents="no"', "", False, False),
    ],
)
def test_send_events_and_multicast(attrs, child, send_events, multicast):
    var = strict(only_variable, f"<name>V</name>{child}<dataType>string</dataType>", attrs)
    assert (var.send_events, var.multicast) == (send_events, multicast)


def test_default_value():
    assert only_variable("<name>V</name><dataType>string</dataType>").default_value is None
    empty = only_variable("<name>V</name><dataType>string</dataType><defaultValue/>")
    assert empty.default_value == ""
    assert (
        only_variable(
            "<name>V</name><dataType>ui1</dataType><defaultValue> 3 </defaultValue>"
        ).default_value
        == "3"
    )


def test_missing_state_table_and_empty_lists():
    data = (
        b'<scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList><action><name>Ping</name>'
        b"</action></actionList></scpd>"
    )
    scpd = strict(parse_scpd, data, "http://h/")
    assert dict(scpd.actions) == {"Ping": ActionInfo("Ping")}
    assert dict(scpd.state_variables) == {}
    assert isinstance(scpd.state_variables, MappingProxyType)


@pytest.mark.parametrize(
    "data",
    [
        b"<scpd/>",
        b'<scpd xmlns="urn:schemas-upnp-org:service-1-0"></scpd>',
        scpd_doc(),
        b"<scpd><specVersion><major>1</major></specVersion><actionList/></scpd>",
        b"<scpd>text</scpd>",
    ],
)
def test_empty_scpd_is_empty(data):
    scpd = strict(parse_scpd, data, "http://h/")
    assert dict(scpd.actions) == {} and dict(scpd.state_variables) == {}


@pytest.mark.parametrize("data", [b"", b"\x00\x00", b"\xef\xbb\xbf", b"   "])
def test_empty_scpd_document_is_an_error(data):
    with pytest.raises(DescriptionError):
        parse_scpd(data, "http://h/s.xml")


def test_scpd_url_returning_the_device_description():
    with pytest.raises(DescriptionError, match="device description, not an SCPD") as info:
        parse_scpd(load("gupnp-light-desc.xml"), "http://h/")
    assert info.value.url == "http://h/"


@pytest.mark.parametrize(
    "data, match",
    [
        (b"<html><body>Not Found</body></html>", "found <html>"),
        (b"<scpd><actionList>", "malformed"),
    ],
)
def test_not_an_scpd(data, match):
    with pytest.raises(DescriptionError, match=match):
        parse_scpd(data, "http://h/")


def test_nameless_and_duplicate_entries():
    data = scpd_doc(
        actions="<action/><action><argumentList/></action><action><name>A</name></action>"
        "<action><name>A</name><argumentList><argument><name>x</name>"
        "<direction>in</direction></argument></argumentList></action>",
        variables=variable("<dataType>ui1</dataType>")
        + variable("<name>V</name><dataType>ui1</dataType>")
        + variable("<name>V</name><dataType>string</dataType>")
        + "<stateVariable/>",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scpd = parse_scpd(data, "http://h/")
    assert dict(scpd.actions) == {"A": ActionInfo("A")}  # the first A is kept
    assert dict(scpd.state_variables) == {"V": StateVariableInfo("V", "ui1")}
    messages = " | ".join(str(w.message) for w in caught)
    assert messages.count("action with no name") == 2
    assert messages.count("state variable with no name") == 2
    assert "duplicate action A" in messages and "duplicate state variable V" in messages


def test_whitespace_inside_names_is_dropped():
    """UPnP names cannot hold whitespace; a line break inside one is an editor's wrap."""
    data = scpd_doc(
        actions="<action><name>Get\r\nVolume</name><argumentList><argument><name>Current Volume"
        "</name><direction>out</direction><relatedStateVariable>A_ARG_TYPE_\r\n  Volume"
        "</relatedStateVariable></argument></argumentList></action>",
        variables=variable("<name>\tA_ARG_TYPE_\n Volume </name><dataType>ui2</dataType>"),
    )
    scpd = strict(parse_scpd, data, "http://h/")
    assert scpd.actions["GetVolume"].arguments == (
        ArgumentInfo("CurrentVolume", "out", "A_ARG_TYPE_Volume"),
    )
    assert list(scpd.state_variables) == ["A_ARG_TYPE_Volume"]


@pytest.mark.parametrize("direction", ["", "inout", "both", "<b>in</b>"])
def test_unknown_or_missing_direction_is_in(direction):
    data = scpd_doc(
        actions="<action><name>A</name><argumentList><argument><name>x</name>"
        f"<direction>{direction}</direction>"
        "</argument></argumentList></action>"
    )
    with pytest.warns(UPnPWarning, match="treated as 'in'"):
        scpd = parse_scpd(data, "http://h/")
    assert scpd.actions["A"].arguments == (ArgumentInfo("x", "in", ""),)


def test_warnings_point_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parse_scpd(load("quirky-scpd.xml"), "http://h/")
    assert caught and {Path(w.filename).name for w in caught} == {Path(__file__).name}


# -- the records are immutable --------------------------------------------------------------------


def test_device_records_are_frozen():
    root = parse_device(load("gupnp-light-desc.xml"), LIGHT_LOCATION)
    with pytest.raises(dataclasses.FrozenInstanceError):
        root.friendly_name = "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        root.services[0].control_url = "http://evil/"
    with pytest.raises(dataclasses.FrozenInstanceError):
        root.icons[0].width = 1
    assert isinstance(root.services, tuple) and isinstance(root.icons, tuple)
    assert isinstance(root.devices, tuple)
    hash(root)  # frozen and made of tuples: hashable


def test_scpd_records_are_read_only():
    scpd = parse_scpd(load("gupnp-SwitchPower-scpd.xml"), "http://h/")
    assert isinstance(scpd.actions, MappingProxyType)
    assert isinstance(scpd.state_variables, MappingProxyType)
    with pytest.raises(TypeError):
        scpd.actions["Evil"] = ActionInfo("Evil")  # type: ignore[index]
    with pytest.raises(TypeError):
        scpd.state_variables["Target"] = None  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scpd.actions = MappingProxyType({})  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        scpd.actions["GetStatus"].arguments[0].direction = "in"
    with pytest.raises(dataclasses.FrozenInstanceError):
        scpd.state_variables["Status"].data_type = "string"
    assert isinstance(scpd.actions["GetStatus"].arguments, tuple)


def test_lab_captures_parse_cleanly():
    """The descriptions captured from the real lab daemons parse without a warning."""
    lab = Path(__file__).parent / "data" / "lab"
    for path in sorted(lab.glob("*-root.xml")):
        assert strict(parse_device, path.read_bytes(), "http://10.77.0.2:5000/rootDesc.xml").udn
    for path in sorted(set(lab.glob("*.xml")) - set(lab.glob("*-root.xml"))):
        assert strict(parse_scpd, path.read_bytes(), "http://10.77.0.2:5000/x.xml").actions


# -- fuzzing: nothing but DescriptionError escapes ------------------------------------------------

DEVICE_TAGS = [
    "root",
    "device",
    "deviceList",
    "serviceList",
    "service",
    "iconList",
    "icon",
    "specVersion",
    "major",
    "minor",
    "URLBase",
    "deviceType",
    "friendlyName",
    "UDN",
    "SCPDURL",
    "controlURL",
    "eventSubURL",
    "url",
    "width",
    "presentationURL",
    "serviceType",
    "modelURL",
]
SCPD_TAGS = [
    "scpd",
    "actionList",
    "action",
    "name",
    "argumentList",
    "argument",
    "direction",
    "relatedStateVariable",
    "retval",
    "serviceStateTable",
    "stateVariable",
    "dataType",
    "defaultValue",
    "allowedValueList",
    "allowedValue",
    "allowedValueRange",
    "minimum",
    "maximum",
    "step",
    "sendEventsAttribute",
]
TEXTS = st.sampled_from(
    [
        "",
        " ",
        "x",
        "1",
        "-1",
        "1e999",
        "ui4",
        "in",
        "out",
        "/a",
        "http://[::1",
        "http://h:99/x?y",
        "no",
        "é",
        "&amp;",
        "99999999999999999999",
    ]
)


def xml_trees(tags):
    attrs = st.sampled_from(
        ["", ' sendEvents="no"', ' multicast="maybe"', ' xmlns="urn:x"', ' a:b="1" xmlns:a="urn:a"']
    )
    leaf = TEXTS

    def element(kids):
        return st.tuples(st.sampled_from(tags), attrs, kids).map(
            lambda t: f"<{t[0]}{t[1]}>{t[2]}</{t[0]}>"
        )

    return st.recursive(
        leaf, lambda inner: element(st.lists(inner, max_size=4).map("".join)), max_leaves=40
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=xml_trees(DEVICE_TAGS))
def test_fuzzed_device_descriptions(body):
    data = f"<root><device>{body}</device></root>".encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UPnPWarning)
        try:
            result = parse_device(data, "http://h/d.xml")
        except DescriptionError:
            return
    assert isinstance(result, DeviceInfo)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=xml_trees(SCPD_TAGS))
def test_fuzzed_scpds(body):
    data = f"<scpd>{body}</scpd>".encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UPnPWarning)
        try:
            result = parse_scpd(data, "http://h/s.xml")
        except DescriptionError:
            return
    assert isinstance(result, ScpdInfo)
    for var in result.state_variables.values():
        if var.minimum is not None and var.maximum is not None:
            assert var.minimum <= var.maximum


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_truncated_and_corrupted_fixtures(data):
    name = data.draw(
        st.sampled_from(
            [
                "miniupnpd-rootDesc.xml",
                "minidlna-rootDesc.xml",
                "miniupnpd-WANIPCn.xml",
                "quirky-scpd.xml",
            ]
        )
    )
    raw = load(name)
    cut = data.draw(st.integers(0, len(raw)))
    junk = data.draw(st.binary(max_size=8))
    corrupted = raw[:cut] + junk + raw[cut + data.draw(st.integers(0, 20)) :]
    parse = parse_scpd if "scpd" in name or "WANIPCn" in name else parse_device
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UPnPWarning)
        try:
            parse(corrupted, "http://h/")
        except DescriptionError:
            pass


@pytest.mark.parametrize(
    "written, read",
    [
        ("48", 48),
        ("048", 48),
        ("123456789", 123456789),
        ("1234567890", None),  # over nine digits
        ("-1", None),
        ("+4", None),
        ("4.5", None),
        ("0x30", None),
        ("\u0664\u0668", None),  # digits, but not ASCII ones
        ("\uff14\uff18", None),
        ("", None),
    ],
)
def test_an_icon_size_is_one_to_nine_ascii_digits(written: str, read: object) -> None:
    data = (
        '<root xmlns="urn:schemas-upnp-org:device-1-0"><device>'
        "<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType><UDN>uuid:i</UDN>"
        f"<iconList><icon><mimetype>image/png</mimetype><width>{written}</width>"
        "<height>1</height><depth>8</depth><url>/i.png</url></icon></iconList>"
        "</device></root>"
    ).encode()
    (icon,) = parse_device(data, "http://127.0.0.1:1/d.xml").icons
    assert (icon.width, icon.height, icon.url) == (read, 1, "http://127.0.0.1:1/i.png")
