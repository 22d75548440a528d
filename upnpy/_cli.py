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
    upnpy play URL [--to RENDERER] [--title T] [--mime TYPE]   on a MediaRenderer
    upnpy browse SERVER [OBJECT_ID] [--limit N] [--json]       a MediaServer's container

DEVICE (and ``--gateway``, ``--to``, SERVER) is a description URL, or a name found by a short
search (``--timeout``, 2 s): a UDN (``uuid:...``, the search stops at its answer), a device type
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
import json
import logging
import math
import os
import signal
import socket
import sys
import threading
import warnings
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    List,
    NoReturn,
    Optional,
    Sequence,
    Tuple,
)

from . import _cli_media, _cli_names
from ._cli_names import (
    NAME_TIMEOUT,
    Failure,
    close_iterator,
    find_action,
    find_service,
    log_to_stderr,
    open_device,
    traced,
)
from ._cli_text import (
    TABLE_HEADER,
    Progress,
    device_dict,
    device_row,
    event_line,
    event_variables,
    json_default,
    print_mappings,
    print_tree,
    shown,
)
from ._discovery import discover_iter
from ._exceptions import UPnPError
from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from ._gateway import Gateway

__all__ = ["main"]

log = logging.getLogger("upnpy")

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


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
    _cli_media.add_commands(command, lookup, _count)
    return parser


# --- output -----------------------------------------------------------------------------------


# --- --debug: the HTTP exchanges -----------------------------------------------------------


# --- names: devices, services, actions --------------------------------------------------------


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
                line = json.dumps(device_dict(device)) if args.json else device_row(device)
                device.close()
                progress.print(line)
    finally:
        close_iterator(found)
    if not count:
        print(f"upnpy: no device answered within {args.timeout:g} s", file=sys.stderr)
    return 0


def _run_describe(args: argparse.Namespace) -> int:
    root, device = open_device(args.device, args.timeout)
    with root:
        if args.json:
            print(json.dumps(device_dict(device, actions=True), indent=2))
        else:
            print_tree(device, actions=True)
    return 0


def _run_call(args: argparse.Namespace) -> int:
    values = _parse_pairs(args.arguments)
    root, device = open_device(args.device, args.timeout)
    with root:
        action = find_action(find_service(device, args.service), args.action)
        result = action(**values)
    if args.json:
        print(json.dumps(result, indent=2, default=json_default))
    else:
        for name, value in result.items():
            print(f"{name} = {value!r}")
    return 0


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
                    print(json.dumps(fields, default=json_default), flush=True)
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
    return Gateway(traced(gateway.device)) if _cli_names.debugging() else gateway


def _mapping_options(args: argparse.Namespace) -> Tuple[int, Dict[str, Any]]:
    options: Dict[str, Any] = {"description": args.description}
    internal = args.port
    if args.to:
        options["internal_client"], internal = args.to
        options["external_port"] = args.port
    if args.lease is not None:
        options["lease"] = args.lease
    return internal, options


def _run_gateway(args: argparse.Namespace) -> int:
    with _gateway(args) as gateway:
        command = getattr(args, "ports_command", None) or args.command
        if command == "ip":
            print(gateway.external_ip)
        elif command == "forward":
            internal, options = _mapping_options(args)
            options.setdefault("lease", 600)
            with gateway.forward(internal, args.protocol, **options) as mapping:
                print(f"forwarding {shown(mapping)}, renewed; Ctrl-C to stop", flush=True)
                try:
                    threading.Event().wait()
                except KeyboardInterrupt:  # how forward ends: the mapping is removed, status 0
                    print("removed", file=sys.stderr)
        elif command == "add":
            internal, options = _mapping_options(args)
            print(shown(gateway.add_port_mapping(internal, args.protocol, **options)))
        elif command == "rm":
            gateway.delete_port_mapping(args.port, args.protocol)
        else:
            print_mappings(gateway.port_mappings(), args.json)
    return 0


COMMANDS: Dict[str, Callable[[argparse.Namespace], int]] = {
    "discover": _run_discover,
    "describe": _run_describe,
    "call": _run_call,
    "subscribe": _run_subscribe,
    "ip": _run_gateway,
    "ports": _run_gateway,
    "forward": _run_gateway,
    **_cli_media.COMMANDS,
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
    args = build_parser().parse_args(argv)  # a usage error exits with 2
    _cli_names.set_debug(args.debug)
    handler = log_to_stderr() if args.debug else None
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
        _cli_names.set_debug(False)
        if handler is not None:
            logging.getLogger("upnpy").removeHandler(handler)
            logging.getLogger("upnpy").setLevel(logging.NOTSET)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
