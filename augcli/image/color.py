"""Colour adjustments as affine maps on the colour channels, so a chain of them costs one pass.

Values are normalised to [0, 1]. A map sends a pixel x to `A x + B mean(x) + b`, where mean(x)
is the per-channel mean of the whole image the map is applied to: that term is what contrast
needs, and it keeps the family closed under composition (the mean of an affine image is the
affine image of the mean). Intermediate results are not clipped between merged steps.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

# ITU-R 601-2 luma, the weights Pillow and torchvision use for grayscale.
LUMA = np.array([0.299, 0.587, 0.114])
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


def luma_weights(channels: int) -> np.ndarray:
    return LUMA if channels == 3 else np.ones(channels)


@dataclass(frozen=True)
class ColorMap:
    """x -> a @ x + b_mean @ mean(x) + bias, on `channels` colour channels in [0, 1]."""

    a: np.ndarray
    b_mean: np.ndarray
    bias: np.ndarray

    @property
    def channels(self) -> int:
        return self.a.shape[0]

    @functools.cached_property
    def uses_mean(self) -> bool:
        return bool(self.b_mean.any())

    def then(self, after: ColorMap) -> ColorMap:
        """The map that applies self, then `after`."""
        a2, m2, b2 = after.a, after.b_mean, after.bias
        return ColorMap(
            a=a2 @ self.a,
            b_mean=a2 @ self.b_mean + m2 @ (self.a + self.b_mean),
            bias=a2 @ self.bias + m2 @ self.bias + b2,
        )

    def matrix(self, mean: np.ndarray | None, scale: float) -> np.ndarray:
        """The (C, C+1) matrix for pixel values on [0, scale], with the image mean folded in."""
        channels = self.a.shape[0]
        out = np.empty((channels, channels + 1))
        out[:, :channels] = self.a
        np.multiply(self.bias, scale, out=out[:, channels])
        if self.uses_mean:
            out[:, channels] += self.b_mean @ np.asarray(mean, float)
        return out


def _constant(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False  # shared by every map of that channel count
    return values


@functools.cache
def _parts(channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The identity, a zero matrix and a zero vector of `channels`: built once (a map is made on
    every call of a training loop, and numpy's constructors cost more than the map's arithmetic)."""
    return (
        _constant(np.eye(channels)),
        _constant(np.zeros((channels, channels))),
        _constant(np.zeros(channels)),
    )


@functools.cache
def _grey_spread(channels: int) -> np.ndarray:
    """Every row the channel's luma weights: the matrix that sends a pixel to its grey."""
    return _constant(np.outer(np.ones(channels), luma_weights(channels)))


def identity(channels: int) -> ColorMap:
    eye, zeros, bias = _parts(channels)
    return ColorMap(eye, zeros, bias)


def brightness(factor: float, channels: int) -> ColorMap:
    """Multiply every channel: 0 gives black, 1 the original."""
    eye, zeros, bias = _parts(channels)
    return ColorMap(eye * factor, zeros, bias)


def contrast(factor: float, channels: int) -> ColorMap:
    """Blend with the mean grey level of the image: 0 gives flat grey, 1 the original."""
    eye, _, bias = _parts(channels)
    return ColorMap(eye * factor, (1.0 - factor) * _grey_spread(channels), bias)


def saturation(factor: float, channels: int) -> ColorMap:
    """Blend each pixel with its own grey: 0 gives grayscale, 1 the original."""
    if channels != 3:
        return identity(channels)
    eye, zeros, bias = _parts(3)
    return ColorMap(factor * eye + (1.0 - factor) * _grey_spread(3), zeros, bias)


def hue(shift: float, channels: int) -> ColorMap:
    """Turn the hue by `shift` of a full circle (0.5 = opposite colours), keeping luma.

    The turn is a rotation of the chroma plane of YIQ, which keeps the map linear so it
    merges with the other colour adjustments.
    """
    if channels != 3:
        return identity(channels)
    angle = -2.0 * math.pi * shift  # negative in YIQ turns red towards green, as HSV hue grows
    c, s = math.cos(angle), math.sin(angle)
    rotate = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    _, zeros, bias = _parts(3)
    return ColorMap(_YIQ_TO_RGB @ rotate @ _RGB_TO_YIQ, zeros, bias)


@functools.cache
def grayscale(channels: int) -> ColorMap:
    """Every channel becomes the pixel's luma (the channel count is kept)."""
    _, zeros, bias = _parts(channels)
    return ColorMap(_grey_spread(channels), zeros, bias)


@functools.cache
def invert(channels: int) -> ColorMap:
    """Every value v becomes 1 - v (a fixed map: one per channel count)."""
    eye, zeros, _ = _parts(channels)
    return ColorMap(_constant(-eye), zeros, _constant(np.ones(channels)))
