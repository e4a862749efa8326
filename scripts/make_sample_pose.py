"""Draw the small shipped pose dataset, in ultralytics' layout: stick figures with YOLO pose labels.

Run from the repository root: python scripts/make_sample_pose.py
sample_data/pose/{images,labels}/{train,val}/figure_<i>.* and data.yaml with kpt_shape [5, 3] and
flip_idx (head, left hand, right hand, left foot, right foot). Each keypoint is drawn as a dot of
its own colour, so a test can find it again in an augmented copy. Deterministic.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent / "sample_data" / "pose"
SIZE = (160, 128)
KEYPOINTS = ["head", "left_hand", "right_hand", "left_foot", "right_foot"]
COLOURS = [(255, 255, 0), (255, 0, 0), (0, 255, 0), (255, 0, 255), (0, 255, 255)]


def figure(rng: random.Random) -> list[tuple[float, float]]:
    """Keypoints of one figure facing the camera: its left hand and foot on the picture's right."""
    cx, top = rng.uniform(40, SIZE[0] - 40), rng.uniform(14, 30)
    height = rng.uniform(60, SIZE[1] - top - 8)
    reach = rng.uniform(16, 30)
    return [
        (cx, top),
        (cx + reach, top + height * 0.45),
        (cx - reach, top + height * 0.4),
        (cx + reach * 0.6, top + height),
        (cx - reach * 0.5, top + height),
    ]


def main() -> None:
    rng = random.Random(11)
    for sub in ("images", "labels"):
        for split in ("train", "val"):
            (ROOT / sub / split).mkdir(parents=True, exist_ok=True)
    (ROOT / "data.yaml").write_text(
        "# ultralytics pose dataset file: keypoints head, left hand, right hand, left foot, right foot\n"
        "path: sample_data/pose\ntrain: images/train\nval: images/val\n"
        "kpt_shape: [5, 3]\nflip_idx: [0, 2, 1, 4, 3]\nnames:\n  0: person\n"
    )
    width, height = SIZE
    for i in range(5):
        split = "train" if i < 4 else "val"
        image = Image.new("RGB", SIZE, (40, 40, 48))
        draw = ImageDraw.Draw(image)
        points = figure(rng)
        hip = ((points[3][0] + points[4][0]) / 2, points[0][1] + (points[3][1] - points[0][1]) * 0.6)
        for limb in points[1:]:
            draw.line([hip if limb in points[3:] else (points[0][0], points[0][1] + 8), limb], (120, 120, 120), 3)
        draw.line([(points[0][0], points[0][1] + 8), hip], (120, 120, 120), 3)
        for (x, y), colour in zip(points, COLOURS, strict=True):
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, y0, x1, y1 = min(xs) - 6, min(ys) - 6, max(xs) + 6, max(ys) + 6
        fields = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
        line = "0 " + " ".join(f"{v:.6f}" for v in fields)
        line += "".join(f" {x / width:.6f} {y / height:.6f} 2" for x, y in points)
        image.save(ROOT / "images" / split / f"figure_{i}.png")
        (ROOT / "labels" / split / f"figure_{i}.txt").write_text(line + "\n")


if __name__ == "__main__":
    main()
