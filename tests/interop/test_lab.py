"""The lab is real: its daemons answer plain SSDP and an independent client maps ports.

These tests use raw sockets and miniupnpc's ``upnpc`` only, no upnpy code, so that a
failure here points at the lab, not at the library.
"""

import socket
import subprocess
import time
import urllib.request

import pytest
import xmltodict
from labtools import wait_for

MSEARCH = (
    b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    b"MX: 3\r\nST: upnp:rootdevice\r\n\r\n"
)


@pytest.fixture(scope="module")
def ssdp_answers(lab):
    """LOCATION -> raw reply, from M-SEARCHes sent by a plain socket for 3.5 s (MX 3)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((lab.client_ip, 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(lab.client_ip))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        for _ in range(2):
            sock.sendto(MSEARCH, ("239.255.255.250", 1900))
        answers = {}
        deadline = time.monotonic() + 3.5
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65536)
            except socket.timeout:
                break
            headers = dict(
                line.split(":", 1) for line in data.decode().split("\r\n")[1:] if ":" in line
            )
            headers = {k.strip().upper(): v.strip() for k, v in headers.items()}
            answers[headers["LOCATION"]] = headers
        return answers
    finally:
        sock.close()


@pytest.mark.parametrize("device", ["gw", "dms", "light"])
def test_daemon_answers_msearch_with_a_parsable_description(lab, ssdp_answers, device):
    url = {"gw": lab.gw_url, "dms": lab.dms_url, "light": lab.light_url}[device]
    assert url in ssdp_answers, f"{device} did not answer; got {sorted(ssdp_answers)}"
    assert ssdp_answers[url]["USN"].startswith("uuid:")
    with urllib.request.urlopen(url, timeout=5) as response:
        doc = xmltodict.parse(response.read())
    assert doc["root"]["device"]["UDN"].startswith("uuid:")


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
