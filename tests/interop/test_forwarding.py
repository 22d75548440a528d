"""upnpy.Gateway on the lab's miniupnpd (IGD:2): find it, map ports that really change its NAT,
list them, keep one alive past its lease, and clean up."""

import time

import pytest
from labtools import TcpServer, wait_for

import upnpy
from upnpy import _gateway

PORT = 28480  # ports no other interop test maps
LISTED = range(28490, 28495)


@pytest.fixture(scope="module")
def gateway(lab):
    with upnpy.Gateway.find(timeout=3.0) as gw:
        yield gw


def rule(lab, port, internal=None):
    return f"dport {port} dnat ip to {lab.client_ip}:{internal or port}"


def test_find_gives_the_connected_gateway_with_its_best_service(gateway, lab):
    assert gateway.device.location == lab.gw_url
    assert gateway.connection.service_type == "urn:schemas-upnp-org:service:WANIPConnection:2"
    assert gateway.external_ip == lab.wan_ip
    assert gateway.local_address == lab.client_ip  # the address the gateway sees us by
    status = gateway.status
    assert status.connected and status.external_ip == lab.wan_ip


def test_add_list_and_delete_change_the_gateway(gateway, lab):
    mapping = gateway.add_port_mapping(PORT, description="upnpy gateway test")
    try:
        assert mapping.external_address == (lab.wan_ip, PORT)
        assert mapping.internal_client == lab.client_ip and mapping.lease == 3600
        assert rule(lab, PORT) in lab.nft_nat_rules()
        listed = [m for m in gateway.port_mappings() if m.external_port == PORT]
        assert [(m.protocol, m.internal_client, m.description) for m in listed] == [
            ("TCP", lab.client_ip, "upnpy gateway test")
        ]
    finally:
        gateway.delete_port_mapping(PORT)
    assert rule(lab, PORT) not in lab.nft_nat_rules()


def test_listing_gives_every_mapping_typed(gateway, lab):
    for port in LISTED:
        gateway.add_port_mapping(port, "UDP", lease=600, description=f"list {port}")
    try:
        mine = {m.external_port: m for m in gateway.port_mappings() if m.external_port in LISTED}
        assert sorted(mine) == list(LISTED)
        assert all(m.protocol == "UDP" and isinstance(m.lease, int) for m in mine.values())
        assert all(0 < m.lease <= 600 for m in mine.values())  # what is left of the lease
    finally:
        for port in LISTED:
            gateway.delete_port_mapping(port, "UDP")


def test_a_port_the_gateway_refuses_is_an_action_error_with_a_hint(gateway, lab):
    gateway.add_port_mapping(PORT, internal_client=lab.client_ip, description="first")
    try:
        with pytest.raises(upnpy.ActionError) as info:  # another client's port
            gateway.add_port_mapping(PORT, internal_client=lab.dms_ip)
        assert info.value.code in (606, 718), info.value
        assert "(" in info.value.description  # the plain-language hint
    finally:
        gateway.delete_port_mapping(PORT)


def test_forward_keeps_a_short_lease_alive_and_removes_it(gateway, lab):
    with gateway.forward(PORT, lease=4) as mapping:
        assert mapping.external_address == (lab.wan_ip, PORT)
        assert rule(lab, PORT) in lab.nft_nat_rules()
        time.sleep(9)  # over twice the lease: only the renewals keep it
        assert rule(lab, PORT) in lab.nft_nat_rules()
        entry = gateway.connection.GetSpecificPortMappingEntry("", PORT, "TCP")
        assert 0 < entry["NewLeaseDuration"] <= 4
    assert wait_for(lambda: rule(lab, PORT) not in lab.nft_nat_rules())


def test_the_one_liner(lab):
    with upnpy.forward(PORT, timeout=3.0) as mapping:
        assert mapping.external_address == (lab.wan_ip, PORT)
        assert rule(lab, PORT) in lab.nft_nat_rules()
    assert rule(lab, PORT) not in lab.nft_nat_rules()


def test_a_taken_port_gets_another_when_allowed(gateway, lab):
    gateway.add_port_mapping(PORT, description="taken")
    try:
        with pytest.warns(upnpy.UPnPWarning):  # miniupnpd's SCPD names its out-argument wrong
            other = gateway.add_port_mapping(
                PORT, internal_client=lab.dms_ip, external_port=None, description="other"
            )
        try:
            assert other.external_port != PORT and other.internal_client == lab.dms_ip
            assert f"dport {other.external_port} dnat ip to {lab.dms_ip}:{PORT}" in (
                lab.nft_nat_rules()
            )
        finally:
            gateway.delete_port_mapping(other.external_port)
    finally:
        gateway.delete_port_mapping(PORT)


def test_traffic_counters_are_read(gateway):
    first = gateway.traffic()
    assert all(isinstance(v, int) and v >= 0 for v in vars(first).values())
    assert gateway.traffic().packets_received >= first.packets_received


# --- end to end, and the second gateway (IGD:1 behind carrier-grade NAT) --------------------

WAN_PORT = 28482


def test_forward_lets_a_connection_from_the_internet_in_and_closes_it_after(gateway, lab):
    server = TcpServer(lab.client_ip, WAN_PORT)
    try:
        with gateway.forward(WAN_PORT) as mapping:
            host, port = mapping.external_address
            assert lab.connect_from_wan(port, b"ping", host=host) == {
                "received": f"hello {lab.inet_ip}".encode()
            }
        assert wait_for(lambda: f"dport {WAN_PORT} " not in lab.nft_nat_rules())
        refused = lab.connect_from_wan(WAN_PORT, b"ping")
        assert refused.get("error") == "ConnectionRefusedError", refused
        assert server.peers == [lab.inet_ip]  # one connection got in, the later one did not
    finally:
        server.close()


def test_the_igd1_gateway_behind_carrier_grade_nat(lab):
    with lab.running("gw2"), upnpy.Gateway(upnpy.Device(lab.gw2_url)) as cgnat:
        assert cgnat.connection.service_type == "urn:schemas-upnp-org:service:WANIPConnection:1"
        assert cgnat.status.connected and cgnat.external_ip == ""  # 100.64/10: not external
        assert _gateway._rank(cgnat.external_ip, True) == 2  # below a public gateway
        with pytest.raises(upnpy.ActionError) as info:
            cgnat.add_port_mapping(WAN_PORT)
        assert info.value.code == 501  # miniupnpd maps nothing without an external address
        assert cgnat.port_mappings() == []


@pytest.mark.parametrize("attempt", range(3))
def test_find_picks_the_public_gateway_whichever_answers_first(lab, attempt):
    with lab.running("gw2"), upnpy.Gateway.find(timeout=3.0) as found:
        assert found.device.location == lab.gw_url
        assert found.external_ip == lab.wan_ip


def test_a_mapping_the_gateway_lost_is_made_again(gateway, lab):
    with gateway.forward(PORT, lease=4):
        # The gateway forgets it (miniupnpd keeps its rules over a restart, so it is removed
        # behind forward()'s back, as a reboot of a home router would).
        gateway.connection.DeletePortMapping("", PORT, "TCP")
        assert rule(lab, PORT) not in lab.nft_nat_rules()
        assert wait_for(lambda: rule(lab, PORT) in lab.nft_nat_rules(), timeout=10)
    assert wait_for(lambda: rule(lab, PORT) not in lab.nft_nat_rules())
