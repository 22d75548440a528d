"""upnpy._soap: envelopes and response parsing (pure), then calls against a loopback server."""

import xml.etree.ElementTree as ET

import pytest
import requests
from fakes import ENC_NS, ENV_NS, envelope, soap_fault
from servers import LoopbackServer, headers_dict, new_session

from upnpy import _soap as soap
from upnpy import _transport
from upnpy._exceptions import ActionError, TransportError, TransportTimeout, ValidationError
from upnpy._http import USER_AGENT
from upnpy._transport import SocketTransport

ST = "urn:schemas-upnp-org:service:WANIPConnection:1"
RC = "urn:schemas-upnp-org:service:RenderingControl"


def response(action: str = "GetExternalIPAddress", args: str = "", prefix: str = "s") -> bytes:
    return envelope(f'<u:{action}Response xmlns:u="{ST}">{args}</u:{action}Response>', prefix)


def fault(code: str = "714", description: str = "NoSuchEntryInArray", prefix: str = "s") -> bytes:
    return soap_fault(code, description, prefix)


# --- build_envelope -------------------------------------------------------------------


def test_envelope_is_compact_and_exact():
    args = [("NewRemoteHost", ""), ("NewExternalPort", "8080")]
    body = soap.build_envelope(ST, "AddPortMapping", args)
    assert (
        body
        == (
            f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENV_NS}" s:encodingStyle="{ENC_NS}">'
            "<s:Body>"
            f'<u:AddPortMapping xmlns:u="{ST}"><NewRemoteHost></NewRemoteHost>'
            "<NewExternalPort>8080</NewExternalPort></u:AddPortMapping></s:Body></s:Envelope>"
        ).encode()
    )


def test_envelope_parses_with_the_right_namespaces_and_order():
    args = [("B", "2"), ("A", "1"), ("C", ""), ("Z", "x")]
    root = ET.fromstring(soap.build_envelope(ST, "Act", args))
    assert root.tag == f"{{{ENV_NS}}}Envelope"
    assert root.get(f"{{{ENV_NS}}}encodingStyle") == ENC_NS
    (action,) = root.find(f"{{{ENV_NS}}}Body")
    assert action.tag == f"{{{ST}}}Act"
    assert [(el.tag, el.text or "") for el in action] == args  # no namespace on the arguments


def test_envelope_escapes_values_and_service_type():
    nasty = "<a href=\"x\">&amp; 'q'</a> ]]>"
    odd_type = 'urn:x-"weird"&<co>:service:T:1'
    body = soap.build_envelope(odd_type, "Set", [("NewValue", nasty)])
    text = body.decode()
    assert "&lt;a href=&quot;x&quot;&gt;&amp;amp; &apos;q&apos;&lt;/a&gt; ]]&gt;" in text
    assert 'xmlns:u="urn:x-&quot;weird&quot;&amp;&lt;co&gt;:service:T:1"' in text
    root = ET.fromstring(body)
    (action,) = root.find(f"{{{ENV_NS}}}Body")
    assert action.tag == f"{{{odd_type}}}Set"
    assert action.find("NewValue").text == nasty


def test_envelope_keeps_carriage_returns_and_whitespace():
    value = " two\r\nlines\t "
    root = ET.fromstring(soap.build_envelope(ST, "Set", [("V", value)]))
    assert root.find(f".//{{{ST}}}Set/V").text == value


def test_envelope_is_utf8_with_byte_length():
    value = "Wohnzimmer – Küche ♫ 😀"
    body = soap.build_envelope(ST, "SetName", [("NewName", value)])
    assert isinstance(body, bytes)
    assert len(body) > len(body.decode("utf-8"))  # Content-Length must count these bytes
    assert value.encode("utf-8") in body
    assert ET.fromstring(body).find(f".//{{{ST}}}SetName/NewName").text == value


@pytest.mark.parametrize(
    "value", ["nul\x00", "bell\x07", "esc\x1b", "\ufffe", "half \ud800 surrogate"]
)
def test_envelope_refuses_characters_xml_cannot_carry(value):
    with pytest.raises(ValidationError) as info:
        soap.build_envelope(ST, "Set", [("NewValue", value)])
    assert info.value.argument == "NewValue"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "action, arg", [("Bad Action", "A"), ("Act", "a<b"), ("Act", ""), ("Act", "x:y"), ("1st", "A")]
)
def test_envelope_refuses_names_that_are_not_xml_names(action, arg):
    with pytest.raises(ValidationError):
        soap.build_envelope(ST, action, [(arg, "v")])


def test_envelope_refusals_are_not_remembered_with_the_envelopes():
    for _ in range(2):  # the parts of an envelope are cached, a refusal is raised each time
        with pytest.raises(ValidationError):
            soap.build_envelope(ST, "Bad Action", [])
        with pytest.raises(ValidationError):
            soap.build_envelope("urn:x\x00", "Act", [])
    assert soap.build_envelope(ST, "Act", []) == soap.build_envelope(ST, "Act", [])
    assert b"<V>1</V>" in soap.build_envelope(ST, "Act", [("V", "1")])
    assert b"<V>" not in soap.build_envelope(ST, "Act", [])


# --- parse_response -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["s", "SOAP-ENV", "soapenv", ""])
def test_response_with_any_envelope_prefix(prefix):
    body = response(args="<NewExternalIPAddress>11.22.33.44</NewExternalIPAddress>", prefix=prefix)
    expected = {"NewExternalIPAddress": "11.22.33.44"}
    assert soap.parse_response(body, "GetExternalIPAddress") == expected


@pytest.mark.parametrize(
    "element",
    [
        f'<m:GetVolumeResponse xmlns:m="{RC}:1">{{}}</m:GetVolumeResponse>',
        f'<u:GetVolumeResponse xmlns:u="{RC}">{{}}</u:GetVolumeResponse>',  # unversioned
        '<u:GetVolumeResponse xmlns:u="urn:klipsch-com:wrong:1">{}</u:GetVolumeResponse>',
        f'<GetVolumeResponse xmlns="{RC}:1">{{}}</GetVolumeResponse>',
        "<GetVolumeResponse>{}</GetVolumeResponse>",
        '<u:getvolumeresponse xmlns:u="x">{}</u:getvolumeresponse>',
        '<u:SomethingElse xmlns:u="x">{}</u:SomethingElse>',
    ],
)
def test_response_element_found_whatever_its_namespace_or_case(element):
    body = envelope(element.format("<CurrentVolume>42</CurrentVolume>"))
    assert soap.parse_response(body, "GetVolume") == {"CurrentVolume": "42"}


def test_response_element_preferred_over_other_children():
    body = envelope(
        '<u:Noise xmlns:u="x"><A>wrong</A></u:Noise>'
        '<u:getvolumeRESPONSE xmlns:u="x"><A>close</A></u:getvolumeRESPONSE>'
        '<u:GetVolumeResponse xmlns:u="x"><A>right</A></u:GetVolumeResponse>'
    )
    assert soap.parse_response(body, "GetVolume") == {"A": "right"}
    body = envelope(
        '<u:Noise xmlns:u="x"><A>wrong</A></u:Noise>'
        '<u:getvolumeRESPONSE xmlns:u="x"><A>close</A></u:getvolumeRESPONSE>'
    )
    assert soap.parse_response(body, "GetVolume") == {"A": "close"}


def test_missing_and_extra_out_arguments():
    body = response(
        "GetStatusInfo",
        "<NewConnectionStatus>Connected</NewConnectionStatus><X_Vendor>1</X_Vendor>",
    )
    expected = {"NewConnectionStatus": "Connected", "X_Vendor": "1"}  # no NewLastConnectionError
    assert soap.parse_response(body, "GetStatusInfo") == expected


def test_out_arguments_keep_device_order_and_decode_entities():
    body = response(
        "Browse",
        "<Result>&lt;DIDL-Lite&gt;&amp;&lt;/DIDL-Lite&gt;</Result>"
        "<NumberReturned>0</NumberReturned>",
    )
    parsed = soap.parse_response(body, "Browse")
    assert list(parsed) == ["Result", "NumberReturned"]
    assert parsed["Result"] == "<DIDL-Lite>&</DIDL-Lite>"


def test_empty_out_arguments_and_empty_response():
    body = response("GetStatusInfo", "<A></A><B/><C> </C><D> spaced value </D>")
    assert soap.parse_response(body, "GetStatusInfo") == {
        "A": "",
        "B": "",
        "C": " ",
        "D": " spaced value ",  # string values kept exact
    }
    assert soap.parse_response(response("SetTarget"), "SetTarget") == {}
    assert soap.parse_response(envelope('<u:SetTargetResponse xmlns:u="x"/>'), "SetTarget") == {}


def test_unescaped_markup_in_an_out_argument_is_kept_as_text():
    body = response(
        "Browse", '<Result><DIDL-Lite><item id="1"><title>T</title></item></DIDL-Lite></Result>'
    )
    result = soap.parse_response(body, "Browse")["Result"]
    assert ET.fromstring(result).find("item/title").text == "T"


def test_namespaced_out_arguments_by_local_name():
    body = response("GetX", '<u:NewX>1</u:NewX><v:NewY xmlns:v="y">2</v:NewY>')
    assert soap.parse_response(body, "GetX") == {"NewX": "1", "NewY": "2"}


@pytest.mark.parametrize("prefix", ["s", "SOAP-ENV", ""])
def test_fault_inside_a_200_raises_action_error(prefix):
    with pytest.raises(ActionError) as info:
        soap.parse_response(fault(prefix=prefix), "GetGenericPortMappingEntry")
    assert (info.value.code, info.value.description) == (714, "NoSuchEntryInArray")
    assert info.value.action == "GetGenericPortMappingEntry"


def test_fault_with_prefixed_upnp_error_and_odd_spacing():
    body = envelope(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><s:detail>"
        '<u:UPnPError xmlns:u="urn:schemas-upnp-org:control-1-0">'
        "<u:errorCode> 402\r\n</u:errorCode>"
        "<u:errorDescription>Invalid Args</u:errorDescription></u:UPnPError></s:detail></s:Fault>"
    )
    with pytest.raises(ActionError) as info:
        soap.parse_response(body, "AddPortMapping")
    assert (info.value.code, info.value.description) == (402, "Invalid Args")


def test_fault_without_detail_uses_faultstring():
    body = envelope(
        "<s:Fault><faultcode>s:Server</faultcode><faultstring>Out of cheese</faultstring></s:Fault>"
    )
    with pytest.raises(ActionError) as info:
        soap.parse_response(body, "Act", status=500)
    assert info.value.code is None
    assert info.value.description == "Out of cheese"


def test_fault_with_a_code_that_is_not_a_number():
    with pytest.raises(ActionError) as info:
        soap.parse_response(fault(code="E_FAIL", description="boom"), "Act")
    assert info.value.code is None
    assert info.value.description == "boom"


def test_fault_without_description():
    body = fault().replace(b"<errorDescription>NoSuchEntryInArray</errorDescription>", b"")
    with pytest.raises(ActionError) as info:
        soap.parse_response(body, "Act")
    assert (info.value.code, info.value.description) == (714, "")


def test_fault_wins_over_a_response_element():
    body = envelope(
        '<u:ActResponse xmlns:u="x"><A>1</A></u:ActResponse>'
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
        "<detail><UPnPError><errorCode>501</errorCode></UPnPError></detail></s:Fault>"
    )
    with pytest.raises(ActionError) as info:
        soap.parse_response(body, "Act")
    assert info.value.code == 501


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \r\n",
        b"Internal Server Error",
        b"<html><body><h1>500</h1></body></html>",
        b"<html><body>unclosed",
        b'<?xml version="1.0"?><root><a>1</a></root>',
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>',
        envelope(""),
        envelope("just text"),
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
        b"<s:Envelope><s:Body>&a;</s:Body></s:Envelope>",
        b"\xff\xfe\x00g\x00a\x00r\x00b\x00a\x00g\x00e",
    ],
)
def test_a_body_that_is_not_a_soap_response_is_a_transport_error(body):
    with pytest.raises(TransportError) as info:
        soap.parse_response(body, "Act", url="http://127.0.0.1:1/ctl", status=203)
    assert info.value.status == 203
    assert info.value.url == "http://127.0.0.1:1/ctl"
    assert "127.0.0.1:1/ctl" in str(info.value)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b + b"\x00",
        lambda b: b.replace(b"><", b">\x00<"),
        lambda b: b + b"\r\n\r\nHTTP/1.1 200 OK garbage <tail",
        lambda b: b"\r\n  " + b + b"   \n\n",
        lambda b: b"junk before " + b,
    ],
    ids=["bom", "nul-end", "nul-inside", "trailing-garbage", "whitespace", "leading-garbage"],
)
def test_response_survives_device_garbage(mangle):
    body = mangle(response(args="<NewExternalIPAddress>1.2.3.4</NewExternalIPAddress>"))
    assert soap.parse_response(body, "GetExternalIPAddress") == {"NewExternalIPAddress": "1.2.3.4"}


def test_response_in_a_declared_non_utf8_encoding():
    tail = response(args="<Name>Küche</Name>").decode().split("?>", 1)[1]
    body = '<?xml version="1.0" encoding="ISO-8859-1"?>' + tail
    assert soap.parse_response(body.encode("latin-1"), "GetExternalIPAddress") == {"Name": "Küche"}


def test_round_trip_of_escaped_values():
    value = "a<b>&\"c'"
    request = soap.build_envelope(ST, "Echo", [("V", value)])
    echoed = request.replace(b"<u:Echo ", b"<u:EchoResponse ")
    echoed = echoed.replace(b"</u:Echo>", b"</u:EchoResponse>")
    assert soap.parse_response(echoed, "Echo") == {"V": value}


# --- call() against a loopback server ----------------------------------------------------


@pytest.fixture
def serve():
    """Start loopback servers for one test; all of them are closed (threads joined) after it."""
    started = []

    def start(handler):
        server = LoopbackServer(handler)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(params=["socket", "requests"])
def session(request, serve):  # depends on serve: closed first, so no connection outlives it
    """Each call() test runs over upnpy's own socket transport and over a requests.Session."""
    if request.param == "requests":
        with new_session() as s:
            yield s
    else:
        transport = SocketTransport()
        yield transport
        transport.close()


def answer(status, body, headers=None):
    """A handler that always sends this one response."""
    headers = {"Content-Type": 'text/xml; charset="utf-8"', **(headers or {})}
    return lambda request, reply: reply.send(status, body, headers)


def test_call_sends_exact_headers_and_body(serve, session):
    server = serve(answer(200, response("AddPortMapping")))
    args = [("NewRemoteHost", ""), ("NewPortMappingDescription", "Grüße <&>")]
    got = soap.call(session, server.url + "/ctl/IPConn", ST, "AddPortMapping", args, timeout=5)
    assert got == {}
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/ctl/IPConn")
    assert request.body == soap.build_envelope(ST, "AddPortMapping", args)
    sent = headers_dict(request)
    assert sent["SOAPAction"] == f'"{ST}#AddPortMapping"'
    assert sent["Content-Type"] == 'text/xml; charset="utf-8"'
    assert sent["Content-Length"] == str(len(request.body))
    assert int(sent["Content-Length"]) > len(request.body.decode())  # bytes, not characters
    assert sent["User-Agent"] == USER_AGENT
    assert "Transfer-Encoding" not in sent


def test_call_sets_our_user_agent_on_a_plain_session(serve):
    server = serve(answer(200, response("Act")))
    with requests.Session() as plain:
        soap.call(plain, server.url + "/c", ST, "Act", [])
    assert server.requests[0].headers["User-Agent"] == USER_AGENT


def test_call_keeps_a_user_agent_the_caller_chose(serve):
    server = serve(answer(200, response("Act")))
    with new_session() as session:
        session.headers["User-Agent"] = "MyApp/1.0 UPnP/1.1 upnpy/0"
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert server.requests[0].headers["User-Agent"] == "MyApp/1.0 UPnP/1.1 upnpy/0"


def test_call_returns_out_arguments(serve, session):
    body = response(args="<NewExternalIPAddress>11.22.33.44</NewExternalIPAddress>")
    server = serve(answer(200, body))
    got = soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", [])
    assert got == {"NewExternalIPAddress": "11.22.33.44"}


def test_chunked_response_is_accepted(serve, session):
    body = response(args="<NewExternalIPAddress>1.2.3.4</NewExternalIPAddress>")

    def chunked(request, reply):
        reply.send_response(200)
        reply.send_header("Transfer-Encoding", "chunked")
        reply.end_headers()
        for i in range(0, len(body), 7):
            piece = body[i : i + 7]
            reply.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        reply.wfile.write(b"0\r\n\r\n")

    server = serve(chunked)
    got = soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", [])
    assert got == {"NewExternalIPAddress": "1.2.3.4"}


def test_http_500_fault_is_an_action_error(serve, session):
    server = serve(answer(500, fault("714", "NoSuchEntryInArray")))
    with pytest.raises(ActionError) as info:
        soap.call(session, server.url + "/c", ST, "DeletePortMapping", [("NewExternalPort", "1")])
    error = info.value
    assert (error.code, error.description) == (714, "NoSuchEntryInArray")
    assert error.action == "DeletePortMapping"


def test_fault_in_http_200_is_an_action_error(serve, session):
    server = serve(answer(200, fault("501", "Action Failed")))
    with pytest.raises(ActionError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.code == 501


def test_http_500_without_fault_is_a_transport_error(serve, session):
    server = serve(answer(500, b"<html>oops</html>", {"Content-Type": "text/html"}))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == 500
    assert info.value.url == server.url + "/c"


@pytest.mark.parametrize("status", [302, 403, 503])
def test_success_envelope_with_an_error_status_is_still_an_error(serve, session, status):
    server = serve(answer(status, response("Act", "<A>1</A>")))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == status


@pytest.mark.parametrize("status", [302, 307])
def test_redirects_are_not_followed(serve, session, status):
    def handler(request, reply):
        if request.path == "/c":
            reply.send(status, b"", {"Location": "/elsewhere"})
        else:
            reply.send(200, response("Act", "<A>1</A>"))

    server = serve(handler)
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == status
    assert [r.path for r in server.requests] == ["/c"]


def test_404_is_a_transport_error(serve, session):
    server = serve(answer(404, b"Not Found", {"Content-Type": "text/plain"}))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/nowhere", ST, "Act", [])
    assert info.value.status == 404
    assert len(server.requests) == 1  # no M-POST for anything but 405


def test_200_with_garbage_is_a_transport_error(serve, session):
    server = serve(answer(200, b"OK", {"Content-Type": "text/plain"}))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == 200


def test_405_is_retried_once_as_m_post(serve, session):
    def handler(request, reply):
        if request.method == "POST":
            reply.send(405, b"", {"Allow": "M-POST"})
        else:
            reply.send(200, response(args="<NewExternalIPAddress>5.6.7.8</NewExternalIPAddress>"))

    server = serve(handler)
    args = [("NewX", "é")]
    got = soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", args)
    assert got == {"NewExternalIPAddress": "5.6.7.8"}
    post, mpost = server.requests
    assert (post.method, mpost.method) == ("POST", "M-POST")
    assert mpost.path == "/c"
    assert mpost.body == post.body == soap.build_envelope(ST, "GetExternalIPAddress", args)
    sent = headers_dict(mpost)
    assert sent["MAN"] == f'"{ENV_NS}"; ns=01'
    assert sent["01-SOAPACTION"] == f'"{ST}#GetExternalIPAddress"'
    assert "SOAPAction" not in sent
    assert sent["Content-Type"] == 'text/xml; charset="utf-8"'
    assert sent["Content-Length"] == str(len(mpost.body))


def test_405_twice_gives_up_with_the_second_status(serve, session):
    statuses = iter([405, 405, 200])
    server = serve(lambda request, reply: reply.send(next(statuses), b"no"))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == 405
    assert [r.method for r in server.requests] == ["POST", "M-POST"]


def test_m_post_answered_with_a_fault(serve, session):
    def handler(request, reply):
        if request.method == "POST":
            reply.send(405, b"")
        else:
            reply.send(500, fault("402", "Invalid Args"))

    server = serve(handler)
    with pytest.raises(ActionError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.code == 402


def test_405_carrying_a_fault_is_not_retried(serve, session):
    server = serve(answer(405, fault("401", "Invalid Action")))
    with pytest.raises(ActionError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.code == 401
    assert len(server.requests) == 1


def test_server_that_never_answers_times_out(serve, session):
    server = serve(lambda request, reply: reply.server.stopping.wait(10))
    with pytest.raises(TransportTimeout) as info:
        soap.call(session, server.url + "/c", ST, "Act", [], timeout=0.5)
    assert isinstance(info.value, TransportError) and isinstance(info.value, TimeoutError)
    assert info.value.status is None
    assert info.value.url == server.url + "/c"
    assert isinstance(info.value.cause, (requests.Timeout, TimeoutError))
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one traceback


def test_server_that_stops_mid_body_is_a_transport_error(serve, session):
    def handler(request, reply):
        reply.send_response(200)
        reply.send_header("Content-Length", "5000")
        reply.end_headers()
        reply.wfile.write(response()[:100])
        reply.close_connection = True

    server = serve(handler)
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", [], timeout=2)
    assert info.value.status == 200


def test_connection_refused_is_a_transport_error(session):
    import socket

    with socket.socket() as placeholder:  # bound, never listening: connecting is refused
        placeholder.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}/c"
        with pytest.raises(TransportError) as info:
            soap.call(session, url, ST, "Act", [], timeout=2)
    assert info.value.url == url
    assert info.value.status is None
    assert not isinstance(info.value, TimeoutError)
    assert isinstance(info.value.cause, (requests.ConnectionError, ConnectionRefusedError))
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one traceback


def _huge(request, reply, framing):
    reply.send_response(200)
    if framing == "length":
        reply.send_header("Content-Length", str(soap.MAX_RESPONSE + 1))
    elif framing == "chunked":
        reply.send_header("Transfer-Encoding", "chunked")
    else:  # delimited by closing the connection
        reply.send_header("Connection", "close")
        reply.close_connection = True
    reply.end_headers()
    piece = b"<" + b"A" * (64 * 1024 - 1)
    sent = 0
    while sent <= soap.MAX_RESPONSE and not reply.server.stopping.is_set():
        reply.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece)
        sent += len(piece)
    if framing == "chunked":
        reply.wfile.write(b"0\r\n\r\n")


def test_limit_is_one_mebibyte():
    assert soap.MAX_RESPONSE == 1 << 20


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_huge_response_is_refused(serve, session, framing):
    server = serve(lambda request, reply: _huge(request, reply, framing))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [], timeout=5)
    assert "limit" in str(info.value)
    assert info.value.status == 200


def test_a_body_dripping_past_the_deadline_is_cut(serve, session):
    body = response(args="<A>1</A>")
    body += b" " * (900_000 - len(body))  # valid if it ever arrives whole

    def drip(request, reply):
        reply.send_response(200)
        reply.send_header("Content-Length", str(len(body)))
        reply.end_headers()
        for i in range(0, len(body), 8192):
            if reply.server.stopping.wait(0.02):
                return
            reply.wfile.write(body[i : i + 8192])

    server = serve(drip)
    with pytest.raises(TransportError) as info:  # each read is quick; the whole is not
        soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", [], timeout=0.5)
    assert info.value.status == 200


def test_huge_error_response_is_refused_too(serve, session):
    server = serve(answer(500, b" " * (soap.MAX_RESPONSE + 1)))
    with pytest.raises(TransportError) as info:
        soap.call(session, server.url + "/c", ST, "Act", [])
    assert info.value.status == 500


def test_response_of_exactly_the_limit_is_accepted(serve, session):
    body = response(args="<A>1</A>")
    body += b" " * (soap.MAX_RESPONSE - len(body))
    assert len(body) == soap.MAX_RESPONSE
    server = serve(answer(200, body))
    assert soap.call(session, server.url + "/c", ST, "GetExternalIPAddress", []) == {"A": "1"}


@pytest.fixture
def settled(monkeypatch):
    """POSTs as if they came apart: a device not yet seen keeping connections is given a kept
    one once it has lain idle SETTLE seconds (upnpy._transport's docstring); here at once."""
    monkeypatch.setattr(_transport, "SETTLE", 0.0)


def test_keep_alive_reuses_one_connection(serve, session, settled):
    server = serve(answer(200, response("Act", "<A>1</A>")))
    for _ in range(3):
        assert soap.call(session, server.url + "/c", ST, "Act", []) == {"A": "1"}
    assert len(server.requests) == 3
    assert server.connections == 1


def test_keep_alive_survives_faults_and_the_m_post_retry(serve, session, settled):
    def handler(request, reply):
        if request.method == "POST" and request.body.count(b"Retry"):
            reply.send(405, b"")
        else:
            reply.send(500, fault())

    server = serve(handler)
    for action in ("Act", "Retry", "Act"):
        with pytest.raises(ActionError):
            soap.call(session, server.url + "/c", ST, action, [])
    assert len(server.requests) == 4
    assert server.connections == 1


# --- the one-pass fast path agrees with the lenient tree parser -----------------------------

PLAIN_BODIES = [
    response("GetStatusInfo", "<A>1</A><B></B><C/><D> spaced </D>"),
    response("GetStatusInfo", "<A>&lt;&amp;&gt;&quot;&#233;</A><A>second</A>"),
    (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="x">'
        b'<SOAP-ENV:Body><m:GetStatusInfoResponse xmlns:m="t"><N>K\xfcche</N>'
        b"</m:GetStatusInfoResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ),
    (
        b'<?xml version="1.0"?>\n<Envelope>\n  <Body>\n    <GetStatusInfoResponse>\n'
        b"      <A>x</A>\n    </GetStatusInfoResponse>\n  </Body>\n</Envelope>\n"
    ),
    response("GetStatusInfo", ""),
]


@pytest.mark.parametrize("body", PLAIN_BODIES)
def test_fast_path_equals_the_lenient_parser(body, monkeypatch):
    fast = soap._plain_out_arguments(body, "GetStatusInfo")
    assert fast is not None
    monkeypatch.setattr(soap, "_plain_out_arguments", lambda *args: None)
    assert soap.parse_response(body, "GetStatusInfo") == soap._by_name(fast)


@pytest.mark.parametrize(
    "body",
    [
        b'<s:Envelope xmlns:s="x"><s:Body><s:Fault><faultcode>s:Client</faultcode></s:Fault>'
        b"</s:Body></s:Envelope>",
        response(
            "GetStatusInfo", "<Result><DIDL-Lite><item/></DIDL-Lite></Result>"
        ),  # unescaped markup
        response("getstatusinfo", "<A>1</A>"),  # another name: the lenient rules decide
        b'<s:Envelope xmlns:s="x"><s:Header/><s:Body><u:GetStatusInfoResponse/></s:Body>'
        b"</s:Envelope>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Envelope/>',
        response("GetStatusInfo", "<A>1</A>") + b"\x00\x00garbage",
    ],
)
def test_anything_unusual_takes_the_lenient_path(body):
    assert soap._plain_out_arguments(body, "GetStatusInfo") is None


# --- Caller: one action called again and again ----------------------------------------------


def answers(*bodies):
    """A handler that sends these responses in turn (status, body), then the last again."""
    queue = list(bodies)

    def handler(request, reply):
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        reply.send(status, body, {"Content-Type": 'text/xml; charset="utf-8"'})

    return handler


def ip(value: str) -> tuple:
    return 200, response(args=f"<NewExternalIPAddress>{value}</NewExternalIPAddress>")


def test_a_caller_reads_a_repeated_answer_by_its_template(serve, session, monkeypatch):
    server = serve(answers(ip("1.2.3.4"), ip("5.6.7.8"), ip("10.0.0.1")))
    caller = soap.Caller(server.url + "/c", ST, "GetExternalIPAddress")
    assert caller(session, []) == {"NewExternalIPAddress": "1.2.3.4"}

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(soap, "_plain_out_arguments", no_parse)
    monkeypatch.setattr(soap, "parse_response", no_parse)
    assert caller(session, []) == {"NewExternalIPAddress": "5.6.7.8"}
    assert caller(session, []) == {"NewExternalIPAddress": "10.0.0.1"}
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "second, expected",
    [
        (ip("a&amp;b"), {"NewExternalIPAddress": "a&b"}),  # a reference: expat reads it
        (ip("x\r\ny"), {"NewExternalIPAddress": "x\ny"}),
        ((200, response(args="<Other>1</Other>")), {"Other": "1"}),  # another shape
        ((200, response(args="<NewExternalIPAddress/>")), {"NewExternalIPAddress": ""}),
    ],
)
def test_an_answer_unlike_the_template_is_parsed(serve, session, second, expected):
    server = serve(answers(ip("1.2.3.4"), second))
    caller = soap.Caller(server.url + "/c", ST, "GetExternalIPAddress")
    caller(session, [])
    assert caller(session, []) == expected


@pytest.mark.parametrize("status", [200, 500])
def test_a_fault_after_a_template_is_still_a_fault(serve, session, status):
    server = serve(answers(ip("1.2.3.4"), (status, fault())))
    caller = soap.Caller(server.url + "/c", ST, "GetExternalIPAddress")
    caller(session, [])
    with pytest.raises(ActionError) as info:
        caller(session, [])
    assert info.value.code == 714


def test_a_caller_sends_what_call_sends(serve, session):
    server = serve(answer(200, response("AddPortMapping")))
    args = [("NewRemoteHost", ""), ("NewPortMappingDescription", "Grüße <&>")]
    soap.call(session, server.url + "/c", ST, "AddPortMapping", args)
    caller = soap.Caller(server.url + "/c", ST, "AddPortMapping")
    caller(session, args)
    caller(session, [])
    first, second, third = server.requests
    assert first.body == second.body == soap.build_envelope(ST, "AddPortMapping", args)
    assert third.body == soap.build_envelope(ST, "AddPortMapping", [])
    assert headers_dict(first) == headers_dict(second)
    assert headers_dict(third)["Content-Length"] == str(len(third.body))
