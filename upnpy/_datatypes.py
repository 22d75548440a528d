"""UPnP data types ⇄ Python values: check and encode arguments, parse and decode results.

Every UDA data type belongs to a small family (integers, floats, fixed.14.4, boolean, text,
date, dateTime, time, binary). Each family is one :class:`_Family` record of three functions —
accept a Python value, format it as UPnP text, parse UPnP text — and the table :data:`_TYPES`
maps each canonical type name to its family. Unknown types behave as ``string``.

- :func:`encode` is strict: anything the device could misread raises
  :class:`~upnpy.exceptions.ValidationError` before it is sent. XML escaping is left to the caller.
- :func:`parse` is strict too, but ignores allowedValueList and allowedValueRange.
- :func:`decode` is lenient: a value a device got wrong is kept as raw text with a
  :class:`~upnpy.exceptions.UPnPWarning`.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import reprlib
import warnings
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union

from ._exceptions import UPnPWarning, ValidationError
from ._lexical import (
    FALSE_WORDS,
    INT_TEXT,
    KNOWN_TYPES,
    NUMBER_TEXT,
    TRUE_WORDS,
    XML_WHITESPACE,
    canonical_type,
)
from ._records import Record, StateVariableInfo, record

if TYPE_CHECKING:  # decimal, fractions and uuid are loaded when a value needs them
    from decimal import Decimal
    from fractions import Fraction

__all__ = ["encode", "parse", "decode", "describe", "python_type", "canonical_type", "KNOWN_TYPES"]

# What XML 1.0 cannot carry: C0 controls but tab, LF and CR, surrogates, U+FFFE and U+FFFF.
# (Written as what is refused: the allowed ranges take ~10 ms to compile.)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The grammars of uuid, date, dateTime and time values, compiled by _pattern on first use.
_UUID_TEXT = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
_DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
_TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?"
_ZONE = r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
_DATE_TEXT = _DATE
_DATETIME_TEXT = f"{_DATE}(?:[T ]{_TIME}{_ZONE})?"
_TIME_TEXT = _TIME + _ZONE


@functools.cache
def _pattern(grammar: str) -> re.Pattern[str]:
    """One of the grammars above, compiled (ASCII digits only) when a value first needs it."""
    return re.compile(grammar, re.ASCII)


#: Inclusive ranges of the integer types; ``int`` is bounded like ``i4`` (as gupnp does).
_INT_RANGES = {
    "ui1": (0, 2**8 - 1),
    "ui2": (0, 2**16 - 1),
    "ui4": (0, 2**32 - 1),
    "ui8": (0, 2**64 - 1),
    "i1": (-(2**7), 2**7 - 1),
    "i2": (-(2**15), 2**15 - 1),
    "i4": (-(2**31), 2**31 - 1),
    "i8": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
}
_R4_MAX = 3.40282347e38
_FIXED_LIMIT = 10**14  # at most 14 digits before the point


def _show(value: Any) -> str:
    return reprlib.repr(value)


def _wrong(value: Any, expected: str, dt: str) -> ValueError:
    return ValueError(f"{dt} takes {expected}, not {type(value).__name__} {_show(value)}")


# -- integers -------------------------------------------------------------------------------------


def _int_parse(text: str, dt: str) -> int:
    stripped = text.strip(XML_WHITESPACE)
    if not INT_TEXT.fullmatch(stripped):
        raise ValueError(f"{_show(text)} is not a valid {dt} (decimal digits expected)")
    return _int_check(int(stripped), dt)


def _int_check(number: int, dt: str) -> int:
    low, high = _INT_RANGES[dt]
    if not low <= number <= high:
        raise ValueError(f"{number} is outside the {dt} range {low}..{high}")
    return number


def _int_value(value: Any, dt: str) -> int:
    if isinstance(value, str):
        return _int_parse(value, dt)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(value, "an int", dt)
    return _int_check(int(value), dt)


# -- floats (r4, r8, number, float) and fixed.14.4 ------------------------------------------------


def _float_check(number: float, dt: str) -> float:
    if math.isnan(number):
        raise ValueError(f"NaN is not a valid {dt}")
    if math.isinf(number):
        raise ValueError(f"{'-' if number < 0 else ''}infinity is not a valid {dt}")
    if dt == "r4" and abs(number) > _R4_MAX:
        raise ValueError(f"{number!r} is outside the r4 range (magnitude at most {_R4_MAX!r})")
    return number


def _float_parse(text: str, dt: str) -> float:
    stripped = text.strip(XML_WHITESPACE)
    if not NUMBER_TEXT.fullmatch(stripped):
        raise ValueError(f"{_show(text)} is not a valid {dt} number")
    return _float_check(float(stripped), dt)


def _float_value(value: Any, dt: str) -> float:
    if isinstance(value, str):
        return _float_parse(value, dt)
    from decimal import Decimal  # ~2 ms: not at import upnpy

    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _wrong(value, "an int, float or Decimal", dt)
    if isinstance(value, Decimal) and value.is_nan():
        raise ValueError(f"NaN is not a valid {dt}")
    if isinstance(value, float) or (isinstance(value, Decimal) and value.is_infinite()):
        return _float_check(float(value), dt)
    try:  # an int or a finite Decimal: one beyond any double is out of range
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number):
        raise ValueError(f"{_show(value)} is outside the {dt} range")
    return _float_check(number, dt)


def _float_format(number: float, dt: str) -> str:
    return repr(number).replace("e", "E")  # shortest text that reads back as the same double


def _fixed_value(value: Any, dt: str) -> Decimal:
    from decimal import ROUND_HALF_EVEN, Context, Decimal  # ~2 ms: not at import upnpy

    if isinstance(value, str):
        stripped = value.strip(XML_WHITESPACE)
        if not NUMBER_TEXT.fullmatch(stripped):
            raise ValueError(f"{_show(value)} is not a valid {dt} number")
        value = Decimal(stripped)
    elif isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _wrong(value, "an int, float or Decimal", dt)
    exact = Decimal(value)
    if exact.is_nan():
        raise ValueError(f"NaN is not a valid {dt}")
    if exact.is_infinite():
        raise ValueError(f"{'-' if exact < 0 else ''}infinity is not a valid {dt}")
    if abs(exact) >= _FIXED_LIMIT:
        raise ValueError(f"{_show(value)} has more than 14 digits before the point ({dt})")
    context = Context(prec=40, rounding=ROUND_HALF_EVEN)
    rounded = exact.quantize(Decimal("0.0001"), context=context)
    if abs(rounded) >= _FIXED_LIMIT:
        raise ValueError(f"{_show(value)} has more than 14 digits before the point ({dt})")
    return rounded if rounded else abs(rounded)  # no "-0"


def _fixed_format(number: Decimal, dt: str) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fixed_parse(text: str, dt: str) -> float:
    stripped = text.strip(XML_WHITESPACE)
    if not NUMBER_TEXT.fullmatch(stripped):
        raise ValueError(f"{_show(text)} is not a valid {dt} number")
    from decimal import Decimal

    if abs(Decimal(stripped)) >= _FIXED_LIMIT:
        raise ValueError(f"{_show(text)} has more than 14 digits before the point ({dt})")
    return float(stripped)


# -- boolean --------------------------------------------------------------------------------------


def _bool_parse(text: str, dt: str) -> bool:
    word = text.strip(XML_WHITESPACE).lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"{_show(text)} is not a valid boolean (0/1, true/false, yes/no)")


def _bool_value(value: Any, dt: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _bool_parse(value, dt)
    raise _wrong(value, "a bool, 0/1 or one of '0', '1', 'true', 'false', 'yes', 'no'", dt)


# -- text: string, char, uri, uuid ----------------------------------------------------------------


def _text_check(text: str, dt: str) -> str:
    if dt == "char" and len(text) != 1:
        raise ValueError(f"char takes exactly one character, not {len(text)}: {_show(text)}")
    if dt == "uri" and re.search(r"\s", text):
        raise ValueError(f"a uri cannot contain whitespace: {_show(text)}")
    if dt == "uuid" and not _pattern(_UUID_TEXT).fullmatch(text):
        raise ValueError(f"{_show(text)} is not a uuid (8-4-4-4-12 hex digits)")
    return text


def _text_parse(text: str, dt: str) -> str:
    return _text_check(text.strip(XML_WHITESPACE) if dt in ("uri", "uuid") else text, dt)


def _text_value(value: Any, dt: str) -> str:
    if dt == "uuid":
        import uuid  # with platform, ~4 ms: not at import upnpy

        if isinstance(value, uuid.UUID):
            return str(value)
    if not isinstance(value, str):
        raise _wrong(value, "a uuid.UUID or str" if dt == "uuid" else "a str", dt)
    bad = _XML_INVALID.search(value)
    if bad:
        raise ValueError(
            f"U+{ord(bad.group()):04X} at index {bad.start()} cannot be carried by XML 1.0"
        )
    return _text_check(str.__str__(value), dt)  # a plain str, even from a str subclass/enum


# -- date, dateTime(.tz), time(.tz) ---------------------------------------------------------------


def _zone_parse(text: Optional[str]) -> Optional[datetime.timezone]:
    if not text:
        return None
    if text in ("Z", "z"):
        return datetime.timezone.utc
    hours, minutes = int(text[1:3]), int(text[-2:])
    if minutes >= 60:
        raise ValueError(f"bad time zone {text!r}")
    offset = datetime.timedelta(hours=hours, minutes=minutes)
    return datetime.timezone(-offset if text[0] == "-" else offset)


def _zone_format(offset: Optional[datetime.timedelta]) -> str:
    if offset is None:
        return ""
    if not offset:
        return "Z"
    minutes, rest = divmod(abs(offset), datetime.timedelta(minutes=1))
    if rest:
        raise ValueError(f"the UTC offset {offset} is not a whole number of minutes")
    sign = "-" if offset < datetime.timedelta(0) else "+"
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _zone_check(value: Union[datetime.datetime, datetime.time], dt: str) -> None:
    """Refuse zones that cannot be sent: on a type without zone, or without a fixed offset."""
    if value.tzinfo is None:
        return
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"the time zone of {_show(value)} has no fixed UTC offset")
    if not dt.endswith(".tz"):
        raise ValueError(f"{dt} cannot carry a time zone; pass a naive value or use {dt}.tz")
    _zone_format(offset)


def _microseconds(fraction: Optional[str]) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _date_parse(text: str, dt: str) -> datetime.date:
    match = _pattern(_DATE_TEXT).fullmatch(text.strip(XML_WHITESPACE))
    if not match:
        raise ValueError(f"{_show(text)} is not a valid date (YYYY-MM-DD)")
    return datetime.date(*map(int, match.groups()))


def _date_value(value: Any, dt: str) -> datetime.date:
    if isinstance(value, str):
        return _date_parse(value, dt)
    if isinstance(value, datetime.datetime):
        raise ValueError("date takes a datetime.date, not a datetime (.date() drops the time)")
    if not isinstance(value, datetime.date):
        raise _wrong(value, "a datetime.date", dt)
    return value


def _datetime_parse(text: str, dt: str) -> datetime.datetime:
    match = _pattern(_DATETIME_TEXT).fullmatch(text.strip(XML_WHITESPACE))
    if not match:
        raise ValueError(f"{_show(text)} is not a valid {dt} (YYYY-MM-DDThh:mm:ss)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if hour is None:
        return datetime.datetime(int(year), int(month), int(day))
    return datetime.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        _microseconds(fraction),
        tzinfo=_zone_parse(zone),
    )


def _datetime_value(value: Any, dt: str) -> datetime.datetime:
    moment: datetime.datetime
    if isinstance(value, str):
        moment = _datetime_parse(value, dt)
    elif isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time())
    else:
        raise _wrong(value, "a datetime.datetime (or a date, meaning midnight)", dt)
    _zone_check(moment, dt)
    return moment


def _clock_format(value: Union[datetime.datetime, datetime.time], dt: str) -> str:
    """``...hh:mm:ss`` plus the zone; microseconds are dropped (UPnP sends whole seconds)."""
    naive = value.replace(tzinfo=None, microsecond=0)
    return naive.isoformat() + _zone_format(value.utcoffset())


def _time_parse(text: str, dt: str) -> datetime.time:
    match = _pattern(_TIME_TEXT).fullmatch(text.strip(XML_WHITESPACE))
    if not match:
        raise ValueError(f"{_show(text)} is not a valid {dt} (hh:mm:ss)")
    hour, minute, second, fraction, zone = match.groups()
    return datetime.time(
        int(hour), int(minute), int(second), _microseconds(fraction), tzinfo=_zone_parse(zone)
    )


def _time_value(value: Any, dt: str) -> datetime.time:
    if isinstance(value, str):
        clock = _time_parse(value, dt)
    elif isinstance(value, datetime.time):
        clock = value
    else:
        raise _wrong(value, "a datetime.time", dt)
    _zone_check(clock, dt)
    return clock


# -- binary ---------------------------------------------------------------------------------------


def _bytes_value(value: Any, dt: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise _wrong(value, "bytes, bytearray or memoryview", dt)
    return bytes(value)


def _base64_format(value: bytes, dt: str) -> str:
    import base64  # loaded for the first bin.base64 value

    return base64.b64encode(value).decode()


def _base64_parse(text: str, dt: str) -> bytes:
    import base64

    return base64.b64decode(re.sub(r"\s+", "", text), validate=True)


def _hex_parse(text: str, dt: str) -> bytes:
    digits = re.sub(r"\s+", "", text)
    if not re.fullmatch("(?:[0-9a-fA-F]{2})*", digits):
        raise ValueError(f"{_show(text)} is not valid bin.hex (pairs of hex digits)")
    return bytes.fromhex(digits)


# -- the table ------------------------------------------------------------------------------------


@record
class _Family(Record):
    """How the UPnP types of one family map to Python; each function gets the type name."""

    python_type: type
    #: an accepted Python value → its canonical value; raises ValueError when refused.
    value: Callable[[Any, str], Any]
    #: a canonical value → UPnP text.
    format: Callable[[Any, str], str]
    #: UPnP text → Python value; raises ValueError when malformed.
    parse: Callable[[str, str], Any]
    numeric: bool = False  # allowedValueRange applies
    textual: bool = False  # an empty value is "" rather than None


_INT = _Family(int, _int_value, lambda v, dt: str(v), _int_parse, numeric=True)
_FLOAT = _Family(float, _float_value, _float_format, _float_parse, numeric=True)
_FIXED = _Family(float, _fixed_value, _fixed_format, _fixed_parse, numeric=True)
_BOOLEAN = _Family(bool, _bool_value, lambda v, dt: "1" if v else "0", _bool_parse)
_TEXT = _Family(str, _text_value, lambda v, dt: v, _text_parse, textual=True)
_DATE_FAMILY = _Family(datetime.date, _date_value, lambda v, dt: v.isoformat(), _date_parse)
_DATETIME = _Family(datetime.datetime, _datetime_value, _clock_format, _datetime_parse)
_TIME_FAMILY = _Family(datetime.time, _time_value, _clock_format, _time_parse)
_BASE64 = _Family(bytes, _bytes_value, _base64_format, _base64_parse)
_HEX = _Family(bytes, _bytes_value, lambda v, dt: v.hex(), _hex_parse)

_TYPES: Dict[str, _Family] = {
    **dict.fromkeys(_INT_RANGES, _INT),
    **dict.fromkeys(("r4", "r8", "number", "float"), _FLOAT),
    "fixed.14.4": _FIXED,
    "boolean": _BOOLEAN,
    **dict.fromkeys(("char", "string", "uri", "uuid"), _TEXT),
    "date": _DATE_FAMILY,
    "dateTime": _DATETIME,
    "dateTime.tz": _DATETIME,
    "time": _TIME_FAMILY,
    "time.tz": _TIME_FAMILY,
    "bin.base64": _BASE64,
    "bin.hex": _HEX,
}


def _family(var: StateVariableInfo) -> Tuple[str, _Family]:
    return _family_of(var.data_type)


@functools.lru_cache(maxsize=256)
def _family_of(data_type: str) -> Tuple[str, _Family]:
    """The canonical name and family of a dataType as written (cached: read on every call)."""
    name = canonical_type(data_type)
    return (name, _TYPES[name]) if name in _TYPES else ("string", _TEXT)


# -- constraints ----------------------------------------------------------------------------------


def _exact(number: Union[int, float, Decimal]) -> Fraction:
    """The number as written: ``0.1`` is 1/10, so steps of 0.1 land on 0.3."""
    from fractions import Fraction  # ~2 ms: not at import upnpy

    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


def _number(number: Union[int, float]) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return repr(number)


def _check_constraints(
    value: Any, text: str, name: str, family: _Family, var: StateVariableInfo
) -> None:
    low, high, step = var.minimum, var.maximum, var.step
    if family.numeric and (low is not None or high is not None or step is not None):
        exact = _exact(value)
        if low is not None and exact < _exact(low):
            raise ValueError(f"{text} is below the minimum {_number(low)}")
        if high is not None and exact > _exact(high):
            raise ValueError(f"{text} is above the maximum {_number(high)}")
        if step is not None and step > 0 and (exact - _exact(low or 0)) % _exact(step):
            raise ValueError(
                f"{text} is not on the grid of step {_number(step)} from {_number(low or 0)}"
            )
    allowed = var.allowed_values
    if allowed and text not in allowed and not _in_list(text, allowed, name, family):
        raise ValueError(f"{_show(text)} is not one of {', '.join(map(repr, allowed))}")


def _in_list(text: str, allowed: Tuple[str, ...], name: str, family: _Family) -> bool:
    """Whether a non-text value equals an allowed value written differently (``1`` vs ``01``)."""
    if family.textual:
        return False
    value = family.parse(text, name)
    for candidate in allowed:
        try:
            if family.parse(candidate, name) == value:
                return True
        except ValueError:
            continue
    return False


# -- public API -----------------------------------------------------------------------------------


def encode(value: Any, var: StateVariableInfo, *, argument: str = "") -> str:
    """Check a Python value against a state variable and return its UPnP text.

    The text is not XML-escaped. :data:`None` is refused for every type.

    :param value: the Python value (see the module docstring for what each type accepts).
    :param var: the related state variable: its type, allowedValueList and allowedValueRange.
    :param argument: the argument name for the error message (default: the variable name).
    :returns: the text to put in the SOAP argument.
    :raises ValidationError: the value has the wrong type, is out of range, off the step grid,
        not in allowedValueList, or cannot be carried by XML.
    """
    name, family = _family(var)
    try:
        canonical = family.value(value, name)
        text = family.format(canonical, name)
        _check_constraints(canonical, text, name, family, var)
    except ValueError as exc:  # the message says it all: no internal traceback above ours
        message = str(exc)
    else:
        return text
    raise ValidationError(
        message, argument=argument or var.name, value=value, data_type=var.data_type
    )


def parse(text: str, var: StateVariableInfo) -> Any:
    """Parse UPnP text strictly into the Python value of the variable's type.

    allowedValueList and allowedValueRange are not checked.

    :returns: an int, float, bool, str, bytes, or datetime date/datetime/time.
    :raises ValueError: the text does not fit the type.
    """
    name, family = _family(var)
    return family.parse(text, name)


def decode(
    text: Optional[str], var: StateVariableInfo, *, context: str = "", stacklevel: int = 2
) -> Any:
    """Parse a value that came from a device, tolerating what the device got wrong.

    An absent or empty value is ``""`` for text types (string, char, uri, uuid, unknown) and
    :data:`None` for the others (also when it is only whitespace). Text that does not parse
    is returned unchanged, with a :class:`~upnpy.exceptions.UPnPWarning`.

    :param context: where the value came from, for the warning (``"GetStatusInfo"``).
    """
    name, family = _family(var)
    if text is None or text == "" or (not family.textual and not text.strip(XML_WHITESPACE)):
        return "" if family.textual else None
    try:
        return family.parse(text, name)
    except ValueError as exc:
        where = f"{context}: " if context else ""
        warnings.warn(
            f"{where}{var.name} ({var.data_type}) {_show(text)} kept as text: {exc}",
            UPnPWarning,
            stacklevel=stacklevel,
        )
        return text


def describe(var: StateVariableInfo) -> str:
    """A short description of the variable's type for docstrings: ``"ui2, 1..65535"``."""
    parts = [var.data_type]
    if var.allowed_values:
        parts.append("one of " + ", ".join(map(repr, var.allowed_values)))
    low, high, step = var.minimum, var.maximum, var.step
    bounds = ""
    if low is not None and high is not None:
        bounds = f"{_number(low)}..{_number(high)}"
    elif low is not None:
        bounds = f">= {_number(low)}"
    elif high is not None:
        bounds = f"<= {_number(high)}"
    if step is not None:
        bounds = f"{bounds} step {_number(step)}".strip()
    if bounds:
        parts.append(bounds)
    return ", ".join(parts)


def python_type(var: StateVariableInfo) -> type:
    """The Python type that :func:`parse` returns for the variable (``str`` for unknown types)."""
    return _family(var)[1].python_type
