"""discover() over both IP versions: a device answering over IPv4 and IPv6 is described once,
from its IPv4 LOCATION when that answers, from its IPv6 one when IPv4 fails (issue 11).

All on loopback: the "group" is a responder on 127.0.0.1 whose answers carry an IPv4
LOCATION (a fake device on 127.0.0.1) and an IPv6 one (a server on ::1 that counts requests).
"""

import http.server
import socket
import threading
import time

import pytest
from fakes import FakeDevice, SSDPResponder, light_description, ssdp_answer

import upnpy
from upnpy import _ssdp

pytestmark = pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")

UDN = "uuid:both-families"
DESCRIPTION = light_description(UDN, "dual", switch=False)


class V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True

    def __init__(self) -> None:
        self.gets = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.gets += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(DESCRIPTION)))
                self.end_headers()
                self.wfile.write(DESCRIPTION)

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("::1", 0), Handler)
        self.url = f"http://[::1]:{self.server_address[1]}/desc.xml"
        self.thread = threading.Thread(target=self.serve_forever, name="v6-server")
        self.thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(5)


@pytest.fixture
def v6():
    server = V6Server()
    yield server
    server.close()


@pytest.fixture
def v4():
    fake = FakeDevice({"/desc.xml": DESCRIPTION})
    yield fake
    fake.close()


@pytest.fixture
def answering(monkeypatch):
    made = []

    def start(locations, gap=0.02):
        answers = [ssdp_answer(location, f"{UDN}::upnp:rootdevice") for location in locations]
        made.append(SSDPResponder(lambda sender: answers, gap))
        monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", made[-1].port))

    yield start
    for answers in made:
        answers.close()


def find():
    return upnpy.discover(timeout=1.0, interfaces=["127.0.0.1"])


def test_ipv4_is_preferred_when_its_answer_follows_closely(v4, v6, answering):
    answering([v6.url, v4.url + "/desc.xml"])  # IPv6 first, IPv4 20 ms later
    (device,) = find()
    assert device.location == v4.url + "/desc.xml"
    assert v6.gets == 0  # the IPv6 LOCATION was not even fetched


def test_ipv6_is_used_when_the_ipv4_location_fails(v6, answering):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{placeholder.getsockname()[1]}/desc.xml"
    answering([v6.url, dead])
    (device,) = find()
    assert device.location == v6.url and device.udn == UDN


def test_an_ipv6_only_device_is_found(v6, answering):
    answering([v6.url])
    assert [d.location for d in find()] == [v6.url]


def test_a_slow_ipv4_fetch_is_not_raced_by_the_ipv6_one(v4, v6, answering):
    original = v4.handle

    def slow(request, reply):
        time.sleep(0.4)  # longer than IPV6_DELAY
        original(request, reply)

    v4.handle = slow
    answering([v4.url + "/desc.xml", v6.url])
    (device,) = find()
    assert device.location == v4.url + "/desc.xml"
    assert v6.gets == 0
