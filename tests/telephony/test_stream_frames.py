"""The streaming protocol's per-frame shortcuts give what the full parser and the reference codec give:
media frames in Smartflo's own spelling are read without the JSON tree, and recordings are decoded by
table lookups."""

import json
from pathlib import Path

import pytest

from telephony import audio
from telephony.providers import smartflo_stream as protocol

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RECORDED_MEDIA = [line for line in (FIXTURES / "smartflo_stream_confirm.jsonl").read_text().splitlines() if '"media"' in line]


def test_recorded_media_frames_take_the_shortcut_and_read_as_the_full_parser_reads_them():
    assert len(RECORDED_MEDIA) > 10
    for line in RECORDED_MEDIA:
        respelled = json.dumps(json.loads(line))  # spaces after the separators: not the shortcut's shape
        assert protocol._MEDIA.fullmatch(line) and not protocol._MEDIA.fullmatch(respelled)
        frame = protocol.read(line)
        assert frame == protocol.read(respelled)
        assert (frame.event, len(frame.audio), frame.stream_id) == ("media", audio.FRAME_BYTES, "MZ1f4c2a9d0b7e43d7a1c0d2b3e4f5a6b7")


def test_what_the_sandbox_and_the_bench_send_takes_the_shortcut():
    text = protocol.inbound_media_text("MZsandbox1", 7, 6, protocol.payloads([audio.SILENCE])[0])
    assert protocol._MEDIA.fullmatch(text)
    assert protocol.read(text) == protocol.Frame("media", stream_id="MZsandbox1", sequence=7, audio=audio.SILENCE)


@pytest.mark.parametrize("payload", ["QUJ", "Q", "QUJD" * 600])
def test_a_media_frame_in_the_shortcuts_shape_with_bad_base64_is_still_refused(payload):
    with pytest.raises(protocol.BadFrame):
        protocol.read(protocol.inbound_media_text("S", 1, 1, payload))


def test_a_media_frame_with_more_than_the_shortcut_knows_is_read_in_full():
    text = '{"event":"media","sequenceNumber":"2","streamSid":"S","media":{"callSid":"C9","payload":"%s"}}' % (
        protocol.payloads([audio.SILENCE])[0])
    assert not protocol._MEDIA.fullmatch(text)
    assert protocol.read(text).call_id == "C9"


def test_decoding_every_code_matches_the_g711_reference():
    codes = bytes(range(256)) * 2
    assert list(audio.decode(codes)) == [audio._decode_code(code) for code in codes]
    assert list(audio.decode(bytearray(b"\xff\x80"))) == [0, 32124] and len(audio.decode(b"")) == 0
