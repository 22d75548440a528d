"""upnpy: a synchronous UPnP control point.

Discover devices, browse their services, and call their actions as Python methods::

    >>> import upnpy
    >>> router = upnpy.discover(st="urn:schemas-upnp-org:device:InternetGatewayDevice:2")[0]
    >>> router.WANIPConnection.GetExternalIPAddress()
    {'NewExternalIPAddress': '11.22.33.44'}
"""

import logging

__version__ = "0.1.0"

from .description import (
    ActionInfo,
    ArgumentInfo,
    DeviceInfo,
    IconInfo,
    ScpdInfo,
    ServiceInfo,
    StateVariableInfo,
)
from .discovery import discover
from .exceptions import (
    ActionError,
    DescriptionError,
    DiscoveryError,
    SubscriptionError,
    TransportError,
    UPnPError,
    UPnPWarning,
    ValidationError,
)
from .proxy import Action, Device, Service
from .ssdp import SSDPResponse, search

__all__ = [
    "__version__",
    "discover",
    "search",
    "SSDPResponse",
    "Device",
    "Service",
    "Action",
    "Subscription",
    "Event",
    "parse_last_change",
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
    "ActionError",
    "SubscriptionError",
    "UPnPWarning",
]

#: Exported names whose module is imported on first use (GENA eventing brings in requests).
_LAZY = {"Subscription": "events", "Event": "events", "parse_last_change": "lastchange"}


def _public(obj: object) -> object:
    """Reprs and tracebacks show ``upnpy.Device``, the name users import."""
    if isinstance(obj, type) or callable(obj):
        obj.__module__ = "upnpy"
    return obj


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = globals()[name] = _public(getattr(module, name))
        return value
    raise AttributeError(f"module 'upnpy' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))


for _name in __all__:
    if _name not in _LAZY:
        _public(globals()[_name])
del _name

logging.getLogger("upnpy").addHandler(logging.NullHandler())
