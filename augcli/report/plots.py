"""matplotlib figures (Agg, no display) as PNG bytes: audio waveform and log-mel spectrogram,
feature distributions, class counts, sampled parameters."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["text.parse_math"] = False  # labels are file and class names: `$\foo{$` is text
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=80, layout="constrained")


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def log_mel(samples: np.ndarray, rate: int) -> np.ndarray:
    """The log-mel spectrogram (dB, 64 bands) of the channels' mean."""
    import librosa

    mono = np.asarray(samples, dtype=np.float32).reshape(-1, samples.shape[-1]).mean(axis=0)
    mel = librosa.feature.melspectrogram(y=mono, sr=rate, n_mels=64, n_fft=min(1024, max(64, len(mono))))
    return librosa.power_to_db(mel, ref=np.max)


def audio(samples: np.ndarray, rate: int, title: str) -> bytes:
    """Waveform above log-mel spectrogram, for one clip."""
    figure = _figure(4.0, 2.6)
    wave, spec = figure.subplots(2, 1, height_ratios=[1, 1.4])
    mono = np.asarray(samples, dtype=np.float32).reshape(-1, samples.shape[-1]).mean(axis=0)
    seconds = np.arange(len(mono)) / rate
    wave.plot(seconds, mono, linewidth=0.5, color="#1f77b4")
    wave.set_xlim(0, max(seconds[-1], 1e-3) if len(seconds) else 1)
    wave.set_ylim(-1.05, 1.05)
    wave.set_title(title, fontsize=8)
    wave.tick_params(labelsize=6)
    mel = log_mel(samples, rate)
    spec.imshow(mel, origin="lower", aspect="auto", cmap="magma", extent=(0, len(mono) / rate, 0, mel.shape[0]))
    spec.set_xlabel("s", fontsize=6)
    spec.set_ylabel("mel", fontsize=6)
    spec.tick_params(labelsize=6)
    return _png(figure)


def distributions(groups: Mapping[str, np.ndarray], title: str) -> bytes:
    """Histograms of one numeric feature by row kind (original, augmented, synthetic), as densities."""
    figure = _figure(3.4, 2.2)
    axes = figure.subplots()
    finite = [v[np.isfinite(v)] for v in groups.values() if len(v)]
    values = np.concatenate(finite) if finite else np.zeros(1)
    bins = np.histogram_bin_edges(values, bins=min(30, max(5, int(np.sqrt(len(values))))))
    for name, data in groups.items():
        data = data[np.isfinite(data)]
        if len(data):
            axes.hist(data, bins=bins, density=True, alpha=0.45, label=f"{name} ({len(data)})")
    axes.set_title(title, fontsize=8)
    axes.legend(fontsize=6)
    axes.tick_params(labelsize=6)
    return _png(figure)


def counts(before: Mapping[str, int], after: Mapping[str, int], title: str) -> bytes:
    """Bars of class counts before and after."""
    names = sorted(set(before) | set(after), key=str)
    figure = _figure(max(3.0, 0.5 * len(names) + 1.5), 2.2)
    axes = figure.subplots()
    x = np.arange(len(names))
    axes.bar(x - 0.2, [before.get(n, 0) for n in names], 0.4, label="before")
    axes.bar(x + 0.2, [after.get(n, 0) for n in names], 0.4, label="after")
    axes.set_xticks(x, [str(n) for n in names], fontsize=6, rotation=30)
    axes.set_title(title, fontsize=8)
    axes.legend(fontsize=6)
    axes.tick_params(labelsize=6)
    return _png(figure)


def parameter(values: Sequence[float], title: str) -> bytes:
    """A histogram of one sampled parameter over the copies that drew it."""
    figure = _figure(2.8, 1.9)
    axes = figure.subplots()
    axes.hist(np.asarray(values, dtype=np.float64), bins=min(30, max(5, len(values) // 3)), color="#2ca02c")
    axes.set_title(title, fontsize=8)
    axes.tick_params(labelsize=6)
    return _png(figure)
