"""upnpy._subscription and upnpy._gena_server against a loopback GENA device (tests/fakes.py).

The fake device answers SUBSCRIBE/UNSUBSCRIBE and sends NOTIFYs to the CALLBACK URL it was
given; the tests also send NOTIFYs of their own (garbage, unknown SIDs, gaps) straight to the
library's callback server. Everything stays on 127.0.0.1.
"""

import datetime
import inspect
import logging
import queue
import socket
import threading
import time
from typing import List
from urllib.parse import urlsplit

import pytest
from fakes import FakeDevice, close_unsubscribed, notify, propertyset
from servers import headers_dict

import upnpy
from upnpy import _gena, _gena_server
from upnpy import _subscription as events
from upnpy._manager import manager
from upnpy._records import DeviceInfo, ServiceInfo, StateVariableInfo

SCPD = b"""<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<actionList><action><name>GetStatus</name><argumentList><argument><name>ResultStatus</name>
<relatedStateVariable>Status</relatedStateVariable><direction>out</direction></argument>
</argumentList></action></actionList>
<serviceStateTable>
<stateVariable sendEvents="yes"><name>Status</name><dataType>boolean</dataType></stateVariable>
<stateVariable sendEvents="yes"><name>Level</name><dataType>ui1</dataType></stateVariable>
<stateVariable sendEvents="yes"><name>Name</name><dataType>string</dataType></stateVariable>
</serviceStateTable></scpd>"""


def threads() -> List[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("upnpy-events"))


def service(fake: FakeDevice) -> upnpy.Service:
    """The SwitchPower service of a light whose SCPD, control and event URLs are on *fake*."""
    info = DeviceInfo(
        device_type="urn:schemas-upnp-org:device:BinaryLight:1",
        friendly_name="fake light",
        manufacturer="upnpy tests",
        model_name="fake",
        udn="uuid:fake-device",
        services=(
            ServiceInfo(
                service_type="urn:schemas-upnp-org:service:SwitchPower:1",
                service_id="urn:upnp-org:serviceId:SwitchPower:1",
                scpd_url=fake.url + "/scpd.xml",
                control_url=fake.url + "/ctl",
                event_sub_url=fake.url + "/evt",
            ),
        ),
    )
    device = upnpy.Device.from_info(info, fake.url + "/desc.xml", timeout=(2, 5))
    return device.SwitchPower


@pytest.fixture
def device():
    """A GENA device serving the SCPD above; it sends Status=1 as every initial event."""
    fake = FakeDevice({"/scpd.xml": SCPD}, initial={"Status": "1"})
    try:
        yield fake
    finally:
        close_unsubscribed(fake)


@pytest.fixture
def svc(device):
    switch_power = service(device)
    with switch_power.device:
        yield switch_power


# --- the public API as the issue names it ----------------------------------------------


def test_api_names():
    params = inspect.signature(upnpy.Service.subscribe).parameters
    assert list(params)[:5] == ["self", "callback", "timeout", "auto_renew", "callback_url"]
    assert params["callback_url"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["timeout"].default == 300 and params["auto_renew"].default is True
    assert inspect.signature(upnpy.Subscription.get).parameters["timeout"].default == 5.0
    for name in ("Subscription", "Event", "parse_last_change"):
        assert name in upnpy.__all__ and getattr(upnpy, name).__module__ == "upnpy"


# --- SUBSCRIBE, renew, UNSUBSCRIBE ------------------------------------------------------


def test_subscribe_sends_the_uda_headers_and_starts_a_named_server(device, svc):
    device.grant = "Second-1800"
    with svc.subscribe() as sub:
        (request,) = device.requests("SUBSCRIBE")
        assert request.path == "/evt"
        headers = headers_dict(request)
        callback = headers["CALLBACK"]
        assert callback.startswith("<http://127.0.0.1:") and callback.endswith(">")
        assert len(callback) < 64 and callback.count("<") == 1  # one short URL, literal IP
        assert headers["NT"] == "upnp:event"
        assert headers["TIMEOUT"] == "Second-300"
        assert "SID" not in headers
        assert headers["User-Agent"] == upnpy._http.USER_AGENT
        assert sub.sid == "uuid:fake-1"
        assert sub.timeout == 1800  # what the device granted
        assert sub.service is svc and sub.active
        port = urlsplit(callback[1:-1]).port
        assert f"upnpy-events-{port}" in threads()
        assert f"upnpy-events-{port}-dispatch" in threads()
        assert "fake-1" in repr(sub) and "active" in repr(sub)
    assert not sub.active


@pytest.mark.parametrize(
    "asked, sent",
    [
        (2.5, "Second-3"),
        (60, "Second-60"),
        (datetime.timedelta(days=1, seconds=5), "Second-86405"),
    ],
)
def test_timeout_is_always_sent_as_an_integer(device, svc, asked, sent):
    with svc.subscribe(timeout=asked):
        assert headers_dict(device.requests("SUBSCRIBE")[0])["TIMEOUT"] == sent


@pytest.mark.parametrize("bad", [0, 0.5, -3, True, "300", None])
def test_bad_timeouts_are_refused_before_anything_is_sent(device, svc, bad):
    with pytest.raises(ValueError):
        svc.subscribe(timeout=bad)
    assert device.requests("SUBSCRIBE") == []
    assert threads() == []


@pytest.mark.parametrize("grant", [None, "Second-infinite", "garbage", "Second-0"])
def test_a_missing_or_useless_grant_means_the_time_asked_for(device, svc, grant):
    device.grant = grant
    with svc.subscribe(timeout=120) as sub:
        assert sub.timeout == 120


def test_renew_sends_sid_and_timeout_only_and_unsubscribe_sid_only(device, svc):
    sub = svc.subscribe(timeout=100, auto_renew=False)
    sub.renew()
    renewal = headers_dict(device.requests("SUBSCRIBE")[1])
    assert renewal["SID"] == sub.sid and renewal["TIMEOUT"] == "Second-100"
    assert "CALLBACK" not in renewal and "NT" not in renewal
    sid = sub.sid
    sub.unsubscribe()
    (cancel,) = device.requests("UNSUBSCRIBE")
    headers = headers_dict(cancel)
    assert headers["SID"] == sid
    assert not {"CALLBACK", "NT", "TIMEOUT"} & set(headers)
    sub.unsubscribe()  # idempotent: nothing more is sent
    assert len(device.requests("UNSUBSCRIBE")) == 1
    assert threads() == []
    with pytest.raises(upnpy.SubscriptionError):
        sub.renew()


def test_a_renewal_answer_with_a_new_sid_is_adopted(device, svc):
    with svc.subscribe(auto_renew=False) as sub:
        assert sub.get().seq == 0
        device.renew_status = 200
        original = device.handle

        def new_sid(request, reply):
            if request.method == "SUBSCRIBE" and request.headers.get("SID"):
                with device.lock:
                    device.callbacks["uuid:renamed"] = device.callbacks.pop(request.headers["SID"])
                    device.seqs["uuid:renamed"] = 5
                    device.ready["uuid:renamed"] = device.ready[request.headers["SID"]]
                reply.send(200, b"", {"SID": "uuid:renamed", "TIMEOUT": "Second-300"})
            else:
                original(request, reply)

        device.handle = new_sid
        sub.renew()
        assert sub.sid == "uuid:renamed"
        assert device.event("uuid:renamed", {"Level": "9"}) == 200
        event = sub.get()
        assert (event.sid, event.variables) == ("uuid:renamed", {"Level": 9})


def test_context_manager_unsubscribes_and_stops_every_thread(device, svc):
    with svc.subscribe(callback=lambda event: None) as sub:
        assert any(name.startswith("upnpy-events-callback") for name in threads())
    assert [headers_dict(r)["SID"] for r in device.requests("UNSUBSCRIBE")] == [sub.sid]
    assert not sub.active and sub.error is None
    assert threads() == []


def test_the_server_is_shared_and_stops_with_the_last_subscription(device, svc):
    first = svc.subscribe()
    second = svc.subscribe()
    assert urlsplit(first.callback_url).port == urlsplit(second.callback_url).port
    assert first.callback_url != second.callback_url
    port = urlsplit(first.callback_url).port
    first.unsubscribe()
    assert f"upnpy-events-{port}" in threads()
    assert device.event(second.sid, {"Level": "3"}) == 200
    assert [second.get().seq, second.get().seq] == [0, 1]
    second.unsubscribe()
    assert threads() == []
    with pytest.raises(OSError):  # nothing listens there any more
        notify(first.callback_url, second.sid, 2, propertyset({"Level": "4"}))


def test_subscribe_refused_raises_and_leaves_nothing_running(device, svc):
    device.subscribe_status = 503
    with pytest.raises(upnpy.SubscriptionError, match="503"):
        svc.subscribe()
    assert threads() == []


def test_unreachable_device_raises_subscription_error(svc, device):
    device.close()
    with pytest.raises(upnpy.SubscriptionError):
        svc.subscribe()
    assert threads() == []


def test_a_service_without_event_sub_url(svc):
    object.__setattr__(
        svc,
        "info",
        ServiceInfo(svc.service_type, svc.service_id, svc.scpd_url, svc.control_url, ""),
    )
    with pytest.raises(upnpy.SubscriptionError, match="eventSubURL"):
        svc.subscribe()


def test_callback_url_override_is_advertised_verbatim(device, svc):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    # As behind a NAT: the URL advertised is not where the server listens. 127.0.0.2 stands
    # for the outside address and stays on this machine (nothing listens there: refused).
    url = f"http://127.0.0.2:{port}/from-outside"
    with svc.subscribe(callback_url=url, bind=("127.0.0.1", port)) as sub:
        assert headers_dict(device.requests("SUBSCRIBE")[0])["CALLBACK"] == f"<{url}>"
        assert sub.callback_url == url
        # The device's initial NOTIFY went to 127.0.0.2 and was refused there; ours arrive
        # where the server listens.
        assert device.ready[sub.sid].wait(5) and device.sent == []
        inside = f"http://127.0.0.1:{port}/from-outside"
        assert notify(inside, sub.sid, 0, propertyset({"Level": "1"})) == 200
        assert sub.get().variables == {"Level": 1}


def test_callback_url_must_be_http(svc):
    with pytest.raises(ValueError):
        svc.subscribe(callback_url="ftp://10.0.0.1/x")


# --- events and their values --------------------------------------------------------------


def test_initial_event_is_typed_with_the_state_variables(device, svc):
    device.initial = {"Status": "1", "Level": "42", "Name": "  spaced  "}
    with svc.subscribe() as sub:
        event = sub.get(timeout=5)
    assert event.variables == {"Status": True, "Level": 42, "Name": "  spaced  "}
    assert event.raw == {"Status": "1", "Level": "42", "Name": "  spaced  "}
    assert (event.seq, event.sid, event.service) == (0, sub.sid, svc)
    assert event.received_at.tzinfo is not None
    age = datetime.datetime.now(datetime.timezone.utc) - event.received_at
    assert abs(age.total_seconds()) < 60
    assert repr(event) == (
        "<Event SwitchPower seq=0 {'Status': True, 'Level': 42, 'Name': '  spaced  '}>"
    )


def test_initial_event_that_beats_the_subscribe_answer_is_delivered(device, svc):
    device.initial_first = True
    with svc.subscribe() as sub:
        event = sub.get(timeout=5)
        assert (event.seq, event.sid, event.variables) == (0, sub.sid, {"Status": True})
        assert device.sent == [(sub.sid, 0, 200)]
        assert device.event(sub.sid, {"Status": "0"}) == 200
        assert sub.get().variables == {"Status": False}
        assert sub._server._backlog == {}


def test_a_bad_value_is_kept_raw_with_a_warning(device, svc):
    device.initial = {"Level": "lots"}
    with pytest.warns(upnpy.UPnPWarning, match="Level"), svc.subscribe() as sub:
        event = sub.get()
    assert event.variables == {"Level": "lots"}


def test_unknown_variables_and_a_missing_scpd_keep_text(device, svc, caplog):
    del device.documents["/scpd.xml"]
    device.initial = {"Status": "1", "Other": "x"}
    with svc.subscribe() as sub:
        assert sub.get().variables == {"Status": "1", "Other": "x"}
    assert "no SCPD" in caplog.text


def test_several_variables_per_property_and_namespaced_names(device, svc):
    body = (
        b'<e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0" xmlns:x="urn:x">'
        b"<e:property><Status>0</Status><x:Level>7</x:Level></e:property>"
        b"<e:property/><e:property><Name/></e:property></e:propertyset>"
    )
    with svc.subscribe() as sub:
        sub.get()
        assert notify(sub.callback_url, sub.sid, 1, body) == 200
        assert sub.get().variables == {"Status": False, "Level": 7, "Name": ""}


def test_chunked_notify_is_read(device, svc):
    with svc.subscribe() as sub:
        sub.get()
        body = propertyset({"Name": "x" * 1000})
        assert notify(sub.callback_url, sub.sid, 1, body, chunked=True) == 200
        assert sub.get().variables == {"Name": "x" * 1000}


def test_get_times_out_with_the_builtin_timeout_error(device, svc):
    device.initial = None
    with svc.subscribe() as sub:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.2)
        assert time.monotonic() - started < 3


def test_iteration_yields_queued_events_then_ends_when_cancelled(device, svc):
    sub = svc.subscribe()
    device.event(sub.sid, {"Level": "1"})
    device.event(sub.sid, {"Level": "2"})
    assert sub.get().seq == 0
    for _ in range(50):  # both NOTIFYs were answered; wait until both are processed
        if len(sub._events) == 2:
            break
        time.sleep(0.05)
    sub.unsubscribe()
    assert [event.variables["Level"] for event in sub] == [1, 2]
    with pytest.raises(upnpy.SubscriptionError, match="cancelled"):
        sub.get(timeout=1)


def test_the_queue_is_bounded_and_drops_the_oldest(device, svc, monkeypatch, caplog):
    monkeypatch.setattr(events, "MAX_QUEUED_EVENTS", 3)
    caplog.set_level(logging.WARNING, logger="upnpy")
    with svc.subscribe() as sub:
        assert sub.get().seq == 0
        for level in range(1, 5):
            device.event(sub.sid, {"Level": str(level)})
        for _ in range(50):
            if sub._dropped == 1:
                break
            time.sleep(0.05)
        assert [sub.get().seq for _ in range(3)] == [2, 3, 4]
    assert "dropped" in caplog.text


# --- SEQ ---------------------------------------------------------------------------------


def test_a_seq_gap_delivers_what_arrived_and_subscribes_anew(device, svc):
    with svc.subscribe() as sub:
        old = sub.sid
        assert sub.get().seq == 0
        assert device.event(old, {"Level": "1"}) == 200
        assert device.event(old, {"Level": "3"}, seq=3) == 200  # 2 was lost
        assert [sub.get().seq, sub.get().seq] == [1, 3]
        fresh = sub.get(timeout=10)  # the new subscription's initial event
        assert (fresh.seq, fresh.variables) == (0, {"Status": True})
        assert fresh.sid == sub.sid != old
        assert [headers_dict(r)["SID"] for r in device.requests("UNSUBSCRIBE")] == [old]
        new_subscribe = headers_dict(device.requests("SUBSCRIBE")[-1])
        assert "CALLBACK" in new_subscribe and "SID" not in new_subscribe
        assert notify(sub.callback_url, old, 4, propertyset({"Level": "4"})) == 412
        assert device.event(sub.sid, {"Level": "5"}) == 200
        assert sub.get().variables == {"Level": 5}


def test_an_out_of_order_event_is_dropped(device, svc, caplog):
    caplog.set_level(logging.WARNING, logger="upnpy")
    with svc.subscribe() as sub:
        sub.get()
        for seq in (1, 2):
            device.event(sub.sid, {"Level": str(seq)}, seq=seq)
        device.event(sub.sid, {"Level": "1"}, seq=1)  # late duplicate
        device.event(sub.sid, {"Level": "3"}, seq=3)
        assert [sub.get().seq for _ in range(3)] == [1, 2, 3]
        assert len(device.requests("SUBSCRIBE")) == 1  # no gap: no resubscription
    assert "out-of-order" in caplog.text


def test_seq_wraps_from_the_top_to_one(device, svc):
    with svc.subscribe() as sub:
        sub.get()
        sub._next_seq = 4294967295  # as if 4294967294 events had been received
        device.event(sub.sid, {"Level": "1"}, seq=4294967295)
        device.event(sub.sid, {"Level": "2"}, seq=1)  # after the top comes 1, never 0
        assert [sub.get().seq, sub.get().seq] == [4294967295, 1]
        assert len(device.requests("SUBSCRIBE")) == 1  # no gap seen


def test_repeated_gaps_do_not_resubscribe_in_a_loop(device, svc):
    with svc.subscribe() as sub:
        sub.get()
        device.event(sub.sid, {"Level": "1"}, seq=5)
        assert sub.get().seq == 5
        assert sub.get(timeout=10).seq == 0  # resubscribed
        device.event(sub.sid, {"Level": "1"}, seq=7)  # another gap, moments later
        device.event(sub.sid, {"Level": "1"}, seq=9)
        assert [sub.get().seq, sub.get().seq] == [7, 9]
        assert len(device.requests("SUBSCRIBE")) == 2


# --- what the callback server refuses ---------------------------------------------------------


def test_unknown_sid_gets_412_and_nothing_is_stored(device, svc):
    with svc.subscribe() as sub:
        sub.get()
        for n in range(20):
            assert notify(sub.callback_url, f"uuid:evil-{n}", 0, propertyset({"Level": "1"})) == 412
        assert sub._server._backlog == {}
        with pytest.raises(TimeoutError):
            sub.get(timeout=0.2)


@pytest.mark.parametrize(
    "extra, status",
    [
        ({"NT": None}, 400),
        ({"NTS": None}, 400),
        ({"NT": "upnp:other"}, 412),
        ({"NTS": "ssdp:alive"}, 412),
        ({"SID": None}, 412),
        ({"SEQ": None}, 412),
        ({"SEQ": "-1"}, 400),
        ({"SEQ": "one"}, 400),
        ({"SEQ": "4294967296"}, 400),
        ({"Content-Length": "ten"}, 400),
    ],
)
def test_bad_headers(device, svc, extra, status):
    with svc.subscribe() as sub:
        sub.get()
        headers = dict(extra)
        if headers.get("SID", "") is not None:
            headers.setdefault("SID", sub.sid)
        assert notify(sub.callback_url, sub.sid, 1, propertyset({"Level": "1"}), headers) == status
        assert device.event(sub.sid, {"Level": "2"}, seq=1) == 200  # still working
        assert sub.get().variables == {"Level": 2}


@pytest.mark.parametrize(
    "body",
    [
        b"this is not XML",
        b"<e:propertyset xmlns:e='urn:schemas-upnp-org:event-1-0'><e:property><Level>1",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><e:propertyset '
        b'xmlns:e="urn:schemas-upnp-org:event-1-0"><e:property><Name>&a;</Name></e:property>'
        b"</e:propertyset>",
        b"<root><property><Level>1</Level></property></root>",
        b"",
    ],
)
def test_garbage_and_dtd_bodies_get_400_and_the_server_keeps_working(device, svc, body, caplog):
    caplog.set_level(logging.WARNING, logger="upnpy")
    with svc.subscribe() as sub:
        sub.get()
        assert notify(sub.callback_url, sub.sid, 1, body) == 400
        assert "refused (400)" in caplog.text
        assert device.event(sub.sid, {"Level": "5"}, seq=1) == 200
        assert sub.get().variables == {"Level": 5}


def raw_exchange(url: str, head: bytes, body: bytes = b"") -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_an_oversized_body_gets_413_and_the_server_keeps_working(device, svc):
    with svc.subscribe() as sub:
        sub.get()
        path = urlsplit(sub.callback_url).path
        head = (
            f"NOTIFY {path} HTTP/1.1\r\nHOST: x\r\nNT: upnp:event\r\nNTS: upnp:propchange\r\n"
            f"SID: {sub.sid}\r\nSEQ: 1\r\nContent-Length: {2 << 20}\r\n\r\n"
        ).encode()
        assert raw_exchange(sub.callback_url, head, b"<").startswith(b"HTTP/1.1 413")
        chunked = head.replace(f"Content-Length: {2 << 20}".encode(), b"Transfer-Encoding: chunked")
        answer = raw_exchange(sub.callback_url, chunked, b"%x\r\n<" % (2 << 20))
        assert answer.startswith(b"HTTP/1.1 413")
        assert device.event(sub.sid, {"Level": "1"}, seq=1) == 200
        assert sub.get().variables == {"Level": 1}


def test_other_methods_are_refused(device, svc):
    with svc.subscribe() as sub:
        answer = raw_exchange(sub.callback_url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 501")


def test_the_early_event_backlog_is_bounded(device, svc, monkeypatch):
    monkeypatch.setattr(_gena_server, "BACKLOG_SIDS", 2)
    monkeypatch.setattr(_gena_server, "BACKLOG_EVENTS", 2)
    statuses = []

    def flood(sid: str, url: str) -> None:  # runs before the device answers the SUBSCRIBE
        for s, seq in [(sid, 0), ("uuid:evil-a", 0), ("uuid:evil-b", 0), (sid, 1), (sid, 2)]:
            statuses.append(notify(url, s, seq, propertyset({"Level": str(seq)})))

    device.before_answer = flood
    device.initial = None
    with svc.subscribe() as sub:
        # a second SID fits, a third does not; a third event for one SID does not either
        assert statuses == [200, 200, 412, 200, 412]
        assert [sub.get().seq, sub.get().seq] == [0, 1]
        assert sub._server._backlog == {}  # emptied once no SUBSCRIBE is in flight
        assert notify(sub.callback_url, "uuid:evil-a", 1, propertyset({"Level": "1"})) == 412


def test_the_early_event_backlog_expires(device, svc, monkeypatch):
    monkeypatch.setattr(_gena_server, "BACKLOG_SIDS", 2)
    monkeypatch.setattr(_gena_server, "BACKLOG_TTL", 0.3)
    statuses = []

    def flood(sid: str, url: str) -> None:
        for n, pause in [("a", 0), ("b", 0), ("c", 0), ("d", 0.5)]:
            time.sleep(pause)
            statuses.append(notify(url, f"uuid:evil-{n}", 0, propertyset({"Level": "0"})))

    device.before_answer = flood
    with svc.subscribe() as sub:
        assert statuses == [200, 200, 412, 200]
        assert sub.get().variables == {"Status": True}


# --- renewal --------------------------------------------------------------------------------


def test_a_refused_renewal_falls_back_to_a_fresh_subscribe(device, svc):
    with svc.subscribe(auto_renew=False) as sub:
        old = sub.sid
        assert sub.get().seq == 0
        device.renew_status = 412
        sub.renew()
        assert sub.active and sub.sid != old
        kinds = ["SID" in headers_dict(r) for r in device.requests("SUBSCRIBE")]
        assert kinds == [False, True, False]  # subscribe, refused renewal, fresh subscribe
        assert sub.get(timeout=5).seq == 0  # the fresh subscription's initial event
        assert notify(sub.callback_url, old, 1, propertyset({"Level": "1"})) == 412


def test_when_renewal_and_resubscription_fail_the_subscription_ends(device, svc, caplog):
    caplog.set_level(logging.ERROR, logger="upnpy")
    sub = svc.subscribe(auto_renew=False)
    assert sub.get(timeout=5).seq == 0  # delivered before anything fails (no race with it)
    device.renew_status = 412
    device.subscribe_status = 503
    with pytest.raises(upnpy.SubscriptionError, match="503"):
        sub.renew()
    assert not sub.active
    assert isinstance(sub.error, upnpy.SubscriptionError)
    assert "503" in caplog.text
    assert threads() == []
    with pytest.raises(upnpy.SubscriptionError) as info:
        sub.get()
    assert info.value.__cause__ is sub.error
    with pytest.raises(upnpy.SubscriptionError):
        list(sub)
    sub.unsubscribe()  # still fine, and sends nothing
    assert device.requests("UNSUBSCRIBE") == []


@pytest.mark.parametrize("granted, delay", [(1800, 900), (300, 150), (3, 1.5), (1, 1.0)])
def test_renewal_comes_at_half_the_granted_time_at_most_once_a_second(granted, delay):
    assert _gena.renewal_delay(granted) == delay


def test_auto_renewal_uses_the_granted_time(device, svc):
    device.grant = "Second-2"
    with svc.subscribe(timeout=300) as sub:
        assert sub.timeout == 2
        deadline = time.monotonic() + 10
        while len(device.requests("SUBSCRIBE")) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        renewals = [headers_dict(r) for r in device.requests("SUBSCRIBE")[1:]]
        assert len(renewals) >= 2
        assert all(r["SID"] == sub.sid and r["TIMEOUT"] == "Second-300" for r in renewals)
        assert "upnpy-events-renew" in threads()
        assert device.event(sub.sid, {"Level": "1"}) == 200
        assert [sub.get().seq, sub.get().seq] == [0, 1]


def test_a_background_renewal_failure_ends_the_subscription_and_wakes_readers(device, svc, caplog):
    caplog.set_level(logging.ERROR, logger="upnpy")
    device.grant = "Second-1"
    device.initial = None
    sub = svc.subscribe()
    device.renew_status = 412
    device.subscribe_status = 500
    started = time.monotonic()
    with pytest.raises(upnpy.SubscriptionError, match="500"):
        for _ in sub:
            pass
    assert time.monotonic() - started < 10
    assert not sub.active and "500" in str(sub.error)
    assert "lost" in caplog.text
    with pytest.raises(upnpy.SubscriptionError):
        sub.get(timeout=5)
    # one renewal and one fresh SUBSCRIBE, then nothing more: no busy loop
    time.sleep(1.5)
    assert len(device.requests("SUBSCRIBE")) == 3


def test_several_subscriptions_share_one_renewal_thread(device, svc):
    device.grant = "Second-2"
    subs = [svc.subscribe() for _ in range(3)]
    try:
        assert threads().count("upnpy-events-renew") == 1
    finally:
        for sub in subs:
            sub.unsubscribe()
    assert threads() == []


# --- callbacks -------------------------------------------------------------------------------


def test_a_slow_callback_stalls_nothing_else(device, svc):
    gate = threading.Event()
    slow_seen: queue.Queue[int] = queue.Queue()
    fast_seen: queue.Queue[int] = queue.Queue()

    def slow(event):
        slow_seen.put(event.seq)
        gate.wait(10)

    try:
        fast = svc.subscribe(callback=lambda e: fast_seen.put(e.seq))
        with svc.subscribe(callback=slow) as a, fast as b:
            assert slow_seen.get(timeout=5) == 0  # now stuck in the callback
            started = time.monotonic()
            assert device.event(a.sid, {"Level": "1"}) == 200
            assert time.monotonic() - started < 2  # the NOTIFY was answered at once
            assert [a.get().seq, a.get().seq] == [0, 1]  # get() is not held up either
            assert fast_seen.get(timeout=5) == 0
            assert device.event(b.sid, {"Level": "1"}) == 200
            assert fast_seen.get(timeout=5) == 1
            gate.set()
            assert slow_seen.get(timeout=5) == 1
    finally:
        gate.set()


def test_a_callback_exception_is_logged_and_the_subscription_goes_on(device, svc, caplog):
    caplog.set_level(logging.ERROR, logger="upnpy")
    seen: queue.Queue[int] = queue.Queue()

    def callback(event):
        seen.put(event.seq)
        if event.seq == 0:
            raise RuntimeError("boom in the callback")

    with svc.subscribe(callback=callback) as sub:
        assert seen.get(timeout=5) == 0
        assert device.event(sub.sid, {"Level": "1"}) == 200
        assert seen.get(timeout=5) == 1
        assert sub.active
    assert "boom in the callback" in caplog.text
    assert "callback raised" in caplog.text


def test_a_callback_may_unsubscribe(device, svc):
    done = threading.Event()
    holder = {}

    def callback(event):
        holder["sub"].unsubscribe()
        done.set()

    device.initial = None
    holder["sub"] = sub = svc.subscribe(callback=callback)
    device.event(sub.sid, {"Level": "1"})
    assert done.wait(5)
    assert not sub.active
    assert len(device.requests("UNSUBSCRIBE")) == 1


def test_exit_cleanup_unsubscribes_and_stops_everything(device, svc):
    sub = svc.subscribe(callback=lambda e: None)
    manager.shutdown()  # what atexit runs
    assert not sub.active
    assert [headers_dict(r)["SID"] for r in device.requests("UNSUBSCRIBE")] == [sub.sid]
    assert threads() == []


# --- LastChange ------------------------------------------------------------------------------

RCS_LAST_CHANGE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Event xmlns="urn:schemas-upnp-org:metadata-1-0/RCS/"><InstanceID val="0">'
    '<Volume channel="Master" val="10"/><Volume channel="LF" val="8"/>'
    '<Mute channel="Master" val="0"/><PresetNameList val="FactoryDefaults"/>'
    "</InstanceID></Event>"
)


def test_last_change_expands_channels_and_instances():
    assert upnpy.parse_last_change(RCS_LAST_CHANGE) == {
        0: {
            "Volume": {"Master": "10", "LF": "8"},
            "Mute": {"Master": "0"},
            "PresetNameList": "FactoryDefaults",
        },
    }
    avt = (
        '<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/">'
        '<InstanceID val="0"><TransportState val="PLAYING"/></InstanceID>'
        '<InstanceID val="1"><TransportState val="STOPPED"/>'
        '<AVTransportURIMetaData val="&lt;DIDL-Lite&gt;&lt;/DIDL-Lite&gt;"/>'
        "</InstanceID></Event>"
    )
    assert upnpy.parse_last_change(avt.encode()) == {
        0: {"TransportState": "PLAYING"},
        1: {"TransportState": "STOPPED", "AVTransportURIMetaData": "<DIDL-Lite></DIDL-Lite>"},
    }


def test_last_change_converts_with_state_variables():
    types = {
        "Volume": StateVariableInfo("Volume", "ui2"),
        "Mute": StateVariableInfo("Mute", "boolean"),
    }
    assert upnpy.parse_last_change(RCS_LAST_CHANGE, types)[0]["Volume"] == {"Master": 10, "LF": 8}
    assert upnpy.parse_last_change(RCS_LAST_CHANGE, types)[0]["Mute"] == {"Master": False}


def test_last_change_declared_in_another_encoding_but_already_decoded():
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        '<Event><InstanceID val="0"><Name val="Küche"/></InstanceID></Event>'
    )
    assert upnpy.parse_last_change(text) == {0: {"Name": "Küche"}}


def test_last_change_empty_event():
    assert upnpy.parse_last_change('<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"/>') == {}


@pytest.mark.parametrize("bad", ["", "not xml", "<Other/>", "<!DOCTYPE x><Event/>"])
def test_last_change_refuses_what_is_not_one(bad):
    with pytest.raises(ValueError):
        upnpy.parse_last_change(bad)


def test_last_change_from_an_event(device, svc):
    device.initial = {"LastChange": RCS_LAST_CHANGE.replace("&", "&amp;").replace("<", "&lt;")}
    with svc.subscribe() as sub:
        event = sub.get()
    assert upnpy.parse_last_change(event.variables["LastChange"])[0]["Volume"]["Master"] == "10"
