"""OUTPUT holds the dataset and nothing that looks like data. For a class-folder set, the folders of
OUTPUT are exactly INPUT's: torchvision ImageFolder, ultralytics classify, Hugging Face imagefolder
and Keras image_dataset_from_directory see INPUT's classes with no glue. Loaders that install here
(ultralytics' dataset check, Hugging Face datasets) run for real; torchvision and Keras do not
install here, so their folder-listing rules are reimplemented from their source.

Hugging Face `load_dataset(OUTPUT)` must give the augmented rows and files, and nothing of the
manifest, for an image, an audio, a text and a table OUTPUT."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.build import datacard
from augcli.build.datacard import card
from tests.audio_signals import sine, write_audio
from tests.conftest import augcli_command, gradient_rgb, write_image

CLASSES = ["cats", "dogs"]
CLASS_RECIPE = "seed: 1\ncopies: 2\nimage:\n  passthrough: ['val/**']\n  transforms: [hflip, {rotate: {degrees: 10}}]\n"
ULTRALYTICS_CLASSIFY = """\
import importlib.metadata, json, sys
_version = importlib.metadata.version  # torchvision is not installed: ultralytics only reads its version here
importlib.metadata.version = lambda name: "0.28.0" if name == "torchvision" else _version(name)
from ultralytics.data.utils import check_cls_dataset
data = check_cls_dataset(sys.argv[1])
print(json.dumps({"nc": data["nc"], "names": data["names"], "val": str(data["val"])}))
"""


# --- the folder-listing rules of loaders that do not install here ------------------------------------


def torchvision_classes(root: Path) -> list[str]:
    """torchvision.datasets.folder.find_classes (ImageFolder, DatasetFolder; ultralytics'
    ClassificationDataset wraps ImageFolder): `sorted(entry.name for entry in os.scandir(directory)
    if entry.is_dir())`. Hidden folders count: a `.augcli/` folder would be a class."""
    return sorted(entry.name for entry in os.scandir(root) if entry.is_dir())


def keras_classes(root: Path) -> list[str]:
    """keras.utils.image_dataset_from_directory -> keras/src/utils/dataset_utils.py index_directory
    (keras-team/keras@0a54048b): `for subdir in sorted(os.listdir(directory)): if
    os.path.isdir(join(directory, subdir)): if not subdir.startswith("."): subdirs.append(subdir)`."""
    return [name for name in sorted(os.listdir(root)) if (root / name).is_dir() and not name.startswith(".")]


def ultralytics_classify(out: Path, tmp_path: Path) -> dict:
    """ultralytics' own check_cls_dataset on OUTPUT (classes: sorted folders of OUTPUT/train), as a
    subprocess so its settings and logging stay out of this process."""
    env = dict(os.environ, YOLO_CONFIG_DIR=str(tmp_path / "ultralytics"), YOLO_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-c", ULTRALYTICS_CLASSIFY, str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "requires" not in done.stderr, done.stderr[-3000:]  # its error when a split's classes differ
    return json.loads(done.stdout.strip().splitlines()[-1])


def folders(root: Path) -> set[str]:
    """Every folder under root, hidden ones included."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def class_dataset(root: Path, per_class: int = 3, size: tuple[int, int] = (32, 24)) -> Path:
    for split, count in (("train", per_class), ("val", 1)):
        for k, name in enumerate(CLASSES):
            for i in range(count):
                pixels = gradient_rgb(*size, seed=10 * k + i)
                write_image(root / split / name / f"{name}{i}.png", pixels, compress_level=0)
    return root


def run(recipe: Path, data: Path, out: Path, *extra: object) -> None:
    done = subprocess.run(augcli_command("run", recipe, data, out, *extra), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def assert_loaders_see_input_classes(data: Path, out: Path, complete: bool = True) -> None:
    """OUTPUT's folders are INPUT's (a killed run: some of them), so every rule finds INPUT's classes."""
    assert folders(out) == folders(data) if complete else folders(out) <= folders(data)
    for split in ("train", "val"):
        if complete or (out / split).is_dir():
            assert set(torchvision_classes(out / split)) <= set(CLASSES)
            assert keras_classes(out / split) == torchvision_classes(out / split)
            assert torchvision_classes(out / split) == CLASSES or not complete
    assert set(torchvision_classes(out)) <= {"train", "val"}  # OUTPUT itself: no extra folder
    assert keras_classes(out) == torchvision_classes(out)


# --- class folders: every loader sees INPUT's classes ---------------------------------------------


def test_every_loader_sees_input_classes_after_a_run_and_a_rerun(tmp_path):
    data, out = class_dataset(tmp_path / "data"), tmp_path / "out"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(CLASS_RECIPE)
    run(recipe, data, out)
    assert_loaders_see_input_classes(data, out)
    found = ultralytics_classify(out, tmp_path)
    assert (found["nc"], found["names"], found["val"]) == (2, {"0": "cats", "1": "dogs"}, str(out / "val"))

    run(recipe, data, out)  # a no-op rerun
    assert_loaders_see_input_classes(data, out)

    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    rows = manifest(out)
    assert sorted(loaded) == ["train", "validation"]
    for split, folder in (("train", "train/"), ("validation", "val/")):
        assert loaded[split].info.builder_name == "imagefolder"
        assert loaded[split].features["label"].names == CLASSES
        assert loaded[split].num_rows == sum(r["output"].startswith(folder) for r in rows)
    labels = [CLASSES[label] for label in loaded["train"]["label"]]
    assert sorted(labels) == sorted(r["output"].split("/")[1] for r in rows if r["output"].startswith("train/"))


def test_a_killed_run_and_its_rerun_leave_no_extra_folder(tmp_path):
    data, out = class_dataset(tmp_path / "data", per_class=12, size=(320, 240)), tmp_path / "out"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(CLASS_RECIPE)
    command = augcli_command("run", recipe, data, out, "--copies", 6, "--workers", 2)
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    journal, deadline = out / ".augcli-journal.jsonl", time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 10:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "manifest.csv").exists(), "the run finished before it could be killed"
    assert_loaders_see_input_classes(data, out, complete=False)
    run(recipe, data, out, "--copies", 6)
    assert_loaders_see_input_classes(data, out)
    assert [p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".augcli-")] == ["manifest.csv"]


# --- Hugging Face: load_dataset(OUTPUT) reads the data and nothing of the manifest ------------------


def hf_load(out: Path, tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def audio_output(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for k, name in enumerate(["no", "yes"]):
        for i in range(2):
            write_audio(data / name / f"{name}{i}.wav", sine(300.0 + 100 * (2 * k + i), 16000, 0.2), 16000)
    recipe = tmp_path / "audio.yaml"
    recipe.write_text("seed: 1\ncopies: 2\naudio:\n  transforms: [{gain: {gain_db: 3}}]\n")
    run(recipe, data, tmp_path / "out")
    return tmp_path / "out"


def test_hugging_face_audiofolder_would_read_exactly_the_audio_files(tmp_path):
    """What audiofolder reads, without decoding (decoding needs torchcodec)."""
    datasets = pytest.importorskip("datasets")
    out = audio_output(tmp_path)
    builder = datasets.load_dataset_builder(str(out), cache_dir=str(tmp_path / "hf"))
    assert builder.name == "audiofolder"
    files = sorted(Path(f).relative_to(out).as_posix() for f in builder.config.data_files["train"])
    assert files == sorted(r["output"] for r in manifest(out))


@pytest.mark.skipif(importlib.util.find_spec("torchcodec") is None, reason="datasets' Audio needs torchcodec")
def test_hugging_face_loads_the_audio_files_and_no_manifest(tmp_path):
    out = audio_output(tmp_path)
    loaded = hf_load(out, tmp_path)["train"]
    assert loaded.num_rows == len(manifest(out)) and loaded.features["label"].names == ["no", "yes"]


def test_hugging_face_loads_the_text_lines_and_no_manifest(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("the quick brown fox jumps\nover the lazy dog\n")
    (data / "b.txt").write_text("one two three four\nfive six seven eight\nnine ten\n")
    recipe = tmp_path / "text.yaml"
    recipe.write_text("seed: 1\ncopies: 2\ntext:\n  transforms: [random_swap]\n")
    out = tmp_path / "out"
    run(recipe, data, out)
    loaded = hf_load(out, tmp_path)
    assert list(loaded) == ["train"] and loaded["train"].info.builder_name == "text"
    lines = [line for r in manifest(out) for line in (out / r["output"]).read_text().splitlines()]
    assert sorted(loaded["train"]["text"]) == sorted(lines)  # 15 lines: 5 per input x 3 files; no manifest line
    assert not any("sha256" in line for line in loaded["train"]["text"])


def table_output(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=5), "y": rng.normal(size=5), "label": list("ababa")})
    table.to_csv(data / "t.csv", index=False)
    recipe = tmp_path / "table.yaml"
    recipe.write_text("seed: 1\ncopies: 2\ntabular:\n  label: label\n  transforms: [{gaussian_noise: {std: 0.1}}]\n")
    run(recipe, data, tmp_path / "out")
    return tmp_path / "out"


def table_rows(out: Path) -> int:
    return sum(sum(json.loads(r["rows"]).values()) for r in manifest(out) if r["kind"] == "table")


def test_hugging_face_loads_the_table_rows_and_no_manifest(tmp_path):
    """Fails while OUTPUT has no card: datasets picks its csv builder (CSV is the most common
    format) and reads manifest.csv as one more table: DatasetGenerationCastError, "All the data
    files must have the same columns"."""
    out = table_output(tmp_path)
    loaded = hf_load(out, tmp_path)["train"]
    assert loaded.info.builder_name == "csv"
    assert loaded.column_names == ["x", "y", "label"]  # no output, transforms, sha256, ...
    assert loaded.num_rows == table_rows(out) == 15


def test_the_run_writes_a_data_card_listing_its_tables_and_never_replaces_a_users_readme(tmp_path):
    out = table_output(tmp_path)
    tables = [r["output"] for r in manifest(out) if r["kind"] == "table"]
    assert (out / "README.md").read_bytes() == card(tables, "tabular")
    assert [r["kind"] for r in manifest(out) if r["output"] == "README.md"] == ["dataset"]
    loaded = hf_load(out, tmp_path)["train"]
    assert loaded.info.builder_name == "csv" and loaded.column_names == ["x", "y", "label"]
    assert loaded.num_rows == table_rows(out) == 15
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my own card\n")
    run(tmp_path / "table.yaml", tmp_path / "data", mine, "--overwrite")
    assert (mine / "README.md").read_text() == "my own card\n"


def test_the_data_card_lists_one_reader_by_split_deterministically():
    files = ["val/b.png", "train/cats/a[1].png", "train/cats/a_aug0.png", "notes.csv", "weird.xyz"]
    text = card(files, "image").decode()
    assert text == card(list(reversed(files)), "image").decode()
    head, human = text.split("---\n", 2)[1:]
    assert head == (
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path:\n"
        '    - "train/cats/a[[]1[]].png"\n    - "train/cats/a_aug0.png"\n'
        '  - split: validation\n    path:\n    - "val/b.png"\n'
    )
    assert human.startswith("\naugcli wrote this card")
    assert 'load_dataset("csv", data_dir=OUTPUT, data_files=["notes.csv"], sep=",")' in human
    assert "Not listed (1, no reader or a name YAML cannot hold): weird.xyz." in human
    assert '  sep: "\\t"\n' in card(["t.tsv"], "tabular").decode()
    with pytest.raises(ValueError, match="modality"):
        card(files, "pictures")


def test_the_card_of_units_is_the_same_from_a_mapping_or_its_pairs():
    """A run hands the card its planned units as pairs (no copy of a million records): the card is
    the mapping's. Run-wide files count among the files but are not data; the card itself is neither."""
    from augcli.build import datacard

    units = {
        "a.csv": {"key": "k", "files": [["a.csv", "0" * 64]]},
        "b.tsv": {"key": "k", "files": [["b.tsv", "0" * 64]]},
        "coco.json": {"key": "k", "files": [["coco.json", "0" * 64]], "run": True},
        datacard.CARD_NAME: {"key": "k", "files": [[datacard.CARD_NAME, "0" * 64]], "run": True},
    }
    made = datacard.for_units(units, ["tabular"])
    assert made is not None and made[1] == "tabular"
    assert datacard.for_units(iter(list(units.items())), ["tabular"]) == made
    assert b'"a.csv"' in made[0] and b"coco.json" not in made[0]


def test_a_detection_output_loads_its_images_not_its_label_files(tmp_path):
    """Without a card, datasets would take the YOLO label .txt files (or the masks) for the data."""
    from tests.test_annotations import detection_dataset, recipe

    data = detection_dataset(tmp_path / "data", "yolo")
    out = tmp_path / "out"
    run(recipe(tmp_path, "yolo", "    - hflip: {p: 0.5}\n"), data, out)
    images = sorted(r["output"] for r in manifest(out) if r["output"].startswith("images/"))
    assert len(images) == 9
    loaded = hf_load(out, tmp_path)
    assert loaded["train"].info.builder_name == "imagefolder" and loaded["train"].num_rows == 9
    assert "README.md" in [r["output"] for r in manifest(out) if r["kind"] == "dataset"]


def test_the_card_names_a_table_whose_name_is_not_utf8_without_listing_it(tmp_path):
    """Linux allows any bytes in a name; a YAML card cannot hold them, so such a table is named in
    the card's text (with U+FFFD) and the run still succeeds."""
    tables = ["a.csv", os.fsdecode(b"caf\xe9.csv")]
    text = card(tables, "tabular").decode("utf-8")
    head, human = text.split("---\n")[1:]
    assert '- "a.csv"' in head and "caf" not in head and "caf\ufffd.csv" in human
    data = tmp_path / "data"
    data.mkdir()
    for name in (b"a.csv", b"caf\xe9.csv"):
        (data / os.fsdecode(name)).write_text("x,label\n1.5,a\n2.5,b\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\ntabular:\n  label: label\n  transforms: [{gaussian_noise: {std: 0.1}}]\n")
    run(recipe, data, tmp_path / "out")
    assert "caf\ufffd.csv" in (tmp_path / "out" / "README.md").read_text()


# The cases datasets' own inference gets wrong without a card: it counts files by extension, and a
# draw (one data file beside manifest.csv) goes to csv, so the manifest is read as data.
SMALL_OUTPUTS = {
    "one TSV table": (
        {"t.tsv": "x\tlabel\n1.5\ta\n2.5\tb\n3.5\ta\n"},
        "copies: 1\ntabular:\n  label: label\n  transforms: [{gaussian_noise: {std: 0.1}}]\n",
        "csv",
        ["x", "label"],
    ),
    "one .txt copy, no original": (
        {"a.txt": "the quick brown fox jumps\nover the lazy dog\n"},
        "copies: 1\nkeep_original: false\ntext:\n  transforms: [random_swap]\n",
        "text",
        ["text"],
    ),
    "a .jpg and a .png": (
        {"a.jpg": None, "b.png": None},
        "copies: 1\nkeep_original: false\nimage:\n  transforms: [hflip]\n",
        "imagefolder",
        ["image"],
    ),
    "JSON lines beside CSV": (
        {
            "questions.jsonl": '{"id": 1, "text": "what is the time now", "topic": "t"}\n'
            '{"id": 2, "text": "where is the big red house", "topic": "p"}\n',
            "reviews.csv": "text,stars\ngood food and nice staff,5\nbad service all day long,1\n",
        },
        "copies: 1\ntext:\n  include: ['*.csv', '*.jsonl']\n  columns: [text]\n  transforms: [random_swap]\n",
        "json",  # datasets' order on a draw: jsonl before csv
        ["id", "text", "topic"],
    ),
}


@pytest.mark.parametrize("case", list(SMALL_OUTPUTS))
def test_hugging_face_loads_exactly_the_data_of_a_small_or_mixed_output(tmp_path, case):
    """Each failed before the card was written whenever the extension count could draw: the TSV
    load raised DatasetGenerationCastError (manifest.csv read), the .txt and the images loads gave
    the manifest's rows. Mixed builders: the card's default reads one, its text gives the call that
    reads each other one, and together they give every data row."""
    datasets = pytest.importorskip("datasets")
    files, recipe_text, builder, columns = SMALL_OUTPUTS[case]
    data, out = tmp_path / "data", tmp_path / "out"
    for k, (name, text) in enumerate(files.items()):
        if text is None:
            write_image(data / name, gradient_rgb(16, 12, seed=k))
        else:
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_text(text)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\n" + recipe_text)
    run(recipe, data, out)
    rows = manifest(out)
    assert (out / "README.md").exists() and "README.md" in [r["output"] for r in rows if r["kind"] == "dataset"]
    loaded = hf_load(out, tmp_path)
    assert list(loaded) == ["train"]
    train = loaded["train"]
    assert train.info.builder_name == builder and train.column_names == columns
    if builder == "imagefolder":
        assert train.num_rows == 2
    elif builder == "text":
        assert sorted(train["text"]) == sorted((out / "a_aug0.txt").read_text().splitlines())
    else:
        tables = [r for r in rows if r["kind"] == "table"]
        mine = [r for r in tables if datasets_builder(r["output"]) == builder]
        assert train.num_rows == sum(sum(json.loads(r["rows"]).values()) for r in mine)
    others = [r for r in rows if r["kind"] == "table" and datasets_builder(r["output"]) != builder]
    code = (out / "README.md").read_text().partition("```python\n")[2].partition("```")[0]
    assert bool(code) == bool(others)
    for row in others:  # the card's own call reads each other table, with its own columns
        calls = [line for line in code.splitlines() if row["output"] in line]
        assert len(calls) == 1
        namespace = {"OUTPUT": str(out), "load_dataset": datasets.load_dataset}
        table = eval(
            calls[0].replace("load_dataset(", f"load_dataset(cache_dir={str(tmp_path / 'hf')!r}, path="), namespace
        )
        header = (out / row["output"]).read_text().splitlines()[0].split(",")
        assert table["train"].column_names == header
        assert table["train"].num_rows == sum(json.loads(row["rows"]).values())


def datasets_builder(path: str) -> str:
    from datasets.packaged_modules import _EXTENSION_TO_MODULE

    return _EXTENSION_TO_MODULE[Path(path).suffix][0]


def test_empty_class_folders_of_input_are_class_folders_of_output(tmp_path):
    """val/square is empty in INPUT and val/hexagon holds only a file no section claims: every
    class-folder loader lists them, so OUTPUT has them too (before, OUTPUT's val had circle and
    triangle only, and ImageFolder(allow_empty=True) or Keras numbered triangle 1 instead of 3).
    A no-op rerun changes nothing; a folder augcli made goes when INPUT's goes, unless someone put a
    file in it."""
    data, out = tmp_path / "data", tmp_path / "out"
    for split, count in (("train", 2), ("val", 1)):
        for k, name in enumerate(["circle", "square", "triangle"]):
            for i in range(count if (split, name) != ("val", "square") else 0):
                write_image(data / split / name / f"{name}{i}.png", gradient_rgb(16, 12, seed=10 * k + i))
    (data / "val" / "square").mkdir()
    (data / "val" / "hexagon").mkdir()
    (data / "val" / "hexagon" / "notes.md").write_text("no hexagons yet\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 1\ncopies: 1\nimage:\n  transforms: [hflip]\n")
    run(recipe, data, out)
    for split in ("train", "val"):
        assert torchvision_classes(out / split) == torchvision_classes(data / split)
        assert keras_classes(out / split) == keras_classes(data / split)
    assert torchvision_classes(out / "val") == ["circle", "hexagon", "square", "triangle"]
    assert not any((out / "val" / "hexagon").iterdir())  # the folder, not the unclaimed file
    if importlib.util.find_spec("torchvision") is not None:
        from torchvision.datasets import ImageFolder

        found = ImageFolder(str(out / "val"), allow_empty=True).class_to_idx
        assert found == ImageFolder(str(data / "val"), allow_empty=True).class_to_idx
    state = json.loads((out / ".augcli-state.json").read_text())
    assert state["folders"] == ["val/hexagon", "val/square"]

    times = {p: p.stat().st_mtime_ns for p in [out, *out.rglob("*")]}
    run(recipe, data, out)  # a no-op: nothing made, nothing touched
    assert {p: p.stat().st_mtime_ns for p in [out, *out.rglob("*")]} == times

    (data / "val" / "square").rmdir()
    (out / "val" / "hexagon" / "theirs.txt").write_text("someone's\n")
    shutil.rmtree(data / "val" / "hexagon")
    run(recipe, data, out)
    assert torchvision_classes(out / "val") == ["circle", "hexagon", "triangle"]  # hexagon holds their file
    assert (out / "val" / "hexagon" / "theirs.txt").exists()
    assert json.loads((out / ".augcli-state.json").read_text())["folders"] == ["val/hexagon"]
    (out / "val" / "hexagon" / "theirs.txt").unlink()
    run(recipe, data, out)  # emptied: the folder augcli made goes now
    assert torchvision_classes(out / "val") == ["circle", "triangle"]
    assert "folders" not in json.loads((out / ".augcli-state.json").read_text())


def _needed_by_sets(data_files: list[str], all_files: list[str]) -> bool:
    """datacard.needed as sets of every file, as it was written first: the reference."""
    from collections import Counter, defaultdict
    from pathlib import PurePosixPath

    everything = [p for p in {*all_files, "manifest.csv"} if not datacard._hidden(p)]
    by_split: dict[str, list[str]] = defaultdict(list)
    for path in everything:
        split = next(
            (datacard._SPLITS[f.lower()] for f in PurePosixPath(path).parts[:-1] if f.lower() in datacard._SPLITS),
            "train",
        )
        by_split[split].append(path)
    builders = set()
    for paths in by_split.values():
        counts = Counter(
            "." + part.lower()
            for p in paths
            for part in p.rpartition("/")[2].split(".")[1:]
            if "." + part.lower() in datacard._MODULES
        )
        if counts:
            top = max(counts.values())
            found = {datacard._MODULES[s][0] for s, c in counts.items() if c == top}
            builders.add(found.pop() if len(found) == 1 else "")
    if len(builders) != 1 or "" in builders:
        return True
    builder = builders.pop()
    exts = {s for s, (name, _) in datacard._MODULES.items() if name == builder}
    read = {p for p in everything if any("." + part.lower() in exts for part in p.rpartition("/")[2].split(".")[1:])}
    return read != set(data_files)


_CARD_PATHS = st.lists(
    st.builds(
        "/".join,
        st.lists(st.sampled_from(["train", "Val", "test", "a", ".hidden", "__x__", "", ".", "b"]), max_size=3).map(
            list
        ),
    ).flatmap(
        lambda folder: st.sampled_from(
            [
                "x.png",
                "y.jpg",
                "t.csv",
                "u.tsv",
                "r.txt",
                "l.txt",
                "a.tar.csv",
                "m.jsonl",
                "n",
                ".h.png",
                "manifest.csv",
            ]
        ).map(lambda name: f"{folder}/{name}" if folder else name)
    ),
    max_size=10,
)


@settings(max_examples=400, deadline=None)
@given(_CARD_PATHS, _CARD_PATHS)
def test_whether_a_card_is_needed_is_decided_as_with_sets_of_every_file(data, others):
    """The card decision works through sorted lists (no set of a million files): the same answer
    as sets give, for duplicates, hidden files, split folders, several suffixes, data not on disk."""
    assert datacard.needed(data, data + others) == _needed_by_sets(data, data + others)
    assert datacard.needed(data, others) == _needed_by_sets(data, others)
