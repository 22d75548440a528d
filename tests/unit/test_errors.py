"""Errors that read well: one translation table (upnpy._errors), short tracebacks, clear lines.

Pure tests of the table first, then what a user sees from a dead device, a rejected value
and a wrong argument name (a loopback server serves the lab gateway's documents).
"""

import socket
import traceback

import pytest
import requests
from fakes import lab_documents
from servers import LoopbackServer

import upnpy
from upnpy._errors import translate
from upnpy._exceptions import BodyTooLarge, FramingError, XMLError

DOCUMENTS = {
    "/rootDesc.xml": "gw-root.xml",
    "/WANIPCn.xml": "gw-WANIPCn.xml",
}
URL = "http://127.0.0.1:9/x"


def raised_by(exc: BaseException, **options: object) -> upnpy.UPnPError:
    with pytest.raises(upnpy.UPnPError) as info, translate(URL, **options):
        raise exc
    return info.value


# --- the table ---------------------------------------------------------------------------


def test_a_timeout_is_a_transport_timeout_and_a_timeout_error():
    error = raised_by(socket.timeout("timed out"), status=200)
    assert type(error) is upnpy.TransportTimeout
    assert isinstance(error, upnpy.TransportError) and isinstance(error, TimeoutError)
    assert (error.url, error.status, str(error)) == (URL, 200, f"timed out ({URL})")


def test_an_os_error_is_a_transport_error_with_its_cause_kept():
    cause = ConnectionRefusedError(111, "Connection refused")
    error = raised_by(cause)
    assert type(error) is upnpy.TransportError and not isinstance(error, TimeoutError)
    assert error.cause is cause
    assert error.__cause__ is None and error.__suppress_context__  # one traceback, not two
    assert error.message == "connection failed: [Errno 111] Connection refused"


def test_requests_errors_are_mapped_before_os_errors():
    assert type(raised_by(requests.ConnectTimeout("slow"))) is upnpy.TransportTimeout
    assert type(raised_by(requests.ConnectionError("refused"))) is upnpy.TransportError


@pytest.mark.parametrize("exc", [FramingError("bad chunk size b'0x3'"), BodyTooLarge(10, 11)])
def test_malformed_http_is_a_transport_error(exc):
    error = raised_by(exc, status=200)
    assert type(error) is upnpy.TransportError and error.status == 200
    assert error.message == str(exc)


@pytest.mark.parametrize(
    ("malformed", "expected"),
    [
        (upnpy.TransportError, upnpy.TransportError),
        (upnpy.DescriptionError, upnpy.DescriptionError),
    ],
)
def test_malformed_xml_becomes_the_documents_own_error(malformed, expected):
    error = raised_by(XMLError("malformed XML: no element found"), malformed=malformed)
    assert type(error) is expected and error.url == URL


def test_upnp_errors_pass_unchanged_and_bugs_are_not_disguised():
    original = upnpy.ActionError(714, "NoSuchEntryInArray")
    assert raised_by(original) is original
    with pytest.raises(KeyError), translate(URL):
        raise KeyError("a bug in upnpy stays a bug")


# --- what a user sees --------------------------------------------------------------------


def dead_url() -> str:
    """A loopback URL whose port refuses connections (bound, never listening)."""
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{placeholder.getsockname()[1]}/rootDesc.xml"


def shown(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def test_a_dead_device_gives_one_short_traceback_ending_in_a_clear_line():
    url = dead_url()
    with pytest.raises(upnpy.DescriptionError) as info:
        upnpy.Device(url, timeout=2)
    text = shown(info.value)
    assert text.count("Traceback (most recent call last)") == 1
    assert "direct cause" not in text and "During handling" not in text
    last = text.rstrip().splitlines()[-1]
    assert last == (
        f"upnpy.DescriptionError: cannot fetch: connection failed: "
        f"[Errno 111] Connection refused ({url})"
    )
    transport_error = info.value.cause
    assert isinstance(transport_error, upnpy.TransportError)
    assert isinstance(transport_error.cause, ConnectionRefusedError)


@pytest.fixture
def gateway():
    documents = lab_documents(DOCUMENTS)

    def handle(request, reply):
        body = documents.get(request.path)
        reply.send(200 if body else 404, body or b"", {"Content-Type": "text/xml"})

    with LoopbackServer(handle) as server, upnpy.Device(server.url + "/rootDesc.xml") as device:
        yield server, device


def test_a_device_that_dies_gives_a_transport_error_with_one_traceback(gateway):
    server, device = gateway
    wan = device.WANIPConnection
    assert "GetExternalIPAddress" in wan.actions
    server.close()
    with pytest.raises(upnpy.TransportError) as info:
        wan.GetExternalIPAddress()
    text = shown(info.value)
    assert text.count("Traceback (most recent call last)") == 1
    assert text.rstrip().splitlines()[-1].startswith("upnpy.TransportError: connection failed")


def test_a_validation_error_does_not_print_an_internal_value_error_first(gateway):
    _, device = gateway
    with pytest.raises(upnpy.ValidationError) as info:
        device.WANIPConnection.DeletePortMapping("", 70000, "TCP")
    text = shown(info.value)
    assert text.count("Traceback (most recent call last)") == 1
    assert "\nValueError" not in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith("upnpy.ValidationError: NewExternalPort: 70000 is outside the ui2 range")
    )


def test_a_wrong_argument_name_names_the_action_and_the_closest_real_name(gateway):
    _, device = gateway
    add = device.WANIPConnection.AddPortMapping
    with pytest.raises(TypeError) as info:
        add(ExternalPort=8080)
    assert str(info.value) == (
        "AddPortMapping() got an unexpected keyword argument 'ExternalPort'; "
        "did you mean 'NewExternalPort'?"
    )
    assert info.value.__context__ is None  # raised by upnpy, not from inside inspect
    with pytest.raises(
        TypeError,
        match=r"^AddPortMapping\(\) got an unexpected .* 'NewProtocl'; "
        r"did you mean 'NewProtocol'\?$",
    ):
        add(NewProtocl="TCP")
    with pytest.raises(
        TypeError,
        match=r"^AddPortMapping\(\) got an unexpected keyword argument "
        r"'Banana'$",
    ):
        add(Banana=1)


def test_a_missing_argument_names_the_action(gateway):
    _, device = gateway
    with pytest.raises(TypeError) as info:
        device.WANIPConnection.DeletePortMapping("", 8080)
    assert str(info.value) == "DeletePortMapping() missing a required argument: 'NewProtocol'"
    assert info.value.__context__ is None
