"""Image load and save with Pillow: formats, modes, EXIF orientation, output options.

Pixels leave `load` as a numpy array and come back to `encode` as one; the `Decoded` record keeps
what is needed to write them in the input's own mode and format. Pillow reads 16-bit colour PNG
and TIFF as 8 bits, so those are decoded by OpenCV and written by augcli's own PNG / TIFF writer;
a copy that cannot keep its depth or palette says so (`encode_noting`).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from augcli.core.errors import InputError

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
    # for P images with transparency: the RGBA colours of the indices the image uses, as sorted
    # uint32 codes, and the index of each; a copy whose colours are all among them stays P
    palette_colours: tuple[np.ndarray, np.ndarray] | None = None


def to_array(image: Image.Image) -> tuple[np.ndarray, Image.Image | None]:
    mode = image.mode
    palette = None
    if mode == "P":
        palette = image
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
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


def load(path: Path | bytes) -> Decoded:
    """Decode the first frame, apply EXIF orientation, and return its pixels (of a file, or of
    an encoded image's bytes: one read back from OUTPUT without following a link).

    Pillow's decompression-bomb limit is enforced: an image over it is refused, not decoded.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(path) if isinstance(path, bytes) else path) as image:
                image.seek(0)
                fmt = image.format or ""
                info = {key: image.info[key] for key in ("icc_profile", "dpi") if key in image.info}
                orientation = image.getexif().get(_ORIENTATION, 1)
                pixels = _plain_jpeg(image, path) if orientation == 1 else None
                if pixels is not None:
                    palette, mode = None, image.mode
                else:
                    kind = _sixteen_bit_kind(image, path)  # before transposing: it reads the file's tags
                    if orientation != 1:  # transposing copies: only when needed
                        image = ImageOps.exif_transpose(image)
                    image.load()  # Pillow checks the file (truncated, corrupt) and says what is wrong
                    deep = _sixteen_bit_colour(kind, path, orientation, image.size) if kind else None
                    if deep is not None:
                        pixels, palette, mode = deep, None, f"{kind};16"
                    else:
                        pixels, palette = to_array(image)
                        mode = image.mode
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UnsupportedImage(f"refused as a decompression bomb ({exc})") from None
        except UnsupportedImage:
            raise
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            reason = str(exc) or type(exc).__name__
            empty = (not path) if isinstance(path, bytes) else (path.is_file() and path.stat().st_size == 0)
            if empty:
                reason = "empty file (0 bytes)"
            raise UnsupportedImage(f"cannot decode image: {reason}") from None
    if pixels.size == 0:
        raise UnsupportedImage("image has no pixels")
    colours = None
    if palette is not None and "transparency" in palette.info:
        colours = _palette_colours(np.asarray(palette), pixels)
    return Decoded(pixels, fmt, mode, palette, info, colours)


_JPEG_END = b"\xff\xd9"


def _plain_jpeg(image: Image.Image, path: Path | bytes) -> np.ndarray | None:
    """An upright 8-bit RGB or grey JPEG decoded by OpenCV: the same libjpeg-turbo decode as Pillow's,
    pixel for pixel (a test checks baseline, progressive, grey, 4:4:4, restart markers), in half
    the time, straight into a numpy array. None for anything else, and for a file that does not end
    with the end-of-image marker: Pillow then decodes it and reports a truncated file, where
    OpenCV would pad it with grey and say nothing."""
    if image.format != "JPEG" or image.mode not in ("RGB", "L"):
        return None
    import cv2

    data = np.frombuffer(path, np.uint8) if isinstance(path, bytes) else np.fromfile(path, dtype=np.uint8)
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
    with Image.open(io.BytesIO(data)) as image:
        kind = _sixteen_bit_kind(image, data)
        image.load()
        deep = _sixteen_bit_colour(kind, data, 1, image.size) if kind else None
        return deep if deep is not None else to_array(image)[0]


# --- 16-bit colour ---------------------------------------------------------------------------

_PNG_COLOUR_TYPES = {2: "RGB", 4: "LA", 6: "RGBA"}  # 16-bit PNG colour types Pillow reads as 8 bits


def _file_bytes(source: Path | bytes, limit: int = -1) -> bytes:
    if isinstance(source, bytes):
        return source if limit < 0 else source[:limit]
    with open(source, "rb") as handle:
        return handle.read(limit)


def _sixteen_bit_kind(image: Image.Image, source: Path | bytes) -> str | None:
    """What Pillow reads as 8 bits of a 16-bit PNG or TIFF: "RGB", "RGBA" or "LA" (PNG only), else None."""
    if image.format == "PNG" and image.mode in ("RGB", "RGBA"):
        header = _file_bytes(source, 26)
        if len(header) == 26 and header[12:16] == b"IHDR" and header[24] == 16:
            return _PNG_COLOUR_TYPES.get(header[25])
    elif image.format == "TIFF" and image.mode in ("RGB", "RGBA"):
        tags = getattr(image, "tag_v2", {})
        bits, sample_format = tags.get(258, ()), tags.get(339, (1,))
        sample_format = sample_format if isinstance(sample_format, tuple) else (sample_format,)
        if bits and all(b == 16 for b in bits) and all(f == 1 for f in sample_format):
            return image.mode
    return None


def _sixteen_bit_colour(kind: str, source: Path | bytes, orientation: int, size: tuple[int, int]) -> np.ndarray | None:
    """A 16-bit `kind` PNG / TIFF as uint16 RGB, RGBA or LA pixels: OpenCV's decode, turned upright
    by EXIF `orientation`. None when that decode does not fit the `size` Pillow read (upright):
    Pillow's 8 bits are then used."""
    import cv2

    quiet = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # libtiff's warnings reach stderr
    try:
        decoded = cv2.imdecode(np.frombuffer(_file_bytes(source), np.uint8), cv2.IMREAD_UNCHANGED)
    finally:
        cv2.utils.logging.setLogLevel(quiet)
    if decoded is None or decoded.dtype != np.uint16 or decoded.ndim != 3:
        return None
    channels = decoded.shape[2]
    if kind == "LA" and channels == 4:  # OpenCV widens grey + alpha to BGRA
        decoded = decoded[:, :, [0, 3]]
    elif kind == "RGB" and channels == 3:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
    elif kind == "RGBA" and channels == 4:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA)
    elif not (kind == "LA" and channels == 2):
        return None
    decoded = _upright(decoded, orientation)
    if decoded.shape[:2] != (size[1], size[0]):
        return None
    decoded.flags.writeable = False  # as Pillow's array: no kernel may change the shared source
    return decoded


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """What ImageOps.exif_transpose does for EXIF `orientation`, on an array."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }.get(orientation)
    return np.ascontiguousarray(turned(pixels)) if turned is not None else pixels


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


_IDAT_SIZE = 1 << 20


def _png16(pixels: np.ndarray, info: dict[str, Any], level: int) -> bytes:
    """A 16-bit LA, RGB or RGBA PNG (Pillow writes 16 bits for grey only): Sub-filtered rows,
    zlib at `level`, with the ICC profile and dpi Pillow would write."""
    height, width, channels = pixels.shape
    step = 2 * channels  # bytes a pixel: the Sub filter's distance
    raw = pixels.astype(">u2").reshape(height, width * channels).view(np.uint8)
    filtered = raw.copy()
    filtered[:, step:] -= raw[:, :-step]  # wraps modulo 256, as the filter is defined
    rows = np.hstack([np.ones((height, 1), np.uint8), filtered])  # filter type 1 (Sub) per row
    colour_type = {2: 4, 3: 2, 4: 6}[channels]
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))]
    if "icc_profile" in info:
        parts.append(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(info["icc_profile"])))
    if "dpi" in info:
        x, y = (int(v / 0.0254 + 0.5) for v in info["dpi"])
        parts.append(_chunk(b"pHYs", struct.pack(">IIB", x, y, 1)))
    data = zlib.compress(rows.tobytes(), level)
    parts += [_chunk(b"IDAT", data[i : i + _IDAT_SIZE]) for i in range(0, len(data), _IDAT_SIZE)]
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


_SHORT, _LONG, _RATIONAL, _UNDEFINED = 3, 4, 5, 7
_TIFF_SIZES = {_SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1}


def _tiff16(pixels: np.ndarray, info: dict[str, Any]) -> bytes:
    """An uncompressed 16-bit RGB or RGBA baseline TIFF (little-endian, one strip), with its
    alpha marked as unassociated (ExtraSamples 2) and the ICC profile and dpi kept."""
    from fractions import Fraction

    if pixels.shape[2] == 2:  # Pillow opens no 16-bit grey + alpha TIFF: write it as RGBA
        pixels = pixels[:, :, [0, 0, 0, 1]]
    height, width, channels = pixels.shape
    data = pixels.astype("<u2").tobytes()
    tags: list[tuple[int, int, list[int] | bytes]] = [
        (256, _LONG, [width]),
        (257, _LONG, [height]),
        (258, _SHORT, [16] * channels),
        (259, _SHORT, [1]),  # no compression, as Pillow writes TIFF
        (262, _SHORT, [2]),  # RGB
        (273, _LONG, [8]),  # the pixels follow the header
        (277, _SHORT, [channels]),
        (278, _LONG, [height]),
        (279, _LONG, [len(data)]),
    ]
    if "dpi" in info:
        for tag, value in zip((282, 283), info["dpi"], strict=True):
            ratio = Fraction(float(value)).limit_denominator(10000)
            tags.append((tag, _RATIONAL, [ratio.numerator, ratio.denominator]))
    tags.append((284, _SHORT, [1]))  # interleaved samples
    if "dpi" in info:
        tags.append((296, _SHORT, [2]))  # inches
    if channels == 4:
        tags.append((338, _SHORT, [2]))  # the last sample is unassociated alpha
    tags.append((339, _SHORT, [1] * channels))  # unsigned integers
    if "icc_profile" in info:
        tags.append((34675, _UNDEFINED, bytes(info["icc_profile"])))
    ifd_offset = 8 + len(data) + len(data) % 2
    extra_offset = ifd_offset + 2 + 12 * len(tags) + 4
    entries, extra = [], b""
    for tag, kind, values in tags:
        if kind == _UNDEFINED:
            payload, count = bytes(values), len(values)
        else:
            code = {_SHORT: "H", _LONG: "I", _RATIONAL: "I"}[kind]
            payload = struct.pack(f"<{len(values)}{code}", *values)
            count = len(values) // 2 if kind == _RATIONAL else len(values)
        if len(payload) <= 4:
            field_value = payload.ljust(4, b"\x00")
        else:
            field_value = struct.pack("<I", extra_offset + len(extra))
            extra += payload + b"\x00" * (len(payload) % 2)
        entries.append(struct.pack("<HHI", tag, kind, count) + field_value)
    header = b"II*\x00" + struct.pack("<I", ifd_offset)
    ifd = struct.pack("<H", len(tags)) + b"".join(entries) + b"\x00\x00\x00\x00"
    return header + data + b"\x00" * (len(data) % 2) + ifd + extra


# --- palettes ----------------------------------------------------------------------------------


def _codes(rgba: np.ndarray) -> np.ndarray:
    """Each RGBA pixel as one uint32, so colours compare and sort as numbers."""
    return np.ascontiguousarray(rgba, dtype=np.uint8).view(">u4")[..., 0].astype(np.uint32)


def _palette_colours(indices: np.ndarray, rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The RGBA colour Pillow gave each palette index the image uses (sorted codes, their indices;
    of indices sharing a colour, the lowest)."""
    used, first = np.unique(indices.ravel(), return_index=True)
    codes = _codes(rgba.reshape(-1, 4)[first])
    codes, where = np.unique(codes, return_index=True)  # the first of equal codes: the lowest index
    return codes, used[where].astype(np.uint8)


def _to_indices(pixels: np.ndarray, colours: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """A copy's RGBA pixels as palette indices, or None when one of its colours is not in the palette."""
    codes, indices = colours
    wanted = _codes(pixels)
    at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
    if not np.array_equal(codes[at], wanted):
        return None
    return indices[at]


def _with_palette(indices: np.ndarray, source: Image.Image) -> Image.Image:
    """Indices as a P image with `source`'s palette and transparency."""
    image = Image.frombytes("P", (indices.shape[1], indices.shape[0]), np.ascontiguousarray(indices).tobytes())
    rawmode = source.palette.mode if source.palette is not None else "RGB"
    image.putpalette(source.getpalette(rawmode), rawmode)
    image.info["transparency"] = source.info["transparency"]
    return image


def output_format(decoded_format: str, options: dict[str, Any]) -> str:
    """The Pillow format to write: the section's `output.format`, else the input's."""
    wanted = options.get("format", "same")
    return FORMATS[wanted] if wanted != "same" else (decoded_format or "PNG")


def output_suffix(source_suffix: str, options: dict[str, Any]) -> str:
    wanted = options.get("format", "same")
    return source_suffix if wanted == "same" else SUFFIXES[wanted]


_NAMES = {"WEBP": "WebP"}


def _kind(pixels: np.ndarray) -> str:
    if pixels.ndim == 2:
        return "grey"
    return {2: "grey + alpha", 3: "RGB", 4: "RGBA"}[pixels.shape[2]]


def _to_image(pixels: np.ndarray, decoded: Decoded, fmt: str, notes: list[str]) -> Image.Image:
    name = _NAMES.get(fmt, fmt)
    if pixels.dtype == np.uint16:
        if fmt in ("PNG", "TIFF") and pixels.ndim == 2:
            return Image.fromarray(pixels)  # I;16
        notes.append(f"16-bit {_kind(pixels)} written as 8-bit ({name} holds 8 bits a channel)")
        pixels = (pixels >> 8).astype(np.uint8)
    palette = decoded.palette
    if palette is not None and decoded.palette_colours is not None:  # a palette with transparency
        indices = _to_indices(pixels, decoded.palette_colours) if fmt in ("PNG", "GIF") else None
        if indices is not None:
            return _with_palette(indices, palette)
        if fmt != "GIF":  # GIF writes a palette of its own
            what = f"palette {decoded.format} with transparency written as"
            if fmt in ("PNG", "TIFF", "WEBP"):
                notes.append(
                    f"{what} RGBA (a transform gave a copy colours its palette lacks; flips, quarter "
                    "turns and crops keep the palette)"
                    if fmt == "PNG"
                    else f"{what} RGBA ({name} copies are not written with a palette)"
                )
            else:
                notes.append(f"{what} RGB ({name} holds neither a palette nor alpha)")
        palette = None
    elif palette is not None and fmt in ("JPEG", "WEBP"):
        notes.append(f"palette {decoded.format} written as RGB ({name} holds no palette)")
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4) and fmt in ("JPEG", "BMP"):
        pixels = pixels[:, :, :-1] if pixels.shape[2] == 4 else pixels[:, :, 0]  # no alpha there
    image = Image.fromarray(pixels, mode=None if pixels.ndim == 2 else _MODE_OF_CHANNELS[pixels.shape[2]])
    if palette is not None and image.mode == "RGB" and fmt != "JPEG":
        return image.quantize(palette=palette, dither=Image.Dither.NONE)
    if decoded.mode == "1" and fmt != "JPEG":
        return image.point(lambda v: 255 if v >= 128 else 0).convert("1")
    return image


JPEG_LARGEST = 65500  # libjpeg-turbo's longest side


def opencv_jpeg(pixels: np.ndarray, quality: int) -> bytes | None:
    """An 8-bit RGB or grey picture as a baseline JPEG by OpenCV: the file Pillow writes, byte for
    byte (the same libjpeg-turbo and settings; a test compares them), in 80% of Pillow's time
    and without a Pillow image between. None for any other kind (Pillow writes those)."""
    colour = pixels.ndim == 3 and pixels.shape[2] == 3
    if pixels.dtype != np.uint8 or not (colour or pixels.ndim == 2) or max(pixels.shape[:2]) > JPEG_LARGEST:
        return None  # (past JPEG's largest side OpenCV logs an error of its own; Pillow raises one)
    import cv2

    source = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if colour else np.ascontiguousarray(pixels)
    done, data = cv2.imencode(".jpg", source, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return data.tobytes() if done else None


def encode(pixels: np.ndarray, decoded: Decoded, options: dict[str, Any]) -> bytes:
    """Encode to the output format with the section's quality settings; returns the file bytes."""
    return encode_noting(pixels, decoded, options)[0]


def encode_noting(pixels: np.ndarray, decoded: Decoded, options: dict[str, Any]) -> tuple[bytes, tuple[str, ...]]:
    """The file bytes, and what the copy could not keep of its input (16 bits, a palette), said in
    words that do not depend on the copy, so that a file's copies repeat one warning."""
    fmt = output_format(decoded.format, options)
    if pixels.dtype == np.uint16 and pixels.ndim == 3 and fmt in ("PNG", "TIFF"):
        if fmt == "PNG":
            return _png16(pixels, decoded.info, options.get("png_compress_level", 1)), ()
        return _tiff16(pixels, decoded.info), ()
    if fmt == "JPEG" and decoded.palette is None and not decoded.info.keys() & {"icc_profile", "dpi"}:
        data = opencv_jpeg(pixels, options.get("quality", 95))
        if data is not None:
            return data, ()
    notes: list[str] = []
    image = _to_image(pixels, decoded, fmt, notes)
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
    if image.mode == "P" and decoded.palette_colours is not None:  # kept through exact moves
        save["transparency"] = image.info["transparency"]
        save["optimize"] = False  # the GIF writer would drop and renumber unused colours
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue(), tuple(notes)
