"""Device descriptions and SCPDs: bytes in, immutable records out.

Nothing here touches the network: :func:`parse_device` and :func:`parse_scpd` take the
document bytes and the URL they came from and return the frozen records of
:mod:`upnpy._records`. The proxy layer (:mod:`upnpy._proxy`) wraps them with behaviour.
"""

from __future__ import annotations

import re
import sys
import warnings
from types import FrameType, MappingProxyType
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urljoin

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

__all__ = ["parse_device", "parse_scpd", "MAX_DEVICE_DEPTH"]

#: Embedded devices nested deeper than this are refused (real trees are 2 or 3 levels deep).
MAX_DEVICE_DEPTH = 16

_SMALL_UINT = re.compile(r"[0-9]{1,9}")


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
    root = _document(data, location, "root")
    device = child(root, "device")
    if not isinstance(device, dict):
        raise DescriptionError("the device description has no <device>", url=location)
    base = _base_url(root, location)
    return _device(device, base, location, 0, _spec_version(root))


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
    scpd = _document(data, url, "scpd")
    actions = _by_name(
        (_action(node, url) for node in _listed(scpd, "actionList", "action")), "action", url
    )
    variables = _by_name(
        (_variable(node, url) for node in _listed(scpd, "serviceStateTable", "stateVariable")),
        "state variable",
        url,
    )
    return ScpdInfo(MappingProxyType(actions), MappingProxyType(variables))


def _by_name(records: Iterable[Optional[Any]], what: str, url: str) -> Dict[str, Any]:
    """Records by ``.name`` in document order; skipped (``None``) and repeated ones dropped."""
    found: Dict[str, Any] = {}
    for record in records:
        if record is None:
            continue
        if record.name in found:
            _warn(f"duplicate {what} {record.name}: the first one is kept", url)
            continue
        found[record.name] = record
    return found


# -- reading the document -------------------------------------------------------------------------


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


# -- small accessors ------------------------------------------------------------------------------


def _listed(node: Any, list_name: str, item_name: str) -> Iterator[Any]:
    """The items of every ``<list_name>`` child: ``<serviceList><service/>...``."""
    for group in children(node, list_name):
        yield from children(group, item_name)


def _optional(node: Any, name: str) -> Optional[str]:
    """The text of child *name*, or ``None`` when it is missing or empty."""
    return text(node, name) or None


def _name(node: Any, name: str) -> str:
    """A UPnP name: whitespace anywhere in it (CRLF, indentation) is dropped."""
    return "".join((text(node, name) or "").split())


def _small_int(node: Any, name: str) -> Optional[int]:
    value = text(node, name)
    return int(value) if value and _SMALL_UINT.fullmatch(value) else None


def _clean_url(raw: str, url: str) -> str:
    """Strip a URL and write its spaces as ``%20``; one holding a control character inside
    (a line break that could split a request) is refused with a warning: ``""``."""
    cleaned = raw.strip(XML_WHITESPACE)
    problem = url_problem(cleaned)
    if problem is not None:
        _warn(f"ignoring the URL {cleaned[:80]!r}: {problem}", url)
        return ""
    return cleaned.replace(" ", "%20")


def _join(base: str, ref: str, url: str) -> str:
    try:
        return urljoin(base, ref)
    except ValueError as exc:  # e.g. a malformed IPv6 host
        _warn(f"cannot resolve URL {ref!r} against {base!r} ({exc}): kept as written", url)
        return ref


def _url(node: Any, name: str, base: str, url: str) -> str:
    """The absolute URL in child *name*, or ``""`` when it is missing or empty."""
    cleaned = _clean_url(text(node, name) or "", url)
    return _join(base, cleaned, url) if cleaned else ""


def _web_url(node: Any, name: str, base: str, url: str) -> Optional[str]:
    """manufacturerURL/modelURL: like :func:`_url`, but ``www.example.com`` gets ``http://``."""
    cleaned = _clean_url(text(node, name) or "", url)
    if not cleaned:
        return None
    if cleaned[:4].lower() == "www.":  # a host name, not a path below the base
        return "http://" + cleaned
    return _join(base, cleaned, url)


# -- device description ---------------------------------------------------------------------------


def _spec_version(root: Any) -> Optional[Tuple[int, int]]:
    spec = child(root, "specVersion")
    major, minor = _small_int(spec, "major"), _small_int(spec, "minor")
    return None if major is None or minor is None else (major, minor)


def _base_url(root: Any, location: str) -> str:
    """URLBase (itself resolved against *location*) when non-empty, else *location*."""
    cleaned = _clean_url(text(root, "URLBase") or "", location)
    return _join(location, cleaned, location) if cleaned else location


def _device(
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
            embedded.append(_device(sub, base, url, depth + 1))
        else:
            _warn("skipping an empty embedded <device>", url)
    return DeviceInfo(
        device_type=text(node, "deviceType", ""),
        friendly_name=text(node, "friendlyName", ""),
        manufacturer=text(node, "manufacturer", ""),
        model_name=text(node, "modelName", ""),
        udn=text(node, "UDN", ""),
        manufacturer_url=_web_url(node, "manufacturerURL", base, url),
        model_description=_optional(node, "modelDescription"),
        model_number=_optional(node, "modelNumber"),
        model_url=_web_url(node, "modelURL", base, url),
        serial_number=_optional(node, "serialNumber"),
        upc=_optional(node, "UPC"),
        presentation_url=_url(node, "presentationURL", base, url) or None,
        icons=tuple(_icons(node, base, url)),
        services=tuple(_services(node, base, url)),
        devices=tuple(embedded),
        spec_version=spec_version,
        base_url=base,
    )


def _icons(device: Mapping[str, Any], base: str, url: str) -> List[IconInfo]:
    icons = []
    for icon in _listed(device, "iconList", "icon"):
        icon_url = _url(icon, "url", base, url)
        if not icon_url:  # nothing to fetch: not an icon
            continue
        icons.append(
            IconInfo(
                mimetype=text(icon, "mimetype", ""),
                width=_small_int(icon, "width"),
                height=_small_int(icon, "height"),
                depth=_small_int(icon, "depth"),
                url=icon_url,
            )
        )
    return icons


def _services(device: Mapping[str, Any], base: str, url: str) -> List[ServiceInfo]:
    services = []
    for service in _listed(device, "serviceList", "service"):
        service_type = text(service, "serviceType") or ""
        if not service_type:
            who = text(device, "friendlyName") or text(device, "UDN") or "a device"
            _warn(f"skipping a service of {who} with no serviceType", url)
            continue
        services.append(
            ServiceInfo(
                service_type=service_type,
                service_id=text(service, "serviceId", ""),
                scpd_url=_url(service, "SCPDURL", base, url),
                control_url=_url(service, "controlURL", base, url),
                event_sub_url=_url(service, "eventSubURL", base, url),
            )
        )
    return services


# -- SCPD -----------------------------------------------------------------------------------------


def _action(node: Any, url: str) -> Optional[ActionInfo]:
    name = _name(node, "name")
    if not name:
        _warn("skipping an action with no name", url)
        return None
    arguments = []
    for arg in _listed(node, "argumentList", "argument"):
        argument = _argument(arg, name, url)
        if argument is not None:
            arguments.append(argument)
    return ActionInfo(name=name, arguments=tuple(arguments))


def _argument(node: Any, action: str, url: str) -> Optional[ArgumentInfo]:
    name = _name(node, "name")
    if not name:
        _warn(f"{action}: skipping an argument with no name", url)
        return None
    direction = (text(node, "direction") or "").lower()
    if direction not in ("in", "out"):
        _warn(f"{action}: argument {name} has direction {direction!r}; treated as 'in'", url)
        direction = "in"
    return ArgumentInfo(
        name=name,
        direction=direction,
        related_state_variable=_name(node, "relatedStateVariable"),
        retval=isinstance(node, dict) and "retval" in node,
    )


def _variable(node: Any, url: str) -> Optional[StateVariableInfo]:
    name = _name(node, "name")
    if not name:
        _warn("skipping a state variable with no name", url)
        return None
    written = text(node, "dataType") or ""
    data_type = canonical_type(written)
    if not data_type:
        _warn(f"state variable {name} has no dataType; treated as string", url)
        data_type = "string"
    elif data_type not in KNOWN_TYPES:
        _warn(
            f"state variable {name} has an unknown dataType {data_type!r}; treated as string", url
        )
    allowed = None
    value_lists = children(node, "allowedValueList")
    if value_lists:
        allowed = (
            tuple(
                text(value) or ""
                for value_list in value_lists
                for value in children(value_list, "allowedValue")
            )
            or None
        )
    minimum = maximum = step = None
    value_range = child(node, "allowedValueRange")
    if value_range is not None:
        minimum = _number(value_range, "minimum", name, url)
        maximum = _number(value_range, "maximum", name, url)
        step = _number(value_range, "step", name, url)
        if minimum is not None and maximum is not None and minimum > maximum:
            _warn(f"state variable {name} has minimum {minimum} > maximum {maximum}: swapped", url)
            minimum, maximum = maximum, minimum
        if step is not None and step <= 0:
            _warn(f"state variable {name} has step {step}: ignored", url)
            step = None
    send_events = text(node, "@sendEvents")
    if send_events is None:  # some devices write it as an element
        send_events = text(node, "sendEventsAttribute")
    return StateVariableInfo(
        name=name,
        data_type=data_type,
        default_value=text(node, "defaultValue"),
        allowed_values=allowed,
        minimum=minimum,
        maximum=maximum,
        step=step,
        send_events=_flag(send_events, True, name, "sendEvents", url),
        multicast=_flag(text(node, "@multicast"), False, name, "multicast", url),
    )


def _number(node: Any, field_name: str, variable: str, url: str) -> Optional[Number]:
    """An allowedValueRange bound: int when written as one, else float; garbage is None."""
    written = text(node, field_name)
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
    _warn(f"state variable {variable}: {field_name} {written[:40]!r} is not a number; ignored", url)
    return None


def _flag(written: Optional[str], default: bool, variable: str, what: str, url: str) -> bool:
    if written is None:
        return default
    word = written.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    _warn(
        f"state variable {variable}: {what}={written[:40]!r} is not yes/no; "
        f"read as {'yes' if default else 'no'}",
        url,
    )
    return default
