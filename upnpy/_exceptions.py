"""Exceptions and warnings raised by upnpy (a leaf module).

The tree::

    UPnPError                    .cause — the lower-level failure it translates, if any
    ├─ DiscoveryError            sockets/interfaces could not be set up
    ├─ DescriptionError          .url — unreachable, too large, or not a UPnP description
    ├─ ValidationError(UPnPError, ValueError)
    │                            .argument .value .data_type — rejected before sending
    ├─ TransportError            .url .status — connection, timeout, HTTP status without a fault
    │  └─ TransportTimeout(TransportError, TimeoutError)   the device did not answer in time
    ├─ ActionError               .code .description .action — the device's UPnP fault
    ├─ SubscriptionError         GENA failures
    └─ DIDLError(UPnPError, ValueError)   a media server's DIDL-Lite that cannot be read
    UPnPWarning(UserWarning)     a non-conformant device was tolerated

Wrong argument names raise Python's own :class:`TypeError`; an unknown service or action
raises :class:`AttributeError` (:class:`KeyError` for ``device[...]``).

Failures below upnpy (socket errors, timeouts, malformed HTTP or XML) become these errors in
one place, :func:`upnpy._errors.translate`. The low-level failures that the parsers raise for
it to translate (:class:`XMLError`, :class:`FramingError`) are defined here too; they never
reach a user.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
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
    "XMLError",
    "FramingError",
    "BodyTooLarge",
]


class UPnPError(Exception):
    """Base class of every error upnpy raises on purpose.

    :ivar cause: the lower-level exception this error translates (an :class:`OSError`, a
        parse error, another :class:`UPnPError`), or ``None``. It is kept here rather than
        chained, so that a traceback shows one clear error, not the internals under it.
    """

    cause: Optional[BaseException] = None


class DiscoveryError(UPnPError):
    """SSDP sockets or interfaces could not be set up."""


class DescriptionError(UPnPError):
    """A device description or SCPD is unreachable, too large, or not UPnP.

    :ivar url: the URL of the document.
    :ivar message: the message without the URL.
    """

    def __init__(self, message: str, *, url: Optional[str] = None) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.message = message
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

    A connection failure, a timeout, malformed HTTP, or an HTTP status that carries no UPnP
    fault.

    :ivar url: the URL that was requested.
    :ivar status: the HTTP status code, or ``None`` when no response arrived.
    :ivar message: the message without the URL.
    """

    def __init__(
        self, message: str, *, url: Optional[str] = None, status: Optional[int] = None
    ) -> None:
        super().__init__(f"{message} ({url})" if url else message)
        self.message = message
        self.url = url
        self.status = status


class TransportTimeout(TransportError, TimeoutError):
    """The device did not connect or answer within the timeout.

    Also a :class:`TimeoutError`, so ``except TimeoutError`` catches it.
    """


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


class DIDLError(UPnPError, ValueError):
    """A DIDL-Lite document (a Browse or Search result, a LastChange's metadata) that cannot be
    read: not XML even after the usual repairs, a DTD or entity, too large or too deep, or
    another root element than ``DIDL-Lite``."""


class UPnPWarning(UserWarning):
    """A non-conformant device was tolerated; the raw value was kept."""


# -- low-level failures, translated by upnpy._errors before they reach a user ----------------


class XMLError(ValueError):
    """A document is not XML that upnpy reads: malformed, a DTD, an unknown encoding, too deep."""


class FramingError(ValueError):
    """An HTTP message from a device is malformed: its status line, headers or body framing."""


class BodyTooLarge(FramingError):
    """A body is larger than the limit upnpy reads.

    :ivar limit: the limit, in bytes.
    """

    def __init__(self, limit: int, declared: Optional[int] = None) -> None:
        size = f"of {declared} bytes " if declared is not None else ""
        super().__init__(f"body {size}exceeds the {limit}-byte limit")
        self.limit = limit
