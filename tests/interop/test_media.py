"""upnpy against minidlna 1.3.0 (MediaServer:1, ContentDirectory:1)."""

import pytest
from labtools import raw_items

import upnpy


@pytest.fixture(scope="module")
def server(lab):
    with upnpy.Device(lab.dms_url) as device:
        yield device


def test_browse_finds_the_generated_tracks(server, lab):
    titles = [item["dc:title"] for item in raw_items(server)]
    expected = {f"upnpy-track-{n}" for n in range(1, lab.tracks + 1)}
    assert expected <= set(titles), titles


def test_system_update_id_is_an_int(server):
    assert isinstance(server.ContentDirectory.GetSystemUpdateID()["Id"], int)


def test_unknown_action_names_the_candidates(server):
    with pytest.raises(AttributeError) as info:
        server.ContentDirectory.Brows  # noqa: B018 - the lookup is what raises
    assert "Browse" in str(info.value)
