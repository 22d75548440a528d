"""Rich display for IPython and Jupyter: devices, services, actions, events as HTML and text.

Pure functions from upnpy's objects to ``str``; the classes' ``_repr_html_`` and
``_repr_pretty_`` hooks are one-liners that call them (and import this module on first use).

Everything a device sent is escaped (:func:`html.escape`, quotes too); a URL becomes a link or
an image only when it is ``http`` or ``https``, anything else is shown as text. Showing a
:class:`~upnpy.Device` makes no request: its icon is an ``<img>`` with the icon's absolute URL,
fetched by the browser, not by upnpy. Showing a :class:`~upnpy.Service` reads its SCPD (on
first use, within the device's timeout); a failure is shown, never raised. Colours are
inherited (``currentColor``, translucent greys), so the output reads in light and dark themes.
"""

from __future__ import annotations

import datetime
import html
import reprlib
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from ._avtime import format_duration
from ._datatypes import describe, python_type
from ._records import ArgumentInfo, IconInfo, StateVariableInfo

if TYPE_CHECKING:  # pragma: no cover
    from ._didl import MediaObject, MediaResource
    from ._gateway import PortMapping
    from ._proxy import Action, Device, Service
    from ._subscription import Event, Subscription

__all__ = [
    "device_html",
    "device_text",
    "service_html",
    "service_text",
    "action_html",
    "action_text",
    "event_html",
    "event_text",
    "subscription_html",
    "subscription_text",
    "port_mappings_html",
    "port_mappings_text",
    "media_html",
    "media_text",
    "pretty",
]

#: Allowed values listed before "… and N more".
MAX_ALLOWED = 12
#: Characters of a value shown (an event's LastChange can be kilobytes of XML).
MAX_VALUE = 300

#: Scoped to ``.upnpy``; only translucent greys, so both light and dark themes read it.
#: ``table.upnpy-t`` and ``div.upnpy`` outrank the notebook's own rules for tables (JupyterLab
#: right-aligns cells) and code (a grey pill around each).
CSS = (
    "<style>"
    ".upnpy{line-height:1.4;color:inherit;margin:.2em 0}"
    ".upnpy .upnpy-head{font-size:1.05em;margin:.1em 0 .3em}"
    ".upnpy .upnpy-dim{opacity:.7}"
    ".upnpy .upnpy-err{border-left:3px solid currentColor;padding-left:.5em;opacity:.85}"
    "div.upnpy :not(pre)>code{background:transparent;color:inherit;padding:0;font-size:.95em}"
    ".upnpy a{color:inherit;text-decoration:underline}"
    ".upnpy img{vertical-align:middle;margin-right:.35em}"
    ".upnpy ul.upnpy-tree{list-style:none;margin:.1em 0 .1em .4em;padding-left:.9em;"
    "border-left:1px solid rgba(127,127,127,.4)}"
    ".upnpy ul.upnpy-tree li{margin:.1em 0}"
    ".upnpy table.upnpy-t{border-collapse:collapse;margin:.3em 0;color:inherit;"
    "background:transparent;font-size:.95em;table-layout:auto}"
    ".upnpy table.upnpy-t th,.upnpy table.upnpy-t td{border:1px solid rgba(127,127,127,.35);"
    "padding:2px 7px;text-align:left;vertical-align:top;color:inherit;background:transparent;"
    "white-space:normal}"
    ".upnpy table.upnpy-t th{background:rgba(127,127,127,.13);font-weight:600}"
    ".upnpy table.upnpy-t tr{background:transparent}"
    ".upnpy table.upnpy-kv th{font-weight:normal;opacity:.8}"
    "</style>"
)

_repr = reprlib.Repr()
_repr.maxstring = MAX_VALUE
_repr.maxother = MAX_VALUE


# --- small pieces ------------------------------------------------------------------------------


def esc(value: object) -> str:
    """*value* as HTML text, quotes escaped (safe in attribute values too)."""
    return html.escape(str(value), quote=True)


def plain(value: object) -> str:
    """*value* as one line of terminal text: control characters (ESC, newlines) escaped."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def web_url(url: Optional[str]) -> Optional[str]:
    """*url* when it is an ``http(s)`` URL with a host and no whitespace, else ``None``."""
    if not url or any(c.isspace() or not c.isprintable() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(url: Optional[str], text: Optional[str] = None) -> str:
    """A link to *url* when it is http(s); otherwise *text* and the URL, as plain text."""
    label = esc(text if text is not None else (url or ""))
    safe = web_url(url)
    if safe is None:
        return f'{label} <span class="upnpy-dim">({esc(url)})</span>' if text and url else label
    return f'<a href="{esc(safe)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def short_type(urn: str) -> str:
    """``urn:schemas-upnp-org:device:InternetGatewayDevice:2`` → ``InternetGatewayDevice:2``."""
    parts = urn.split(":")
    if len(parts) >= 5 and parts[0].lower() == "urn":
        return f"{parts[3]}:{parts[4]}"
    return urn


def value_text(value: Any) -> str:
    """A Python value as shown in a table: its repr, cut to :data:`MAX_VALUE` characters."""
    return _repr.repr(value)


def constraints(var: StateVariableInfo) -> str:
    """The variable's allowed values or range: ``'TCP', 'UDP'``, ``1..65535 step 1``."""
    described = describe(var)
    head = var.data_type + ", "
    text = described[len(head) :] if described.startswith(head) else ""
    if var.allowed_values and len(var.allowed_values) > MAX_ALLOWED:
        shown = ", ".join(map(repr, var.allowed_values[:MAX_ALLOWED]))
        text = f"one of {shown} … and {len(var.allowed_values) - MAX_ALLOWED} more"
    return text


def table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "upnpy-t") -> str:
    """An HTML table; *header* is text (escaped here), the cells of *rows* are HTML already."""
    head = "".join(f"<th>{esc(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def key_values(pairs: Iterable[Tuple[str, str]]) -> str:
    """A two-column table of names (text) and values (HTML); empty values are left out."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs if v)
    return f'<table class="upnpy-t upnpy-kv"><tbody>{rows}</tbody></table>' if rows else ""


def box(kind: str, inner: str) -> str:
    """The outer ``<div>`` (with the stylesheet) of one displayed object."""
    return f'<div class="upnpy upnpy-{kind}">{CSS}{inner}</div>'


def text_table(rows: Sequence[Sequence[str]], indent: str = "") -> List[str]:
    """Rows of text cells aligned in columns (the last column is not padded)."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        (indent + "  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1]).rstrip()
        for row in rows
    ]


def pretty(printer: Any, obj: object, cycle: bool, render: Callable[[], str]) -> None:
    """IPython's ``_repr_pretty_``: the long text form for an object shown on its own, the
    one-line repr inside a container (``[<Device ...>, ...]``) or a cycle."""
    nested = len(getattr(printer, "stack", ())) > 1
    printer.text(repr(obj) if cycle or nested else render())


# --- devices -----------------------------------------------------------------------------------


def _icon(icons: Sequence[IconInfo], size: int) -> str:
    """An ``<img>`` of the smallest icon of at least *size* pixels (else the largest; PNG
    first), or ``""`` when the device has no http(s) icon."""
    usable = [icon for icon in icons if web_url(icon.url)]
    if not usable:
        return ""

    def rank(icon: IconInfo) -> Tuple[int, int, int]:
        width = icon.width or size
        return (0 if "png" in icon.mimetype.lower() else 1, width < size, abs(width - size))

    best = min(usable, key=rank)
    return (
        f'<img src="{esc(best.url)}" alt="" width="{size}" height="{size}" '
        f'loading="lazy" referrerpolicy="no-referrer">'
    )


def _device_line(device: Device, size: int) -> str:
    name = esc(device.friendly_name) if device.friendly_name else "<i>(no friendlyName)</i>"
    return (
        f"{_icon(device.icons, size)}<b>{name}</b> "
        f'<span class="upnpy-dim"><code>{esc(short_type(device.device_type))}</code></span>'
    )


def _services_html(device: Device) -> str:
    items = "".join(
        f"<li>⚙ <code>{esc(f'{s.name}:{s.version}')}</code> "
        f'<span class="upnpy-dim">{esc(s.service_id)}</span></li>'
        for s in device.services
    )
    children = "".join(
        f"<li>{_device_line(child, 20)} "
        f'<span class="upnpy-dim">{esc(child.udn)}</span>{_services_html(child)}</li>'
        for child in device.devices
    )
    return f'<ul class="upnpy-tree">{items}{children}</ul>' if items or children else ""


def device_html(device: Device) -> str:
    """A device as HTML: icon, name, type, UDN, maker and model, and the tree of embedded
    devices and services. Makes no request."""
    model = " ".join(x for x in (device.model_name, device.model_number or "") if x)
    details = key_values(
        [
            ("UDN", f"<code>{esc(device.udn)}</code>"),
            ("Type", f"<code>{esc(device.device_type)}</code>"),
            ("Manufacturer", link(device.manufacturer_url, device.manufacturer or None)),
            ("Model", link(device.model_url, model or None) if model else ""),
            ("Description", esc(device.model_description or "")),
            ("Serial", esc(device.serial_number or "")),
            ("Presentation", link(device.presentation_url) if device.presentation_url else ""),
            ("Location", link(device.location)),
        ]
    )
    head = f'<div class="upnpy-head">{_device_line(device, 32)}</div>'
    return box("device", head + details + _services_html(device))


def _tree_text(device: Device, prefix: str) -> List[str]:
    entries: List[Tuple[str, Optional[Device]]] = [
        (f"{s.name}:{s.version}  ({plain(s.service_id)})", None) for s in device.services
    ]
    entries += [
        (f"{plain(short_type(d.device_type))} {d.friendly_name!r}", d) for d in device.devices
    ]
    lines = []
    for number, (label, child) in enumerate(entries):
        last = number == len(entries) - 1
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{plain(label)}")
        if child is not None:
            lines += _tree_text(child, prefix + ("   " if last else "│  "))
    return lines


def device_text(device: Device) -> str:
    """A device as text: its repr, UDN, maker and model, and the tree of services."""
    model = " ".join(x for x in (device.model_name, device.model_number or "") if x)
    maker = " — ".join(x for x in (device.manufacturer, model) if x)
    lines = [repr(device), f"  {plain(device.udn)}" + (f"  {plain(maker)}" if maker else "")]
    return "\n".join(lines + _tree_text(device, "  "))


# --- services and actions ----------------------------------------------------------------------


def _arguments(action: Action) -> List[Tuple[str, str, ArgumentInfo, StateVariableInfo]]:
    """(Python name, direction, argument, variable) for each argument, the in-arguments first."""
    rows = [(param, "in", arg, var) for param, (arg, var) in zip(action._params, action._in)]
    rows += [(arg.name, "out", arg, var) for arg, var in action._out]
    return rows


def signature_text(action: Action, outs: bool = False) -> str:
    """``AddPortMapping(NewRemoteHost: str, ...) -> dict`` with the Python types; with *outs*,
    the out-arguments follow as a comment (``  # NewExternalIPAddress``)."""
    params = ", ".join(
        f"{param}: {python_type(var).__name__}"
        for param, (_, var) in zip(action._params, action._in)
    )
    names = ", ".join(arg.name for arg, _ in action._out)
    return f"{action.name}({params}) -> dict" + (f"  # {names}" if outs and names else "")


def _argument_rows(action: Action) -> List[List[str]]:
    return [
        [
            f"<code>{esc(param)}</code>",
            "→ in" if direction == "in" else "← out",
            f"<code>{esc(var.data_type)}</code>",
            esc(constraints(var)),
            f'<span class="upnpy-dim">{esc(arg.related_state_variable)}</span>',
        ]
        for param, direction, arg, var in _arguments(action)
    ]


_ARGUMENT_HEADER = ["Argument", "Direction", "Type", "Range / allowed values", "State variable"]


def action_html(action: Action) -> str:
    """An action as HTML: its signature and a table of its arguments."""
    service = action.service
    head = (
        f'<div class="upnpy-head"><code><b>{esc(service.name)}.{esc(signature_text(action))}'
        f'</b></code> <span class="upnpy-dim">of {esc(service.service_type)}</span></div>'
    )
    rows = _argument_rows(action)
    body = table(_ARGUMENT_HEADER, rows) if rows else '<div class="upnpy-dim">no arguments</div>'
    return box("action", head + body)


def action_text(action: Action) -> str:
    """An action as text: its signature, then one line per argument."""
    rows = [
        [plain(param), direction, plain(var.data_type), plain(constraints(var))]
        for param, direction, _, var in _arguments(action)
    ]
    head = f"{plain(action.service.name)}.{plain(signature_text(action))}"
    return "\n".join([head, *text_table(rows, "  ")])


def _service_head(service: Service) -> str:
    return (
        f'<div class="upnpy-head">⚙ <b><code>{esc(service.name)}:{esc(service.version)}</code>'
        f'</b> <span class="upnpy-dim">{esc(service.service_id)} of '
        f"{esc(service.device.friendly_name)}</span></div>"
    )


def _evented(service: Service) -> List[StateVariableInfo]:
    return [var for var in service.state_variables.values() if var.send_events]


def service_html(service: Service) -> str:
    """A service as HTML: a table of its actions and their arguments, and its evented state
    variables. Reads the SCPD on first use; a failure is shown in the output."""
    head = _service_head(service)
    try:
        actions = service.actions
        evented = _evented(service)
    except Exception as exc:  # display never raises
        error = f"{type(exc).__name__}: {exc}"
        return box("service", head + f'<div class="upnpy-err">SCPD unavailable: {esc(error)}</div>')
    rows: List[List[str]] = []
    for action in actions.values():
        arguments = _argument_rows(action) or [["", "", "", "", ""]]
        first = f'<td rowspan="{len(arguments)}"><b><code>{esc(action.name)}</code></b></td>'
        for number, cells in enumerate(arguments):
            rows.append(([first] if number == 0 else []) + [f"<td>{c}</td>" for c in cells])
    header = "".join(f"<th>{esc(h)}</th>" for h in ["Action", *_ARGUMENT_HEADER])
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    parts = [
        head,
        f'<table class="upnpy-t"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'
        if rows
        else '<div class="upnpy-dim">no actions</div>',
    ]
    if evented:
        parts.append(f"<div>Evented state variables ({len(evented)}):</div>")
        parts.append(
            table(
                ["Variable", "Type", "Range / allowed values", "Default"],
                [
                    [
                        f"<code>{esc(var.name)}</code>",
                        f"<code>{esc(var.data_type)}</code>",
                        esc(constraints(var)),
                        esc(var.default_value or ""),
                    ]
                    for var in evented
                ],
            )
        )
    else:
        parts.append('<div class="upnpy-dim">no evented state variables</div>')
    return box("service", "".join(parts))


def service_text(service: Service) -> str:
    """A service as text: its repr, one signature line per action, and its evented variables."""
    lines = [repr(service)]
    try:
        actions = service.actions
        evented = _evented(service)
    except Exception as exc:  # display never raises
        error = f"{type(exc).__name__}: {exc}"
        return "\n".join([*lines, f"  SCPD unavailable: {plain(error)}"])
    lines += [f"  {plain(signature_text(action, outs=True))}" for action in actions.values()]
    if evented:
        lines.append("  evented: " + ", ".join(plain(var.name) for var in evented))
    return "\n".join(lines)


# --- events and subscriptions ------------------------------------------------------------------


def _when(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def event_html(event: Event) -> str:
    """An event as HTML: its service, SEQ, arrival time, and its variables' values."""
    service = event.service
    head = (
        f'<div class="upnpy-head">Event from <b><code>{esc(service.name)}:{esc(service.version)}'
        f"</code></b> of {esc(service.device.friendly_name)} — SEQ {event.seq} "
        f'<span class="upnpy-dim">at {esc(_when(event.received_at))}, SID '
        f"<code>{esc(event.sid)}</code></span></div>"
    )
    rows = []
    for name, value in event.variables.items():
        raw = event.raw.get(name)
        shown = value_text(value)
        raw_cell = "" if raw is None or repr(raw) == shown else esc(value_text(raw))
        rows.append([f"<code>{esc(name)}</code>", f"<code>{esc(shown)}</code>", raw_cell])
    body = table(["Variable", "Value", "As sent (when it differs)"], rows)
    return box("event", head + body)


def event_text(event: Event) -> str:
    """An event as text: its repr's first line, then one line per variable."""
    head = f"Event {plain(event.service.name)} seq={event.seq} at {_when(event.received_at)}"
    rows = [[plain(name), plain(value_text(value))] for name, value in event.variables.items()]
    return "\n".join([head, *text_table(rows, "  ")])


def _callback_name(sub: Subscription) -> str:
    if sub.callback is None:
        return "none (events are read with get() or a for loop)"
    return str(getattr(sub.callback, "__qualname__", None) or repr(sub.callback))


def _subscription_state(sub: Subscription) -> str:
    if sub.active:
        return "active"
    return f"failed: {sub.error}" if sub.error is not None else "cancelled"


def subscription_html(sub: Subscription) -> str:
    """A subscription as HTML: its service, state, SID, timeout, URLs and queued events."""
    service = sub.service
    state = _subscription_state(sub)
    head = (
        f'<div class="upnpy-head">Subscription to <b><code>{esc(service.name)}:'
        f"{esc(service.version)}</code></b> of {esc(service.device.friendly_name)} — "
        f"<b>{esc(state.partition(':')[0])}</b></div>"
    )
    renew = "every ~half the granted time" if sub.auto_renew else "no (call renew())"
    details = key_values(
        [
            ("SID", f"<code>{esc(sub.sid or '')}</code>"),
            ("State", esc(state)),
            ("Granted", f"{sub.timeout} s (asked {sub.requested_timeout} s)"),
            ("Auto-renew", esc(renew)),
            ("Events queued", str(len(sub._events))),
            ("Callback", esc(_callback_name(sub))),
            ("Callback URL", f"<code>{esc(sub.callback_url)}</code>"),
            ("Event URL", link(service.event_sub_url)),
        ]
    )
    return box("subscription", head + details)


def subscription_text(sub: Subscription) -> str:
    """A subscription as text: its repr, then its URLs and queued events."""
    return "\n".join(
        [
            repr(sub),
            f"  state: {plain(_subscription_state(sub))}, {len(sub._events)} events queued",
            f"  callback URL: {plain(sub.callback_url)}",
            f"  event URL: {plain(sub.service.event_sub_url)}",
        ]
    )


# --- port mappings -----------------------------------------------------------------------------


def _lease(mapping: PortMapping) -> str:
    return "permanent" if mapping.lease == 0 else f"{mapping.lease} s"


def _external(mapping: PortMapping) -> str:
    return f"{mapping.external_ip or '*'}:{mapping.external_port}"


def port_mappings_html(mappings: Sequence[PortMapping]) -> str:
    """Port mappings as an HTML table (one row each)."""
    if not mappings:
        return box("mappings", '<div class="upnpy-dim">no port mappings</div>')
    rows = [
        [
            esc(m.protocol),
            f"<code>{esc(_external(m))}</code>",
            f"<code>{esc(m.internal_client)}:{m.internal_port}</code>",
            esc(_lease(m)),
            "yes" if m.enabled else "no",
            esc(m.remote_host or "any"),
            esc(m.description),
        ]
        for m in mappings
    ]
    header = ["Protocol", "External", "Internal", "Lease", "Enabled", "Remote host", "Description"]
    return box("mappings", table(header, rows))


def port_mappings_text(mappings: Sequence[PortMapping]) -> str:
    """Port mappings as a text table, as ``upnpy ports`` prints them."""
    if not mappings:
        return "[]"
    rows = [["PROTO", "EXTERNAL", "INTERNAL", "LEASE", "DESCRIPTION"]] + [
        [
            plain(m.protocol),
            plain(_external(m)),
            plain(f"{m.internal_client}:{m.internal_port}"),
            _lease(m) + ("" if m.enabled else " (disabled)"),
            plain(m.description),
        ]
        for m in mappings
    ]
    return "\n".join(text_table(rows))


# --- media ---------------------------------------------------------------------------------------

#: Characters of a title shown in the text table.
MAX_TITLE = 40


def _first(obj: MediaObject) -> Optional[MediaResource]:
    return obj.resources[0] if obj.resources else None


def _length(obj: MediaObject) -> str:
    res = _first(obj)
    return format_duration(res.duration) if res is not None and res.duration is not None else ""


def _kind(obj: MediaObject) -> str:
    """The last part of the object's class: ``musicTrack``, ``storageFolder``."""
    return obj.upnp_class.rsplit(".", 1)[-1]


def _children(obj: MediaObject) -> str:
    count = getattr(obj, "child_count", None)
    return "" if count is None else f"{count} children"


def _size(size: Optional[int]) -> str:
    """``960044`` → ``960.0 kB`` (decimal units, as file managers show media)."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def media_html(objects: Sequence[MediaObject]) -> str:
    """A Browse or Search result as an HTML table: album art (fetched by the browser; the
    column only when some object has it), title, class, duration, type, size, and a link to
    the first resource (or a container's count of children)."""
    if not objects:
        return box("media", '<div class="upnpy-dim">no objects</div>')
    arts = [web_url(obj.album_art_url) for obj in objects]
    rows = []
    for obj, art in zip(objects, arts):
        res = _first(obj)
        rows.append(
            [
                f'<img src="{esc(art)}" width="32" height="32" alt="">' if art else "",
                esc(obj.title),
                esc(_kind(obj)),
                esc(_length(obj)),
                esc(res.mime_type or "") if res is not None else "",
                esc(_size(res.size)) if res is not None else "",
                link(res.url, "open") if res is not None else esc(_children(obj)),
                f'<span class="upnpy-dim"><code>{esc(obj.id)}</code></span>',
            ][0 if any(arts) else 1 :]
        )
    header = ["", "Title", "Class", "Duration", "Type", "Size", "Media", "ID"]
    return box("media", table(header[0 if any(arts) else 1 :], rows))


def media_text(objects: Sequence[MediaObject]) -> str:
    """A Browse or Search result as a text table, as ``upnpy browse`` prints it."""
    if not objects:
        return "[]"
    rows = [["ID", "CLASS", "TITLE", "DURATION", "URL"]]
    for obj in objects:
        title = plain(obj.title)
        title = title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"
        res = _first(obj)
        last = res.url if res is not None else _children(obj)
        rows.append([plain(obj.id), plain(_kind(obj)), title, _length(obj), plain(last)])
    return "\n".join(text_table(rows))
