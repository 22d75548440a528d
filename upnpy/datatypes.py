"""UPnP data types ⇄ Python values (stub: canonical names only; see the full module)."""

from __future__ import annotations

__all__ = ["canonical_type", "KNOWN_TYPES"]

#: Every UDA data type, in its canonical spelling.
KNOWN_TYPES = (
    "ui1", "ui2", "ui4", "ui8", "i1", "i2", "i4", "i8", "int",
    "r4", "r8", "number", "fixed.14.4", "float",
    "char", "string", "date", "dateTime", "dateTime.tz", "time", "time.tz",
    "boolean", "bin.base64", "bin.hex", "uri", "uuid",
)
_BY_LOWER = {name.lower(): name for name in KNOWN_TYPES}


def canonical_type(data_type: str) -> str:
    """The canonical spelling of a dataType (``" DATETIME.TZ "`` → ``"dateTime.tz"``).

    An unknown type is returned stripped but otherwise as written.
    """
    cleaned = data_type.strip()
    return _BY_LOWER.get(cleaned.lower(), cleaned)
