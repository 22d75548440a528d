"""Browse and search a MediaServer's library: ContentDirectory paged into DIDL-Lite records.

:class:`MediaServer` wraps a :class:`~upnpy.Device` and holds no protocol code of its own:
Browse and Search are actions of its ContentDirectory, checked like any other call, and
their ``Result`` is read by :mod:`upnpy._didl`. Every listing is bounded: pages end when the
server has no more, and a listing ends at a limit even when a server claims more forever.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Mapping, Optional, Set, Tuple
from urllib.parse import urljoin

from ._didl import MediaContainer, MediaObject, parse_didl
from ._exceptions import DIDLError, UPnPError, UPnPWarning
from ._media import SERVER_SEARCH, MediaDevice, MediaError
from ._proxy import Action, Device, Service

__all__ = ["MediaServer", "MediaList"]

log = logging.getLogger("upnpy")

#: Objects asked for per Browse/Search call.
PAGE_SIZE = 200
#: The most objects one :meth:`MediaServer.browse` or :meth:`~MediaServer.search` returns
#: when the caller gives no limit (a warning says when more were left).
MAX_OBJECTS = 100_000
#: :meth:`MediaServer.walk`'s default bounds: containers deep, and objects in all.
WALK_DEPTH = 12
WALK_LIMIT = 10_000


class MediaList(List[MediaObject]):
    """What :meth:`MediaServer.browse` and :meth:`~MediaServer.search` return: a plain list,
    shown by IPython and Jupyter as a table (its ``repr`` stays a list's)."""

    def _repr_html_(self) -> str:
        from ._display import media_html

        return media_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import media_text, pretty

        pretty(printer, self, cycle, lambda: media_text(self))


class MediaServer(MediaDevice):
    """A MediaServer (minidlna, gerbera, a NAS): browse and search its ContentDirectory.

    :param device: the server's :class:`~upnpy.Device` (it stays reachable as
        :attr:`device`); an embedded MediaServer is found in its tree.
    :raises MediaError: when the device has no ContentDirectory service.

    ``MediaServer.find(name=None, timeout=2.0)`` finds one by name or UDN (see
    :meth:`MediaDevice.find`); it is a context manager that closes the device.
    """

    SEARCH = SERVER_SEARCH
    SERVICE = "ContentDirectory"

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        self.content_directory: Service = self._service("MediaServer")

    def browse(
        self,
        object_id: str = "0",
        *,
        filter: str = "*",
        sort: str = "",
        limit: Optional[int] = None,
    ) -> MediaList:
        """The children of container *object_id* (``"0"``: the root), every page of them.

        Pages of :data:`PAGE_SIZE` are asked for until the server's TotalMatches is reached
        or a page comes back short or empty.

        :param filter: the properties to return (``"*"``: all, DIDL-Lite's Filter).
        :param sort: DIDL-Lite SortCriteria (``"+dc:title"``), ``""`` for the server's order.
        :param limit: return at most this many; by default :data:`MAX_OBJECTS`, with a
            :class:`~upnpy.UPnPWarning` when the server had more.
        :raises ActionError: when the server refuses (701: no such object).
        :raises DIDLError: when a page's Result cannot be read.
        """
        arguments = {"ObjectID": object_id, "BrowseFlag": "BrowseDirectChildren"}
        return self._pages(self.content_directory.Browse, arguments, filter, sort, limit)

    def metadata(self, object_id: str) -> MediaObject:
        """The object *object_id* itself (Browse with BrowseMetadata).

        :raises ActionError: when the server refuses (701: no such object).
        :raises DIDLError: when the answer holds no object.
        """
        reply = self.content_directory.Browse(
            ObjectID=object_id,
            BrowseFlag="BrowseMetadata",
            Filter="*",
            StartingIndex=0,
            RequestedCount=0,
            SortCriteria="",
        )
        objects = self._read(reply)
        if not objects:
            raise DIDLError(f"the server sent no metadata for {object_id!r}")
        return objects[0]

    def search(
        self,
        criteria: str = "*",
        object_id: str = "0",
        *,
        filter: str = "*",
        sort: str = "",
        limit: Optional[int] = None,
    ) -> MediaList:
        """The objects under *object_id* that match *criteria*, every page of them, e.g.
        ``'upnp:class derivedfrom "object.item.audioItem"'`` (ContentDirectory's
        SearchCriteria; :attr:`search_capabilities` says which properties it may name).

        :raises MediaError: when the server has no Search action.
        :raises ActionError: when the server refuses the criteria (708 and the like).
        :raises DIDLError: when a page's Result cannot be read.
        """
        if "Search" not in self.content_directory.actions:
            raise MediaError(f"{self.device.friendly_name!r} does not support Search")
        arguments = {"ContainerID": object_id, "SearchCriteria": criteria}
        return self._pages(self.content_directory.Search, arguments, filter, sort, limit)

    @property
    def search_capabilities(self) -> Tuple[str, ...]:
        """The properties Search may name (``("dc:title", "upnp:class", ...)``); ``("*",)``
        for all, ``()`` when the server cannot search."""
        if "GetSearchCapabilities" not in self.content_directory.actions:
            return ()
        text = str(self.content_directory.GetSearchCapabilities().get("SearchCaps") or "")
        return tuple(part.strip() for part in text.split(",") if part.strip())

    def walk(
        self,
        object_id: str = "0",
        *,
        max_depth: int = WALK_DEPTH,
        limit: int = WALK_LIMIT,
    ) -> Iterator[MediaObject]:
        """Every object under *object_id*, depth first: each container is yielded before
        what it holds. Bounded: containers deeper than *max_depth* below *object_id* are
        not opened, a container seen before is not opened again, and the walk ends after
        *limit* objects. A container the server refuses to browse is left out with a
        :class:`~upnpy.UPnPWarning`.

        :raises ActionError: when the server refuses *object_id* itself.
        """
        seen: Set[str] = {object_id}
        # each entry: a depth and the objects still to yield there, last first
        stack: List[Tuple[int, List[MediaObject]]] = [(1, self.browse(object_id, limit=limit))]
        stack[0][1].reverse()
        count = 0
        while stack and count < limit:
            depth, pending = stack[-1]
            if not pending:
                stack.pop()
                continue
            item = pending.pop()
            count += 1
            yield item
            if (
                isinstance(item, MediaContainer)
                and item.id  # a server that left out the id: nothing to open
                and depth < max_depth
                and item.id not in seen
                and count < limit
            ):
                seen.add(item.id)
                children = self._children(item.id, limit - count)
                if children:
                    children.reverse()
                    stack.append((depth + 1, children))

    def _children(self, object_id: str, limit: int) -> List[MediaObject]:
        try:
            return self.browse(object_id, limit=limit)
        except (UPnPError, DIDLError) as exc:
            warnings.warn(
                f"walk: container {object_id!r} left out: {exc}", UPnPWarning, stacklevel=3
            )
            return []

    def _pages(
        self,
        action: Action,
        arguments: Dict[str, Any],
        filter: str,
        sort: str,
        limit: Optional[int],
    ) -> MediaList:
        """Every page of a Browse or Search: at most *limit* objects (MAX_OBJECTS by default).

        Each call either adds objects or ends the listing, so it ends within the limit; the
        index advances by the objects actually read, whatever NumberReturned says.
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValueError(f"limit must be an int of 0 or more, not {limit!r}")
        cap = MAX_OBJECTS if limit is None else limit
        found = MediaList()
        total = 0
        while len(found) < cap:
            wanted = min(PAGE_SIZE, cap - len(found))
            reply = action(
                **arguments,
                Filter=filter,
                StartingIndex=len(found),
                RequestedCount=wanted,
                SortCriteria=sort,
            )
            page = self._read(reply)
            found += page[:wanted]
            total = _count(reply.get("TotalMatches"))
            if not page or (total and len(found) >= total) or (not total and len(page) < wanted):
                return found
        if limit is None and (total == 0 or total > len(found)):
            warnings.warn(
                f"{self.device.friendly_name!r}: the listing was cut at {cap} objects "
                f"(TotalMatches {total or 'unknown'}); pass limit= for more",
                UPnPWarning,
                stacklevel=3,
            )
        return found

    def _read(self, reply: Mapping[str, Any]) -> List[MediaObject]:
        """The objects of a Browse or Search answer, their relative URLs (some servers send
        ``/getaa?...`` album art) made absolute against the server's description URL."""
        base = self.device.location
        return [_absolute(obj, base) for obj in parse_didl(str(reply.get("Result") or ""))]


def _count(value: Any) -> int:
    """TotalMatches as an int; 0 (unknown, as ContentDirectory allows) for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _joined(url: str, base: str) -> str:
    return url if "://" in url or not url else urljoin(base, url)


def _absolute(obj: MediaObject, base: str) -> MediaObject:
    """*obj* with its resource and album-art URLs absolute (itself when they all are)."""
    art = obj.album_art_url
    if "://" in (art or "://") and all("://" in r.url or not r.url for r in obj.resources):
        return obj
    resources = tuple(replace(r, url=_joined(r.url, base)) for r in obj.resources)
    album_art_url = _joined(art, base) if art else art
    return replace(obj, resources=resources, album_art_url=album_art_url)
