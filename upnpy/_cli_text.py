"""What the ``upnpy`` command prints: the discover table, device trees, events, mappings,
and the progress line on a terminal."""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Mapping,
    Optional,
    Sequence,
    TextIO,
)

from ._display import plain
from ._exceptions import UPnPError
from ._proxy import Device

if TYPE_CHECKING:  # pragma: no cover
    from ._subscription import Event

__all__ = ["table_row", "device_row", "Progress", "event_line", "cut"]

log = logging.getLogger("upnpy")


#: Widths of the discover table's NAME, TYPE and LOCATION columns; the UDN, last, is whole.
WIDTHS = (24, 24, 40)


def json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)  # a UUID, a Decimal...


def short_type(urn: str) -> str:
    """``DimmableLight:1`` for ``urn:schemas-upnp-org:device:DimmableLight:1``."""
    parts = urn.split(":")
    return ":".join(parts[-2:]) if len(parts) >= 5 and parts[0].lower() == "urn" else urn


def cut(text: str, width: int) -> str:
    """*text* in at most *width* characters, its end replaced by "…"; one line of text
    (:func:`upnpy._display.plain`: a device's control characters and line breaks escaped)."""
    text = plain(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _cut_url(url: str, width: int) -> str:
    """*url* in at most *width* characters: ``http://host:port/`` kept, "…", the path's end."""
    url = plain(url)
    if len(url) <= width:
        return url
    origin = url[: url.find("/", url.find("//") + 2) + 1 or len(url)]
    keep = width - 1 - len(origin)
    return origin + "…" + url[len(url) - keep :] if keep >= 8 else cut(url, width)


def table_row(name: str, kind: str, location: str, udn: str) -> str:
    """One line of the discover table, columns of :data:`WIDTHS`."""
    cells = (cut(name, WIDTHS[0]), cut(kind, WIDTHS[1]), _cut_url(location, WIDTHS[2]))
    return "  ".join(c.ljust(w) for c, w in zip(cells, WIDTHS)) + "  " + plain(udn)


TABLE_HEADER = table_row("NAME", "TYPE", "LOCATION", "UDN")


def device_row(device: Device) -> str:
    return table_row(
        device.friendly_name, short_type(device.device_type), device.location, device.udn
    )


def device_dict(device: Device, actions: bool = False) -> Dict[str, Any]:
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
        "devices": [device_dict(d, actions) for d in device.devices],
    }


def print_tree(device: Device, actions: bool, indent: str = "") -> None:
    """A device's tree, a line per device, service and action (device text escaped)."""

    def line(text: str) -> None:
        print(indent + plain(text))

    line(f"{device.friendly_name}  [{device.device_type}]  {device.udn}")
    for service in device.services:
        line(f"  · {service.name}:{service.version}  ({service.service_id})")
        if actions:
            try:
                for action in service.actions.values():
                    params = ", ".join(a.name for a in action.in_arguments)
                    line(f"      {action.name}({params})")
            except UPnPError as exc:
                line(f"      (SCPD unavailable: {exc})")
    for child in device.devices:
        print_tree(child, actions, indent + "    ")


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
        self.shown = False

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
        self.shown = True

    def _clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


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


def shown(mapping: Any) -> str:
    host, port = mapping.external_address
    inside = f"{mapping.internal_client}:{mapping.internal_port}"
    lease = "permanent" if mapping.lease == 0 else f"lease {mapping.lease} s"
    return f"{mapping.protocol} {host}:{port} -> {inside} ({lease})"


def print_mappings(mappings: Sequence[Any], as_json: bool) -> None:
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
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4]
        print(plain(line))
