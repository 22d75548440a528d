"""Bad values from devices (issue 9): a warning and a skipped field or device, or a specific
upnpy error — never a bare Python exception, never a wrong result taken as right."""

import types
import warnings

import pytest
from fakes import envelope

import upnpy
from upnpy import _soap, _ssdp
from upnpy._proxy import Action
from upnpy._records import ActionInfo, ArgumentInfo, StateVariableInfo

ADDRESS = ("10.0.0.9", 1900)


def datagram(*lines: str) -> bytes:
    return ("\r\n".join(["HTTP/1.1 200 OK", "ST: upnp:rootdevice", *lines, "", ""])).encode()


# --- SSDP --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.9:5000/desc.xml\rX-Injected: 1",  # a bare CR
        "http://10.0.0.9:5000/de\tsc.xml",
        "http://[::1/desc.xml",  # a malformed IPv6 host
        "http://10.0.0.9:99999/desc.xml",
        "http://10.0.0.9:port/desc.xml",
    ],
)
def test_a_location_that_is_not_a_safe_url_drops_the_datagram(location):
    data = datagram(f"LOCATION: {location}", "USN: uuid:x::upnp:rootdevice")
    assert _ssdp.parse_response(data, ADDRESS) is None


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("CACHE-CONTROL: max-age=", "max_age"),
        ("BOOTID.UPNP.ORG: ", "bootid"),
        ("CONFIGID.UPNP.ORG: ", "configid"),
    ],
)
def test_numbers_with_thousands_of_digits_are_no_numbers(header, field):
    data = datagram(
        "LOCATION: http://10.0.0.9:5000/desc.xml",
        "USN: uuid:x::upnp:rootdevice",
        header + "9" * 5000,  # beyond int()'s default limit of 4300 digits
    )
    response = _ssdp.parse_response(data, ADDRESS)
    assert response is not None and getattr(response, field) is None


# --- SCPD: argument names ----------------------------------------------------------------


def make_action(*names: str) -> Action:
    service = types.SimpleNamespace(name="Svc", service_type="urn:x:service:Svc:1")
    info = ActionInfo("Set", tuple(ArgumentInfo(n, "in", "V") for n in names))
    return Action(service, info, {"V": StateVariableInfo("V", "string")})


def test_argument_names_that_meet_after_cleaning_stay_distinct_with_a_warning():
    with pytest.warns(upnpy.UPnPWarning) as caught:
        action = make_action("New-Value", "New_Value", "New Value")
    assert ["New_Value_2" in str(w.message) for w in caught] == [True, False]
    assert list(action.__signature__.parameters) == ["New_Value", "New_Value_2", "New_Value_3"]


def test_a_repeated_argument_and_odd_characters_still_give_a_callable():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", upnpy.UPnPWarning)
        action = make_action("x", "x", "a\u00b2", "class", "1st")
    assert list(action.__signature__.parameters) == ["x", "x_2", "a_", "class_", "_1st"]


# --- SOAP answers ------------------------------------------------------------------------


def test_an_answer_to_another_action_is_an_error_naming_both():
    body = envelope('<u:DeletePortMappingResponse xmlns:u="x"></u:DeletePortMappingResponse>')
    with pytest.raises(upnpy.TransportError) as info:
        _soap.parse_response(body, "AddPortMapping")
    message = str(info.value)
    assert "DeletePortMappingResponse" in message and "AddPortMappingResponse" in message


def test_unescaped_markup_keeps_the_whole_text_in_place():
    body = envelope(
        '<u:GetInfoResponse xmlns:u="x"><Text>a <b class="k">bold</b> c</Text>'
        "<Other>1</Other></u:GetInfoResponse>"
    )
    assert _soap.parse_response(body, "GetInfo") == {
        "Text": 'a <b class="k">bold</b> c',
        "Other": "1",
    }
