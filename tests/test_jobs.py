"""augcli.jobs: the dataset commands as Python functions, the layer the CLI is a thin face over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augcli import jobs
from augcli.core.recipe import RecipeError


def _dataset(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "in"
    for index, label in enumerate(["cat", "cat", "dog"]):
        folder = data / label
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.full((12, 16, 3), 40 * index, dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{label}{index}.png")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 3\ncopies: 2\nimage:\n  transforms:\n    - hflip: {p: 1.0}\n")
    return recipe, data


def _console() -> tuple[jobs.Console, list[str], list[str]]:
    notes: list[str] = []
    shown: list[str] = []
    return jobs.Console(note=notes.append, show=shown.append), notes, shown


def test_run_check_verify_and_replay_as_functions(tmp_path):
    recipe, data = _dataset(tmp_path)
    out = tmp_path / "out"
    console, notes, _ = _console()
    assert jobs.run(recipe, data, out, workers=1, quiet=True, console=console) == 0
    assert notes[-1].startswith("augcli: 3 files in: 0 up to date, 3 made (9 outputs)")
    flipped = np.asarray(Image.open(out / "dog" / "dog2_aug0.png"))
    assert flipped.shape == (12, 16, 3) and (out / "cat" / "cat1_aug1.png").is_file()
    assert jobs.run(recipe, data, out, check=True, console=console) == 0
    assert "is up to date (3 files in)" in notes[-1]
    assert jobs.verify(out, console=console) == 0
    assert jobs.replay(out, every=True, console=console) == 0
    (out / "cat" / "cat1_aug1.png").write_bytes(b"edited")
    assert jobs.verify(out, console=console) == jobs.EXIT_FAILED_INPUTS
    assert jobs.run(recipe, data, out, check=True, console=console) == jobs.EXIT_FAILED_INPUTS
    assert any("1 output would be changed: cat/cat1_aug1.png" in line for line in notes)


def test_a_dry_run_shows_the_plan_and_writes_nothing(tmp_path):
    recipe, data = _dataset(tmp_path)
    console, _, shown = _console()
    assert jobs.run(recipe, data, tmp_path / "out", dry_run=True, copies=1, console=console) == 0
    assert shown[0] == "plan: 3 files (image: 3), 6 outputs, 0 skipped"
    assert "copies: 1 (--copies)" in shown[1] and shown[-1] == "dry run: nothing written"
    assert not (tmp_path / "out").exists()


def test_errors_are_raised_with_their_exit_code(tmp_path):
    recipe, data = _dataset(tmp_path)
    with pytest.raises(jobs.JobError, match="is not a folder") as caught:
        jobs.run(recipe, tmp_path / "missing", tmp_path / "out", console=jobs.QUIET)
    assert caught.value.code == jobs.EXIT_USAGE
    with pytest.raises(jobs.JobError, match="--shard takes K/N"):
        jobs.run(recipe, data, tmp_path / "out", shard="4/4", console=jobs.QUIET)
    with pytest.raises(jobs.JobError, match="not both"):
        jobs.replay(tmp_path, "1", every=True, console=jobs.QUIET)
    (tmp_path / "bad.yaml").write_text("copies: -1\nimage:\n  transforms: [hflip]\n")
    with pytest.raises(RecipeError):
        jobs.validate(tmp_path / "bad.yaml", console=jobs.QUIET)
    assert not (tmp_path / "out").exists()


def test_validate_shows_the_settings_and_their_defaults(tmp_path):
    recipe, _ = _dataset(tmp_path)
    console, _, shown = _console()
    assert jobs.validate(recipe, console=console) == 0
    assert shown[0] == f"{recipe}: valid (image: 1 transform)"
    assert "  seed: 3" in shown and "  copies: 2" in shown
    assert any(line.endswith("(default)") for line in shown)


def test_a_worker_is_set_up_by_the_modalities_it_serves(tmp_path):
    """The engine asks each section's modality to set up a worker (image: OpenCV on one thread,
    as there is one worker per core); a text-only worker never imports OpenCV."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from augcli.build import make\n"
        "from augcli.core.recipe import parse_recipe\n"
        "make._init_worker(parse_recipe('text:\\n  transforms: [eda]\\n'), Path(sys.argv[1]))\n"
        "print('cv2' in sys.modules)\n"
        "make._init_worker(parse_recipe('image:\\n  transforms: [hflip]\\n'), Path(sys.argv[1]))\n"
        "import cv2\n"
        "print(cv2.getNumThreads())\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1"]


def test_a_first_run_starts_its_pool_before_numpy_is_imported(tmp_path):
    """The early pool start overlaps the fork server's imports with this process's: nothing the
    command line does before it (the recipe error it catches included) may import numpy."""
    import subprocess
    import sys

    (tmp_path / "in").mkdir()
    for name in ("a.txt", "b.txt"):
        (tmp_path / "in" / name).write_text("a line\n")
    (tmp_path / "r.yaml").write_text("text:\n  transforms: [swap_words]\n")
    script = (
        "import sys\n"
        "from augcli import cli, jobs\n"
        "def early(*args, **kwargs):\n"
        "    print('numpy' in sys.modules)\n"
        "    raise SystemExit(0)\n"
        "jobs.start_pool_early = early\n"
        "cli.main(['run', *sys.argv[1:], '--workers', '2'])\n"
    )
    args = [str(tmp_path / "r.yaml"), str(tmp_path / "in"), str(tmp_path / "out")]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stdout + done.stderr
