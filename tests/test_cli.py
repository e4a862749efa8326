"""The command line end to end: outputs, manifest, exit codes, determinism, safety."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from augcli import __version__
from augcli.cli import main
from tests.conftest import RECIPE, gradient_rgb, write_image

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file's hash, the state folder aside (it records times, not data)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith(".augcli")
    }


def read_manifest(output: Path) -> list[dict[str, str]]:
    with (output / "manifest.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_writes_copies_originals_and_manifest(dataset, recipe_file, tmp_path):
    before = tree_digest(dataset)
    out = tmp_path / "out"
    result = invoke("run", recipe_file, dataset, out, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert tree_digest(dataset) == before  # nothing under INPUT touched
    assert sorted(p.name for p in (out / "cats").iterdir()) == sorted(
        [f"cat{i}.jpg" for i in range(3)] + [f"cat{i}_aug{k}.jpg" for i in range(3) for k in range(3)]
    )
    assert (out / "cats" / "cat0.jpg").read_bytes() == (dataset / "cats" / "cat0.jpg").read_bytes()
    rows = read_manifest(out)
    assert list(rows[0]) == ["output", "source", "modality", "kind", "copy", "class", "transforms", "rows", "sha256"]
    assert {row["rows"] for row in rows} == {""}  # row counts are for tables only
    assert [r["output"] for r in rows] == sorted(r["output"] for r in rows) and len(rows) == 5 * 4
    copy = next(r for r in rows if r["output"] == "dogs/dog1_aug2.png")
    assert (copy["source"], copy["modality"], copy["kind"], copy["copy"]) == ("dogs/dog1.png", "image", "copy", "2")
    applied = json.loads(copy["transforms"])
    assert {"rotate", "random_resized_crop", "color_jitter"} <= {t["name"] for t in applied}
    original = next(r for r in rows if r["output"] == "dogs/dog1.png")
    assert (original["kind"], original["copy"], original["transforms"]) == ("original", "-1", "[]")
    import pandas

    assert pandas.read_csv(out / "manifest.csv")["copy"].dtype == "int64"  # training code filters on it as is
    with Image.open(out / "dogs" / "dog1_aug2.png") as image:
        assert image.size == (40, 30) and image.mode == "RGB"
    assert "augcli: 5 files in: 0 up to date, 5 made (20 outputs), 0 removed, 0 failed, " in result.stderr
    assert "file/s" not in result.stderr  # no progress bar when stderr is not a terminal


def test_same_seed_gives_identical_bytes_across_worker_counts(dataset, recipe_file, tmp_path):
    digests = []
    for name, workers in (("a", 1), ("b", 2), ("c", 2)):
        assert invoke("run", recipe_file, dataset, tmp_path / name, "--workers", workers, "-q").exit_code == 0
        digests.append(tree_digest(tmp_path / name))
    assert digests[0] == digests[1] == digests[2]
    assert invoke("run", recipe_file, dataset, tmp_path / "d", "--seed", "8", "--workers", "1").exit_code == 0
    other = tree_digest(tmp_path / "d")
    changed = [k for k in other if "_aug" in k and other[k] != digests[0][k]]
    assert len(changed) == 15 and other["manifest.csv"] != digests[0]["manifest.csv"]


def test_dry_run_prints_the_plan_and_writes_nothing(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", recipe_file, dataset, out, "--dry-run")
    assert result.exit_code == 0
    assert "plan: 5 files (image: 5), 20 outputs, 1 skipped" in result.output
    assert "  cats/cat0_aug0.jpg" in result.output and "dry run: nothing written" in result.output
    assert not out.exists()


def test_a_corrupt_file_is_reported_and_skipped(dataset, recipe_file, tmp_path):
    (dataset / "cats" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (dataset / "cats" / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    result = invoke("run", recipe_file, dataset, out, "--workers", "2")
    assert result.exit_code == 1
    assert "augcli: failed: cats/broken.jpg: cannot decode image" in result.stderr
    assert "augcli: failed: cats/empty.png: cannot decode image: empty file (0 bytes)" in result.stderr
    assert "7 files in: 0 up to date, 5 made (20 outputs), 0 removed, 2 failed, " in result.stderr
    assert result.stderr.rstrip().splitlines()[-2].endswith(" s; 1 skipped")
    assert not list((out / "cats").glob("broken*")) and not list((out / "cats").glob("empty*"))
    assert not (out / "manifest.csv").exists()  # a failed run never leaves a manifest a Makefile would trust
    assert not list(out.rglob(".augcli-tmp-*"))  # no temporary files


def test_invalid_recipe_exits_2_and_writes_nothing(dataset, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("image:\n  transforms:\n    - hflip\n    - rotat: {degrees: 5}\n")
    out = tmp_path / "out"
    result = invoke("run", bad, dataset, out)
    assert result.exit_code == 2 and not out.exists()
    assert "line 4: image.transforms[1]: unknown image transform 'rotat'; did you mean 'rotate'?" in result.stderr
    assert invoke("validate", bad).exit_code == 2


def test_output_inside_input_or_non_empty_is_refused(dataset, recipe_file, tmp_path):
    result = invoke("run", recipe_file, dataset, dataset / "aug")
    assert result.exit_code == 2 and "inside it" in result.stderr and not (dataset / "aug").exists()
    assert invoke("run", recipe_file, dataset, dataset).exit_code == 2
    assert invoke("run", recipe_file, dataset / "cats", dataset).exit_code == 2  # INPUT inside OUTPUT
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    result = invoke("run", recipe_file, dataset, busy)
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]


def test_overwrite_replaces_outputs_and_removes_only_stale_ones_it_wrote(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--copies", "3").exit_code == 0
    (out / "keep.txt").write_text("mine")
    assert invoke("run", recipe_file, dataset, out, "--copies", "1", "--overwrite").exit_code == 0
    assert not (out / "cats" / "cat0_aug1.jpg").exists() and (out / "cats" / "cat0_aug0.jpg").exists()
    assert (out / "keep.txt").read_text() == "mine"
    fresh = tmp_path / "fresh"
    assert invoke("run", recipe_file, dataset, fresh, "--copies", "1").exit_code == 0
    assert {k: v for k, v in tree_digest(out).items() if k != "keep.txt"} == tree_digest(fresh)


def test_validate_transforms_and_version():
    result = invoke("validate", ROOT / "configs" / "images.yaml")
    assert result.exit_code == 0 and "valid (image: 6 transforms" in result.output
    listing = invoke("transforms", "image").output
    assert "rotate: Rotate about the centre" in listing and "degrees = 15" in listing
    markdown = invoke("transforms", "--markdown").output
    assert markdown.startswith("### image\n") and "| `random_erasing` |" in markdown
    unknown = invoke("transforms", "imgae")
    assert unknown.exit_code == 2 and "did you mean 'image'?" in unknown.stderr
    assert invoke("--version").output.strip() == f"augcli, version {__version__}"


def test_the_reference_page_embeds_the_current_transform_reference():
    readme = (ROOT / "docs" / "reference.md").read_text()
    start, end = "<!-- transforms:start -->\n", "<!-- transforms:end -->"
    embedded = readme[readme.index(start) + len(start) : readme.index(end)]
    assert embedded.strip() == invoke("transforms", "--markdown").output.strip(), (
        "README is stale: run python scripts/update_readme.py"
    )


def test_real_subprocess_run(dataset, recipe_file, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "augcli", "run", str(recipe_file), str(dataset), str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().startswith("augcli: 5 files in: 0 up to date, 5 made (20 outputs)")
    assert len(read_manifest(out)) == 20


def test_a_killed_run_leaves_no_half_written_file(tmp_path, recipe_file):
    data = tmp_path / "big"
    for i in range(40):
        write_image(data / f"img{i:02d}.png", gradient_rgb(320, 240, seed=i), compress_level=0)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "augcli", "run", str(recipe_file), str(data), str(out), "--copies", "6"]
    proc = subprocess.Popen([*args, "--workers", "2"], stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if out.exists() and len(list(out.glob("*_aug*.png"))) >= 20:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process tree, workers included, mid-write
    proc.wait()
    assert not (out / "manifest.csv").exists(), "the run finished before it could be killed"
    finals = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert finals, "the run was killed before writing anything"
    for path in finals:
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.load()  # a half-written PNG would fail here
    # Rerunning over the remains gives exactly what a clean run gives.
    assert subprocess.run([*args, "--overwrite", "-q"], check=False).returncode == 0
    clean = tmp_path / "clean"
    assert subprocess.run([*args[:-3], str(clean), "--copies", "6"], check=False).returncode == 0
    assert tree_digest(out) == tree_digest(clean)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_symlink_loop_in_input_does_not_hang(dataset, recipe_file, tmp_path):
    os.symlink(dataset, dataset / "cats" / "loop")
    result = invoke("run", recipe_file, dataset, tmp_path / "out", "--dry-run")
    assert result.exit_code == 0 and "plan: 5 files" in result.output


def test_recipe_text_of_the_fixture_is_valid():
    from augcli.core.recipe import parse_recipe

    assert parse_recipe(RECIPE).copies == 3


def test_progress_bar_appears_on_a_terminal_and_not_with_quiet(dataset, recipe_file, tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    def stderr_on_a_terminal(*extra: str) -> str:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
        out = tmp_path / f"out{len(extra)}"
        command = [sys.executable, "-m", "augcli", "run", str(recipe_file), str(dataset), str(out), "--workers", "1"]
        proc = subprocess.Popen([*command, *extra], stderr=follower, stdout=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.wait() == 0
        return b"".join(chunks).decode(errors="replace")

    shown = stderr_on_a_terminal()
    assert "5/5" in shown and "file/s" in shown and "100%" in shown
    assert "augcli: 5 files in: 0 up to date, 5 made (20 outputs)" in shown
    quiet = stderr_on_a_terminal("--quiet")
    assert "file/s" not in quiet and "augcli: 5 files in: 0 up to date, 5 made (20 outputs)" in quiet


def test_a_broken_symlink_is_a_failed_input_and_an_unwritable_output_is_reported(dataset, recipe_file, tmp_path):
    os.symlink(tmp_path / "nowhere.jpg", dataset / "cats" / "gone.jpg")
    result = invoke("run", recipe_file, dataset, tmp_path / "out")
    assert result.exit_code == 1 and "augcli: failed: cats/gone.jpg: broken symbolic link (to " in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("run", recipe_file, dataset, blocker / "out")
    assert result.exit_code == 1 and "cannot write to OUTPUT" in result.stderr


def test_modes_formats_and_orientation_survive_a_whole_run(tmp_path):
    data = tmp_path / "mixed"
    rgb = gradient_rgb(48, 32)
    write_image(data / "grey16.png", (rgb[..., 0].astype(np.uint16) * 257))
    write_image(data / "alpha.png", np.dstack([rgb, rgb[..., :1]]))
    Image.fromarray(rgb).quantize(colors=8).save(data / "palette.png")
    write_image(data / "anim.gif", rgb)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(data / "sideways.jpg", exif=exif)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  transforms:\n    - rotate: {degrees: 10}\n    - brightness\n")
    out = tmp_path / "out"
    assert invoke("run", recipe, data, out, "--workers", "1").exit_code == 0
    modes = {}
    for name in ("grey16_aug0.png", "alpha_aug0.png", "palette_aug0.png", "anim_aug0.gif", "sideways_aug0.jpg"):
        with Image.open(out / name) as image:
            modes[name] = (image.mode, image.size)
    assert modes["grey16_aug0.png"][0] in ("I;16", "I")
    assert modes["alpha_aug0.png"] == ("RGBA", (48, 32))
    assert modes["palette_aug0.png"] == ("P", (48, 32))
    assert modes["anim_aug0.gif"][1] == (48, 32)
    assert modes["sideways_aug0.jpg"] == ("RGB", (32, 48))  # EXIF orientation applied: upright


def test_output_format_option_renames_copies_but_not_originals(dataset, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("copies: 1\nimage:\n  include: ['*.jpg']\n  transforms: [hflip]\n  output: {format: png}\n")
    out = tmp_path / "out"
    assert invoke("run", recipe, dataset, out).exit_code == 0
    assert sorted(p.name for p in (out / "cats").iterdir())[:2] == ["cat0.jpg", "cat0_aug0.png"]
    with Image.open(out / "cats" / "cat0_aug0.png") as image:
        assert image.format == "PNG"


def test_composition_reference_lists_the_transforms_key():
    listing = invoke("transforms", "image").output
    block = listing[listing.index("  some_of:") :]
    assert "transforms = required  (list of transforms)" in block.split("\n\n")[0]


def test_unusual_file_names_survive_into_the_manifest(tmp_path, recipe_file):
    data = tmp_path / "data"
    for name in ("café ü.jpg", 'a,b "quoted".png', "日本.jpg"):
        write_image(data / "weird dir" / name, gradient_rgb(32, 24))
    out = tmp_path / "out"
    assert invoke("run", recipe_file, data, out, "--copies", "1").exit_code == 0
    sources = {row["source"] for row in read_manifest(out)}
    assert sources == {"weird dir/café ü.jpg", 'weird dir/a,b "quoted".png', "weird dir/日本.jpg"}
    assert (out / "weird dir" / 'a,b "quoted"_aug0.png').exists()
