"""The fast one-pass reader of descriptions and SCPDs agrees with the lenient parser.

Every document the tests hold — the captures of the lab's devices and of other devices, and
every input of the hostile corpus — is read both ways: where the fast path gives a result,
it must be exactly the lenient parser's, which must not have warned (a document worth a
warning is the lenient parser's to read). And the fast path must really take the usual
documents: every capture of the lab's devices is read by it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest
from test_corpus import LOCATION, data_of, manifest

from upnpy import _description
from upnpy._exceptions import UPnPError
from upnpy._reader import MAX_DEPTH, read

DATA = Path(__file__).resolve().parent / "data"
SCPD_URL = "http://127.0.0.1:49152/scpd.xml"


def kind_of(data: bytes) -> str:
    """``"scpd"`` for an SCPD, else ``"root"`` (what the document's root element says)."""
    return "scpd" if b"<scpd" in data[:400] or b":scpd" in data[:400] else "root"


def fast(kind: str, data: bytes, url: str) -> Optional[Any]:
    """The fast path's record, or ``None`` when it hands the document on."""
    if kind == "root":
        node = read(data, "root", _description._DEVICE_SCHEMAS)
        build: Callable[[Any, str], Any] = _description._fast_root
    else:
        node = read(data, "scpd", _description._SCPD_SCHEMAS)
        build = _description._fast_scpd
    if node is None:
        return None
    try:
        return build(node, url)
    except _description._Unusual:
        return None


def lenient(kind: str, data: bytes, url: str) -> Tuple[Any, List[str]]:
    """The lenient parser's record (or the upnpy error it raised) and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if kind == "root":
                result: Any = _description._lenient_root(
                    _description._document(data, url, "root"), url
                )
            else:
                result = _description._lenient_scpd(_description._document(data, url, "scpd"), url)
        except UPnPError as exc:
            result = exc
    return result, [str(w.message) for w in caught]


def corpus_documents() -> Iterator[Tuple[str, str, bytes, str]]:
    """``(id, kind, data, url)`` of every description and SCPD of the hostile corpus."""
    for surface in ("description", "scpd"):
        for case in manifest(surface):
            specs = []
            if case["run"] in ("parse_device", "parse_scpd"):
                kind = "root" if case["run"] == "parse_device" else "scpd"
                specs.append((kind, case["input"]))
            elif case["run"] == "service":
                specs += [("scpd", case["scpd"])] if "scpd" in case else []
                specs += [("root", case["description"])] if "description" in case else []
            elif case["run"] == "device":
                replies = case.get("replies") or {"GET": case["reply"]}
                body = replies.get("GET", {}).get("body")
                specs += [("root", body)] if isinstance(body, dict) else []
            for kind, spec in specs:
                url = case.get("location", LOCATION) if case["run"] == "parse_device" else LOCATION
                url = url if kind == "root" else SCPD_URL
                yield f"{surface}/{case['name']}/{kind}", kind, data_of(spec, surface), url


def documents() -> Iterator[Any]:
    for path in sorted(DATA.rglob("*.xml")):
        data = path.read_bytes()
        kind = kind_of(data)
        url = SCPD_URL if kind == "scpd" else LOCATION
        yield pytest.param(kind, data, url, id=str(path.relative_to(DATA)))
    for name, kind, data, url in corpus_documents():
        yield pytest.param(kind, data, url, id=name)


@pytest.mark.parametrize(("kind", "data", "url"), list(documents()))
def test_fast_path_agrees_with_the_lenient_parser(kind: str, data: bytes, url: str) -> None:
    got = fast(kind, data, url)
    if got is None:
        return  # handed on: the lenient parser reads it (its own tests say how)
    want, warned = lenient(kind, data, url)
    assert not warned, f"the fast path read a document worth a warning: {warned}"
    assert got == want


LAB = sorted((DATA / "lab").glob("*.xml"))


@pytest.mark.parametrize("path", LAB, ids=[path.name for path in LAB])
def test_every_lab_capture_takes_the_fast_path(path: Path) -> None:
    data = path.read_bytes()
    kind = kind_of(data)
    url = SCPD_URL if kind == "scpd" else "http://10.77.0.1:5000/rootDesc.xml"
    assert fast(kind, data, url) is not None
    assert fast(kind, data, url) == lenient(kind, data, url)[0]


def test_the_corpus_and_captures_give_the_fast_path_work() -> None:
    """Enough documents of both outcomes that the agreement test means something."""
    outcomes = [
        fast(*param.values) is not None  # type: ignore[misc]
        for param in documents()
    ]
    assert sum(outcomes) >= 30 and outcomes.count(False) >= 30


PLAIN = b"""<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>0</minor>
</specVersion><device><deviceType>urn:schemas-upnp-org:device:X:1</deviceType>
<friendlyName>Plain</friendlyName><UDN>uuid:1</UDN><serviceList><service>
<serviceType>urn:schemas-upnp-org:service:S:1</serviceType><serviceId>urn:upnp-org:serviceId:S
</serviceId><SCPDURL>/s.xml</SCPDURL><controlURL>/c</controlURL><eventSubURL>/e</eventSubURL>
</service></serviceList></device></root>"""


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ((b"<friendlyName>Plain", b"<friendlyName><b>Pl</b>ain"), "markup inside a field"),
        ((b"<root ", b"<!DOCTYPE root><root "), "a DTD"),
        ((b"<UDN>", b"<!-- <!doctype --><UDN>"), "the text <!DOCTYPE anywhere"),
        ((b"<serviceList>", b"<serviceList></serviceList><x:serviceList>"), "two prefixes"),
        ((b"</root>", b"</root>junk"), "garbage after the root"),
        ((b"Plain", b"Pl\x00ain"), "a NUL byte"),
        ((b"<root ", b"<scpd "), "another root element"),
        ((b"<SCPDURL>", b"<SCPDURL>\x01"), "a control character"),
        ((b"<device>", b"<device>" + b"<x>" * MAX_DEPTH + b"</x>" * MAX_DEPTH), "deep nesting"),
        ((b"<friendlyName>Plain", b"<friendlyName>&bogus;"), "an undefined entity"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_the_unusual_is_handed_on(change: Tuple[bytes, bytes], why: str) -> None:
    assert fast("root", PLAIN, LOCATION) is not None  # the plain document is read
    assert fast("root", PLAIN.replace(*change, 1), LOCATION) is None, why


def test_local_names_and_first_occurrences_as_in_the_lenient_parser() -> None:
    data = PLAIN.replace(
        b"<friendlyName>Plain</friendlyName>",
        b"<d:friendlyName>A</d:friendlyName><friendlyName>B</friendlyName>",
        1,
    )
    assert fast("root", data, LOCATION) is None  # two prefixes among siblings: handed on
    data = PLAIN.replace(b"<UDN>", b"<friendlyName>Second</friendlyName><UDN>", 1)
    got = fast("root", data, LOCATION)
    assert got is not None and got.friendly_name == "Plain"
    assert got == lenient("root", data, LOCATION)[0]
    data = PLAIN.replace(
        b"<serviceList>", b'<x:X_DLNADOC xmlns:x="urn:x">DMS-1.50</x:X_DLNADOC><serviceList>', 1
    )
    got = fast("root", data, LOCATION)
    assert got is not None and got.services[0].control_url == "http://127.0.0.1:49152/c"
