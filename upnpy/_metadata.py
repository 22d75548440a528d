"""DIDL-Lite written: the metadata of one item for a renderer's SetAVTransportURI."""

from __future__ import annotations

import re
from typing import Any, Optional

from ._didl import _ATTRIBUTE, _MIME, _TEXT, DC_NS, DIDL_NS, UPNP_NS
from ._exceptions import ValidationError

__all__ = ["didl_metadata", "upnp_class_for", "ITEM_CLASS"]

_CLASSES = {
    "audio": "object.item.audioItem.musicTrack",
    "video": "object.item.videoItem",
    "image": "object.item.imageItem.photo",
}
ITEM_CLASS = re.compile(r"object\.item(?:\.[A-Za-z0-9_-]+)*\Z")
_PROTOCOL_INFO = re.compile(r"[^\s:]+:[^\s:]+:[^\s:]+:\S+\Z")
# Characters XML 1.0 cannot carry at all, even escaped (lone surrogates cannot be UTF-8).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def upnp_class_for(mime_type: Optional[str]) -> str:
    """The ``upnp:class`` of an item of *mime_type*: ``audio/*`` is
    ``object.item.audioItem.musicTrack``, ``video/*`` ``object.item.videoItem``, ``image/*``
    ``object.item.imageItem.photo``, anything else (or ``None``) ``object.item``."""
    major, slash, _ = (mime_type or "").strip().lower().partition("/")
    return _CLASSES.get(major, "object.item") if slash else "object.item"


def _checked(value: Any, argument: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    bad = _NOT_XML.search(value)
    if bad:
        message = f"character U+{ord(bad.group()):04X} cannot be sent in XML"
        raise ValidationError(message, argument=argument, value=value)
    return value


def didl_metadata(
    url: str,
    *,
    title: str,
    mime_type: Optional[str] = None,
    upnp_class: Optional[str] = None,
    protocol_info: Optional[str] = None,
    item_id: str = "0",
    parent_id: str = "-1",
) -> str:
    """The DIDL-Lite of one item, for SetAVTransportURI's ``CurrentURIMetaData``.

    One ``<item restricted="1">`` with ``dc:title``, ``upnp:class`` and one ``<res>``, in a
    document that declares the DIDL-Lite, ``dc`` and ``upnp`` namespaces (no XML
    declaration). :func:`parse_didl` reads it back to the same values.

    :param url: the media's URL; surrounding spaces are dropped.
    :param title: any text; what XML 1.0 cannot carry (NUL and the other C0 controls but tab
        and line breaks, lone surrogates, U+FFFE, U+FFFF) is dropped from it.
    :param mime_type: ``audio/mpeg``: the protocolInfo is then ``http-get:*:audio/mpeg:*``
        (``http-get:*:*:*`` without one) and the class :func:`upnp_class_for`'s.
    :param upnp_class: an ``object.item...`` class, instead of the MIME type's.
    :param protocol_info: the ``<res>``'s ``protocolInfo``, instead of the MIME type's (its
        third field gives the class when there is no *mime_type*).
    :raises ValidationError: for an empty URL; a URL, id, class or protocolInfo holding a
        character XML cannot carry; a MIME type not ``type/subtype``, a class not
        ``object.item...``, a protocolInfo without its four fields.
    """
    url = _checked(url, "url").strip()
    if not url:
        raise ValidationError("a URL is required", argument="url", value=url)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, not {type(title).__name__}")
    if mime_type is not None and not _MIME.match(_checked(mime_type, "mime_type")):
        raise ValidationError("not a MIME type/subtype", argument="mime_type", value=mime_type)
    if protocol_info is None:
        protocol_info = f"http-get:*:{mime_type or '*'}:*"
    elif not _PROTOCOL_INFO.match(_checked(protocol_info, "protocol_info")):
        message = "not protocol:network:contentFormat:additionalInfo"
        raise ValidationError(message, argument="protocol_info", value=protocol_info)
    if upnp_class is None:
        upnp_class = upnp_class_for(mime_type or protocol_info.split(":")[2])
    elif not ITEM_CLASS.match(_checked(upnp_class, "upnp_class")):
        raise ValidationError("not an object.item class", argument="upnp_class", value=upnp_class)
    item_id = _checked(item_id, "item_id").translate(_ATTRIBUTE)
    parent_id = _checked(parent_id, "parent_id").translate(_ATTRIBUTE)
    return (
        f'<DIDL-Lite xmlns="{DIDL_NS}" xmlns:dc="{DC_NS}" xmlns:upnp="{UPNP_NS}">'
        f'<item id="{item_id}" parentID="{parent_id}" restricted="1">'
        f"<dc:title>{_NOT_XML.sub('', title).translate(_TEXT)}</dc:title>"
        f"<upnp:class>{upnp_class}</upnp:class>"
        f'<res protocolInfo="{protocol_info.translate(_ATTRIBUTE)}">{url.translate(_TEXT)}</res>'
        "</item></DIDL-Lite>"
    )
