"""Speed of `mosaic` with boxes: 2x2 mosaics of 640x480 JPEGs into 640x640 copies, whole process.

The inputs are an ultralytics-layout folder (images/*.jpg, q90, textured; labels/*.txt with 2-4
YOLO boxes each; classes.txt with three classes). augcli (`augcli run`, start-up included, all
cores) tiles every input with three partners into `copies` 640x640 outputs and writes the JPEGs
(q95, its default) and their YOLO label files.

The reference is albumentations' own `A.Mosaic` (albumentations >= 2.0, the bench extra), run as a
whole process too, in a venv of its own that the benchmark makes on first use (benchmarks/peers.py;
`--peer-python` takes an interpreter of your own). Each of `--workers` processes (a fork pool,
opencv single-threaded in each)
decodes an input once with cv2 and, for each copy, decodes three partners (the next inputs by index,
different for each copy, so it decodes as many pictures as augcli does), calls
`A.Compose([A.Mosaic(target_size=(640, 640), cell_shape=(cell, cell), p=1)], bbox_params=yolo)`
with the partners under `mosaic_metadata` (the documented API), then writes the JPEG (cv2, q95)
and the YOLO label file. NO_ALBUMENTATIONS_UPDATE=1 keeps its import from asking the network for
updates. Two cell shapes (`--cells`), one row each:

- 320 (the reference): the 640x640 window is the whole 2x2 grid, so each picture is scaled to
  cover a 320x320 quarter and shown almost whole, as augcli scales each picture to cover its
  cell (augcli moves the grid lines, albumentations keeps them in the middle).
- 640: albumentations' crop of a 1280x1280 grid around a random centre (the YOLOv4 / ultralytics
  way): each picture is scaled to cover 640x640 and only a part of it is seen, so more pixels
  are resized and fewer boxes survive; not the same output, shown for scale.

    python benchmarks/bench_mix.py [--images 400] [--copies 2] [--repeat 2] [--cells 320 640] [--peer-python PATH]

Not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORK, default_workers, fastest_of, fresh, print_table, run_augcli
from peers import resolve

HEIGHT, WIDTH = 480, 640  # the inputs
SIZE = (640, 640)  # the mosaics, (height, width)
CLASSES = ["car", "person", "dog"]
PEER = "albumentations"


def make_inputs(folder: Path, count: int) -> Path:
    """`count` JPEGs with 2-4 YOLO boxes each in ultralytics layout, the same bytes every time."""
    images, labels = folder / "images", folder / "labels"
    if len(list(images.glob("*.jpg"))) == count and len(list(labels.glob("*.txt"))) == count:
        return folder
    from PIL import Image

    fresh(folder)
    images.mkdir()
    labels.mkdir()
    (folder / "classes.txt").write_text("".join(f"{name}\n" for name in CLASSES))
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    for k in range(count):
        base = np.dstack([(x + 7 * k) % 256, (y * 2 + k) % 256, (x + y) % 256])
        noise = rng.integers(0, 30, base.shape)
        Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8)).save(images / f"img_{k:04d}.jpg", quality=90)
        lines = []
        for _ in range(int(rng.integers(2, 5))):
            w, h = rng.uniform(0.08, 0.4, 2)
            cx, cy = rng.uniform(w / 2 + 0.01, 1 - w / 2 - 0.01), rng.uniform(h / 2 + 0.01, 1 - h / 2 - 0.01)
            lines.append(f"{int(rng.integers(len(CLASSES)))} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
        (labels / f"img_{k:04d}.txt").write_text("".join(lines))
    return folder


# --- the albumentations peer: runs in --peer-python, one fork pool over the inputs ---

STATE: dict[str, Any] = {}


def peer_start(inputs: str, out: str, copies: int, cell: int) -> None:
    import albumentations as A
    import cv2

    cv2.setNumThreads(0)  # one process per core already: no threads on top (as dataloader workers do)
    mosaic = A.Mosaic(grid_yx=(2, 2), target_size=SIZE, cell_shape=(cell, cell), fit_mode="cover", p=1.0)
    STATE.update(
        cv2=cv2,
        paths=sorted(Path(inputs, "images").glob("*.jpg")),
        out=Path(out),
        copies=copies,
        transform=A.Compose([mosaic], bbox_params=A.BboxParams(format="yolo", label_fields=["class_labels"])),
    )


def peer_read(index: int) -> dict[str, Any]:
    """An input decoded by cv2 with its boxes, as albumentations takes it (and its partners)."""
    paths = STATE["paths"]
    path = paths[index % len(paths)]
    rows = [line.split() for line in path.parent.parent.joinpath("labels", f"{path.stem}.txt").read_text().splitlines()]
    boxes = np.array([[float(v) for v in row[1:5]] for row in rows if row], dtype=np.float32).reshape(-1, 4)
    return {
        "image": STATE["cv2"].imread(str(path), STATE["cv2"].IMREAD_COLOR),
        "bboxes": boxes,
        "class_labels": [int(row[0]) for row in rows if row],
    }


def peer_job(index: int) -> int:
    cv2, transform, out = STATE["cv2"], STATE["transform"], STATE["out"]
    stem = STATE["paths"][index].stem
    primary = peer_read(index)
    transform.set_random_seed(index)
    for k in range(STATE["copies"]):
        partners = [peer_read(index + 1 + 3 * k + j) for j in range(3)]
        mixed = transform(**primary, mosaic_metadata=partners)
        cv2.imwrite(str(out / "images" / f"{stem}_aug{k}.jpg"), mixed["image"], [cv2.IMWRITE_JPEG_QUALITY, 95])
        lines = [
            f"{int(c)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
            for c, (cx, cy, w, h) in zip(mixed["class_labels"], mixed["bboxes"], strict=True)
        ]
        (out / "labels" / f"{stem}_aug{k}.txt").write_text("".join(lines))
    return STATE["copies"]


def peer(inputs: Path, copies: int, workers: int, cell: int) -> None:
    import multiprocessing

    out = fresh(WORK / f"out_{PEER}_{cell}")
    (out / "images").mkdir()
    (out / "labels").mkdir()
    count = len(list((inputs / "images").glob("*.jpg")))
    start = (str(inputs), str(out), copies, cell)
    with multiprocessing.get_context("fork").Pool(workers, initializer=peer_start, initargs=start) as pool:
        sum(pool.imap_unordered(peer_job, range(count), chunksize=4))


def run_peer(python: str, inputs: Path, copies: int, workers: int, cell: int) -> float:
    """The peer timed as a whole process in `python` (start-up and imports included), as augcli is."""
    script = str(Path(__file__).resolve())
    options = ["--copies", str(copies), "--workers", str(workers), "--cells", str(cell)]
    command = [python, script, str(inputs), "--peer", PEER, *options]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"the peer failed:\n{done.stderr}")
    return seconds


def outputs(folder: Path) -> str:
    """What a tool wrote: pictures, label files, boxes."""
    pictures = len(list(folder.rglob("*.jpg")))
    labels = [path for path in folder.rglob("*.txt") if path.name != "classes.txt"]
    boxes = sum(len(path.read_text().split("\n")) - 1 for path in labels)
    return f"{pictures} JPEGs, {len(labels)} label files, {boxes} boxes"


def versions(python: str) -> str:
    probe = "import albumentations, cv2; print(albumentations.__version__, cv2.__version__)"
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env).stdout.split()
    return f"albumentations {found[0]}, opencv {found[1]}" if len(found) == 2 else "albumentations: not found"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument(
        "--cells", type=int, nargs="+", default=[320, 640], help="albumentations' cell_shape, a row each"
    )
    parser.add_argument("--peer-python", help="an interpreter with albumentations (default: its own venv, made once)")
    parser.add_argument("--peer")
    parser.add_argument("inputs", nargs="?")
    args = parser.parse_args()
    if args.peer:
        peer(Path(args.inputs), args.copies, args.workers, args.cells[0])
        return
    inputs = make_inputs(WORK / "mix_in", args.images)
    peer_python = resolve(args.peer_python, "albumentations")
    recipe = (
        f"seed: 0\ncopies: {args.copies}\nkeep_original: false\nimage:\n"
        "  annotations: {format: yolo, classes: classes.txt}\n"
        f"  transforms:\n    - mosaic: {{size: [{SIZE[0]}, {SIZE[1]}]}}\n"
    )
    tools = {f"augcli ({args.workers} workers)": lambda: run_augcli(recipe, inputs, args.workers, "mix.yaml")}
    for cell in args.cells:
        tools[f"{PEER} Mosaic, cell {cell} ({args.workers} workers)"] = lambda cell=cell: run_peer(
            peer_python, inputs, args.copies, args.workers, cell
        )
    started = time.perf_counter()
    results = fastest_of(tools, args.repeat)
    shape = f"{WIDTH}x{HEIGHT} JPEGs with YOLO boxes -> {SIZE[1]}x{SIZE[0]}"
    print(f"mosaic 2x2, {args.images} inputs x {args.copies} copies, {shape}")
    print(f"reference: {versions(peer_python)} ({peer_python})")
    print(f"outputs: augcli {outputs(WORK / f'out_augcli_{args.workers}')}")
    for cell in args.cells:
        print(f"outputs: {PEER}, cell {cell}: {outputs(WORK / f'out_{PEER}_{cell}')}")
    print_table(results, args.images * args.copies, "images", PEER, args.repeat)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
