"""SSDP: send M-SEARCH requests, parse the devices' answers and their NOTIFY announcements.

:func:`search` sends an ``M-SEARCH`` on every interface at once — to ``239.255.255.250`` from
each IPv4 address, to ``FF02::C`` from each interface's IPv6 link-local address — or unicast
to one host, and yields each distinct answer as it arrives, within one overall deadline. The
pure parts, :func:`build_msearch`, :func:`parse_response`, :func:`parse_notify` and
:func:`interface_addresses`, are public so that other modules and tests can use them without
a socket. :func:`open_listener` opens the socket that receives NOTIFY announcements on one
interface; reading it is the caller's business.

IPv6 zones. A link-local LOCATION (``http://[fe80::1]:5000/d.xml``) cannot be connected to
without the zone of the link it is on, and a zone in a device's LOCATION names the *device's*
interface, not ours. So the LOCATION of an answer or announcement that arrived on a known
link (the scope id of its sender address) is rewritten with that link's zone, the interface
name in RFC 6874 form: ``http://[fe80::1%25lan0]:5000/d.xml``. Without a known link, a zone
written ``%lan0`` is rewritten ``%25lan0``; a zone on an address that is not link-local is
dropped. :mod:`upnpy._transport` reads both forms and never sends the zone.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
import selectors
import socket
import struct
import sys
import time
from dataclasses import field
from typing import (
    Any,
    Collection,
    Dict,
    Generator,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
    TypeVar,
    cast,
)
from urllib.parse import urlsplit

from ._exceptions import DiscoveryError
from ._http import USER_AGENT, Headers, split_zone, url_problem, valid_zone
from ._interfaces import Interface, interfaces, scope_index, scope_name
from ._records import Record, record

__all__ = [
    "SSDP_GROUP",
    "SSDP_GROUP_V6",
    "SSDPResponse",
    "SSDPNotify",
    "parse_response",
    "parse_notify",
    "build_msearch",
    "answers_search",
    "interface_addresses",
    "open_listener",
    "search",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: The IPv4 SSDP multicast group and port.
SSDP_GROUP: Tuple[str, int] = ("239.255.255.250", 1900)
#: The IPv6 link-local SSDP multicast group and port (``FF02::C``; one socket per link).
SSDP_GROUP_V6: Tuple[str, int] = ("ff02::c", 1900)
#: The ``HOST`` header of a multicast M-SEARCH, by address family.
MULTICAST_HOST: Dict[int, str] = {
    socket.AF_INET: "239.255.255.250:1900",
    socket.AF_INET6: "[FF02::C]:1900",
}
#: Hop limit of multicast M-SEARCHes (UDA 1.1 default; IPv4 TTL and IPv6 hops alike).
MULTICAST_TTL = 2
#: How many copies of each M-SEARCH are sent, and how far apart (seconds).
SEND_COUNT = 3
SEND_INTERVAL = 0.2
#: Larger datagrams are neither search responses nor announcements (real ones are < 1 KiB).
MAX_RESPONSE_SIZE = 8192
#: The highest value of MX (UDA: devices treat anything above 5 as 5).
MAX_MX = 5

# One byte more than an answer may have: a larger datagram arrives cut, and is refused.
DATAGRAM_BUFFER = MAX_RESPONSE_SIZE + 1
# Datagrams read from one socket in a row before looking at the others again.
_BURST = 64
_SO_RCVBUF = 4 << 20
# After the deadline, datagrams already received are still read: at most this many rounds
# of the sockets, for at most this many seconds.
_FINAL_DRAIN_LIMIT = 1024
_FINAL_DRAIN_TIME = 0.05
# Distinct answers remembered to drop duplicates (2000 devices answer ssdp:all ~8000 ways).
_MAX_SEEN = 16384
# The LOCATION of a raw answer, to skip a device's further answers unparsed (by_location).
_RAW_LOCATION = re.compile(rb"^location[ \t]*:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_STATUS_LINE = re.compile(r"HTTP/1\.[01]\s+200(\s.*)?", re.IGNORECASE)
_NOTIFY_LINE = re.compile(r"NOTIFY\s+\*\s+HTTP/1\.[01]", re.IGNORECASE)
_MAX_AGE = re.compile(r"max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BAD_HEADER_VALUE = re.compile(r"[\x00-\x1f\x7f]")
_NTS = ("ssdp:alive", "ssdp:byebye", "ssdp:update")
# Linux: a socket receives only the groups it joined on the interfaces it joined them on.
_IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49 if sys.platform == "linux" else None)
_IPV6_MULTICAST_ALL = 29 if sys.platform == "linux" else None

#: A sender's address as :meth:`socket.socket.recvfrom` gives it: ``(ip, port)``, or
#: ``(ip, port, flowinfo, scope_id)`` for IPv6.
Address = Tuple[Any, ...]


@record
class SSDPResponse(Record):
    """One answer to an M-SEARCH.

    :ivar location: URL of the root device description (a link-local IPv6 host carries the
        zone of the link the answer arrived on; see the module's notes on zones).
    :ivar usn: unique service name, e.g. ``uuid:abc::upnp:rootdevice``.
    :ivar st: the search target the device answered for (may be empty).
    :ivar server: the ``SERVER`` header (may be empty).
    :ivar max_age: seconds the answer stays valid, or ``None`` when CACHE-CONTROL has none.
    :ivar bootid: ``BOOTID.UPNP.ORG``, or ``None`` when absent or not a 31-bit number.
    :ivar configid: ``CONFIGID.UPNP.ORG``, or ``None`` when absent or not a 31-bit number.
    :ivar headers: every header, read-only, with case-insensitive names.
    :ivar address: the sender, ``(ip, port)`` or for IPv6 ``(ip, port, flowinfo, scope_id)``.
    """

    location: str
    usn: str
    st: str
    server: str
    max_age: Optional[int]
    bootid: Optional[int]
    configid: Optional[int]
    headers: Mapping[str, str] = field(repr=False)
    address: Address

    @property
    def udn(self) -> str:
        """The device's UDN: the part of the USN before ``::`` (``uuid:abc``)."""
        return self.usn.split("::", 1)[0]


@record
class SSDPNotify(Record):
    """One NOTIFY announcement (``NOTIFY * HTTP/1.1``, multicast by a device).

    :ivar nts: ``"ssdp:alive"``, ``"ssdp:byebye"`` or ``"ssdp:update"`` (lower case).
    :ivar nt: the notification type (``upnp:rootdevice``, a ``uuid:``, a device/service URN).
    :ivar usn: unique service name, e.g. ``uuid:abc::upnp:rootdevice``.
    :ivar location: URL of the root device description, as for :class:`SSDPResponse`; ``""``
        for a byebye without a usable one.
    :ivar max_age: seconds the announcement stays valid, or ``None`` when CACHE-CONTROL has
        none (a byebye usually has none).
    :ivar bootid: ``BOOTID.UPNP.ORG``, or ``None`` when absent or not a 31-bit number.
    :ivar configid: ``CONFIGID.UPNP.ORG``, or ``None`` likewise.
    :ivar next_bootid: ``NEXTBOOTID.UPNP.ORG`` (of an ``ssdp:update``), or ``None`` likewise.
    :ivar server: the ``SERVER`` header (may be empty).
    :ivar headers: every header, read-only, with case-insensitive names.
    :ivar address: the sender, ``(ip, port)`` or for IPv6 ``(ip, port, flowinfo, scope_id)``.
    """

    nts: str
    nt: str
    usn: str
    location: str
    max_age: Optional[int]
    bootid: Optional[int]
    configid: Optional[int]
    next_bootid: Optional[int]
    server: str
    headers: Mapping[str, str] = field(repr=False)
    address: Address

    @property
    def udn(self) -> str:
        """The device's UDN: the part of the USN before ``::`` (``uuid:abc``)."""
        return self.usn.split("::", 1)[0]


def _uint31(value: Optional[str]) -> Optional[int]:
    """A decimal number below 2**31 (ASCII digits; too many digits is no number), or ``None``."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if number < 2**31 else None


def _reject(address: object, reason: str) -> Optional[_T]:
    """Log why a datagram is dropped; always ``None``, for ``return _reject(...)``."""
    log.debug("SSDP datagram from %s dropped: %s", address, reason)
    return None


def _parse_head(
    data: bytes, address: Address, start: re.Pattern[str], what: str
) -> Optional[Headers]:
    """The header fields of an SSDP datagram whose first line matches *start*, or ``None``
    (logged) for anything else. The rules are those of :func:`parse_response`."""
    if not data:
        return _reject(address, "empty")
    if len(data) > MAX_RESPONSE_SIZE:
        return _reject(address, f"{len(data)} bytes is too large for {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _reject(address, "not UTF-8")
    if _BINARY.search(text):
        return _reject(address, "control characters (binary data)")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    if head == text and not text.endswith("\n"):
        return _reject(address, "truncated (the last line has no line break)")
    lines = re.split(r"\r?\n", head.rstrip("\r\n"))
    if any("\r" in line for line in lines):  # a bare CR: the line ends are not what they seem
        return _reject(address, "a bare CR inside a header line")
    if not start.fullmatch(lines[0].strip()):
        return _reject(address, f"not {what}: {lines[0][:60]!r}")
    pairs: List[Tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, f"{value} {line.strip()}".strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            log.debug("SSDP datagram from %s: malformed header line %r skipped", address, line[:60])
            continue
        pairs.append((name.strip(), value.strip()))
    return Headers(pairs)


def _arrival_scope(address: Address) -> int:
    """The scope id of the link a datagram arrived on (from an IPv6 sender address), or 0."""
    if len(address) >= 4 and isinstance(address[3], int) and address[3] > 0:
        return address[3]
    return 0


def _ipv6_netloc(netloc: str, scope: int) -> Tuple[str, str]:
    """``(netloc, "")``: *netloc* with its bracketed IPv6 host checked and its zone settled
    (see the module's notes); ``("", reason)`` when it is unusable."""
    userinfo, at, hostport = netloc.rpartition("@")
    inside, bracket, rest = hostport[1:].partition("]")
    if not bracket:
        return ("", "an IPv6 host without its closing bracket")
    literal, zone = split_zone(inside)
    try:
        ip = ipaddress.IPv6Address(literal)
    except ValueError:
        return ("", f"{inside[:60]!r} is not an IPv6 address")
    if "%" in inside and not valid_zone(zone):
        return ("", f"bad IPv6 zone {zone[:40]!r}")
    if not ip.is_link_local:
        zone = ""
    elif scope:
        zone = scope_name(scope)
    zoned = f"{literal}%25{zone}" if zone else literal
    return f"{userinfo}{at}[{zoned}]{rest}", ""


def _location(location: str, address: Address) -> Tuple[str, str]:
    """``(location, "")`` for a usable LOCATION (its IPv6 zone settled), ``("", reason)``."""
    if not location:
        return "", "no LOCATION"
    problem = url_problem(location)
    if problem is not None:
        return "", f"LOCATION refused: {problem}"
    try:
        parts = urlsplit(location)
        parts.port  # noqa: B018 - raises ValueError for a bad port or IPv6 host
    except ValueError as exc:
        return "", f"LOCATION is not a URL ({exc}): {location[:80]!r}"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "", f"LOCATION is not an absolute http(s) URL: {location[:80]!r}"
    if "[" in parts.netloc:
        netloc, problem = _ipv6_netloc(parts.netloc, _arrival_scope(address))
        if problem:
            return "", f"LOCATION refused: {problem}: {location[:80]!r}"
        if netloc != parts.netloc:
            location = parts._replace(netloc=netloc).geturl()
    return location, ""


def parse_response(data: bytes, address: Address) -> Optional[SSDPResponse]:
    """Parse one datagram as an SSDP search response.

    Only ``HTTP/1.1 200`` answers are accepted (``HTTP/1.0`` too); NOTIFY and other requests are
    not search responses. Header names are case-insensitive and values are stripped; a line
    without a colon is skipped, a line starting with whitespace continues the previous header,
    and for a repeated header the first one counts. ``max-age`` is read leniently
    (``max-age = 1800``). The last header line must end with a line break: a datagram cut
    in the middle of a line is treated as truncated. An IPv6 LOCATION's zone is settled as
    the module's notes say.

    :param data: the datagram.
    :param address: the sender, as :meth:`socket.socket.recvfrom` gave it.
    :returns: the response, or ``None`` (logged at DEBUG on ``upnpy._ssdp``) for anything
        else: oversized, not UTF-8, binary, truncated, not a 200 answer, or without a usable
        LOCATION or USN. Never raises.
    """
    headers = _parse_head(data, address, _STATUS_LINE, "a search response")
    if headers is None:
        return None
    usn = headers.get("USN", "")
    if not usn:
        return _reject(address, "no USN")
    location, problem = _location(headers.get("LOCATION", ""), address)
    if problem:
        return _reject(address, problem)
    match = _MAX_AGE.search(headers.get("CACHE-CONTROL", ""))
    return SSDPResponse(
        location=location,
        usn=usn,
        st=headers.get("ST", ""),
        server=headers.get("SERVER", ""),
        max_age=_uint31(match.group(1)) if match else None,
        bootid=_uint31(headers.get("BOOTID.UPNP.ORG")),
        configid=_uint31(headers.get("CONFIGID.UPNP.ORG")),
        headers=headers,
        address=address,
    )


def parse_notify(data: bytes, address: Address) -> Optional[SSDPNotify]:
    """Parse one datagram as an SSDP ``NOTIFY * HTTP/1.1`` announcement.

    The header rules are those of :func:`parse_response`. NT, NTS and USN are required; NTS
    must be ``ssdp:alive``, ``ssdp:byebye`` or ``ssdp:update`` (any case). An alive or update
    needs a usable LOCATION, as a search response does; a byebye needs none (nor
    CACHE-CONTROL), and its LOCATION is ``""`` unless it brought a usable one.

    :param data: the datagram.
    :param address: the sender, as :meth:`socket.socket.recvfrom` gave it.
    :returns: the announcement, or ``None`` (logged at DEBUG on ``upnpy._ssdp``) for
        anything else: oversized, binary, truncated, not a NOTIFY (an M-SEARCH, an answer),
        another NTS, a missing NT or USN. Never raises.
    """
    headers = _parse_head(data, address, _NOTIFY_LINE, "an SSDP NOTIFY")
    if headers is None:
        return None
    nts = headers.get("NTS", "").lower()
    if nts not in _NTS:
        return _reject(address, f"NOTIFY with NTS {nts[:40]!r}")
    nt, usn = headers.get("NT", ""), headers.get("USN", "")
    if not nt or not usn:
        return _reject(address, f"NOTIFY without {'NT' if not nt else 'USN'}")
    location, problem = _location(headers.get("LOCATION", ""), address)
    if problem and nts != "ssdp:byebye":
        return _reject(address, problem)
    match = _MAX_AGE.search(headers.get("CACHE-CONTROL", ""))
    return SSDPNotify(
        nts=nts,
        nt=nt,
        usn=usn,
        location=location,
        max_age=_uint31(match.group(1)) if match else None,
        bootid=_uint31(headers.get("BOOTID.UPNP.ORG")),
        configid=_uint31(headers.get("CONFIGID.UPNP.ORG")),
        next_bootid=_uint31(headers.get("NEXTBOOTID.UPNP.ORG")),
        server=headers.get("SERVER", ""),
        headers=headers,
        address=address,
    )


def _check_mx(mx: int) -> int:
    if isinstance(mx, bool) or not isinstance(mx, int) or not 1 <= mx <= MAX_MX:
        raise ValueError(f"mx must be an integer from 1 to {MAX_MX}, not {mx!r}")
    return mx


def answers_search(st: str, types: Collection[str], udns: Collection[str]) -> bool:
    """Whether a root device answers an M-SEARCH for *st*, by what its description lists:
    *types*, every device and service type in its tree, and *udns*, every UDN in it. A type
    answers a search for the same type at its version or a lower one, as UDA asks."""
    if st in ("ssdp:all", "upnp:rootdevice"):
        return True
    if st.startswith("uuid:"):
        return st in udns
    return any(_type_matches(have, st) for have in types)


def _type_matches(have: str, want: str) -> bool:
    have_base, _, have_version = have.rpartition(":")
    want_base, _, want_version = want.rpartition(":")
    if have_base != want_base or not have_base:
        return have == want
    if have_version.isdigit() and want_version.isdigit():
        return int(have_version) >= int(want_version)
    return have_version == want_version


def build_msearch(st: str, mx: Optional[int], host: str = "239.255.255.250:1900") -> bytes:
    """Build an ``M-SEARCH * HTTP/1.1`` request.

    :param st: the search target (``ssdp:all``, ``upnp:rootdevice``, a ``uuid:`` or a URN).
    :param mx: seconds over which devices spread their answers, 1 to 5, for a multicast
        search; ``None`` leaves MX out, as a unicast search must.
    :param host: the ``HOST`` header: the group (``[FF02::C]:1900`` for IPv6), or
        ``ip:port`` (``[ip]:port``) for a unicast search.
    :returns: the datagram, CRLF line endings, ending with a blank line.
    :raises ValueError: for an *mx* outside 1..5, or a line break or empty *st* / *host*.
    """
    for name, value in (("st", st), ("host", host)):
        if not value or _BAD_HEADER_VALUE.search(value):
            raise ValueError(f"{name} must be a non-empty single-line string, not {value!r}")
    lines = ["M-SEARCH * HTTP/1.1", f"HOST: {host}", 'MAN: "ssdp:discover"']
    if mx is not None:
        lines.append(f"MX: {_check_mx(mx)}")
    lines += [f"ST: {st}", f"USER-AGENT: {USER_AGENT}", "CPFN.UPNP.ORG: upnpy", "", ""]
    return "\r\n".join(lines).encode("utf-8")


def interface_addresses(
    interfaces: Optional[Iterable[str]] = None, *, include_loopback: bool = False
) -> List[str]:
    """The IPv4 addresses to search from: those of :func:`upnpy._interfaces.interfaces`.

    :param interfaces: adapter names (``"eth0"``, or a Windows friendly name) or IPv4
        addresses of this machine; ``None`` for every adapter. A single string is one name.
        Names that match nothing are logged at WARNING and skipped.
    :param include_loopback: also return 127/8 addresses when *interfaces* is ``None``
        (a loopback adapter or address named explicitly is always kept).
    :returns: distinct addresses, in the order the adapters are reported.
    :raises DiscoveryError: when no address is left; the message lists what was found.
    """
    found = _interfaces(socket.AF_INET, interfaces, include_loopback=include_loopback)
    return [iface.address for iface in found]


_interfaces = interfaces  # the parameter of interface_addresses() hides the function


def _default_mx(timeout: float) -> int:
    """MX for a search of *timeout* seconds: ``int(timeout) - 1``, kept within 1..5.

    Devices answer within MX seconds of each copy, so one second is left for the answers to
    the last copy to arrive; MX is never 0 (devices drop such requests) nor above 5.
    """
    return max(1, min(MAX_MX, int(timeout) - 1))


def _parse_host(host: str) -> Address:
    """The socket address of a unicast search's *host*: ``ip``, ``ip:port``, an IPv6 address
    alone or in brackets, ``[ip]:port``; an IPv6 link-local address needs its ``%zone``."""
    text, port_text = host, ""
    if host.startswith("["):
        inside, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad host {host!r}: expected [ipv6] or [ipv6]:port")
        text, port_text = inside, rest[1:] if rest else ""
        if rest and not port_text:
            raise ValueError(f"bad port in host {host!r}")
    elif host.count(":") == 1:
        text, _, port_text = host.partition(":")
        if not port_text:
            raise ValueError(f"bad port in host {host!r}")
    literal, zone = split_zone(text)
    try:
        ip = ipaddress.ip_address(literal)
    except ValueError:
        raise ValueError(
            f"host must be an IP address, optionally with :port, not {host!r}"
        ) from None
    if ip.is_multicast or ip.is_unspecified:
        raise ValueError(f"host must be a unicast address (host=None multicasts), not {host!r}")
    port = SSDP_GROUP[1]
    if port_text:
        if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
            raise ValueError(f"bad port in host {host!r}")
        port = int(port_text)
    if ip.version == 4:
        if zone:
            raise ValueError(f"an IPv4 host has no zone: {host!r}")
        return (str(ip), port)
    scope = 0
    if zone:
        if not valid_zone(zone):
            raise ValueError(f"bad IPv6 zone in host {host!r}")
        scope = scope_index(zone)
    elif ip.is_link_local:
        raise ValueError(f"a link-local host needs its zone (fe80::1%eth0), not {host!r}")
    return (str(ip), port, 0, scope)


def _host_header(sockaddr: Address) -> str:
    """The ``HOST`` header of a unicast M-SEARCH to *sockaddr* (never with a zone)."""
    ip, port = sockaddr[0], sockaddr[1]
    return f"[{ip}]:{port}" if len(sockaddr) == 4 else f"{ip}:{port}"


def _unicast_source(family: int) -> Interface:
    """The pseudo-interface a unicast search sends from: the wildcard address."""
    return Interface("", family, "::" if family == socket.AF_INET6 else "0.0.0.0", 0, 0)


def _open_socket(source: Interface, multicast: bool) -> socket.socket:
    """A non-blocking UDP socket bound to *source* on an ephemeral port, set up to multicast
    through it (IPv4: from its address; IPv6: out of its interface index)."""
    sock = socket.socket(source.family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SO_RCVBUF)
        except OSError as exc:  # best effort: the system may cap or refuse it
            log.debug("SO_RCVBUF not raised on %s: %s", source.address, exc)
        if source.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if multicast:
                if source.index:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, source.index)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, MULTICAST_TTL)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
        elif multicast:
            ifaddr_bytes = socket.inet_aton(source.address)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, ifaddr_bytes)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.bind(source.sockaddr(0))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def open_listener(iface: Interface, port: Optional[int] = None) -> socket.socket:
    """A non-blocking UDP socket that receives the SSDP multicast traffic arriving on *iface*:
    NOTIFY announcements (read them with :func:`parse_notify`), and other control points'
    M-SEARCHes.

    It is bound to the SSDP port with ``SO_REUSEADDR`` (and ``SO_REUSEPORT`` where there is
    one), so that other listeners on the machine keep working, and joins the group on *iface*:
    ``239.255.255.250`` by the interface's address (IPv4), ``FF02::C`` by its index (IPv6).
    On Linux the socket is bound to the group address (IPv6: with the interface's scope, which
    ties it to that link) and receives only the groups it joined on the interfaces it joined
    them on (``IP_MULTICAST_ALL`` off), so one socket per interface sees that interface's
    traffic only; elsewhere it is bound to the wildcard address. The sender address that
    ``recvfrom`` gives for IPv6 carries the scope id, which :func:`parse_notify` uses.

    One socket per adapter and family is enough: :func:`~upnpy._interfaces.interfaces` lists
    an adapter's IPv4 addresses one by one (a search sends from each), and sockets opened for
    two addresses of one adapter both receive its announcements.

    The caller owns the socket: read it (``recvfrom``, :data:`MAX_RESPONSE_SIZE` is enough for
    any announcement worth parsing), and close it.

    :param iface: one entry of :func:`upnpy._interfaces.interfaces`.
    :param port: the port, by default the group's (1900); another one for tests.
    :returns: the socket, non-blocking.
    :raises OSError: when the socket cannot be bound or the group joined (e.g. the interface
        has gone, or another program holds port 1900 without ``SO_REUSEADDR``).
    """
    v6 = iface.family == socket.AF_INET6
    group = SSDP_GROUP_V6[0] if v6 else SSDP_GROUP[0]
    port = (SSDP_GROUP_V6 if v6 else SSDP_GROUP)[1] if port is None else port
    sock = socket.socket(iface.family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            except OSError as exc:  # e.g. a kernel without it
                log.debug("SO_REUSEPORT not set: %s", exc)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SO_RCVBUF)
        except OSError as exc:
            log.debug("SO_RCVBUF not raised on %s: %s", iface.address, exc)
        if v6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            mreq6 = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", iface.index)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
            _multicast_all_off(sock, socket.IPPROTO_IPV6, _IPV6_MULTICAST_ALL)
            bound: Address = (
                (group, port, 0, iface.index) if sys.platform == "linux" else ("::", port)
            )
        else:
            mreq = socket.inet_aton(group) + socket.inet_aton(iface.address)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            _multicast_all_off(sock, socket.IPPROTO_IP, _IP_MULTICAST_ALL)
            bound = (group, port) if sys.platform == "linux" else ("0.0.0.0", port)
        sock.bind(bound)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _multicast_all_off(sock: socket.socket, level: int, option: Optional[int]) -> None:
    if option is None:
        return
    try:
        sock.setsockopt(level, option, 0)
    except OSError as exc:  # an old kernel: the socket also sees other interfaces' groups
        log.debug("multicast-all not turned off: %s", exc)


def search(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    host: Optional[str] = None,
    *,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    family: Optional[int] = None,
) -> Iterator[SSDPResponse]:
    """Search for devices and yield each distinct answer as it arrives.

    Without *host*, the M-SEARCH is multicast from every interface (one socket each, on an
    ephemeral port): to :data:`SSDP_GROUP` from each IPv4 address, and to :data:`SSDP_GROUP_V6`
    (``FF02::C``, link scope) from each interface's IPv6 link-local address, out of that
    interface. With *host* it goes to that one device, without MX. Each M-SEARCH is sent
    :data:`SEND_COUNT` times, :data:`SEND_INTERVAL` seconds apart, while answers are being
    received. Answers are de-duplicated on (USN, LOCATION); invalid datagrams are dropped
    (see :func:`parse_response`, also for the zone of a link-local LOCATION).

    Arguments are checked when :func:`search` is called; sockets are opened on the first
    ``next()`` and always closed, also when the caller stops iterating early.

    :param st: the search target.
    :param timeout: seconds from the first ``next()`` until the search ends; one overall
        deadline. Datagrams already received by then are still yielded.
    :param host: for a unicast search: ``"ip"`` or ``"ip:port"`` (port 1900 by default); an
        IPv6 address alone or as ``"[ip]:port"``, a link-local one with its zone
        (``"[fe80::1%eth0]:1900"``).
    :param mx: MX for a multicast search, 1..5; by default ``int(timeout) - 1`` kept within
        1..5, which leaves a second for the last answers. Ignored for a unicast search.
    :param interfaces: adapter names or addresses to search from (see
        :func:`upnpy._interfaces.interfaces`); ``None`` for all but loopback. Ignored with
        *host*.
    :param family: :data:`socket.AF_INET` or :data:`socket.AF_INET6` to search over that
        protocol only; ``None`` for both.
    :raises ValueError: for a *timeout* that is not positive, a bad *mx*, *st*, *host* or
        *family*, or a *host* of the other family.
    :raises DiscoveryError: when no interface is left (at the call), or when no socket could
        be set up and send (on the first ``next()``).
    """
    gen = _search(st, timeout, host, mx=mx, interfaces=interfaces, family=family)
    return cast(Iterator[SSDPResponse], gen)


#: One socket of a search: what it is bound to, where it sends, and what.
_Target = Tuple[Interface, Address, bytes]


def _search(
    st: str = "ssdp:all",
    timeout: float = 2.0,
    host: Optional[str] = None,
    *,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    wakeup: Optional[socket.socket] = None,
    family: Optional[int] = None,
    by_location: bool = False,
) -> Generator[Optional[SSDPResponse], None, None]:
    """The body of :func:`search`; with *wakeup*, yields ``None`` whenever that socket
    becomes readable (after draining it), so a caller can act between datagrams. With
    *by_location*, only the first answer per LOCATION and sender is yielded (what
    discovery needs; the other answers of a device are not even parsed)."""
    plan = _plan(st, timeout, host, mx=mx, interfaces=interfaces, family=family)
    return _run(plan, float(timeout), wakeup, by_location)


@record
class _Plan(Record):
    """A search checked and ready to run: its sockets' sources, destinations and messages."""

    targets: List[_Target]
    multicast: bool


def _plan(
    st: str,
    timeout: float,
    host: Optional[str] = None,
    *,
    mx: Optional[int] = None,
    interfaces: Optional[Iterable[str]] = None,
    family: Optional[int] = None,
) -> _Plan:
    """Check a search's arguments and list the interfaces it goes out on (no socket yet).

    :raises ValueError: for a bad *timeout*, *mx*, *st*, *host* or *family*.
    :raises DiscoveryError: when no interface is left.
    """
    if (
        not isinstance(timeout, (int, float))
        or isinstance(timeout, bool)
        or not 0 < timeout < math.inf
    ):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if family not in (None, socket.AF_INET, socket.AF_INET6):
        raise ValueError(f"family must be socket.AF_INET, socket.AF_INET6 or None, not {family!r}")
    targets: List[_Target] = []
    if host is None:
        mx = _default_mx(timeout) if mx is None else _check_mx(mx)
        messages = {fam: build_msearch(st, mx, text) for fam, text in MULTICAST_HOST.items()}
        for iface in _interfaces(family, interfaces):
            if iface.family == socket.AF_INET6:
                group, port = SSDP_GROUP_V6
                destination: Address = (group, port, 0, iface.index or iface.scope_id)
            else:
                destination = SSDP_GROUP
            targets.append((iface, destination, messages[iface.family]))
        multicast = True
    else:
        if mx is not None:
            _check_mx(mx)
        sockaddr = _parse_host(host)
        host_family = socket.AF_INET6 if len(sockaddr) == 4 else socket.AF_INET
        if family is not None and family != host_family:
            raise ValueError(f"host {host!r} is not of the family asked for ({family!r})")
        message = build_msearch(st, None, host=_host_header(sockaddr))
        targets.append((_unicast_source(host_family), sockaddr, message))
        multicast = False
    return _Plan(targets, multicast)


def _run(
    plan: _Plan,
    timeout: float,
    wakeup: Optional[socket.socket] = None,
    by_location: bool = False,
) -> Generator[Optional[SSDPResponse], None, None]:
    """The search loop: send, resend and receive on all sockets until the deadline."""
    selector = selectors.DefaultSelector()
    sockets: Dict[socket.socket, Tuple[Address, bytes]] = {}
    try:
        for source, destination, message in plan.targets:
            try:
                sock = _open_socket(source, plan.multicast)
            except OSError as exc:
                log.warning("SSDP search cannot use %s: %s", source.address, exc)
                continue
            sockets[sock] = (destination, message)
            selector.register(sock, selectors.EVENT_READ)
        if wakeup is not None:
            selector.register(wakeup, selectors.EVENT_READ)
        seen: Set[Tuple[str, str]] = set()
        copies: Set[int] = set()  # hashes of the datagrams parsed (repeats are not parsed again)
        located: Set[Tuple[bytes, str]] = set()  # with by_location: (raw LOCATION, sender)
        deadline = time.monotonic() + timeout
        sends = 0
        next_send = time.monotonic()
        drained = 0
        while True:
            now = time.monotonic()
            if sends < SEND_COUNT and now >= next_send and now < deadline:
                for sock, (destination, message) in list(sockets.items()):
                    try:
                        sock.sendto(message, destination)
                    except OSError as exc:
                        log.warning("SSDP search from %s failed: %s", sock.getsockname()[0], exc)
                        if sends == 0:  # never worked: drop it
                            selector.unregister(sock)
                            del sockets[sock]
                            sock.close()
                sends += 1
                next_send = now + SEND_INTERVAL
                if not sockets:
                    tried = ", ".join(source.address for source, _, _ in plan.targets)
                    raise DiscoveryError(f"no SSDP socket could be set up and send ({tried})")
            final = now >= deadline
            if final:
                wait = 0.0
            elif sends < SEND_COUNT:
                wait = min(deadline, next_send) - now
            else:
                wait = deadline - now
            ready = selector.select(max(wait, 0.0))
            if final and not ready:
                return
            for key, _ in ready:
                if key.fileobj is wakeup:
                    try:
                        wakeup.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        pass
                    yield None
                    continue
                sock = cast(socket.socket, key.fileobj)
                for _ in range(_BURST):  # what queued up, without a select() per datagram
                    try:
                        data, address = sock.recvfrom(DATAGRAM_BUFFER)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as exc:  # e.g. an ICMP error reported on Windows
                        log.debug("SSDP receive failed: %s", exc)
                        break
                    datagram = hash((data, address))  # the same answer to the next copy
                    if datagram in copies:
                        continue
                    if len(copies) < _MAX_SEEN:
                        copies.add(datagram)
                    place = b""
                    if by_location:
                        match = _RAW_LOCATION.search(data)
                        place = match.group(1).strip() if match else b""
                        if (place, address[0]) in located:
                            continue
                    response = parse_response(data, address)
                    if response is None or (response.usn, response.location) in seen:
                        continue
                    if len(seen) < _MAX_SEEN:  # a flood is not remembered without end
                        seen.add((response.usn, response.location))
                        if by_location:
                            located.add((place, address[0]))
                    yield response
            if final:
                drained += 1
                if drained >= _FINAL_DRAIN_LIMIT or time.monotonic() > deadline + _FINAL_DRAIN_TIME:
                    return  # what a flood keeps sending is not read past the deadline
    finally:
        selector.close()
        for sock in sockets:
            sock.close()
