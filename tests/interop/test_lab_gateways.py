"""The lab's two gateways, checked with raw sockets, ``upnpc`` and plain SOAP calls.

The second gateway (``gw2``) is miniupnpd as InternetGatewayDevice:1 behind carrier-grade NAT:
its WAN address is 100.64.0.2, so it has no external address to give and maps nothing. The
first one forwards a mapped port end to end: a connection from its WAN side (the ``inet``
namespace) reaches a server in the client namespace. Nothing here uses upnpy's gateway API;
``upnpy.Device`` only reads descriptions and calls actions, ``upnpy.discover`` finds them.
"""

import socket
import subprocess
import time
import urllib.request

import pytest
import xmltodict
from labtools import TcpServer, wait_for

import upnpy

IGD1 = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
WANIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
PORT = 28680  # ports no other interop test maps
REFUSED_PORT = 28681


@pytest.fixture(scope="module")
def gw2(lab):
    """The second gateway's miniupnpd running for this module (it runs on demand)."""
    with lab.running("gw2"):
        yield lab


@pytest.fixture(scope="module")
def router2(gw2):
    with upnpy.Device(gw2.gw2_url) as device:
        yield device


def msearch(lab, st: str, *wanted: str, seconds: float = 3.0) -> dict:
    """LOCATION -> headers of the answers to an M-SEARCH for *st* (MX 1) from a plain socket,
    collected for *seconds* or until every LOCATION in *wanted* has answered."""
    request = (
        'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
        f"MX: 1\r\nST: {st}\r\n\r\n"
    ).encode()
    answers = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((lab.client_ip, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(lab.client_ip))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        for _ in range(2):
            sock.sendto(request, ("239.255.255.250", 1900))
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and not set(wanted) <= set(answers):
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            lines = data.decode("latin-1").split("\r\n")[1:]
            headers = dict(line.split(":", 1) for line in lines if ":" in line)
            headers = {k.strip().upper(): v.strip() for k, v in headers.items()}
            answers[headers["LOCATION"]] = headers
    return answers


def upnpc(*args):
    return subprocess.run(
        ["upnpc", "-m", "lan0", *args], capture_output=True, text=True, timeout=30
    )


def test_second_gateway_answers_an_msearch_for_igd1(gw2):
    answers = msearch(gw2, IGD1, gw2.gw2_url, gw2.gw_url)
    assert gw2.gw2_url in answers, sorted(answers)
    assert answers[gw2.gw2_url]["ST"] == IGD1
    assert answers[gw2.gw2_url]["USN"].endswith(f"::{IGD1}")
    assert gw2.gw_url in answers  # the first gateway (IGD:2) answers for version 1 too
    assert answers[gw2.gw2_url]["USN"] != answers[gw2.gw_url]["USN"]  # uuids of their own


@pytest.mark.parametrize("version", [1, 2])
def test_discover_returns_the_gateways_of_the_version_searched(gw2, version):
    """gw2, an IGD:1, answers a search for IGD:2 too; what it describes decides."""
    st = IGD1[:-1] + str(version)
    assert gw2.gw2_url in msearch(gw2, st, gw2.gw2_url)  # it does answer
    found = upnpy.discover(st=st, timeout=2, family=socket.AF_INET)
    for device in found:
        device.close()
    expected = [gw2.gw_url] if version == 2 else [gw2.gw_url, gw2.gw2_url]
    assert sorted(device.location for device in found) == sorted(expected)


def test_second_gateway_describes_igd1_with_wanipconnection1(gw2, router2):
    with urllib.request.urlopen(gw2.gw2_url, timeout=5) as response:
        root = xmltodict.parse(response.read())["root"]["device"]
    assert root["deviceType"] == IGD1
    assert root["friendlyName"] == "upnpy lab cgnat gateway"
    wan_device = root["deviceList"]["device"]
    assert wan_device["deviceType"] == "urn:schemas-upnp-org:device:WANDevice:1"
    connection_device = wan_device["deviceList"]["device"]
    assert connection_device["deviceType"] == "urn:schemas-upnp-org:device:WANConnectionDevice:1"
    service = connection_device["serviceList"]["service"]
    assert service["serviceType"] == WANIP1
    assert service["controlURL"] == "/ctl/IPConn"

    assert router2.device_type == IGD1
    assert router2.WANIPConnection.service_type == WANIP1
    with upnpy.Device(gw2.gw_url) as router:
        assert router.udn != router2.udn


def test_cgnat_gateway_is_connected_but_has_no_external_address(gw2, router2):
    wan = router2.WANIPConnection
    assert wan.GetStatusInfo()["NewConnectionStatus"] == "Connected"
    # miniupnpd will not hand out its 100.64.0.2: "not suitable for external IP".
    assert wan.GetExternalIPAddress() == {"NewExternalIPAddress": ""}


def test_first_gateway_is_connected_with_its_public_address(lab, router):
    wan = router.WANIPConnection
    assert wan.GetStatusInfo()["NewConnectionStatus"] == "Connected"
    assert wan.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}


def test_cgnat_gateway_refuses_a_port_mapping_with_501(gw2, router2):
    wan = router2.WANIPConnection
    try:
        with pytest.raises(upnpy.ActionError) as info:
            wan.AddPortMapping(
                NewRemoteHost="",
                NewExternalPort=REFUSED_PORT,
                NewProtocol="TCP",
                NewInternalPort=REFUSED_PORT,
                NewInternalClient=gw2.client_ip,
                NewEnabled=True,
                NewPortMappingDescription="upnpy cgnat",
                NewLeaseDuration=3600,
            )
        assert info.value.code == 501, info.value  # ActionFailed
        assert f"dport {REFUSED_PORT}" not in gw2.nft_nat_rules("gw2")
        with pytest.raises(upnpy.ActionError) as info:
            wan.GetGenericPortMappingEntry(NewPortMappingIndex=0)
        assert info.value.code == 713  # SpecifiedArrayIndexInvalid: nothing was mapped
        refused = upnpc(
            "-u", gw2.gw2_url, "-a", gw2.client_ip, str(REFUSED_PORT), str(REFUSED_PORT), "TCP"
        )
        assert "failed with code 501" in refused.stdout, refused.stdout + refused.stderr
    finally:  # should a future miniupnpd map it after all
        upnpc("-u", gw2.gw2_url, "-d", str(REFUSED_PORT), "TCP")


def test_upnpc_picks_the_gateway_with_a_public_address(gw2):
    # Both gateways answer its search; miniupnpc ranks the one with an external address first.
    found = upnpc("-s")
    assert found.returncode == 0, found.stdout + found.stderr
    assert gw2.gw2_url in found.stdout and gw2.gw_url in found.stdout  # both listed
    assert f"Found valid IGD : http://{gw2.gw_ip}:5000/ctl/IPConn" in found.stdout
    assert f"ExternalIPAddress = {gw2.wan_ip}" in found.stdout


def test_wan_connection_reaches_the_client_through_a_upnpc_mapping(lab):
    rule = f"dport {PORT} dnat ip to {lab.client_ip}:{PORT}"
    server = TcpServer(lab.client_ip, PORT)
    mapped = False
    try:
        # No mapping: the gateway itself answers, with a reset.
        assert lab.connect_from_wan(PORT, b"ping")["error"] == "ConnectionRefusedError"
        added = upnpc("-u", lab.gw_url, "-a", lab.client_ip, str(PORT), str(PORT), "TCP")
        mapped = True
        assert "is redirected to internal" in added.stdout, added.stdout + added.stderr
        assert rule in lab.nft_nat_rules()

        outcome = lab.connect_from_wan(PORT, b"ping")
        assert outcome == {"received": f"hello {lab.inet_ip}".encode()}  # the real peer
        assert server.peers == [lab.inet_ip]

        deleted = upnpc("-u", lab.gw_url, "-d", str(PORT), "TCP")
        assert deleted.returncode == 0, deleted.stdout + deleted.stderr
        mapped = False
        assert wait_for(lambda: rule not in lab.nft_nat_rules(), timeout=5)
        refused = lab.connect_from_wan(PORT, b"ping")
        assert refused["error"] == "ConnectionRefusedError", refused
        assert server.peers == [lab.inet_ip]  # nothing more arrived
    finally:
        if mapped:
            upnpc("-u", lab.gw_url, "-d", str(PORT), "TCP")
        server.close()
