"""What augcli reads back from OUTPUT is untrusted (issue 23, second audit): the state's claims to
delete, a mirror's record, the manifest (bounded, checked row by row), JSON of any depth, the run
record's recipe, and files that are links. Tampered, they never delete, read or write outside
OUTPUT, never hang, and end in exit 2 naming the file, never a traceback.

Most commands run in this process through augcli.jobs (fast); those that would hang or exhaust
memory when a guard is missing run as subprocesses with a timeout and a memory limit."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from augcli import jobs
from tests.conftest import RECIPE, augcli_command, gradient_rgb, write_image

TIMEOUT = 60
SECRET = "TOPSECRET_TOKEN_123"


def job(function, *args, **kwargs) -> tuple[int, str]:
    """A command run in this process: (exit code, what it said); a JobError is its exit code."""
    notes: list[str] = []
    console = jobs.Console(note=notes.append, show=notes.append)
    try:
        code = function(*args, console=console, **kwargs)
    except jobs.JobError as exc:
        return exc.code, str(exc)
    return (code if isinstance(code, int) else 0), "\n".join(notes)


def augcli(*args: object, memory: int = 3 << 30, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """augcli as a process, its address space capped (a read that never ends fails, not the machine)."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    command = augcli_command(*args)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, preexec_fn=cap)


def image_set(root: Path, copies: int = 1) -> tuple[Path, Path, Path]:
    """(recipe, INPUT, OUTPUT) of two small pictures in one class folder, run once."""
    for i in range(2):
        write_image(root / "in" / "c" / f"a{i}.png", gradient_rgb(24, 16, seed=i))
    recipe = root / "recipe.yaml"
    recipe.write_text(RECIPE.replace("copies: 3", f"copies: {copies}"))
    (root / "victim.txt").write_text("keep me\n")
    out = root / "out"
    assert job(jobs.run, recipe, root / "in", out, workers=1, quiet=True)[0] == 0
    return recipe, root / "in", out


def text_set(root: Path, extra: str = "") -> tuple[Path, Path, Path]:
    """(recipe, INPUT, OUTPUT) of four .txt files in two class folders, run once."""
    for label, stem in (("neg", "n"), ("pos", "p")):
        for i in range(2):
            folder = root / "in" / label
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{stem}{i}.txt").write_text(f"a {label} day number {i} indeed\nnothing more to say here\n")
    recipe = root / "t.yaml"
    recipe.write_text(f"seed: 1\ncopies: 1\ntext:\n  include: ['*.txt']\n{extra}  transforms: [random_swap]\n")
    (root / "secret.txt").write_text(SECRET + "\n")
    out = root / "out"
    code, said = job(jobs.run, recipe, root / "in", out, workers=1, quiet=True)
    assert code == 0, said
    return recipe, root / "in", out


def listing(*roots: Path) -> dict[str, bytes | str]:
    """Every file and link under the folders: its bytes or its target (to prove nothing changed)."""
    found: dict[str, bytes | str] = {}
    for root in roots:
        for path in [root, *root.rglob("*")] if root.is_dir() else [root]:
            if path.is_symlink():
                found[str(path)] = os.readlink(path)
            elif path.is_file():
                found[str(path)] = path.read_bytes()
    return found


def set_manifest(out: Path, change) -> None:
    lines = (out / "manifest.csv").read_text().splitlines()
    (out / "manifest.csv").write_text("\n".join(change(lines)) + "\n")


@contextlib.contextmanager
def unblocked(fifo: Path, seconds: float = 15.0):
    """Run the body with a FIFO planted at `fifo`; a reader still blocked on it after `seconds` is
    released (a writer opens and closes it) and the test fails: a guard that should refuse FIFOs
    unread is missing."""
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    done, hung = threading.Event(), []

    def release() -> None:
        if done.wait(seconds):
            return
        hung.append(True)
        while not done.is_set():
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            done.wait(0.05)

    watchdog = threading.Thread(target=release, daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        done.set()
        watchdog.join()
    assert not hung, f"a read of the FIFO {fifo.name} blocked"


# -- 1. deleting: only what augcli can prove it wrote ------------------------------------------------


def test_a_claim_to_delete_without_proof_is_kept_and_named_once(tmp_path):
    recipe, data, out = image_set(tmp_path)
    planted = {".gitignore": b"*.tmp\n", ".git/config": b"[core]\n", "c/user_note.txt": b"mine", ".mynotes": b"n"}
    for relative, content in planted.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_bytes(content)
    (out / "c" / "a0_aug7.png").write_bytes(b"left by a killed run of 8 copies")
    state = json.loads((out / ".augcli-state.json").read_text())
    state["garbage"] = sorted([*planted, "c/a0_aug7.png"])
    (out / ".augcli-state.json").write_text(json.dumps(state))
    (data / "c" / "a1.png").unlink()  # a run with something to remove
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 0, said
    assert {r: (out / r).read_bytes() for r in planted} == planted
    assert not (out / "c" / "a0_aug7.png").exists()  # the same output of another copy: augcli's
    assert "named 4 files to delete that no record shows augcli wrote" in said and ".git/config" in said
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 0 and "no record shows" not in said  # named once, then forgotten
    assert {r: (out / r).read_bytes() for r in planted} == planted


# -- 2. a mirror's record is checked before pull deletes by it --------------------------------------


def test_a_mirror_record_key_leaving_the_mirror_is_refused_before_pull_deletes(tmp_path, monkeypatch):
    import fsspec

    monkeypatch.setenv("AUGCLI_CACHE", str(tmp_path / "cache"))
    url = f"memory://augcli-test-record-{os.getpid()}"
    memory = fsspec.filesystem("memory")
    for i in range(2):
        memory.pipe_file(f"{url[len('memory://') :]}/t{i}.txt", b"one two three four\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\ntext:\n  transforms: [random_swap]\n")
    assert job(jobs.run, recipe, url, tmp_path / "out", workers=1, quiet=True)[0] == 0
    (record,) = (tmp_path / "cache").rglob(".augcli-mirror.json")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    hostile = os.path.relpath(victim, record.parent)
    data = json.loads(record.read_text())
    data["remote"][hostile] = [1, "x"]
    record.write_text(json.dumps(data))
    code, said = job(jobs.run, recipe, url, tmp_path / "out", workers=1, quiet=True)
    assert code == 2 and ".augcli-mirror.json" in said and "not a relative path inside the mirror" in said
    assert victim.read_text() == "keep me\n"
    memory.rm(url[len("memory://") :], recursive=True)


# -- 3. manifests read bounded: never a FIFO, never /dev/zero ---------------------------------------


def test_a_manifest_that_is_a_fifo_is_refused_unread_by_every_command(tmp_path):
    pytest.importorskip("jinja2")
    recipe, data, out = image_set(tmp_path)
    commands = [
        (jobs.verify, (out,), {}),
        (jobs.replay, (out,), {"every": True}),
        (jobs.run, (recipe, data, out), {"check": True}),
        (jobs.report, (out,), {}),
    ]
    for function, args, kwargs in commands:
        with unblocked(out / "manifest.csv"):
            code, said = job(function, *args, **kwargs)
        assert code == 2 and "manifest.csv is a FIFO" in said, (function.__name__, said)
    shard = tmp_path / "shard"
    assert job(jobs.run, recipe, data, shard, shard="0/1", workers=1, quiet=True)[0] == 0
    with unblocked(shard / ".augcli-shard-0-of-1-manifest.csv"):
        code, said = job(jobs.merge, shard)
    assert code == 2 and "manifest.csv is a FIFO" in said, said


def test_a_manifest_linked_to_dev_zero_is_refused_at_once(tmp_path):
    _, _, out = image_set(tmp_path)
    (out / "manifest.csv").unlink()
    (out / "manifest.csv").symlink_to("/dev/zero")
    result = augcli("verify", out, timeout=30)
    assert result.returncode == 2 and "manifest.csv is a character device" in result.stderr, result.stderr


# -- 4. bytes: paths as augcli writes them, and nothing else ----------------------------------------


def test_a_bytes_path_takes_only_the_escapes_augcli_writes():
    from augcli.build.manifest import decode_path, encode_path
    from augcli.storage.untrusted import UntrustedError

    name = os.fsdecode(b"caf\xe9/x\\y.png")
    assert decode_path(encode_path(name)) == name
    for cell in ("bytes:..\\x2fvictim", "bytes:\\x00", "bytes:a\\x41", "bytes:a\\q", "bytes:../x\\xff", "bytes:\\x2e"):
        with pytest.raises(UntrustedError):
            decode_path(cell)


@pytest.mark.parametrize("cell", ["bytes:..\\x2fvictim.txt", "bytes:c/\\x00x", "bytes:\\x2e\\x2e/victim.txt"])
def test_escaped_slashes_and_nuls_in_a_state_or_manifest_are_exit_2(tmp_path, cell):
    recipe, data, out = image_set(tmp_path)
    before = listing(data, tmp_path / "victim.txt")
    state = json.loads((out / ".augcli-state.json").read_text())
    state["garbage"] = [cell]
    (out / ".augcli-state.json").write_text(json.dumps(state))
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 2 and ".augcli-state.json" in said, said
    state["garbage"] = []
    (out / ".augcli-state.json").write_text(json.dumps(state))
    set_manifest(out, lambda lines: [lines[0], cell + lines[1][lines[1].index(",") :], *lines[2:]])
    for function, kwargs in ((jobs.verify, {}), (jobs.replay, {"every": True})):
        code, said = job(function, out, **kwargs)
        assert code == 2 and repr(cell) in said, (function.__name__, said)
    assert listing(data, tmp_path / "victim.txt") == before


# -- 5. JSON of any depth ---------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("name", ["state.json", "journal.jsonl", "lines.json"])
def test_state_files_nested_deeper_than_python_parses_are_exit_2_naming_them(tmp_path, name):
    recipe, data, out = image_set(tmp_path)
    file = out / f".augcli-{name}"
    file.write_text('{"a":' + DEEP + "}\n" if name != "state.json" else DEEP)
    (data / "c" / "a1.png").unlink()  # the lines are read: the manifest is rewritten
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 2 and f".augcli-{name}" in said and "nested too deep" in said, said
    assert (out / "c" / "a1_aug0.png").exists()


def test_a_run_record_or_manifest_cell_nested_too_deep_is_refused(tmp_path):
    pytest.importorskip("jinja2")
    _, _, out = text_set(tmp_path)
    record = (out / ".augcli-run.json").read_text()
    (out / ".augcli-run.json").write_text(DEEP)
    code, said = job(jobs.replay, out, every=True)
    assert code == 2 and "no record of its run" in said, said
    (out / ".augcli-run.json").write_text(record)
    set_manifest(out, _set_cell("transforms", "[" * 50_000 + "]" * 50_000))
    for function, kwargs in ((jobs.replay, {"every": True}), (jobs.report, {})):
        code, said = job(function, out, **kwargs)
        assert code == 2 and "transforms: JSON nested too deep" in said, (function.__name__, said)


# -- 6. the manifest's rows checked once, before use ------------------------------------------------


def _cells(line: str) -> list[str]:
    import csv

    return next(csv.reader([line]))


def _line(cells: list[str]) -> str:
    from augcli.build.manifest import line

    return line(cells)


def _set_cell(column: str, value: str):
    def change(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        rows = [_cells(line) for line in lines[1:]]
        index = next(i for i, row in enumerate(rows) if row[header.index("kind")] == "copy")
        rows[index][header.index(column)] = value
        return [lines[0], *(_line(row) for row in rows)]

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda lines: [lines[0].replace(",modality,", ",modalityx,"), *lines[1:]], "no modality column"),
        (_set_cell("transforms", '{"a":1}'), "transforms is not a list of records"),
        (_set_cell("transforms", '[{"name":"x","params":[1]}]'), "transforms is not a list of records"),
        (_set_cell("transforms", "not json"), "transforms is not valid JSON"),
        (_set_cell("copy", "abc"), "copy 'abc' is not an integer"),
        (_set_cell("kind", "bogus"), "kind 'bogus' is not one augcli writes"),
        (lambda lines: [*lines, "neg/zz.txt"], "not as many fields as the header"),
    ],
)
def test_manifest_rows_of_a_shape_augcli_never_writes_are_exit_2_for_replay_and_report(tmp_path, change, message):
    pytest.importorskip("jinja2")
    _, _, out = text_set(tmp_path)
    set_manifest(out, change)
    for function, kwargs in ((jobs.replay, {"every": True}), (jobs.report, {})):
        code, said = job(function, out, **kwargs)
        assert code == 2 and "manifest.csv" in said and message in said, (function.__name__, said)


@pytest.mark.parametrize(
    "params",
    [
        {"sigma": 1.0, "size": 4},  # even: OpenCV's own assertion before
        {"sigma": 1.0, "size": 100001},  # far past any recipe's kernel
        {"sigma": 1e9},  # a kernel of six billion pixels a side
        {"sigma": float("inf")},  # OverflowError before
        {"sigma": 1.0, "size": True},
    ],
)
def test_a_blur_record_edited_past_what_a_recipe_allows_fails_replay_with_its_message(tmp_path, params):
    """A manifest's records are read back from OUTPUT: a Gaussian kernel no recipe could ask for
    fails `augcli replay` with the row's own message (exit 2), not a traceback or hours of blur."""
    for i in range(2):
        write_image(tmp_path / "in" / f"a{i}.png", gradient_rgb(24, 16, seed=i))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  transforms:\n    - gaussian_blur: {sigma: [1, 1], size: 5}\n")
    out = tmp_path / "out"
    assert job(jobs.run, recipe, tmp_path / "in", out, workers=1, quiet=True)[0] == 0
    assert job(jobs.replay, out, every=True)[0] == 0
    set_manifest(out, _set_cell("transforms", json.dumps([{"name": "gaussian_blur", "params": params}])))
    code, said = job(jobs.replay, out, every=True)
    assert code == 2 and "records cannot be replayed" in said, said
    assert "Gaussian" in said or "not one this recipe could have drawn" in said, said  # the kernel's or replay's


def test_a_lines_file_missing_a_recorded_file_is_exit_2_naming_it(tmp_path):
    recipe, data, out = image_set(tmp_path)
    lines = json.loads((out / ".augcli-lines.json").read_text())
    del lines["c/a0_aug0.png"]
    (out / ".augcli-lines.json").write_text(json.dumps(lines))
    (out / "manifest.csv").unlink()  # the manifest must be rendered from the lines
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 2 and ".augcli-lines.json has no manifest line for 'c/a0_aug0.png'" in said, said
    code, said = job(jobs.run, recipe, data, out, check=True)
    assert code == 2 and ".augcli-lines.json" in said, said


# -- 7. a shard's run record sums only numbers ------------------------------------------------------


def test_a_shard_run_record_with_a_string_in_its_summary_is_exit_2_naming_it(tmp_path):
    recipe, data, _ = image_set(tmp_path)
    shard = tmp_path / "shard"
    assert job(jobs.run, recipe, data, shard, shard="0/1", workers=1, quiet=True)[0] == 0
    record = shard / ".augcli-shard-0-of-1-run.json"
    info = json.loads(record.read_text())
    info["summary"]["files"] = "x"
    record.write_text(json.dumps(info))
    code, said = job(jobs.merge, shard)
    assert code == 2 and ".augcli-shard-0-of-1-run.json: summary 'files'" in said, said


# -- 8. INPUT never reaches into OUTPUT -------------------------------------------------------------


def test_a_link_from_input_to_a_folder_inside_output_is_refused(tmp_path):
    recipe, data, out = image_set(tmp_path)
    (data / "x").symlink_to(out / "c")
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 2 and "INPUT/x lies inside OUTPUT" in said, said
    assert not list(out.rglob("*_aug0_aug0.png"))


# -- 9. report and replay never read through a link inside OUTPUT -----------------------------------


def test_report_never_reads_an_output_replaced_by_a_link(tmp_path):
    pytest.importorskip("jinja2")
    pytest.importorskip("matplotlib")
    _, _, out = text_set(tmp_path)
    for name in ("n0_aug0.txt", "n0.txt"):
        (out / "neg" / name).unlink()
        (out / "neg" / name).symlink_to(tmp_path / "secret.txt")
    code, said = job(jobs.report, out)
    assert code == 0, said
    assert SECRET not in (out / "report.html").read_text()


def test_replay_compares_with_the_file_on_disk_never_through_a_linked_folder(tmp_path):
    _, _, out = image_set(tmp_path)
    shutil.copytree(out / "c", tmp_path / "elsewhere")
    shutil.rmtree(out / "c")
    (out / "c").symlink_to(tmp_path / "elsewhere")
    code, said = job(jobs.replay, out, "c/a0_aug0.png")
    assert code == 1 and "DIFFERS" in said, said


# -- 10. a recorded recipe does not choose what augcli reads ----------------------------------------


def test_a_recorded_recipe_reading_files_outside_input_needs_recipe(tmp_path):
    """A recipe in OUTPUT's run record that names a file outside INPUT is not OUTPUT's to choose:
    replay and merge refuse it without --recipe. One that is still, word for word, the user's own
    recipe file (a thesaurus or a noise folder beside INPUT, as runs often have) is the user's."""
    (tmp_path / "words.csv").write_text("day,night\n")
    recipe, data, out = text_set(tmp_path, "  thesaurus: words.csv\n")
    code, said = job(jobs.replay, out, every=True, out_file=tmp_path / "r.txt")
    assert code == 0, said  # the recipe file it names says the same: the user's
    shard = tmp_path / "shard"
    assert job(jobs.run, recipe, data, shard, shard="0/1", workers=1, quiet=True)[0] == 0
    assert job(jobs.merge, shard)[0] == 0
    recipe.write_text(recipe.read_text() + "# edited since\n")  # the record is OUTPUT's word alone now
    (tmp_path / "r.txt").unlink()
    code, said = job(jobs.replay, out, every=True, out_file=tmp_path / "r.txt")
    assert code == 2 and "outside INPUT" in said and "pass --recipe" in said, said
    assert not (tmp_path / "r.txt").exists()
    code, said = job(jobs.replay, out, every=True, recipe=recipe)
    assert code == 0, said
    code, said = job(jobs.merge, shard)
    assert code == 2 and "outside INPUT" in said and "--recipe" in said, said
    assert job(jobs.merge, shard, recipe=recipe)[0] == 0


def test_a_run_record_edited_to_read_a_file_outside_input_is_refused(tmp_path):
    """An attacker who edits the run record's recipe to read another file (an absolute thesaurus)
    gets nothing read: the recipe file the record names no longer says the same."""
    import json

    _, _, out = text_set(tmp_path)
    record = out / ".augcli-run.json"
    info = json.loads(record.read_text())
    secret_words = tmp_path / "secret_words.csv"
    secret_words.write_text(f"day,{SECRET.lower()}\n")
    info["recipe_text"] = info["recipe_text"].replace("  include:", f"  thesaurus: {secret_words}\n  include:")
    record.write_text(json.dumps(info))
    code, said = job(jobs.replay, out, every=True, out_file=tmp_path / "r.txt")
    assert code == 2 and "outside INPUT" in said, said
    assert not (tmp_path / "r.txt").exists()


# -- 11. the smaller ones ---------------------------------------------------------------------------


def _yolo_set(root: Path) -> tuple[Path, Path]:
    data = root / "in"
    for i in range(2):
        write_image(data / "images" / "train" / f"im{i}.png", gradient_rgb(24, 16, seed=i))
        (data / "labels" / "train").mkdir(parents=True, exist_ok=True)
        (data / "labels" / "train" / f"im{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    recipe = root / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  annotations: {format: yolo}\n  transforms: [hflip]\n")
    return recipe, data


@pytest.mark.parametrize("fifo", ["data.yaml", "train.txt"])
def test_an_implicit_data_yaml_or_image_list_that_is_a_fifo_is_exit_2(tmp_path, fifo):
    recipe, data = _yolo_set(tmp_path)
    if fifo == "train.txt":
        (data / "data.yaml").write_text("names: [a]\ntrain: train.txt\nval: images/train\n")
    with unblocked(data / fifo):
        code, said = job(jobs.run, recipe, data, tmp_path / "out", workers=1, quiet=True)
    assert code == 2 and fifo in said and "FIFO" in said, said


def test_a_noise_file_that_is_a_fifo_is_named_for_what_it_is(tmp_path):
    import numpy as np
    import soundfile

    data, noise = tmp_path / "in", tmp_path / "noise"
    data.mkdir()
    noise.mkdir()
    soundfile.write(data / "a.wav", np.zeros(1600, dtype=np.float32) + 0.1, 16000)
    os.mkfifo(noise / "hum.wav")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\naudio:\n  transforms: [{background_noise: {path: noise, p: 1.0}}]\n")
    code, said = job(jobs.run, recipe, data, tmp_path / "out", workers=1)
    assert code == 1 and "hum.wav is a FIFO, not a regular file" in said, said


def test_a_huge_state_file_is_refused_by_its_size_unread(tmp_path):
    recipe, data, out = image_set(tmp_path)
    with (out / ".augcli-state.json").open("wb") as handle:
        handle.truncate(3 << 30)  # sparse: nothing on disk
    result = augcli("run", recipe, data, out, memory=1 << 30)
    assert result.returncode == 2, result.stderr
    assert ".augcli-state.json holds over 2,048 MiB" in result.stderr and "Traceback" not in result.stderr


def test_a_shard_journal_that_is_a_link_is_exit_2(tmp_path):
    recipe, data, _ = image_set(tmp_path)
    out = tmp_path / "shard"
    out.mkdir()
    (out / ".augcli-shard-0-of-2-journal.jsonl").symlink_to(tmp_path / "victim.txt")
    code, said = job(jobs.run, recipe, data, out, shard="0/2", workers=1)
    assert code == 2 and "journal.jsonl is a symbolic link" in said, said
    assert (tmp_path / "victim.txt").read_text() == "keep me\n"


def test_an_output_replaced_by_a_link_to_a_folder_is_removed_as_a_link(tmp_path):
    recipe, data, out = image_set(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "kept.txt").write_text("x")
    (out / "c" / "a1_aug0.png").unlink()
    (out / "c" / "a1_aug0.png").symlink_to(tmp_path / "folder")
    (data / "c" / "a1.png").unlink()
    code, said = job(jobs.run, recipe, data, out, workers=1)
    assert code == 0, said
    assert not os.path.lexists(out / "c" / "a1_aug0.png") and (tmp_path / "folder" / "kept.txt").exists()


def test_case_folding_is_probed_inside_a_new_output_at_a_mount_point(tmp_path, monkeypatch):
    """No FAT driver here: a folder made to look up names as FAT does (any case finds the entry),
    as the mount point of a new OUTPUT. The probe asks inside it, and leaves nothing behind."""
    from augcli.storage import tree

    mount = tmp_path / "fat"
    mount.mkdir()
    real_stat = os.stat

    def fat_stat(path, *, dir_fd=None, follow_symlinks=True):
        try:
            return real_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)
        except FileNotFoundError:
            folder = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else os.path.dirname(path)
            if Path(folder) != mount and mount not in Path(folder).parents:
                raise
            name = os.path.basename(path)
            for entry in os.listdir(folder):
                if entry.lower() == name.lower():
                    return real_stat(os.path.join(folder, entry), follow_symlinks=follow_symlinks)
            raise

    monkeypatch.setattr(tree.os, "stat", fat_stat)
    before = real_stat(mount).st_mtime_ns
    assert tree.folds_case(mount / "out", probe=True)
    assert real_stat(mount).st_mtime_ns == before  # as it was: a refused run changes nothing
    assert not tree.folds_case(tmp_path / "plain" / "out", probe=True)
    assert sorted(os.listdir(tmp_path)) == ["fat"] and not os.listdir(mount)


# -- 12. any corruption of what augcli reads back ---------------------------------------------------

DRIVER = """
import sys, traceback
from augcli.cli import main
for args in ARGS:
    try:
        main(args)
    except SystemExit as exc:
        print("EXIT", exc.code if isinstance(exc.code, int) else 1, flush=True)
    except BaseException:
        traceback.print_exc()
        print("EXIT crashed", flush=True)
"""

hostile_paths = st.sampled_from(
    ["../victim.txt", "/etc/hostname", "c/../../victim.txt", "bytes:..\\x2fvictim.txt", "bytes:\\x00", "", "."]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6) | hostile_paths,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5) | hostile_paths, inner, max_size=3),
    max_leaves=6,
)


def _corrupt(out: Path, target: str, value, cut: int, deep: bool) -> None:
    text = json.dumps(value)
    if deep:
        text = "[" * 5_000 + text + "]" * 5_000
    if target == "journal":  # an entry of each kind augcli writes, holding the value, or the value alone
        shapes = [{"put": "c/a0_aug0.png", "record": value, "lines": value}, {"garbage": value}, {"del": value}]
        line = json.dumps(shapes[cut % 3]) if cut % 4 != 3 and not deep else text
        (out / ".augcli-journal.jsonl").write_text(json.dumps({"garbage": []}) + "\n" + line + "\n")
    elif target in ("lines", "run", "shard_run"):
        name = {"lines": ".augcli-lines.json", "run": ".augcli-run.json", "shard_run": ".augcli-shard-0-of-1-run.json"}
        file = out / name[target]
        document = json.loads(file.read_text())
        key = next(iter(document)) if target == "lines" else "summary"
        document[key] = value
        data = json.dumps(document) if not deep else text
        file.write_text(data[: max(1, len(data) - cut)] if cut else data)
    else:  # a manifest cell (of OUTPUT's manifest, or of the shard's part)
        file = out / ("manifest.csv" if target == "manifest" else ".augcli-shard-0-of-1-manifest.csv")
        lines = file.read_text().splitlines()
        cells = _cells(lines[1])
        cells[cut % len(cells)] = text if not isinstance(value, str) else value
        file.write_text("\n".join([lines[0], _line(cells), *lines[2:]]) + "\n")


@pytest.fixture(scope="module")
def made_set(tmp_path_factory) -> Path:
    """A set made by one shard and merged: OUTPUT holds its state and the shard's part beside."""
    root = tmp_path_factory.mktemp("base")
    for i in range(2):
        write_image(root / "in" / "c" / f"a{i}.png", gradient_rgb(24, 16, seed=i))
    (root / "recipe.yaml").write_text(RECIPE.replace("copies: 3", "copies: 1"))
    (root / "victim.txt").write_text("keep me\n")
    out = root / "out"
    assert job(jobs.run, root / "recipe.yaml", root / "in", out, shard="0/1", workers=1, quiet=True)[0] == 0
    assert job(jobs.merge, out)[0] == 0
    return root


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(target="manifest", value=None, cut=1, deep=True)  # a source 10,000 characters long: too long a name
@given(
    target=st.sampled_from(["journal", "lines", "run", "shard_run", "manifest", "shard_manifest"]),
    value=json_values,
    cut=st.integers(0, 40),
    deep=st.booleans(),
)
def test_any_corruption_read_back_never_tracebacks_nor_touches_anything_outside(
    made_set, tmp_path_factory, target, value, cut, deep
):
    root = tmp_path_factory.mktemp("corrupt")
    for name in ("in", "out", "recipe.yaml", "victim.txt"):
        copy = shutil.copytree if (made_set / name).is_dir() else shutil.copyfile
        copy(made_set / name, root / name)
    out = root / "out"
    _corrupt(out, target, value, cut, deep)
    (root / "in" / "c" / "a1.png").unlink()  # a run with something to remove and a manifest to write
    before = listing(root / "in", root / "victim.txt", root / "recipe.yaml")
    run = ["run", str(root / "recipe.yaml"), str(root / "in"), str(out), "-q", "--workers", "1"]
    commands = [  # the readers first: a run rewrites what it finds out of date
        ["verify", str(out)],
        ["replay", str(out), "--all", "--input", str(root / "in"), "--recipe", str(root / "recipe.yaml")],
        [*run, "--check"],
        run,
        ["merge", str(out), "--input", str(root / "in"), "--recipe", str(root / "recipe.yaml")],
    ]
    result = subprocess.run(
        [sys.executable, "-c", DRIVER.replace("ARGS", repr(commands))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )
    assert "Traceback" not in result.stderr and "crashed" not in result.stdout, result.stderr[-3000:]
    codes = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("EXIT")]
    assert len(codes) == len(commands) and set(codes) <= {"0", "1", "2"}, (codes, result.stderr[-2000:])
    assert listing(root / "in", root / "victim.txt", root / "recipe.yaml") == before
    assert sorted(os.listdir(root)) == ["in", "out", "recipe.yaml", "victim.txt"]
