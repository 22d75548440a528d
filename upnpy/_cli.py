"""The ``upnpy`` command: discover devices, show them, call actions (argparse front end).

::

    upnpy discover [--st ST] [--timeout S] [--json]
    upnpy describe URL [--json]
    upnpy call URL SERVICE ACTION [NAME=VALUE ...] [--json]

Values are given in UPnP text form (``8080``, ``1``, ``TCP``); they are checked against the
action's state variables before anything is sent.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any, Dict, List, Optional, Sequence

from ._discovery import discover
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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="upnpy", description="A synchronous UPnP control point.")
    parser.add_argument("--version", action="version", version=f"upnpy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    find = commands.add_parser("discover", help="search the LAN (SSDP) and list root devices")
    find.add_argument("--st", default="ssdp:all", help="search target (default ssdp:all)")
    find.add_argument("--timeout", type=float, default=2.0, help="seconds to search (default 2)")
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
    args = parser.parse_args(argv)

    try:
        if args.command == "discover":
            devices = discover(st=args.st, timeout=args.timeout)
            if args.json:
                print(json.dumps([_device_dict(d) for d in devices], indent=2))
            for device in [] if args.json else devices:
                _print_tree(device, actions=False)
                print(f"    at {device.location}")
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
