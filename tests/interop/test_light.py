"""upnpy against GUPnP network-light (DimmableLight:1: SwitchPower:1 + Dimming:1)."""

import pytest

import upnpy


def test_both_services_reachable_by_name(light):
    switch, dimming = light.SwitchPower, light.Dimming
    assert switch is not dimming
    assert switch.service_id == "urn:upnp-org:serviceId:SwitchPower:1"
    assert light["SwitchPower:1"] is switch  # the serviceId's id part, colon and all
    assert light["urn:upnp-org:serviceId:Dimming:1"] is dimming
    assert {"SwitchPower", "Dimming"} <= set(dir(light))


def test_switch_power_round_trip(light):
    light.SwitchPower.SetTarget(newTargetValue=True)
    assert light.SwitchPower.GetStatus() == {"ResultStatus": True}
    assert light.SwitchPower.GetTarget() == {"RetTargetValue": True}
    light.SwitchPower.SetTarget(False)
    assert light.SwitchPower.GetStatus() == {"ResultStatus": False}


def test_dimming_round_trip(light):
    light.Dimming.SetLoadLevelTarget(newLoadlevelTarget=42)
    assert light.Dimming.GetLoadLevelStatus() == {"retLoadlevelStatus": 42}
    light.Dimming.SetLoadLevelTarget(7)
    assert light.Dimming.GetLoadLevelStatus() == {"retLoadlevelStatus": 7}


def test_load_level_out_of_range_is_refused(light):
    with pytest.raises(upnpy.ValidationError) as info:
        light.Dimming.SetLoadLevelTarget(101)
    assert info.value.data_type == "ui1"
