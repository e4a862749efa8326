"""Each peer library in an environment of its own, made by the benchmark that needs it.

A peer measured inside augcli's venv pays for whatever else lies there: nlpaug's word augmenters
import torch whenever it is importable, which turned a 2 s run into 8 s. So every benchmark runs
its peer in a venv holding only the peer and what the comparison script imports, made here on first
use (under benchmarks/work/venvs/, one per requirement list) and reused after. numpy, OpenCV and
Pillow are pinned to the versions of the interpreter running the benchmark, so both sides call the
same builds of the kernels they share.

    from peers import peer_python
    python = peer_python("nlpaug")  # the venv's interpreter, made the first time (pip, from PyPI)

`--peer-python PATH` on a benchmark still takes an interpreter of the user's own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

VENVS = Path(__file__).resolve().parent / "work" / "venvs"
READY = "augcli-peer-ready"  # written last: a venv whose install was cut short is made again

# What each peer's benchmark imports, at the versions the published tables were measured with.
_X86 = platform.machine() == "x86_64"  # the pairs that install on this project's machines
_TORCH = ("torch==2.14.1", "torchvision==0.29.1") if _X86 else ("torch==2.9.1", "torchvision==0.24.1")
PEERS: dict[str, tuple[str, ...]] = {
    "albumentations": ("albumentations==2.0.8", "numpy", "opencv-python-headless", "pillow"),
    "augmentor": ("Augmentor", "numpy", "pillow"),
    "nlpaug": ("nlpaug==1.1.11", "numpy", "pandas"),
    "audiomentations": (
        "audiomentations==0.43.*",
        "numpy",
        "numpy-audio-limiter",
        "soundfile",
        "fast-mp3-augment",
        "pyroomacoustics",
    ),
    "torchvision": (*_TORCH, "kornia==0.9.0", "numpy", "pillow"),  # Kornia shares torchvision's torch
    "scikit-image": ("scikit-image", "numpy", "pillow"),
    # augly.video imports augly.audio, which imports torch and torchaudio's sox_effects (gone after 2.8)
    "augly": ("augly[video]", "torch==2.8.*", "torchaudio==2.8.*", "vidgear<0.3"),
}
_SHARED = ("numpy", "opencv-python-headless", "pillow")  # pinned to this interpreter's own versions


def requirements(peer: str) -> list[str]:
    """The peer's requirement lines, each shared kernel library pinned to the version here."""
    lines = []
    for requirement in PEERS[peer]:
        if requirement in _SHARED:
            with contextlib.suppress(metadata.PackageNotFoundError):
                requirement = f"{requirement}=={metadata.version(requirement)}"
        lines.append(requirement)
    return lines


def venv_folder(peer: str) -> Path:
    """Where the peer's venv lives: named by its requirements, so a changed list makes a new one."""
    wanted = "\n".join([platform.python_version(), *requirements(peer)])
    return VENVS / f"{peer}-{hashlib.sha256(wanted.encode()).hexdigest()[:10]}"


def peer_python(peer: str, quiet: bool = False) -> str:
    """The interpreter of the peer's own venv, made and filled on first use (one benchmark at a
    time: another that wants it meanwhile waits, then uses it)."""
    folder = venv_folder(peer)
    python = folder / "bin" / "python"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ((folder / READY).is_file() and python.is_file()):
            _make(peer, folder, python, quiet)
    return str(python)


def _make(peer: str, folder: Path, python: Path, quiet: bool) -> None:
    lines = requirements(peer)
    if not quiet:
        print(f"{peer}: making its own venv {folder} ({', '.join(lines)}); once", file=sys.stderr)
    # the base interpreter, not this venv's: nothing of augcli's environment leaks into the peer's
    base = getattr(sys, "_base_executable", sys.executable)
    pip = [str(python), "-m", "pip"]
    if _run([base, "-m", "venv", "--clear", str(folder)], peer, fatal=False) is not None:
        # no ensurepip (Debian's python3 without python3-venv): a venv without pip, filled by this pip
        _run([base, "-m", "venv", "--clear", "--without-pip", str(folder)], peer)
        pip = [sys.executable, "-m", "pip", "--python", str(python)]
    if lines:
        _run([*pip, "install", "--quiet", "--disable-pip-version-check", *lines], peer)
    (folder / READY).write_text("\n".join(lines) + "\n")


def _run(command: list[str], peer: str, fatal: bool = True) -> str | None:
    """Run a set-up command; its error's last lines, or (when `fatal`) SystemExit saying what to do."""
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    if done.returncode == 0:
        return None
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
    if not fatal:
        return tail
    raise SystemExit(
        f"{peer}: could not make its venv ({' '.join(command)} exited {done.returncode}):\n{tail}\n"
        f"pass --peer-python with an interpreter that has {peer}, or fix the cause and run again"
    )


def resolve(given: str | None, peer: str) -> str:
    """`--peer-python` when the user gave one, else the peer's own venv (made on first use)."""
    return given or peer_python(peer)
