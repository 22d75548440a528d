"""upnpy against minidlna 1.3.0 (MediaServer:1, ContentDirectory:1)."""

import pytest
import xmltodict

import upnpy


@pytest.fixture(scope="module")
def server(lab):
    with upnpy.Device(lab.dms_url) as device:
        yield device


def browse(cd, object_id):
    reply = cd.Browse(
        ObjectID=object_id,
        BrowseFlag="BrowseDirectChildren",
        Filter="*",
        StartingIndex=0,
        RequestedCount=0,
        SortCriteria="",
    )
    assert isinstance(reply["NumberReturned"], int) and isinstance(reply["TotalMatches"], int)
    didl = xmltodict.parse(reply["Result"], force_list=("container", "item"))["DIDL-Lite"]
    return didl.get("container", []), didl.get("item", [])


def test_browse_finds_the_generated_tracks(server, lab):
    cd = server.ContentDirectory
    titles, queue, seen = [], ["0"], set()
    while queue and len(seen) < 50:
        object_id = queue.pop(0)
        seen.add(object_id)
        containers, items = browse(cd, object_id)
        queue += [c["@id"] for c in containers if c["@id"] not in seen]
        titles += [item["dc:title"] for item in items]
    expected = {f"upnpy-track-{n}" for n in range(1, lab.tracks + 1)}
    assert expected <= set(titles), titles


def test_system_update_id_is_an_int(server):
    assert isinstance(server.ContentDirectory.GetSystemUpdateID()["Id"], int)


def test_unknown_action_names_the_candidates(server):
    with pytest.raises(AttributeError) as info:
        server.ContentDirectory.Brows  # noqa: B018 - the lookup is what raises
    assert "Browse" in str(info.value)
