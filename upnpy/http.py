"""HTTP helpers: sessions, timeouts and size-capped reads.

requests has no default timeout and no size limit; every body upnpy reads from a device
goes through :func:`read_capped`, which enforces both while streaming.
"""

from __future__ import annotations

import platform
import time
from typing import Callable, Optional, Tuple, Union

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

from . import __version__
from .exceptions import DescriptionError, UPnPError

__all__ = [
    "USER_AGENT",
    "DEFAULT_TIMEOUT",
    "Timeout",
    "new_session",
    "read_capped",
    "as_timeout",
]


#: ``OS/version UPnP/1.1 product/version``, space-separated as UDA 1.1 asks.
USER_AGENT = f"{platform.system() or 'Unknown'}/{platform.release() or '0'} UPnP/1.1 upnpy/{__version__}"

#: (connect, read) in seconds. UDA gives a device 30 s to answer an action.
DEFAULT_TIMEOUT: Tuple[float, float] = (5.0, 30.0)

Timeout = Union[float, Tuple[float, float]]

_CHUNK = 64 * 1024


def as_timeout(timeout: Optional[Timeout]) -> Tuple[float, float]:
    """Normalise a user's timeout (a number or a ``(connect, read)`` pair)."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, (int, float)):
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        return (float(timeout), float(timeout))
    connect, read = timeout
    return (float(connect), float(read))


def new_session() -> requests.Session:
    """A session for one device: keep-alive, our User-Agent, no proxy/netrc lookups.

    ``trust_env`` is off: a device on the LAN is never reached through a proxy, and reading
    the environment and ``~/.netrc`` on every request costs more than the request itself.
    """
    import requests  # imported on first use: `import upnpy` stays cheap

    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    return session


def read_capped(
    response: requests.Response,
    limit: int,
    *,
    deadline: Optional[float] = None,
    error: Callable[..., UPnPError] = DescriptionError,
) -> bytes:
    """Read a streamed response body, refusing more than *limit* bytes.

    :param response: a response obtained with ``stream=True``; it is closed here.
    :param limit: the largest body accepted, in bytes.
    :param deadline: a :func:`time.monotonic` instant after which reading stops, so a
        device that drips bytes cannot hold the caller beyond it.
    :param error: the exception class raised (called with a message and ``url=``).
    :raises UPnPError: (of class *error*) when the body is too large, too slow, or the
        connection breaks while reading.
    """
    import requests

    url = response.url
    try:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise error(f"body of {declared} bytes exceeds the {limit}-byte limit", url=url)
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise error(f"body exceeds the {limit}-byte limit", url=url)
            if deadline is not None and time.monotonic() > deadline:
                raise error("body arrived too slowly (deadline passed)", url=url)
        return bytes(body)
    except requests.RequestException as exc:
        raise error(f"connection failed while reading the body: {exc}", url=url) from exc
    finally:
        response.close()
