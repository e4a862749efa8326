"""OUTPUT as the tools that share it see it: git (commit, clone, --check in CI), GNU make (the
README's Makefile as written), data version tools' links, and a no-op run that changes nothing."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RECIPE, augcli_command, gradient_rgb, write_image

README = Path(__file__).resolve().parent.parent / "README.md"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


def augcli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(augcli_command(*args), capture_output=True, text=True, timeout=120, cwd=cwd)


def git(*args: str, cwd: Path) -> str:
    env = os.environ | {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=True)
    return done.stdout


def readme_block(heading: str, language: str) -> str:
    """The first fenced block of `language` after `heading` in the README: the snippet users copy."""
    text = README.read_text()
    start = text.index(heading)
    match = re.search(rf"```{language}\n(.*?)```", text[start:], re.S)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


def project(root: Path) -> Path:
    """A project as the README lays it out: augment.yaml, data/raw (two classes)."""
    for i in range(3):
        write_image(root / "data" / "raw" / "cats" / f"cat{i}.jpg", gradient_rgb(seed=i), quality=90)
    for i in range(2):
        write_image(root / "data" / "raw" / "dogs" / f"dog{i}.png", gradient_rgb(40, 30, seed=10 + i))
    (root / "augment.yaml").write_text(RECIPE)
    return root


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `folder`, hidden ones included: (inode, mtime_ns, bytes)."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_no_op_run_changes_no_byte_and_no_mtime_and_leaves_no_lock(tmp_path):
    root = project(tmp_path)
    out = root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", root / "data" / "raw", out).returncode == 0
    assert not (out / ".augcli-lock").exists()  # the lock is OUTPUT's own folder: no file
    before = snapshot(out)
    folder_mtime = out.stat().st_mtime_ns
    result = augcli("run", root / "augment.yaml", root / "data" / "raw", out)
    assert result.returncode == 0 and "5 up to date, 0 made" in result.stderr
    assert snapshot(out) == before and out.stat().st_mtime_ns == folder_mtime  # not even the folder's mtime
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["cats", "dogs"]  # no folder of augcli's


@needs_git
def test_commit_clone_check_and_rerun_as_the_readme_says(tmp_path):
    """The README's "What to commit": a fresh clone (new mtimes and inodes) is up to date, a plain
    run makes nothing, and git sees no change, in the clone or in the original."""
    root = project(tmp_path / "origin")
    out = root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", root / "data" / "raw", out).returncode == 0
    (root / ".gitignore").write_text(readme_block("### What to commit", "gitignore"))
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "data", cwd=root)
    committed = git("ls-files", cwd=root).split()
    assert "data/augmented/.augcli-state.json" in committed and "data/augmented/manifest.csv" in committed
    assert "data/augmented/.augcli-cache.json" not in committed

    clone = tmp_path / "clone"
    git("clone", "-q", str(root), str(clone), cwd=tmp_path)
    raw, augmented = clone / "data" / "raw", clone / "data" / "augmented"
    check = augcli("run", clone / "augment.yaml", raw, augmented, "--check")
    assert check.returncode == 0, check.stderr
    assert augcli("verify", augmented).returncode == 0
    result = augcli("run", clone / "augment.yaml", raw, augmented)
    assert result.returncode == 0 and "0 made (0 outputs), 0 removed" in result.stderr
    assert git("status", "--porcelain", cwd=clone) == ""
    assert augcli("run", root / "augment.yaml", root / "data" / "raw", out).returncode == 0
    assert git("status", "--porcelain", cwd=root) == ""

    (raw / "dogs" / "dog1.png").unlink()  # a real change in the clone: --check names it
    check = augcli("run", clone / "augment.yaml", raw, augmented, "--check")
    assert check.returncode == 1 and "4 outputs would be deleted: dogs/dog1.png" in check.stderr


@needs_make
def test_the_readmes_makefile_notices_added_deleted_and_modified_inputs_whatever_their_times(tmp_path):
    root = project(tmp_path)
    (root / "Makefile").write_text(readme_block("### Use in a Makefile", "make"))
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    def make() -> subprocess.CompletedProcess:
        return subprocess.run(["make", "augment"], cwd=root, capture_output=True, text=True, env=env, timeout=120)

    assert make().returncode == 0
    manifest = root / "data" / "augmented" / "manifest.csv"
    assert "cats/cat2_aug2.jpg" in manifest.read_text()
    old = (root / "data" / "raw" / "cats" / "cat0.jpg").stat().st_mtime - 3600
    (root / "data" / "raw" / "cats" / "cat2.jpg").unlink()  # deleted
    new = root / "data" / "raw" / "cats" / "cat9.jpg"  # added, with an old time
    write_image(new, gradient_rgb(seed=9), quality=90)
    os.utime(new, (old, old))
    changed = root / "data" / "raw" / "dogs" / "dog0.png"  # modified, its time put back
    stat = changed.stat()
    write_image(changed, gradient_rgb(40, 30, seed=77))
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = make()
    assert result.returncode == 0, result.stderr
    assert "1 removed" not in result.stderr and "4 removed" in result.stderr
    text = manifest.read_text()
    assert "cats/cat2" not in text and "cats/cat9_aug2.jpg" in text
    assert not (root / "data" / "augmented" / "cats" / "cat2_aug0.jpg").exists()


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_outputs_replaced_by_links_to_a_cache_are_current_and_never_written_through(tmp_path, link):
    """What DVC's `cache.type: symlink|hardlink` does to a tracked OUTPUT (DVC itself is not
    installed in the test environment: its checkout is simulated with the same links)."""
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    cache = tmp_path / "cache"
    cache.mkdir()
    linked = sorted(p for p in out.rglob("*.jpg") if p.is_file())
    for index, path in enumerate(linked):
        kept = cache / f"{index:02d}"
        shutil.copyfile(path, kept)
        kept.chmod(0o444)  # DVC's cache is read-only
        path.unlink()
        if link == "symlink":
            path.symlink_to(kept)
        else:
            os.link(kept, path)
    cached = {p.name: p.read_bytes() for p in cache.iterdir()}
    for args in (("--check",), ()):
        result = augcli("run", root / "augment.yaml", raw, out, *args)
        assert result.returncode == 0, result.stderr
    assert "0 made (0 outputs)" in result.stderr
    assert all(p.is_symlink() == (link == "symlink") for p in linked)
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == cached
    assert augcli("verify", out).returncode == 0


def test_a_version_4_state_folder_is_migrated_without_remaking_outputs(tmp_path):
    """An OUTPUT made before this format (state in OUTPUT/.augcli/) is read once and rewritten as
    hidden files; no output is remade and the folder is gone."""
    import json

    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    new_state = json.loads((out / ".augcli-state.json").read_text())
    lines = json.loads((out / ".augcli-lines.json").read_text())
    old_units = {}
    for unit, record in new_state["units"].items():
        files = []
        for cell, _sha in record["files"]:
            info = (out / cell).stat()
            files.append([cell, info.st_size, info.st_mtime_ns])
        old_units[unit] = {"key": record["key"], "files": files}
    folder = out / ".augcli"
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"version": 4, "units": old_units, "hashes": {}, "deaths": {}}))
    (folder / "lines.json").write_text(json.dumps(lines))
    (folder / "run.json").write_bytes((out / ".augcli-run.json").read_bytes())
    for name in ("state.json", "lines.json", "run.json", "cache.json"):
        (out / f".augcli-{name}").unlink()
    before = snapshot(out)
    result = augcli("run", root / "augment.yaml", raw, out)
    assert result.returncode == 0 and "0 made (0 outputs), 0 removed" in result.stderr, result.stderr
    assert not folder.exists() and (out / ".augcli-state.json").is_file()
    after = snapshot(out)
    assert {k: v for k, v in after.items() if not k.startswith(".augcli")} == {
        k: v for k, v in before.items() if not k.startswith(".augcli")
    }


def test_other_tools_files_are_never_deleted_and_verify_only_reports_them(tmp_path):
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    theirs = [out / "cats.cache", out / "dogs" / ".DS_Store", out / "dogs" / "Thumbs.db"]
    for path in theirs:
        path.write_bytes(b"written by another tool")
    (raw / "dogs" / "dog0.png").unlink()
    (raw / "dogs" / "dog1.png").unlink()  # dogs/ empties of augcli's files: the folder stays for theirs
    result = augcli("run", root / "augment.yaml", raw, out)
    assert result.returncode == 0 and "8 removed" in result.stderr
    assert all(path.read_bytes() == b"written by another tool" for path in theirs)
    verify = augcli("verify", out)
    assert verify.returncode == 0 and "3 unlisted" in verify.stderr
    assert augcli("verify", out, "--strict").returncode == 1


def test_every_reason_check_gives_for_the_manifest_is_the_true_one(tmp_path):
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    check = augcli("run", root / "augment.yaml", raw, out, "--check")
    assert check.returncode == 0 and "manifest.csv would be rewritten" not in check.stderr
    manifest = (out / "manifest.csv").read_bytes()
    (out / "manifest.csv").write_bytes(manifest.replace(b"cats/cat0", b"cats/catX", 1))
    check = augcli("run", root / "augment.yaml", raw, out, "--check")
    assert check.returncode == 1
    assert "manifest.csv would be rewritten: it does not list what OUTPUT holds (it was edited" in check.stderr
    (out / "manifest.csv").unlink()
    check = augcli("run", root / "augment.yaml", raw, out, "--check")
    assert check.returncode == 1 and "manifest.csv would be rewritten: it is missing" in check.stderr
    result = augcli("run", root / "augment.yaml", raw, out)
    assert result.returncode == 0 and "0 made (0 outputs), 0 removed, 0 failed" in result.stderr
    assert "; manifest.csv rewritten" in result.stderr and (out / "manifest.csv").read_bytes() == manifest


def test_the_report_describes_the_set_as_it_stands_after_a_no_op_rerun(tmp_path):
    pytest.importorskip("jinja2")
    from augcli.report import run_report

    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0  # a no-op: no run record written
    summary = dict(run_report.build(out)["summary"])
    assert summary["files in OUTPUT (manifest rows)"] == "15 copy, 5 original"
    assert summary["input files they come from"] == "5"
    assert summary["last run that changed OUTPUT"].startswith("5 files in: 5 made (20 outputs), 0 up to date")


def dvc_command() -> str | None:
    found = os.environ.get("AUGCLI_TEST_DVC") or shutil.which("dvc")
    return found if found and Path(found).exists() else None


@pytest.mark.skipif(dvc_command() is None, reason="DVC is not installed (scripts/test.sh puts it in .venv-dvc)")
@pytest.mark.parametrize("cache_type", ["copy", "symlink", "hardlink"])
def test_the_readmes_dvc_stage_keeps_outputs_dvc_linked_and_remakes_only_whats_new(tmp_path, cache_type):
    """Real DVC, the README's dvc.yaml and .dvcignore: after DVC has put every output (and augcli's
    committed state) into its cache as copies or links, a repro for one new input makes only its
    outputs; the others are never written (same inode and mtime), links stay links."""
    dvc = dvc_command()
    root = project(tmp_path)
    (root / "dvc.yaml").write_text(readme_block("### With DVC", "yaml"))
    (root / ".dvcignore").write_text(readme_block("### With DVC", "text").split("\n", 1)[1])
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=root, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    git("init", "-q", cwd=root)
    run(dvc, "init", "-q")
    run(dvc, "config", "cache.type", cache_type)
    run(dvc, "repro")
    out = root / "data" / "augmented"
    links = {p: p.lstat() for p in out.rglob("*") if p.suffix in (".jpg", ".png")}
    assert len(links) == 20 and all(p.is_symlink() == (cache_type == "symlink") for p in links)
    assert "didn't change, skipping" in run(dvc, "repro")
    write_image(root / "data" / "raw" / "cats" / "cat7.jpg", gradient_rgb(seed=7), quality=90)
    run(dvc, "repro")
    summary = json.loads((out / ".augcli-run.json").read_text())["summary"]  # the run DVC started
    assert (summary["files"], summary["current"], summary["made"], summary["written"]) == (6, 5, 1, 4)
    for path, before in links.items():
        after = path.lstat()
        if cache_type != "symlink":  # DVC itself makes its symlinks anew when it commits a stage
            assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), path
        assert path.is_symlink() == (cache_type == "symlink")
    assert len(list(out.rglob("cat7*.jpg"))) == 4
    assert augcli("run", root / "augment.yaml", root / "data" / "raw", out, "--check").returncode == 0


def test_the_dvcignore_block_names_output_paths_once_and_reaches_staged_files_in_subfolders(tmp_path):
    """The README's .dvcignore (and docs/rebuilds.md's, the same) names each path under OUTPUT once,
    and its temporary-file line reaches the class folders, where a run stages its files; with DVC
    installed, `dvc check-ignore` says so."""
    block = readme_block("### With DVC", "text")
    rebuilds = (README.parent / "docs" / "rebuilds.md").read_text()
    assert block in rebuilds
    lines = block.split("\n", 1)[1].split()
    assert lines and all(line.startswith("data/augmented/") and line.count("data/augmented") == 1 for line in lines)
    assert "data/augmented/**/.augcli-tmp-*" in lines
    dvc = dvc_command()
    if dvc is None:
        return
    git("init", "-q", cwd=tmp_path)
    subprocess.run([dvc, "init", "-q"], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / ".dvcignore").write_text(block.split("\n", 1)[1])
    staged = [
        "data/augmented/.augcli-tmp-1-1",
        "data/augmented/cats/.augcli-tmp-1-2",
        "data/augmented/.augcli-cache.json",
    ]
    for name in [*staged, "data/augmented/cats/cat0_aug0.jpg"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    done = subprocess.run(
        [dvc, "check-ignore", *staged, "data/augmented/cats/cat0_aug0.jpg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.stdout.split() == staged, done.stdout + done.stderr


def test_check_says_when_a_run_would_refuse_the_output(tmp_path):
    root = project(tmp_path)
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "notes.txt").write_text("not augcli's\n")
    check = augcli("run", root / "augment.yaml", root / "data" / "raw", out, "--check")
    assert check.returncode == 1 and "a run would refuse this OUTPUT (exit 2)" in check.stderr
    assert "--overwrite" in check.stderr and sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_project_moved_elsewhere_is_current_though_its_recipe_names_files(tmp_path):
    """Keys hold the files a recipe names by content and by their place beside the recipe, not by
    the recipe folder's absolute path: a project copied to another folder is up to date there."""
    root = project(tmp_path / "here")
    (root / "data" / "raw" / "notes").mkdir()
    (root / "data" / "raw" / "notes" / "a.txt").write_text("the quick brown fox jumps over the lazy dog\n")
    (root / "mine.csv").write_text("quick,fast,speedy\n")
    (root / "augment.yaml").write_text(RECIPE + "text:\n  thesaurus: mine.csv\n  transforms: [synonym_replacement]\n")
    assert augcli("run", root / "augment.yaml", root / "data" / "raw", root / "data" / "augmented").returncode == 0
    moved = tmp_path / "there"
    shutil.copytree(root, moved, symlinks=True)
    check = augcli("run", moved / "augment.yaml", moved / "data" / "raw", moved / "data" / "augmented", "--check")
    assert check.returncode == 0, check.stderr
    (moved / "mine.csv").write_text("quick,rapid\n")  # the content still counts
    check = augcli("run", moved / "augment.yaml", moved / "data" / "raw", moved / "data" / "augmented", "--check")
    assert check.returncode == 1 and "would be changed: notes/a" in check.stderr


@needs_git
def test_a_rerun_that_fails_as_the_last_one_did_writes_nothing(tmp_path):
    """A failed input's outputs are claimed before its job runs; the job wrote nothing, so its claims
    go with it and the state, the run record and the manifest stay as the last good run left them:
    git sees no change after a rerun that fails the same way, and the report's last run is that run."""
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    (root / ".gitignore").write_text(readme_block("### What to commit", "gitignore"))
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "data", cwd=root)
    (raw / "cats" / "bad.jpg").write_bytes(b"not a picture")
    failed = augcli("run", root / "augment.yaml", raw, out)
    assert failed.returncode == 1 and "failed: cats/bad.jpg" in failed.stderr
    assert git("status", "--porcelain", cwd=root) == "?? data/raw/cats/bad.jpg\n"  # OUTPUT: nothing changed
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "a bad input", cwd=root)
    before = snapshot(out)  # ignored files too: the failure list and the cache are not rewritten
    again = augcli("run", root / "augment.yaml", raw, out)
    assert again.returncode == 1 and "failed: cats/bad.jpg" in again.stderr
    assert git("status", "--porcelain", cwd=root) == ""
    assert snapshot(out) == before
    assert not (out / ".augcli-journal.jsonl").exists()
    if importlib.util.find_spec("jinja2") is not None:
        from augcli.report import run_report

        summary = dict(run_report.build(out)["summary"])
        assert summary["last run that changed OUTPUT"].startswith("5 files in: 5 made (20 outputs), 0 up to date")


def test_every_reason_check_gives_for_outputs_is_the_true_one(tmp_path):
    """Each line --check prints, against the state that causes it; after the run it predicts,
    --check and verify agree that OUTPUT is current. A deleted output is made again, not
    "changed"; an empty INPUT folder is made; an edited dataset card becomes the user's file."""
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    recipe = root / "augment.yaml"

    def check(*lines: str) -> None:
        done = augcli("run", recipe, raw, out, "--check")
        assert done.returncode == (1 if lines else 0), done.stderr
        for line in lines:
            assert line in done.stderr, done.stderr

    def rerun() -> str:
        done = augcli("run", recipe, raw, out)
        assert done.returncode == 0, done.stderr
        check()
        assert augcli("verify", out).returncode == 0
        return done.stderr

    assert augcli("run", recipe, raw, out).returncode == 0
    check()
    (out / "cats" / "cat0_aug1.jpg").unlink()
    check("  0 outputs would be made\n", "  1 output would be made (missing): cats/cat0_aug1.jpg\n")
    check("  0 outputs would be changed\n")
    rerun()
    (out / "cats" / "cat0_aug1.jpg").write_bytes(b"edited")
    check("  1 output would be changed: cats/cat0_aug1.jpg\n")
    rerun()
    write_image(raw / "cats" / "cat9.jpg", gradient_rgb(seed=9), quality=90)
    check("  4 outputs would be made: cats/cat9.jpg, cats/cat9_aug0.jpg, cats/cat9_aug1.jpg, cats/cat9_aug2.jpg\n")
    rerun()
    (raw / "cats" / "cat9.jpg").unlink()
    check("  4 outputs would be deleted: cats/cat9.jpg, cats/cat9_aug0.jpg, cats/cat9_aug1.jpg, cats/cat9_aug2.jpg\n")
    rerun()
    (raw / "birds").mkdir()
    check("  1 empty folder would be made (as in INPUT, for class-folder loaders): birds\n")
    rerun()
    assert (out / "birds").is_dir()

    # a table beside manifest.csv: augcli's dataset card
    data, out = tmp_path / "tables", tmp_path / "tables-out"
    data.mkdir()
    (data / "t.tsv").write_text("x\tlabel\n1.5\ta\n2.5\tb\n")
    recipe = tmp_path / "table.yaml"
    recipe.write_text("seed: 1\ncopies: 1\ntabular:\n  label: label\n  transforms: [{gaussian_noise: {std: 0.1}}]\n")
    raw = data
    assert augcli("run", recipe, raw, out).returncode == 0
    card = (out / "README.md").read_bytes()
    (out / "README.md").unlink()
    check("  1 output would be made (missing): README.md\n")
    rerun()
    assert (out / "README.md").read_bytes() == card
    (out / "README.md").write_bytes(card + b"\nMy notes.\n")
    assert augcli("verify", out).returncode == 1  # a listed file changed: so --check must not say current
    check("  README.md (augcli's dataset card) was edited: a run leaves it to you, and manifest.csv stops listing it\n")
    said = rerun()
    assert "README.md (augcli's dataset card) was edited: it is yours now" in said
    assert (out / "README.md").read_bytes() == card + b"\nMy notes.\n"
    assert "README.md" not in (out / "manifest.csv").read_text()
    assert "it is yours now" not in rerun()  # said once


def test_a_report_written_elsewhere_leaves_output_as_the_run_left_it(tmp_path):
    """`augcli report OUTPUT -o FILE`: OUTPUT keeps every byte and mtime (a data version tool sees
    no change); with no -o the report is OUTPUT/report.html, as before."""
    pytest.importorskip("jinja2")
    root = project(tmp_path)
    raw, out = root / "data" / "raw", root / "data" / "augmented"
    assert augcli("run", root / "augment.yaml", raw, out).returncode == 0
    before, folder_mtime = snapshot(out), out.stat().st_mtime_ns
    elsewhere = tmp_path / "reports" / "augmented.html"
    elsewhere.parent.mkdir()
    done = augcli("report", out, "-o", elsewhere)
    assert done.returncode == 0 and f"augcli: report: {elsewhere}" in done.stderr, done.stderr
    assert "<html" in elsewhere.read_text().lower()
    assert snapshot(out) == before and out.stat().st_mtime_ns == folder_mtime
    assert augcli("report", out).returncode == 0 and (out / "report.html").is_file()


@pytest.mark.skipif(dvc_command() is None, reason="DVC is not installed (scripts/test.sh puts it in .venv-dvc)")
def test_dvc_sees_no_change_after_a_report_with_the_readmes_dvcignore(tmp_path):
    """The README's .dvcignore lists report.html: `augcli report OUTPUT` after `dvc repro` leaves
    `dvc status` clean, and so does a report written elsewhere with -o; a failed run's list of
    failures is ignored too."""
    pytest.importorskip("jinja2")
    dvc = dvc_command()
    root = project(tmp_path)
    (root / "dvc.yaml").write_text(readme_block("### With DVC", "yaml"))
    (root / ".dvcignore").write_text(readme_block("### With DVC", "text").split("\n", 1)[1])
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}

    def run(*args: object) -> str:
        done = subprocess.run([str(a) for a in args], cwd=root, capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    git("init", "-q", cwd=root)
    run(dvc, "init", "-q")
    run(dvc, "repro")
    out = root / "data" / "augmented"
    assert augcli("report", out).returncode == 0 and (out / "report.html").is_file()
    assert augcli("report", out, "-o", tmp_path / "report.html").returncode == 0
    (out / ".augcli-failures.csv").write_text('"source","error"\n')
    assert "up to date" in run(dvc, "status")


def test_padded_copy_names_of_a_version_4_output_are_remade_once_under_stable_names(tmp_path):
    """What docs/rebuilds.md ("Stable copy names") and the README promise: before state format 5,
    k was padded to the width of copies - 1 (`_aug00` with 11 copies). The first run of this
    version remakes those copies once under unpadded names and deletes the padded ones; the
    original stays untouched; the next run makes nothing."""
    data, out = tmp_path / "raw", tmp_path / "out"
    write_image(data / "cats" / "cat0.png", gradient_rgb(16, 12, seed=1))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("seed: 1\ncopies: 11\nimage:\n  transforms: [hflip]\n")
    assert augcli("run", recipe, data, out).returncode == 0
    state, lines = (
        json.loads((out / ".augcli-state.json").read_text()),
        json.loads((out / ".augcli-lines.json").read_text()),
    )

    def padded(path: str) -> str:
        return re.sub(r"_aug(\d+)\.", lambda m: f"_aug{int(m.group(1)):02d}.", path)

    old_units, old_lines = {}, {}
    for unit, record in state["units"].items():
        files = []
        for cell, _sha in record["files"]:
            (out / cell).rename(out / padded(cell))
            info = (out / padded(cell)).stat()
            files.append([padded(cell), info.st_size, info.st_mtime_ns])
            old_lines[padded(cell)] = lines[cell].replace(cell, padded(cell))
        old_units[padded(unit)] = {"key": record["key"], "files": files}
    (out / ".augcli").mkdir()
    (out / ".augcli" / "state.json").write_text(json.dumps({"version": 4, "units": old_units, "deaths": {}}))
    (out / ".augcli" / "lines.json").write_text(json.dumps(old_lines))
    for name in ("state.json", "lines.json", "run.json", "cache.json"):
        (out / f".augcli-{name}").unlink()
    original = (out / "cats" / "cat0.png").stat().st_mtime_ns
    assert sorted(p.name for p in (out / "cats").iterdir())[:3] == ["cat0.png", "cat0_aug00.png", "cat0_aug01.png"]

    first = augcli("run", recipe, data, out)
    assert first.returncode == 0 and "1 made (10 outputs), 10 removed" in first.stderr, first.stderr  # _aug10 kept
    names = sorted(p.name for p in (out / "cats").iterdir())
    assert names == sorted(["cat0.png", *(f"cat0_aug{k}.png" for k in range(11))])
    assert (out / "cats" / "cat0.png").stat().st_mtime_ns == original
    again = augcli("run", recipe, data, out)
    assert again.returncode == 0 and "0 made (0 outputs), 0 removed" in again.stderr
