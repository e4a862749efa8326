"""A shoebox room's impulse response: image sources for the early part, a diffuse tail after it.

Allen & Berkley's image-source method (1979) with one absorption coefficient for all six walls:
each image is the source mirrored across the walls, reached after |kx| + |ky| + |kz| reflections,
its amplitude sqrt(1 - absorption) per reflection over 4 pi times its distance, placed at its
fractional delay by a Hann-windowed sinc. With uniform absorption the image sources' energy falls
by (1 - absorption) per reflection and a ray meets c S / (4 V) walls per second on average: early
on that is Eyring's decay, RT60 = 24 ln(10) V / (c S (-ln(1 - absorption))). Later a shoebox of
mirror walls decays slower (sound running along an axis meets fewer walls: up to 60 % longer T20
in the rooms measured), so images are summed only until Eyring's decay reaches DIFFUSE_DB (or
about MAX_IMAGES of them, their count grows with the cube of time); after that the response is
Gaussian noise whose energy per sample is the image sources' expected c / (4 pi V rate) x
exp(-13.8 t / RT60): the diffuse model of gpuRIR (Diaz-Guerra et al., 2021), which switches at
the same -15 dB. The response lasts RT60 seconds after the direct sound (at most MAX_IR_SECONDS).
"""

from __future__ import annotations

import math

import numpy as np

SPEED_OF_SOUND = 343.0  # m/s, air at 20 C
EYRING = 24.0 * math.log(10.0) / SPEED_OF_SOUND  # 0.1611 s/m: RT60 = EYRING x V / (S x -ln(1 - a))
MAX_IMAGES = 6000  # image sources summed before the diffuse tail takes over
MAX_IR_SECONDS = 5.0
DIFFUSE_DB = 15.0  # image sources until the model's decay reaches this, then the diffuse tail
HIGH_PASS_HZ = 50.0  # the reflections' DC build-up is removed below this (2nd-order Butterworth)
HALF_TAPS = 16  # the fractional-delay sinc spans 2 x HALF_TAPS samples; the direct sound sits at HALF_TAPS


def volume_and_surface(size: tuple[float, float, float]) -> tuple[float, float]:
    x, y, z = size
    return x * y * z, 2.0 * (x * y + y * z + x * z)


def eyring_rt60(size: tuple[float, float, float], absorption: float) -> float:
    """The reverberation time (60 dB of decay) Eyring's formula predicts, in seconds."""
    if absorption >= 1.0:
        return 0.0
    volume, surface = volume_and_surface(size)
    return EYRING * volume / (surface * -math.log1p(-absorption))


def eyring_absorption(size: tuple[float, float, float], rt60: float) -> float:
    """The wall absorption that gives this room the RT60 by Eyring's formula (always below 1)."""
    volume, surface = volume_and_surface(size)
    return -math.expm1(-EYRING * volume / (surface * rt60))


def image_radius(size: tuple[float, float, float], images: int) -> float:
    """The distance within which about `images` image sources lie (one per room volume)."""
    volume, _ = volume_and_surface(size)
    return (3.0 * images * volume / (4.0 * math.pi)) ** (1.0 / 3.0)


def _axis_images(length: float, source: float, mic: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis: each image's offset from the microphone and its number of reflections.

    Image k sits at k L + s for even k and k L + L - s for odd k (k reflections either way)."""
    lowest = math.floor((mic - radius) / length) - 1
    highest = math.ceil((mic + radius) / length) + 1
    k = np.arange(lowest, highest + 1)
    position = k * length + np.where(k % 2 == 0, source, length - source)
    return position - mic, np.abs(k)


def impulse_response(
    size: tuple[float, float, float],
    absorption: float,
    source: tuple[float, float, float],
    mic: tuple[float, float, float],
    rate: int,
    seed: int,
    images: int = MAX_IMAGES,
    diffuse_db: float = DIFFUSE_DB,
) -> np.ndarray:
    """The room's response from source to microphone (1-D float64, the direct sound at sample
    HALF_TAPS, lasting RT60 after it): image sources up to `images` of them, the diffuse tail after."""
    direct = math.dist(source, mic)
    rt60 = eyring_rt60(size, absorption)
    length = HALF_TAPS + max(1, min(round(rt60 * rate), round(MAX_IR_SECONDS * rate)))
    end = direct + (length - HALF_TAPS) / rate * SPEED_OF_SOUND  # the farthest path the response holds
    radius = min(max(min(image_radius(size, images), diffuse_db / 60.0 * rt60 * SPEED_OF_SOUND), direct), end)
    offsets, hits = zip(*(_axis_images(*axis, radius) for axis in zip(size, source, mic, strict=True)), strict=True)
    dx, dy, dz = np.meshgrid(*offsets, indexing="ij", sparse=True)
    hx, hy, hz = np.meshgrid(*hits, indexing="ij", sparse=True)
    distance = np.sqrt(dx * dx + dy * dy + dz * dz)
    near = distance <= radius
    distance = distance[near]
    reflections = np.broadcast_to(hx + hy + hz, near.shape)[near]
    amplitude = np.sqrt(1.0 - absorption) ** reflections / (4.0 * math.pi * np.maximum(distance, 1e-3))
    delay = HALF_TAPS + (distance - direct) / SPEED_OF_SOUND * rate  # in samples
    whole = np.floor(delay)
    taps = np.arange(-HALF_TAPS + 1, HALF_TAPS + 1)
    at = whole[:, None] + taps  # the samples each image's sinc covers
    offset = at - delay[:, None]
    window = 0.5 + 0.5 * np.cos(np.pi * offset / HALF_TAPS)
    weights = amplitude[:, None] * np.sinc(offset) * window
    keep = (at >= 0) & (at < length)
    ir = np.bincount(at[keep].astype(np.int64), weights[keep], minlength=length)[:length]
    start = HALF_TAPS + math.floor((radius - direct) / SPEED_OF_SOUND * rate) + 1
    if start < length and rt60 > 0:
        volume, _ = volume_and_surface(size)
        time = direct / SPEED_OF_SOUND + (np.arange(start, length) - HALF_TAPS) / rate  # since the source spoke
        spread = math.sqrt(SPEED_OF_SOUND / (4.0 * math.pi * volume * rate))
        envelope = spread * np.exp(-3.0 * math.log(10.0) * time / rt60)  # amplitude: half the energy's 60 dB
        ir[start:] += envelope * np.random.default_rng(seed).standard_normal(length - start)
    return _without_dc(ir, rate, 1.0 / (4.0 * math.pi * max(direct, 1e-3)))


def _without_dc(ir: np.ndarray, rate: int, direct: float) -> np.ndarray:
    """The reflections high-passed at HIGH_PASS_HZ, the direct sound (a unit sample at HALF_TAPS:
    its delay is whole) left as it is. Every image has a positive amplitude, so their sum builds
    up a DC offset no room has; Allen & Berkley high-passed their responses for the same reason."""
    from scipy import signal

    reflections = ir.copy()
    reflections[HALF_TAPS] -= direct
    sections = signal.butter(2, HIGH_PASS_HZ, btype="highpass", fs=rate, output="sos")
    out = signal.sosfilt(sections, reflections)
    out[HALF_TAPS] += direct
    return out


def reverberate(samples: np.ndarray, ir: np.ndarray, mix: float) -> np.ndarray:
    """Every channel through the response (scaled to unit energy, so white noise keeps its power),
    its direct sound aligned with the input (the propagation delay is left out), cut to the
    input's length and mixed wet/dry: (1 - mix) x dry + mix x wet."""
    from scipy import signal

    unit = ir / math.sqrt(float(np.sum(np.square(ir))))
    wet = signal.oaconvolve(samples.astype(np.float64), unit[None, :], mode="full", axes=-1)
    wet = wet[:, HALF_TAPS : HALF_TAPS + samples.shape[-1]]
    return ((1.0 - mix) * samples + mix * wet).astype(np.float32)
