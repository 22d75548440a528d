"""UPnP lexical forms that both the description parser and the type table read.

A leaf module: the canonical data type names, the boolean words and the number grammars,
so that :mod:`upnpy._description` and :mod:`upnpy._datatypes` share one spelling of each.
"""

from __future__ import annotations

import re

__all__ = [
    "KNOWN_TYPES",
    "canonical_type",
    "TRUE_WORDS",
    "FALSE_WORDS",
    "INT_TEXT",
    "NUMBER_TEXT",
    "XML_WHITESPACE",
]

#: Every UDA data type, in its canonical spelling.
KNOWN_TYPES = (
    "ui1", "ui2", "ui4", "ui8", "i1", "i2", "i4", "i8", "int",
    "r4", "r8", "number", "fixed.14.4", "float",
    "char", "string", "date", "dateTime", "dateTime.tz", "time", "time.tz",
    "boolean", "bin.base64", "bin.hex", "uri", "uuid",
)  # fmt: skip
_BY_LOWER = {name.lower(): name for name in KNOWN_TYPES}

#: The words UDA allows for a boolean (compared in lower case).
TRUE_WORDS = ("1", "true", "yes")
FALSE_WORDS = ("0", "false", "no")

#: A decimal integer, optionally signed (ASCII digits only).
INT_TEXT = re.compile(r"[+-]?[0-9]+")
#: A decimal number with optional fraction and exponent (ASCII digits only).
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

#: XML whitespace, stripped around non-string values.
XML_WHITESPACE = " \t\r\n"


def canonical_type(data_type: str) -> str:
    """The canonical spelling of a dataType (``" DATETIME.TZ "`` → ``"dateTime.tz"``).

    An unknown type is returned stripped but otherwise as written.
    """
    cleaned = data_type.strip()
    return _BY_LOWER.get(cleaned.lower(), cleaned)
