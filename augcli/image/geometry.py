"""3x3 matrices that map source pixel coordinates to output pixel coordinates.

Pixel centres sit on integer coordinates (OpenCV's convention), so a flip of a W-wide image
maps x to W - 1 - x and a rotation turns about ((W - 1) / 2, (H - 1) / 2). Geometric
transforms only build these matrices; `ops.Warp` multiplies consecutive ones together and
resamples the pixels once.
"""

from __future__ import annotations

import math

import numpy as np

Matrix = np.ndarray


def translation(dx: float, dy: float) -> Matrix:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def about_centre(linear: Matrix, width: int, height: int) -> Matrix:
    """Apply a 2x2 linear map about the image centre."""
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    m = np.eye(3)
    m[:2, :2] = linear
    return translation(cx, cy) @ m @ translation(-cx, -cy)


def hflip(width: int) -> Matrix:
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def vflip(height: int) -> Matrix:
    return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, height - 1.0], [0.0, 0.0, 1.0]])


def rot90(turns: int, width: int, height: int) -> Matrix:
    """Counter-clockwise quarter turns; the output is height x width for odd turns."""
    turns %= 4
    if turns == 0:
        return np.eye(3)
    if turns == 1:  # (x, y) -> (y, W - 1 - x)
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width - 1.0], [0.0, 0.0, 1.0]])
    if turns == 2:
        return hflip(width) @ vflip(height)
    return np.array([[0.0, -1.0, height - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def rotation(degrees: float, width: int, height: int) -> Matrix:
    """Counter-clockwise rotation as seen on screen (y points down), about the centre."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return about_centre(np.array([[c, s], [-s, c]]), width, height)


def scaling(sx: float, sy: float, width: int, height: int) -> Matrix:
    """Zoom about the centre: factors above 1 zoom in."""
    return about_centre(np.diag([sx, sy]), width, height)


def shearing(x_degrees: float, y_degrees: float, width: int, height: int) -> Matrix:
    """Shear about the centre: x_degrees tilts vertical lines, y_degrees horizontal ones."""
    shx, shy = math.tan(math.radians(x_degrees)), math.tan(math.radians(y_degrees))
    return about_centre(np.array([[1.0, shx], [shy, 1.0]]), width, height)


def crop(left: int, top: int) -> Matrix:
    """Move the crop's top-left pixel to (0, 0); the output size is set by the caller."""
    return translation(-left, -top)


def resize(width: int, height: int, new_width: int, new_height: int) -> Matrix:
    """Map a width x height image onto new_width x new_height, pixel edges to pixel edges."""
    sx, sy = new_width / width, new_height / height
    return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


def homography(src: np.ndarray, dst: np.ndarray) -> Matrix:
    """The perspective map taking four source points onto four destination points."""
    a = []
    rhs = []
    for (x, y), (u, v) in zip(np.asarray(src, float), np.asarray(dst, float), strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    h = np.linalg.solve(np.array(a), np.array(rhs))
    return np.append(h, 1.0).reshape(3, 3)


def apply_to_points(matrix: Matrix, points: np.ndarray) -> np.ndarray:
    """Map an (N, 2) array of (x, y) points through a 3x3 matrix."""
    pts = np.asarray(points, float)
    homogeneous = np.hstack([pts, np.ones((len(pts), 1))]) @ matrix.T
    return homogeneous[:, :2] / homogeneous[:, 2:3]
