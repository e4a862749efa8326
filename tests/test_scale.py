"""Past one machine: shards that join into exactly what one run writes, and the Dask executor,
byte for byte, also when a worker is lost mid-run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from augcli.build.plan import shard_of
from tests.conftest import augcli_command, write_images
from tests.test_cli import invoke, tree_digest
from tests.test_layouts import ultralytics_dataset

RECIPE = """\
seed: 5
copies: 2
image:
  annotations: {format: yolo}
  passthrough: ["val/**"]
  transforms: [hflip, {rotate: {degrees: 15}}, {color_jitter: {brightness: 0.2}}]
text:
  transforms: [random_swap]
"""


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path]:
    data = ultralytics_dataset(tmp_path / "data", per_split=5)
    (data / "notes").mkdir()
    for i in range(6):
        (data / "notes" / f"n{i}.txt").write_text(f"note number {i} about the data set\nsecond line here\n")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    return data, recipe


def test_shards_are_disjoint_cover_everything_and_do_not_move():
    names = [f"images/train/im{i}.png" for i in range(1000)]
    counts = [sum(shard_of(n, 4) == k for n in names) for k in range(4)]
    assert sum(counts) == 1000 and min(counts) > 200  # every file in exactly one shard, spread evenly
    assert [shard_of(n, 4) for n in names[:50]] == [shard_of(n, 4) for n in names[:50]]


def test_shards_then_merge_write_exactly_what_one_run_writes(dataset, tmp_path):
    data, recipe = dataset
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    assert invoke("run", recipe, data, single).exit_code == 0
    for k in (2, 0, 1):  # in any order
        result = invoke("run", recipe, data, sharded, "--shard", f"{k}/3")
        assert result.exit_code == 0, result.output
    assert not (sharded / "manifest.csv").exists() and not (sharded / "data.yaml").exists()  # merge writes them
    result = invoke("merge", sharded)
    assert result.exit_code == 0 and "merged 3 shards" in result.output and "data.yaml" in result.output
    assert tree_digest(sharded) == tree_digest(single)
    assert (sharded / "manifest.csv").read_bytes() == (single / "manifest.csv").read_bytes()
    assert invoke("verify", sharded).exit_code == 0 and invoke("replay", sharded, "--all").exit_code == 0
    again = invoke("run", recipe, data, sharded)
    assert "0 made (0 outputs)" in again.output  # a merged OUTPUT is up to date for a single run too


def test_merge_refuses_missing_or_unfinished_shards_and_a_rerun_redoes_only_what_changed(dataset, tmp_path):
    data, recipe = dataset
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out, "--shard", "0/2").exit_code == 0
    result = invoke("merge", out)
    assert result.exit_code == 2 and "shard 1 of 2 is missing: run it" in result.output
    assert not (out / "manifest.csv").exists()
    victim = next(f"notes/n{i}.txt" for i in range(6) if shard_of(f"notes/n{i}.txt", 2) == 1)
    (data / victim).write_bytes(b"\xff\xfe\x00bad")  # not UTF-8: that input fails
    assert invoke("run", recipe, data, out, "--shard", "1/2").exit_code == 1
    result = invoke("merge", out)
    assert result.exit_code == 2 and "shard 1 of 2 is not complete" in result.output
    (data / victim).write_text("a mended note\n")
    rerun = invoke("run", recipe, data, out, "--shard", "1/2")
    assert rerun.exit_code == 0 and " 1 made (" in rerun.output  # only the mended input is made
    assert invoke("merge", out).exit_code == 0
    single = tmp_path / "single"
    assert invoke("run", recipe, data, single).exit_code == 0
    assert tree_digest(out) == tree_digest(single)
    assert "--shard takes K/N with 0 <= K < N" in invoke("run", recipe, data, out, "--shard", "2/2").output


def test_shards_run_at_the_same_time_into_one_output(dataset, tmp_path):
    data, recipe = dataset
    out = tmp_path / "out"
    runs = [
        subprocess.Popen(augcli_command("run", recipe, data, out, "--shard", f"{k}/3", "-q"), stderr=subprocess.PIPE)
        for k in range(3)
    ]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read().decode()
    assert invoke("merge", out).exit_code == 0
    single = tmp_path / "single"
    assert invoke("run", recipe, data, single).exit_code == 0
    assert tree_digest(out) == tree_digest(single)


def test_dask_executor_writes_the_same_bytes(dataset, tmp_path):
    pytest.importorskip("distributed")
    data, recipe = dataset
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert invoke("run", recipe, data, local, "--workers", "2").exit_code == 0
    result = invoke("run", recipe, data, dask, "--executor", "dask", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert tree_digest(dask) == tree_digest(local)
    assert "--scheduler goes with --executor dask" in invoke("run", recipe, data, dask, "--scheduler", "x").output


def _workers_of(pid: int) -> list[int]:
    """PIDs of the pool's worker processes below `pid` (a process that ends while it is looked at
    is simply not one: psutil raises NoSuchProcess for it)."""
    import psutil

    found = []
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line or "forkserver" in line:
            found.append(child.pid)
    return found


def test_a_dask_worker_lost_mid_run_costs_only_its_tasks(tmp_path):
    pytest.importorskip("distributed")
    data = write_images(tmp_path / "data" / "pics", 120, 320, 240).parent
    recipe = tmp_path / "slow.yaml"
    recipe.write_text(
        "seed: 2\ncopies: 3\nimage:\n  transforms: [{rotate: {degrees: 30}}, {gaussian_blur: {sigma: 2}},"
        " {gaussian_noise: {}}, {jpeg_compression: {}}]\n"
    )
    out = tmp_path / "out"
    run = subprocess.Popen(
        augcli_command("run", recipe, data, out, "--executor", "dask", "--workers", "2", "-q"), stderr=subprocess.PIPE
    )
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and run.poll() is None and time.monotonic() < deadline:
        made = list((out / "pics").glob("*_aug*")) if (out / "pics").is_dir() else []
        workers = _workers_of(run.pid)
        if len(made) >= 20 and workers:
            killed = workers[-1]
            with contextlib.suppress(ProcessLookupError):
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    assert run.wait(timeout=300) == 0, run.stderr.read().decode()[-2000:]
    assert killed is not None, "the run finished before a worker could be killed"
    local = tmp_path / "local"
    assert invoke("run", recipe, data, local, "--workers", "2").exit_code == 0
    assert tree_digest(out) == tree_digest(local)


def test_a_shard_removes_only_its_own_leftover_temporaries_and_merge_refuses_a_killed_shard(dataset, tmp_path):
    data, recipe = dataset
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out, "--shard", "0/2").exit_code == 0
    mine, theirs = out / "images" / ".augcli-tmp-s0of2-999-1", out / "images" / ".augcli-tmp-s1of2-999-1"
    mine.write_bytes(b"left by a killed run of shard 0")
    theirs.write_bytes(b"being written by shard 1 right now")
    assert invoke("run", recipe, data, out, "--shard", "0/2").exit_code == 0
    assert not mine.exists() and theirs.exists()  # shard 1 may still be writing it
    theirs.unlink()
    assert invoke("run", recipe, data, out, "--shard", "1/2").exit_code == 0
    part = out / ".augcli-shard-1-of-2-manifest.csv"
    part.write_bytes(part.read_bytes().replace(b"\n", b"\r\n"))  # a part that is not what its state lists
    result = invoke("merge", out)
    assert result.exit_code == 2 and "its manifest part does not match its state" in result.output
    journal = out / ".augcli-shard-1-of-2-journal.jsonl"
    journal.write_text("")  # as a run killed mid-way leaves it
    result = invoke("merge", out)
    assert result.exit_code == 2 and "its last run was stopped before it finished" in result.output


def test_no_executor_starts_more_workers_than_there_are_tasks(tmp_path, monkeypatch):
    """--workers is a ceiling: one input table's copies are the tasks, and a Dask LocalCluster for
    two tasks has two workers, not one per core."""
    pytest.importorskip("distributed")
    from augcli.build import dask_executor, make, runner
    from augcli.core.recipe import parse_recipe
    from augcli.storage.tree import OutputTree

    made: list[int] = []
    monkeypatch.setattr(dask_executor, "DaskExecutor", lambda workers, *rest: made.append(workers))
    recipe = parse_recipe("text:\n  transforms: [eda]\n")
    with OutputTree(tmp_path / "out") as tree:
        assert make._executor(runner.Options(workers=8), recipe, tree, 3).size == 3
        assert make._executor(runner.Options(workers=2), recipe, tree, 5).size == 2
        make._executor(runner.Options(workers=8, executor="dask"), recipe, tree, 2)
    assert made == [2]
