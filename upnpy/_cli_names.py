"""How the ``upnpy`` command names things: a device by URL, friendly name, UDN or type (found
by a short search), a service or an action by short name, with "did you mean" for a miss;
and ``--debug``'s logging transport, on which the devices it opens talk."""

from __future__ import annotations

import difflib
import logging
import sys
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

from ._cli_text import Progress, short_type
from ._description import parse_device
from ._discovery import discover_iter
from ._exceptions import UPnPError
from ._http import Timeout
from ._proxy import MAX_DESCRIPTION, Action, Device, Service, _service_id_name
from ._transport import Reply, SocketTransport, fetch

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["Failure", "open_device", "find_service", "find_action"]

log = logging.getLogger("upnpy")


#: Seconds a device name is searched for, by default.
NAME_TIMEOUT = 2.0


#: Characters of a body shown by --debug.
DEBUG_BODY = 4096


class Failure(Exception):
    """A failure reported as one line on stderr, exit status 1."""


class TracingTransport(SocketTransport):
    """upnpy's own HTTP client, logging each exchange on the ``upnpy`` logger (``--debug``)."""

    def exchange(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: Tuple[float, float],
        limit: int,
        deadline: Optional[float] = None,
    ) -> Reply:
        log.debug("> %s %s%s%s", method, url, _fields(headers), _body(body))
        start = time.monotonic()
        try:
            reply = super().exchange(method, url, headers, body, timeout, limit, deadline)
        except UPnPError as exc:
            log.debug(
                "< %s %s: failed after %.3f s: %s", method, url, time.monotonic() - start, exc
            )
            raise
        log.debug(
            "< %d %s (%.3f s, %d bytes)%s%s",
            reply.status,
            reply.reason,
            time.monotonic() - start,
            len(reply.body),
            _fields(reply.headers),
            _body(reply.body),
        )
        return reply


def _fields(headers: Mapping[str, str]) -> str:
    return "".join(f"\n    {name}: {value}" for name, value in headers.items())


def _body(body: bytes) -> str:
    if not body:
        return ""
    text = body[:DEBUG_BODY].decode("utf-8", "replace")
    more = f"\n    … ({len(body)} bytes in all)" if len(body) > DEBUG_BODY else ""
    return "\n" + text.rstrip() + more


_debug = False  # set by set_debug() for --debug: devices are then opened on a TracingTransport


def set_debug(on: bool) -> None:
    """Open devices on a :class:`TracingTransport` from now on (``--debug``), or not."""
    global _debug
    _debug = on


def debugging() -> bool:
    return _debug


def open_url(url: str, timeout: Optional[Timeout] = None) -> Device:
    if not _debug:
        return Device(url, timeout=timeout)
    transport = TracingTransport()
    try:
        info = parse_device(fetch(transport, url, timeout=timeout, limit=MAX_DESCRIPTION), url)
    except BaseException:
        transport.close()
        raise
    return Device.from_info(info, url, timeout=timeout, transport=transport)


def traced(device: Device) -> Device:
    """*device* on a TracingTransport under ``--debug`` (no network I/O); else itself."""
    if not _debug:
        return device
    log.debug("found %r (%s)", device, device.udn)
    device.close()
    return Device.from_info(device.info, device.location, transport=TracingTransport())


def log_to_stderr() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(threadName)s %(message)s", "%H:%M:%S")
    )
    logger = logging.getLogger("upnpy")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


def _walk(device: Device) -> Iterator[Device]:
    yield device
    for child in device.devices:
        yield from _walk(child)


def _one_of(names: Sequence[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the candidates closest to *name* (any case), or ``""``.

    Those within 0.1 of the best similarity are named, if that is 0.6 at least (difflib's).
    """
    folded: Dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    matcher = difflib.SequenceMatcher(b=name.casefold())
    scores = []
    for key in folded:
        matcher.set_seq1(key)
        scores.append((matcher.ratio(), key))
    scores.sort(key=lambda pair: -pair[0])
    best = scores[0][0] if scores else 0.0
    close = [folded[key] for score, key in scores if score >= max(0.6, best - 0.1)][:3]
    return f"; did you mean {_one_of(close)}?" if close else ""


def _name_tests(name: str) -> List[Callable[[Device], bool]]:
    """How *name* may name a device, strongest first: UDN, friendlyName, type, part of name."""
    key = name.casefold()
    return [
        lambda d: d.udn.casefold() in (key, "uuid:" + key),
        lambda d: d.friendly_name.casefold() == key,
        lambda d: (
            key
            in (
                d.device_type.casefold(),
                short_type(d.device_type).casefold(),
                short_type(d.device_type).partition(":")[0].casefold(),
            )
        ),
        lambda d: bool(key) and key in d.friendly_name.casefold(),
    ]


def pick_device(roots: Sequence[Device], name: str, seconds: float) -> Tuple[Device, Device]:
    """The ``(root, device)`` that *name* names among *roots* and their embedded devices.

    :raises Failure: when none matches (with "did you mean"), or several do equally well.
    """
    every = [(root, device) for root in roots for device in _walk(root)]
    for test in _name_tests(name):
        hits = [(root, device) for root, device in every if test(device)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            listed = "; ".join(f"{d.friendly_name!r} {d.udn} at {d.location}" for _, d in hits)
            raise Failure(f"{name!r} names {len(hits)} devices: {listed} (give a UDN or URL)")
    if not every:
        raise Failure(f"no device answered the search for {name!r} within {seconds:g} s")
    names = [d.friendly_name for _, d in every] + [
        short_type(d.device_type).partition(":")[0] for _, d in every
    ]
    hint = did_you_mean(name, names) or "; found: " + ", ".join(
        repr(d.friendly_name) for d in roots
    )
    raise Failure(f"no device called {name!r} answered within {seconds:g} s{hint}")


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def open_device(
    name: str,
    seconds: float = NAME_TIMEOUT,
    family: Optional[int] = None,
    timeout: Optional[Timeout] = None,
) -> Tuple[Device, Device]:
    """The device *name* names, as ``(root, device)``: the caller closes *root*.

    A URL is fetched (with the HTTP *timeout*); anything else is searched for up to *seconds*:
    a ``uuid:`` or ``urn:...:device:...`` name is the search target and the search ends at
    the first device that matches; other names wait for every answer, to catch duplicates.
    """
    if _is_url(name):
        device = open_url(name, timeout)
        return device, device
    folded = name.casefold()
    first = folded.startswith("uuid:") or (folded.startswith("urn:") and ":device:" in folded)
    st = name if first else "upnp:rootdevice"
    log.debug("looking for %r: search %s for %g s", name, st, seconds)
    roots: List[Device] = []
    chosen: Optional[Device] = None
    found = discover_iter(st=st, timeout=seconds, family=family)
    try:
        with Progress(f"looking for {name!r}", seconds, sys.stderr) as progress:
            for root in found:
                roots.append(traced(root))
                progress.found += 1
                if first and any(test(d) for d in _walk(root) for test in _name_tests(name)):
                    break
        picked = pick_device(roots, name, seconds)
        chosen = picked[0]
        return picked
    finally:
        close_iterator(found)
        for other in roots:
            if other is not chosen:
                other.close()


def close_iterator(iterator: Iterator[Any]) -> None:
    """End a generator now (discover_iter's: its search and fetches stop)."""
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def find_service(device: Device, name: str) -> Service:
    """The service *name* names in *device*'s tree; case-insensitive if not exact.

    :raises Failure: when none (with "did you mean") or several match.
    """
    try:
        return device[name]
    except KeyError:
        pass
    services = device.all_services
    key = name.casefold()
    hits = [
        s
        for s in services
        if key
        in (
            s.name.casefold(),
            f"{s.name}:{s.version}".casefold(),
            s.service_type.casefold(),
            s.service_id.casefold(),
            _service_id_name(s.service_id).casefold(),
        )
    ]
    if len(hits) == 1:
        return hits[0]
    if hits:
        listed = "; ".join(f"{s.service_id} in {s.device.friendly_name!r}" for s in hits)
        raise Failure(f"{name!r} names {len(hits)} services of {device.friendly_name!r}: {listed}")
    known = ", ".join(f"{s.name}:{s.version}" for s in services) or "none"
    hint = did_you_mean(name, [s.name for s in services]) or f"; services: {known}"
    raise Failure(f"{device.friendly_name!r} has no service {name!r}{hint}")


def find_action(service: Service, name: str) -> Action:
    """The action *name* of *service*; case-insensitive if not exact.

    :raises Failure: when it has none such (with "did you mean").
    """
    actions = service.actions
    if name in actions:
        return actions[name]
    hits = [a for a in actions if a.casefold() == name.casefold()]
    if len(hits) == 1:
        return actions[hits[0]]
    hint = did_you_mean(name, list(actions)) or f"; it has: {', '.join(actions)}"
    raise Failure(f"{service.name} has no action {name!r}{hint}")
