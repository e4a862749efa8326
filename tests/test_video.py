"""The video section: picture transforms drawn once per copy and applied to every frame, temporal
transforms that choose the frames (checked by reading each output frame's index back from its
brightness), the audio track following the frames, same bytes for any worker count."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")

from tests.test_cli import invoke, read_manifest, tree_digest  # noqa: E402

RATE = 15
SOUND_RATE = 16_000
W, H = 96, 64


def make_clip(path: Path, frames: int = 30, audio: bool = True, suffix_codec: str = "libx264") -> Path:
    """Frame k is grey level 8k with a red square at its left: its brightness says its index, the
    square says whether it was mirrored. The audio's amplitude rises with time (0.02 per frame)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(suffix_codec, rate=Fraction(RATE))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        if suffix_codec == "libx264":
            stream.options = {"crf": "0"}
        sound = container.add_stream("aac", rate=SOUND_RATE) if audio else None
        if sound is not None:
            sound.layout = "mono"
        for k in range(frames):
            pixels = np.full((H, W, 3), 8 * k, np.uint8)
            pixels[20:44, 4:28] = (255, 0, 0)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = k
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        if sound is not None:
            t = np.arange(frames * SOUND_RATE // RATE) / SOUND_RATE
            ramp = (0.02 * t * RATE + 0.01) * np.sin(2 * np.pi * 400 * t)
            frame = av.AudioFrame.from_ndarray(ramp.astype(np.float32)[None], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SOUND_RATE, 0
            for packet in [*sound.encode(frame), *sound.encode(None)]:
                container.mux(packet)
    return path


def read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(container.streams.video[0])]


def frame_indices(path: Path) -> list[int]:
    """Each output frame's source index, from its grey level away from the red square."""
    return [round(float(frame[50:, 40:].mean()) / 8) for frame in read_frames(path)]


def read_audio(path: Path) -> np.ndarray | None:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        return np.concatenate([f.to_ndarray()[0] for f in container.decode(container.streams.audio[0])])


def run(tmp_path: Path, steps: str, copies: int = 3, extra: str = "", *args: str) -> Path:
    data = tmp_path / "in"
    if not data.exists():
        make_clip(data / "clips" / "a.mp4")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"seed: 5\ncopies: {copies}\nkeep_original: false\nvideo:\n{extra}  transforms: {steps}\n")
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, *args)
    assert result.exit_code == 0, result.output
    return out


def records(out: Path) -> dict[str, list[dict]]:
    return {row["output"]: json.loads(row["transforms"]) for row in read_manifest(out) if row["kind"] == "copy"}


def test_picture_transforms_are_drawn_once_and_applied_to_every_frame(tmp_path):
    out = run(tmp_path, "[{hflip: {p: 0.5}}, {brightness: {factor: 0.3}}]", copies=4)
    made = records(out)
    for output, steps in made.items():
        frames = read_frames(out / output)
        assert len(frames) == 30
        flipped = any(step["name"] == "hflip" for step in steps)
        factor = next(step["params"]["factor"] for step in steps if step["name"] == "brightness")
        for k, frame in enumerate(frames):
            red = frame[30:34, -26:-6] if flipped else frame[30:34, 6:26]
            assert red[..., 0].mean() > 150 and red[..., 1].mean() < 90, (output, k)  # the square, same side each frame
            expected = min(8 * k * factor, 255)
            assert abs(float(frame[50:, 40:].mean()) - expected) < 6, (output, k, expected)
    assert {any(s["name"] == "hflip" for s in steps) for steps in made.values()} == {True, False}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("[{clip: {duration_s: 1.0}}]", lambda p, n: list(range(p[0]["start"], p[0]["start"] + 15))),
        ("[reverse]", lambda p, n: list(range(29, -1, -1))),
        ("[{speed: {factor: 2.0}}]", lambda p, n: list(range(0, 30, 2))),
        ("[{speed: {factor: 0.5}}]", lambda p, n: [k // 2 for k in range(60)]),
    ],
)
def test_temporal_transforms_show_the_recorded_frames(tmp_path, steps, expected):
    out = run(tmp_path, steps, copies=2)
    for output, made in records(out).items():
        params = [step["params"] for step in made]
        assert frame_indices(out / output) == expected(params, 30), output


def test_frame_drop_leaves_frames_out_in_order(tmp_path):
    out = run(tmp_path, "[{frame_drop: {rate: 0.3}}]", copies=3)
    for output in records(out):
        shown = frame_indices(out / output)
        assert shown == sorted(set(shown)) and 10 < len(shown) < 30


def test_the_audio_follows_the_frames(tmp_path):
    out = run(tmp_path, "[{clip: {duration_s: 1.0}}, {speed: {factor: [0.7, 1.4]}}]", copies=3)
    for output in records(out):
        frames = frame_indices(out / output)
        sound = read_audio(out / output)
        assert sound is not None
        assert abs(len(sound) - len(frames) * SOUND_RATE / RATE) <= 2048  # AAC frames of 1024 samples
        per_frame = SOUND_RATE // RATE
        middle = len(frames) // 2  # the amplitude of the middle frame's audio says which frame it came from
        piece = sound[middle * per_frame + 200 : (middle + 1) * per_frame - 200]
        amplitude = np.abs(piece).max()
        assert abs(amplitude - (0.02 * frames[middle] + 0.01)) < 0.03, (output, amplitude, frames[middle])


def test_reverse_plays_the_audio_backwards_and_drop_removes_it(tmp_path):
    out = run(tmp_path, "[reverse]", copies=1)
    (output,) = records(out)
    sound = read_audio(out / output)
    per_frame = SOUND_RATE // RATE
    first, last = np.abs(sound[: 5 * per_frame]).max(), np.abs(sound[-6 * per_frame : -per_frame]).max()
    assert first > 0.5 and last < 0.2  # loud (late) first, quiet (early) last
    dropped = run(tmp_path / "drop", "[hflip]", 1, "  audio: drop\n")
    assert read_audio(next((dropped / "clips").glob("*_aug0.mp4"))) is None


def test_same_bytes_for_any_worker_count_and_a_rerun(tmp_path):
    steps = "[{rotate: {degrees: 10}}, {clip: {duration_s: 1.5}}, {color_jitter: {brightness: 0.2}}]"
    data = make_clip(tmp_path / "in" / "clips" / "a.mp4").parents[1]
    make_clip(data / "clips" / "b.webm", frames=12, audio=False, suffix_codec="libvpx-vp9")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"seed: 3\ncopies: 2\nvideo:\n  transforms: {steps}\n")
    digests = []
    for workers in ("1", "2", "2"):
        out = tmp_path / f"out{len(digests)}"
        assert invoke("run", recipe, data, out, "--workers", workers).exit_code == 0
        digests.append(tree_digest(out))
    assert digests[0] == digests[1] == digests[2]
    assert (tmp_path / "out0" / "clips" / "b_aug1.webm").exists()
    assert invoke("replay", tmp_path / "out0", "--all").exit_code == 0


def test_a_video_section_refuses_mixing_and_a_corrupt_clip_fails_alone(tmp_path):
    data = make_clip(tmp_path / "in" / "a.mp4").parent
    (data / "broken.mp4").write_bytes(b"not a video at all")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("video:\n  transforms: [mosaic]\n")
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 2 and "mosaic" in result.output and not (tmp_path / "out").exists()
    recipe.write_text("video:\n  transforms: [hflip]\n")
    result = invoke("run", recipe, data, tmp_path / "out")
    assert result.exit_code == 1 and "broken.mp4" in result.output
    assert (tmp_path / "out" / "a_aug0.mp4").exists()


def test_audio_transforms_augment_the_kept_track_and_replay(tmp_path):
    out = run(tmp_path, "[hflip]", 2, "  audio_transforms: [{gain: {gain_db: [-20, -20]}}]\n")
    plain = run(tmp_path / "plain", "[hflip]", 2)
    for output, made in records(out).items():
        (track,) = [step for step in made if step["name"] == "audio_track"]
        assert track["params"]["transforms"] == [{"name": "gain", "params": {"gain_db": -20.0}}]
        quiet, loud = read_audio(out / output), read_audio(plain / output)
        ratio = np.sqrt(np.mean(quiet**2) / np.mean(loud**2))
        assert abs(20 * np.log10(ratio) + 20) < 0.5  # 20 dB quieter than the same copy without it
    assert invoke("replay", out, "--all").exit_code == 0
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("video:\n  audio_transforms: [hflip]\n  transforms: [hflip]\n")
    result = invoke("run", recipe, tmp_path / "in", tmp_path / "bad")
    assert result.exit_code == 2 and "unknown audio transform 'hflip'" in result.output


def test_temporal_jitter_lets_the_picture_steps_drift_smoothly(tmp_path):
    steady = run(tmp_path / "steady", "[{brightness: {factor: [0.5, 0.5]}}]", copies=1)
    drifting = run(
        tmp_path / "drift",
        "[{brightness: {factor: [0.5, 0.5]}}, {temporal_jitter: {amount: 0.3, every_s: 0.5}}]",
        copies=1,
    )
    (output,) = records(steady)
    gains = []
    for path in (steady / output, drifting / output):
        frames = read_frames(path)
        gains.append([float(f[50:, 40:].mean()) / (8 * k) for k, f in enumerate(frames) if k >= 4])
    assert max(gains[0]) - min(gains[0]) < 0.05  # drawn once: the same gain on every frame
    assert max(gains[1]) - min(gains[1]) > 0.1  # it drifts over the clip ...
    assert max(abs(a - b) for a, b in zip(gains[1], gains[1][1:], strict=False)) < 0.08  # ... frame to frame smoothly
    assert invoke("replay", drifting, "--all").exit_code == 0


def test_the_run_report_counts_a_video_section_per_copy(tmp_path):
    pytest.importorskip("jinja2")
    from augcli.report import run_report

    out = run(tmp_path, "[{hflip: {p: 0.5}}, {brightness: {factor: 0.3}}]", copies=4)
    made = records(out)
    flipped = sum(any(step["name"] == "hflip" for step in steps) for steps in made.values())
    assert 0 < flipped < 4
    lines = {line["name"]: line for line in run_report.build(out)["fired"]}
    assert lines["hflip"] == {
        "section": "video",
        "name": "hflip",
        "p": "0.5",
        "fired": flipped,
        "total": 4,
        "unit": "copies",
        "share": f"{flipped / 4:.3f}",
    }
    assert (lines["brightness"]["fired"], lines["brightness"]["total"]) == (4, 4)
