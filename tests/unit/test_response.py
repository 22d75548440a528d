"""upnpy._response: the HTTP/1.1 response reader, alone — pure functions over bytes, no sockets.

Each input is also read split into one-byte pieces: the readers must give the same answer
whatever the network's segmentation.
"""

import dataclasses
from typing import Callable, List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnpy import _response
from upnpy._exceptions import BodyTooLarge, FramingError
from upnpy._http import read_chunked
from upnpy._response import NoResponse, framing, parse_head, read_body, read_head


def feeder(data: bytes, piece: int) -> Callable[[], bytes]:
    pieces: List[bytes] = [data[i : i + piece] for i in range(0, len(data), piece)]
    return lambda: pieces.pop(0) if pieces else b""


def read(data: bytes, method: str = "GET", limit: int = 1000, piece: int = 0) -> Tuple:
    """``(status, body, reusable)`` of *data*, fed whole or in pieces of *piece* bytes."""
    more = feeder(data, piece or len(data) or 1)
    head, buf = read_head(more)
    body, reusable = read_body(head, buf, more, method, limit)
    return head.status, body, reusable


def both(data: bytes, **options) -> Tuple:
    whole, bytewise = read(data, **options), read(data, piece=1, **options)
    assert whole == bytewise
    return whole


# --- what must be read -------------------------------------------------------------------


def test_a_plain_response_with_a_length():
    assert both(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") == (200, b"hi", True)


def test_interim_answers_are_skipped():
    data = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 X\r\nA: b\r\n\r\nHTTP/1.1 200 OK\r\n"
    assert both(data + b"Content-Length: 1\r\n\r\nz") == (200, b"z", True)


@pytest.mark.parametrize(("method", "status"), [("HEAD", 200), ("GET", 204), ("GET", 304)])
def test_no_body_for_head_204_and_304_whatever_the_length_says(method, status):
    data = b"HTTP/1.1 %d X\r\nContent-Length: 50\r\n\r\n" % status
    assert both(data, method=method) == (status, b"", True)


def test_chunked_with_extensions_and_trailers():
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\nA\r\npedia in x\r\n0\r\nX-Trailer: y\r\n\r\n"
    )
    assert both(data) == (200, b"Wikipedia in x", True)


def test_identical_content_lengths_are_one():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nhi"
    assert both(data) == (200, b"hi", True)


def test_a_body_delimited_by_close_is_not_reusable():
    assert both(b"HTTP/1.1 200 OK\r\n\r\nuntil the end") == (200, b"until the end", False)


def test_http_1_0_keeps_alive_only_when_asked():
    assert both(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx")[2] is False
    kept = b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx"
    assert both(kept)[2] is True
    closed = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"
    assert both(closed)[2] is False


def test_bytes_past_the_body_make_the_connection_unusable():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n\r\n"
    assert read(data) == (200, b"x", False)


def test_chunked_and_a_length_together_are_read_as_chunked_and_not_reused():
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1\r\nx\r\n0\r\n\r\n"
    )
    assert both(data) == (200, b"x", False)


def test_folded_header_lines_continue_the_field():
    head = parse_head(b"HTTP/1.1 200 OK\r\nSID: uuid:\r\n  abc\r\nTIMEOUT: Second-5")
    assert head.headers["sid"] == "uuid: abc"
    assert head.headers["TIMEOUT"] == "Second-5"


def test_a_status_line_without_a_reason():
    head = parse_head(b"HTTP/1.1 200")
    assert (head.version, head.status, head.reason) == ((1, 1), 200, "")


# --- what must be refused ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: \xc2\xb2\r\n\r\n",  # a superscript two
        b"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3 0\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",  # two lengths
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\xd9\xa3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",  # cut short
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",  # closed inside the body
        b"HTTP/1.1 \xd9\xa200 OK\r\n\r\n",  # Arabic-Indic digits in the status
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"<html>not http</html>\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rInjected: b\r\n\r\n",  # a bare CR inside a value
        b"HTTP/1.1 200 OK\r\n folded first\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n",  # closed inside the head
    ],
)
def test_malformed_framing_is_a_framing_error(data):
    with pytest.raises(FramingError):
        read(data)


def test_a_body_over_the_limit():
    with pytest.raises(BodyTooLarge):
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limit=10)
    with pytest.raises(BodyTooLarge):
        read(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 11, limit=10)
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nxxxxxx\r\n6\r\nxxxxxx\r\n"
    with pytest.raises(BodyTooLarge):
        read(chunked, limit=10)


def test_headers_over_the_limit():
    with pytest.raises(FramingError, match="too large"):
        read(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20000 + b"\r\n")


def test_nothing_at_all_is_no_response():
    with pytest.raises(NoResponse):
        read_head(lambda: b"")


def test_a_chunk_size_line_without_end_is_bounded():
    data = b"f" * 5000
    with pytest.raises(FramingError, match="without end"):
        read_chunked(b"", feeder(data, 100), 100)


def test_framing_rules():
    head = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip")
    assert framing("GET", head) == ("close", 0)  # not chunked: delimited by close
    assert framing("GET", parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 7")) == ("length", 7)


# --- the usual head's shortcut reads what the careful reading reads --------------------------

_STATUS_LINES = [
    "HTTP/1.1 200 OK",
    "HTTP/1.0 200 OK",
    "HTTP/1.1 204",
    "HTTP/1.1 500 \x85é\t",
    "HTTP/1.1 20 OK",
]
_NAMES = [
    "Content-Length", "content-length", "CONTENT-length", "Transfer-Encoding",
    "transfer-encoding", "Connection", "CONNECTION", "Server", "EXT", "X-Content-Length",
    "Content-Lengthy", "Bad Name", "", " Connection", "\tConnection",
]  # fmt: skip
_VALUES = [
    "", " ", "\t2 ", "2", "2, 2", "3", "+3", "007", "²", "chunked", "gzip, Chunked ",
    "close", " Keep-Alive ", "TE, close", "\x85close\xa0", "a\x01b", "a\rb", "x\ny", "é",
]  # fmt: skip
_LINES = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(_NAMES),
        st.sampled_from([":", ": ", ":\t", " :", ""]),
        st.sampled_from(_VALUES),
    ),
)


def outcome(read: Callable[[], _response.Head]) -> Tuple:
    """What a reading gives: every field of the head (headers in order), or its error."""
    try:
        head = read()
    except FramingError as exc:
        return ("error", str(exc))
    fields = [getattr(head, f.name) for f in dataclasses.fields(head) if f.name != "headers"]
    return (*fields, list(head.headers.items()), len(head.headers))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(_STATUS_LINES), st.lists(_LINES, max_size=6), st.sampled_from(["", "\r\n"]))
def test_the_usual_head_is_read_as_the_careful_reading_reads_it(status, lines, end):
    data = ("\r\n".join([status, *lines]) + end).encode("latin-1")
    careful = outcome(lambda: _response._careful_head(data.decode("latin-1")))
    assert outcome(lambda: parse_head(data)) == careful


def test_the_usual_head_takes_the_shortcut():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: Close\r\nServer: x"
    assert _response._PLAIN_HEAD.fullmatch(data)
    head = parse_head(data)
    assert (head.length, head.keep_alive, head.coding) == (2, False, None)
    assert dict(head.headers) == {"Content-Length": "2", "connection": "Close", "Server": "x"}


def test_a_repeated_head_is_read_once():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: repeated-head-test"
    first = parse_head(data)
    assert parse_head(bytes(data)) is first  # the same bytes: the head already read
    other = parse_head(data.replace(b"12", b"13"))
    assert (first.length, other.length) == (12, 13)


def test_a_refused_head_is_refused_every_time():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2"
    for _ in range(2):
        with pytest.raises(FramingError):
            parse_head(data)


def test_a_long_head_is_read_every_time_and_alike():
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Pad: " + b"p" * _response.REMEMBERED_HEAD
    first, second = parse_head(data), parse_head(data)
    assert first is not second
    assert first == second and first.length == 5
