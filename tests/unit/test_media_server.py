"""upnpy.MediaServer against a loopback server serving the lab's captured minidlna documents:
paging, the bounds of browse/walk/search against a server that never stops, and the faults.
The real minidlna is in tests/interop/test_media.py."""

import json
import xml.etree.ElementTree as ET
from typing import Callable, Dict, List, Tuple

import pytest
from fakes import FakeDevice, lab_documents, soap_fault, soap_response

import upnpy
from upnpy import _mediaserver
from upnpy._cli import main

CD = "urn:schemas-upnp-org:service:ContentDirectory:1"
CTL = "/ctl/ContentDir"
DMS_FILES = {
    "/rootDesc.xml": "dms-root.xml",
    "/ContentDir.xml": "dms-ContentDir.xml",
    "/ConnectionMgr.xml": "dms-ConnectionMgr.xml",
    "/X_MS_MediaReceiverRegistrar.xml": "dms-X_MS_MediaReceiverRegistrar.xml",
}
DIDL_OPEN = (
    '<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/">'
)


def sent(request) -> Dict[str, str]:
    body = ET.fromstring(request.body)[0][0]
    return {child.tag: child.text or "" for child in body}


def item(object_id: str, parent: str = "0") -> str:
    return (
        f'<item id="{object_id}" parentID="{parent}" restricted="1">'
        f"<dc:title>track {object_id}</dc:title>"
        "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
        f'<res protocolInfo="http-get:*:audio/x-wav:*" duration="0:01:00.000">'
        f"http://127.0.0.1:1/{object_id}.wav</res></item>"
    )


def container(object_id: str, parent: str = "0", count: int = 1) -> str:
    return (
        f'<container id="{object_id}" parentID="{parent}" restricted="1" childCount="{count}">'
        f"<dc:title>folder {object_id}</dc:title>"
        "<upnp:class>object.container.storageFolder</upnp:class>"
        "</container>"
    )


def page(objects: List[str], total: int) -> Tuple[int, bytes]:
    result = DIDL_OPEN + "".join(objects) + "</DIDL-Lite>"
    out = [("Result", result), ("NumberReturned", str(len(objects))), ("TotalMatches", str(total)),
           ("UpdateID", "1")]  # fmt: skip
    return 200, soap_response(CD, "Browse", out)


Tree = Callable[[str, int, int], Tuple[List[str], int]]


def serve(fake: FakeDevice, tree: Tree, action: str = "Browse") -> None:
    """Answer *action* with the page ``tree(object_id, start, count)`` gives."""

    def answer(request):
        args = sent(request)
        parent = args.get("ObjectID", args.get("ContainerID", ""))
        objects, total = tree(parent, int(args["StartingIndex"]), int(args["RequestedCount"]))
        status, body = page(objects, total)
        return status, body.replace(b"BrowseResponse", f"{action}Response".encode())

    fake.answers[(CTL, action)] = answer


@pytest.fixture
def fake():
    device = FakeDevice(lab_documents(DMS_FILES))
    yield device
    device.close()


@pytest.fixture
def server(fake):
    with upnpy.MediaServer(upnpy.Device(fake.url + "/rootDesc.xml", timeout=5)) as lib:
        yield lib


def starts(fake) -> List[Tuple[int, int]]:
    return [(int(a["StartingIndex"]), int(a["RequestedCount"])) for a in map(sent, fake.posts(CTL))]


def test_browse_reads_every_page(fake, server, monkeypatch):
    monkeypatch.setattr(_mediaserver, "PAGE_SIZE", 4)
    tracks = [item(str(n)) for n in range(10)]
    serve(fake, lambda parent, start, count: (tracks[start : start + count], len(tracks)))
    found = server.browse("0")
    assert [obj.id for obj in found] == [str(n) for n in range(10)]
    assert starts(fake) == [(0, 4), (4, 4), (8, 4)]  # ends at TotalMatches, not at a short page
    assert found[3].resources[0].duration == 60.0
    assert isinstance(found[0], upnpy.MediaItem)


def test_browse_without_total_matches_reads_until_a_short_page(fake, server, monkeypatch):
    monkeypatch.setattr(_mediaserver, "PAGE_SIZE", 4)
    tracks = [item(str(n)) for n in range(6)]
    serve(fake, lambda parent, start, count: (tracks[start : start + count], 0))
    assert len(server.browse("0")) == 6
    assert starts(fake) == [(0, 4), (4, 4)]


def test_browse_stops_at_the_limit_of_a_server_that_never_ends(fake, server, monkeypatch):
    """A hostile server: a full page every time, TotalMatches a billion."""
    monkeypatch.setattr(_mediaserver, "PAGE_SIZE", 5)
    monkeypatch.setattr(_mediaserver, "MAX_OBJECTS", 23)
    serve(fake, lambda parent, start, count: ([item(f"x{start + n}") for n in range(5)], 10**9))
    with pytest.warns(upnpy.UPnPWarning, match="cut at 23 objects"):
        found = server.browse("0")
    assert len(found) == 23
    assert len(server.browse("0", limit=7)) == 7  # an explicit limit: no warning


def test_browse_ends_at_an_empty_page(fake, server):
    serve(fake, lambda parent, start, count: ([], 10**9))  # claims more, sends none
    assert server.browse("0") == []
    assert len(fake.posts(CTL)) == 1


def test_walk_is_depth_first_and_skips_cycles(fake, server):
    children = {
        "0": [container("A"), container("B")],
        "A": [item("a1", "A"), container("A0", "A"), item("a2", "A")],
        "A0": [container("A", "A0"), item("deep", "A0")],  # a cycle back to A
        "B": [item("b1", "B")],
    }
    serve(fake, lambda parent, start, count: (children[parent][start:], len(children[parent])))
    assert [obj.id for obj in server.walk()] == ["A", "a1", "A0", "A", "deep", "a2", "B", "b1"]
    opened = [a["ObjectID"] for a in map(sent, fake.posts(CTL))]
    assert opened == ["0", "A", "A0", "B"]  # A, seen again under A0, is not opened twice


def test_walk_is_bounded_in_depth_and_count(fake, server):
    def endless(parent, start, count):  # every container holds a deeper one and an item
        return [container(parent + "/c", parent), item(parent + "/i", parent)], 2

    serve(fake, endless)
    shallow = list(server.walk(max_depth=3))
    assert [o.id for o in shallow if isinstance(o, upnpy.MediaContainer)] == [
        "0/c",
        "0/c/c",
        "0/c/c/c",
    ]
    assert len(list(server.walk(limit=5))) == 5


def test_walk_leaves_out_a_container_the_server_refuses(fake, server):
    def answer(request):
        if sent(request)["ObjectID"] == "A":
            return 500, soap_fault(701, "No such object")
        return page([container("A"), item("i")], 2)

    fake.answers[(CTL, "Browse")] = answer
    with pytest.warns(upnpy.UPnPWarning, match="container 'A' left out"):
        assert [o.id for o in server.walk()] == ["A", "i"]


def test_a_fault_of_the_container_browsed_is_raised(fake, server):
    fake.answers[(CTL, "Browse")] = (500, soap_fault(701, "No such object"))
    with pytest.raises(upnpy.ActionError) as info:
        server.browse("nope")
    assert info.value.code == 701


def test_unreadable_didl_is_a_didl_error(fake, server):
    out = [("Result", "<DIDL-Lite><item"), ("NumberReturned", "1"), ("TotalMatches", "1"),
           ("UpdateID", "1")]  # fmt: skip
    fake.answers[(CTL, "Browse")] = (200, soap_response(CD, "Browse", out))
    with pytest.raises(upnpy.DIDLError):
        server.browse("0")


def test_search_pages_and_sends_the_criteria(fake, server, monkeypatch):
    monkeypatch.setattr(_mediaserver, "PAGE_SIZE", 2)
    tracks = [item(str(n)) for n in range(3)]
    serve(fake, lambda parent, start, count: (tracks[start : start + count], 3), "Search")
    found = server.search('upnp:class derivedfrom "object.item.audioItem"')
    assert [o.id for o in found] == ["0", "1", "2"]
    first = sent(fake.posts(CTL)[0])
    assert first["SearchCriteria"] == 'upnp:class derivedfrom "object.item.audioItem"'
    assert first["ContainerID"] == "0"


def test_metadata_is_the_object_itself(fake, server):
    serve(fake, lambda parent, start, count: ([container(parent, "-1", 7)], 1))
    folder = server.metadata("64")
    assert isinstance(folder, upnpy.MediaContainer) and folder.child_count == 7
    assert sent(fake.posts(CTL)[0])["BrowseFlag"] == "BrowseMetadata"


def test_a_device_without_content_directory_is_refused(fake):
    fake.documents["/rootDesc.xml"] = fake.documents["/rootDesc.xml"].replace(
        b"ContentDirectory:1</serviceType>", b"Other:1</serviceType>"
    )
    with (
        upnpy.Device(fake.url + "/rootDesc.xml", timeout=5) as device,
        pytest.raises(upnpy.MediaError, match="not a MediaServer"),
    ):
        upnpy.MediaServer(device)


@pytest.mark.parametrize("limit", [-1, 1.5, True, "3"])
def test_a_bad_limit_is_a_value_error(server, limit):
    with pytest.raises(ValueError, match="limit"):
        server.browse("0", limit=limit)


def test_relative_urls_are_made_absolute_against_the_description(fake, server):
    relative = (
        '<item id="r" parentID="0" restricted="1"><dc:title>relative</dc:title>'
        "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
        "<upnp:albumArtURI>/getaa?s=1&amp;u=2</upnp:albumArtURI>"
        '<res protocolInfo="http-get:*:audio/mpeg:*">media/r.mp3</res></item>'
    )
    serve(fake, lambda parent, start, count: ([relative, item("abs")], 2))
    first, second = server.browse("0")
    assert first.album_art_url == fake.url + "/getaa?s=1&u=2"
    assert first.resources[0].url == fake.url + "/media/r.mp3"
    assert second.resources[0].url == "http://127.0.0.1:1/abs.wav"  # absolute: as sent


def test_walk_does_not_open_a_container_without_an_id(fake, server):
    nameless = (
        '<container parentID="0" restricted="1"><dc:title>no id</dc:title>'
        "<upnp:class>object.container</upnp:class></container>"
    )
    serve(fake, lambda parent, start, count: ([nameless, item("i")], 2))
    with pytest.warns(upnpy.UPnPWarning, match="id"):
        assert [o.title for o in server.walk()] == ["no id", "track i"]
    assert len(fake.posts(CTL)) == 1  # the root only


def test_the_browse_command_prints_a_table_and_json_lines(fake, capsys):
    children = [container("A", count=3), item("t1")]
    serve(fake, lambda parent, start, count: (children[start:], len(children)))
    assert main(["browse", fake.url + "/rootDesc.xml", "0"]) == 0
    header, folder, track = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "CLASS", "TITLE", "DURATION", "URL"]
    assert folder.split() == ["A", "storageFolder", "folder", "A", "3", "children"]
    assert track.split() == [
        "t1",
        "musicTrack",
        "track",
        "t1",
        "0:01:00",
        "http://127.0.0.1:1/t1.wav",
    ]
    assert main(["browse", fake.url + "/rootDesc.xml", "--json", "--limit", "1"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["child_count"] == 3 and json.loads(line)["container"] is True


def test_the_browse_table_shows_control_characters_escaped(fake, capsys):
    hostile = (
        '<item id="x" parentID="0"><dc:title>a\u009b2Jb&#10;c</dc:title>'
        "<upnp:class>object.item</upnp:class></item>"
    )
    serve(fake, lambda parent, start, count: ([hostile], 1))
    assert main(["browse", fake.url + "/rootDesc.xml"]) == 0
    _, row = capsys.readouterr().out.splitlines()  # one row: the line break did not split it
    assert r"a\x9b2Jb\nc" in row
