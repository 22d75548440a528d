"""The ``upnpy`` command: discover devices, show them, call actions (argparse front end).

::

    upnpy discover [--st ST] [--timeout S] [--limit N] [--cache] [-4|-6] [--json]
    upnpy describe URL [--json]
    upnpy call URL SERVICE ACTION [NAME=VALUE ...] [--json]
    upnpy ip                                    the gateway's external address
    upnpy ports [--json]                        its port mappings
    upnpy ports add PORT [--protocol UDP] [--to HOST:PORT] [--lease S] [--description D]
    upnpy ports rm PORT [--protocol UDP]
    upnpy forward PORT [--protocol UDP] [--to HOST:PORT] [--lease S]   hold until Ctrl-C

The gateway commands find the best Internet gateway (or use ``--gateway URL``).

Values are given in UPnP text form (``8080``, ``1``, ``TCP``); they are checked against the
action's state variables before anything is sent.
"""

from __future__ import annotations

import argparse
import datetime
import json
import socket
import sys
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._discovery import discover_iter
from ._exceptions import UPnPError
from ._proxy import Device
from ._version import __version__


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


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


def _parse_pairs(pairs: Sequence[str]) -> Dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"upnpy: argument {pair!r} is not NAME=VALUE")
        values[name] = value
    return values


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


def _add_gateway_commands(commands: Any) -> None:
    def common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--gateway", metavar="URL", help="this gateway, not the best found")
        parser.add_argument("--timeout", type=float, default=2.0, help="seconds to search")
        return parser

    def mapping(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("port", type=_port, help="the external port")
        parser.add_argument("--protocol", choices=("TCP", "UDP"), default="TCP", type=str.upper)
        parser.add_argument(
            "--to", type=_target, metavar="HOST:PORT", help="default: this machine, same port"
        )
        parser.add_argument("--lease", type=int, default=None, help="seconds; 0 is permanent")
        parser.add_argument("--description", default="upnpy")

    common(commands.add_parser("ip", help="the Internet gateway's external address"))
    ports = common(commands.add_parser("ports", help="list, add or remove port mappings"))
    ports.add_argument("--json", action="store_true", help="print JSON lines")
    actions = ports.add_subparsers(dest="ports_command")
    mapping(actions.add_parser("add", help="map a port to this machine (or --to)"))
    remove = actions.add_parser("rm", help="remove a port mapping")
    remove.add_argument("port", type=_port)
    remove.add_argument("--protocol", choices=("TCP", "UDP"), default="TCP", type=str.upper)
    mapping(common(commands.add_parser("forward", help="map a port until Ctrl-C, renewed")))


def _gateway(args: argparse.Namespace) -> Any:
    from ._gateway import Gateway  # loaded by the gateway commands only

    if args.gateway:
        return Gateway(Device(args.gateway, timeout=max(args.timeout, 1.0)))
    return Gateway.find(args.timeout)


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
                except KeyboardInterrupt:
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="upnpy", description="A synchronous UPnP control point.")
    parser.add_argument("--version", action="version", version=f"upnpy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    find = commands.add_parser("discover", help="search the LAN (SSDP) and list root devices")
    find.add_argument("--st", default="ssdp:all", help="search target (default ssdp:all)")
    find.add_argument("--timeout", type=float, default=2.0, help="seconds to search (default 2)")
    find.add_argument("--limit", type=int, help="stop after this many devices")
    find.add_argument(
        "--cache", action="store_true", help="check the devices found last time first (faster)"
    )
    family = find.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET)
    family.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6)
    find.add_argument("--json", action="store_true", help="print JSON")
    show = commands.add_parser("describe", help="show a device's tree, services and actions")
    show.add_argument("url", help="description URL (LOCATION)")
    show.add_argument("--json", action="store_true", help="print JSON")
    call = commands.add_parser("call", help="call an action: NAME=VALUE arguments")
    call.add_argument("url", help="description URL (LOCATION)")
    call.add_argument("service", help="service name, e.g. WANIPConnection")
    call.add_argument("action", help="action name, e.g. GetExternalIPAddress")
    call.add_argument("arguments", nargs="*", metavar="NAME=VALUE")
    call.add_argument("--json", action="store_true", help="print JSON")
    _add_gateway_commands(commands)
    args = parser.parse_args(argv)

    try:
        if args.command in ("ip", "ports", "forward"):
            return _run_gateway(args)
        if args.command == "discover":
            found = discover_iter(
                st=args.st,
                timeout=args.timeout,
                limit=args.limit,
                cache=args.cache,
                family=args.family,
            )
            if args.json:
                print(json.dumps([_device_dict(d) for d in found], indent=2))
            for device in [] if args.json else found:  # each as soon as it is described
                _print_tree(device, actions=False)
                print(f"    at {device.location}", flush=True)
            return 0
        device = Device(args.url)
        if args.command == "describe":
            if args.json:
                print(json.dumps(_device_dict(device, actions=True), indent=2))
            else:
                _print_tree(device, actions=True)
            return 0
        result = device[args.service][args.action](**_parse_pairs(args.arguments))
        if args.json:
            print(json.dumps({k: _jsonable(v) for k, v in result.items()}, indent=2))
        else:
            for name, value in result.items():
                print(f"{name} = {value!r}")
        return 0
    except (UPnPError, KeyError, TypeError) as exc:
        print(f"upnpy: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # an option's value refused by the library (--timeout 0)
        print(f"upnpy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
