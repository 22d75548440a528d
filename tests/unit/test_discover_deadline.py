"""discover()'s deadline holds under any input (issue 9): a flood of SSDP answers, a device that
drips its description a byte at a time. Everything stays on 127.0.0.1: the multicast "group"
is a loopback responder, as in test_ssdp.py.

The bound asserted is the documented one, timeout + GRACE, with a margin for a loaded
machine; before the fix these took well over a second more.
"""

import socket
import threading
import time

import pytest
from servers import LoopbackServer

import upnpy
from upnpy import _discovery, _ssdp

TIMEOUT = 1.0
MARGIN = 0.4


def answer(location: str, n: int) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
        f"LOCATION: {location}\r\nSERVER: flood/1 UPnP/1.1 flood/1\r\nST: upnp:rootdevice\r\n"
        f"USN: uuid:flood-{n}::upnp:rootdevice\r\n\r\n"
    ).encode()


class Flood:
    """Answers an M-SEARCH with a stream of distinct answers until closed."""

    def __init__(self, locations):
        self.locations = locations
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.001)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self.run, name="ssdp-flood")
        self.thread.start()

    def run(self):
        sender = None
        while not self.stop.is_set():
            try:
                _, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                if sender is None:
                    continue
            except OSError:
                return
            for _ in range(50):  # a burst, then look for another M-SEARCH, and on
                location = self.locations(self.sent)
                try:
                    self.sock.sendto(answer(location, self.sent), sender)
                except OSError:
                    break
                self.sent += 1

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def flood(monkeypatch):
    made = []

    def start(locations):
        made.append(Flood(locations))
        monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", made[-1].port))
        return made[-1]

    yield start
    for f in made:
        f.close()


def closed_port() -> int:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return placeholder.getsockname()[1]


def timed_discover(**options):
    start = time.monotonic()
    devices = upnpy.discover(timeout=TIMEOUT, interfaces=["127.0.0.1"], **options)
    return devices, time.monotonic() - start


def test_a_flood_of_answers_does_not_stretch_the_deadline(flood):
    port = closed_port()  # every LOCATION refuses: fetches fail at once
    source = flood(lambda n: f"http://127.0.0.1:{port}/d{n}.xml")
    devices, took = timed_discover()
    assert devices == []
    assert source.sent > 500  # it really was a flood (1300 to 1700 here; fewer under load)
    assert took < TIMEOUT + _discovery.GRACE + MARGIN


def test_a_description_dripped_a_byte_at_a_time_does_not_stretch_the_deadline(flood):
    def drip(request, reply):
        reply.send_response(200)
        reply.send_header("Content-Length", "5000")
        reply.end_headers()
        for _ in range(100):
            if reply.server.stopping.wait(0.1):
                return
            reply.wfile.write(b" ")
            reply.wfile.flush()

    with LoopbackServer(drip) as server:
        flood(lambda n: server.url + "/slow.xml")
        devices, took = timed_discover()
    assert devices == []
    assert took < TIMEOUT + _discovery.GRACE + MARGIN
