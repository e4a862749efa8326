"""Video in and out with PyAV (FFmpeg bundled in its wheel; no system FFmpeg needed).

Frames are decoded one at a time as RGB arrays and encoded as they come, so a long clip never
sits in memory whole; the audio track, which is small, is read whole. Encoding is single-threaded
with FFmpeg's bit-exact flags and no creation time, so the same frames give the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from augcli.core.errors import InputError, install_hint

SUFFIXES = (".mp4", ".webm", ".mov", ".avi", ".mkv")
FORMATS = {"mp4": ".mp4", "webm": ".webm", "mov": ".mov", "avi": ".avi", "mkv": ".mkv"}
# the codecs a copy is written with, per container: H.264 where the container holds it
VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9", ".avi": "mpeg4"}
AUDIO_CODECS = {".mp4": "aac", ".mov": "aac", ".mkv": "aac", ".webm": "libopus", ".avi": "aac"}
CHUNK = 1 << 20


class UnsupportedVideo(InputError):
    """A file that cannot be decoded as a video."""


def _av():
    try:
        import av
    except ImportError:  # pragma: no cover - the video extra is not installed
        raise InputError(f"video needs PyAV: {install_hint('video', 'av')}") from None
    av.logging.set_level(av.logging.PANIC)  # FFmpeg's own messages stay off the terminal
    return av


@dataclass(frozen=True)
class Probe:
    """What a video is, read from its container without decoding frames."""

    width: int
    height: int
    rate: Fraction  # frames per second
    frames: int
    audio_rate: int | None  # None: no audio track
    audio_channels: int


def probe(path: Path) -> Probe:
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnsupportedVideo("the file has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or Fraction(25)
            frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
            audio = container.streams.audio[0] if container.streams.audio else None
            return Probe(
                stream.codec_context.width,
                stream.codec_context.height,
                Fraction(rate),
                frames,
                audio.rate if audio is not None else None,
                audio.channels if audio is not None else 0,
            )
    except av.FFmpegError as exc:
        raise UnsupportedVideo(f"cannot read this video: {exc}") from None


def frames(path: Path) -> Iterator[np.ndarray]:
    """Every frame, in order, as an RGB uint8 array (height, width, 3)."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except av.FFmpegError as exc:
        raise UnsupportedVideo(f"cannot decode this video: {exc}") from None


def audio(path: Path) -> tuple[np.ndarray, int] | None:
    """The first audio track as (channels, samples) float32 and its rate; None without one."""
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            rate = stream.rate
            pieces = []
            resampler = av.AudioResampler(format="fltp", layout=stream.layout.name, rate=rate)
            for frame in container.decode(stream):
                for converted in resampler.resample(frame):
                    pieces.append(converted.to_ndarray())
            for converted in resampler.resample(None):
                pieces.append(converted.to_ndarray())
    except av.FFmpegError as exc:
        raise UnsupportedVideo(f"cannot decode its audio: {exc}") from None
    if not pieces:
        return None
    return np.concatenate(pieces, axis=1).astype(np.float32), rate


def output_suffix(source_suffix: str, options: dict) -> str:
    chosen = options["format"]
    return source_suffix.lower() if chosen == "same" else FORMATS[chosen]


def encode(
    suffix: str,
    rate: Fraction,
    pictures: Iterator[np.ndarray],
    sound: tuple[np.ndarray, int] | None,
    options: dict,
) -> Iterator[bytes]:
    """Encode frames (RGB arrays, all one size) and an optional audio track into a `suffix`
    container; the file is made in a temporary place and handed out in chunks, then removed."""
    av = _av()
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="augcli-video-")
    os.close(handle)
    try:
        _write(av, name, suffix, rate, pictures, sound, options)
        with open(name, "rb") as made:
            while chunk := made.read(CHUNK):
                yield chunk
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _write(av, name: str, suffix: str, rate: Fraction, pictures, sound, options: dict) -> None:
    codec = VIDEO_CODECS[suffix]
    first = next(pictures, None)
    if first is None:
        raise InputError("the copy has no frames left (a clip or frame_drop took them all)")
    height, width = first.shape[0] - first.shape[0] % 2, first.shape[1] - first.shape[1] % 2  # 4:2:0 wants even
    if not width or not height:
        raise InputError(f"a copy of {first.shape[1]}x{first.shape[0]} pixels is too small to encode")
    with av.open(name, mode="w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.thread_count = 1
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        if codec == "libx264":
            stream.options = {"crf": str(options["crf"]), "preset": options["preset"], "threads": "1"}
            asm = x264_asm()
            if asm is not None:
                stream.options = {**stream.options, "x264-params": f"asm={asm}"}
        elif codec == "libvpx-vp9":
            stream.options = {"crf": str(options["crf"]), "b": "0", "row-mt": "0", "threads": "1", "deadline": "good"}
        else:
            stream.options = {"qscale": str(max(1, min(31, options["crf"] // 2)))}
        audio_stream = None
        if sound is not None:
            samples, sample_rate = sound
            audio_codec = AUDIO_CODECS[suffix]
            sample_rate = 48_000 if audio_codec == "libopus" else sample_rate
            audio_stream = container.add_stream(audio_codec, rate=sample_rate)
            audio_stream.layout = "mono" if samples.shape[0] == 1 else "stereo"
            audio_stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for index, pixels in enumerate(_chain([first], pictures)):
            frame = _frame(av, _i420(pixels[:height, :width]), width, height)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if audio_stream is not None:
            _write_audio(av, container, audio_stream, *sound)


# x264 cpu flags by /proc/cpuinfo flag: the SSE and AVX families. Its AVX2 and AVX-512 code reads
# uninitialised memory on some frame sizes (the same frames gave different bytes from run to run,
# measured at 96x64 and 98x62), and an x264 flag the CPU lacks is an illegal instruction.
_X264_FLAGS = (("mmxext", "MMX2"), ("sse", "SSE"), ("sse2", "SSE2,SSE2Fast"), ("ssse3", "SSSE3"))
_X264_FLAGS += (("sse4_1", "SSE4.1"), ("sse4_2", "SSE4.2"), ("avx", "AVX"))


@functools.cache
def x264_asm() -> str | None:
    """The x264 `asm` setting that keeps its output reproducible: on x86-64, the CPU's own SSE and
    AVX flags without AVX2 and AVX-512; None elsewhere (x264 picks)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "0"  # no way to tell what the CPU has: plain C, slower but exact
    flags = set(next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), []))
    chosen = [x264 for flag, x264 in _X264_FLAGS if flag in flags]
    return ",".join(chosen) if chosen else "0"


def _i420(pixels: np.ndarray) -> np.ndarray:
    """RGB to planar 4:2:0 YUV by OpenCV (BT.601, the range decoders assume): converted here, not
    by the encoder's scaler, so the same pixels always give the same planes."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2YUV_I420)


def _frame(av, planes: np.ndarray, width: int, height: int):
    """A yuv420p frame built from OpenCV's I420 planes, with each row's padding zeroed."""
    frame = av.VideoFrame(width, height, "yuv420p")
    flat = planes.reshape(-1)
    luma, chroma = width * height, (width // 2) * (height // 2)
    parts = ((flat[:luma], width, height), (flat[luma : luma + chroma], width // 2, height // 2))
    parts += ((flat[luma + chroma :], width // 2, height // 2),)
    for plane, (data, plane_width, plane_height) in zip(frame.planes, parts, strict=True):
        padded = np.zeros((plane_height, plane.line_size), np.uint8)
        padded[:, :plane_width] = data.reshape(plane_height, plane_width)
        plane.update(padded.tobytes())
    return frame


def _chain(*parts):
    for part in parts:
        yield from part


def _write_audio(av, container, stream, samples: np.ndarray, rate: int) -> None:
    channels = min(samples.shape[0], 2)
    planar = np.ascontiguousarray(np.clip(samples[:channels], -1.0, 1.0).astype(np.float32))
    frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="mono" if channels == 1 else "stereo")
    frame.sample_rate = rate
    frame.pts = 0
    resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=stream.layout.name, rate=stream.rate)
    for converted in [*resampler.resample(frame), *resampler.resample(None)]:
        converted.pts = None
        for packet in stream.encode(converted):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
