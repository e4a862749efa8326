"""The preview and run report's edges (#24): annotations coloured by class alike (masks included)
with left and right keypoints told apart, contact-sheet captions beside their pictures, photos
embedded as display-sized JPEG, `--copies` honoured by the text preview, tabular plots that leave
out ignored and boolean columns, the text report's fired counts per sample, and the install line."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from augcli.build.plan import build_plan
from augcli.core.recipe import load_recipe
from augcli.image.labels import yolo
from augcli.report import MISSING, draw, preview, require, run_report
from tests.test_cli import invoke, read_manifest

ROOT = Path(__file__).resolve().parent.parent
GREY = (128, 128, 128)


def _box(x0, y0, x1, y1, label, keypoints=()):
    return SimpleNamespace(x0=x0, y0=y0, x1=x1, y1=y1, label=label, polygons=(), keypoints=keypoints)


def _tinted(under, tint) -> tuple[int, ...]:
    """What the mask layer makes of a pixel: MASK_ALPHA of the class colour over it, rounded."""
    mixed = np.array(under, np.float32) * (1 - draw.MASK_ALPHA) + np.array(tint, np.float32) * draw.MASK_ALPHA
    return tuple(int(v) for v in np.rint(mixed))


def _preview(data: Path, recipe_path: Path, files: int = 8, copies: int = 3):
    recipe = load_recipe(recipe_path)
    return preview.build(build_plan(recipe, data.resolve()), recipe, files, copies, {})


# --- 1. colours by class: boxes, masks, keypoints --------------------------------------------------


def test_boxes_masks_and_keypoints_take_their_class_colour_and_side():
    pixels = np.full((80, 100, 3), GREY, np.uint8)
    mask = np.zeros((80, 100), np.uint8)
    mask[25:56, 25:56] = 2  # YOLO class 1 written as mask value 2 (0 is the background)
    mask[5:16, 70:91] = 1  # class 0 as value 1
    mask[65:76, 5:16] = 3  # no box covers it: it follows the others' offset, class 2
    mask[70:80, 60:70] = 255  # the erase value: left clear
    keypoints = ((40.5, 25.5, 2), (30.5, 40.5, 2), (50.5, 40.5, 2))  # nose, left hand, right hand
    boxes = [_box(20, 20, 60, 60, 1, keypoints), _box(70, 5, 91, 16, 0)]
    sides = draw.keypoint_sides((0, 2, 1))
    assert sides == ("centre", "left", "right")
    classes = draw.mask_classes(mask, boxes, 255)
    assert classes == {1: 0, 2: 1, 3: 2}
    shown = draw.overlay(pixels, boxes, mask, 255, classes, sides)
    assert shown.shape == (80, 100, 3)  # smaller than the display: drawn as it is
    at = lambda x, y: tuple(int(v) for v in shown[y, x])  # noqa: E731
    # class 1: box edge, mask outline and mask interior in its colour; the nose in it too
    assert at(20, 20) == at(59, 59) == at(21, 40) == draw.colour(1)
    assert at(25, 45) == draw.colour(1)  # the mask's outline, inside the box
    assert at(35, 50) == _tinted(GREY, draw.colour(1))
    assert at(40, 25) == draw.colour(1)
    # left and right hands: a white dot and a black square whatever the class
    assert at(30, 40) == draw.LEFT and at(50, 40) == draw.RIGHT
    assert at(33, 40) == draw.RIGHT and at(33, 43) == _tinted(GREY, draw.colour(1))  # a dot: black rim, round
    assert at(53, 40) == at(53, 43) == draw.LEFT and at(52, 42) == draw.RIGHT  # a square: white rim, corners
    # class 0: its box and its mask (value 1) alike; value 3 as class 2; the erase value untouched
    assert at(70, 5) == draw.colour(0) and at(80, 10) == _tinted(GREY, draw.colour(0))
    assert at(10, 70) == _tinted(GREY, draw.colour(2)) and at(5, 65) == draw.colour(2)
    assert at(65, 77) == GREY and at(2, 2) == GREY


def test_mask_values_keep_the_originals_class_in_a_copy_that_lost_the_box():
    mask = np.zeros((20, 20), np.uint8)
    mask[2:8, 2:8] = 1
    known = draw.mask_classes(mask, [_box(2, 2, 8, 8, "cat")], None)
    assert known == {1: "cat"}
    mask[12:18, 12:18] = 4  # a value no box covers, with names: it stands for itself
    assert draw.mask_classes(mask, [], None, known) == {1: "cat", 4: 4}


def test_a_large_picture_is_drawn_at_its_display_size():
    pixels = np.full((800, 1040, 3), GREY, np.uint8)
    mask = np.zeros((800, 1040), np.uint8)
    mask[400:600, 400:800] = 1
    shown = draw.overlay(pixels, [_box(400, 400, 800, 600, 0, ((600, 500, 2),))], mask, None, None, ("centre",))
    assert shown.shape == (200, 260, 3)  # 1040 px wide shown 260 wide: a quarter
    assert tuple(shown[100, 100]) == draw.colour(0) and tuple(shown[101, 101]) == draw.colour(0)  # 2 px line
    assert tuple(shown[110, 120]) == _tinted(GREY, draw.colour(0))
    assert tuple(shown[125, 150]) == draw.colour(0)  # the keypoint at (600, 500) / 4


@pytest.mark.parametrize(
    ("flip_idx", "names", "sides"),
    [
        ((0, 2, 1, 4, 3), (), ("centre", "left", "right", "left", "right")),  # ultralytics: lower index left
        ((0, 2, 1), ("nose", "right_eye", "left_eye"), ("centre", "right", "left")),  # names decide
        ((1, 0), ("R_ear", "L_ear"), ("right", "left")),
        ((1, 0), ("a", "b"), ("left", "right")),
        ((), ("left_hand", "head", "r_hand"), ("left", "centre", "right")),  # no pairs: names alone
        ((0, 1), (), ("centre", "centre")),
    ],
)
def test_keypoint_sides(flip_idx, names, sides):
    assert draw.keypoint_sides(flip_idx, names) == sides


def test_the_palette_stays_apart_and_the_mask_layer_lets_an_object_show():
    distance = lambda a, b: float(np.linalg.norm(np.subtract(a, b, dtype=np.float64)))  # noqa: E731
    assert len(draw.PALETTE) == 10 and len(set(draw.PALETTE)) == 10
    assert min(distance(a, b) for a, b in itertools.combinations(draw.PALETTE, 2)) >= 85
    for tint in draw.PALETTE:  # never white or black (the keypoint sides), never dark or pale
        assert min(distance(tint, draw.LEFT), distance(tint, draw.RIGHT)) >= 140
        assert 70 <= 0.2126 * tint[0] + 0.7152 * tint[1] + 0.0722 * tint[2] <= 235
    # a magenta object on grey, under a mask of any class colour: it keeps 65 % of its contrast
    magenta = (240, 50, 230)
    for label in range(len(draw.PALETTE)):
        pixels = np.full((12, 12, 3), GREY, np.uint8)
        pixels[4:8, 4:8] = magenta
        shown = draw.overlay(pixels, (), np.ones((12, 12), np.uint8), None, {1: label})
        kept = distance(shown[5, 5], shown[2, 2]) / distance(magenta, GREY)
        assert kept == pytest.approx(1 - draw.MASK_ALPHA, abs=0.01) and kept >= 0.6


def test_pose_copies_show_left_and_right_keypoints_where_the_labels_put_them(tmp_path):
    """hflip on every copy: the preview's markers sit on the copy's keypoints, white for the left
    ones and black for the right ones, by data.yaml's flip_idx [0, 2, 1, 4, 3]."""
    data = ROOT / "sample_data" / "pose"
    recipe_path = tmp_path / "pose.yaml"
    recipe_path.write_text(
        "seed: 5\ncopies: 2\nimage:\n  annotations: {format: yolo}\n  passthrough: ['val/**']\n"
        "  transforms:\n    - hflip\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe_path, data, out, "-q").exit_code == 0
    (section,) = _preview(data, recipe_path, files=2, copies=2)
    assert [side for side in preview.keypoint_sides(load_recipe_layout(recipe_path, data))] == [
        "centre",
        "left",
        "right",
        "left",
        "right",
    ]
    checked = 0
    for item in section["files"]:
        assert preview.KEYPOINT_LEGEND in item.notes
        for cell in item.cells[1:]:
            stem = Path(item.source).stem
            label = out / "labels" / "train" / f"{stem}_aug{cell.label.split()[1]}.txt"
            (box,), _ = yolo.read(label, 160, 128, 1, (5, 3))
            expected = [draw.colour(0), draw.LEFT, draw.RIGHT, draw.LEFT, draw.RIGHT]
            for (x, y, visible), colour in zip(box.keypoints, expected, strict=True):
                if visible:
                    assert tuple(int(v) for v in cell.pixels[int(y), int(x)]) == colour, (label, x, y)
                    checked += 1
            # the person faces the camera: their left hand stays on the picture's right after the flip
            assert box.keypoints[1][0] > box.keypoints[2][0]
    assert checked >= 16


def load_recipe_layout(recipe_path: Path, data: Path):
    recipe = load_recipe(recipe_path)
    build_plan(recipe, data.resolve())
    return recipe.sections["image"].bound["layout"]


# --- 2. the contact sheet's captions ----------------------------------------------------------------


def _ink(sheet: np.ndarray) -> np.ndarray:
    return (sheet < 110).all(axis=2)  # caption text (black and dark grey), not the pictures


def test_contact_sheet_captions_sit_right_under_their_pictures():
    blue = np.zeros((50, 100, 3), np.uint8)
    blue[...] = (0, 0, 255)
    tall = np.zeros((120, 40, 3), np.uint8)
    tall[...] = (255, 0, 0)
    rows = [("row one", [(blue, "original"), (tall, "copy 0", "hflip; rotate(angle 3.5)")]), ("row two", [(blue, "x")])]
    sheet = np.asarray(Image.open(io.BytesIO(draw.contact_sheet(rows, cell=200))).convert("RGB")).astype(int)
    pad = draw.SHEET_PAD
    cell = 200
    for colour, column in (((0, 0, 255), 0), ((255, 0, 0), 1)):
        x0 = pad + column * (cell + pad)
        where = np.argwhere((sheet[:, x0 : x0 + cell] == colour).all(axis=2))
        top, bottom = where[:, 0].min(), where[:, 0].max()  # the first row's picture
        width = where[:, 1].max() + 1
        ink = np.argwhere(_ink(sheet[bottom + 1 : bottom + 60, x0 : x0 + cell]))
        assert len(ink), "no caption under the picture"
        gap = ink[:, 0].min()  # rows between the picture's bottom edge and the caption's first ink
        assert draw.CAPTION_GAP <= gap <= draw.CAPTION_GAP + 6, gap
        assert ink[:, 1].min() <= 2  # starts at the picture's left edge
        assert ink[:, 1].max() < max(width, cell)  # and stays within its column
        lines = sorted({int(r) for r in ink[:, 0]})
        assert lines[-1] - lines[0] < (14 if column == 0 else 45)  # one line; or label + parameters
        assert top > pad  # below the row title
    # the second row starts right after the first row's tallest picture and its captions
    blue_rows = np.argwhere((sheet[:, pad : pad + cell] == (0, 0, 255)).all(axis=2))[:, 0]
    second_top = blue_rows[blue_rows > 100].min()
    first_bottom = np.argwhere((sheet[:, pad + cell + pad : 2 * (pad + cell)] == (255, 0, 0)).all(axis=2))[:, 0].max()
    assert second_top - first_bottom < 90


def test_preview_png_sheet_puts_each_caption_under_its_picture(tmp_path):
    """The CLI's sheet of the shipped detection sample: under every picture (160 x 120), ink within
    a few pixels, none in the old 80-pixel gap."""
    sheet = tmp_path / "sheet.png"
    recipe = ROOT / "configs" / "detection.yaml"
    result = invoke("preview", recipe, ROOT / "sample_data" / "detection", "-o", sheet, "--format", "png")
    assert result.exit_code == 0, result.output
    pixels = np.asarray(Image.open(sheet).convert("RGB")).astype(int)
    ink = _ink(pixels)
    picture = (np.abs(pixels - 255).sum(axis=2) > 0) & ~ink  # not white and not text
    x0 = draw.SHEET_PAD
    rows = picture[:, x0 : x0 + 160].any(axis=1).astype(int)
    starts = np.flatnonzero(np.diff(rows) == 1) + 1
    ends = np.flatnonzero(np.diff(rows) == -1)  # the last row of each run
    pictures = [(a, b) for a, b in zip(starts, ends, strict=False) if b - a >= 100]  # not a caption's grey
    assert len(pictures) >= 2
    for _, bottom in pictures:
        below = np.flatnonzero(ink[bottom + 1 : bottom + 40, x0 : x0 + 160].any(axis=1))
        assert len(below) and below[0] <= draw.CAPTION_GAP + 6, (bottom, below[:3])


# --- 3. photos as display-sized JPEG ----------------------------------------------------------------


def _photo(rng: np.random.Generator, width: int = 1280, height: int = 960) -> Image.Image:
    """A photograph-like picture: smooth shapes of light and colour, a little sensor noise."""
    coarse = rng.uniform(0, 255, (12, 16, 3)).astype(np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC), np.float32)
    noisy = smooth + rng.normal(0, 4, smooth.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


PHOTO_LIMIT = 2_000_000  # bytes: 8 photos x (original + 6 copies); 56 full-size PNGs made 12.5 MB


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="(data:image/[a-z]+);base64,([^"]+)"', html)


def test_photos_are_embedded_as_display_sized_jpeg(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(3)
    for i in range(8):
        _photo(rng).save(data / f"p{i}.jpg", quality=92)
    line_art = np.full((300, 400, 3), 255, np.uint8)
    line_art[100:200, 50:350] = (0, 110, 230)
    Image.fromarray(line_art).save(data / "chart.png")
    transparent = np.zeros((90, 120, 4), np.uint8)
    transparent[..., :3] = rng.integers(0, 255, (90, 120, 3))
    transparent[..., 3] = 128
    Image.fromarray(transparent).save(data / "glass.png")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\nimage:\n  transforms:\n    - hflip: {p: 0.5}\n    - color_jitter: {brightness: 0.2}\n")
    page = tmp_path / "preview.html"
    result = invoke("preview", recipe, data, "-o", page, "--files", "10", "--copies", "6")
    assert result.exit_code == 0, result.output
    html = page.read_text()
    found = _images(html)
    assert len(found) == 10 * 7
    by_source: dict[str, list[tuple[str, bytes]]] = {}
    for (mime, payload), source in zip(found, re.findall(r'alt="([^ "]+) (?:original|copy \d)"', html), strict=True):
        by_source.setdefault(source, []).append((mime, base64.b64decode(payload)))
    for source, images in by_source.items():
        for mime, payload in images:
            with Image.open(io.BytesIO(payload)) as image:
                if source.startswith("p"):  # a photo: JPEG at the page's 260 px
                    assert (mime, image.format, image.size) == ("data:image/jpeg", "JPEG", (260, 195))
                elif source == "chart.png":  # two colours: PNG
                    assert (mime, image.format, image.size) == ("data:image/png", "PNG", (260, 195))
                else:  # alpha: PNG, at its own size
                    assert (mime, image.format, image.size) == ("data:image/png", "PNG", (120, 90))
    photos = sum(len(payload) for source, images in by_source.items() for _, payload in images if source[0] == "p")
    assert len(html.encode()) < PHOTO_LIMIT, f"{len(html.encode()):,} bytes ({photos:,} of them photos)"


def test_the_run_report_embeds_photos_as_jpeg(tmp_path):
    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(4)
    for i in range(8):
        _photo(rng).save(data / f"p{i}.jpg", quality=92)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\ncopies: 4\nkeep_original: true\nimage:\n  transforms:\n    - hflip: {p: 0.5}\n")
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "--report", "-q", "--workers", "1")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    pictures = [mime for mime, _ in _images(html) if "plot" not in mime]
    grid = [m for m in pictures if m == "data:image/jpeg"]
    assert len(grid) == run_report.GRID_FILES * (run_report.GRID_COPIES + 1)
    assert len(html.encode()) < PHOTO_LIMIT / 2


# --- 4. the text preview honours --copies -----------------------------------------------------------


def test_text_preview_shows_as_many_copies_as_asked(tmp_path):
    data = tmp_path / "text"
    data.mkdir()
    (data / "a.txt").write_text("the cat sat on the mat\na dog ran in the park\n")
    (data / "b.csv").write_text("id,text\n1,the quick brown fox jumps\n2,over the lazy dog today\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 5\ntext:\n  include: ['*.txt', '*.csv']\n  columns: [text]\n"
        "  transforms:\n    - random_swap\n"
    )
    for copies in (1, 2, 7):
        (section,) = _preview(data, recipe, copies=copies)
        assert [item.source for item in section["files"]] == ["a.txt", "b.csv"]
        for item in section["files"]:
            assert len(item.samples) == 2
            for sample in item.samples:
                assert [copy["label"] for copy in sample["copies"]] == [f"copy {k}" for k in range(copies)]
        each = f"{copies} copies" if copies > 1 else "1 copy"
        assert f"2 text cells; {each} of each, as the run writes them" in section["files"][1].notes
    # a table's copy k is the run's copy k whatever the count shown: the first 2 of 7 are the 2
    (two,) = _preview(data, recipe, copies=2)
    (seven,) = _preview(data, recipe, copies=7)
    for few, many in zip(two["files"], seven["files"], strict=True):
        for a, b in zip(few.samples, many.samples, strict=True):
            assert a["copies"] == b["copies"][:2]


# --- 5. tabular: ignored and boolean columns are not numeric features ---------------------------------


def test_tabular_preview_plots_only_numeric_features(tmp_path):
    data = tmp_path / "tables"
    data.mkdir()
    rng = np.random.default_rng(0)
    lines = ["id,flag,x,y,zip,label"]
    for i in range(60):
        flag = "true" if i % 3 else "false"
        lines.append(f"{i},{flag},{rng.normal():.4f},{rng.normal():.4f},{10000 + i},{'ab'[i % 2]}")
    (data / "t.csv").write_text("\n".join(lines) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 1\ncopies: 2\ntabular:\n  label: label\n  ignore: [id, zip]\n"
        "  transforms:\n    - gaussian_noise: {columns: [x, y]}\n"
    )
    (section,) = _preview(data, recipe)
    (item,) = section["files"]
    assert not item.error, item.error
    assert len(item.plots) == 3  # x, y and the rows per class; not id, zip (ignored) or flag (boolean)
    import pandas as pd

    table = pd.read_csv(data / "t.csv")
    assert pd.api.types.is_bool_dtype(table["flag"])
    section_options = load_recipe(recipe).sections["tabular"].options
    assert preview.numeric_features(table, section_options) == ["x", "y"]
    assert preview.numeric_features(table, {"label": "label", "categorical": ["y"]}) == ["id", "x", "zip"]


def test_tabular_preview_shows_as_many_copies_as_asked(tmp_path, monkeypatch):
    import pandas as pd

    data = tmp_path / "tables"
    data.mkdir()
    rng = np.random.default_rng(3)
    rows = "".join(f"{rng.normal():.4f},{rng.normal():.4f},{'a' if i < 14 else 'b'}\n" for i in range(20))
    (data / "t.csv").write_text("x,y,label\n" + rows)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 4\ncopies: 3\ntabular:\n  label: label\n  resample: {method: random_oversample}\n"
        "  transforms:\n    - gaussian_noise: {columns: [x, y]}\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out, "-q").exit_code == 0
    written = pd.read_csv(out / "t.csv")
    run_copies = written.iloc[20 : 20 + 60]  # after the 20 originals: copies 0, 1, 2 of every row
    plotted: list[dict] = []
    real = preview.plots.distributions
    monkeypatch.setattr(
        preview.plots, "distributions", lambda groups, title: plotted.append(groups) or real(groups, title)
    )
    for copies in (1, 2, 5):
        plotted.clear()
        (section,) = _preview(data, recipe, copies=copies)
        (item,) = section["files"]
        assert not item.error, item.error
        each = f"{copies} copies" if copies > 1 else "1 copy"
        assert f"20 original rows, {20 * copies} augmented rows ({each} of each row), 32 synthetic rows" in item.notes
        assert "the synthetic rows are the run's, made to go with the recipe's 3 copies" in item.notes
        shown = plotted[0]["augmented"]  # column x
        assert len(shown) == 20 * copies
        first = min(copies, 3) * 20  # the run's first copies, row for row
        np.testing.assert_array_equal(shown[:first], run_copies["x"].to_numpy()[:first])
        assert len(plotted[0]["synthetic"]) == 32  # the run's: 8 more b (14 a, 6 b) for the original and 3 copies
        np.testing.assert_array_equal(plotted[0]["synthetic"], written["x"].to_numpy()[80:])


# --- 6. the text report counts per sample -------------------------------------------------------------


def test_text_report_counts_fired_samples_near_p(tmp_path):
    data = tmp_path / "text"
    data.mkdir()
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    (data / "lines.txt").write_text("".join(f"{words[i % 8]} {words[(i + 3) % 8]} {i} end\n" for i in range(150)))
    (data / "notes.txt").write_text("one two three\n\nfour five six\n")  # a blank line is no sample
    rows = "".join(f"{i},{words[i % 8]} and {words[(i + 5) % 8]} {i}\n" for i in range(100))
    (data / "table.csv").write_text("id,text\n" + rows)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 11\ncopies: 5\nkeep_original: true\ntext:\n  include: ['*.txt', '*.csv']\n  columns: [text]\n"
        "  transforms:\n"
        "    - random_swap: {p: 0.1}\n    - random_deletion: {p: 1.0}\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "-q", "--report")
    assert result.exit_code == 0, result.output
    context = run_report.build(out)
    lines = {line["name"]: line for line in context["fired"]}
    samples = (150 + 2 + 100) * 5  # every sample, in every copy
    records = [
        json.loads(r["transforms"])
        for r in read_manifest(out)
        if r["kind"] in ("copy", "table") and r["output"].endswith((".txt", ".csv"))
    ]
    swapped = sum(rec["samples"] for records_ in records for rec in records_ if rec["name"] == "random_swap")
    assert lines["random_swap"] == {
        "section": "text",
        "name": "random_swap",
        "p": "0.1",
        "fired": swapped,
        "total": samples,
        "unit": "text samples",
        "share": f"{swapped / samples:.3f}",
    }
    assert abs(swapped / samples - 0.1) <= 0.03  # 1,260 draws of p 0.1: 3.5 standard deviations
    assert (lines["random_deletion"]["fired"], lines["random_deletion"]["share"]) == (samples, "1.000")
    html = (out / "report.html").read_text()
    assert f"<td>{swapped}</td><td>{samples} text samples</td>" in html


# --- 7. the install line --------------------------------------------------------------------------------


def test_the_missing_extra_says_how_to_install_from_a_clone(monkeypatch, tmp_path):
    assert MISSING == (
        "augcli preview and reports need matplotlib and Jinja2: in augcli's clone, pip install -e '.[report]' "
        "(or pip install matplotlib jinja2)"
    )
    monkeypatch.setitem(sys.modules, "jinja2", None)  # import jinja2 raises ImportError
    with pytest.raises(ImportError) as caught:
        require()
    assert str(caught.value) == MISSING
    recipe = tmp_path / "r.yaml"
    recipe.write_text("image:\n  transforms: [hflip]\n")
    result = invoke("preview", recipe, tmp_path)
    assert result.exit_code == 2 and MISSING in result.output


def _missing_says(monkeypatch, module: str, call, extra: str) -> str:
    """The message `call` raises with `module` not installed; it names the extra as a clone installs it."""
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(Exception) as caught:
        call()
    message = str(caught.value)
    assert f"in augcli's clone, pip install -e '.[{extra}]' (or pip install " in message, message
    return message


def test_every_missing_extra_says_how_to_install_from_a_clone(monkeypatch, tmp_path):
    from augcli.build import dask_executor
    from augcli.storage import remote
    from augcli.tabular import io as table_io
    from augcli.text import translate
    from augcli.video import io as video_io

    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    _missing_says(monkeypatch, "pyarrow", lambda: table_io.load(tmp_path / "t.parquet"), "parquet")
    _missing_says(monkeypatch, "fsspec", lambda: remote.Mirror("s3://bucket/data"), "s3")
    _missing_says(monkeypatch, "distributed", lambda: dask_executor.check_scheduler("tcp://127.0.0.1:1"), "dask")
    _missing_says(monkeypatch, "av", video_io._av, "video")
    assert "in augcli's clone, pip install -e '.[translate]' (or pip install " in translate.INSTALL_HINT
    assert "these machines" not in translate.INSTALL_HINT
    sources = [*ROOT.glob("augcli/**/*.py"), ROOT / "README.md", *ROOT.glob("docs/*.md")]
    assert [p.name for p in sources if "install 'augcli[" in p.read_text(encoding="utf-8")] == []


# --- 8. counted nouns: one input, one copy --------------------------------------------------------------


def test_one_input_and_one_copy_read_in_the_singular(tmp_path):
    data = tmp_path / "text"
    data.mkdir()
    (data / "only.csv").write_text("id,text\n1,the quick brown fox jumps\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 1\ntext:\n  include: ['*.csv']\n  columns: [text]\n  transforms: [random_swap]\n"
    )
    out = tmp_path / "out"
    result = invoke("run", recipe, data, out, "--report")
    assert result.exit_code == 0, result.output
    loaded = load_recipe(recipe)
    page = tmp_path / "preview.html"
    sections = preview.write(loaded, build_plan(loaded, data.resolve()), page, 1, 1, "html")
    summary = dict(run_report.build(out)["summary"])
    shown = {
        "run": result.output,
        "report": (out / "report.html").read_text(),
        "last run": summary["last run that changed OUTPUT"],
        "preview": page.read_text(),
        "notes": " ".join(sections[0]["files"][0].notes),
    }
    for where, text in shown.items():
        for wrong in ("1 files", "1 copies", "1 outputs", "1 text cells", "1 text samples", "(s)"):
            assert wrong not in text, (where, wrong)
    assert summary["last run that changed OUTPUT"].startswith("1 file in: 1 made (2 outputs), 0 up to date")
    assert "augcli: 1 file in: 0 up to date, 1 made (2 outputs)" in result.output  # the table and README.md
    record = {"summary": {"files": 1, "made": 1, "written": 1, "current": 0, "removed": 0, "failed": 0, "seconds": 1}}
    assert dict(run_report._summary(record, []))["last run that changed OUTPUT"].startswith(
        "1 file in: 1 made (1 output)"
    )
    assert "1 file per section, 1 copy each" in shown["preview"]
    assert "1 text cell; 1 copy of each" in shown["notes"]
    assert "(1 of 1 file)" in shown["preview"] and "<td>1 text sample</td>" in shown["report"]
