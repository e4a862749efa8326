"""Image load and save with Pillow: formats, modes, EXIF orientation, output options.

Pixels leave `load` as a numpy array and come back to `encode` as one; the `Decoded` record keeps
what is needed to write them in the input's own mode and format.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from augcli.errors import InputError

# Pillow format name per output format key, and the suffix each writes.
FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF", "gif": "GIF"}
SUFFIXES = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}
_MODE_OF_CHANNELS = {2: "LA", 3: "RGB", 4: "RGBA"}
_ORIENTATION = 0x0112  # the EXIF tag


class UnsupportedImage(InputError):
    """An image that cannot be decoded or is of a kind augcli does not handle."""


@dataclass
class Decoded:
    """Pixels plus what is needed to write them back in kind."""

    pixels: np.ndarray
    format: str  # Pillow's format name of the input (JPEG, PNG, ...)
    mode: str  # the input's mode, after EXIF orientation
    palette: Image.Image | None = None  # for P images: written back through the same palette
    info: dict[str, Any] = field(default_factory=dict)  # icc_profile, dpi


def to_array(image: Image.Image) -> tuple[np.ndarray, Image.Image | None]:
    mode = image.mode
    palette = None
    if mode == "P":
        if "transparency" in image.info:
            image = image.convert("RGBA")
        else:
            palette = image
            image = image.convert("RGB")
    elif mode in _SIXTEEN_BIT:
        return np.asarray(image).astype(np.uint16, copy=True), None
    elif mode == "I":
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            raise UnsupportedImage("32-bit integer pixels outside 0-65535 are not supported")
        return values.astype(np.uint16), None
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("PA", "La"):
        image = image.convert("LA")
    elif mode in ("RGBa", "RGBX"):
        image = image.convert("RGBA" if mode == "RGBa" else "RGB")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        raise UnsupportedImage(f"image mode {mode} is not supported")
    return np.asarray(image), palette  # read-only: no kernel may change the shared source


def load(path: Path) -> Decoded:
    """Decode the first frame, apply EXIF orientation, and return its pixels.

    Pillow's decompression-bomb limit is enforced: an image over it is refused, not decoded.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                image.seek(0)
                fmt = image.format or ""
                info = {key: image.info[key] for key in ("icc_profile", "dpi") if key in image.info}
                upright = image.getexif().get(_ORIENTATION, 1) == 1
                pixels = _plain_jpeg(image, path) if upright else None
                if pixels is not None:
                    palette, mode = None, image.mode
                else:
                    if not upright:  # transposing copies: only when needed
                        image = ImageOps.exif_transpose(image)
                    image.load()
                    pixels, palette = to_array(image)
                    mode = image.mode
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UnsupportedImage(f"refused as a decompression bomb ({exc})") from None
        except UnsupportedImage:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            reason = str(exc) or type(exc).__name__
            if path.is_file() and path.stat().st_size == 0:
                reason = "empty file (0 bytes)"
            raise UnsupportedImage(f"cannot decode image: {reason}") from None
    if pixels.size == 0:
        raise UnsupportedImage("image has no pixels")
    return Decoded(pixels, fmt, mode, palette, info)


_JPEG_END = b"\xff\xd9"


def _plain_jpeg(image: Image.Image, path: Path) -> np.ndarray | None:
    """An upright 8-bit RGB or grey JPEG decoded by OpenCV: the same libjpeg-turbo decode as Pillow's,
    pixel for pixel (a test checks baseline, progressive, grey, 4:4:4, restart markers), in half
    the time, straight into a numpy array. None for anything else, and for a file that does not end
    with the end-of-image marker: Pillow then decodes it and reports a truncated file, where
    OpenCV would pad it with grey and say nothing."""
    if image.format != "JPEG" or image.mode not in ("RGB", "L"):
        return None
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    if data[-2:].tobytes() != _JPEG_END:
        return None
    flags = cv2.IMREAD_IGNORE_ORIENTATION | (cv2.IMREAD_COLOR if image.mode == "RGB" else cv2.IMREAD_GRAYSCALE)
    decoded = cv2.imdecode(data, flags)
    if decoded is None or decoded.shape[:2] != (image.height, image.width):
        return None
    if decoded.ndim == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    decoded.flags.writeable = False  # as Pillow's array: no kernel may change the shared source
    return decoded


def load_bytes(data: bytes) -> np.ndarray:
    """The pixels of an encoded image held in memory (a copy as `run` writes it)."""
    import io as _io

    with Image.open(_io.BytesIO(data)) as image:
        image.load()
        return to_array(image)[0]


def output_format(decoded_format: str, options: dict[str, Any]) -> str:
    """The Pillow format to write: the section's `output.format`, else the input's."""
    wanted = options.get("format", "same")
    return FORMATS[wanted] if wanted != "same" else (decoded_format or "PNG")


def output_suffix(source_suffix: str, options: dict[str, Any]) -> str:
    wanted = options.get("format", "same")
    return source_suffix if wanted == "same" else SUFFIXES[wanted]


def _to_image(pixels: np.ndarray, decoded: Decoded, fmt: str) -> Image.Image:
    if pixels.dtype == np.uint16:
        if fmt in ("PNG", "TIFF") and pixels.ndim == 2:
            return Image.fromarray(pixels)  # I;16
        pixels = (pixels >> 8).astype(np.uint8)  # formats without 16-bit grey get 8 bits
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4) and fmt in ("JPEG", "BMP"):
        pixels = pixels[:, :, :-1] if pixels.shape[2] == 4 else pixels[:, :, 0]  # no alpha there
    image = Image.fromarray(pixels, mode=None if pixels.ndim == 2 else _MODE_OF_CHANNELS[pixels.shape[2]])
    if decoded.palette is not None and image.mode == "RGB" and fmt != "JPEG":
        return image.quantize(palette=decoded.palette, dither=Image.Dither.NONE)
    if decoded.mode == "1" and fmt != "JPEG":
        return image.point(lambda v: 255 if v >= 128 else 0).convert("1")
    return image


def encode(pixels: np.ndarray, decoded: Decoded, options: dict[str, Any]) -> bytes:
    """Encode to the output format with the section's quality settings; returns the file bytes."""
    fmt = output_format(decoded.format, options)
    image = _to_image(pixels, decoded, fmt)
    save: dict[str, Any] = {}
    if "icc_profile" in decoded.info and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        save["icc_profile"] = decoded.info["icc_profile"]
    if "dpi" in decoded.info and fmt in ("JPEG", "PNG", "TIFF"):
        save["dpi"] = decoded.info["dpi"]
    if fmt == "JPEG":
        save["quality"] = options.get("quality", 95)
    elif fmt == "WEBP":
        save["quality"] = options.get("quality", 95)
        save["lossless"] = options.get("webp_lossless", False)
    elif fmt == "PNG":
        save["compress_level"] = options.get("png_compress_level", 1)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()
