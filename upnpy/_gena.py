"""GENA as data: the headers of SUBSCRIBE/renewal/UNSUBSCRIBE, the granted timeout, NOTIFY
headers and bodies, and event-key (SEQ) arithmetic. Pure functions, no sockets and no state.

:mod:`upnpy._subscription` (the subscription state machine) and :mod:`upnpy._gena_server`
(the callback server) are built on these.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Dict, Optional, Tuple, Union

from ._exceptions import XMLError
from ._xml import children, leaf_texts, parse_xml, prepare, text

__all__ = [
    "DEFAULT_DURATION",
    "SEQ_MAX",
    "NotifyRejected",
    "duration_seconds",
    "subscribe_headers",
    "renew_headers",
    "unsubscribe_headers",
    "granted_seconds",
    "renewal_delay",
    "check_notify_headers",
    "parse_propertyset",
    "next_seq",
    "is_stale",
]

#: Seconds of subscription asked for when the caller names none. (Not to be confused with
#: the HTTP timeout of each exchange, :data:`upnpy._http.DEFAULT_HTTP_TIMEOUT`.)
DEFAULT_DURATION = 300
#: The largest event key: SEQ is a 32-bit unsigned number that wraps to 1, not 0.
SEQ_MAX = 0xFFFFFFFF

_GRANTED = re.compile(r"\s*second-(\d{1,10})\s*$", re.IGNORECASE)


class NotifyRejected(Exception):
    """A NOTIFY that gets an error status; *status* is the HTTP code to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- subscribing -------------------------------------------------------------------------------


def duration_seconds(duration: Union[int, float, datetime.timedelta]) -> int:
    """The whole seconds of subscription to ask for (a fraction rounds up).

    :raises ValueError: for anything but a number or timedelta of at least one second.
    """
    if isinstance(duration, datetime.timedelta):
        duration = duration.total_seconds()  # not .seconds, which drops the days
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration >= 1:
        raise ValueError(f"timeout must be a number of seconds >= 1, not {duration!r}")
    return math.ceil(duration)


def subscribe_headers(callback_url: str, seconds: int) -> Dict[str, str]:
    """The headers of a first SUBSCRIBE (UDA 4.1.2)."""
    return {"CALLBACK": f"<{callback_url}>", "NT": "upnp:event", "TIMEOUT": f"Second-{seconds}"}


def renew_headers(sid: str, seconds: int) -> Dict[str, str]:
    """The headers of a renewal: SID and TIMEOUT only (CALLBACK and NT are forbidden)."""
    return {"SID": sid, "TIMEOUT": f"Second-{seconds}"}


def unsubscribe_headers(sid: str) -> Dict[str, str]:
    """The headers of an UNSUBSCRIBE: the SID alone."""
    return {"SID": sid}


def granted_seconds(timeout_header: Optional[str], requested: int) -> int:
    """The TIMEOUT a device granted; missing, ``infinite``, 0 or garbage means *requested*."""
    match = _GRANTED.match(timeout_header or "")
    granted = int(match.group(1)) if match else 0
    return granted if granted > 0 else requested


def renewal_delay(granted: int) -> float:
    """Renew at half the granted time, and never more often than once a second."""
    return max(granted * 0.5, 1.0)


# -- NOTIFY ------------------------------------------------------------------------------------


def check_notify_headers(
    nt: Optional[str], nts: Optional[str], sid: Optional[str], seq: Optional[str]
) -> Tuple[str, int]:
    """The ``(SID, SEQ)`` of a NOTIFY whose headers are right.

    :raises NotifyRejected: 400 for missing NT/NTS or a SEQ that is not a 32-bit unsigned
        number, 412 for another NT/NTS or a missing SID/SEQ (UDA 4.2.2).
    """
    if nt is None or nts is None:
        raise NotifyRejected(400, "NT or NTS header missing")
    if nt.strip().lower() != "upnp:event" or nts.strip().lower() != "upnp:propchange":
        raise NotifyRejected(412, f"NT {nt!r} / NTS {nts!r}: not upnp:event / upnp:propchange")
    sid = (sid or "").strip()
    if not sid or seq is None:
        raise NotifyRejected(412, "SID or SEQ header missing")
    seq = seq.strip()
    digits = seq.lstrip("0") or "0"  # leading zeros say nothing (UDA 4.2.1)
    if not (seq.isascii() and seq.isdigit()) or len(digits) > 10 or int(digits) > SEQ_MAX:
        raise NotifyRejected(400, f"SEQ {seq[:20]!r} is not a 32-bit unsigned number")
    return sid, int(digits)


def parse_propertyset(body: bytes) -> Dict[str, str]:
    """The variables of a NOTIFY body, ``{name: raw text}``, in document order.

    Tolerates several variables in one ``e:property`` and namespaced variable names (the
    prefix is dropped); text values keep their whitespace, and markup a device forgot to
    escape (an unescaped LastChange) stays in the text, in place.

    :raises NotifyRejected: (400) for a body that is not an ``e:propertyset``, or that the
        safe parser refuses (malformed, DTD, entities).
    """
    try:
        texts = leaf_texts(prepare(body), ("propertyset", "property"), markup=True, repeat=True)
        if texts is not None:  # the usual shape, read in one pass; unescaped markup kept
            return dict(texts)
        doc = parse_xml(body, strip_whitespace=False)
    except XMLError as exc:
        raise NotifyRejected(400, str(exc)) from None
    name, root = next(iter(doc.items()))
    if name != "propertyset":
        raise NotifyRejected(400, f"root element is {name!r}, not propertyset")
    values: Dict[str, str] = {}
    for prop in children(root, "property"):
        if not isinstance(prop, dict):  # <e:property/> or stray text
            continue
        for var, node in prop.items():
            if var.startswith(("@", "#")):
                continue
            for item in node if isinstance(node, list) else [node]:
                values[var] = text(item, strip=False) or ""
    return values


# -- event keys --------------------------------------------------------------------------------


def next_seq(seq: int) -> int:
    """The event key after *seq*: it wraps from :data:`SEQ_MAX` to 1 (0 is the initial event)."""
    return 1 if seq >= SEQ_MAX else seq + 1


def is_stale(seq: int, expected: int) -> bool:
    """Whether *seq* lies behind *expected* (an old or repeated event), modulo 2**32."""
    return (seq - expected) % (1 << 32) >= 1 << 31
