"""upnpy._gena_server under hostile clients: slow, many, dripping, oversized, on 127.0.0.1 only.

The server reads every connection from one thread, gives each request a deadline for the
whole of it, caps the open connections (closing the oldest for a new one) and the bytes
buffered. These tests hold hundreds of connections open with plain sockets while a real
NOTIFY goes through, and count the server's threads and file descriptors. Timing bounds are
generous multiples of the deadline; nothing asserts a tight time.
"""

from __future__ import annotations

import os
import queue
import re
import select
import socket
import threading
import time
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
from fakes import SlowClients, propertyset

from upnpy import _gena_server
from upnpy._gena import NotifyRejected
from upnpy._gena_server import CallbackServer, Notification

SID = "uuid:gena-server-test"
WAIT = 10.0  # seconds any single exchange may take before the test gives up
SLOW = 300  # hostile connections in the load tests


# --- helpers ----------------------------------------------------------------------------------


def request(
    body: bytes = b"",
    *,
    sid: str = SID,
    seq: int = 1,
    extra: str = "",
    framing: Optional[str] = None,
) -> bytes:
    """A whole NOTIFY: *framing* None means a Content-Length; "chunked" cuts *body* in chunks."""
    if framing is None:
        framing = f"Content-Length: {len(body)}\r\n"
    elif framing == "chunked":
        pieces = [body[i : i + 7] for i in range(0, len(body), 7)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        framing = "Transfer-Encoding: chunked\r\n"
    head = (
        f"NOTIFY /upnpy/1 HTTP/1.1\r\nHOST: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        f"NT: upnp:event\r\nNTS: upnp:propchange\r\nSID: {sid}\r\nSEQ: {seq}\r\n"
        f"{framing}{extra}\r\n"
    )
    return head.encode() + body


def read_answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(WAIT)
    answer = b""
    while True:
        try:
            data = sock.recv(4096)
        except ConnectionResetError:
            break
        if not data:
            break
        answer += data
    return answer


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(data)
        return read_answer(sock)


def status(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert match, f"not an HTTP answer: {answer[:80]!r}"
    return int(match.group(1))


def closed_by_peer(sock: socket.socket, timeout: float) -> bool:
    """Whether the server has closed *sock* (read EOF or a reset) within *timeout*."""
    if not select.select([sock], [], [], timeout)[0]:
        return False
    try:
        sock.setblocking(False)
        while sock.recv(4096):
            pass
    except BlockingIOError:
        return False
    except OSError:
        pass
    return True


def event_threads() -> List[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("upnpy-events"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def server_side_sockets(port: int) -> int:
    """Sockets of this process whose local port is *port* (the listener and its connections)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                        count += 1
        except FileNotFoundError:
            continue
    return count


def wait_for(predicate, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def delivered() -> queue.Queue[Tuple[object, Notification]]:
    return queue.Queue()


@pytest.fixture
def server(delivered) -> Iterator[CallbackServer]:
    srv = CallbackServer("127.0.0.1", 0, lambda target, n: delivered.put((target, n)))
    srv.register(SID, "target")
    try:
        yield srv
    finally:
        srv.close()


def assert_delivered(delivered: queue.Queue, values: Dict[str, str], seq: int = 1) -> None:
    target, notification = delivered.get(timeout=WAIT)
    assert target == "target"
    assert (notification.sid, notification.seq, dict(notification.values)) == (SID, seq, values)
    assert notification.peer == "127.0.0.1"


# --- deadlines --------------------------------------------------------------------------------


def test_headers_that_drip_are_cut_off_within_the_deadline(server):
    limit = 3 * _gena_server.REQUEST_DEADLINE  # the old server held such a client 40 s
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        started = time.monotonic()
        sock.sendall(b"NOTIFY /upnpy/1 HTTP/1.1\r\nNT: upnp:event\r\nX-Drip: ")
        cut = False
        while not cut and time.monotonic() - started < limit:
            try:
                sock.sendall(b"a")  # a byte every 0.2 s would reset any per-read timeout
            except OSError:
                break
            cut = closed_by_peer(sock, 0.2)
        elapsed = time.monotonic() - started
    assert elapsed < limit, f"a dripping client was still connected after {elapsed:.1f} s"
    assert elapsed > 0.5 * _gena_server.REQUEST_DEADLINE  # it had its time, though


def test_a_body_that_drips_gets_408_at_the_deadline(server, monkeypatch, delivered):
    monkeypatch.setattr(_gena_server, "REQUEST_DEADLINE", 1.0)
    body = propertyset({"Status": "1"})
    data = request(body)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        started = time.monotonic()
        sock.sendall(data[: -len(body)])
        for byte in body[:30]:
            if select.select([sock], [], [], 0.1)[0]:
                break
            sock.sendall(bytes([byte]))
        answer = read_answer(sock)
        elapsed = time.monotonic() - started
    assert status(answer) == 408
    assert elapsed < 3.0
    assert delivered.empty()


@pytest.mark.parametrize("framing", [None, "chunked"])
def test_a_request_in_one_byte_writes_within_the_deadline_is_delivered(server, delivered, framing):
    data = request(propertyset({"Status": "1", "Name": "dripped"}), framing=framing)
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.001)
        assert status(read_answer(sock)) == 200
    assert_delivered(delivered, {"Status": "1", "Name": "dripped"})


# --- load: many slow connections --------------------------------------------------------------


def test_a_notify_gets_through_300_slow_connections(server, delivered):
    with SlowClients("127.0.0.1", server.port, SLOW):
        # the server holds as many as it may; the others were closed for newer ones
        assert wait_for(
            lambda: server_side_sockets(server.port) == _gena_server.MAX_CONNECTIONS + 1
        )
        for seq in (1, 2, 3):
            answer = exchange(server.port, request(propertyset({"Level": str(seq)}), seq=seq))
            assert status(answer) == 200
            assert_delivered(delivered, {"Level": str(seq)}, seq)


def test_threads_do_not_grow_with_connections(server):
    port = server.port
    assert event_threads() == [f"upnpy-events-{port}", f"upnpy-events-{port}-dispatch"]
    with SlowClients("127.0.0.1", port, SLOW) as slow:
        assert len(slow.socks) == SLOW
        assert wait_for(lambda: server_side_sockets(port) > _gena_server.MAX_CONNECTIONS // 2)
        assert event_threads() == [f"upnpy-events-{port}", f"upnpy-events-{port}-dispatch"]


def test_file_descriptors_are_bounded_and_all_released_on_close(delivered):
    before = open_fds()
    srv = CallbackServer("127.0.0.1", 0, lambda target, n: delivered.put((target, n)))
    try:
        with SlowClients("127.0.0.1", srv.port, SLOW) as slow:
            time.sleep(1.5)  # a drip or two: evicted clients come back
            held = server_side_sockets(srv.port)
            assert 1 < held <= _gena_server.MAX_CONNECTIONS + 1  # connections and the listener
            # ours: the slow clients; the server's: those, a wake-up pair and the selector
            limit = before + SLOW + _gena_server.MAX_CONNECTIONS + 1 + 3
            assert open_fds() <= limit
            assert slow.reopened > 0  # the oldest were closed to make room
    finally:
        srv.close()
    assert event_threads() == []
    assert open_fds() == before


def test_when_full_the_oldest_connection_is_closed_for_a_new_one(server, monkeypatch, delivered):
    monkeypatch.setattr(_gena_server, "MAX_CONNECTIONS", 4)
    socks = []
    try:
        for _ in range(4):
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=WAIT))
            socks[-1].sendall(b"NOTIFY / HTTP/1.1\r\n")
        assert wait_for(lambda: server_side_sockets(server.port) == 5)
        assert status(exchange(server.port, request(propertyset({"Level": "9"})))) == 200
        assert closed_by_peer(socks[0], WAIT)
        assert not any(closed_by_peer(sock, 0.1) for sock in socks[1:])
        assert_delivered(delivered, {"Level": "9"})
    finally:
        for sock in socks:
            sock.close()


def test_bytes_buffered_over_all_connections_are_capped(server, monkeypatch, delivered):
    monkeypatch.setattr(_gena_server, "MAX_BUFFERED", 100_000)
    head = request(b"x" * 500_000)[:-500_000]
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as hog:
        hog.sendall(head + b"x" * 60_000)
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as other:
            other.sendall(head + b"x" * 60_000)  # over the cap: the fuller connection goes
            ready = select.select([hog, other], [], [], WAIT)[0]
            assert ready and closed_by_peer(ready[0], WAIT)
    assert status(exchange(server.port, request(propertyset({"Level": "3"})))) == 200
    assert_delivered(delivered, {"Level": "3"})


# --- framing ----------------------------------------------------------------------------------


def test_two_different_content_lengths_get_400(server, delivered):
    body = propertyset({"Status": "1"})
    framing = f"Content-Length: {len(body)}\r\nContent-Length: {len(body) + 1}\r\n"
    assert status(exchange(server.port, request(body, framing=framing))) == 400
    framing = f"Content-Length: {len(body)}, {len(body) + 1}\r\n"
    assert status(exchange(server.port, request(body, framing=framing))) == 400
    assert delivered.empty()
    framing = f"content-length: {len(body)}\r\nCONTENT-LENGTH: {len(body)}\r\n"  # the same: fine
    assert status(exchange(server.port, request(body, framing=framing))) == 200
    assert_delivered(delivered, {"Status": "1"})


@pytest.mark.parametrize("length", ["+5", "0x10", "５", "1e3", "", "5 5"])
def test_a_content_length_of_anything_but_ascii_digits_gets_400(server, length):
    framing = f"Content-Length: {length}\r\n"
    assert status(exchange(server.port, request(b"<x/>", framing=framing))) == 400


def test_a_chunked_notify_is_delivered(server, delivered):
    body = propertyset({"Name": "chunked " * 50})
    data = request(body, framing="chunked")
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 50):
            sock.sendall(data[i : i + 50])
            time.sleep(0.002)
        assert status(read_answer(sock)) == 200
    assert_delivered(delivered, {"Name": "chunked " * 50})


def test_a_body_without_framing_ends_with_the_connection(server, delivered):
    with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
        sock.sendall(request(propertyset({"Level": "4"}), framing=""))
        sock.shutdown(socket.SHUT_WR)
        assert status(read_answer(sock)) == 200
    assert_delivered(delivered, {"Level": "4"})


@pytest.mark.parametrize(
    "data, code",
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
        (b"NOTIFY / HTTP/2.0\r\n\r\n", 505),
        (b"NOTIFY /\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        (b"NOTIFY / HTTP/1.1\r\n" + b"X: " + b"a" * 70_000, 431),
        (b"NOTIFY / HTTP/1.1\r\nNT upnp:event\r\n\r\n", 400),
        (
            b"NOTIFY / HTTP/1.1\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\nSID: uuid:x\r\n"
            b"SEQ: 1\r\nContent-Length: 0\r\n\r\n",
            412,
        ),
        (request(b"<" * 10, framing=f"Content-Length: {(1 << 20) + 1}\r\n"), 413),
    ],
)
def test_what_is_refused_and_the_server_goes_on(server, delivered, data, code):
    assert status(exchange(server.port, data)) == code
    assert status(exchange(server.port, request(propertyset({"Level": "1"})))) == 200
    assert_delivered(delivered, {"Level": "1"})


def test_header_names_are_case_insensitive_and_folded_lines_unfold(server, delivered):
    body = propertyset({"Level": "2"})
    data = (
        b"\r\n"  # a blank line before the request line is ignored
        + b"NOTIFY /upnpy/1 HTTP/1.0\r\nnt: upnp:event\r\nnts:\r\n upnp:propchange\r\n"
        + f"sid: {SID}\r\nSeq: 7\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert status(exchange(server.port, data)) == 200
    assert_delivered(delivered, {"Level": "2"}, seq=7)


def test_a_client_that_closes_before_its_request_is_complete_gets_nothing_delivered(
    server, delivered
):
    for data in (b"", b"NOTIFY / HT", request(propertyset({"Level": "1"}))[:-5]):
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            answer = read_answer(sock)
        if data:
            assert status(answer) == 400
        else:
            assert answer == b""  # a bare connect and close: nothing to answer
    assert status(exchange(server.port, request(propertyset({"Level": "1"})))) == 200
    assert_delivered(delivered, {"Level": "1"})
    assert delivered.empty()


def test_ipv6_loopback(delivered):
    try:
        srv = CallbackServer("::1", 0, lambda target, n: delivered.put((target, n)))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        srv.register(SID, "target")
        assert srv.url("/a") == f"http://[::1]:{srv.port}/a"
        with socket.create_connection(("::1", srv.port), timeout=WAIT) as sock:
            sock.sendall(request(propertyset({"Level": "6"})))
            assert status(read_answer(sock)) == 200
        _, notification = delivered.get(timeout=WAIT)
        assert notification.peer == "::1"
    finally:
        srv.close()


# --- the pieces, as data ----------------------------------------------------------------------


def test_framing_rules():
    framing = _gena_server._framing
    assert framing([]) == (False, None)
    assert framing([("Transfer-Encoding", "gzip, chunked"), ("Content-Length", "9")]) == (
        True,
        None,
    )
    assert framing([("content-length", "10"), ("Content-Length", "10")]) == (False, 10)
    assert framing([("content-length", "010, 10")]) == (False, 10)
    for bad, code in [(["1", "2"], 400), (["x"], 400), (["1" * 40], 413), ([str(2 << 20)], 413)]:
        with pytest.raises(NotifyRejected) as info:
            framing([("Content-Length", value) for value in bad])
        assert info.value.status == code


def test_close_is_idempotent_and_answers_nothing_afterwards(delivered):
    srv = CallbackServer("127.0.0.1", 0, lambda target, n: delivered.put((target, n)))
    port = srv.port
    srv.close()
    srv.close()
    assert event_threads() == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=WAIT).close()
