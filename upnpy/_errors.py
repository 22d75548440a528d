"""The one place where failures below upnpy become upnpy errors.

Sockets, requests and the parsers raise their own exceptions; :func:`translate` turns each
into the upnpy error a user catches, with the URL (and HTTP status, once known) as
attributes and the original kept on ``.cause`` rather than chained, so a dead device gives
one short traceback ending in a clear line. httpx's ``map_httpcore_exceptions`` is the model.

=====================================  ==============================================
raised inside the block                raised to the caller
=====================================  ==============================================
any :class:`~upnpy.UPnPError`          unchanged
:class:`TimeoutError` (socket timeout)  :class:`~upnpy.TransportTimeout`
:class:`OSError`                       :class:`~upnpy.TransportError`
``requests.Timeout``                   :class:`~upnpy.TransportTimeout`
``requests``/``urllib3`` errors        :class:`~upnpy.TransportError`
:class:`~._exceptions.FramingError`    :class:`~upnpy.TransportError`
:class:`~._exceptions.XMLError`        *malformed* (the error of the document's kind)
=====================================  ==============================================
"""

from __future__ import annotations

import socket
import sys
from types import TracebackType
from typing import Optional, Type, Union

from ._exceptions import (
    DescriptionError,
    FramingError,
    TransportError,
    TransportTimeout,
    UPnPError,
    XMLError,
)

__all__ = ["translate", "with_cause"]

#: What a malformed XML document becomes: its own kind of error.
_Malformed = Union[Type[TransportError], Type[DescriptionError]]


def with_cause(error: UPnPError, cause: BaseException) -> UPnPError:
    """*error* with *cause* kept on ``.cause`` (for ``raise with_cause(...) from None``)."""
    error.cause = cause
    return error


def _requests_error(exc: BaseException) -> Optional[Type[TransportError]]:
    """The class for an exception of requests or of urllib3 under it (they are only loaded
    when a user brought a session)."""
    requests = sys.modules.get("requests")
    if requests is not None and isinstance(exc, requests.RequestException):
        return TransportTimeout if isinstance(exc, requests.Timeout) else TransportError
    urllib3 = sys.modules.get("urllib3.exceptions")
    if urllib3 is not None and isinstance(exc, urllib3.HTTPError):
        return TransportTimeout if isinstance(exc, urllib3.TimeoutError) else TransportError
    return None


def _translated(
    exc: Exception, url: Optional[str], status: Optional[int], malformed: _Malformed
) -> Optional[UPnPError]:
    if isinstance(exc, XMLError):
        if issubclass(malformed, DescriptionError):
            return malformed(str(exc), url=url)
        return malformed(str(exc), url=url, status=status)
    kind = _requests_error(exc)  # before OSError: requests' errors are IOErrors too
    if kind is not None:
        return kind(f"request failed: {exc}", url=url, status=status)
    if isinstance(exc, FramingError):
        return TransportError(str(exc), url=url, status=status)
    if isinstance(exc, (TimeoutError, socket.timeout)):  # one class since Python 3.10
        detail = str(exc)
        message = "timed out" if detail in ("", "timed out") else f"timed out: {detail}"
        return TransportTimeout(message, url=url, status=status)
    if isinstance(exc, OSError):
        return TransportError(f"connection failed: {exc}", url=url, status=status)
    return None


class translate:
    """Translate what the ``with`` block raises by the table in this module's docstring.

    A class rather than a generator-based context manager: it wraps every exchange, and
    entering it must cost next to nothing.

    :param url: the URL being exchanged with, for the error.
    :param status: the HTTP status, when the status line has already arrived.
    :param malformed: the error a malformed XML document becomes (a SOAP answer is a
        :class:`~upnpy.TransportError`, a description a :class:`~upnpy.DescriptionError`).
    """

    __slots__ = ("malformed", "status", "url")

    def __init__(
        self,
        url: Optional[str] = None,
        *,
        status: Optional[int] = None,
        malformed: _Malformed = TransportError,
    ) -> None:
        self.url = url
        self.status = status
        self.malformed = malformed

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, UPnPError):
            return  # nothing raised, or passed on unchanged
        error = _translated(exc, self.url, self.status, self.malformed)
        if error is not None:
            raise with_cause(error, exc) from None
