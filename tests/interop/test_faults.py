"""Faults in the lab: real devices frozen, killed and restarted under upnpy (issue 9).

A frozen daemon (SIGSTOP) still has its kernel accept connections and queue requests, but
never answers: a call must end with :class:`upnpy.TransportTimeout` about the configured
timeout later. A killed one resets its connections: :class:`upnpy.TransportError` at once.
A gateway restarted under a subscription has forgotten its SID: the next renewal is refused
and upnpy subscribes anew (a new SID that delivers events), or the subscription ends with
the error kept in ``sub.error``.

Every test puts its device back (SIGCONT, or ``lab.sh restart`` that waits until it answers
again) in a ``finally``: the rest of the interop suite uses the same devices in the same lab.
The light is only ever frozen, since a restarted light gets a new description URL. Timing
bounds are generous (timeout * 2 + 2 s); waits poll a condition under an overall bound.
"""

import concurrent.futures
import signal
import time

import pytest
import xmltodict
from labtools import add_mapping, next_event, wait_for

import upnpy

TIMEOUT = 1.0  # the devices' HTTP timeout in these tests
BOUND = TIMEOUT * 2 + 2  # what "within the timeout" may take, at most
WAIT = 10.0  # for events and for devices to come back
PORT = 28380  # a port no other interop test maps


def browse_root(cd):
    """The titles of what ContentDirectory *cd* lists under ObjectID 0 (its top containers)."""
    reply = cd.Browse(
        ObjectID="0",
        BrowseFlag="BrowseDirectChildren",
        Filter="*",
        StartingIndex=0,
        RequestedCount=0,
        SortCriteria="",
    )
    didl = xmltodict.parse(reply["Result"], force_list=("container", "item"))["DIDL-Lite"]
    return [c["dc:title"] for c in didl.get("container", [])]


def answers(call):
    """*call*'s result, or ``None`` while the device fails to answer it."""
    try:
        return call()
    except upnpy.TransportError:
        return None


def tracks_listed(lab):
    """True once minidlna (reached anew) lists every generated track in a search."""
    try:
        with upnpy.Device(lab.dms_url, timeout=2.0) as server:
            reply = server.ContentDirectory.Search(
                ContainerID="0",
                SearchCriteria='upnp:class derivedfrom "object.item.audioItem"',
                Filter="*",
                StartingIndex=0,
                RequestedCount=0,
                SortCriteria="",
            )
    except (upnpy.TransportError, upnpy.DescriptionError):
        return False
    return all(f"upnpy-track-{n}" in reply["Result"] for n in range(1, lab.tracks + 1))


def timed(call):
    """``(exception, seconds)``: what *call* raised and how long it took to raise it."""
    start = time.monotonic()
    try:
        call()
    except Exception as exc:  # the test asserts on what it was
        return exc, time.monotonic() - start
    pytest.fail(f"{call} answered although its device was down")


# --- frozen devices: TransportTimeout ---------------------------------------------------------


def test_frozen_light_times_out_on_a_kept_alive_connection(lab):
    with upnpy.Device(lab.light_url, timeout=TIMEOUT) as light:
        switch = light.SwitchPower
        assert "ResultStatus" in switch.GetStatus()  # the light keeps this connection open
        with lab.frozen("lt"):
            error, elapsed = timed(switch.GetStatus)
        assert isinstance(error, upnpy.TransportTimeout), repr(error)
        assert isinstance(error, TimeoutError)
        assert error.url == switch.control_url
        assert TIMEOUT * 0.9 <= elapsed < BOUND, elapsed
        print(f"frozen light: {type(error).__name__} after {elapsed:.2f} s")
        # Thawed, it answers again (its late reply to the timed-out call went to a closed
        # connection, not to this call).
        assert wait_for(lambda: answers(switch.GetStatus), timeout=WAIT)


def test_frozen_media_server_times_out_then_answers_again(lab):
    with upnpy.Device(lab.dms_url, timeout=TIMEOUT) as server:
        cd = server.ContentDirectory
        assert browse_root(cd)
        with lab.frozen("dms"):
            error, elapsed = timed(lambda: browse_root(cd))
        assert isinstance(error, upnpy.TransportTimeout), repr(error)
        assert TIMEOUT * 0.9 <= elapsed < BOUND, elapsed
        print(f"frozen minidlna: {type(error).__name__} after {elapsed:.2f} s")
        assert wait_for(lambda: answers(lambda: browse_root(cd)), timeout=WAIT)


# --- a killed device: TransportError at once ---------------------------------------------------


def test_media_server_killed_mid_browse_is_a_transport_error_at_once(lab):
    long_timeout = 10 * TIMEOUT  # the kill, not the timeout, must end this call
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        with upnpy.Device(lab.dms_url, timeout=long_timeout) as server:
            cd = server.ContentDirectory
            assert browse_root(cd)
            with lab.frozen("dms"):
                call = pool.submit(lambda: browse_root(cd))
                # In flight: the request sits unread in the frozen server's socket.
                assert wait_for(lambda: lab.unread_requests("dms", 8200) > 0, timeout=WAIT)
                assert not call.done()
                killed = time.monotonic()
                lab.signal_daemon("dms", signal.SIGKILL)
                error = call.exception(timeout=long_timeout + 5)
                elapsed = time.monotonic() - killed
            assert isinstance(error, upnpy.TransportError), repr(error)
            assert not isinstance(error, upnpy.TransportTimeout), repr(error)
            assert elapsed < BOUND, elapsed
            print(f"minidlna killed mid-Browse: {error!r} {elapsed:.2f} s after the kill")
            assert wait_for(lambda: not lab.daemon_pids("dms"), timeout=WAIT)
            # Nothing listens now: refused at once, not timed out.
            error, elapsed = timed(lambda: browse_root(cd))
            assert isinstance(error, upnpy.TransportError), repr(error)
            assert not isinstance(error, upnpy.TransportTimeout), repr(error)
            assert elapsed < BOUND, elapsed
            print(f"minidlna gone: {type(error).__name__} after {elapsed:.2f} s")
    finally:
        pool.shutdown(wait=False)
        start = time.monotonic()
        lab.restart("dms")  # waits until its description answers again
        assert wait_for(lambda: tracks_listed(lab), timeout=30, interval=0.5)
        print(f"minidlna restarted, tracks listed after {time.monotonic() - start:.2f} s")


# --- a gateway restarted under a subscription ------------------------------------------------


def test_gateway_restarted_during_a_subscription_resubscribes_or_ends_with_the_error(lab):
    with upnpy.Device(lab.gw_url) as router:
        wan = router.WANIPConnection
        sub = wan.subscribe(timeout=4)  # miniupnpd grants it: renewed every ~2 s
        try:
            old_sid = sub.sid
            assert sub.get(timeout=WAIT).sid == old_sid
            assert sub.timeout <= 30, f"miniupnpd granted {sub.timeout} s"
            restarted = time.monotonic()
            lab.restart("gw")  # SIGTERM, same command line, back once it answers
            print(f"miniupnpd restarted in {time.monotonic() - restarted:.2f} s")
            # Past the next renewal, the restarted gateway has refused the old SID: upnpy has
            # subscribed anew, or given up with the error.
            settled = wait_for(
                lambda: not sub.active or sub.sid != old_sid, timeout=sub.timeout + WAIT
            )
            assert settled, (
                f"{sub!r} is still active under {old_sid}, which the restarted gateway does "
                "not know: its events would be lost without an error"
            )
            print(
                f"{time.monotonic() - restarted:.2f} s after the restart began: "
                + (f"ended with {sub.error!r}" if not sub.active else f"new SID {sub.sid}")
            )
            if not sub.active:
                assert isinstance(sub.error, upnpy.SubscriptionError), repr(sub.error)
                with pytest.raises(upnpy.SubscriptionError):
                    sub.get(timeout=1)
                return
            new_sid = sub.sid
            assert new_sid and new_sid != old_sid
            initial = next_event(sub, lambda e: e.sid == new_sid)
            assert initial.seq == 0
            before = initial.variables["PortMappingNumberOfEntries"]
            lab.wait_quiet(sub)  # miniupnpd would drop the change below otherwise
            add_mapping(wan, lab, PORT, "upnpy restart test")
            try:
                event = next_event(
                    sub, lambda e: e.variables.get("PortMappingNumberOfEntries") == before + 1
                )
                assert event.sid == new_sid
            finally:
                wan.DeletePortMapping("", PORT, "TCP")
            assert sub.active and sub.sid == new_sid
        finally:
            sub.unsubscribe()


def test_gateway_down_at_the_renewal_ends_the_subscription_with_the_error(lab):
    with upnpy.Device(lab.gw_url, timeout=TIMEOUT) as router:
        sub = router.WANIPConnection.subscribe(timeout=4)
        try:
            assert sub.get(timeout=WAIT).seq == 0
            lab.signal_daemon("gw", signal.SIGTERM)
            assert wait_for(lambda: not lab.daemon_pids("gw"), timeout=WAIT)
            # The renewal is refused (nothing listens), and so is the fresh SUBSCRIBE.
            assert wait_for(lambda: not sub.active, timeout=sub.timeout + WAIT), repr(sub)
            assert isinstance(sub.error, upnpy.SubscriptionError), repr(sub.error)
            with pytest.raises(upnpy.SubscriptionError) as info:
                sub.get(timeout=1)
            assert info.value.__cause__ is sub.error
            print(f"gateway down at the renewal: {sub.error!r}")
        finally:
            sub.unsubscribe()  # harmless once ended
            lab.restart("gw")
    with upnpy.Device(lab.gw_url) as router:  # back, with the same URL
        assert router.WANIPConnection.GetExternalIPAddress() == {"NewExternalIPAddress": lab.wan_ip}
