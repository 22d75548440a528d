"""discover() among hostile and broken devices, next to the lab's real ones.

A fake SSDP responder in the client namespace answers every M-SEARCH (three times over,
plus garbage datagrams) with LOCATIONs on a loopback HTTP server that is dead, slow to
death, malformed, huge, an entity bomb, or fine. Multicast here never leaves the lab.
"""

import socket
import struct
import threading

import pytest
from servers import LoopbackServer

import upnpy

GOOD = b"""<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion><device>
<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
<friendlyName>fake good</friendlyName><manufacturer>upnpy tests</manufacturer>
<modelName>fake</modelName><UDN>uuid:00000000-0000-0000-0000-0000000000aa</UDN></device></root>"""
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
        for i in range(1, 10)
    )
    + b"]><root>&lol9;</root>"
)


def handle(request, reply):
    if request.path == "/good.xml":
        reply.send(200, GOOD, {"Content-Type": "text/xml"})
    elif request.path == "/dead.xml":
        reply.server.stopping.wait(30)  # accepts, never answers
    elif request.path == "/garbage.xml":
        reply.send(200, b"\x00\xffnot xml at all <<<", {"Content-Type": "text/xml"})
    elif request.path == "/bomb.xml":
        reply.send(200, BOMB, {"Content-Type": "text/xml"})
    elif request.path == "/huge.xml":
        reply.send(200, b"<root>" + b"x" * (5 << 20) + b"</root>", {"Content-Type": "text/xml"})
    else:
        reply.send(404, b"")


PATHS = ["/good.xml", "/dead.xml", "/garbage.xml", "/bomb.xml", "/huge.xml", "/missing.xml"]


class FakeResponder:
    """Joins the SSDP group on the client's lab address and answers every M-SEARCH."""

    def __init__(self, lab, base_url):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("239.255.255.250", 1900))
        mreq = struct.pack(
            "4s4s", socket.inet_aton("239.255.255.250"), socket.inet_aton(lab.client_ip)
        )
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self.sock.settimeout(0.1)
        self.base_url = base_url
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="fake-ssdp")
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if not data.startswith(b"M-SEARCH") or b"ssdp:all" not in data:
                continue
            self.sock.sendto(b"\x00\x01garbage\xff" * 50, sender)
            self.sock.sendto(b"HTTP/1.1 200 OK\r\nNO-COLON-LINE\r\n\r\n", sender)
            for n, path in enumerate(PATHS):
                answer = (
                    f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                    f"LOCATION: {self.base_url}{path}\r\nSERVER: fake UPnP/1.1 fake/1\r\n"
                    f"ST: upnp:rootdevice\r\nUSN: uuid:fake-{n}::upnp:rootdevice\r\n\r\n"
                ).encode()
                for _ in range(3):
                    self.sock.sendto(answer, sender)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def fakes(lab):
    with LoopbackServer(handle) as server:
        responder = FakeResponder(lab, server.url)
        try:
            yield server
        finally:
            responder.close()


@pytest.mark.filterwarnings("ignore:the document is not UTF-8:upnpy.UPnPWarning")
def test_broken_devices_are_left_out_and_each_location_fetched_once(lab, fakes):
    devices = upnpy.discover(timeout=2, family=socket.AF_INET)
    try:
        names = sorted(d.friendly_name for d in devices)
        assert "fake good" in names
        real = {lab.gw_url, lab.dms_url, lab.light_url}
        assert real <= {d.location for d in devices}
        assert len(devices) == 4, names
        fetched = sorted(r.path for r in fakes.requests)
        assert fetched == sorted(PATHS)  # three answers each, one fetch each
    finally:
        for d in devices:
            d.close()
