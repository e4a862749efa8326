"""Recipe validation: every problem names file, line and key path, and suggests the fix."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.core.recipe import RecipeError, parse_recipe
from augcli.core.transforms import OneOf, SomeOf
from augcli.image.transforms import GaussianBlur, GaussianNoise, Rotate


def problems(text: str) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, "r.yaml")
    return caught.value.problems


def test_valid_recipe_parses_with_defaults_and_shorthands():
    recipe = parse_recipe(
        "seed: 3\nimage:\n  transforms:\n    - rotate: {degrees: 10}\n    - one_of:\n"
        "        - gaussian_noise: {std: 0.02}\n        - gaussian_blur\n"
    )
    assert (recipe.seed, recipe.copies, recipe.keep_original) == (3, 1, True)
    section = recipe.sections["image"]
    assert "*.jpg" in section.include and section.exclude == ()
    rotate, one_of = section.transforms
    assert isinstance(rotate, Rotate) and rotate.degrees == (-10.0, 10.0) and rotate.p == 1.0
    assert isinstance(one_of, OneOf) and [type(c) for c in one_of.children] == [GaussianNoise, GaussianBlur]
    assert one_of.children[0].std == (0.02, 0.02)
    assert section.options["output"] == {
        "format": "same",
        "quality": 95,
        "png_compress_level": 1,
        "webp_lossless": False,
    }


def test_unknown_transform_names_line_path_and_closest_name():
    text = "seed: 1\nimage:\n  transforms:\n    - hflip\n    - rotat: {degrees: 5}\n"
    (message,) = problems(text)
    assert message.startswith("r.yaml, line 5: image.transforms[1]: unknown image transform 'rotat'")
    assert "did you mean 'rotate'?" in message


@pytest.mark.parametrize(
    ("entry", "path", "fragment"),
    [
        ("rotate: {degres: 5}", "image.transforms[0].rotate.degres", "did you mean 'degrees'?"),
        ("rotate: {degrees: abc}", "image.transforms[0].rotate.degrees", "expected a number or a range"),
        ("hflip: {p: 1.5}", "image.transforms[0].hflip.p", "1.5 is out of range: must be <= 1"),
        ("hflip: {p: -0.1}", "image.transforms[0].hflip.p", "must be >= 0"),
        ("gaussian_blur: {sigma: [2, 1]}", "image.transforms[0].gaussian_blur.sigma", "reversed"),
        ("hue: {shift: 0.7}", "image.transforms[0].hue.shift", "0.7 means [-0.7, 0.7] here"),
        ("crop: {}", "image.transforms[0].crop", "crop needs 'size'"),
        ("posterize: {bits: 2.5}", "image.transforms[0].posterize.bits", "whole number"),
        ("color_jitter: {}", "image.transforms[0].color_jitter.brightness", "does nothing"),
        ("random_erasing: {fill: avg}", "image.transforms[0].random_erasing.fill", "expected one of random"),
        ("resize: {size: 10, shorter_side: 5}", "image.transforms[0].resize.size", "exactly one"),
        ("one_of: {transforms: [hflip, vflip], weights: [1]}", "image.transforms[0].one_of.weights", "1 weights"),
        ("some_of: {transforms: [hflip], n: 3}", "image.transforms[0].some_of.n", "only 1 transforms"),
    ],
)
def test_bad_parameters_are_located(entry, path, fragment):
    (message,) = problems(f"image:\n  transforms:\n    - {entry}\n")
    assert message.startswith(f"r.yaml, line 3: {path}: ")
    assert fragment in message


def test_nested_composition_children_point_at_their_own_line():
    text = "image:\n  transforms:\n    - one_of:\n        - hflip\n        - gaussian_blr: {}\n"
    (message,) = problems(text)
    assert message.startswith("r.yaml, line 5: image.transforms[0].one_of[1]: unknown image transform 'gaussian_blr'")
    assert "did you mean 'gaussian_blur'?" in message


def test_parameters_beside_instead_of_under_the_transform_get_a_hint():
    (message,) = problems("image:\n  transforms:\n    - rotate:\n      degrees: 10\n")
    assert "line 3" in message and "indent the parameters" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the recipe is empty"),
        ("- a\n- b\n", "a recipe is a mapping"),
        ("image: [\n", "malformed YAML"),
        ("seed: 1\nseed: 2\nimage: {transforms: [hflip]}\n", "line 2: duplicate key 'seed'"),
        ("copies: -1\nimage: {transforms: [hflip]}\n", "copies: -1 is out of range"),
        ("copie: 2\nimage: {transforms: [hflip]}\n", "did you mean 'copies'?"),
        ("keep_original: yes please\nimage: {transforms: [hflip]}\n", "expected true or false"),
        ("image: {transforms: []}\n", "needs a non-empty list of transforms"),
        ("image: {include: 5, transforms: [hflip]}\n", "expected a glob or a list of globs"),
        ("image: {transforms: [hflip], output: {format: jpg}}\n", "did you mean 'jpeg'?"),
        ("image: {transforms: [hflip], output: {qualty: 9}}\n", "image.output.qualty: unknown key"),
        ("txt: {transforms: [eda]}\n", "unknown key 'txt'; did you mean 'text'?"),
        ("seed: 1\n", "no modality section"),
    ],
)
def test_recipe_level_errors(text, fragment):
    assert any(fragment in message for message in problems(text)), problems(text)


def test_every_problem_is_reported_in_line_order():
    text = "copies: x\nimage:\n  transforms:\n    - rotat\n    - hflip: {p: 2}\n"
    found = problems(text)
    assert [m.split(":")[0] for m in found] == ["r.yaml, line 1", "r.yaml, line 4", "r.yaml, line 5"]


def test_some_of_defaults_and_one_of_weights():
    recipe = parse_recipe(
        "image:\n  transforms:\n    - some_of: {transforms: [hflip, vflip, invert], n: [1, 2]}\n"
        "    - one_of: {transforms: [hflip, vflip], weights: [3, 1], p: 0.5}\n"
    )
    some_of, one_of = recipe.sections["image"].transforms
    assert isinstance(some_of, SomeOf) and some_of.n == (1, 2) and len(some_of.children) == 3
    assert one_of.weights == (3.0, 1.0) and one_of.p == 0.5


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-3, 3), st.text(max_size=6))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
NAMES = st.sampled_from(["rotate", "crop", "one_of", "some_of", "color_jitter", "random_erasing", "hflip", "rotat"])
KEYS = st.sampled_from(["p", "degrees", "size", "fill", "transforms", "weights", "n", "brightness", "area", "x"])


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(
        st.one_of(NAMES, st.dictionaries(NAMES, st.dictionaries(KEYS, VALUES, max_size=3), max_size=2), VALUES),
        max_size=4,
    ),
    top=st.dictionaries(st.sampled_from(["seed", "copies", "keep_original", "image", "extra"]), VALUES, max_size=3),
)
def test_any_recipe_either_parses_or_explains_itself(entries, top):
    """Whatever a user writes, validation ends in a Recipe or in located messages, never a crash."""
    data = {**top, "image": {"transforms": entries}}
    try:
        recipe = parse_recipe(yaml.safe_dump(data), "r.yaml")
    except RecipeError as exc:
        assert exc.problems and all(p.startswith("r.yaml") for p in exc.problems)
    else:
        assert recipe.sections["image"].transforms


def test_null_means_not_set_for_a_parameter_whose_default_is_none():
    """`size: null` is the default kernel, as leaving the key out is (same step, same up-to-date
    key); null stays an error where the default is a value or the key is required."""
    from augcli.core.recipe import parse_recipe as parse

    def step(text: str):
        return parse(f"image:\n  transforms:\n    - {text}\n").sections["image"].transforms[0]

    assert step("gaussian_blur: {size: null}").settings() == step("gaussian_blur: {}").settings()
    assert step("resize: {size: [8, 8], shorter_side: null}").shorter_side is None
    with pytest.raises(RecipeError, match=r"gaussian_blur.sigma: expected a number or a range \[lo, hi\], got None"):
        step("gaussian_blur: {sigma: null}")
