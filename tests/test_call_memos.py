"""What a training loop's call remembers between calls (picture descriptions, fills, the inverse
of a flip or crop) answers exactly what working it out again answers, for every kind of picture."""

from __future__ import annotations

import numpy as np
import pytest

from augcli.image import functional as F
from augcli.image import geometry
from augcli.image.transforms import ImageInfo
from augcli.video.transforms import VideoInfo

SHAPES = [(5, 7), (5, 7, 1), (5, 7, 2), (5, 7, 3), (5, 7, 4), (7, 5, 3)]
EXPECTED = {  # shape -> (width, height, colour channels, alpha)
    (5, 7): (7, 5, 1, False),
    (5, 7, 1): (7, 5, 1, False),
    (5, 7, 2): (7, 5, 1, True),
    (5, 7, 3): (7, 5, 3, False),
    (5, 7, 4): (7, 5, 3, True),
    (7, 5, 3): (5, 7, 3, False),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_description_is_the_shapes_and_shared(shape):
    info = ImageInfo.of(np.zeros(shape, np.uint8))
    assert type(info) is ImageInfo
    assert (info.width, info.height, info.channels, info.alpha) == EXPECTED[shape]
    assert ImageInfo.of(np.ones(shape, np.uint16)) is info  # the same description, not a new one


def test_a_subclass_never_takes_an_image_description():
    """VideoInfo shares the memo's code: a description made for one class is never handed out
    for the other (a video copy's frames would vanish, or a picture would gain them)."""
    video = VideoInfo.sized(7, 5, 3, False)
    picture = ImageInfo.sized(7, 5, 3, False)
    assert type(video) is VideoInfo and type(picture) is ImageInfo
    assert ImageInfo.of(np.zeros((5, 7, 3), np.uint8)) is picture


def test_a_resizing_step_describes_its_output_with_the_inputs_colour():
    from augcli.image.transforms import CenterCrop

    crop = CenterCrop(size=[2, 3])
    for shape in SHAPES:
        info = ImageInfo.of(np.zeros(shape, np.uint8))
        out = crop.output_info(info, {"top": 0, "left": 0})
        assert (out.width, out.height, out.channels, out.alpha) == (3, 2, info.channels, info.alpha)
        assert type(out) is ImageInfo


def test_a_video_description_keeps_its_frames_through_a_resize():
    from augcli.image.transforms import CenterCrop

    info = VideoInfo(7, 5, 3, False, frames=12, fps=30.0)
    out = CenterCrop(size=[2, 3]).output_info(info, {"top": 0, "left": 0})
    assert type(out) is VideoInfo and (out.width, out.height, out.frames, out.fps) == (3, 2, 12, 30.0)


@pytest.mark.parametrize("fill", [(0,), (255,), (10, 20, 30), (10, 20, 30, 40), (99, 128), (127.5,)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_kept_fill_is_the_one_worked_out_for_that_picture(fill, dtype):
    """The same fill on pictures of another depth or channel count is another pixel: each is
    worked out on its own, whatever was asked before."""
    answers = {}
    for shape in SHAPES:
        pixels = np.zeros(shape, dtype)
        got = F.fill_pixel(fill, pixels)
        fresh = F._fill_pixel(fill, pixels)
        assert np.asarray(got).dtype == dtype and np.array_equal(got, fresh), (shape, got, fresh)
        answers[shape] = np.asarray(got).tolist()
    assert answers[(5, 7, 3)] != answers[(5, 7, 4)]  # alpha added for RGBA
    if isinstance(got, np.ndarray):
        with pytest.raises(ValueError):
            got[...] = 1  # shared: read-only


def test_fills_of_equal_value_and_other_type_agree():
    pixels = np.zeros((4, 4, 3), np.uint8)
    assert F.fill_pixel([10, 20, 30], pixels).tolist() == [10, 20, 30]
    assert F.fill_pixel((np.float64(10), 20.0, 30), pixels).tolist() == [10, 20, 30]
    kept = len(F._FILLS)
    assert F.fill_pixel(np.array([10.0, 20.0, 31.0]), pixels).tolist() == [10, 20, 31]  # an array's values
    assert len(F._FILLS) in (kept + 1, 1)  # kept by value (or the memo was just emptied)


MATRICES = [
    geometry.hflip(7),
    geometry.vflip(5),
    np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),  # transpose
    np.array([[1.0, 0.0, -3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]]),  # a crop's shift
    np.array([[-1.0, 0.0, 6.0], [0.0, -1.0, 4.0], [0.0, 0.0, 1.0]]),  # a half turn
]


@pytest.mark.parametrize("matrix", MATRICES, ids=range(len(MATRICES)))
def test_a_kept_inverse_is_the_worked_out_one_and_sends_points_back(matrix):
    for _ in range(2):  # the second answer comes from the memo
        got = F._permutation_inverse(np.asarray(matrix, float))
        assert got == F._work_out_permutation_inverse(np.asarray(matrix, float))
        top = np.array(got, float)
        for x, y in [(0, 0), (3, 1), (6, 4)]:
            ox, oy, _ = np.asarray(matrix, float) @ (x, y, 1)
            assert tuple(top @ (ox, oy, 1)) == (x, y)


def test_a_matrix_that_resamples_has_no_inverse_kept_or_not():
    turned = geometry.rotation(10.0, 7, 5)
    shifted = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # half a pixel
    for matrix in (turned, shifted):
        assert F._permutation_inverse(np.asarray(matrix, float)) is None
        assert F._permutation_inverse(np.asarray(matrix, float)) is None


def test_a_crop_at_every_offset_reads_the_pixels_under_it():
    """Random crops of one size reuse kept inverses: each still takes its own window."""
    import augcli

    pipeline = augcli.parse_recipe("image:\n  transforms:\n    - crop: {size: [3, 4]}\n").pipeline("image")
    pixels = np.arange(9 * 11 * 3, dtype=np.uint16).reshape(9, 11, 3)
    seen = set()
    for seed in range(60):
        out = pipeline(pixels, rng=np.random.default_rng(seed))
        params = out.records[0]["params"]
        top, left = params["top"], params["left"]
        assert np.array_equal(out.sample, pixels[top : top + 3, left : left + 4])
        seen.add((top, left))
    assert len(seen) > 20


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("value", [0.5, 1.2, 2.0])
def test_kept_gamma_and_solarize_tables_are_each_depths_own(dtype, value):
    """A kept table answers for its kernel, parameter and depth only: asked twice (the second
    from the memo) and in turn with the other depth and kernel, each value is the formula's."""
    top = np.iinfo(dtype).max
    values = np.arange(top + 1, dtype=dtype).reshape(1, -1)
    ramp = np.arange(top + 1, dtype=np.float64)
    expected_gamma = np.clip(np.rint(top * (ramp / top) ** value), 0, top)
    for _ in range(2):
        assert np.array_equal(F.gamma(values, value)[0], expected_gamma)
        for threshold in (value / 2.5, 0.5):  # 0.5 is also a gamma asked for: kernels never share
            expected_solarize = np.where(ramp >= threshold * top, top - ramp, ramp)
            assert np.array_equal(F.solarize(values, threshold)[0], expected_solarize)


def test_records_a_caller_edits_never_change_what_a_later_call_warps():
    """A step remembers its last parameters' geometry and warp; the parameters it hands back in
    the records are the caller's to edit, and an edit must not make the memo answer for them."""
    import augcli

    pipeline = augcli.parse_recipe("image:\n  transforms:\n    - crop: {size: [3, 4]}\n").pipeline("image")
    pixels = np.arange(9 * 11, dtype=np.uint8).reshape(9, 11)
    first = pipeline(pixels, rng=np.random.default_rng(1))
    top, left = first.records[0]["params"]["top"], first.records[0]["params"]["left"]
    other = (top + 2) % 7
    first.records[0]["params"]["top"] = other  # the caller's edit of its own records
    again = pipeline.replay(pixels, [{"name": "crop", "params": {"top": other, "left": left}}])
    assert np.array_equal(again.sample, pixels[other : other + 3, left : left + 4])


def _by_index(pixels: np.ndarray, matrix: np.ndarray, size: tuple[int, int], fill: int) -> np.ndarray:
    """The warp of a whole-pixel matrix by its definition: each output pixel reads the source
    pixel the inverse sends it to, or the fill where that lies off the picture."""
    inverse = np.linalg.inv(matrix)
    out = np.full((size[1], size[0]) + pixels.shape[2:], fill, pixels.dtype)
    for y in range(size[1]):
        for x in range(size[0]):
            sx, sy, _ = np.rint(inverse @ (x, y, 1)).astype(int)
            if 0 <= sx < pixels.shape[1] and 0 <= sy < pixels.shape[0]:
                out[y, x] = pixels[sy, sx]
    return out


@pytest.mark.parametrize(
    "matrix",
    [
        geometry.crop(3, 2),  # a window: inside a big picture, hanging off a small one
        geometry.hflip(7),  # a whole flip of a 7-wide picture, a partial one of others
        geometry.rot90(1, 7, 5),
        np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]),  # a shift: framed or cut
    ],
    ids=["crop", "hflip", "rot90", "shift"],
)
def test_an_index_warp_is_worked_out_for_each_picture_size(matrix):
    """What a whole-pixel warp copies, fills or flips is kept per picture size: the same matrix
    and output size on pictures of other sizes (in turn, twice) is each one's own warp."""
    size = (7, 5)
    for _ in range(2):
        for shape in [(5, 7, 3), (9, 11, 3), (4, 5, 3), (5, 7), (7, 5, 3)]:
            pixels = np.arange(np.prod(shape), dtype=np.uint8).reshape(shape) + 1
            got = F.warp(pixels, matrix, size, fill=(9.0,))
            assert np.array_equal(got, _by_index(pixels, matrix, size, 9)), shape


def _fresh(cmap):
    from augcli.image.color import ColorMap

    return ColorMap(cmap.a.copy(), cmap.b_mean.copy(), cmap.bias.copy())  # nothing kept on it yet


@pytest.mark.parametrize("name", ["brightness", "invert", "grayscale", "contrast", "saturation", "hue"])
def test_a_colour_map_used_again_answers_as_a_new_one(name):
    """A colour map keeps its matrix for each depth it served; used in turn on 8- and 16-bit
    pictures and on pictures of other means, each answer is a fresh map's."""
    from augcli.image import color

    make = {
        "brightness": lambda: color.brightness(1.3, 3),
        "invert": lambda: color.invert(3),
        "grayscale": lambda: color.grayscale(3),
        "contrast": lambda: color.contrast(1.4, 3),
        "saturation": lambda: color.saturation(0.5, 3),
        "hue": lambda: color.hue(0.2, 3),
    }[name]
    cmap = make()
    rng = np.random.default_rng(7)
    for _ in range(2):
        for dtype, top in ((np.uint8, 255), (np.uint16, 65535), (np.uint8, 120)):
            pixels = rng.integers(0, top + 1, (6, 5, 3)).astype(dtype)
            assert np.array_equal(F.color_map(pixels, cmap), F.color_map(pixels, _fresh(cmap))), (dtype, top)


def test_a_record_edited_in_place_replays_as_edited():
    """The lists in a record (a perspective's corners, a jitter's order) are the caller's: edited
    in place and replayed, they give what a fresh pipeline gives for the edited record."""
    import augcli

    pixels = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    text = "image:\n  transforms:\n    - perspective: {p: 1}\n"
    pipeline = augcli.parse_recipe(text).pipeline("image")
    corners = [[0.0, 0.0], [39.0, 0.0], [39.0, 31.0], [0.0, 31.0]]
    record = [{"name": "perspective", "params": {"corners": corners}}]
    for shift in (0.0, 2.0, 4.0):
        corners[0][0] = shift
        fresh = augcli.parse_recipe(text).pipeline("image").replay(pixels, record).sample
        assert np.array_equal(pipeline.replay(pixels, record).sample, fresh), shift

    text = "image:\n  transforms:\n    - color_jitter: {brightness: 0.5, hue: 0.3, p: 1}\n"
    pipeline = augcli.parse_recipe(text).pipeline("image")
    drawn = pipeline(pixels, rng=np.random.default_rng(3))
    drawn.records[0]["params"]["order"].remove("hue")
    fresh = augcli.parse_recipe(text).pipeline("image").replay(pixels, drawn.records).sample
    assert not np.array_equal(fresh, drawn.sample)
    assert np.array_equal(pipeline.replay(pixels, drawn.records).sample, fresh)


def test_a_float32_parameter_is_never_answered_for_an_equal_float():
    """np.float32(x) == float(np.float32(x)), yet numpy computes with it in float32: a memo keyed
    by value alone would answer one with the other's table or fill."""
    ramp = np.arange(256, dtype=np.uint8).reshape(1, -1)
    wide = np.arange(256, dtype=np.float64)
    t32 = np.float32(0.2)
    for threshold in (float(t32), t32, float(t32), t32):
        expected = np.where(wide >= threshold * 255, 255 - wide, wide)
        assert np.array_equal(F.solarize(ramp, threshold)[0], expected), type(threshold)
    assert not np.array_equal(F.solarize(ramp, t32), F.solarize(ramp, float(t32)))  # the case is real

    deep = np.zeros((2, 2, 3), np.uint16)
    v32 = np.float32(0.005836575757712126)
    answers = {kind: F._fill_pixel([kind(v32)], deep).tolist() for kind in (float, np.float32)}
    assert answers[float] != answers[np.float32]
    for kind in (float, np.float32, float, np.float32):
        assert F.fill_pixel([kind(v32)], deep).tolist() == answers[kind]


def test_unhashable_parameters_of_the_functional_api_still_work():
    pixels = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    assert np.array_equal(F.gamma(pixels, np.array(0.8)), F.gamma(pixels, 0.8))
    assert np.array_equal(F.solarize(pixels, np.array([0.5])), F.solarize(pixels, 0.5))
    assert np.array_equal(F.warp(pixels, geometry.hflip(4), [4, 4]), pixels[:, ::-1])


def test_every_memo_of_a_call_is_bounded_and_keeps_the_newest():
    """A stream of new keys (a parameter drawn on every call) never grows a memo past its bound."""
    from augcli.core.memo import BoundedMemo
    from augcli.image import transforms

    memo = BoundedMemo(3)
    for key in range(10):
        assert memo.keep(key, str(key)) == str(key)
        assert len(memo) <= 3 and memo.get(key) == str(key)
    memos = [F._FILLS, F._INVERSES, F._INDEX_LAYOUTS, F._TABLES, F._VALUE_TABLES, transforms._INFOS]
    assert all(isinstance(m, BoundedMemo) and 0 < m.most <= 4096 for m in memos)
    ramp = np.arange(256, dtype=np.uint8).reshape(1, -1)
    for step in range(F._VALUE_TABLES.most + 5):  # a gamma drawn anew on every call
        F.gamma(ramp, 1.0 + step / 1000)
    assert len(F._VALUE_TABLES) <= F._VALUE_TABLES.most
