"""The callback server under load in the lab: the GUPnP light's events get through 300 slow
connections held open on the subscription's callback server.

The slow clients run in this process, in the lab's client namespace, and connect to the
callback server's own address (the lab interface); nothing else is reached. Waits are
generous; nothing here asserts timing.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import List
from urllib.parse import urlsplit

import pytest

import upnpy
from upnpy import _gena_server

WAIT = 10.0
SLOW = 300  # more than the server keeps open: it closes the oldest for each newcomer


@pytest.fixture(scope="module")
def light(lab):
    with upnpy.Device(lab.light_url) as device:
        yield device


class SlowClients:
    """*count* connections to (host, port) that each send one header byte a second and never
    finish; a connection the server closes is opened again, so the flood keeps its size.

    A thread drips (joined on exit); every socket is closed on exit.
    """

    def __init__(self, host: str, port: int, count: int) -> None:
        self.address = (host, port)
        self.socks: List[socket.socket] = []
        try:
            for _ in range(count):
                self.socks.append(self._connect())
        except BaseException:
            for sock in self.socks:
                sock.close()
            raise
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, name="test-slow-clients")

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=WAIT)
        sock.sendall(b"NOTIFY /upnpy/1 HTTP/1.1\r\nX-Slow: ")
        sock.setblocking(False)
        return sock

    @staticmethod
    def _open(sock: socket.socket) -> bool:
        """Whether the server still waits on *sock* (nothing to read: no answer, no close)."""
        try:
            sock.recv(1)
        except BlockingIOError:
            return True
        except OSError:
            pass
        return False

    def _drip(self) -> None:
        while not self._stop.wait(1.0):
            for i, sock in enumerate(self.socks):
                try:
                    if self._open(sock):
                        sock.send(b"a")
                        continue
                except OSError:
                    pass
                sock.close()  # cut by the server: come back
                try:
                    self.socks[i] = self._connect()
                    self.reopened += 1
                except OSError:
                    pass

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.socks:
            sock.close()


def next_with(sub, name, value, timeout=WAIT):
    """The next event of *sub* in which *name* equals *value*; other events are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        event = sub.get(timeout=max(deadline - time.monotonic(), 0.01))
        if event.variables.get(name) == value:
            return event


def test_light_events_get_through_300_slow_connections(light, lab):
    assert _gena_server.MAX_CONNECTIONS < SLOW  # the flood overfills the server
    switch = light.SwitchPower
    switch.SetTarget(False)
    with switch.subscribe() as sub:
        assert sub.get(timeout=WAIT).variables["Status"] is False  # the initial event
        parts = urlsplit(sub.callback_url)
        assert parts.hostname == lab.client_ip
        server_threads = [f"upnpy-events-{parts.port}", f"upnpy-events-{parts.port}-dispatch"]
        with SlowClients(parts.hostname, parts.port, SLOW) as slow:
            time.sleep(1.5)  # a drip: the server is full, and closes the oldest for newcomers
            assert slow.reopened > 0
            names = {t.name for t in threading.enumerate()}
            assert sorted(n for n in names if n.startswith(server_threads[0])) == server_threads
            switch.SetTarget(True)
            assert next_with(sub, "Status", True).sid == sub.sid
            switch.SetTarget(False)
            assert next_with(sub, "Status", False).sid == sub.sid
        switch.SetTarget(True)  # and after the flood
        assert next_with(sub, "Status", True).sid == sub.sid
    switch.SetTarget(False)
