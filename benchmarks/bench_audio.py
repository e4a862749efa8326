"""Audio benchmark: augcli against audiomentations on the same files and cores.

Workload (issue #3): 100 WAV files of 10 s, half 16 kHz mono and half 44.1 kHz stereo, 3 copies
each; chain add_noise p0.5, time_stretch 0.8-1.25 p0.5, pitch_shift +-2 p0.5, gain +-6 dB,
compress p0.3. The peer runs audiomentations' closest chain (AddGaussianSNR, TimeStretch,
PitchShift, Gain, Limiter) in a process pool of the same size, reading and writing with soundfile.
Install the peers with `pip install -e '.[bench]'`, then:

    python benchmarks/bench_audio.py [--files 100] [--seconds 10] [--copies 3] [--workers N]

Prints seconds of audio processed per second for each tool and the ratio to audiomentations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, default_workers, fastest_of, print_table, run_augcli, run_peer_process, run_per_file

RECIPE = """\
seed: 1
copies: {copies}
keep_original: false
audio:
  transforms:
    - add_noise: {{p: 0.5, snr_db: [10, 30]}}
    - time_stretch: {{p: 0.5, rate: [0.8, 1.25]}}
    - pitch_shift: {{p: 0.5, semitones: 2}}
    - gain: {{gain_db: 6}}
    - compress: {{p: 0.3}}
"""


def make_inputs(folder: Path, count: int, seconds: float) -> list[Path]:
    """Music-like clips: a few partials with vibrato, a noise floor and note onsets."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        rate, channels = (16000, 1) if i % 2 == 0 else (44100, 2)
        path = folder / f"clip{i:03d}.wav"
        paths.append(path)
        if path.exists():
            continue
        t = np.arange(int(rate * seconds)) / rate
        wave = np.zeros_like(t)
        for partial in range(1, 5):
            freq = rng.uniform(110, 880) * partial
            wave += np.sin(2 * np.pi * freq * t + 3 * np.sin(2 * np.pi * 5 * t)) / partial
        onsets = (np.sin(2 * np.pi * rng.uniform(1, 3) * t) > 0).astype(float) * 0.7 + 0.3
        wave = 0.25 * wave * onsets + 0.01 * rng.standard_normal(t.size)
        frames = np.stack([wave * (1 - 0.2 * c) for c in range(channels)], axis=1)
        sf.write(path, frames, rate, subtype="PCM_16")
    return paths


def run_augcli_audio(inputs: Path, copies: int, workers: int) -> float:
    return run_augcli(RECIPE.format(copies=copies), inputs, workers, "audio.yaml")


_CHAIN = None


def _audiomentations_init() -> None:
    import audiomentations as am

    global _CHAIN
    _CHAIN = am.Compose(
        [
            am.AddGaussianSNR(min_snr_db=10.0, max_snr_db=30.0, p=0.5),
            am.TimeStretch(min_rate=0.8, max_rate=1.25, leave_length_unchanged=False, p=0.5),
            am.PitchShift(min_semitones=-2.0, max_semitones=2.0, p=0.5),
            am.Gain(min_gain_db=-6.0, max_gain_db=6.0, p=1.0),
            am.Limiter(p=0.3),
        ]
    )


def _audiomentations_job(args: tuple[str, str, int]) -> int:
    source, out_dir, copies = args
    samples, rate = sf.read(source, dtype="float32", always_2d=True)
    info = sf.info(source)
    samples = np.ascontiguousarray(samples.T)  # audiomentations wants (channels, frames)
    for k in range(copies):
        augmented = _CHAIN(samples=samples, sample_rate=rate)
        sf.write(f"{out_dir}/{Path(source).stem}_aug{k}.wav", np.clip(augmented, -1, 1).T, rate, subtype=info.subtype)
    return copies


def run_audiomentations(paths: list[Path], copies: int, workers: int) -> float:
    return run_per_file("audiomentations", _audiomentations_job, paths, copies, workers, _audiomentations_init)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # run the peer in this process (timed from outside)
    args = parser.parse_args()

    inputs = WORK / f"audio_{args.files}x{args.seconds:g}s"
    paths = make_inputs(inputs, args.files, args.seconds)
    if args.peer:
        run_audiomentations(paths, args.copies, args.workers)
        return
    size = ("--files", args.files, "--seconds", args.seconds, "--copies", args.copies, "--workers", args.workers)
    tools = {
        f"augcli ({args.workers} workers)": lambda: run_augcli_audio(inputs, args.copies, args.workers),
        f"audiomentations ({args.workers} processes, own process)": lambda: run_peer_process(
            __file__, "audiomentations", *size
        ),
    }
    results = fastest_of(tools, args.repeat)
    audio_seconds = args.files * args.seconds * args.copies
    print(f"workload: {args.files} files x {args.seconds:g} s (half 16 kHz mono, half 44.1 kHz stereo) x {args.copies}")
    print_table(results, audio_seconds, "audio seconds", "audiomentations", args.repeat)


if __name__ == "__main__":
    main()
