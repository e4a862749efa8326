"""16-bit images stay 16-bit where the format holds it, palettes with transparency stay palettes
where the transforms allow; every other conversion is named in a warning, once per input file."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from augcli.core.transforms import REGISTRY, transforms_for
from augcli.image import io as image_io
from augcli.image.labels.shapes import Box
from augcli.image.mix.transforms import Mixing, Partner, Picture, Rules
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo

SAME = {"format": "same"}
W, H = 64, 48


def linear16(width: int = W, height: int = H) -> np.ndarray:
    """16-bit RGB whose channels are planes a + b x + c y: bilinear resampling reproduces a plane
    exactly, so any warp's result is known in closed form. No value is a multiple of 256."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = [20000 + 37 * x + 53 * y, 5000 + 61 * x + 11 * y, 60000 - 50 * x - 40 * y]
    return np.rint(np.dstack(planes)).astype(np.uint16)


def write16(path: Path, rgb: np.ndarray) -> Path:
    """A 16-bit PNG / TIFF written by OpenCV, which takes BGR(A)."""
    code = cv2.COLOR_RGB2BGR if rgb.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, code))
    return path


def read16(data: bytes) -> np.ndarray:
    """RGB(A) uint16 pixels of encoded bytes, read by OpenCV (not by augcli)."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert bgr.dtype == np.uint16
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB if bgr.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)


def rgba16() -> np.ndarray:
    alpha = np.tile(np.linspace(1000, 64000, W).astype(np.uint16), (H, 1))
    return np.dstack([linear16(), alpha])


def palette_image(transparency: int | bytes) -> Image.Image:
    """A 16-colour P image whose index 2 is transparent (int) or whose alphas vary (bytes)."""
    y, x = np.mgrid[0:H, 0:W]
    image = Image.fromarray(((x // 4 + y // 6) % 16).astype(np.uint8), mode="L").convert("P")
    image.putpalette([v for i in range(16) for v in (i * 16, 255 - i * 8, (i * 40) % 256)])
    image.info["transparency"] = transparency
    return image


def save_palette(path: Path, image: Image.Image) -> Path:
    image.save(path, transparency=image.info["transparency"])
    return path


def transform(name: str, **settings):
    return REGISTRY["image"][name](**settings)


def apply(pixels: np.ndarray, name: str, settings: dict | None = None, **params) -> np.ndarray:
    t = transform(name, **(settings or {}))
    return run_ops(pixels, [t.op(ImageInfo.of(pixels), **params)])


# --- decoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("channels", [3, 4])
def test_sixteen_bit_colour_decodes_to_uint16_in_rgb_order(tmp_path, suffix, channels):
    source = linear16() if channels == 3 else rgba16()
    path = write16(tmp_path / f"deep{suffix}", source)
    decoded = image_io.load(path)
    assert decoded.pixels.dtype == np.uint16 and np.array_equal(decoded.pixels, source)
    assert decoded.mode == ("RGB;16" if channels == 3 else "RGBA;16")
    with Image.open(path) as pillow:  # Pillow's 8 bits are the top byte: same channel order
        assert np.array_equal(decoded.pixels >> 8, np.asarray(pillow))
    assert np.array_equal(image_io.load_bytes(path.read_bytes()), source)


def test_sixteen_bit_grey_with_alpha_png_decodes_to_two_channels(tmp_path):
    la = linear16()[:, :, [0, 2]]
    path = tmp_path / "la.png"
    path.write_bytes(image_io.encode(la, image_io.Decoded(la, "PNG", "LA;16"), SAME))
    assert path.read_bytes()[24:26] == bytes([16, 4])  # 16-bit grey + alpha
    decoded = image_io.load(path)
    assert decoded.mode == "LA;16" and np.array_equal(decoded.pixels, la)
    with Image.open(path) as pillow:  # Pillow reads it as 8-bit RGBA
        assert np.array_equal(np.asarray(pillow), (la[:, :, [0, 0, 0, 1]] >> 8).astype(np.uint8))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_on_arrays_matches_pillow(orientation):
    pixels = np.arange(3 * 5, dtype=np.uint8).reshape(3, 5)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", exif=exif)
    with Image.open(buffer) as reopened:
        expected = np.asarray(ImageOps.exif_transpose(reopened))
    assert np.array_equal(image_io._upright(pixels, orientation), expected)


def test_a_sixteen_bit_png_with_exif_orientation_is_turned_upright(tmp_path):
    source = linear16()
    path = write16(tmp_path / "turned.png", source)
    carrier = io.BytesIO()
    exif = Image.new("L", (1, 1)).getexif()
    exif[0x0112] = 6
    Image.new("L", (1, 1)).save(carrier, format="PNG", exif=exif)
    raw = carrier.getvalue()
    start = raw.index(b"eXIf") - 4
    chunk = raw[start : start + 12 + int.from_bytes(raw[start : start + 4], "big")]
    data = path.read_bytes()
    path.write_bytes(data[:33] + chunk + data[33:])  # right after IHDR
    decoded = image_io.load(path)
    assert np.array_equal(decoded.pixels, np.rot90(source, -1))  # orientation 6: turned clockwise
    with Image.open(path) as pillow:
        assert np.array_equal(decoded.pixels >> 8, np.asarray(ImageOps.exif_transpose(pillow)))


# --- transforms on 16 bits -------------------------------------------------------------------


def test_hflip_keeps_every_sixteen_bit_value(tmp_path):
    decoded = image_io.load(write16(tmp_path / "a.png", linear16()))
    out = apply(decoded.pixels, "hflip")
    assert out.dtype == np.uint16 and np.array_equal(out, linear16()[:, ::-1])
    data, notes = image_io.encode_noting(out, decoded, SAME)
    assert notes == () and np.array_equal(read16(data), linear16()[:, ::-1])


def rotated_reference(source: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel of a counter-clockwise turn by `angle` about the centre comes from,
    evaluated on the planes of `linear16` (exact), and which pixels come from well inside."""
    height, width = source.shape[:2]
    cx, cy = (width - 1) / 2, (height - 1) / 2
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    a = math.radians(angle)
    # screen coordinates (y down): a CCW turn moves (dx, dy) to (dx cos + dy sin, -dx sin + dy cos)
    sx = cx + (x - cx) * math.cos(a) - (y - cy) * math.sin(a)
    sy = cy + (x - cx) * math.sin(a) + (y - cy) * math.cos(a)
    planes = [20000 + 37 * sx + 53 * sy, 5000 + 61 * sx + 11 * sy, 60000 - 50 * sx - 40 * sy]
    inside = (sx >= 1) & (sx <= width - 2) & (sy >= 1) & (sy <= height - 2)
    return np.dstack(planes), inside


def test_rotate_resamples_sixteen_bit_values_as_the_plane_says(tmp_path):
    decoded = image_io.load(write16(tmp_path / "a.tif", linear16()))
    out = apply(decoded.pixels, "rotate", angle=17.0)
    assert out.dtype == np.uint16
    expected, inside = rotated_reference(linear16(), 17.0)
    error = np.abs(out.astype(np.float64) - expected)[inside]
    assert inside.sum() > W * H // 2 and error.max() < 3  # 8 bits would be off by up to 255
    data, notes = image_io.encode_noting(out, decoded, SAME)
    assert notes == () and np.array_equal(read16(data), out)


def test_colour_jitter_scales_sixteen_bit_values(tmp_path):
    decoded = image_io.load(write16(tmp_path / "a.png", linear16()))
    out = apply(decoded.pixels, "color_jitter", {"brightness": 0.3}, order=["brightness"], brightness=1.2)
    expected = np.clip(np.rint(linear16() * 1.2), 0, 65535)
    assert out.dtype == np.uint16 and np.abs(out - expected).max() <= 1
    assert out.max() == 65535 and (out < 65535).any()  # clipped at the 16-bit top, not at 255


@pytest.mark.parametrize("name", sorted(set(transforms_for("image")) - {"one_of", "some_of"}))
@pytest.mark.parametrize("channels", [3, 4])
def test_every_transform_keeps_sixteen_bit_colour(name, channels):
    required = {"crop": {"size": [20, 30]}, "center_crop": {"size": [20, 30]}, "resize": {"size": [24, 32]}}
    required["color_jitter"] = {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.1}
    pixels = linear16() if channels == 3 else rgba16()
    t = transform(name, **required.get(name, {}))
    applied, _ = t.plan(np.random.default_rng(5), ImageInfo.of(pixels))
    if isinstance(t, Mixing):  # a partner: the picture upside down, one object with a shape
        height, width = pixels.shape[:2]
        shape = Box(2.0, 2.0, width - 2.0, height - 2.0, 0, polygons=((2, 2, width - 2, 2, width / 2, height - 2),))
        partner = Partner("p.png", Picture(np.ascontiguousarray(pixels[::-1]), [shape]))
        (step,) = applied
        out = t.mix(Picture(pixels), step.params, lambda k: partner, Rules()).pixels
    else:
        out = run_ops(pixels, [a.transform.op(a.info, **a.params) for a in applied])
    assert out.dtype == np.uint16 and out.shape[2] == channels
    colour = out[:, :, :3]
    eight_bit = colour == (colour >> 8) * 257  # what 8 bits widened to 16 look like
    assert eight_bit.all() if name == "jpeg_compression" else not eight_bit.all()  # JPEG holds 8 bits


# --- encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_formats_of_eight_bits_say_so(tmp_path, fmt):
    decoded = image_io.load(write16(tmp_path / "a.png", linear16()))
    data, notes = image_io.encode_noting(decoded.pixels, decoded, {"format": fmt})
    name = {"jpeg": "JPEG", "webp": "WebP"}[fmt]
    assert notes == (f"16-bit RGB written as 8-bit ({name} holds 8 bits a channel)",)
    assert Image.open(io.BytesIO(data)).mode == "RGB"


def test_sixteen_bit_grey_to_jpeg_says_so_and_keeps_its_bytes(tmp_path):
    grey = linear16()[:, :, 0]
    path = tmp_path / "g.png"
    Image.fromarray(grey).save(path)
    decoded = image_io.load(path)
    data, notes = image_io.encode_noting(decoded.pixels, decoded, {"format": "jpeg"})
    assert notes == ("16-bit grey written as 8-bit (JPEG holds 8 bits a channel)",)
    assert data == image_io.encode(decoded.pixels, decoded, {"format": "jpeg"})
    _, kept = image_io.encode_noting(decoded.pixels, decoded, SAME)
    assert kept == ()


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_sixteen_bit_writers_keep_icc_dpi_and_alpha(fmt):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = rgba16()
    decoded = image_io.Decoded(pixels, fmt, "RGBA;16", info={"icc_profile": icc, "dpi": (300.0, 150.0)})
    data = image_io.encode(pixels, decoded, SAME)
    assert data == image_io.encode(pixels, decoded, SAME)  # deterministic
    assert np.array_equal(read16(data), pixels)
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.format == fmt and reopened.mode == "RGBA"
        assert reopened.info["icc_profile"] == icc
        assert [round(v) for v in reopened.info["dpi"]] == [300, 150]
        if fmt == "TIFF":
            assert reopened.tag_v2[338] == (2,)  # the fourth sample is unassociated alpha
            assert reopened.tag_v2[258] == (16, 16, 16, 16)
        else:
            assert data[24:26] == bytes([16, 6])  # 16-bit RGBA


# --- palettes --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "transparency"), [("png", 2), ("png", bytes([255, 0, 128] + [255] * 13)), ("gif", 2)])
def test_palette_with_transparency_stays_a_palette_through_exact_moves(tmp_path, fmt, transparency):
    source = palette_image(transparency)
    decoded = image_io.load(save_palette(tmp_path / f"p.{fmt}", source))
    indices = np.asarray(source)
    moves = [
        ("hflip", {}, {}, indices[:, ::-1]),
        ("rot90", {}, {"turns": 1}, np.rot90(indices, 1)),
        ("center_crop", {"size": [20, 30]}, {"top": 14, "left": 17}, indices[14:34, 17:47]),
    ]
    for name, settings, params, expected in moves:
        data, notes = image_io.encode_noting(apply(decoded.pixels, name, settings, **params), decoded, SAME)
        again = Image.open(io.BytesIO(data))
        assert notes == () and again.mode == "P", name
        assert np.array_equal(np.asarray(again), expected), name
        assert again.getpalette()[:48] == source.getpalette()[:48]
        assert again.info["transparency"] == transparency


def test_palette_with_transparency_through_rotate_becomes_rgba_and_says_so(tmp_path):
    decoded = image_io.load(save_palette(tmp_path / "p.png", palette_image(2)))
    out = apply(decoded.pixels, "rotate", angle=17.0)
    data, notes = image_io.encode_noting(out, decoded, SAME)
    assert notes == (
        "palette PNG with transparency written as RGBA (a transform gave a copy colours its palette "
        "lacks; flips, quarter turns and crops keep the palette)",
    )
    again = Image.open(io.BytesIO(data))
    assert again.mode == "RGBA" and np.array_equal(np.asarray(again), out)


def test_palette_without_transparency_keeps_its_old_path(tmp_path):
    source = palette_image(0)
    del source.info["transparency"]
    path = tmp_path / "p.png"
    source.save(path)
    decoded = image_io.load(path)
    out = apply(decoded.pixels, "rotate", angle=17.0)
    data, notes = image_io.encode_noting(out, decoded, SAME)
    assert notes == () and Image.open(io.BytesIO(data)).mode == "P"  # snapped to its palette, as before
    _, to_jpeg = image_io.encode_noting(out, decoded, {"format": "jpeg"})
    assert to_jpeg == ("palette PNG written as RGB (JPEG holds no palette)",)


# --- the real CLI ----------------------------------------------------------------------------


def run_cli(tmp_path: Path, data: Path, name: str, recipe: str) -> tuple[Path, str]:
    recipe_path = tmp_path / f"{name}.yaml"
    recipe_path.write_text(recipe)
    out = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "augcli", "run", str(recipe_path), str(data), str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc.stderr


def manifest(out: Path) -> dict[str, list[dict]]:
    with open(out / "manifest.csv", newline="") as handle:
        return {row["output"]: json.loads(row["transforms"]) for row in csv.DictReader(handle)}


@pytest.fixture()
def dataset(tmp_path) -> Path:
    data = tmp_path / "in"
    data.mkdir()
    write16(data / "deep.png", linear16())
    write16(data / "deep4.tif", rgba16())
    save_palette(data / "pal.png", palette_image(bytes([255, 0, 128] + [255] * 13)))
    return data


def test_cli_keeps_depth_and_palette_through_flips(tmp_path, dataset):
    out, stderr = run_cli(tmp_path, dataset, "flipped", "seed: 1\ncopies: 2\nimage:\n  transforms:\n    - hflip: {}\n")
    assert "warning" not in stderr
    for k in (0, 1):
        assert np.array_equal(read16((out / f"deep_aug{k}.png").read_bytes()), linear16()[:, ::-1])
        assert np.array_equal(read16((out / f"deep4_aug{k}.tif").read_bytes()), rgba16()[:, ::-1])
        with Image.open(out / f"pal_aug{k}.png") as copy, Image.open(dataset / "pal.png") as source:
            assert copy.mode == "P" and copy.getpalette() == source.getpalette()
            assert copy.info["transparency"] == source.info["transparency"]
            assert np.array_equal(np.asarray(copy), np.asarray(source)[:, ::-1])


def test_cli_rotates_sixteen_bits_and_names_each_conversion_once(tmp_path, dataset):
    recipe = "seed: 1\ncopies: 3\nimage:\n  transforms:\n    - rotate: {degrees: [10, 20]}\n"
    out, stderr = run_cli(tmp_path, dataset, "rotated", recipe)
    records = manifest(out)
    angle = records["deep_aug0.png"][0]["params"]["angle"]
    expected, inside = rotated_reference(linear16(), angle)
    rotated = read16((out / "deep_aug0.png").read_bytes())
    assert np.abs(rotated - expected)[inside].max() < 3
    with Image.open(out / "pal_aug1.png") as copy:
        assert copy.mode == "RGBA"
    lines = [line for line in stderr.splitlines() if "warning" in line]
    assert lines == [
        "augcli: warning: pal.png: palette PNG with transparency written as RGBA (a transform gave a copy "
        "colours its palette lacks; flips, quarter turns and crops keep the palette)"
    ]
    out, stderr = run_cli(tmp_path, dataset, "as_jpeg", recipe + "  output: {format: jpeg}\n")
    lines = sorted(line for line in stderr.splitlines() if "warning" in line)
    assert lines == [
        "augcli: warning: deep.png: 16-bit RGB written as 8-bit (JPEG holds 8 bits a channel)",
        "augcli: warning: deep4.tif: 16-bit RGBA written as 8-bit (JPEG holds 8 bits a channel)",
        "augcli: warning: pal.png: palette PNG with transparency written as RGB (JPEG holds neither a palette "
        "nor alpha)",
    ]
    assert Image.open(out / "deep_aug2.jpg").mode == "RGB"
