"""The simulated room by measurement: its responses decay at the RT60 it records (Schroeder T30),
its image sources arrive when and as loud as geometry says, and a 10 s clip takes milliseconds."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from augcli.audio import room
from augcli.audio import transforms as T
from augcli.core.transforms import transforms_for

RATE = 16000


def build(**params):
    transform = transforms_for("audio")["room"](**params)
    assert transform.check() == []
    return transform


def draw(transform, seed: int, rate: int = RATE, channels: int = 1) -> dict:
    (applied,), _ = transform.plan(np.random.default_rng(seed), T.AudioInfo(rate, channels))
    return applied.params


def response(params: dict, rate: int = RATE) -> np.ndarray:
    size, source, mic = (tuple(params[key]) for key in ("size", "source", "mic"))
    return room.impulse_response(size, params["absorption"], source, mic, rate, params["seed"])


def t30(ir: np.ndarray, rate: int) -> float:
    """ISO 3382 T30: the Schroeder backward integral's decay from -5 to -35 dB, fitted by least
    squares and extrapolated to 60 dB. The direct sound is left out: at half a metre it alone holds
    more than 5 dB of the energy, and the fit would start on its drop instead of the room's decay."""
    reverberant = ir[2 * room.HALF_TAPS :].astype(np.float64)
    energy = np.cumsum(np.square(reverberant)[::-1])[::-1]
    decay_db = 10 * np.log10(energy / energy[0])
    span = (decay_db <= -5) & (decay_db >= -35)
    slope = np.polyfit(np.arange(reverberant.size)[span] / rate, decay_db[span], 1)[0]
    return -60.0 / slope


@pytest.mark.parametrize("seed", range(6))
def test_a_drawn_rooms_response_decays_at_its_recorded_rt60(seed):
    params = draw(build(), seed)
    assert 0.2 <= params["rt60"] <= 0.8
    assert t30(response(params), RATE) == pytest.approx(params["rt60"], rel=0.1)


@pytest.mark.parametrize(
    ("size", "rt60", "rate"),
    [
        ((5.0, 4.0, 3.0), 0.5, 16000),
        ((10.0, 4.0, 3.0), 0.4, 44100),
        ((3.0, 3.0, 2.4), 0.8, 22050),
        ((20.0, 15.0, 6.0), 1.5, 8000),
    ],
)
def test_rooms_of_every_shape_decay_at_eyrings_rt60(size, rt60, rate):
    absorption = room.eyring_absorption(size, rt60)
    source, mic = (1.2, 1.1, 1.5), (size[0] - 1.3, size[1] - 0.9, 1.2)
    ir = room.impulse_response(size, absorption, source, mic, rate, seed=3)
    assert ir.size == room.HALF_TAPS + round(rt60 * rate)
    assert t30(ir, rate) == pytest.approx(rt60, rel=0.1)


def test_eyrings_formula_by_hand():
    size = (5.0, 4.0, 3.0)  # V = 60 m3, S = 94 m2
    assert room.eyring_rt60(size, 0.2) == pytest.approx(24 * math.log(10) / 343.0 * 60 / (94 * -math.log(0.8)))
    assert room.eyring_rt60(size, 0.2) == pytest.approx(0.4609, abs=1e-4)  # 0.1611 x 60 / (94 x 0.2231)
    assert room.eyring_rt60(size, room.eyring_absorption(size, 0.37)) == pytest.approx(0.37, rel=1e-12)
    assert room.eyring_rt60(size, 1.0) == 0.0


def test_image_sources_arrive_when_and_as_loud_as_geometry_says():
    """Direct sound and the floor's reflection in a 10 m cube: 1 / (4 pi d) each, the reflection
    sqrt(1 - a) quieter per wall and (d1 - d0) / c later; nothing arrives before the direct sound."""
    size, absorption = (10.0, 10.0, 10.0), 0.36  # sqrt(1 - a) = 0.8
    source, mic = (5.0, 3.0, 1.0), (5.0, 7.0, 1.0)  # 4 m apart, both 1 m above the floor
    ir = room.impulse_response(size, absorption, source, mic, 48000, seed=0)
    direct, floor = 4.0, math.hypot(4.0, 2.0)
    assert ir[room.HALF_TAPS] == pytest.approx(1 / (4 * math.pi * direct), rel=1e-9)
    assert np.abs(ir[: room.HALF_TAPS]).max() < 1e-4 * ir[room.HALF_TAPS]
    arrival = room.HALF_TAPS + (floor - direct) / 343.0 * 48000  # 66.8 samples after the direct sound
    window = slice(math.floor(arrival) - 3, math.floor(arrival) + 4)
    peak = window.start + int(np.argmax(ir[window]))
    assert peak in (math.floor(arrival), math.ceil(arrival))
    expected = 0.8 / (4 * math.pi * floor)
    assert ir[peak] == pytest.approx(expected, rel=0.15)  # between two samples, the sinc's peak is lower
    assert np.sum(ir[window] * np.sinc(np.arange(window.start, window.stop) - arrival)) == pytest.approx(
        expected, rel=0.03
    )  # projected on the ideal fractional delay: the amplitude itself


def test_the_direct_sound_stays_aligned_and_the_length_is_kept():
    transform = build(mix=1.0)
    params = draw(transform, seed=2, channels=2)
    click = np.zeros((2, RATE), np.float32)
    click[:, 4000] = 1.0
    click[1] *= 0.5
    out = transform.apply(click, RATE, **params)
    assert out.shape == click.shape and out.dtype == np.float32
    assert int(np.argmax(np.abs(out[0]))) == 4000  # the direct sound, where the click was
    assert np.abs(out[:, :3990]).max() < 1e-3  # nothing before it
    np.testing.assert_allclose(out[1], 0.5 * out[0], atol=1e-7)  # both channels through one room
    assert np.array_equal(transform.apply(click, RATE, **{**params, "mix": 0.0}), click)


def test_white_noise_keeps_its_power_through_the_room():
    noise = np.random.default_rng(0).standard_normal((1, 4 * RATE)).astype(np.float32) * 0.1
    for seed in range(3):
        params = draw(build(), seed)
        out = build().apply(noise, RATE, **params)
        steady = slice(RATE, None)  # past the first second's build-up
        ratio = np.mean(np.square(out[0, steady], dtype=np.float64)) / np.mean(
            np.square(noise[0, steady], dtype=np.float64)
        )
        assert 10 * np.log10(ratio) == pytest.approx(0.0, abs=0.5)


def test_sampling_records_a_consistent_room():
    for seed in range(40):
        params = draw(build(), seed)
        assert json.loads(json.dumps(params)) == params
        size = params["size"]
        assert 3 <= size[0] <= 10 and 3 <= size[1] <= 8 and 2.4 <= size[2] <= 4
        assert params["rt60"] == pytest.approx(room.eyring_rt60(tuple(size), params["absorption"]), rel=1e-12)
        for point in (params["source"], params["mic"]):
            assert all(0.5 - 1e-9 <= at <= side - 0.5 + 1e-9 for at, side in zip(point, size, strict=True))
        assert 0 < math.dist(params["source"], params["mic"]) <= 3.0 + 1e-9
    fixed = build(absorption=[0.3, 0.3], length_m=5.0, width_m=4.0, height_m=3.0)
    params = draw(fixed, 0)
    assert params["absorption"] == 0.3
    assert params["rt60"] == pytest.approx(0.161 * 60 / (94 * -math.log(0.7)), rel=1e-3)


def test_a_small_room_still_fits_source_and_microphone():
    transform = build(length_m=1.0, width_m=1.2, height_m=1.0, distance_m=5.0)
    for seed in range(20):
        params = draw(transform, seed)
        for point in (params["source"], params["mic"]):
            assert all(0 < at < side for at, side in zip(point, params["size"], strict=True))
        assert math.dist(params["source"], params["mic"]) > 0.1


def test_replay_of_the_record_gives_the_same_samples():
    transform = build()
    tone = (np.sin(np.arange(RATE) * 0.05) * 0.3).astype(np.float32)[None]
    params = draw(transform, 4)
    first = transform.apply(tone, RATE, **json.loads(json.dumps(params)))
    assert np.array_equal(first, transform.apply(tone, RATE, **params))
    other = transform.apply(tone, RATE, **{**params, "seed": params["seed"] + 1})
    assert not np.array_equal(first, other)  # the diffuse tail replays from the recorded seed
