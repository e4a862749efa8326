"""The mixing transforms, written from their papers: Mosaic (YOLOv4, Bochkovskiy et al. 2020),
MixUp (Zhang et al. 2018), CutMix (Yun et al. 2019) and Copy-Paste (Ghiasi et al. 2021).

`sample` draws what does not depend on the partners (so a copy's plan is known from its own
input); `mix` takes the partners, puts the pixels and every target together, and adds to the
step's parameters what it took from each partner, so the manifest says it and replay redoes it.
In each, the input keeps the larger share of the copy: a class-folder copy stays in its folder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from augcli.core.params import Choice, Number, Size, Span
from augcli.core.transforms import draw_seed, first_problem, is_whole, range_problem, register, uniform
from augcli.image import geometry
from augcli.image.labels.shapes import Box
from augcli.image.mix import kernels, targets
from augcli.image.ops import Op
from augcli.image.transforms import ImageInfo, ImageTransform


@dataclass
class Picture:
    """A picture and what it carries: boxes (with polygons and keypoints), a class mask, and the
    share of each class in it (class-folder sections: the soft label)."""

    pixels: np.ndarray
    boxes: list[Box] = field(default_factory=list)
    mask: np.ndarray | None = None
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


@dataclass(frozen=True)
class Partner:
    relative: str  # its path under INPUT: what the manifest records
    picture: Picture


@dataclass(frozen=True)
class Rules:
    """The section's rules for targets: which boxes survive, how they move."""

    min_visibility: float = 0.0
    min_size: float = 1.0
    from_polygons: bool = False
    flip_idx: tuple[int, ...] = ()


Take = Callable[[int], Partner]  # the k-th partner of a step


def _mixed(ours: dict[str, float], theirs: dict[str, float], weight: float) -> dict[str, float]:
    """Class shares of `weight` of ours and the rest of theirs."""
    shares = {name: share * weight for name, share in ours.items()}
    for name, share in theirs.items():
        shares[name] = shares.get(name, 0.0) + share * (1.0 - weight)
    return shares


def _fitted(partner: Picture, like: Picture, size: tuple[int, int], fit: str) -> tuple[np.ndarray, np.ndarray]:
    """A partner's pixels scaled to `size` (cover: keep its aspect and crop the middle; stretch),
    and the matrix that did it."""
    if fit == "cover":
        matrix = kernels.cover_matrix(partner.size, size, (0.5, 0.5))
    else:
        matrix = kernels.stretch_matrix(partner.size, size)
    return kernels.place(kernels.conform(partner.pixels, like.pixels), matrix, size), matrix


def _their_mask(partner: Picture, matrix: np.ndarray, size: tuple[int, int], like: np.ndarray) -> np.ndarray:
    if partner.mask is None:
        return np.zeros((size[1], size[0]), dtype=like.dtype)
    return targets.placed_mask(partner.mask.astype(like.dtype), matrix, size)


class Mixing(ImageTransform):
    """A step that mixes other inputs into the copy; the image modality runs it between the
    merged runs of ordinary steps."""

    mixes = True
    recorded_notes = ("partners",)  # the partners a copy took (read back through PartnerLoader's checks)

    def op(self, info: ImageInfo, **params: Any) -> Op:
        raise TypeError(f"{self.name} mixes several pictures: it runs through `mix`, not as a pixel op")

    def mix(self, picture: Picture, params: dict[str, Any], take: Take, rules: Rules) -> Picture:
        raise NotImplementedError


@register("image")
class Mosaic(Mixing):
    """Tile the picture (the largest tile) with partners, 2x2 or 3x3, around a random centre; later steps see it."""

    grid = Number(2, "tiles per side: 2 (four pictures) or 3 (nine)", integer=True, lo=2, hi=3)
    size = Size(None, "output [height, width]; default: the picture's size")
    jitter = Number(0.4, "how far the grid lines move from even spacing, as a share of a tile", lo=0.0, hi=0.45)

    def partner_slots(self) -> int:
        return self.grid * self.grid - 1

    def sample(self, rng, info):
        height, width = self.size or (info.height, info.width)
        n = self.grid
        cuts_x = [(k + uniform(rng, (-self.jitter, self.jitter))) / n for k in range(1, n)]
        cuts_y = [(k + uniform(rng, (-self.jitter, self.jitter))) / n for k in range(1, n)]
        offsets = [[float(rng.random()), float(rng.random())] for _ in range(n * n)]
        xs, ys = kernels.cell_edges(width, cuts_x), kernels.cell_edges(height, cuts_y)
        areas = [(xs[c % n + 1] - xs[c % n]) * (ys[c // n + 1] - ys[c // n]) for c in range(n * n)]
        own = areas.index(max(areas))  # the input takes the largest tile
        return {"size": [width, height], "cuts_x": cuts_x, "cuts_y": cuts_y, "own": own, "offsets": offsets}

    def replay_problem(self, params: dict[str, Any], info: ImageInfo) -> str | None:
        """The recipe's size (or the picture's), grid lines within the jitter, the own tile one of
        the grid's, offsets within their tiles."""
        height, width = self.size or (info.height, info.width)
        if params.get("size") != [width, height]:
            return f"size {params.get('size')!r} is not the {width}x{height} this recipe makes here"
        n = self.grid
        for key in ("cuts_x", "cuts_y"):
            cuts = params.get(key)
            if not isinstance(cuts, list) or len(cuts) != n - 1:
                return f"{key} must hold {n - 1} grid lines"
            lines = (((k - self.jitter) / n, (k + self.jitter) / n) for k in range(1, n))
            why = first_problem(range_problem(key, cut, line) for cut, line in zip(cuts, lines, strict=True))
            if why is not None:
                return why
        own, offsets = params.get("own"), params.get("offsets")
        if not is_whole(own) or not 0 <= own < n * n:
            return f"own {own!r} is not one of the {n * n} tiles"
        if not isinstance(offsets, list) or len(offsets) != n * n:
            return f"offsets must hold one [x, y] per tile ({n * n})"
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in offsets):
            return "an offset is not [x, y]"
        return first_problem(range_problem("offset", value, (0.0, 1.0)) for pair in offsets for value in pair)

    def output_info(self, info, params):
        width, height = params["size"]
        return replace(info, width=width, height=height)

    def mix(self, picture, params, take, rules):
        width, height = params["size"]
        n = self.grid
        xs, ys = kernels.cell_edges(width, params["cuts_x"]), kernels.cell_edges(height, params["cuts_y"])
        canvas = np.zeros((height, width, *picture.pixels.shape[2:]), dtype=picture.pixels.dtype)
        mask = None if picture.mask is None else np.zeros((height, width), dtype=picture.mask.dtype)
        boxes: list[Box] = []
        shares: dict[str, float] = {}
        taken: list[dict[str, Any]] = []
        for cell in range(n * n):
            row, col = divmod(cell, n)
            left, top, right, bottom = xs[col], ys[row], xs[col + 1], ys[row + 1]
            if right <= left or bottom <= top:
                continue
            if cell == params["own"]:
                tile = picture
            else:
                partner = take(len(taken))
                taken.append({"path": partner.relative, "cell": cell})
                tile = partner.picture
            size = (right - left, bottom - top)
            matrix = kernels.cover_matrix(tile.size, size, tuple(params["offsets"][cell]))
            canvas[top:bottom, left:right] = kernels.place(kernels.conform(tile.pixels, picture.pixels), matrix, size)
            cell_box = (left, top, right, bottom)
            boxes += targets.placed(tile.boxes, matrix, cell_box, (width, height), rules.from_polygons, rules.flip_idx)
            if mask is not None:
                mask[top:bottom, left:right] = _their_mask(tile, matrix, size, mask)
            area = size[0] * size[1] / (width * height)
            for name, share in tile.shares.items():
                shares[name] = shares.get(name, 0.0) + share * area
        params["partners"] = taken
        return Picture(canvas, targets.kept(boxes, rules.min_visibility, rules.min_size), mask, shares)


class _Blending:
    fit = Choice("cover", ["cover", "stretch"], "partner to the picture's size: keep its aspect (crop) or stretch")


def _beta(rng: np.random.Generator, alpha: float) -> float:
    return float(rng.beta(alpha, alpha))


@register("image")
class Mixup(Mixing, _Blending):
    """Blend the picture with a partner, weight from Beta(alpha, alpha); the picture keeps the larger share."""

    alpha = Number(0.2, "Beta(alpha, alpha) draws the weight: small is near 1, 32 is near 0.5", lo=0.0, lo_open=True)

    def partner_slots(self) -> int:
        return 1

    def sample(self, rng, info):
        weight = _beta(rng, self.alpha)
        return {"weight": max(weight, 1.0 - weight)}

    def mix(self, picture, params, take, rules):
        partner = take(0)
        theirs, matrix = _fitted(partner.picture, picture, picture.size, self.fit)
        weight = params["weight"]
        width, height = picture.size
        boxes = picture.boxes + targets.kept(
            targets.placed(partner.picture.boxes, matrix, (0, 0, width, height), picture.size, rules.from_polygons),
            rules.min_visibility,
            rules.min_size,
        )
        params["partners"] = [{"path": partner.relative}]
        pixels = kernels.blend(picture.pixels, theirs, weight)
        # a class mask cannot be blended: the picture's, the larger share, stands
        return Picture(pixels, boxes, picture.mask, _mixed(picture.shares, partner.picture.shares, weight))


@register("image")
class Cutmix(Mixing, _Blending):
    """Paste a rectangle of a partner over the same place; its area from Beta(alpha, alpha), at most half."""

    alpha = Number(1.0, "Beta(alpha, alpha) draws the rectangle's share of the area", lo=0.0, lo_open=True)

    def partner_slots(self) -> int:
        return 1

    def sample(self, rng, info):
        width, height = info.width, info.height
        weight = _beta(rng, self.alpha)
        share = min(weight, 1.0 - weight)
        cut_w, cut_h = round(width * math.sqrt(share)), round(height * math.sqrt(share))
        cx, cy = int(rng.integers(width)), int(rng.integers(height))
        x0, y0 = min(max(cx - cut_w // 2, 0), width), min(max(cy - cut_h // 2, 0), height)
        x1, y1 = min(max(cx - cut_w // 2 + cut_w, 0), width), min(max(cy - cut_h // 2 + cut_h, 0), height)
        return {"box": [x0, y0, x1, y1]}

    def mix(self, picture, params, take, rules):
        x0, y0, x1, y1 = params["box"]
        width, height = picture.size
        if x1 <= x0 or y1 <= y0:
            params["partners"] = []
            return picture
        partner = take(0)
        theirs, matrix = _fitted(partner.picture, picture, picture.size, self.fit)
        pixels = picture.pixels.copy()
        pixels[y0:y1, x0:x1] = theirs[y0:y1, x0:x1]
        cover = np.zeros((height, width), dtype=bool)
        cover[y0:y1, x0:x1] = True
        ours = targets.occlude(picture.boxes, cover, rules.min_visibility)
        into_box = geometry.translation(-x0, -y0) @ matrix
        pasted = targets.placed(partner.picture.boxes, into_box, (x0, y0, x1, y1), picture.size, rules.from_polygons)
        mask = picture.mask
        if mask is not None:
            mask = mask.copy()
            mask[y0:y1, x0:x1] = _their_mask(partner.picture, matrix, picture.size, mask)[y0:y1, x0:x1]
        share = (x1 - x0) * (y1 - y0) / (width * height)
        params["partners"] = [{"path": partner.relative, "share": share}]
        boxes = ours + targets.kept(pasted, rules.min_visibility, rules.min_size)
        return Picture(pixels, boxes, mask, _mixed(picture.shares, partner.picture.shares, 1.0 - share))


@register("image")
class CopyPaste(Mixing):
    """Cut objects (by their polygons or mask) out of partners and paste them on; they cover what lies under them."""

    partners = Number(1, "pictures to take objects from", integer=True, lo=1, hi=8)
    objects = Span((1, 3), "objects pasted from each partner (those with a shape)", integer=True, lo=1, hi=100)
    scale = Span(
        (0.5, 1.5), "size of a pasted object against its own", scalar="around_one", lo=0.0, lo_open=True, hi=10
    )
    flip = Number(0.5, "chance that a pasted object is mirrored", lo=0.0, hi=1.0)

    def partner_slots(self) -> int:
        return self.partners

    def sample(self, rng, info):
        return {"seed": draw_seed(rng)}

    def mix(self, picture, params, take, rules):
        rng = np.random.default_rng(params["seed"])
        width, height = picture.size
        pixels, mask, boxes = picture.pixels.copy(), picture.mask, list(picture.boxes)
        mask = None if mask is None else mask.copy()
        taken = []
        for k in range(self.partners):
            partner = take(k)
            shaped = [i for i, box in enumerate(partner.picture.boxes) if _shape(box, partner.picture) is not None]
            count = min(int(rng.integers(self.objects[0], self.objects[1] + 1)), len(shaped))
            chosen = sorted(int(i) for i in rng.choice(shaped, size=count, replace=False)) if count else []
            pasted = []
            for index in chosen:
                box = partner.picture.boxes[index]
                placement = _placement(box, rng, uniform(rng, self.scale), rng.random() < self.flip, (width, height))
                if placement is None:
                    continue
                pixels, mask, boxes, moved = _paste(pixels, mask, boxes, partner.picture, box, placement, rules)
                if moved is not None:
                    boxes.append(moved)
                left, top, scale, mirrored = placement
                pasted.append({"object": index, "at": [left, top], "scale": scale, "flip": mirrored})
            taken.append({"path": partner.relative, "objects": pasted})
        params["partners"] = taken
        return Picture(pixels, targets.kept(boxes, rules.min_visibility, rules.min_size), mask, dict(picture.shares))


def _window(box: Box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    left, top = max(math.floor(box.x0), 0), max(math.floor(box.y0), 0)
    return left, top, min(math.ceil(box.x1), size[0]), min(math.ceil(box.y1), size[1])


def _shape(box: Box, picture: Picture, bare: bool = False) -> np.ndarray | None:
    """The object's pixels within its box window: its polygons, else its mask's labelled pixels;
    a bare box has no shape to cut: None, or with `bare` its whole rectangle."""
    left, top, right, bottom = _window(box, picture.size)
    if right <= left or bottom <= top:
        return None
    if box.polygons:
        alpha = kernels.polygon_raster(box.polygons, (right - left, bottom - top), (left, top))
    elif picture.mask is not None:
        alpha = picture.mask[top:bottom, left:right] != 0
    elif bare:
        alpha = np.ones((bottom - top, right - left), dtype=bool)
    else:
        return None
    return alpha if alpha.any() else None


def paste_objects(
    picture: Picture, classes: list[str], seed: int, take: Take, rules: Rules, name_of: Callable[[Any], str]
) -> tuple[Picture, list[dict[str, Any]]]:
    """`balance: {by: object}`: one object of each class in `classes`, cut from the k-th partner
    (a picture holding that class) by its shape (a bare box: its rectangle), pasted as copy_paste
    pastes. Returns the picture and what was taken from each partner."""
    rng = np.random.default_rng(seed)
    pixels, boxes = picture.pixels.copy(), list(picture.boxes)
    mask = None if picture.mask is None else picture.mask.copy()
    taken = []
    for k, label in enumerate(classes):
        partner = take(k)
        holders = [i for i, box in enumerate(partner.picture.boxes) if name_of(box.label) == label]
        holders = [i for i in holders if _shape(partner.picture.boxes[i], partner.picture, bare=True) is not None]
        pasted = []
        if holders:
            index = int(holders[int(rng.integers(len(holders)))])
            box = partner.picture.boxes[index]
            placement = _placement(box, rng, uniform(rng, (0.75, 1.25)), bool(rng.random() < 0.5), picture.size)
            if placement is not None:
                pixels, mask, boxes, moved = _paste(pixels, mask, boxes, partner.picture, box, placement, rules, True)
                boxes += [moved] if moved is not None else []
                left, top, scale, mirrored = placement
                pasted.append({"object": index, "at": [left, top], "scale": scale, "flip": mirrored})
        taken.append({"path": partner.relative, "class": label, "objects": pasted})
    kept = targets.kept(boxes, rules.min_visibility, rules.min_size)
    return Picture(pixels, kept, mask, dict(picture.shares)), taken


def _placement(
    box: Box, rng: np.random.Generator, scale: float, mirrored: bool, canvas: tuple[int, int]
) -> tuple[int, int, float, bool] | None:
    """Where a pasted object goes: (left, top) on the canvas, its scale (shrunk to fit), mirrored."""
    width, height = max(box.x1 - box.x0, 1.0), max(box.y1 - box.y0, 1.0)
    scale = min(scale, canvas[0] / width, canvas[1] / height)
    out_w, out_h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    if out_w > canvas[0] or out_h > canvas[1]:
        return None
    left, top = int(rng.integers(canvas[0] - out_w + 1)), int(rng.integers(canvas[1] - out_h + 1))
    return left, top, float(scale), bool(mirrored)


def _paste(
    pixels: np.ndarray,
    mask: np.ndarray | None,
    boxes: list[Box],
    partner: Picture,
    box: Box,
    placement: tuple[int, int, float, bool],
    rules: Rules,
    bare: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, list[Box], Box | None]:
    """One object cut from `partner` and pasted: the pixels, mask and boxes under it updated, and
    the object's own box on the canvas."""
    left, top, scale, mirrored = placement
    x0, y0, x1, y1 = _window(box, partner.size)
    alpha = _shape(box, partner, bare)
    size = (pixels.shape[1], pixels.shape[0])
    out_w, out_h = max(1, math.floor((x1 - x0) * scale)), max(1, math.floor((y1 - y0) * scale))
    out_w, out_h = min(out_w, size[0] - left), min(out_h, size[1] - top)
    local = kernels.scale_matrix(out_w / (x1 - x0), out_h / (y1 - y0))
    if mirrored:
        local = geometry.hflip(out_w) @ local
    patch = kernels.place(kernels.conform(partner.pixels[y0:y1, x0:x1], pixels), local, (out_w, out_h))
    shape = kernels.place(alpha.astype(np.uint8), local, (out_w, out_h), "nearest").astype(bool)
    cover = np.zeros((size[1], size[0]), dtype=bool)
    cover[top : top + out_h, left : left + out_w] = shape
    region = pixels[top : top + out_h, left : left + out_w]
    region[shape] = patch[shape]
    boxes = targets.occlude(boxes, cover, rules.min_visibility)
    if mask is not None:
        theirs = partner.mask[y0:y1, x0:x1] if partner.mask is not None else np.zeros(alpha.shape, mask.dtype)
        placed = kernels.place(theirs.astype(mask.dtype), local, (out_w, out_h), "nearest")
        mask[top : top + out_h, left : left + out_w][shape] = placed[shape]
    matrix = geometry.translation(left, top) @ local @ geometry.translation(-x0, -y0)
    if box.polygons:
        (moved,) = targets.placed([box], matrix, (0, 0, size[0], size[1]), size, True, rules.flip_idx) or [None]
        return pixels, mask, boxes, moved
    rows, cols = np.nonzero(cover)
    if len(rows) == 0:
        return pixels, mask, boxes, None
    (moved,) = targets.placed([box], matrix, (0, 0, size[0], size[1]), size, False, rules.flip_idx) or [None]
    if moved is None:
        return pixels, mask, boxes, None
    tight = (float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))
    return pixels, mask, boxes, replace(moved, x0=tight[0], y0=tight[1], x1=tight[2], y1=tight[3])
