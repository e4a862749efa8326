"""Value of the policies (issue #26): does training on pre-rendered policy copies help?

scikit-learn's digits (8x8, scaled up to 32x32 PNGs), a fixed train/test split (30% train), and a
fixed model (logistic regression on the pixels) trained on: the originals; the originals plus N
copies from a hand recipe (rotate +-10, translate +-0.08, brightness/contrast 0.2); plus N copies
of trivial_augment; plus N copies of rand_augment. Copies are made by augcli's Python API path
(`augment_pixels`, the same code `augcli run` uses); 5 seeds each; mean and spread of test accuracy.

    python benchmarks/value_policies.py [--copies 4] [--seeds 5] [--online 32]

With --online E, a second table: how much of online sampling's gain N offline copies recover.
A linear model trained by SGD (log loss) for E epochs over the training set plus one copy per
image each epoch: a fresh trivial_augment copy every epoch (online sampling: E distinct copies),
or the copies of a fixed set of N cycled (offline, N = 2, 4, 8, 16), or the originals again (no
augmentation); share = (offline N - none) / (online - none), on the mean over seeds.

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


def copies_of(section, x_train, seed: int, count: int) -> list[np.ndarray]:
    out = []
    for k in range(count):
        rngs = [np.random.default_rng([seed, i, k]) for i in range(len(x_train))]
        out.append(np.array([augment_pixels(section, x, r).pixels for x, r in zip(x_train, rngs, strict=True)]))
    return out


def sgd_score(x_train, y_train, x_test, y_test, extra, seed: int) -> float:
    """SGD for len(extra) epochs; epoch e sees the originals and extra[e] (same labels)."""
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss="log_loss", alpha=1e-4, random_state=seed)
    rng = np.random.default_rng(seed)
    flat = x_train.reshape(len(x_train), -1) / 255.0
    for epoch_copy in extra:
        x = np.concatenate([flat, epoch_copy.reshape(len(epoch_copy), -1) / 255.0])
        y = np.concatenate([y_train, y_train])
        order = rng.permutation(len(x))
        model.partial_fit(x[order], y[order], classes=np.arange(10))
    return float(model.score(x_test.reshape(len(x_test), -1) / 255.0, y_test))


def online_share(images, labels, seeds: int, epochs: int, counts=(2, 4, 8, 16)) -> None:
    section = parse_recipe("image:\n  transforms:\n" + RECIPES["trivial_augment"]).sections["image"]
    runs: dict[str, list[float]] = {"none": [], **{f"offline {n}": [] for n in counts}, "online": []}
    for seed in range(seeds):
        order = np.random.default_rng(seed).permutation(len(images))
        cut = int(0.3 * len(images))
        train, test = order[:cut], order[cut:]
        x_train, y_train, x_test, y_test = images[train], labels[train], images[test], labels[test]
        fresh = copies_of(section, x_train, seed, epochs)
        runs["none"].append(sgd_score(x_train, y_train, x_test, y_test, [x_train] * epochs, seed))
        for n in counts:
            cycled = [fresh[e % n] for e in range(epochs)]
            runs[f"offline {n}"].append(sgd_score(x_train, y_train, x_test, y_test, cycled, seed))
        runs["online"].append(sgd_score(x_train, y_train, x_test, y_test, fresh, seed))
    none, online = np.mean(runs["none"]), np.mean(runs["online"])
    print(f"\nonline sampling vs N offline copies: trivial_augment, SGD log loss, {epochs} epochs, {seeds} seeds\n")
    print("| training | test accuracy (mean) | spread (std) | share of the online gain |")
    print("|---|---:|---:|---:|")
    for name, scores in runs.items():
        s = np.array(scores)
        share = "-" if name == "none" or online <= none else f"{(s.mean() - none) / (online - none):.0%}"
        print(f"| {name} | {s.mean():.4f} | {s.std():.4f} | {share} |")
    print(f"\nonline gain over no augmentation: {online - none:+.4f}")
    if online <= none:
        print("no gain to recover: the shares are undefined (shown as -)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--online", type=int, default=0, help="epochs of the online-vs-offline table (0: skip)")
    parser.add_argument("--only-online", action="store_true", help="skip the first table")
    args = parser.parse_args()
    images, labels = load()
    if args.online:
        online_share(images, labels, args.seeds, args.online)
        if args.only_online:
            return
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
