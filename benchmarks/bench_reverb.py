"""Speed of reverb (issue #27): `room` and `impulse_response` on 10 s 16 kHz clips, one core.

Each transform is drawn and applied through augcli's Python API (the kernel `augcli run` calls),
in this process, on one thread; the figure is seconds of audio made per second of CPU, "x real
time". `impulse_response` convolves with 1.5 s impulse responses written here (exponentially
decaying noise, as a measured hall's). The issue's target: at least 100x real time per core.

    python benchmarks/bench_reverb.py [--clips 20]

Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, fresh

RATE = 16_000


def write_irs(folder: Path, count: int = 4) -> Path:
    import soundfile

    fresh(folder)
    rng = np.random.default_rng(0)
    for k in range(count):
        t = np.arange(int(1.5 * RATE)) / RATE
        ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / (0.4 + 0.2 * k))
        soundfile.write(folder / f"hall{k}.wav", (ir / np.abs(ir).max() * 0.9).astype(np.float32), RATE)
    return folder


def measure(recipe_text: str, clips: int, base: Path) -> float:
    """Seconds of audio per CPU second over `clips` 10 s clips (one warm-up call first)."""
    import augcli

    pipeline = augcli.parse_recipe(recipe_text, base_dir=base).pipeline("audio")
    rng = np.random.default_rng(1)
    clip = (rng.standard_normal((1, 10 * RATE)) * 0.1).astype(np.float32)
    pipeline(clip, np.random.default_rng(0), sample_rate=RATE)
    started = time.process_time()
    for k in range(clips):
        pipeline(clip, np.random.default_rng(k + 1), sample_rate=RATE)
    return 10 * clips / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    irs = write_irs(WORK / "reverb_irs")
    rows = {
        "room (rt60 0.2-0.8 s)": "audio:\n  transforms: [room]\n",
        "room, small and live (3x3x2.4 m, rt60 0.8 s)": (
            "audio:\n  transforms:\n    - room: {rt60: 0.8, length_m: 3, width_m: 3, height_m: 2.4}\n"
        ),
        "impulse_response (1.5 s IRs)": f"audio:\n  transforms:\n    - impulse_response: {{path: {irs}}}\n",
    }
    print(f"{args.clips} clips of 10 s at 16 kHz, one core\n")
    print("| transform | x real time |")
    print("|---|---:|")
    for name, recipe in rows.items():
        print(f"| {name} | {measure(recipe, args.clips, irs.parent):.0f} |")


if __name__ == "__main__":
    main()
