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

# Reprs and tracebacks show ``upnpy.Device``, the name users import, not the module inside.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        _obj.__module__ = "upnpy"
del _name, _obj

logging.getLogger("upnpy").addHandler(logging.NullHandler())
