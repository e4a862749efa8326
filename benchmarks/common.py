"""What every benchmark shares: the work folder, augcli as a subprocess, interleaved rounds, the table."""

from __future__ import annotations

import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

WORK = Path(__file__).resolve().parent / "work"


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def run_augcli(recipe_text: str, inputs: Path, workers: int, name: str = "recipe.yaml") -> float:
    """augcli end to end as a subprocess (start-up included); seconds."""
    WORK.mkdir(parents=True, exist_ok=True)
    recipe = WORK / name
    recipe.write_text(recipe_text)
    out = WORK / f"out_augcli_{workers}"
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "augcli", "run", str(recipe), str(inputs), str(out), "-q"]
    started = time.perf_counter()
    subprocess.run([*command, "--workers", str(workers)], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_per_file(
    name: str,
    job: Callable[[tuple[str, str, int]], int],
    paths: list[Path],
    copies: int,
    workers: int,
    initializer: Callable[[], None] | None = None,
) -> float:
    """A peer's per-file job over a forkserver pool of `workers`, outputs under WORK/out_<name>; seconds.

    The initializer runs once here first: a pool whose initializer raises (the peer is not installed)
    respawns its workers for ever instead of failing."""
    if initializer is not None:
        initializer()
    out = fresh(WORK / f"out_{name}")
    started = time.perf_counter()
    with multiprocessing.get_context("forkserver").Pool(workers, initializer=initializer) as pool:
        sum(pool.imap_unordered(job, [(str(p), str(out), copies) for p in paths]))
    return time.perf_counter() - started


SPREAD: dict[str, tuple[float, float]] = {}  # each tool's fastest and slowest round, for the table


def fastest_of(tools: dict[str, Callable[[], float]], repeat: int) -> dict[str, float]:
    """Rounds of every tool in turn, keeping each tool's fastest: load on a shared machine drifts,
    and interleaving spreads the drift over all tools instead of favouring whichever ran first."""
    rounds: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name, run in tools.items():
            rounds[name].append(run())
    SPREAD.clear()
    SPREAD.update({name: (min(times), max(times)) for name, times in rounds.items()})
    return {name: min(times) for name, times in rounds.items()}


def run_peer_process(script: str, peer: str, *args: object, python: str | None = None) -> float:
    """A peer timed as a whole process (interpreter start-up and imports included), as augcli is;
    `python`: the interpreter of the peer's own environment (default: this one)."""
    command = [python or sys.executable, script, "--peer", peer, *map(str, args)]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def default_workers() -> int:
    return len(os.sched_getaffinity(0))


def print_table(results: dict[str, float], work: float, unit: str, reference_prefix: str, repeat: int) -> None:
    """A Markdown table: seconds, `unit` per second (`work` units in total) and the ratio to the reference."""
    reference = next((v for k, v in results.items() if k.startswith(reference_prefix)), None)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"each tool: fastest of {repeat} interleaved rounds\n")
    print(f"| tool | seconds | {unit}/s | vs {reference_prefix} | spread of rounds |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds in results.items():
        ratio = f"{reference / seconds:.2f}x" if reference else "-"
        low, high = SPREAD.get(name, (seconds, seconds))
        print(f"| {name} | {seconds:.2f} | {work / seconds:.0f} | {ratio} | {low:.2f}-{high:.2f} s |")


PEAK_RSS_MB: dict[str, float] = {}


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM of one process (its own peak resident memory, workers not included)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def timed(*args: str, name: str = "", expect: int | None = None) -> float:
    """Seconds for one augcli process; its main process's peak memory goes to PEAK_RSS_MB[name]."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "augcli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _peak_rss_mb(proc.pid) or 0.0)
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    _, stderr = proc.communicate()
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and "--check" not in args):
        raise SystemExit(stderr)
    if expect is not None and proc.returncode != expect:
        raise SystemExit(f"exit {proc.returncode}, expected {expect}: {stderr}")
    if name:
        PEAK_RSS_MB[name] = max(PEAK_RSS_MB.get(name, 0.0), peak)
    return elapsed
