"""The callback server under load in the lab: the GUPnP light's events get through 300 slow
connections held open on the subscription's callback server.

The slow clients run in this process, in the lab's client namespace, and connect to the
callback server's own address (the lab interface); nothing else is reached. Waits are
generous; nothing here asserts timing.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from fakes import SlowClients
from labtools import next_with

from upnpy import _gena_server

WAIT = 10.0
SLOW = 300  # more than the server keeps open: it closes the oldest for each newcomer


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
