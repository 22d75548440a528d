"""Unit tests for upnpy._didl: DIDL-Lite read into records, durations, and the metadata written.

The samples are shaped like what minidlna 1.3, Gerbera, Kodi, Windows Media Player, Plex and
Sonos send (written from the ContentDirectory spec and those servers' formats, not captured):
minidlna writes one line per object, Gerbera indents, Kodi puts ``upnp:class`` last and
carries its own namespace, WMP nests markup in ``<desc>``, Sonos says ``restricted="true"``
and sends relative album-art URLs. The hostile cases (bombs, floods, nesting) are also in the
corpus (tests/corpus/didl/); here each quirk has a test that names what is read.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
import xml.etree.ElementTree as ET
from typing import List, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import upnpy
from upnpy import _soap
from upnpy._avtime import format_duration, parse_duration
from upnpy._didl import (
    MAX_DEPTH,
    MAX_DOCUMENT,
    MAX_OBJECTS,
    MediaContainer,
    MediaItem,
    MediaResource,
    parse_didl,
)
from upnpy._exceptions import DIDLError, UPnPError, UPnPWarning, ValidationError
from upnpy._metadata import didl_metadata, upnp_class_for

NS = (
    'xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/"'
)
DLNA = 'xmlns:dlna="urn:schemas-dlna-org:metadata-1-0/"'

MINIDLNA = (
    f"<DIDL-Lite {NS} {DLNA}>\n"
    '<container id="64$0" parentID="64" restricted="1" searchable="1" childCount="2">'
    "<dc:title>tones</dc:title><upnp:class>object.container.storageFolder</upnp:class>"
    "<upnp:storageUsed>-1</upnp:storageUsed></container>\n"
    '<item id="64$0$0" parentID="64$0" restricted="1"><dc:title>tone-440</dc:title>'
    "<upnp:class>object.item.audioItem.musicTrack</upnp:class><dc:creator>upnpy lab</dc:creator>"
    "<upnp:artist>upnpy lab</upnp:artist><upnp:album>Tones</upnp:album>"
    "<upnp:genre>Test</upnp:genre><upnp:originalTrackNumber>1</upnp:originalTrackNumber>"
    "<dc:date>2024-01-01</dc:date>"
    '<upnp:albumArtURI dlna:profileID="JPEG_TN">http://10.77.0.3:8200/AlbumArt/25-25.jpg'
    "</upnp:albumArtURI>"
    '<res size="5292044" duration="0:01:00.000" bitrate="88200" sampleFrequency="44100" '
    'nrAudioChannels="1" protocolInfo="http-get:*:audio/x-wav:DLNA.ORG_PN=WAV;DLNA.ORG_OP=01;'
    'DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000">'
    "http://10.77.0.3:8200/MediaItems/25.wav</res></item>\n"
    '<item id="64$0$1" parentID="64$0" restricted="1"><dc:title>tone-880</dc:title>'
    "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
    '<res size="2646044" duration="0:00:30.000" bitrate="88200" sampleFrequency="44100" '
    'nrAudioChannels="1" protocolInfo="http-get:*:audio/x-wav:DLNA.ORG_PN=WAV;DLNA.ORG_OP=01;'
    'DLNA.ORG_CI=0;DLNA.ORG_FLAGS=01700000000000000000000000000000">'
    "http://10.77.0.3:8200/MediaItems/26.wav</res></item>\n"
    "</DIDL-Lite>"
)

GERBERA = f"""<?xml version="1.0" encoding="UTF-8"?>
<DIDL-Lite {NS} xmlns:sec="http://www.sec.co.kr/" {DLNA}>
  <item id="1042" parentID="1041" restricted="1">
    <dc:title>  Intro (Live)  </dc:title>
    <upnp:class>object.item.audioItem.musicTrack</upnp:class>
    <upnp:album>Live at Home</upnp:album>
    <upnp:artist>The Band</upnp:artist>
    <upnp:artist role="AlbumArtist">Various</upnp:artist>
    <upnp:genre>Rock</upnp:genre>
    <dc:creator>The Band</dc:creator>
    <upnp:originalTrackNumber>1</upnp:originalTrackNumber>
    <upnp:albumArtURI dlna:profileID="JPEG_TN">
      http://192.168.1.2:49494/content/media/object_id/1042/res_id/1/rh/6/ext/file.jpg
    </upnp:albumArtURI>
    <res protocolInfo="http-get:*:audio/mpeg:DLNA.ORG_PN=MP3;DLNA.ORG_OP=01" size="4008112"
         duration="00:03:25.110" bitrate="16000" sampleFrequency="44100" nrAudioChannels="2">
      http://192.168.1.2:49494/content/media/object_id/1042/res_id/0/ext/file.mp3
    </res>
    <res protocolInfo="http-get:*:image/jpeg:DLNA.ORG_PN=JPEG_TN" resolution="160x160">
      http://192.168.1.2:49494/content/media/object_id/1042/res_id/1/rh/6/ext/file.jpg
    </res>
    <sec:dcmInfo>CREATIONDATE=0</sec:dcmInfo>
  </item>
</DIDL-Lite>"""

KODI = (
    f'<DIDL-Lite {NS} {DLNA} xmlns:sec="http://www.sec.co.kr/" '
    'xmlns:xbmc="urn:schemas-xbmc-org:metadata-1-0/">'
    '<item id="videodb://movies/titles/12" parentID="videodb://movies/titles/" restricted="1">'
    "<dc:title>Big Buck Bunny</dc:title><dc:creator>Unknown</dc:creator>"
    "<upnp:genre>Animation</upnp:genre><upnp:director>Sacha Goedegebure</upnp:director>"
    "<dc:description>A giant rabbit &amp; three rodents.</dc:description>"
    "<dc:date>2008-05-20</dc:date><xbmc:rating>6.5</xbmc:rating><xbmc:votes>1003</xbmc:votes>"
    "<upnp:lastPlaybackPosition>0</upnp:lastPlaybackPosition>"
    '<upnp:albumArtURI dlna:profileID="JPEG_TN">http://192.168.1.5:1716/%25/6DA8/thumb.jpg'
    "</upnp:albumArtURI>"
    '<res duration="0:09:56.000" resolution="1920x1080" size="276134947" '
    'protocolInfo="http-get:*:video/mp4:DLNA.ORG_OP=01;DLNA.ORG_CI=0">'
    "http://192.168.1.5:1716/%25/2F29/bbb_1080p.mp4</res>"
    '<res protocolInfo="xbmc-get:*:video/mp4:*">smb://nas/movies/bbb_1080p.mp4</res>'
    "<upnp:class>object.item.videoItem.movie</upnp:class></item></DIDL-Lite>"
)

WMP = (
    f'<DIDL-Lite {NS} xmlns:microsoft="urn:schemas-microsoft-com:WMPNSS-1-0/" {DLNA}>'
    '<item id="{8A0A2C5B-1E41-4A65-A0A1-5A4F2F1C7A10}.0.4" restricted="1" parentID="4">'
    "<dc:title>Track One</dc:title>"
    "<microsoft:codec>{00000055-0000-0010-8000-00AA00389B71}</microsoft:codec>"
    '<upnp:artist role="AlbumArtist">Band</upnp:artist>'
    '<upnp:artist role="Performer">Singer</upnp:artist>'
    "<upnp:album>Album</upnp:album>"
    '<desc id="artist" nameSpace="urn:schemas-microsoft-com:WMPNSS-1-0/">'
    "<microsoft:artistAlbumArtist>Band</microsoft:artistAlbumArtist>"
    "<microsoft:artistPerformer>Singer &amp; Co</microsoft:artistPerformer></desc>"
    "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
    '<res size="3524132" duration="0:03:40.000" bitrate="16000" '
    'protocolInfo="http-get:*:audio/mpeg:DLNA.ORG_PN=MP3;DLNA.ORG_OP=01" sampleFrequency="44100" '
    'bitsPerSample="16" nrAudioChannels="2" '
    'microsoft:codec="{00000055-0000-0010-8000-00AA00389B71}">'
    "http://192.168.1.10:10243/WMPNSSv4/4037006489/0_ezhBMEEyQzVC.mp3</res></item></DIDL-Lite>"
)

PLEX = (
    f"<DIDL-Lite {NS} {DLNA}>"
    '<container id="4" parentID="0" restricted="1" childCount="2" searchable="0">'
    "<dc:title>Music</dc:title><upnp:class>object.container</upnp:class></container>"
    '<container id="5" parentID="0" restricted="1" childCount="13">'
    "<dc:title>Movies</dc:title><upnp:class>object.container.storageFolder</upnp:class>"
    "</container></DIDL-Lite>"
)

SONOS = (
    '<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" '
    'xmlns:r="urn:schemas-rinconnetworks-com:metadata-1-0/" '
    'xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/">'
    '<item id="Q:0/1" parentID="Q:0" restricted="true">'
    '<res protocolInfo="x-file-cifs:*:audio/mpeg:*" duration="0:04:12">'
    "x-file-cifs://nas/music/A%20Song.mp3</res>"
    "<r:streamContent></r:streamContent>"
    "<upnp:albumArtURI>/getaa?s=1&amp;u=x-file-cifs%3a%2f%2fnas%2fmusic%2fA%2520Song.mp3"
    "</upnp:albumArtURI><dc:title>A Song</dc:title>"
    "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
    "<dc:creator>The Band</dc:creator><upnp:album>The Album</upnp:album>"
    "<upnp:originalTrackNumber>3</upnp:originalTrackNumber>"
    "<r:albumArtist>The Band</r:albumArtist>"
    '<desc id="cdudn" nameSpace="urn:schemas-rinconnetworks-com:metadata-1-0/">'
    "RINCON_AssociatedZPUDN</desc></item></DIDL-Lite>"
)

SAMPLES = [MINIDLNA, GERBERA, KODI, WMP, PLEX, SONOS]


def read(document, **kwargs) -> Tuple[tuple, List[str]]:
    """parse_didl's result and the UPnPWarnings it gave (any other warning fails)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        objects = parse_didl(document, **kwargs)
    others = [w for w in caught if not issubclass(w.category, UPnPWarning)]
    assert not others, [str(w.message) for w in others]
    return objects, [str(w.message) for w in caught]


def item(body: str, attrs: str = 'id="1" parentID="0" restricted="1"') -> str:
    return f"<DIDL-Lite {NS}><item {attrs}>{body}</item></DIDL-Lite>"


TRACK = "<dc:title>T</dc:title><upnp:class>object.item.audioItem.musicTrack</upnp:class>"


def res(attrs: str, url: str = "http://h/a.mp3") -> str:
    return item(TRACK + f"<res {attrs}>{url}</res>")


# -- the shapes servers send ------------------------------------------------------------------


def test_minidlna_browse_of_a_container_and_its_items():
    objects, warned = read(MINIDLNA)
    assert warned == []
    folder, first, second = objects
    assert isinstance(folder, MediaContainer) and folder.is_container
    assert (folder.id, folder.parent_id, folder.title) == ("64$0", "64", "tones")
    assert folder.upnp_class == "object.container.storageFolder"
    assert (folder.child_count, folder.searchable, folder.restricted) == (2, True, True)
    assert folder.properties["upnp:storageUsed"] == ("-1",)
    assert isinstance(first, MediaItem) and not first.is_container
    assert (first.id, first.parent_id, first.title) == ("64$0$0", "64$0", "tone-440")
    assert first.upnp_class == "object.item.audioItem.musicTrack"
    assert (first.creator, first.artist, first.album, first.genre) == (
        "upnpy lab", "upnpy lab", "Tones", "Test",
    )  # fmt: skip
    assert first.album_art_url == "http://10.77.0.3:8200/AlbumArt/25-25.jpg"
    assert first.ref_id is None
    (wav,) = first.resources
    assert wav.url == "http://10.77.0.3:8200/MediaItems/25.wav"
    assert wav.protocol_info.startswith("http-get:*:audio/x-wav:DLNA.ORG_PN=WAV;")
    assert wav.mime_type == "audio/x-wav"
    assert (wav.size, wav.duration, wav.bitrate) == (5292044, 60.0, 88200)
    assert wav.attributes["sampleFrequency"] == "44100"
    assert wav.attributes["duration"] == "0:01:00.000"
    assert second.resources[0].duration == 30.0


def test_gerbera_indented_document():
    (track,), warned = read(GERBERA)
    assert warned == []
    assert track.title == "  Intro (Live)  "  # a title is kept as sent
    assert track.artist == "The Band"  # the first upnp:artist
    assert track.properties["upnp:artist"] == ("The Band", "Various")
    assert track.album_art_url == (
        "http://192.168.1.2:49494/content/media/object_id/1042/res_id/1/rh/6/ext/file.jpg"
    )  # stripped
    mp3, jpeg = track.resources
    assert mp3.url == "http://192.168.1.2:49494/content/media/object_id/1042/res_id/0/ext/file.mp3"
    assert mp3.duration == pytest.approx(205.11)
    assert (mp3.mime_type, jpeg.mime_type) == ("audio/mpeg", "image/jpeg")
    assert jpeg.duration is None and jpeg.attributes["resolution"] == "160x160"
    assert track.properties["sec:dcmInfo"] == ("CREATIONDATE=0",)


def test_kodi_movie_with_class_last_and_its_own_namespace():
    (movie,), warned = read(KODI)
    assert warned == []
    assert movie.id == "videodb://movies/titles/12"
    assert movie.upnp_class == "object.item.videoItem.movie"
    assert movie.properties["dc:description"] == ("A giant rabbit & three rodents.",)
    assert movie.properties["xbmc:rating"] == ("6.5",)
    http, smb = movie.resources
    assert (http.duration, http.size, http.mime_type) == (596.0, 276134947, "video/mp4")
    assert smb.url == "smb://nas/movies/bbb_1080p.mp4" and smb.duration is None


def test_wmp_markup_in_desc_and_prefixed_res_attribute():
    (track,), warned = read(WMP)
    assert warned == []
    assert track.parent_id == "4" and track.artist == "Band"
    assert track.properties["desc"] == (
        "<microsoft:artistAlbumArtist>Band</microsoft:artistAlbumArtist>"
        "<microsoft:artistPerformer>Singer &amp; Co</microsoft:artistPerformer>",
    )
    assert track.resources[0].attributes["codec"] == "{00000055-0000-0010-8000-00AA00389B71}"
    assert "microsoft:codec" in track.properties


def test_plex_containers():
    (music, movies), warned = read(PLEX)
    assert warned == []
    assert (music.child_count, music.searchable) == (2, False)
    assert (movies.child_count, movies.searchable) == (13, None)
    assert all(o.is_container and o.resources == () for o in (music, movies))


def test_sonos_queue_item():
    (track,), warned = read(SONOS)
    assert warned == []
    assert track.restricted is True  # "true", not "1"
    assert track.album_art_url == "/getaa?s=1&u=x-file-cifs%3a%2f%2fnas%2fmusic%2fA%2520Song.mp3"
    assert track.resources[0].duration == 252.0
    assert track.resources[0].mime_type == "audio/mpeg"
    assert track.properties["r:streamContent"] == ("",)
    assert track.properties["desc"] == ("RINCON_AssociatedZPUDN",)
    assert track.properties["r:albumArtist"] == ("The Band",)


@pytest.mark.parametrize("sample", SAMPLES)
def test_text_and_bytes_read_alike(sample):
    assert parse_didl(sample) == parse_didl(sample.encode("utf-8"))


# -- the records ------------------------------------------------------------------------------


def test_records_are_frozen_read_only_hashable_and_short_in_repr():
    folder, track, _ = parse_didl(MINIDLNA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        track.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        track.properties["dc:title"] = ("x",)  # type: ignore[index]
    with pytest.raises(TypeError):
        track.resources[0].attributes["size"] = "1"  # type: ignore[index]
    assert len({track, parse_didl(MINIDLNA)[1], folder}) == 2
    assert repr(track) == "MediaItem(id='64$0$0', title='tone-440')"
    assert repr(folder) == "MediaContainer(id='64$0', title='tones')"
    assert repr(track.resources[0]) == (
        "MediaResource(url='http://10.77.0.3:8200/MediaItems/25.wav', mime_type='audio/x-wav',"
        " size=5292044, duration=60.0)"
    )
    long = parse_didl(item(f"<dc:title>{'x' * 5000}</dc:title><upnp:class>x</upnp:class>"))[0]
    assert len(repr(long)) < 120


def test_records_can_be_built_by_hand():
    track = MediaItem("1", "0", "Song", "object.item.audioItem.musicTrack")
    assert track.resources == () and dict(track.properties) == {} and track.ref_id is None
    assert MediaContainer("0", "-1", "Root", "object.container", child_count=3).is_container
    assert MediaResource("http://h/x").protocol_info == ""


def plain(object_id: str, parent: str = "0") -> str:
    return (
        f'<item id="{object_id}" parentID="{parent}"><dc:title>{object_id}</dc:title>'
        "<upnp:class>object.item</upnp:class></item>"
    )


def test_objects_come_in_document_order_nested_ones_after_their_container():
    doc = (
        f"<DIDL-Lite {NS}>{plain('a')}"
        '<container id="b" parentID="0"><dc:title>B</dc:title>'
        f"<upnp:class>object.container</upnp:class>{plain('c', 'b')}</container>"
        f"{plain('d')}</DIDL-Lite>"
    )
    objects, _ = read(doc)
    assert [o.id for o in objects] == ["a", "b", "c", "d"]
    assert "item" not in objects[1].properties  # the nested item is no property of b


def test_ref_id_and_other_prefixes_for_known_namespaces():
    doc = (
        '<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" '
        'xmlns:d="http://purl.org/dc/elements/1.1/" '
        'xmlns:u="urn:schemas-upnp-org:metadata-1-0/upnp/">'
        '<item id="2" parentID="1" refID="9" restricted="0"><d:title>Ref</d:title>'
        "<u:class>object.item.audioItem</u:class><u:artist>X</u:artist></item></DIDL-Lite>"
    )
    (ref,), warned = read(doc)
    assert warned == []
    assert (ref.ref_id, ref.restricted, ref.title, ref.artist) == ("9", False, "Ref", "X")
    assert set(ref.properties) == {"dc:title", "upnp:class", "upnp:artist"}


def test_blank_optional_texts_are_none():
    objects, _ = read(item(TRACK + "<upnp:artist> </upnp:artist><upnp:album/>"))
    assert (objects[0].artist, objects[0].album) == (None, None)
    assert objects[0].properties["upnp:album"] == ("",)


# -- the quirks -------------------------------------------------------------------------------


def test_undeclared_prefixes_are_read_by_name_with_a_warning():
    doc = (
        '<DIDL-Lite><item id="1" parentID="0" restricted="1"><dc:title>No NS</dc:title>'
        "<upnp:class>object.item.audioItem.musicTrack</upnp:class>"
        '<upnp:albumArtURI dlna:profileID="JPEG_TN">http://h/a.jpg</upnp:albumArtURI>'
        '<res protocolInfo="http-get:*:audio/mpeg:*">http://h/a.mp3</res></item></DIDL-Lite>'
    )
    (track,), warned = read(doc)
    assert (track.title, track.upnp_class, track.album_art_url) == (
        "No NS", "object.item.audioItem.musicTrack", "http://h/a.jpg",
    )  # fmt: skip
    assert len(warned) == 1 and "undeclared namespace prefixes" in warned[0]
    assert "'dc'" in warned[0] and "(3 in all)" in warned[0]  # dc, upnp, dlna


def test_unprefixed_properties_are_read_by_local_name():
    doc = item("<title>Bare</title><class>object.item.videoItem</class>")
    (bare,), _ = read(doc)
    assert (bare.title, bare.upnp_class) == ("Bare", "object.item.videoItem")


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("<dc:title>Tom & Jerry</dc:title>", "Tom & Jerry"),
        ("<dc:title>Caf&eacute; &nbsp;</dc:title>", "Caf&eacute; &nbsp;"),
        ("<dc:title>A&#0;B &#xD800; &#65;</dc:title>", "A&#0;B &#xD800; A"),
        ("<dc:title>R&B &amp; Soul</dc:title>", "R&B & Soul"),
        ("<dc:title>&</dc:title>", "&"),
    ],
)
def test_bare_ampersands_and_unknown_references_are_read_as_text(body, title):
    (obj,), warned = read(item(body + "<upnp:class>object.item</upnp:class>"))
    assert obj.title == title
    assert any("bare '&'" in w for w in warned)


def test_bare_ampersands_in_attributes_and_urls():
    doc = res('protocolInfo="http-get:*:audio/mpeg:*" size="1"', "http://h/s?a=1&b=2")
    doc = doc.replace('id="1"', 'id="a&b"')
    (obj,), warned = read(doc)
    assert obj.id == "a&b" and obj.resources[0].url == "http://h/s?a=1&b=2"
    assert len(warned) == 1


def test_a_well_formed_document_is_not_repaired():
    doc = item(TRACK + "<upnp:album><![CDATA[Rock & Roll]]></upnp:album>")
    (obj,), warned = read(doc)
    assert obj.album == "Rock & Roll" and warned == []


@pytest.mark.parametrize("raw", ["1 min", "", "0:61:00", "NOT_IMPLEMENTED", "-0:00:01", "90"])
def test_a_bad_duration_is_none_kept_raw_and_named_in_a_warning(raw):
    (obj,), warned = read(res(f'protocolInfo="http-get:*:audio/mpeg:*" duration="{raw}"'))
    (resource,) = obj.resources
    assert resource.duration is None
    assert resource.attributes["duration"] == raw
    assert len(warned) == 1 and repr(raw) in warned[0] and "duration" in warned[0]


@pytest.mark.parametrize("name", ["size", "bitrate"])
@pytest.mark.parametrize("raw", ["12kB", "-1", "", "1.5", "²", "9" * 30])
def test_a_size_or_bitrate_that_is_no_number_is_none(name, raw):
    (obj,), warned = read(res(f'protocolInfo="http-get:*:audio/mpeg:*" {name}="{raw}"'))
    assert getattr(obj.resources[0], name) is None
    assert obj.resources[0].attributes[name] == raw
    assert len(warned) == 1 and name in warned[0]


def test_a_missing_id_and_parent_id_are_empty_with_warnings():
    (obj,), warned = read(item(TRACK, attrs='restricted="1"'))
    assert (obj.id, obj.parent_id) == ("", "")
    assert sorted(w.split(",")[0] for w in warned) == [
        "DIDL-Lite: objects without id",
        "DIDL-Lite: objects without parentID",
    ]


def test_an_object_with_neither_title_nor_class():
    doc = f'<DIDL-Lite {NS}><item id="1" parentID="0"/><container id="2" parentID="0"/></DIDL-Lite>'
    (thing, folder), warned = read(doc)
    assert (thing.title, thing.upnp_class) == ("", "object.item")
    assert (folder.title, folder.upnp_class, folder.is_container) == ("", "object.container", True)
    assert any("without a dc:title" in w and "(2 in all)" in w for w in warned)
    assert any("without a upnp:class" in w for w in warned)


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("False", False), (" 1 ", True)])
def test_booleans_in_every_spelling(raw, value):
    (obj,), warned = read(item(TRACK, attrs=f'id="1" parentID="0" restricted="{raw}"'))
    assert obj.restricted is value and warned == []


def test_unreadable_object_attributes_are_none_with_warnings():
    doc = (
        f'<DIDL-Lite {NS}><container id="1" parentID="0" restricted="maybe" childCount="many" '
        'searchable="2"><dc:title>F</dc:title><upnp:class>object.container</upnp:class>'
        "</container></DIDL-Lite>"
    )
    (folder,), warned = read(doc)
    assert (folder.restricted, folder.child_count, folder.searchable) == (None, None, None)
    assert folder.attributes["childCount"] == "many"
    assert len(warned) == 3


@pytest.mark.parametrize(
    ("attrs", "mime", "warns"),
    [
        ('protocolInfo="http-get:*:*:*"', None, False),
        ('protocolInfo="http-get:*:audio/L16;rate=44100;channels=2:DLNA.ORG_PN=LPCM"',
         "audio/L16;rate=44100;channels=2", False),
        ('protocolInfo="rtsp-rtp-udp:*:MP3:*"', None, False),
        ('protocolInfo="audio/mpeg"', None, True),
        ('protocolInfo=""', None, True),
        ('size="1"', None, True),
    ],
)  # fmt: skip
def test_mime_types_from_protocol_info(attrs, mime, warns):
    (obj,), warned = read(res(attrs))
    assert obj.resources[0].mime_type == mime
    assert bool(warned) is warns


def test_a_res_without_a_url():
    (obj,), warned = read(res('protocolInfo="http-get:*:audio/mpeg:*"', url="  "))
    assert obj.resources[0].url == "" and len(warned) == 1


def test_warnings_are_one_per_kind_and_counted():
    body = "".join(
        f'<item id="{i}" parentID="0"><dc:title>{i}</dc:title><upnp:class>object.item</upnp:class>'
        f'<res protocolInfo="http-get:*:audio/mpeg:*" duration="{i} s">http://h/{i}</res></item>'
        for i in range(500)
    )
    objects, warned = read(f"<DIDL-Lite {NS}>{body}</DIDL-Lite>")
    assert len(objects) == 500
    assert warned == ["DIDL-Lite: duration values that do not read, read as None: '0 s' (item '0')"
                      " (500 in all)"]  # fmt: skip


def test_the_warning_names_the_caller():
    with pytest.warns(UPnPWarning) as caught:
        parse_didl(res('protocolInfo="x" size="big"'))
    assert {w.filename for w in caught} == {__file__}


def test_elements_outside_objects_are_ignored():
    doc = f'<DIDL-Lite {NS}><desc id="x" nameSpace="urn:x">v</desc><odd>o</odd></DIDL-Lite>'
    objects, warned = read(doc)
    assert objects == () and len(warned) == 1 and "<odd>" in warned[0]


def test_garbage_around_the_document_and_in_it():
    garbage = (
        "\ufeffHTTP/1.1 200 OK\r\n\r\n" + MINIDLNA.replace("tone-440", "tone\x00-440") + "\0junk"
    )
    objects, warned = read(garbage.encode("utf-8"))
    assert [o.title for o in objects] == ["tones", "tone-440", "tone-880"]
    assert any("follows </DIDL-Lite>" in w for w in warned)


def test_text_declaring_another_encoding():
    doc = '<?xml version="1.0" encoding="UTF-16"?>' + item("<dc:title>é</dc:title>")
    objects, _ = read(doc)
    assert objects[0].title == "é"
    objects, _ = read("\ufeff \n" + doc)
    assert objects[0].title == "é"


def test_bytes_in_the_declared_encoding_and_undeclared_latin1():
    doc = item("<dc:title>café</dc:title><upnp:class>object.item</upnp:class>")
    declared = '<?xml version="1.0" encoding="ISO-8859-1"?>' + doc
    assert read(declared.encode("latin-1"))[0][0].title == "café"
    objects, warned = read(doc.encode("latin-1"))
    assert objects[0].title == "café" and any("ISO-8859-1" in w for w in warned)


def test_a_document_escaped_twice_is_unescaped_once():
    twice = MINIDLNA.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    objects, warned = read(twice)
    assert [o.id for o in objects] == ["64$0", "64$0$0", "64$0$1"]
    assert any("escaped twice" in w for w in warned)


@pytest.mark.parametrize("empty", ["", "  \r\n", b"", None])
def test_an_empty_document_is_no_objects(empty):
    objects, warned = read(empty)
    assert objects == () and len(warned) == 1


def test_an_empty_didl_lite_is_no_objects_without_a_warning():
    assert read(f"<DIDL-Lite {NS}></DIDL-Lite>") == ((), [])
    assert read(f"<DIDL-Lite {NS}/>") == ((), [])


# -- what is refused --------------------------------------------------------------------------

BOMB = (
    '<?xml version="1.0"?><!DOCTYPE DIDL-Lite [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10 if n > 1 else "&a;" * 10}">' for n in range(1, 10)
    )
    + "]>"
    + item("<dc:title>&a9;</dc:title>")
)


@pytest.mark.parametrize(
    "document",
    [
        BOMB,
        '<!DOCTYPE x SYSTEM "http://10.0.0.1/x.dtd">' + item(TRACK),
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + item("<dc:title>&e;</dc:title>"),
        "<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'/>",
        "<html><body>404</body></html>",
        MINIDLNA[:300],
        "PLAYING",
        b"\x00\xff\xfe\x80garbage\x01",
        bytes(range(256)),
        "<DIDL-Lite><item></DIDL-Lite>",
        ('<?xml version="1.0" encoding="x-unknown"?>' + item(TRACK)).encode(),
    ],
    ids=["bomb", "external-dtd", "xxe", "soap", "html", "truncated", "text", "binary",
         "all-bytes", "mismatched", "unknown-encoding"],
)  # fmt: skip
def test_what_is_no_didl_lite_is_a_didl_error(document):
    with pytest.raises(DIDLError) as info:
        read(document)
    assert isinstance(info.value, UPnPError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith("DIDL-Lite: ")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_error_is_exported_as_upnpy_didl_error():
    assert upnpy.DIDLError is DIDLError


def test_a_document_over_the_size_limit():
    big = item(f"<dc:title>{'x' * MAX_DOCUMENT}</dc:title>")
    for document in (big, big.encode()):
        with pytest.raises(DIDLError, match="limit"):
            parse_didl(document)
    with pytest.raises(DIDLError, match="100-byte limit"):
        parse_didl(MINIDLNA, max_size=100)
    assert len(MINIDLNA.encode()) < MAX_DOCUMENT  # and the same document reads by default


def test_a_text_over_the_limit_in_bytes_but_not_in_characters():
    doc = item(f"<dc:title>{'é' * 600}</dc:title>")
    assert len(doc) < 1000 < len(doc.encode())
    with pytest.raises(DIDLError, match="limit"):
        parse_didl(doc, max_size=1000)


def test_the_size_limit_holds_a_whole_soap_response():
    assert MAX_DOCUMENT >= _soap.MAX_RESPONSE


def flood(count: int) -> str:
    return f"<DIDL-Lite {NS}>" + "".join(plain(str(i)) for i in range(count)) + "</DIDL-Lite>"


def test_too_many_objects():
    assert len(parse_didl(flood(MAX_OBJECTS))) == MAX_OBJECTS
    with pytest.raises(DIDLError, match=f"more than {MAX_OBJECTS} objects"):
        parse_didl(flood(MAX_OBJECTS + 1))
    assert len(parse_didl(flood(3), limit=3)) == 3
    with pytest.raises(DIDLError, match="more than 2 objects"):
        parse_didl(flood(3), limit=2)


def test_a_flood_of_tiny_items_is_refused_before_it_is_read():
    doc = f"<DIDL-Lite {NS}>" + "<item/>" * 140_000 + "</DIDL-Lite>"  # ~1 MB
    with pytest.raises(DIDLError, match="objects"):
        parse_didl(doc)


@pytest.mark.parametrize(
    "document",
    [
        item("<dc:title>" + "<a>" * 10_000 + "x" + "</a>" * 10_000 + "</dc:title>"),
        f"<DIDL-Lite {NS}>" + '<container id="c">' * 1000 + "</container>" * 1000 + "</DIDL-Lite>",
        "<DIDL-Lite>" * 50_000,
    ],
    ids=["in-a-property", "containers", "unclosed"],
)
def test_deep_nesting_is_refused(document):
    with pytest.raises(DIDLError, match=r"nested|malformed"):
        parse_didl(document)


def test_nesting_up_to_the_limit_reads():
    depth = MAX_DEPTH - 3  # DIDL-Lite, item, dc:title
    doc = item("<upnp:x>" + "<a>" * depth + "v" + "</a>" * depth + "</upnp:x>" + TRACK)
    (obj,), _ = read(doc)
    assert obj.properties["upnp:x"] == ("<a>" * depth + "v" + "</a>" * depth,)


def test_a_lone_surrogate_in_text():
    with pytest.raises(DIDLError, match="not Unicode"):
        parse_didl(item("<dc:title>\udc80</dc:title>"))


def test_a_document_of_another_type_is_a_type_error():
    with pytest.raises(TypeError):
        parse_didl(42)  # type: ignore[arg-type]


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:01:00.000", 60.0),
        ("0:00:30", 30.0),
        ("00:03:25.110", 205.11),
        ("1:02:03", 3723.0),
        ("123:00:00", 442800.0),
        ("0:00:01.5", 1.5),
        ("0:00:01.1/4", 1.25),
        ("0:0:5", 5.0),
        (" 0:01:00 ", 60.0),
        ("3:25", 205.0),
        ("75:30", 4530.0),
        ("0:59:59.999", 3599.999),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    ["", "NOT_IMPLEMENTED", "1:60:00", "0:00:60", "-0:00:01", "+0:00:01", "90", "1.5",
     "0:00:01.4/4", "0:00:01.1/0", "0:00:01.", "1:2:3:4", "٣:٢٥", "0:01:00 ms", "9" * 70 + ":00",
     None],
)  # fmt: skip
def test_parse_duration_of_garbage_is_none(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0:00:00"),
        (90, "0:01:30"),
        (90.0, "0:01:30"),
        (90.25, "0:01:30.25"),
        (3723.5, "1:02:03.5"),
        (0.001, "0:00:00.001"),
        (3599.9996, "1:00:00"),
        (360000, "100:00:00"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1, -0.001, float("inf"), float("nan")])
def test_format_duration_refuses_what_is_no_duration(bad):
    with pytest.raises(ValueError):
        format_duration(bad)


@pytest.mark.parametrize("bad", ["90", None, True])
def test_format_duration_refuses_what_is_no_number(bad):
    with pytest.raises(TypeError):
        format_duration(bad)


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_durations_round_trip_to_the_millisecond(seconds):
    text = format_duration(seconds)
    assert re.fullmatch(r"[0-9]+:[0-5][0-9]:[0-5][0-9](\.[0-9]{1,3})?", text)
    assert parse_duration(text) == pytest.approx(round(seconds * 1000) / 1000, abs=1e-6)


# -- writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mime", "upnp_class"),
    [
        ("audio/mpeg", "object.item.audioItem.musicTrack"),
        ("AUDIO/FLAC", "object.item.audioItem.musicTrack"),
        ("video/mp4", "object.item.videoItem"),
        ("image/jpeg", "object.item.imageItem.photo"),
        ("application/ogg", "object.item"),
        ("audio", "object.item"),
        ("", "object.item"),
        (None, "object.item"),
    ],
)
def test_upnp_class_for(mime, upnp_class):
    assert upnp_class_for(mime) == upnp_class


DIDL_NS = "{urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/}"
DC = "{http://purl.org/dc/elements/1.1/}"
UPNP = "{urn:schemas-upnp-org:metadata-1-0/upnp/}"


def test_didl_metadata_is_namespaced_didl_lite():
    text = didl_metadata("http://10.0.0.2:8000/a.mp3", title="A", mime_type="audio/mpeg")
    assert not text.startswith("<?xml")
    root = ET.fromstring(text)  # namespace-aware: every prefix is declared
    assert root.tag == DIDL_NS + "DIDL-Lite"
    (element,) = list(root)
    assert element.tag == DIDL_NS + "item"
    assert element.attrib == {"id": "0", "parentID": "-1", "restricted": "1"}
    assert [child.tag for child in element] == [DC + "title", UPNP + "class", DIDL_NS + "res"]
    assert element.find(UPNP + "class").text == "object.item.audioItem.musicTrack"
    resource = element.find(DIDL_NS + "res")
    assert resource.attrib == {"protocolInfo": "http-get:*:audio/mpeg:*"}
    assert resource.text == "http://10.0.0.2:8000/a.mp3"


def test_didl_metadata_escapes():
    text = didl_metadata(
        'http://h/a?x=1&y="2"<', title="Tom & Jerry <live> \"x\" 'y'\r\n", item_id='a"&<>'
    )
    root = ET.fromstring(text)
    element = root[0]
    assert element.get("id") == 'a"&<>'
    assert element.find(DC + "title").text == "Tom & Jerry <live> \"x\" 'y'\r\n"
    assert element.find(DIDL_NS + "res").text == 'http://h/a?x=1&y="2"<'
    assert "&amp;" in text and "&lt;live&gt;" in text and "&#13;" in text


def test_didl_metadata_protocol_info_and_class():
    def parsed(**kwargs) -> MediaItem:
        (obj,) = parse_didl(didl_metadata("http://h/x", title="t", **kwargs))
        assert isinstance(obj, MediaItem)
        return obj

    plain = parsed()
    assert (plain.resources[0].protocol_info, plain.upnp_class) == ("http-get:*:*:*", "object.item")
    info = "http-get:*:video/mp4:DLNA.ORG_PN=AVC_MP4_BL_CIF15_AAC_520;DLNA.ORG_OP=01"
    given = parsed(protocol_info=info, mime_type="audio/mpeg")
    assert given.resources[0].protocol_info == info  # protocol_info wins for the res
    assert given.upnp_class == "object.item.audioItem.musicTrack"  # the MIME type for the class
    assert parsed(protocol_info=info).upnp_class == "object.item.videoItem"
    chosen = parsed(mime_type="video/mp4", upnp_class="object.item.videoItem.movie")
    assert chosen.upnp_class == "object.item.videoItem.movie"
    lpcm = parsed(mime_type="audio/L16;rate=44100;channels=2")
    assert lpcm.resources[0].mime_type == "audio/L16;rate=44100;channels=2"
    ids = parsed(item_id="x\ty\n", parent_id="p q")
    assert (ids.id, ids.parent_id) == ("x\ty\n", "p q")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"url": ""}, "url"),
        ({"url": "  "}, "url"),
        ({"url": "http://h/\x00"}, "url"),
        ({"mime_type": "mpeg"}, "mime_type"),
        ({"mime_type": "audio/mpeg:x"}, "mime_type"),
        ({"mime_type": "audio/mp eg"}, "mime_type"),
        ({"upnp_class": "object.container"}, "upnp_class"),
        ({"upnp_class": "musicTrack"}, "upnp_class"),
        ({"upnp_class": "object.item\n"}, "upnp_class"),
        ({"protocol_info": "audio/mpeg"}, "protocol_info"),
        ({"protocol_info": "http-get:*:audio/mpeg: x"}, "protocol_info"),
        ({"item_id": "\x01"}, "item_id"),
        ({"parent_id": "\ud800"}, "parent_id"),
    ],
)
def test_didl_metadata_refuses_what_it_cannot_send(kwargs, argument):
    arguments = {"url": "http://h/a.mp3", "title": "t", **kwargs}
    with pytest.raises(ValidationError) as info:
        didl_metadata(**arguments)
    assert info.value.argument == argument


def test_didl_metadata_type_errors():
    with pytest.raises(TypeError):
        didl_metadata("http://h/a.mp3", title=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        didl_metadata(b"http://h/a.mp3", title="t")  # type: ignore[arg-type]


def test_didl_metadata_drops_from_a_title_what_xml_cannot_carry():
    text = didl_metadata("http://h/a", title="a\x00b\x1fc\ud800d\ufffee\tf")
    assert parse_didl(text)[0].title == "abcde\tf"


def test_didl_metadata_is_sent_whole_through_soap():
    """The metadata is a string argument: SOAP escapes it once more, and it survives."""
    text = didl_metadata("http://h/a&b.mp3", title="<T & T>", mime_type="audio/mpeg")
    body = _soap.build_envelope("urn:schemas-upnp-org:service:AVTransport:1", "SetAVTransportURI",
                                [("InstanceID", "0"), ("CurrentURI", "http://h/a&b.mp3"),
                                 ("CurrentURIMetaData", text)])  # fmt: skip
    sent = ET.fromstring(body)[0][0].find("CurrentURIMetaData").text
    assert sent == text
    assert parse_didl(sent)[0].title == "<T & T>"


NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@settings(max_examples=300)
@given(title=st.text(), url=st.text(min_size=1), as_bytes=st.booleans())
def test_titles_and_urls_round_trip(title, url, as_bytes):
    try:
        text = didl_metadata(url, title=title)
    except ValidationError as exc:
        assert exc.argument == "url" and (NOT_XML.search(url) or not url.strip())
        return
    (obj,), warned = read(text.encode() if as_bytes else text)
    assert warned == []
    assert obj.title == NOT_XML.sub("", title)
    assert obj.resources[0].url == url.strip()
    assert obj.upnp_class == "object.item"
    assert obj.resources[0].protocol_info == "http-get:*:*:*"


MIME = st.from_regex(r"(audio|video|image|application)/[a-z0-9][a-z0-9.+-]{0,10}", fullmatch=True)


@given(
    mime=MIME,
    extra=st.from_regex(r"[A-Za-z0-9_.=;*-]{1,30}", fullmatch=True),
    ids=st.lists(
        st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn"))), min_size=2, max_size=2
    ),
)
def test_protocol_info_class_and_ids_round_trip(mime, extra, ids):
    info = f"http-get:*:{mime}:{extra}"
    text = didl_metadata(
        "http://h/x", title="t", protocol_info=info, item_id=ids[0], parent_id=ids[1]
    )
    (obj,) = parse_didl(text)
    assert obj.resources[0].protocol_info == info
    assert obj.resources[0].mime_type == mime
    assert obj.upnp_class == upnp_class_for(mime)
    assert (obj.id, obj.parent_id) == tuple(ids)


# -- whatever arrives -------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_any_input_gives_records_or_a_didl_error(document):
    try:
        objects, _ = read(document)
    except DIDLError:
        return
    assert all(isinstance(o, (MediaItem, MediaContainer)) for o in objects)


@settings(max_examples=200)
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.integers(0, 2000),
    splice=st.sampled_from(["&", "<", ">", '"', "</item>", "<item>", "<res>", "\x00", "&#0;",
                            "<!--", "]]>", "<![CDATA[", "é", "\udc80", "<dc:title/>", ":"]),
)  # fmt: skip
def test_spliced_samples_give_records_or_a_didl_error(sample, cut, splice):
    document = sample[:cut] + splice + sample[cut:]
    try:
        objects, _ = read(document)
    except DIDLError:
        return
    for obj in objects:
        assert isinstance(obj.title, str) and isinstance(obj.id, str)
        for resource in obj.resources:
            assert resource.duration is None or resource.duration >= 0
