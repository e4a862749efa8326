"""Scale benchmark (issue #15): the image benchmark three ways, each as whole augcli processes.

- the local process pool (`--workers 2`);
- a Dask LocalCluster of 2 single-threaded worker processes (`--executor dask`), cluster start-up
  included, as a user would run it;
- 2 shards run one after the other (`--shard 0/2`, `--shard 1/2`), then `augcli merge`.

Prints throughput, each way's share of the local pool's, and the overhead per task against the
pool (the extra seconds divided by the number of tasks, one task per input file). Not a test.

    python benchmarks/bench_scale.py [--images 200] [--copies 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_images import RECIPE, make_inputs
from common import WORK, fastest_of


def _augcli(*args: object) -> None:
    subprocess.run([sys.executable, "-m", "augcli", *map(str, args), "-q"], check=True, stderr=subprocess.DEVNULL)


def timed(steps) -> float:
    started = time.perf_counter()
    steps()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inputs = WORK / f"inputs_{args.images}"  # a folder per size: a run takes all of its folder
    make_inputs(inputs, args.images)
    recipe = WORK / "scale.yaml"
    recipe.write_text(RECIPE.format(copies=args.copies))
    out = WORK / "out_scale"

    def fresh_run(*extra: object) -> None:
        shutil.rmtree(out, ignore_errors=True)
        _augcli("run", recipe, inputs, out, *extra)

    def sharded() -> None:
        shutil.rmtree(out, ignore_errors=True)
        for k in range(2):
            _augcli("run", recipe, inputs, out, "--shard", f"{k}/2", "--workers", "2")
        subprocess.run([sys.executable, "-m", "augcli", "merge", str(out)], check=True, stderr=subprocess.DEVNULL)

    tools = {
        "local pool (2 workers)": lambda: timed(lambda: fresh_run("--workers", "2")),
        "Dask LocalCluster (2 workers)": lambda: timed(lambda: fresh_run("--executor", "dask", "--workers", "2")),
        "2 shards in turn + merge": lambda: timed(sharded),
    }
    results = fastest_of(tools, args.repeat)
    outputs = args.images * args.copies
    base = results["local pool (2 workers)"]
    print(f"{args.images} images x {args.copies} copies = {outputs} outputs; fastest of {args.repeat} rounds\n")
    print("| way | seconds | outputs/s | share of the local pool | overhead per task |")
    print("|---|---:|---:|---:|---:|")
    for name, seconds in results.items():
        overhead = (seconds - base) / args.images * 1000
        print(f"| {name} | {seconds:.2f} | {outputs / seconds:.0f} | {base / seconds:.0%} | {overhead:+.1f} ms |")


if __name__ == "__main__":
    main()
