"""upnpy.Gateway against a loopback gateway serving the lab's miniupnpd documents
(tests/fakes.py): defaults, the 718/725 fallbacks, listing, forward() and its renewal.
The real gateway, end to end, is in tests/interop/test_forwarding.py."""

import datetime
import threading
import xml.etree.ElementTree as ET
from typing import Dict, List

import pytest
from fakes import GATEWAY_FILES, LAB_DATA, FakeDevice, lab_documents, soap_fault, soap_response

import upnpy
from upnpy import _gateway

WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
CTL = "/ctl/IPConn"


def sent(request) -> Dict[str, str]:
    """The arguments of a recorded SOAP request, by name."""
    body = ET.fromstring(request.body)[0][0]
    return {child.tag: child.text or "" for child in body}


def action_of(request) -> str:
    return request.headers["SOAPAction"].strip('"').rpartition("#")[2]


@pytest.fixture
def fake():
    device = FakeDevice(lab_documents(GATEWAY_FILES))
    device.answer(CTL, WANIP2, "GetExternalIPAddress", [("NewExternalIPAddress", "11.22.33.44")])
    device.answer(CTL, WANIP2, "AddPortMapping")
    device.answer(CTL, WANIP2, "DeletePortMapping")
    device.answer(
        CTL,
        WANIP2,
        "GetStatusInfo",
        [("NewConnectionStatus", "Connected"), ("NewLastConnectionError", "ERROR_NONE"),
         ("NewUptime", "42")],
    )  # fmt: skip
    yield device
    device.close()


@pytest.fixture
def gateway(fake):
    with upnpy.Gateway(upnpy.Device(fake.url + "/rootDesc.xml", timeout=5)) as gw:
        yield gw


def calls(fake, action: str) -> List[Dict[str, str]]:
    return [sent(r) for r in fake.posts(CTL) if action_of(r) == action]


def test_the_connection_service_and_what_it_reports(gateway):
    assert gateway.connection.service_type == WANIP2
    assert gateway.external_ip == "11.22.33.44"
    assert gateway.local_address == "127.0.0.1"  # the address that reaches the gateway
    status = gateway.status
    assert (status.connected, status.uptime, status.external_ip) == (True, 42, "11.22.33.44")


def test_add_port_mapping_defaults(fake, gateway):
    mapping = gateway.add_port_mapping(8080)
    assert calls(fake, "AddPortMapping") == [
        {
            "NewRemoteHost": "",
            "NewExternalPort": "8080",
            "NewProtocol": "TCP",
            "NewInternalPort": "8080",
            "NewInternalClient": "127.0.0.1",
            "NewEnabled": "1",
            "NewPortMappingDescription": "upnpy",
            "NewLeaseDuration": "3600",
        }
    ]
    assert mapping.external_address == ("11.22.33.44", 8080)
    assert (mapping.internal_client, mapping.internal_port, mapping.lease) == (
        "127.0.0.1",
        8080,
        3600,
    )


def test_a_lease_of_a_day_is_86400_seconds_never_0(fake, gateway):
    gateway.add_port_mapping(8080, "udp", lease=datetime.timedelta(days=1))
    (call,) = calls(fake, "AddPortMapping")
    assert (call["NewLeaseDuration"], call["NewProtocol"]) == ("86400", "UDP")


def test_a_taken_port_gets_another_one_when_allowed(fake, gateway):
    fake.answers[(CTL, "AddPortMapping")] = (500, soap_fault(718, "ConflictInMappingEntry"))
    fake.answer(CTL, WANIP2, "AddAnyPortMapping", [("NewReservedPort", "8081")])
    with pytest.warns(upnpy.UPnPWarning, match="NewExternalPort"):  # miniupnpd's SCPD, as is
        mapping = gateway.add_port_mapping(8080, external_port=None)
    assert mapping.external_port == 8081 and mapping.internal_port == 8080
    assert calls(fake, "AddAnyPortMapping")[0]["NewExternalPort"] == "8080"


def test_a_taken_port_is_an_error_with_a_hint_when_not_allowed(fake, gateway):
    fake.answers[(CTL, "AddPortMapping")] = (500, soap_fault(718, "ConflictInMappingEntry"))
    with pytest.raises(upnpy.ActionError) as info:
        gateway.add_port_mapping(8080)
    assert info.value.code == 718 and "already mapped" in str(info.value)
    assert calls(fake, "AddAnyPortMapping") == []


def test_only_permanent_leases_retries_with_0_and_says_so(fake, gateway):
    def once_725(request):
        if sent(request)["NewLeaseDuration"] != "0":
            return 500, soap_fault(725, "OnlyPermanentLeasesSupported")
        return 200, soap_response(WANIP2, "AddPortMapping", [])

    fake.answers[(CTL, "AddPortMapping")] = once_725
    with pytest.warns(upnpy.UPnPWarning, match="permanent"):
        mapping = gateway.add_port_mapping(8080)
    assert mapping.lease == 0
    assert [c["NewLeaseDuration"] for c in calls(fake, "AddPortMapping")] == ["3600", "0"]


def test_a_bad_port_is_refused_before_anything_is_sent(fake, gateway):
    with pytest.raises(upnpy.ValidationError):
        gateway.add_port_mapping(70000)
    assert calls(fake, "AddPortMapping") == []


def test_port_mappings_lists_every_entry_until_713(fake, gateway):
    def entry(request):
        index = int(sent(request)["NewPortMappingIndex"])
        if index >= 3:
            return 500, soap_fault(713, "SpecifiedArrayIndexInvalid")
        out = [
            ("NewRemoteHost", ""),
            ("NewExternalPort", str(9000 + index)),
            ("NewProtocol", "TCP"),
            ("NewInternalPort", str(8000 + index)),
            ("NewInternalClient", "10.77.0.2"),
            ("NewEnabled", "1"),
            ("NewPortMappingDescription", f"m{index}"),
            ("NewLeaseDuration", "600"),
        ]
        return 200, soap_response(WANIP2, "GetGenericPortMappingEntry", out)

    fake.answers[(CTL, "GetGenericPortMappingEntry")] = entry
    mappings = gateway.port_mappings()
    assert [(m.external_port, m.internal_port, m.description) for m in mappings] == [
        (9000, 8000, "m0"),
        (9001, 8001, "m1"),
        (9002, 8002, "m2"),
    ]
    assert all(m.enabled is True and m.lease == 600 for m in mappings)


def test_forward_maps_renews_and_removes(fake, gateway):
    renewed = threading.Event()
    original = fake.answers[(CTL, "AddPortMapping")]

    def count(request):
        if len(calls(fake, "AddPortMapping")) >= 2:
            renewed.set()
        return original

    fake.answers[(CTL, "AddPortMapping")] = count
    with gateway.forward(8080, lease=4) as mapping:
        assert mapping.external_address == ("11.22.33.44", 8080)
        assert renewed.wait(10), "the lease was not renewed at half its time"
        assert calls(fake, "DeletePortMapping") == []
    (removed,) = calls(fake, "DeletePortMapping")
    assert removed == {"NewRemoteHost": "", "NewExternalPort": "8080", "NewProtocol": "TCP"}


def test_forward_removes_the_mapping_on_an_exception(fake, gateway):
    with pytest.raises(KeyboardInterrupt), gateway.forward(8080):
        raise KeyboardInterrupt
    assert len(calls(fake, "DeletePortMapping")) == 1


def test_forward_of_a_refused_port_raises_before_the_block(fake, gateway):
    fake.answers[(CTL, "AddPortMapping")] = (500, soap_fault(606, "Action not authorized"))
    ran = False
    with pytest.raises(upnpy.ActionError, match="does not authorize"), gateway.forward(8080):
        ran = True
    assert not ran and calls(fake, "DeletePortMapping") == []


@pytest.mark.parametrize(
    ("ip", "connected", "rank"),
    [
        ("11.22.33.44", True, 3),
        ("100.64.0.2", True, 2),  # carrier-grade NAT
        ("192.168.1.2", True, 2),
        ("", True, 2),
        ("11.22.33.44", False, 1),
    ],
)
def test_gateways_rank_like_miniupnpc(ip, connected, rank):
    assert _gateway._rank(ip, connected) == rank


def test_a_device_without_a_connection_service_is_not_a_gateway(fake):
    fake.documents["/rootDesc.xml"] = (LAB_DATA / "light-root.xml").read_bytes()
    with upnpy.Device(fake.url + "/rootDesc.xml") as device, pytest.raises(upnpy.GatewayNotFound):
        upnpy.Gateway(device)


def test_counters_wrap_at_2_to_the_32_not_2_to_the_31():
    counters = _gateway._Counters()
    assert counters.update("b", 2**32 - 10) == 2**32 - 10
    assert counters.update("b", 5) == 2**32 + 5  # wrapped once: 15 more, not 2**31 off
    assert counters.update("b", 2**31) == 2**32 + 2**31


def test_traffic_reads_the_wan_interface_totals(fake, gateway):
    cfg = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
    readings = iter(["4294967290", "4"])

    def bytes_sent(request):
        out = [("NewTotalBytesSent", next(readings))]
        return 200, soap_response(cfg, "GetTotalBytesSent", out)

    fake.answers[("/ctl/CmnIfCfg", "GetTotalBytesSent")] = bytes_sent
    for name in ("BytesReceived", "PacketsSent", "PacketsReceived"):
        fake.answer("/ctl/CmnIfCfg", cfg, f"GetTotal{name}", [(f"NewTotal{name}", "7")])
    assert gateway.traffic().bytes_sent == 4294967290
    traffic = gateway.traffic()
    assert traffic == upnpy.Traffic(2**32 + 4, 7, 7, 7)


TWO_CONNECTIONS = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor>
</specVersion><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1
</deviceType><friendlyName>two links</friendlyName><manufacturer>t</manufacturer>
<modelName>t</modelName><UDN>uuid:two</UDN><deviceList><device>
<deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType><friendlyName>w</friendlyName>
<manufacturer>t</manufacturer><modelName>t</modelName><UDN>uuid:w</UDN><deviceList>
<device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<friendlyName>ip</friendlyName><manufacturer>t</manufacturer><modelName>t</modelName>
<UDN>uuid:ip</UDN><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><SCPDURL>/scpd.xml</SCPDURL>
<controlURL>/ctl/ip</controlURL><eventSubURL>/evt/ip</eventSubURL></service></serviceList>
</device>
<device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
<friendlyName>ppp</friendlyName><manufacturer>t</manufacturer><modelName>t</modelName>
<UDN>uuid:ppp</UDN><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>
<serviceId>urn:upnp-org:serviceId:WANPPPConn1</serviceId><SCPDURL>/scpd.xml</SCPDURL>
<controlURL>/ctl/ppp</controlURL><eventSubURL>/evt/ppp</eventSubURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>"""


def test_every_connection_device_is_considered_and_the_connected_one_wins():
    fake = FakeDevice(
        {
            "/desc.xml": TWO_CONNECTIONS.encode(),
            "/scpd.xml": (LAB_DATA / "gw-WANIPCn.xml").read_bytes(),
        }
    )
    try:
        for path, kind, status, ip in [
            ("/ctl/ip", "WANIPConnection:1", "Disconnected", ""),
            ("/ctl/ppp", "WANPPPConnection:1", "Connected", "11.22.33.44"),
        ]:
            service_type = f"urn:schemas-upnp-org:service:{kind}"
            fake.answer(
                path,
                service_type,
                "GetStatusInfo",
                [("NewConnectionStatus", status), ("NewLastConnectionError", "ERROR_NONE"),
                 ("NewUptime", "1")],
            )  # fmt: skip
            fake.answer(path, service_type, "GetExternalIPAddress", [("NewExternalIPAddress", ip)])
        rank, gateway = _gateway._describe(fake.url + "/desc.xml", 5.0)
        with gateway:
            assert rank == 3 and gateway.connection.name == "WANPPPConnection"
            assert upnpy.Gateway(gateway.device).connection.name == "WANIPConnection"  # by type
    finally:
        fake.close()


def test_a_gateway_with_500_mappings_lists_them_all(fake, gateway):
    def entry(request):
        index = int(sent(request)["NewPortMappingIndex"])
        if index >= 500:
            return 500, soap_fault(714, "NoSuchEntryInArray")  # some gateways end with 714
        out = [("NewExternalPort", str(10000 + index)), ("NewProtocol", "UDP"), ("NewEnabled", "0")]
        return 200, soap_response(WANIP2, "GetGenericPortMappingEntry", out)

    fake.answers[(CTL, "GetGenericPortMappingEntry")] = entry
    with pytest.warns(upnpy.UPnPWarning):  # the entries leave out most out-arguments
        mappings = gateway.port_mappings()
    assert [m.external_port for m in mappings] == list(range(10000, 10500))
    assert all(m.enabled is False and m.protocol == "UDP" for m in mappings)


def test_a_v2_gateway_without_generic_entries_is_listed_by_its_xml_listing(fake, gateway):
    fake.answers[(CTL, "GetGenericPortMappingEntry")] = (500, soap_fault(401, "Invalid Action"))
    listing = (
        '<?xml version="1.0"?><p:PortMappingList xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection">'
        "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost><p:NewExternalPort>8080"
        "</p:NewExternalPort><p:NewProtocol>TCP</p:NewProtocol><p:NewInternalPort>80"
        "</p:NewInternalPort><p:NewInternalClient>10.77.0.2</p:NewInternalClient><p:NewEnabled>1"
        "</p:NewEnabled><p:NewDescription>web &amp; co</p:NewDescription><p:NewLeaseTime>600"
        "</p:NewLeaseTime></p:PortMappingEntry></p:PortMappingList>"
    )

    def listed(request):
        protocol = sent(request)["NewProtocol"]
        out = [("NewPortListing", listing if protocol == "TCP" else "")]
        return 200, soap_response(WANIP2, "GetListOfPortMappings", out)

    fake.answers[(CTL, "GetListOfPortMappings")] = listed
    (mapping,) = gateway.port_mappings()
    assert (mapping.external_port, mapping.internal_port, mapping.description, mapping.lease) == (
        8080,
        80,
        "web & co",
        600,
    )


def test_a_failed_renewal_is_retried_calmly_and_never_raised(fake, gateway, monkeypatch, caplog):
    monkeypatch.setattr(_gateway, "RETRY", 0.3)
    with gateway.forward(8080, lease=4):
        fake.answers[(CTL, "AddPortMapping")] = (500, soap_fault(501, "Action Failed"))
        threading.Event().wait(3.0)  # the first renewal at 2 s, then retries every 0.3 s
    tries = len(calls(fake, "AddPortMapping")) - 1
    assert 1 <= tries <= 6  # a few, spaced: not a busy loop
    assert "renewal failed" in caplog.text
    assert len(calls(fake, "DeletePortMapping")) == 1


def test_mappings_still_open_are_removed_at_interpreter_exit(fake, gateway):
    from upnpy._manager import manager

    kept = gateway.forward(8080)
    assert kept in manager.owners
    manager.shutdown()  # what atexit runs
    assert len(calls(fake, "DeletePortMapping")) == 1 and kept not in manager.owners
    kept.remove()  # idempotent: nothing more is sent
    assert len(calls(fake, "DeletePortMapping")) == 1


def test_a_malformed_v2_listing_is_a_transport_error(fake, gateway):
    fake.answers[(CTL, "GetGenericPortMappingEntry")] = (500, soap_fault(401, "Invalid Action"))
    fake.answer(CTL, WANIP2, "GetListOfPortMappings", [("NewPortListing", "<p:Port")])
    with pytest.raises(upnpy.TransportError, match="malformed XML"):
        gateway.port_mappings()
