"""Every registered image transform: modes kept, parameters recorded, p honoured, deterministic."""

from __future__ import annotations

import json

import numpy as np
import pytest

from augcli.core.transforms import REGISTRY, transforms_for
from augcli.image.ops import run_ops
from augcli.image.transforms import ImageInfo
from tests.conftest import gradient_rgb

REQUIRED = {
    "crop": {"size": [20, 30]},
    "center_crop": {"size": [20, 30]},
    "resize": {"size": [24, 32]},
    "color_jitter": {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.1},
}
GEOMETRIC_SIZE_CHANGES = {"crop": (20, 30), "center_crop": (20, 30), "resize": (24, 32)}
NAMES = sorted(set(transforms_for("image")) - {"one_of", "some_of"})  # every image step, mixing ones too


def make(name: str, **extra):
    return REGISTRY["image"][name](**{**REQUIRED.get(name, {}), **extra})


def images() -> dict[str, np.ndarray]:
    rgb = gradient_rgb(48, 36)
    grey = rgb[..., 1].copy()
    alpha = np.tile(np.linspace(0, 255, 48).astype(np.uint8), (36, 1))
    return {
        "L": grey,
        "LA": np.dstack([grey, alpha]),
        "RGB": rgb,
        "RGBA": np.dstack([rgb, alpha]),
        "I;16": grey.astype(np.uint16) * 257,
    }


MIXING = {"mosaic", "mixup", "cutmix", "copy_paste"}  # their own tests: tests/test_mixing.py


def mix(transform, pixels, params):
    """A mixing step's pixels, its partner the picture upside down holding one triangle object."""
    from augcli.image.labels.shapes import Box
    from augcli.image.mix.transforms import Partner, Picture, Rules

    height, width = pixels.shape[:2]
    triangle = Box(4.0, 4.0, width - 4.0, height - 4.0, 0, polygons=((4, height - 4, width - 4, height - 4, 20, 4),))
    partner = Partner("p.png", Picture(np.ascontiguousarray(pixels[::-1]), [triangle]))
    return transform.mix(Picture(pixels), params, lambda k: partner, Rules()).pixels


def render(transform, pixels, seed=0):
    applied, info = transform.plan(np.random.default_rng(seed), ImageInfo.of(pixels))
    if transform.name in MIXING:
        return applied, info, mix(transform, pixels, applied[0].params) if applied else pixels
    out = run_ops(pixels, [a.transform.op(a.info, **a.params) for a in applied])
    return applied, info, out


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", list(images()))
def test_mode_dtype_and_planned_size_are_kept(name, mode):
    pixels = images()[mode]
    applied, info, out = render(make(name), pixels, seed=3)
    assert len(applied) == 1
    assert out.dtype == pixels.dtype and out.ndim == pixels.ndim
    assert out.shape[2:] == pixels.shape[2:]
    assert out.shape[:2] == (info.height, info.width)
    if name in GEOMETRIC_SIZE_CHANGES:
        assert out.shape[:2] == GEOMETRIC_SIZE_CHANGES[name]


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_json_and_replay_the_same_pixels(name):
    pixels = images()["RGB"]
    transform = make(name)
    applied, _, out = render(transform, pixels, seed=11)
    record = json.loads(json.dumps(applied[0].record()))
    assert record["name"] == name
    if name in MIXING:  # the record names the partners it took; mixing again from it gives the same pixels
        assert record["params"]["partners"] and np.array_equal(mix(transform, pixels, record["params"]), out)
    else:
        assert np.array_equal(transform.apply(pixels, **record["params"]), out)
    _, _, again = render(transform, pixels, seed=11)
    assert np.array_equal(again, out)


@pytest.mark.parametrize("name", NAMES)
def test_p_zero_never_fires_and_p_one_always_does(name):
    info = ImageInfo(48, 36)
    never, always = make(name, p=0.0), make(name, p=1.0)
    for seed in range(20):
        assert never.plan(np.random.default_rng(seed), info)[0] == []
        assert len(always.plan(np.random.default_rng(seed), info)[0]) == 1


def test_p_half_fires_about_half_the_time():
    flip = make("hflip", p=0.5)
    fired = sum(bool(flip.plan(np.random.default_rng(s), ImageInfo(4, 4))[0]) for s in range(2000))
    assert 900 < fired < 1100


PHOTOMETRIC = [
    "brightness", "contrast", "saturation", "hue", "color_jitter", "gamma", "grayscale", "equalize",
    "posterize", "solarize", "sharpness", "invert", "gaussian_noise", "salt_pepper", "gaussian_blur",
    "motion_blur", "jpeg_compression", "downscale", "random_erasing", "cutout",
]  # fmt: skip


@pytest.mark.parametrize("name", PHOTOMETRIC)
def test_photometric_transforms_leave_alpha_alone(name):
    rgba = images()["RGBA"]
    _, _, out = render(make(name), rgba, seed=2)
    assert np.array_equal(out[..., 3], rgba[..., 3])


def test_every_transform_is_classified():
    geometric = {"hflip", "vflip", "rot90", "rotate", "scale", "translate", "shear", "affine", "perspective",
                 "crop", "center_crop", "random_resized_crop", "pad", "resize"}  # fmt: skip
    policies = {"trivial_augment", "rand_augment", "auto_augment", "augmix"}  # both kinds: tests/test_policies.py
    assert set(NAMES) == geometric | set(PHOTOMETRIC) | policies | MIXING


def test_one_of_picks_by_weight_and_some_of_picks_n_in_order():
    from augcli.core.transforms import OneOf, SomeOf

    flips = [make("hflip"), make("vflip"), make("invert")]
    one_of = OneOf(flips, weights=[0, 1, 0])
    for seed in range(20):
        (applied,), _ = one_of.plan(np.random.default_rng(seed), ImageInfo(4, 4))
        assert applied.transform.name == "vflip"
    counts = {}
    for seed in range(300):
        (applied,), _ = OneOf(flips).plan(np.random.default_rng(seed), ImageInfo(4, 4))
        counts[applied.transform.name] = counts.get(applied.transform.name, 0) + 1
    assert all(70 < c < 130 for c in counts.values())
    some_of = SomeOf(flips, n=[2, 2])
    for seed in range(20):
        applied, _ = some_of.plan(np.random.default_rng(seed), ImageInfo(4, 4))
        names = [a.transform.name for a in applied]
        assert len(names) == 2 and names == sorted(names, key=["hflip", "vflip", "invert"].index)


def test_rot90_odd_turns_swap_the_size_for_the_next_transform():
    from augcli.core.transforms import plan_pipeline

    chain = [make("rot90", turns=[1]), make("crop", size=[40, 30])]
    applied, info = plan_pipeline(chain, np.random.default_rng(0), ImageInfo(40, 30))
    assert applied[1].info == ImageInfo(30, 40)  # the crop sampled on the turned image
    assert (info.width, info.height) == (30, 40)


@pytest.mark.parametrize("name", NAMES)
def test_transforms_never_write_into_their_input(name):
    """Every copy starts from the same decoded pixels, which load() hands out read-only."""
    pixels = images()["RGBA"]
    pixels.setflags(write=False)
    before = pixels.copy()
    render(make(name), pixels, seed=4)
    assert np.array_equal(pixels, before)


def test_decoded_pixels_are_read_only(tmp_path):
    from augcli.image import io as image_io
    from tests.conftest import write_image

    decoded = image_io.load(write_image(tmp_path / "a.png", gradient_rgb()))
    assert not decoded.pixels.flags.writeable
