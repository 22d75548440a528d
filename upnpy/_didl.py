"""DIDL-Lite, the metadata of media servers and renderers, read into immutable records.

:func:`parse_didl` reads the ``Result`` of a ContentDirectory Browse or Search into immutable
:class:`MediaContainer` and :class:`MediaItem` records and their :class:`MediaResource`
(``<res>``); :mod:`upnpy._metadata` writes the ``CurrentURIMetaData`` of SetAVTransportURI.
A pure module: no network, no threads.

Reading is one expat pass, without namespace processing (undeclared ``dc:``, ``upnp:`` and
``dlna:`` prefixes read by name), over the bytes :func:`upnpy._xml.prepare` cleans (BOMs,
NULs, garbage around the root; DTDs and entities refused). It stops at the first excess of
:data:`MAX_DOCUMENT` bytes, ``limit`` objects (:data:`MAX_OBJECTS`) or :data:`MAX_DEPTH`
levels. Server quirks are tolerated with one :class:`~upnpy.UPnPWarning` per kind and
document (counted, naming the first case):

- a bare ``&`` or an unknown entity (``&nbsp;``) is read as text, as if sent ``&amp;``;
- a missing ``id``, ``parentID`` or ``dc:title`` is ``""``; a missing ``upnp:class`` is
  ``object.item`` or ``object.container``, by the element;
- a ``size``, ``bitrate``, ``duration``, ``childCount``, ``restricted`` or ``searchable`` that
  does not read is ``None`` (its text stays in ``attributes``);
- an empty document is no objects; one escaped twice (``&lt;DIDL-Lite``) is unescaped once;
  what follows ``</DIDL-Lite>`` is ignored.

Texts are kept as sent (a title is not stripped); URLs, classes and numbers are stripped.
"""

from __future__ import annotations

import re
import reprlib
import warnings
from dataclasses import field
from types import MappingProxyType
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple, TypeVar, Union
from xml.parsers import expat

from ._avtime import parse_duration
from ._exceptions import DIDLError, UPnPWarning, XMLError
from ._records import Record, record
from ._xml import prepare

__all__ = [
    "MediaResource", "MediaObject", "MediaContainer", "MediaItem", "parse_didl",
    "MAX_DOCUMENT", "MAX_OBJECTS", "MAX_DEPTH",
]  # fmt: skip

#: The largest document read, in UTF-8 bytes: that of the largest SOAP response read
#: (:data:`upnpy._soap.MAX_RESPONSE`), which holds a ``Result`` escaped, so longer.
MAX_DOCUMENT = 1 << 20
#: The most objects (items and containers) one document may hold: :func:`parse_didl`'s limit.
MAX_OBJECTS = 10_000
#: The deepest nesting read: DIDL-Lite, object, property is 3; a nested object adds one.
MAX_DEPTH = 32

DIDL_NS = "urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/"
DC_NS = "http://purl.org/dc/elements/1.1/"
UPNP_NS = "urn:schemas-upnp-org:metadata-1-0/upnp/"
#: The usual prefix of each known namespace: properties are named with it, whatever was sent.
DLNA_NS = "urn:schemas-dlna-org:metadata-1-0/"
_PREFIXES = {DIDL_NS: "", DC_NS: "dc", UPNP_NS: "upnp", DLNA_NS: "dlna"}

_short = reprlib.Repr()
_short.maxstring = 60
_T = TypeVar("_T")


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@record
class MediaResource(Record):
    """One ``<res>``: a URL of the object's content, and how it is served.

    :ivar url: the text of ``<res>``, stripped (:class:`~upnpy.MediaServer` makes a relative
        one absolute against the server's description URL).
    :ivar protocol_info: the ``protocolInfo`` attribute (``http-get:*:audio/mpeg:*``), or ``""``.
    :ivar mime_type: its third field, or ``None`` when ``*``, absent or not ``type/subtype``.
    :ivar size: bytes; *duration*: seconds; *bitrate*: bytes per second (as DIDL-Lite defines
        it) — each ``None`` when absent or unreadable.
    :ivar attributes: every attribute as sent, by local name (``sampleFrequency``...).
    """

    url: str
    protocol_info: str = ""
    mime_type: Optional[str] = None
    size: Optional[int] = None
    duration: Optional[float] = None
    bitrate: Optional[int] = None
    attributes: Mapping[str, str] = field(default_factory=_empty)

    def __repr__(self) -> str:
        more = "".join(
            f", {name}={value!r}"
            for name, value in (("size", self.size), ("duration", self.duration))
            if value is not None
        )
        return f"MediaResource(url={_short.repr(self.url)}, mime_type={self.mime_type!r}{more})"

    def __hash__(self) -> int:  # the generated one would hash the (unhashable) mapping
        return hash((self.url, self.protocol_info))


@record
class MediaObject(Record):
    """What containers and items have in common (DIDL-Lite's ``object``).

    :ivar id: ``id``; *parent_id*: ``parentID`` (``""`` when absent, with a warning).
    :ivar title: ``dc:title`` as sent (``""`` when absent, with a warning).
    :ivar upnp_class: ``upnp:class`` (``object.item.audioItem.musicTrack``).
    :ivar restricted: the ``restricted`` attribute; ``None`` when absent or not a boolean.
    :ivar creator: ``dc:creator``; *artist*, *album*, *genre*, *album_art_url*: the first
        ``upnp:artist``, ``upnp:album``, ``upnp:genre``, ``upnp:albumArtURI`` — ``None`` when
        absent or blank.
    :ivar properties: the texts of every child element by name, for what has no field: names
        in the DIDL-Lite, Dublin Core, UPnP and DLNA namespaces are ``res``, ``dc:x``,
        ``upnp:x``, ``dlna:x`` whatever prefix was sent, others are as sent. An element that
        holds elements keeps them as (escaped) markup.
    :ivar attributes: the object element's attributes as sent, by local name.
    """

    id: str
    parent_id: str
    title: str
    upnp_class: str
    restricted: Optional[bool] = None
    creator: Optional[str] = None
    artist: Optional[str] = None
    album: Optional[str] = None
    genre: Optional[str] = None
    album_art_url: Optional[str] = None
    resources: Tuple[MediaResource, ...] = ()
    properties: Mapping[str, Tuple[str, ...]] = field(default_factory=_empty)
    attributes: Mapping[str, str] = field(default_factory=_empty)

    @property
    def is_container(self) -> bool:
        """Whether this is a :class:`MediaContainer`, something to browse."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={_short.repr(self.id)}, title={_short.repr(self.title)})"

    def __hash__(self) -> int:
        return hash((self.id, self.parent_id, self.title, self.upnp_class))


@record
class MediaContainer(MediaObject):
    """A ``<container>``: *child_count* (``childCount``) and *searchable*, ``None`` when absent."""

    child_count: Optional[int] = None
    searchable: Optional[bool] = None

    __hash__ = MediaObject.__hash__

    @property
    def is_container(self) -> bool:
        return True


@record
class MediaItem(MediaObject):
    """An ``<item>``: *ref_id* is ``refID``, the item it stands for, or ``None``."""

    ref_id: Optional[str] = None

    __hash__ = MediaObject.__hash__


# -- reading ----------------------------------------------------------------------------------

_DECLARATION = re.compile(rb"<\?xml[^>]*\?>")
# "&" and the reference it starts, when it is one that XML reads without a DTD.
_REFERENCE = re.compile(rb"&(#[0-9]{1,10};|#x[0-9A-Fa-f]{1,8};|(?:amp|lt|gt|quot|apos);)?")
_UNESCAPE = [(b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'")]
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans({**_TEXT, ord('"'): "&quot;", ord("\t"): "&#9;", ord("\n"): "&#10;"})
_BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_MIME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:;[^\s:;]+)*\Z")


class _Refused(Exception):
    """A document upnpy does not read: another root element, too many objects, too deep."""


class _Notes:
    """The quirks met in one document: per kind, a count and the first example."""

    def __init__(self) -> None:
        self.kinds: Dict[str, List[Any]] = {}

    def add(self, kind: str, example: str = "") -> None:
        self.kinds.setdefault(kind, [0, example])[0] += 1

    def warn(self) -> None:  # called by parse_didl: stacklevel 3 is its caller
        for kind, (count, example) in self.kinds.items():
            more = f" ({count} in all)" if count > 1 else ""
            warnings.warn(f"DIDL-Lite: {kind}{example}{more}", UPnPWarning, stacklevel=3)


def _local(attrs: Mapping[str, str]) -> Dict[str, str]:
    """Attributes by local name (the first of two that share one), without ``xmlns``."""
    out: Dict[str, str] = {}
    for key, value in attrs.items():
        if key != "xmlns" and not key.startswith("xmlns:"):
            out.setdefault(key.rpartition(":")[2], value)
    return out


def _count(text: str) -> Optional[int]:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else None


def _boolean(text: str) -> Optional[bool]:
    return _BOOLEANS.get(text.strip().lower())


_Read = Callable[[str], Optional[_T]]


def _value(
    attrs: Mapping[str, str], name: str, read: _Read[_T], where: str, notes: _Notes
) -> Optional[_T]:
    """The attribute *name* read, ``None`` when absent; unreadable, ``None`` and a note."""
    text = attrs.get(name)
    if text is None:
        return None
    value = read(text)
    if value is None:
        notes.add(f"{name} values that do not read, read as None: ", f"{text!r:.40} ({where})")
    return value


def _resource(url: str, attrs: Dict[str, str], where: str, notes: _Notes) -> MediaResource:
    info = attrs.get("protocolInfo")
    fields = (info or "").split(":", 3)
    mime = fields[2].strip() if len(fields) == 4 else None
    if info is None:
        notes.add("<res> without a protocolInfo: ", where)
    elif mime is None:
        notes.add(
            "protocolInfo values not protocol:network:format:info: ", f"{info!r:.60} ({where})"
        )
    if not url:
        notes.add("<res> without a URL: ", where)
    return MediaResource(
        url=url,
        protocol_info=info or "",
        mime_type=mime if mime and mime != "*" and _MIME.match(mime) else None,
        size=_value(attrs, "size", _count, where, notes),
        duration=_value(attrs, "duration", parse_duration, where, notes),
        bitrate=_value(attrs, "bitrate", _count, where, notes),
        attributes=MappingProxyType(attrs),
    )


class _Property:
    """A child element of an object, being read: its text so far, as pieces."""

    __slots__ = ("attrs", "depth", "markup", "name", "owner", "pieces")

    def __init__(self, name: str, attrs: Dict[str, str], depth: int, owner: Any) -> None:
        self.name, self.attrs, self.depth, self.owner = name, attrs, depth, owner
        self.pieces: List[str] = []
        self.markup = False  # it holds elements: its text is markup, the texts escaped

    def add_markup(self, tag: str) -> None:
        if not self.markup:
            self.pieces = [piece.translate(_TEXT) for piece in self.pieces]
            self.markup = True
        self.pieces.append(tag)


class _Object:
    """An ``<item>`` or ``<container>``, being read; *slot* is its place in document order."""

    __slots__ = ("attrs", "kind", "properties", "slot")

    def __init__(self, kind: str, attrs: Dict[str, str], slot: int) -> None:
        self.kind, self.attrs, self.slot = kind, _local(attrs), slot
        self.properties: List[_Property] = []

    def record(self, notes: _Notes) -> MediaObject:
        attrs, kind = self.attrs, self.kind
        texts: Dict[str, List[str]] = {}
        for prop in self.properties:
            texts.setdefault(prop.name, []).append("".join(prop.pieces))
        where = f"{kind} {attrs.get('id', '#' + str(self.slot))!r:.40}"
        for name in ("id", "parentID"):
            if name not in attrs:
                notes.add(f"objects without {name}, read as '': ", where)

        def first(name: str, strip: bool = False) -> Optional[str]:
            """The first text of *name* (or of its local name: a prefix lost), not blank."""
            found = texts.get(name) or texts.get(name.rpartition(":")[2])
            text = found[0] if found else None
            return (text.strip() if strip else text) if text and not text.isspace() else None

        if "dc:title" not in texts and "title" not in texts:
            notes.add("objects without a dc:title, read as '': ", where)
        upnp_class = first("upnp:class", strip=True)
        if upnp_class is None:
            upnp_class = f"object.{kind}"
            notes.add("objects without a upnp:class, read as object.item/container: ", where)
        common: Dict[str, Any] = {
            "id": attrs.get("id", ""),
            "parent_id": attrs.get("parentID", ""),
            "title": (texts.get("dc:title") or texts.get("title") or [""])[0],
            "upnp_class": upnp_class,
            "restricted": _value(attrs, "restricted", _boolean, where, notes),
            "creator": first("dc:creator"),
            "artist": first("upnp:artist"),
            "album": first("upnp:album"),
            "genre": first("upnp:genre"),
            "album_art_url": first("upnp:albumArtURI", strip=True),
            "resources": tuple(
                _resource("".join(p.pieces).strip(), _local(p.attrs), where, notes)
                for p in self.properties
                if p.name == "res"
            ),
            "properties": MappingProxyType({k: tuple(v) for k, v in texts.items()}),
            "attributes": MappingProxyType(attrs),
        }
        if kind == "item":
            return MediaItem(**common, ref_id=attrs.get("refID"))
        return MediaContainer(
            **common,
            child_count=_value(attrs, "childCount", _count, where, notes),
            searchable=_value(attrs, "searchable", _boolean, where, notes),
        )


class _Reader:
    """One expat pass over a document: its objects in document order, and its quirks."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.notes = _Notes()
        self.objects: List[Optional[MediaObject]] = []
        self.open: List[_Object] = []  # the objects being read, outermost first
        self.prop: Optional[_Property] = None
        self.scopes: List[Dict[str, str]] = [{"xml": "xml"}]  # prefix -> namespace, per level
        self.kept = self.scopes[:]  # every scope made: their ids are never reused
        self.names: Dict[Tuple[str, int], str] = {}  # (name, id(scope)) -> property name
        self.undeclared: Set[str] = set()
        self.depth = 0
        self.ended = False  # the root element is closed

    def read(self, data: bytes) -> Tuple[Tuple[MediaObject, ...], _Notes]:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        try:
            parser.Parse(data, True)
        except expat.ExpatError:
            if not self.ended:
                raise
            self.notes.add("what follows </DIDL-Lite> was ignored")
        return tuple(o for o in self.objects if o is not None), self.notes

    def name(self, name: str, scope: Dict[str, str]) -> str:
        """A property's name: known namespaces under their usual prefix, others as sent."""
        found = self.names.get((name, id(scope)))
        if found is not None:
            return found
        prefix, _, local = name.rpartition(":")
        uri = scope.get(prefix)
        if uri is None and prefix and prefix not in self.undeclared:
            self.undeclared.add(prefix)
            self.notes.add("undeclared namespace prefixes, read by name: ", repr(prefix))
        usual = _PREFIXES.get(uri or "")
        found = name if usual is None or uri is None else f"{usual}:{local}" if usual else local
        self.names[(name, id(scope))] = found
        return found

    def start(self, name: str, attrs: Dict[str, str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"elements nested more than {MAX_DEPTH} levels deep")
        scope = self.scopes[-1]
        if attrs and any(key == "xmlns" or key.startswith("xmlns:") for key in attrs):
            scope = dict(scope)
            scope.update((k[6:], v) for k, v in attrs.items() if k[:6] in ("xmlns", "xmlns:"))
            self.kept.append(scope)
        self.scopes.append(scope)
        prop = self.prop
        if prop is not None:  # an element inside a property: kept as markup in its text
            shown = "".join(f' {k}="{v.translate(_ATTRIBUTE)}"' for k, v in attrs.items())
            prop.add_markup(f"<{name}{shown}>")
            return
        local = name.rpartition(":")[2]
        if self.depth == 1:
            if local != "DIDL-Lite":
                raise _Refused(f"the root element is <{name:.40}>, not <DIDL-Lite>")
            return
        for key in attrs:
            if ":" in key and not key.startswith("xmlns:"):
                self.name(key, scope)  # notes an undeclared prefix
        if local in ("item", "container"):
            if len(self.objects) >= self.limit:
                raise _Refused(f"more than {self.limit} objects")
            self.name(name, scope)
            self.open.append(_Object(local, attrs, len(self.objects)))
            self.objects.append(None)  # its place, filled at its end
        else:
            owner = self.open[-1] if self.open else None
            self.prop = _Property(self.name(name, scope), attrs, self.depth, owner)

    def end(self, name: str) -> None:
        depth, prop = self.depth, self.prop
        self.depth -= 1
        self.scopes.pop()
        if prop is not None and depth > prop.depth:
            prop.add_markup(f"</{name}>")
        elif prop is not None:
            self.prop = None
            if prop.owner is not None:
                prop.owner.properties.append(prop)
            elif prop.name != "desc":
                self.notes.add("elements outside any item or container, ignored: ", f"<{name}>")
        elif depth == 1:
            self.ended = True
        else:
            done = self.open.pop()
            self.objects[done.slot] = done.record(self.notes)

    def characters(self, data: str) -> None:
        prop = self.prop
        if prop is not None:
            prop.pieces.append(data.translate(_TEXT) if prop.markup else data)


def _is_char(code: int) -> bool:
    """Whether XML 1.0 can carry the character *code* (escaped, at least)."""
    return (
        code in (9, 10, 13)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or (0x10000 <= code <= 0x10FFFF)
    )


def _repair(data: bytes) -> bytes:
    """*data* with each ``&`` that starts no reference XML can read escaped as ``&amp;``."""

    def escape(match: re.Match[bytes]) -> bytes:
        reference = match.group(1)
        if reference is None:
            return b"&amp;"
        if reference[:1] != b"#":
            return match.group()
        code = int(reference[2:-1], 16) if reference[1:2] == b"x" else int(reference[1:-1])
        return match.group() if _is_char(code) else b"&amp;" + reference

    return _REFERENCE.sub(escape, data)


def _as_bytes(document: Union[str, bytes], max_size: int, notes: _Notes) -> bytes:
    """The document as bytes for :func:`upnpy._xml.prepare`: size-checked, a text's
    declaration dropped (it may name another encoding), one escaped twice unescaped."""
    if isinstance(document, str):
        if len(document) > max_size:
            raise DIDLError(f"DIDL-Lite: the document is over the {max_size}-byte limit")
        try:
            data = document.lstrip("\ufeff \t\r\n").encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DIDLError(f"DIDL-Lite: not Unicode text: {exc.reason}") from None
    elif isinstance(document, (bytes, bytearray, memoryview)):
        data = bytes(document)
    else:
        raise TypeError(f"a DIDL-Lite document is str or bytes, not {type(document).__name__}")
    if len(data) > max_size:
        raise DIDLError(f"DIDL-Lite: the document is over the {max_size}-byte limit")
    if data.lstrip()[:4] == b"&lt;" and b"DIDL-Lite" in data[:512]:
        notes.add("a document escaped twice, unescaped once")
        for escaped, plain in _UNESCAPE:
            data = data.replace(escaped, plain)
        data = data.replace(b"&amp;", b"&")
    if isinstance(document, str):
        data = _DECLARATION.sub(b"", data.lstrip(), count=1)
    return data


def parse_didl(
    document: Union[str, bytes, None], *, limit: int = MAX_OBJECTS, max_size: int = MAX_DOCUMENT
) -> Tuple[MediaObject, ...]:
    """Read a DIDL-Lite document (a Browse or Search ``Result``) into records.

    :param document: text (as a SOAP answer gives it; its XML declaration is ignored) or
        bytes (the declaration names the encoding). An empty one, or ``None`` (no
        ``Result``), is no objects, with a warning.
    :param limit: the most objects (items and containers) read; a document with more is refused.
    :param max_size: the largest document read, in bytes (UTF-8 for text).
    :returns: the :class:`MediaContainer` and :class:`MediaItem` records in document order
        (a nested object follows the one holding it).
    :raises DIDLError: for what is not DIDL-Lite XML even after the repairs the module's
        docstring lists: malformed, a DTD or an entity declaration, another root element,
        more than *max_size* bytes, *limit* objects or :data:`MAX_DEPTH` levels.
    """
    notes = _Notes()
    data = b"" if document is None else _as_bytes(document, max_size, notes)
    if not data.strip():
        notes.add("an empty document (or none), read as no objects")
        notes.warn()
        return ()
    try:
        data = prepare(data)
        try:
            objects, found = _Reader(limit).read(data)
        except expat.ExpatError:
            repaired = _repair(data)
            if repaired == data:
                raise
            notes.add("a bare '&' or an unknown entity, read as text")
            objects, found = _Reader(limit).read(repaired)
    except expat.ExpatError as exc:
        raise DIDLError(f"DIDL-Lite: malformed XML: {exc}") from None
    except (_Refused, XMLError) as exc:
        raise DIDLError(f"DIDL-Lite: {exc}") from None
    except (ValueError, LookupError) as exc:  # an unknown or impossible encoding
        raise DIDLError(f"DIDL-Lite: unreadable XML: {exc}") from None
    notes.kinds.update(found.kinds)
    notes.warn()
    return objects
