"""Text benchmark: augcli's EDA against nlpaug's word augmenters on the same sentences and cores.

Workload (issue #4): 20,000 sentences in one CSV (id, text, label), 4 copies each, `eda` with
alpha 0.1. The peer is nlpaug's RandomWordAug (swap or delete at random per copy, aug_p 0.1) in a
process pool of the same size, reading and writing the CSV with the csv module. (nlpaug's
SynonymAug needs NLTK's part-of-speech tagger data, which cannot be downloaded here, so synonyms
are not compared.) nlpaug runs in a venv of its own (nlpaug, numpy, pandas; no torch, which its
word augmenters import whenever it is importable), made by the benchmark on first use
(benchmarks/peers.py). Then:

    python benchmarks/bench_text.py [--sentences 20000] [--copies 4] [--workers N] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, default_workers, fastest_of, fresh, print_table, run_augcli, run_peer_process
from peers import resolve

RECIPE = """\
seed: 1
copies: {copies}
keep_original: true
text:
  include: ["*.csv"]
  columns: [text]
  transforms:
    - eda: {{alpha_sr: 0.1, alpha_ri: 0.1, alpha_rs: 0.1, p_rd: 0.1}}
"""

SUBJECTS = ["The old man", "A young teacher", "My neighbour", "The small company", "Every student", "Our team"]
VERBS = ["bought", "repaired", "painted", "described", "found", "delivered", "recommended", "criticised"]
OBJECTS = ["a cheap car", "the broken window", "an interesting book", "the new bridge", "a quiet house"]
ENDINGS = ["last week.", "in the morning.", "after a long discussion.", "without any help.", "for the first time."]


def make_input(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sentences.csv"
    if not path.exists():
        rng = random.Random(0)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text", "label"])
            for i in range(count):
                parts = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(ENDINGS)]
                writer.writerow([i, " ".join(parts), i % 3])
    return path


_AUGMENTERS: list = []


def _nlpaug_init() -> None:
    import nlpaug.augmenter.word as naw

    _AUGMENTERS[:] = [naw.RandomWordAug(action="swap", aug_p=0.1), naw.RandomWordAug(action="delete", aug_p=0.1)]


def _nlpaug_job(args: tuple[list[list[str]], int]) -> list[list[str]]:
    rows, copies = args
    rng = random.Random(rows[0][0])
    out = []
    for row in rows:
        out.append(row)
        for _ in range(copies):
            (augmented,) = rng.choice(_AUGMENTERS).augment(row[1])
            out.append([row[0], augmented, row[2]])
    return out


def run_nlpaug(path: Path, copies: int, workers: int) -> float:
    out = fresh(WORK / "out_nlpaug")
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    chunks = [(rows[i : i + 500], copies) for i in range(0, len(rows), 500)]
    with multiprocessing.get_context("forkserver").Pool(workers, initializer=_nlpaug_init) as pool:
        results = pool.map(_nlpaug_job, chunks)
    with (out / "sentences.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for chunk in results:
            writer.writerows(chunk)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the fastest counts")
    parser.add_argument("--peer", help=argparse.SUPPRESS)  # run the peer in this process (timed from outside)
    parser.add_argument(
        "--peer-python",
        help="an interpreter with nlpaug (default: its own venv without torch, made once); where torch is "
        "importable, nlpaug's import pays for torch's",
    )
    args = parser.parse_args()

    folder = WORK / f"text_{args.sentences}"
    path = make_input(folder, args.sentences)
    if args.peer:
        run_nlpaug(path, args.copies, args.workers)
        return
    size = ("--sentences", args.sentences, "--copies", args.copies, "--workers", args.workers)
    nlpaug_python = resolve(args.peer_python, "nlpaug")
    tools = {
        "augcli (end to end, subprocess)": lambda: run_augcli(RECIPE.format(copies=args.copies), folder, args.workers),
        f"nlpaug RandomWordAug ({args.workers} processes, own process)": lambda: run_peer_process(
            __file__, "nlpaug", *size, python=nlpaug_python
        ),
    }
    results = fastest_of(tools, args.repeat)
    augmented = args.sentences * args.copies
    print(f"nlpaug: {nlpaug_python}")
    print(f"workload: {args.sentences} sentences x {args.copies} copies = {augmented} augmented sentences")
    print_table(results, augmented, "augmented sentences", "nlpaug", args.repeat)


if __name__ == "__main__":
    main()
