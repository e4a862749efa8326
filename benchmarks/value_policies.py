"""Value of the policies (issue #26): does training on pre-rendered policy copies help?

scikit-learn's digits (8x8, scaled up to 32x32 PNGs), a fixed train/test split (30% train), and a
fixed model (logistic regression on the pixels) trained on: the originals; the originals plus N
copies from a hand recipe (rotate +-10, translate +-0.08, brightness/contrast 0.2); plus N copies
of trivial_augment; plus N copies of rand_augment. Copies are made by augcli's Python API path
(`augment_pixels`, the same code `augcli run` uses); 5 seeds each; mean and spread of test accuracy.

    python benchmarks/value_policies.py [--copies 4] [--seeds 5]

Not a test.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from augcli.core.recipe import parse_recipe
from augcli.image.modality import augment_pixels

RECIPES = {
    "hand": "    - rotate: {degrees: 10}\n    - translate: {x: 0.08, y: 0.08}\n"
    "    - brightness: {factor: 0.2}\n    - contrast: {factor: 0.2}\n",
    "trivial_augment": "    - trivial_augment: {}\n",
    "rand_augment": "    - rand_augment: {num_ops: 2, magnitude: 9}\n",
}


def load(side: int = 32):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = [(img / 16 * 255).astype(np.uint8) for img in digits.images]
    images = [np.asarray(Image.fromarray(img).resize((side, side), Image.Resampling.BILINEAR)) for img in images]
    return np.array(images), digits.target


def train_and_score(x_train, y_train, x_test, y_test, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=300, random_state=seed)
    model.fit(x_train.reshape(len(x_train), -1) / 255.0, y_train)
    return float(model.score(x_test.reshape(len(x_test), -1) / 255.0, y_test))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    images, labels = load()
    results: dict[str, list[float]] = {"originals": [], **{name: [] for name in RECIPES}}
    for seed in range(args.seeds):
        order = np.random.default_rng(seed).permutation(len(images))
        cut = int(0.3 * len(images))
        train, test = order[:cut], order[cut:]
        x_train, y_train = images[train], labels[train]
        results["originals"].append(train_and_score(x_train, y_train, images[test], labels[test], seed))
        for name, steps in RECIPES.items():
            section = parse_recipe("image:\n  transforms:\n" + steps).sections["image"]
            copies, copy_labels = [x_train], [y_train]
            for k in range(args.copies):
                rngs = [np.random.default_rng([seed, i, k]) for i in range(len(x_train))]
                copies.append(
                    np.array([augment_pixels(section, x, r).pixels for x, r in zip(x_train, rngs, strict=True)])
                )
                copy_labels.append(y_train)
            score = train_and_score(
                np.concatenate(copies), np.concatenate(copy_labels), images[test], labels[test], seed
            )
            results[name].append(score)
    print(
        f"digits 32x32, {cut} train / {len(images) - cut} test, logistic regression, {args.copies} copies, "
        f"{args.seeds} seeds\n"
    )
    print("| training set | test accuracy (mean) | spread (std) | min-max |")
    print("|---|---:|---:|---:|")
    for name, scores in results.items():
        s = np.array(scores)
        print(f"| {name} | {s.mean():.4f} | {s.std():.4f} | {s.min():.4f}-{s.max():.4f} |")


if __name__ == "__main__":
    main()
