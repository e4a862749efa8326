"""Video benchmark: augcli's `video:` section against AugLy's video functions, a plain PyAV loop and
the decode+encode floor, each as a whole process.

Workload (the video issue): N 10 s 854x480 H.264 MP4 clips at 30 fps with AAC stereo audio (made
here with PyAV: a panning noise texture, a moving disc and film grain, so the encoder has work;
the same bytes of content every time), 2 copies each, no originals; per copy hflip p0.5,
color_jitter brightness/contrast/saturation 0.2, random_resized_crop scale 0.6-1.0 back to 854x480;
H.264 crf 23 preset veryfast, AAC audio.

- augcli: `augcli run` on the folder, start-up included, all cores.
- augly: AugLy 1.0.0's `augly.video` functions in their own venv (`--augly-python`), a pool over
  clips: per copy hflip (when drawn), color_jitter (one ffmpeg `eq` pass), crop, resize, each
  function a system ffmpeg run of its own (AugLy writes with `-preset ultrafast`, audio copied).
  Skipped, and said so, when that interpreter cannot import `augly.video` or there is no ffmpeg.
- augcli, preset ultrafast: the same recipe with `preset: ultrafast`, the preset AugLy writes
  with, for a like-for-like encoder (`--no-ultrafast` skips it).
- pyav_loop: what one would write by hand: a pool over clips, PyAV decode to RGB, OpenCV flip,
  one 3x4 colour matrix (the same brightness/contrast/saturation maths, contrast around the
  frame's mean grey), crop + bilinear resize, libx264 crf 23 veryfast, AAC decoded and
  re-encoded. Codecs single-threaded, as augcli's (the pool fills the cores).
- codec_floor: the same loop with no pixel work: decoded frames go straight back to the encoder
  (no RGB round trip). `floor share` = codec_floor seconds / the tool's seconds, shown only for
  the tools that encode as the floor does (x264 veryfast, once per copy): n/a for AugLy and for
  augcli at ultrafast.

    python benchmarks/bench_video.py [--clips 6] [--copies 2] [--repeat 2] [--workers N]
        [--augly-python PATH] [--no-ultrafast]

AugLy's venv is made by the benchmark on first use (benchmarks/peers.py) after `apt-get install
ffmpeg libmagic1 libjpeg-dev zlib1g-dev` (its video functions run the system ffmpeg; its Pillow<9
pin builds from source on Python 3.11): 'augly[video]' 'torch==2.8.*' 'torchaudio==2.8.*'
'vidgear<0.3' (augly.video imports augly.audio, which imports torch and torchaudio's sox_effects,
gone after 2.8; vidgear 0.3 renamed the WriteGear argument AugLy passes).

Not a test.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
import zlib
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SPREAD, WORK, default_workers, fastest_of, fresh, run_augcli, run_peer_process, run_per_file
from peers import resolve

WIDTH, HEIGHT, FPS, SECONDS = 854, 480, 30, 10
AUDIO_RATE = 44_100
JITTER = 0.2  # brightness, contrast and saturation factors in [0.8, 1.2]
SCALE, RATIO = (0.6, 1.0), (3 / 4, 4 / 3)
LUMA = np.array([0.299, 0.587, 0.114])

RECIPE = """\
seed: 1
copies: {copies}
keep_original: false
video:
  audio: keep
  output: {{crf: 23, preset: {preset}}}
  transforms:
    - hflip: {{p: 0.5}}
    - color_jitter: {{brightness: 0.2, contrast: 0.2, saturation: 0.2}}
    - random_resized_crop: {{scale: [0.6, 1.0], size: [480, 854]}}
"""


# --- inputs -----------------------------------------------------------------------------------


def _make_clip(task: tuple[str, int]) -> int:
    """One clip: a noise texture panning under a moving disc, grain on every frame, a chord plus
    noise on the audio track; seeded by the clip's index."""
    import av
    import cv2

    path, index = task
    rng = np.random.default_rng(index)
    texture = rng.integers(0, 256, (HEIGHT + 200, WIDTH + 400, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(texture, (0, 0), 3)
    texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    gradient = np.dstack([x * 255 // WIDTH, y * 255 // HEIGHT, (x + y) * 255 // (WIDTH + HEIGHT)]).astype(np.int16)
    frames = FPS * SECONDS
    with av.open(path, "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "20", "preset": "veryfast"}
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "stereo"
        for k in range(frames):
            dx, dy = (k * 3) % 400, int(100 + 90 * math.sin(k / 40))
            window = texture[dy : dy + HEIGHT, dx : dx + WIDTH].astype(np.int16)
            picture = (window + gradient) // 2 + rng.integers(-8, 9, (HEIGHT, WIDTH, 3), dtype=np.int16)
            picture = np.clip(picture, 0, 255).astype(np.uint8)
            centre = (int(WIDTH / 2 + 300 * math.cos(k / 25)), int(HEIGHT / 2 + 150 * math.sin(k / 17)))
            cv2.circle(picture, centre, 60, (230, 40 + index * 30, 40), -1)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = k
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        t = np.arange(AUDIO_RATE * SECONDS) / AUDIO_RATE
        tone = sum(np.sin(2 * np.pi * f * (1 + index / 10) * t) for f in (220, 277, 330)) / 4
        sound = np.vstack([tone, tone[::-1]]) + rng.normal(0, 0.02, (2, t.size))
        sound = np.ascontiguousarray(sound.astype(np.float32))
        for start in range(0, t.size, 1024):
            piece = np.ascontiguousarray(sound[:, start : start + 1024])
            chunk = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts = AUDIO_RATE, start
            for packet in audio.encode(chunk):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
    return 1


def make_inputs(folder: Path, count: int, workers: int) -> list[Path]:
    stamp = f"{count} clips {WIDTH}x{HEIGHT} {FPS} fps {SECONDS} s v1"
    marker = folder / "inputs.txt"
    if not (marker.exists() and marker.read_text() == stamp):
        import multiprocessing

        fresh(folder)
        with multiprocessing.get_context("forkserver").Pool(workers) as pool:
            sum(pool.imap_unordered(_make_clip, [(str(folder / f"clip_{k:02d}.mp4"), k) for k in range(count)]))
        marker.write_text(stamp)
    return sorted(folder.glob("*.mp4"))


# --- what each peer's copy does ---------------------------------------------------------------


def draw(path: str, copy: int, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """A copy's parameters (the same for every peer): a flip, jitter factors in a random order and a
    torchvision-style random resized crop box."""
    rng = np.random.default_rng([zlib.crc32(Path(path).name.encode()), copy])
    flip = bool(rng.random() < 0.5)
    order = [["brightness", "contrast", "saturation"][i] for i in rng.permutation(3)]
    factors = {name: float(rng.uniform(1 - JITTER, 1 + JITTER)) for name in order}
    box = (0, 0, width, height)
    for _ in range(10):
        target = width * height * rng.uniform(*SCALE)
        aspect = math.exp(rng.uniform(math.log(RATIO[0]), math.log(RATIO[1])))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= width and 0 < ch <= height:
            box = (int(rng.integers(0, width - cw + 1)), int(rng.integers(0, height - ch + 1)), cw, ch)
            break
    return {"flip": flip, "order": order, "factors": factors, "box": box}


def colour_matrix(params: dict, mean: np.ndarray) -> np.ndarray:
    """The 3x4 matrix doing the copy's jitters in order on a frame whose mean colour is `mean`."""
    a, b = np.eye(3), np.zeros(3)
    for name in params["order"]:
        f = params["factors"][name]
        current = a @ mean + b
        if name == "brightness":
            step_a, step_b = f * np.eye(3), np.zeros(3)
        elif name == "contrast":
            step_a, step_b = f * np.eye(3), np.full(3, (1 - f) * float(LUMA @ current))
        else:
            step_a, step_b = f * np.eye(3) + (1 - f) * np.outer(np.ones(3), LUMA), np.zeros(3)
        a, b = step_a @ a, step_a @ b + step_b
    return np.hstack([a, b[:, None]])


def _codec_job(task: tuple[str, str, int], pixel_work: bool) -> int:
    import av
    import cv2

    path, out, copies = task
    for copy in range(copies):
        params = draw(path, copy)
        left, top, cw, ch = params["box"]
        with av.open(path) as source, av.open(str(Path(out) / f"{Path(path).stem}_aug{copy}.mp4"), "w") as target:
            video_in, audio_in = source.streams.video[0], source.streams.audio[0]
            video_in.thread_type = "NONE"
            video = target.add_stream("libx264", rate=FPS)
            video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            video.options = {"crf": "23", "preset": "veryfast", "threads": "1"}
            audio = target.add_stream("aac", rate=audio_in.rate)
            audio.layout = audio_in.layout.name
            index = 0
            for packet in source.demux(video_in, audio_in):
                for frame in packet.decode():
                    if packet.stream is audio_in:
                        frame.pts = None
                        for out_packet in audio.encode(frame):
                            target.mux(out_packet)
                        continue
                    if pixel_work:
                        rgb = frame.to_ndarray(format="rgb24")
                        if params["flip"]:
                            rgb = cv2.flip(rgb, 1)
                        rgb = cv2.transform(
                            rgb, colour_matrix(params, np.array(cv2.mean(rgb)[:3]) / 255) * [1, 1, 1, 255]
                        )
                        rgb = cv2.resize(
                            rgb[top : top + ch, left : left + cw], (WIDTH, HEIGHT), interpolation=cv2.INTER_LINEAR
                        )
                        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
                    else:
                        frame.pict_type = av.video.frame.PictureType.NONE  # x264 chooses, as for new frames
                    frame.pts, frame.time_base = index, Fraction(1, FPS)
                    index += 1
                    for out_packet in video.encode(frame):
                        target.mux(out_packet)
            for stream in (video, audio):
                for out_packet in stream.encode(None):
                    target.mux(out_packet)
    return copies


def _loop_job(task: tuple[str, str, int]) -> int:
    return _codec_job(task, True)


def _floor_job(task: tuple[str, str, int]) -> int:
    return _codec_job(task, False)


def _augly_job(task: tuple[str, str, int]) -> int:
    import augly.video as vidaugs

    path, out, copies = task
    for copy in range(copies):
        params = draw(path, copy)
        left, top, cw, ch = params["box"]
        factors = params["factors"]
        jitter = {
            "brightness_factor": (factors["brightness"] - 1) / 2,  # eq adds this to luma in [-1, 1]
            "contrast_factor": factors["contrast"],
            "saturation_factor": factors["saturation"],
        }
        box = {"left": left / WIDTH, "top": top / HEIGHT, "right": (left + cw) / WIDTH, "bottom": (top + ch) / HEIGHT}
        steps = [(vidaugs.hflip, {})] if params["flip"] else []
        steps += [
            (vidaugs.color_jitter, jitter),
            (vidaugs.crop, box),
            (vidaugs.resize, {"height": HEIGHT, "width": WIDTH}),
        ]
        stem, current = str(Path(out) / f"{Path(path).stem}_aug{copy}"), path
        for k, (function, kwargs) in enumerate(steps):
            target = f"{stem}.mp4" if k == len(steps) - 1 else f"{stem}_step{k}.mp4"
            function(current, target, **kwargs)
            if current != path:
                os.unlink(current)
            current = target
    return copies


def peer(kind: str, inputs: Path, copies: int, workers: int) -> None:
    job = {"augly": _augly_job, "pyav_loop": _loop_job, "codec_floor": _floor_job}[kind]
    run_per_file(kind, job, sorted(inputs.glob("*.mp4")), copies, workers)


# --- the run ----------------------------------------------------------------------------------


def augly_ready(python: str) -> str | None:
    """None when AugLy's video functions can run, else why not."""
    if not Path(python).exists():
        return f"no interpreter at {python}"
    if shutil.which("ffmpeg") is None:
        return "no ffmpeg binary on PATH (AugLy's video functions run it)"
    check = subprocess.run([python, "-c", "import augly.video"], capture_output=True, text=True)
    if check.returncode:
        return "import augly.video failed: " + (check.stderr.strip().splitlines() or ["?"])[-1]
    return None


def wait_for_quiet_machine(limit_s: float = 600, poll_s: float = 30) -> None:
    """The machine is shared: wait while a pytest run is going (at most `limit_s`)."""
    started = time.perf_counter()
    while True:
        listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
        busy = [line for line in listing if "pytest" in line and str(os.getpid()) not in line.split()[:1]]
        if not busy:
            return
        if time.perf_counter() - started > limit_s:
            print(f"warning: pytest still running after {limit_s:.0f} s; timing anyway", file=sys.stderr)
            return
        print(f"waiting for {len(busy)} pytest process(es) to finish...", file=sys.stderr)
        time.sleep(poll_s)


def check_outputs(folder: Path, expected: int) -> None:
    """Every tool must have written every copy, each a decodable 854x480 video."""
    import av

    made = sorted(folder.rglob("*.mp4"))
    if len(made) != expected:
        raise SystemExit(f"{folder.name}: {len(made)} outputs, expected {expected}")
    with av.open(str(made[0])) as container:
        stream = container.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        if size != (WIDTH, HEIGHT) or not container.streams.audio:
            raise SystemExit(f"{made[0]}: {size[0]}x{size[1]}, audio: {bool(container.streams.audio)}")


def print_video_table(results: dict[str, float], copies: int, frames: int, reference: str, repeat: int) -> None:
    """Markdown: seconds, copies and frames written per second, the ratio to `reference`, and the floor's
    share (only for tools that encode as the floor does: x264 veryfast, once per copy)."""
    import platform

    floor = results.get("codec_floor")
    base = results.get(reference)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"each tool: fastest of {repeat} interleaved rounds\n")
    print(f"| tool | seconds | copies/s | frames/s | vs {reference} | floor share | spread of rounds |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, seconds in results.items():
        ratio = f"{base / seconds:.2f}x" if base else "-"
        share = f"{floor / seconds:.0%}" if floor and "ultrafast" not in name and name != "augly" else "n/a"
        low, high = SPREAD.get(name, (seconds, seconds))
        print(
            f"| {name} | {seconds:.2f} | {copies / seconds:.2f} | {frames / seconds:.0f} | {ratio} | {share} "
            f"| {low:.2f}-{high:.2f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--augly-python", help="an interpreter with augly.video (default: its own venv, made once)")
    parser.add_argument("--no-ultrafast", action="store_true", help="skip augcli with AugLy's x264 preset")
    parser.add_argument("--peer")
    parser.add_argument("inputs", nargs="?")
    args = parser.parse_args()
    if args.peer:
        peer(args.peer, Path(args.inputs), args.copies, args.workers)
        return
    started = time.perf_counter()
    inputs = WORK / "video_in"
    make_inputs(inputs, args.clips, args.workers)
    print(f"inputs ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    recipe = RECIPE.format(copies=args.copies, preset="veryfast")
    ultrafast = RECIPE.format(copies=args.copies, preset="ultrafast")
    common = ("--copies", args.copies, "--workers", args.workers, inputs)
    tools = {f"augcli ({args.workers} workers)": lambda: run_augcli(recipe, inputs, args.workers, "video.yaml")}
    if not args.no_ultrafast:
        tools["augcli, preset ultrafast"] = lambda: run_augcli(ultrafast, inputs, args.workers, "video_ultrafast.yaml")
    try:
        augly_python = resolve(args.augly_python, "augly")
        why_not = augly_ready(augly_python)
    except SystemExit as failed:  # its venv could not be made: the table says so and goes on
        augly_python, why_not = "", str(failed)
    if why_not is None:
        tools["augly"] = lambda: run_peer_process(__file__, "augly", *common, python=augly_python)
    tools["pyav_loop"] = lambda: run_peer_process(__file__, "pyav_loop", *common)
    tools["codec_floor"] = lambda: run_peer_process(__file__, "codec_floor", *common)
    wait_for_quiet_machine()
    results = fastest_of(tools, args.repeat)
    expected = args.clips * args.copies
    check_outputs(WORK / f"out_augcli_{args.workers}", expected)
    for name in ("augly", "pyav_loop", "codec_floor"):
        if name in results:
            check_outputs(WORK / f"out_{name}", expected)
    reference = "augly" if "augly" in results else "pyav_loop"
    print(
        f"video: {args.clips} clips x {args.copies} copies, {WIDTH}x{HEIGHT} {FPS} fps {SECONDS} s, H.264 + AAC; "
        f"hflip p0.5, color_jitter 0.2/0.2/0.2, random_resized_crop 0.6-1.0; reference: {reference}"
    )
    if why_not:
        print(f"augly not run: {why_not}")
    print_video_table(results, expected, expected * FPS * SECONDS, reference, args.repeat)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
