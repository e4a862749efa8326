"""Audio load/encode: formats and subtypes kept, full scale respected, bad files refused with a reason."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from augcli.audio import io as audio_io
from augcli.audio import ogg
from tests.audio_signals import sine, write_audio

DEFAULTS = {"format": "same", "subtype": "same", "peak_normalize": False, "clip": True}


def decode_bytes(data: bytes) -> tuple[np.ndarray, sf._SoundFileInfo]:
    info = sf.info(io.BytesIO(data))
    samples, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.T, info


@pytest.mark.parametrize(
    ("name", "rate", "channels", "kwargs"),
    [
        ("a.wav", 16000, 1, {"subtype": "PCM_16"}),
        ("b.wav", 44100, 2, {"subtype": "PCM_24"}),
        ("c.wav", 8000, 1, {"subtype": "FLOAT"}),
        ("d.flac", 22050, 2, {"subtype": "PCM_16"}),
        ("e.ogg", 16000, 1, {"format": "OGG", "subtype": "VORBIS"}),
        ("f.aiff", 16000, 3, {"subtype": "PCM_16"}),
        ("g.mp3", 44100, 2, {"format": "MP3", "subtype": "MPEG_LAYER_III"}),
    ],
)
def test_a_copy_keeps_rate_channels_format_and_subtype(tmp_path, name, rate, channels, kwargs):
    path = write_audio(tmp_path / name, sine(440.0, rate, 0.2, channels=channels), rate, **kwargs)
    decoded = audio_io.load(path)
    assert decoded.samples.shape == (channels, round(rate * 0.2)) and decoded.samples.dtype == np.float32
    assert not decoded.samples.flags.writeable
    samples, info = decode_bytes(audio_io.encode(decoded.samples, decoded, DEFAULTS))
    original = sf.info(path)
    assert (info.samplerate, info.channels, info.format, info.subtype) == (
        original.samplerate,
        original.channels,
        original.format,
        original.subtype,
    )
    if original.subtype not in ("VORBIS", "MPEG_LAYER_III"):  # lossy: checked by shape and kind only
        assert np.allclose(samples, decoded.samples, atol=1 / 32768)


def test_output_options_change_format_and_subtype(tmp_path):
    decoded = audio_io.load(write_audio(tmp_path / "a.wav", sine(440.0, seconds=0.1), 16000, subtype="PCM_16"))
    _, info = decode_bytes(audio_io.encode(decoded.samples, decoded, {**DEFAULTS, "format": "flac"}))
    assert (info.format, info.subtype) == ("FLAC", "PCM_16")
    _, info = decode_bytes(audio_io.encode(decoded.samples, decoded, {**DEFAULTS, "subtype": "FLOAT"}))
    assert (info.format, info.subtype) == ("WAV", "FLOAT")
    # a subtype the target format cannot hold falls back to that format's default
    _, info = decode_bytes(audio_io.encode(decoded.samples, decoded, {**DEFAULTS, "format": "ogg"}))
    assert (info.format, info.subtype) == ("OGG", "VORBIS")
    assert audio_io.output_suffix(".wav", {**DEFAULTS, "format": "flac"}) == ".flac"
    assert audio_io.output_suffix(".WAV", DEFAULTS) == ".WAV"


def test_integer_subtypes_saturate_instead_of_wrapping(tmp_path):
    decoded = audio_io.load(write_audio(tmp_path / "a.wav", sine(440.0, seconds=0.1), 16000, subtype="PCM_16"))
    loud = np.array([[1.5, -1.5, 0.5, 2.0]], np.float32)
    data = audio_io.encode(loud, decoded, DEFAULTS)
    values, _ = sf.read(io.BytesIO(data), dtype="int16")
    assert values.tolist() == [32767, -32768, 16384, 32767]
    # clip: false does not make integers wrap either
    values, _ = sf.read(io.BytesIO(audio_io.encode(loud, decoded, {**DEFAULTS, "clip": False})), dtype="int16")
    assert values.tolist() == [32767, -32768, 16384, 32767]


def test_peak_normalize_keeps_the_shape_and_float_files_may_keep_overs(tmp_path):
    decoded = audio_io.load(write_audio(tmp_path / "a.wav", sine(440.0, seconds=0.1), 16000, subtype="FLOAT"))
    loud = np.array([[2.0, -1.0, 0.5]], np.float32)
    samples, _ = decode_bytes(audio_io.encode(loud, decoded, {**DEFAULTS, "peak_normalize": True}))
    assert samples.tolist() == [[1.0, -0.5, 0.25]]
    samples, _ = decode_bytes(audio_io.encode(loud, decoded, {**DEFAULTS, "clip": False}))
    assert samples.tolist() == [[2.0, -1.0, 0.5]]
    samples, _ = decode_bytes(audio_io.encode(loud, decoded, DEFAULTS))
    assert samples.tolist() == [[1.0, -1.0, 0.5]]
    quiet = np.array([[0.5, -0.25]], np.float32)  # under full scale: peak_normalize leaves it alone
    samples, _ = decode_bytes(audio_io.encode(quiet, decoded, {**DEFAULTS, "peak_normalize": True}))
    assert samples.tolist() == [[0.5, -0.25]]


def test_ogg_output_is_byte_identical_and_valid(tmp_path):
    decoded = audio_io.load(write_audio(tmp_path / "a.ogg", sine(440.0, seconds=0.5), 16000, format="OGG"))
    first = audio_io.encode(decoded.samples, decoded, DEFAULTS)
    assert first == audio_io.encode(decoded.samples, decoded, DEFAULTS)
    pages = [i for i in range(len(first)) if first.startswith(b"OggS", i)]
    assert len(pages) >= 3
    for at in pages:
        assert struct.unpack_from("<I", first, at + 14)[0] == ogg.SERIAL
    samples, _ = decode_bytes(first)  # libogg checks every page's CRC on the way in
    assert samples.shape == decoded.samples.shape


def test_ogg_page_crc_matches_libogg(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, sine(300.0, seconds=0.1).T, 16000, format="OGG")
    page = bytearray(buffer.getvalue()[:58])  # the first page: 27 header bytes + 1 segment table byte + 30
    stored = struct.unpack_from("<I", page, 22)[0]
    struct.pack_into("<I", page, 22, 0)
    assert ogg.page_crc(page) == stored


def test_bad_files_are_refused_with_a_reason(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really" * 3)
    good = write_audio(tmp_path / "good.wav", sine(440.0, seconds=0.5), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:5000])
    no_frames = write_audio(tmp_path / "none.wav", np.zeros((1, 0), np.float32), 16000, subtype="PCM_16")
    nan = write_audio(tmp_path / "nan.wav", np.array([[0.1, np.nan, np.inf, 0.2]], np.float32), 16000, subtype="FLOAT")
    expected = {
        empty: "empty file",
        garbage: "cannot decode audio",
        truncated: "truncated: the header promises 8000 frames",
        no_frames: "holds no samples",
        nan: "2 samples are NaN or infinite",
    }
    for path, message in expected.items():
        with pytest.raises(audio_io.UnsupportedAudio, match=message):
            audio_io.load(path)
