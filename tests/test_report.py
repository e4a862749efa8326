"""`augcli preview` and the run report: copies identical to the run's, overlays where the labels
say, exact text diffs, fired counts that match the manifest, and both pages in headless Chromium."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augcli.build.plan import build_plan
from augcli.core.recipe import load_recipe
from augcli.image.labels import yolo
from augcli.report import draw, preview, run_report
from augcli.report.textdiff import Piece, diff, operations
from tests import browser
from tests.audio_signals import sine, write_audio
from tests.test_cli import invoke, read_manifest, tree_digest
from tests.test_layouts import ultralytics_dataset

ROOT = Path(__file__).resolve().parent.parent

RECIPE = """\
seed: 9
copies: 3
image:
  annotations: {format: yolo}
  passthrough: ["val/**"]
  transforms:
    - hflip: {p: 0.5}
    - affine: {degrees: 10, translate_x: 0.1}
    - color_jitter: {brightness: 0.2}
    - random_erasing: {p: 0.5, fill: random}
audio:
  transforms:
    - add_noise: {snr_db: [10, 30]}
    - gain: {p: 0.5, gain_db: 6}
text:
  transforms:
    - random_swap: {p: 0.7}
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("report")
    data = ultralytics_dataset(tmp / "data", per_split=3)
    write_audio(data / "audio" / "a.wav", sine(440.0, 16000, 0.4), 16000, subtype="PCM_16")
    (data / "text").mkdir()
    (data / "text" / "notes.txt").write_text("the cat sat on the mat today\na dog ran in the park\n")
    recipe = tmp / "recipe.yaml"
    recipe.write_text(RECIPE)
    out = tmp / "out"
    result = invoke("run", recipe, data, out, "--report")
    assert result.exit_code == 0, result.output
    return data, recipe, out


def _preview(data: Path, recipe_path: Path, files: int = 3, copies: int = 3):
    recipe = load_recipe(recipe_path)
    plan = build_plan(recipe, data.resolve())
    return preview.build(plan, recipe, files, copies, {})


def test_preview_copies_are_the_runs_bytes(dataset):
    data, recipe_path, out = dataset
    rows = {
        (r["source"], r["copy"]): r for r in read_manifest(out) if r["kind"] == "copy" and "labels/" not in r["output"]
    }
    checked = Counter()
    for section in _preview(data, recipe_path):
        for item in section["files"]:
            assert not item.error, item.error
            for cell in item.cells:
                if cell.label.startswith("copy"):
                    row = rows[(item.source, cell.label.split()[1])]
                    assert cell.data == (out / row["output"]).read_bytes(), row["output"]
                    assert cell.records == json.loads(row["transforms"])
                    checked[section["modality"]] += 1
    assert checked["image"] == 9 and checked["audio"] == 3
    assert not any("val/" in item.source for s in _preview(data, recipe_path, 10) for item in s["files"])


def test_preview_draws_boxes_where_the_labels_say(dataset):
    data, recipe_path, out = dataset
    (image_section,) = [s for s in _preview(data, recipe_path) if s["modality"] == "image"]
    seen = 0
    for item in image_section["files"]:
        for cell in item.cells[1:]:
            copy = f"{item.source[:-4]}_aug{cell.label.split()[1]}"
            label_file = out / copy.replace("images/", "labels/", 1)
            boxes, _ = yolo.read(label_file.with_suffix(".txt"), 64, 48, 2)
            for box in boxes:
                corner = (int(box.x0), int(box.y0))  # the outline's top-left pixel
                assert tuple(cell.pixels[corner[1], corner[0]]) == draw.colour(box.label), (copy, box)
                seen += 1
    assert seen >= 6


def test_overlay_colours_masks_and_leaves_the_ignore_value_clear():
    pixels = np.zeros((10, 10, 3), np.uint8)
    mask = np.zeros((10, 10), np.uint8)
    mask[0:5, :] = 2
    mask[5:, 0:2] = 255
    shown = draw.overlay(pixels, (), mask, ignore=255)
    expected = np.rint(np.array(draw.colour(2)) * draw.MASK_ALPHA).astype(np.uint8)  # over black
    assert np.array_equal(shown[0, 0], expected) and np.array_equal(shown[9, 0], [0, 0, 0])


@pytest.mark.parametrize(
    ("original", "copy", "pieces", "ops"),
    [
        ("the quick fox", "the fast fox", [("the ", "same"), ("fast", "replaced"), (" fox", "same")], ["replaced"]),
        ("the fox", "the red fox", [("the ", "same"), ("red", "inserted"), (" fox", "same")], ["inserted"]),
        ("the red fox", "the fox", [("the ", "same"), ("red ", "deleted"), ("fox", "same")], ["deleted"]),
        (
            "a b c",
            "c b a",
            [("c", "swapped"), (" b ", "same"), ("a", "swapped")],
            ["swapped"],
        ),
        ("same words", "same words", [("same words", "same")], []),
    ],
)
def test_text_diff_marks_exactly_the_changed_words(original, copy, pieces, ops):
    found = diff(original, copy)
    assert found == [Piece(text, change) for text, change in pieces]
    assert operations(found) == ops
    assert "".join(p.text for p in found if p.change != "deleted") == copy


def test_preview_text_diffs_follow_the_copies(dataset):
    data, recipe_path, _ = dataset
    (text_section,) = [s for s in _preview(data, recipe_path) if s["modality"] == "text"]
    (item,) = text_section["files"]
    for sample in item.samples:
        for copy in sample["copies"]:
            rebuilt = "".join(p.text for p in copy["pieces"] if p.change != "deleted")
            assert sorted(rebuilt.split()) == sorted(sample["original"].split())  # swaps only
            assert set(copy["operations"]) <= {"swapped"}


def test_report_fired_counts_match_the_manifest(dataset):
    _, _, out = dataset
    context = run_report.build(out)
    rows = read_manifest(out)
    copies = [r for r in rows if r["kind"] == "copy" and not r["output"].startswith("labels/")]
    for line in context["fired"]:
        mine = [json.loads(r["transforms"]) for r in copies if r["modality"] == line["section"]]
        if line["section"] == "text":  # per sample: the samples each copy's record names, of 2 lines a copy
            counted = sum(rec["samples"] for records in mine for rec in records if rec["name"] == line["name"])
            assert (line["fired"], line["total"], line["unit"]) == (counted, 2 * len(mine), "text samples")
        else:  # per copy
            counted = sum(any(rec["name"] == line["name"] for rec in records) for records in mine)
            assert (line["fired"], line["total"], line["unit"]) == (counted, len(mine), "copies")
    names = {(line["section"], line["name"]): line["p"] for line in context["fired"]}
    assert names[("image", "hflip")] == "0.5" and names[("image", "random_erasing")] == "0.5"
    assert names[("audio", "gain")] == "0.5" and names[("text", "random_swap")] == "0.7"
    titles = {plot["title"] for plot in context["classes"]}
    assert {"objects per class, split train", "objects per class, split val"} <= titles
    assert any("affine.angle" in plot["title"] for plot in context["parameters"])


def test_report_is_made_again_from_output_alone(dataset, tmp_path):
    _, _, out = dataset
    first = (out / "report.html").read_bytes()
    assert invoke("report", out).exit_code == 0
    assert (out / "report.html").read_bytes() == first
    assert invoke("verify", out).exit_code == 0  # the report is not an unlisted file
    assert "has no manifest.csv" in invoke("report", tmp_path).output


def test_preview_writes_only_its_page_and_a_png_sheet(dataset, tmp_path):
    data, recipe_path, _ = dataset
    before = tree_digest(data)
    page = tmp_path / "p.html"
    result = invoke("preview", recipe_path, data, "-o", page, "--files", "2", "--copies", "2")
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "http://" not in html and "https://" not in html and html.count("<audio") == 3
    sheet = tmp_path / "p.png"
    assert invoke("preview", recipe_path, data, "-o", sheet, "--format", "png", "--files", "2").exit_code == 0
    with Image.open(io.BytesIO(sheet.read_bytes())) as image:
        assert image.format == "PNG" and image.height > 200
    assert tree_digest(data) == before and sorted(p.name for p in tmp_path.iterdir()) == ["p.html", "p.png"]


@pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or "")
def test_preview_and_report_load_in_headless_chromium(dataset, tmp_path):
    data, recipe_path, out = dataset
    page = tmp_path / "preview.html"
    assert invoke("preview", recipe_path, data, "-o", page, "--files", "2", "--copies", "2").exit_code == 0
    shots = Path(os.environ.get("AUGCLI_SCREENSHOTS", tmp_path / "screenshots"))
    with browser.chromium() as driver:
        for name, path in (("preview", page), ("report", out / "report.html")):
            state = browser.inspect_page(driver, path, shots / f"{name}.png")
            assert state["images"] > 5 and state["broken"] == [], state
            assert state["sounds"] >= 2 and state["silent"] == [], state
            assert state["console"] == [] and state["external"] == [], state
            assert state["variance"] > 100, f"the {name} screenshot looks blank"
            assert (shots / f"{name}.png").stat().st_size > 10_000


def test_the_report_never_writes_through_a_link(dataset, tmp_path):
    _, _, out = dataset
    outside = tmp_path / "outside.html"
    outside.write_text("keep me")
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(outside)
    assert invoke("report", out).exit_code == 0
    assert outside.read_text() == "keep me"
    assert not (out / "report.html").is_symlink() and "augcli run report" in (out / "report.html").read_text()


def test_expected_shares_follow_p_through_one_of_and_some_of():
    from augcli.core.recipe import parse_recipe

    recipe = parse_recipe(
        "image:\n  transforms:\n    - hflip: {p: 0.5}\n"
        "    - one_of: {p: 0.8, weights: [3, 1], transforms: [vflip, {rot90: {p: 0.5}}]}\n"
        "    - some_of: {n: 1, transforms: [grayscale, invert]}\n"
    )
    shares = [(t.name, share) for t, share in run_report.expected_shares(recipe.sections["image"].transforms)]
    assert [share for _, share in shares] == pytest.approx([0.5, 0.6, 0.1, 0.5, 0.5])
    assert [name for name, _ in shares] == ["hflip", "vflip", "rot90", "grayscale", "invert"]


def test_report_counts_the_ops_each_policy_drew(tmp_path):
    data = tmp_path / "data"
    for i in range(6):
        (data / "c").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((16, 16, 3), 20 * i, np.uint8)).save(data / "c" / f"{i}.png")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\ncopies: 5\nimage:\n  transforms: [trivial_augment, {rand_augment: {num_ops: 2}}]\n")
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out).exit_code == 0
    rows = run_report.build(out)["policy_ops"]
    drawn = Counter()
    for row in read_manifest(out):
        for record in json.loads(row["transforms"]):
            for op, _ in record["params"]["ops"]:
                drawn[(record["name"], op)] += 1
    assert {(r["policy"], r["op"]): r["count"] for r in rows} == dict(drawn)
    assert sum(r["count"] for r in rows if r["policy"] == "rand_augment") == 2 * 30
    assert all(r["copies"] == 30 for r in rows)
