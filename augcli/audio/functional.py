"""Pure audio kernels: float32 samples (channels, frames) and explicit parameters in, samples out.

No randomness lives here; where a kernel needs noise it takes the seed the transform drew, so the
manifest's parameters replay the output exactly. Every channel moves together: one stretch, one
gain curve, one mask for all of them. Kernels return new arrays and never write into their input.
"""

from __future__ import annotations

import math

import numpy as np

SILENCE = 1e-10  # mean square below this is treated as silence (about -100 dBFS)


def mean_square(samples: np.ndarray) -> float:
    return float(np.mean(np.square(samples, dtype=np.float64))) if samples.size else 0.0


def db_to_amplitude(db: float) -> float:
    return 10.0 ** (db / 20.0)


def gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    return samples * np.float32(db_to_amplitude(gain_db))


def mix_at_snr(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray | None:
    """Add `noise` scaled so that signal power / noise power = snr_db; None if either is silent.

    Powers are means over all channels, so a stereo file keeps its balance.
    """
    signal_power, noise_power = mean_square(samples), mean_square(noise)
    if signal_power < SILENCE or noise_power < SILENCE:
        return None
    scale = math.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0)))
    return (samples + np.float32(scale) * noise).astype(np.float32)


def gaussian_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def loop_to_length(noise: np.ndarray, frames: int, start: int) -> np.ndarray:
    """`frames` frames of `noise` from `start` on, wrapping around as often as needed."""
    index = (start + np.arange(frames)) % noise.shape[-1]
    return noise[..., index]


def time_stretch(samples: np.ndarray, rate: float) -> np.ndarray:
    """Tempo times `rate` (2 = twice as fast), pitch unchanged: a phase vocoder (see vocoder.py)."""
    from augcli.audio import vocoder

    return vocoder.time_stretch(np.asarray(samples, dtype=np.float32), rate)


def pitch_shift(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Pitch up by `semitones`, duration unchanged: phase-vocoder stretch, then soxr_hq resampling."""
    from augcli.audio import vocoder

    rate = 2.0 ** (-float(semitones) / 12)
    stretched = vocoder.time_stretch(np.asarray(samples, dtype=np.float32), rate)
    shifted = resample(stretched, sample_rate / rate, sample_rate)
    frames = samples.shape[-1]
    if shifted.shape[-1] < frames:
        shifted = np.pad(shifted, [(0, 0)] * (shifted.ndim - 1) + [(0, frames - shifted.shape[-1])])
    return np.ascontiguousarray(shifted[..., :frames])


def resample(samples: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """The same sound at another sample rate (soxr, high quality)."""
    import soxr

    changed = soxr.resample(np.ascontiguousarray(samples.T), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(changed.T, dtype=np.float32)


def speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play `factor` times faster: duration / factor, every frequency * factor (a resampling)."""
    return resample(samples, factor, 1.0)


def shift(samples: np.ndarray, frames: int, rollover: bool) -> np.ndarray:
    """Move the audio `frames` later (earlier if negative); what leaves one end wraps or is silence."""
    if rollover:
        return np.roll(samples, frames, axis=-1)
    out = np.zeros_like(samples)
    count = samples.shape[-1]
    if frames >= 0:
        out[:, frames:] = samples[:, : max(count - frames, 0)]
    else:
        out[:, : count + frames] = samples[:, -frames:]
    return out


def silence_span(samples: np.ndarray, start: int, length: int) -> np.ndarray:
    out = samples.copy()
    out[:, start : start + length] = 0.0
    return out


def butterworth(
    samples: np.ndarray,
    sample_rate: int,
    kind: str,
    cutoff_hz: float | tuple[float, float],
    order: int,
    zero_phase: bool,
) -> np.ndarray:
    """A Butterworth low/high/band-pass filter in second-order sections (stable at high orders).

    With `zero_phase` the filter runs forwards and backwards: no delay, the magnitude response squared.
    """
    from scipy import signal

    sections = signal.butter(order, cutoff_hz, btype=kind, fs=sample_rate, output="sos")
    if not zero_phase:
        return signal.sosfilt(sections, samples, axis=-1).astype(np.float32)
    trailing_zeros = min(int((sections[:, 2] == 0).sum()), int((sections[:, 5] == 0).sum()))
    padding = 3 * (2 * len(sections) + 1 - trailing_zeros)  # scipy's own default pad length for sosfiltfilt
    if samples.shape[-1] <= padding:
        raise ValueError(f"{samples.shape[-1]} samples are too few for a zero-phase filter (it needs {padding + 1})")
    return signal.sosfiltfilt(sections, samples, axis=-1, padlen=padding).astype(np.float32)


def clip_top(samples: np.ndarray, percent: float) -> np.ndarray:
    """Clip the loudest `percent` % of samples (by magnitude) to the magnitude below them."""
    if percent <= 0:
        return samples.copy()
    threshold = np.float32(np.percentile(np.abs(samples), 100.0 - percent))
    return np.clip(samples, -threshold, threshold)


def peak_normalize(samples: np.ndarray, peak_db: float) -> np.ndarray | None:
    """Scale so the largest magnitude is `peak_db` dBFS; None for silence."""
    peak = float(np.max(np.abs(samples)))
    if peak * peak < SILENCE:
        return None
    return samples * np.float32(db_to_amplitude(peak_db) / peak)


def trim_silence(samples: np.ndarray, top_db: float) -> np.ndarray:
    """Cut leading and trailing frames quieter than `top_db` below the peak (librosa's RMS frames)."""
    import librosa

    trimmed, _ = librosa.effects.trim(samples, top_db=top_db)
    return trimmed if trimmed.shape[-1] else samples.copy()


def pad_or_crop(samples: np.ndarray, frames: int, offset: int) -> np.ndarray:
    """Exactly `frames` long: a longer input is cut from `offset`; a shorter one is placed at `offset` in silence."""
    count = samples.shape[-1]
    if count >= frames:
        return samples[:, offset : offset + frames].copy()
    out = np.zeros((samples.shape[0], frames), dtype=samples.dtype)
    out[:, offset : offset + count] = samples
    return out


def compress(
    samples: np.ndarray,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    attack_ms: float,
    release_ms: float,
    knee_db: float,
    makeup_db: float,
) -> np.ndarray:
    """Dynamic range compression; channels are linked (one gain curve from the loudest channel)."""
    from augcli.audio.envelope import gain_reduction_db

    def coefficient(ms: float) -> float:
        return math.exp(-1.0 / (ms / 1000.0 * sample_rate)) if ms > 0 else 0.0

    level = np.max(np.abs(samples), axis=0)
    level_db = (20.0 * np.log10(np.maximum(level, 1e-9))).astype(np.float32)
    reduction = gain_reduction_db(
        level_db, threshold_db, ratio, knee_db, coefficient(attack_ms), coefficient(release_ms)
    )
    curve = np.power(np.float32(10.0), (np.float32(makeup_db) - reduction) / np.float32(20.0))
    return samples * curve


# --- reverb, equalisers, distortions, noise colours, limiter, envelopes (issue #27) ---


def normalize_ir(ir: np.ndarray) -> np.ndarray | None:
    """An impulse response scaled to unit energy (sum of squares 1 per channel on average), so a
    white signal keeps its power through the reverb; None for a silent response."""
    energy = float(np.sum(np.square(ir, dtype=np.float64))) / ir.shape[0]
    if energy < SILENCE:
        return None
    return (ir / np.float32(math.sqrt(energy))).astype(np.float32)


def convolve_ir(samples: np.ndarray, ir: np.ndarray, mix: float) -> np.ndarray:
    """Reverb: each channel convolved with the impulse response (a mono response goes to every
    channel, one with other channels is mixed down first), cut to the input's length, mixed
    wet/dry: (1 - mix) x dry + mix x wet. The response is used as given (normalize_ir scales it)."""
    from scipy import signal

    if ir.shape[0] != samples.shape[0]:
        ir = np.repeat(ir.mean(axis=0, keepdims=True), samples.shape[0], axis=0)
    wet = signal.oaconvolve(samples.astype(np.float64), ir.astype(np.float64), mode="full", axes=-1)
    wet = wet[:, : samples.shape[-1]]
    return ((1.0 - mix) * samples + mix * wet).astype(np.float32)


def rbj_biquad(kind: str, freq_hz: float, sample_rate: int, gain_db: float = 0.0, q: float = 0.7071) -> np.ndarray:
    """One second-order section [b0, b1, b2, 1, a1, a2] from Robert Bristow-Johnson's Audio EQ
    Cookbook: `notch`, `peaking` (gain_db at freq_hz, bandwidth freq_hz / q), `low_shelf` and
    `high_shelf` (shelf slope S = 1: gain_db beyond the shelf, gain_db / 2 at freq_hz)."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * freq_hz / sample_rate
    cos_w0, sin_w0 = math.cos(w0), math.sin(w0)
    if kind in ("notch", "peaking"):
        alpha = sin_w0 / (2.0 * q)
        if kind == "notch":
            b, a = (1.0, -2.0 * cos_w0, 1.0), (1.0 + alpha, -2.0 * cos_w0, 1.0 - alpha)
        else:
            b = (1.0 + alpha * amp, -2.0 * cos_w0, 1.0 - alpha * amp)
            a = (1.0 + alpha / amp, -2.0 * cos_w0, 1.0 - alpha / amp)
    elif kind in ("low_shelf", "high_shelf"):
        alpha = sin_w0 / 2.0 * math.sqrt(2.0)  # S = 1: (A + 1/A)(1/S - 1) + 2 = 2
        root = 2.0 * math.sqrt(amp) * alpha
        sign = 1.0 if kind == "low_shelf" else -1.0
        plus, minus = amp + 1.0, amp - 1.0
        b = (
            amp * (plus - sign * minus * cos_w0 + root),
            sign * 2.0 * amp * (minus - sign * plus * cos_w0),
            amp * (plus - sign * minus * cos_w0 - root),
        )
        a = (
            plus + sign * minus * cos_w0 + root,
            -sign * 2.0 * (minus + sign * plus * cos_w0),
            plus + sign * minus * cos_w0 - root,
        )
    else:
        raise ValueError(f"unknown biquad kind {kind!r}")
    return np.array([*(v / a[0] for v in b), 1.0, a[1] / a[0], a[2] / a[0]])


def biquads(samples: np.ndarray, sections: list[np.ndarray]) -> np.ndarray:
    """Run (channels, frames) samples through a cascade of second-order sections (float64 state)."""
    from scipy import signal

    if not sections:
        return samples.copy()
    return signal.sosfilt(np.stack(sections), samples.astype(np.float64), axis=-1).astype(np.float32)


def tanh_distortion(samples: np.ndarray, drive_db: float) -> np.ndarray:
    """Soft clipping: tanh(g x) / tanh(g) with g = 10^(drive_db / 20); full scale stays full scale,
    odd harmonics grow with the drive."""
    drive = db_to_amplitude(drive_db)
    return (np.tanh(drive * samples.astype(np.float64)) / math.tanh(drive)).astype(np.float32)


def bit_crush(samples: np.ndarray, bits: int) -> np.ndarray:
    """Round to a `bits`-bit grid as integer PCM holds it: 2^bits levels k / 2^(bits-1), k from
    -2^(bits-1) to 2^(bits-1) - 1 (louder samples saturate at the ends)."""
    steps = float(2 ** (bits - 1))
    levels = np.clip(np.round(samples.astype(np.float64) * steps), -steps, steps - 1.0)
    return (levels / steps).astype(np.float32)


def aliasing(samples: np.ndarray, sample_rate: int, low_rate: float) -> np.ndarray:
    """Sample at `low_rate` without an anti-aliasing filter (linear interpolation between samples),
    then back at `sample_rate` by linear interpolation: a tone above low_rate / 2 folds down."""
    frames = samples.shape[-1]
    times = np.arange(frames) / sample_rate
    low_times = np.arange(math.ceil(frames * low_rate / sample_rate)) / low_rate
    out = np.empty_like(samples, dtype=np.float32)
    for channel, row in enumerate(samples.astype(np.float64)):
        low = np.interp(low_times, times, row)
        out[channel] = np.interp(times, low_times, low)
    return out


NOISE_EXPONENTS = {"white": 0.0, "pink": 1.0, "brown": 2.0}


def coloured_noise(shape: tuple[int, int], seed: int, exponent: float) -> np.ndarray:
    """Gaussian noise whose power falls as 1 / f^exponent (0 white, 1 pink, 2 brown), shaped in the
    frequency domain (no DC), unit power per channel; replayable from its seed."""
    channels, frames = shape
    white = np.random.default_rng(seed).standard_normal((channels, frames))
    spectrum = np.fft.rfft(white, axis=-1)
    freqs = np.fft.rfftfreq(frames)
    weights = np.zeros_like(freqs)
    weights[1:] = freqs[1:] ** (-exponent / 2.0)
    noise = np.fft.irfft(spectrum * weights, n=frames, axis=-1)
    power = np.sqrt(np.mean(np.square(noise), axis=-1, keepdims=True))
    return (noise / np.maximum(power, 1e-30)).astype(np.float32)


def limiter(
    samples: np.ndarray, sample_rate: int, threshold_db: float, attack_ms: float, release_ms: float
) -> np.ndarray:
    """A look-ahead brick-wall limiter: no sample leaves above threshold_db (dBFS).

    The gain each frame needs (threshold / the loudest channel's magnitude, at most 1) is held at
    its minimum over the `attack_ms` ahead and the `release_ms` behind, then smoothed by a moving
    average over `attack_ms`: every value averaged already covers the frame, so the average never
    exceeds the gain the frame needs; the gain ramps down before a peak and back up after it.
    Channels share one gain."""
    from scipy import ndimage

    threshold = db_to_amplitude(threshold_db)
    level = np.max(np.abs(samples.astype(np.float64)), axis=0)
    needed = np.minimum(1.0, threshold / np.maximum(level, 1e-30))
    ahead = max(0, round(attack_ms / 1000.0 * sample_rate))
    behind = max(0, round(release_ms / 1000.0 * sample_rate))
    padded = np.concatenate([np.ones(behind), needed, np.ones(ahead)])
    window = behind + ahead + 1
    held = ndimage.minimum_filter1d(padded, window, origin=-(window // 2))[: needed.size] if window > 1 else needed
    if ahead:
        sums = np.cumsum(np.concatenate([np.ones(ahead), held]))
        smooth = (sums[ahead:] - np.concatenate([[0.0], sums[: needed.size - 1]])) / (ahead + 1)
        held = np.minimum(smooth, needed)
    out = samples.astype(np.float64) * held
    return np.clip(out, -threshold, threshold).astype(np.float32)  # the clip only catches rounding


def gain_transition(samples: np.ndarray, start_db: float, end_db: float, start: int, length: int) -> np.ndarray:
    """start_db before frame `start`, end_db from `start + length` on, a linear-in-dB fade between."""
    frames = samples.shape[-1]
    position = np.clip((np.arange(frames) - start) / max(length, 1), 0.0, 1.0)
    curve = 10.0 ** ((start_db + (end_db - start_db) * position) / 20.0)
    return (samples.astype(np.float64) * curve).astype(np.float32)


def repeat_part(samples: np.ndarray, start: int, length: int, repeats: int, replace: bool) -> np.ndarray:
    """The frames [start, start + length) played `repeats` more times right after themselves; with
    `replace` the repeats overwrite what follows and the length stays, else they are inserted."""
    part = samples[:, start : start + length]
    end = start + part.shape[-1]
    out = np.concatenate([samples[:, :end], *([part] * repeats), samples[:, end:]], axis=-1)
    return np.ascontiguousarray(out[:, : samples.shape[-1]] if replace else out)


# --- MP3 round trip, air absorption, short noise bursts (issue #27) ---

MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
# the constant bit rates (kbit/s) of MPEG-1 (32-48 kHz), MPEG-2 (16-24 kHz) and MPEG-2.5 (8-12 kHz) layer III
MP3_BITRATES = {
    32000: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    16000: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    8000: (8, 16, 24, 32, 40, 48, 56, 64),
}
LAME_DELAY = 1105  # LAME's 576 samples of encoder delay + mpg123's 529 of decoder delay


def mp3_rate(rate: int) -> int:
    """The sample rate an MP3 of audio at `rate` is made at: the lowest MP3 rate at or above it (48 kHz at most)."""
    return next((r for r in MP3_RATES if r >= rate), MP3_RATES[-1])


def mp3_bitrates(rate: int) -> tuple[int, ...]:
    """The bit rates an MP3 at this (MP3) sample rate can have."""
    return MP3_BITRATES[32000 if rate >= 32000 else 16000 if rate >= 16000 else 8000]


def nearest_mp3_bitrate(kbps: float, rate: int) -> int:
    """The MP3 bit rate nearest `kbps` at the MP3 rate for audio at `rate` (the lower one on a tie)."""
    return min(mp3_bitrates(mp3_rate(rate)), key=lambda b: (abs(b - kbps), b))


def mp3_roundtrip(samples: np.ndarray, sample_rate: int, bitrate: int) -> np.ndarray:
    """Encode to a constant-bit-rate MP3 (LAME, through libsndfile) and decode it back (mpg123):
    the codec's low-pass, quantisation noise and pre-echo, same length, same alignment. A rate MP3
    lacks is resampled to mp3_rate and back; more than two channels are encoded one by one."""
    codec_rate = mp3_rate(sample_rate)
    frames = samples.shape[-1]
    audio = samples if codec_rate == sample_rate else resample(samples, sample_rate, codec_rate)
    groups = [audio] if audio.shape[0] <= 2 else [audio[i : i + 1] for i in range(audio.shape[0])]
    out = np.concatenate([_mp3_pass(group, codec_rate, bitrate) for group in groups])
    if codec_rate != sample_rate:
        out = pad_or_crop(resample(out, codec_rate, sample_rate), frames, 0)
    return np.ascontiguousarray(out, dtype=np.float32)


def _mp3_pass(samples: np.ndarray, rate: int, bitrate: int) -> np.ndarray:
    """One MP3 stream of up to two channels, encoded in memory by LAME (lameenc, at its quality 7
    and the input's own sample rate: as fast-mp3-augment does, 5-7x faster than libsndfile's LAME)
    and decoded by mpg123 (libsndfile). The stream has no info frame, so the decoded audio starts
    LAME_DELAY late and runs on by LAME's padding: both are cut."""
    import io

    import lameenc
    import soundfile as sf

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(rate)
    encoder.set_channels(samples.shape[0])
    encoder.set_quality(7)
    pcm = np.rint(np.clip(samples.T, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    stream = bytes(encoder.encode(pcm)) + bytes(encoder.flush())
    decoded, _ = sf.read(io.BytesIO(stream), dtype="float32", always_2d=True)
    frames = samples.shape[-1]
    decoded = decoded.T[:, LAME_DELAY : LAME_DELAY + frames]
    return pad_or_crop(decoded, frames, 0) if decoded.shape[-1] < frames else decoded


def air_attenuation_db(freqs_hz: np.ndarray, temperature_c: float, humidity: float) -> np.ndarray:
    """Atmospheric absorption in dB per metre at these frequencies (ISO 9613-1, at 101.325 kPa):
    oxygen's and nitrogen's relaxation plus classical absorption; `humidity` is relative, in %."""
    kelvin = temperature_c + 273.15
    relative = kelvin / 293.15
    saturation = 10.0 ** (-6.8346 * (273.16 / kelvin) ** 1.261 + 4.6151)  # vapour pressure / reference
    water = humidity * saturation  # molar concentration of water vapour, %
    oxygen = 24.0 + 4.04e4 * water * (0.02 + water) / (0.391 + water)
    nitrogen = relative**-0.5 * (9.0 + 280.0 * water * math.exp(-4.170 * (relative ** (-1.0 / 3.0) - 1.0)))
    f2 = np.square(np.asarray(freqs_hz, dtype=np.float64))
    return (
        8.686
        * f2
        * (
            1.84e-11 * relative**0.5
            + relative**-2.5
            * (
                0.01275 * math.exp(-2239.1 / kelvin) / (oxygen + f2 / oxygen)
                + 0.1068 * math.exp(-3352.0 / kelvin) / (nitrogen + f2 / nitrogen)
            )
        )
    )


def air_absorption(
    samples: np.ndarray, sample_rate: int, distance_m: float, temperature_c: float, humidity: float
) -> np.ndarray:
    """What `distance_m` of air does to a sound: each frequency attenuated by air_attenuation_db x
    distance, applied to the whole signal's spectrum (zero phase, so nothing moves in time; padded
    so the response's short tails do not wrap around)."""
    from scipy import fft

    if distance_m == 0:
        return samples.astype(np.float32)
    frames = samples.shape[-1]
    size = fft.next_fast_len(frames + 1024, real=True)
    gains = 10.0 ** (
        -air_attenuation_db(fft.rfftfreq(size, 1.0 / sample_rate), temperature_c, humidity) * distance_m / 20.0
    )
    spectrum = fft.rfft(samples.astype(np.float64), size, axis=-1)
    return fft.irfft(spectrum * gains, size, axis=-1)[:, :frames].astype(np.float32)


def fade_envelope(length: int, fade_in: int, fade_out: int) -> np.ndarray:
    """1 over `length` frames with linear ramps from 0 over the first `fade_in` frames and to 0 over
    the last `fade_out`; ramps longer than the burst together are shortened in proportion."""
    total = fade_in + fade_out
    if total > length:
        fade_in = fade_in * length // total
        fade_out = length - fade_in
    envelope = np.ones(length)
    if fade_in:
        envelope[:fade_in] = (np.arange(fade_in) + 0.5) / fade_in
    if fade_out:
        envelope[length - fade_out :] = (np.arange(fade_out, 0, -1) - 0.5) / fade_out
    return envelope


def add_bursts(samples: np.ndarray, bursts: list[tuple[int, np.ndarray, float]]) -> np.ndarray | None:
    """Add each (start frame, noise (channels or 1, length), snr_db) burst at its start, scaled so
    that the whole input's power over the burst's (over its own frames, all channels) is snr_db;
    every other sample is left exactly as it was. None for silent input; a silent burst adds nothing."""
    signal_power = mean_square(samples)
    if signal_power < SILENCE:
        return None
    out = samples.astype(np.float32, copy=True)
    for start, noise, snr_db in bursts:
        noise_power = mean_square(noise)  # a mono burst goes to every channel at this power
        if noise_power < SILENCE or noise.shape[-1] == 0:
            continue
        scale = math.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0)))
        out[:, start : start + noise.shape[-1]] += (scale * noise).astype(np.float32)
    return out
