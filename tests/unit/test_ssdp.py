"""upnpy.ssdp: message building, response parsing, interface selection, loopback search.

Network safety: nothing here may multicast or reach any address but loopback. The unit tests'
network guard (tests/unit/conftest.py) refuses every ``sendto`` to another destination before
it is sent, and fails the test; the multicast code path is exercised with
:data:`upnpy.ssdp.SSDP_GROUP` pointed at a loopback responder.
"""

import gc
import logging
import socket
import threading

import ifaddr
import pytest

from upnpy import DiscoveryError
from upnpy import _ssdp as ssdp
from upnpy._http import USER_AGENT
from upnpy._interfaces import Interface

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

LOOPBACK = "127.0.0.1"


def crlf(*lines):
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


UUID = "uuid:5f0a1c2e-0000-4000-8000-0242c0a80101"

MINIUPNPD = crlf(
    "HTTP/1.1 200 OK",
    "CACHE-CONTROL: max-age=120",
    "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    f"USN: {UUID}::urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    "EXT:",
    "SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.3",
    "LOCATION: http://192.0.2.1:5000/rootDesc.xml",
    'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
    "01-NLS: 1700000000",
    "BOOTID.UPNP.ORG: 1700000000",
    "CONFIGID.UPNP.ORG: 1337",
)

MINIDLNA = crlf(
    "HTTP/1.1 200 OK",
    "CACHE-CONTROL: max-age=1810",
    "DATE: Mon, 01 Jan 2024 00:00:00 GMT",
    "ST: urn:schemas-upnp-org:device:MediaServer:1",
    "USN: uuid:4d696e69-444c-164e-9d41-b827eb000001::urn:schemas-upnp-org:device:MediaServer:1",
    "EXT:",
    "SERVER: Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.3",
    "LOCATION: http://192.0.2.10:8200/rootDesc.xml",
    "Content-Length: 0",
)

GUPNP = crlf(
    "HTTP/1.1 200 OK",
    "Location: http://192.0.2.20:40123/2a1d7a51-light.xml",
    "Ext:",
    "USN: uuid:2a1d7a51-0000-4000-8000-000000000003::urn:schemas-upnp-org:service:SwitchPower:1",
    "Server: Linux/6.1.0 UPnP/1.0 GUPnP/1.6.6",
    "Cache-Control: max-age=1800",
    "ST: urn:schemas-upnp-org:service:SwitchPower:1",
    "Date: Mon, 01 Jan 2024 00:00:00 GMT",
    "Content-Length: 0",
)


def reply(usn, location, st="upnp:rootdevice"):
    return crlf(
        "HTTP/1.1 200 OK",
        "CACHE-CONTROL: max-age=1800",
        "EXT:",
        f"LOCATION: {location}",
        "SERVER: Test/1 UPnP/1.1 fake/1",
        f"ST: {st}",
        f"USN: {usn}",
    )


# --- build_msearch ----------------------------------------------------------------------


def test_build_msearch_multicast_exact_bytes():
    assert ssdp.build_msearch("ssdp:all", 2) == (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"HOST: 239.255.255.250:1900\r\n"
        b'MAN: "ssdp:discover"\r\n'
        b"MX: 2\r\n"
        b"ST: ssdp:all\r\n" + f"USER-AGENT: {USER_AGENT}\r\n".encode() + b"CPFN.UPNP.ORG: upnpy\r\n"
        b"\r\n"
    )


def test_build_msearch_unicast_has_no_mx():
    assert ssdp.build_msearch("upnp:rootdevice", None, host="192.0.2.1:1900") == (
        b"M-SEARCH * HTTP/1.1\r\n"
        b"HOST: 192.0.2.1:1900\r\n"
        b'MAN: "ssdp:discover"\r\n'
        b"ST: upnp:rootdevice\r\n"
        + f"USER-AGENT: {USER_AGENT}\r\n".encode()
        + b"CPFN.UPNP.ORG: upnpy\r\n"
        b"\r\n"
    )


@pytest.mark.parametrize("mx", [0, 6, -1, True, 1.5, "3"])
def test_build_msearch_rejects_bad_mx(mx):
    with pytest.raises(ValueError):
        ssdp.build_msearch("ssdp:all", mx)


@pytest.mark.parametrize("st", ["", "ssdp:all\r\nX-Evil: 1", "a\nb"])
def test_build_msearch_rejects_bad_st(st):
    with pytest.raises(ValueError):
        ssdp.build_msearch(st, 1)


# --- parse_response ---------------------------------------------------------------------

ADDR = ("192.0.2.1", 1900)


def test_parse_miniupnpd():
    r = ssdp.parse_response(MINIUPNPD, ADDR)
    assert r.location == "http://192.0.2.1:5000/rootDesc.xml"
    assert r.usn == f"{UUID}::urn:schemas-upnp-org:device:InternetGatewayDevice:2"
    assert r.udn == UUID
    assert r.st == "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
    assert r.server == "Debian/12 UPnP/1.1 MiniUPnPd/2.3.3"
    assert (r.max_age, r.bootid, r.configid) == (120, 1700000000, 1337)
    assert r.address == ADDR
    assert r.headers["01-nls"] == "1700000000"
    assert r.headers["EXT"] == ""


def test_parse_minidlna():
    r = ssdp.parse_response(MINIDLNA, ("192.0.2.10", 1900))
    assert r.location == "http://192.0.2.10:8200/rootDesc.xml"
    assert r.udn == "uuid:4d696e69-444c-164e-9d41-b827eb000001"
    assert r.max_age == 1810
    assert r.bootid is None and r.configid is None
    assert r.server.endswith("MiniDLNA/1.3.3")


def test_parse_gupnp_mixed_case_headers():
    r = ssdp.parse_response(GUPNP, ("192.0.2.20", 1900))
    assert r.location == "http://192.0.2.20:40123/2a1d7a51-light.xml"
    assert r.st == "urn:schemas-upnp-org:service:SwitchPower:1"
    assert r.udn == "uuid:2a1d7a51-0000-4000-8000-000000000003"
    assert r.max_age == 1800
    assert r.server == "Linux/6.1.0 UPnP/1.0 GUPnP/1.6.6"


def test_parse_lower_case_headers_bare_lf_and_spaces():
    data = (
        b"HTTP/1.1 200 OK\n"
        b"location:http://192.0.2.5/desc.xml   \n"
        b"usn :   uuid:x::upnp:rootdevice\n"
        b"st:upnp:rootdevice\n"
        b"cache-control:   max-age = 60\n"
        b"\n"
    )
    r = ssdp.parse_response(data, ADDR)
    assert (r.location, r.usn, r.st, r.max_age, r.server) == (
        "http://192.0.2.5/desc.xml",
        "uuid:x::upnp:rootdevice",
        "upnp:rootdevice",
        60,
        "",
    )


def test_headers_are_case_insensitive_and_read_only():
    r = ssdp.parse_response(GUPNP, ADDR)
    assert r.headers["LOCATION"] == r.headers["location"] == r.headers["Location"]
    assert "cache-control" in r.headers and 42 not in r.headers
    assert r.headers.get(42) is None
    assert "Location" in list(r.headers)  # the device's spelling is kept
    with pytest.raises(TypeError):
        r.headers["Location"] = "http://evil/"
    with pytest.raises(AttributeError):
        r.location = "http://evil/"
    assert r == ssdp.parse_response(GUPNP, ADDR)
    assert hash(r) == hash(ssdp.parse_response(GUPNP, ADDR))
    assert "headers" not in repr(r) and "SwitchPower" in repr(r)


def test_first_of_repeated_headers_wins_and_malformed_lines_are_skipped():
    data = crlf(
        "HTTP/1.1 200 OK",
        "LOCATION: http://192.0.2.1/a.xml",
        "DEFUNCT",
        "LOCATION: http://192.0.2.1/b.xml",
        "USN: uuid:a",
    )
    r = ssdp.parse_response(data, ADDR)
    assert r.location == "http://192.0.2.1/a.xml"
    assert r.usn == r.udn == "uuid:a"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("CACHE-CONTROL: max-age=1800", 1800),
        ("CACHE-CONTROL: max-age = 1800", 1800),
        ("CACHE-CONTROL:max-age  =1800", 1800),
        ("Cache-Control: no-cache, MAX-AGE=60", 60),
        ('CACHE-CONTROL: max-age="30"', 30),
        ("CACHE-CONTROL: no-cache", None),
        ("CACHE-CONTROL: max-age=abc", None),
        ("CACHE-CONTROL:", None),
        (None, None),
    ],
)
def test_max_age_variants(header, expected):
    lines = ["HTTP/1.1 200 OK", "LOCATION: http://192.0.2.1/d.xml", "USN: uuid:a"]
    r = ssdp.parse_response(crlf(*lines + ([header] if header else [])), ADDR)
    assert r.max_age == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0),
        ("42", 42),
        ("2147483647", 2147483647),
        ("2147483648", None),
        ("-1", None),
        ("abc", None),
        ("1.5", None),
        ("", None),
        ("\u0661\u0662", None),
    ],
)
def test_bootid_and_configid(value, expected):
    data = crlf(
        "HTTP/1.1 200 OK",
        "LOCATION: http://192.0.2.1/d.xml",
        "USN: uuid:a",
        f"BOOTID.UPNP.ORG: {value}",
        f"configid.upnp.org: {value}",
    )
    r = ssdp.parse_response(data, ADDR)
    assert r.bootid == expected and r.configid == expected


NOTIFY = crlf(
    "NOTIFY * HTTP/1.1",
    "HOST: 239.255.255.250:1900",
    "CACHE-CONTROL: max-age=1800",
    "LOCATION: http://192.0.2.1:5000/rootDesc.xml",
    "NT: upnp:rootdevice",
    "NTS: ssdp:alive",
    f"USN: {UUID}::upnp:rootdevice",
)

REJECTED = {
    "empty": b"",
    "garbage": b"hello world, this is not ssdp\r\n\r\n",
    "binary": b"\x00\x01\x02\xff\xfe" * 20,
    "binary-in-headers": MINIUPNPD.replace(b"EXT:", b"EXT: \x00\x01"),
    "non-utf8": MINIDLNA.replace(b"MiniDLNA", b"Mini\xe9DLNA"),
    "notify": NOTIFY,
    "msearch": ssdp.build_msearch("ssdp:all", 1),
    "404": MINIUPNPD.replace(b"200 OK", b"404 Not Found"),
    "http-2": MINIUPNPD.replace(b"HTTP/1.1", b"HTTP/2"),
    "truncated-mid-line": MINIUPNPD[: MINIUPNPD.index(b"LOCATION") + 20],
    "truncated-before-location": MINIUPNPD[: MINIUPNPD.index(b"LOCATION")],
    "oversized": MINIUPNPD[:-2] + b"X-PAD: " + b"a" * 9000 + b"\r\n\r\n",
    "no-location": crlf("HTTP/1.1 200 OK", "USN: uuid:a", "ST: ssdp:all"),
    "empty-location": crlf("HTTP/1.1 200 OK", "LOCATION: ", "USN: uuid:a"),
    "no-usn": crlf("HTTP/1.1 200 OK", "LOCATION: http://192.0.2.1/d.xml"),
    "relative-location": crlf("HTTP/1.1 200 OK", "LOCATION: /d.xml", "USN: uuid:a"),
    "ftp-location": crlf("HTTP/1.1 200 OK", "LOCATION: ftp://192.0.2.1/d", "USN: uuid:a"),
    "status-only": b"HTTP/1.1 200 OK\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_datagrams_are_none_and_logged(name, caplog):
    with caplog.at_level(logging.DEBUG, logger="upnpy._ssdp"):
        assert ssdp.parse_response(REJECTED[name], ADDR) is None
    assert any(rec.name == "upnpy._ssdp" and rec.levelno == logging.DEBUG for rec in caplog.records)


def test_last_line_without_blank_line_is_accepted():
    data = b"HTTP/1.1 200 OK\r\nLOCATION: http://192.0.2.1/d.xml\r\nUSN: uuid:a\r\n"
    assert ssdp.parse_response(data, ADDR).usn == "uuid:a"


def test_body_after_the_headers_is_ignored():
    r = ssdp.parse_response(MINIDLNA + b"USN: uuid:other\r\n", ADDR)
    assert r.udn == "uuid:4d696e69-444c-164e-9d41-b827eb000001"


# --- interface_addresses ----------------------------------------------------------------


def fake_adapters():
    return [
        ifaddr.Adapter(
            "lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")]
        ),
        ifaddr.Adapter(
            "lan0",
            "LAN adapter",
            [
                ifaddr.IP("192.0.2.2", 24, "lan0"),
                ifaddr.IP(("fe80::1", 0, 2), 64, "lan0"),
                ifaddr.IP("198.51.100.2", 24, "lan0"),
            ],
        ),
        ifaddr.Adapter("wan0", "wan0", [ifaddr.IP("203.0.113.9", 24, "wan0")]),
        ifaddr.Adapter("v6only", "v6only", [ifaddr.IP(("2001:db8::1", 0, 0), 64, "v6only")]),
    ]


@pytest.fixture
def fake_ifaddr(monkeypatch):
    monkeypatch.setattr(ifaddr, "get_adapters", fake_adapters)


def test_interface_addresses_default_excludes_loopback_and_ipv6(fake_ifaddr):
    assert ssdp.interface_addresses() == ["192.0.2.2", "198.51.100.2", "203.0.113.9"]


def test_interface_addresses_include_loopback(fake_ifaddr):
    assert ssdp.interface_addresses(include_loopback=True)[0] == "127.0.0.1"


@pytest.mark.parametrize(
    "names, expected",
    [
        (["lo"], ["127.0.0.1"]),
        (["127.0.0.1"], ["127.0.0.1"]),
        ("lan0", ["192.0.2.2", "198.51.100.2"]),
        (["LAN adapter"], ["192.0.2.2", "198.51.100.2"]),
        (["203.0.113.9", "lan0", "wan0"], ["203.0.113.9", "192.0.2.2", "198.51.100.2"]),
        (iter(["lo", "nosuch0"]), ["127.0.0.1"]),
    ],
)
def test_interface_addresses_by_name_or_address(fake_ifaddr, names, expected):
    assert ssdp.interface_addresses(names) == expected


def test_interface_addresses_nothing_left_names_what_was_found(fake_ifaddr, caplog):
    with pytest.raises(DiscoveryError) as info:
        ssdp.interface_addresses(["nosuch0", "10.9.9.9", "v6only"])
    message = str(info.value)
    assert "lan0 (192.0.2.2)" in message and "lo (127.0.0.1)" in message
    assert "nosuch0" in message
    assert "nosuch0" in caplog.text


def test_interface_addresses_only_loopback(monkeypatch):
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: fake_adapters()[:1])
    with pytest.raises(DiscoveryError, match=r"loopback excluded.*lo \(127\.0\.0\.1\)"):
        ssdp.interface_addresses()
    assert ssdp.interface_addresses(include_loopback=True) == ["127.0.0.1"]


def test_interface_addresses_real_loopback():
    assert ssdp.interface_addresses(["127.0.0.1"]) == ["127.0.0.1"]
    assert all(not a.startswith("127.") for a in _real_or_empty())


def _real_or_empty():
    try:
        return ssdp.interface_addresses()
    except DiscoveryError:
        return []


# --- search: arguments and socket setup -------------------------------------------------


@pytest.mark.parametrize(
    "timeout, mx",
    [(0.3, 1), (1, 1), (2.0, 1), (2.9, 1), (3, 2), (4.5, 3), (6, 5), (60, 5)],
)
def test_default_mx_rule(timeout, mx):
    assert ssdp._default_mx(timeout) == mx


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"timeout": "2"},
        {"host": "239.255.255.250"},
        {"host": "239.255.255.250:1900"},
        {"host": "0.0.0.0"},
        {"host": "[ff02::c]:1900"},
        {"host": "[::]"},
        {"host": "[::1"},
        {"host": "[::1]1900"},
        {"host": "[::1]:"},
        {"host": "fe80::1"},
        {"host": "[fe80::1%no such zone]"},
        {"host": "127.0.0.1%lo"},
        {"host": "[::1]:1900", "family": socket.AF_INET},
        {"host": "127.0.0.1", "family": socket.AF_INET6},
        {"family": 99},
        {"host": "example.com"},
        {"host": "127.0.0.1:0"},
        {"host": "127.0.0.1:70000"},
        {"host": "127.0.0.1:x"},
        {"host": "127.0.0.1", "mx": 9},
        {"st": "a\r\nb", "host": "127.0.0.1"},
    ],
)
def test_search_checks_arguments_at_call_time(kwargs):
    with pytest.raises(ValueError):
        ssdp.search(**kwargs)  # not iterated: raised by the call itself


LO4 = Interface("lo", socket.AF_INET, LOOPBACK, socket.if_nametoindex("lo"), 0)
LO6 = Interface("lo", socket.AF_INET6, "::1", socket.if_nametoindex("lo"), 0)


def test_multicast_socket_options_on_loopback():
    sock = ssdp._open_socket(LO4, multicast=True)  # set up only; nothing is sent
    try:
        assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 2
        assert sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP) == 1
        multicast_if = sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
        assert multicast_if == socket.inet_aton(LOOPBACK)
        ip, port = sock.getsockname()
        assert ip == LOOPBACK and port not in (0, 1900)
        assert sock.gettimeout() == 0.0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) > 0
    finally:
        sock.close()


# --- search: loopback -------------------------------------------------------------------


class Responder:
    """A UDP device on 127.0.0.1 (or ::1) that answers each M-SEARCH with a fixed list of
    datagrams."""

    def __init__(self, answers, host=LOOPBACK):
        self.answers = answers
        self.requests = []  # (bytes, sender address)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="ssdp-test-responder", daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            self.requests.append((data, sender))
            if data.startswith(b"M-SEARCH"):
                for answer in self.answers:
                    self.sock.sendto(answer, sender)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()

    def headers(self, index):
        lines = self.requests[index][0].decode().split("\r\n")[1:]
        pairs = (line.partition(":") for line in lines)
        return {k.strip().upper(): v.strip() for k, _, v in pairs if k}


@pytest.fixture
def responder_factory():
    made = []

    def make(answers, host=LOOPBACK):
        made.append(Responder(answers, host))
        return made[-1]

    yield make
    for responder in made:
        responder.close()
        assert not responder.thread.is_alive()


ROOT = reply(f"{UUID}::upnp:rootdevice", "http://127.0.0.1:5000/rootDesc.xml")
DEVICE = reply(UUID, "http://127.0.0.1:5000/rootDesc.xml", st=UUID)
SERVICE = reply(
    f"{UUID}::urn:schemas-upnp-org:service:WANIPConnection:2",
    "http://127.0.0.1:5000/rootDesc.xml",
    st="urn:schemas-upnp-org:service:WANIPConnection:2",
)
OTHER_LOCATION = reply(f"{UUID}::upnp:rootdevice", "http://127.0.0.1:5001/rootDesc.xml")
NOISY_ANSWERS = [
    ROOT,
    b"\x00\xff garbage \x01" * 10,
    DEVICE,
    ROOT,  # duplicate
    NOTIFY,
    REJECTED["oversized"],
    b"A" * 60000,  # oversized, near the UDP limit
    SERVICE,
    REJECTED["truncated-mid-line"],
    DEVICE,  # duplicate
    OTHER_LOCATION,  # same USN, other LOCATION: distinct
]
EXPECTED = {
    (f"{UUID}::upnp:rootdevice", "http://127.0.0.1:5000/rootDesc.xml"),
    (UUID, "http://127.0.0.1:5000/rootDesc.xml"),
    (
        f"{UUID}::urn:schemas-upnp-org:service:WANIPConnection:2",
        "http://127.0.0.1:5000/rootDesc.xml",
    ),
    (f"{UUID}::upnp:rootdevice", "http://127.0.0.1:5001/rootDesc.xml"),
}


@pytest.fixture
def track_sockets(monkeypatch):
    """Record every socket search() opens."""
    opened = []
    real_open = ssdp._open_socket

    def tracking_open(source, multicast):
        opened.append(real_open(source, multicast))
        return opened[-1]

    monkeypatch.setattr(ssdp, "_open_socket", tracking_open)
    return opened


def test_unicast_search_yields_each_distinct_answer_once(responder_factory, track_sockets):
    responder = responder_factory(NOISY_ANSWERS)
    gen = ssdp.search("ssdp:all", timeout=1.0, host=f"127.0.0.1:{responder.port}")
    results = list(gen)
    with pytest.raises(StopIteration):
        next(gen)  # the generator has finished
    keys = [(r.usn, r.location) for r in results]
    assert len(keys) == len(set(keys)) and set(keys) == EXPECTED
    assert all(r.address == (LOOPBACK, responder.port) for r in results)

    searches = [i for i, (data, _) in enumerate(responder.requests) if data.startswith(b"M-SEARCH")]
    assert len(searches) == 3
    for i in searches:
        headers = responder.headers(i)
        assert "MX" not in headers
        assert headers["HOST"] == f"127.0.0.1:{responder.port}"
        assert headers["MAN"] == '"ssdp:discover"' and headers["ST"] == "ssdp:all"
    senders = {sender for _, sender in responder.requests}
    assert len(senders) == 1 and next(iter(senders))[1] != 1900
    assert len(track_sockets) == 1 and track_sockets[0].fileno() == -1


def test_unicast_host_parsing():
    assert ssdp._parse_host("127.0.0.1") == ("127.0.0.1", 1900)
    assert ssdp._parse_host("192.0.2.7:49152") == ("192.0.2.7", 49152)


def test_stopping_early_closes_the_socket(responder_factory, track_sockets):
    responder = responder_factory([ROOT, DEVICE, SERVICE])
    gen = ssdp.search(timeout=5.0, host=f"127.0.0.1:{responder.port}")
    first = next(gen)
    assert first.udn == UUID
    assert track_sockets[0].fileno() != -1
    gen.close()
    assert track_sockets[0].fileno() == -1


def test_abandoned_generator_closes_the_socket(responder_factory, track_sockets):
    responder = responder_factory([ROOT, DEVICE])
    for _response in ssdp.search(timeout=5.0, host=f"127.0.0.1:{responder.port}"):
        break
    gc.collect()
    assert track_sockets and all(s.fileno() == -1 for s in track_sockets)


def test_unstarted_search_opens_nothing(track_sockets):
    gen = ssdp.search(timeout=1.0, host="127.0.0.1:9")
    del gen
    gc.collect()
    assert track_sockets == []


def test_silent_host_gives_nothing_and_finishes(responder_factory):
    responder = responder_factory([])
    assert list(ssdp.search(timeout=0.5, host=f"127.0.0.1:{responder.port}")) == []
    assert sum(d.startswith(b"M-SEARCH") for d, _ in responder.requests) == 3


def test_answers_received_before_the_deadline_survive_a_slow_caller(responder_factory):
    responder = responder_factory([ROOT, DEVICE, SERVICE])
    gen = ssdp.search(timeout=0.5, host=f"127.0.0.1:{responder.port}")
    results = [next(gen)]
    threading.Event().wait(1.0)  # the caller is busy past the deadline
    results += list(gen)
    assert {r.usn for r in results} >= {f"{UUID}::upnp:rootdevice", UUID}


def test_no_working_socket_is_a_discovery_error(monkeypatch):
    def failing_open(source, multicast):
        raise OSError(99, "Cannot assign requested address")

    monkeypatch.setattr(ssdp, "_open_socket", failing_open)
    gen = ssdp.search(timeout=0.5, host="127.0.0.1:9")
    with pytest.raises(DiscoveryError, match=r"0\.0\.0\.0"):
        next(gen)


def test_multicast_path_against_a_loopback_group(
    monkeypatch, responder_factory, track_sockets, caplog
):
    """The multicast loop, with the "group" replaced by a unicast loopback responder."""
    responder = responder_factory(NOISY_ANSWERS)
    monkeypatch.setattr(ssdp, "SSDP_GROUP", (LOOPBACK, responder.port))
    monkeypatch.setattr(
        ifaddr,
        "get_adapters",
        lambda: [
            ifaddr.Adapter("lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo")]),
            ifaddr.Adapter("broken0", "broken0", [ifaddr.IP("127.0.0.3", 8, "broken0")]),
        ],
    )
    tracking_open = ssdp._open_socket

    def open_or_fail(source, multicast):
        assert multicast
        if source.address == "127.0.0.3":
            raise OSError(99, "Cannot assign requested address")
        return tracking_open(source, multicast)

    monkeypatch.setattr(ssdp, "_open_socket", open_or_fail)
    gen = ssdp.search("upnp:rootdevice", timeout=1.5, interfaces=["lo", "broken0"])
    results = list(gen)
    with pytest.raises(StopIteration):
        next(gen)
    assert {(r.usn, r.location) for r in results} == EXPECTED and len(results) == len(EXPECTED)
    assert "127.0.0.3" in caplog.text
    searches = [i for i, (data, _) in enumerate(responder.requests) if data.startswith(b"M-SEARCH")]
    assert len(searches) == 3
    for i in searches:
        headers = responder.headers(i)
        assert headers["HOST"] == "239.255.255.250:1900" and headers["MX"] == "1"
        assert headers["USER-AGENT"] == USER_AGENT and headers["CPFN.UPNP.ORG"] == "upnpy"
    senders = {sender for _, sender in responder.requests}
    assert len(senders) == 1 and next(iter(senders))[0] == LOOPBACK
    assert all(s.fileno() == -1 for s in track_sockets)


# --- IPv6: LOCATIONs and their zones ----------------------------------------------------

LO_INDEX = socket.if_nametoindex("lo")


def answer(location):
    return crlf("HTTP/1.1 200 OK", f"LOCATION: {location}", "USN: uuid:a", "ST: ssdp:all")


@pytest.mark.parametrize(
    "location, address, expected",
    [
        ("http://[fd77::1]:5000/x.xml", ("fd77::1", 1900, 0, 0), "http://[fd77::1]:5000/x.xml"),
        ("http://[fd77::1]/x.xml", ADDR, "http://[fd77::1]/x.xml"),
        # a zone on an address that is not link-local means nothing: dropped
        ("http://[fd77::1%25lan0]:5000/x", ADDR, "http://[fd77::1]:5000/x"),
        # link-local without a zone: the zone of the link it arrived on
        ("http://[fe80::1]:5000/x", ("fe80::1", 1900, 0, LO_INDEX), "http://[fe80::1%25lo]:5000/x"),
        # the device's own zone names its interface, not ours: replaced
        (
            "http://[fe80::1%25eth7]:5000/x?a=1",
            ("fe80::1", 1900, 0, LO_INDEX),
            "http://[fe80::1%25lo]:5000/x?a=1",
        ),
        # no link known: a zone is kept, in RFC 6874 form
        ("http://[fe80::1%lan0]:5000/x", ADDR, "http://[fe80::1%25lan0]:5000/x"),
        ("http://[fe80::1%25lan0]:5000/x", ADDR, "http://[fe80::1%25lan0]:5000/x"),
        ("http://[fe80::1]:5000/x", ADDR, "http://[fe80::1]:5000/x"),
        # a scope id that names no interface is written as a number
        ("http://[fe80::1]/x", ("fe80::1", 1900, 0, 987654), "http://[fe80::1%25987654]/x"),
    ],
)
def test_ipv6_locations_and_zones(location, address, expected):
    r = ssdp.parse_response(answer(location), address)
    assert r.location == expected and r.address == address


@pytest.mark.parametrize(
    "location",
    [
        "http://[v1.fe80::1]/x",
        "http://[not-an-address]/x",
        "http://[fe80::1%a b]/x",
        "http://[fe80::1%]/x",
        "http://[::1/x",
        "http://[fd77::1]:99999/x",
        "http://[fe80::1%25a%2Fb]/x",
    ],
)
def test_bad_ipv6_locations_are_rejected(location, caplog):
    with caplog.at_level(logging.DEBUG, logger="upnpy._ssdp"):
        assert ssdp.parse_response(answer(location), ("fe80::1", 1900, 0, LO_INDEX)) is None
    assert "LOCATION" in caplog.text


# --- parse_notify -----------------------------------------------------------------------

ALIVE = crlf(
    "NOTIFY * HTTP/1.1",
    "HOST: 239.255.255.250:1900",
    "CACHE-CONTROL: max-age=120",
    "LOCATION: http://192.0.2.1:5000/rootDesc.xml",
    "SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.3",
    "NT: upnp:rootdevice",
    f"USN: {UUID}::upnp:rootdevice",
    "NTS: ssdp:alive",
    'OPT: "http://schemas.upnp.org/upnp/1/0/"; ns=01',
    "BOOTID.UPNP.ORG: 7",
    "CONFIGID.UPNP.ORG: 1337",
)
BYEBYE = crlf(
    "NOTIFY * HTTP/1.1",
    "HOST: [FF02::C]:1900",
    "NT: urn:schemas-upnp-org:service:WANIPConnection:2",
    f"USN: {UUID}::urn:schemas-upnp-org:service:WANIPConnection:2",
    "NTS: ssdp:byebye",
    "BOOTID.UPNP.ORG: 7",
    "CONFIGID.UPNP.ORG: 1337",
)
UPDATE = crlf(
    "notify * HTTP/1.1",
    "Host: 239.255.255.250:1900",
    "Location: http://[fe80::1]:5000/rootDesc.xml",
    f"nt: {UUID}",
    "nts: SSDP:UPDATE",
    f"usn: {UUID}",
    "BOOTID.UPNP.ORG: 7",
    "NEXTBOOTID.UPNP.ORG: 8",
    "CONFIGID.UPNP.ORG: 1338",
)


def test_parse_notify_alive():
    n = ssdp.parse_notify(ALIVE, ADDR)
    assert (n.nts, n.nt, n.usn, n.udn) == (
        "ssdp:alive",
        "upnp:rootdevice",
        f"{UUID}::upnp:rootdevice",
        UUID,
    )
    assert n.location == "http://192.0.2.1:5000/rootDesc.xml"
    assert (n.max_age, n.bootid, n.configid, n.next_bootid) == (120, 7, 1337, None)
    assert n.server.endswith("MiniUPnPd/2.3.3") and n.address == ADDR
    assert n.headers["opt"].startswith('"http://schemas.upnp.org')
    assert n == ssdp.parse_notify(ALIVE, ADDR) and hash(n) == hash(ssdp.parse_notify(ALIVE, ADDR))
    with pytest.raises(AttributeError):
        n.nts = "ssdp:byebye"
    assert "headers" not in repr(n)


def test_parse_notify_byebye_needs_no_location_nor_max_age():
    n = ssdp.parse_notify(BYEBYE, ("fe80::1", 1900, 0, LO_INDEX))
    assert n.nts == "ssdp:byebye" and n.location == "" and n.max_age is None
    assert n.udn == UUID and n.nt.endswith("WANIPConnection:2")
    assert (n.bootid, n.configid) == (7, 1337)


def test_parse_notify_byebye_with_a_bad_location_keeps_none_of_it():
    data = BYEBYE.replace(b"NTS:", b"LOCATION: ftp://x/\r\nNTS:")
    assert ssdp.parse_notify(data, ADDR).location == ""


def test_parse_notify_update_with_a_link_local_location():
    n = ssdp.parse_notify(UPDATE, ("fe80::1", 1900, 0, LO_INDEX))
    assert n.nts == "ssdp:update" and n.usn == n.udn == n.nt == UUID
    assert (n.bootid, n.next_bootid, n.configid) == (7, 8, 1338)
    assert n.location == "http://[fe80::1%25lo]:5000/rootDesc.xml"


def _without(data, name):
    lines = data.decode().split("\r\n")
    return "\r\n".join(line for line in lines if not line.startswith(name)).encode()


NOTIFY_REJECTED = {
    "empty": b"",
    "garbage": b"\x00\xff garbage \x01" * 10,
    "text-garbage": b"hello world\r\n\r\n",
    "oversized": ALIVE[:-2] + b"X-PAD: " + b"a" * 9000 + b"\r\n\r\n",
    "non-utf8": ALIVE.replace(b"MiniUPnPd", b"Mini\xe9UPnPd"),
    "truncated": ALIVE[: ALIVE.index(b"NTS") + 6],
    "bare-cr": ALIVE.replace(b"EXT", b"E\rXT").replace(b"NT: ", b"NT: a\rb"),
    "missing-usn": _without(ALIVE, "USN"),
    "missing-nt": _without(ALIVE, "NT:"),
    "missing-nts": _without(ALIVE, "NTS"),
    "other-nts": ALIVE.replace(b"ssdp:alive", b"ssdp:propchange"),
    "alive-without-location": _without(ALIVE, "LOCATION"),
    "alive-bad-location": ALIVE.replace(b"http://192.0.2.1:5000", b"/relative"),
    "alive-location-with-ctl": ALIVE.replace(b"rootDesc.xml", b"a\x7fb.xml"),
    "update-without-location": _without(UPDATE, "Location"),
    "msearch": ssdp.build_msearch("ssdp:all", 1),
    "search-response": MINIUPNPD,
    "notify-path": ALIVE.replace(b"NOTIFY *", b"NOTIFY /x"),
    "http-2": ALIVE.replace(b"HTTP/1.1", b"HTTP/2.0"),
}


@pytest.mark.parametrize("name", sorted(NOTIFY_REJECTED))
def test_rejected_notifies_are_none_and_logged(name, caplog):
    with caplog.at_level(logging.DEBUG, logger="upnpy._ssdp"):
        assert ssdp.parse_notify(NOTIFY_REJECTED[name], ADDR) is None
    assert any(rec.name == "upnpy._ssdp" and rec.levelno == logging.DEBUG for rec in caplog.records)


def test_a_notify_is_not_a_search_response_nor_the_reverse():
    assert ssdp.parse_response(ALIVE, ADDR) is None
    assert ssdp.parse_notify(MINIUPNPD, ADDR) is None


# --- IPv6 search on ::1 -----------------------------------------------------------------

V6_ROOT = reply(f"{UUID}::upnp:rootdevice", "http://[::1]:5000/rootDesc.xml")
V6_DEVICE = reply(UUID, "http://[::1]:5000/rootDesc.xml", st=UUID)


def test_unicast_search_over_ipv6_loopback(responder_factory, track_sockets):
    responder = responder_factory([V6_ROOT, V6_DEVICE, V6_ROOT, b"junk\r\n\r\n"], host="::1")
    results = list(ssdp.search(timeout=0.6, host=f"[::1]:{responder.port}"))
    assert {(r.usn, r.location) for r in results} == {
        (f"{UUID}::upnp:rootdevice", "http://[::1]:5000/rootDesc.xml"),
        (UUID, "http://[::1]:5000/rootDesc.xml"),
    } and len(results) == 2
    assert all(r.address[:2] == ("::1", responder.port) and len(r.address) == 4 for r in results)
    headers = responder.headers(0)
    assert headers["HOST"] == f"[::1]:{responder.port}" and "MX" not in headers
    assert len(track_sockets) == 1 and track_sockets[0].family == socket.AF_INET6
    assert track_sockets[0].fileno() == -1


def test_unicast_ipv6_host_forms():
    assert ssdp._parse_host("::1") == ("::1", 1900, 0, 0)
    assert ssdp._parse_host("[::1]") == ("::1", 1900, 0, 0)
    assert ssdp._parse_host("[::1]:49152") == ("::1", 49152, 0, 0)
    assert ssdp._parse_host("fe80::1%lo") == ("fe80::1", 1900, 0, LO_INDEX)
    assert ssdp._parse_host(f"[fe80::1%25{LO_INDEX}]:1901") == ("fe80::1", 1901, 0, LO_INDEX)
    assert ssdp._host_header(("fe80::1", 1901, 0, LO_INDEX)) == "[fe80::1]:1901"


def lo_adapters():
    return [
        ifaddr.Adapter(
            "lo", "lo", [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")]
        )
    ]


def test_multicast_path_over_both_families_against_loopback_groups(
    monkeypatch, responder_factory, track_sockets
):
    """family=None searches from each IPv4 address and each IPv6 interface: here lo's
    127.0.0.1 and ::1, the "groups" being loopback responders."""
    v4 = responder_factory([ROOT])
    v6 = responder_factory([V6_ROOT], host="::1")
    monkeypatch.setattr(ssdp, "SSDP_GROUP", (LOOPBACK, v4.port))
    monkeypatch.setattr(ssdp, "SSDP_GROUP_V6", ("::1", v6.port))
    monkeypatch.setattr(ifaddr, "get_adapters", lo_adapters)
    results = list(ssdp.search("upnp:rootdevice", timeout=0.8, interfaces=["lo"]))
    assert sorted(r.location for r in results) == [
        "http://127.0.0.1:5000/rootDesc.xml",
        "http://[::1]:5000/rootDesc.xml",
    ]
    assert v4.headers(0)["HOST"] == "239.255.255.250:1900"
    assert v6.headers(0)["HOST"] == "[FF02::C]:1900" and v6.headers(0)["MX"] == "1"
    assert sum(d.startswith(b"M-SEARCH") for d, _ in v6.requests) == 3
    (sender,) = {sender for _, sender in v6.requests}
    assert sender[0] == "::1" and sender[1] not in (0, 1900)
    assert sorted(s.family for s in track_sockets) == [socket.AF_INET, socket.AF_INET6]
    assert all(s.fileno() == -1 for s in track_sockets)


@pytest.mark.parametrize("family, expected", [(socket.AF_INET, "127."), (socket.AF_INET6, "[::1]")])
def test_search_one_family_only(monkeypatch, responder_factory, track_sockets, family, expected):
    v4 = responder_factory([ROOT])
    v6 = responder_factory([V6_ROOT], host="::1")
    monkeypatch.setattr(ssdp, "SSDP_GROUP", (LOOPBACK, v4.port))
    monkeypatch.setattr(ssdp, "SSDP_GROUP_V6", ("::1", v6.port))
    monkeypatch.setattr(ifaddr, "get_adapters", lo_adapters)
    results = list(ssdp.search(timeout=0.5, interfaces=["lo"], family=family))
    assert len(results) == 1 and expected in results[0].location
    assert [s.family for s in track_sockets] == [family]


def test_ipv6_multicast_socket_options_on_loopback():
    sock = ssdp._open_socket(LO6, multicast=True)  # set up only; nothing is sent
    try:
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF) == LO_INDEX
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS) == 2
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP) == 1
        assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        assert sock.getsockname()[0] == "::1" and sock.gettimeout() == 0.0
    finally:
        sock.close()


# --- open_listener ----------------------------------------------------------------------


@pytest.mark.parametrize("iface", [LO4, LO6], ids=["ipv4", "ipv6"])
def test_open_listener_joins_the_group_on_the_interface(iface):
    """Set up only (port 0, not 1900): a unit test sends no multicast. The lab test
    (tests/interop/test_ipv6.py) checks that announcements arrive."""
    sock = ssdp.open_listener(iface, port=0)
    try:
        assert sock.gettimeout() == 0.0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        if hasattr(socket, "SO_REUSEPORT"):
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        name = sock.getsockname()
        if iface.family == socket.AF_INET6:
            assert name[0] == "ff02::c" and name[3] == LO_INDEX
        else:
            assert name[0] == "239.255.255.250"
        assert name[1] not in (0, 1900)
    finally:
        sock.close()


def test_open_listener_reports_a_missing_interface():
    gone = Interface("gone0", socket.AF_INET6, "fe80::1", 987654, 987654)
    with pytest.raises(OSError):
        ssdp.open_listener(gone, port=0)
