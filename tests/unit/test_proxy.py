"""upnpy._proxy: Device/Service/Action against a loopback "device" serving the lab's documents.

The fake device (tests/fakes.py) serves the captured descriptions and SCPDs unchanged (their
URLs are relative, so serving them at the same paths is enough) and answers SOAP POSTs with
canned replies chosen by each test. Every request is recorded server-side, so "makes no request"
is counted, not assumed.
"""

import copy
import inspect
import pickle
import pydoc
import sys
import threading
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Tuple

import pytest
import requests
from fakes import (
    ENV_NS,
    GATEWAY_FILES,
    LAB_DATA,
    LIGHT_FILES,
    Canned,
    FakeDevice,
    lab_documents,
    soap_fault,
    soap_response,
)
from servers import Request

import upnpy
from upnpy import (
    ActionError,
    DescriptionError,
    Device,
    Service,
    UPnPWarning,
    ValidationError,
)

HERE = Path(__file__).parent
PROXY_DATA = HERE / "data" / "proxy"

WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
WANIP1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"
DIMMING = "urn:schemas-upnp-org:service:Dimming:1"

ADD_PORT_MAPPING_IN = [
    "NewRemoteHost",
    "NewExternalPort",
    "NewProtocol",
    "NewInternalPort",
    "NewInternalClient",
    "NewEnabled",
    "NewPortMappingDescription",
    "NewLeaseDuration",
]
GATEWAY_SERVICES = [
    "Layer3Forwarding",
    "DeviceProtection",
    "WANCommonInterfaceConfig",
    "WANIPConnection",
    "WANIPv6FirewallControl",
]

# --- the fake devices (tests/fakes.py) ----------------------------------------------------------


def sent_call(request: Request) -> Tuple[str, str, List[Tuple[str, Optional[str]]]]:
    """(service type, action, [(argument, text)] in the order sent) of a recorded SOAP POST."""
    envelope = ET.fromstring(request.body)
    assert envelope.tag == f"{{{ENV_NS}}}Envelope"
    body = envelope.find(f"{{{ENV_NS}}}Body")
    assert body is not None and len(body) == 1
    call = body[0]
    namespace, _, action = call.tag[1:].partition("}")
    return namespace, action, [(arg.tag, arg.text) for arg in call]


class Lab:
    """Starts fake devices and the Devices that talk to them; closes them all after the test."""

    def __init__(self) -> None:
        self.fakes: List[FakeDevice] = []
        self.devices: List[Device] = []

    def serve(self, documents: Mapping[str, bytes]) -> FakeDevice:
        fake = FakeDevice(documents)
        self.fakes.append(fake)
        return fake

    def connect(self, url: str, **options: object) -> Device:
        device = Device(url, timeout=5, **options)
        self.devices.append(device)
        return device

    def gateway(
        self, session: Optional[requests.Session] = None, **changes: Optional[bytes]
    ) -> Tuple[FakeDevice, Device]:
        """The lab gateway; ``changes`` maps a file name (``WANIPCn``) to other bytes or None."""
        documents = lab_documents(GATEWAY_FILES)
        for name, data in changes.items():
            if data is None:
                del documents[f"/{name}.xml"]
            else:
                documents[f"/{name}.xml"] = data
        fake = self.serve(documents)
        options = {} if session is None else {"session": session}
        return fake, self.connect(fake.url + "/rootDesc.xml", **options)

    def light(self) -> Tuple[FakeDevice, Device]:
        fake = self.serve(lab_documents(LIGHT_FILES))
        return fake, self.connect(fake.url + "/8e2ad0a6-light/description.xml")

    def close(self) -> None:
        for device in self.devices:
            device.close()
        for fake in self.fakes:
            fake.close()


@pytest.fixture
def lab():
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def gateway(lab):
    """(fake, device) for the lab gateway, with its description already fetched."""
    return lab.gateway()


def loaded(fake: FakeDevice, device: Device) -> Service:
    """The gateway's WANIPConnection with its SCPD fetched (exactly one GET for it)."""
    service = device.WANIPConnection
    assert "AddPortMapping" in service.actions
    assert len(fake.gets("/WANIPCn.xml")) == 1
    return service


# --- 1. the REPL contract --------------------------------------------------------------------


def test_creating_the_device_fetches_only_the_description(gateway):
    fake, device = gateway
    assert [(r.method, r.path) for r in fake.requests()] == [("GET", "/rootDesc.xml")]
    assert device.friendly_name == "upnpy lab gateway"
    assert len(device.all_services) == 5


def test_dir_of_a_device_lists_its_services_without_a_request(gateway):
    fake, device = gateway
    before = len(fake.requests())
    names = dir(device)
    assert set(GATEWAY_SERVICES) <= set(names)
    # each service once (issue 12): serviceId aliases still work, but do not double the list
    assert not {"WANIPConn1", "L3Forwarding1"} & set(names)
    assert device.WANIPConn1 is device.WANIPConnection
    assert {"services", "devices", "friendly_name", "close"} <= set(names)
    assert names == sorted(names)
    assert len(fake.requests()) == before


def test_repr_of_device_and_service_make_no_request(gateway):
    fake, device = gateway
    before = len(fake.requests())
    device_repr, service_repr = repr(device), repr(device.WANIPConnection)
    assert "upnpy lab gateway" in device_repr and "\n" not in device_repr
    assert "WANIPConnection" in service_repr and "\n" not in service_repr
    assert len(fake.requests()) == before


@pytest.mark.parametrize(
    "name",
    [
        "_ipython_canary_method_should_not_exist_",
        "_repr_mimebundle_",
        "_ipython_display_",
        "__wrapped__",
        "_foo",
        "__getstate_missing__",
    ],
)
def test_underscore_probes_raise_attribute_error_without_a_request(gateway, name):
    fake, device = gateway
    service = device.WANIPConnection
    before = len(fake.requests())
    for obj in (device, service):
        with pytest.raises(AttributeError):
            getattr(obj, name)
        assert not hasattr(obj, name)
    assert len(fake.requests()) == before  # the SCPD was not fetched either


def test_hasattr_and_getattr_default_on_an_unknown_service(gateway):
    fake, device = gateway
    before = len(fake.requests())
    assert hasattr(device, "Nope") is False
    assert getattr(device, "Nope", 42) == 42
    assert hasattr(device, "WANIPConnection") is True
    assert len(fake.requests()) == before


def test_unknown_service_attribute_error_names_the_candidates(gateway):
    _, device = gateway
    with pytest.raises(AttributeError) as info:
        device.Nope  # noqa: B018 - the lookup is what raises
    message = str(info.value)
    assert "Nope" in message
    for name in GATEWAY_SERVICES:
        assert name in message
    if sys.version_info >= (3, 10):
        assert info.value.name == "Nope"
        assert info.value.obj is device


def test_unknown_action_attribute_error_names_the_candidates(gateway):
    _, device = gateway
    service = device.WANIPConnection
    with pytest.raises(AttributeError) as info:
        service.AddPortMaping  # noqa: B018 - the lookup is what raises
    message = str(info.value)
    assert "AddPortMaping" in message
    assert "AddPortMapping" in message and "GetExternalIPAddress" in message
    if sys.version_info >= (3, 10):
        assert info.value.name == "AddPortMaping"
        assert info.value.obj is service


@pytest.mark.skipif(sys.version_info < (3, 10), reason="name=/obj= suggestions are 3.10+")
def test_the_interpreter_suggests_the_right_name(gateway, capsys):
    _, device = gateway
    for obj, typo, right in [
        (device, "WANIPConnectoin", "WANIPConnection"),
        (device.WANIPConnection, "GetExternalIPAdress", "GetExternalIPAddress"),
    ]:
        try:
            getattr(obj, typo)
        except AttributeError as exc:
            sys.__excepthook__(type(exc), exc, exc.__traceback__)
        else:
            pytest.fail(f"{typo} did not raise")
        assert f"Did you mean: '{right}'?" in capsys.readouterr().err


def test_dir_of_a_service_lists_actions_and_fetches_the_scpd_once(gateway):
    fake, device = gateway
    service = device.WANIPConnection
    assert fake.gets("/WANIPCn.xml") == []
    names = dir(service)
    expected = {"AddPortMapping", "GetExternalIPAddress", "DeletePortMapping", "AddAnyPortMapping"}
    assert expected <= set(names)
    assert {"actions", "state_variables", "control_url"} <= set(names)
    assert len(fake.gets("/WANIPCn.xml")) == 1
    before = len(fake.requests())
    assert dir(service) == names
    service.AddPortMapping, service["GetExternalIPAddress"], service.state_variables
    assert len(fake.requests()) == before


def test_signature_has_the_in_arguments_in_scpd_order(gateway):
    _, device = gateway
    action = device.WANIPConnection.AddPortMapping
    signature = inspect.signature(action)
    assert list(signature.parameters) == ADD_PORT_MAPPING_IN
    assert {p.kind for p in signature.parameters.values()} == {
        inspect.Parameter.POSITIONAL_OR_KEYWORD
    }
    assert all(p.default is inspect.Parameter.empty for p in signature.parameters.values())
    annotations = {name: p.annotation for name, p in signature.parameters.items()}
    assert annotations["NewExternalPort"] is int
    assert annotations["NewEnabled"] is bool
    assert annotations["NewProtocol"] is str
    # an action without in-arguments takes none
    assert list(inspect.signature(device.WANIPConnection.GetExternalIPAddress).parameters) == []


def test_help_text_shows_signature_types_and_ranges(gateway):
    _, device = gateway
    action = device.WANIPConnection.AddPortMapping
    text = pydoc.render_doc(action, renderer=pydoc.plaintext)
    assert "AddPortMapping" + str(inspect.signature(action)) in text
    lines = text.splitlines()
    expected = {
        "NewRemoteHost": ["string"],
        "NewExternalPort": ["ui2"],
        "NewProtocol": ["string", "'TCP'", "'UDP'"],
        "NewInternalPort": ["ui2", "1..65535"],
        "NewInternalClient": ["string"],
        "NewEnabled": ["boolean"],
        "NewPortMappingDescription": ["string"],
        "NewLeaseDuration": ["ui4", "0..604800"],
    }
    for argument, words in expected.items():
        assert any(argument in line and all(word in line for word in words) for line in lines), (
            f"no line of help() documents {argument} as {words}:\n{text}"
        )
    outs = pydoc.render_doc(device.WANIPConnection.GetExternalIPAddress, renderer=pydoc.plaintext)
    assert "NewExternalIPAddress" in outs


def test_action_names_and_repr(gateway):
    _, device = gateway
    action = device.WANIPConnection.AddPortMapping
    assert action.__qualname__ == "WANIPConnection.AddPortMapping"
    assert action.__name__ == "AddPortMapping"
    text = repr(action)
    assert "\n" not in text
    assert "WANIPConnection.AddPortMapping" in text
    assert "\n" not in repr(device.Layer3Forwarding.GetDefaultConnectionService)


@pytest.mark.parametrize("cls", [Device, Service])
def test_probing_a_half_built_object_does_not_recurse(cls):
    obj = cls.__new__(cls)  # what copy/pickle do before __dict__ is restored
    for name in (
        "services",
        "devices",
        "info",
        "device",
        "actions",
        "state_variables",
        "WANIPConnection",
        "__setstate__",
        "__reduce_ex__x",
        "__getnewargs_ex__",
    ):
        assert getattr(obj, name, None) is None
    clone = pickle.loads(pickle.dumps(obj))
    assert type(clone) is cls
    assert type(copy.copy(obj)) is cls


def test_copy_and_pickle_of_live_objects_do_not_recurse(gateway):
    _, device = gateway
    service = device.WANIPConnection
    for obj in (device, service, device.Layer3Forwarding.GetDefaultConnectionService):
        clone = copy.copy(obj)
        assert type(clone) is type(obj)
        try:
            pickle.dumps(obj)
        except (TypeError, pickle.PicklingError):  # a lock or a session cannot be pickled: fine
            pass
    assert copy.copy(device).WANIPConnection is service


# --- 2. finding services ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "WANIPConnection",
        "WANIPConnection:2",
        WANIP2,
        "urn:upnp-org:serviceId:WANIPConn1",
        "WANIPConn1",
    ],
)
def test_gateway_service_lookup(gateway, key):
    fake, device = gateway
    before = len(fake.requests())
    service = device[key]
    assert service.service_type == WANIP2
    assert service.control_url == fake.url + "/ctl/IPConn"
    assert service.scpd_url == fake.url + "/WANIPCn.xml"
    assert service is device.WANIPConnection
    if key.isidentifier():
        assert getattr(device, key) is service
    assert len(fake.requests()) == before


def test_gateway_services_are_distinct(gateway):
    fake, device = gateway
    services = [getattr(device, name) for name in GATEWAY_SERVICES]
    assert len({id(s) for s in services}) == len(services)
    assert device.Layer3Forwarding.control_url == fake.url + "/ctl/L3F"
    assert device["L3Forwarding1"] is device.Layer3Forwarding


def test_unknown_service_item_is_a_key_error_naming_services(gateway):
    _, device = gateway
    with pytest.raises(KeyError) as info:
        device["Nope"]
    message = str(info.value)
    assert "Nope" in message
    for name in GATEWAY_SERVICES:
        assert name in message


def test_light_service_lookup_reaches_two_different_services(lab):
    fake, light = lab.light()
    switch, dimming = light.SwitchPower, light.Dimming
    assert switch is not dimming
    assert switch.service_type == SWITCH and dimming.service_type == DIMMING
    assert light["SwitchPower:1"] is switch  # name:version and GUPnP's serviceId id part
    assert light["urn:upnp-org:serviceId:SwitchPower:1"] is switch
    assert light["Dimming:1"] is dimming
    assert light[DIMMING] is dimming
    assert switch.control_url == fake.url + "/SwitchPower/Control"
    assert dimming.control_url == fake.url + "/Dimming/Control"
    assert switch.scpd_url == fake.url + "/xml/SwitchPower-scpd.xml"
    assert {"SwitchPower", "Dimming"} <= set(dir(light))
    assert set(switch.actions) == {"SetTarget", "GetTarget", "GetStatus"}
    assert set(dimming.actions) == {
        "SetLoadLevelTarget",
        "GetLoadLevelTarget",
        "GetLoadLevelStatus",
    }


def test_light_calls_go_to_each_service_control_url(lab):
    fake, light = lab.light()
    fake.answer("/SwitchPower/Control", SWITCH, "SetTarget")
    fake.answer("/SwitchPower/Control", SWITCH, "GetStatus", [("ResultStatus", "1")])
    fake.answer("/Dimming/Control", DIMMING, "GetLoadLevelStatus", [("retLoadlevelStatus", "42")])
    assert light.SwitchPower.SetTarget(True) == {}
    assert light.SwitchPower.GetStatus() == {"ResultStatus": True}
    assert light.Dimming.GetLoadLevelStatus() == {"retLoadlevelStatus": 42}
    set_target = fake.posts("/SwitchPower/Control")[0]
    assert set_target.headers["SOAPAction"] == f'"{SWITCH}#SetTarget"'
    assert sent_call(set_target) == (SWITCH, "SetTarget", [("newTargetValue", "1")])
    before = len(fake.requests())
    with pytest.raises(ValidationError):
        light.Dimming.SetLoadLevelTarget(101)  # ui1, 0..100
    assert len(fake.requests()) == before


@pytest.fixture
def two_wan(lab):
    documents = lab_documents({"/WANIPCn.xml": "gw-WANIPCn.xml", "/L3F.xml": "gw-L3F.xml"})
    documents["/desc.xml"] = (PROXY_DATA / "two-wan-root.xml").read_bytes()
    fake = lab.serve(documents)
    return fake, lab.connect(fake.url + "/desc.xml")


@pytest.mark.parametrize("key", ["WANIPConnection", "WANIPConnection:1", WANIP1, "WANIPConn1"])
def test_an_ambiguous_name_lists_both_candidates_instead_of_picking_one(two_wan, key):
    fake, device = two_wan
    with pytest.raises(KeyError) as by_item:
        device[key]
    messages = [str(by_item.value)]
    if key.isidentifier():
        with pytest.raises(AttributeError) as by_attribute:
            getattr(device, key)
        messages.append(str(by_attribute.value))
        if sys.version_info >= (3, 10):
            assert by_attribute.value.name == key and by_attribute.value.obj is device
    for message in messages:
        assert "WAN connection A" in message and "WAN connection B" in message
    assert fake.posts() == []


def test_dir_leaves_out_an_ambiguous_name(two_wan):
    _, device = two_wan
    names = dir(device)
    assert "WANIPConnection" not in names and "WANIPConn1" not in names
    assert "Layer3Forwarding" in names


def test_an_embedded_device_reaches_its_own_service(two_wan):
    fake, device = two_wan
    first = device.devices[0].devices[0]
    second = device.devices[0].devices[1]
    assert first.WANIPConnection.control_url == fake.url + "/ctl/IPConnA"
    assert second.WANIPConnection.control_url == fake.url + "/ctl/IPConnB"
    assert device.Layer3Forwarding.service_type.endswith("Layer3Forwarding:1")
    fake.answer(
        "/ctl/IPConnB", WANIP1, "GetExternalIPAddress", [("NewExternalIPAddress", "2.2.2.2")]
    )
    assert second.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": "2.2.2.2"}
    post = fake.posts()[0]
    assert post.path == "/ctl/IPConnB"
    assert post.headers["SOAPAction"] == f'"{WANIP1}#GetExternalIPAddress"'
    assert sent_call(post) == (WANIP1, "GetExternalIPAddress", [])


# --- 3. calls --------------------------------------------------------------------------------

DESCRIPTION = "web <&> \"quoted\" 'x'"


def test_add_port_mapping_with_keywords_sends_scpd_order_and_encoded_values(gateway):
    fake, device = gateway
    fake.answer("/ctl/IPConn", WANIP2, "AddPortMapping")
    result = device.WANIPConnection.AddPortMapping(  # keywords deliberately out of order
        NewLeaseDuration=3600,
        NewPortMappingDescription=DESCRIPTION,
        NewEnabled=True,
        NewInternalClient="10.77.0.2",
        NewInternalPort=80,
        NewProtocol="TCP",
        NewExternalPort=8080,
        NewRemoteHost="",
    )
    assert result == {}
    [post] = fake.posts()
    assert post.path == "/ctl/IPConn"
    assert post.headers["SOAPAction"] == f'"{WANIP2}#AddPortMapping"'
    assert post.headers["Content-Type"].startswith("text/xml")
    service_type, action, arguments = sent_call(post)
    assert (service_type, action) == (WANIP2, "AddPortMapping")
    assert arguments == [
        ("NewRemoteHost", None),  # <NewRemoteHost></NewRemoteHost>
        ("NewExternalPort", "8080"),
        ("NewProtocol", "TCP"),
        ("NewInternalPort", "80"),
        ("NewInternalClient", "10.77.0.2"),
        ("NewEnabled", "1"),
        ("NewPortMappingDescription", DESCRIPTION),
        ("NewLeaseDuration", "3600"),
    ]
    raw = post.body.decode()
    start = raw.index("<NewPortMappingDescription>") + len("<NewPortMappingDescription>")
    sent = raw[start : raw.index("</NewPortMappingDescription>")]
    assert "&lt;&amp;&gt;" in sent and "<" not in sent and ">" not in sent
    assert "<NewRemoteHost></NewRemoteHost>" in raw or "<NewRemoteHost/>" in raw


def test_add_port_mapping_positionally_sends_the_same_envelope(gateway):
    fake, device = gateway
    fake.answer("/ctl/IPConn", WANIP2, "AddPortMapping")
    action = device.WANIPConnection.AddPortMapping
    action(
        NewRemoteHost="",
        NewExternalPort=8080,
        NewProtocol="TCP",
        NewInternalPort=80,
        NewInternalClient="10.77.0.2",
        NewEnabled=True,
        NewPortMappingDescription=DESCRIPTION,
        NewLeaseDuration=3600,
    )
    action("", 8080, "TCP", 80, "10.77.0.2", True, DESCRIPTION, 3600)
    action(
        "",
        8080,
        "TCP",
        80,
        "10.77.0.2",
        NewEnabled=True,
        NewPortMappingDescription=DESCRIPTION,
        NewLeaseDuration=3600,
    )
    keyword, positional, mixed = fake.posts("/ctl/IPConn")
    assert positional.body == keyword.body == mixed.body
    assert positional.headers["SOAPAction"] == keyword.headers["SOAPAction"]


def test_a_users_requests_session_sends_the_same_call(lab):
    bodies = []
    for session in (None, requests.Session()):
        fake, device = lab.gateway(session=session)
        fake.answer("/ctl/IPConn", WANIP2, "AddPortMapping")
        fake.answer(
            "/ctl/IPConn",
            WANIP2,
            "GetNATRSIPStatus",
            [("NewRSIPAvailable", "0"), ("NewNATEnabled", "1")],
        )
        service = device.WANIPConnection
        assert service.AddPortMapping("", 8080, "TCP", 80, "10.77.0.2", True, DESCRIPTION, 0) == {}
        assert service.GetNATRSIPStatus() == {"NewRSIPAvailable": False, "NewNATEnabled": True}
        post = fake.posts()[0]
        assert post.path == "/ctl/IPConn"
        assert post.headers["SOAPAction"] == f'"{WANIP2}#AddPortMapping"'
        bodies.append(post.body)
        if session is not None:
            session.close()
    assert bodies[0] == bodies[1]


def test_out_arguments_come_back_typed(gateway):
    fake, device = gateway
    fake.answer(
        "/ctl/IPConn",
        WANIP2,
        "GetGenericPortMappingEntry",
        [
            ("NewRemoteHost", ""),
            ("NewExternalPort", "8080"),
            ("NewProtocol", "TCP"),
            ("NewInternalPort", "80"),
            ("NewInternalClient", "10.77.0.2"),
            ("NewEnabled", "1"),
            ("NewPortMappingDescription", "a <b> & c"),
            ("NewLeaseDuration", "0"),
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UPnPWarning)  # a conformant answer warns about nothing
        result = device.WANIPConnection.GetGenericPortMappingEntry(NewPortMappingIndex=0)
    assert result == {
        "NewRemoteHost": "",
        "NewExternalPort": 8080,
        "NewProtocol": "TCP",
        "NewInternalPort": 80,
        "NewInternalClient": "10.77.0.2",
        "NewEnabled": True,
        "NewPortMappingDescription": "a <b> & c",
        "NewLeaseDuration": 0,
    }
    assert type(result["NewExternalPort"]) is int and type(result["NewEnabled"]) is bool
    assert sent_call(fake.posts()[0])[2] == [("NewPortMappingIndex", "0")]
    fake.answer(
        "/ctl/IPConn",
        WANIP2,
        "GetNATRSIPStatus",
        [("NewRSIPAvailable", "0"), ("NewNATEnabled", "1")],
    )
    assert device.WANIPConnection.GetNATRSIPStatus() == {
        "NewRSIPAvailable": False,
        "NewNATEnabled": True,
    }


@pytest.mark.parametrize(
    "args, kwargs",
    [
        pytest.param(("", 8080, "TCP", 80, "10.77.0.2", True, "x"), {}, id="one-missing"),
        pytest.param((), {"NewExternalPort": 8080}, id="most-missing"),
        pytest.param(
            ("", 8080, "TCP", 80, "10.77.0.2", True, "x", 0), {"NewFoo": 1}, id="unknown-keyword"
        ),
        pytest.param(
            ("", 8080, "TCP", 80, "10.77.0.2", True, "x", 0, "extra"), {}, id="too-many-positional"
        ),
        pytest.param(
            ("", 8080, "TCP", 80, "10.77.0.2", True, "x", 0),
            {"NewRemoteHost": ""},
            id="given-twice",
        ),
        pytest.param((), {"newexternalport": 1}, id="wrong-case"),
    ],
)
def test_wrong_arguments_raise_type_error_before_sending(gateway, args, kwargs):
    fake, device = gateway
    fake.answer("/ctl/IPConn", WANIP2, "AddPortMapping")
    action = loaded(fake, device).AddPortMapping
    before = len(fake.requests())
    with pytest.raises(TypeError):
        action(*args, **kwargs)
    assert len(fake.requests()) == before


@pytest.mark.parametrize(
    "argument, value",
    [
        ("NewExternalPort", 65536),  # ui2
        ("NewExternalPort", -1),
        ("NewInternalPort", 0),  # allowedValueRange 1..65535
        ("NewLeaseDuration", 604801),  # allowedValueRange 0..604800
        ("NewProtocol", "ICMP"),  # allowedValueList TCP, UDP
        ("NewEnabled", "maybe"),
        ("NewExternalPort", "80a"),
        ("NewPortMappingDescription", "nul\x00byte"),
    ],
)
def test_invalid_values_raise_validation_error_before_sending(gateway, argument, value):
    fake, device = gateway
    fake.answer("/ctl/IPConn", WANIP2, "AddPortMapping")
    service = loaded(fake, device)
    arguments = {
        "NewRemoteHost": "",
        "NewExternalPort": 8080,
        "NewProtocol": "TCP",
        "NewInternalPort": 80,
        "NewInternalClient": "10.77.0.2",
        "NewEnabled": True,
        "NewPortMappingDescription": "x",
        "NewLeaseDuration": 0,
    }
    service.AddPortMapping(**arguments)  # the valid call goes through
    before = len(fake.requests())
    with pytest.raises(ValidationError) as info:
        service.AddPortMapping(**{**arguments, argument: value})
    assert info.value.argument == argument
    assert isinstance(info.value, ValueError)
    assert len(fake.requests()) == before


def test_a_fault_is_an_action_error_with_its_code(gateway):
    fake, device = gateway
    fault = soap_fault(718, "ConflictInMappingEntry")
    fake.answers[("/ctl/IPConn", "AddPortMapping")] = (500, fault)
    with pytest.raises(ActionError) as info:
        device.WANIPConnection.AddPortMapping("", 8080, "TCP", 80, "10.77.0.2", True, "x", 0)
    assert info.value.code == 718
    assert info.value.description == "ConflictInMappingEntry"
    assert info.value.action == "AddPortMapping"
    assert len(fake.posts()) == 1


SPECIFIC_OUT = [
    ("NewInternalPort", "80"),
    ("NewInternalClient", "10.77.0.2"),
    ("NewEnabled", "1"),
    ("NewPortMappingDescription", "web"),
    ("NewLeaseDuration", "3600"),
]


def test_a_missing_out_argument_is_none_with_a_warning(gateway):
    fake, device = gateway
    fake.answer(
        "/ctl/IPConn",
        WANIP2,
        "GetSpecificPortMappingEntry",
        [a for a in SPECIFIC_OUT if a[0] != "NewLeaseDuration"],
    )
    with pytest.warns(UPnPWarning, match="NewLeaseDuration") as record:
        result = device.WANIPConnection.GetSpecificPortMappingEntry("", 8080, "TCP")
    assert result == {
        "NewInternalPort": 80,
        "NewInternalClient": "10.77.0.2",
        "NewEnabled": True,
        "NewPortMappingDescription": "web",
        "NewLeaseDuration": None,
    }
    assert [w.filename for w in record] == [__file__]  # attributed to the caller's line


def test_an_extra_out_argument_is_kept_raw(gateway):
    fake, device = gateway
    fake.answer(
        "/ctl/IPConn",
        WANIP2,
        "GetExternalIPAddress",
        [("NewExternalIPAddress", "11.22.33.44"), ("X_VendorCounter", " 0042 ")],
    )
    result = device.WANIPConnection.GetExternalIPAddress()
    assert result == {"NewExternalIPAddress": "11.22.33.44", "X_VendorCounter": " 0042 "}


def test_a_wrong_out_value_is_kept_raw_with_a_warning(gateway):
    fake, device = gateway
    out = [("NewInternalPort", "abc"), *SPECIFIC_OUT[1:]]  # ui2
    fake.answer("/ctl/IPConn", WANIP2, "GetSpecificPortMappingEntry", out)
    with pytest.warns(UPnPWarning, match="abc") as record:
        result = device.WANIPConnection.GetSpecificPortMappingEntry("", 8080, "TCP")
    assert result["NewInternalPort"] == "abc"
    assert result["NewLeaseDuration"] == 3600 and result["NewEnabled"] is True
    assert any(
        "NewInternalPort" in str(w.message) or "InternalPort" in str(w.message) for w in record
    )


def test_a_wrong_out_value_warning_points_at_the_caller(gateway):
    fake, device = gateway
    fake.answer(
        "/ctl/IPConn",
        WANIP2,
        "GetSpecificPortMappingEntry",
        [("NewInternalPort", "abc"), *SPECIFIC_OUT[1:]],
    )
    with pytest.warns(UPnPWarning) as record:
        device.WANIPConnection.GetSpecificPortMappingEntry("", 8080, "TCP")
    assert [w.filename for w in record] == [__file__]


# --- 4. robustness ---------------------------------------------------------------------------


def test_a_missing_scpd_breaks_only_its_own_service(lab):
    fake, device = lab.gateway(WANIPCn=None)  # /WANIPCn.xml answers 404
    broken = device.WANIPConnection  # finding the service needs no SCPD
    with pytest.raises(DescriptionError) as info:
        broken.GetExternalIPAddress()
    assert info.value.url == fake.url + "/WANIPCn.xml"
    with pytest.raises(DescriptionError):
        broken.actions  # noqa: B018 - the lookup is what raises
    with pytest.raises(DescriptionError):
        broken["AddPortMapping"]
    names = dir(broken)  # completion never raises
    assert "actions" in names and "AddPortMapping" not in names
    assert repr(broken)
    fake.answer(
        "/ctl/L3F",
        "urn:schemas-upnp-org:service:Layer3Forwarding:1",
        "GetDefaultConnectionService",
        [("NewDefaultConnectionService", "uuid:x:WANIPConn1")],
    )
    assert device.Layer3Forwarding.GetDefaultConnectionService() == {
        "NewDefaultConnectionService": "uuid:x:WANIPConn1"
    }
    assert [r.path for r in fake.posts()] == ["/ctl/L3F"]


def test_a_broken_scpd_is_retried_on_next_use(lab):
    fake, device = lab.gateway(WANIPCn=None)
    with pytest.raises(DescriptionError):
        device.WANIPConnection.actions  # noqa: B018 - the lookup is what raises
    fake.documents["/WANIPCn.xml"] = (LAB_DATA / "gw-WANIPCn.xml").read_bytes()
    assert "AddPortMapping" in device.WANIPConnection.actions
    assert len(fake.gets("/WANIPCn.xml")) == 2


def test_an_scpd_that_is_a_device_description_is_a_description_error(lab):
    fake, device = lab.gateway(WANIPCn=(LAB_DATA / "gw-root.xml").read_bytes())
    with pytest.raises(DescriptionError) as info:
        device.WANIPConnection.GetExternalIPAddress  # noqa: B018 - the lookup is what raises
    assert info.value.url == fake.url + "/WANIPCn.xml"
    assert "AddPortMapping" not in dir(device.WANIPConnection)
    assert fake.posts() == []


def _run_threads(count: int, target: Callable[[int], object]) -> Tuple[list, list]:
    """Run target(i) in *count* threads released together; (results by i, errors)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), name=f"caller-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_twenty_threads_share_one_device(gateway):
    fake, device = gateway
    fake.answer(
        "/ctl/IPConn", WANIP2, "GetExternalIPAddress", [("NewExternalIPAddress", "11.22.33.44")]
    )
    results, errors = _run_threads(20, lambda i: device.WANIPConnection.GetExternalIPAddress())
    assert errors == []
    assert results == [{"NewExternalIPAddress": "11.22.33.44"}] * 20
    assert len(fake.gets("/WANIPCn.xml")) == 1  # the SCPD was fetched once
    assert len(fake.posts("/ctl/IPConn")) == 20


def test_concurrent_calls_never_mix_their_arguments(gateway):
    fake, device = gateway

    def echo(request: Request) -> Canned:
        arguments = dict(sent_call(request)[2])
        port = arguments["NewExternalPort"]
        out = [
            ("NewInternalPort", port),
            ("NewInternalClient", "10.0.0.1"),
            ("NewEnabled", "1"),
            ("NewPortMappingDescription", f"port {port}"),
            ("NewLeaseDuration", "0"),
        ]
        return 200, soap_response(WANIP2, "GetSpecificPortMappingEntry", out)

    fake.answers[("/ctl/IPConn", "GetSpecificPortMappingEntry")] = echo
    results, errors = _run_threads(
        20, lambda i: device.WANIPConnection.GetSpecificPortMappingEntry("", 1000 + i, "TCP")
    )
    assert errors == []
    assert [(r["NewInternalPort"], r["NewPortMappingDescription"]) for r in results] == [
        (1000 + i, f"port {1000 + i}") for i in range(20)
    ]
    assert len(fake.gets("/WANIPCn.xml")) == 1


def test_state_variables_are_never_seen_half_loaded(gateway):
    _, device = gateway
    service = device.WANIPConnection
    seen: list = []
    readers: List[threading.Thread] = []

    def read() -> None:
        try:
            seen.append("ExternalPort" in service.state_variables)
        except Exception as exc:  # recorded and asserted on
            seen.append(exc)

    class Observed(type(service)):
        """After each store that publishes the SCPD, look at the service from another thread:
        what that thread would see if the loading thread were pre-empted right there."""

        def __setattr__(self, name: str, value: object) -> None:
            super().__setattr__(name, value)
            if name in ("_actions", "_scpd") and value is not None:
                reader = threading.Thread(target=read, name=f"reader-after-{name}")
                readers.append(reader)
                reader.start()
                reader.join(timeout=1)  # a reader waiting on the loader's lock finishes later

    service.__class__ = Observed
    assert "ExternalPort" in service.state_variables
    for reader in readers:
        reader.join()
    assert readers and seen == [True] * len(readers)


# --- 5. the public API -----------------------------------------------------------------------


def test_all_names_exist_and_every_public_class_or_function_is_in_all():
    assert len(upnpy.__all__) == len(set(upnpy.__all__))
    missing = [name for name in upnpy.__all__ if not hasattr(upnpy, name)]
    assert missing == []
    public = {
        name
        for name, value in vars(upnpy).items()
        if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert public - set(upnpy.__all__) == set()
    namespace: dict = {}
    exec("from upnpy import *", namespace)  # the star import gives exactly __all__
    assert set(namespace) - {"__builtins__"} == set(upnpy.__all__)


EXPORTED_CLASSES = [n for n in upnpy.__all__ if inspect.isclass(getattr(upnpy, n, None))]


def test_the_core_classes_are_exported():
    assert {
        "Device",
        "Service",
        "Action",
        "DeviceInfo",
        "ServiceInfo",
        "StateVariableInfo",
        "UPnPError",
        "DescriptionError",
        "ValidationError",
        "TransportError",
        "ActionError",
        "UPnPWarning",
    } <= set(EXPORTED_CLASSES)


@pytest.mark.parametrize("name", EXPORTED_CLASSES)  # classes added to __all__ later included
def test_exported_classes_say_they_live_in_upnpy(name):
    cls = getattr(upnpy, name)
    assert cls.__module__ == "upnpy"
    assert getattr(sys.modules[cls.__module__], cls.__qualname__) is cls


def test_an_action_makes_its_docs_and_signature_when_first_read(gateway):
    fake, device = gateway
    service = device.WANIPConnection
    fake.answer(
        "/ctl/IPConn", service.service_type, "GetExternalIPAddress", [("NewExternalIPAddress", "")]
    )
    action = service.GetExternalIPAddress
    assert "__signature__" not in vars(action) and "__doc__" not in vars(action)
    assert type(action) is upnpy.Action  # its own subclass comes with them
    action()  # a call needs neither
    assert "__doc__" not in vars(action)
    assert str(inspect.signature(action)) == "() -> Dict[str, Any]"
    assert type(action) is not upnpy.Action and isinstance(action, upnpy.Action)
    assert action.__doc__.startswith("Call GetExternalIPAddress of")
    assert upnpy.Action.__doc__.startswith("One UPnP action of a service")
    other = device.WANIPConnection.AddPortMapping
    assert other.__doc__.startswith("Call AddPortMapping of")  # the docs first, this time
    assert list(inspect.signature(other).parameters) == ADD_PORT_MAPPING_IN
