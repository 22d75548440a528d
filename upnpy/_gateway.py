"""Port forwarding for an application: find the Internet gateway, map a port, keep it, clean up.

:class:`Gateway` wraps a :class:`~upnpy.Device` and the WANIPConnection/WANPPPConnection
service chosen on it; it holds no protocol code of its own — every exchange is an action of
that service. :meth:`Gateway.find` ranks gateways as miniupnpc's ``UPNP_GetValidIGD`` does;
:meth:`Gateway.forward` keeps a mapping alive in the background (the scheduler thread of
:mod:`upnpy._manager`) and removes it when the block ends or the interpreter exits.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import socket
import threading
import time
import warnings
from dataclasses import field
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ._errors import translate
from ._exceptions import ActionError, UPnPError, UPnPWarning
from ._manager import manager
from ._proxy import Device, Service
from ._records import Record, record
from ._ssdp import _search
from ._transport import local_address
from ._xml import children, parse_xml, text

__all__ = [
    "Gateway",
    "PortMapping",
    "GatewayStatus",
    "Traffic",
    "GatewayNotFound",
    "Forwarding",
    "forward",
]

log = logging.getLogger("upnpy")

#: What Gateway.find searches for: every IGD version answers it (UDA: a v2 device answers v1).
IGD_SEARCH = "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
#: Connection services, best first (within one device).
CONNECTION_SERVICES = ("WANIPConnection:2", "WANIPConnection:1", "WANPPPConnection:1")
#: Lease asked for when the caller names none, and the renewal margin of forward().
DEFAULT_LEASE = 3600
#: Seconds before a failed renewal is tried again (never a busy loop).
RETRY = 10.0
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_SAME = -1  # external_port default: the internal port

#: A plain-language hint for the IGD faults an application meets.
HINTS: Dict[int, str] = {
    606: "the gateway does not authorize this (its UPnP settings or ACL refuse it)",
    714: "no such mapping on the gateway",
    716: "the gateway refuses a wildcard external port",
    718: "the external port is already mapped, to another client or protocol",
    724: "the gateway needs the internal and external ports to be the same",
    725: "the gateway only accepts permanent leases",
    726: "the gateway only accepts an empty remote host",
    727: "the gateway only accepts a wildcard external port",
    728: "the gateway has no port mappings left",
    729: "the mapping conflicts with another mechanism on the gateway (a firewall rule, say)",
    732: "the gateway refuses a wildcard internal port",
}


class GatewayNotFound(UPnPError):
    """No Internet gateway answered, or none of those found has a connection service."""


@record
class PortMapping(Record):
    """One port mapping of a gateway.

    :ivar lease: seconds the gateway keeps it; 0 means permanent.
    """

    remote_host: str
    external_port: int
    protocol: str
    internal_client: str
    internal_port: int
    enabled: bool
    description: str
    lease: int
    #: the gateway's external address, when known (see :attr:`external_address`)
    external_ip: str = field(default="", compare=False)

    @property
    def external_address(self) -> Tuple[str, int]:
        """``(external IP, external port)``: where the Internet reaches the mapping."""
        return (self.external_ip, self.external_port)

    def _repr_html_(self) -> str:
        from ._display import port_mappings_html

        return port_mappings_html([self])


class PortMappings(List[PortMapping]):
    """The list :meth:`Gateway.port_mappings` returns: a plain list, shown by IPython and
    Jupyter as a table (its ``repr`` stays a list's)."""

    def _repr_html_(self) -> str:
        from ._display import port_mappings_html

        return port_mappings_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import port_mappings_text, pretty

        pretty(printer, self, cycle, lambda: port_mappings_text(self))


@record
class GatewayStatus(Record):
    """What GetStatusInfo and GetExternalIPAddress say of the connection."""

    connection_status: str
    last_error: str
    uptime: Optional[int]
    external_ip: str

    @property
    def connected(self) -> bool:
        return self.connection_status in ("Connected", "Up")


@record
class Traffic(Record):
    """Totals of the gateway's WAN interface since upnpy first read them, wraps included.

    The counters are ui4 and wrap at 2**32 (not 2**31); a reading below the previous one
    is taken as one wrap. Read them more often than a wrap takes (at 1 Gbit/s, 34 s).
    """

    bytes_sent: int
    bytes_received: int
    packets_sent: int
    packets_received: int


class _Counters:
    """Running totals of ui4 counters that wrap at 2**32."""

    def __init__(self) -> None:
        self._last: Dict[str, int] = {}
        self._total: Dict[str, int] = {}
        self._lock = threading.Lock()

    def update(self, name: str, reading: int) -> int:
        with self._lock:
            last = self._last.get(name)
            total = self._total.get(name, reading)
            if last is not None:
                total += (reading - last) % (1 << 32)  # a smaller reading: the counter wrapped
            self._last[name], self._total[name] = reading, total
            return total


def _seconds(lease: Union[int, float, datetime.timedelta]) -> int:
    """Whole seconds of a lease, days included (a timedelta of 1 day is 86400, never 0)."""
    if isinstance(lease, datetime.timedelta):
        lease = lease.total_seconds()
    if isinstance(lease, bool) or not isinstance(lease, (int, float)) or lease < 0:
        raise ValueError(f"lease must be seconds >= 0 or a timedelta, not {lease!r}")
    return int(lease)


def _rank(ip: str, connected: bool) -> int:
    """miniupnpc's order: connected with a public address, connected, found, anything."""
    if not connected:
        return 1
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return 2  # connected, but no usable external address
    public = address.is_global and address not in _CGNAT
    return 3 if public else 2


class Gateway:
    """An Internet gateway: the connection service of an IGD, with the port-forwarding verbs.

    :param device: the gateway's :class:`~upnpy.Device` (it stays reachable as :attr:`device`).
    :param connection: its WANIPConnection/WANPPPConnection service; by default the best one
        in the device tree (WANIPConnection:2, then :1, then WANPPPConnection:1).
    :raises GatewayNotFound: when the device has no connection service.
    """

    def __init__(self, device: Device, connection: Optional[Service] = None) -> None:
        self.device = device
        self.connection = connection if connection is not None else _connection_of(device)
        self._counters = _Counters()

    # -- finding ----------------------------------------------------------------------------

    @classmethod
    def find(cls, timeout: float = 2.0, *, interfaces: Any = None) -> Gateway:
        """The best Internet gateway on the LAN.

        Gateways are ranked as miniupnpc does: connected with a public external address,
        then connected with a private or carrier-grade NAT (100.64/10) address, then found but
        not connected, then any. The search ends as soon as a gateway of the first kind is
        described; otherwise at *timeout*, with the best one found. It runs over IPv4 only:
        WANIPConnection's port mappings are IPv4 NAT.

        :raises GatewayNotFound: when no gateway answered in time.
        """
        deadline = time.monotonic() + timeout
        best: Optional[Tuple[int, Gateway]] = None
        seen = set()
        # over IPv4: port mapping is IPv4 NAT, and NewInternalClient is our IPv4 address
        answers = _search(IGD_SEARCH, timeout, interfaces=interfaces, family=socket.AF_INET)
        try:
            for answer in answers:
                if answer is None or answer.location in seen:
                    continue
                seen.add(answer.location)
                left = deadline - time.monotonic()
                candidate = _describe(answer.location, max(left, 0.5))
                if candidate is None:
                    continue
                rank, gateway = candidate
                if best is None or rank > best[0]:
                    if best is not None:
                        best[1].device.close()
                    best = (rank, gateway)
                else:
                    gateway.device.close()
                if rank == 3:
                    break  # nothing can be better
        except BaseException:
            if best is not None:
                best[1].device.close()
            raise
        finally:
            answers.close()  # its sockets, now rather than when collected
        if best is None:
            raise GatewayNotFound(f"no Internet gateway answered within {timeout} s")
        return best[1]

    # -- reading ----------------------------------------------------------------------------

    @property
    def external_ip(self) -> str:
        """The external address the gateway reports (one call each read; ``""`` when none)."""
        return str(self.connection.GetExternalIPAddress()["NewExternalIPAddress"] or "")

    @property
    def local_address(self) -> str:
        """This machine's address on the gateway's LAN: the one that reaches the gateway."""
        return local_address(self.connection.control_url)

    @property
    def status(self) -> GatewayStatus:
        """The connection's status, last error, uptime and external address."""
        info = self.connection.GetStatusInfo()
        return GatewayStatus(
            connection_status=str(info.get("NewConnectionStatus") or ""),
            last_error=str(info.get("NewLastConnectionError") or ""),
            uptime=info.get("NewUptime") if isinstance(info.get("NewUptime"), int) else None,
            external_ip=self.external_ip,
        )

    def traffic(self) -> Traffic:
        """The WAN interface's byte and packet totals (WANCommonInterfaceConfig), corrected
        for the 32-bit wrap across the reads of this :class:`Gateway`.

        :raises KeyError: when the gateway has no WANCommonInterfaceConfig service.
        """
        config = self.device["WANCommonInterfaceConfig"]
        totals = []
        for name in ("BytesSent", "BytesReceived", "PacketsSent", "PacketsReceived"):
            reading = config[f"GetTotal{name}"]()[f"NewTotal{name}"]
            value = reading if isinstance(reading, int) else 0
            totals.append(self._counters.update(name, value % (1 << 32)))  # i4 devices too
        return Traffic(*totals)

    def port_mappings(self) -> PortMappings:
        """Every port mapping of the gateway, read with GetGenericPortMappingEntry until the
        gateway says the list ends (713/714); GetListOfPortMappings on v2 when that fails.

        :returns: a list of :class:`PortMapping` (shown as a table in Jupyter and IPython).
        """
        mappings = PortMappings()
        external_ip = self._external_ip_or_empty()
        for index in range(65536):
            try:
                entry = self.connection.GetGenericPortMappingEntry(index)
            except ActionError as exc:
                if exc.code in (713, 714):
                    return mappings
                if index == 0 and "GetListOfPortMappings" in self.connection.actions:
                    return self._listed(external_ip)
                raise _explained(exc) from None
            mappings.append(_mapping(entry, external_ip))
        return mappings

    def _listed(self, external_ip: str) -> PortMappings:
        """Every mapping by GetListOfPortMappings (v2): an XML listing, parsed safely."""
        mappings = PortMappings()
        for protocol in ("TCP", "UDP"):
            answer = self.connection.GetListOfPortMappings(0, 65535, protocol, True, 0)
            listing = str(answer.get("NewPortListing") or "")
            if not listing:
                continue
            with translate(self.connection.control_url):  # a malformed listing: TransportError
                root = next(iter(parse_xml(listing.encode("utf-8")).values()))
            for entry in children(root, "PortMappingEntry"):
                fields = {f"New{key}": text(entry, f"New{key}") for key in _LISTING_FIELDS}
                mappings.append(_mapping(fields, external_ip))
        return mappings

    # -- changing ---------------------------------------------------------------------------

    def add_port_mapping(
        self,
        internal_port: int,
        protocol: str = "TCP",
        *,
        external_port: Optional[int] = _SAME,
        any_port: bool = False,
        internal_client: Optional[str] = None,
        lease: Union[int, float, datetime.timedelta] = DEFAULT_LEASE,
        description: str = "upnpy",
        remote_host: str = "",
    ) -> PortMapping:
        """Map an external port of the gateway to *internal_port* on this machine.

        :param external_port: the port the Internet uses; by default *internal_port*.
            ``None`` (or *any_port*) lets an IGD v2 gateway choose another one when that one is
            taken (AddAnyPortMapping); the mapping returned says which.
        :param internal_client: by default :attr:`local_address`.
        :param lease: seconds (or a timedelta) the gateway keeps the mapping; 0 is
            permanent. A gateway that takes only permanent leases (725) gets 0, with a
            :class:`~upnpy.UPnPWarning`.
        :returns: the mapping as the gateway made it.
        :raises ValidationError: for a port or protocol the gateway cannot take (nothing sent).
        :raises ActionError: for the gateway's refusal, with a plain-language hint.
        """
        chosen = internal_port if external_port in (_SAME, None) else external_port
        allow_other = any_port or external_port is None
        arguments: Dict[str, Any] = {
            "NewRemoteHost": remote_host,
            "NewExternalPort": chosen,
            "NewProtocol": protocol.upper(),
            "NewInternalPort": internal_port,
            "NewInternalClient": internal_client or self.local_address,
            "NewEnabled": True,
            "NewPortMappingDescription": description,
            "NewLeaseDuration": _seconds(lease),
        }
        try:
            self._add(arguments, allow_other)
        except ActionError as exc:
            raise _explained(exc) from None
        return PortMapping(
            remote_host,
            arguments["NewExternalPort"],
            arguments["NewProtocol"],
            arguments["NewInternalClient"],
            internal_port,
            True,
            description,
            arguments["NewLeaseDuration"],
            self._external_ip_or_empty(),
        )

    def _add(self, arguments: Dict[str, Any], allow_other: bool) -> None:
        """AddPortMapping, with the fallbacks for 725 and (when allowed) 718; *arguments* is
        updated with what the gateway granted."""
        try:
            self.connection.AddPortMapping(**arguments)
            return
        except ActionError as exc:
            if exc.code == 725 and arguments["NewLeaseDuration"] != 0:
                warnings.warn(
                    f"the gateway only accepts permanent leases (725): port "
                    f"{arguments['NewExternalPort']} is mapped with lease 0; it is removed "
                    "only when you delete it",
                    UPnPWarning,
                    stacklevel=4,
                )
                arguments["NewLeaseDuration"] = 0
                self.connection.AddPortMapping(**arguments)
                return
            if exc.code != 718 or not allow_other:
                raise
            if "AddAnyPortMapping" not in self.connection.actions:
                raise
        granted = self.connection.AddAnyPortMapping(**arguments)
        # UDA names the port NewReservedPort; miniupnpd's SCPD calls it NewExternalPort.
        reserved = granted.get("NewReservedPort", granted.get("NewExternalPort"))
        if isinstance(reserved, int) or (isinstance(reserved, str) and reserved.isdigit()):
            arguments["NewExternalPort"] = int(reserved)  # an extra out-argument stays text
        else:
            log.warning("%r: AddAnyPortMapping did not say which port it gave", self)

    def delete_port_mapping(
        self, external_port: int, protocol: str = "TCP", remote_host: str = ""
    ) -> None:
        """Remove the mapping of *external_port*.

        :raises ActionError: 714 when there is none (some gateways report success anyway).
        """
        try:
            self.connection.DeletePortMapping(remote_host, external_port, protocol.upper())
        except ActionError as exc:
            raise _explained(exc) from None

    def forward(
        self,
        internal_port: int,
        protocol: str = "TCP",
        *,
        lease: Union[int, float, datetime.timedelta] = 600,
        **options: Any,
    ) -> Forwarding:
        """Map a port now, keep it alive, and remove it when the ``with`` block ends::

            with gw.forward(8080) as mapping:
                print("reachable at", mapping.external_address)
                serve_forever()

        The lease is renewed in the background at half its time; a mapping the gateway lost
        (a reboot) is made again; it is removed when the block exits — also on an exception
        or Ctrl-C — and at interpreter exit for one still open. The other options are those
        of :meth:`add_port_mapping`.

        :raises ActionError: when the gateway refuses the mapping (before the block runs).
        """
        seconds = _seconds(lease)
        mapping = self.add_port_mapping(internal_port, protocol, lease=seconds, **options)
        return Forwarding(self, mapping)

    def _external_ip_or_empty(self) -> str:
        try:
            return self.external_ip
        except UPnPError as exc:
            log.debug("%r: no external address: %s", self, exc)
            return ""

    def close(self) -> None:
        """Close the gateway's device connections (idempotent)."""
        self.device.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<Gateway {self.device.friendly_name!r} {self.connection.name}:"
            f"{self.connection.version} at {self.device.location}>"
        )


class Forwarding:
    """A port mapping kept alive in the background; made by :meth:`Gateway.forward`.

    A context manager: leaving the block removes the mapping. :attr:`mapping` is the current
    :class:`PortMapping`; its attributes are readable here too (``fw.external_address``).
    """

    def __init__(self, gateway: Gateway, mapping: PortMapping) -> None:
        self.gateway = gateway
        self.mapping = mapping
        self._lock = threading.Lock()
        self._closed = False
        manager.add(self)
        self._schedule(_renewal_delay(mapping.lease))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "mapping":  # not there yet: no recursion
            raise AttributeError(name)
        return getattr(self.mapping, name)

    def _schedule(self, delay: Optional[float]) -> None:
        if delay is not None:
            manager.schedule(self, delay, self._renew)

    def _renew(self) -> None:  # the scheduler thread
        with self._lock:
            if self._closed:
                return
            mapping = self.mapping
            try:
                self.gateway.connection.AddPortMapping(
                    mapping.remote_host,
                    mapping.external_port,
                    mapping.protocol,
                    mapping.internal_port,
                    mapping.internal_client,
                    True,
                    mapping.description,
                    mapping.lease,
                )
            except UPnPError as exc:  # retried, never in a busy loop
                log.warning("%r: renewal failed (%s); trying again in %g s", self, exc, RETRY)
                self._schedule(RETRY)
                return
        log.debug("%r: renewed", self)
        self._schedule(_renewal_delay(mapping.lease))

    def remove(self) -> None:
        """Remove the mapping from the gateway and stop renewing it (idempotent)."""
        self._close(None)

    close = remove

    def _close(self, timeout: Optional[float]) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            mapping = self.mapping
            self.gateway.delete_port_mapping(
                mapping.external_port, mapping.protocol, mapping.remote_host
            )
        except UPnPError as exc:
            log.warning("%r: could not remove the mapping: %s", self, exc)
        finally:
            manager.remove(self)

    def __enter__(self) -> PortMapping:
        return self.mapping

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        m = self.mapping
        inside = f"{m.internal_client}:{m.internal_port}"
        return f"<Forwarding {m.protocol} {m.external_port} -> {inside}>"


@contextlib.contextmanager
def forward(
    internal_port: int,
    protocol: str = "TCP",
    *,
    timeout: float = 2.0,
    **options: Any,
) -> Iterator[PortMapping]:
    """Find the gateway, forward *internal_port* through it, and clean up on exit::

        with upnpy.forward(8080) as mapping:
            serve_forever()

    :param timeout: seconds to look for the gateway (see :meth:`Gateway.find`).
    :raises GatewayNotFound: when no gateway answers.
    :raises ActionError: when the gateway refuses the mapping (before the block runs).
    """
    with Gateway.find(timeout) as gateway, gateway.forward(internal_port, protocol, **options) as m:
        yield m


# -- helpers ---------------------------------------------------------------------------------

_LISTING_FIELDS = (
    "RemoteHost",
    "ExternalPort",
    "Protocol",
    "InternalPort",
    "InternalClient",
    "Enabled",
    "Description",
    "LeaseTime",
)


def _connections(device: Device) -> List[Service]:
    """Every connection service in the device tree (all WANConnectionDevices), best type
    first: WANIPConnection:2, :1, WANPPPConnection:1."""
    found = [
        (CONNECTION_SERVICES.index(kind), service)
        for service in device.all_services
        for kind in [f"{service.name}:{service.version}"]
        if kind in CONNECTION_SERVICES
    ]
    return [service for _, service in sorted(found, key=lambda pair: pair[0])]


def _connection_of(device: Device) -> Service:
    """The best connection service by type anywhere in the device tree."""
    found = _connections(device)
    if not found:
        raise GatewayNotFound(
            f"{device.friendly_name!r} has no WANIPConnection or WANPPPConnection service"
        )
    return found[0]


def _describe(location: str, timeout: float) -> Optional[Tuple[int, Gateway]]:
    """A found gateway and its rank, or ``None`` when it cannot be used (logged)."""
    try:
        device = Device(location, timeout=timeout)
    except UPnPError as exc:
        log.info("Gateway.find: left out %s: %s", location, exc)
        return None
    try:
        best: Optional[Tuple[int, Gateway]] = None
        for connection in _connections(device):  # by type, best first: ties keep the first
            gateway = Gateway(device, connection)
            try:
                status = gateway.status
                rank = _rank(status.external_ip, status.connected)
            except UPnPError as exc:
                log.info("Gateway.find: %s does not report its status: %s", location, exc)
                rank = 0
            if best is None or rank > best[0]:
                best = (rank, gateway)
        if best is None:
            log.info("Gateway.find: left out %s: no connection service", location)
            device.close()
        return best
    except BaseException:
        device.close()
        raise


def _renewal_delay(lease: int) -> Optional[float]:
    """Renew at half the lease (never more often than every 2 s); a permanent one: never."""
    return None if lease == 0 else max(lease / 2, 2.0)


def _mapping(entry: Dict[str, Any], external_ip: str) -> PortMapping:
    """A PortMapping from the out-arguments of a port-mapping entry (values may be text)."""

    def number(name: str) -> int:
        value = entry.get(name)
        try:
            return int(value) if value not in (None, "") else 0
        except (TypeError, ValueError):
            return 0

    enabled = entry.get("NewEnabled")
    return PortMapping(
        remote_host=str(entry.get("NewRemoteHost") or ""),
        external_port=number("NewExternalPort"),
        protocol=str(entry.get("NewProtocol") or ""),
        internal_client=str(entry.get("NewInternalClient") or ""),
        internal_port=number("NewInternalPort"),
        enabled=enabled if isinstance(enabled, bool) else str(enabled).strip() in ("1", "true"),
        description=str(entry.get("NewPortMappingDescription", entry.get("NewDescription")) or ""),
        lease=number("NewLeaseDuration") or number("NewLeaseTime"),
        external_ip=external_ip,
    )


def _explained(exc: ActionError) -> ActionError:
    """*exc* with a plain-language hint for the IGD faults an application meets."""
    hint = HINTS.get(exc.code or 0)
    if hint is None:
        return exc
    error = ActionError(exc.code, f"{exc.description} ({hint})".lstrip(), action=exc.action)
    error.cause = exc
    return error
