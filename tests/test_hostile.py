"""Hostile inputs and faults, as real subprocesses under timeouts: writes stay inside OUTPUT, INPUT
is never written, nothing hangs, every bad input gets a clear error and the exit codes hold."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augcli.build import manifest
from tests.conftest import augcli_command, gradient_rgb, start_long_run, write_image
from tests.test_cli import read_manifest, tree_digest

TIMEOUT = 60


def augcli(*args: object, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """A real augcli process; a hang fails the test instead of the suite."""
    return subprocess.run(augcli_command(*args), capture_output=True, text=True, timeout=timeout)


def input_hashes(root: Path) -> dict[str, str]:
    """Every file and link under INPUT, links by target: the tree that must never change."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            if path.is_symlink():
                found[str(path.relative_to(root))] = "link:" + os.readlink(path)
            elif path.is_file():
                found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for i in range(2):
        write_image(root / "circle" / f"c{i}.png", gradient_rgb(32, 24, seed=i))
    (root / "table").mkdir()
    (root / "table" / "t.csv").write_text("x,y\n1.0,a\n2.0,b\n3.0,a\n")
    return root


@pytest.fixture
def mixed_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(
        "copies: 2\nimage:\n  transforms:\n    - rotate: {degrees: 10}\n"
        "tabular:\n  transforms:\n    - gaussian_noise: {std: 0.1}\n"
    )
    return path


# -- 1. writes stay inside OUTPUT ------------------------------------------------------------------


def test_a_folder_link_inside_output_never_redirects_a_write_into_input(shapes, mixed_recipe, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    before = input_hashes(shapes)
    os.symlink("../in/circle", out / "circle")
    os.symlink(shapes / "table", out / "table")
    result = augcli("run", mixed_recipe, shapes, out, "--overwrite")
    assert result.returncode == 2, result.stderr
    assert "is a symbolic link" in result.stderr and (
        "OUTPUT/circle" in result.stderr or "OUTPUT/table" in result.stderr
    )
    assert input_hashes(shapes) == before


def test_a_file_link_inside_output_is_replaced_not_its_target(shapes, mixed_recipe, tmp_path):
    out = tmp_path / "out"
    (out / "table").mkdir(parents=True)
    before = input_hashes(shapes)
    os.symlink(shapes / "table" / "t.csv", out / "table" / "t.csv")
    os.symlink(shapes / "circle" / "c0.png", out / "c0_aug0.png")
    result = augcli("run", mixed_recipe, shapes, out, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert not (out / "table" / "t.csv").is_symlink()
    assert input_hashes(shapes) == before


def test_output_that_is_a_link_into_input_is_refused(shapes, mixed_recipe, tmp_path):
    before = input_hashes(shapes)
    os.symlink(shapes / "circle", tmp_path / "out")
    result = augcli("run", mixed_recipe, shapes, tmp_path / "out", "--overwrite")
    assert result.returncode == 2 and "is INPUT or lies inside it" in result.stderr
    assert input_hashes(shapes) == before


def test_a_hard_link_to_an_input_in_output_is_replaced_never_written_through(shapes, mixed_recipe, tmp_path):
    out = tmp_path / "out"
    assert augcli("run", mixed_recipe, shapes, out).returncode == 0
    before = input_hashes(shapes)
    for name in ("c0.png", "c0_aug0.png"):  # the same inode as the input, under an output's name
        (out / "circle" / name).unlink()
        os.link(shapes / "circle" / "c0.png", out / "circle" / name)
    (out / "table" / "t.csv").unlink()
    os.link(shapes / "table" / "t.csv", out / "table" / "t.csv")
    assert augcli("run", mixed_recipe, shapes, out, "--seed", "3").returncode == 0
    assert input_hashes(shapes) == before
    assert (out / "circle" / "c0_aug0.png").stat().st_ino != (shapes / "circle" / "c0.png").stat().st_ino


def test_a_linked_state_folder_is_refused(shapes, mixed_recipe, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    os.symlink(shapes, out / ".augcli")
    result = augcli("run", mixed_recipe, shapes, out, "--overwrite")
    assert result.returncode == 2 and ".augcli is a symbolic link" in result.stderr
    assert not (shapes / "lock").exists() and not (shapes / "journal.jsonl").exists()


def test_stale_removal_never_follows_a_link(shapes, mixed_recipe, tmp_path):
    out = tmp_path / "out"
    assert augcli("run", mixed_recipe, shapes, out).returncode == 0
    before = input_hashes(shapes)
    # Swap a folder of outputs for a link into INPUT, then remove the inputs whose outputs it held.
    for path in (out / "circle").iterdir():
        path.unlink()
    (out / "circle").rmdir()
    os.symlink(shapes / "circle", out / "circle")
    (shapes / "table" / "t.csv").unlink()
    before.pop("table/t.csv")
    result = augcli("run", mixed_recipe, shapes, out)
    assert result.returncode == 2 and "OUTPUT/circle is a symbolic link" in result.stderr
    assert input_hashes(shapes) == before


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MiB tmpfs, mounted as root where the machine allows it (CI and these machines do)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_full_disk_fails_cleanly_and_keeps_every_earlier_output(small_disk, tmp_path, recipe_file):
    data = tmp_path / "in"
    for i in range(6):
        write_image(data / f"img{i}.png", gradient_rgb(64, 48, seed=i), compress_level=0)
    out = small_disk / "out"
    assert augcli("run", recipe_file, data, out, "--copies", "2").returncode == 0
    before = tree_digest(out)
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * max(free - 4096, 0))  # room for a file or two, not for a new seed's copies
    result = augcli("run", recipe_file, data, out, "--copies", "2", "--seed", "5")
    assert result.returncode == 1, result.stderr
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    after = tree_digest(out)
    assert after["manifest.csv"] == before["manifest.csv"] and set(after) == set(before)
    from PIL import Image

    for path in after:  # every file is whole: its earlier self or its complete successor
        if path.endswith(".png"):
            with Image.open(out / path) as image:
                image.load()
    assert all(after[p] == before[p] for p in after if "_aug" not in p)  # originals untouched
    assert not list(out.rglob(".augcli-tmp-*"))
    filler.unlink()
    assert augcli("run", recipe_file, data, out, "--copies", "2", "--seed", "5").returncode == 0
    clean = tmp_path / "clean"
    assert augcli("run", recipe_file, data, clean, "--copies", "2", "--seed", "5").returncode == 0
    assert tree_digest(out) == tree_digest(clean)


# -- 2. nothing hangs ------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_a_killed_worker_fails_its_file_and_the_run_finishes(tmp_path, recipe_file):
    proc, data, out = start_long_run(tmp_path, recipe_file, 24, (400, 300), 8, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        # Workers are the grandchildren (forked by the fork server); wait until one is at work.
        workers = [p for child in _descendants(proc.pid) for p in _descendants(child)]
        if workers and out.exists() and any(out.glob("*_aug*.png")):
            victim = workers[0]
        time.sleep(0.01)
    assert victim is not None, "no worker to kill"
    os.kill(victim, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1, stderr
    assert "worker died: killed by signal 9 (out of memory?)" in stderr
    assert stderr.count("augcli: failed:") == 1
    rerun = augcli("run", recipe_file, data, out, "--copies", "8")
    assert rerun.returncode == 0 and "23 up to date, 1 made" in rerun.stderr


def test_every_death_is_named():
    from augcli.build.executor import death_reason

    assert death_reason(-9) == "worker died: killed by signal 9 (out of memory?)"
    assert death_reason(-11) == "worker died: killed by signal 11 (SIGSEGV)"
    assert death_reason(3) == "worker died: exit status 3"


def test_special_files_are_skipped_and_never_opened(shapes, mixed_recipe, tmp_path):
    os.mkfifo(shapes / "circle" / "pipe.png")
    os.symlink(shapes / "circle" / "pipe.png", shapes / "circle" / "to_pipe.png")
    os.symlink("/dev/zero", shapes / "circle" / "zero.png")
    os.symlink("/dev/null", shapes / "table" / "null.csv")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(shapes / "circle" / "sock.png"))
    try:
        out = tmp_path / "out"
        result = augcli("run", mixed_recipe, shapes, out, "--verbose", timeout=30)
        assert result.returncode == 0, result.stderr
        assert "; 5 skipped" in result.stderr
        for name, kind in (("pipe.png", "a FIFO"), ("zero.png", "a character device"), ("sock.png", "a socket")):
            assert f"augcli: skipped ({kind}, never opened): circle/{name}" in result.stderr
        assert not list(out.glob("circle/pipe*")) and not list(out.glob("circle/zero*"))
    finally:
        server.close()


def test_link_loops_fail_one_file_each(shapes, mixed_recipe, tmp_path):
    os.symlink("self.png", shapes / "circle" / "self.png")
    os.symlink("b.png", shapes / "circle" / "a.png")
    os.symlink("a.png", shapes / "circle" / "b.png")
    result = augcli("run", mixed_recipe, shapes, tmp_path / "out", timeout=30)
    assert result.returncode == 1, result.stderr
    for name in ("self.png", "a.png", "b.png"):
        assert f"augcli: failed: circle/{name}: symbolic link loop" in result.stderr
    assert "Traceback" not in result.stderr
    assert "3 made" in result.stderr  # c0, c1 and the table


def test_a_tree_deeper_than_python_recursion_is_walked_and_mirrored(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    fd = os.open(data, os.O_RDONLY)
    for _ in range(1200):  # pathlib's mkdir(parents=True) itself recurses: make the levels one by one
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    note = os.open("note.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(note, b"The quick brown fox jumps over the lazy dog.\n")
    os.close(note)
    os.close(fd)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\ntext:\n  transforms: [eda]\n")
    out = tmp_path / "out"
    try:
        result = augcli("run", recipe, data, out)
        assert result.returncode == 0, result.stderr[-2000:]
        assert os.path.exists(os.path.join(out, *["d"] * 1200, "note_aug0.txt"))
        assert augcli("run", recipe, data, out, "--check").returncode == 0
    finally:
        for root in (data, out):
            remove_deep_tree(root)


def remove_deep_tree(root: Path) -> None:
    """Delete a tree too deep for Python 3.11's recursive shutil.rmtree (and pytest's clean-up)."""
    subprocess.run(["rm", "-rf", str(root)], check=True)


def test_a_recipe_that_is_a_fifo_or_a_device_is_refused_at_once(shapes, tmp_path):
    fifo = tmp_path / "recipe.yaml"
    os.mkfifo(fifo)
    for recipe in (fifo, "/dev/zero"):
        result = augcli("run", recipe, shapes, tmp_path / "out", timeout=10)
        assert result.returncode == 2 and "a recipe must be a regular file" in result.stderr
    assert augcli("validate", "/dev/zero", timeout=10).returncode == 2


# -- 3. bounded resources --------------------------------------------------------------------------


def test_billion_laughs_and_deep_nesting_are_refused_fast(shapes, tmp_path):
    laughs = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        laughs += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    laughs += "image: {transforms: *i}\n"
    deep = "image:\n  transforms:\n    - " + "[" * 5000 + "]" * 5000 + "\n"
    mapping = "seed: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"
    for text in (laughs, deep, mapping):
        recipe = tmp_path / "r.yaml"
        recipe.write_text(text)
        started = time.monotonic()
        result = augcli("validate", recipe, timeout=20)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert time.monotonic() - started < 5  # interpreter start-up included; the check itself is ~0.2 s
    from augcli.core.recipe import RecipeError, parse_recipe

    for text in (laughs, deep, mapping):
        started = time.monotonic()
        with pytest.raises(RecipeError):
            parse_recipe(text)
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("image:\n  transforms:\n    - random_resized_crop: {size: [60000, 60000]}\n", "too large: at most 16384"),
        ("image:\n  transforms:\n    - resize: {size: [10000, 10000]}\n", "67,108,864 in all"),
        ("image:\n  transforms:\n    - resize: {shorter_side: 100000000}\n", "must be <= 16384"),
        ("audio:\n  transforms:\n    - pad_or_crop: {duration_s: 1.0e+12}\n", "must be <= 3600"),
    ],
)
def test_sizes_too_large_for_any_input_are_refused_at_validation(section, message):
    from augcli.core.recipe import RecipeError, parse_recipe

    with pytest.raises(RecipeError, match=message):
        parse_recipe(section)


def test_a_copy_over_the_pixel_limit_fails_that_file_before_allocating(tmp_path):
    data = tmp_path / "in"
    write_image(data / "panorama.png", gradient_rgb(400, 4))
    write_image(data / "normal.png", gradient_rgb(40, 30))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  transforms:\n    - resize: {shorter_side: 4000}\n")
    result = augcli("run", recipe, data, tmp_path / "out", "--allow-failures")
    assert result.returncode == 0, result.stderr
    assert "failed: panorama.png: this copy would be 400000x4000 pixels" in result.stderr
    assert "failed: normal.png" not in result.stderr


def test_workers_are_capped_at_the_number_of_tasks(shapes, mixed_recipe, tmp_path):
    from augcli.build.executor import LocalExecutor

    executor = LocalExecutor(64, abs, int, ())
    results, alive = {}, []
    for task, result in executor.map([-1, -2, -3]):
        results[task] = result
        alive.append(len(executor.workers))
    assert results == {-1: 1, -2: 2, -3: 3} and max(alive) == 3 and not executor.workers
    result = augcli("run", mixed_recipe, shapes, tmp_path / "out", "--workers", "64")
    assert result.returncode == 0, result.stderr


def test_a_task_sent_to_a_worker_that_just_died_waits_for_its_sentinel():
    """The next task goes out before the last result is handed on: a worker that died right after
    answering must not lose that answer to a broken pipe; its sentinel reports the task it holds."""
    from collections import deque
    from multiprocessing import Pipe

    from augcli.build.executor import LocalExecutor, _Worker

    parent, child = Pipe()
    child.close()
    worker = _Worker(process=None, conn=parent)
    queue = deque([7, 8])
    LocalExecutor(1, abs, int, ())._give(worker, queue)
    assert worker.busy and worker.task == 7 and list(queue) == [8]
    parent.close()


# -- 4. bad values in data -------------------------------------------------------------------------


def test_nonfinite_yolo_coordinates_fail_that_image_naming_the_line(tmp_path):
    data = tmp_path / "in"
    write_image(data / "images" / "a.png", gradient_rgb(32, 24))
    write_image(data / "images" / "b.png", gradient_rgb(32, 24, seed=1))
    (data / "labels").mkdir()
    (data / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n0 nan 0.5 0.2 0.2\n")
    (data / "labels" / "b.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "copies: 1\nimage:\n  images: images\n  annotations: {format: yolo, path: labels}\n  transforms: [hflip]\n"
    )
    result = augcli("run", recipe, data, tmp_path / "out")
    assert result.returncode == 1
    assert "failed: images/a.png: a.txt, line 2: coordinate nan is not a finite number" in result.stderr
    assert "images/b.png" not in result.stderr


def test_a_one_sample_wav_gets_a_reason_not_an_internal_error(tmp_path):
    import soundfile as sf

    data = tmp_path / "in"
    data.mkdir()
    sf.write(data / "tiny.wav", np.zeros(1, np.float32), 16000, subtype="PCM_16")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\naudio:\n  transforms:\n    - low_pass: {cutoff_hz: 1000}\n")
    result = augcli("run", recipe, data, tmp_path / "out")
    assert result.returncode == 1 and "failed: tiny.wav:" in result.stderr
    assert "internal error" not in result.stderr and "Warning" not in result.stderr


def test_a_missing_label_with_categorical_resample_is_a_clear_error(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    (data / "t.csv").write_text("x,c,y\n1.0,a,p\n2.0,b,\n3.0,a,q\n4.0,b,p\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\ntabular:\n  label: y\n  transforms:\n    - categorical_resample: {columns: [c]}\n")
    for _ in range(2):  # the same message every run: nothing uninitialised is read
        result = augcli("run", recipe, data, tmp_path / "out")
        assert result.returncode == 1 and "failed: t.csv: label column 'y' is empty in row 2" in result.stderr


def test_hostile_jsonl_lines_get_a_reason(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    (data / "deep.jsonl").write_text('{"text": ' + "[" * 100000 + "]" * 100000 + "}\n")
    (data / "big.jsonl").write_text('{"text": "hello there", "n": ' + "9" * 5000 + "}\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\ntext:\n  transforms: [eda]\n")
    result = augcli("run", recipe, data, tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert "failed: deep.jsonl: line 1" in result.stderr and "failed: big.jsonl: line 1" in result.stderr
    assert "internal error" not in result.stderr


# -- 5. every legal file name ----------------------------------------------------------------------


def test_awkward_names_round_trip_through_the_manifest(tmp_path, recipe_file):
    data = tmp_path / "in"
    names = ["cr\rname.png", "nl\nname.png", 'q"uote,comma.png', "=sum(1).png", "+plus.png", "-minus.png"]
    names += ["@at.png", "tab\tname.png", "x" * 250 + ".png"]
    for i, name in enumerate(names):
        write_image(data / name, gradient_rgb(16, 12, seed=i))
    undecodable = os.fsdecode(b"caf\xe9 \xff.png")
    write_image(data / undecodable, gradient_rgb(16, 12, seed=99))
    out = tmp_path / "out"
    result = augcli("run", recipe_file, data, out, "--copies", "1")
    assert result.returncode == 1  # the 250-byte name's copy would be 255+ bytes long
    assert "failed: " + "x" * 250 + ".png" in result.stderr and "name too long" in result.stderr.lower()
    result = augcli("run", recipe_file, data, out, "--copies", "1", "--allow-failures")
    assert result.returncode == 0, result.stderr
    data_bytes = (out / "manifest.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(data_bytes.decode("utf-8"), newline="")))
    frame = pd.read_csv(io.BytesIO(data_bytes), dtype=str, keep_default_na=False)
    assert frame["output"].tolist() == [row["output"] for row in rows]
    outputs = {manifest.decode_path(row["output"]) for row in rows}
    for name in [*names[:-1], undecodable]:
        assert name in outputs and (out / name).exists()
    assert {manifest.decode_path(row["source"]) for row in rows} == {*names[:-1], undecodable}
    assert augcli("verify", out).returncode == 0  # the failed file left nothing behind
    rerun = augcli("run", recipe_file, data, out, "--copies", "1", "--allow-failures")
    assert f"{len(names)} up to date, 0 made" in rerun.stderr


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(
        st.binary(min_size=1, max_size=40).filter(
            lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
        ),
        min_size=1,
        max_size=4,
        unique=True,
    )
)
def test_any_linux_file_name_plans_runs_and_reruns(names, tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    data, out = root / "in", root / "out"
    data.mkdir()
    for i, raw in enumerate(names):
        name = os.fsdecode(raw + b".txt")
        (data / name).write_text(f"Line number {i} of the text.\n")
    recipe = root / "r.yaml"
    recipe.write_text("copies: 1\ntext:\n  include: ['*']\n  transforms: [eda]\n")
    from click.testing import CliRunner

    from augcli.cli import main

    run = CliRunner().invoke(main, ["run", str(recipe), str(data), str(out), "--workers", "1", "--allow-empty"])
    visible = [n for n in names if not n.startswith(b".")]
    assert run.exit_code == 0, run.output
    rows = read_manifest(out)
    assert {os.fsencode(manifest.decode_path(r["source"])) for r in rows} == {n + b".txt" for n in visible}
    again = CliRunner().invoke(main, ["run", str(recipe), str(data), str(out), "--workers", "1", "--allow-empty"])
    assert again.exit_code == 0 and f"{len(visible)} up to date" in again.output
    assert CliRunner().invoke(main, ["verify", str(out)]).exit_code == 0


# -- 6. exit codes ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=20,
    )
)
def test_any_malformed_recipe_is_a_recipe_error_never_a_crash(value):
    import yaml

    from augcli.core.recipe import RecipeError, parse_recipe

    candidates = [
        yaml.safe_dump(value),
        yaml.safe_dump({"image": value}),
        yaml.safe_dump({"image": {"transforms": value}}),
    ]
    candidates.append(yaml.safe_dump({"tabular": {"transforms": [{"gaussian_noise": value}]}}))
    for text in candidates:
        with contextlib.suppress(RecipeError):
            parse_recipe(text)


def test_ctrl_c_prints_one_line(tmp_path, recipe_file):
    proc, data, out = start_long_run(
        tmp_path, recipe_file, 30, (320, 240), 6, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (out.exists() and any(out.glob("*_aug*.png"))):
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # the terminal sends it to the whole group
    _, stderr = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.count("interrupted") == 1, stderr
    assert not list(out.rglob(".augcli-tmp-*"))
    assert augcli("run", recipe_file, data, out, "--copies", "6").returncode == 0


def test_input_tree_is_unchanged_after_a_run(shapes, mixed_recipe, tmp_path):
    before = input_hashes(shapes)
    assert augcli("run", mixed_recipe, shapes, tmp_path / "out").returncode == 0
    assert input_hashes(shapes) == before
    assert tree_digest(tmp_path / "out")


def test_size_limits_are_shown_in_the_reference():
    from click.testing import CliRunner

    from augcli.cli import main

    listing = CliRunner().invoke(main, ["transforms"]).output
    assert "shorter_side = -  (int in [1, 16384])" in listing
    assert "duration_s = required  (number in (0, 3600])" in listing
    assert "(at most 16384 per side, 67,108,864 pixels)" in listing
