"""The ``upnpy`` command's media verbs: ``play`` a URL on a renderer, ``browse`` a server.

::

    upnpy play URL [--to RENDERER] [--title T] [--mime TYPE]
    upnpy browse SERVER [OBJECT_ID] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

from ._cli_names import open_device
from ._cli_text import json_default
from ._display import media_text
from ._media import RENDERER_SEARCH
from ._proxy import Device

if TYPE_CHECKING:  # pragma: no cover
    from ._didl import MediaObject

__all__ = ["add_commands", "COMMANDS", "object_dict"]

Command = Callable[[str, str], argparse.ArgumentParser]


def add_commands(command: Command, lookup: Callable[..., None], count: Any) -> None:
    """Add ``play`` and ``browse`` with the parser's *command* and *lookup* helpers."""
    play = command("play", "play a URL on a MediaRenderer (the first found without --to)")
    play.add_argument("url", metavar="URL", help="the media's URL (http://...)")
    play.add_argument("--to", metavar="RENDERER", help="URL, UDN or friendly name")
    play.add_argument("--title", help="the title shown (default: the URL's file name)")
    play.add_argument("--mime", metavar="TYPE", help="e.g. audio/mpeg (default: from a HEAD)")
    lookup(play, device=False)
    browse = command("browse", "list a MediaServer container's children (a table)")
    lookup(browse)
    browse.add_argument("object_id", nargs="?", default="0", metavar="OBJECT_ID")
    browse.add_argument("--limit", type=count, metavar="N", help="show at most this many")
    browse.add_argument("--json", action="store_true", help="print JSON lines, one per object")


def _open(name: Optional[str], seconds: float, kind: str) -> Tuple[Device, Device]:
    """``(root, device)``: the one *name* names, or the first of *kind* to answer."""
    return open_device(name if name is not None else kind, seconds)


def _run_play(args: argparse.Namespace) -> int:
    from ._renderer import MediaRenderer  # loaded by the media commands only (events, threads)

    root, device = _open(args.to, args.timeout, RENDERER_SEARCH)
    with root:
        renderer = MediaRenderer(device)
        renderer.play(args.url, title=args.title, mime_type=args.mime)
        state = renderer.state
    print(f"playing {args.url} on {device.friendly_name!r} ({state})")
    return 0


def _run_browse(args: argparse.Namespace) -> int:
    from ._mediaserver import MediaServer

    root, device = open_device(args.device, args.timeout)
    with root:
        found = MediaServer(device).browse(args.object_id, limit=args.limit)
    if args.json:
        for obj in found:
            print(json.dumps(object_dict(obj), default=json_default))
        return 0
    if found:
        print(media_text(found))
    return 0


def object_dict(obj: MediaObject) -> Dict[str, Any]:
    """A media object as plain JSON data."""
    from ._didl import MediaContainer

    fields: Dict[str, Any] = {
        "id": obj.id,
        "parent_id": obj.parent_id,
        "container": isinstance(obj, MediaContainer),
        "title": obj.title,
        "class": obj.upnp_class,
        "creator": obj.creator,
        "artist": obj.artist,
        "album": obj.album,
        "album_art_url": obj.album_art_url,
        "resources": [
            {
                "url": r.url,
                "protocol_info": r.protocol_info,
                "mime_type": r.mime_type,
                "size": r.size,
                "duration": r.duration,
                "bitrate": r.bitrate,
            }
            for r in obj.resources
        ],
    }
    if isinstance(obj, MediaContainer):
        fields["child_count"] = obj.child_count
    return fields


COMMANDS = {"play": _run_play, "browse": _run_browse}
