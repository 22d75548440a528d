"""A device returned by discovery holds no socket until it is used (issue 11): hundreds of
devices fit under the common 1024 descriptor limit. On 127.0.0.1, with one fake device
serving many descriptions and a loopback "group" answering with all of their LOCATIONs."""

import os
import socket
import threading

import pytest
from fakes import FakeDevice

import upnpy
from upnpy import _ssdp

COUNT = 300


def description(n: int) -> bytes:
    return f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor>
</specVersion><device><deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>
<friendlyName>light {n}</friendlyName><manufacturer>m</manufacturer><modelName>m</modelName>
<UDN>uuid:scale-{n}</UDN></device></root>""".encode()


class Crowd:
    """Answers an M-SEARCH with one answer per device, once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="ssdp-crowd")
        self.thread.start()

    def run(self) -> None:
        answered = set()
        while not self.stop.is_set():
            try:
                _, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if sender in answered:
                continue
            answered.add(sender)
            for n in range(COUNT):
                self.sock.sendto(
                    (
                        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                        f"LOCATION: {self.url}/d{n}.xml\r\nST: upnp:rootdevice\r\n"
                        f"USN: uuid:scale-{n}::upnp:rootdevice\r\n\r\n"
                    ).encode(),
                    sender,
                )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def crowd(monkeypatch):
    fake = FakeDevice({f"/d{n}.xml": description(n) for n in range(COUNT)})
    responder = Crowd(fake.url)
    monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", responder.port))
    yield fake
    responder.close()
    fake.close()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd (Linux)")
def test_discovered_devices_hold_no_socket(crowd):
    before = open_descriptors()
    devices = upnpy.discover(timeout=1.5, interfaces=["127.0.0.1"])
    assert len(devices) == COUNT
    assert open_descriptors() <= before + 2  # not one per device
    for device in devices:
        device.close()
