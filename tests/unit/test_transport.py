"""SocketTransport against scripted raw TCP servers on 127.0.0.1: framing, keep-alive, faults."""

import socket
import threading

import pytest
from servers import new_session

from upnpy import DescriptionError, TransportError, TransportTimeout, _transport
from upnpy._http import USER_AGENT
from upnpy._transport import (
    RequestsTransport,
    SocketTransport,
    _head,
    _target,
    as_transport,
    callback_address,
    fetch,
    local_address,
)

TIMEOUT = (2.0, 2.0)


class Scripted:
    """Accepts connections; for each request read, sends the next scripted answer.

    An answer of ``None`` closes the connection without answering; a callable answer is
    called with the connection to write what it likes; after each answer the connection is
    closed when ``close_after`` is true. ``closed`` counts connections the server has closed.
    """

    def __init__(self, answers, close_after=False, host="127.0.0.1"):
        self.answers = list(answers)
        self.close_after = close_after
        self.connections = 0
        self.closed = 0
        self.requests = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, 0), family=family)
        self.listener.settimeout(0.2)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="scripted-http")
        self.thread.start()

    def run(self):
        while not self.stop.is_set() and self.answers:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.5)
                while self.answers and not self.stop.is_set():
                    try:
                        data = conn.recv(65536)
                    except (socket.timeout, OSError):
                        break
                    if not data:
                        break
                    self.requests.append(data)
                    answer = self.answers.pop(0)
                    if answer is None:
                        break
                    if callable(answer):
                        answer(conn)
                    else:
                        conn.sendall(answer)
                    if self.close_after:
                        break
            self.closed += 1

    def close(self):
        self.stop.set()
        self.thread.join()
        self.listener.close()


@pytest.fixture
def scripted():
    servers = []

    def start(answers, **kw):
        servers.append(Scripted(answers, **kw))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def transport():
    t = SocketTransport()
    yield t
    t.close()


def ok(body=b"hi", extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_keep_alive_reuses_the_connection(scripted, transport):
    server = scripted([ok(b"one"), ok(b"two")])
    assert transport.exchange("GET", server.url + "/a", {}, b"", TIMEOUT, 100).body == b"one"
    assert transport.exchange("GET", server.url + "/b", {}, b"", TIMEOUT, 100).body == b"two"
    assert server.connections == 1


def test_request_is_one_well_formed_message(scripted, transport):
    server = scripted([ok()])
    transport.exchange(
        "POST", server.url + "/ctl?x=1", {"SOAPAction": '"a#b"'}, b"<body/>", TIMEOUT, 100
    )
    (request,) = server.requests
    head, _, body = request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /ctl?x=1 HTTP/1.1"
    assert b"Host: " + server.url[7:].encode() in lines
    assert b'SOAPAction: "a#b"' in lines and b"Content-Length: 7" in lines
    assert any(line.startswith(b"User-Agent: ") and b"UPnP/1.1 upnpy/" in line for line in lines)
    assert body == b"<body/>"


def test_a_connection_the_device_closed_while_idle_is_replaced(scripted, transport):
    server = scripted([ok(b"one"), ok(b"two")], close_after=True)
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"one"
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"two"
    assert server.connections == 2


def test_connection_close_is_honoured(scripted, transport):
    server = scripted([ok(b"one", b"Connection: close\r\n"), ok(b"two")])
    transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    assert server.connections == 2


def test_interim_100_continue_is_skipped(scripted, transport):
    server = scripted([b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"final")])
    reply = transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100)
    assert (reply.status, reply.reason, reply.body) == (200, "OK", b"final")


def test_body_delimited_by_close(scripted, transport):
    server = scripted([b"HTTP/1.0 200 OK\r\n\r\nuntil the end", None])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"until the end"


def test_chunked_body_with_extensions_and_trailers(scripted, transport):
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: y\r\n\r\n"
    )
    server = scripted([chunked, ok(b"again")])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"Wikipedia"
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"again"
    assert server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000,
    ],
)
def test_malformed_answers_are_transport_errors(scripted, transport, answer):
    server = scripted([answer, None])
    with pytest.raises(TransportError):
        transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)


def test_too_large_body_carries_the_status(scripted, transport):
    server = scripted([ok(b"x" * 101)])
    with pytest.raises(TransportError) as info:
        transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    assert info.value.status == 200 and "limit" in str(info.value)


def test_close_in_the_middle_of_the_body(scripted, transport):
    server = scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", None])
    with pytest.raises(TransportError) as info:
        transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    assert info.value.status == 200


def test_only_http_urls(transport):
    with pytest.raises(TransportError):
        transport.exchange("GET", "https://127.0.0.1/x", {}, b"", TIMEOUT, 100)


def test_fetch_turns_failures_into_the_callers_error(scripted, transport):
    server = scripted([b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"])
    with pytest.raises(DescriptionError) as info:
        fetch(transport, server.url + "/desc.xml", limit=100)
    assert info.value.url == server.url + "/desc.xml" and "404" in str(info.value)
    with pytest.raises(DescriptionError):
        fetch(transport, "http://127.0.0.1:1/none.xml", limit=100, timeout=1)


def test_close_closes_idle_connections(scripted):
    server = scripted([ok(), ok()])
    transport = SocketTransport()
    transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    (idle,) = [s for socks in transport._idle.values() for s, _ in socks]
    transport.close()
    transport.close()  # idempotent
    assert idle.fileno() == -1


def test_as_transport():
    plain = SocketTransport()
    assert as_transport(plain) is plain
    with new_session() as session:
        assert isinstance(as_transport(session), RequestsTransport)
    assert isinstance(as_transport(None), SocketTransport)
    with pytest.raises(TypeError):
        as_transport("http://x")


def test_line_breaks_cannot_inject_headers(transport):
    with pytest.raises(TransportError):
        transport.exchange(
            "POST", "http://127.0.0.1:1/c", {"SOAPAction": '"a\r\nX: 1#b"'}, b"", TIMEOUT, 100
        )


def wait_for(condition, timeout=5.0):
    """Wait until *condition()* holds (a state change, not a timing assertion)."""
    stop = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        stop.wait(0.01)
    raise AssertionError("condition not reached")


# --- issue 9: no replayed requests, no stale answers, nothing hostile on the wire -----------


def test_a_post_is_never_sent_again_once_it_may_have_reached_the_device(scripted, transport):
    # The device keeps connections (a second GET was answered on the first connection); then
    # it reads a POST on the kept-alive connection, and closes it unanswered.
    server = scripted([ok(b"one"), ok(b"two"), None, ok(b"four")])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"one"
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"two"
    with pytest.raises(TransportError, match="not sent again"):
        transport.exchange("POST", server.url, {}, b"toggle", TIMEOUT, 100)
    assert [r.endswith(b"toggle") for r in server.requests] == [False, False, True]
    assert server.connections == 1


def closing_late(body: bytes):
    """An answer without ``Connection: close`` after which the device closes the connection a
    few milliseconds later, as libupnp does (gmediarender's SOAP answers)."""

    def answer(conn):
        conn.sendall(ok(body))
        threading.Event().wait(0.005)

    return answer


def test_posts_to_a_device_that_closes_after_each_answer_unannounced_get_fresh_connections(
    scripted, transport
):
    server = scripted([closing_late(b"%d" % n) for n in range(4)], close_after=True)
    bodies = [transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100).body for _ in range(3)]
    assert bodies == [b"0", b"1", b"2"]  # back to back: none raced the device's close
    assert server.connections == 3
    wait_for(lambda: server.closed == 3)
    # once its close was seen (the idle connection found closed), nothing is kept for it
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"3"
    assert not any(transport._idle.values())


def test_posts_reuse_connections_once_the_device_has_kept_one(scripted, transport):
    server = scripted([ok(b"one"), ok(b"two"), ok(b"three"), ok(b"four")])
    transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)
    transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100)  # answered on a reused one
    for _ in range(2):
        transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100)
    assert server.connections == 1


def test_a_settled_idle_connection_carries_a_post(scripted, transport, monkeypatch):
    monkeypatch.setattr(_transport, "SETTLE", 0.0)  # as if the POSTs came SETTLE s apart
    server = scripted([ok(b"one"), ok(b"two")])
    for _ in range(2):
        transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100)
    assert server.connections == 1


def test_an_idempotent_get_is_retried_on_a_fresh_connection(scripted, transport):
    server = scripted([ok(b"one"), None, ok(b"three")])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"one"
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"three"
    assert server.connections == 2


def test_an_idle_connection_the_device_closed_is_not_used_for_a_post(scripted, transport):
    server = scripted([ok(b"one"), ok(b"two")], close_after=True)
    assert transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100).body == b"one"
    wait_for(lambda: server.closed == 1)
    assert transport.exchange("POST", server.url, {}, b"x", TIMEOUT, 100).body == b"two"
    assert len(server.requests) == 2 and server.connections == 2


def test_bytes_after_a_response_never_answer_the_next_call(scripted, transport):
    sent = threading.Event()

    def answer_then_a_stale_one(conn):
        conn.sendall(ok(b"one"))
        threading.Event().wait(0.2)  # the stale answer comes after the first was read
        conn.sendall(ok(b"stale"))
        sent.set()

    server = scripted([answer_then_a_stale_one, ok(b"two")])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"one"
    assert sent.wait(5)
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"two"
    assert server.connections == 2


def test_extra_bytes_in_the_same_packet_close_the_connection(scripted, transport):
    server = scripted([ok(b"one") + ok(b"stale"), ok(b"two")])
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"one"
    assert transport.exchange("GET", server.url, {}, b"", TIMEOUT, 100).body == b"two"
    assert server.connections == 2


@pytest.mark.parametrize(
    "suffix",
    ["/ctl\r\nX-Injected: hx", "/desc.xml\nX-Injected: 1", "/a\rb", "/nul\x00", "/del\x7f"],
)
def test_a_url_with_a_control_character_is_refused_before_anything_is_sent(
    scripted, transport, suffix
):
    server = scripted([ok()])
    with pytest.raises(TransportError, match="control character"):
        transport.exchange("POST", server.url + suffix, {}, b"x", TIMEOUT, 100)
    assert server.requests == [] and server.connections == 0


def test_user_and_password_never_reach_the_host_header(scripted, transport):
    server = scripted([ok()])
    port = server.url.rpartition(":")[2]
    transport.exchange("GET", f"http://user:secret@127.0.0.1:{port}/d.xml", {}, b"", TIMEOUT, 100)
    (request,) = server.requests
    assert request.split(b"\r\n")[:2] == [
        b"GET /d.xml HTTP/1.1",
        f"Host: 127.0.0.1:{port}".encode(),
    ]
    assert b"secret" not in request and b"user" not in request


def test_spaces_and_non_ascii_in_a_path_are_percent_encoded(scripted, transport):
    server = scripted([ok()])
    transport.exchange("GET", server.url + "/a b/\u00e9.xml?q=\u00fc", {}, b"", TIMEOUT, 100)
    assert server.requests[0].startswith(b"GET /a%20b/%C3%A9.xml?q=%C3%BC HTTP/1.1\r\n")


def test_a_header_that_is_not_latin_1_is_refused_before_anything_is_sent(scripted, transport):
    server = scripted([ok()])
    with pytest.raises(TransportError, match="not Latin-1"):
        transport.exchange("POST", server.url, {"SOAPAction": '"urn:x#Get\u4e2d"'}, b"", TIMEOUT, 9)
    assert server.connections == 0


@pytest.mark.parametrize("url", ["http://[::1/x", "http://127.0.0.1:99999/x", "http://h:x/"])
def test_a_malformed_url_is_a_transport_error(transport, url):
    with pytest.raises(TransportError):
        transport.exchange("GET", url, {}, b"", TIMEOUT, 100)


def test_headers_come_back_with_the_reply(scripted, transport):
    server = scripted([ok(b"x", b"SID: uuid:1\r\nTIMEOUT: Second-300\r\n")])
    reply = transport.exchange("SUBSCRIBE", server.url, {}, b"", TIMEOUT, 100)
    assert (reply.status, reply.headers["sid"], reply.headers["Timeout"]) == (
        200,
        "uuid:1",
        "Second-300",
    )


def test_fetch_hands_its_deadline_to_the_exchange():
    seen = []

    class Recording(SocketTransport):
        def exchange(self, method, url, headers, body, timeout, limit, deadline=None):
            seen.append(deadline)
            raise TransportError("stop here", url=url)

    with pytest.raises(DescriptionError):
        fetch(Recording(), "http://127.0.0.1:9/d.xml", limit=10, deadline=12345.0)
    assert seen == [12345.0]


@pytest.fixture(params=["socket", "requests"])
def any_transport(request):
    t = SocketTransport() if request.param == "socket" else RequestsTransport(new_session())
    yield t
    t.close()


def test_a_dripping_body_ends_by_the_deadline_given(scripted, any_transport):
    transport = any_transport

    def drip(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(50):
            if server.stop.wait(0.1):
                return
            conn.sendall(b"x")

    server = scripted([drip])
    import time

    deadline = time.monotonic() + 0.5
    with pytest.raises(TransportTimeout):
        transport.exchange("GET", server.url, {}, b"", (5.0, 5.0), 1000, deadline)
    assert time.monotonic() < deadline + 2.0  # bounded by the deadline, not by 5 + 5 s


# --- IPv6 -------------------------------------------------------------------------------

LO_INDEX = socket.if_nametoindex("lo")


def test_an_ipv6_literal_is_connected_to_and_named_in_brackets(scripted, transport):
    server = scripted([ok(b"one"), ok(b"two")], host="::1")
    port = server.url.rpartition(":")[2]
    assert transport.exchange("GET", server.url + "/d.xml", {}, b"", TIMEOUT, 100).body == b"one"
    reply = transport.exchange("GET", f"http://[0:0::1]:{port}/ctl", {}, b"", TIMEOUT, 100)
    assert reply.body == b"two"
    assert server.connections == 1  # kept alive: [0:0::1] is [::1]
    assert server.requests[0].split(b"\r\n")[:2] == [
        b"GET /d.xml HTTP/1.1",
        f"Host: [::1]:{port}".encode(),
    ]
    assert b"Host: [::1]:" in server.requests[1]


def test_requests_transport_over_ipv6(scripted):
    server = scripted([ok(b"v6")], host="::1")
    transport = RequestsTransport(new_session())
    try:
        assert transport.exchange("GET", server.url + "/d.xml", {}, b"", TIMEOUT, 100).body == b"v6"
    finally:
        transport.close()
    assert b"Host: [::1]:" in server.requests[0]


@pytest.mark.parametrize(
    "url, address, host_header",
    [
        ("http://[fd77::1]:5000/rootDesc.xml", ("fd77::1", 5000, 0, 0), "[fd77::1]:5000"),
        ("http://[FD77:0::1]/x", ("fd77::1", 80, 0, 0), "[fd77::1]"),
        ("http://[fe80::1%25lo]:5000/x", ("fe80::1", 5000, 0, LO_INDEX), "[fe80::1]:5000"),
        ("http://[fe80::1%lo]:5000/x", ("fe80::1", 5000, 0, LO_INDEX), "[fe80::1]:5000"),
        (f"http://[fe80::1%25{LO_INDEX}]/x", ("fe80::1", 80, 0, LO_INDEX), "[fe80::1]"),
        ("http://u:p@[fe80::1%25lo]:1/x", ("fe80::1", 1, 0, LO_INDEX), "[fe80::1]:1"),
        ("http://[fd77::1%25lo]/x", ("fd77::1", 80, 0, 0), "[fd77::1]"),  # a zone means nothing
        ("http://127.0.0.1:80/x", ("127.0.0.1", 80), "127.0.0.1:80"),
    ],
)
def test_ipv6_zones_are_resolved_and_never_sent(url, address, host_header):
    assert _target(url, "GET") == (
        address,
        "/x" if url.endswith("/x") else "/rootDesc.xml",
        host_header,
    )


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://[fe80::1]:5000/x", "needs a zone"),
        ("http://[fe80::1%25nosuch0]/x", "no interface"),
        ("http://[fe80::1%25a b]/x", "zone"),
        ("http://[v1.x]/x", "malformed"),
        ("http://[fe80::1%]/x", "malformed|zone"),
    ],
)
def test_unusable_ipv6_hosts_are_refused_before_anything_is_sent(transport, url, message):
    with pytest.raises(TransportError, match=message):
        transport.exchange("GET", url, {}, b"", TIMEOUT, 100)


def test_local_address_follows_the_family_of_the_device():
    assert local_address("http://127.0.0.1:5000/x") == "127.0.0.1"
    assert local_address("http://[::1]:5000/x") == "::1"
    assert local_address("http://[::1]:5000/x", zone=True) == "::1"  # not link-local
    assert callback_address("http://[::1]:5000/x") == "::1"
    with pytest.raises(TransportError, match="needs a zone"):
        local_address("http://[fe80::1]/x")


def test_requests_transport_refuses_a_zoned_link_local_address_before_sending(monkeypatch):
    session = new_session()
    monkeypatch.setattr(session, "request", lambda *a, **k: pytest.fail("sent"))
    transport = RequestsTransport(session)
    with pytest.raises(TransportError, match="link-local"):
        transport.exchange("GET", "http://[fe80::1%25lo]:5000/d.xml", {}, b"", TIMEOUT, 100)
    transport.close()


def test_request_heads_are_cached_and_refusals_raised_each_time():
    url = "http://127.0.0.1:1/ctl"
    fields = (("SOAPAction", '"urn:x#A"'), ("Content-Length", "3"))
    address, head = _head("POST", url, fields, 3)
    assert address == ("127.0.0.1", 1)
    assert head.startswith(b'POST /ctl HTTP/1.1\r\nHost: 127.0.0.1:1\r\nSOAPAction: "urn:x#A"\r\n')
    assert head.endswith(b"Content-Length: 3\r\nUser-Agent: " + USER_AGENT.encode() + b"\r\n\r\n")
    assert _head("POST", url, fields, 3)[1] is head
    assert _head("POST", url, fields[:1], 4)[1].endswith(b"Content-Length: 4\r\n\r\n")
    for _ in range(2):
        with pytest.raises(TransportError, match="line break"):
            _head("POST", url, (("X", "a\r\nInjected: 1"),), 0)
        with pytest.raises(TransportError, match="Latin-1"):
            _head("POST", url, (("X", "\u2603"),), 0)
