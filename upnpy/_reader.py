"""The fast path for descriptions and SCPDs: expat builds the tree in C, and only the fields
read are visited.

:mod:`upnpy._xml` turns the whole document into dicts (xmltodict, a Python call per element)
and :mod:`upnpy._description` then looks up what it needs; for the usual document that costs
more than fetching it. Here expat runs under ElementTree's C tree builder (no Python code per
element), and a :class:`Schema` names what is read — per kind of element, the fields kept
(the first text of each), the lists of items and the records nested in it. Only those
elements are visited: every other one is skipped with its subtree. The result is a tree of
:class:`Node`, which :mod:`upnpy._description` turns into the same records as it does the
lenient tree. A :class:`Family` (the schemas of descriptions, or of SCPDs) reads a whole
document (:meth:`Family.read`), or hands over its checked tree (:meth:`Family.document`) so
that parts of it are read when asked for: a first call reads one action of an SCPD.

Anything unusual gives ``None``, and the caller takes the lenient parser, which has the last
word: a document expat refuses (NUL bytes, control characters, garbage around the root,
repeated declarations, undeclared entities or prefixes...), UTF-16, a DTD (or the text
``<!DOCTYPE`` anywhere), another root element, markup inside a field, nesting deeper than
:data:`MAX_DEPTH`, or a prefixed list or item element (``<x:service>``: the lenient tree
groups elements by prefix, which can change the order of items). Names are local names, as
there: ``<dlna:X_DLNADOC>`` is ``X_DLNADOC`` and ``dt:sendEvents`` is ``sendEvents``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple, Union

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = ["Node", "Schema", "Family", "Unusual", "first_text", "MAX_DEPTH"]

#: Documents nested deeper than this are left to the lenient parser (real ones nest < 10).
MAX_DEPTH = 64

# The lenient parser refuses these anywhere in the text (see upnpy._xml.prepare).
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


class Node:
    """One element read: its fields and attributes (``"@name"``) by local name, first
    occurrence, texts stripped (``""`` when empty); its items by kind, in document order;
    whether it has no child element at all (*empty*)."""

    __slots__ = ("empty", "fields", "items")

    def __init__(self, empty: bool) -> None:
        self.empty = empty
        self.fields: Dict[str, str] = {}
        self.items: Dict[str, List[Union[Node, str]]] = {}


class Schema:
    """What is read of one kind of element.

    :param fields: child elements whose text is kept (the first of each).
    :param lists: ``{container: (item, kind)}``: every ``<item>`` of every ``<container>``
        child is an item of *kind* (a kind of the same family of schemas, or ``""`` for items
        that are plain texts, such as ``allowedValue``).
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


class Unusual(Exception):
    """The document is not the plain shape this reader handles: the lenient parser's turn."""


class Family:
    """The schemas of one kind of document (descriptions, SCPDs), and the reading of it.

    :param root: the name of the root element, which is also the kind of its schema.
    :param schemas: the schema of every kind.
    """

    def __init__(self, root: str, schemas: Mapping[str, Schema]) -> None:
        self.root = root
        self.schemas = dict(schemas)
        names = {name for schema in schemas.values() for name in schema.lists}
        names |= {item for schema in schemas.values() for item, _ in schema.lists.values()}
        alternatives = b"|".join(re.escape(name.encode()) for name in sorted(names))
        #: a prefixed element named like a list or an item (``<x:service>``)
        self.prefixed = re.compile(rb":(?:" + alternatives + rb")[\s/>]")

    def read(self, data: bytes) -> Optional[Node]:
        """The whole tree of *data*, or ``None`` when the document is anything but plain."""
        top = self.document(data)
        if top is None:
            return None
        try:
            return self.fill(top, self.root)
        except Unusual:
            return None

    def document(self, data: bytes) -> Optional[Element]:
        """The root element of *data* (built by expat in C), or ``None`` when the document is
        one for the lenient parser (see the module's docstring); nothing below it is checked."""
        if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (b"<!" in data and _DTD.search(data)):
            return None
        if self.prefixed.search(data):
            return None
        from xml.etree.ElementTree import ParseError, XMLParser  # ~5 ms: on the first document

        parser = XMLParser()
        try:
            parser.feed(data)
            top: Element = parser.close()
        except (ParseError, ValueError, LookupError, RecursionError):
            return None
        tag = top.tag
        if tag[tag.rfind("}") + 1 :] != self.root:
            return None
        # Fewer start tags than MAX_DEPTH cannot nest deeper (the usual description).
        if data.count(b"<") - data.count(b"</") > MAX_DEPTH and _deeper(top, MAX_DEPTH):
            return None
        return top

    def fill(self, element: Element, kind: str) -> Node:
        """The node of *element* (of :meth:`document`'s tree), a *kind*.

        :raises Unusual: for markup inside a field.
        """
        node = Node(not len(element))
        _fill(node, element, self.schemas[kind], self.schemas)
        return node

    def items(self, element: Element, kind: str) -> Iterator[Element]:
        """The elements of *element*'s lists (by its schema, the root's) that are *kind*s."""
        schema = self.schemas[self.root]
        for child in element:
            tag = child.tag
            rule = schema.lists.get(tag[tag.rfind("}") + 1 :])
            if rule is not None and rule[1] == kind:
                for sub in child:
                    tag = sub.tag
                    if tag[tag.rfind("}") + 1 :] == rule[0]:
                        yield sub


def first_text(element: Element, name: str) -> Optional[str]:
    """The stripped text of *element*'s first child called *name* (``None``: there is none).

    :raises Unusual: when that child holds markup.
    """
    for child in element:
        tag = child.tag
        if tag[tag.rfind("}") + 1 :] == name:
            if len(child):
                raise Unusual()
            return (child.text or "").strip()
    return None


def _fill(node: Node, element: Element, schema: Schema, schemas: Mapping[str, Schema]) -> None:
    """Read *element* into *node* as *schema* says.

    Local names are cut out inline (``tag[tag.rfind("}") + 1 :]``): this loop is the reader.
    """
    if schema.attributes:
        for key, value in element.attrib.items():
            node.fields.setdefault("@" + key[key.rfind("}") + 1 :], value)
    fields, lists, records = node.fields, schema.lists, schema.records
    for child in element:
        tag = child.tag
        local = tag[tag.rfind("}") + 1 :]
        if local in schema.fields:
            if local not in fields:  # the first one counts
                if len(child):  # markup inside a field: the lenient parser knows what it means
                    raise Unusual()
                fields[local] = (child.text or "").strip()
        elif local in lists:
            item, kind = lists[local]
            items = node.items.setdefault(kind or item, [])
            for sub in child:
                tag = sub.tag
                if tag[tag.rfind("}") + 1 :] != item:
                    continue
                if kind:
                    record = Node(not len(sub))
                    items.append(record)
                    _fill(record, sub, schemas[kind], schemas)
                elif len(sub):
                    raise Unusual()
                else:
                    items.append((sub.text or "").strip())
        else:
            kind = records.get(local, "")
            if kind and kind not in node.items:
                record = Node(not len(child))
                node.items[kind] = [record]
                _fill(record, child, schemas[kind], schemas)


def _deeper(top: Element, depth: int) -> bool:
    """Whether any element is more than *depth* levels below *top* (level by level, in C)."""
    level = list(top)
    for _ in range(depth):
        if not level:
            return False
        level = [sub for element in level for sub in element]
    return bool(level)
