"""The fast path for descriptions and SCPDs: one expat pass into a small tree of the fields read.

:mod:`upnpy._xml` builds the whole document (xmltodict) and :mod:`upnpy._description` then
looks up what it needs; for the usual document that costs more than fetching it. Here a
:class:`Schema` names what is read — per element, the fields kept (the first text of each),
the lists of items and the records nested in it — and one expat pass keeps exactly that:
every other element is skipped with its subtree unread. The result is a tree of
:class:`Node`, which :mod:`upnpy._description` turns into the same records as from the
lenient tree.

Anything unusual gives ``None``, and the caller takes the lenient parser, which has the last
word: a document expat refuses (NUL bytes, control characters, garbage around the root,
repeated declarations, undeclared entities...), UTF-16, a DTD (or the text ``<!DOCTYPE``
anywhere), another root element, markup inside a field, nesting deeper than
:data:`MAX_DEPTH`, or one local name under two prefixes among siblings (the lenient tree
groups those by name, which can change the order of items). Names are local names, as
there: ``<dlna:X_DLNADOC>`` is ``X_DLNADOC`` and ``dt:sendEvents`` is ``sendEvents``.
"""

from __future__ import annotations

import re
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple, Union
from xml.parsers import expat

__all__ = ["Node", "Schema", "read", "MAX_DEPTH"]

#: Documents nested deeper than this are left to the lenient parser (real ones nest < 10).
MAX_DEPTH = 64

# The lenient parser refuses these anywhere in the text (see upnpy._xml.prepare).
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class Node:
    """One element read: its fields and attributes (``"@name"``) by local name, first
    occurrence, texts stripped (``""`` when empty); its items by kind, in document order."""

    __slots__ = ("fields", "items", "names")

    def __init__(self) -> None:
        self.fields: Dict[str, str] = {}
        self.items: Dict[str, List[Union[Node, str]]] = {}
        #: local name → qualified name of every child element seen (to detect two prefixes)
        self.names: Dict[str, str] = {}


class Schema:
    """What is read of one kind of element.

    :param fields: child elements whose text is kept (the first of each).
    :param lists: ``{container: (item, kind)}``: every ``<item>`` of every ``<container>``
        child is an item of *kind* (a kind of this schema's family, or ``""`` for items that
        are plain texts, such as ``allowedValue``).
    :param records: ``{child: kind}``: the first ``<child>`` is read as a record of *kind*.
    :param attributes: whether the element's attributes are kept as ``"@name"`` fields.
    """

    __slots__ = ("attributes", "fields", "lists", "records")

    def __init__(
        self,
        fields: FrozenSet[str] = frozenset(),
        lists: Optional[Mapping[str, Tuple[str, str]]] = None,
        records: Optional[Mapping[str, str]] = None,
        attributes: bool = False,
    ) -> None:
        self.fields = fields
        self.lists = dict(lists or {})
        self.records = dict(records or {})
        self.attributes = attributes


class _Unusual(Exception):
    """The document is not the plain shape this reader handles."""


# Frame kinds on the reader's stack.
_RECORD, _LIST, _FIELD, _ITEM_TEXT = range(4)


def read(data: bytes, root: str, schemas: Mapping[str, Schema]) -> Optional[Node]:
    """Read *data*, whose root element must be called *root*, into a tree of :class:`Node`.

    :param schemas: the schema of every kind, *root* included (the root's kind is *root*).
    :returns: the root's node, or ``None`` when the document is anything but plain.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (b"<!" in data and _DTD.search(data)):
        return None
    top = Node()
    # The stack: (kind of frame, its node or list, its schema or list rule, a field name).
    stack: List[Tuple[int, Any, Any, str]] = []
    texts: List[str] = []
    skipping = 0  # depth inside an element that is not read

    def start(name: str, attributes: Dict[str, str]) -> None:
        nonlocal skipping
        if skipping:
            skipping += 1
            if len(stack) + skipping > MAX_DEPTH:
                raise _Unusual()
            return
        local = name.rpartition(":")[2]
        if not stack:
            if local != root:
                raise _Unusual()
            _open(top, schemas[root], attributes)
            return
        if len(stack) >= MAX_DEPTH:  # the element's depth would be over MAX_DEPTH
            raise _Unusual()
        frame, target, rules, _ = stack[-1]
        if frame == _RECORD:
            node: Node = target
            if node.names.setdefault(local, name) != name:
                raise _Unusual()
            if local in rules.fields:
                if local in node.fields:  # a later copy: the first one counts
                    skipping = 1
                else:
                    texts.clear()
                    stack.append((_FIELD, node, None, local))
            elif local in rules.lists:
                item, kind = rules.lists[local]
                items = node.items.setdefault(kind or item, [])
                stack.append((_LIST, items, (item, kind, {}), local))
            elif local in rules.records and rules.records[local] not in node.items:
                kind = rules.records[local]
                child = Node()
                node.items[kind] = [child]
                _open(child, schemas[kind], attributes)
            else:
                skipping = 1
        elif frame == _LIST:
            item, kind, names = rules
            if names.setdefault(local, name) != name:
                raise _Unusual()
            if local != item:
                skipping = 1
            elif kind:
                child = Node()
                target.append(child)
                _open(child, schemas[kind], attributes)
            else:
                texts.clear()
                stack.append((_ITEM_TEXT, target, None, local))
        else:  # markup inside a field: the lenient parser knows what the device meant
            raise _Unusual()

    def _open(node: Node, schema: Schema, attributes: Dict[str, str]) -> None:
        if schema.attributes:
            for key, value in attributes.items():
                if key != "xmlns" and not key.startswith("xmlns:"):
                    node.fields.setdefault("@" + key.rpartition(":")[2], value)
        stack.append((_RECORD, node, schema, ""))

    def end(name: str) -> None:
        nonlocal skipping
        if skipping:
            skipping -= 1
            return
        frame, target, _, field = stack.pop()
        if frame == _FIELD:
            target.fields[field] = "".join(texts).strip()
        elif frame == _ITEM_TEXT:
            target.append("".join(texts).strip())

    def characters(chars: str) -> None:
        if not skipping and stack and stack[-1][0] >= _FIELD:
            texts.append(chars)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except (_Unusual, expat.ExpatError, ValueError, LookupError, RecursionError):
        return None
    return top
