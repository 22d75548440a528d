"""Unit tests for upnpy.datatypes: the UPnP type table, both ways."""

from __future__ import annotations

import datetime
import math
import re
import uuid
import warnings
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from upnpy._datatypes import KNOWN_TYPES, decode, describe, encode, parse, python_type
from upnpy._exceptions import UPnPWarning, ValidationError
from upnpy._records import StateVariableInfo

UTC = datetime.timezone.utc
INT_RANGES = {
    "ui1": (0, 255),
    "ui2": (0, 65535),
    "ui4": (0, 4294967295),
    "ui8": (0, 18446744073709551615),
    "i1": (-128, 127),
    "i2": (-32768, 32767),
    "i4": (-2147483648, 2147483647),
    "i8": (-9223372036854775808, 9223372036854775807),
    "int": (-2147483648, 2147483647),
}
FLOAT_TYPES = ("r4", "r8", "number", "float", "fixed.14.4")
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
UPNP_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:E[+-]?[0-9]+)?")


def var(data_type: str, **kwargs) -> StateVariableInfo:
    return StateVariableInfo(name="Var", data_type=data_type, **kwargs)


def roundtrip(value, data_type: str):
    text = encode(value, var(data_type))
    assert isinstance(text, str)
    assert not XML_INVALID.search(text)
    return parse(text, var(data_type))


# -- strategies -----------------------------------------------------------------------------------

xml_chars = st.characters(blacklist_categories=("Cs",)).filter(lambda c: not XML_INVALID.match(c))
fixed_zones = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda m: datetime.timezone(datetime.timedelta(minutes=m))
)
whole_seconds = st.datetimes().map(lambda d: d.replace(microsecond=0))


# -- round trips (hypothesis) ---------------------------------------------------------------------


@pytest.mark.parametrize("data_type", sorted(INT_RANGES))
@given(data=st.data())
def test_integers_round_trip(data_type, data):
    low, high = INT_RANGES[data_type]
    value = data.draw(st.integers(low, high))
    assert roundtrip(value, data_type) == value
    assert encode(value, var(data_type)) == str(value)


@pytest.mark.parametrize("data_type", ["r8", "number", "float"])
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_doubles_round_trip_exactly(data_type, value):
    text = encode(value, var(data_type))
    assert UPNP_FLOAT.fullmatch(text), text
    result = parse(text, var(data_type))
    assert result == value and type(result) is float


@given(value=st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_r4_round_trips(value):
    text = encode(value, var("r4"))
    assert UPNP_FLOAT.fullmatch(text), text
    assert math.isclose(parse(text, var("r4")), value, rel_tol=1e-7, abs_tol=1e-45)


@given(value=st.floats(min_value=-(1e14 - 1), max_value=1e14 - 1))
def test_fixed_rounds_floats_to_four_places(value):
    text = encode(value, var("fixed.14.4"))
    assert re.fullmatch(r"-?[0-9]{1,14}(\.[0-9]{1,4})?", text), text
    assert parse(text, var("fixed.14.4")) == round(value, 4)


@given(value=st.decimals(min_value=-(10**14) + 1, max_value=10**14 - 1, places=4))
def test_fixed_keeps_four_place_decimals(value):
    assert Decimal(encode(value, var("fixed.14.4"))) == value


@given(value=st.booleans())
def test_boolean_round_trips(value):
    assert roundtrip(value, "boolean") is value


@given(value=xml_chars)
def test_char_round_trips(value):
    assert roundtrip(value, "char") == value


@given(value=st.text(xml_chars))
def test_string_round_trips(value):
    assert roundtrip(value, "string") == value


@given(value=st.text(xml_chars.filter(lambda c: not c.isspace() and not re.match(r"\s", c))))
def test_uri_round_trips(value):
    assert roundtrip(value, "uri") == value


@given(value=st.uuids())
def test_uuid_round_trips(value):
    assert roundtrip(value, "uuid") == str(value)
    assert roundtrip(str(value).upper(), "uuid") == str(value).upper()


@given(value=st.dates())
def test_date_round_trips(value):
    assert roundtrip(value, "date") == value


@given(value=st.datetimes())
def test_datetime_round_trips_to_the_second(value):
    assert roundtrip(value, "dateTime") == value.replace(microsecond=0)


@given(value=whole_seconds, zone=st.none() | fixed_zones)
def test_datetime_tz_round_trips(value, zone):
    value = value.replace(tzinfo=zone)
    result = roundtrip(value, "dateTime.tz")
    assert result == value
    assert result.utcoffset() == value.utcoffset()


@given(value=st.times())
def test_time_round_trips_to_the_second(value):
    assert roundtrip(value, "time") == value.replace(microsecond=0)


@given(value=st.times(), zone=st.none() | fixed_zones)
def test_time_tz_round_trips(value, zone):
    value = value.replace(microsecond=0, tzinfo=zone)
    result = roundtrip(value, "time.tz")
    assert result == value
    assert result.utcoffset() == value.utcoffset()


@pytest.mark.parametrize("data_type", ["bin.base64", "bin.hex"])
@given(value=st.binary())
def test_binary_round_trips(data_type, value):
    assert roundtrip(value, data_type) == value
    assert roundtrip(bytearray(value), data_type) == value
    assert roundtrip(memoryview(value), data_type) == value


# -- integers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data_type", sorted(INT_RANGES))
def test_integer_range_edges(data_type):
    low, high = INT_RANGES[data_type]
    assert encode(low, var(data_type)) == str(low)
    assert encode(high, var(data_type)) == str(high)
    assert parse(str(low), var(data_type)) == low
    assert parse(str(high), var(data_type)) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(ValidationError) as info:
            encode(outside, var(data_type))
        assert isinstance(info.value, ValueError)
        assert info.value.data_type == data_type
        assert info.value.value == outside
        with pytest.raises(ValueError):
            parse(str(outside), var(data_type))


@pytest.mark.parametrize("data_type", sorted(INT_RANGES))
@pytest.mark.parametrize("value", [True, False, 1.0, Decimal(1), None, b"1"])
def test_integers_refuse_other_python_types(data_type, value):
    with pytest.raises(ValidationError, match="int"):
        encode(value, var(data_type))


def test_integer_strings():
    assert encode("007", var("ui2")) == "7"
    assert encode("+42", var("i4")) == "42"
    assert parse(" +0042\n", var("ui4")) == 42
    assert parse("-0", var("ui1")) == 0
    for bad in ("", "4_2", "\u0664\u0662", "42.0", "0x10", "1e3", "--1", "NOT_IMPLEMENTED"):
        with pytest.raises(ValueError):
            parse(bad, var("i4"))
        with pytest.raises(ValidationError):
            encode(bad, var("i4"))
    with pytest.raises(ValidationError):
        encode("256", var("ui1"))


def test_port_70000_is_refused_not_wrapped():
    with pytest.raises(ValidationError, match="70000"):
        encode(70000, var("ui2"))


# -- floats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("data_type", FLOAT_TYPES)
@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "nan",
        "inf",
        "Infinity",
        "1_0",
        "",
        "1,5",
        True,
        None,
    ],
)
def test_floats_refuse_nan_inf_and_junk(data_type, value):
    with pytest.raises(ValidationError):
        encode(value, var(data_type))


@pytest.mark.parametrize("data_type", FLOAT_TYPES)
def test_nan_and_infinity_are_named(data_type):
    for nan in (math.nan, Decimal("NaN"), Decimal("sNaN")):
        with pytest.raises(ValidationError, match="NaN is not a valid"):
            encode(nan, var(data_type))
    for inf in (math.inf, -math.inf, Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(ValidationError, match="infinity is not a valid"):
            encode(inf, var(data_type))


def test_float_formatting():
    assert encode(1e-7, var("r8")) == "1E-07"
    assert encode(1e16, var("float")) == "1E+16"
    assert encode(2, var("number")) == "2.0"
    assert encode(Decimal("2.5"), var("r8")) == "2.5"
    assert encode("1e5", var("r8")) == "100000.0"
    assert parse("-1.5E-3", var("r8")) == -0.0015
    assert parse(".5", var("float")) == 0.5
    for too_big in (10**400, Decimal("1E400")):
        with pytest.raises(ValidationError, match="outside the r8 range"):
            encode(too_big, var("r8"))
    for too_big in ("1E400", "-1E400"):
        with pytest.raises(ValidationError):
            encode(too_big, var("r8"))


def test_r4_magnitude():
    assert parse(encode(3.4028234663852886e38, var("r4")), var("r4")) == 3.4028234663852886e38
    for value in (3.5e38, -3.5e38, "3.5E38"):
        with pytest.raises(ValidationError, match="r4"):
            encode(value, var("r4"))
    with pytest.raises(ValueError):
        parse("3.5E38", var("r4"))
    assert encode(3.5e38, var("r8")) == "3.5E+38"


def test_fixed_14_4():
    assert encode(1.23456, var("fixed.14.4")) == "1.2346"
    assert encode(Decimal("0.00015"), var("fixed.14.4")) == "0.0002"
    assert encode(-0.00001, var("fixed.14.4")) == "0"
    assert encode(12, var("fixed.14.4")) == "12"
    assert encode("99999999999999.9999", var("fixed.14.4")) == "99999999999999.9999"
    for value in (10**14, 1e14, Decimal("99999999999999.99995"), "-100000000000000"):
        with pytest.raises(ValidationError, match="14 digits"):
            encode(value, var("fixed.14.4"))
    with pytest.raises(ValueError):
        parse("123456789012345", var("fixed.14.4"))


# -- allowedValueRange / allowedValueList ---------------------------------------------------------


def test_allowed_value_range_with_step():
    volume = var("ui1", minimum=0, maximum=100, step=5)
    assert encode(0, volume) == "0" and encode(100, volume) == "100" and encode(55, volume) == "55"
    for value in (101, 51):
        with pytest.raises(ValidationError) as info:
            encode(value, volume, argument="DesiredVolume")
        assert info.value.argument == "DesiredVolume"
        assert str(info.value).startswith("DesiredVolume: ")
    with pytest.raises(ValidationError, match="minimum"):
        encode(-1, var("i2", minimum=0))
    with pytest.raises(ValidationError, match="maximum"):
        encode(11, var("i2", maximum=10))


def test_step_grid_counts_from_minimum_or_zero():
    assert encode(9, var("ui4", step=3)) == "9"
    with pytest.raises(ValidationError, match="step"):
        encode(10, var("ui4", step=3))
    odd = var("ui4", minimum=1, maximum=9, step=2)
    assert encode(3, odd) == "3"
    with pytest.raises(ValidationError, match="step"):
        encode(4, odd)


def test_float_step_is_decimal_exact():
    tenths = var("r8", minimum=0, maximum=1, step=0.1)
    assert encode(0.3, tenths) == "0.3"
    assert encode(0.7, tenths) == "0.7"
    with pytest.raises(ValidationError):
        encode(0.35, tenths)
    with pytest.raises(ValidationError):
        encode(1.1, tenths)


def test_allowed_value_list():
    protocol = var("string", allowed_values=("TCP", "UDP"))
    assert encode("UDP", protocol) == "UDP"
    for value in ("udp", "", "TCP "):
        with pytest.raises(ValidationError, match="one of 'TCP', 'UDP'"):
            encode(value, protocol)
    numbers = var("ui1", allowed_values=("01", "2"))
    assert encode(1, numbers) == "1"
    assert encode(2, numbers) == "2"
    with pytest.raises(ValidationError):
        encode(3, numbers)
    # parse() never applies the list: devices are judged leniently
    assert parse("SCTP", protocol) == "SCTP"
    assert parse("200", var("ui1", maximum=100)) == 200


def test_validation_error_defaults_to_the_variable_name():
    with pytest.raises(ValidationError) as info:
        encode(-1, var("ui1"))
    assert info.value.argument == "Var"
    assert info.value.data_type == "ui1"


# -- text types -----------------------------------------------------------------------------------


def test_char_length():
    assert encode("x", var("char")) == "x"
    assert encode("\U0001f600", var("char")) == "\U0001f600"
    for value in ("", "ab"):
        with pytest.raises(ValidationError, match="one character"):
            encode(value, var("char"))
        with pytest.raises(ValueError):
            parse(value, var("char"))


@pytest.mark.parametrize("bad", ["\x00", "a\x01b", "\x1f", "\ufffe", "\uffff", "\ud800"])
def test_string_refuses_what_xml_cannot_carry(bad):
    with pytest.raises(ValidationError, match="XML"):
        encode(bad, var("string"))


def test_string_accepts_xml_whitespace_and_markup_unescaped():
    assert encode("a\tb\r\nc", var("string")) == "a\tb\r\nc"
    assert encode("<&>", var("string")) == "<&>"
    assert parse("  padded  ", var("string")) == "  padded  "


def test_string_refuses_non_str_and_unwraps_str_subclasses():
    import enum

    class Protocol(str, enum.Enum):
        TCP = "TCP"

    text = encode(Protocol.TCP, var("string", allowed_values=("TCP", "UDP")))
    assert text == "TCP" and type(text) is str
    for value in (5, b"TCP", None):
        with pytest.raises(ValidationError):
            encode(value, var("string"))


def test_uri_and_uuid():
    assert encode("http://10.0.0.1:8080/a?b=c", var("uri")) == "http://10.0.0.1:8080/a?b=c"
    with pytest.raises(ValidationError, match="whitespace"):
        encode("http://host/a b", var("uri"))
    assert parse(" http://host/ \n", var("uri")) == "http://host/"
    with pytest.raises(ValueError):
        parse("http://host/a b", var("uri"))
    value = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
    assert encode(value, var("uuid")) == "12345678-9abc-def0-1234-56789abcdef0"
    for bad in ("uuid:12345678-9abc-def0-1234-56789abcdef0", "123456789abcdef0123456789abcdef0", 5):
        with pytest.raises(ValidationError):
            encode(bad, var("uuid"))


# -- dates and times ------------------------------------------------------------------------------


def test_date():
    assert encode(datetime.date(2024, 2, 29), var("date")) == "2024-02-29"
    assert encode(datetime.date(999, 1, 2), var("date")) == "0999-01-02"
    with pytest.raises(ValidationError, match="not a datetime"):
        encode(datetime.datetime(2024, 2, 29, 12), var("date"))
    for bad in ("2023-02-29", "2024-2-29", "20240229", "2024-02-29T00:00:00"):
        with pytest.raises(ValueError):
            parse(bad, var("date"))


def test_datetime_without_zone():
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, 678)
    assert encode(moment, var("dateTime")) == "2024-01-02T03:04:05"
    assert encode(datetime.date(2024, 1, 2), var("dateTime")) == "2024-01-02T00:00:00"
    with pytest.raises(ValidationError, match="time zone"):
        encode(datetime.datetime(2024, 1, 2, tzinfo=UTC), var("dateTime"))
    with pytest.raises(ValidationError):
        encode(1704164645, var("dateTime"))


def test_datetime_tz_zones():
    plus = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    minus = datetime.timezone(-datetime.timedelta(hours=8))
    tz = var("dateTime.tz")
    assert encode(datetime.datetime(2024, 1, 2, 3, 4, 5), tz) == "2024-01-02T03:04:05"
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert encode(moment.replace(tzinfo=UTC), tz) == "2024-01-02T03:04:05Z"
    assert encode(moment.replace(tzinfo=plus), tz) == "2024-01-02T03:04:05+05:30"
    assert encode(moment.replace(tzinfo=minus), tz) == "2024-01-02T03:04:05-08:00"
    odd = datetime.timezone(datetime.timedelta(minutes=9, seconds=21))
    with pytest.raises(ValidationError, match="whole number of minutes"):
        encode(datetime.datetime(1900, 1, 1, tzinfo=odd), tz)


@pytest.mark.parametrize("data_type", ["dateTime", "dateTime.tz"])
def test_datetime_parsing_is_tolerant_of_common_forms(data_type):
    v = var(data_type)
    plus = datetime.timezone(datetime.timedelta(hours=1))
    assert parse("2024-01-02T03:04:05", v) == datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert parse("2024-01-02 03:04:05", v) == datetime.datetime(2024, 1, 2, 3, 4, 5)
    assert parse("2024-01-02", v) == datetime.datetime(2024, 1, 2)
    assert parse("2024-01-02T03:04:05.25", v) == datetime.datetime(2024, 1, 2, 3, 4, 5, 250000)
    zulu = parse("2024-01-02T03:04:05Z", v)
    assert zulu == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert zulu.utcoffset() == datetime.timedelta(0)
    for text in ("2024-01-02T03:04:05+01:00", "2024-01-02 03:04:05+0100"):
        parsed = parse(text, v)
        assert parsed == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus)
        assert parsed.utcoffset() == datetime.timedelta(hours=1)
    bad_forms = (
        "2024-01-02T25:00:00",
        "2024-01-02T03:04",
        "02/01/2024",
        "2024-01-02T03:04:05+01:99",
        "2024-01-02T03:04:05+24:00",
        "now",
    )
    for bad in bad_forms:
        with pytest.raises(ValueError):
            parse(bad, v)


def test_time_and_time_tz():
    assert encode(datetime.time(3, 4, 5, 999999), var("time")) == "03:04:05"
    with pytest.raises(ValidationError, match="time zone"):
        encode(datetime.time(3, 4, 5, tzinfo=UTC), var("time"))
    with pytest.raises(ValidationError):
        encode(datetime.datetime(2024, 1, 1, 3, 4, 5), var("time"))
    assert encode(datetime.time(3, 4, 5, tzinfo=UTC), var("time.tz")) == "03:04:05Z"
    assert encode(datetime.time(3, 4, 5), var("time.tz")) == "03:04:05"
    west = parse("03:04:05-0230", var("time.tz"))
    assert west.utcoffset() == -datetime.timedelta(hours=2, minutes=30)
    assert parse("23:59:59", var("time")) == datetime.time(23, 59, 59)
    for bad in ("24:00:00", "3:04:05", "03:04", "03:04:05 PM"):
        with pytest.raises(ValueError):
            parse(bad, var("time"))


def test_time_zone_without_fixed_offset_is_refused():
    class Floating(datetime.tzinfo):
        def utcoffset(self, dt):
            return None

    with pytest.raises(ValidationError, match="fixed UTC offset"):
        encode(datetime.time(1, 2, 3, tzinfo=Floating()), var("time.tz"))


def test_date_strings_are_checked_like_values():
    assert encode("2024-01-02", var("date")) == "2024-01-02"
    assert encode("2024-01-02 03:04:05", var("dateTime")) == "2024-01-02T03:04:05"
    with pytest.raises(ValidationError, match="time zone"):
        encode("2024-01-02T03:04:05Z", var("dateTime"))


# -- booleans -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (True, "1"),
        (False, "0"),
        (1, "1"),
        (0, "0"),
        ("True", "1"),
        ("yes", "1"),
        (" 1 ", "1"),
        ("FALSE", "0"),
        ("No", "0"),
        ("0", "0"),
    ],
)
def test_boolean_out_is_always_0_or_1(value, expected):
    assert encode(value, var("boolean")) == expected


@pytest.mark.parametrize("value", [2, -1, 1.0, "maybe", "", "on", None])
def test_boolean_refuses(value):
    with pytest.raises(ValidationError):
        encode(value, var("boolean"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", True),
        ("0", False),
        ("True", True),
        ("false", False),
        ("YES", True),
        ("no", False),
        (" 1 ", True),
        ("\n0\n", False),
    ],
)
def test_boolean_in(text, expected):
    assert parse(text, var("boolean")) is expected


def test_boolean_parse_refuses_junk():
    for bad in ("2", "y", "", "truth"):
        with pytest.raises(ValueError):
            parse(bad, var("boolean"))


# -- binary ---------------------------------------------------------------------------------------


def test_binary():
    assert encode(b"\x00\xffA", var("bin.base64")) == "AP9B"
    assert encode(b"\x00\xffA", var("bin.hex")) == "00ff41"
    assert parse("AP9B\r\nAP9B", var("bin.base64")) == b"\x00\xffA\x00\xffA"
    assert parse("00FF41", var("bin.hex")) == b"\x00\xffA"
    for bad in ("AP9", "AP9B!", "****"):
        with pytest.raises(ValueError):
            parse(bad, var("bin.base64"))
    for bad in ("0", "0g", "0x00"):
        with pytest.raises(ValueError):
            parse(bad, var("bin.hex"))
    with pytest.raises(ValidationError, match="bytes"):
        encode("AP9B", var("bin.base64"))


# -- decode (values from devices) -----------------------------------------------------------------


def test_decode_keeps_bad_device_values_with_a_warning():
    uptime = StateVariableInfo(name="Uptime", data_type="ui4")
    with pytest.warns(UPnPWarning) as record:
        assert decode("0 Days, 01:00:00", uptime, context="GetStatusInfo") == "0 Days, 01:00:00"
    message = str(record[0].message)
    for part in ("GetStatusInfo", "Uptime", "ui4", "0 Days, 01:00:00"):
        assert part in message
    assert record[0].filename == __file__  # stacklevel points at the caller
    with pytest.warns(UPnPWarning, match="-1"):
        assert decode("-1", uptime) == "-1"
    with pytest.warns(UPnPWarning):
        assert decode("maybe", var("boolean")) == "maybe"
    with pytest.warns(UPnPWarning):
        assert decode("2024-13-01", var("date")) == "2024-13-01"


def test_decode_good_values_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode("42", var("ui4")) == 42
        assert decode("True", var("boolean")) is True
        expected = datetime.datetime(2024, 1, 2, 3, 4, 5)
        assert decode("2024-01-02 03:04:05", var("dateTime")) == expected
        assert decode("X", var("string", allowed_values=("A",))) == "X"
        assert decode("anything at all", var("x_vendor_type")) == "anything at all"


@pytest.mark.parametrize("data_type", ["string", "char", "uri", "uuid", "x_vendor_type"])
def test_decode_empty_text_types(data_type):
    assert decode(None, var(data_type)) == ""
    assert decode("", var(data_type)) == ""


@pytest.mark.parametrize(
    "data_type",
    ["ui4", "i4", "r8", "fixed.14.4", "boolean", "date", "dateTime.tz", "time", "bin.hex"],
)
def test_decode_empty_other_types(data_type):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode(None, var(data_type)) is None
        assert decode("", var(data_type)) is None
        assert decode(" \n", var(data_type)) is None


def test_empty_values_on_the_way_out():
    assert encode("", var("string")) == ""
    assert encode(b"", var("bin.base64")) == ""
    for data_type in ("ui4", "r8", "boolean", "date", "char", "uuid"):
        with pytest.raises(ValidationError):
            encode("", var(data_type))
    with pytest.raises(ValidationError):
        encode(None, var("string"))


# -- unknown types, describe, python_type ---------------------------------------------------------


def test_unknown_types_behave_as_string():
    vendor = var("x_vendor_type")
    assert encode("anything", vendor) == "anything"
    assert parse("42", vendor) == "42"
    assert python_type(vendor) is str
    with pytest.raises(ValidationError):
        encode(42, vendor)
    with pytest.raises(ValidationError, match="XML"):
        encode("\x00", vendor)


def test_non_canonical_spelling_is_understood():
    midnight = datetime.datetime(2024, 1, 2, tzinfo=UTC)
    assert encode(midnight, var("datetime.tz")) == "2024-01-02T00:00:00Z"
    assert python_type(var("UI4")) is int


EXPECTED_PYTHON_TYPES = {
    **dict.fromkeys(INT_RANGES, int),
    **dict.fromkeys(FLOAT_TYPES, float),
    "boolean": bool,
    "char": str,
    "string": str,
    "uri": str,
    "uuid": str,
    "date": datetime.date,
    "dateTime": datetime.datetime,
    "dateTime.tz": datetime.datetime,
    "time": datetime.time,
    "time.tz": datetime.time,
    "bin.base64": bytes,
    "bin.hex": bytes,
}


def test_every_known_type_has_a_python_type():
    assert set(EXPECTED_PYTHON_TYPES) == set(KNOWN_TYPES)
    for data_type, expected in EXPECTED_PYTHON_TYPES.items():
        assert python_type(var(data_type)) is expected, data_type


@pytest.mark.parametrize(
    "info, expected",
    [
        (var("ui2", minimum=1, maximum=65535), "ui2, 1..65535"),
        (var("string", allowed_values=("TCP", "UDP")), "string, one of 'TCP', 'UDP'"),
        (var("ui1", minimum=0, maximum=100, step=1), "ui1, 0..100 step 1"),
        (var("boolean"), "boolean"),
        (var("dateTime.tz"), "dateTime.tz"),
        (var("i4", minimum=-5), "i4, >= -5"),
        (var("r8", maximum=1.5), "r8, <= 1.5"),
        (var("r8", minimum=0.0, maximum=1.0, step=0.1), "r8, 0..1 step 0.1"),
    ],
)
def test_describe(info, expected):
    assert describe(info) == expected
