"""Draw the small shipped image dataset (sample_data/) with Pillow: three shape classes.

Run from the repository root: python scripts/make_sample_data.py
The output is deterministic, so rerunning it changes nothing under git.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent / "sample_data" / "shapes"
SIZE = (160, 120)
PER_CLASS = 6


def background(rng: random.Random) -> Image.Image:
    """A soft two-colour gradient, so colour and geometric transforms have something to show."""
    a = [rng.randrange(40, 200) for _ in range(3)]
    b = [rng.randrange(40, 200) for _ in range(3)]
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(SIZE[1]):
        t = y / (SIZE[1] - 1)
        draw.line([(0, y), (SIZE[0], y)], fill=tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3)))
    return image


def draw_shape(draw: ImageDraw.ImageDraw, kind: str, rng: random.Random) -> None:
    cx, cy = rng.randrange(50, 110), rng.randrange(40, 80)
    r = rng.randrange(18, 34)
    colour = tuple(rng.randrange(0, 256) for _ in range(3))
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour, outline=(255, 255, 255), width=2)
    elif kind == "square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour, outline=(0, 0, 0), width=2)
    else:
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour, outline=(255, 255, 255))


def main() -> None:
    rng = random.Random(7)
    for kind in ("circle", "square", "triangle"):
        folder = ROOT / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(PER_CLASS):
            image = background(rng)
            draw_shape(ImageDraw.Draw(image), kind, rng)
            image = image.filter(ImageFilter.SMOOTH)
            if i % 3 == 2:
                image.save(folder / f"{kind}_{i:02d}.png", optimize=True)
            else:
                image.save(folder / f"{kind}_{i:02d}.jpg", quality=90)


if __name__ == "__main__":
    main()
