"""upnpy.MediaRenderer against a loopback renderer serving the lab's captured gmediarender
documents: the metadata play() sends, its fallbacks, times, seek targets, volume checks, and
events with LastChange expanded. The real gmediarender is in tests/interop/test_media_profile.py."""

import datetime
import xml.etree.ElementTree as ET
from typing import Dict, List
from xml.sax.saxutils import escape

import pytest
from fakes import FakeDevice, lab_documents, soap_fault, soap_response
from servers import Reply, Request

import upnpy
from upnpy import _renderer
from upnpy._subscription import Event

AVT = "urn:schemas-upnp-org:service:AVTransport:1"
RCS = "urn:schemas-upnp-org:service:RenderingControl:1"
AVT_CTL = "/upnp/control/rendertransport1"
RCS_CTL = "/upnp/control/rendercontrol1"
DMR_FILES = {
    "/description.xml": "dmr-root.xml",
    "/upnp/rendertransportSCPD.xml": "dmr-rendertransportSCPD.xml",
    "/upnp/renderconnmgrSCPD.xml": "dmr-renderconnmgrSCPD.xml",
    "/upnp/rendercontrolSCPD.xml": "dmr-rendercontrolSCPD.xml",
}


def sent(request) -> Dict[str, str]:
    body = ET.fromstring(request.body)[0][0]
    return {child.tag: child.text or "" for child in body}


def action_of(request) -> str:
    return request.headers["SOAPAction"].strip('"').rpartition("#")[2]


def calls(fake, path: str = AVT_CTL) -> List[tuple]:
    return [(action_of(r), sent(r)) for r in fake.posts(path)]


@pytest.fixture
def fake():
    documents = lab_documents(DMR_FILES)
    device = FakeDevice(documents)
    # the capture names the lab's address as URLBase: every URL must stay on loopback
    device.documents["/description.xml"] = documents["/description.xml"].replace(
        b"http://10.77.0.8:49494/", device.url.encode() + b"/"
    )
    for action in ("SetAVTransportURI", "Play", "Pause", "Stop", "Seek"):
        device.answer(AVT_CTL, AVT, action)
    for action in ("SetVolume", "SetMute"):
        device.answer(RCS_CTL, RCS, action)
    yield device
    device.close()


@pytest.fixture
def tv(fake):
    with upnpy.MediaRenderer(upnpy.Device(fake.url + "/description.xml", timeout=5)) as renderer:
        yield renderer


def serve_media(fake, status: int = 200, content_type: str = "audio/mpeg") -> None:
    """Answer HEAD as a media server would (the track's URL is on the fake too)."""
    plain = fake.handle

    def handle(request: Request, reply: Reply) -> None:
        if request.method == "HEAD":
            reply.send(status, b"", {"Content-Type": content_type})
        else:
            plain(request, reply)

    fake.handle = handle


def test_play_sets_the_uri_with_didl_lite_metadata_then_plays(fake, tv):
    tv.play("http://127.0.0.1:9/music/song%201.wav", mime_type="audio/x-wav")
    (set_uri, uri), (play, arguments) = calls(fake)
    assert (set_uri, play, arguments) == (
        "SetAVTransportURI",
        "Play",
        {"InstanceID": "0", "Speed": "1"},
    )
    assert uri["CurrentURI"] == "http://127.0.0.1:9/music/song%201.wav"
    (item,) = upnpy.parse_didl(uri["CurrentURIMetaData"])
    assert item.title == "song 1.wav"  # the file name, when no title is given
    assert item.upnp_class == "object.item.audioItem.musicTrack"
    assert item.resources[0].protocol_info == "http-get:*:audio/x-wav:*"
    assert item.resources[0].url == "http://127.0.0.1:9/music/song%201.wav"


def test_the_title_is_escaped_in_the_metadata(fake, tv):
    tv.play(
        "http://127.0.0.1:9/a.mp3?x=1&y=2", title='Tom & Jerry <"live">', mime_type="audio/mpeg"
    )
    metadata = calls(fake)[0][1]["CurrentURIMetaData"]
    (item,) = upnpy.parse_didl(metadata)
    assert item.title == 'Tom & Jerry <"live">'
    assert item.resources[0].url == "http://127.0.0.1:9/a.mp3?x=1&y=2"


def test_without_a_mime_type_the_media_url_is_asked_with_a_head(fake, tv):
    serve_media(fake, content_type="audio/mpeg; charset=binary")
    tv.play(fake.url + "/stream")
    assert [r.path for r in fake.requests("HEAD")] == ["/stream"]
    (item,) = upnpy.parse_didl(calls(fake)[0][1]["CurrentURIMetaData"])
    assert item.resources[0].protocol_info == "http-get:*:audio/mpeg:*"


@pytest.mark.parametrize(
    "status, content_type",
    [(404, "text/html"), (200, "nonsense"), (200, ""), (200, "audio/x:wav"), (200, "*/*"),
     (200, "audio/mp\u00e9g"), (200, "audio/mpeg extra")],
)  # fmt: skip
def test_a_failed_head_falls_back_to_the_extension(fake, tv, status, content_type):
    serve_media(fake, status, content_type)
    tv.play(fake.url + "/clip.mp4")
    (item,) = upnpy.parse_didl(calls(fake)[0][1]["CurrentURIMetaData"])
    assert item.resources[0].mime_type == "video/mp4"
    assert item.upnp_class == "object.item.videoItem"


def test_unknown_type_is_any(fake, tv):
    serve_media(fake, 404)
    tv.play(fake.url + "/noextension")
    (item,) = upnpy.parse_didl(calls(fake)[0][1]["CurrentURIMetaData"])
    assert item.resources[0].protocol_info == "http-get:*:*:*"
    assert item.upnp_class == "object.item"


@pytest.mark.parametrize("code", [402, 714])
def test_refused_metadata_is_retried_once_without(fake, tv, code):
    def refuse_metadata(request):
        if sent(request)["CurrentURIMetaData"]:
            return 500, soap_fault(code, "Illegal MIME-type")
        return 200, soap_response(AVT, "SetAVTransportURI", [])

    fake.answers[(AVT_CTL, "SetAVTransportURI")] = refuse_metadata
    tv.play("http://127.0.0.1:9/a.wav", mime_type="audio/x-wav")
    sets = [
        args["CurrentURIMetaData"] for action, args in calls(fake) if action == "SetAVTransportURI"
    ]
    assert len(sets) == 2 and sets[0] and sets[1] == ""
    assert calls(fake)[-1][0] == "Play"


def test_other_faults_are_not_retried(fake, tv):
    fake.answers[(AVT_CTL, "SetAVTransportURI")] = (500, soap_fault(716, "Resource not found"))
    with pytest.raises(upnpy.ActionError) as info:
        tv.play("http://127.0.0.1:9/a.wav", mime_type="audio/x-wav")
    assert info.value.code == 716
    assert [action for action, _ in calls(fake)] == ["SetAVTransportURI"]  # no Play either


def test_a_renderer_that_refuses_even_empty_metadata_raises(fake, tv):
    fake.answers[(AVT_CTL, "SetAVTransportURI")] = (500, soap_fault(714, "Illegal MIME-type"))
    with pytest.raises(upnpy.ActionError):
        tv.play("http://127.0.0.1:9/a.wav", mime_type="audio/x-wav")
    assert len(calls(fake)) == 2  # once with metadata, once without, then it gives up


def test_play_without_a_url_resumes(fake, tv):
    tv.play()
    assert [action for action, _ in calls(fake)] == ["Play"]


def position_info(fake, rel: str, duration: str) -> None:
    out = [("Track", "1"), ("TrackDuration", duration), ("TrackMetaData", ""), ("TrackURI", ""),
           ("RelTime", rel), ("AbsTime", "NOT_IMPLEMENTED"), ("RelCount", "2147483647"),
           ("AbsCount", "2147483647")]  # fmt: skip
    fake.answer(AVT_CTL, AVT, "GetPositionInfo", out)


@pytest.mark.parametrize(
    "rel, duration, position, length",
    [
        ("0:01:30", "0:03:00", 90.0, 180.0),
        ("0:00:01.500", "1:00:00", 1.5, 3600.0),
        ("0:00:00", "0:00:00", 0.0, None),  # nothing loaded: no duration
        ("NOT_IMPLEMENTED", "NOT_IMPLEMENTED", None, None),
    ],
)
def test_position_and_duration_are_seconds(fake, tv, rel, duration, position, length):
    position_info(fake, rel, duration)
    assert (tv.position, tv.duration) == (position, length)


def test_a_garbage_time_is_none_with_a_warning(fake, tv):
    position_info(fake, "soon", "0:01:00")
    with pytest.warns(upnpy.UPnPWarning, match="'soon'"):
        assert tv.position is None


def test_state(fake, tv):
    out = [("CurrentTransportState", "PAUSED_PLAYBACK"), ("CurrentTransportStatus", "OK"),
           ("CurrentSpeed", "1")]  # fmt: skip
    fake.answer(AVT_CTL, AVT, "GetTransportInfo", out)
    assert tv.state == "PAUSED_PLAYBACK"


@pytest.mark.parametrize(
    "position, target",
    [(90, "0:01:30"), (90.5, "0:01:30.5"), ("0:01:30", "0:01:30"), (" 1:02:03 ", "1:02:03"),
     (datetime.timedelta(minutes=2), "0:02:00"), (0, "0:00:00")],
)  # fmt: skip
def test_seek_targets(fake, tv, position, target):
    tv.seek(position)
    ((action, arguments),) = calls(fake)
    assert action == "Seek"
    assert arguments == {"InstanceID": "0", "Unit": "REL_TIME", "Target": target}


@pytest.mark.parametrize(
    "position", ["soon", -1, float("nan"), float("inf"), None, True, "1:99:00"]
)
def test_a_bad_seek_target_is_refused_before_anything_is_sent(fake, tv, position):
    with pytest.raises(upnpy.ValidationError):
        tv.seek(position)
    assert calls(fake) == []


def test_volume_and_mute_go_through_rendering_control(fake, tv):
    fake.answer(RCS_CTL, RCS, "GetVolume", [("CurrentVolume", "42")])
    fake.answer(RCS_CTL, RCS, "GetMute", [("CurrentMute", "1")])
    assert tv.volume == 42 and tv.muted is True
    tv.volume = 30
    tv.muted = False
    (set_volume, volume), (set_mute, mute) = [
        c for c in calls(fake, RCS_CTL) if c[0].startswith("Set")
    ]
    assert (set_volume, volume["Channel"], volume["DesiredVolume"]) == ("SetVolume", "Master", "30")
    assert (set_mute, mute["DesiredMute"]) == ("SetMute", "0")


@pytest.mark.parametrize("volume", [101, -1, 1.5, "loud"])
def test_a_volume_out_of_the_range_of_the_scpd_is_refused_before_sending(fake, tv, volume):
    with pytest.raises(upnpy.ValidationError):
        tv.volume = volume
    assert calls(fake, RCS_CTL) == []


def last_change(*variables: str) -> str:
    inner = "".join(variables)
    return escape(
        '<Event xmlns="urn:schemas-upnp-org:metadata-1-0/AVT/"><InstanceID val="0">'
        f"{inner}</InstanceID></Event>"
    )


def test_subscribe_merges_both_services_with_last_change_expanded():
    documents = lab_documents(DMR_FILES)
    change = last_change(
        '<TransportState val="PLAYING"/>',
        '<CurrentTrackDuration val="0:01:00"/>',
        '<Volume channel="Master" val="30"/>',
    )
    fake = FakeDevice(documents, initial={"LastChange": change})
    fake.documents["/description.xml"] = documents["/description.xml"].replace(
        b"http://10.77.0.8:49494/", fake.url.encode() + b"/"
    )
    try:
        with upnpy.Device(fake.url + "/description.xml", timeout=5) as device:
            tv = upnpy.MediaRenderer(device)
            with tv.subscribe() as sub:
                events = {e.service: e for e in (sub.get(timeout=5), sub.get(timeout=5))}
            assert set(events) == {"AVTransport", "RenderingControl"}
            avt = events["AVTransport"]
            assert avt.variables["TransportState"] == "PLAYING"
            assert avt.variables["CurrentTrackDuration"] == "0:01:00"
            assert "LastChange" not in avt.variables and "LastChange" in avt.raw  # raw kept
            assert events["RenderingControl"].variables["Volume"] == {"Master": 30}  # ui2
            assert avt.seq == 0 and avt.event.service is tv.av_transport
            assert fake.callbacks == {}  # both unsubscribed when the block ended
            with pytest.raises(upnpy.SubscriptionError):
                sub.get(timeout=0.1)
    finally:
        fake.close()


def test_an_unreadable_last_change_is_kept_as_text_with_a_warning(tv):
    text = "<Event><broken"
    now = datetime.datetime.now(datetime.timezone.utc)
    event = Event(tv.av_transport, "uuid:x", 3, {"LastChange": text}, {"LastChange": text}, now)
    with pytest.warns(upnpy.UPnPWarning, match="LastChange kept as text"):
        converted = _renderer.media_event(event)
    assert converted.variables == {"LastChange": text} and converted.seq == 3


def test_a_device_without_av_transport_is_refused(fake):
    fake.documents["/description.xml"] = fake.documents["/description.xml"].replace(
        b"AVTransport:1</serviceType>", b"Other:1</serviceType>"
    )
    with (
        upnpy.Device(fake.url + "/description.xml", timeout=5) as device,
        pytest.raises(upnpy.MediaError, match="not a MediaRenderer"),
    ):
        upnpy.MediaRenderer(device)


def test_a_refused_subscription_leaves_none_behind(fake, tv):
    plain = fake.handle

    def refuse_rendering_control(request: Request, reply: Reply) -> None:
        if request.method == "SUBSCRIBE" and request.path == "/upnp/event/rendercontrol1":
            reply.send(500)
        else:
            plain(request, reply)

    fake.handle = refuse_rendering_control
    with pytest.raises(upnpy.SubscriptionError):
        tv.subscribe()
    assert [r.method for r in fake.requests() if r.path == "/upnp/event/rendertransport1"] == [
        "SUBSCRIBE",
        "UNSUBSCRIBE",
    ]
    assert fake.callbacks == {}


def didl_item(res: str, title: str = "Song", upnp_class: str = "object.item.audioItem.musicTrack"):
    (item,) = upnpy.parse_didl(
        '<DIDL-Lite xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/">'
        f'<item id="9" parentID="1"><dc:title>{title}</dc:title>'
        f"<upnp:class>{upnp_class}</upnp:class>{res}</item></DIDL-Lite>"
    )
    return item


DLNA_INFO = (
    "http-get:*:audio/mpeg:DLNA.ORG_PN=MP3;DLNA.ORG_OP=01;"
    "DLNA.ORG_FLAGS=01700000000000000000000000000000"
)


def test_a_media_item_is_played_with_its_own_title_class_and_protocol_info(fake, tv):
    item = didl_item(
        '<res protocolInfo="rtsp-rtp-udp:*:audio/mpeg:*">rtsp://127.0.0.1:9/song</res>'
        f'<res protocolInfo="{DLNA_INFO}">http://127.0.0.1:9/song.mp3</res>'
    )
    tv.play(item)
    (_, uri), (play, _) = calls(fake)
    assert uri["CurrentURI"] == "http://127.0.0.1:9/song.mp3" and play == "Play"
    (sent_item,) = upnpy.parse_didl(uri["CurrentURIMetaData"])
    assert (sent_item.title, sent_item.upnp_class) == ("Song", "object.item.audioItem.musicTrack")
    assert sent_item.resources[0].protocol_info == DLNA_INFO
    assert fake.requests("HEAD") == []  # the server said what it is


def test_a_media_item_with_an_odd_protocol_info_gets_a_plain_one(fake, tv):
    with pytest.warns(upnpy.UPnPWarning):  # the server's protocolInfo lacks fields
        item = didl_item('<res protocolInfo="audio/mpeg">http://127.0.0.1:9/a.mp3</res>', "A")
    serve_media(fake, 404)
    tv.play(item, title="Chosen")
    (sent_item,) = upnpy.parse_didl(calls(fake)[0][1]["CurrentURIMetaData"])
    assert sent_item.title == "Chosen"
    assert sent_item.resources[0].protocol_info == "http-get:*:*:*"  # nothing better known


def test_a_media_item_without_a_web_resource_is_refused_before_sending(fake, tv):
    item = didl_item('<res protocolInfo="rtsp-rtp-udp:*:audio/mpeg:*">rtsp://127.0.0.1:9/s</res>')
    with pytest.raises(upnpy.ValidationError, match="no http"):
        tv.play(item)
    assert calls(fake) == []
