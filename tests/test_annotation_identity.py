"""Annotations keep their identity (issues #22, #23): COCO originals keep their ids and fields and
copies get ids derived from their output paths; VOC's ImageSets/Main and data.yaml image lists
are carried over naming OUTPUT's files; bad COCO / data.yaml files are clean errors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from tests.test_cli import invoke

W, H = 64, 48
ROOT = Path(__file__).resolve().parent.parent
IDENTITY = "  transforms: [{hflip: {p: 0}}]\n"


def picture(path: Path, rects: list[tuple[int, int, int, int]]) -> None:
    pixels = np.zeros((H, W, 3), np.uint8)
    for label, (x, y, w, h) in enumerate(rects):
        pixels[y : y + h, x : x + w] = [(255, 0, 0), (0, 255, 0)][label]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_cli(*args: object) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "augcli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


# --- COCO ------------------------------------------------------------------------------------------


def coco_image(i: int) -> dict:
    return {"id": 10 + i, "file_name": f"train/im{i}.png", "width": W, "height": H, "license": 3, "flickr_url": "u"}


def coco_annotations(i: int) -> list[dict]:
    """Two objects per image; `area` deliberately not the box's, extra keys augcli does not know."""
    return [
        {
            "id": 100 + 2 * i,
            "image_id": 10 + i,
            "category_id": 1,
            "bbox": [4.0 + i, 6.0, 14.0, 10.0],
            "area": 99.5,
            "iscrowd": 0,
            "segmentation": [[4 + i, 6, 18 + i, 6, 18 + i, 16, 4 + i, 16]],
            "attributes": {"occluded": False},
        },
        {"id": 101 + 2 * i, "image_id": 10 + i, "bbox": [36, 24, 20, 12], "category_id": 2, "iscrowd": 0},
    ]


def coco_dataset(root: Path, images: range) -> Path:
    data = {"info": {"year": 2024}, "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}]}
    data["images"] = [coco_image(i) for i in images]
    data["annotations"] = [a for i in images for a in coco_annotations(i)]
    for i in images:
        picture(root / "images" / "train" / f"im{i}.png", [(4 + i, 6, 14, 10), (36, 24, 20, 12)])
    write(root / "annotations.json", json.dumps(data, indent=1))
    return root


def coco_recipe(tmp_path: Path) -> Path:
    text = "seed: 4\ncopies: 2\nimage:\n  images: images\n  annotations: {format: coco, path: annotations.json}\n"
    return write(tmp_path / "coco.yaml", text + IDENTITY)


def expected_id(identity: str, largest: int) -> int:
    """The documented rule: the first multiple of 10**15 above the input's largest id, plus the
    identity's 64-bit blake2b digest modulo 10**15 (no collisions among these few)."""
    digest = int.from_bytes(hashlib.blake2b(identity.encode(), digest_size=8).digest(), "big")
    return (largest // 10**15 + 1) * 10**15 + digest % 10**15


def test_coco_originals_keep_ids_and_fields_and_copies_get_ids_from_their_paths(tmp_path):
    from pycocotools.coco import COCO

    data = coco_dataset(tmp_path / "data", range(3))
    out = tmp_path / "out"
    result = invoke("run", coco_recipe(tmp_path), data, out)
    assert result.exit_code == 0, result.output
    written = json.loads((out / "annotations.json").read_text())
    source = json.loads((data / "annotations.json").read_text())
    assert written["info"] == {"year": 2024} and written["categories"] == source["categories"]
    names = [image["file_name"] for image in written["images"]]
    assert names == [f"train/im{i}{tail}.png" for i in range(3) for tail in ("", "_aug0", "_aug1")]
    by_name = {image["file_name"]: image for image in written["images"]}
    for i in range(3):
        assert by_name[f"train/im{i}.png"] == coco_image(i)  # every field, the id too
        mine = [a for a in written["annotations"] if a["image_id"] == 10 + i]
        assert mine == coco_annotations(i)  # ids, area 99.5, iscrowd, attributes: as they were
        for k in range(2):
            copy = by_name[f"train/im{i}_aug{k}.png"]
            assert copy == {
                "id": expected_id(f"train/im{i}_aug{k}.png", 12),
                "file_name": f"train/im{i}_aug{k}.png",
                "width": W,
                "height": H,
                "license": 3,
                "flickr_url": "u",
            }
            red, green = [a for a in written["annotations"] if a["image_id"] == copy["id"]]
            assert red["id"] == expected_id(f"train/im{i}_aug{k}.png\x00{100 + 2 * i}", 105)
            assert green["id"] == expected_id(f"train/im{i}_aug{k}.png\x00{101 + 2 * i}", 105)
            assert red["area"] == 140.0 and green["area"] == 240.0  # recomputed for copies (the polygon, the box)
            assert red["bbox"] == [4.0 + i, 6.0, 14.0, 10.0] and red["attributes"] == {"occluded": False}
            assert red["iscrowd"] == 0 and red["category_id"] == 1 and green["segmentation"] == []
    assert min(image["id"] for image in written["images"][1:3]) > 10**15 > 105
    # as users load it
    coco = COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds())[:3] == [10, 11, 12] and len(coco.getImgIds()) == 9
    assert coco.getAnnIds(imgIds=[11]) == [102, 103]
    assert len(coco.getAnnIds()) == 18 and len(set(coco.getAnnIds())) == 18
    copy_id = by_name["train/im1_aug1.png"]["id"]
    assert [a["category_id"] for a in coco.loadAnns(coco.getAnnIds(imgIds=[copy_id]))] == [1, 2]


def test_coco_copy_ids_stay_when_other_inputs_come_or_go(tmp_path):
    data = coco_dataset(tmp_path / "data", range(3))
    out, recipe = tmp_path / "out", coco_recipe(tmp_path)
    assert invoke("run", recipe, data, out).exit_code == 0

    def ids() -> tuple[dict[str, int], dict[tuple[str, int], int]]:
        written = json.loads((out / "annotations.json").read_text())
        images = {image["file_name"]: image["id"] for image in written["images"]}
        names = {v: k for k, v in images.items()}
        annotations = {(names[a["image_id"]], a["category_id"]): a["id"] for a in written["annotations"]}
        return images, annotations

    first = ids()
    # another input comes, with a larger id than any before
    coco_dataset(tmp_path / "data", range(4))
    more = json.loads((data / "annotations.json").read_text())
    more["images"][3]["id"] = 5000
    for annotation in more["annotations"][6:]:
        annotation["image_id"] = 5000
        annotation["id"] += 9000
    write(data / "annotations.json", json.dumps(more))
    assert invoke("run", recipe, data, out).exit_code == 0
    second = ids()
    for before, after in zip(first, second, strict=True):
        assert {k: v for k, v in after.items() if k in before} == before
    assert second[0]["train/im3.png"] == 5000
    assert second[0]["train/im3_aug0.png"] == expected_id("train/im3_aug0.png", 5000) < 2 * 10**15
    assert second[1][("train/im3_aug1.png", 2)] == expected_id("train/im3_aug1.png\x009107", 9107)
    # and goes again, with an older one
    (data / "images" / "train" / "im0.png").unlink()
    (data / "images" / "train" / "im3.png").unlink()
    assert invoke("run", recipe, data, out).exit_code == 0
    third = ids()
    for before, after in zip(first, third, strict=True):
        kept = {k: v for k, v in before.items() if not (k if isinstance(k, str) else k[0]).startswith("train/im0")}
        assert after == kept and len(kept) == len(before) * 2 // 3


# --- VOC ImageSets ----------------------------------------------------------------------------------


def voc_dataset(root: Path) -> Path:
    """VOC2012-style: JPEGImages, Annotations, ImageSets/Main (split lists and a class list)."""
    for i in range(3):
        rects = [(4, 6, 14, 10), (36, 24, 20, 12)] if i != 1 else [(36, 24, 20, 12)]
        picture(root / "VOC" / "JPEGImages" / f"im{i}.png", rects)
        objects = "".join(
            f"<object><name>{name}</name><difficult>{difficult}</difficult><bndbox><xmin>{x + 1}</xmin>"
            f"<ymin>{y + 1}</ymin><xmax>{x + w}</xmax><ymax>{y + h}</ymax></bndbox></object>"
            for name, difficult, (x, y, w, h) in [("red", 0, rects[0]), ("green", 1, rects[-1])][2 - len(rects) :]
        )
        write(
            root / "VOC" / "Annotations" / f"im{i}.xml",
            f"<annotation><filename>im{i}.png</filename>{objects}</annotation>",
        )
    main = root / "VOC" / "ImageSets" / "Main"
    write(main / "train.txt", "im0\nim1\n")
    write(main / "val.txt", "im2\n")
    write(main / "red_train.txt", "im0  1\nim1 -1\n")
    write(main / "green_train.txt", "im0  0\nim1  0\n")
    return root


def test_voc_image_sets_list_each_copy_in_its_originals_sets(tmp_path):
    data = voc_dataset(tmp_path / "data")
    text = (
        "seed: 1\ncopies: 2\nimage:\n  images: VOC/JPEGImages\n  annotations: {format: voc, path: VOC/Annotations}\n"
        "  boxes: {min_visibility: 0.5}\n  transforms: [{translate: {x: [-0.5, -0.5], y: 0}}]\n"
    )
    out = tmp_path / "out"
    result = invoke("run", write(tmp_path / "voc.yaml", text), data, out, "--allow-failures")
    assert result.exit_code == 0, result.output
    main = out / "VOC" / "ImageSets" / "Main"
    assert sorted(p.name for p in main.iterdir()) == ["green_train.txt", "red_train.txt", "train.txt", "val.txt"]
    assert (main / "train.txt").read_text() == "im0\nim0_aug0\nim0_aug1\nim1\nim1_aug0\nim1_aug1\n"
    assert (main / "val.txt").read_text() == "im2\nim2_aug0\nim2_aug1\n"
    # the shift moved red out of the picture: its copies no longer hold red; green stays, difficult
    assert (
        main / "red_train.txt"
    ).read_text() == "im0  1\nim0_aug0 -1\nim0_aug1 -1\nim1 -1\nim1_aug0 -1\nim1_aug1 -1\n"
    assert (
        main / "green_train.txt"
    ).read_text() == "im0  0\nim0_aug0  0\nim0_aug1  0\nim1  0\nim1_aug0  0\nim1_aug1  0\n"
    # without the originals, only the copies are listed
    no_originals = text.replace("copies: 2\n", "copies: 1\nkeep_original: false\n")
    assert invoke("run", write(tmp_path / "v2.yaml", no_originals), data, tmp_path / "o2").exit_code == 0
    assert (tmp_path / "o2" / "VOC" / "ImageSets" / "Main" / "train.txt").read_text() == "im0_aug0\nim1_aug0\n"


def test_voc_segmentation_and_layout_sets_are_carried_over(tmp_path):
    """ImageSets/Segmentation and ImageSets/Layout travel as ImageSets/Main does (they were
    dropped: torchvision's VOCSegmentation found no split list). A segmentation list names a copy
    when its mask travels with it; a person-layout list (parts by object index) names originals."""
    data = voc_dataset(tmp_path / "data")
    for i in range(3):
        mask = np.zeros((H, W), np.uint8)
        mask[6:16, 4:18] = 1
        (data / "VOC" / "SegmentationClass").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save(data / "VOC" / "SegmentationClass" / f"im{i}.png")
    write(data / "VOC" / "ImageSets" / "Segmentation" / "train.txt", "im0\nim1\n")
    write(data / "VOC" / "ImageSets" / "Segmentation" / "val.txt", "im2\n")
    write(data / "VOC" / "ImageSets" / "Layout" / "train.txt", "im0 1\n")
    text = (
        "seed: 1\ncopies: 1\nimage:\n  images: VOC/JPEGImages\n  annotations: {format: voc, path: VOC/Annotations}\n"
        "{masks}  transforms: [hflip]\n"
    )
    out = tmp_path / "out"
    masked = text.replace("{masks}", "  masks: {path: VOC/SegmentationClass}\n")
    result = invoke("run", write(tmp_path / "voc.yaml", masked), data, out)
    assert result.exit_code == 0, result.output
    sets = out / "VOC" / "ImageSets"
    assert (sets / "Segmentation" / "train.txt").read_text() == "im0\nim0_aug0\nim1\nim1_aug0\n"
    assert (sets / "Segmentation" / "val.txt").read_text() == "im2\nim2_aug0\n"
    assert (out / "VOC" / "SegmentationClass" / "im0_aug0.png").is_file()
    assert (sets / "Layout" / "train.txt").read_text() == "im0 1\n"
    assert (sets / "Main" / "train.txt").read_text() == "im0\nim0_aug0\nim1\nim1_aug0\n"
    bare = tmp_path / "bare"  # no masks: a copy has no SegmentationClass picture, so no segmentation line
    assert invoke("run", write(tmp_path / "bare.yaml", text.replace("{masks}", "")), data, bare).exit_code == 0
    assert (bare / "VOC" / "ImageSets" / "Segmentation" / "train.txt").read_text() == "im0\nim1\n"


# --- data.yaml image lists ------------------------------------------------------------------------------


def listed_dataset(root: Path) -> Path:
    """Four images in one folder; train.txt and val.txt say which is which."""
    for i in range(4):
        picture(root / "images" / f"im{i}.png", [(4 + i, 6, 14, 10), (36, 24, 20, 12)])
        write(
            root / "labels" / f"im{i}.txt",
            "0 0.171875 0.229167 0.218750 0.208333\n1 0.718750 0.625000 0.312500 0.250000\n",
        )
    write(root / "train.txt", "./images/im0.png\n./images/im1.png\n")
    write(root / "val.txt", "./images/im2.png\nimages/im3.png\n")
    write(root / "data.yaml", "path: .\ntrain: train.txt\nval: val.txt\nnames: [red, green]\n")
    return root


def test_data_yaml_image_lists_are_rewritten_to_outputs_files_and_leaks_warned(tmp_path):
    data = listed_dataset(tmp_path / "data")
    base = "seed: 2\ncopies: 2\nimage:\n  annotations: {format: yolo}\n{extra}  transforms: [hflip]\n"
    out = tmp_path / "out"
    result = run_cli("run", write(tmp_path / "a.yaml", base.replace("{extra}", "")), data, out)
    assert result.returncode == 0, result.stderr
    assert "data.yaml names val.txt as the val split, but the recipe augments 2 of the images it lists" in (
        result.stderr + result.stdout
    )
    assert "Traceback" not in result.stderr
    assert (out / "train.txt").read_text() == "".join(
        f"./images/im{i}{tail}.png\n" for i in range(2) for tail in ("", "_aug0", "_aug1")
    )
    assert yaml.safe_load((out / "data.yaml").read_text()) == {
        "train": "train.txt",
        "val": "val.txt",
        "names": ["red", "green"],
    }
    safe = base.replace("{extra}", '  passthrough: ["images/im2.png", "images/im3.png"]\n')
    result = run_cli("run", write(tmp_path / "b.yaml", safe), data, tmp_path / "safe")
    assert result.returncode == 0, result.stderr
    assert "leak" not in result.stderr + result.stdout
    assert (tmp_path / "safe" / "val.txt").read_text() == "./images/im2.png\n./images/im3.png\n"
    assert (tmp_path / "safe" / "train.txt").read_text() == (out / "train.txt").read_text()
    assert sorted(p.name for p in (tmp_path / "safe" / "images").iterdir()) == [
        "im0.png",
        "im0_aug0.png",
        "im0_aug1.png",
        "im1.png",
        "im1_aug0.png",
        "im1_aug1.png",
        "im2.png",
        "im3.png",
    ]


def test_ultralytics_reads_the_rewritten_lists(tmp_path):
    from tests.test_ultralytics import ultralytics_report

    data = listed_dataset(tmp_path / "data")
    text = "seed: 2\ncopies: 2\nimage:\n  annotations: {format: yolo}\n"
    text += '  passthrough: ["images/im2.png", "images/im3.png"]\n'
    assert (
        invoke("run", write(tmp_path / "r.yaml", text + "  transforms: [hflip]\n"), data, tmp_path / "out").exit_code
        == 0
    )
    report = ultralytics_report(tmp_path / "out" / "data.yaml", "detect", tmp_path)
    assert report["train"]["images"] == 6 and report["train"]["found"] == 6 and report["train"]["corrupt"] == 0
    assert report["val"]["images"] == 2 and report["val"]["instances"] == 4


# --- clean errors, never a traceback -----------------------------------------------------------------


def test_bad_names_keys_and_alias_bombs_in_data_yaml_are_clean_plan_errors(tmp_path):
    data = listed_dataset(tmp_path / "data")
    recipe = write(tmp_path / "r.yaml", "image:\n  annotations: {format: yolo}\n  transforms: [hflip]\n")
    write(data / "data.yaml", "train: train.txt\nval: val.txt\nnames: {0: a, x: d}\n")
    done = run_cli("run", recipe, data, tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "data.yaml: names: the keys of a names mapping are the class ids 0..1, got 'x'" in done.stderr
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    write(data / "data.yaml", bomb + "names: [a, b]\n")
    assert len((data / "data.yaml").read_bytes()) < 1024
    done = run_cli("run", recipe, data, tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "data.yaml: it expands to more than 20,000 values (nested aliases?): refused" in done.stderr
    assert not (tmp_path / "out").exists()


def test_coco_files_with_missing_or_wrong_kinds_of_ids_are_clean_plan_errors(tmp_path):
    recipe = coco_recipe(tmp_path)
    cases = [
        (lambda d: d["images"][1].pop("file_name"), "annotations.json: images[1] (id 11) has no 'file_name'"),
        (
            lambda d: d["annotations"][0].update(image_id=[10]),
            "annotations.json: annotations[0] (id 100): 'image_id' must be a whole number (a COCO id), got [10]",
        ),
        (
            lambda d: d["images"][2].update(id={"n": 12}),
            "annotations.json: images[2]: 'id' must be a whole number (a COCO id), got {\"n\": 12}",
        ),
        (
            lambda d: d["annotations"][3].update(category_id="2"),
            "annotations.json: annotations[3] (id 103): 'category_id' must be a whole number (a COCO id), got \"2\"",
        ),
        (lambda d: d["images"][2].update(id=10), "annotations.json: images[2] (train/im2.png): id 10 is already"),
    ]
    for number, (damage, message) in enumerate(cases):
        data = coco_dataset(tmp_path / f"data{number}", range(3))
        broken = json.loads((data / "annotations.json").read_text())
        damage(broken)
        write(data / "annotations.json", json.dumps(broken))
        done = run_cli("run", recipe, data, tmp_path / f"out{number}")
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / f"out{number}" / "annotations.json").exists()
