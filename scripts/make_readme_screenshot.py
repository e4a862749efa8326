"""Make docs/preview.png, the README's picture of `augcli preview` on the shipped detection
sample: the page rendered in headless Chromium (Debian's chromium and chromium-driver), scrolled
to the images, cropped and quantised to a small PNG.

Run from the repository root: .venv/bin/python scripts/make_readme_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import chromium  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        page, shot = Path(folder) / "preview.html", Path(folder) / "shot.png"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "augcli",
                "preview",
                "configs/detection.yaml",
                "sample_data/detection",
                "-o",
                page,
                "--files",
                "3",
                "--copies",
                "4",
            ],
            check=True,
            cwd=ROOT,
        )
        with chromium(1100, 760) as driver:
            driver.get(page.as_uri())
            driver.execute_script("document.querySelectorAll('h2')[1].scrollIntoView()")
            driver.save_screenshot(str(shot))
        image = Image.open(shot).convert("RGB")
        image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        image.save(ROOT / "docs" / "preview.png", optimize=True)
    print(f"wrote {ROOT / 'docs' / 'preview.png'}")


if __name__ == "__main__":
    main()
