"""Network interfaces to multicast from: one :class:`Interface` per address family and adapter.

A leaf module (stdlib, :mod:`ifaddr` and :mod:`upnpy._exceptions` only), shared by the SSDP
search and by anything that listens for NOTIFY announcements. :mod:`ifaddr` (which brings
in ctypes, ~25 ms) is imported when the interfaces are first listed, not with upnpy.

- IPv4: one entry per address of an adapter (an adapter with two subnets searches from both,
  so each device answers to an address on its own subnet).
- IPv6: one entry per adapter, its link-local address (``fe80::/10``) with its scope id when it
  has one, else its first other address. SSDP's IPv6 group ``FF02::C`` is link-scope: a
  datagram to it leaves through one interface, named by its index, so one socket per
  interface is what a search needs.

Loopback is left out unless asked for (or named explicitly).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from ._exceptions import DiscoveryError
from ._records import Record, record

__all__ = ["Interface", "interfaces", "scope_name", "scope_index"]

log = logging.getLogger(__name__)

_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_KIND: Dict[int, str] = {socket.AF_INET: "IPv4 ", socket.AF_INET6: "IPv6 "}


@record
class Interface(Record):
    """One interface address to send from or listen on, for one address family.

    :ivar name: the adapter's name (``eth0``; a GUID on Windows).
    :ivar family: :data:`socket.AF_INET` or :data:`socket.AF_INET6`.
    :ivar address: the address, without a ``%zone``.
    :ivar index: the interface index (:func:`socket.if_nametoindex`), 0 when unknown.
    :ivar scope_id: for a link-local IPv6 address, the index of its link; else 0.
    """

    name: str
    family: int
    address: str
    index: int
    scope_id: int

    def sockaddr(self, port: int = 0) -> Union[Tuple[str, int], Tuple[str, int, int, int]]:
        """The address to :meth:`~socket.socket.bind` to: ``(address, port)`` for IPv4,
        ``(address, port, 0, scope_id)`` for IPv6."""
        if self.family == socket.AF_INET6:
            return (self.address, port, 0, self.scope_id)
        return (self.address, port)

    @property
    def is_loopback(self) -> bool:
        """Whether the address is a loopback address (127/8, ``::1``)."""
        return ipaddress.ip_address(self.address).is_loopback

    def __str__(self) -> str:
        zone = f"%{self.scope_id}" if self.scope_id else ""
        return f"{self.name} ({self.address}{zone})"


def scope_name(scope_id: int) -> str:
    """The zone text for a scope id: the interface's name, else the number itself."""
    try:
        return socket.if_indextoname(scope_id)
    except (OSError, ValueError, OverflowError):
        return str(scope_id)


def scope_index(zone: str) -> int:
    """The scope id a zone names: a number as such, else the index of that interface.

    :raises ValueError: for a zone that is neither a number nor an interface of this machine.
    """
    if zone.isascii() and zone.isdigit() and len(zone) < 11:
        return int(zone)
    try:
        return socket.if_nametoindex(zone)
    except (OSError, ValueError) as exc:
        raise ValueError(f"no interface {zone!r} on this machine (an IPv6 zone)") from exc


def _index(adapter: Any) -> int:
    index = getattr(adapter, "index", None)
    if isinstance(index, int) and index > 0:
        return index
    try:
        return socket.if_nametoindex(str(adapter.name))
    except (OSError, ValueError):
        return 0


def _all() -> List[Tuple[Interface, str]]:
    """Every usable address of this machine, with its adapter's nice name: IPv4 addresses
    first within an adapter, then that adapter's IPv6 addresses (link-local ones first)."""
    import ifaddr  # ctypes and friends: only when interfaces are listed

    found: List[Tuple[Interface, str]] = []
    for adapter in ifaddr.get_adapters():
        name, nice, index = str(adapter.name), str(adapter.nice_name), _index(adapter)
        v6: List[Interface] = []
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                try:
                    ipaddress.IPv4Address(ip.ip)
                except ValueError:
                    continue
                found.append((Interface(name, socket.AF_INET, ip.ip, index, 0), nice))
            elif isinstance(ip.ip, tuple) and ip.ip and isinstance(ip.ip[0], str):
                text = ip.ip[0].partition("%")[0]
                try:
                    address = ipaddress.IPv6Address(text)
                except ValueError:
                    continue
                if address.is_link_local:
                    scope = ip.ip[2] if len(ip.ip) > 2 and isinstance(ip.ip[2], int) else 0
                    v6.append(Interface(name, socket.AF_INET6, text, index, scope or index))
                else:
                    v6.append(Interface(name, socket.AF_INET6, text, index, 0))
        v6.sort(key=lambda i: not ipaddress.IPv6Address(i.address).is_link_local)
        found += [(iface, nice) for iface in v6]
    return found


def _same_address(wanted: str, iface: Interface) -> bool:
    text, _, zone = wanted.strip("[]").partition("%")
    try:
        if ipaddress.ip_address(text) != ipaddress.ip_address(iface.address):
            return False
    except ValueError:
        return False
    return not zone or zone in (iface.name, str(iface.scope_id), str(iface.index))


def interfaces(
    family: Optional[int] = None,
    names: Optional[Iterable[str]] = None,
    *,
    include_loopback: bool = False,
) -> List[Interface]:
    """The interfaces to multicast from, as reported by :func:`ifaddr.get_adapters`.

    :param family: :data:`socket.AF_INET`, :data:`socket.AF_INET6`, or ``None`` for both.
    :param names: adapter names (``"eth0"``, or a Windows friendly name) or addresses of this
        machine (IPv4, or IPv6 with or without ``%zone``); ``None`` for every adapter. A single
        string is one name. An adapter's name selects its IPv4 addresses and its one IPv6
        entry; an address selects itself. Names that match nothing are logged at WARNING and
        skipped.
    :param include_loopback: also return loopback addresses when *names* is ``None`` (a
        loopback adapter or address named explicitly is always kept).
    :returns: distinct entries, in the order the adapters are reported: IPv4 addresses (one
        entry each), and for IPv6 one entry per adapter, preferring its link-local address.
    :raises DiscoveryError: when nothing is left; the message lists what was found.
    :raises ValueError: for a *family* other than those above.
    """
    if family is not None and family not in _FAMILIES:
        raise ValueError(f"family must be socket.AF_INET, socket.AF_INET6 or None, not {family!r}")
    families = _FAMILIES if family is None else (family,)
    found = [(iface, nice) for iface, nice in _all() if iface.family in families]
    if isinstance(names, str):
        names = [names]
    elif names is not None:
        names = list(names)
    chosen: List[Interface] = []
    if names is None:
        chosen = [iface for iface, _ in found if include_loopback or not iface.is_loopback]
        chosen = _one_v6_per_adapter(chosen)
    else:
        for wanted in names:
            by_name = [i for i, nice in found if wanted in (i.name, nice)]
            hits = _one_v6_per_adapter(by_name) or [i for i, _ in found if _same_address(wanted, i)]
            if not hits:
                kind = _KIND.get(family or 0, "")
                log.warning("no %sinterface or address named %r on this machine", kind, wanted)
            chosen += hits
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        listing = ", ".join(str(iface) for iface, _ in found) or "none"
        kind = _KIND.get(family or 0, "")
        which = f"{kind}interfaces" if names is None else f"matches for {list(names)!r}"
        hint = "" if names is not None or include_loopback else " (loopback excluded)"
        raise DiscoveryError(f"no {which} to search from{hint}; found: {listing}")
    return chosen


def _one_v6_per_adapter(entries: List[Interface]) -> List[Interface]:
    """*entries* with only the first IPv6 entry of each adapter kept (the link-local one)."""
    seen = set()
    kept: List[Interface] = []
    for iface in entries:
        if iface.family == socket.AF_INET6:
            if iface.name in seen:
                continue
            seen.add(iface.name)
        kept.append(iface)
    return kept
