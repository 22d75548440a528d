"""Exceptions and warnings raised by upnpy.

The tree::

    UPnPError
    ├─ DiscoveryError            sockets/interfaces could not be set up
    ├─ DescriptionError          .url — unreachable, too large, or not a UPnP description
    ├─ ValidationError(UPnPError, ValueError)
    │                            .argument .value .data_type — rejected before sending
    ├─ TransportError            .url .status — connection, timeout, HTTP status without a fault
    ├─ ActionError               .code .description .action — the device's UPnP fault
    └─ SubscriptionError         GENA failures
    UPnPWarning(UserWarning)     a non-conformant device was tolerated

Wrong argument names raise Python's own :class:`TypeError`; an unknown service or action
raises :class:`AttributeError` (:class:`KeyError` for ``device[...]``).
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "UPnPError",
    "DiscoveryError",
    "DescriptionError",
    "ValidationError",
    "TransportError",
    "ActionError",
    "SubscriptionError",
    "UPnPWarning",
]


class UPnPError(Exception):
    """Base class of every error upnpy raises on purpose."""


class DiscoveryError(UPnPError):
    """SSDP sockets or interfaces could not be set up."""


class DescriptionError(UPnPError):
    """A device description or SCPD is unreachable, too large, or not UPnP.

    :ivar url: the URL of the document.
    """

    def __init__(self, message: str, *, url: Optional[str] = None) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url


class ValidationError(UPnPError, ValueError):
    """An argument was rejected before anything was sent.

    :ivar argument: the argument (or state variable) name.
    :ivar value: the rejected Python value.
    :ivar data_type: the UPnP data type it was checked against.
    """

    def __init__(
        self,
        message: str,
        *,
        argument: Optional[str] = None,
        value: Any = None,
        data_type: Optional[str] = None,
    ) -> None:
        prefix = f"{argument}: " if argument else ""
        super().__init__(prefix + message)
        self.argument = argument
        self.value = value
        self.data_type = data_type


class TransportError(UPnPError):
    """The exchange with the device failed below UPnP.

    A connection failure, a timeout, or an HTTP status that carries no UPnP fault.

    :ivar url: the URL that was requested.
    :ivar status: the HTTP status code, or ``None`` when no response arrived.
    """

    def __init__(self, message: str, *, url: Optional[str] = None, status: Optional[int] = None) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.url = url
        self.status = status


class ActionError(UPnPError):
    """The device answered an action with a UPnP fault.

    :ivar code: the UPnP error code (``714``), or ``None`` when the fault had none.
    :ivar description: the device's error description (may be empty).
    :ivar action: the name of the action that failed.
    """

    def __init__(self, code: Optional[int], description: str = "", *, action: str = "") -> None:
        where = f"{action}: " if action else ""
        super().__init__(f"{where}UPnP error {code}: {description}".rstrip(": "))
        self.code = code
        self.description = description
        self.action = action


class SubscriptionError(UPnPError):
    """A GENA subscription could not be made, renewed or cancelled."""


class UPnPWarning(UserWarning):
    """A non-conformant device was tolerated; the raw value was kept."""


for _name in __all__:
    globals()[_name].__module__ = "upnpy"
