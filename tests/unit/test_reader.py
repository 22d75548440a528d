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
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_corpus import LOCATION, data_of, manifest

from upnpy import _description
from upnpy._exceptions import UPnPError, UPnPWarning
from upnpy._reader import MAX_DEPTH, Unusual
from upnpy._records import ScpdInfo

DATA = Path(__file__).resolve().parent / "data"
SCPD_URL = "http://127.0.0.1:49152/scpd.xml"


def kind_of(data: bytes) -> str:
    """``"scpd"`` for an SCPD, else ``"root"`` (what the document's root element says)."""
    return "scpd" if b"<scpd" in data[:400] or b":scpd" in data[:400] else "root"


def fast(kind: str, data: bytes, url: str) -> Optional[Any]:
    """The fast path's record, or ``None`` when it hands the document on."""
    if kind == "root":
        node = _description.DESCRIPTION.read(data)
        build: Callable[[Any, str], Any] = _description._fast_root
    else:
        node = _description.SCPD.read(data)
        build = _description._fast_scpd
    if node is None:
        return None
    try:
        return build(node, url)
    except Unusual:
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
    # UPnPWarnings only: a socket another test left to the collector may warn meanwhile.
    return result, [str(w.message) for w in caught if issubclass(w.category, UPnPWarning)]


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


# -- the first call's index: one action and its state variables, read alone -----------------


@pytest.mark.parametrize(("kind", "data", "url"), [p for p in documents() if p.values[0] == "scpd"])
def test_index_agrees_with_the_full_parse(kind: str, data: bytes, url: str) -> None:
    index = _description.index_scpd(data, url)
    if index is None:
        return  # the full parse reads it
    full, _ = lenient(kind, data, url)
    assert isinstance(full, ScpdInfo)
    assert list(index.actions) == list(full.actions)  # no action is missing, none is extra
    for name in index.actions:
        try:
            action = index.action(name)
        except Unusual:  # parse_scpd reads it (and warns)
            continue
        assert action == full.actions[name]
        for argument in action.arguments if action else ():
            try:
                variable = index.variable(argument.related_state_variable)
            except Unusual:
                continue
            assert variable == full.state_variables.get(argument.related_state_variable)


def test_every_lab_scpd_is_indexed() -> None:
    for path in LAB:
        data = path.read_bytes()
        if kind_of(data) == "scpd":
            index = _description.index_scpd(data, SCPD_URL)
            assert index is not None and index.actions, path.name
            assert all(index.action(name) is not None for name in index.actions)


QUIRKY = b"""<?xml version="1.0"?>
<scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList>
<action><name>Good</name><argumentList><argument><name>Level</name><direction>out</direction>
<relatedStateVariable>Level</relatedStateVariable></argument></argumentList></action>
<action><name>Odd</name><argumentList><argument><name>X</name><direction>sideways</direction>
<relatedStateVariable>Level</relatedStateVariable></argument></argumentList></action>
</actionList><serviceStateTable><stateVariable sendEvents="no"><name>Level</name>
<dataType>ui1</dataType></stateVariable><stateVariable><name>Unknown</name>
<dataType>quaternion</dataType></stateVariable></serviceStateTable></scpd>"""


def test_a_first_call_reads_its_own_action_and_warnings_come_with_the_rest() -> None:
    from fakes import SWITCH, FakeDevice, light_description

    import upnpy

    fake = FakeDevice({"/desc.xml": light_description("uuid:quirky"), "/scpd.xml": QUIRKY})
    fake.answer("/ctl", SWITCH, "Good", [("Level", "7")])
    try:
        with upnpy.Device(fake.url + "/desc.xml") as device:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                assert device.SwitchPower.Good() == {"Level": 7}
            assert caught == []  # the used action is plain; the odd one is not read yet
            with pytest.warns(UPnPWarning) as listed:
                assert list(device.SwitchPower.actions) == ["Good", "Odd"]
            messages = " ".join(str(w.message) for w in listed)
            assert "sideways" in messages and "quaternion" in messages
            assert device.SwitchPower.Good() == {"Level": 7}  # the same action object
            assert device.SwitchPower["Good"] is device.SwitchPower.actions["Good"]
        assert len(fake.gets("/scpd.xml")) == 1  # fetched once for both readings
    finally:
        fake.close()


def test_a_first_call_of_an_odd_action_reads_the_whole_scpd() -> None:
    from fakes import SWITCH, FakeDevice, light_description

    import upnpy

    fake = FakeDevice({"/desc.xml": light_description("uuid:quirky"), "/scpd.xml": QUIRKY})
    fake.answer("/ctl", SWITCH, "Odd", [])
    try:
        with upnpy.Device(fake.url + "/desc.xml") as device:
            with pytest.warns(UPnPWarning) as caught:
                action = device.SwitchPower.Odd
            messages = " ".join(str(w.message) for w in caught)
            assert "sideways" in messages and "quaternion" in messages  # the whole SCPD's
            assert [arg.direction for arg in action.in_arguments] == ["in"]
            with pytest.raises(AttributeError, match="has no action 'Missing'"):
                device.SwitchPower.Missing  # noqa: B018
    finally:
        fake.close()


# -- URLs: the shortcut for "/path" on a plain base is what urljoin gives ---------------------

_URL_TEXT = st.text(alphabet="/.:?#@[]%\\ \t-_~aZ09é\x7f", max_size=14)


@given(
    scheme=st.sampled_from(["http", "HTTP", "https", "ftp", ""]),
    absolute=st.booleans(),
    host=st.sampled_from(["h", "h:80", "u:p@h:5", "[::1]:5", "[::1", "é", "h\t", ""]),
    path=_URL_TEXT,
    ref=st.one_of(_URL_TEXT, _URL_TEXT.map(lambda text: "/" + text)),
)
@settings(max_examples=400, deadline=None)
def test_joining_a_url_is_urljoin(
    scheme: str, absolute: bool, host: str, path: str, ref: str
) -> None:
    base = f"{scheme}://{host}{path}" if scheme else host + path
    if absolute:  # the reference is the absolute URL, the base another one
        base, ref = "http://b/x", base
    try:
        want = urljoin(base, ref)
    except ValueError:
        want = "refused"

    def refused(message: str, url: str) -> None:
        raise ValueError(message)

    try:
        got = _description._join(base, ref, "", refused)
    except ValueError:
        got = "refused"
    assert got == want


# -- generated documents: the two paths agree on what either reads ----------------------------

_TEXTS = st.sampled_from(
    ["x", " urn:a:b:1 ", "/ctl", "http://h/p", "", "a&amp;b", "<![CDATA[c]]>", "5", "yes",
     "NO", "in", "OUT", "ui4", "Ui2", "string", "-3", "1e3", "0x1", "\u00e9", "a<!-- c -->b",
     "&#x41;", "\t\n"]
)  # fmt: skip
_NAMES = st.sampled_from(["", "", "", "d:", "x:"])  # d: declared on the root, x: in place


def _element(name: st.SearchStrategy[str], inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(_NAMES, name, inner).map(
        lambda t: (
            f"<{t[0]}{t[1]}>{t[2]}</{t[0]}{t[1]}>"
            if t[0] != "x:"
            else f'<x:{t[1]} xmlns:x="urn:x">{t[2]}</x:{t[1]}>'
        )
    )


def _record(fields: List[str], lists: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    field = _element(st.sampled_from([*fields, "other"]), _TEXTS)
    return st.lists(st.one_of(field, lists), max_size=7).map("".join)


_ARGUMENT = _record(["name", "direction", "relatedStateVariable", "retval"], st.just(""))
_ACTION = _record(
    ["name"],
    _element(
        st.just("argumentList"),
        st.lists(_element(st.just("argument"), _ARGUMENT), max_size=3).map("".join),
    ),
)
_VARIABLE = _record(
    ["name", "dataType", "defaultValue", "sendEventsAttribute"],
    st.one_of(
        _element(
            st.just("allowedValueList"),
            st.lists(_element(st.just("allowedValue"), _TEXTS), max_size=3).map("".join),
        ),
        _element(
            st.just("allowedValueRange"), _record(["minimum", "maximum", "step"], st.just(""))
        ),
    ),
)
_SCPD = st.tuples(
    st.lists(_element(st.just("action"), _ACTION), max_size=3).map("".join),
    st.lists(_element(st.just("stateVariable"), _VARIABLE), max_size=3).map("".join),
).map(
    lambda t: (
        '<?xml version="1.0"?><scpd xmlns="urn:schemas-upnp-org:service-1-0" xmlns:d="urn:d">'
        f"<actionList>{t[0]}</actionList><serviceStateTable>{t[1]}</serviceStateTable></scpd>"
    )
)
_SERVICE = _record(
    ["serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL"], st.just("")
)
_ICON = _record(["mimetype", "width", "height", "depth", "url"], st.just(""))
_DEVICE = _record(
    ["deviceType", "friendlyName", "UDN", "manufacturerURL", "presentationURL", "UPC"],
    st.one_of(
        _element(
            st.just("serviceList"),
            st.lists(_element(st.just("service"), _SERVICE), max_size=3).map("".join),
        ),
        _element(
            st.just("iconList"), st.lists(_element(st.just("icon"), _ICON), max_size=2).map("".join)
        ),
    ),
)
_DESCRIPTION = st.tuples(_element(st.just("URLBase"), _TEXTS), _DEVICE).map(
    lambda t: (
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:d="urn:d">'
        f"{t[0]}<device>{t[1]}</device></root>"
    )
)


@given(kind=st.sampled_from(["root", "scpd"]), data=st.data())
@settings(max_examples=300, deadline=None)
def test_generated_documents_read_alike(kind: str, data: st.DataObject) -> None:
    document = data.draw(_DESCRIPTION if kind == "root" else _SCPD).encode()
    url = LOCATION if kind == "root" else SCPD_URL
    got = fast(kind, document, url)
    if got is None:
        return
    want, warned = lenient(kind, document, url)
    assert not warned and got == want
    if kind == "scpd":
        index = _description.index_scpd(document, url)
        assert index is not None
        for name in index.actions:
            assert index.action(name) == got.actions[name]
