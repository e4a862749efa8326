"""A random history of edits, runs and killed runs: after every completed run OUTPUT equals a clean
run of the current inputs and recipe, and no output of an unchanged input was rewritten."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.conftest import gradient_rgb, write_image
from tests.test_cli import invoke, read_manifest, tree_digest
from tests.test_rebuild import stamps

RECIPES = [
    "seed: 1\ncopies: 2\nimage:\n  transforms:\n    - rotate: {degrees: 10}\ntext:\n  transforms: [eda]\n",
    "seed: 1\ncopies: 3\nimage:\n  transforms:\n    - rotate: {degrees: 10}\ntext:\n  transforms: [eda]\n",
    "seed: 2\ncopies: 2\nimage:\n  transforms:\n    - hflip\n    - brightness\ntext:\n  transforms: [eda]\n",
    "seed: 1\ncopies: 2\nkeep_original: false\nimage:\n  transforms:\n    - rotate: {degrees: 10}\n",
]
SENTENCES = ["The small red fox runs fast.", "Bright stars shine over the quiet sea.", "A lazy dog sleeps all day."]


class RebuildMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="augcli-stateful-"))
        self.data, self.out, self.recipe = self.root / "in", self.root / "out", self.root / "recipe.yaml"
        self.dirty: set[str] = set()  # inputs changed since the last completed run
        self.recipe_changed = False
        self.last: dict[str, tuple[int, int]] = {}
        self.last_bytes: dict[str, bytes] = {}  # outputs made from the whole set (the dataset card)
        self.counter = 0

    @initialize(recipe=st.sampled_from(range(len(RECIPES))))
    def start(self, recipe: int) -> None:
        self.recipe.write_text(RECIPES[recipe])
        for i in range(3):
            self._write(f"c{i % 2}/img{i}.png", i)
        (self.data / "notes.txt").write_text(SENTENCES[0] + "\n")

    def _write(self, relative: str, seed: int) -> None:
        if relative.endswith(".png"):
            write_image(self.data / relative, gradient_rgb(24, 16, seed=seed))
        else:
            (self.data / relative).parent.mkdir(parents=True, exist_ok=True)
            (self.data / relative).write_text(SENTENCES[seed % len(SENTENCES)] + "\n")
        self.dirty.add(relative)

    def _inputs(self) -> list[str]:
        return sorted(p.relative_to(self.data).as_posix() for p in self.data.rglob("*") if p.is_file())

    @rule(kind=st.sampled_from(["png", "txt"]), folder=st.sampled_from(["c0", "c1", "new"]))
    def add_input(self, kind: str, folder: str) -> None:
        self.counter += 1
        self._write(f"{folder}/added{self.counter}.{kind}", self.counter + 10)

    @rule(pick=st.integers(0, 100), seed=st.integers(20, 40))
    def modify_input(self, pick: int, seed: int) -> None:
        inputs = self._inputs()
        if inputs:
            self._write(inputs[pick % len(inputs)], seed)

    @rule(pick=st.integers(0, 100))
    def delete_input(self, pick: int) -> None:
        inputs = self._inputs()
        if len(inputs) > 1:
            relative = inputs[pick % len(inputs)]
            (self.data / relative).unlink()
            self.dirty.add(relative)

    @rule(recipe=st.sampled_from(range(len(RECIPES))))
    def edit_recipe(self, recipe: int) -> None:
        if self.recipe.read_text() != RECIPES[recipe]:
            self.recipe.write_text(RECIPES[recipe])
            self.recipe_changed = True

    @rule(delay=st.floats(0.3, 1.5), seed=st.integers(0, 1000))
    def killed_run(self, delay: float, seed: int) -> None:
        command = [sys.executable, "-m", "augcli", "run", str(self.recipe), str(self.data), str(self.out), "-q"]
        proc = subprocess.Popen(
            [*command, "--workers", str(random.Random(seed).choice([1, 2]))],
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    @rule(workers=st.sampled_from(["1", "2"]))
    def run(self, workers: str) -> None:
        result = invoke("run", self.recipe, self.data, self.out, "--workers", workers, "--allow-empty")
        assert result.exit_code == 0, result.output
        now = stamps(self.out)
        if not self.recipe_changed:
            sources = {row["output"]: row["source"] for row in read_manifest(self.out)}
            for path, stamp in now.items():
                source = sources.get(path)
                if path in self.last and source == "":  # the dataset card: rewritten only when its bytes change
                    same = (self.out / path).read_bytes() == self.last_bytes.get(path)
                    assert not same or stamp == self.last[path], f"{path} was rewritten with the same bytes"
                elif path in self.last and source is not None and source not in self.dirty:
                    assert stamp == self.last[path], f"{path} was rewritten though {source} did not change"
        clean = self.root / "clean"
        shutil.rmtree(clean, ignore_errors=True)
        assert invoke("run", self.recipe, self.data, clean, "--workers", "1", "--allow-empty").exit_code == 0
        assert tree_digest(self.out) == tree_digest(clean)
        assert invoke("run", self.recipe, self.data, self.out, "--check", "--allow-empty").exit_code == 0
        self.last, self.dirty, self.recipe_changed = now, set(), False
        self.last_bytes = {
            row["output"]: (self.out / row["output"]).read_bytes()
            for row in read_manifest(self.out)
            if row["source"] == ""
        }

    @invariant()
    def input_untouched_by_output(self) -> None:
        assert not list(self.data.rglob(".augcli*"))

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


RebuildMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRebuildHistory = RebuildMachine.TestCase


def test_a_seeded_history_with_kills_always_rebuilds_to_a_clean_run():
    """The same machine driven by a fixed random history, so every CI run exercises several kills
    mid-run (hypothesis alone favours short histories)."""
    for seed in (3, 11):
        rand = random.Random(seed)
        machine = RebuildMachine()
        try:
            machine.start(rand.randrange(len(RECIPES)))
            machine.run("2")
            for step in range(12):
                action = rand.choice(["add", "modify", "delete", "recipe", "kill", "kill", "run"])
                if action == "add":
                    machine.add_input(rand.choice(["png", "txt"]), rand.choice(["c0", "c1", "new"]))
                elif action == "modify":
                    machine.modify_input(rand.randrange(100), rand.randrange(20, 40))
                elif action == "delete":
                    machine.delete_input(rand.randrange(100))
                elif action == "recipe":
                    machine.edit_recipe(rand.randrange(len(RECIPES)))
                elif action == "kill":
                    machine.killed_run(rand.uniform(0.6, 1.6), step)
                else:
                    machine.run(rand.choice(["1", "2"]))
            machine.run("2")
        finally:
            machine.teardown()
