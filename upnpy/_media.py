"""Finding the devices of the AV profile: a MediaRenderer or MediaServer by name or UDN.

:class:`~upnpy.MediaRenderer` and :class:`~upnpy.MediaServer` wrap a :class:`~upnpy.Device`;
this module finds one on the LAN (an SSDP search for the device type, each answer described
once) and names the errors both raise.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Optional, Tuple, Type, TypeVar

from ._discovery import discover_iter
from ._exceptions import UPnPError
from ._proxy import Device, Service

__all__ = ["MediaError", "MediaNotFound", "MediaDevice", "find_media", "service_of"]

log = logging.getLogger("upnpy")

#: What :meth:`~upnpy.MediaRenderer.find` and :meth:`~upnpy.MediaServer.find` search for (a
#: device of a later version answers a search for version 1 too).
RENDERER_SEARCH = "urn:schemas-upnp-org:device:MediaRenderer:1"
SERVER_SEARCH = "urn:schemas-upnp-org:device:MediaServer:1"


class MediaError(UPnPError):
    """A media device cannot do what was asked (it lacks the service or the action)."""


class MediaNotFound(MediaError, LookupError):
    """No media device of the kind (and name) asked for answered in time."""


def _udn_key(text: str) -> str:
    text = text.strip().casefold()
    return text[5:] if text.startswith("uuid:") else text


def _matches(device: Device, name: Optional[str]) -> bool:
    """Whether *device* is the one *name* asks for: its friendlyName (without regard to case
    or surrounding spaces) or its UDN (with or without ``uuid:``); any when *name* is None."""
    if name is None:
        return True
    wanted = name.strip().casefold()
    return device.friendly_name.strip().casefold() == wanted or _udn_key(device.udn) == _udn_key(
        name
    )


def service_of(device: Device, name: str) -> Optional[Service]:
    """The first service called *name* (``AVTransport``) in *device*'s tree, or ``None``."""
    return next((s for s in device.all_services if s.name == name), None)


def _pick(root: Device, service: str, name: Optional[str]) -> Optional[Device]:
    """The device in *root*'s tree that has *service* and answers to *name*: the root itself
    when its name matches and the service is anywhere in its tree, else an embedded device."""
    for device in root.walk():
        if service_of(device, service) is not None and (
            _matches(device, name) or _matches(root, name)
        ):
            return device
    return None


def find_media(
    device_type: str,
    service: str,
    name: Optional[str],
    timeout: float,
    interfaces: Optional[Iterable[str]],
) -> Tuple[Device, Device]:
    """``(root, device)``: the first root device found by a search for *device_type* whose
    tree has *service* and answers to *name*; the search stops at it.

    :raises MediaNotFound: when none answered within *timeout* seconds.
    :raises DiscoveryError: when no interface could send the search.
    """
    found = discover_iter(device_type, timeout, interfaces=interfaces)
    try:
        for root in found:
            device = _pick(root, service, name)
            if device is not None:
                return root, device
            log.debug("find: %r is not %r", root, name)
            root.close()
    finally:
        found.close()  # type: ignore[attr-defined]  # a generator: its sockets, now
    kind = device_type.split(":")[-2]
    what = f"{kind} {name!r}" if name is not None else f"a {kind}"
    raise MediaNotFound(f"{what} did not answer within {timeout} s")


_D = TypeVar("_D", bound="MediaDevice")


class MediaDevice:
    """What :class:`~upnpy.MediaRenderer` and :class:`~upnpy.MediaServer` share: a wrapped
    :class:`~upnpy.Device` (:attr:`device`), found by type and name, closed with it."""

    #: The search target of :meth:`find`, and the service that makes a device one of these.
    SEARCH = ""
    SERVICE = ""

    def __init__(self, device: Device) -> None:
        self.device = device

    @classmethod
    def find(
        cls: Type[_D],
        name: Optional[str] = None,
        timeout: float = 2.0,
        *,
        interfaces: Optional[Iterable[str]] = None,
    ) -> _D:
        """The device called *name* (its friendlyName, without regard to case, or its UDN),
        or the first one to answer when *name* is ``None``. The search stops at it.

        :raises MediaNotFound: when it did not answer within *timeout* seconds.
        :raises DiscoveryError: when no interface could send the search.
        """
        _, device = find_media(cls.SEARCH, cls.SERVICE, name, timeout, interfaces)
        return cls(device)

    def _service(self, kind: str) -> Service:
        """The device's *kind* service (the one that makes it what it is)."""
        found = service_of(self.device, self.SERVICE)
        if found is None:
            name = self.device.friendly_name
            raise MediaError(f"{name!r} has no {self.SERVICE}: not a {kind}")
        return found

    def close(self) -> None:
        """Close the device's HTTP connections (idempotent)."""
        self.device.close()

    def __enter__(self: _D) -> _D:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"<{kind} {self.device.friendly_name!r} at {self.device.location}>"
