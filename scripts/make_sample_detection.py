"""Draw the small shipped detection dataset, in ultralytics' layout: images with YOLO labels and
segmentation masks, a train and a val split.

Run from the repository root: python scripts/make_sample_detection.py
sample_data/detection/{images,labels,masks}/{train,val}/scene_<i>.* and data.yaml (path, train,
val, names): each scene holds a few filled circles and rectangles; each label line is the shape's
box, each mask pixel its class (0 background, 1 circle, 2 rectangle). Deterministic.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent / "sample_data" / "detection"
SIZE = (160, 120)
CLASSES = ["circle", "rectangle"]


def main() -> None:
    rng = random.Random(5)
    for sub in ("images", "labels", "masks"):
        for split in ("train", "val"):
            (ROOT / sub / split).mkdir(parents=True, exist_ok=True)
    (ROOT / "data.yaml").write_text(
        "# ultralytics dataset file: yolo train data=sample_data/detection/data.yaml (from the repository root)\n"
        "path: sample_data/detection\ntrain: images/train\nval: images/val\nnames:\n  0: circle\n  1: rectangle\n"
    )
    for i in range(6):
        split = "train" if i < 4 else "val"
        image = Image.new("RGB", SIZE, tuple(rng.randrange(60, 140) for _ in range(3)))
        mask = Image.new("L", SIZE, 0)
        draw, draw_mask = ImageDraw.Draw(image), ImageDraw.Draw(mask)
        lines = []
        for _ in range(3):
            kind = rng.randrange(2)
            w, h = rng.randrange(18, 40), rng.randrange(18, 34)
            x0, y0 = rng.randrange(0, SIZE[0] - w), rng.randrange(0, SIZE[1] - h)
            box = [x0, y0, x0 + w - 1, y0 + h - 1]
            colour = tuple(rng.randrange(0, 256) for _ in range(3))
            (draw.ellipse if kind == 0 else draw.rectangle)(box, fill=colour)
            (draw_mask.ellipse if kind == 0 else draw_mask.rectangle)(box, fill=kind + 1)
            cx, cy = (x0 + w / 2) / SIZE[0], (y0 + h / 2) / SIZE[1]
            lines.append(f"{kind} {cx:.6f} {cy:.6f} {w / SIZE[0]:.6f} {h / SIZE[1]:.6f}\n")
        image.save(ROOT / "images" / split / f"scene_{i}.jpg", quality=92)
        mask.save(ROOT / "masks" / split / f"scene_{i}.png")
        (ROOT / "labels" / split / f"scene_{i}.txt").write_text("".join(lines))


if __name__ == "__main__":
    main()
