"""Device descriptions and SCPDs: bytes in, immutable records out.

Nothing here touches the network: :func:`parse_device` and :func:`parse_scpd` take the
document bytes and the URL they came from and return the frozen records of
:mod:`upnpy._records`. The proxy layer (:mod:`upnpy._proxy`) wraps them with behaviour.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from types import FrameType, MappingProxyType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NoReturn,
    Optional,
    Tuple,
)
from urllib.parse import urljoin

from . import _canonical as canonical
from ._errors import translate
from ._exceptions import DescriptionError, UPnPWarning
from ._http import url_problem
from ._lexical import (
    FALSE_WORDS,
    INT_TEXT,
    KNOWN_TYPES,
    NUMBER_TEXT,
    TRUE_WORDS,
    XML_WHITESPACE,
    canonical_type,
)
from ._reader import Family, Node, Schema, Unusual, first_text
from ._records import (
    ActionInfo,
    ArgumentInfo,
    DeviceInfo,
    IconInfo,
    Number,
    ScpdInfo,
    ServiceInfo,
    StateVariableInfo,
)
from ._xml import child, children, parse_xml, text

__all__ = ["parse_device", "parse_scpd", "index_scpd", "ScpdIndex", "MAX_DEVICE_DEPTH"]

#: Embedded devices nested deeper than this are refused (real trees are 2 or 3 levels deep).
MAX_DEVICE_DEPTH = 16

# An http(s) URL's scheme and host, when plain (ASCII, no brackets, nothing urlsplit strips).
_PLAIN_ORIGIN = re.compile(r"(https?)://([A-Za-z0-9.\-_~%!$&'()*+,;=:@]*)(?:[/?#]|\Z)", re.I)
# An absolute path of printable ASCII (no space or backslash), not "//" (a network path),
# with no query, fragment or parameters (urljoin drops empty ones).
_PLAIN_PATH = re.compile(r"/(?!/)[!\"$-:<->@-\[\]-~]*")
# An absolute http(s) URL made of a plain host and such a path.
_PLAIN_ABSOLUTE = re.compile(r"https?://[A-Za-z0-9.\-_~%!$&'()*+,=:@]+(?:/[!\"$-:<->@-\[\]-~]*)?")

#: ``get(name)``: a field's text (``None`` when missing, ``""`` when empty).
Get = Callable[[str], Optional[str]]
#: ``warn(message, url)``: what to do about a tolerated oddity.
Warn = Callable[[str, str], None]


def parse_device(data: bytes, location: str) -> DeviceInfo:
    """Parse a root device description.

    Relative URLs are resolved against ``URLBase`` when the description has a non-empty one,
    else against *location*; absolute URLs are kept as they are.

    :param data: the description bytes.
    :param location: the URL it was fetched from.
    :returns: the root device, with its embedded devices as a tree.
    :raises DescriptionError: when it is not a UPnP device description (malformed XML, a DTD,
        another root element, no ``<device>``, or embedded devices nested more than
        :data:`MAX_DEVICE_DEPTH` levels deep).
    """
    if isinstance(data, bytes):
        root = canonical.description(data)
        if root is None:
            root = DESCRIPTION.read(data)
        if root is not None:
            try:
                return _fast_root(root, location)
            except Unusual:
                pass
    return _lenient_root(_document(data, location, "root"), location)


def parse_scpd(data: bytes, url: str) -> ScpdInfo:
    """Parse a service description (SCPD).

    Odd but usable content is tolerated with a :class:`~upnpy.exceptions.UPnPWarning`:
    entries without a name are skipped, an unknown direction is read as ``in``, an unknown
    dataType is kept (and later treated as ``string``), an inverted range is swapped.

    :param data: the SCPD bytes.
    :param url: the SCPDURL it was fetched from, for messages.
    :returns: the actions and state variables, by name, in document order.
    :raises DescriptionError: when it is not an SCPD (malformed XML, a DTD, or another root
        element, e.g. the device description served again).
    """
    if isinstance(data, bytes):
        try:
            plain = canonical.split(data)
            if plain is not None:
                return _canonical_scpd(plain, url)
            scpd = SCPD.read(data)
            if scpd is not None:
                return _fast_scpd(scpd, url)
        except Unusual:
            pass
    return _lenient_scpd(_document(data, url, "scpd"), url)


# -- the readers ----------------------------------------------------------------------------------
#
# The records are built by the same functions (the section "records" below) from any of three
# readings: a canonical document's (upnpy._canonical: one regular expression checks the whole
# description or SCPD, no parser), the fast tree of upnpy._reader (expat's tree built in C, only
# the fields read visited), or the lenient one of upnpy._xml (xmltodict's dicts). The first
# two give the same Node for the same element. A builder reads texts through ``get(name)``
# (``None`` when missing, ``""`` when empty, else stripped) and reports a tolerated oddity
# through ``warn(message, url)``: a UPnPWarning on the lenient path; on the fast paths,
# _unusual, which abandons them for the lenient one (so that every warning comes from one
# place, and a fast result is a clean one).

_DEVICE_FIELDS = frozenset(
    (
        "deviceType",
        "friendlyName",
        "manufacturer",
        "modelName",
        "UDN",
        "manufacturerURL",
        "modelDescription",
        "modelNumber",
        "modelURL",
        "serialNumber",
        "UPC",
        "presentationURL",
    )
)
DESCRIPTION = Family(
    "root",
    {
        "root": Schema(
            frozenset(("URLBase",)), records={"device": "device", "specVersion": "specVersion"}
        ),
        "specVersion": Schema(frozenset(("major", "minor"))),
        "device": Schema(
            _DEVICE_FIELDS,
            lists={
                "iconList": ("icon", "icon"),
                "serviceList": ("service", "service"),
                "deviceList": ("device", "device"),
            },
        ),
        "icon": Schema(frozenset(("mimetype", "width", "height", "depth", "url"))),
        "service": Schema(
            frozenset(("serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL"))
        ),
    },
)
SCPD = Family(
    "scpd",
    {
        "scpd": Schema(
            lists={
                "actionList": ("action", "action"),
                "serviceStateTable": ("stateVariable", "stateVariable"),
            }
        ),
        "action": Schema(frozenset(("name",)), lists={"argumentList": ("argument", "argument")}),
        "argument": Schema(frozenset(("name", "direction", "relatedStateVariable", "retval"))),
        "stateVariable": Schema(
            frozenset(("name", "dataType", "defaultValue", "sendEventsAttribute")),
            lists={"allowedValueList": ("allowedValue", "")},
            records={"allowedValueRange": "allowedValueRange"},
            attributes=True,
        ),
        "allowedValueRange": Schema(frozenset(("minimum", "maximum", "step"))),
    },
)


def _unusual(message: str, url: str) -> NoReturn:
    """The fast path's ``warn``: met something to warn about, it hands the document on."""
    raise Unusual(message)


def _nodes(node: Node, kind: str) -> List[Node]:
    return node.items.get(kind, [])  # type: ignore[return-value]


def _fast_root(root: Node, location: str) -> DeviceInfo:
    devices = _nodes(root, "device")
    if not devices or devices[0].empty:  # no <device>, or an empty one: the lenient decides
        raise Unusual("no device")
    get = root.fields.get
    base = _base_url(get, location, _unusual)
    spec = _nodes(root, "specVersion")
    version = _spec_version(spec[0].fields.get if spec else _missing)
    return _fast_device(devices[0], base, location, 0, version)


def _fast_device(
    node: Node, base: str, url: str, depth: int, spec_version: Optional[Tuple[int, int]] = None
) -> DeviceInfo:
    if depth > MAX_DEVICE_DEPTH:
        raise Unusual("too deep")
    embedded = []
    for sub in _nodes(node, "device"):
        if sub.empty:
            raise Unusual("an empty embedded device")
        embedded.append(_fast_device(sub, base, url, depth + 1))
    get = node.fields.get
    icons = [_icon(icon.fields.get, base, url, _unusual) for icon in _nodes(node, "icon")]
    services = [
        _service(service.fields.get, get, base, url, _unusual)
        for service in _nodes(node, "service")
    ]
    return _device(get, icons, services, embedded, base, url, spec_version, _unusual)


def _fast_scpd(scpd: Node, url: str) -> ScpdInfo:
    actions = [_fast_action(action, url) for action in _nodes(scpd, "action")]
    variables = [_fast_variable(variable, url) for variable in _nodes(scpd, "stateVariable")]
    return _scpd(actions, variables, url, _unusual)


def _canonical_scpd(scpd: canonical.Scpd, url: str) -> ScpdInfo:
    actions = [_fast_action(canonical.action_node(*item), url) for item in scpd.actions]
    variables = [_fast_variable(canonical.variable_node(*item), url) for item in scpd.variables]
    return _scpd(actions, variables, url, _unusual)


def _fast_action(action: Node, url: str) -> Optional[ActionInfo]:
    name = _name(action.fields.get("name"))
    arguments = [
        _argument(arg.fields.get, "retval" in arg.fields, name, url, _unusual)
        for arg in (_nodes(action, "argument") if name else ())
    ]
    return _action(name, arguments, url, _unusual)


def _fast_variable(variable: Node, url: str) -> Optional[StateVariableInfo]:
    values = variable.items.get("allowedValue")
    ranges = _nodes(variable, "allowedValueRange")
    return _variable(
        variable.fields.get,
        None if values is None else tuple(values),  # type: ignore[arg-type]
        ranges[0].fields.get if ranges else None,
        url,
        _unusual,
    )


class ScpdIndex:
    """An SCPD read by a fast path, its records built one at a time on first use.

    What a first call needs is an action and the state variables of its arguments: the
    whole document is checked (by the canonical grammar of :mod:`upnpy._canonical`, or by
    expat building its tree) and its actions and state variables are found by name, but
    only those asked for are read into records. A record that is not plain raises
    :class:`~upnpy._reader.Unusual`: then :func:`parse_scpd` reads the whole document, and
    warns about what it tolerates.

    :param actions: ``(name, item)`` of every action, in document order.
    :param variables: gives ``(name, item)`` of every state variable, when first needed.
    :param fill: the node of an item, and its kind (``"action"``, ``"stateVariable"``).
    :raises Unusual: from the constructor, or the first :meth:`variable`, for actions or
        state variables without a name or with one that repeats.
    """

    def __init__(
        self,
        url: str,
        actions: Iterable[Tuple[Optional[str], Any]],
        variables: Callable[[], Iterable[Tuple[Optional[str], Any]]],
        fill: Callable[[Any, str], Node],
    ) -> None:
        self.url = url
        #: the actions' items by name, in document order
        self.actions = _named(actions)
        self._list_variables = variables
        self._variables: Optional[Dict[str, Any]] = None
        self._fill = fill

    def action(self, name: str) -> Optional[ActionInfo]:
        """The action called *name*, or ``None`` when the SCPD has none."""
        item = self.actions.get(name)
        return None if item is None else _fast_action(self._fill(item, "action"), self.url)

    def variable(self, name: str) -> Optional[StateVariableInfo]:
        """The state variable called *name*, or ``None`` when the SCPD has none."""
        if self._variables is None:
            self._variables = _named(self._list_variables())
        item = self._variables.get(name)
        if item is None:
            return None
        return _fast_variable(self._fill(item, "stateVariable"), self.url)


def index_scpd(data: bytes, url: str) -> Optional[ScpdIndex]:
    """The :class:`ScpdIndex` of a plain SCPD, or ``None`` (then :func:`parse_scpd` it)."""
    try:
        return _index(data, url) if isinstance(data, bytes) else None
    except Unusual:
        return None


def _index(data: bytes, url: str) -> Optional[ScpdIndex]:
    scpd = canonical.split(data)
    if scpd is not None:
        return ScpdIndex(
            url,
            ((name, (name, body)) for name, body in scpd.actions),
            lambda: ((name, (events, name, body)) for events, name, body in scpd.variables),
            _canonical_node,
        )
    top = SCPD.document(data)
    if top is None:
        return None
    return ScpdIndex(
        url,
        ((first_text(element, "name"), element) for element in SCPD.items(top, "action")),
        lambda: (
            (first_text(element, "name"), element) for element in SCPD.items(top, "stateVariable")
        ),
        SCPD.fill,
    )


def _canonical_node(item: Any, kind: str) -> Node:
    """The node of an item of :func:`upnpy._canonical.split`."""
    return canonical.action_node(*item) if kind == "action" else canonical.variable_node(*item)


def _named(items: Iterable[Tuple[Optional[str], Any]]) -> Dict[str, Any]:
    """Items by their ``<name>``; a missing or repeated one is for the full parse."""
    named: Dict[str, Any] = {}
    for written, item in items:
        name = _name(written)
        if not name or name in named:
            raise Unusual(f"an action or state variable named {name!r}")
        named[name] = item
    return named


def _lenient_root(root: Any, location: str) -> DeviceInfo:
    device = child(root, "device")
    if not isinstance(device, dict):
        raise DescriptionError("the device description has no <device>", url=location)
    base = _base_url(_getter(root), location, _warn)
    spec = child(root, "specVersion")
    return _lenient_device(device, base, location, 0, _spec_version(_getter(spec)))


def _lenient_device(
    node: Mapping[str, Any],
    base: str,
    url: str,
    depth: int,
    spec_version: Optional[Tuple[int, int]] = None,
) -> DeviceInfo:
    if depth > MAX_DEVICE_DEPTH:
        raise DescriptionError(
            f"embedded devices nested more than {MAX_DEVICE_DEPTH} levels deep", url=url
        )
    embedded: List[DeviceInfo] = []
    for sub in _listed(node, "deviceList", "device"):
        if isinstance(sub, dict):
            embedded.append(_lenient_device(sub, base, url, depth + 1))
        else:
            _warn("skipping an empty embedded <device>", url)
    get = _getter(node)
    icons = [_icon(_getter(icon), base, url, _warn) for icon in _listed(node, "iconList", "icon")]
    services = [
        _service(_getter(service), get, base, url, _warn)
        for service in _listed(node, "serviceList", "service")
    ]
    return _device(get, icons, services, embedded, base, url, spec_version, _warn)


def _lenient_scpd(scpd: Any, url: str) -> ScpdInfo:
    actions = []
    for node in _listed(scpd, "actionList", "action"):
        name = _name(text(node, "name"))
        arguments = [
            _argument(_getter(arg), isinstance(arg, dict) and "retval" in arg, name, url, _warn)
            for arg in (_listed(node, "argumentList", "argument") if name else ())
        ]
        actions.append(_action(name, arguments, url, _warn))
    variables = []
    for node in _listed(scpd, "serviceStateTable", "stateVariable"):
        value_lists = children(node, "allowedValueList")
        allowed = (
            tuple(
                text(value) or ""
                for value_list in value_lists
                for value in _items(value_list, "allowedValue")
            )
            if value_lists
            else None
        )
        value_range = child(node, "allowedValueRange")
        variables.append(
            _variable(
                _getter(node),
                allowed,
                None if value_range is None else _getter(value_range),
                url,
                _warn,
            )
        )
    return _scpd(actions, variables, url, _warn)


def _items(node: Any, name: str) -> List[Any]:
    """:func:`~upnpy._xml.children`, except that a lone empty ``<name/>`` is an item (an
    empty text), as it is among others and in the fast paths, not nothing."""
    if isinstance(node, dict) and name in node and node[name] is None:
        return [None]
    return children(node, name)


def _getter(node: Any) -> Get:
    """``get(name)`` over a node of the lenient tree."""
    return lambda name: text(node, name)


def _missing(name: str) -> Optional[str]:
    return None


def _warn(message: str, url: str) -> None:
    """Warn with a UPnPWarning attributed to the first caller outside this module."""
    frame: Optional[FrameType] = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{message} ({url})" if url else message, UPnPWarning, stacklevel=level)


def _document(data: bytes, url: str, expected: str) -> Any:
    """The content of the root element, which must be called *expected*."""
    with translate(url, malformed=DescriptionError):
        parsed = parse_xml(data, url=url)
    name, node = next(iter(parsed.items()))
    if name != expected:
        hint = " (a device description, not an SCPD)" if name == "root" else ""
        raise DescriptionError(f"expected a <{expected}> document, found <{name}>{hint}", url=url)
    return node


def _listed(node: Any, list_name: str, item_name: str) -> Iterator[Any]:
    """The items of every ``<list_name>`` child: ``<serviceList><service/>...``."""
    for group in children(node, list_name):
        yield from children(group, item_name)


# -- small helpers --------------------------------------------------------------------------------


def _name(written: Optional[str]) -> str:
    """A UPnP name: whitespace anywhere in it (CRLF, indentation) is dropped."""
    return "".join((written or "").split())


def _small_int(written: Optional[str]) -> Optional[int]:
    """The value of 1 to 9 ASCII digits, else ``None``."""
    if written and len(written) <= 9 and written.isascii() and written.isdigit():
        return int(written)
    return None


def _clean_url(raw: str, url: str, warn: Warn) -> str:
    """Strip a URL and write its spaces as ``%20``; one holding a control character inside
    (a line break that could split a request) is refused with a warning: ``""``."""
    cleaned = raw.strip(XML_WHITESPACE)
    problem = url_problem(cleaned)
    if problem is not None:
        warn(f"ignoring the URL {cleaned[:80]!r}: {problem}", url)
        return ""
    return cleaned.replace(" ", "%20")


def _join(base: str, ref: str, url: str, warn: Warn) -> str:
    if _PLAIN_ABSOLUTE.fullmatch(ref) and "/." not in ref:  # what urljoin gives back
        return ref
    if _PLAIN_PATH.fullmatch(ref) and "/." not in ref:
        origin = _origin(base)  # the usual case, "/ctl/IPConn" on a plain http base: what
        if origin:  # urljoin gives, at a tenth of the cost
            return origin + ref
    try:
        return urljoin(base, ref)
    except ValueError as exc:  # e.g. a malformed IPv6 host
        warn(f"cannot resolve URL {ref!r} against {base!r} ({exc}): kept as written", url)
        return ref


@functools.lru_cache(maxsize=64)
def _origin(base: str) -> str:
    """``http://host:port`` of a plain http(s) *base* (ASCII, no brackets, nothing urlsplit
    strips), or ``""``."""
    plain = _PLAIN_ORIGIN.match(base)
    return f"{plain.group(1).lower()}://{plain.group(2)}" if plain else ""


def _url(written: Optional[str], base: str, url: str, warn: Warn) -> str:
    """The absolute URL written (``""`` when it is missing or empty)."""
    if written and _PLAIN_PATH.fullmatch(written):  # nothing to clean: "/ctl/IPConn"
        origin = _origin(base) if "/." not in written else ""
        return origin + written if origin else _join(base, written, url, warn)
    cleaned = _clean_url(written or "", url, warn)
    return _join(base, cleaned, url, warn) if cleaned else ""


def _web_url(written: Optional[str], base: str, url: str, warn: Warn) -> Optional[str]:
    """manufacturerURL/modelURL: like :func:`_url`, but ``www.example.com`` gets ``http://``."""
    cleaned = _clean_url(written or "", url, warn)
    if not cleaned:
        return None
    if cleaned[:4].lower() == "www.":  # a host name, not a path below the base
        return "http://" + cleaned
    return _join(base, cleaned, url, warn)


# -- records --------------------------------------------------------------------------------------


def _spec_version(get: Get) -> Optional[Tuple[int, int]]:
    major, minor = _small_int(get("major")), _small_int(get("minor"))
    return None if major is None or minor is None else (major, minor)


def _base_url(get: Get, location: str, warn: Warn) -> str:
    """URLBase (itself resolved against *location*) when non-empty, else *location*."""
    cleaned = _clean_url(get("URLBase") or "", location, warn)
    return _join(location, cleaned, location, warn) if cleaned else location


def _device(
    get: Get,
    icons: List[Optional[IconInfo]],
    services: List[Optional[ServiceInfo]],
    devices: List[DeviceInfo],
    base: str,
    url: str,
    spec_version: Optional[Tuple[int, int]],
    warn: Warn,
) -> DeviceInfo:
    return DeviceInfo(
        device_type=get("deviceType") or "",
        friendly_name=get("friendlyName") or "",
        manufacturer=get("manufacturer") or "",
        model_name=get("modelName") or "",
        udn=get("UDN") or "",
        manufacturer_url=_web_url(get("manufacturerURL"), base, url, warn),
        model_description=get("modelDescription") or None,
        model_number=get("modelNumber") or None,
        model_url=_web_url(get("modelURL"), base, url, warn),
        serial_number=get("serialNumber") or None,
        upc=get("UPC") or None,
        presentation_url=_url(get("presentationURL"), base, url, warn) or None,
        icons=tuple(icon for icon in icons if icon is not None),
        services=tuple(service for service in services if service is not None),
        devices=tuple(devices),
        spec_version=spec_version,
        base_url=base,
    )


def _icon(get: Get, base: str, url: str, warn: Warn) -> Optional[IconInfo]:
    icon_url = _url(get("url"), base, url, warn)
    if not icon_url:  # nothing to fetch: not an icon
        return None
    return IconInfo(
        mimetype=get("mimetype") or "",
        width=_small_int(get("width")),
        height=_small_int(get("height")),
        depth=_small_int(get("depth")),
        url=icon_url,
    )


def _service(get: Get, device: Get, base: str, url: str, warn: Warn) -> Optional[ServiceInfo]:
    service_type = get("serviceType") or ""
    if not service_type:
        who = device("friendlyName") or device("UDN") or "a device"
        warn(f"skipping a service of {who} with no serviceType", url)
        return None
    return ServiceInfo(
        service_type=service_type,
        service_id=get("serviceId") or "",
        scpd_url=_url(get("SCPDURL"), base, url, warn),
        control_url=_url(get("controlURL"), base, url, warn),
        event_sub_url=_url(get("eventSubURL"), base, url, warn),
    )


def _scpd(
    actions: Iterable[Optional[ActionInfo]],
    variables: Iterable[Optional[StateVariableInfo]],
    url: str,
    warn: Warn,
) -> ScpdInfo:
    return ScpdInfo(
        MappingProxyType(_by_name(actions, "action", url, warn)),
        MappingProxyType(_by_name(variables, "state variable", url, warn)),
    )


def _by_name(records: Iterable[Optional[Any]], what: str, url: str, warn: Warn) -> Dict[str, Any]:
    """Records by ``.name`` in document order; skipped (``None``) and repeated ones dropped."""
    found: Dict[str, Any] = {}
    for record in records:
        if record is None:
            continue
        if record.name in found:
            warn(f"duplicate {what} {record.name}: the first one is kept", url)
            continue
        found[record.name] = record
    return found


def _action(
    name: str, arguments: List[Optional[ArgumentInfo]], url: str, warn: Warn
) -> Optional[ActionInfo]:
    if not name:
        warn("skipping an action with no name", url)
        return None
    return ActionInfo(name=name, arguments=tuple(arg for arg in arguments if arg is not None))


def _argument(get: Get, retval: bool, action: str, url: str, warn: Warn) -> Optional[ArgumentInfo]:
    name = _name(get("name"))
    if not name:
        warn(f"{action}: skipping an argument with no name", url)
        return None
    direction = (get("direction") or "").lower()
    if direction not in ("in", "out"):
        warn(f"{action}: argument {name} has direction {direction!r}; treated as 'in'", url)
        direction = "in"
    return ArgumentInfo(
        name=name,
        direction=direction,
        related_state_variable=_name(get("relatedStateVariable")),
        retval=retval,
    )


def _variable(
    get: Get,
    allowed: Optional[Tuple[str, ...]],
    value_range: Optional[Get],
    url: str,
    warn: Warn,
) -> Optional[StateVariableInfo]:
    name = _name(get("name"))
    if not name:
        warn("skipping a state variable with no name", url)
        return None
    written = get("dataType") or ""
    data_type = canonical_type(written)
    if not data_type:
        warn(f"state variable {name} has no dataType; treated as string", url)
        data_type = "string"
    elif data_type not in KNOWN_TYPES:
        warn(f"state variable {name} has an unknown dataType {data_type!r}; treated as string", url)
    minimum = maximum = step = None
    if value_range is not None:
        minimum = _number(value_range("minimum"), "minimum", name, url, warn)
        maximum = _number(value_range("maximum"), "maximum", name, url, warn)
        step = _number(value_range("step"), "step", name, url, warn)
        if minimum is not None and maximum is not None and minimum > maximum:
            warn(f"state variable {name} has minimum {minimum} > maximum {maximum}: swapped", url)
            minimum, maximum = maximum, minimum
        if step is not None and step <= 0:
            warn(f"state variable {name} has step {step}: ignored", url)
            step = None
    send_events = get("@sendEvents")
    if send_events is None:  # some devices write it as an element
        send_events = get("sendEventsAttribute")
    return StateVariableInfo(
        name=name,
        data_type=data_type,
        default_value=get("defaultValue"),
        allowed_values=allowed or None,
        minimum=minimum,
        maximum=maximum,
        step=step,
        send_events=_flag(send_events, True, name, "sendEvents", url, warn),
        multicast=_flag(get("@multicast"), False, name, "multicast", url, warn),
    )


def _number(
    written: Optional[str], field_name: str, variable: str, url: str, warn: Warn
) -> Optional[Number]:
    """An allowedValueRange bound: int when written as one, else float; garbage is None."""
    if not written:
        return None
    try:
        if INT_TEXT.fullmatch(written):
            return int(written)
        if NUMBER_TEXT.fullmatch(written):
            number = float(written)
            if number not in (float("inf"), float("-inf")):
                return number
    except ValueError:  # more digits than int() accepts
        pass
    warn(f"state variable {variable}: {field_name} {written[:40]!r} is not a number; ignored", url)
    return None


def _flag(
    written: Optional[str], default: bool, variable: str, what: str, url: str, warn: Warn
) -> bool:
    if written is None:
        return default
    word = written.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    warn(
        f"state variable {variable}: {what}={written[:40]!r} is not yes/no; "
        f"read as {'yes' if default else 'no'}",
        url,
    )
    return default
