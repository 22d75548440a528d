"""The hostile corpus (issue 9): every input of tests/corpus/ against its parser or exchange.

Each case names its surface (description, scpd, soap, ssdp, notify, didl), how it is run (a pure
parser, or a loopback exchange through tests/servers.py) and its expected outcome: the robust
result, or the upnpy error a refusal must be. Every case also runs under a time budget and a
memory cap, and must leave no thread, file descriptor or unclosed socket behind; any
exception other than the expected one fails with the case's name. The manifest format is in
tests/corpus/README.md; large inputs (bombs, 10,000 services) are generated here, not stored.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import signal
import socket
import struct
import threading
import time
import traceback
import warnings
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import pytest
from fakes import FakeDevice
from servers import LoopbackServer, Reply, Request

import upnpy
from upnpy import _description, _didl, _exceptions, _gena, _gena_server, _soap, _ssdp
from upnpy._records import StateVariableInfo
from upnpy._transport import RequestsTransport, SocketTransport, Transport

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SURFACES = ("description", "scpd", "soap", "ssdp", "notify", "didl")

#: Seconds one case may take; memory it may add to the process's peak resident size.
BUDGET = 10.0
MEMORY_CAP = 200 << 20
#: Where pure parses pretend the document came from.
LOCATION = "http://127.0.0.1:49152/desc.xml"
ADDRESS = ("127.0.0.1", 1900)
SERVICE_TYPE = "urn:schemas-upnp-org:service:CorpusService:1"
SID = "uuid:corpus-1"

#: The error classes a manifest may name.
ERRORS: Dict[str, type] = {
    "UPnPError": upnpy.UPnPError,
    "DescriptionError": upnpy.DescriptionError,
    "TransportError": upnpy.TransportError,
    "TransportTimeout": upnpy.TransportTimeout,
    "ActionError": upnpy.ActionError,
    "ValidationError": upnpy.ValidationError,
    "NotifyRejected": _gena.NotifyRejected,
    "ValueError": ValueError,
    "DIDLError": upnpy.DIDLError,
}
#: Low-level classes that must never reach a caller (upnpy._errors translates them).
INTERNAL = (_exceptions.XMLError, _exceptions.FramingError)


class CaseTimeout(BaseException):
    """The case ran past its budget (a BaseException: no ``except Exception`` swallows it)."""


# -- inputs -----------------------------------------------------------------------------------

_REPEAT = re.compile(r"\{\{rep:(.*?):(\d+)\}\}", re.DOTALL)


def expand(text: str) -> str:
    """``{{rep:X:N}}`` becomes X repeated N times (deep nesting, huge names, long numbers)."""
    return _REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), text)


@lru_cache(maxsize=4)
def gzip_bomb(megabytes: int = 600) -> bytes:
    """A valid gzip stream of *megabytes* MiB of zeros, built without holding them (~0.2 s).

    A block of zeros compressed after a sync flush, with the window already full of zeros,
    decodes to the same zeros wherever it is repeated; so the stream is one block, the same
    second block repeated, and the trailer (CRC-32 and size of the whole).
    """
    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    end = deflate.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + first + again * (megabytes - 1) + end + trailer


def numbered(spec: Mapping[str, Any]) -> bytes:
    """``prefix``, then ``template`` with ``{i}`` = 0, 1, ... ``count`` - 1, then ``suffix``:
    many *distinct* items (attributes, allowed values, variables)."""
    items = "".join(spec["template"].replace("{i}", str(i)) for i in range(int(spec["count"])))
    return (expand(spec.get("prefix", "")) + items + expand(spec.get("suffix", ""))).encode()


GENERATORS: Dict[str, Callable[[Mapping[str, Any]], bytes]] = {
    "gzip_bomb": lambda spec: gzip_bomb(int(spec.get("megabytes", 600))),
    "numbered": numbered,
}


def data_of(spec: Any, surface: str) -> bytes:
    """The bytes an input spec stands for (see tests/corpus/README.md)."""
    if isinstance(spec, str):
        spec = {"text": spec}
    if "file" in spec:
        raw = (CORPUS / surface / spec["file"]).read_bytes()
        return expand(raw.decode("utf-8")).encode("utf-8") if spec.get("expand") else raw
    if "text" in spec:
        return expand(spec["text"]).encode(spec.get("encoding", "utf-8"), "surrogatepass")
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "gen" in spec:
        return GENERATORS[spec["gen"]](spec)
    if "concat" in spec:
        return b"".join(data_of(part, surface) for part in spec["concat"])
    raise ValueError(f"unknown input spec {spec!r}")


def header_bytes(lines: List[str]) -> bytes:
    """A head of HTTP lines as a device would send it: Latin-1 where possible (``²`` is one
    byte, 0xB2), UTF-8 otherwise."""
    text = "\r\n".join(lines) + "\r\n\r\n"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def has_framing(headers: List[Tuple[str, str]]) -> bool:
    return any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers)


def http_message(first: str, spec: Mapping[str, Any], surface: str, default_body: bytes) -> bytes:
    """A whole HTTP message: *first* line, the spec's ``headers`` pairs (expanded), a
    Content-Length unless the spec frames the body itself (or ``no_length``), the body."""
    if "raw" in spec:
        return data_of(spec["raw"], surface)
    body = data_of(spec["body"], surface) if "body" in spec else default_body
    headers = [(name, expand(value)) for name, value in spec.get("headers", [])]
    if not has_framing(headers) and not spec.get("no_length"):
        headers.append(("Content-Length", str(len(body))))
    return header_bytes([first] + [f"{name}: {value}" for name, value in headers]) + body


def new_session() -> Any:
    """A requests session as a user would hand one in (no proxies from the environment)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    return session


# -- checking outcomes ------------------------------------------------------------------------


def jsonish(value: Any) -> Any:
    """*value* with tuples as lists and mapping keys as strings, to compare with JSON."""
    if isinstance(value, Mapping):
        return {str(key): jsonish(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonish(item) for item in value]
    return value


def resolve(obj: Any, path: str) -> Any:
    """Follow a dotted *path*: mapping keys, list indexes, attributes; ``#`` is ``len``."""
    if path in ("", "$"):
        return obj
    for segment in path.split("."):
        if segment == "#":
            obj = len(obj)
        elif isinstance(obj, Mapping):
            key: Any = segment
            if key not in obj and segment.lstrip("-").isdigit():
                key = int(segment)
            if key not in obj:
                raise AssertionError(f"no {segment!r} in {sorted(map(str, obj))[:20]}")
            obj = obj[key]
        elif isinstance(obj, (list, tuple)) and segment.lstrip("-").isdigit():
            obj = obj[int(segment)]
        else:
            obj = getattr(obj, segment)
    return obj


OPERATORS: Dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda got, want: jsonish(got) == want,
    "$ne": lambda got, want: jsonish(got) != want,
    "$in": lambda got, want: jsonish(got) in want,
    "$contains": lambda got, want: want in got,
    "$not_contains": lambda got, want: got is None or want not in got,
    "$startswith": lambda got, want: got.startswith(want),
    "$regex": lambda got, want: re.search(want, got, re.DOTALL) is not None,
    "$len": lambda got, want: len(got) == want,
    "$le": lambda got, want: got is not None and got <= want,
    "$ge": lambda got, want: got is not None and got >= want,
    "$type": lambda got, want: type(got).__name__ == want,
}


def check_value(got: Any, want: Any) -> Optional[str]:
    """Why *got* does not meet *want* (a JSON value, or a dict of ``$`` operators), or None."""
    if isinstance(want, dict) and want and all(key.startswith("$") for key in want):
        for op, operand in want.items():
            try:
                ok = OPERATORS[op](got, operand)
            except Exception as exc:
                ok, operand = False, f"{operand!r} ({type(exc).__name__}: {exc})"
            if not ok:
                return f"{op} {operand!r} failed for {got!r:.300}"
        return None
    if jsonish(got) != want:
        return f"expected {want!r:.300}, got {jsonish(got)!r:.300}"
    return None


class Outcome:
    """What a case did: its result or exception, its warnings, its cost."""

    def __init__(self) -> None:
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.trace = ""
        self.warnings: List[warnings.WarningMessage] = []
        self.peak = 0
        self.seconds = 0.0
        self.timed_out = False

    @property
    def upnp_warnings(self) -> List[str]:
        return [str(w.message) for w in self.warnings if issubclass(w.category, upnpy.UPnPWarning)]

    def describe(self) -> str:
        if self.error is not None:
            return f"raised {type(self.error).__module__}.{type(self.error).__name__}: " + (
                f"{self.error}"[:300] + "\n" + self.trace
            )
        return f"returned {self.result!r:.400}"


def is_error(error: BaseException, name: str) -> bool:
    """Whether *error* is the error a manifest calls *name*: that upnpy class (or a subclass);
    for ``ValueError`` (parse_last_change's), a plain ValueError or a public upnpy one, not
    a UnicodeError or another ValueError subclass from deeper down."""
    if isinstance(error, INTERNAL) or not isinstance(error, ERRORS[name]):
        return False
    if name == "ValueError":
        return type(error) is ValueError or isinstance(error, upnpy.UPnPError)
    return True


def mismatch(expect: Mapping[str, Any], outcome: Outcome) -> Optional[str]:
    """Why *outcome* is not the expected one, or None when it is."""
    if "any" in expect:
        reasons = [mismatch(option, outcome) for option in expect["any"]]
        if any(reason is None for reason in reasons):
            return None
        return " / ".join(f"[{reason}]" for reason in reasons)
    warned = outcome.upnp_warnings
    if expect.get("warns") is True and not warned:
        return "expected a UPnPWarning, none was issued"
    if expect.get("warns") is False and warned:
        return f"expected no UPnPWarning, got {warned}"
    error = outcome.error
    if "error" in expect:
        names = expect["error"] if isinstance(expect["error"], list) else [expect["error"]]
        if error is None:
            return f"expected {'/'.join(names)}, {outcome.describe()}"
        if not any(is_error(error, name) for name in names):
            return f"expected {'/'.join(names)}, {outcome.describe()}"
        patterns = expect.get("match", [])
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            if not re.search(pattern, str(error), re.DOTALL):
                return f"error message {str(error)[:300]!r} does not match {pattern!r}"
        if "status" in expect:
            wanted = expect["status"] if isinstance(expect["status"], list) else [expect["status"]]
            if getattr(error, "status", None) not in wanted:
                return f"expected status {wanted}, got {getattr(error, 'status', None)}: {error}"
        return None
    if error is not None:
        return f"expected a result, {outcome.describe()}"
    if expect.get("none"):
        return None if outcome.result is None else f"expected None, {outcome.describe()}"
    if outcome.result is None and "ok" in expect:
        return "expected a result, got None"
    for path, want in expect.get("ok", {}).items():
        try:
            got = resolve(outcome.result, path)
        except Exception as exc:
            return f"{path}: {type(exc).__name__}: {exc}"
        problem = check_value(got, want)
        if problem is not None:
            return f"{path}: {problem}"
    return None


# -- running one case -------------------------------------------------------------------------


def open_fds() -> List[str]:
    return sorted(os.listdir("/proc/self/fd"))


def settle(check: Callable[[], bool], seconds: float = 2.0) -> bool:
    """Wait until *check* holds (stopping threads close their sockets a moment later)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def resident() -> int:
    """The process's resident memory now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_resident() -> int:
    """The process's highest resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def forget_frames(error: Optional[BaseException], seen: Optional[set] = None) -> None:
    """Drop the tracebacks of *error* and of its causes: their frames would keep the case's
    sockets open past the case (and count as leaked file descriptors)."""
    seen = set() if seen is None else seen
    if error is None or id(error) in seen:
        return
    seen.add(id(error))
    error.__traceback__ = None
    for linked in (error.__cause__, error.__context__, getattr(error, "cause", None)):
        forget_frames(linked, seen)


def measured(run: Callable[[], Any], budget: float = BUDGET) -> Outcome:
    """Run *run* under the time budget and a warnings recorder, measuring its memory.

    Memory is the growth of the process's peak resident size above its size at the start
    (it sees what C code allocates too, and costs nothing, unlike tracemalloc's 5x). When the
    case does not raise the process's all-time peak, its growth is at most that old peak
    above the start, which is what is reported: an upper bound, never an underestimate.
    """
    outcome = Outcome()

    def alarm(signum: int, frame: Any) -> None:
        outcome.timed_out = True
        raise CaseTimeout(f"the case ran past its {budget} s budget")

    previous = signal.signal(signal.SIGALRM, alarm)
    gc.freeze()  # the collection below then looks at the case's own objects only (fast)
    start, old_peak = resident(), peak_resident()
    started = time.monotonic()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signal.setitimer(signal.ITIMER_REAL, budget)
            try:
                outcome.result = run()
            except CaseTimeout:
                outcome.timed_out = True
            except Exception as exc:
                outcome.error = exc
                outcome.trace = "".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:]
                )
                forget_frames(exc)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            gc.collect()  # unclosed sockets warn now, inside the recorder
        outcome.warnings = list(caught)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        gc.unfreeze()
        outcome.seconds = time.monotonic() - started
        outcome.peak = max(peak_resident(), old_peak) - start
    return outcome


class Bench:
    """What a case sets up around its run (servers, transports), torn down afterwards."""

    def __init__(self) -> None:
        self.closers: List[Callable[[], None]] = []
        self.server_checks: List[Callable[[], Optional[str]]] = []

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


# -- loopback servers -------------------------------------------------------------------------


def replier(spec: Mapping[str, Any], surface: str) -> Callable[[Reply, LoopbackServer], None]:
    """A handler body that answers with the raw HTTP response of *spec*."""
    if spec.get("hang"):

        def hang(reply: Reply, server: LoopbackServer) -> None:
            server.stopping.wait(BUDGET)
            reply.close_connection = True

        return hang
    status = spec.get("status", 200)
    line = f"HTTP/1.1 {status} {spec.get('reason', 'OK')}".rstrip()
    data = http_message(line, spec, surface, b"")
    drip = spec.get("drip")
    stream = spec.get("stream")

    def answer(reply: Reply, server: LoopbackServer) -> None:
        reply.close_connection = True
        try:
            if drip:
                for byte in data:
                    if server.stopping.wait(drip):
                        return
                    reply.wfile.write(bytes([byte]))
                    reply.wfile.flush()
                return
            reply.wfile.write(data)
            if stream:  # then more of the same block, until the client goes away
                block = data_of(stream, surface)
                for _ in range((64 << 20) // len(block)):
                    if server.stopping.is_set():
                        return
                    reply.wfile.write(block)
            reply.wfile.flush()
        except OSError:
            pass  # the client went away: what refusing looks like

    return answer


def no_injection(server: LoopbackServer) -> Optional[str]:
    """A line break from a device must never reach the wire: no injected header, and no
    path into which the injected text was silently folded."""
    for request in server.requests:
        if any(name.lower() == "x-injected" for name in request.headers):
            return f"a request carried the injected header: {request.method} {request.path!r}"
        if "X-Injected" in request.path and "%0D%0A" not in request.path.upper():
            return f"the injected text was folded into the path: {request.method} {request.path!r}"
    return None


def loopback(bench: Bench, replies: Mapping[str, Any], surface: str) -> LoopbackServer:
    """A server answering each method (or ``METHOD /path``, or ``*``) as *replies* says."""
    handlers = {key: replier(spec, surface) for key, spec in replies.items()}
    server: Optional[LoopbackServer] = None

    def handle(request: Request, reply: Reply) -> None:
        assert server is not None
        key = f"{request.method} {request.path}"
        handler = handlers.get(key) or handlers.get(request.method) or handlers.get("*")
        if handler is None:
            reply.send(404, b"no such thing", {"Connection": "close"})
            reply.close_connection = True
        else:
            handler(reply, server)

    server = LoopbackServer(handle)
    bench.closers.append(server.close)
    bench.server_checks.append(lambda: no_injection(server))
    return server


# -- the runners, one per "run" of a manifest -------------------------------------------------

Runner = Callable[[Mapping[str, Any], str, Bench], Callable[[], Any]]


def run_parse_device(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    location = case.get("location", LOCATION)
    return lambda: _description.parse_device(data, location)


def run_parse_scpd(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    return lambda: _description.parse_scpd(data, "http://127.0.0.1:49152/scpd.xml")


def transport_for(case: Mapping[str, Any], bench: Bench) -> Transport:
    """The case's transport: upnpy's own sockets, or a requests session (``session``)."""
    transport: Transport = (
        RequestsTransport(new_session()) if case.get("session") else SocketTransport()
    )
    bench.closers.append(transport.close)
    return transport


def run_device(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    """``upnpy.Device(location)`` against a server answering the GET with ``reply``."""
    server = loopback(bench, case.get("replies") or {"GET": case["reply"]}, surface)
    location = expand(case.get("location", "{url}/desc.xml")).replace("{url}", server.url)
    session = None
    if case.get("session"):
        session = new_session()
        bench.closers.append(session.close)
    timeout = case.get("timeout", 2.0)

    def run() -> Any:
        device = upnpy.Device(location, timeout=timeout, session=session)
        try:
            return device.info
        finally:
            device.close()

    return run


def description_for(case: Mapping[str, Any], surface: str) -> bytes:
    if "description" in case:
        return data_of(case["description"], surface)
    return (CORPUS / "scpd" / "_device.xml").read_bytes()


def run_service(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    """A FakeDevice serving the description and ``scpd``; the service's actions are built
    (``device.CorpusService.actions``) and, with ``call``, one action is called, every POST
    being answered with ``reply`` (an empty response of the action by default)."""
    documents = {"/desc.xml": description_for(case, surface)}
    if "scpd" in case:
        documents["/scpd.xml"] = data_of(case["scpd"], surface)
    fake = FakeDevice(documents)
    bench.closers.append(fake.close)
    bench.server_checks.append(lambda: no_injection(fake.server))
    call = case.get("call")
    action_name = call["action"] if call else ""
    default = {
        "headers": [["Content-Type", 'text/xml; charset="utf-8"'], ["Connection", "close"]],
        "body": {"text": soap_body(action_name, "")},
    }
    answer = replier(case.get("reply", default), surface)
    original = fake.handle

    def handle(request: Request, reply: Reply) -> None:
        if request.method in ("POST", "M-POST"):
            answer(reply, fake.server)
        else:
            original(request, reply)

    fake.handle = handle  # type: ignore[method-assign]

    def run() -> Any:
        with upnpy.Device(fake.url + "/desc.xml", timeout=2.0) as device:
            service = device[case.get("service", "CorpusService")]
            actions = service.actions
            if call is None:
                return {
                    "actions": {
                        name: list(action.__signature__.parameters)
                        for name, action in actions.items()
                    },
                    "variables": dict(service.state_variables),
                }
            return actions[call["action"]](**call.get("args", {}))

    return run


def soap_body(action: str, inner: str) -> str:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<s:Body><u:{action}Response xmlns:u="{SERVICE_TYPE}">{inner}'
        f"</u:{action}Response></s:Body></s:Envelope>"
    )


def run_parse_response(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    action = case.get("action", "GetValue")
    return lambda: _soap.parse_response(data, action, url="http://127.0.0.1:49152/ctl")


def run_call(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    """``_soap.call`` against a server answering with ``reply`` (or per method, ``replies``)."""
    server = loopback(bench, case.get("replies") or {"*": case["reply"]}, surface)
    transport = transport_for(case, bench)
    url = server.url + case.get("path", "/ctl")
    action = case.get("action", "GetValue")
    arguments = [tuple(pair) for pair in case.get("args", [])]
    timeout = case.get("timeout", 2.0)
    return lambda: _soap.call(transport, url, SERVICE_TYPE, action, arguments, timeout=timeout)


def run_ssdp(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    return lambda: _ssdp.parse_response(data, ADDRESS)


def run_propertyset(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    return lambda: _gena.parse_propertyset(data)


def run_notify_headers(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    fields = {"nt": "upnp:event", "nts": "upnp:propchange", "sid": SID, "seq": "0"}
    for name, value in case.get("headers", {}).items():
        fields[name] = None if value is None else expand(value)
    return lambda: _gena.check_notify_headers(**fields)


def run_last_change(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    data = data_of(case["input"], surface)
    value: Any = data.decode("utf-8", "surrogatepass") if case.get("as_text") else data
    types = case.get("state_variables")
    variables = None
    if types is not None:
        variables = {name: StateVariableInfo(name=name, data_type=t) for name, t in types.items()}
    return lambda: upnpy.parse_last_change(value, variables)


def run_didl(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    """``_didl.parse_didl`` of the input: bytes, or (``as_text``) the text a SOAP answer gives;
    ``limit`` is the caller's cap on objects."""
    data = data_of(case["input"], surface)
    value: Any = data.decode("utf-8", "surrogatepass") if case.get("as_text") else data
    limit = case.get("limit", _didl.MAX_OBJECTS)
    return lambda: _didl.parse_didl(value, limit=limit)


DEFAULT_PROPERTYSET = (
    b'<?xml version="1.0"?><e:propertyset xmlns:e="urn:schemas-upnp-org:event-1-0">'
    b"<e:property><Value>1</Value></e:property></e:propertyset>"
)


def run_callback_server(case: Mapping[str, Any], surface: str, bench: Bench) -> Callable[[], Any]:
    """Raw bytes sent to a GENA CallbackServer with SID ``uuid:corpus-1`` registered; the
    result is ``{"status": answered status or None, "values": delivered values or None}``."""
    delivered: List[Any] = []
    arrived = threading.Event()

    def deliver(target: Any, notification: _gena_server.Notification) -> None:
        delivered.append(dict(notification.values))
        arrived.set()

    server = _gena_server.CallbackServer("127.0.0.1", 0, deliver)
    bench.closers.append(server.close)
    server.register(SID, object())
    spec = case["request"]
    headers = [
        ("HOST", f"127.0.0.1:{server.port}"),
        ("CONTENT-TYPE", 'text/xml; charset="utf-8"'),
        ("NT", "upnp:event"),
        ("NTS", "upnp:propchange"),
        ("SID", SID),
        ("SEQ", "0"),
    ]
    drop = {name.lower() for name in spec.get("drop", [])}
    headers = [(name, value) for name, value in headers if name.lower() not in drop]
    headers += [(name, value) for name, value in spec.get("headers", [])]
    line = spec.get("line", "NOTIFY /upnpy/1 HTTP/1.1")
    data = http_message(line, dict(spec, headers=headers), surface, DEFAULT_PROPERTYSET)

    def run() -> Any:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            try:
                sock.sendall(data)
                if spec.get("half_close"):
                    sock.shutdown(socket.SHUT_WR)
                answer = b""
                while b"\r\n" not in answer:
                    piece = sock.recv(4096)
                    if not piece:
                        break
                    answer += piece
            except OSError:  # reset: the server refused without an answer
                answer = b""
        status = None
        match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
        if match:
            status = int(match.group(1))
        if status == 200:
            arrived.wait(2.0)
        return {"status": status, "values": delivered[0] if delivered else None}

    return run


RUNNERS: Dict[str, Runner] = {
    "parse_device": run_parse_device,
    "device": run_device,
    "parse_scpd": run_parse_scpd,
    "service": run_service,
    "parse_response": run_parse_response,
    "call": run_call,
    "ssdp": run_ssdp,
    "propertyset": run_propertyset,
    "notify_headers": run_notify_headers,
    "last_change": run_last_change,
    "callback_server": run_callback_server,
    "didl": run_didl,
}


# -- the cases --------------------------------------------------------------------------------


def manifest(surface: str) -> List[Dict[str, Any]]:
    with open(CORPUS / surface / "manifest.json", encoding="utf-8") as file:
        cases: List[Dict[str, Any]] = json.load(file)["cases"]
    return cases


def load_cases() -> Iterator[Any]:
    for surface in SURFACES:
        for case in manifest(surface):
            marks = []
            if case.get("xfail"):
                marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"]))
            yield pytest.param(surface, case, id=f"{surface}/{case['name']}", marks=marks)


CASES = list(load_cases())


def input_specs(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every input spec inside a case (to check that the files it names exist)."""
    if isinstance(node, Mapping):
        if "file" in node:
            yield node
        for value in node.values():
            yield from input_specs(value)
    elif isinstance(node, list):
        for item in node:
            yield from input_specs(item)


def test_manifests_are_sound():
    """Names are unique, every case has an expectation and a known runner, files exist."""
    seen = set()
    for param in CASES:
        surface, case = param.values
        name = f"{surface}/{case['name']}"
        assert name not in seen, f"duplicate case {name}"
        seen.add(name)
        assert case.get("run") in RUNNERS, f"{name}: unknown run {case.get('run')!r}"
        assert case.get("expect"), f"{name}: no expected outcome"
        assert case.get("why"), f"{name}: no why"
        for spec in input_specs(case):
            if "file" in spec:
                assert (CORPUS / surface / spec["file"]).is_file(), f"{name}: no {spec['file']}"
    size = sum(path.stat().st_size for path in CORPUS.rglob("*") if path.is_file())
    assert size < 1 << 20, f"the committed corpus is {size} bytes; generate large inputs"


def test_corpus_is_large_enough():
    per_surface = {surface: len(manifest(surface)) for surface in SURFACES}
    assert all(count >= 20 for count in per_surface.values()), per_surface
    assert sum(per_surface.values()) >= 150, per_surface


@pytest.mark.parametrize(("surface", "case"), CASES)
def test_case(surface: str, case: Dict[str, Any]) -> None:
    name = f"{surface}/{case['name']}"
    threads_before = set(threading.enumerate())
    fds_before = open_fds()
    bench = Bench()
    try:
        run = RUNNERS[case["run"]](case, surface, bench)
        outcome = measured(run, min(float(case.get("budget", BUDGET)), BUDGET))
    finally:
        bench.close()
    problems = []
    if outcome.timed_out:
        problems.append(f"hung: still running after {case.get('budget', BUDGET)} s")
    else:
        problem = mismatch(case["expect"], outcome)
        if problem is not None:
            problems.append(problem)
    for check in bench.server_checks:
        problem = check()
        if problem is not None:
            problems.append(problem)
    if outcome.peak > MEMORY_CAP:
        problems.append(f"grew by up to {outcome.peak >> 20} MiB (cap {MEMORY_CAP >> 20} MiB)")
    leaked_sockets = [
        str(w.message) for w in outcome.warnings if issubclass(w.category, ResourceWarning)
    ]
    if leaked_sockets:
        problems.append(f"left resources to the garbage collector: {leaked_sockets}")
    if not settle(
        lambda: all(not t.is_alive() or t in threads_before for t in threading.enumerate())
    ):
        extra = [t.name for t in threading.enumerate() if t not in threads_before]
        problems.append(f"left threads behind: {extra}")
    if not settle(lambda: len(open_fds()) <= len(fds_before)):
        problems.append(f"left file descriptors behind: {len(fds_before)} -> {len(open_fds())}")
    if problems:
        pytest.fail(f"{name} ({case['why']}): " + "; ".join(problems), pytrace=False)
