"""The benchmarks' peers run in venvs of their own (benchmarks/peers.py), never in augcli's."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import peers


@pytest.fixture
def venvs(tmp_path, monkeypatch):
    monkeypatch.setattr(peers, "VENVS", tmp_path / "venvs")
    return tmp_path / "venvs"


def test_shared_kernel_libraries_are_pinned_to_this_interpreters_versions():
    lines = peers.requirements("albumentations")
    assert lines[0] == "albumentations==2.0.8"
    assert f"numpy=={metadata.version('numpy')}" in lines
    assert f"opencv-python-headless=={metadata.version('opencv-python-headless')}" in lines
    assert f"pillow=={metadata.version('pillow')}" in lines
    assert "pandas" in peers.requirements("nlpaug")  # not a shared kernel library: left to pip


def test_a_changed_requirement_list_gets_a_venv_of_its_own(venvs, monkeypatch):
    before = peers.venv_folder("nlpaug")
    assert before.parent == venvs and before.name.startswith("nlpaug-")
    monkeypatch.setitem(peers.PEERS, "nlpaug", ("nlpaug==1.1.10", "numpy"))
    assert peers.venv_folder("nlpaug") != before


def test_a_ready_venv_is_reused_without_running_anything(venvs, monkeypatch):
    folder = peers.venv_folder("nlpaug")
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").write_text("")
    (folder / peers.READY).write_text("")

    def refuse(*args, **kwargs):
        raise AssertionError("nothing should run for a ready venv")

    monkeypatch.setattr(peers.subprocess, "run", refuse)
    assert peers.peer_python("nlpaug") == str(folder / "bin" / "python")
    assert peers.resolve("/my/python", "nlpaug") == "/my/python"


def test_the_peer_venv_holds_nothing_of_augclis(venvs, monkeypatch):
    monkeypatch.setitem(peers.PEERS, "bare", ())
    python = peers.peer_python("bare", quiet=True)
    assert Path(python).parent.parent.parent == venvs and (Path(python).parent.parent / peers.READY).is_file()
    probe = subprocess.run([python, "-c", "import numpy"], capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'numpy'" in probe.stderr  # augcli's venv has it


def test_a_venv_that_cannot_be_filled_says_what_to_do_and_is_not_kept_as_ready(venvs, monkeypatch, tmp_path):
    monkeypatch.setitem(peers.PEERS, "broken", (str(tmp_path / "no-such-package-folder"),))
    with pytest.raises(SystemExit) as failed:
        peers.peer_python("broken", quiet=True)
    assert "broken: could not make its venv" in str(failed.value) and "--peer-python" in str(failed.value)
    assert not (peers.venv_folder("broken") / peers.READY).exists()


def test_no_benchmark_runs_its_peer_in_augclis_interpreter_by_default():
    """(bench_online.py times both data loaders in one torch process, by design: its docstring says so.)"""
    folder = Path(peers.__file__).parent
    for script in sorted({*folder.glob("bench_*.py"), *folder.glob("check_*.py")} - {folder / "bench_online.py"}):
        text = script.read_text()
        assert "/tmp/venv-" not in text, f"{script.name} defaults to a hand-made venv"
        assert '"--peer-python", default=sys.executable' not in text, script.name
        if "--peer-python" in text or '-python"' in text:
            assert "from peers import resolve" in text, f"{script.name} does not make its peer's venv"


def test_without_ensurepip_the_venv_is_filled_by_this_interpreters_pip(venvs, monkeypatch):
    """Debian's python3 without python3-venv cannot put pip in a venv: the venv is made without
    it and this interpreter's pip installs into it (`pip --python`)."""
    monkeypatch.setitem(peers.PEERS, "nopip", ("somepeer==1.0",))
    real_run, commands = peers._run, []

    def run(command, peer, fatal=True):
        commands.append(command)
        if "venv" in command and "--without-pip" not in command:
            return "Error: Command '[...ensurepip...]' returned non-zero exit status 1."
        if "install" in command:
            return None  # what pip would have done: not fetched here
        return real_run(command, peer, fatal)

    monkeypatch.setattr(peers, "_run", run)
    python = peers.peer_python("nopip", quiet=True)
    install = next(c for c in commands if "install" in c)
    assert install[:5] == [sys.executable, "-m", "pip", "--python", python] and install[-1] == "somepeer==1.0"
    assert not (Path(python).parent / "pip").exists() and (Path(python).parent.parent / peers.READY).is_file()


def test_a_venv_being_made_is_waited_for_not_made_twice(venvs):
    """Two benchmarks started together: the second waits on the first's lock, then finds it ready."""
    import fcntl
    import threading

    folder = peers.venv_folder("nlpaug")
    folder.parent.mkdir(parents=True)
    answers: list[str] = []
    with open(folder.parent / f"{folder.name}.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a benchmark making the venv holds it
        waiting = threading.Thread(target=lambda: answers.append(peers.peer_python("nlpaug")))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not answers  # waits: it does not start a second venv beside
        (folder / "bin").mkdir(parents=True)
        (folder / "bin" / "python").write_text("")
        (folder / peers.READY).write_text("")
    waiting.join(10)
    assert answers == [str(folder / "bin" / "python")]
