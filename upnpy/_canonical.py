"""Descriptions and SCPDs in the canonical shape, read by regular expressions, not a parser.

Device SDKs write these documents from templates: the elements UDA names, in its order, with
little else. Such a document is recognised by one regular expression over its whole text,
a grammar of that shape (:data:`_SCPD`, :data:`_DESCRIPTION`) which admits well-formed XML
only: ASCII, no references, comments, CDATA, DTD or processing instruction, the root element
with at most a default namespace, and in it only the elements the grammar names (see the
comments above each). Text is any character XML allows except ``<``, ``>`` and ``&``;
whitespace between elements is spaces, tabs and line ends (in the texts taken, CR LF and CR
are read as LF, as XML does). Once the grammar has matched, an SCPD's items are found by
cutting the text at their tags: in that shape an action ends at the first ``</action>`` after
it, and a field's text runs to the next ``<``. A description's devices are read in one pass
over their tags.

The result is the same :class:`~upnpy._reader.Node` as the tree reader gives: for an SCPD,
built for the items asked for only. :mod:`upnpy._description` turns it into the same records.
Any other document gives ``None``, and the tree reader (:mod:`upnpy._reader`) or the lenient
parser reads it. This module exists for speed: it reads minidlna's ContentDirectory SCPD for a
first call in about a third of the time ElementTree takes to build the tree.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple, Union

from ._reader import Node

__all__ = ["Scpd", "split", "action_node", "variable_node", "description", "DEVICE_LEVELS"]

# -- SCPDs ---------------------------------------------------------------------------------------
#
# <scpd> (a default namespace at most), in it specVersion (optional), actionList and
# serviceStateTable. An action: its name first, then an argumentList of arguments, each of
# name, direction, relatedStateVariable and retval (empty or not) in any order. A state
# variable: sendEvents="yes" or "no" at most, its name first, then dataType, defaultValue,
# allowedValueList and allowedValueRange in any order.

# No group captures anything in the SCPD's grammar, and the description's has only those its
# vendor elements need: sre saves the marks of the groups set so far at each repetition, and
# without them the grammar of a 12 KB SCPD matches in about half the time. The items are found
# after the match, at their tags.

_WS = r"[ \t\r\n]*"
# Character data without references: what XML allows, less "<", ">" and "&".
_TEXT = r"[^<>&\x00-\x08\x0b\x0c\x0e-\x1f]*"
# The same, less '"': an attribute's value, between double quotes.
_VALUE = r'[^"<>&\x00-\x08\x0b\x0c\x0e-\x1f]*'


def _holding_text(names: Tuple[str, ...]) -> str:
    """Any of the elements *names*, holding text."""
    return "|".join(rf"<{name}>{_TEXT}</{name}>" for name in names)


_RETVAL = rf"<retval{_WS}/>|<retval>{_TEXT}</retval>"
_ARGUMENT = (
    rf"<argument>{_WS}(?:(?:{_holding_text(('name', 'direction', 'relatedStateVariable'))}"
    rf"|{_RETVAL}){_WS})*</argument>"
)
_ACTION_SHAPE = (
    rf"<action>{_WS}<name>{_TEXT}</name>{_WS}"
    rf"(?:<argumentList>{_WS}(?:{_ARGUMENT}{_WS})*</argumentList>{_WS})?</action>"
)
_VALUE_LIST = (
    rf"<allowedValueList>{_WS}(?:<allowedValue>{_TEXT}</allowedValue>{_WS})*</allowedValueList>"
)
_VALUE_RANGE = (
    rf"<allowedValueRange>{_WS}(?:(?:{_holding_text(('minimum', 'maximum', 'step'))}){_WS})*"
    r"</allowedValueRange>"
)
_SEND_EVENTS = r"(?: sendEvents=\"(?:yes|no)\")?"
_VARIABLE_SHAPE = (
    rf"<stateVariable{_SEND_EVENTS}>{_WS}<name>{_TEXT}</name>{_WS}"
    rf"(?:(?:{_holding_text(('dataType', 'defaultValue'))}|{_VALUE_LIST}|{_VALUE_RANGE}){_WS})*"
    r"</stateVariable>"
)
_SCPD = re.compile(
    rf"(?:<\?xml version=\"1\.0\"(?: encoding=\"(?:utf-8|UTF-8)\")?\?>)?{_WS}"
    rf"<scpd(?: xmlns=\"{_VALUE}\")?>{_WS}"
    rf"(?:<specVersion>{_WS}<major>{_TEXT}</major>{_WS}<minor>{_TEXT}</minor>{_WS}"
    rf"</specVersion>{_WS})?"
    rf"<actionList>{_WS}(?:{_ACTION_SHAPE}{_WS})*</actionList>{_WS}"
    rf"<serviceStateTable>{_WS}(?:{_VARIABLE_SHAPE}{_WS})*</serviceStateTable>"
    rf"{_WS}</scpd>{_WS}"
)
_ARGUMENT_FIELDS = ("name", "direction", "relatedStateVariable", "retval")


class Scpd:
    """A canonical SCPD cut into its items, in document order: ``actions`` as ``(name,
    body)`` and ``variables`` as ``(sendEvents, name, body)``, texts as written (``""`` for
    an absent attribute), each body what follows the item's ``<name>`` inside it."""

    __slots__ = ("actions", "variables")

    def __init__(
        self, actions: List[Tuple[str, str]], variables: List[Tuple[str, str, str]]
    ) -> None:
        self.actions = actions
        self.variables = variables


def _whole(grammar: re.Pattern[str], data: bytes) -> Optional[str]:
    """The text of *data* (ASCII) when *grammar* matches the whole of it, else ``None``."""
    if not data.isascii():
        return None
    text = data.decode("ascii")
    return text if grammar.fullmatch(text) else None


def _value(text: str) -> str:
    """A field's *text* as XML reads it, stripped: CR LF and CR read as LF (line ends are
    read here, in the few texts taken, not in the whole document)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def _inside(text: str, tag: str) -> str:
    """What the first ``<tag>`` element of *text* holds (one that does not nest)."""
    start = text.index(f"<{tag}>") + len(tag) + 2
    return text[start : text.index(f"</{tag}>", start)]


def split(data: bytes) -> Optional[Scpd]:
    """The items of *data* when it is a canonical SCPD (see the module's docstring), else
    ``None``."""
    text = _whole(_SCPD, data)
    if text is None:
        return None
    # In the grammar's shape, the text before each closing tag of an item is that item, and
    # its first <name> is the item's own (an argument's come after it).
    actions = []
    for item in _inside(text, "actionList").split("</action>")[:-1]:
        name, _, body = item.partition("<name>")[2].partition("</name>")
        actions.append((name, body))
    variables = []
    for item in _inside(text, "serviceStateTable").split("</stateVariable>")[:-1]:
        head, _, rest = item.partition(">")
        name, _, body = rest.partition("<name>")[2].partition("</name>")
        events = "yes" if '"yes"' in head else "no" if '"no"' in head else ""
        variables.append((events, name, body))
    return Scpd(actions, variables)


def _texts(text: str, wanted: Tuple[str, ...]) -> Dict[str, str]:
    """The stripped texts of *text*'s fields named in *wanted*, the first of each name (in a
    matched document, an item's fields are the only elements so named in what holds them)."""
    fields: Dict[str, str] = {}
    for name in wanted:
        tag = "<" + name
        at = text.find(tag)
        while at >= 0:  # "<url" may start "<urlX>", another element
            end = at + len(tag)
            after = text[end]
            if after == ">":
                fields[name] = _value(text[end + 1 : text.index("<", end)])
                break
            if after in "/ \t\r\n":  # <presentationURL/>, <retval />
                fields[name] = ""
                break
            at = text.find(tag, end)
    return fields


def _between(text: str, tag: str) -> List[str]:
    """What each ``<tag>...</tag>`` holds, in order (elements that do not nest)."""
    return [part.partition(f"</{tag}>")[0] for part in text.split(f"<{tag}>")[1:]]


def action_node(name: str, body: str) -> Node:
    """The node of the action *name* of :func:`split`, as the tree reader reads it."""
    node = Node(False)
    node.fields["name"] = _value(name)
    if "<argumentList>" in body:
        arguments: List[Union[Node, str]] = []
        for argument in body.split("</argument>")[:-1]:
            item = Node(False)
            item.fields = _texts(argument, _ARGUMENT_FIELDS)
            arguments.append(item)
        node.items["argument"] = arguments
    return node


def variable_node(send_events: str, name: str, body: str) -> Node:
    """The node of a state variable of :func:`split`, as the tree reader reads it."""
    node = Node(False)
    if send_events:
        node.fields["@sendEvents"] = send_events
    node.fields["name"] = _value(name)
    node.fields.update(_texts(body, ("dataType", "defaultValue")))
    if "<allowedValueList>" in body:
        node.items["allowedValue"] = [_value(value) for value in _between(body, "allowedValue")]
    ranges = _between(body, "allowedValueRange")
    if ranges:  # the first one counts
        bounds = Node(False)
        bounds.fields = _texts(ranges[0], ("minimum", "maximum", "step"))
        node.items["allowedValueRange"] = [bounds]
    return node


# -- device descriptions ------------------------------------------------------------------------
#
# The same for a description: <root> (a default namespace and a configId at most), in it
# specVersion and URLBase (both optional), <device>, and URLBase after it (gmediarender's). In
# a device: its fields, an iconList, a serviceList, a deviceList of devices nested up to
# DEVICE_LEVELS deep, and other elements of text alone, named like nothing read, unprefixed
# or with their own prefix declared on them (minidlna's <dlna:X_DLNADOC xmlns:dlna="...">).
# A field may be empty (<presentationURL/>).

#: Devices nested deeper than this (the root's is level 1) are the tree reader's.
DEVICE_LEVELS = 4

_DEVICE_FIELDS = (
    "deviceType",
    "friendlyName",
    "manufacturer",
    "manufacturerURL",
    "modelDescription",
    "modelName",
    "modelNumber",
    "modelURL",
    "serialNumber",
    "UDN",
    "UPC",
    "presentationURL",
)
_ICON_FIELDS = ("mimetype", "width", "height", "depth", "url")
_SERVICE_FIELDS = ("serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL")
# Every name the description's reader looks at: no other element may be named so.
_READ = (
    *_DEVICE_FIELDS,
    *_ICON_FIELDS,
    *_SERVICE_FIELDS,
    "root",
    "specVersion",
    "major",
    "minor",
    "URLBase",
    "device",
    "deviceList",
    "iconList",
    "icon",
    "serviceList",
    "service",
)
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_NOT_READ = rf"(?!(?:{'|'.join(_READ)})[ \t\n/>])"


def _leaves(names: Tuple[str, ...]) -> str:
    """Any of the elements *names*, holding text or empty."""
    full = "|".join(rf"<{name}>{_TEXT}</{name}>" for name in names)
    return rf"{full}|<(?:{'|'.join(names)}){_WS}/>"


def _record(tag: str, names: Tuple[str, ...]) -> str:
    return rf"<{tag}>{_WS}(?:(?:{_leaves(names)}){_WS})*</{tag}>"


# A device's own elements; what is not one of these, between its <device> and </device>, is
# the tags of its deviceLists and of the devices in them.
_OTHER = (
    rf"<(?P<prefix>(?![Xx][Mm][Ll])[A-Za-z_][A-Za-z0-9_.-]*):(?P<local>{_NOT_READ}{_NAME})"
    rf" xmlns:(?P=prefix)=\"{_VALUE}\">{_TEXT}</(?P=prefix):(?P=local)>"
    rf"|<(?P<plain>{_NOT_READ}(?![Xx][Mm][Ll]){_NAME})>{_TEXT}</(?P=plain)>"
)
_OWN = "|".join(
    (
        _leaves(_DEVICE_FIELDS),
        _OTHER,
        rf"<iconList>{_WS}(?:{_record('icon', _ICON_FIELDS)}{_WS})*</iconList>",
        rf"<serviceList>{_WS}(?:{_record('service', _SERVICE_FIELDS)}{_WS})*</serviceList>",
    )
)
# A device, flat: its own elements, and the tags of deviceLists and of the devices in them,
# in pairs that keep each tag where XML allows it: after <deviceList> or </device> comes
# <device> or </deviceList>, and everything else comes after the others. How deep the devices
# go, and that the outermost one closes last, :func:`_device_tree` counts.
_DEVICE = (
    rf"<device>{_WS}(?:(?:{_OWN}|(?:<deviceList>|</device>){_WS}(?:<device>|</deviceList>))"
    rf"{_WS})*</device>"
)

_DESCRIPTION = re.compile(
    rf"(?:<\?xml version=\"1\.0\"(?: encoding=\"(?:utf-8|UTF-8)\")?\?>)?{_WS}"
    rf"<root(?: xmlns=\"{_VALUE}\")?(?: configId=\"{_VALUE}\")?>{_WS}"
    rf"(?:<specVersion>{_WS}<major>{_TEXT}</major>{_WS}<minor>{_TEXT}</minor>{_WS}"
    rf"</specVersion>{_WS})?"
    rf"(?:<URLBase>{_TEXT}</URLBase>{_WS})?{_DEVICE}{_WS}"
    rf"(?:<URLBase>{_TEXT}</URLBase>{_WS})?</root>{_WS}"
)

# Within a matched description, what the reader looks at: the tags of devices, icons and
# services and of their lists, and the other elements' start tags, with the text of those that
# hold text alone (empty for one with attributes: a vendor element's own prefix).
_TOKEN = re.compile(
    r"<(/?)(device|deviceList|icon|iconList|service|serviceList)>"
    r"|<([A-Za-z_][A-Za-z0-9_.:-]*)(?:>([^<]*)<|[ \t\r\n]*/>|[ \t\r\n])"
)
# A record's fields by the tag that opens it; a list's kind of item, by its tag.
_RECORDS = {"icon": frozenset(_ICON_FIELDS), "service": frozenset(_SERVICE_FIELDS)}
_DEVICE_NAMES = frozenset(_DEVICE_FIELDS)
_ITEMS = {"deviceList": "device", "iconList": "icon", "serviceList": "service"}


def _device_tree(device: str) -> Optional[Node]:
    """The node of the matched *device* and of the devices in it, as the tree reader reads
    them, in one pass over its elements' tags; ``None`` unless its devices nest (at most
    :data:`DEVICE_LEVELS` deep, the outermost closing last)."""
    root: Optional[Node] = None
    devices: List[Node] = []  # the open ones, outermost first
    record: Optional[Node] = None  # the open icon or service, if any
    fields: Dict[str, str] = {}  # where a field goes: the open record's, or device's
    wanted = _DEVICE_NAMES
    opened = False  # whether the last tag opened an element: then a closing one ends it empty
    for close, tag, name, text in _TOKEN.findall(device):
        if not tag:  # an element's start tag: a field, or another one, not read
            if name in wanted and name not in fields:  # the first one counts
                fields[name] = _value(text) if "\r" in text else text.strip()
            opened = False
            continue
        if not devices and root is not None:  # (the last tag is a device's: no field is missed)
            return None  # something after the outermost device closed
        if tag == "device":
            if close:
                devices.pop().empty = opened
                fields = devices[-1].fields if devices else {}
            elif len(devices) == DEVICE_LEVELS:
                return None
            else:
                node = Node(False)
                if devices:
                    devices[-1].items["device"].append(node)
                else:
                    root = node
                devices.append(node)
                fields = node.fields
        elif tag in _RECORDS:
            if not close:
                record, wanted = Node(False), _RECORDS[tag]
                fields = record.fields
                devices[-1].items[tag].append(record)
            elif record is not None:  # the grammar nests them
                record.empty = opened
                record, fields, wanted = None, devices[-1].fields, _DEVICE_NAMES
        elif not close:  # a list: its device has the kind, be the list empty
            devices[-1].items.setdefault(_ITEMS[tag], [])
        opened = not close
    return None if devices else root


def description(data: bytes) -> Optional[Node]:
    """The root node of *data* when it is a canonical description (see the comment above
    :data:`DEVICE_LEVELS`), as the tree reader reads it, else ``None``."""
    text = _whole(_DESCRIPTION, data)
    if text is None:
        return None
    # specVersion, URLBase and device are named like nothing else in the grammar's shape
    device = _device_tree(text[text.index("<device>") : text.rindex("</device>") + 9])
    if device is None:
        return None
    root = Node(False)
    if "<URLBase>" in text:  # the first one counts
        root.fields["URLBase"] = _value(_inside(text, "URLBase"))
    if "<specVersion>" in text:
        spec = Node(False)
        spec.fields.update(
            major=_value(_inside(text, "major")), minor=_value(_inside(text, "minor"))
        )
        root.items["specVersion"] = [spec]
    root.items["device"] = [device]
    return root
