"""upnpy._xml.Template: an answer read against the bytes of the last one gives exactly what
expat gives (leaf_texts), or None; never another reading."""

from typing import List, Optional, Set, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upnpy import _xml

PARENTS = ("Envelope", "Body", "GetXResponse")

# Leaf texts as devices send them, and as a hostile one might: markup, references, CR,
# "]]>", control characters, non-ASCII, quotes.
TEXTS = st.one_of(
    st.text(alphabet="0123456789abcXYZ .:-/_", max_size=12),
    st.sampled_from(["", " ", "\t\n", "a>b", "]]", "]]>", "<", "&amp;", "&#65;", "a\rb", "é"]),
    st.text(max_size=6),
)


@st.composite
def documents(draw: st.DrawFn) -> Tuple[bytes, List[str], Set[int]]:
    """A plain answer (any prefixes, declaration, spacing, attributes, <X/>), with one
    marker per leaf where its text goes; the texts to put there first; and the leaves with
    attributes (a template keeps their text as it learned it)."""
    space = draw(st.sampled_from(["", "\r\n", " ", "\n  "]))
    prefix = draw(st.sampled_from(["s:", "SOAP-ENV:", ""]))
    decl = draw(
        st.sampled_from(["", '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>'])
    )
    leaves, fixed = [], set()
    for index in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["Id", "NewX", "u:Y", "Result", "Id"]))
        kind = draw(st.sampled_from(["text", "text", "empty", "attrs"]))
        if kind == "empty":
            leaves.append(f"<{name}/>")
        elif kind == "attrs":
            fixed.add(index)
            leaves.append(f'<{name} dt="ui4">\x00{index}\x00</{name}>')
        else:
            leaves.append(f"<{name}{draw(st.sampled_from(['', ' ']))}>\x00{index}\x00</{name}>")
    body = space.join(leaves)
    doc = (
        f'{decl}{space}<{prefix}Envelope xmlns:s="urn:x" a="1">{space}<{prefix}Body>'
        f'<u:GetXResponse xmlns:u="urn:y">{space}{body}{space}</u:GetXResponse>'
        f"</{prefix}Body>{space}</{prefix}Envelope>{space}"
    )
    return doc.encode("utf-8"), [draw(TEXTS) for _ in leaves], fixed


def fill(doc: bytes, texts: List[str]) -> bytes:
    for index, text in enumerate(texts):
        doc = doc.replace(b"\x00%d\x00" % index, text.encode("utf-8"))
    return doc


def learned(data: bytes) -> Optional[_xml.Template]:
    holes: List[Optional[Tuple[int, int]]] = []
    texts = _xml.leaf_texts(data, PARENTS, markup=False, holes=holes)
    return None if texts is None else _xml.Template.learn(data, texts, holes)


def plain(text: str) -> bool:
    """Text a template reads: ASCII characters of XML, no markup, reference, CR or "]]>"."""
    characters = all(c in "\t\n" or " " <= c <= "\x7f" for c in text)
    return characters and not any(c in text for c in "<&") and "]]>" not in text


@settings(max_examples=500, deadline=None)
@given(documents())
def test_a_template_reads_what_expat_reads_or_nothing(document):
    doc, first, fixed = document
    template = learned(fill(doc, ["1"] * len(first)))  # every leaf has a plain text
    assert template is not None
    again = fill(doc, first)
    expected = _xml.leaf_texts(again, PARENTS, markup=False)
    got = template.read(again)
    assert got is None or got == expected
    same_fixed = all(first[index] == "1" for index in fixed)
    if same_fixed and all(
        plain(text) for text in first
    ):  # the usual case is read by the template, not left to expat
        assert got == expected


@settings(max_examples=300, deadline=None)
@given(documents(), st.integers(0, 10_000), st.binary(max_size=3), st.integers(0, 3))
def test_any_other_bytes_read_as_expat_reads_them_or_not_at_all(document, at, insert, cut):
    doc, first, _ = document
    template = learned(fill(doc, ["7"] * len(first)))
    assert template is not None
    base = fill(doc, ["8"] * len(first))
    at %= len(base) + 1
    mutated = base[:at] + insert + base[at + cut :]
    got = template.read(mutated)
    assert got is None or got == _xml.leaf_texts(mutated, PARENTS, markup=False)


def test_a_leaf_with_attributes_keeps_its_text_and_takes_no_hole():
    doc = (
        b'<Envelope><Body><GetXResponse><A t="1">fixed</A><B>2</B><C/></GetXResponse></Body>'
        b"</Envelope>"
    )
    template = learned(doc)
    assert template is not None
    assert template.read(doc.replace(b">2<", b">35<")) == [("A", "fixed"), ("B", "35"), ("C", "")]
    assert template.read(doc.replace(b">fixed<", b">other<")) is None


@pytest.mark.parametrize(
    "text",
    ["&amp;", "a\rb", "]]>", "<x/>", "é", "\x01"],
)
def test_a_text_that_is_not_plain_teaches_no_template(text):
    doc = (
        b"<Envelope><Body><GetXResponse><A>%s</A></GetXResponse></Body></Envelope>" % text.encode()
    )
    assert learned(doc) is None


def test_holes_are_the_bytes_between_the_tags():
    doc = (
        b"<Envelope><Body><GetXResponse><A>1</A><B/><C></C><D x='1'>2</D><F >3</F>"
        b"</GetXResponse></Body></Envelope>"
    )
    holes: List[Optional[Tuple[int, int]]] = []
    assert _xml.leaf_texts(doc, PARENTS, markup=False, holes=holes) is not None
    assert [doc[h[0] : h[1]] if h else None for h in holes] == [b"1", None, b"", None, b"3"]


def test_a_long_answer_teaches_no_template():
    text = "x" * _xml.TEMPLATE_MAX
    doc = b"<Envelope><Body><GetXResponse><A>%s</A></GetXResponse></Body></Envelope>"
    assert learned(doc % b"x") is not None
    assert learned(doc % text.encode()) is None


@pytest.mark.parametrize("tail", [b"x", b"<Other/>", b"</Envelope>", b"\x00"])
def test_bytes_after_the_learned_end_are_not_read_by_the_template(tail):
    doc = b"<Envelope><Body><GetXResponse><A>1</A></GetXResponse></Body></Envelope>"
    template = learned(doc)
    assert template is not None
    assert template.read(doc.replace(b">1<", b">2<")) == [("A", "2")]
    assert template.read(doc + tail) is None
    assert template.read(doc[:-1]) is None  # cut short
