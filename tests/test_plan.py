"""The walk and the plan: globs, names, conflicts, symlinks."""

from __future__ import annotations

import os

import pytest

from augcli.build.plan import PlanError, build_plan, copy_name, walk
from augcli.core.globs import matches
from augcli.core.recipe import parse_recipe


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def recipe(copies=2, keep=True, extra=""):
    return parse_recipe(f"copies: {copies}\nkeep_original: {str(keep).lower()}\nimage:\n  transforms: [hflip]\n{extra}")


def test_globs_match_names_case_insensitively_or_paths_when_they_hold_a_slash():
    assert matches("cats/A.JPG", ("*.jpg",))
    assert not matches("cats/a.jpg.txt", ("*.jpg",))
    assert matches("train/cats/a.png", ("train/*",)) and not matches("val/cats/a.png", ("train/*",))


def test_globs_compiled_together_match_as_fnmatch_one_by_one():
    """The patterns of a tuple are compiled into one expression (a file is matched once per
    section, not once per pattern): the answers are fnmatch's, pattern by pattern, lowered."""
    import fnmatch
    import random

    def one_by_one(relative: str, patterns: tuple[str, ...]) -> bool:
        name, lowered = relative.rsplit("/", 1)[-1].lower(), relative.lower()
        return any(fnmatch.fnmatchcase(lowered if "/" in p else name, p.lower()) for p in patterns)

    draw = random.Random(3)
    for _ in range(20_000):
        patterns = tuple("".join(draw.choices("aB/.*?[]!-x1^$()|+{}é", k=draw.randint(0, 6))) for _ in range(3))
        relative = "".join(draw.choices("aB/.x1-é[]!", k=draw.randint(1, 10)))
        assert matches(relative, patterns) == one_by_one(relative, patterns), (relative, patterns)


def test_copy_names_depend_on_the_index_only():
    assert copy_name("a/b.jpg", 3, ".jpg") == "a/b_aug3.jpg"
    assert copy_name("a/b.jpg", 10, ".png") == "a/b_aug10.png"
    assert copy_name("b.tar.jpg", 0, ".jpg") == "b.tar_aug0.jpg"


def test_plan_mirrors_the_tree_and_counts_unclaimed_files(tmp_path):
    touch(tmp_path / "cats" / "a.jpg")
    touch(tmp_path / "dogs" / "deep" / "b.PNG")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / ".hidden" / "c.jpg")
    plan = build_plan(recipe(), tmp_path)
    assert [job.relative for job in plan.jobs] == ["cats/a.jpg", "dogs/deep/b.PNG"]
    assert [o.path for o in plan.jobs[1].outputs] == ["dogs/deep/b.PNG", "dogs/deep/b_aug0.PNG", "dogs/deep/b_aug1.PNG"]
    assert plan.unclaimed == ["notes.txt"] and plan.output_count == 6


def test_exclude_and_keep_original_false(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "skip_me.jpg")
    plan = build_plan(recipe(copies=1, keep=False, extra='  exclude: ["skip_*"]\n'), tmp_path)
    assert [[o.path for o in j.outputs] for j in plan.jobs] == [["a_aug0.jpg"]]
    assert plan.unclaimed == ["skip_me.jpg"]


def test_two_inputs_that_would_write_the_same_output_are_a_plan_error(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "a.png")
    with pytest.raises(PlanError, match=r"a\.png and a\.jpg would both write a_aug0\.png"):
        build_plan(recipe(extra="  output: {format: png}\n"), tmp_path)
    touch(tmp_path / "x" / "b.jpg")
    touch(tmp_path / "x" / "b_aug0.jpg")
    with pytest.raises(PlanError, match=r"would both write x/b_aug0\.jpg"):
        build_plan(recipe(), tmp_path)


def test_symlink_loops_end_and_linked_folders_are_walked_once(tmp_path):
    touch(tmp_path / "real" / "a.jpg")
    os.symlink(tmp_path / "real", tmp_path / "real" / "loop")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    found = [relative for _, relative in walk(tmp_path)]
    assert found == ["alias/a.jpg"]  # 'alias' sorts first; 'real' and 'loop' are the same folder


def test_a_symlinked_file_is_read_through_the_link(tmp_path):
    touch(tmp_path / "store" / "a.jpg")
    os.symlink(tmp_path / "store" / "a.jpg", tmp_path / "link.jpg")
    assert [relative for _, relative in walk(tmp_path)] == ["link.jpg", "store/a.jpg"]


def test_the_collector_is_held_while_tables_are_built_and_left_as_found():
    import gc

    from augcli.build import collector

    assert gc.isenabled()
    with collector.held():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.held():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
