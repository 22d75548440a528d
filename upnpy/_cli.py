"""The ``upnpy`` command: discover devices, show them, call actions, watch events (argparse).

::

    upnpy discover [--st ST] [--timeout S] [--limit N] [--cache] [-4|-6] [--json]
    upnpy describe DEVICE [--json]
    upnpy call DEVICE SERVICE ACTION [NAME=VALUE ...] [--json]
    upnpy subscribe DEVICE SERVICE [--json]      events as they come, until Ctrl-C
    upnpy ip                                     the gateway's external address
    upnpy ports [--json]                         its port mappings
    upnpy ports add PORT [--protocol UDP] [--to HOST:PORT] [--lease S] [--description D]
    upnpy ports rm PORT [--protocol UDP]
    upnpy forward PORT [--protocol UDP] [--to HOST:PORT] [--lease S]   hold until Ctrl-C

DEVICE (and ``--gateway DEVICE``) is a description URL, or a name found by a short search
(``--timeout``, 2 s): a UDN (``uuid:...``, the search stops at its answer), a device type
(``urn:...:device:...``, the first device of that type), or a friendlyName or short type
(``"upnpy lab light"``, ``DimmableLight``), matched without regard to case, whole or else as a
unique part. Embedded devices count: the service is then looked up within the one named.
SERVICE is a short name (``WANIPConnection``, ``WANIPConnection:2``), a serviceType or
serviceId. An unknown name fails with the closest candidates ("did you mean ...").

Values are given in UPnP text form (``8080``, ``1``, ``TCP``); they are checked against the
action's state variables before anything is sent.

Exit status: 0 done; 1 a failure (unreachable device, UPnP fault, unknown name); 2 a usage
error; 130 interrupted by Ctrl-C (``forward`` ends with 0: Ctrl-C is how it stops). Every
error is one line on stderr. ``--debug`` logs upnpy's HTTP exchanges (requests, answers) and
its DEBUG messages on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
import warnings
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    TextIO,
    Tuple,
)

from ._description import parse_device
from ._discovery import discover_iter
from ._exceptions import UPnPError
from ._http import Timeout
from ._proxy import MAX_DESCRIPTION, Action, Device, Service, _service_id_name
from ._transport import Reply, SocketTransport, fetch
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._gateway import Gateway
    from ._subscription import Event

__all__ = ["main"]

log = logging.getLogger("upnpy")

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Seconds a device name is searched for, by default.
NAME_TIMEOUT = 2.0
#: Widths of the discover table's NAME, TYPE and LOCATION columns; the UDN, last, is whole.
WIDTHS = (24, 24, 40)
#: Characters of a body shown by --debug.
DEBUG_BODY = 4096


class Failure(Exception):
    """A failure reported as one line on stderr, exit status 1."""


class UsageError(Exception):
    """A usage error found after parsing, reported as one line, exit status 2."""


# --- arguments --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (argparse prints the usage before them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _port(text: str) -> int:
    """A port number, checked (upnpc would turn 70000 into 4464)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1..65535)")
    return int(text)


def _target(text: str) -> Tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, _port(port)


def _parse_pairs(pairs: Sequence[str]) -> Dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"argument {pair!r} is not NAME=VALUE")
        values[name] = value
    return values


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``upnpy`` command."""
    debug = _Parser(add_help=False)  # --debug after the command too
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log HTTP exchanges on stderr",
    )
    parser = _Parser(prog="upnpy", description="A synchronous UPnP control point.")
    parser.add_argument("--version", action="version", version=f"upnpy {__version__}")
    parser.add_argument("--debug", action="store_true", help="log HTTP exchanges on stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, description=text, parents=[debug])

    def lookup(sub: argparse.ArgumentParser, device: bool = True) -> None:
        if device:
            sub.add_argument("device", metavar="DEVICE", help="URL, UDN, type or friendly name")
        sub.add_argument(
            "--timeout",
            type=_seconds,
            default=NAME_TIMEOUT,
            metavar="S",
            help="seconds to search a name",
        )

    find = command("discover", "search the LAN (SSDP) and list root devices as they answer")
    find.add_argument("--st", default="ssdp:all", help="search target (default ssdp:all)")
    find.add_argument(
        "--timeout", type=_seconds, default=2.0, metavar="S", help="seconds to search"
    )
    find.add_argument("--limit", type=_count, metavar="N", help="stop after this many devices")
    find.add_argument("--cache", action="store_true", help="check the devices found last time")
    family = find.add_mutually_exclusive_group()
    family.add_argument(
        "-4", dest="family", action="store_const", const=socket.AF_INET, help="IPv4 only"
    )
    family.add_argument(
        "-6", dest="family", action="store_const", const=socket.AF_INET6, help="IPv6 only"
    )
    find.add_argument("--json", action="store_true", help="print JSON lines, one per device")
    show = command("describe", "show a device's tree, services and actions")
    lookup(show)
    show.add_argument("--json", action="store_true", help="print JSON")
    call = command("call", "call an action: NAME=VALUE arguments")
    lookup(call)
    call.add_argument("service", metavar="SERVICE", help="e.g. WANIPConnection")
    call.add_argument("action", metavar="ACTION", help="e.g. GetExternalIPAddress")
    call.add_argument("arguments", nargs="*", metavar="NAME=VALUE")
    call.add_argument("--json", action="store_true", help="print JSON")
    watch = command("subscribe", "print a service's events as they come, until Ctrl-C")
    lookup(watch)
    watch.add_argument("service", metavar="SERVICE", help="e.g. SwitchPower")
    watch.add_argument("--json", action="store_true", help="print JSON lines, one per event")

    def gateway(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--gateway", metavar="DEVICE", help="this gateway, not the best found")
        sub.add_argument(
            "--timeout", type=_seconds, default=2.0, metavar="S", help="seconds to search"
        )
        return sub

    def mapping(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("port", type=_port, help="the external port")
        sub.add_argument("--protocol", choices=("TCP", "UDP"), default="TCP", type=str.upper)
        sub.add_argument(
            "--to", type=_target, metavar="HOST:PORT", help="default: this machine, same port"
        )
        sub.add_argument("--lease", type=int, default=None, help="seconds; 0 is permanent")
        sub.add_argument("--description", default="upnpy")

    gateway(command("ip", "the Internet gateway's external address"))
    ports = gateway(command("ports", "list, add or remove port mappings"))
    ports.add_argument("--json", action="store_true", help="print JSON lines")
    actions = ports.add_subparsers(dest="ports_command", metavar="add|rm")
    mapping(actions.add_parser("add", help="map a port to this machine (or --to)"))
    remove = actions.add_parser("rm", help="remove a port mapping")
    remove.add_argument("port", type=_port)
    remove.add_argument("--protocol", choices=("TCP", "UDP"), default="TCP", type=str.upper)
    mapping(gateway(command("forward", "map a port until Ctrl-C, renewed")))
    return parser


# --- output -----------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)  # a UUID, a Decimal...


def _short_type(urn: str) -> str:
    """``DimmableLight:1`` for ``urn:schemas-upnp-org:device:DimmableLight:1``."""
    parts = urn.split(":")
    return ":".join(parts[-2:]) if len(parts) >= 5 and parts[0].lower() == "urn" else urn


def _cut(text: str, width: int) -> str:
    """*text* in at most *width* characters, its end replaced by "…"."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _cut_url(url: str, width: int) -> str:
    """*url* in at most *width* characters: ``http://host:port/`` kept, "…", the path's end."""
    if len(url) <= width:
        return url
    origin = url[: url.find("/", url.find("//") + 2) + 1 or len(url)]
    keep = width - 1 - len(origin)
    return origin + "…" + url[len(url) - keep :] if keep >= 8 else _cut(url, width)


def table_row(name: str, kind: str, location: str, udn: str) -> str:
    """One line of the discover table, columns of :data:`WIDTHS`."""
    cells = (_cut(name, WIDTHS[0]), _cut(kind, WIDTHS[1]), _cut_url(location, WIDTHS[2]))
    return "  ".join(c.ljust(w) for c, w in zip(cells, WIDTHS)) + "  " + udn


TABLE_HEADER = table_row("NAME", "TYPE", "LOCATION", "UDN")


def device_row(device: Device) -> str:
    return table_row(
        device.friendly_name, _short_type(device.device_type), device.location, device.udn
    )


def _device_dict(device: Device, actions: bool = False) -> Dict[str, Any]:
    services = []
    for service in device.services:
        entry: Dict[str, Any] = {
            "service_type": service.service_type,
            "service_id": service.service_id,
            "control_url": service.control_url,
        }
        if actions:
            try:
                entry["actions"] = {
                    name: {
                        "in": [a.name for a in action.in_arguments],
                        "out": [a.name for a in action.out_arguments],
                    }
                    for name, action in service.actions.items()
                }
            except UPnPError as exc:
                entry["error"] = str(exc)
        services.append(entry)
    return {
        "friendly_name": device.friendly_name,
        "device_type": device.device_type,
        "udn": device.udn,
        "location": device.location,
        "services": services,
        "devices": [_device_dict(d, actions) for d in device.devices],
    }


def _print_tree(device: Device, actions: bool, indent: str = "") -> None:
    print(f"{indent}{device.friendly_name}  [{device.device_type}]  {device.udn}")
    for service in device.services:
        print(f"{indent}  · {service.name}:{service.version}  ({service.service_id})")
        if actions:
            try:
                for action in service.actions.values():
                    params = ", ".join(a.name for a in action.in_arguments)
                    print(f"{indent}      {action.name}({params})")
            except UPnPError as exc:
                print(f"{indent}      (SCPD unavailable: {exc})")
    for child in device.devices:
        _print_tree(child, actions, indent + "    ")


class Progress:
    """ "searching… 2 found, 1.2 s left" on *stream*, rewritten in place while a search runs.

    Only on a terminal; elsewhere it prints nothing. :meth:`print` writes a result line to
    stdout under the progress line, which is cleared when the ``with`` block ends.
    """

    def __init__(self, what: str, seconds: float, stream: TextIO, counting: bool = True) -> None:
        self.what, self.counting, self.stream = what, counting, stream
        self.found = 0
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._shown = False

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            self._thread = threading.Thread(target=self._run, name="upnpy-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._clear()

    def print(self, line: str) -> None:
        """Print *line* on stdout, keeping the progress line below it."""
        with self._lock:
            self._clear()
            print(line, flush=True)
            if self._thread is not None:
                self._draw()

    def text(self) -> str:
        left = max(self._deadline - time.monotonic(), 0.0)
        count = f" {self.found} found," if self.counting else ""
        return f"{self.what}…{count} {left:.1f} s left"

    def _run(self) -> None:
        while True:
            with self._lock:
                self._draw()
            if self._stop.wait(0.1):
                return

    def _draw(self) -> None:
        self.stream.write("\r\x1b[K" + self.text())
        self.stream.flush()
        self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


# --- --debug: the HTTP exchanges -----------------------------------------------------------


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


_debug = False  # set by main() for --debug: devices are then opened on a TracingTransport


def _open_url(url: str, timeout: Optional[Timeout] = None) -> Device:
    if not _debug:
        return Device(url, timeout=timeout)
    transport = TracingTransport()
    try:
        info = parse_device(fetch(transport, url, timeout=timeout, limit=MAX_DESCRIPTION), url)
    except BaseException:
        transport.close()
        raise
    return Device.from_info(info, url, timeout=timeout, transport=transport)


def _traced(device: Device) -> Device:
    """*device* on a TracingTransport under ``--debug`` (no network I/O); else itself."""
    if not _debug:
        return device
    log.debug("found %r (%s)", device, device.udn)
    device.close()
    return Device.from_info(device.info, device.location, transport=TracingTransport())


def _log_to_stderr() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(threadName)s %(message)s", "%H:%M:%S")
    )
    logger = logging.getLogger("upnpy")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler


# --- names: devices, services, actions --------------------------------------------------------


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
                _short_type(d.device_type).casefold(),
                _short_type(d.device_type).partition(":")[0].casefold(),
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
        _short_type(d.device_type).partition(":")[0] for _, d in every
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
        device = _open_url(name, timeout)
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
                roots.append(_traced(root))
                progress.found += 1
                if first and any(test(d) for d in _walk(root) for test in _name_tests(name)):
                    break
        picked = pick_device(roots, name, seconds)
        chosen = picked[0]
        return picked
    finally:
        _close_iterator(found)
        for other in roots:
            if other is not chosen:
                other.close()


def _close_iterator(iterator: Iterator[Any]) -> None:
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


# --- the commands -----------------------------------------------------------------------------


def _run_discover(args: argparse.Namespace) -> int:
    over = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}.get(args.family, "IPv4 and IPv6")
    log.debug("search %s for %g s over %s, limit %s", args.st, args.timeout, over, args.limit)
    found = discover_iter(
        st=args.st, timeout=args.timeout, limit=args.limit, cache=args.cache, family=args.family
    )
    count = 0
    try:
        with Progress("searching", args.timeout, sys.stderr) as progress:
            if not args.json:
                progress.print(TABLE_HEADER)
            for device in found:  # each as soon as it is described
                count = progress.found = count + 1
                log.debug("found %r (%s)", device, device.udn)
                line = json.dumps(_device_dict(device)) if args.json else device_row(device)
                device.close()
                progress.print(line)
    finally:
        _close_iterator(found)
    if not count:
        print(f"upnpy: no device answered within {args.timeout:g} s", file=sys.stderr)
    return 0


def _run_describe(args: argparse.Namespace) -> int:
    root, device = open_device(args.device, args.timeout)
    with root:
        if args.json:
            print(json.dumps(_device_dict(device, actions=True), indent=2))
        else:
            _print_tree(device, actions=True)
    return 0


def _run_call(args: argparse.Namespace) -> int:
    values = _parse_pairs(args.arguments)
    root, device = open_device(args.device, args.timeout)
    with root:
        action = find_action(find_service(device, args.service), args.action)
        result = action(**values)
    if args.json:
        print(json.dumps(result, indent=2, default=_json_default))
    else:
        for name, value in result.items():
            print(f"{name} = {value!r}")
    return 0


def event_variables(event: Event) -> Dict[str, Any]:
    """The event's variables, a ``LastChange`` expanded to ``{InstanceID: {name: value}}``."""
    from ._lastchange import parse_last_change

    variables = dict(event.variables)
    last = variables.get("LastChange")
    if isinstance(last, str) and last.strip():
        try:
            variables["LastChange"] = parse_last_change(last, event.service.state_variables)
        except (ValueError, UPnPError) as exc:
            log.debug("LastChange kept as text: %s", exc)
    return variables


def event_line(seq: int, variables: Mapping[str, Any]) -> str:
    """``seq=3 Status=True``; a LastChange as ``Volume[Master]=10`` (``1/...``: InstanceID 1)."""
    words = [f"seq={seq}"]
    for name, value in variables.items():
        if name == "LastChange" and isinstance(value, dict):
            for instance, changed in value.items():
                prefix = "" if instance == 0 else f"{instance}/"
                for var, val in changed.items():
                    if isinstance(val, dict):
                        words += [f"{prefix}{var}[{ch}]={v!r}" for ch, v in val.items()]
                    else:
                        words.append(f"{prefix}{var}={val!r}")
        else:
            words.append(f"{name}={value!r}")
    return " ".join(words)


def _run_subscribe(args: argparse.Namespace) -> int:
    root, device = open_device(args.device, args.timeout)
    with root:
        service = find_service(device, args.service)
        with service.subscribe() as sub:
            if sys.stderr.isatty():
                where = f"{service.name} of {device.friendly_name!r}"
                print(f"subscribed to {where}; Ctrl-C to stop", file=sys.stderr)
            while True:
                try:
                    event = sub.get(timeout=0.5)  # a short wait: Ctrl-C is seen on any OS
                except TimeoutError:
                    continue
                variables = event_variables(event)
                if args.json:
                    fields = {
                        "seq": event.seq,
                        "service": service.name,
                        "udn": device.udn,
                        "sid": event.sid,
                        "received_at": event.received_at,
                        "variables": variables,
                    }
                    print(json.dumps(fields, default=_json_default), flush=True)
                else:
                    print(event_line(event.seq, variables), flush=True)


def _gateway(args: argparse.Namespace) -> Gateway:
    from ._gateway import Gateway  # loaded by the gateway commands only

    if args.gateway:  # over IPv4, as Gateway.find: port mappings are IPv4 NAT
        http = max(args.timeout, 1.0)
        root, device = open_device(args.gateway, args.timeout, socket.AF_INET, http)
        try:
            return Gateway(device)
        except BaseException:
            root.close()
            raise
    with Progress("looking for a gateway", args.timeout, sys.stderr, counting=False):
        gateway = Gateway.find(args.timeout)
    return Gateway(_traced(gateway.device)) if _debug else gateway


def _mapping_options(args: argparse.Namespace) -> Tuple[int, Dict[str, Any]]:
    options: Dict[str, Any] = {"description": args.description}
    internal = args.port
    if args.to:
        options["internal_client"], internal = args.to
        options["external_port"] = args.port
    if args.lease is not None:
        options["lease"] = args.lease
    return internal, options


def _shown(mapping: Any) -> str:
    host, port = mapping.external_address
    inside = f"{mapping.internal_client}:{mapping.internal_port}"
    lease = "permanent" if mapping.lease == 0 else f"lease {mapping.lease} s"
    return f"{mapping.protocol} {host}:{port} -> {inside} ({lease})"


def _run_gateway(args: argparse.Namespace) -> int:
    with _gateway(args) as gateway:
        command = getattr(args, "ports_command", None) or args.command
        if command == "ip":
            print(gateway.external_ip)
        elif command == "forward":
            internal, options = _mapping_options(args)
            options.setdefault("lease", 600)
            with gateway.forward(internal, args.protocol, **options) as mapping:
                print(f"forwarding {_shown(mapping)}, renewed; Ctrl-C to stop", flush=True)
                try:
                    threading.Event().wait()
                except KeyboardInterrupt:  # how forward ends: the mapping is removed, status 0
                    print("removed", file=sys.stderr)
        elif command == "add":
            internal, options = _mapping_options(args)
            print(_shown(gateway.add_port_mapping(internal, args.protocol, **options)))
        elif command == "rm":
            gateway.delete_port_mapping(args.port, args.protocol)
        else:
            _print_mappings(gateway.port_mappings(), args.json)
    return 0


def _print_mappings(mappings: Sequence[Any], as_json: bool) -> None:
    if as_json:
        for m in mappings:
            print(json.dumps({k: v for k, v in vars(m).items() if k != "external_ip"}))
        return
    rows = [("PROTO", "EXTERNAL", "INTERNAL", "LEASE", "DESCRIPTION")] + [
        (
            m.protocol,
            str(m.external_port),
            f"{m.internal_client}:{m.internal_port}",
            "permanent" if m.lease == 0 else f"{m.lease} s",
            m.description,
        )
        for m in mappings
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


COMMANDS: Dict[str, Callable[[argparse.Namespace], int]] = {
    "discover": _run_discover,
    "describe": _run_describe,
    "call": _run_call,
    "subscribe": _run_subscribe,
    "ip": _run_gateway,
    "ports": _run_gateway,
    "forward": _run_gateway,
}


def _show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
    print(f"upnpy: warning: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null: its reader is gone, and the flush at exit must not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def main(argv: Optional[List[str]] = None) -> int:
    """Run the ``upnpy`` command with *argv* (``sys.argv[1:]`` by default); the exit status."""
    global _debug
    args = build_parser().parse_args(argv)  # a usage error exits with 2
    _debug = args.debug
    handler = _log_to_stderr() if _debug else None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # one line, not the source line of upnpy
            return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        if argv is None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # a second Ctrl-C while exiting: no trace
        return EXIT_INTERRUPTED
    except (Failure, UPnPError, TypeError) as exc:  # TypeError: a wrong argument name
        print(f"upnpy: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyError as exc:
        print(f"upnpy: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (UsageError, ValueError) as exc:  # ValueError: an option's value the library refused
        print(f"upnpy {args.command}: {exc} (see 'upnpy {args.command} --help')", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `upnpy discover | head -1`: stop quietly
        _silence_stdout()
        return EXIT_FAILURE
    except OSError as exc:
        print(f"upnpy: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        _debug = False
        if handler is not None:
            logging.getLogger("upnpy").removeHandler(handler)
            logging.getLogger("upnpy").setLevel(logging.NOTSET)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
