#!/usr/bin/env python3
"""Emulated UPnP devices for the lab: one process, one root device per IPv4 address.

Each address given is a separate root device, a ``BinaryLight:1`` with one ``SwitchPower:1``
service (``GetStatus`` → ``ResultStatus``, a boolean; ``GetTarget``; ``SetTarget``):

- UDN ``uuid:00000000-0000-4000-8000-<the address as 12 hex digits>`` (stable: derived from the
  address), friendlyName ``"<--name-prefix> <address>"``;
- SSDP: one UDP socket on ``0.0.0.0:1900`` joined to 239.255.255.250 on ``--interface``, with
  ``IP_PKTINFO``: the destination of each M-SEARCH tells which devices were asked (all of them
  for the multicast group, one for a unicast search), and every answer leaves *from* the address
  of the device that answers (``sendmsg`` with ``IP_PKTINFO``'s source address). Answers to
  ``ssdp:all``, ``upnp:rootdevice``, the UDN, the device type and the service type (lower
  versions too), unicast to the requester after a random delay up to ``min(MX, 1)`` s, with
  CACHE-CONTROL, LOCATION ``http://<address>:<port>/desc.xml``, SERVER, ST, USN, EXT,
  BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG;
- NOTIFY ``ssdp:alive`` (root device, UDN, device type, service type) from each address at start
  and every ``--notify-interval`` seconds (default: max-age / 2), multicast to
  239.255.255.250:1900; ``ssdp:byebye`` for each on SIGTERM or SIGINT, then exit status 0.
  SIGKILL leaves no byebye (a device that vanished);
- HTTP on one socket ``0.0.0.0:<port>``: ``GET /desc.xml``, ``GET /scpd.xml``, ``POST /control``
  (SOAP). The device is the local address of the accepted connection (else the Host header).
  Connections are kept alive (HTTP/1.1) and closed after 30 s idle; past ``--max-connections``
  the longest idle is closed first, so the process stays within its file limit.

Standard library only, a ``selectors`` loop, no threads; 2000 addresses need 3 sockets plus the
open HTTP connections, so ``ulimit -n 1024`` is plenty. The addresses must be local to the
namespace it runs in (the lab's ``P-emu`` or ``P-crowd``). ``--ready-file`` is written (JSON:
pid, port, devices) once every socket is bound and the first NOTIFY burst is out.

Usage::

    python3 lab/responder.py --addresses 10.77.0.6 --http-port 8300 --max-age 5 \\
        --bootid 1 --configid 1 --name-prefix "upnpy emu" --ready-file /tmp/emu.ready

``--addresses`` takes a comma-separated list of addresses and ranges (``10.77.16.1-10.77.16.9``,
every address from the first to the last), or ``@FILE`` (or the path of a file): one address or
range a line.
"""

from __future__ import annotations

import argparse
import errno
import heapq
import ipaddress
import json
import os
import random
import resource
import selectors
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from xml.sax.saxutils import escape

SSDP_GROUP = "239.255.255.250"
SSDP_PORT = 1900
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux's value; Python 3.11 does not export it
DEVICE_TYPE = "urn:schemas-upnp-org:device:BinaryLight:1"
SERVICE_TYPE = "urn:schemas-upnp-org:service:SwitchPower:1"
SERVICE_ID = "urn:upnp-org:serviceId:SwitchPower"
SERVER = "Linux/6 UPnP/1.1 upnpy-lab-responder/1.0"
MAX_REQUEST = 65536
IDLE_SECONDS = 30.0
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def parse_addresses(spec: str) -> List[str]:
    """The addresses *spec* names, in order, without repeats.

    :param spec: ``a,b,c-d``; ``@FILE`` or an existing file's path: one item a line.
    :raises ValueError: for a bad address or range, or an empty list.
    """
    if spec.startswith("@") or os.path.isfile(spec):
        with open(spec.removeprefix("@"), encoding="ascii") as listing:
            items = [line.strip() for line in listing]
    else:
        items = [item.strip() for item in spec.split(",")]
    found: Dict[str, None] = {}
    for item in filter(None, items):
        first, _, last = item.partition("-")
        low = ipaddress.IPv4Address(first.strip())
        high = ipaddress.IPv4Address(last.strip()) if last else low
        if high < low or int(high) - int(low) > 65535:
            raise ValueError(f"bad address range {item!r}")
        for number in range(int(low), int(high) + 1):
            found[str(ipaddress.IPv4Address(number))] = None
    if not found:
        raise ValueError("no address given")
    return list(found)


def udn_for(address: str) -> str:
    """The stable UDN of the device at *address*: ``uuid:00000000-0000-4000-8000-<hex>``."""
    return f"uuid:00000000-0000-4000-8000-{int(ipaddress.IPv4Address(address)):012x}"


@dataclass
class Emulated:
    """One emulated root device."""

    address: str
    port: int
    name: str
    udn: str = ""
    status: bool = False
    description: bytes = b""

    def __post_init__(self) -> None:
        self.udn = udn_for(self.address)
        self.description = description_xml(self.name, self.udn).encode()

    @property
    def location(self) -> str:
        return f"http://{self.address}:{self.port}/desc.xml"

    def targets(self) -> List[Tuple[str, str]]:
        """``(NT/ST, USN)`` of each announcement: root device, UDN, device and service type."""
        return [
            ("upnp:rootdevice", f"{self.udn}::upnp:rootdevice"),
            (self.udn, self.udn),
            (DEVICE_TYPE, f"{self.udn}::{DEVICE_TYPE}"),
            (SERVICE_TYPE, f"{self.udn}::{SERVICE_TYPE}"),
        ]


def description_xml(name: str, udn: str) -> str:
    return (
        '<?xml version="1.0"?>\n<root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
        f"<deviceType>{DEVICE_TYPE}</deviceType><friendlyName>{escape(name)}</friendlyName>"
        "<manufacturer>upnpy lab</manufacturer><modelName>responder</modelName>"
        f"<UDN>{udn}</UDN><serviceList><service><serviceType>{SERVICE_TYPE}</serviceType>"
        f"<serviceId>{SERVICE_ID}</serviceId><SCPDURL>/scpd.xml</SCPDURL>"
        "<controlURL>/control</controlURL><eventSubURL>/event</eventSubURL></service>"
        "</serviceList></device></root>\n"
    )


SCPD = (
    b'<?xml version="1.0"?>\n<scpd xmlns="urn:schemas-upnp-org:service-1-0">'
    b"<specVersion><major>1</major><minor>0</minor></specVersion><actionList>"
    b"<action><name>GetStatus</name><argumentList><argument><name>ResultStatus</name>"
    b"<direction>out</direction><relatedStateVariable>Status</relatedStateVariable>"
    b"</argument></argumentList></action>"
    b"<action><name>GetTarget</name><argumentList><argument><name>RetTargetValue</name>"
    b"<direction>out</direction><relatedStateVariable>Target</relatedStateVariable>"
    b"</argument></argumentList></action>"
    b"<action><name>SetTarget</name><argumentList><argument><name>newTargetValue</name>"
    b"<direction>in</direction><relatedStateVariable>Target</relatedStateVariable>"
    b"</argument></argumentList></action></actionList><serviceStateTable>"
    b'<stateVariable sendEvents="no"><name>Target</name><dataType>boolean</dataType>'
    b"<defaultValue>0</defaultValue></stateVariable>"
    b'<stateVariable sendEvents="yes"><name>Status</name><dataType>boolean</dataType>'
    b"<defaultValue>0</defaultValue></stateVariable></serviceStateTable></scpd>\n"
)


def matches(st: str, target: str) -> bool:
    """Whether a search for *st* finds the announcement *target* (a lower version finds it)."""
    if st == target:
        return True
    if st.startswith("urn:") and target.startswith("urn:"):
        base, _, version = st.rpartition(":")
        have_base, _, have = target.rpartition(":")
        return base == have_base and version.isdigit() and int(version) <= int(have)
    return False


def soap_envelope(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<s:Envelope xmlns:s="{SOAP_NS}" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
        f"<s:Body>{body}</s:Body></s:Envelope>\n"
    ).encode()


def soap_fault(code: int, text: str) -> bytes:
    return soap_envelope(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0">'
        f"<errorCode>{code}</errorCode><errorDescription>{text}</errorDescription>"
        "</UPnPError></detail></s:Fault>"
    )


@dataclass
class Connection:
    """One accepted HTTP connection."""

    sock: socket.socket
    local: str
    received: bytes = b""
    pending: bytes = b""
    close_after: bool = False
    active: float = field(default_factory=time.monotonic)


class Responder:
    """The event loop: SSDP, HTTP and timers for every emulated device."""

    def __init__(self, args: argparse.Namespace, addresses: List[str]) -> None:
        self.args = args
        self.devices = {
            address: Emulated(address, args.http_port, f"{args.name_prefix} {address}")
            for address in addresses
        }
        self.selector = selectors.DefaultSelector()
        self.connections: Dict[int, Connection] = {}
        self.answers: List[Tuple[float, int, bytes, str, Tuple[str, int]]] = []  # a heap
        self.sequence = 0
        self.stopping = False
        self.ifindex = socket.if_nametoindex(args.interface)
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.max_connections = max(8, min(args.max_connections, soft - 16))
        self.ssdp = self._ssdp_socket()
        self.http = socket.create_server(("0.0.0.0", args.http_port), backlog=1024)
        self.http.setblocking(False)
        self.wakeup, self._signal_fd = socket.socketpair()
        for sock in (self.wakeup, self._signal_fd):
            sock.setblocking(False)
        self.selector.register(self.ssdp, selectors.EVENT_READ, "ssdp")
        self.selector.register(self.http, selectors.EVENT_READ, "listen")
        self.selector.register(self.wakeup, selectors.EVENT_READ, "signal")

    def _ssdp_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind(("0.0.0.0", SSDP_PORT))
        sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        membership = struct.pack("4s4si", socket.inet_aton(SSDP_GROUP), bytes(4), self.ifindex)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setblocking(False)
        return sock

    # --- SSDP ------------------------------------------------------------------------------

    def _send(self, data: bytes, source: str, destination: Tuple[str, int]) -> bool:
        """Send one datagram from *source*; ``False`` when the socket buffer is full."""
        ifindex = self.ifindex if destination[0] == SSDP_GROUP else 0
        info = struct.pack("i4s4s", ifindex, socket.inet_aton(source), bytes(4))
        try:
            self.ssdp.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, info)], 0, destination)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:  # e.g. the requester's address is unreachable: drop it
            if exc.errno in (errno.ENOBUFS, errno.EAGAIN):
                return False
            print(f"responder: send from {source} to {destination}: {exc}", file=sys.stderr)
        return True

    def _queue(self, when: float, data: bytes, source: str, destination: Tuple[str, int]) -> None:
        self.sequence += 1
        heapq.heappush(self.answers, (when, self.sequence, data, source, destination))

    def notify(self, nts: str) -> None:
        """Queue NOTIFY *nts* (``ssdp:alive`` or ``ssdp:byebye``) of every device, at once."""
        now = time.monotonic()
        for device in self.devices.values():
            for nt, usn in device.targets():
                lines = [
                    "NOTIFY * HTTP/1.1",
                    f"HOST: {SSDP_GROUP}:{SSDP_PORT}",
                    f"NT: {nt}",
                    f"NTS: {nts}",
                    f"USN: {usn}",
                    f"BOOTID.UPNP.ORG: {self.args.bootid}",
                    f"CONFIGID.UPNP.ORG: {self.args.configid}",
                ]
                if nts == "ssdp:alive":
                    lines[2:2] = [
                        f"CACHE-CONTROL: max-age={self.args.max_age}",
                        f"LOCATION: {device.location}",
                        f"SERVER: {SERVER}",
                    ]
                data = ("\r\n".join(lines) + "\r\n\r\n").encode()
                self._queue(now, data, device.address, (SSDP_GROUP, SSDP_PORT))

    def _search_response(self, device: Emulated, st: str, usn: str) -> bytes:
        lines = [
            "HTTP/1.1 200 OK",
            f"CACHE-CONTROL: max-age={self.args.max_age}",
            "DATE: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
            "EXT:",
            f"LOCATION: {device.location}",
            f"SERVER: {SERVER}",
            f"ST: {st}",
            f"USN: {usn}",
            f"BOOTID.UPNP.ORG: {self.args.bootid}",
            f"CONFIGID.UPNP.ORG: {self.args.configid}",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _read_ssdp(self) -> None:
        for _ in range(256):
            try:
                data, ancillary, _, sender = self.ssdp.recvmsg(8192, socket.CMSG_SPACE(12))
            except (BlockingIOError, InterruptedError):
                return
            destination = ""
            for level, kind, value in ancillary:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(value) >= 12:
                    destination = socket.inet_ntoa(value[8:12])
            self._handle_search(data, destination, sender)

    def _handle_search(self, data: bytes, destination: str, sender: Tuple[str, int]) -> None:
        try:
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        except ValueError:
            return
        if not head or head[0].split()[:2] != ["M-SEARCH", "*"]:
            return
        headers = {}
        for line in head[1:]:
            name, colon, value = line.partition(":")
            if colon:
                headers.setdefault(name.strip().upper(), value.strip())
        if headers.get("MAN", "").strip('"') != "ssdp:discover":
            return
        st = headers.get("ST", "")
        if destination == SSDP_GROUP:
            mx = headers.get("MX", "")
            if not mx.isdigit():
                return  # UDA: a multicast search without a valid MX is ignored
            spread = min(int(mx), 1)
            devices = list(self.devices.values())
        else:
            spread = 0
            devices = [self.devices[destination]] if destination in self.devices else []
        now = time.monotonic()
        for device in devices:
            for target, usn in device.targets():
                if st == "ssdp:all" or matches(st, target):
                    answer = self._search_response(device, target if st == "ssdp:all" else st, usn)
                    self._queue(now + random.uniform(0, spread), answer, device.address, sender)

    def _flush(self) -> float:
        """Send what is due; the seconds until the next datagram is due (or an hour)."""
        now = time.monotonic()
        while self.answers and self.answers[0][0] <= now:
            _, _, data, source, destination = self.answers[0]
            if not self._send(data, source, destination):
                return 0.005  # buffer full: try again soon
            heapq.heappop(self.answers)
        return self.answers[0][0] - now if self.answers else 3600.0

    # --- HTTP ------------------------------------------------------------------------------

    def _accept(self) -> None:
        for _ in range(64):
            if len(self.connections) >= self.max_connections:
                oldest = min(self.connections.values(), key=lambda conn: conn.active)
                self._close(oldest)
            try:
                sock, _ = self.http.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: close an idle one next round
                print(f"responder: accept: {exc}", file=sys.stderr)
                if self.connections:
                    self._close(min(self.connections.values(), key=lambda conn: conn.active))
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, sock.getsockname()[0])
            self.connections[sock.fileno()] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _close(self, conn: Connection) -> None:
        self.connections.pop(conn.sock.fileno(), None)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _serve(self, conn: Connection, events: int) -> None:
        conn.active = time.monotonic()
        if events & selectors.EVENT_READ:
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                chunk = None
            except OSError:
                chunk = b""
            if chunk == b"":
                self._close(conn)
                return
            if chunk:
                conn.received += chunk
            while not conn.close_after and (response := self._next_request(conn)) is not None:
                conn.pending += response
        if conn.pending:
            try:
                sent = conn.sock.send(conn.pending)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._close(conn)
                return
            conn.pending = conn.pending[sent:]
        if not conn.pending and conn.close_after:
            self._close(conn)
            return
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.pending else 0)
        self.selector.modify(conn.sock, wanted, conn)

    def _next_request(self, conn: Connection) -> Optional[bytes]:
        """The response to the first complete request in *conn*'s buffer, or ``None``."""
        end = conn.received.find(b"\r\n\r\n")
        if end < 0:
            if len(conn.received) > MAX_REQUEST:
                conn.close_after = True
                return self._response(413, "text/plain", b"request too large\n", close=True)
            return None
        lines = conn.received[:end].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST:
            conn.close_after = True
            return self._response(400, "text/plain", b"bad Content-Length\n", close=True)
        if len(conn.received) < end + 4 + length:
            return None
        body = conn.received[end + 4 : end + 4 + length]
        conn.received = conn.received[end + 4 + length :]
        parts = lines[0].split()
        method, path, version = ([*parts, "", "", ""])[:3]
        connection = headers.get("connection", "").lower()
        conn.close_after = connection == "close" or (
            version == "HTTP/1.0" and connection != "keep-alive"
        )
        device = self.devices.get(conn.local) or self.devices.get(
            headers.get("host", "").rsplit(":", 1)[0]
        )
        status, kind, content = self._route(method, path, headers, body, device)
        return self._response(status, kind, content, close=conn.close_after, head=method == "HEAD")

    def _route(
        self,
        method: str,
        path: str,
        headers: Dict[str, str],
        body: bytes,
        device: Optional[Emulated],
    ) -> Tuple[int, str, bytes]:
        xml = 'text/xml; charset="utf-8"'
        if device is None:
            return 404, "text/plain", b"no device at this address\n"
        if method in ("GET", "HEAD") and path == "/desc.xml":
            return 200, xml, device.description
        if method in ("GET", "HEAD") and path == "/scpd.xml":
            return 200, xml, SCPD
        if method == "POST" and path == "/control":
            return self._control(device, headers.get("soapaction", "").strip('"'), body)
        if path in ("/desc.xml", "/scpd.xml", "/control"):
            return 405, "text/plain", b"method not allowed\n"
        return 404, "text/plain", b"not found\n"

    def _control(self, device: Emulated, soapaction: str, body: bytes) -> Tuple[int, str, bytes]:
        xml = 'text/xml; charset="utf-8"'
        service, _, action = soapaction.partition("#")
        if service != SERVICE_TYPE:
            return 500, xml, soap_fault(401, "Invalid Action")
        response = f'<u:{action}Response xmlns:u="{SERVICE_TYPE}">'
        if action == "GetStatus":
            value = "1" if device.status else "0"
            return (
                200,
                xml,
                soap_envelope(
                    f"{response}<ResultStatus>{value}</ResultStatus></u:{action}Response>"
                ),
            )
        if action == "GetTarget":
            value = "1" if device.status else "0"
            return (
                200,
                xml,
                soap_envelope(
                    f"{response}<RetTargetValue>{value}</RetTargetValue></u:{action}Response>"
                ),
            )
        if action == "SetTarget":
            text = body.decode("utf-8", "replace")
            start = text.find("<newTargetValue>")
            stop = text.find("</newTargetValue>")
            value = text[start + 16 : stop].strip().lower() if 0 <= start < stop else ""
            if value not in ("0", "1", "true", "false", "yes", "no"):
                return 500, xml, soap_fault(402, "Invalid Args")
            device.status = value in ("1", "true", "yes")
            return 200, xml, soap_envelope(f"{response}</u:{action}Response>")
        return 500, xml, soap_fault(401, "Invalid Action")

    @staticmethod
    def _response(status: int, kind: str, content: bytes, close: bool, head: bool = False) -> bytes:
        reason = {
            200: "OK",
            400: "Bad Request",
            404: "Not Found",
            405: "Method Not Allowed",
            413: "Payload Too Large",
            500: "Internal Server Error",
        }[status]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Content-Type: {kind}",
            f"Content-Length: {len(content)}",
            f"Server: {SERVER}",
            "EXT:",
        ]
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head else content)

    # --- the loop --------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> None:
        signal.set_wakeup_fd(self._signal_fd.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        interval = self.args.notify_interval or self.args.max_age / 2
        self.notify("ssdp:alive")
        self._drain(deadline=time.monotonic() + 10)
        next_notify = time.monotonic() + interval
        if self.args.ready_file:
            ready = {"pid": os.getpid(), "port": self.args.http_port, "devices": len(self.devices)}
            temporary = f"{self.args.ready_file}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as out:
                json.dump(ready, out)
            os.replace(temporary, self.args.ready_file)
        next_sweep = time.monotonic() + IDLE_SECONDS
        while not self.stopping:
            wait = min(self._flush(), next_notify - time.monotonic(), 1.0)
            for key, events in self.selector.select(max(wait, 0.0)):
                if key.data == "ssdp":
                    self._read_ssdp()
                elif key.data == "listen":
                    self._accept()
                elif key.data == "signal":
                    try:
                        self.wakeup.recv(64)
                    except (BlockingIOError, InterruptedError):
                        pass
                elif key.fileobj.fileno() in self.connections:
                    self._serve(key.data, events)
            now = time.monotonic()
            if now >= next_notify:
                self.notify("ssdp:alive")
                next_notify = now + interval
            if now >= next_sweep:
                for conn in list(self.connections.values()):
                    if now - conn.active > IDLE_SECONDS:
                        self._close(conn)
                next_sweep = now + IDLE_SECONDS / 3
        self.answers.clear()  # answers not sent yet are moot: the devices are leaving
        self.notify("ssdp:byebye")
        self._drain(deadline=time.monotonic() + 10)

    def _drain(self, deadline: float) -> None:
        """Send every datagram queued and due, waiting on a full buffer, until *deadline*."""
        while self.answers and self.answers[0][0] <= time.monotonic() < deadline:
            if self._flush() == 0.005:
                time.sleep(0.002)

    def close(self) -> None:
        for conn in list(self.connections.values()):
            self._close(conn)
        self.selector.close()
        for sock in (self.ssdp, self.http, self.wakeup, self._signal_fd):
            sock.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addresses", required=True, help="a,b,c-d or @FILE (see above)")
    parser.add_argument("--interface", default="lan0", help="where to join 239.255.255.250")
    parser.add_argument("--http-port", type=int, default=8300)
    parser.add_argument("--max-age", type=int, default=1800, help="CACHE-CONTROL max-age (s)")
    parser.add_argument("--bootid", type=int, default=1)
    parser.add_argument("--configid", type=int, default=1)
    parser.add_argument("--name-prefix", default="upnpy emu")
    parser.add_argument(
        "--notify-interval",
        type=float,
        default=0.0,
        help="seconds between ssdp:alive rounds (default: max-age / 2)",
    )
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--ready-file", default="")
    args = parser.parse_args(argv)
    addresses = parse_addresses(args.addresses)
    responder = Responder(args, addresses)
    try:
        responder.run()
    finally:
        responder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
