"""The compressor's gain computer and attack/release smoothing, compiled with numba.

The smoothing is a recursion (each sample's gain depends on the previous one, with a different
time constant when the gain reduction rises or falls), so it cannot be vectorised; numba (which
librosa already depends on) compiles it at import time, once per process.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(
    numba.float32[:](numba.float32[:], numba.float64, numba.float64, numba.float64, numba.float64, numba.float64),
    cache=True,
    nogil=True,
)
def gain_reduction_db(
    level_db: np.ndarray, threshold_db: float, ratio: float, knee_db: float, attack: float, release: float
) -> np.ndarray:
    """Smoothed gain reduction in dB (>= 0) for a level track in dBFS.

    Gain computer: hard or quadratic soft knee. Smoothing: the "smooth decoupled peak detector"
    of Giannoulis, Massberg & Reiss (2012): the reduction follows peaks with the release time
    constant and is then smoothed with the attack one, so a steady tone settles at the static curve.
    `attack` and `release` are one-pole coefficients exp(-1 / (time * rate)).
    """
    slope = 1.0 - 1.0 / ratio
    half_knee = knee_db / 2.0
    held = 0.0
    smooth = 0.0
    out = np.empty(level_db.shape[0], dtype=np.float32)
    for i in range(level_db.shape[0]):
        over = level_db[i] - threshold_db
        if over <= -half_knee:
            target = 0.0
        elif over < half_knee:
            target = slope * (over + half_knee) ** 2 / (2.0 * knee_db)
        else:
            target = slope * over
        held = max(target, release * held + (1.0 - release) * target)
        smooth = attack * smooth + (1.0 - attack) * held
        out[i] = smooth
    return out
