"""Times of the AV profile: DIDL-Lite durations and AVTransport positions, read and written
(``H+:MM:SS[.F+]``, a leaf module)."""

from __future__ import annotations

import math
import numbers
import re
from typing import Optional

__all__ = ["parse_duration", "format_duration"]

_DURATION = re.compile(r"([0-9]+):([0-9]{1,2})(?::([0-9]{1,2}))?(?:\.([0-9]+)(?:/([0-9]+))?)?\Z")


def parse_duration(text: Optional[str]) -> Optional[float]:
    """Seconds from a DIDL-Lite or AVTransport duration: ``H+:MM:SS`` with an optional
    fraction ``.F+`` or ``.F0/F1`` (F0 < F1); also ``M+:SS`` (``"3:25"``: not UPnP's, but
    what people type). Surrounding spaces are ignored; one-digit minutes and seconds read.

    :returns: the seconds, or ``None`` for anything else (``NOT_IMPLEMENTED``, ``-0:00:01``,
        minutes or seconds over 59, text over 64 characters, ``None``).
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    match = _DURATION.match(text.strip())
    if match is None:
        return None
    first, second, third, fraction, denominator = match.groups()
    if third is None:  # M+:SS
        hours, minutes, seconds = 0, int(first), int(second)
    else:
        hours, minutes, seconds = int(first), int(second), int(third)
    if seconds > 59 or (third is not None and minutes > 59):
        return None
    value = float(hours * 3600 + minutes * 60 + seconds)
    if denominator is not None:
        if int(fraction) >= int(denominator):
            return None
        value += int(fraction) / int(denominator)
    elif fraction is not None:
        value += float("0." + fraction)
    return value


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` from seconds (``90`` → ``"0:01:30"``; AVTransport's Seek ``REL_TIME``),
    with milliseconds when they are not zero (``90.25`` → ``"0:01:30.25"``).

    :raises ValueError: for a negative, infinite or NaN number (:class:`TypeError`: not a number).
    """
    given: object = seconds  # checked at run time, whatever the annotation says
    if isinstance(given, bool) or not isinstance(given, numbers.Real):
        raise TypeError(f"seconds must be a number, not {type(given).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration is 0 seconds or more, not {seconds!r}")
    whole, millis = divmod(round(seconds * 1000), 1000)
    hours, rest = divmod(whole, 3600)
    text = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{text}.{millis:03d}".rstrip("0") if millis else text
