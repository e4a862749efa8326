"""Pascal VOC annotation files: one XML per image, boxes in 1-based inclusive pixel indices; an
object the image border cut in a copy gets <truncated>1</truncated>."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath
from typing import Any

from augcli.core.files import read_input
from augcli.image.labels.shapes import Box, visibility
from augcli.image.labels.yolo import BadLabels, finite


def read(path: Path) -> tuple[list[Box], ET.ElementTree | None]:
    """The boxes of one XML file (none if it does not exist) and its tree, kept for writing."""
    if not path.exists():
        return [], None
    try:
        tree = ET.ElementTree(ET.fromstring(read_input(path)))
    except OSError as exc:
        raise BadLabels(f"{path.name}: cannot read it: {exc}") from None
    except ET.ParseError as exc:
        raise BadLabels(f"{path.name}: not valid XML: {exc}") from None
    boxes = []
    for index, node in enumerate(tree.getroot().findall("object"), start=1):
        where = f"{path.name}, object {index}"
        name = node.findtext("name")
        box = node.find("bndbox")
        if not name or box is None:
            raise BadLabels(f"{where}: needs <name> and <bndbox>")
        xmin, ymin, xmax, ymax = finite((box.findtext(k) or "" for k in ("xmin", "ymin", "xmax", "ymax")), where)
        if xmax < xmin or ymax < ymin:
            raise BadLabels(f"{where}: box of negative size ({xmin}, {ymin}, {xmax}, {ymax})")
        boxes.append(Box(xmin - 1, ymin - 1, xmax, ymax, name, extra={"index": index - 1}))
    return boxes, tree


def write(tree: ET.ElementTree | None, boxes: list[Box], width: int, height: int, filename: str) -> bytes:
    """The input's XML with the new file name, size and boxes (objects that left the image removed)."""
    if tree is None:
        root = ET.Element("annotation")
        ET.SubElement(root, "filename")
        size = ET.SubElement(root, "size")
        for key in ("width", "height", "depth"):
            ET.SubElement(size, key).text = "0"
        objects = []
    else:
        root = copy.deepcopy(tree.getroot())
        objects = root.findall("object")
        for node in objects:
            root.remove(node)
    (root.find("filename") if root.find("filename") is not None else ET.SubElement(root, "filename")).text = filename
    size = root.find("size") if root.find("size") is not None else ET.SubElement(root, "size")
    for key, value in (("width", width), ("height", height)):
        (size.find(key) if size.find(key) is not None else ET.SubElement(size, key)).text = str(value)
    for box in boxes:
        index = box.extra.get("index")
        node = copy.deepcopy(objects[index]) if index is not None and index < len(objects) else ET.Element("object")
        if node.find("name") is None:
            ET.SubElement(node, "name").text = str(box.label)
        bndbox = node.find("bndbox") if node.find("bndbox") is not None else ET.SubElement(node, "bndbox")
        values = (round(box.x0) + 1, round(box.y0) + 1, round(box.x1), round(box.y1))
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), values, strict=True):
            (bndbox.find(key) if bndbox.find(key) is not None else ET.SubElement(bndbox, key)).text = str(value)
        if visibility(box) < 1.0 - 1e-9:  # the border cut part of it off in this copy
            truncated = node.find("truncated")
            if truncated is None:
                truncated = ET.Element("truncated")
                node.insert(list(node).index(bndbox), truncated)
            truncated.text = "1"
        root.append(node)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def objects(tree: ET.ElementTree | None, boxes: list[Box]) -> list[list[Any]]:
    """A copy's objects as [class, difficult (0 or 1)]: what its lines in ImageSets/Main depend on."""
    nodes = tree.getroot().findall("object") if tree is not None else []
    found = []
    for box in boxes:
        index = box.extra.get("index")
        node = nodes[index] if index is not None and index < len(nodes) else None
        difficult = node is not None and (node.findtext("difficult") or "").strip() == "1"
        found.append([str(box.label), int(difficult)])
    return found


def _flag(objects: Any, name: str) -> int:
    """VOC's mark of a class in an image: 1 present, 0 only as difficult objects, -1 absent."""
    pairs = [o for o in objects if isinstance(o, list) and len(o) == 2] if isinstance(objects, list) else []
    held = [difficult for label, difficult in pairs if label == name]
    return -1 if not held else 0 if all(held) else 1


def image_sets(folder: Path, outputs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, bytes]]:
    """VOC's ImageSets/Main lists for OUTPUT, one per input list (train.txt, val.txt, dog_train.txt):
    each listed image that OUTPUT holds keeps its line (when its original is kept) and is followed
    by its copies' ids, sorted; in a class list (`id flag`) a copy's flag is worked out from the
    objects it kept. `outputs`: (path relative to the images folder, entry) of every output image."""
    by_source: dict[str, tuple[bool, list[tuple[str, Any]]]] = {}
    for key, item in outputs:
        source = str(PurePosixPath(str(item["source"])).with_suffix(""))
        original, copies = by_source.get(source, (False, []))
        if item.get("original"):
            original = True
        else:
            copies = [*copies, (str(PurePosixPath(key).with_suffix("")), item.get("objects"))]
        by_source[source] = (original, copies)
    written = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.suffix != ".txt" or not path.is_file():
            continue
        text = read_input(path).decode("utf-8-sig", errors="surrogateescape")
        name = path.stem.rpartition("_")[0]
        lines = []
        for line in text.splitlines():
            fields = line.split()
            if not fields or fields[0] not in by_source:
                continue
            original, copies = by_source[fields[0]]
            if original:
                lines.append(line.rstrip())
            classed = name and len(fields) == 2 and fields[1].lstrip("-").isdigit()
            for copy_id, kept in sorted(copies, key=lambda c: c[0]):
                lines.append(f"{copy_id} {_flag(kept, name):2d}" if classed else copy_id)
        written.append((path.name, "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")))
    return written
