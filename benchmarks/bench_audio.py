"""Audio benchmark: augcli against audiomentations on the same files and cores.

Workload (issue #3): 100 WAV files of 10 s, half 16 kHz mono and half 44.1 kHz stereo, 3 copies
each. Two chains (`--chain`):

- `default` (as before, so old numbers stay comparable): add_noise p0.5, time_stretch 0.8-1.25
  p0.5, pitch_shift +-2 p0.5, gain +-6 dB, compress p0.3; audiomentations' AddGaussianSNR,
  TimeStretch, PitchShift, Gain, Limiter.
- `new` (the newer transforms, each with p < 1): band_stop p0.3, peaking_eq p0.3, tanh_distortion
  p0.3, bit_crush p0.2, coloured_noise (pink) p0.5, air_absorption p0.3, gain_transition p0.3,
  mp3_compression 32-64 kbit/s p0.2, room (RT60 0.2-0.8 s) p0.3; audiomentations' BandStopFilter,
  PeakingFilter, TanhDistortion, BitCrush, AddColorNoise, AirAbsorption, GainTransition,
  Mp3Compression (fast-mp3-augment) and RoomSimulator (pyroomacoustics, its default hybrid of
  first-order image sources and ray tracing, RT60 mode) with the same probabilities and the
  closest parameters (see NEW_RECIPE and _new_chain). audiomentations 0.43 has all nine.

The peer runs in a process pool of the same size, reading and writing with soundfile, timed as a
whole process like augcli, in a venv of its own that the benchmark makes on first use
(benchmarks/peers.py: audiomentations 0.43, numpy-audio-limiter, soundfile, fast-mp3-augment,
pyroomacoustics, with this interpreter's numpy); `--peer-python` takes an interpreter of your own:

    python benchmarks/bench_audio.py [--chain default|new] [--files 100] [--seconds 10] [--copies 3]
        [--workers N] [--peer-python PATH]

(numpy-audio-limiter is Limiter's, fast-mp3-augment Mp3Compression's and pyroomacoustics
RoomSimulator's.) Prints seconds of audio processed per second for each tool and the ratio to
audiomentations.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, default_workers, fastest_of, print_table, run_augcli, run_peer_process, run_per_file
from peers import resolve

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

# The newer transforms, each at p < 1, in _new_chain's order with its probabilities and the closest
# parameters; band_stop's q 0.7-4 is a bandwidth of 1/q = 0.25-1.43 of the centre.
NEW_RECIPE = """\
seed: 1
copies: {copies}
keep_original: false
audio:
  transforms:
    - band_stop: {{p: 0.3, center_hz: [200, 4000], q: [0.7, 4]}}
    - peaking_eq: {{p: 0.3, center_hz: [100, 6000], gain_db: 12, q: [0.5, 4]}}
    - tanh_distortion: {{p: 0.3}}
    - bit_crush: {{p: 0.2, bits: [4, 12]}}
    - coloured_noise: {{p: 0.5, colour: pink, snr_db: [5, 40]}}
    - air_absorption: {{p: 0.3, distance_m: [10, 100], temperature_c: [10, 20], humidity: [30, 90]}}
    - gain_transition: {{p: 0.3, gain_db: [-24, 6], fraction: [0.2, 0.5]}}
    - mp3_compression: {{p: 0.2, bitrate: [32, 64]}}
    - room: {{p: 0.3, rt60: [0.2, 0.8], length_m: [3, 10], width_m: [3, 8], height_m: [2.4, 4], distance_m: [0.5, 3]}}
"""

RECIPES = {"default": RECIPE, "new": NEW_RECIPE}


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


def run_augcli_audio(inputs: Path, copies: int, workers: int, chain: str = "default") -> float:
    name = "audio.yaml" if chain == "default" else f"audio_{chain}.yaml"
    return run_augcli(RECIPES[chain].format(copies=copies), inputs, workers, name)


_CHAIN = None


def _default_chain(am: ModuleType) -> list:
    return [
        am.AddGaussianSNR(min_snr_db=10.0, max_snr_db=30.0, p=0.5),
        am.TimeStretch(min_rate=0.8, max_rate=1.25, leave_length_unchanged=False, p=0.5),
        am.PitchShift(min_semitones=-2.0, max_semitones=2.0, p=0.5),
        am.Gain(min_gain_db=-6.0, max_gain_db=6.0, p=1.0),
        am.Limiter(p=0.3),
    ]


def _new_chain(am: ModuleType) -> list:
    return [
        # a 12 dB/octave Butterworth band-stop (two sections) for augcli's one notch biquad, one pass each
        am.BandStopFilter(
            min_center_freq=200.0,
            max_center_freq=4000.0,
            min_bandwidth_fraction=0.25,
            max_bandwidth_fraction=1.43,
            min_rolloff=12,
            max_rolloff=12,
            zero_phase=False,
            p=0.3,
        ),
        am.PeakingFilter(
            min_center_freq=100.0,
            max_center_freq=6000.0,
            min_gain_db=-12.0,
            max_gain_db=12.0,
            min_q=0.5,
            max_q=4.0,
            p=0.3,
        ),
        # its drive is set from a percentile of the input; defaults (augcli's: drive 0-24 dB)
        am.TanhDistortion(p=0.3),
        am.BitCrush(min_bit_depth=4, max_bit_depth=12, p=0.2),
        am.AddColorNoise(min_snr_db=5.0, max_snr_db=40.0, min_f_decay=-3.01, max_f_decay=-3.01, p=0.5),  # pink
        am.AirAbsorption(
            min_temperature=10.0,
            max_temperature=20.0,
            min_humidity=30.0,
            max_humidity=90.0,
            min_distance=10.0,
            max_distance=100.0,
            p=0.3,
        ),
        am.GainTransition(
            min_gain_db=-24.0, max_gain_db=6.0, min_duration=0.2, max_duration=0.5, duration_unit="fraction", p=0.3
        ),
        am.Mp3Compression(min_bitrate=32, max_bitrate=64, backend="fast-mp3-augment", p=0.2),
        # augcli's room: a size as below, RT60 0.2-0.8 s by Eyring, mic >= 0.5 m from the walls, source
        # 0.5-3 m from it, length kept. RoomSimulator's own engine (image sources of order 1 + ray tracing).
        am.RoomSimulator(
            min_size_x=3.0,
            max_size_x=10.0,
            min_size_y=3.0,
            max_size_y=8.0,
            min_size_z=2.4,
            max_size_z=4.0,
            calculation_mode="rt60",
            min_target_rt60=0.2,
            max_target_rt60=0.8,
            min_source_x=0.5,
            max_source_x=10.0,
            min_source_y=0.5,
            max_source_y=8.0,
            min_source_z=0.5,
            max_source_z=4.0,
            min_mic_distance=0.5,
            max_mic_distance=3.0,
            min_mic_elevation=-np.pi / 2,
            max_mic_elevation=np.pi / 2,
            padding=0.5,
            leave_length_unchanged=True,
            p=0.3,
        ),
    ]


def _audiomentations_init(chain: str = "default") -> None:
    import audiomentations as am

    global _CHAIN
    _CHAIN = am.Compose((_new_chain if chain == "new" else _default_chain)(am))


def _audiomentations_job(args: tuple[str, str, int]) -> int:
    source, out_dir, copies = args
    samples, rate = sf.read(source, dtype="float32", always_2d=True)
    info = sf.info(source)
    samples = np.ascontiguousarray(samples.T)  # audiomentations wants (channels, frames)
    for k in range(copies):
        augmented = _CHAIN(samples=samples, sample_rate=rate)
        sf.write(f"{out_dir}/{Path(source).stem}_aug{k}.wav", np.clip(augmented, -1, 1).T, rate, subtype=info.subtype)
    return copies


def run_audiomentations(paths: list[Path], copies: int, workers: int, chain: str = "default") -> float:
    init = functools.partial(_audiomentations_init, chain)
    return run_per_file("audiomentations", _audiomentations_job, paths, copies, workers, init)


def versions(python: str) -> str:
    """The peer's versions, asked of its own interpreter."""
    probe = (
        "import audiomentations, numpy, scipy; print(audiomentations.__version__, numpy.__version__, scipy.__version__)"
    )
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.split()
    if len(found) != 3:
        return "audiomentations: not found"
    return f"audiomentations {found[0]} (numpy {found[1]}, scipy {found[2]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--chain", choices=sorted(RECIPES), default="default", help="which workload (see above)")
    parser.add_argument(
        "--peer-python",
        help="an interpreter with audiomentations (default: its own venv, made once)",
    )
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # run the peer in this process (timed from outside)
    args = parser.parse_args()

    inputs = WORK / f"audio_{args.files}x{args.seconds:g}s"
    paths = make_inputs(inputs, args.files, args.seconds)
    if args.peer:
        run_audiomentations(paths, args.copies, args.workers, args.chain)
        return
    size = ("--files", args.files, "--seconds", args.seconds, "--copies", args.copies, "--workers", args.workers)
    peer_python = resolve(args.peer_python, "audiomentations")
    tools = {
        f"augcli ({args.workers} workers)": lambda: run_augcli_audio(inputs, args.copies, args.workers, args.chain),
        f"audiomentations ({args.workers} processes, own process)": lambda: run_peer_process(
            __file__, "audiomentations", *size, "--chain", args.chain, python=peer_python
        ),
    }
    results = fastest_of(tools, args.repeat)
    audio_seconds = args.files * args.seconds * args.copies
    print(f"workload: {args.files} files x {args.seconds:g} s (half 16 kHz mono, half 44.1 kHz stereo) x {args.copies}")
    print(f"chain: {args.chain}; reference: {versions(peer_python)} ({peer_python})")
    print_table(results, audio_seconds, "audio seconds", "audiomentations", args.repeat)


if __name__ == "__main__":
    main()
