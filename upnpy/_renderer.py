"""Play media on a MediaRenderer: AVTransport and RenderingControl as Python verbs.

:class:`MediaRenderer` wraps a :class:`~upnpy.Device` and holds no protocol code of its own:
every exchange is an action of its AVTransport or RenderingControl service (InstanceID 0),
checked against the SCPD like any other call. :meth:`MediaRenderer.subscribe` merges the
events of both services, with their ``LastChange`` expanded per variable.
"""

from __future__ import annotations

import collections
import datetime
import logging
import mimetypes
import re
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Deque, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._avtime import format_duration, parse_duration
from ._didl import MediaItem
from ._exceptions import ActionError, SubscriptionError, UPnPError, UPnPWarning, ValidationError
from ._gena import DEFAULT_DURATION
from ._lastchange import parse_last_change
from ._media import RENDERER_SEARCH, MediaDevice, MediaError, service_of
from ._metadata import ITEM_CLASS, didl_metadata
from ._proxy import Device, Service
from ._subscription import MAX_QUEUED_EVENTS, Event, Subscription

__all__ = ["MediaRenderer", "MediaEvent", "MediaSubscription"]

log = logging.getLogger("upnpy")

#: Faults some renderers answer to metadata they do not like; SetAVTransportURI is then sent
#: once more with empty metadata.
METADATA_REFUSED = frozenset({402, 714})
#: Seconds the HEAD that finds a URL's MIME type may take (connect, read).
HEAD_TIMEOUT = (2.0, 3.0)
#: A MIME type as a server may name it, which a protocolInfo can carry (no ``:``, no ``*``).
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")
#: The resources of a MediaItem that play() may hand to a renderer.
_WEB = ("http://", "https://")
#: Renderer answers that mean "no value" for a time (UPnP AV: NOT_IMPLEMENTED).
_NO_TIME = frozenset({"", "NOT_IMPLEMENTED", "NOT IMPLEMENTED"})

Seconds = Union[int, float, str, datetime.timedelta]


@dataclass(frozen=True, repr=False, eq=False)
class MediaEvent:
    """One event of a renderer's AVTransport or RenderingControl.

    :ivar service: ``"AVTransport"`` or ``"RenderingControl"``.
    :ivar variables: the ``LastChange`` of InstanceID 0 expanded into ``{variable: value}``
        (``{"TransportState": "PLAYING", "Volume": {"Master": 30}}``: a per-channel variable
        is ``{channel: value}``), with the service's other evented variables beside it.
        Values are converted with the service's state-variable types.
    :ivar raw: ``{name: text}`` as the device sent it (``LastChange`` unexpanded).
    :ivar seq: the event key (0 for the initial event of each service).
    :ivar event: the GENA :class:`~upnpy.Event` it was read from.
    """

    service: str
    variables: Mapping[str, Any]
    raw: Mapping[str, str]
    seq: int
    event: Event

    def __repr__(self) -> str:
        return f"<MediaEvent {self.service} seq={self.seq} {dict(self.variables)!r}>"


def media_event(event: Event) -> MediaEvent:
    """*event* with its ``LastChange`` expanded (for InstanceID 0); one that cannot be read
    is kept as text, with a :class:`~upnpy.UPnPWarning`."""
    variables = dict(event.variables)
    text = event.raw.get("LastChange")
    if text:
        try:
            expanded = parse_last_change(text, event.service.state_variables)
        except (ValueError, UPnPError) as exc:
            message = f"{event.service.name}: LastChange kept as text: {exc}"
            warnings.warn(message, UPnPWarning, stacklevel=2)
        else:
            variables.pop("LastChange", None)
            variables.update(expanded.get(0, {}))
    return MediaEvent(event.service.name, variables, event.raw, event.seq, event)


class MediaSubscription:
    """Events of several services of one renderer, in the order they arrive; made by
    :meth:`MediaRenderer.subscribe`. A context manager: leaving the block unsubscribes.

    :ivar subscriptions: the GENA :class:`~upnpy.Subscription` of each service.
    """

    #: Seconds between checks that the subscriptions are still alive, while waiting.
    POLL = 0.25

    def __init__(self, services: Iterable[Service], **options: Any) -> None:
        self._cond = threading.Condition()
        self._events: Deque[MediaEvent] = collections.deque(maxlen=MAX_QUEUED_EVENTS)
        self._closed = False
        made: List[Subscription] = []
        try:
            for service in services:
                made.append(service.subscribe(self._put, **options))
        except BaseException:
            for subscription in made:
                subscription.unsubscribe()
            raise
        self.subscriptions: Tuple[Subscription, ...] = tuple(made)

    def _put(self, event: Event) -> None:  # a subscription's callback thread
        converted = media_event(event)
        with self._cond:
            self._events.append(converted)  # full: the oldest goes, as in a Subscription
            self._cond.notify_all()

    def _failed(self) -> Optional[SubscriptionError]:
        return next((s.error for s in self.subscriptions if s.error is not None), None)

    def get(self, timeout: Optional[float] = 5.0) -> MediaEvent:
        """The next event, waiting up to *timeout* seconds (``None``: no limit).

        :raises TimeoutError: when no event arrives in time.
        :raises SubscriptionError: when the subscriptions have ended (or one failed).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._events:
                error = self._failed()
                if error is not None or self._closed:
                    raise SubscriptionError(str(error or f"{self!r} was cancelled"))
                left = self.POLL if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no event within {timeout} s")
                self._cond.wait(min(left, self.POLL))
            return self._events.popleft()

    def __iter__(self) -> Iterator[MediaEvent]:
        """Yield events as they arrive; stop when unsubscribed.

        :raises SubscriptionError: when a subscription fails.
        """
        while True:
            try:
                yield self.get(timeout=None)
            except SubscriptionError:
                if self._failed() is not None:
                    raise
                return

    def unsubscribe(self) -> None:
        """Cancel every subscription (idempotent); events already queued can still be read."""
        for subscription in self.subscriptions:
            subscription.unsubscribe()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    close = unsubscribe

    def __enter__(self) -> MediaSubscription:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        names = ", ".join(s.service.name for s in self.subscriptions)
        return f"<MediaSubscription {names} {'cancelled' if self._closed else 'active'}>"


def _time(text: Any) -> Optional[float]:
    """A renderer's time (``0:01:30``) in seconds; ``None`` for NOT_IMPLEMENTED or garbage."""
    value = str(text or "").strip()
    if value.upper() in _NO_TIME:
        return None
    seconds = parse_duration(value)
    if seconds is None:
        message = f"a renderer's time {value!r} is not H:MM:SS: left out"
        warnings.warn(message, UPnPWarning, stacklevel=3)
    return seconds


def _target(position: Seconds) -> str:
    """A Seek target (REL_TIME, ``H:MM:SS``) from seconds, a timedelta or ``H:MM:SS`` text."""
    if isinstance(position, datetime.timedelta):
        position = position.total_seconds()
    if isinstance(position, str):
        seconds = parse_duration(position.strip())
        if seconds is None:
            raise ValidationError(
                f"{position!r} is not a time (seconds or H:MM:SS)",
                argument="Target",
                value=position,
            )
        position = seconds
    if (
        isinstance(position, bool)
        or not isinstance(position, (int, float))
        or not (0 <= position < float("inf"))
    ):
        raise ValidationError(
            f"{position!r} is not a position in seconds (0 or more)",
            argument="Target",
            value=position,
        )
    return format_duration(float(position))


class MediaRenderer(MediaDevice):
    """A MediaRenderer (a TV, a speaker, gmediarender): play a URL, pause, seek, volume.

    :param device: the renderer's :class:`~upnpy.Device` (it stays reachable as
        :attr:`device`); an embedded MediaRenderer is found in its tree.
    :raises MediaError: when the device has no AVTransport service.

    ``MediaRenderer.find(name=None, timeout=2.0)`` finds one by name or UDN (see
    :meth:`MediaDevice.find`); it is a context manager that closes the device.
    """

    SEARCH = RENDERER_SEARCH
    SERVICE = "AVTransport"

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        self.av_transport: Service = self._service("MediaRenderer")
        self.rendering_control: Optional[Service] = service_of(device, "RenderingControl")

    # -- transport ----------------------------------------------------------------------------

    def play(
        self,
        url: Union[str, MediaItem, None] = None,
        *,
        title: Optional[str] = None,
        mime_type: Optional[str] = None,
        upnp_class: Optional[str] = None,
        metadata: Optional[str] = None,
    ) -> None:
        """Play *url* (set it as the current URI, with DIDL-Lite metadata, then Play), or go on
        playing the current one when *url* is ``None``.

        The metadata names *title* (by default the URL's last path segment), *upnp_class*
        (by default from the MIME type) and ``protocolInfo`` ``http-get:*:<mime>:*``. Without
        *mime_type*, an ``http:`` URL is asked with a HEAD (:data:`HEAD_TIMEOUT`) and the
        extension is the fallback. A renderer that refuses the metadata (fault 402 or 714)
        is sent the URI once more with none. *metadata* replaces the generated DIDL-Lite.

        *url* may also be a :class:`~upnpy.MediaItem` from a media server: its first http(s)
        resource is played, with the item's title and class and the resource's own
        ``protocolInfo`` (which carries the server's DLNA flags some TVs want).

        :raises ActionError: when the renderer refuses the URI or Play.
        :raises ValidationError: for a MediaItem without an http(s) resource.
        """
        if isinstance(url, MediaItem):
            url, metadata = self._item(url, title, mime_type, upnp_class, metadata)
        if url is not None:
            if metadata is None:
                mime = mime_type or self._mime_of(url)
                metadata = didl_metadata(
                    url, title=title or _title_of(url), mime_type=mime, upnp_class=upnp_class
                )
            self._set_uri(url, metadata)
        self.av_transport.Play(InstanceID=0, Speed="1")

    def _item(
        self,
        item: MediaItem,
        title: Optional[str],
        mime_type: Optional[str],
        upnp_class: Optional[str],
        metadata: Optional[str],
    ) -> Tuple[str, str]:
        """The URL and metadata that play *item* (the caller's choices first)."""
        res = next((r for r in item.resources if r.url.lower().startswith(_WEB)), None)
        if res is None:
            raise ValidationError(
                f"{item!r} has no http(s) resource to play", argument="url", value=item
            )
        if metadata is not None:
            return res.url, metadata
        choices: Dict[str, Any] = {
            "title": title or item.title or _title_of(res.url),
            "mime_type": mime_type or res.mime_type,
            "upnp_class": upnp_class
            or (item.upnp_class if ITEM_CLASS.match(item.upnp_class) else None),
        }
        try:  # the server's own protocolInfo, when it is one
            return res.url, didl_metadata(res.url, protocol_info=res.protocol_info, **choices)
        except ValidationError:
            return res.url, didl_metadata(res.url, **choices)

    def _set_uri(self, url: str, metadata: str) -> None:
        try:
            self.av_transport.SetAVTransportURI(
                InstanceID=0, CurrentURI=url, CurrentURIMetaData=metadata
            )
        except ActionError as exc:
            if not metadata or exc.code not in METADATA_REFUSED:
                raise
            log.info("%r refused the metadata (%s): sent again without", self, exc)
            self.av_transport.SetAVTransportURI(InstanceID=0, CurrentURI=url, CurrentURIMetaData="")

    def _mime_of(self, url: str) -> Optional[str]:
        """The MIME type the server of *url* names in a HEAD, else the extension's guess."""
        if url.lower().startswith("http://"):
            try:
                reply = self.device._transport.exchange("HEAD", url, {}, b"", HEAD_TIMEOUT, 0)
            except UPnPError as exc:
                log.info("HEAD %s: %s: the MIME type is guessed from the extension", url, exc)
            else:
                kind = _content_type(reply.headers) if 200 <= reply.status < 300 else None
                if kind:
                    return kind
        return mimetypes.guess_type(url, strict=False)[0]

    def pause(self) -> None:
        """Pause (AVTransport Pause). :raises ActionError: e.g. when nothing is playing."""
        self.av_transport.Pause(InstanceID=0)

    def stop(self) -> None:
        """Stop (AVTransport Stop)."""
        self.av_transport.Stop(InstanceID=0)

    def seek(self, position: Seconds) -> None:
        """Go to *position* in the current track: seconds, a timedelta or ``"0:01:30"``.

        :raises ValidationError: for a position that is not a time, before anything is sent.
        """
        self.av_transport.Seek(InstanceID=0, Unit="REL_TIME", Target=_target(position))

    @property
    def state(self) -> str:
        """The transport state: ``"PLAYING"``, ``"PAUSED_PLAYBACK"``, ``"STOPPED"``,
        ``"TRANSITIONING"``, ``"NO_MEDIA_PRESENT"`` (one GetTransportInfo each read)."""
        return str(self.av_transport.GetTransportInfo(InstanceID=0)["CurrentTransportState"])

    def _position_info(self) -> Dict[str, Any]:
        info: Dict[str, Any] = self.av_transport.GetPositionInfo(InstanceID=0)
        return info

    @property
    def position(self) -> Optional[float]:
        """Seconds into the current track, or ``None`` when the renderer does not say."""
        return _time(self._position_info().get("RelTime"))

    @property
    def duration(self) -> Optional[float]:
        """The current track's length in seconds, or ``None`` when unknown (no track, a
        stream, ``NOT_IMPLEMENTED``, or ``0:00:00``)."""
        seconds = _time(self._position_info().get("TrackDuration"))
        return seconds or None

    # -- rendering control --------------------------------------------------------------------

    def _control(self) -> Service:
        if self.rendering_control is None:
            raise MediaError(f"{self.device.friendly_name!r} has no RenderingControl service")
        return self.rendering_control

    @property
    def volume(self) -> int:
        """The Master volume (RenderingControl GetVolume); setting it is checked against the
        Volume state variable's range before it is sent (a :class:`~upnpy.ValidationError`)."""
        return int(self._control().GetVolume(InstanceID=0, Channel="Master")["CurrentVolume"])

    @volume.setter
    def volume(self, value: int) -> None:
        self._control().SetVolume(InstanceID=0, Channel="Master", DesiredVolume=value)

    @property
    def muted(self) -> bool:
        """Whether the Master channel is muted (RenderingControl GetMute/SetMute)."""
        return bool(self._control().GetMute(InstanceID=0, Channel="Master")["CurrentMute"])

    @muted.setter
    def muted(self, value: bool) -> None:
        self._control().SetMute(InstanceID=0, Channel="Master", DesiredMute=bool(value))

    # -- events -------------------------------------------------------------------------------

    def subscribe(
        self,
        timeout: Union[float, datetime.timedelta] = DEFAULT_DURATION,
        auto_renew: bool = True,
        **options: Any,
    ) -> MediaSubscription:
        """Subscribe to AVTransport and RenderingControl events together.

        ``with tv.subscribe() as sub: for event in sub: ...`` gives :class:`MediaEvent`\\ s
        with ``LastChange`` expanded (``event.variables["TransportState"]``). *options* are
        those of :meth:`upnpy.Service.subscribe` (``callback_url``, ``bind``).

        :raises SubscriptionError: when a service refuses (none is left subscribed).
        """
        services = [s for s in (self.av_transport, self.rendering_control) if s is not None]
        return MediaSubscription(services, timeout=timeout, auto_renew=auto_renew, **options)


def _title_of(url: str) -> str:
    """The last path segment of *url*, percent-decoded (a title when none is given)."""
    from urllib.parse import unquote, urlsplit

    path = urlsplit(url).path.rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) or url


def _content_type(headers: Mapping[str, str]) -> Optional[str]:
    """The ``type/subtype`` of a Content-Type header (a case-insensitive mapping), or
    ``None`` when there is no such."""
    kind = headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return kind if _MIME_TYPE.match(kind) else None
