"""Image I/O: formats, modes and bit depth kept, EXIF orientation applied, bad files refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augcli.image import io as image_io
from tests.conftest import gradient_rgb, write_image

DEFAULT = {"format": "same", "quality": 95, "png_compress_level": 1, "webp_lossless": False}


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [(".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"), (".bmp", "BMP"), (".tif", "TIFF"), (".gif", "GIF")],
)
def test_each_format_is_written_back_in_kind(tmp_path, suffix, fmt):
    path = write_image(tmp_path / f"a{suffix}", gradient_rgb(32, 24))
    decoded = image_io.load(path)
    assert decoded.format == fmt and decoded.pixels.shape[:2] == (24, 32)
    again = reopen(image_io.encode(decoded.pixels, decoded, DEFAULT))
    assert again.format == fmt and again.size == (32, 24)


@pytest.mark.parametrize(
    ("mode", "pixels"),
    [
        ("L", gradient_rgb()[..., 0]),
        ("LA", np.dstack([gradient_rgb()[..., 0], gradient_rgb()[..., 1]])),
        ("RGBA", np.dstack([gradient_rgb(), gradient_rgb()[..., :1]])),
    ],
)
def test_png_modes_are_kept(tmp_path, mode, pixels):
    path = tmp_path / "a.png"
    Image.fromarray(pixels, mode=mode).save(path)
    decoded = image_io.load(path)
    assert np.array_equal(decoded.pixels, pixels)
    assert reopen(image_io.encode(decoded.pixels, decoded, DEFAULT)).mode == mode


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_grey_stays_sixteen_bit(tmp_path, suffix):
    values = ((np.arange(24 * 32).reshape(24, 32) * 83) % 65536).astype(np.uint16)
    path = tmp_path / f"deep{suffix}"
    Image.fromarray(values).save(path)
    decoded = image_io.load(path)
    assert decoded.pixels.dtype == np.uint16 and np.array_equal(decoded.pixels, values)
    again = reopen(image_io.encode(decoded.pixels, decoded, DEFAULT))
    assert np.array_equal(np.asarray(again).astype(np.uint16), values)


def test_palette_images_are_written_through_their_own_palette(tmp_path):
    source = Image.fromarray(gradient_rgb()).quantize(colors=16)
    path = tmp_path / "p.png"
    source.save(path)
    decoded = image_io.load(path)
    assert decoded.pixels.shape[2] == 3
    again = reopen(image_io.encode(decoded.pixels, decoded, DEFAULT))
    assert again.mode == "P" and again.getpalette()[:48] == source.getpalette()[:48]
    assert np.array_equal(np.asarray(again), np.asarray(source))


def test_bilevel_images_stay_bilevel(tmp_path):
    path = tmp_path / "b.png"
    Image.fromarray(gradient_rgb()[..., 0] > 128).save(path)
    decoded = image_io.load(path)
    assert reopen(image_io.encode(decoded.pixels, decoded, DEFAULT)).mode == "1"


def test_exif_orientation_is_applied_on_load(tmp_path):
    pixels = gradient_rgb(40, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    path = tmp_path / "sideways.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    decoded = image_io.load(path)
    assert decoded.pixels.shape[:2] == (40, 20)
    error = {turns: np.abs(decoded.pixels.astype(int) - np.rot90(pixels, turns)).mean() for turns in (-1, 1)}
    assert error[-1] < 6 < 30 < error[1]  # clockwise, as orientation 6 says, not counter-clockwise


def test_gif_takes_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert tuple(image_io.load(path).pixels[0, 0]) == (255, 0, 0)


def test_output_options_choose_format_quality_and_suffix(tmp_path):
    decoded = image_io.load(write_image(tmp_path / "a.jpg", gradient_rgb(64, 64), quality=95))
    as_png = reopen(image_io.encode(decoded.pixels, decoded, {**DEFAULT, "format": "png"}))
    assert as_png.format == "PNG" and image_io.output_suffix(".jpg", {"format": "png"}) == ".png"
    low = image_io.encode(decoded.pixels, decoded, {**DEFAULT, "quality": 20})
    high = image_io.encode(decoded.pixels, decoded, DEFAULT)
    assert len(low) < len(high)
    webp = reopen(image_io.encode(decoded.pixels, decoded, {**DEFAULT, "format": "webp", "webp_lossless": True}))
    assert webp.format == "WEBP" and np.array_equal(np.asarray(webp), decoded.pixels)


def test_alpha_is_dropped_only_where_the_format_cannot_hold_it(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.dstack([gradient_rgb(), gradient_rgb()[..., :1]]), mode="RGBA").save(path)
    decoded = image_io.load(path)
    assert reopen(image_io.encode(decoded.pixels, decoded, {**DEFAULT, "format": "jpeg"})).mode == "RGB"
    assert reopen(image_io.encode(decoded.pixels, decoded, {**DEFAULT, "format": "webp"})).mode == "RGBA"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"definitely not an image", "cannot decode image"),
        ("truncated", "cannot decode image"),
        (_png_header_only(30000, 30000), "decompression bomb"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.jpg"
    if content == "truncated":
        whole = write_image(tmp_path / "whole.jpg", gradient_rgb(128, 128)).read_bytes()
        content = whole[: len(whole) // 2]
    Path(path).write_bytes(content)
    with pytest.raises(image_io.UnsupportedImage, match=reason):
        image_io.load(path)


def test_float_images_are_refused_as_unsupported(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8), mode="F").save(path)
    with pytest.raises(image_io.UnsupportedImage, match="image mode F is not supported"):
        image_io.load(path)


def _photo(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height)], -1)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("mode", "size", "options"),
    [
        ("RGB", (640, 480), {"quality": 95}),
        ("RGB", (37, 23), {"quality": 75, "subsampling": 0}),
        ("RGB", (101, 67), {"quality": 90, "subsampling": 1}),
        ("RGB", (120, 90), {"quality": 85, "progressive": True}),
        ("RGB", (96, 64), {"quality": 80, "optimize": True, "restart_marker_blocks": 4}),
        ("L", (53, 41), {"quality": 92}),
    ],
)
def test_plain_jpegs_decode_to_pillows_pixels_through_opencv(tmp_path, mode, size, options):
    """Upright RGB and grey JPEGs are decoded by OpenCV (twice as fast): every pixel must be Pillow's."""
    pixels = _photo(*size, seed=size[0])
    image = Image.fromarray(pixels if mode == "RGB" else pixels[:, :, 1])
    path = tmp_path / "in.jpg"
    image.save(path, format="JPEG", **options)
    with Image.open(path) as opened:
        opened.load()
        expected = np.asarray(opened)
        assert image_io._plain_jpeg(opened, path) is not None  # the OpenCV path is the one checked
    decoded = image_io.load(path)
    assert decoded.format == "JPEG" and decoded.mode == mode
    assert decoded.pixels.dtype == np.uint8 and not decoded.pixels.flags.writeable
    assert np.array_equal(decoded.pixels, expected)


def test_jpegs_opencv_does_not_take_go_through_pillow(tmp_path):
    """A rotated (EXIF 6), CMYK, or trailing-bytes JPEG is Pillow's to decode, as before."""
    pixels = _photo(40, 30, seed=3)
    rotated = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(pixels).save(rotated, quality=90, exif=exif)
    assert image_io.load(rotated).pixels.shape == (40, 30, 3)  # turned upright by Pillow
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(pixels).convert("CMYK").save(cmyk, quality=90)
    trailing = tmp_path / "trailing.jpg"
    Image.fromarray(pixels).save(trailing, quality=90)
    trailing.write_bytes(trailing.read_bytes() + b"garbage")
    for path in (cmyk, trailing):  # (the rotated one: load checks the orientation first)
        with Image.open(path) as opened:
            assert image_io._plain_jpeg(opened, path) is None
    assert image_io.load(trailing).pixels.shape == (30, 40, 3)


def _pillow_jpeg(pixels: np.ndarray, quality: int, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality, **save)
    return buffer.getvalue()


@pytest.mark.parametrize("quality", [1, 50, 95, 100])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (48, 64), (250, 333)])
def test_plain_jpegs_are_written_byte_for_byte_as_pillow_writes_them(size, quality):
    """RGB and grey JPEGs are encoded by OpenCV (faster): the file must be Pillow's own."""
    rng = np.random.default_rng(sum(size) + quality)
    rgb = np.clip(gradient_rgb(size[1], size[0]).astype(int) + rng.integers(-40, 41, (*size, 3)), 0, 255)
    for pixels in (rgb.astype(np.uint8), rgb[:, :, 1].astype(np.uint8)):
        mode = "RGB" if pixels.ndim == 3 else "L"
        decoded = image_io.Decoded(pixels, "JPEG", mode)
        assert image_io.encode(pixels, decoded, {**DEFAULT, "quality": quality}) == _pillow_jpeg(pixels, quality)


def test_jpegs_keep_their_dpi_and_colour_profile():
    """What OpenCV cannot write (a JFIF density, an ICC profile) sends the copy through Pillow."""
    icc = Image.new("RGB", (1, 1)).info.get("icc_profile") or b"\0" * 128 + b"acsp" + b"\0" * 64
    pixels = gradient_rgb(40, 30)
    for info in ({"dpi": (300, 300)}, {"icc_profile": icc}):
        decoded = image_io.Decoded(pixels, "JPEG", "RGB", info=info)
        again = reopen(image_io.encode(pixels, decoded, DEFAULT))
        for key, value in info.items():
            assert again.info.get(key) == value
        assert image_io.encode(pixels, decoded, DEFAULT) == _pillow_jpeg(pixels, 95, **info)


def test_a_jpeg_too_wide_for_the_format_fails_as_pillow_says_with_no_opencv_log(capfd):
    pixels = np.zeros((2, image_io.JPEG_LARGEST + 1, 3), np.uint8)
    with pytest.raises(OSError):
        image_io.encode(pixels, image_io.Decoded(pixels, "JPEG", "RGB"), DEFAULT)
    assert "ERROR" not in capfd.readouterr().err
    edge = np.zeros((2, image_io.JPEG_LARGEST, 3), np.uint8)  # the largest side JPEG holds still goes
    assert reopen(image_io.encode(edge, image_io.Decoded(edge, "JPEG", "RGB"), DEFAULT)).size == (65500, 2)
