"""upnpy._interfaces: the interfaces to multicast from, per address family (pure: the adapters
are made up, nothing is opened or sent)."""

import socket

import ifaddr
import pytest

from upnpy import DiscoveryError
from upnpy import _interfaces as interfaces_module
from upnpy._interfaces import Interface, interfaces, scope_index, scope_name

V4, V6 = socket.AF_INET, socket.AF_INET6


def fake_adapters():
    return [
        ifaddr.Adapter(
            "lo",
            "lo",
            [ifaddr.IP("127.0.0.1", 8, "lo"), ifaddr.IP(("::1", 0, 0), 128, "lo")],
            index=1,
        ),
        ifaddr.Adapter(
            "lan0",
            "LAN adapter",
            [
                ifaddr.IP("192.0.2.2", 24, "lan0"),
                ifaddr.IP(("fd77::2", 0, 0), 64, "lan0"),  # before the link-local one
                ifaddr.IP(("fe80::2", 0, 2), 64, "lan0"),
                ifaddr.IP("198.51.100.2", 24, "lan0"),
            ],
            index=2,
        ),
        ifaddr.Adapter("wan0", "wan0", [ifaddr.IP("203.0.113.9", 24, "wan0")], index=3),
        # no index from ifaddr, and none from the system: 0; a ULA only
        ifaddr.Adapter("v6only", "v6only", [ifaddr.IP(("fd77::9", 0, 0), 64, "v6only")]),
        # ifaddr gave no scope id: the index serves
        ifaddr.Adapter("ll0", "ll0", [ifaddr.IP(("fe80::5", 0, 0), 64, "ll0")], index=5),
        ifaddr.Adapter("odd0", "odd0", [ifaddr.IP("not-an-ip", 8, "odd0")], index=6),
    ]


@pytest.fixture(autouse=True)
def fake_ifaddr(monkeypatch):
    monkeypatch.setattr(ifaddr, "get_adapters", fake_adapters)
    monkeypatch.setattr(
        interfaces_module.socket,
        "if_nametoindex",
        lambda name: {"lo": 1, "lan0": 2, "wan0": 3, "ll0": 5}.get(name) or _no_such(name),
    )


def _no_such(name):
    raise OSError(19, f"no such device {name}")


LAN4 = Interface("lan0", V4, "192.0.2.2", 2, 0)
LAN4B = Interface("lan0", V4, "198.51.100.2", 2, 0)
LAN6 = Interface("lan0", V6, "fe80::2", 2, 2)
WAN4 = Interface("wan0", V4, "203.0.113.9", 3, 0)
V6ONLY = Interface("v6only", V6, "fd77::9", 0, 0)
LL0 = Interface("ll0", V6, "fe80::5", 5, 5)
LO4 = Interface("lo", V4, "127.0.0.1", 1, 0)
LO6 = Interface("lo", V6, "::1", 1, 0)


def test_default_every_family_one_ipv6_entry_per_adapter_link_local_first():
    assert interfaces() == [LAN4, LAN4B, LAN6, WAN4, V6ONLY, LL0]


def test_one_family():
    assert interfaces(V4) == [LAN4, LAN4B, WAN4]
    assert interfaces(V6) == [LAN6, V6ONLY, LL0]


def test_include_loopback():
    assert interfaces(include_loopback=True)[:2] == [LO4, LO6]


@pytest.mark.parametrize(
    "names, family, expected",
    [
        (["lan0"], None, [LAN4, LAN4B, LAN6]),
        ("LAN adapter", V6, [LAN6]),
        (["lo"], None, [LO4, LO6]),
        (["fd77::2"], V6, [Interface("lan0", V6, "fd77::2", 2, 0)]),
        (["fe80::2%lan0"], None, [LAN6]),
        (["fe80::2%2"], None, [LAN6]),
        (["[fe80::2]"], None, [LAN6]),
        (["198.51.100.2", "wan0", "lan0"], V4, [LAN4B, WAN4, LAN4]),
        (iter(["ll0", "nosuch0"]), None, [LL0]),
    ],
)
def test_by_name_or_address(names, family, expected):
    assert interfaces(family, names) == expected


def test_an_address_with_the_wrong_zone_does_not_match(caplog):
    with pytest.raises(DiscoveryError):
        interfaces(V6, ["fe80::2%wan0"])
    assert "fe80::2%wan0" in caplog.text


def test_nothing_left_lists_what_was_found(caplog):
    with pytest.raises(DiscoveryError) as info:
        interfaces(V6, ["nosuch0", "wan0"])
    message = str(info.value)
    assert "lan0 (fe80::2%2)" in message and "v6only (fd77::9)" in message
    assert "192.0.2.2" not in message  # the family asked for only
    assert "nosuch0" in caplog.text and "IPv6" in caplog.text


def test_only_loopback(monkeypatch):
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: fake_adapters()[:1])
    with pytest.raises(DiscoveryError, match=r"loopback excluded.*lo \(127\.0\.0\.1\)"):
        interfaces()
    assert interfaces(include_loopback=True) == [LO4, LO6]


def test_bad_family():
    with pytest.raises(ValueError):
        interfaces(socket.AF_UNIX)


def test_sockaddr_and_str():
    assert LAN4.sockaddr() == ("192.0.2.2", 0) and LAN4.sockaddr(1900) == ("192.0.2.2", 1900)
    assert LAN6.sockaddr(1900) == ("fe80::2", 1900, 0, 2)
    assert str(LAN6) == "lan0 (fe80::2%2)" and str(LAN4) == "lan0 (192.0.2.2)"
    assert LO6.is_loopback and not LAN6.is_loopback


def test_scope_names_and_indexes():
    assert scope_index("2") == 2 and scope_index("lan0") == 2
    with pytest.raises(ValueError):
        scope_index("nosuch0")
    assert scope_name(987654) == "987654"  # no such interface: the number


def test_real_loopback_is_found(monkeypatch):
    monkeypatch.undo()  # the machine's own adapters
    found = interfaces(names=["lo"])
    assert {i.family for i in found} >= {V4} and all(i.index > 0 for i in found)
