"""The canonical reader reads exactly what the lenient parser reads, or hands over.

Where :mod:`upnpy._canonical` accepts an SCPD or a description, the records built from it
must be the lenient parser's, which must not have warned (a document worth a warning is the
lenient parser's), and the tree reader's where it reads the document too; for an SCPD, the
first call's index must agree with them. Tried on every document the tests hold, on generated
documents of the canonical shape (any spacing, line ends, order and repetition of children,
vendor elements, nested devices), and on those documents mutated: text inserted, deleted or
replaced anywhere. And the canonical reader must really take the usual documents: every
capture of the lab's devices, and every generated one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple
from xml.etree import ElementTree

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_reader import DATA, SCPD_URL, documents, kind_of, lenient

from upnpy import _canonical, _description
from upnpy._reader import Node, Unusual
from upnpy._records import ScpdInfo


def records(read: Any, build: Callable[[Any, str], Any], url: str) -> Optional[Any]:
    """The records *build* makes of what a fast reader *read*, or ``None`` when it handed
    over or a record is worth a warning (then the lenient parser reads the document)."""
    if read is None:
        return None
    try:
        return build(read, url)
    except Unusual:
        return None


def lenient_agrees(kind: str, data: bytes, url: str, got: Any) -> None:
    """The lenient parser reads *got* from *data* too, and finds nothing worth a warning."""
    want, warned = lenient(kind, data, url)
    assert not warned, f"the canonical reader read a document worth a warning: {warned}"
    assert got == want


def check_agreement(data: bytes) -> Optional[ScpdInfo]:
    """What the canonical reader reads of *data*, checked against the other readers."""
    got = records(_canonical.split(data), _description._canonical_scpd, SCPD_URL)
    if got is None:
        return None
    lenient_agrees("scpd", data, SCPD_URL, got)
    tree = records(_description.SCPD.read(data), _description._fast_scpd, SCPD_URL)
    assert tree in (None, got)
    index = _description.index_scpd(data, SCPD_URL)
    assert index is not None and list(index.actions) == list(got.actions)
    for name, action in got.actions.items():
        assert index.action(name) == action
        for argument in action.arguments:
            assert index.variable(argument.related_state_variable) == got.state_variables.get(
                argument.related_state_variable
            )
    return got


def documents_of(kind: str) -> List[Any]:
    """The test parameters ``(kind, data, url)`` of every document of *kind* the tests hold."""
    return [param for param in documents() if param.values[0] == kind]


def lab_captures(kind: str) -> List[Path]:
    """The captures of the lab's devices that are of *kind*."""
    return [
        path for path in sorted((DATA / "lab").glob("*.xml")) if kind_of(path.read_bytes()) == kind
    ]


SCPDS = documents_of("scpd")


@pytest.mark.parametrize(("kind", "data", "url"), SCPDS)
def test_every_scpd_is_read_alike_or_handed_over(kind: str, data: bytes, url: str) -> None:
    check_agreement(data)


LAB_SCPDS = lab_captures("scpd")


@pytest.mark.parametrize("path", LAB_SCPDS, ids=[path.name for path in LAB_SCPDS])
def test_every_lab_scpd_is_canonical(path: Any) -> None:
    data = path.read_bytes()
    assert _canonical.split(data) is not None
    assert check_agreement(data) is not None


def test_the_index_of_a_canonical_scpd_does_not_build_a_tree(monkeypatch: Any) -> None:
    data = (DATA / "lab" / "dms-ContentDir.xml").read_bytes()

    def no_tree(*args: Any) -> None:
        raise AssertionError("the tree reader was used")

    monkeypatch.setattr(_description.SCPD, "document", no_tree)
    index = _description.index_scpd(data, SCPD_URL)
    assert index is not None
    action = index.action("Browse")
    assert action is not None and [arg.name for arg in action.arguments][:2] == [
        "ObjectID",
        "BrowseFlag",
    ]
    variable = index.variable("A_ARG_TYPE_BrowseFlag")
    assert variable is not None
    assert variable.allowed_values == ("BrowseMetadata", "BrowseDirectChildren")
    assert variable.send_events is False


# -- generated documents of the canonical shape ----------------------------------------------

_SPACE = st.sampled_from(["", "", " ", "\n", "\r\n", "\r", "\t", "\n  ", " \r\n\t"])
_TEXT = st.sampled_from(
    ["x", " Level ", "Get Status", "", "abc def", "\t\n", "a\r\nb", "/ctl?x=1", "'quoted'",
     '"double"', "]]", "a=b", "http://h/p", "dup", "0", "-5"]
)  # fmt: skip
# Texts a record builder takes without a warning, most of the time: the documents must be
# read, not handed over, for the agreement to be checked.
_FIELD_TEXT = {
    "name": st.tuples(
        st.sampled_from(["", " ", "\r\n"]), st.from_regex(r"[A-Z][A-Za-z_]{1,8}", fullmatch=True)
    ).map("".join),
    "relatedStateVariable": st.sampled_from(["Level", "Target", " Level "]),
    "direction": st.sampled_from(["in", "out", " OUT ", "In"]),
    "dataType": st.sampled_from(["ui4", "string", " boolean ", "i2", "ui1"]),
    "minimum": st.sampled_from(["0", "-5", "1.5", " 10 "]),
    "maximum": st.sampled_from(["100", "255", "2.5e2"]),
    "step": st.sampled_from(["1", "5", " 2 "]),
}


def _text(name: str) -> st.SearchStrategy[str]:
    return _FIELD_TEXT.get(name, _TEXT)


def _leaf(name: str) -> st.SearchStrategy[str]:
    return st.tuples(_text(name), _SPACE).map(lambda t: f"<{name}>{t[0]}</{name}>{t[1]}")


def _children(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(*parts), max_size=6).map("".join)


_RETVAL = st.sampled_from(["<retval/>", "<retval />", "<retval>\n</retval>", "<retval></retval>"])
_ARGUMENT = _children(
    _leaf("name"), _leaf("direction"), _leaf("relatedStateVariable"), _RETVAL
).map(lambda inner: f"<argument>{inner}</argument>")
_ACTION = st.tuples(
    _SPACE,
    _text("name"),
    _SPACE,
    st.one_of(
        st.just(""),
        st.lists(st.tuples(_ARGUMENT, _SPACE).map("".join), max_size=4).map(
            lambda args: f"<argumentList>{''.join(args)}</argumentList>"
        ),
    ),
).map(lambda t: f"<action>{t[0]}<name>{t[1]}</name>{t[2]}{t[3]}</action>")
_VALUE_LIST = st.lists(_leaf("allowedValue"), max_size=3).map(
    lambda values: f"<allowedValueList>{''.join(values)}</allowedValueList>"
)
_VALUE_RANGE = _children(_leaf("minimum"), _leaf("maximum"), _leaf("step")).map(
    lambda inner: f"<allowedValueRange>{inner}</allowedValueRange>"
)
_VARIABLE = st.tuples(
    st.sampled_from(["", ' sendEvents="yes"', ' sendEvents="no"']),
    _SPACE,
    _text("name"),
    _SPACE,
    _children(_leaf("defaultValue"), _VALUE_LIST, _VALUE_RANGE),
    _leaf("dataType"),
    _children(_leaf("dataType"), _leaf("defaultValue"), _VALUE_LIST, _VALUE_RANGE),
).map(
    lambda t: (
        f"<stateVariable{t[0]}>{t[1]}<name>{t[2]}</name>{t[3]}{t[4]}{t[5]}{t[6]}</stateVariable>"
    )
)
_SCPD = st.tuples(
    st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>\r\n']),
    st.sampled_from(["<scpd>", '<scpd xmlns="urn:schemas-upnp-org:service-1-0">']),
    st.sampled_from(["", "<specVersion><major>1</major>\n<minor>0</minor></specVersion>"]),
    st.lists(st.tuples(_ACTION, _SPACE).map("".join), max_size=4).map("".join),
    st.lists(st.tuples(_VARIABLE, _SPACE).map("".join), max_size=4).map("".join),
    _SPACE,
).map(
    lambda t: (
        f"{t[0]}{t[5]}{t[1]}{t[5]}{t[2]}<actionList>{t[5]}{t[3]}</actionList>"
        f"<serviceStateTable>{t[4]}</serviceStateTable>{t[5]}</scpd>{t[5]}"
    ).encode()
)


def were_read(read: List[bool]) -> bool:
    """Whether a third of the generated documents made records without a warning, so that
    their agreement was checked, not skipped."""
    return len(read) >= 100 and sum(read) >= len(read) // 3


def test_generated_canonical_documents_are_read_alike() -> None:
    read: List[bool] = []

    @given(document=_SCPD)
    @settings(max_examples=300, deadline=None)
    def read_alike(document: bytes) -> None:
        assert _canonical.split(document) is not None  # the grammar takes the whole shape
        read.append(check_agreement(document) is not None)

    read_alike()
    assert were_read(read)


FIRSTS = b"""<?xml version="1.0"?>\r
<scpd xmlns="urn:schemas-upnp-org:service-1-0"><actionList><action><name>A</name>
<argumentList><argument><name>x</name><name>y</name><direction>in</direction>
<direction>out</direction><relatedStateVariable>V</relatedStateVariable></argument>
<argument><name>r</name><direction>out</direction><retval />
<relatedStateVariable>V</relatedStateVariable></argument></argumentList></action>
</actionList><serviceStateTable><stateVariable sendEvents="no"><name>V</name>
<dataType>ui4</dataType><dataType>string</dataType><defaultValue>7\r\n</defaultValue>
<allowedValueRange><minimum>1</minimum><minimum>2</minimum><maximum>9</maximum>
</allowedValueRange><allowedValueRange><minimum>5</minimum></allowedValueRange>
</stateVariable><stateVariable><name>W</name><dataType>string</dataType>
<allowedValueList><allowedValue> a </allowedValue></allowedValueList>
<allowedValueList><allowedValue>b</allowedValue></allowedValueList></stateVariable>
</serviceStateTable></scpd>"""


CRS = (
    b"<scpd><actionList><action><name>A</name><argumentList><argument><name>r</name>"
    b"<direction>out</direction><retval\r\n/><relatedStateVariable>V</relatedStateVariable>"
    b"</argument></argumentList></action></actionList><serviceStateTable><stateVariable>"
    b"<name>V</name><dataType>string</dataType><defaultValue>a\rb\r\nc</defaultValue>"
    b"<allowedValueList><allowedValue>a\rb\r\nc</allowedValue><allowedValue>\r</allowedValue>"
    b"</allowedValueList></stateVariable></serviceStateTable></scpd>"
)


def test_line_ends_are_read_as_xml_reads_them() -> None:
    """CR LF and a lone CR are LF in a text, and whitespace in a tag."""
    got = check_agreement(CRS)
    assert got is not None and got.actions["A"].arguments[0].retval
    variable = got.state_variables["V"]
    assert variable.default_value == "a\nb\nc" and variable.allowed_values == ("a\nb\nc", "")


def test_first_occurrences_and_every_list_as_in_the_other_readers() -> None:
    got = check_agreement(FIRSTS)
    assert got is not None
    x, r = got.actions["A"].arguments
    assert (x.name, x.direction, x.retval, r.retval) == ("x", "in", False, True)
    v, w = got.state_variables["V"], got.state_variables["W"]
    assert (v.data_type, v.default_value, v.minimum, v.maximum) == ("ui4", "7", 1, 9)
    assert v.send_events is False and w.send_events is True
    assert w.allowed_values == ("a", "b")


_INSERTS = st.sampled_from(
    ["<", ">", "&", "&amp;", "/", '"', "'", "\x00", "\x01", "\x0b", "\x1f", "\xe9", "\r", "<x/>",
     "<name>n</name>",
     "</action>", "<action>", "</argument>", "<argument>", "<!-- c -->", "<![CDATA[c]]>",
     "</stateVariable>", "<allowedValue>v</allowedValue>", "<retval/>", "<x:name>n</x:name>",
     "<?pi?>", " a", "\n", "]]>", "<scpd>"]
)  # fmt: skip


_EDITS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), _INSERTS), min_size=1, max_size=3)


def mutated(document: bytes, edits: List[Tuple[float, int, str]]) -> bytes:
    """*document* with each edit made: at a fraction of its length, so many characters cut,
    a text inserted; a draw that changes nothing is dropped."""
    text = document.decode()
    for where, cut, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut :]
    changed = text.encode("utf-8")
    assume(changed != document)
    return changed


@given(document=_SCPD, edits=_EDITS)
@settings(max_examples=400, deadline=None)
def test_mutated_documents_are_read_alike_or_handed_over(
    document: bytes, edits: List[Tuple[float, int, str]]
) -> None:
    check_agreement(mutated(document, edits))


@pytest.mark.parametrize("path", LAB_SCPDS, ids=[path.name for path in LAB_SCPDS])
def test_a_lab_scpd_cut_anywhere_is_handed_over(path: Any) -> None:
    data = path.read_bytes()
    for end in range(0, len(data), max(1, len(data) // 97)):
        if data[:end].strip() != data.strip():
            assert _canonical.split(data[:end]) is None


def test_a_lone_empty_allowed_value_is_one_value_in_every_reader() -> None:
    lone = FIRSTS.replace(b"<allowedValue> a </allowedValue>", b"<allowedValue></allowedValue>")
    lone = lone.replace(b"<allowedValueList><allowedValue>b</allowedValue></allowedValueList>", b"")
    got = check_agreement(lone)  # the lenient parser read no value at all, once
    assert got is not None and got.state_variables["W"].allowed_values == ("",)


FORBIDDEN = [chr(code) for code in range(32) if chr(code) not in "\t\n\r"] + [
    "&",
    ">",
    "\x7f\u00e9",
    "\u00a0",
    "\u2028",
]


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c[-1]):04X}" for c in FORBIDDEN])
def test_what_xml_or_the_shape_forbids_is_handed_over(char: str) -> None:
    """In a text, and between elements: a character XML refuses, a reference, a ">" (the
    grammar's texts have none), anything not ASCII."""
    inside = FIRSTS.replace(b"<name>W</name>", b"<name>W" + char.encode() + b"</name>", 1)
    between = FIRSTS.replace(b"</dataType>", b"</dataType>" + char.encode(), 1)
    assert inside != FIRSTS and between != FIRSTS
    assert _canonical.split(inside) is None and _canonical.split(between) is None
    assert _canonical.split(FIRSTS) is not None


IN_A_VALUE = [*FORBIDDEN, '"']


@pytest.mark.parametrize("char", IN_A_VALUE, ids=[f"U+{ord(c[-1]):04X}" for c in IN_A_VALUE])
def test_what_xml_forbids_in_the_namespace_is_handed_over(char: str) -> None:
    changed = FIRSTS.replace(b"service-1-0", b"service" + char.encode() + b"-1-0", 1)
    assert changed != FIRSTS and _canonical.split(changed) is None


# -- device descriptions ----------------------------------------------------------------------

DESCRIPTION_URL = "http://127.0.0.1:49152/desc.xml"


def described(data: bytes) -> Optional[Any]:
    """The records read from *data* by the canonical reader, or ``None`` when it hands over."""
    return records(_canonical.description(data), _description._fast_root, DESCRIPTION_URL)


def check_description(data: bytes) -> Optional[Any]:
    """What the canonical reader reads of the description *data*, checked as SCPDs are."""
    mine = _canonical.description(data)
    got = records(mine, _description._fast_root, DESCRIPTION_URL)
    if got is None:
        return None
    lenient_agrees("root", data, DESCRIPTION_URL, got)
    node = _description.DESCRIPTION.read(data)
    if node is not None:
        assert _description._fast_root(node, DESCRIPTION_URL) == got
        assert shape(mine) == shape(node)  # the very same nodes
    return got


def shape(node: Any) -> Any:
    """A node's emptiness, fields and items, its items' in turn: what two readers agree on."""
    if not isinstance(node, Node):
        return node
    items = {kind: [shape(item) for item in items] for kind, items in node.items.items()}
    return node.empty, node.fields, items


DESCRIPTIONS = documents_of("root")


@pytest.mark.parametrize(("kind", "data", "url"), DESCRIPTIONS)
def test_every_description_is_read_alike_or_handed_over(kind: str, data: bytes, url: str) -> None:
    check_description(data)


LAB_ROOTS = lab_captures("root")


@pytest.mark.parametrize("path", LAB_ROOTS, ids=[path.name for path in LAB_ROOTS])
def test_every_lab_description_is_canonical(path: Any) -> None:
    assert check_description(path.read_bytes()) is not None


def _fields(names: Tuple[str, ...]) -> st.SearchStrategy[str]:
    leaf = st.tuples(st.sampled_from(names), _TEXT, _SPACE, st.booleans()).map(
        lambda t: f"<{t[0]}{t[2]}/>" if t[3] and not t[1] else f"<{t[0]}>{t[1]}</{t[0]}>{t[2]}"
    )
    return st.lists(leaf, max_size=6).map("".join)


_OTHER = st.sampled_from(
    ['<dlna:X_DLNADOC xmlns:dlna="urn:schemas-dlna-org:device-1-0">DMS-1.50</dlna:X_DLNADOC>',
     "<X_vendor>v</X_vendor>", "<UDNx>u</UDNx>", "<friendlyNameX>f</friendlyNameX>",
     "<sec:x xmlns:sec=\"urn:s\"></sec:x>", ""]
)  # fmt: skip
_ICONS = st.lists(
    _fields(("mimetype", "width", "height", "depth", "url")).map(lambda f: f"<icon>{f}</icon>"),
    max_size=2,
).map(lambda icons: f"<iconList>{''.join(icons)}</iconList>")
_SERVICE_TEXT = {
    "serviceType": st.sampled_from(["urn:schemas-upnp-org:service:S:1", " urn:x:service:T:2 "]),
    "SCPDURL": st.sampled_from(["/s.xml", "s.xml", "http://127.0.0.1:5/x"]),
    "controlURL": st.sampled_from(["/c", "/ctl/IPConn", " /c?a=b "]),
}


def _service() -> st.SearchStrategy[str]:
    parts = [
        st.tuples(st.just(name), _SERVICE_TEXT.get(name, _TEXT))
        for name in ("serviceType", "serviceId", "SCPDURL", "controlURL", "eventSubURL")
    ]
    return st.lists(st.one_of(*parts), min_size=1, max_size=6).map(
        lambda leaves: (
            "<service><serviceType>urn:x:service:S:1</serviceType>"
            + "".join(f"<{name}>{text}</{name}>\n" for name, text in leaves)
            + "</service>"
        )
    )


_SERVICES = st.lists(_service(), max_size=3).map(
    lambda services: f"<serviceList>\r\n{''.join(services)}</serviceList>"
)


def _device(levels: int) -> st.SearchStrategy[str]:
    parts = [_fields(("friendlyName", "manufacturer", "UDN", "UPC", "modelName")), _OTHER]
    parts += [_ICONS, _SERVICES]
    if levels > 1:
        parts.append(
            st.lists(_device(levels - 1), max_size=2).map(
                lambda devices: f"<deviceList>{''.join(devices)}</deviceList>"
            )
        )
    return st.lists(st.one_of(*parts), max_size=5).map(
        lambda children: (
            "<device><deviceType>urn:x:device:D:1</deviceType>" + "\n".join(children) + "</device>"
        )
    )


_DESCRIPTION = st.tuples(
    st.sampled_from(["", '<?xml version="1.0"?>\r\n']),
    st.sampled_from(
        [
            "<root>",
            '<root xmlns="urn:schemas-upnp-org:device-1-0">',
            '<root xmlns="urn:schemas-upnp-org:device-1-0" configId="7">',
        ]
    ),
    st.sampled_from(["", "<specVersion><major>1</major><minor>1</minor></specVersion>"]),
    st.sampled_from(["", "<URLBase>http://127.0.0.1:7/</URLBase>"]),
    _device(3),
    st.sampled_from(["", "<URLBase>http://127.0.0.1:8/b/</URLBase>"]),
    _SPACE,
).map(lambda t: f"{t[0]}{t[1]}{t[6]}{t[2]}{t[3]}{t[4]}{t[6]}{t[5]}</root>{t[6]}".encode())


def test_generated_canonical_descriptions_are_read_alike() -> None:
    read: List[bool] = []

    @given(document=_DESCRIPTION)
    @settings(max_examples=200, deadline=None)
    def read_alike(document: bytes) -> None:
        assert _canonical.description(document) is not None
        read.append(check_description(document) is not None)

    read_alike()
    assert were_read(read)


# The SCPD's edits, and device tags: the description's grammar places those in pairs.
_DEVICE_EDITS = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.integers(0, 12),
        _INSERTS
        | st.sampled_from(
            ["<device>", "</device>", "<deviceList>", "</deviceList>", "</device><device>",
             "</device></deviceList>", "<deviceList><device>", "<deviceList></deviceList>"]
        ),
    ),
    min_size=1,
    max_size=3,
)  # fmt: skip


@given(document=_DESCRIPTION, edits=_DEVICE_EDITS)
@settings(max_examples=300, deadline=None)
def test_mutated_descriptions_are_read_alike_or_handed_over(
    document: bytes, edits: List[Tuple[float, int, str]]
) -> None:
    check_description(mutated(document, edits))


PLAIN = (DATA / "lab" / "dms-root.xml").read_bytes()


def changed_plain(change: Tuple[bytes, bytes]) -> bytes:
    """:data:`PLAIN` with the first occurrence of ``change[0]`` replaced: a different text."""
    changed = PLAIN.replace(*change, 1)
    assert changed != PLAIN
    return changed


@pytest.mark.parametrize(
    "change",
    [
        (b"<friendlyName>", b'<x:friendlyName xmlns:x="urn:x">x</x:friendlyName><friendlyName>'),
        (b"<friendlyName>", b'<xml:y xmlns:xml="urn:x">x</xml:y><friendlyName>'),
        (b"<friendlyName>", b"<url>u</url><friendlyName>"),
        (b"<friendlyName>", b"<x><y>nested</y></x><friendlyName>"),
        (b"<friendlyName>", b'<x a="1">attributes</x><friendlyName>'),
        (b"<friendlyName>", b"<!-- a comment --><friendlyName>"),
        (b'<root xmlns="urn:schemas-upnp-org:device-1-0">', b'<root xmlns:d="urn:d">'),
        (b"<icon>", b"<icon><x>x</x>"),
    ],
)
def test_what_the_shape_does_not_hold_is_handed_over(change: Tuple[bytes, bytes]) -> None:
    assert _canonical.description(changed_plain(change)) is None
    assert _canonical.description(PLAIN) is not None


@pytest.mark.parametrize("empty", [b"<device></device>", b"<device>\n </device>"])
def test_an_empty_device_is_handed_over(empty: bytes) -> None:
    """The lenient parser says what it makes of it."""
    assert described(b"<root>" + empty + b"</root>") is None
    embedded = b"<deviceList>" + empty + b"</deviceList></device>"
    changed = PLAIN.replace(b"</device>", embedded, 1)
    assert _canonical.description(changed) is not None and described(changed) is None


def test_devices_nested_deeper_than_the_grammar_are_handed_over() -> None:
    def nested(levels: int) -> bytes:
        device = b"<device><UDN>uuid:x</UDN></device>"
        for _ in range(levels - 1):
            device = b"<device><UDN>uuid:x</UDN><deviceList>" + device + b"</deviceList></device>"
        return b"<root>" + device + b"</root>"

    assert check_description(nested(_canonical.DEVICE_LEVELS)) is not None
    assert _canonical.description(nested(_canonical.DEVICE_LEVELS + 1)) is None


@pytest.mark.parametrize(
    "change",
    [
        (b"<friendlyName>", b"<friendlyName>a\rb\r\nc\r"),
        (b"<presentationURL>/</presentationURL>", b"<presentationURL\r\n/>"),
        (b"<device>", b"<URLBase>http://127.0.0.1:1/\ra</URLBase>\r<device>"),
        (b"<minor>", b"<minor>\r0\r"),
    ],
)
def test_line_ends_in_a_description_are_read_as_the_tree_reader_reads_them(
    change: Tuple[bytes, bytes],
) -> None:
    changed = changed_plain(change)
    node = _canonical.description(changed)
    assert node is not None and shape(node) == shape(_description.DESCRIPTION.read(changed))


def test_a_second_device_in_the_root_is_handed_over() -> None:
    """Well-formed, but a description has one root device."""
    document = b"<root><device><UDN>a</UDN></device><device><UDN>b</UDN></device></root>"
    assert _canonical.description(document) is None


@pytest.mark.parametrize(
    "document",
    [
        # the root's device closed inside itself, then its fields go on
        b"<root><device><UDN>a</UDN></device></deviceList><UDN>b</UDN></device></root>",
        # a device and a deviceList left open
        b"<root><device><UDN>a</UDN><deviceList><device><UDN>b</UDN><deviceList><device>"
        b"<UDN>c</UDN></device></deviceList></device></root>",
    ],
)
def test_device_tags_that_do_not_nest_are_handed_over(document: bytes) -> None:
    """Each device tag stands where the grammar lets it, but the tags do not nest."""
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(document)
    assert _canonical.description(document) is None


@pytest.mark.parametrize(
    "change",
    [
        (b"<icon>", b"<icon></icon><icon>"),
        (b"<icon>", b"<icon>\n </icon><icon>"),
        (b"<service>", b"<service> </service><service>"),
        (b"<iconList>", b"<iconList></iconList><iconList>"),
        (b"</device>", b"<deviceList></deviceList></device>"),
        (b"</device>", b"<deviceList><device>\n</device></deviceList></device>"),
    ],
)
def test_empty_parts_are_read_as_the_tree_reader_reads_them(change: Tuple[bytes, bytes]) -> None:
    """Whatever the records make of them (the lenient parser has the last word)."""
    changed = changed_plain(change)
    node = _canonical.description(changed)
    assert node is not None and shape(node) == shape(_description.DESCRIPTION.read(changed))
