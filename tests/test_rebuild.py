"""The make-like run model: incremental reruns, failures that lose nothing, --check, verify, the lock."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from augcli.build import state
from augcli.core import files
from augcli.storage import tree as storage
from tests.conftest import RECIPE, augcli_command, gradient_rgb, start_long_run, write_image
from tests.test_annotations import GEOMETRIC, detection_dataset, recipe
from tests.test_cli import invoke, read_manifest, tree_digest


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every output file: equal stamps mean the file was not rewritten."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(".augcli")
    }


def clean_run(recipe_file: Path, data: Path, where: Path, *extra: str) -> dict[str, str]:
    shutil.rmtree(where, ignore_errors=True)
    result = invoke("run", recipe_file, data, where, "--workers", "1", *extra)
    assert result.exit_code == 0, result.output
    return tree_digest(where)


def touched(before: dict, after: dict) -> set[str]:
    return {path for path in after if before.get(path) != after[path]}


def test_a_rerun_with_nothing_changed_touches_nothing(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "2").exit_code == 0
    before = stamps(out)
    result = invoke("run", recipe_file, dataset, out, "--workers", "2")
    assert result.exit_code == 0
    assert "augcli: 5 files in: 5 up to date, 0 made (0 outputs), 0 removed, 0 failed, " in result.stderr
    assert stamps(out) == before
    assert invoke("run", recipe_file, dataset, out, "--check").exit_code == 0


def test_a_changed_input_remakes_its_outputs_and_no_others(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    before = stamps(out)
    write_image(dataset / "cats" / "cat1.jpg", gradient_rgb(seed=99), quality=90)
    os.utime(dataset / "dogs" / "dog0.png")  # touched, same bytes: hashed again, found unchanged
    check = invoke("run", recipe_file, dataset, out, "--check")
    assert check.exit_code == 1
    assert "4 outputs would be changed: cats/cat1.jpg, cats/cat1_aug0.jpg" in check.stderr
    assert stamps(out) == before  # --check wrote nothing
    result = invoke("run", recipe_file, dataset, out)
    assert "5 files in: 4 up to date, 1 made (4 outputs), 0 removed" in result.stderr
    assert touched(before, stamps(out)) == {f"cats/cat1{s}.jpg" for s in ("", "_aug0", "_aug1", "_aug2")} | {
        "manifest.csv"
    }
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean")


def test_recipe_edits_redo_exactly_the_outputs_they_affect(dataset, tmp_path):
    out, clean = tmp_path / "out", tmp_path / "clean"
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(RECIPE)
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    originals = {f"cats/cat{i}.jpg" for i in range(3)} | {f"dogs/dog{i}.png" for i in range(2)}

    # Fewer copies: the extra copies go, nothing else is rewritten.
    before = stamps(out)
    assert invoke("run", recipe_file, dataset, out, "--copies", "2").exit_code == 0
    after = stamps(out)
    assert set(before) - set(after) == {f"cats/cat{i}_aug2.jpg" for i in range(3)} | {
        "dogs/dog0_aug2.png",
        "dogs/dog1_aug2.png",
    }
    assert touched(before, after) == {"manifest.csv"}
    assert tree_digest(out) == clean_run(recipe_file, dataset, clean, "--copies", "2")

    # Changed transforms: every copy is remade, the originals stay.
    before = after
    recipe_file.write_text(RECIPE.replace("degrees: 20", "degrees: 5"))
    assert invoke("run", recipe_file, dataset, out, "--copies", "2").exit_code == 0
    after = stamps(out)
    assert touched(before, after) == (set(after) - originals)
    assert tree_digest(out) == clean_run(recipe_file, dataset, clean, "--copies", "2")

    # A new seed: the same; keep_original false: the originals go.
    before = after
    recipe_file.write_text(RECIPE.replace("degrees: 20", "degrees: 5").replace("seed: 7", "seed: 8"))
    assert invoke("run", recipe_file, dataset, out, "--copies", "2").exit_code == 0
    assert touched(before, stamps(out)) == (set(after) - originals)
    recipe_file.write_text("keep_original: false\n" + recipe_file.read_text())
    assert invoke("run", recipe_file, dataset, out, "--copies", "2").exit_code == 0
    assert not originals & set(stamps(out))
    assert tree_digest(out) == clean_run(recipe_file, dataset, clean, "--copies", "2")

    # The output format: copies renamed (old ones deleted).
    recipe_file.write_text(recipe_file.read_text() + "  output: {format: png}\n")
    assert invoke("run", recipe_file, dataset, out, "--copies", "2").exit_code == 0
    assert not list(out.rglob("*_aug*.jpg")) and len(list(out.rglob("*_aug*.png"))) == 10
    assert tree_digest(out) == clean_run(recipe_file, dataset, clean, "--copies", "2")

    # A section removed from the recipe: all its outputs are deleted, and their folders.
    recipe_file.write_text("text:\n  transforms: [eda]\n")
    (dataset / "notes.txt").write_text("A quiet line of text to keep.\n")
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.iterdir() if not p.name.startswith(".augcli")) == [
        "README.txt",
        "README_aug0.txt",
        "manifest.csv",
        "notes.txt",
        "notes_aug0.txt",
    ]


def test_removed_inputs_lose_their_outputs_and_folders(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    shutil.rmtree(dataset / "dogs")
    (dataset / "cats" / "cat2.jpg").unlink()
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 0 and "2 files in: 2 up to date, 0 made (0 outputs), 12 removed" in result.stderr
    assert not (out / "dogs").exists()
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean")


def test_a_label_file_is_part_of_its_images_key(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    recipe_file = recipe(tmp_path, "yolo", GEOMETRIC)
    out = tmp_path / "out"
    assert invoke("run", recipe_file, data, out).exit_code == 0
    before = stamps(out)
    label = data / "labels" / "train" / "im1.txt"
    label.write_text(label.read_text().splitlines()[0] + "\n")  # one object fewer
    assert invoke("run", recipe_file, data, out).exit_code == 0
    changed = touched(before, stamps(out))
    assert changed == {
        f"{folder}/train/im1{suffix}.{ext}"
        for folder, ext in (("images", "png"), ("labels", "txt"), ("masks", "png"))
        for suffix in ("", "_aug0", "_aug1")
    } | {"manifest.csv"}
    assert tree_digest(out) == clean_run(recipe_file, data, tmp_path / "clean")


def test_a_noise_folder_is_part_of_every_audio_outputs_key(tmp_path):
    import numpy as np
    import soundfile as sf

    data, noise = tmp_path / "data", tmp_path / "noise"
    data.mkdir()
    noise.mkdir()
    tone = np.sin(np.arange(8000) * 0.05).astype(np.float32) * 0.5
    sf.write(data / "a.wav", tone, 8000, subtype="PCM_16")
    sf.write(noise / "hum.wav", np.cos(np.arange(4000) * 0.3).astype(np.float32) * 0.3, 8000, subtype="PCM_16")
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text("copies: 1\naudio:\n  transforms:\n    - background_noise: {path: noise, snr_db: 3}\n")
    out = tmp_path / "out"
    assert invoke("run", recipe_file, data, out).exit_code == 0
    copy = (out / "a_aug0.wav").read_bytes()
    assert invoke("run", recipe_file, data, out, "--check").exit_code == 0
    sf.write(noise / "hum.wav", np.sin(np.arange(4000) * 0.9).astype(np.float32) * 0.3, 8000, subtype="PCM_16")
    assert invoke("run", recipe_file, data, out, "--check").exit_code == 1
    assert invoke("run", recipe_file, data, out).exit_code == 0
    assert (out / "a_aug0.wav").read_bytes() != copy


def test_rebuild_remakes_everything_to_the_same_bytes(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    before, digest = stamps(out), tree_digest(out)
    assert invoke("run", recipe_file, dataset, out, "--rebuild").exit_code == 0
    after = stamps(out)
    assert all(before[p][0] != after[p][0] for p in before if p != "manifest.csv")  # new files
    assert tree_digest(out) == digest


def test_foreign_files_are_refused_without_overwrite(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 2 and "no augcli run wrote" in result.stderr and "--overwrite" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]
    assert invoke("run", recipe_file, dataset, out, "--overwrite").exit_code == 0
    # A file of an output's name that no run recorded is never replaced silently.
    write_image(dataset / "cats" / "cat9.jpg", gradient_rgb(seed=9))
    (out / "cats" / "cat9_aug1.jpg").write_bytes(b"someone else's")
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 2 and "cats/cat9" in result.stderr
    assert (out / "cats" / "cat9_aug1.jpg").read_bytes() == b"someone else's"
    assert not (out / "cats" / "cat9.jpg").exists()  # refused before anything was written
    assert invoke("run", recipe_file, dataset, out, "--overwrite").exit_code == 0
    assert (out / "mine.txt").read_text() == "keep"


def test_a_failed_input_keeps_its_outputs_and_the_manifest_stays_old(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    manifest_before = (out / "manifest.csv").read_bytes()
    good = {p: (out / p).read_bytes() for p in ("cats/cat0.jpg", "cats/cat0_aug1.jpg")}
    (dataset / "cats" / "cat0.jpg").write_bytes(b"\xff\xd8 corrupt now")
    (dataset / "dogs" / "dog1.png").unlink()
    mtime = (out / "manifest.csv").stat().st_mtime_ns
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 1 and "failed: cats/cat0.jpg: cannot decode image" in result.stderr
    assert "manifest.csv not updated" in result.stderr
    assert {p: (out / p).read_bytes() for p in good} == good  # earlier outputs intact
    assert (out / "dogs" / "dog1_aug0.png").exists()  # removal waits for a successful run
    assert (out / "manifest.csv").read_bytes() == manifest_before
    assert (out / "manifest.csv").stat().st_mtime_ns == mtime
    failures = (out / ".augcli-failures.csv").read_text()
    assert failures.startswith('"source","error"\n"cats/cat0.jpg","cannot decode image')
    assert invoke("run", recipe_file, dataset, out, "--check").exit_code == 1
    # The next run tries it again; accepted failures give exit 0 and a manifest of what is there.
    result = invoke("run", recipe_file, dataset, out, "--allow-failures")
    assert result.exit_code == 0 and "failed: cats/cat0.jpg" in result.stderr
    assert not (out / "dogs" / "dog1_aug0.png").exists()
    assert {row["output"] for row in read_manifest(out)} >= set(good)
    assert invoke("verify", out).exit_code == 0
    write_image(dataset / "cats" / "cat0.jpg", gradient_rgb(seed=0), quality=90)
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    assert not (out / ".augcli-failures.csv").exists()
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean")


def test_a_failed_run_that_made_new_outputs_leaves_the_manifest_to_be_rewritten(dataset, recipe_file, tmp_path):
    """A failed run keeps manifest.csv as it was but records what it made: once the bad input is
    gone, --check says the manifest is stale and the next run writes it, listing the new file."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    write_image(dataset / "cats" / "new.jpg", gradient_rgb(seed=5), quality=90)
    (dataset / "cats" / "bad.jpg").write_bytes(b"\xff\xd8 not a picture")
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 1 and "manifest.csv not updated" in result.stderr
    assert "cats/new.jpg" not in (out / "manifest.csv").read_text()
    (dataset / "cats" / "bad.jpg").unlink()
    check = invoke("run", recipe_file, dataset, out, "--check")
    assert check.exit_code == 1
    assert "manifest.csv would be rewritten: it does not list what OUTPUT holds" in check.stderr
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 0 and "manifest.csv rewritten" in result.stderr
    assert "cats/new.jpg" in (out / "manifest.csv").read_text()
    assert invoke("run", recipe_file, dataset, out, "--check").exit_code == 0
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean")


def test_a_run_failing_on_the_same_input_again_writes_nothing(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    (dataset / "cats" / "bad.jpg").write_bytes(b"\xff\xd8 not a picture")
    assert invoke("run", recipe_file, dataset, out).exit_code == 1
    before = {p: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert invoke("run", recipe_file, dataset, out).exit_code == 1
    assert {p: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == before


def test_a_recipe_matching_nothing_exits_2_naming_globs_and_near_names(tmp_path, recipe_file):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.JPG2").write_bytes(b"x")
    (data / "b.txt").write_text("x")
    result = invoke("run", recipe_file, data, tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert "no file under INPUT matches the include globs (image: *.jpg, *.jpeg" in result.stderr
    assert "nearest file names: a.JPG2" in result.stderr and "--allow-empty" in result.stderr
    result = invoke("run", recipe_file, data, tmp_path / "out", "--allow-empty")
    assert result.exit_code == 0 and (tmp_path / "out" / "manifest.csv").read_text().startswith("output,")


def test_check_on_a_missing_output_writes_nothing(dataset, recipe_file, tmp_path):
    result = invoke("run", recipe_file, dataset, tmp_path / "out", "--check")
    assert result.exit_code == 1 and "20 outputs would be made: cats/cat0.jpg" in result.stderr
    assert not (tmp_path / "out").exists()


def test_verify_finds_missing_modified_and_unlisted_files(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    rows = read_manifest(out)
    assert all(len(row["sha256"]) == 64 for row in rows)
    assert invoke("verify", out).exit_code == 0
    (out / "cats" / "cat0_aug0.jpg").unlink()
    (out / "dogs" / "dog0.png").write_bytes(b"changed")
    (out / "cats" / "stray.jpg").write_bytes(b"x")
    result = invoke("verify", out)
    assert result.exit_code == 1
    assert "missing: cats/cat0_aug0.jpg" in result.stderr and "modified: dogs/dog0.png" in result.stderr
    assert "unlisted: cats/stray.jpg" in result.stderr
    assert "20 files checked: 1 missing, 1 modified, 1 unlisted" in result.stderr
    # A rerun repairs what it owns; the stray file is not its own and stays.
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    result = invoke("verify", out)  # another tool's file (a cache, a thumbnail) is reported, not failed
    assert result.exit_code == 0 and "0 missing, 0 modified, 1 unlisted" in result.stderr
    result = invoke("verify", out, "--strict")
    assert result.exit_code == 1 and "unlisted: cats/stray.jpg" in result.stderr


def test_a_second_run_on_the_same_output_is_refused_naming_the_holder(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from augcli.build import state\n"
            "with state.locked(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mtime = out.stat().st_mtime_ns
        result = invoke("run", recipe_file, dataset, out)
        assert result.exit_code == 2 and f"in use by another augcli run (PID {holder.pid})" in result.stderr
        check = invoke("run", recipe_file, dataset, out, "--check")
        assert check.exit_code == 1 and f"in use by another augcli run (PID {holder.pid})" in check.stderr
        assert out.stat().st_mtime_ns == mtime and not list(out.iterdir())  # the lock is OUTPUT itself
    finally:
        holder.kill()
        holder.wait()
    assert invoke("run", recipe_file, dataset, out).exit_code == 0  # a dead holder's lock is taken over


def test_a_full_disk_fails_cleanly_and_keeps_earlier_outputs(dataset, recipe_file, tmp_path, monkeypatch):
    """ENOSPC injected at the write layer after some files (a real small filesystem: test_hostile)."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--copies", "1").exit_code == 0
    before = tree_digest(out)
    real_stage, calls = storage.OutputTree.stage, []

    def stage(self, relative, data=None, source=None, chunks=()):
        calls.append(relative)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_stage(self, relative, data, source, chunks)

    monkeypatch.setattr(storage.OutputTree, "stage", stage)
    result = invoke("run", recipe_file, dataset, out, "--seed", "2", "--copies", "1", "--workers", "1")
    assert result.exit_code == 1 and "No space left on device" in result.stderr
    after = tree_digest(out)
    assert after["manifest.csv"] == before["manifest.csv"]
    assert set(after) == set(before)  # nothing lost, nothing half-made
    assert not [p for p in out.rglob(".augcli-tmp-*")]
    monkeypatch.setattr(storage.OutputTree, "stage", real_stage)
    assert invoke("run", recipe_file, dataset, out, "--seed", "2", "--copies", "1").exit_code == 0
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean", "--seed", "2", "--copies", "1")


def test_a_file_that_killed_two_workers_is_not_tried_again_until_it_changes(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    write_image(dataset / "cats" / "cat0.jpg", gradient_rgb(seed=50), quality=90)
    known = state.load(out)
    sha = files.sha256_file(dataset / "cats" / "cat0.jpg")
    known.deaths["cats/cat0.jpg"] = [2, sha]
    state.save(out, known, lambda relative, chunks: (out / relative).write_bytes(b"".join(chunks)))
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 1 and "cats/cat0.jpg: skipped: it killed 2 workers" in result.stderr
    assert invoke("run", recipe_file, dataset, out, "--rebuild").exit_code == 0
    assert "cats/cat0.jpg" not in state.load(out).deaths


def test_a_killed_run_resumes_and_does_not_redo_journalled_outputs(tmp_path, recipe_file):
    proc, data, out = start_long_run(
        tmp_path, recipe_file, 30, (320, 240), 6, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    journal = out / ".augcli-journal.jsonl"
    while proc.poll() is None and time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 40:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, 9)
    proc.wait()
    assert not (out / "manifest.csv").exists(), "the run finished before it could be killed"
    known = state.load(out)
    assert known.units, "nothing was journalled before the kill"
    done = {path: (out / path).stat().st_mtime_ns for path in known.units}
    result = subprocess.run(
        augcli_command("run", recipe_file, data, out, "--copies", "6"), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert all((out / path).stat().st_mtime_ns == mtime for path, mtime in done.items())
    clean = tmp_path / "clean"
    assert subprocess.run(augcli_command("run", recipe_file, data, clean, "--copies", "6"), check=False).returncode == 0
    assert tree_digest(out) == tree_digest(clean)


def test_a_torn_journal_line_is_ignored(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    known = state.load(out)
    _, record = next(iter(known.units.items()))
    journal = out / ".augcli-journal.jsonl"
    record = dict(record)  # (a record read back is a read-only mapping, packed: as a dict it is JSON)
    journal.write_text(json.dumps({"put": "cats/x.jpg", "record": record}) + '\n{"put": "cats/y.j')
    assert set(state.load(out).units) == set(known.units) | {"cats/x.jpg"}
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    assert "cats/x.jpg" not in state.load(out).units and not journal.exists()


def test_manifest_rows_match_the_files_and_hash_them(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    import hashlib

    for row in read_manifest(out):
        assert hashlib.sha256((out / row["output"]).read_bytes()).hexdigest() == row["sha256"]
    with Image.open(out / "cats" / "cat0_aug0.jpg") as image:
        image.load()


def test_a_companion_the_input_no_longer_has_is_deleted(tmp_path):
    data = detection_dataset(tmp_path / "data", "yolo")
    recipe_file = recipe(tmp_path, "yolo", GEOMETRIC)
    out = tmp_path / "out"
    assert invoke("run", recipe_file, data, out).exit_code == 0
    assert (out / "masks" / "train" / "im1_aug0.png").exists()
    (data / "masks" / "train" / "im1.png").unlink()
    assert invoke("run", recipe_file, data, out).exit_code == 0
    assert not list((out / "masks" / "train").glob("im1*"))
    assert tree_digest(out) == clean_run(recipe_file, data, tmp_path / "clean")


def test_files_a_killed_run_wrote_but_never_recorded_are_ours_to_delete(dataset, recipe_file, tmp_path):
    """Claimed paths no record owns are deleted when they are this plan's outputs, of any copy (a
    killed run of more copies); any other claimed path is kept: nothing proves augcli wrote it."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    # As a kill between rename and journal leaves it: a file on disk, named in the journal as pending only.
    (out / "cats" / "cat0_aug5.jpg").write_bytes(b"made by a killed run of 6 copies")
    (out / "cats" / "gone_aug0.jpg").write_bytes(b"an output of no input planned now")
    journal = out / ".augcli-journal.jsonl"
    journal.write_text(json.dumps({"garbage": ["cats/cat0_aug5.jpg", "cats/gone_aug0.jpg"]}) + "\n")
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 0 and "no record shows augcli wrote; kept" in result.output
    assert not (out / "cats" / "cat0_aug5.jpg").exists()
    (out / "cats" / "gone_aug0.jpg").unlink()
    assert tree_digest(out) == clean_run(recipe_file, dataset, tmp_path / "clean")


def test_the_paths_a_run_will_write_are_on_disk_before_its_first_output(dataset, recipe_file, tmp_path, monkeypatch):
    """The claim on the paths a run is about to write reaches the journal file before any output
    does: a run killed right after its first write must not leave a file the next run refuses as
    foreign (it did, when the claim still sat in the journal's buffer)."""
    from augcli.storage.tree import OutputTree

    out, seen = tmp_path / "out", []
    real_stage = OutputTree.stage

    def stage(self, relative, *args, **kwargs):
        if not seen:
            lines = (out / ".augcli-journal.jsonl").read_text().splitlines()
            seen.append([path for line in lines for path in json.loads(line).get("garbage", [])])
        return real_stage(self, relative, *args, **kwargs)

    monkeypatch.setattr(OutputTree, "stage", stage)
    assert invoke("run", recipe_file, dataset, out, "--workers", 1).exit_code == 0
    assert seen and "cats/cat1_aug0.jpg" in seen[0] and len(seen[0]) == len(read_manifest(out))


def test_each_copy_is_written_before_the_next_is_made(dataset, recipe_file, tmp_path, monkeypatch):
    """Memory does not grow with `copies`: the runner stages every copy as the modality yields it."""
    from augcli.image.modality import ImageModality

    real_render, out = ImageModality.render, tmp_path / "out"
    seen: list[int] = []

    def render(self, source, section, rngs):
        for made, copy in enumerate(real_render(self, source, section, rngs)):
            staged = [p for p in out.rglob(".augcli-tmp-*")]
            seen.append(len(staged) - made)  # the original is staged first, then one file per copy
            yield copy

    monkeypatch.setattr(ImageModality, "render", render)
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    assert seen and set(seen) == {1}


def test_a_manifest_deleted_or_edited_by_hand_is_written_again(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    manifest = (out / "manifest.csv").read_bytes()
    (out / "manifest.csv").unlink()
    assert invoke("run", recipe_file, dataset, out, "--check").exit_code == 1
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    assert (out / "manifest.csv").read_bytes() == manifest
    (out / "manifest.csv").write_bytes(manifest + b"extra,row\n")
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    assert (out / "manifest.csv").read_bytes() == manifest


def test_an_input_replaced_by_same_size_same_time_content_is_remade(dataset, recipe_file, tmp_path):
    """The hash cache trusts size, mtime and inode together: a file swapped in with `cp -p`-like
    size and time but other bytes is a new inode, so it is hashed again."""
    out = tmp_path / "out"
    source = write_image(dataset / "dogs" / "dog0.png", gradient_rgb(40, 30, seed=1), compress_level=0)
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    before = stamps(out)
    info = source.stat()
    replacement = write_image(dataset / "dogs" / "dog0.tmp.png", gradient_rgb(40, 30, seed=2), compress_level=0)
    os.utime(replacement, ns=(info.st_atime_ns, info.st_mtime_ns))  # uncompressed: the same size too
    os.replace(replacement, source)
    assert source.stat().st_size == info.st_size and source.stat().st_mtime_ns == info.st_mtime_ns
    result = invoke("run", recipe_file, dataset, out)
    assert "5 files in: 4 up to date" in result.stderr
    assert touched(before, stamps(out)) == {f"dogs/dog0{s}.png" for s in ("", "_aug0", "_aug1", "_aug2")} | {
        "manifest.csv"
    }


def test_a_parameter_added_later_leaves_the_keys_of_recipes_that_do_not_use_it():
    """gaussian_blur's size and downscale's shrink came after release: a recipe without them hashes
    exactly as before (no rebuild of its outputs); setting them changes the key."""
    from augcli.build.keys import canonical_transform
    from augcli.core.recipe import parse_recipe

    def canonical(item: str) -> list:
        (transform,) = parse_recipe(f"image:\n  transforms:\n    - {item}\n", "r").sections["image"].transforms
        return canonical_transform(transform)

    assert canonical("gaussian_blur: {}") == ["gaussian_blur", {"p": 1.0, "sigma": [0.5, 1.5]}, []]
    assert canonical("downscale: {factor: 0.5}") == [
        "downscale",
        {"p": 1.0, "factor": [0.5, 0.5], "interpolation": "bilinear"},
        [],
    ]
    assert canonical("gaussian_blur: {size: 13}")[1]["size"] == 13  # even the default-sized kernel, named
    assert canonical("downscale: {shrink: area}") == canonical("downscale: {}")  # the default is the default
    assert canonical("downscale: {shrink: nearest}")[1]["shrink"] == "nearest"


def test_a_transforms_new_output_version_remakes_only_the_outputs_it_makes(tmp_path, monkeypatch):
    """A kernel that changes a transform's bytes bumps its output_version: the next run remakes the
    outputs of sections using it, and no other (keys of transforms at version 1 are as before)."""
    from augcli.audio.transforms import TimeStretch
    from augcli.build.keys import canonical_transform
    from augcli.image.transforms import Rotate
    from tests.audio_signals import sine, write_audio

    assert canonical_transform(Rotate()) == ["rotate", Rotate().settings(), []]  # no version: keys unchanged
    assert canonical_transform(TimeStretch())[-1] == 2
    data = tmp_path / "data"
    write_image(data / "a.png", gradient_rgb(24, 16))
    write_audio(data / "b.wav", sine(440.0, 8000, 0.5), 8000)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 2\nimage:\n  transforms: [hflip]\naudio:\n  transforms: [time_stretch]\n")
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out, "--workers", 1).exit_code == 0
    monkeypatch.setattr(TimeStretch, "output_version", 3)
    result = invoke("run", recipe, data, out, "--workers", 1)
    assert result.exit_code == 0
    assert "2 files in: 1 up to date, 1 made (2 outputs), 0 removed" in result.stderr  # the copies, not the original


def test_raising_copies_only_adds_files_and_lowering_only_removes(dataset, recipe_file, tmp_path):
    """Stable names: a copy's name depends on its input and index, never on how many copies there are."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--copies", "9", "--workers", "2").exit_code == 0
    before = stamps(out)
    assert (out / "dogs" / "dog0_aug8.png").exists()
    result = invoke("run", recipe_file, dataset, out, "--copies", "11", "--workers", "2")
    assert "5 made (10 outputs), 0 removed" in result.stderr
    after = stamps(out)
    assert (out / "dogs" / "dog0_aug10.png").exists() and not (out / "dogs" / "dog0_aug03.png").exists()
    assert {p: after[p] for p in before if p != "manifest.csv"} == {
        p: v for p, v in before.items() if p != "manifest.csv"
    }
    result = invoke("run", recipe_file, dataset, out, "--copies", "9")
    assert "0 made (0 outputs), 10 removed" in result.stderr
    assert {p: v for p, v in stamps(out).items() if p != "manifest.csv"} == {
        p: v for p, v in before.items() if p != "manifest.csv"
    }


def test_output_options_remake_exactly_the_copies_they_affect(dataset, recipe_file, tmp_path):
    """JPEG quality touches the JPEG copies only, PNG compression the PNG copies only; originals never."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    before = stamps(out)
    recipe_file.write_text(RECIPE + "  output: {quality: 80}\n")
    result = invoke("run", recipe_file, dataset, out)
    assert "3 made (9 outputs)" in result.stderr, result.stderr
    assert touched(before, stamps(out)) == {f"cats/cat{i}_aug{k}.jpg" for i in range(3) for k in range(3)} | {
        "manifest.csv"
    }
    before = stamps(out)
    recipe_file.write_text(RECIPE + "  output: {quality: 80, png_compress_level: 9}\n")
    result = invoke("run", recipe_file, dataset, out)
    assert "2 made (6 outputs)" in result.stderr, result.stderr
    assert touched(before, stamps(out)) == {f"dogs/dog{i}_aug{k}.png" for i in range(2) for k in range(3)} | {
        "manifest.csv"
    }


def test_toggling_keep_original_on_a_table_gives_a_clean_runs_result(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.csv").write_text("x,y,label\n" + "".join(f"{i}.5,{i * 2}.25,{'ab'[i % 2]}\n" for i in range(8)))
    recipe = tmp_path / "r.yaml"
    text = "seed: 1\ncopies: 2\nkeep_original: {keep}\ntabular:\n  label: label\n"
    text += "  transforms: [{{gaussian_noise: {{std: 0.1}}}}]\n"
    for first, second in ((True, False), (False, True)):
        out, clean = tmp_path / f"out{first}", tmp_path / f"clean{first}"
        recipe.write_text(text.format(keep=str(first).lower()))
        assert invoke("run", recipe, data, out).exit_code == 0
        recipe.write_text(text.format(keep=str(second).lower()))
        assert invoke("run", recipe, data, out).exit_code == 0
        assert invoke("run", recipe, data, clean).exit_code == 0
        assert tree_digest(out) == tree_digest(clean)


def test_the_claim_before_writing_is_fsynced(dataset, recipe_file, tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(state.os, "fsync", spy)
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    assert synced and synced[0] == str(out / ".augcli-journal.jsonl")  # before any output was written


@pytest.mark.parametrize("writeback", ["early", "none", "bounded"])
def test_every_output_is_on_disk_before_its_name(dataset, recipe_file, tmp_path, monkeypatch, writeback):
    """Each output is written under a temporary name and renamed into place only after an fsync of
    its bytes: with Linux's early writeback the fsync comes at the commit, without it (or past the
    bound on waiting files, each holding a descriptor) at once."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        folder = os.readlink(f"/proc/self/fd/{src_dir_fd}") if src_dir_fd is not None else ""
        events.append(("replace", os.path.join(folder, src)))
        real_replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    monkeypatch.setattr(storage.os, "replace", replace)
    if writeback == "none":
        monkeypatch.setattr(storage, "start_writeback", lambda fd: False)
    if writeback == "bounded":
        monkeypatch.setattr(storage, "PENDING_SYNCS", 1)
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    renamed = [(i, path) for i, (kind, path) in enumerate(events) if kind == "replace"]
    outputs = sorted(p for p in out.rglob("*.jpg"))
    assert len(outputs) >= 4 and len(renamed) >= len(outputs)
    for index, temp in renamed:
        assert ("fsync", temp) in events[:index], temp
    assert storage.start_writeback.__name__ == ("<lambda>" if writeback == "none" else "start_writeback")


def test_files_waiting_for_their_fsync_are_bounded(tmp_path, monkeypatch):
    """Each staged file whose fsync waits for the commit holds a descriptor: past the bound a file
    is fsynced at once, and a commit or discard gives its descriptor back."""
    monkeypatch.setattr(storage, "PENDING_SYNCS", 2)
    with storage.OutputTree(tmp_path / "out") as tree:
        staged = [tree.stage(f"a/{i}.bin", bytes([i]) * 100) for i in range(5)]
        assert [s.pending is not None for s in staged] == [True, True, False, False, False]
        tree.discard(staged[0])
        again = tree.stage("a/5.bin", b"x")
        assert again.pending is not None
        for each in [*staged[1:], again]:
            tree.commit(each)
        assert tree._pending == 0 and all(s.pending is None for s in staged)
    assert sorted(p.name for p in (tmp_path / "out" / "a").iterdir()) == ["1.bin", "2.bin", "3.bin", "4.bin", "5.bin"]


def test_a_discard_after_a_commit_or_a_second_discard_closes_nothing_else(tmp_path):
    """A failure after a job's commits discards its files: the committed ones stay, and no
    descriptor number (reused since by anything else) is closed twice."""
    with storage.OutputTree(tmp_path / "out") as tree:
        committed, dropped = tree.stage("a.bin", b"x"), tree.stage("b.bin", b"y")
        tree.commit(committed)
        tree.discard(dropped)
        other = os.open(os.devnull, os.O_RDONLY)
        try:
            for staged in (committed, dropped, committed, dropped):
                tree.discard(staged)
            os.fstat(other)  # still open: raises EBADF if a discard closed it
        finally:
            os.close(other)
        assert tree._pending == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.bin"]


def test_a_linked_journal_is_refused_and_a_linked_state_is_read_through_never_written(dataset, recipe_file, tmp_path):
    """The journal (appended in place) may not be a link; the state may (DVC links what it tracks
    into its cache): it is read through and replaced by a plain file, its target never written."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    target = tmp_path / "elsewhere.json"
    target.write_bytes((out / ".augcli-state.json").read_bytes())
    (out / ".augcli-state.json").unlink()
    (out / ".augcli-state.json").symlink_to(target)
    before = target.read_bytes()
    (out / ".augcli-journal.jsonl").symlink_to(tmp_path / "journal-elsewhere")
    (dataset / "cats" / "cat0.jpg").unlink()
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 2 and ".augcli-journal.jsonl is a symbolic link" in result.stderr
    assert not (tmp_path / "journal-elsewhere").exists() and (out / "cats" / "cat0_aug0.jpg").exists()
    (out / ".augcli-journal.jsonl").unlink()
    result = invoke("run", recipe_file, dataset, out)
    assert result.exit_code == 0 and "4 removed" in result.stderr
    assert target.read_bytes() == before and not (out / ".augcli-state.json").is_symlink()


def test_a_run_killed_while_writing_labels_and_masks_leaves_what_a_clean_run_leaves(tmp_path):
    """The claim before writing covers every file a job writes: after SIGKILL mid-run and a rerun
    with fewer copies, no label or mask of a dropped copy is left behind."""
    data = detection_dataset(tmp_path / "data", "yolo")
    for i in range(3, 40):  # more images: a run long enough to be killed while writing
        for folder, suffix in (("images", ".png"), ("labels", ".txt"), ("masks", ".png")):
            shutil.copyfile(data / folder / "train" / f"im{i % 3}{suffix}", data / folder / "train" / f"im{i}{suffix}")
    slow = "    - rotate: {degrees: 15}\n    - gaussian_blur: {sigma: [2, 3]}\n    - gaussian_noise: {}\n"
    yaml = recipe(tmp_path, "yolo", slow, copies=12)
    out = tmp_path / "out"
    run = subprocess.Popen(augcli_command("run", yaml, data, out, "--workers", "2", "-q"), start_new_session=True)
    deadline = time.monotonic() + 60
    while run.poll() is None and time.monotonic() < deadline:
        if len(list((out / "labels" / "train").glob("*_aug*.txt"))) >= 30 if (out / "labels").is_dir() else False:
            break
        time.sleep(0.005)
    os.killpg(run.pid, 9)
    run.wait()
    assert not (out / "manifest.csv").exists(), "the run finished before it could be killed"
    again = subprocess.run(augcli_command("run", yaml, data, out, "--copies", "2"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    clean = tmp_path / "clean"
    assert subprocess.run(augcli_command("run", yaml, data, clean, "--copies", "2"), check=False).returncode == 0
    assert tree_digest(out) == tree_digest(clean)
    strict = subprocess.run(augcli_command("verify", out, "--strict"), capture_output=True, text=True)
    assert strict.returncode == 0, strict.stderr


def test_a_copy_with_new_times_is_current_whether_its_outputs_are_hashed_ahead_or_one_by_one(
    dataset, recipe_file, tmp_path, monkeypatch
):
    from augcli.build import assess

    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out).exit_code == 0
    for ahead_from in (1, 10_000):  # on threads, all at once / as each is met
        monkeypatch.setattr(assess, "HASH_AHEAD_FROM", ahead_from)
        copy = tmp_path / f"copy{ahead_from}"
        shutil.copytree(out, copy, copy_function=shutil.copyfile)  # new mtimes and inodes, the cache kept
        (copy / "cats" / "cat1_aug2.jpg").write_bytes(b"edited")
        result = invoke("run", recipe_file, dataset, copy)
        assert "4 up to date, 1 made (1 output), 0 removed" in result.stderr, result.stderr
        assert tree_digest(copy) == tree_digest(out)


def test_a_journalled_record_is_in_the_file_at_once_so_a_killed_run_loses_none(tmp_path):
    """A worker's files are in place before their record is journalled: a record left in the
    process's own buffer dies with a SIGKILL, and the next run could not prove those files its
    (an input deleted meanwhile would leave them behind). Each entry reaches the kernel as written."""
    from augcli.build import state

    journal = state.Journal(tmp_path)
    journal.put("a.png", {"key": "0" * 32, "files": [["a.png", "1" * 64]]}, {"a.png": "a.png,..."})
    on_disk = state.path(tmp_path, state.JOURNAL).read_bytes()  # read before any sync or close
    assert b'"put":"a.png"' in on_disk and on_disk.endswith(b"\n")
    journal.close()
