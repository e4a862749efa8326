"""The public Python API: one code path with `augcli run` (byte parity for every modality), targets
that move with an image, replay of every manifest row, and the data-loader integrations."""

from __future__ import annotations

import importlib
import inspect
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import augcli
from augcli.audio import io as audio_io
from augcli.image import io as image_io
from tests.audio_signals import sine, write_audio
from tests.test_cli import invoke, read_manifest
from tests.test_layouts import ultralytics_dataset

ROOT = Path(__file__).resolve().parent.parent

MIXED = """\
seed: 11
copies: 2
image:
  annotations: {format: yolo}
  passthrough: ["val/**"]
  transforms:
    - hflip: {p: 0.5}
    - rotate: {degrees: 20}
    - random_resized_crop: {scale: [0.6, 1.0], size: [48, 64]}
    - color_jitter: {brightness: 0.3, saturation: 0.3}
    - one_of: [{gaussian_noise: {std: 0.05}}, {random_erasing: {fill: random}}]
audio:
  transforms:
    - add_noise: {snr_db: [10, 30]}
    - time_stretch: {p: 0.5, rate: [0.8, 1.25]}
    - gain: {gain_db: 6}
text:
  include: ["*.txt", "*.jsonl"]
  transforms:
    - eda: {}
tabular:
  label: y
  transforms:
    - gaussian_noise: {std: 0.1}
  resample: {method: smote, k_neighbors: 2}
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A mixed dataset, its recipe and the OUTPUT of one run."""
    tmp = tmp_path_factory.mktemp("mixed")
    data = ultralytics_dataset(tmp / "data", per_split=2)
    write_audio(data / "audio" / "a.wav", sine(440.0, 16000, 0.4), 16000, subtype="PCM_16")
    write_audio(data / "audio" / "b.flac", sine(300.0, 22050, 0.3, channels=2), 22050, subtype="PCM_24")
    (data / "text").mkdir()
    (data / "text" / "reviews.txt").write_text("the film was good and long\nbad acting in a quiet town\n")
    (data / "text" / "reviews.labels").write_text("pos\nneg\n")
    (data / "text" / "notes.jsonl").write_text('{"text": "a small house by the river", "id": 1}\n')
    rows = "".join(f"{i * 0.5:.1f},{i % 3},{'a' if i < 9 else 'b'}\n" for i in range(12))
    (data / "table.csv").write_text("x,n,y\n" + rows)
    recipe = tmp / "recipe.yaml"
    recipe.write_text(MIXED)
    out = tmp / "out"
    result = invoke("run", recipe, data, out, "--workers", "2")
    assert result.exit_code == 0, result.output
    return data, recipe, out


# --- the public surface ---------------------------------------------------------------------------


def test_every_public_name_and_method_has_a_docstring():
    for obj in [getattr(augcli, name) for name in augcli.__all__]:
        assert inspect.getdoc(obj), f"{obj!r} has no docstring"
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if not name.startswith("_") and (callable(member) or isinstance(member, property)):
                    assert inspect.getdoc(member), f"{obj.__name__}.{name} has no docstring"
    for module in map(importlib.import_module, ("augcli.torch", "augcli.huggingface")):
        for name in module.__all__:
            assert inspect.getdoc(getattr(module, name)), f"{module.__name__}.{name} has no docstring"


def test_dir_shows_the_public_names_without_importing_them():
    import subprocess
    import sys

    shown = dir(augcli)
    assert set(augcli.__all__) <= set(shown) and "__version__" in shown
    assert "TYPE_CHECKING" not in shown and "Any" not in shown  # helpers it imports are not its API
    code = "import augcli, sys; names = dir(augcli); print('augcli.api' in sys.modules, 'load_recipe' in names)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]  # listed, still loaded on first use only


def test_load_recipe_raises_the_clis_located_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("image:\n  transforms:\n    - rotat: {degrees: 10}\n")
    with pytest.raises(augcli.RecipeError) as caught:
        augcli.load_recipe(bad)
    assert caught.value.problems == [
        f"{bad}, line 3: image.transforms[0]: unknown image transform 'rotat'; did you mean 'rotate'?; "
        "'augcli transforms image' lists them"
    ]
    recipe = augcli.parse_recipe("seed: 4\ncopies: 3\nimage:\n  transforms: [hflip]\n")
    assert (recipe.seed, recipe.copies, recipe.modalities) == (4, 3, ["image"])
    with pytest.raises(KeyError, match="no audio section"):
        recipe.pipeline("audio")


# --- one path from recipe to bytes: parity with `augcli run` --------------------------------------


def test_rendering_through_the_api_gives_the_runs_bytes_for_every_modality(mixed):
    data, recipe_path, out = mixed
    recipe = augcli.load_recipe(recipe_path)
    checked = set()
    for row in read_manifest(out):
        companion = row["output"].endswith(".labels") or (row["modality"] == "image" and row["output"].endswith(".txt"))
        if row["kind"] not in ("copy", "table") or companion:
            continue
        pipeline = recipe.pipeline(row["modality"])
        made = pipeline.render(data / row["source"], int(row["copy"]) if row["kind"] == "copy" else 0, input_root=data)
        assert made == (out / row["output"]).read_bytes(), row["output"]
        checked.add(row["modality"])
    assert checked == {"image", "audio", "text", "tabular"}


def test_render_takes_a_path_relative_to_input_root_and_asks_for_it_when_annotations_need_it(tmp_path):
    from tests.test_annotations import detection_dataset

    data = detection_dataset(tmp_path / "data", "coco")
    recipe_path = tmp_path / "coco.yaml"
    recipe_path.write_text(  # crops that drop every box are drawn again: the boxes steer the draws
        "seed: 4\ncopies: 3\nimage:\n  images: images\n  annotations: {format: coco, path: annotations.json}\n"
        "  masks: {path: masks}\n  boxes: {max_tries: 3, bbox_safe: true, min_visibility: 0.5}\n"
        "  transforms:\n    - hflip: {p: 0.5}\n"
        "    - random_resized_crop: {scale: [0.02, 0.3], ratio: [1, 1], size: [48, 64]}\n"
    )
    out = tmp_path / "out"
    assert invoke("run", recipe_path, data, out).exit_code == 0
    pipeline = augcli.load_recipe(recipe_path).pipeline("image")
    rows = [r for r in read_manifest(out) if r["kind"] == "copy" and r["output"].startswith("images/")]
    assert len(rows) == 9 and any(json.loads(r["transforms"])[-1]["name"] == "boxes" for r in rows)
    for row in rows:
        expected, copy = (out / row["output"]).read_bytes(), int(row["copy"])
        assert pipeline.render(row["source"], copy, input_root=data) == expected, row["output"]  # relative
        assert pipeline.render(data / row["source"], copy, input_root=str(data)) == expected  # absolute
    with pytest.raises(ValueError, match=r"reads coco annotations and masks under INPUT: pass input_root="):
        pipeline.render(data / "images" / "train" / "im0.png", 0)
    with pytest.raises(ValueError, match="is not inside input_root"):
        pipeline.render(tmp_path / "coco.yaml", 0, input_root=data)
    with pytest.raises(FileNotFoundError, match="no such file under input_root"):
        pipeline.render("images/train/im9.png", 0, input_root=data)
    plain = augcli.parse_recipe("seed: 4\nimage:\n  transforms: [hflip]\n").pipeline("image")
    assert plain.render(data / "images" / "train" / "im0.png", 0)  # no annotations: its own folder will do


def test_render_without_input_root_names_a_class_folder_image_as_the_run_over_the_working_folder(
    dataset, recipe_file, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    pipeline = augcli.load_recipe(recipe_file).pipeline("image")
    monkeypatch.chdir(dataset)  # the working folder is INPUT
    rows = [r for r in read_manifest(out) if r["kind"] == "copy"]
    assert len(rows) == 15 and all("/" in r["source"] for r in rows)
    for row in rows:
        expected, copy = (out / row["output"]).read_bytes(), int(row["copy"])
        assert pipeline.render(row["source"], copy) == expected, row["output"]  # relative, as the run names it
        assert pipeline.render(dataset / row["source"], copy) == expected  # absolute inside the working folder
    assert pipeline.render("cats/../cats/cat1.jpg", 2) == (out / "cats" / "cat1_aug2.jpg").read_bytes()


def test_calling_a_pipeline_on_decoded_samples_gives_the_runs_bytes(mixed):
    data, recipe_path, out = mixed
    recipe = augcli.load_recipe(recipe_path)
    image_pipeline = recipe.pipeline("image")
    decoded = image_io.load(data / "images" / "train" / "im1.png")
    rng = image_pipeline.for_output("images/train/im1.png", 1)
    pixels, records = image_pipeline(decoded.pixels, rng)
    options = recipe._inner.sections["image"].options["output"]
    assert image_io.encode(pixels, decoded, options) == (out / "images" / "train" / "im1_aug1.png").read_bytes()
    row = next(r for r in read_manifest(out) if r["output"] == "images/train/im1_aug1.png")
    assert records == json.loads(row["transforms"])
    audio_pipeline = recipe.pipeline("audio")
    sound = audio_io.load(data / "audio" / "b.flac")
    samples, _ = audio_pipeline(
        np.array(sound.samples), audio_pipeline.for_output("audio/b.flac", 0), sample_rate=22050
    )
    assert (
        audio_io.encode(samples, sound, {"format": "same", "subtype": "same", "peak_normalize": False, "clip": True})
        == (out / "audio" / "b_aug0.flac").read_bytes()
    )


# --- replay ---------------------------------------------------------------------------------------


def test_every_row_of_a_mixed_run_replays_to_identical_bytes(mixed, tmp_path):
    _, _, out = mixed
    result = invoke("replay", out, "--all")
    rows = len(read_manifest(out))
    assert result.exit_code == 0, result.output
    assert f"{rows} rows replayed: {rows} identical, 0 differ" in result.output
    kinds = {row["kind"] for row in read_manifest(out)}
    assert kinds == {"original", "copy", "passthrough", "table", "dataset"}


def test_replay_uses_the_records_not_the_seed(mixed, tmp_path):
    _, _, out = mixed
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    info = json.loads((copy / ".augcli-run.json").read_text())
    info["seed"] += 1  # a different seed would draw other parameters: the records must be what replays
    (copy / ".augcli-run.json").write_text(json.dumps(info))
    assert invoke("replay", copy, "--all").exit_code == 0
    target = "images/train/im0_aug1.png"
    (copy / target).write_bytes(b"tampered")
    result = invoke("replay", copy, target, "-o", tmp_path / "again.png")
    assert result.exit_code == 1 and f"replayed {target} from its manifest row: DIFFERS" in result.output
    assert (tmp_path / "again.png").read_bytes() == (out / target).read_bytes()
    assert invoke("replay", copy, "1").exit_code == 0  # a row number works too
    assert "rows 1 to" in invoke("replay", copy, "100000").output


def test_replay_applies_recorded_parameters_with_no_randomness():
    pipeline = augcli.parse_recipe(
        "image:\n  transforms: [{rotate: {degrees: 30}}, {random_erasing: {fill: random}}, {gaussian_noise: {}}]\n"
    ).pipeline("image")
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    made = pipeline(pixels, np.random.default_rng(5))
    again = pipeline.replay(pixels, json.loads(json.dumps(made.records)))
    assert np.array_equal(made.sample, again.sample)
    with pytest.raises(augcli.ReplayError, match="does not follow the recipe's order"):
        pipeline.replay(pixels, [{"name": "gaussian_noise", "params": {}}, {"name": "rotate", "params": {"angle": 3}}])


# --- samples and targets in the kinds a training loop holds -----------------------------------------

FLIP = augcli.parse_recipe("image:\n  keypoints: {flip_idx: [1, 0]}\n  transforms: [hflip]\n").pipeline("image")


@pytest.mark.parametrize(
    ("box_format", "boxes", "flipped"),
    [
        ("xyxy", [[10, 5, 30, 25]], [[70, 5, 90, 25]]),
        ("xywh", [[10, 5, 20, 20]], [[70, 5, 20, 20]]),
        ("yolo", [[0.2, 0.3, 0.2, 0.4]], [[0.8, 0.3, 0.2, 0.4]]),
    ],
)
def test_boxes_move_in_their_own_format(box_format, boxes, flipped):
    pixels = np.zeros((50, 100, 3), np.uint8)
    result = FLIP(pixels, np.random.default_rng(0), boxes=boxes, box_format=box_format, labels=["cat"])
    assert np.allclose(result.boxes, flipped) and result.labels == ["cat"]


def test_masks_and_keypoints_move_and_flips_swap_sides():
    pixels = np.zeros((50, 100), np.uint8)
    mask = np.zeros((50, 100), np.uint8)
    mask[:, :10] = 3
    result = FLIP(pixels, np.random.default_rng(0), mask=mask, keypoints=[[20.0, 10.0, 2], [60.0, 30.0, 1]])
    assert np.array_equal(result.mask, mask[:, ::-1])
    # keypoint 0 (left) takes the place of mirrored keypoint 1, and the other way round
    assert np.allclose(result.keypoints, [[40.0, 30.0, 1], [80.0, 10.0, 2]])
    shift = augcli.parse_recipe("image:\n  transforms: [{translate: {x: [0.5, 0.5], y: 0}}]\n").pipeline("image")
    moved = shift(
        pixels, np.random.default_rng(0), boxes=[[0, 0, 10, 10], [70, 0, 90, 10]], keypoints=[[[5, 5]], [[80, 5]]]
    )
    assert np.allclose(moved.boxes, [[50, 0, 60, 10]]) and moved.labels == [0]  # the second left the picture
    assert np.allclose(moved.keypoints, [[[55, 5]]])


def test_samples_come_back_in_the_kind_they_came():
    recipe = augcli.parse_recipe(
        "image:\n  transforms: [hflip]\naudio:\n  transforms: [{gain: {gain_db: [6, 6]}}]\n"
        "text:\n  transforms: [random_swap]\ntabular:\n  transforms: [{gaussian_noise: {std: 0.1}}]\n"
    )
    image = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4), mode="L")
    flipped = recipe.pipeline("image")(image, np.random.default_rng(0)).sample
    assert isinstance(flipped, Image.Image) and np.array_equal(np.asarray(flipped), np.asarray(image)[:, ::-1])
    deep = np.full((4, 4), 40000, np.uint16)
    assert recipe.pipeline("image")(deep, np.random.default_rng(0)).sample.dtype == np.uint16
    mono = np.full(100, 0.1, np.float32)
    louder = recipe.pipeline("audio")(mono, np.random.default_rng(0), sample_rate=8000).sample
    assert louder.shape == (100,) and np.allclose(louder, 0.1 * 10 ** (6 / 20), atol=1e-6)
    text = recipe.pipeline("text")
    assert isinstance(text("one two three", np.random.default_rng(1)).sample, str)
    assert len(text(["a b", "c d e"], np.random.default_rng(1)).sample) == 2
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "k": [1, 2, 3], "name": ["a", "b", "c"]})
    noisy, records = recipe.pipeline("tabular")(frame, np.random.default_rng(2))
    assert list(noisy.columns) == ["x", "k", "name"] and noisy["k"].dtype == frame["k"].dtype
    assert not noisy["x"].equals(frame["x"]) and list(noisy["name"]) == ["a", "b", "c"]
    again = recipe.pipeline("tabular").replay(frame, records)
    assert again.sample.equals(noisy)


# --- data loaders ---------------------------------------------------------------------------------


def _image_folder(root: Path) -> Path:
    for label in ("cat", "dog"):
        for i in range(5):
            pixels = np.random.default_rng(hash((label, i)) % 1000).integers(0, 256, (24, 32, 3), dtype=np.uint8)
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


LOADER_RECIPE = (
    "seed: 5\nimage:\n  transforms: [{hflip: {p: 0.5}}, {rotate: {degrees: 20}}, {brightness: {factor: 0.3}}]\n"
)


def test_torch_dataset_is_reproducible_per_seed_epoch_and_index_with_any_worker_count(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from augcli.torch import AugmentedDataset

    root = _image_folder(tmp_path / "data")
    recipe = augcli.parse_recipe(LOADER_RECIPE)
    dataset = AugmentedDataset(root, recipe)
    assert dataset.classes == ["cat", "dog"] and len(dataset) == 10

    def batches(workers: int, epoch: int) -> list:
        dataset.set_epoch(epoch)
        loader = DataLoader(dataset, batch_size=4, num_workers=workers, shuffle=False)
        return [(images.clone(), labels.clone()) for images, labels in loader]

    serial, parallel = batches(0, 1), batches(2, 1)
    assert len(serial) == 3 and all(
        torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(serial, parallel, strict=True)
    )
    assert serial[0][0].shape == (4, 3, 24, 32) and serial[0][0].dtype == torch.uint8
    assert list(torch.cat([labels for _, labels in serial])) == [0] * 5 + [1] * 5
    other = batches(0, 2)
    assert not all(torch.equal(a, c) for (a, _), (c, _) in zip(serial, other, strict=True))  # a new epoch draws anew
    assert all(torch.equal(a, c) for (a, _), (c, _) in zip(serial, batches(2, 1), strict=True))


def test_torch_dataset_mixes_partners_from_itself_with_soft_labels(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from augcli.torch import AugmentedDataset

    root = _image_folder(tmp_path / "data")
    dataset = AugmentedDataset(root, augcli.parse_recipe("seed: 2\nimage:\n  transforms: [{mixup: {alpha: 1}}]\n"))
    serial = list(DataLoader(dataset, batch_size=5, num_workers=0))
    parallel = list(DataLoader(dataset, batch_size=5, num_workers=2))
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(serial, parallel, strict=True))
    targets = torch.cat([labels for _, labels in serial])
    assert targets.shape == (10, 2) and torch.allclose(targets.sum(dim=1), torch.ones(10))
    assert (targets[:5, 0] >= 0.5).all() and (targets[5:, 1] >= 0.5).all()  # each keeps its class's larger share
    assert ((targets > 0) & (targets < 1)).any()  # some items mixed the two classes


def test_huggingface_map_is_the_same_whatever_the_batch_size(tmp_path):
    datasets = pytest.importorskip("datasets")
    from augcli.huggingface import BatchAugmenter

    pipeline = augcli.parse_recipe("text:\n  transforms: [random_swap, {random_deletion: {p_word: 0.3}}]\n").pipeline(
        "text"
    )
    texts = [f"sentence number {i} with some more words" for i in range(10)]
    dataset = datasets.Dataset.from_dict({"text": texts, "label": list(range(10))})
    augment = BatchAugmenter(pipeline, column="text", seed=3)
    small = dataset.map(augment, batched=True, batch_size=2, with_indices=True)
    large = dataset.map(augment, batched=True, batch_size=7, with_indices=True)
    assert small["text"] == large["text"] and small["label"] == list(range(10))
    assert sum(a != b for a, b in zip(small["text"], texts, strict=True)) >= 5
    indexed = dataset.add_column("index", list(range(10))).with_transform(augment)
    assert indexed[0:10]["text"] == small["text"]


# --- every transform's record is complete ---------------------------------------------------------

NEEDS = {
    "crop": "{size: [20, 30]}",
    "center_crop": "{size: [20, 30]}",
    "resize": "{size: [30, 40]}",
    "color_jitter": "{brightness: 0.3, contrast: 0.3, saturation: 0.3, hue: 0.1}",
    "pad_or_crop": "{duration_s: 0.3}",
}
# files, models: elsewhere
SKIPPED = {"one_of", "some_of", "background_noise", "impulse_response", "back_translation", "contextual_words"}


def _each(modality: str) -> list[str]:
    from augcli.core.transforms import transforms_for

    return sorted(set(transforms_for(modality)) - SKIPPED)


@pytest.mark.parametrize("name", _each("image"))
def test_every_image_transform_replays_from_its_record(name):
    pipeline = augcli.parse_recipe(f"image:\n  transforms: [{{{name}: {NEEDS.get(name, '{}')}}}]\n").pipeline("image")
    pixels = np.random.default_rng(1).integers(0, 256, (36, 48, 3), dtype=np.uint8)
    partners = [{"image": np.full((30, 40, 3), 10 * k, np.uint8), "boxes": [[2, 2, 20, 20]]} for k in range(3)]
    given = {"partners": partners, "mask": np.zeros((36, 48), np.uint8)} if name in MIXING else {}
    for seed in range(3):
        made = pipeline(pixels, np.random.default_rng(seed), **given)
        again = pipeline.replay(pixels, json.loads(json.dumps(made.records)), **given)
        assert np.array_equal(made.sample, again.sample), (name, made.records)


MIXING = {"mosaic", "mixup", "cutmix", "copy_paste"}


def test_a_mixing_pipeline_takes_partners_with_their_targets():
    pipeline = augcli.parse_recipe("image:\n  transforms: [mixup]\n").pipeline("image")
    pixels = np.zeros((20, 30, 3), np.uint8)
    with pytest.raises(TypeError, match="partners"):
        pipeline(pixels, np.random.default_rng(0))
    partner = {"image": np.full((20, 30, 3), 200, np.uint8), "boxes": [[1, 1, 10, 10]], "labels": [7]}
    made = pipeline(pixels, np.random.default_rng(0), boxes=[[5, 5, 15, 15]], labels=[3], partners=[partner])
    assert made.labels == [3, 7]
    weight = made.records[0]["params"]["weight"]
    assert made.records[0]["params"]["partners"] == [{"path": "partners[0]"}]
    assert abs(int(made.sample[0, 0, 0]) - round((1 - weight) * 200)) <= 1


@pytest.mark.parametrize("name", _each("audio"))
def test_every_audio_transform_replays_from_its_record(name):
    pipeline = augcli.parse_recipe(f"audio:\n  transforms: [{{{name}: {NEEDS.get(name, '{}')}}}]\n").pipeline("audio")
    samples = sine(330.0, 8000, 0.5, channels=2)
    for seed in range(2):
        made = pipeline(samples, np.random.default_rng(seed), sample_rate=8000)
        again = pipeline.replay(samples, json.loads(json.dumps(made.records)), sample_rate=8000)
        assert np.array_equal(made.sample, again.sample), (name, made.records)


@pytest.mark.parametrize("name", _each("text") + _each("tabular"))
def test_every_text_and_table_transform_replays_from_its_record(name):
    frame = pd.DataFrame({"x": np.linspace(0, 1, 20), "c": list("abcd") * 5, "y": [0, 1] * 10})
    modality = "text" if name in _each("text") else "tabular"
    extra = "  label: y\n" if modality == "tabular" else ""
    pipeline = augcli.parse_recipe(f"{modality}:\n{extra}  transforms: [{name}]\n").pipeline(modality)
    sample = ["The quick brown fox jumps over the lazy dog", "a small house"] if modality == "text" else frame
    for seed in range(3):
        made = pipeline(sample, np.random.default_rng(seed))
        again = pipeline.replay(sample, json.loads(json.dumps(made.records)))
        assert again.sample.equals(made.sample) if modality == "tabular" else again.sample == made.sample, name


def test_a_transform_listed_twice_replays_against_the_right_one():
    pipeline = augcli.parse_recipe(
        "image:\n  transforms:\n    - rotate: {p: 0.5, degrees: 40, interpolation: nearest}\n"
        "    - rotate: {degrees: 40, interpolation: bicubic}\n"
    ).pipeline("image")
    pixels = np.random.default_rng(2).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    for seed in range(12):
        made = pipeline(pixels, np.random.default_rng(seed))
        steps = [record["step"] for record in made.records]
        assert steps in ([0, 1], [1])  # the step names which of the two rotations made the record
        assert np.array_equal(pipeline.replay(pixels, made.records).sample, made.sample), seed
    sound = augcli.parse_recipe("audio:\n  transforms: [{gain: {p: 0.5, gain_db: 3}}, {gain: {gain_db: [-6, -2]}}]\n")
    audio = sound.pipeline("audio")
    samples = sine(200.0, 8000, 0.2)
    for seed in range(6):
        made = audio(samples, np.random.default_rng(seed), sample_rate=8000)
        assert np.array_equal(audio.replay(samples, made.records, sample_rate=8000).sample, made.sample)


def test_records_name_a_repeated_step_after_the_recipe_s_composition_changes() -> None:
    """The places of repeated names are kept per list of transforms; a composition that gains a
    child is a new list of leaves, so its records say which step they came from."""
    from augcli.core.transforms import Applied, records_of
    from augcli.image.transforms import Hflip, Vflip

    first = Hflip()
    choice = augcli.parse_recipe("image:\n  transforms:\n    - one_of: [hflip]\n").pipeline("image")
    transforms = choice._section.transforms
    (composition,) = transforms
    composition.children = [first]
    assert records_of(transforms, [Applied(first, {}, None)]) == [{"name": "hflip", "params": {}}]
    composition.children.append(Hflip())
    assert records_of(transforms, [Applied(first, {}, None)]) == [{"name": "hflip", "params": {}, "step": 0}]
    assert records_of([Vflip(), *transforms], [Applied(first, {}, None)])[0]["step"] == 1
