"""The documentation a user reads: a short README whose links all resolve, and references that are
generated from the declarations and current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from augcli import docs
from augcli.core.modalities import MODALITIES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def embedded(page: Path, name: str) -> str:
    text = page.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    return text[text.index(start) + len(start) : text.index(end)].strip()


def test_the_readme_reads_in_ten_minutes():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 400


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)):
            broken.append(target)
    assert broken == []


def test_the_generated_references_are_current():
    modalities = list(MODALITIES)
    stale = "stale: run python scripts/update_readme.py"
    assert embedded(ROOT / "README.md", "index") == docs.markdown_index(modalities).strip(), stale
    assert embedded(ROOT / "docs" / "reference.md", "transforms") == docs.markdown_reference(modalities).strip(), stale
    assert embedded(ROOT / "docs" / "recipe.md", "keys") == docs.markdown_keys(modalities).strip(), stale


@pytest.mark.parametrize("page", ["README.md", "docs/output.md"])
def test_the_manifest_and_recipe_docs_name_every_modality(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    column = re.search(r"^\| `modality` \| (.*) \|$", text, re.M)
    assert column, f"{page}: no modality row in the manifest's table"
    assert re.findall(r"`(\w+)`", column.group(1)) == list(MODALITIES)
    if page == "README.md":
        comment = re.search(r"# one section per modality: (.*)$", text, re.M)
        assert comment and comment.group(1).split(", ") == list(MODALITIES)


HISTORY = ("issue", "target", "Before,", "before them", "(was ", "was 0.", "morning", "afternoon", "Again on", "tried")


def test_the_benchmarks_are_dated_tables_without_history():
    text = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert [word for word in HISTORY if word.lower() in text.lower()] == []
    for section in text.split("\n## ")[1:]:
        heading = section.splitlines()[0]
        assert "`python benchmarks/" in heading, f"{heading}: name the command that made it"
        assert re.search(r"Measured\s+20\d\d-\d\d-\d\d", section), f"{heading}: date the measurement"
        assert "\n|---" in section, f"{heading}: a table"


def test_the_test_command_says_how_to_pick_torch():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.endswith("| `bash scripts/test.sh` |"))
    assert "`TORCH_SPEC`" in row
    assert 'TORCH_SPEC="torch==' in readme and "TORCH_SPEC" in (ROOT / "scripts" / "setup_venv.sh").read_text()


FAKE_PYTHON = """#!/usr/bin/env bash
# A stand-in interpreter: `-m venv DIR` makes DIR/bin/python (this script), `-m pip install` logs
# its arguments, `-m pip freeze` prints every NAME==VERSION the log holds.
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0; fi
if [ "$1 $2 $3" = "-m pip install" ]; then echo "${*:4}" >> "$FAKE_LOG"; exit 0; fi
if [ "$1 $2 $3" = "-m pip freeze" ]; then
  grep -o '[A-Za-z0-9_.-]*==[0-9][0-9A-Za-z.+]*' "$FAKE_LOG" | sort -u; exit 0
fi
exit 1
"""


def test_lock_installs_every_pin_setup_venv_installs(tmp_path):
    """scripts/lock.sh, run with a stand-in pip in a copy of the scripts: it installs the ultralytics
    scripts/setup_venv.sh pins (without its dependencies, as there), so a refresh keeps its line in
    constraints.txt, and TORCH_SPEC may carry options."""
    import shutil
    import subprocess

    (tmp_path / "scripts").mkdir()
    for name in ("lock.sh", "setup_venv.sh"):
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / "pip.log"
    spec = "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
    env = {"PATH": "/usr/bin:/bin", "PYTHON": str(fake), "FAKE_LOG": str(log), "TORCH_SPEC": spec}
    done = subprocess.run(["bash", "scripts/lock.sh"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    installs = [line.removeprefix("--quiet --disable-pip-version-check ") for line in log.read_text().splitlines()]
    pinned = re.search(r"ultralytics==[0-9.]+", (ROOT / "scripts" / "setup_venv.sh").read_text()).group(0)
    assert f"--no-deps {pinned}" in installs
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in installs
    locked = (tmp_path / "constraints.txt").read_text().splitlines()
    assert pinned in locked and pinned in (ROOT / "constraints.txt").read_text().splitlines()


def test_the_rebuild_docs_say_content_decides_and_when_copy_names_lost_their_padding():
    """docs/rebuilds.md defined "up to date" by size and mtime after content became the rule; the
    unpadded copy names came with state format 5, whose first run remakes padded copies once."""
    rebuilds = (ROOT / "docs" / "rebuilds.md").read_text()
    up_to_date = rebuilds.split("- **Up to date** means:", 1)[1].split("\n- **", 1)[0]
    assert "sha256" in up_to_date and "size and modification time it was written with" not in up_to_date
    for page in (ROOT / "README.md", ROOT / "docs" / "rebuilds.md", ROOT / "docs" / "output.md"):
        text = " ".join(page.read_text().split())
        assert "state format 5" in text and "_aug00" in text, page


def test_the_readme_names_every_runtime_dependency():
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    paragraph = (ROOT / "README.md").read_text(encoding="utf-8").split("Runtime dependencies:", 1)[1].split("\n\n")[0]
    named = " ".join(paragraph.split()).lower()
    for requirement in declared:
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower()
        assert name in named, f"{name} is a runtime dependency the README does not name"
