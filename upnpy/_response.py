"""Reading an HTTP/1.1 response (RFC 9112): pure functions over bytes, no sockets.

:func:`read_head` reads the status line and header fields (interim 1xx answers skipped),
:func:`framing` decides how the body is delimited, and :func:`read_body` reads it. Both
readers take ``more()``, which returns the connection's next bytes (``b""`` once it is
closed): the socket, its deadline and its errors stay with the caller
(:mod:`upnpy._transport`), and the readers can be tested alone on any split of any input —
h11's ``_readers.py`` is the model. Every grammar is ASCII: a status code is three ASCII
digits, a Content-Length ASCII digits only (two different ones are an error), a chunk size
hex digits only, and every chunk ends with CRLF.
"""

from __future__ import annotations

import functools
import re
from typing import Callable, List, Optional, Tuple, Union

from ._exceptions import BodyTooLarge, FramingError
from ._http import (
    FIELD_LINE,
    FIELD_VALUE,
    MAX_HEAD,
    Headers,
    length_of,
    parse_fields,
    read_chunked,
)
from ._records import Record, record

__all__ = ["Head", "NoResponse", "read_head", "parse_head", "framing", "read_body"]

_STATUS = rf"HTTP/([0-9])\.([0-9]) ([0-9]{{3}})(?: ({FIELD_VALUE}))?"
_STATUS_LINE = re.compile(_STATUS)
# A status line and plain field lines (no folding): the usual head, checked in one match
# over its bytes (the grammar is ASCII; a field value's other bytes are Latin-1 text).
_PLAIN_HEAD = re.compile(rf"{_STATUS}((?:\r\n{FIELD_LINE})*)".encode("latin-1"))
# The fields framing needs, in a head of plain field lines.
_FRAMING = re.compile(rb"\r\n(content-length|transfer-encoding|connection):([^\r]*)", re.I)

#: How a body is delimited: ``(LENGTH, n)``, ``(CHUNKED, 0)`` or ``(CLOSE, 0)``.
LENGTH, CHUNKED, CLOSE = "length", "chunked", "close"


class NoResponse(FramingError):
    """The connection closed (or was reset) before any byte of a response arrived."""


@record
class Head(Record):
    """A status line and its header fields, with what framing needs already read off them."""

    version: Tuple[int, int]
    status: int
    reason: str
    headers: Headers
    #: the Content-Length, or ``None`` when there is none
    length: Optional[int] = None
    #: the Transfer-Encoding, or ``None`` when there is none
    coding: Optional[str] = None
    #: whether the device lets the connection be used again (RFC 9112 §9.3)
    keep_alive: bool = False


#: Heads of up to this many bytes are remembered (see :func:`parse_head`).
REMEMBERED_HEAD = 1024


def parse_head(data: bytes) -> Head:
    """Parse a status line and header fields (*data* without the blank line that ends them).

    Header fields follow :func:`upnpy._http.parse_fields`. A device repeats the head of its
    answers byte for byte (but when its Content-Length or Date changes), so the last 256
    heads of up to :data:`REMEMBERED_HEAD` bytes are remembered and a repeated one is not read
    again: a :class:`Head` is immutable, and its :class:`~upnpy._http.Headers` read-only. A
    head that is refused is refused every time.

    :raises FramingError: for anything that is not a status line, a malformed field, or a
        Content-Length that is not ASCII digits (or two that disagree).
    """
    if len(data) <= REMEMBERED_HEAD:
        return _remembered_head(data)
    return _read_head(data)


def _read_head(data: bytes) -> Head:
    """:func:`parse_head`, every time."""
    plain = _PLAIN_HEAD.fullmatch(data)
    if plain is None:  # something odd (or folded): the careful reading says what
        return _careful_head(data.decode("latin-1"))
    # The usual head, checked in one match: only the fields framing needs are looked for,
    # and the others are split on first use.
    major, minor, code, reason, fields = plain.groups()
    framing: Tuple[List[str], List[str], List[str]] = ([], [], [])
    for name, value in _FRAMING.findall(fields):
        framing[_FRAMING_FIELDS[name.lower()]].append(value.decode("latin-1").strip(" \t"))
    return _head(
        major,
        minor,
        code,
        reason.decode("latin-1") if reason else "",
        Headers.of_plain_lines(fields[2:].decode("latin-1")),
        *framing,
    )


_FRAMING_FIELDS = {b"content-length": 0, b"transfer-encoding": 1, b"connection": 2}


_remembered_head = functools.lru_cache(maxsize=256)(_read_head)


def _careful_head(text: str) -> Head:
    """:func:`parse_head` line by line, for a head that is not the usual shape."""
    status_line, *lines = text.split("\r\n")
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise FramingError(f"not an HTTP response: {status_line[:80]!r}")
    pairs = parse_fields(lines)
    lengths: List[str] = []
    codings: List[str] = []
    connections: List[str] = []
    for name, value in pairs:  # one pass for what framing needs
        lower = name.lower()
        if lower == "content-length":
            lengths.append(value)
        elif lower == "transfer-encoding":
            codings.append(value)
        elif lower == "connection":
            connections.append(value)
    major, minor, code, reason = match.groups()
    return _head(major, minor, code, reason, Headers(pairs), lengths, codings, connections)


def _head(
    major: Union[str, bytes],
    minor: Union[str, bytes],
    code: Union[str, bytes],
    reason: Optional[str],
    headers: Headers,
    lengths: List[str],
    codings: List[str],
    connections: List[str],
) -> Head:
    """The :class:`Head` of a status line's parts, its fields, and the values of its
    Content-Length, Transfer-Encoding and Connection fields (each in order)."""
    version = (int(major), int(minor))
    connection = ""  # the first that says something
    for value in connections:
        if value:
            connection = value.lower()
            break
    tokens = set(map(str.strip, connection.split(","))) if connection else ()
    return Head(
        version,
        int(code),
        reason or "",
        headers,
        length_of(lengths) if lengths else None,
        codings[0] if codings else None,
        "close" not in tokens if version >= (1, 1) else "keep-alive" in tokens,
    )


def read_head(more: Callable[[], bytes], buf: bytes = b"") -> Tuple[Head, bytes]:
    """Read up to the end of a final (non-1xx) head: ``(head, bytes read past it)``.

    :raises NoResponse: when the connection closes before any byte.
    :raises FramingError: for a malformed head, one over :data:`~upnpy._http.MAX_HEAD`
        bytes, or a connection closed inside it.
    """
    received = bool(buf)
    while True:
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            if len(buf) > MAX_HEAD:
                raise FramingError("response headers too large")
            data = more()
            if not data:
                if not received:
                    raise NoResponse("the connection closed before an answer")
                raise FramingError("connection closed inside the response headers")
            received = True
            buf += data
            end = buf.find(b"\r\n\r\n", max(len(buf) - len(data) - 3, 0))
        if end > MAX_HEAD:
            raise FramingError("response headers too large")
        head, buf = parse_head(buf[:end]), buf[end + 4 :]
        if not 100 <= head.status < 200:  # an interim answer: the real one follows
            return head, buf


def framing(method: str, head: Head) -> Tuple[str, int]:
    """How the body of *head* (an answer to *method*) is delimited (RFC 9112 §6.3)."""
    if method == "HEAD" or head.status in (204, 304):
        return LENGTH, 0
    coding = head.coding
    if coding is not None:  # it overrides any Content-Length
        last = coding.rsplit(",", 1)[-1].strip().lower()
        return (CHUNKED, 0) if last == "chunked" else (CLOSE, 0)
    if head.length is not None:
        return LENGTH, head.length
    return CLOSE, 0


def read_body(
    head: Head, buf: bytes, more: Callable[[], bytes], method: str, limit: int
) -> Tuple[bytes, bool]:
    """Read the body that follows *head*: ``(body, connection reusable)``.

    The connection is reusable only when the device keeps it alive, the body had a length
    of its own, and no byte arrived past its end (a device that sends more than it
    announced would otherwise answer the next request with a stale response).

    :raises BodyTooLarge: when the body is over *limit* bytes.
    :raises FramingError: for bad framing, or a connection closed inside the body.
    """
    size = head.length
    if (
        size is not None
        and head.coding is None
        and method != "HEAD"
        and head.status not in (204, 304)
    ):
        kind = LENGTH  # the usual answer, as framing() would say
    else:
        kind, size = framing(method, head)
    rest: Optional[bytes]
    if kind == LENGTH:
        if size > limit:
            raise BodyTooLarge(limit, size)
        while len(buf) < size:
            data = more()
            if not data:
                raise FramingError("connection closed inside the body")
            buf += data
        body, rest = buf[:size], buf[size:]
    elif kind == CHUNKED:
        body, rest = read_chunked(buf, more, limit)
    else:  # delimited by the device closing the connection
        parts, have = [buf], len(buf)
        while True:
            if have > limit:
                raise BodyTooLarge(limit)
            data = more()
            if not data:
                break
            parts.append(data)
            have += len(data)
        body, rest = b"".join(parts), None
    reusable = (
        rest == b""
        and head.keep_alive
        and not (kind == CHUNKED and head.length is not None)  # both framings: smuggling
    )
    return body, reusable
