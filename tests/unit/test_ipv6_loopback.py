"""IPv6 end to end on ::1: a description fetched, an action called, and a GENA subscription
whose NOTIFYs reach the callback server, all over IPv6 (issue 11).

The fake device of tests/fakes.py serves on an IPv6 copy of the loopback server of
tests/servers.py (a subclass here, binding ``::1``); nothing leaves the machine.
"""

import http.server
import socket
import threading
from urllib.parse import urlsplit

import fakes
import pytest
import servers
from servers import new_session

import upnpy

pytestmark = pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")

SWITCH = fakes.SWITCH
DESCRIPTION = fakes.light_description("uuid:fake-v6-light", "v6 light")
SCPD = fakes.scpd()


class _Server6(servers._Server):
    """tests/servers.py's server, on ``[::1]:<free port>``."""

    address_family = socket.AF_INET6

    def __init__(self, handler):
        http.server.ThreadingHTTPServer.__init__(self, ("::1", 0), servers.Reply)
        self.handler = handler
        self.lock = threading.Lock()
        self.connections = 0
        self.sockets = []
        self.requests = []
        self.stopping = threading.Event()


class LoopbackServer6(servers.LoopbackServer):
    def __init__(self, handler):
        self._server = _Server6(handler)
        port = self._server.server_address[1]
        self.url = f"http://[::1]:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"loopback6-{port}",
        )
        self._thread.start()


@pytest.fixture
def fake(monkeypatch):
    """A fake light on ``[::1]``, sending Status=1 as every initial event."""
    with monkeypatch.context() as patch:
        patch.setattr(fakes, "LoopbackServer", LoopbackServer6)
        device = fakes.FakeDevice({"/desc.xml": DESCRIPTION, "/scpd.xml": SCPD}, {"Status": "1"})
    device.answer("/ctl", SWITCH, "GetStatus", [("ResultStatus", "1")])
    try:
        yield device
    finally:
        fakes.close_unsubscribed(device)


@pytest.mark.parametrize("session", [False, True], ids=["sockets", "requests"])
def test_description_and_action_over_ipv6(fake, session):
    assert fake.url.startswith("http://[::1]:")
    options = {"session": new_session()} if session else {}
    with upnpy.Device(fake.url + "/desc.xml", **options) as light:
        assert light.friendly_name == "v6 light"
        assert light.SwitchPower.GetStatus() == {"ResultStatus": True}
    port = urlsplit(fake.url).port
    assert [r.path for r in fake.gets()] == ["/desc.xml", "/scpd.xml"]
    assert all(r.headers["Host"] == f"[::1]:{port}" for r in fake.requests())


def test_subscription_over_ipv6_gets_its_events(fake):
    light = upnpy.Device(fake.url + "/desc.xml")
    with light, light.SwitchPower.subscribe(timeout=300) as sub:
        callback = fake.callbacks[sub.sid]
        assert urlsplit(callback).hostname == "::1"  # the callback server listens on IPv6
        assert callback.startswith("http://[::1]:")
        first = sub.get(timeout=5)
        assert first.seq == 0 and first.variables == {"Status": True}
        assert fake.event(sub.sid, {"Status": "0"}) == 200
        assert sub.get(timeout=5).variables == {"Status": False}
    assert fake.requests("UNSUBSCRIBE")
