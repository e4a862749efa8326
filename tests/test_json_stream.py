"""A large JSON object read a piece at a time gives what json.loads gives, or gives up."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from augcli.storage import json_stream

_LEAVES = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text(max_size=6)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_DOCUMENTS = st.dictionaries(
    st.sampled_from(["big", "other", "x", "é"]),
    st.one_of(st.dictionaries(st.text(max_size=5), _VALUES, max_size=5), _VALUES),
)


def _big() -> dict[str, json_stream.BigMember]:
    return {"big": json_stream.BigMember(json_stream.PLAIN_SCAN, lambda: ["mapping"], lambda c, k, v: c.append((k, v)))}


def _streamed(data: bytes, chunk: int, monkeypatch) -> dict:
    monkeypatch.setattr(json_stream, "CHUNK", chunk)
    members = json_stream.read_object(io.BytesIO(data), len(data), _big())
    if type(members.get("big")) is list and members["big"][:1] == ["mapping"]:
        members["big"] = dict(members["big"][1:])  # entries in order: the last of equal keys wins
    return members


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_DOCUMENTS, indent=st.sampled_from([None, 0, 2]), chunk=st.sampled_from([1, 2, 3, 7, 64, 1 << 20]))
@example(document={"big": {"a": 12345}}, indent=None, chunk=3)  # a number cut by the chunk
@example(document={"big": {"a": "é\u20ac\U0001f600"}}, indent=None, chunk=1)  # a character cut by the chunk
def test_a_document_json_dumps_wrote_reads_as_json_loads_reads_it(document, indent, chunk, monkeypatch):
    text = json.dumps(document, indent=indent, ensure_ascii=indent is None)
    assert _streamed(text.encode(), chunk, monkeypatch) == json.loads(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=_DOCUMENTS, cut=st.integers(0, 200), insert=st.sampled_from(["", ",", "}", "]", '"', "x", "\x00", " 1"])
)
@example(document={"big": {"a": 1}}, cut=0, insert="")
def test_a_broken_document_is_never_read_otherwise_than_json_loads_reads_it(document, cut, insert, monkeypatch):
    text = json.dumps(document, separators=(",", ":"))
    cut = min(cut, len(text))
    broken = text[:cut] + insert + text[cut + (1 if insert else 0) :]
    try:
        expected = json.loads(broken)
    except ValueError:
        expected = None
    try:
        got = _streamed(broken.encode("utf-8", "surrogatepass"), 3, monkeypatch)
    except json_stream.NotStreamable:
        return  # the caller parses it whole: json.loads decides
    assert expected is not None and got == expected


@pytest.mark.parametrize(
    "text", ['{"big":{1:2}}', '{"big":{null:2}}', "{1:2}", '{"big":{"a":1,}}', '{"big":{"a":1}', '{"big":{"a" 1}}']
)
def test_a_document_that_is_not_json_is_left_to_json(text, monkeypatch):
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(json_stream.NotStreamable):
        _streamed(text.encode(), 3, monkeypatch)


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbf{}", '{"big":{}}'.encode("utf-16"), b'{"big":{"a":"\xff"}}', b"[" * 50_000 + b"]" * 50_000, b""],
)
def test_what_json_decodes_otherwise_is_left_to_json(data, monkeypatch):
    with pytest.raises(json_stream.NotStreamable):
        _streamed(data, 4, monkeypatch)


def test_a_file_that_grows_past_its_limit_while_read_is_left_to_the_whole_read(monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK", 4)
    data = b'{"big":{"a":1,"b":2}}'
    with pytest.raises(json_stream.NotStreamable):
        json_stream.read_object(io.BytesIO(data), len(data) - 1, _big())


def test_a_long_value_outside_the_big_mappings_is_read_on_in_doubling_steps(monkeypatch):
    """A value that spans many chunks is scanned again as each arrives: in doubling steps it is
    scanned a few dozen times, not once per chunk (quadratic in its length)."""
    monkeypatch.setattr(json_stream, "CHUNK", 64)
    document = {"big": {"a": 1}, "garbage": [f"part{i:05d}/img.png" for i in range(20_000)]}
    data = json.dumps(document, separators=(",", ":")).encode()
    scans = []
    real = json_stream.PLAIN_SCAN
    monkeypatch.setattr(json_stream, "PLAIN_SCAN", lambda text, pos: scans.append(pos) or real(text, pos))
    members = json_stream.read_object(io.BytesIO(data), len(data), _big())
    assert members["garbage"] == document["garbage"]
    assert len(scans) < 60, len(scans)  # about 20 for the list (400 KB), a few for the keys
