"""Pictures for the preview and the report: annotations drawn over images (boxes, polygons,
keypoints, a translucent class-coloured mask layer with a solid outline), data URIs (JPEG for
photographs, PNG for the rest), and the PNG contact sheet."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Ten saturated colours, none dark or pale (each stays visible on dark and light pictures), no two
# alike (the closest pair is 88 apart in RGB): an object's box, polygon, mask and centre keypoints
# all take its class's colour.
PALETTE = [
    (230, 25, 75),  # red
    (40, 190, 60),  # green
    (0, 110, 230),  # blue
    (255, 225, 25),  # yellow
    (240, 50, 230),  # magenta
    (70, 240, 240),  # cyan
    (255, 140, 0),  # orange
    (150, 90, 255),  # violet
    (0, 140, 120),  # teal
    (190, 255, 120),  # lime
]
# A mask tints what it covers by this much (the object under it keeps 65 % of its contrast, whatever
# the two colours) and is outlined in its full class colour.
MASK_ALPHA = 0.35
# Keypoints paired by flip_idx: the left one of each pair (its name starts with left / l_, or it has
# the lower index) a white dot, the right one a black square; unpaired ones (a nose) a dot in the
# class colour. A flip that swapped the pair keeps each marker on its side of the body (a person
# facing the camera: squares on the picture's left); one that did not puts them on the other side.
LEFT, RIGHT = (255, 255, 255), (0, 0, 0)
KEYPOINT_RADIUS = 3
DISPLAY_WIDTH = 260  # CSS pixels a picture takes on the page (templates/page.html, `figure`)
JPEG_QUALITY = 85
FEW_COLOURS = 256  # a picture with at most this many colours is line art, a mask or a chart: PNG
SMALL = 64 * 64  # a picture this small is PNG whatever it shows (sharp, and a few hundred bytes)


def colour(label: Any) -> tuple[int, int, int]:
    """A class's colour: integer ids index the palette, names hash into it (the same in every run)."""
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return PALETTE[int(label) % len(PALETTE)]
    return PALETTE[sum(str(label).encode()) % len(PALETTE)]


def keypoint_sides(flip_idx: Sequence[int], names: Sequence[str] = ()) -> tuple[str, ...]:
    """Per keypoint index: "left", "right" or "centre". A keypoint flip_idx pairs with another is a
    side: the one named left* / l_* is left (right* / r_* right); without such names the lower
    index of the pair is left (ultralytics' and COCO's order). Unnamed pairs and unpaired points
    with a left / right name also count as sides."""
    count = max(len(flip_idx), len(names))
    sides = ["centre"] * count
    for index in range(count):
        named = _named_side(names[index]) if index < len(names) else None
        partner = flip_idx[index] if index < len(flip_idx) else index
        if named is not None:
            sides[index] = named
        elif partner != index:
            partner_named = _named_side(names[partner]) if partner < len(names) else None
            if partner_named is not None:
                sides[index] = "right" if partner_named == "left" else "left"
            else:
                sides[index] = "left" if index < partner else "right"
    return tuple(sides)


def _named_side(name: str) -> str | None:
    lowered = str(name).strip().lower()
    if lowered.startswith(("left", "l_", "l-")):
        return "left"
    if lowered.startswith(("right", "r_", "r-")):
        return "right"
    return None


def mask_classes(
    mask: np.ndarray | None, boxes: Sequence[Any], ignore: Any = None, known: Mapping[int, Any] | None = None
) -> dict[int, Any]:
    """Which class each mask value stands for, so a mask is drawn in its objects' colour: each box
    votes for the value most of its pixels hold; a value keeps the class most boxes voted for
    (`known`, e.g. the original's, comes first, so a value keeps its colour in every copy). A value
    no box covers follows the offset the voted ones share (YOLO class 0 written as mask value 1),
    else stands for itself."""
    found: dict[int, Any] = dict(known or {})
    if mask is None:
        return found
    values = [int(v) for v in np.unique(mask) if v != 0 and (ignore is None or v != ignore)]
    votes: dict[int, Counter] = {}
    height, width = mask.shape[:2]
    for box in boxes:
        x0, y0 = max(0, int(np.floor(box.x0))), max(0, int(np.floor(box.y0)))
        x1, y1 = min(width, int(np.ceil(box.x1))), min(height, int(np.ceil(box.y1)))
        if x1 <= x0 or y1 <= y0:
            continue
        inside = mask[y0:y1, x0:x1].ravel()
        inside = inside[inside != 0]
        if ignore is not None:
            inside = inside[inside != ignore]
        if inside.size:
            value, _ = Counter(inside.tolist()).most_common(1)[0]
            votes.setdefault(int(value), Counter())[box.label] += 1
    for value, counted in votes.items():
        if value not in found:
            best = max(counted.values())
            found[value] = min((label for label, n in counted.items() if n == best), key=str)
    offsets = {
        value - int(label)
        for value, label in found.items()
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool)
    }
    offset = offsets.pop() if len(offsets) == 1 else 0
    for value in values:
        found.setdefault(value, value - offset)
    return found


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """Any decoded image as 8-bit RGB, for display."""
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        return np.stack([pixels] * 3, axis=-1)
    if pixels.shape[2] in (2, 4):  # alpha over white
        alpha = pixels[:, :, -1:].astype(np.float32) / 255.0
        base = pixels[:, :, :-1] if pixels.shape[2] == 4 else np.repeat(pixels[:, :, :1], 3, axis=2)
        return (base * alpha + 255 * (1 - alpha)).astype(np.uint8)
    return pixels


def has_alpha(pixels: np.ndarray) -> bool:
    return pixels.ndim == 3 and pixels.shape[2] in (2, 4)


def display_scale(width: int, height: int, longest: int | None = None) -> float:
    """The factor a picture is shrunk by to the size the page shows it at (never enlarged): the
    figure's width, and at most twice that high; `longest` bounds the long side instead."""
    if longest is not None:
        return min(1.0, longest / max(width, height, 1))
    return min(1.0, DISPLAY_WIDTH / max(width, 1), 2 * DISPLAY_WIDTH / max(height, 1))


def overlay(
    pixels: np.ndarray,
    boxes: Sequence[Any] = (),
    mask: np.ndarray | None = None,
    ignore: Any = None,
    classes: Mapping[int, Any] | None = None,
    sides: Sequence[str] = (),
    longest: int | None = None,
) -> np.ndarray:
    """The image shrunk to its display size (`display_scale`), then drawn over at that size, so lines
    stay sharp: its mask as a translucent layer with a solid outline (value 0 and `ignore` left
    clear), each box's outline and polygons, in the class colour (`classes` maps mask values to
    classes; default `mask_classes`), and keypoints by side (`sides`, from `keypoint_sides`)."""
    rgb = as_rgb(pixels)
    height, width = rgb.shape[:2]
    scale = display_scale(width, height, longest)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = np.array(Image.fromarray(rgb).resize(size, Image.LANCZOS))
        if mask is not None:
            mask = np.array(Image.fromarray(mask).resize(size, Image.NEAREST))
    else:
        rgb = rgb.copy()
    if mask is not None:
        classes = mask_classes(mask, _scaled(boxes, scale), ignore) if classes is None else classes
        _paint_mask(rgb, mask, ignore, classes)
    image = Image.fromarray(rgb)
    pen = ImageDraw.Draw(image)
    for box in boxes:
        tint = colour(box.label)
        for polygon in box.polygons:
            points = [(x * scale, y * scale) for x, y in zip(polygon[0::2], polygon[1::2], strict=True)]
            if len(points) >= 3:
                pen.polygon(points, outline=tint)
        x0, y0, x1, y1 = (v * scale for v in (box.x0, box.y0, box.x1, box.y1))
        pen.rectangle([x0, y0, max(x1 - 1, x0), max(y1 - 1, y0)], outline=tint, width=2)
    for box in boxes:  # keypoints over every box
        for index, (x, y, visible) in enumerate(box.keypoints):
            if visible:
                side = sides[index] if index < len(sides) else "centre"
                _keypoint(pen, x * scale, y * scale, side, colour(box.label))
    return np.asarray(image)


def _scaled(boxes: Sequence[Any], scale: float) -> list[Any]:
    from types import SimpleNamespace

    return [
        SimpleNamespace(x0=b.x0 * scale, y0=b.y0 * scale, x1=b.x1 * scale, y1=b.y1 * scale, label=b.label)
        for b in boxes
    ]


def _paint_mask(rgb: np.ndarray, mask: np.ndarray, ignore: Any, classes: Mapping[int, Any]) -> None:
    shown = mask != 0
    if ignore is not None:
        shown &= mask != ignore
    if not shown.any():
        return
    layer = np.zeros_like(rgb)
    for value in np.unique(mask[shown]):
        layer[mask == value] = colour(classes.get(int(value), int(value)))
    mixed = rgb[shown].astype(np.float32) * (1 - MASK_ALPHA) + layer[shown].astype(np.float32) * MASK_ALPHA
    rgb[shown] = np.rint(mixed).astype(np.uint8)
    # the outline: shown pixels a 4-neighbour of which holds another value
    padded = np.pad(mask, 1, mode="edge")
    edge = np.zeros(mask.shape, bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        edge |= padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]] != mask
    edge &= shown
    rgb[edge] = layer[edge]


def _keypoint(pen: ImageDraw.ImageDraw, x: float, y: float, side: str, tint: tuple[int, int, int]) -> None:
    r = KEYPOINT_RADIUS
    if side == "left":
        pen.ellipse([x - r, y - r, x + r, y + r], fill=LEFT, outline=RIGHT)
    elif side == "right":
        pen.rectangle([x - r, y - r, x + r, y + r], fill=RIGHT, outline=LEFT)
    else:
        pen.ellipse([x - r, y - r, x + r, y + r], fill=tint, outline=RIGHT)


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(as_rgb(pixels)).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(as_rgb(pixels)).save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def photographic(rgb: np.ndarray) -> bool:
    """Whether a picture is a photograph (JPEG shows it in a fraction of PNG's bytes): more than
    FEW_COLOURS colours and larger than SMALL. Masks, line art and charts are not."""
    if rgb.shape[0] * rgb.shape[1] <= SMALL:
        return False
    flat = rgb.reshape(-1, rgb.shape[-1]) if rgb.ndim == 3 else rgb.reshape(-1, 1)
    packed = np.zeros(len(flat), np.uint32)
    for channel in range(flat.shape[1]):
        packed = (packed << 8) | flat[:, channel].astype(np.uint32)
    return len(np.unique(packed)) > FEW_COLOURS


def picture_uri(shown: np.ndarray, keep_png: bool = False) -> str:
    """A data URI for a picture as the page shows it: JPEG (quality JPEG_QUALITY) for a photograph,
    PNG for line art, masks, small pictures and `keep_png` ones (an image with alpha)."""
    rgb = as_rgb(shown)
    if not keep_png and photographic(rgb):
        return data_uri(jpeg(rgb), "image/jpeg")
    return data_uri(png(rgb), "image/png")


def thumbnail(pixels: np.ndarray, longest: int = 320) -> np.ndarray:
    """At most `longest` pixels on the long side."""
    height, width = pixels.shape[:2]
    scale = longest / max(height, width)
    if scale >= 1:
        return pixels
    image = Image.fromarray(pixels).resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.LANCZOS)
    return np.asarray(image)


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


SHEET_PAD = 8  # between cells and around the sheet
CAPTION_GAP = 2  # between a picture and its caption
CAPTION_LINES = 3  # the label, then up to two lines of its parameters


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def _wrap(pen: ImageDraw.ImageDraw, text: str, width: int, lines: int, font: Any) -> list[str]:
    """`text` broken into at most `lines` lines no wider than `width` (the last cut with ...)."""
    out: list[str] = []
    rest = text.strip()
    while rest and len(out) < lines:
        cut = len(rest)
        while cut > 1 and pen.textlength(rest[:cut], font=font) > width:
            cut -= 1
        if cut < len(rest) and " " in rest[:cut]:
            cut = rest[:cut].rindex(" ") + 1
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and out:
        last = out[-1]
        while last and pen.textlength(last + "...", font=font) > width:
            last = last[:-1]
        out[-1] = last + "..."
    return out


def contact_sheet(
    rows: Sequence[tuple[str, Sequence[tuple[np.ndarray, str] | tuple[np.ndarray, str, str]]]], cell: int = 200
) -> bytes:
    """A PNG grid: one row per input, its name above, then the original and its copies side by side,
    each picture shrunk to `cell` pixels on its long side with its caption (label, then its sampled
    parameters when given) directly under it, `CAPTION_GAP` pixels below the picture's bottom edge."""
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_height = int(probe.textbbox((0, 0), "Ag", font=font)[3]) + 2
    laid = []  # per row: title, [(picture, caption lines)], row height
    for title, cells in rows:
        pictures = []
        for entry in cells:
            pixels, label = entry[0], entry[1]
            small = thumbnail(as_rgb(pixels), cell)
            text = [label] + (_wrap(probe, entry[2], cell, CAPTION_LINES - 1, font) if len(entry) > 2 else [])
            pictures.append((small, text))
        tallest = max((p.shape[0] + CAPTION_GAP + len(t) * line_height for p, t in pictures), default=0)
        laid.append((title, pictures, tallest))
    columns = max((len(p) for _, p, _ in laid), default=1)
    width = SHEET_PAD + columns * (cell + SHEET_PAD)
    height = SHEET_PAD + sum(line_height + tallest + SHEET_PAD for _, _, tallest in laid)
    sheet = Image.new("RGB", (max(width, 200), max(height, 40)), (255, 255, 255))
    pen = ImageDraw.Draw(sheet)
    y = SHEET_PAD
    for title, pictures, tallest in laid:
        pen.text((SHEET_PAD, y), title, fill=(0, 0, 0), font=font)
        y += line_height
        for index, (small, text) in enumerate(pictures):
            x = SHEET_PAD + index * (cell + SHEET_PAD)
            sheet.paste(Image.fromarray(small), (x, y))
            top = y + small.shape[0] + CAPTION_GAP
            for number, line in enumerate(text):
                ink = (0, 0, 0) if number == 0 else (80, 80, 80)
                pen.text((x, top + number * line_height), line, fill=ink, font=font)
        y += tallest + SHEET_PAD
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
