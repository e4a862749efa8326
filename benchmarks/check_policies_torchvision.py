"""augcli's policy ops against torchvision's own, op by op and bin by bin (issue #26).

torchvision runs in an environment of its own (benchmarks/peers.py makes it on first use, with the
torch and torchvision pair that installs on this machine), called as a subprocess that applies
`torchvision.transforms.autoaugment._apply_op` to PIL pictures
(RGB and L) at every bin of every table, both signs, and saves the results; this side applies
augcli's `policies.apply_op` to the same pixels and reports the PSNR of each op (its worst bin).

    python benchmarks/check_policies_torchvision.py [--torchvision-python PATH]

Exit status 1 when an op is under 40 dB (inf: the same bytes). Not a test: torchvision does not
install in the project's own venv.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import resolve

TABLES = {"wide": 31, "standard": 31, "standard10": 10, "augmix": 10}


def pictures() -> dict[str, np.ndarray]:
    """A photograph-like RGB picture (gradients, edges, noise) and its grey version."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.dstack([(x * 2) % 256, (y * 3 + x) % 256, ((x - y) * 2) % 256]).astype(np.float64)
    rgb[20:60, 30:90] = (200, 40, 90)
    rgb = np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)
    grey = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).round().astype(np.uint8)
    return {"RGB": rgb, "L": grey}


def cases() -> list[tuple[str, str, str, float]]:
    """(table, op, picture, signed magnitude) for every bin of every op, as augcli's tables give them."""
    from augcli.image import policies

    tables = {
        "wide": policies.WIDE,
        "standard": policies.STANDARD,
        "standard10": policies.STANDARD,
        "augmix": policies.AUGMIX_ALL,
    }
    found = []
    for name, table in tables.items():
        for op in table:
            for value in policies.table_values(table, op, TABLES[name], 128, 96):
                for picture in ("RGB", "L"):
                    for signed in {value, -value} if op in policies.SIGNED else {value}:
                        found.append((name, op, picture, float(signed)))
    return found


TORCHVISION_SIDE = r"""
import sys, numpy as np
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import _apply_op
data = np.load(sys.argv[1], allow_pickle=True)
names = {"shear_x": "ShearX", "shear_y": "ShearY", "translate_x": "TranslateX", "translate_y": "TranslateY",
         "rotate": "Rotate", "brightness": "Brightness", "color": "Color", "contrast": "Contrast",
         "sharpness": "Sharpness", "posterize": "Posterize", "solarize": "Solarize", "autocontrast": "AutoContrast",
         "equalize": "Equalize", "invert": "Invert", "identity": "Identity"}
out = {}
for key, (op, picture, value) in data["cases"].item().items():
    image = Image.fromarray(data[picture])
    try:
        made = _apply_op(image, names[op], float(value), interpolation=InterpolationMode.NEAREST, fill=None)
    except ValueError:  # e.g. Pillow refuses posterize to 0 bits, which AugMix's table reaches
        continue
    out[key] = np.asarray(made)
np.savez(sys.argv[2], **out)
import torchvision
print(torchvision.__version__)
"""


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255.0**2 / error)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torchvision-python", help="default: torchvision's own venv, made once")
    args = parser.parse_args()
    from augcli.image import policies

    found = pictures()
    todo = {f"k{i}": (op, picture, value) for i, (_, op, picture, value) in enumerate(cases())}
    tables = {f"k{i}": table for i, (table, _, _, _) in enumerate(cases())}
    with tempfile.TemporaryDirectory() as tmp:
        request, answer = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(request, cases=np.array(todo, dtype=object), **found)
        script = Path(tmp) / "side.py"
        script.write_text(TORCHVISION_SIDE)
        command = [resolve(args.torchvision_python, "torchvision"), str(script), str(request), str(answer)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the torchvision side failed:\n{done.stderr[-3000:]}")
        theirs = dict(np.load(answer))
    print(f"torchvision {done.stdout.strip()}, {len(todo)} cases")
    worst: dict[tuple[str, str], float] = {}
    exact: dict[tuple[str, str], int] = {}
    total: dict[tuple[str, str], int] = {}
    refused: dict[tuple[str, str], int] = {}
    for key, (op, picture, value) in todo.items():
        if key not in theirs:
            refused[(tables[key], op)] = refused.get((tables[key], op), 0) + 1
            continue
        ours = policies.apply_op(found[picture], op, value)
        score = psnr(ours, theirs[key])
        place = (tables[key], op)
        worst[place] = min(worst.get(place, float("inf")), score)
        exact[place] = exact.get(place, 0) + int(score == float("inf"))
        total[place] = total.get(place, 0) + 1
    print("| table | op | cases | identical | worst PSNR (dB) | torchvision refused |")
    print("|---|---|---:|---:|---:|---:|")
    failed = False
    for (table, op), score in sorted(worst.items()):
        shown = "inf" if score == float("inf") else f"{score:.1f}"
        counts = f"{total[(table, op)]} | {exact[(table, op)]} | {shown} | {refused.get((table, op), 0)}"
        print(f"| {table} | {op} | {counts} |")
        failed |= score < 40.0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
