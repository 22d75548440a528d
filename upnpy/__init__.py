"""upnpy: a synchronous UPnP control point.

Discover devices, browse their services, and call their actions as Python methods::

    >>> import upnpy
    >>> router = upnpy.discover(st="urn:schemas-upnp-org:device:InternetGatewayDevice:2")[0]
    >>> router.WANIPConnection.GetExternalIPAddress()
    {'NewExternalIPAddress': '11.22.33.44'}

This module is the whole public API; the modules under it (``upnpy._*``) are internal.
"""

from __future__ import annotations

import importlib
import logging
import typing as _typing

from ._discovery import discover, discover_iter
from ._exceptions import (
    ActionError,
    DescriptionError,
    DIDLError,
    DiscoveryError,
    SubscriptionError,
    TransportError,
    TransportTimeout,
    UPnPError,
    UPnPWarning,
    ValidationError,
)
from ._proxy import Action, Device, Service
from ._records import (
    ActionInfo,
    ArgumentInfo,
    DeviceInfo,
    IconInfo,
    ScpdInfo,
    ServiceInfo,
    StateVariableInfo,
)
from ._ssdp import SSDPResponse, search
from ._version import __version__

if _typing.TYPE_CHECKING:  # loaded on first use (they bring in threads and an HTTP server)
    from ._didl import (
        MediaContainer,
        MediaItem,
        MediaObject,
        MediaResource,
        parse_didl,
    )
    from ._gateway import (
        Forwarding,
        Gateway,
        GatewayNotFound,
        GatewayStatus,
        PortMapping,
        Traffic,
        forward,
    )
    from ._lastchange import parse_last_change
    from ._media import MediaError, MediaNotFound
    from ._mediaserver import MediaServer
    from ._metadata import didl_metadata
    from ._renderer import MediaEvent, MediaRenderer, MediaSubscription
    from ._subscription import Event, Subscription
    from ._tracker import DeviceChange, DeviceTracker

__all__ = [
    "__version__",
    "discover",
    "discover_iter",
    "DeviceTracker",
    "DeviceChange",
    "search",
    "SSDPResponse",
    "Device",
    "Service",
    "Action",
    "Subscription",
    "Event",
    "parse_last_change",
    "Gateway",
    "GatewayStatus",
    "PortMapping",
    "Traffic",
    "Forwarding",
    "forward",
    "GatewayNotFound",
    "MediaRenderer",
    "MediaServer",
    "MediaEvent",
    "MediaSubscription",
    "MediaObject",
    "MediaContainer",
    "MediaItem",
    "MediaResource",
    "parse_didl",
    "didl_metadata",
    "MediaError",
    "MediaNotFound",
    "DeviceInfo",
    "ServiceInfo",
    "IconInfo",
    "ScpdInfo",
    "ActionInfo",
    "ArgumentInfo",
    "StateVariableInfo",
    "UPnPError",
    "DiscoveryError",
    "DescriptionError",
    "ValidationError",
    "TransportError",
    "TransportTimeout",
    "ActionError",
    "SubscriptionError",
    "DIDLError",
    "UPnPWarning",
]

_T = _typing.TypeVar("_T")

#: Exported names whose module is imported on first use, by the module's name.
_LAZY = {
    "Subscription": "._subscription",
    "Event": "._subscription",
    "parse_last_change": "._lastchange",
    "Gateway": "._gateway",
    "GatewayStatus": "._gateway",
    "PortMapping": "._gateway",
    "Traffic": "._gateway",
    "Forwarding": "._gateway",
    "forward": "._gateway",
    "GatewayNotFound": "._gateway",
    "DeviceTracker": "._tracker",
    "DeviceChange": "._tracker",
    "MediaRenderer": "._renderer",
    "MediaEvent": "._renderer",
    "MediaSubscription": "._renderer",
    "MediaServer": "._mediaserver",
    "MediaError": "._media",
    "MediaNotFound": "._media",
    "MediaObject": "._didl",
    "MediaContainer": "._didl",
    "MediaItem": "._didl",
    "MediaResource": "._didl",
    "parse_didl": "._didl",
    "didl_metadata": "._metadata",
}


def _public(obj: _T) -> _T:
    """Reprs and tracebacks show ``upnpy.Device``, the name users import."""
    if isinstance(obj, type) or callable(obj):
        obj.__module__ = __name__
    return obj


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = globals()[name] = _public(
            getattr(importlib.import_module(_LAZY[name], __name__), name)
        )
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


for _name in __all__:  # the one place exported names are given their public module
    if _name not in _LAZY and _name != "__version__":
        _public(globals()[_name])
del _name

logging.getLogger("upnpy").addHandler(logging.NullHandler())
