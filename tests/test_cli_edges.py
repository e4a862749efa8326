"""The command line's words: help in the order a user meets the commands, whole sentences, an
example; counts with their nouns in the right number; the settings a recipe left at their defaults."""

from __future__ import annotations

import re

import pytest

from augcli.build.runner import Summary, plural
from tests.conftest import gradient_rgb, write_image
from tests.test_cli import invoke

ORDER = ["run", "validate", "preview", "verify", "replay", "report", "merge", "transforms"]
BARE = "image:\n  transforms: [hflip]\n"  # no seed, copies or keep_original: all at their defaults


def commands_listed(help_text: str) -> list[tuple[str, str]]:
    """(name, short help) of each command in `augcli --help`."""
    block = help_text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [tuple(line.split(None, 1)) for line in block.splitlines() if line.strip()]


# --- help ------------------------------------------------------------------------------------------


def test_help_lists_run_first_each_command_in_one_whole_sentence_and_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    listed = commands_listed(result.output)
    assert [name for name, _ in listed] == ORDER
    for name, text in listed:
        assert "..." not in text and text.endswith(".") and text[0].isupper(), (name, text)
    assert "augcli run augment.yaml data/raw data/augmented" in result.output
    assert result.output.index("Commands:") < result.output.index("Example:")


def test_replay_usage_shows_its_row_is_optional():
    result = invoke("replay", "--help")
    assert result.exit_code == 0
    assert re.search(r"Usage: .* replay \[OPTIONS\] OUTPUT \[ROW-OR-PATH\]\n", result.output), result.output


def test_replay_says_a_row_and_all_are_exclusive(tmp_path):
    data = tmp_path / "in"
    data.mkdir()
    (data / "a.txt").write_text("the cat sat on the mat\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("text:\n  transforms: [random_swap]\n")
    assert invoke("run", recipe, data, tmp_path / "out", "-q").exit_code == 0
    both = invoke("replay", tmp_path / "out", "1", "--all")
    assert both.exit_code == 2 and "augcli: error: give ROW-OR-PATH or --all, not both" in both.stderr
    neither = invoke("replay", tmp_path / "out")
    assert (
        neither.exit_code == 2
        and "give ROW-OR-PATH (a row number from 1, or an output's path) or --all" in neither.stderr
    )


# --- counts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "word", "many", "said"),
    [
        (0, "file", None, "0 files"),
        (1, "file", None, "1 file"),
        (2, "copy", "copies", "2 copies"),
        (1, "copy", "copies", "1 copy"),
        (12345, "row", None, "12,345 rows"),
    ],
)
def test_plural(count, word, many, said):
    assert plural(count, word, many) == said


def test_the_summary_line_says_1_file_and_1_output():
    line = Summary(files=1, made=1, written=1, seconds=0.25).line()
    assert line == "augcli: 1 file in: 0 up to date, 1 made (1 output), 0 removed, 0 failed, 0.2 s"
    assert Summary(files=2, current=2).line().startswith("augcli: 2 files in: 2 up to date, 0 made (0 outputs)")


def test_a_run_of_one_file_counts_in_the_singular(tmp_path):
    write_image(tmp_path / "in" / "a.png", gradient_rgb(16, 12))
    recipe = tmp_path / "r.yaml"
    recipe.write_text("keep_original: false\n" + BARE)
    out = tmp_path / "out"
    dry = invoke("run", recipe, tmp_path / "in", out, "--dry-run")
    assert "plan: 1 file (image: 1), 1 output, 0 skipped" in dry.output
    result = invoke("run", recipe, tmp_path / "in", out)
    assert result.exit_code == 0, result.output
    # the copy and a dataset card: one .png beside manifest.csv draws with it, and datasets would read the csv
    assert "augcli: 1 file in: 0 up to date, 1 made (2 outputs), 0 removed, 0 failed, " in result.stderr
    assert "augcli: 2 files checked: 0 missing, 0 modified, 0 unlisted" in invoke("verify", out).stderr
    assert "(1 file in)" in invoke("run", recipe, tmp_path / "in", out, "--check").stderr
    replayed = invoke("replay", out, "--all")
    assert "augcli: 2 rows replayed: 2 identical, 0 differ" in replayed.stderr
    (out / "a_aug0.png").write_bytes(b"edited")
    assert "  1 output would be changed: a_aug0.png" in invoke("run", recipe, tmp_path / "in", out, "--check").stderr


def test_an_invalid_recipe_counts_its_problems(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("image:\n  transforms: [rotat]\n")
    assert "augcli: invalid recipe (1 problem):" in invoke("validate", recipe).stderr
    recipe.write_text("copies: -1\nimage:\n  transforms: [rotat]\n")
    assert "augcli: invalid recipe (2 problems):" in invoke("validate", recipe).stderr


# --- the settings a recipe left at their defaults --------------------------------------------------


def test_validate_names_the_defaults_it_applied(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(BARE)
    result = invoke("validate", recipe)
    assert result.exit_code == 0
    assert result.output == (
        f"{recipe}: valid (image: 1 transform)\n  seed: 0 (default)\n  copies: 1 (default)\n"
        "  keep_original: true (default)\n"
    )
    recipe.write_text("seed: 5\ncopies: 3\nkeep_original: false\n" + BARE)
    assert invoke("validate", recipe).output.splitlines()[1:] == ["  seed: 5", "  copies: 3", "  keep_original: false"]


def test_a_run_and_its_plan_say_copies_is_the_default(tmp_path):
    write_image(tmp_path / "in" / "a.png", gradient_rgb(16, 12))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(BARE)
    dry = invoke("run", recipe, tmp_path / "in", tmp_path / "out", "--dry-run")
    assert "\n  seed: 0 (default), copies: 1 (default), keep_original: true (default)\n" in dry.output
    chosen = invoke("run", recipe, tmp_path / "in", tmp_path / "out", "--dry-run", "--copies", "2", "--seed", "3")
    assert "\n  seed: 3 (--seed), copies: 2 (--copies), keep_original: true (default)\n" in chosen.output
    result = invoke("run", recipe, tmp_path / "in", tmp_path / "out")
    assert result.exit_code == 0 and result.stderr.startswith("augcli: copies: 1 (default)\n"), result.stderr
    again = invoke("run", recipe, tmp_path / "in", tmp_path / "out2", "--copies", "1")
    assert again.exit_code == 0 and "(default)" not in again.stderr
