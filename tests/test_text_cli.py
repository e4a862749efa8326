"""The text modality end to end through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_cli import invoke, read_manifest, tree_digest

ROOT = Path(__file__).resolve().parent.parent


def test_text_run_is_byte_identical_across_worker_counts(tmp_path):
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "a" / "one.txt").write_text("The quick brown fox jumps.\nA lazy dog sleeps all day long.\n")
    (data / "a" / "two.txt").write_text("Bright stars shine over the quiet sea.\n")
    (data / "b.jsonl").write_text('{"text": "Happy people dance in the warm rain", "y": 1}\n{"text": oops}\n')
    (data / "c.jsonl").write_text('{"text": "Happy people dance in the warm rain", "y": 1}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 9\ncopies: 3\ntext:\n  transforms:\n    - eda\n    - keyboard_typo: {p: 0.5}\n")
    digests = []
    for workers in (1, 2):
        result = invoke("run", recipe, data, tmp_path / f"out{workers}", "--workers", workers, "--allow-failures")
        assert result.exit_code == 0 and result.output.count("failed: b.jsonl: line 2 is not JSON") == 1
        digests.append(tree_digest(tmp_path / f"out{workers}"))
    assert digests[0] == digests[1]
    assert len(digests[0]) == 1 + 2 * 4 + 1 + 1  # manifest, two .txt x (original + 3 copies), a table, the card
    rows = {row["output"]: row for row in read_manifest(tmp_path / "out1")}
    assert json.loads(rows["c.jsonl"]["rows"]) == {"original": 1, "augmented": 3, "synthetic": 0}
    assert json.loads(rows["a/one_aug2.txt"]["transforms"])[0]["name"] == "eda"


def test_shipped_text_recipe_keeps_lines_aligned(tmp_path):
    result = invoke("run", ROOT / "configs" / "text.yaml", ROOT / "sample_data" / "text", tmp_path / "out")
    assert result.exit_code == 0, result.output
    source_lines = (ROOT / "sample_data" / "text" / "reviews.txt").read_text().count("\n")
    for k in range(4):
        assert (tmp_path / "out" / f"reviews_aug{k}.txt").read_text().count("\n") == source_lines
    lines = (tmp_path / "out" / "questions.jsonl").read_text().splitlines()
    assert len(lines) == 8 * 5 and [json.loads(line)["id"] for line in lines[:5]] == [1] * 5


def test_one_table_is_made_in_parts_across_workers_with_the_same_bytes(tmp_path):
    """A single table's copies are made by the workers in parallel, each formatting its own rows; the
    joined table must be byte for byte the one a single process writes: quoting, embedded newlines,
    CRLF and a BOM kept, rows in order (original, then its copies), provenance tags right."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        "id,text,label",
        '1,"Happy people, dancing in the warm rain",a',
        '2,"She said ""hello"" to the quiet old man",b',
        '3,"A line that\nbreaks inside its quotes",a',
        "4,,b",
        "5,Bright stars shine over the sea tonight,a",
    ]
    (data / "t.csv").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    (data / "j.jsonl").write_bytes(
        b'{"text": "Small birds sing in the early morning", "y": 1}\r\n{"text": "Cold wind blows", "y": 2}\r\n'
    )
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        'seed: 4\ncopies: 3\ntext:\n  include: ["*.csv", "*.jsonl"]\n  provenance_column: origin\n'
        "  transforms:\n    - eda: {alpha_rs: 0.3}\n"
    )
    plain = tmp_path / "plain.yaml"  # no provenance column: JSONL originals are copied line for line
    plain.write_text(recipe.read_text().replace("  provenance_column: origin\n", ""))
    for name in ("t.csv", "j.jsonl"):
        single = tmp_path / f"in_{name}"
        single.mkdir()
        (single / name).write_bytes((data / name).read_bytes())
        for tagged in (recipe, plain):
            outputs = []
            for workers in (1, 2):
                out = tmp_path / f"out_{name}_{tagged.stem}_{workers}"
                result = invoke("run", tagged, single, out, "--workers", workers)
                assert result.exit_code == 0, result.output
                outputs.append((out / name).read_bytes())
            assert outputs[0] == outputs[1]
            assert outputs[0].count(b"\r\n") == (1 + 5 * 4 if name == "t.csv" else 2 * 4)  # every row, CRLF
    table = (tmp_path / "out_t.csv_r_2" / "t.csv").read_bytes()
    assert table.startswith("\ufeff".encode())
    import csv
    import io

    read = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in read] == [str(i) for i in range(1, 6) for _ in range(4)]
    assert [r["origin"] for r in read[:4]] == ["original", "copy 0", "copy 1", "copy 2"]
    assert read[8]["text"].count("\n") <= 1 and read[12]["text"] == ""  # the empty cell stays empty
    lines = (tmp_path / "out_j.jsonl_r_2" / "j.jsonl").read_text().splitlines()
    assert [json.loads(line)["origin"] for line in lines] == ["original", "copy 0", "copy 1", "copy 2"] * 2
    assert [json.loads(line)["y"] for line in lines] == [1] * 4 + [2] * 4


def test_a_text_run_imports_no_other_modality(tmp_path):
    """Modalities load on first use: a text-only run's process never imports OpenCV, pandas or
    librosa, and its fork server (which forks the workers) preloads only the text modality and the
    WordNet table."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("The quick brown fox jumps over the lazy dog.\n")
    (data / "b.txt").write_text("Bright stars shine over the quiet sea.\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\ntext:\n  transforms: [eda]\n")
    script = (
        "import sys\n"
        "from augcli.cli import main\nfrom augcli.jobs import preload as _preload\n"
        "from augcli.core.recipe import load_recipe\n"
        "try:\n"
        f"    main(['run', {str(recipe)!r}, {str(data)!r}, {str(tmp_path / 'out')!r}, '-q'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code in (0, None), exit.code\n"
        "print(sorted(m for m in ('cv2', 'pandas', 'librosa', 'augcli.image.modality') if m in sys.modules))\n"
        f"print(_preload(load_recipe({str(recipe)!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded, preload = done.stdout.splitlines()
    assert loaded == "[]"
    assert preload == "['augcli.text.modality', 'augcli.text.warm', 'augcli.text.warm_synonyms']"
    assert len(list((tmp_path / "out").glob("*_aug*.txt"))) == 4


def test_only_steps_that_re_inflect_synonyms_warm_lemminflect_in_the_fork_server(tmp_path):
    """eda, synonym_replacement and random_insertion (even inside one_of) have the fork server read
    lemminflect's tables for every worker; a section without them does not pay for it, and every
    name on that list is a text transform."""
    from augcli import jobs
    from augcli.core.modalities import REINFLECTING, SYNONYM_WARMUP, names_a_step
    from augcli.core.recipe import parse_recipe
    from augcli.core.transforms import transforms_for

    def warms(steps: str) -> bool:
        return SYNONYM_WARMUP in jobs.preload(parse_recipe(f"text:\n  transforms: {steps}\n", "r"))

    assert set(transforms_for("text")) >= REINFLECTING
    assert all(warms(f"[{name}]") for name in REINFLECTING)
    assert warms("[random_swap, {one_of: [keyboard_typo, {random_insertion: {alpha: 0.2}}]}]")
    assert not warms("[random_swap, random_deletion, keyboard_typo, {one_of: [random_char, ocr_errors]}]")
    assert warms("[{antonym: {aug_p: 0.5}}]")
    (tmp_path / "words.txt").write_text("nope\n")
    with_list = parse_recipe("text:\n  exclude_words: words.txt\n  transforms: [random_swap]\n", "r", tmp_path)
    assert SYNONYM_WARMUP in jobs.preload(with_list)  # the section's own words are inflected too
    raw = [{"some_of": {"n": 1}}, {"one_of": ["keyboard_typo", {"eda": {"alpha_sr": 0.2}}]}]
    assert names_a_step(raw, REINFLECTING) and not names_a_step(["edam", {"x": "eda_x"}, {1: None}], REINFLECTING)


def test_the_early_look_at_a_raw_recipe_survives_what_yaml_aliases_can_build(tmp_path, monkeypatch):
    """Before the recipe check, the step names are looked for without recursion and within a
    budget: a list that holds itself, a thousand levels of nesting and an alias bomb (10**8 leaves)
    answer at once, and a recipe the check will refuse never crashes the early start."""
    from augcli import jobs
    from augcli.build import pool
    from augcli.core.modalities import REINFLECTING, names_a_step

    itself: list = ["random_swap"]
    itself.append(itself)
    deep: list = ["eda"]
    for _ in range(1000):
        deep = [deep]
    bomb: list = ["q"] * 10
    for _ in range(8):
        bomb = [bomb] * 10
    assert not names_a_step(itself, REINFLECTING)
    assert names_a_step(deep, REINFLECTING)
    assert not names_a_step(bomb, REINFLECTING)
    started: list[list[str]] = []
    monkeypatch.setattr(pool, "start_server", lambda preload=(): started.append(list(preload)))
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    (data / "b.txt").write_text("b\n")
    aliased = "text:\n  transforms: &t [random_swap, *t]\n"
    nested = "text:\n  transforms: " + "[" * 400 + "random_swap" + "]" * 400 + "\n"
    for number, text in enumerate([aliased, nested]):
        recipe = tmp_path / f"r{number}.yaml"
        recipe.write_text(text)
        jobs.start_pool_early(str(recipe), str(data), str(tmp_path / f"new{number}"), 2, "local")
    assert all(modules[0] == "augcli.text.modality" for modules in started)


def test_the_fork_server_s_text_warm_up_reads_every_table_a_worker_would():
    """augcli.text.warm and warm_synonyms, imported by the fork server, leave WordNet's table and
    lemminflect's lemma and inflection tables loaded: workers forked from it read none of them
    again (each read cost every worker 0.1-0.3 s of a text run)."""
    script = (
        "import augcli.text.warm, augcli.text.warm_synonyms\n"
        "from lemminflect.core.Inflections import Inflections\n"
        "from lemminflect.core.Lemmatizer import Lemmatizer\n"
        "from augcli.text import lexicon\n"
        "print(hasattr(Lemmatizer(), 'lemma_dict'), hasattr(Inflections(), 'infl_dict'))\n"
        "print(lexicon.wordnet.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "1"]


def test_a_first_run_starts_the_worker_pool_before_loading_the_recipe(tmp_path, monkeypatch):
    """Into a new OUTPUT the fork server starts at once with the recipe's modules, overlapping this
    process's start-up; never for a rerun (it may have nothing to do), --workers 1, Dask, a bucket,
    an INPUT of one file (made in this process), or a recipe that does not even parse (its error
    comes from the recipe check)."""
    from augcli import jobs
    from augcli.build import pool

    started: list[list[str]] = []
    monkeypatch.setattr(pool, "start_server", lambda preload=(): started.append(list(preload)))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\naudio:\n  transforms: [gain]\ntext:\n  transforms: [eda]\nimagery: {}\n")
    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "b.txt").write_text("one line\n")
    jobs.start_pool_early(str(recipe), str(data), str(tmp_path / "new"), 2, "local")
    assert started == [
        ["augcli.audio.modality", "scipy.fft", "soxr", "augcli.audio.vocoder", "augcli.audio.envelope"]
        + ["augcli.text.modality", "augcli.text.warm", "augcli.text.warm_synonyms"]
    ]
    (tmp_path / "old" / ".augcli").mkdir(parents=True)
    jobs.start_pool_early(str(recipe), str(data), str(tmp_path / "old"), 2, "local")
    jobs.start_pool_early(str(recipe), str(data), str(tmp_path / "new"), 1, "local")
    single = tmp_path / "single"
    single.mkdir()
    (single / "only.txt").write_text("one line\n")
    jobs.start_pool_early(str(recipe), str(single), str(tmp_path / "new"), 2, "local")
    jobs.start_pool_early(str(recipe), str(data), str(tmp_path / "new"), 2, "dask")
    jobs.start_pool_early(str(recipe), str(data), "s3://bucket/out", 2, "local")
    (tmp_path / "bad.yaml").write_text("copies: [\n")
    jobs.start_pool_early(str(tmp_path / "bad.yaml"), str(data), str(tmp_path / "new"), 2, "local")
    jobs.start_pool_early(str(tmp_path / "missing.yaml"), str(data), str(tmp_path / "new"), 2, "local")
    os.mkfifo(tmp_path / "fifo.yaml")  # never opened for a blocking read: no hang, no start
    jobs.start_pool_early(str(tmp_path / "fifo.yaml"), str(data), str(tmp_path / "new"), 2, "local")
    assert len(started) == 1


def test_every_modality_lists_its_transforms_in_a_fresh_interpreter():
    """transforms_for loads the modality it is asked about (modalities load on first use): `augcli
    transforms`, the docs and the recipe check see every transform without importing anything first."""
    script = (
        "from augcli.core.transforms import transforms_for\n"
        "print(sorted(n for m, n in [('image', 'rotate'), ('audio', 'time_stretch'), ('text', 'eda'),"
        " ('tabular', 'gaussian_noise')] if n in transforms_for(m)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['eda', 'gaussian_noise', 'rotate', 'time_stretch']"
