"""upnpy against miniupnpd 2.3.1 (IGD:2): port mappings that really change the gateway's NAT."""

import pytest
from labtools import wait_for

import upnpy

PORT = 28080


@pytest.fixture
def wan(router):
    return router.WANIPConnection


def test_description_tree(router, lab):
    assert router.device_type == "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
    assert router.friendly_name == "upnpy lab gateway"
    assert router.udn.startswith("uuid:")
    wan_device = router.devices[0]
    assert wan_device.device_type.endswith("WANDevice:2")
    assert wan_device.devices[0].device_type.endswith("WANConnectionDevice:2")
    wan = router.WANIPConnection
    assert wan.service_type == "urn:schemas-upnp-org:service:WANIPConnection:2"
    assert wan.control_url == f"http://{lab.gw_ip}:5000/ctl/IPConn"
    assert wan is router["WANIPConnection:2"] is router["WANIPConn1"]
    assert wan is router["urn:upnp-org:serviceId:WANIPConn1"]
    assert wan in router.all_services and wan not in router.services


def test_get_external_ip_address(wan, lab):
    assert wan.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}


def test_status_info_is_typed(wan):
    status = wan.GetStatusInfo()
    assert status["NewConnectionStatus"] == "Connected"
    assert isinstance(status["NewUptime"], int) and status["NewUptime"] >= 0


def test_port_mapping_round_trip_changes_nftables(wan, lab):
    rule = f"dport {PORT} dnat ip to {lab.client_ip}:{PORT}"
    description = 'upnpy <&> "quoted" test'
    assert rule not in lab.nft_nat_rules()
    wan.AddPortMapping(
        NewRemoteHost="",
        NewExternalPort=PORT,
        NewProtocol="TCP",
        NewInternalPort=PORT,
        NewInternalClient=lab.client_ip,
        NewEnabled=True,
        NewPortMappingDescription=description,
        NewLeaseDuration=3600,
    )
    try:
        assert rule in lab.nft_nat_rules()
        entry = wan.GetSpecificPortMappingEntry(
            NewRemoteHost="", NewExternalPort=PORT, NewProtocol="TCP"
        )
        assert entry["NewInternalPort"] == PORT
        assert entry["NewInternalClient"] == lab.client_ip
        assert entry["NewEnabled"] is True
        assert entry["NewPortMappingDescription"] == description
        assert isinstance(entry["NewLeaseDuration"], int) and 0 < entry["NewLeaseDuration"] <= 3600
    finally:
        wan.DeletePortMapping("", PORT, "TCP")  # positional, in SCPD order
    assert wait_for(lambda: rule not in lab.nft_nat_rules())


def test_missing_mapping_is_action_error_714(wan):
    # miniupnpd 2.3.1 with nftables answers DeletePortMapping of a missing entry with
    # success (seen in the lab), so the 714 comes from looking the entry up.
    with pytest.raises(upnpy.ActionError) as info:
        wan.GetSpecificPortMappingEntry(
            NewRemoteHost="", NewExternalPort=PORT + 1, NewProtocol="UDP"
        )
    assert info.value.code == 714
    assert info.value.description == "NoSuchEntryInArray"
    assert info.value.action == "GetSpecificPortMappingEntry"


def test_deleting_an_empty_range_is_action_error_730(wan):
    with pytest.raises(upnpy.ActionError) as info:
        wan.DeletePortMappingRange(
            NewStartPort=PORT + 100, NewEndPort=PORT + 110, NewProtocol="TCP", NewManage=False
        )
    assert info.value.code == 730


def test_generic_entries_list_until_713(wan, lab):
    ports = [PORT + 10, PORT + 11, PORT + 12]
    for port in ports:
        wan.AddPortMapping("", port, "UDP", port, lab.client_ip, True, f"list {port}", 600)
    try:
        listed = []
        for index in range(100):
            try:
                entry = wan.GetGenericPortMappingEntry(NewPortMappingIndex=index)
            except upnpy.ActionError as exc:
                assert exc.code == 713
                break
            listed.append((entry["NewExternalPort"], entry["NewProtocol"]))
        else:
            pytest.fail("GetGenericPortMappingEntry never answered 713")
        assert sorted(listed) == [(port, "UDP") for port in ports]
    finally:
        for port in ports:
            wan.DeletePortMapping("", port, "UDP")


def test_out_of_range_port_is_refused_before_sending(wan, lab):
    before = lab.nft_nat_rules()
    with pytest.raises(upnpy.ValidationError) as info:
        wan.AddPortMapping("", 70000, "TCP", 70000, lab.client_ip, True, "never", 0)
    assert info.value.argument == "NewExternalPort"
    with pytest.raises(upnpy.ValidationError):
        wan.AddPortMapping("", PORT, "ICMP", PORT, lab.client_ip, True, "never", 0)
    with pytest.raises(TypeError):
        wan.AddPortMapping(NewExternalPort=PORT)
    assert lab.nft_nat_rules() == before
