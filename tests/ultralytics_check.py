"""Run ultralytics' own dataset checks on an augcli OUTPUT and print what they found as JSON.

Usage: python tests/ultralytics_check.py OUTPUT/data.yaml TASK (detect, segment or pose). Run as
a subprocess so ultralytics' logging and settings stay out of the test process. No weights and
no downloads: torchvision is not installed here (ultralytics reads only its version number when
building datasets), and the font check, which would download a font, is skipped.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import sys
from pathlib import Path

_version = importlib.metadata.version
importlib.metadata.version = lambda name: "0.28.0" if name == "torchvision" else _version(name)


def main(data_yaml: str, task: str) -> None:
    from ultralytics.cfg import get_cfg
    from ultralytics.data import utils
    from ultralytics.data.dataset import YOLODataset
    from ultralytics.utils import LOGGER

    utils.check_font = lambda *args, **kwargs: None
    logged: list[tuple[str, str]] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append((record.levelname, record.getMessage()))

    LOGGER.addHandler(Grab())
    data = utils.check_det_dataset(data_yaml, autodownload=False)
    found = {"paths": [data["train"], data["val"]], "nc": data["nc"], "kpt_shape": data.get("kpt_shape")}
    for split in ("train", "val"):
        dataset = YOLODataset(
            img_path=data[split], data=data, task=task, imgsz=160, augment=False, hyp=get_cfg(), prefix=f"{split}: "
        )
        cache = utils.load_dataset_cache_file(Path(dataset.label_files[0]).parent.with_suffix(".cache"))
        found_, missing, empty, corrupt, _ = cache["results"]
        labels = dataset.labels
        found[split] = {
            "images": len(dataset.im_files),
            "found": found_,
            "missing": missing,
            "empty": empty,
            "corrupt": corrupt,
            "msgs": cache["msgs"],
            "instances": sum(len(label["cls"]) for label in labels),
            "segments": sum(len(label["segments"]) for label in labels),
            "keypoints": [list(label["keypoints"].shape) for label in labels if label.get("keypoints") is not None][:1],
            "item": sorted(dataset[0]),
        }
    found["warnings"] = [message for level, message in logged if level in ("WARNING", "ERROR", "CRITICAL")]
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
