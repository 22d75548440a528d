"""Safe, lenient XML parsing into plain dicts keyed by local names.

Devices send BOMs, NUL terminators, repeated XML declarations, trailing garbage and
undeclared prefixes; hostile ones send entity bombs. :func:`parse_xml` strips what is
harmless, refuses DTDs and entities outright, and returns :mod:`xmltodict` output in which
every element and attribute is named by its local name (``s:Envelope`` → ``Envelope``) and
``xmlns`` attributes are gone. The accessors :func:`children` and :func:`text` hide
xmltodict's "one child is a dict, several are a list" shape.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Dict, List, Optional, Tuple, overload
from xml.parsers import expat

from ._exceptions import UPnPWarning, XMLError

__all__ = ["parse_xml", "prepare", "leaf_texts", "Template", "children", "child", "text"]

_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECL = re.compile(rb"<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*\bencoding\s*=")
_LEADING_DECL = re.compile(r"\s*<\?xml[^>]*\?>")
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", '"': "&quot;"})
_UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls XML 1.0 forbids
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w:.-]*)")


def _transcode(data: bytes, url: Optional[str]) -> bytes:
    """Bytes expat reads after :func:`_clean`: UTF-16 becomes UTF-8 (its NULs are not garbage),
    and a body that is not UTF-8 and declares no encoding is re-declared as ISO-8859-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            decoded = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise XMLError(f"malformed UTF-16: {exc}") from exc
        declaration = _LEADING_DECL.match(decoded)  # it names UTF-16, no longer true
        return decoded[declaration.end() if declaration else 0 :].encode("utf-8")
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    if _DECLARED_ENCODING.search(data[:1024]):
        return data
    where = f" ({url})" if url else ""
    warnings.warn(
        f"the document is not UTF-8 and declares no encoding: read as ISO-8859-1{where}",
        UPnPWarning,
        stacklevel=4,
    )
    body = data[len(_UTF8_BOM) :] if data.startswith(_UTF8_BOM) else data
    return b'<?xml version="1.0" encoding="ISO-8859-1"?>' + body


def _clean(data: bytes) -> bytes:
    """Remove the harmless garbage devices put around and inside documents."""
    data = data.replace(b"\x00", b"")
    if _CONTROL.search(data):  # never XML; some devices put them inside string values
        warnings.warn(
            "control characters XML cannot carry were dropped from a document",
            UPnPWarning,
            stacklevel=5,
        )
        data = _CONTROL.sub(b"", data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    start = data.find(b"<")
    if start > 0:  # leading garbage, e.g. HTTP headers repeated in the body
        data = data[start:]
    decls = list(_XML_DECL.finditer(data))
    if len(decls) > 1 or (decls and decls[0].start() != 0):
        keep = data[: decls[0].end()] if decls[0].start() == 0 else b""
        data = keep + _XML_DECL.sub(b"", data[len(keep) :])
    return data.rstrip()


def _local(name: str) -> str:
    if name.startswith("@"):
        return "@" + name[1:].rpartition(":")[2]
    return name.rpartition(":")[2]


def _strip_namespaces(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip_namespaces(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: Dict[str, Any] = {}
    for key, value in node.items():
        if key == "@xmlns" or key.startswith("@xmlns:"):
            continue
        local = _local(key)
        value = _strip_namespaces(value)
        if local in out:  # same local name under two prefixes: keep both
            previous = out[local]
            out[local] = (previous if isinstance(previous, list) else [previous]) + (
                value if isinstance(value, list) else [value]
            )
        else:
            out[local] = value
    return out


def _cut_after_root(data: bytes) -> bytes:
    """Drop whatever follows the root element's closing tag (trailing garbage)."""
    root = _ROOT_TAG.search(data)
    if not root:
        return data
    close = data.rfind(b"</" + root.group(1))
    end = data.find(b">", close) if close >= 0 else -1
    return data[: end + 1] if end >= 0 else data


def prepare(data: bytes, *, url: Optional[str] = None) -> bytes:
    """The bytes :func:`parse_xml` gives expat: transcoded, garbage stripped, DTDs refused.

    :raises XMLError: for a DTD or entity declaration, or malformed UTF-16.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    cleaned = _clean(_transcode(bytes(data), url))
    if _DTD.search(cleaned):
        raise XMLError("refusing an XML document with a DTD or entity declaration")
    return cleaned


def parse_xml(
    data: bytes, *, url: Optional[str] = None, strip_whitespace: bool = True
) -> Dict[str, Any]:
    """Parse an XML document from bytes.

    :param data: the raw body; its XML declaration names the encoding (UTF-8 by default).
    :param url: where the body came from, for the warning about an undeclared encoding.
    :param strip_whitespace: strip text values (``False`` keeps a string value exact).
    :returns: a dict with the root element's local name as its only key.
    :raises XMLError: for a DTD or entity declaration, an unknown encoding, nesting too deep
        to walk, or XML that does not parse even after the garbage is stripped (the caller
        translates it with :func:`upnpy._errors.translate`).
    """
    data = prepare(data, url=url)
    import xmltodict  # ~30 ms (it pulls in urllib.request): loaded on the first document

    for _ in range(2):
        try:
            parsed = xmltodict.parse(data, disable_entities=True, strip_whitespace=strip_whitespace)
            break
        except expat.ExpatError as exc:
            shorter = _cut_after_root(data)
            if len(shorter) < len(data):  # trailing garbage after the root: retry once
                data = shorter
                continue
            raise XMLError(f"malformed XML: {exc}") from exc
        except (LookupError, ValueError) as exc:  # unknown encoding; "entities are disabled"
            raise XMLError(f"unreadable XML: {exc}") from exc
        except RecursionError as exc:
            raise XMLError("XML elements nested too deeply") from exc
    else:  # pragma: no cover - the second pass cannot meet junk again
        raise XMLError("malformed XML")
    if not isinstance(parsed, dict) or not parsed:
        raise XMLError("empty XML document")
    try:
        stripped: Dict[str, Any] = _strip_namespaces(parsed)
    except RecursionError as exc:
        raise XMLError("XML elements nested too deeply") from exc
    return stripped


class _OtherShape(Exception):
    """The document is not the shape :func:`leaf_texts` reads."""


def leaf_texts(
    data: bytes,
    parents: Tuple[str, ...],
    *,
    markup: bool,
    repeat: bool = False,
    holes: Optional[List[Optional[Tuple[int, int]]]] = None,
) -> Optional[List[Tuple[str, str]]]:
    """The ``(local name, text)`` of every element under the path *parents*, in one expat pass.

    For ``("Envelope", "Body", "GetXResponse")`` the out-arguments of a SOAP answer; for
    ``("propertyset", "property")`` (with *repeat*: the last parent may repeat) the variables
    of a NOTIFY. Texts keep their whitespace. About four times faster than :func:`parse_xml`,
    it reads only that simple shape: anything else gives ``None``, and the caller takes the
    lenient parser.

    :param data: well-formed XML (see :func:`prepare` for what devices send).
    :param markup: write elements found inside a leaf (a device that forgot to escape its
        markup) back into the leaf's text, in place; without it they give ``None``.
    :param holes: a list that gets, for each leaf, the ``(start, end)`` offsets in *data* of
        the bytes between its tags, or ``None`` for a leaf with attributes or an empty-element
        tag (``<X/>``); see :class:`Template`.
    """
    leaves = len(parents) + 1  # the depth of the leaves
    out: List[Tuple[str, str]] = []
    text: List[str] = []  # the current leaf's pieces
    depth = 0
    found = 0
    opened = -1  # where the current leaf's start tag begins, if it has no attributes

    def start(name: str, attrs: List[str]) -> None:
        nonlocal depth, found, opened
        depth += 1
        if depth == leaves:
            text.clear()
            if holes is not None:
                opened = -1 if attrs else parser.CurrentByteIndex
        elif depth < leaves:
            if name.rpartition(":")[2] != parents[depth - 1]:
                raise _OtherShape()
            if depth == leaves - 1:
                found += 1
                if found > 1 and not repeat:
                    raise _OtherShape()
        elif not markup:
            raise _OtherShape()
        else:  # attrs is [name, value, name, value, ...] (ordered_attributes)
            pairs = zip(attrs[::2], attrs[1::2])
            shown = "".join(f' {k}="{v.translate(_ATTRIBUTE)}"' for k, v in pairs)
            text.append(f"<{name}{shown}>")

    def end(name: str) -> None:
        nonlocal depth
        if depth == leaves:
            out.append((name.rpartition(":")[2], "".join(text)))
            if holes is not None:
                holes.append(_hole(data, opened, parser.CurrentByteIndex))
        elif depth > leaves:
            text.append(f"</{name}>")
        depth -= 1

    def characters(chars: str) -> None:
        if depth >= leaves:
            text.append(chars)

    parser = expat.ParserCreate()
    parser.buffer_text = True  # a text in one piece, not one per line or entity
    parser.ordered_attributes = True  # a list is cheaper than a dict, and rarely read
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except (_OtherShape, expat.ExpatError, ValueError, LookupError, RecursionError):
        return None
    return out if found else None


def _hole(data: bytes, opened: int, closing: int) -> Optional[Tuple[int, int]]:
    """The offsets of a leaf's content: after its start tag (which begins at *opened*, and
    has no attributes, so its first ``>`` ends it) up to its end tag (at *closing*)."""
    if opened < 0:
        return None
    content = data.index(b">", opened) + 1
    if content == closing and data[closing - 2 : closing] == b"/>":  # <X/>: no content
        return None
    return content, closing


#: The largest document a :class:`Template` is made of (a usual SOAP answer is under 1 KiB):
#: a template keeps the document's bytes, and one is kept per action called.
TEMPLATE_MAX = 16 * 1024

# Leaf text a template takes as it is: ASCII character data with no markup ("<"), no
# reference ("&"), and no CR (expat turns CR LF into LF); "]]>" is checked apart.
_TEMPLATE_TEXT = bytes(b for b in range(128) if b in b"\t\n" or (b >= 0x20 and b not in b"&<"))


def _plain_text(content: bytes) -> bool:
    """Whether *content* is leaf text a template takes as it is (one C call each test)."""
    return not content.translate(None, _TEMPLATE_TEXT) and b"]]>" not in content


class Template:
    """The bytes of a plain document read once, with holes where its leaves' texts were.

    A device answers the same action with the same bytes but for the values. A document
    equal to this one outside the holes, with plain text in each hole (ASCII character data
    holding no markup, reference, CR or ``]]>``), is well-formed wherever the first one was,
    and its leaves are the same with the new texts: :meth:`read` gives exactly what
    :func:`leaf_texts` would, with one comparison per piece instead of a parse. Anything
    else gives ``None``. Immutable; a property test checks it against :func:`leaf_texts`.
    """

    __slots__ = ("_leaves", "_pieces")

    def __init__(
        self, pieces: Tuple[bytes, ...], leaves: Tuple[Tuple[str, Optional[str]], ...]
    ) -> None:
        self._pieces = pieces  # the bytes around the holes: one more than the holes
        self._leaves = leaves  # each leaf's name, and its text when it has no hole

    @classmethod
    def learn(
        cls,
        data: bytes,
        texts: List[Tuple[str, str]],
        holes: List[Optional[Tuple[int, int]]],
    ) -> Optional[Template]:
        """The template of *data*, which :func:`leaf_texts` read as *texts*, with *holes*;
        ``None`` when a leaf's text is not plain (it would not be read back as it is), or
        *data* is over :data:`TEMPLATE_MAX` bytes."""
        if len(data) > TEMPLATE_MAX or len(holes) != len(texts) or not data.isascii():
            return None
        pieces, leaves, at = [], [], 0
        for (name, text), hole in zip(texts, holes):
            if hole is not None:
                content = data[hole[0] : hole[1]]
                if not _plain_text(content):
                    return None
                pieces.append(data[at : hole[0]])
                at = hole[1]
            leaves.append((name, None if hole is not None else text))
        pieces.append(data[at:])
        return cls(tuple(pieces), tuple(leaves))

    def read(self, data: bytes) -> Optional[List[Tuple[str, str]]]:
        """The ``(local name, text)`` of each leaf of *data*, or ``None`` when *data* is not
        this template with plain text in its holes."""
        pieces = self._pieces
        at = len(pieces[0])
        if not data.startswith(pieces[0]):
            return None
        found = []
        for piece in pieces[1:]:
            end = data.find(b"<", at)  # each piece after a hole starts with an end tag
            if end < 0:
                return None
            content = data[at:end]
            if content and not _plain_text(content):
                return None
            if not data.startswith(piece, end):
                return None
            found.append(content.decode("ascii"))
            at = end + len(piece)
        if at != len(data):
            return None
        texts = iter(found)
        return [(name, next(texts) if text is None else text) for name, text in self._leaves]


def children(node: Any, name: str) -> List[Any]:
    """All children of *node* called *name*, as a list (empty when there are none)."""
    if not isinstance(node, dict):
        return []
    value = node.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def child(node: Any, name: str) -> Any:
    """The first child of *node* called *name*, or ``None``."""
    found = children(node, name)
    return found[0] if found else None


@overload
def text(node: Any, name: Optional[str], default: str, *, strip: bool = ...) -> str: ...


@overload
def text(
    node: Any, name: Optional[str] = ..., default: None = ..., *, strip: bool = ...
) -> Optional[str]: ...


def text(
    node: Any, name: Optional[str] = None, default: Optional[str] = None, *, strip: bool = True
) -> Optional[str]:
    """The text of *node* (or of its first child *name*), stripped unless *strip* is false.

    An empty element gives ``""``; a missing one gives *default*.
    """
    if name is not None:
        if not isinstance(node, dict) or name not in node:
            return default
        node = child(node, name)
    if node is None:
        return ""
    if isinstance(node, dict):
        node = node.get("#text", "")
    if isinstance(node, list):  # text split by comments or elements: join it
        node = "".join(str(part) for part in node if isinstance(part, str))
    return str(node).strip() if strip else str(node)
