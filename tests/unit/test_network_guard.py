"""The network guard of tests/unit/conftest.py refuses, before sending, what is not loopback.

Every refusal here is provoked on a *closed* socket: were the guard to let the real method run,
that would fail with EBADF (an OSError that is not a NetworkGuardError) and still send nothing.
So these tests prove the address is checked first without any chance of reaching the network.
"""

import socket
import threading

import pytest

OUTSIDE = ("192.0.2.1", 9)  # TEST-NET-1: routed off this machine, so it must never be reached


def closed(family=socket.AF_INET, kind=socket.SOCK_DGRAM):
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:  # a kernel without IPv6
        pytest.skip(f"no {family.name} sockets here: {exc}")
    sock.close()
    return sock


@pytest.mark.parametrize(
    "family, address, allowed",
    [
        (socket.AF_INET, ("127.0.0.1", 80), True),
        (socket.AF_INET, ("127.0.0.2", 80), True),
        (socket.AF_INET, ("127.255.255.254", 80), True),
        (socket.AF_INET, ("localhost", 80), True),
        (socket.AF_INET, ("LocalHost.", 80), True),
        (socket.AF_INET, (b"127.0.0.1", 80), True),
        (socket.AF_INET6, ("::1", 80, 0, 0), True),
        (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0), True),
        (socket.AF_UNIX, "/tmp/some.sock", True),
        (socket.AF_INET, OUTSIDE, False),
        (socket.AF_INET, ("203.0.113.7", 80), False),
        (socket.AF_INET, ("239.255.255.250", 1900), False),
        (socket.AF_INET, ("0.0.0.0", 80), False),
        (socket.AF_INET, ("", 80), False),
        (socket.AF_INET, ("example.com", 80), False),
        (socket.AF_INET, ("localhost.example.com", 80), False),
        (socket.AF_INET6, ("::", 80, 0, 0), False),
        (socket.AF_INET6, ("fe80::1%lo", 80, 0, 0), False),
        (socket.AF_INET6, ("::ffff:192.0.2.1", 80, 0, 0), False),
        (socket.AF_INET6, ("ff02::c", 1900, 0, 0), False),
        (socket.AF_INET, None, False),
    ],
)
def test_what_counts_as_loopback(network_guard, family, address, allowed):
    assert network_guard.is_loopback(family, address) is allowed


@pytest.mark.parametrize(
    "call",
    [
        lambda sock: sock.connect(OUTSIDE),
        lambda sock: sock.connect_ex(OUTSIDE),
        lambda sock: sock.sendto(b"x", OUTSIDE),
        lambda sock: sock.sendto(b"x", 0, OUTSIDE),
        lambda sock: sock.sendmsg([b"x"], [], 0, OUTSIDE),
    ],
    ids=["connect", "connect_ex", "sendto", "sendto-flags", "sendmsg"],
)
def test_a_refusal_comes_before_the_real_call_and_is_recorded(network_guard, call):
    with pytest.raises(OSError) as info:
        call(closed())
    assert isinstance(info.value, network_guard.Error)  # not EBADF: the real call never ran
    assert isinstance(info.value, ConnectionRefusedError)  # what an unreachable host gives
    assert "192.0.2.1" in str(info.value)
    assert [address for _, address in network_guard.violations] == [OUTSIDE]
    network_guard.violations.clear()


def test_tcp_connect_is_refused_before_anything_is_sent(network_guard):
    with pytest.raises(network_guard.Error):
        closed(kind=socket.SOCK_STREAM).connect(OUTSIDE)
    with pytest.raises(network_guard.Error):
        closed(socket.AF_INET6, socket.SOCK_STREAM).connect(("::ffff:192.0.2.1", 9, 0, 0))
    assert network_guard.violations == [
        ("connect", OUTSIDE),
        ("connect", ("::ffff:192.0.2.1", 9, 0, 0)),
    ]
    network_guard.violations.clear()


def test_a_swallowed_refusal_in_another_thread_still_fails_the_test(network_guard):
    def quietly():
        try:
            closed().connect(OUTSIDE)
        except OSError:
            pass  # as library code in a background thread might

    worker = threading.Thread(target=quietly)
    worker.start()
    worker.join()
    assert network_guard.violations == [("connect", OUTSIDE)]
    with pytest.raises(pytest.fail.Exception, match=r"192\.0\.2\.1"):
        network_guard.verify()  # what the fixture runs at teardown
    network_guard.violations.clear()
    network_guard.verify()  # nothing left: the test passes


def test_loopback_and_unix_sockets_work_as_usual(network_guard):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"ping", receiver.getsockname())
            assert receiver.recv(16) == b"ping"
            sender.connect(("127.0.0.2", 9))  # a UDP connect only sets the peer
            assert sender.getpeername() == ("127.0.0.2", 9)
            assert sender.connect_ex(receiver.getsockname()) == 0
            sender.send(b"pong")  # connected: checked at connect
            assert receiver.recv(16) == b"pong"
    left, right = socket.socketpair()
    with left, right:
        left.sendmsg([b"unix"])
        assert right.recv(16) == b"unix"
    assert network_guard.violations == []
