"""HTTP pieces every exchange shares: the User-Agent, timeouts, capped reads, chunked bodies.

requests has no default timeout and no size limit: every body upnpy reads from a device is
capped in size (:class:`~._exceptions.BodyTooLarge`) and bounded in time. The chunked-body
decoder :func:`read_chunked` serves both the client (:mod:`upnpy._transport`) and the GENA
callback server (:mod:`upnpy._gena_server`); it raises the low-level failures of
:mod:`upnpy._exceptions`, which :func:`upnpy._errors.translate` turns into upnpy errors.
"""

from __future__ import annotations

import os
import re
import time
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)
from urllib.parse import unquote

from ._exceptions import BodyTooLarge, FramingError
from ._version import __version__

if TYPE_CHECKING:
    import requests

__all__ = [
    "USER_AGENT",
    "DEFAULT_HTTP_TIMEOUT",
    "RECV_SIZE",
    "MAX_HEAD",
    "Timeout",
    "Headers",
    "url_problem",
    "split_zone",
    "valid_zone",
    "parse_fields",
    "content_length",
    "length_of",
    "as_timeout",
    "read_capped",
    "read_chunked",
]


def _os_version() -> str:
    """``OS/version``, as :func:`platform.system` and :func:`platform.release` give them;
    read from :func:`os.uname` where there is one, as they do (the platform module takes
    ~3 ms to import)."""
    if hasattr(os, "uname"):
        system, _, release, _, _ = os.uname()
    else:  # Windows
        import platform

        system, release = platform.system(), platform.release()
    return f"{system or 'Unknown'}/{release or '0'}"


#: ``OS/version UPnP/1.1 product/version``, space-separated as UDA 1.1 asks.
USER_AGENT = f"{_os_version()} UPnP/1.1 upnpy/{__version__}"

#: (connect, read) in seconds for every HTTP exchange. UDA gives a device 30 s to answer an
#: action. (Not a subscription's duration: that is :data:`upnpy._gena.DEFAULT_DURATION`.)
DEFAULT_HTTP_TIMEOUT: Tuple[float, float] = (5.0, 30.0)

#: Bytes asked of a socket or stream per read.
RECV_SIZE = 64 * 1024
#: The largest status line plus headers (or chunk trailers) accepted, in bytes.
MAX_HEAD = 64 * 1024

Timeout = Union[float, Tuple[float, float]]

#: The grammar of a header field line: a name (an RFC 9110 token), a colon, a value (text
#: without control characters but tab). As a pattern text, for the readers that use it.
TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
FIELD_VALUE = r"[\t\x20-\x7e\x80-\xff]*"
FIELD_LINE = f"{TOKEN}:{FIELD_VALUE}"
_TOKEN = re.compile(TOKEN)
_FIELD_VALUE = re.compile(FIELD_VALUE)
_LENGTH = re.compile(r"[0-9]+")
_FIELDS = re.compile(rf"(?:{FIELD_LINE}\r\n)*")
#: A Content-Length of more digits than this is larger than any body upnpy reads.
_LENGTH_DIGITS = 18

# Characters no URL taken from a device may hold: C0 controls (CR and LF among them) and DEL.
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# An IPv6 zone (RFC 6874: unreserved characters), after %-decoding.
_ZONE = re.compile(r"[A-Za-z0-9._~-]{1,64}")

_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")


class Headers(Mapping[str, str]):
    """Header fields: a read-only, case-insensitive mapping that keeps the spelling the device
    used; for a repeated name the first field counts.

    The index is built on first use, and a usual head's lines are split then too
    (:meth:`of_plain_lines`): most answers (SOAP) are never asked for a header.
    """

    __slots__ = ("_index", "_lines", "_pairs")

    def __init__(self, pairs: Iterable[Tuple[str, str]] = ()) -> None:
        self._pairs: Optional[List[Tuple[str, str]]] = (
            pairs if isinstance(pairs, list) else list(pairs)
        )
        self._lines = ""
        self._index: Optional[Dict[str, Tuple[str, str]]] = None

    @classmethod
    def of_plain_lines(cls, lines: str) -> Headers:
        """The fields of *lines*, plain field lines joined by CRLF, which the caller has
        checked (:data:`FIELD_LINE` each); they are split on first use."""
        headers = cls.__new__(cls)
        headers._pairs, headers._lines, headers._index = None, lines, None
        return headers

    @property
    def _items(self) -> Dict[str, Tuple[str, str]]:
        index = self._index
        if index is None:
            pairs = self._pairs
            if pairs is None:
                pairs = self._pairs = _split_plain(self._lines.split("\r\n")) if self._lines else []
            index = {}
            for name, value in pairs:
                index.setdefault(name.lower(), (name, value))  # the first occurrence wins
            self._index = index
        return index

    def __getitem__(self, key: str) -> str:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        theirs = {str(k).lower(): v for k, v in other.items()}
        return {k: v for k, (_, v) in self._items.items()} == theirs

    def __hash__(self) -> int:
        return hash(frozenset((k, v) for k, (_, v) in self._items.items()))

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


def parse_fields(lines: Iterable[str]) -> List[Tuple[str, str]]:
    """Header field lines (Latin-1 text without their line ends) as ``(name, value)`` pairs.

    The one grammar of header fields, for responses (:mod:`upnpy._response`) and for the
    NOTIFYs the callback server reads: a name is a token, a value holds no control character
    (a bare CR among them), and a folded line (starting with a space or tab) continues the
    previous field.

    :raises FramingError: for any other line.
    """
    lines = list(lines)
    if _FIELDS.fullmatch("\r\n".join(lines) + "\r\n"):  # the usual head: one check for all
        return _split_plain(lines)
    pairs: List[Tuple[str, str]] = []  # something odd: the careful reading says what
    for line in lines:
        value = line.strip(" \t")
        if line[:1] in (" ", "\t"):  # obs-fold: part of the previous field's value
            if not pairs:
                raise FramingError("a folded line before any header field")
            if not _FIELD_VALUE.fullmatch(value):
                raise FramingError(f"control character in header line {line[:40]!r}")
            name, previous = pairs[-1]
            pairs[-1] = (name, f"{previous} {value}".strip())
            continue
        name, colon, raw = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise FramingError(f"malformed header line {line[:40]!r}")
        value = raw.strip(" \t")
        if not _FIELD_VALUE.fullmatch(value):
            raise FramingError(f"control character in the {name} header")
        pairs.append((name, value))
    return pairs


def _split_plain(lines: Iterable[str]) -> List[Tuple[str, str]]:
    """``(name, value)`` of lines known to be plain field lines (:data:`FIELD_LINE`)."""
    return [(name, value.strip(" \t")) for name, _, value in (x.partition(":") for x in lines)]


def content_length(pairs: Iterable[Tuple[str, str]]) -> Optional[int]:
    """The Content-Length of these fields, or ``None`` when there is none.

    Repeated fields and comma-separated lists must all say the same; a length of more than
    18 digits is returned as ``10**18``, larger than any limit.

    :raises FramingError: for a value that is not ASCII digits, or values that disagree.
    """
    return length_of([value for name, value in pairs if name.lower() == "content-length"])


def length_of(values: Sequence[str]) -> Optional[int]:
    """The Content-Length that the values of every Content-Length field say together (see
    :func:`content_length`), or ``None`` when there are none."""
    if len(values) == 1 and values[0].isdigit() and values[0].isascii() and len(values[0]) < 19:
        return int(values[0])  # the usual case
    texts = {part.strip(" \t") for value in values for part in value.split(",")}
    for text in texts:
        if not _LENGTH.fullmatch(text):
            raise FramingError(f"bad Content-Length {text[:20]!r}")
    lengths = {min(int(t), 10**18) if len(t) <= _LENGTH_DIGITS else 10**18 for t in texts}
    if len(lengths) > 1:
        raise FramingError(f"conflicting Content-Length values {', '.join(sorted(texts))[:80]}")
    return lengths.pop() if lengths else None


def url_problem(url: str) -> Optional[str]:
    """Why a URL taken from a device must not be used, or ``None`` when it may.

    The one check every device URL passes (LOCATION, URLBase, SCPD/control/event URLs, and
    every request line): a control character — CR or LF above all — could split a request
    or smuggle a header, so such a URL is refused, never cleaned up.
    """
    bad = _URL_CONTROL.search(url)
    if bad is not None:
        return f"the URL holds the control character U+{ord(bad.group()):04X}"
    return None


def split_zone(host: str) -> Tuple[str, str]:
    """``(address, zone)`` of an IPv6 URL host (the inside of its brackets): the zone written
    ``%25zone`` (RFC 6874) or ``%zone``, %-decoded; ``""`` when there is none.

    ``fe80::1%25lan0`` and ``fe80::1%lan0`` both give ``("fe80::1", "lan0")``; a lone
    ``%25`` is the zone ``"25"`` (an interface index).
    """
    literal, percent, zone = host.partition("%")
    if not percent:
        return literal, ""
    if zone.startswith("25") and len(zone) > 2:
        zone = zone[2:]
    return literal, unquote(zone)


def valid_zone(zone: str) -> bool:
    """Whether *zone* is an acceptable IPv6 zone: 1 to 64 of ``A-Z a-z 0-9 . _ ~ -``."""
    return bool(_ZONE.fullmatch(zone))


def as_timeout(timeout: Optional[Timeout]) -> Tuple[float, float]:
    """Normalise a user's timeout (a number or a ``(connect, read)`` pair)."""
    if timeout is None:
        return DEFAULT_HTTP_TIMEOUT
    if isinstance(timeout, (int, float)):
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def read_capped(
    response: requests.Response, limit: int, *, deadline: Optional[float] = None
) -> bytes:
    """Read a streamed requests response body, refusing more than *limit* bytes.

    :param response: a response obtained with ``stream=True``; it is closed here.
    :param limit: the largest body accepted, in bytes.
    :param deadline: a :func:`time.monotonic` instant after which reading stops, so a
        device that drips bytes cannot hold the caller beyond it.
    :raises BodyTooLarge: when the body is over *limit*.
    :raises TimeoutError: when the deadline passes.
    :raises requests.RequestException: when the connection breaks while reading.
    """
    try:
        declared = response.headers.get("Content-Length", "")
        digits = declared.isascii() and declared.isdigit()  # too many: too large for int()
        if digits and (len(declared) > _LENGTH_DIGITS or int(declared) > limit):
            raise BodyTooLarge(limit)
        # urllib3's read1() returns what one read gives, so a device that drips bytes meets
        # the deadline check below; iter_content() would wait for a whole chunk first.
        read1 = getattr(response.raw, "read1", None)
        chunks: Iterable[bytes] = (
            iter(lambda: read1(RECV_SIZE, decode_content=True), b"")
            if read1 is not None
            else response.iter_content(RECV_SIZE)
        )
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(limit)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the body arrived too slowly")
        return bytes(body)
    finally:
        response.close()


def _more(buf: bytes, more: Callable[[], bytes]) -> bytes:
    data = more()
    if not data:
        raise FramingError("connection closed inside a chunked body")
    return buf + data


def _until(buf: bytes, more: Callable[[], bytes], marker: bytes, cap: int) -> bytes:
    """*buf* extended until it holds *marker*; more than *cap* bytes without it is an error."""
    while marker not in buf:
        if len(buf) > cap:
            raise FramingError("chunked body: a line without end")
        buf = _more(buf, more)
    return buf


def read_chunked(buf: bytes, more: Callable[[], bytes], limit: int) -> Tuple[bytes, bytes]:
    """Decode a ``Transfer-Encoding: chunked`` body (RFC 9112 §7.1).

    :param buf: the bytes already read after the headers.
    :param more: returns the next bytes of the connection, ``b""`` once it is closed (it
        enforces the caller's timeouts by raising).
    :param limit: the largest decoded body accepted, in bytes.
    :returns: ``(body, rest)``: the decoded body and the bytes read past its end.
    :raises BodyTooLarge: when the body is over *limit*.
    :raises FramingError: for a malformed chunk size (hex digits only), a chunk not followed
        by CRLF, oversized trailers, or a connection closed inside the body.
    """
    body = bytearray()
    while True:
        buf = _until(buf, more, b"\r\n", 1024)
        line, buf = buf.split(b"\r\n", 1)
        match = _CHUNK_SIZE.fullmatch(line.strip(b" \t"))
        if match is None:
            raise FramingError(f"bad chunk size {line[:20]!r}")
        size = int(match.group(1), 16)
        if size == 0:  # optional trailer fields, then a blank line
            buf = _until(b"\r\n" + buf, more, b"\r\n\r\n", MAX_HEAD)
            return bytes(body), buf.split(b"\r\n\r\n", 1)[1]
        if len(body) + size > limit:
            raise BodyTooLarge(limit)
        while len(buf) < size + 2:
            buf = _more(buf, more)
        if buf[size : size + 2] != b"\r\n":
            raise FramingError("chunked body: a chunk is not followed by CRLF")
        body += buf[:size]
        buf = buf[size + 2 :]
