"""Test doubles shared by the loopback tests: one fake UPnP device, and the messages it sends.

:class:`FakeDevice` serves on 127.0.0.1 (through :class:`servers.LoopbackServer`):

- ``GET``: the document stored at that path in ``documents``, else 404;
- ``POST``: the canned SOAP answer chosen for (control path, action) with :meth:`answer` or
  ``answers``, else UPnP fault 401 (Invalid Action);
- ``SUBSCRIBE``/``UNSUBSCRIBE``: GENA, with statuses and grants the test can change; NOTIFYs go
  to the CALLBACK URL each subscriber gave (the initial event, then :meth:`event`);
- anything else: 405.

Every request is recorded server-side (:meth:`requests`), so "made no request" is counted.

    fake = FakeDevice({"/desc.xml": DESCRIPTION})
    fake.answer("/ctl", SERVICE_TYPE, "GetStatus", [("ResultStatus", "1")])
    ...
    fake.close()
"""

from __future__ import annotations

import http.client
import itertools
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from servers import LoopbackServer, Reply, Request

__all__ = [
    "ENV_NS",
    "ENC_NS",
    "Canned",
    "Answer",
    "FakeDevice",
    "soap_response",
    "soap_fault",
    "propertyset",
    "notify",
    "ssdp_answer",
    "SSDPResponder",
    "LAB_DATA",
    "GATEWAY_FILES",
    "LIGHT_FILES",
    "lab_documents",
    "SWITCH",
    "light_description",
    "scpd",
    "close_unsubscribed",
]

#: Documents captured from the lab's daemons.
LAB_DATA = Path(__file__).parent / "unit" / "data" / "lab"
#: miniupnpd's IGD:2, at the paths its rootDesc.xml names.
GATEWAY_FILES = {
    "/rootDesc.xml": "gw-root.xml",
    "/L3F.xml": "gw-L3F.xml",
    "/DP.xml": "gw-DP.xml",
    "/WANCfg.xml": "gw-WANCfg.xml",
    "/WANIPCn.xml": "gw-WANIPCn.xml",
    "/WANIP6FC.xml": "gw-WANIP6FC.xml",
}
#: GUPnP's DimmableLight; its description may live anywhere, its SCPDs are under /xml/.
LIGHT_FILES = {
    "/8e2ad0a6-light/description.xml": "light-root.xml",
    "/xml/SwitchPower-scpd.xml": "light-SwitchPower.xml",
    "/xml/Dimming-scpd.xml": "light-Dimming.xml",
}


def lab_documents(files: Mapping[str, str]) -> Dict[str, bytes]:
    """The captured documents of *files* (path served at → file name), read."""
    return {path: (LAB_DATA / name).read_bytes() for path, name in files.items()}


SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"


def light_description(
    udn: str, name: str = "fake light", *, switch: bool = True, root_attributes: str = ""
) -> bytes:
    """A BinaryLight's description: with *switch*, its SwitchPower service (SCPD at
    ``/scpd.xml``, control ``/ctl``, events ``/evt``); *root_attributes* go on ``<root>``."""
    service = (
        f"<serviceList><service><serviceType>{SWITCH}</serviceType>"
        "<serviceId>urn:upnp-org:serviceId:SwitchPower:1</serviceId><SCPDURL>/scpd.xml</SCPDURL>"
        "<controlURL>/ctl</controlURL><eventSubURL>/evt</eventSubURL></service></serviceList>"
        if switch
        else ""
    )
    return f"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" {root_attributes}>
<specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>
<friendlyName>{escape(name)}</friendlyName><manufacturer>upnpy tests</manufacturer>
<modelName>fake</modelName><UDN>{udn}</UDN>{service}
</device></root>""".encode()


def scpd(
    action: str = "GetStatus",
    out: str = "ResultStatus",
    variable: str = "Status",
    data_type: str = "boolean",
) -> bytes:
    """An SCPD of one action with one out-argument, typed by one evented state variable (by
    default SwitchPower's GetStatus)."""
    return f"""<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<actionList><action><name>{action}</name><argumentList><argument><name>{out}</name>
<relatedStateVariable>{variable}</relatedStateVariable><direction>out</direction></argument>
</argumentList></action></actionList>
<serviceStateTable>
<stateVariable sendEvents="yes"><name>{variable}</name><dataType>{data_type}</dataType>
</stateVariable></serviceStateTable></scpd>""".encode()


ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENC_NS = "http://schemas.xmlsoap.org/soap/encoding/"

Canned = Tuple[int, bytes]  # (HTTP status, body)
Answer = Union[Canned, Callable[[Request], Canned]]

# --- what a device sends ---------------------------------------------------------------------


def envelope(inner: str, prefix: str = "s") -> bytes:
    """A SOAP envelope around *inner* (the Body's content), with the given prefix (or none)."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return (
        f'<?xml version="1.0"?>\r\n<{p}Envelope {xmlns}="{ENV_NS}" {p}encodingStyle="{ENC_NS}">'
        f"<{p}Body>{inner}</{p}Body></{p}Envelope>\r\n"
    ).encode()


def soap_response(service_type: str, action: str, out: Sequence[Tuple[str, str]]) -> bytes:
    """A 200 response envelope carrying *out* (name, text) pairs, escaped."""
    args = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in out)
    return envelope(f'<u:{action}Response xmlns:u="{service_type}">{args}</u:{action}Response>')


def soap_fault(code: object, description: str, prefix: str = "s") -> bytes:
    """A fault envelope carrying UPnP error *code* and *description*."""
    p = f"{prefix}:" if prefix else ""
    return envelope(
        f"<{p}Fault><faultcode>{p}Client</faultcode><faultstring>UPnPError</faultstring>"
        '<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0">'
        f"<errorCode>{code}</errorCode><errorDescription>{description}</errorDescription>"
        f"</UPnPError></detail></{p}Fault>",
        prefix,
    )


def propertyset(values: Mapping[str, str], prefix: str = "e") -> bytes:
    """A GENA NOTIFY body: one ``<property>`` for each of *values*, in order."""
    p = prefix
    props = "".join(f"<{p}:property><{k}>{v}</{k}></{p}:property>" for k, v in values.items())
    return (
        f'<?xml version="1.0"?><{p}:propertyset xmlns:{p}="urn:schemas-upnp-org:event-1-0">'
        f"{props}</{p}:propertyset>"
    ).encode()


def notify(
    url: str,
    sid: Optional[str],
    seq: Optional[object],
    body: bytes = b"",
    extra: Optional[Mapping[str, Optional[str]]] = None,
    chunked: bool = False,
) -> int:
    """Send one NOTIFY to *url*; the status answered. Headers set to ``None`` in *extra* (or a
    *sid*/*seq* of ``None``) are left out."""
    parts = urlsplit(url)
    headers: Dict[str, Optional[str]] = {
        "Content-Type": 'text/xml; charset="utf-8"',
        "NT": "upnp:event",
        "NTS": "upnp:propchange",
        "SID": sid,
        "SEQ": None if seq is None else str(seq),
    }
    headers.update(extra or {})
    sent = {k: v for k, v in headers.items() if v is not None}
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        if chunked:
            sent["Transfer-Encoding"] = "chunked"
            pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
            conn.request(
                "NOTIFY", parts.path or "/", body=iter(pieces), headers=sent, encode_chunked=True
            )
        else:
            conn.request("NOTIFY", parts.path or "/", body=body, headers=sent)
        return conn.getresponse().status
    finally:
        conn.close()


# --- the device ------------------------------------------------------------------------------

XML = {"Content-Type": 'text/xml; charset="utf-8"'}


class FakeDevice:
    """A UPnP device on 127.0.0.1 whose documents and answers the test chooses (see above).

    *documents* maps a path to the bytes served there; *initial* is the initial event sent to
    every new subscriber (SEQ 0), or ``None`` for none. A test may replace :meth:`handle` on
    the instance to intercept requests (calling the original for the rest).
    """

    def __init__(
        self,
        documents: Optional[Mapping[str, bytes]] = None,
        initial: Optional[Dict[str, str]] = None,
    ) -> None:
        self.documents: Dict[str, bytes] = dict(documents or {})
        # SOAP: (control path, action) -> (status, body), or a function of the request to one
        self.answers: Dict[Tuple[str, str], Answer] = {}
        # GENA: what the device answers, changeable at any time
        self.subscribe_status = 200
        self.renew_status = 200
        self.grant: Optional[str] = "Second-300"  # the TIMEOUT header granted, None for none
        self.initial = initial
        self.initial_first = False  # send SEQ 0 before answering the SUBSCRIBE
        self.before_answer: Optional[Callable[[str, str], None]] = None  # (sid, callback url)
        # GENA: the device's state
        self.lock = threading.Lock()
        self.callbacks: Dict[str, str] = {}  # active SID -> callback URL
        self.seqs: Dict[str, int] = {}
        self.ready: Dict[str, threading.Event] = {}  # set once the initial event went out
        self.sent: List[Tuple[str, int, int]] = []  # (sid, seq, status) of NOTIFYs sent
        self._sids = itertools.count(1)
        self.server = LoopbackServer(lambda request, reply: self.handle(request, reply))
        self.url = self.server.url

    # --- the test's side

    def answer(
        self, path: str, service_type: str, action: str, out: Sequence[Tuple[str, str]] = ()
    ) -> None:
        """Answer *action* at control *path* with these out-arguments."""
        self.answers[(path, action)] = (200, soap_response(service_type, action, out))

    def event(self, sid: str, values: Dict[str, str], seq: Optional[int] = None) -> int:
        """NOTIFY *values* to the subscriber of *sid* (next SEQ unless given), after the
        initial event has gone out; the status the library answered."""
        assert self.ready[sid].wait(5), "the initial event never went out"
        return self._send(sid, values, seq)

    def requests(self, method: Optional[str] = None, path: Optional[str] = None) -> List[Request]:
        """The requests received so far, in order; only those of *method*, *path* if given."""
        return [
            r for r in self.server.requests if method in (None, r.method) and path in (None, r.path)
        ]

    def gets(self, path: Optional[str] = None) -> List[Request]:
        return self.requests("GET", path)

    def posts(self, path: Optional[str] = None) -> List[Request]:
        return self.requests("POST", path)

    def close(self) -> None:
        self.server.close()

    # --- the device's side

    def handle(self, request: Request, reply: Reply) -> None:
        if request.method == "GET":
            document = self.documents.get(request.path)
            if document is None:
                reply.send(404, b"<html>Not Found</html>", {"Content-Type": "text/html"})
            else:
                reply.send(200, document, XML)
        elif request.method == "POST":
            self._control(request, reply)
        elif request.method == "SUBSCRIBE" and request.headers.get("SID"):
            self._renew(request, reply)
        elif request.method == "SUBSCRIBE":
            self._subscribe(request, reply)
        elif request.method == "UNSUBSCRIBE":
            with self.lock:
                known = self.callbacks.pop(request.headers.get("SID", ""), None)
            reply.send(200 if known else 412)
        else:
            reply.send(405)

    def _control(self, request: Request, reply: Reply) -> None:
        soap_action = request.headers.get("SOAPAction", "").strip('"')
        answer = self.answers.get((request.path, soap_action.rpartition("#")[2]))
        if answer is None:
            reply.send(500, soap_fault(401, "Invalid Action"), XML)
            return
        status, body = answer(request) if callable(answer) else answer
        reply.send(status, body, {**XML, "EXT": ""})

    def _renew(self, request: Request, reply: Reply) -> None:
        sid = request.headers["SID"]
        with self.lock:
            known = sid in self.callbacks
        if self.renew_status != 200 or not known:
            reply.send(self.renew_status if self.renew_status != 200 else 412)
        else:
            reply.send(200, b"", self._granted(sid))

    def _subscribe(self, request: Request, reply: Reply) -> None:
        if self.subscribe_status != 200:
            reply.send(self.subscribe_status)
            return
        sid = f"uuid:fake-{next(self._sids)}"
        with self.lock:
            self.callbacks[sid] = request.headers["CALLBACK"].strip()[1:-1]
            self.seqs[sid] = 0
            self.ready[sid] = threading.Event()
        try:
            if self.before_answer:
                self.before_answer(sid, self.callbacks[sid])
            if self.initial is not None and self.initial_first:
                self._send(sid, self.initial)
            reply.send(200, b"", self._granted(sid))
            if self.initial is not None and not self.initial_first:
                self._send(sid, self.initial)
        finally:
            self.ready[sid].set()

    def _granted(self, sid: str) -> Dict[str, str]:
        headers = {"SID": sid, "Server": "Linux/6 UPnP/1.0 fake/1"}
        if self.grant is not None:
            headers["TIMEOUT"] = self.grant
        return headers

    def _send(self, sid: str, values: Dict[str, str], seq: Optional[int] = None) -> int:
        with self.lock:
            url = self.callbacks[sid]
            if seq is None:
                seq = self.seqs[sid]
            self.seqs[sid] = seq + 1
        status = notify(url, sid, seq, propertyset(values))
        self.sent.append((sid, seq, status))
        return status


class SlowClients:
    """*count* connections to (host, port) that each send one header byte a second and never
    finish; a connection the server closes is opened again, so the flood keeps its size.

    A thread drips (joined on exit); every socket is closed on exit.
    """

    def __init__(self, host: str, port: int, count: int) -> None:
        self.address = (host, port)
        self.socks: List[socket.socket] = []
        try:
            for _ in range(count):
                self.socks.append(self._connect())
        except BaseException:
            for sock in self.socks:
                sock.close()
            raise
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, name="test-slow-clients")

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address, timeout=5.0)
        sock.sendall(b"NOTIFY /upnpy/1 HTTP/1.1\r\nX-Slow: ")
        sock.setblocking(False)
        return sock

    @staticmethod
    def _open(sock: socket.socket) -> bool:
        """Whether the server still waits on *sock* (nothing to read: no answer, no close)."""
        try:
            sock.recv(1)
        except BlockingIOError:
            return True
        except OSError:
            pass
        return False

    def _drip(self) -> None:
        while not self._stop.wait(1.0):
            for i, sock in enumerate(self.socks):
                try:
                    if self._open(sock):
                        sock.send(b"a")
                        continue
                except OSError:
                    pass
                sock.close()  # cut by the server: come back
                try:
                    self.socks[i] = self._connect()
                    self.reopened += 1
                except OSError:
                    pass

    def __enter__(self) -> SlowClients:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.socks:
            sock.close()


# --- SSDP on loopback ----------------------------------------------------------------------


def ssdp_answer(location: str, usn: str, st: str = "upnp:rootdevice", extra: str = "") -> bytes:
    """An M-SEARCH answer; *extra* is more header lines, each ending with CRLF."""
    return (
        f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: {location}\r\n"
        f"SERVER: fake/1 UPnP/1.1 fake/1\r\nST: {st}\r\nUSN: {usn}\r\n{extra}\r\n"
    ).encode()


class SSDPResponder:
    """A stand-in for the SSDP group on 127.0.0.1: answers every M-SEARCH it gets.

    *answers* gives the datagrams to send back to a sender (sent *gap* seconds apart);
    :attr:`searches` counts the M-SEARCHes. Point a search at it with
    ``monkeypatch.setattr(_ssdp, "SSDP_GROUP", ("127.0.0.1", responder.port))`` and
    ``interfaces=["127.0.0.1"]``.
    """

    def __init__(
        self, answers: Callable[[Tuple[str, int]], Sequence[bytes]], gap: float = 0.0
    ) -> None:
        self.answers = answers
        self.gap = gap
        self.searches = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ssdp-responder")
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data.startswith(b"M-SEARCH"):
                continue
            self.searches += 1
            for answer in self.answers(sender):
                self.sock.sendto(answer, sender)
                if self.gap:
                    time.sleep(self.gap)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def close_unsubscribed(fake: FakeDevice) -> None:
    """Close *fake*; fail the test if a subscription of upnpy's was left active (they are
    cancelled first, so that the next test starts clean)."""
    from upnpy._manager import manager

    leftover = list(manager.owners)
    if leftover:
        manager.shutdown()
    fake.close()
    assert not leftover, f"subscriptions left active: {leftover}"
