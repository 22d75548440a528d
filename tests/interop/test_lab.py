"""The lab is real: its daemons answer plain SSDP and an independent client maps ports.

These tests use raw sockets and miniupnpc's ``upnpc`` only, no upnpy code, so that a
failure here points at the lab, not at the library.
"""

import ipaddress
import socket
import subprocess
import urllib.request
import wave
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import xmltodict
from labtools import raw_msearch, wait_for


@pytest.fixture(scope="module")
def ssdp_answers(lab):
    """LOCATION -> headers of the replies to M-SEARCHes sent by a plain socket for 3.5 s (MX 3)."""
    answers = raw_msearch("upnp:rootdevice", mx=3, seconds=3.5, copies=2)
    return {headers["LOCATION"]: headers for _, headers in answers}


@pytest.mark.parametrize("device", ["gw", "dms", "light"])
def test_daemon_answers_msearch_with_a_parsable_description(lab, ssdp_answers, device):
    url = {"gw": lab.gw_url, "dms": lab.dms_url, "light": lab.light_url}[device]
    assert url in ssdp_answers, f"{device} did not answer; got {sorted(ssdp_answers)}"
    assert ssdp_answers[url]["USN"].startswith("uuid:")
    with urllib.request.urlopen(url, timeout=5) as response:
        doc = xmltodict.parse(response.read())
    assert doc["root"]["device"]["UDN"].startswith("uuid:")


def test_renderer_answers_msearch_with_its_description(lab):
    """gmediarender runs on demand: started for this test, stopped after it."""
    with lab.running("dmr"):
        answers = raw_msearch("urn:schemas-upnp-org:device:MediaRenderer:1", seconds=2.5)
        assert {headers["LOCATION"] for _, headers in answers} == {lab.dmr_url}, answers
        with urllib.request.urlopen(lab.dmr_url, timeout=5) as response:
            device = xmltodict.parse(response.read())["root"]["device"]
    assert device["deviceType"] == "urn:schemas-upnp-org:device:MediaRenderer:1"
    assert device["friendlyName"] == "Lab Renderer"
    assert {
        service["serviceType"].split(":")[-2] for service in device["serviceList"]["service"]
    } == {
        "AVTransport",
        "RenderingControl",
        "ConnectionManager",
    }


def test_media_folder_holds_a_silent_minute(lab):
    """The long track minidlna serves besides the short ones: 60 s of 8 kHz mono 16-bit."""
    with wave.open(str(Path(lab.folder) / "media" / f"{lab.long_track}.wav"), "rb") as track:
        shape = (track.getnchannels(), track.getsampwidth(), track.getframerate())
        assert shape == (1, 2, 8000)
        assert track.getnframes() == 60 * 8000
        assert track.readframes(track.getnframes()) == bytes(2 * 60 * 8000)


def upnpc(lab, *args):
    return subprocess.run(
        ["upnpc", "-m", "lan0", *args], capture_output=True, text=True, timeout=30
    )


def test_upnpc_port_mapping_becomes_a_dnat_rule_and_goes_away(lab):
    rule = f"dport 18080 dnat ip to {lab.client_ip}:18080"
    assert rule not in lab.nft_nat_rules()
    added = upnpc(lab, "-a", lab.client_ip, "18080", "18080", "TCP")
    assert added.returncode == 0, added.stdout + added.stderr
    try:
        assert "is redirected to internal" in added.stdout, added.stdout
        assert rule in lab.nft_nat_rules()
    finally:
        deleted = upnpc(lab, "-d", "18080", "TCP")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert wait_for(lambda: rule not in lab.nft_nat_rules(), timeout=5)


def ipv6_search(lab, group: str, seconds: float = 3.5) -> dict:
    """USN's UDN -> (sender, LOCATION) of the answers to an IPv6 M-SEARCH sent to *group*.

    A plain socket bound with the LAN interface's scope id, IPV6_MULTICAST_IF set to it.
    """
    index = socket.if_nametoindex(lab.lan_if)
    answers = raw_msearch("upnp:rootdevice", group, mx=2, seconds=seconds, index=index, copies=2)
    return {
        fields["USN"].split("::")[0]: (sender, fields["LOCATION"]) for sender, fields in answers
    }


def description_udn(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return xmltodict.parse(response.read())["root"]["device"]["UDN"]


@pytest.mark.parametrize("group", ["ff02::c", "ff05::c"])
def test_gateway_and_light_answer_an_ipv6_msearch_with_an_ipv6_location(lab, group):
    """miniupnpd gives its ULA on both groups; the GUPnP light answers ff02::c (link-local
    scope) with its link-local address, without a zone, and ff05::c with its ULA; both serve
    their description there. minidlna has no IPv6 at all."""
    answers = ipv6_search(lab, group)
    gw_udn, light_udn = description_udn(lab.gw_url), description_udn(lab.light_url)
    assert set(answers) == {gw_udn, light_udn}, answers  # minidlna stays silent
    light_port = urlsplit(lab.light_url).port
    expected = {
        gw_udn: (lab.gw_ip6, 5000, "/rootDesc.xml"),
        light_udn: (lab.light_ip6, light_port, urlsplit(lab.light_url).path),
    }
    for udn, (sender, location) in answers.items():
        parts = urlsplit(location)
        host = ipaddress.IPv6Address(parts.hostname)  # an IPv6 literal, not a name or IPv4
        ip6, port, path = expected[udn]
        assert (parts.port, parts.path) == (port, path), location
        if udn == light_udn and group == "ff02::c":
            assert host.is_link_local and str(host) == sender.split("%")[0], location
        else:
            assert str(host) == ip6, location
        assert udn_over_ipv6(lab, location) == udn


def udn_over_ipv6(lab, location: str) -> str:
    """The UDN in the description at an IPv6 *location*, fetched with a raw socket connected
    with the LAN interface's scope id (a link-local address needs it) and a Host header
    without a zone: the GUPnP light answers 400 to ``Host: [fe80::...%lan0]`` (urllib's)."""
    parts = urlsplit(location)
    index = socket.if_nametoindex(lab.lan_if)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect((parts.hostname, parts.port, 0, index))
        request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        sock.sendall(request.encode() + b"\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return xmltodict.parse(body)["root"]["device"]["UDN"]
