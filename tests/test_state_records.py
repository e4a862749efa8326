"""Unit records packed in memory: the same fields, the same checks, the same bytes written back."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from augcli.build import state
from augcli.build.manifest import encode_path
from augcli.build.records import PackedRecord, UnitTable, pack, unpacked
from augcli.storage import json_stream
from augcli.storage.untrusted import UntrustedError

KEY = "0123456789abcdef" * 2
SHA = "89abcdef" * 8
BYTES_CELL = encode_path(os.fsdecode(b"e\xff.png"))  # a name that is not UTF-8
_HEXES = st.sampled_from([KEY, KEY.upper(), KEY[:31], KEY + "\n", SHA, SHA[:63], SHA.upper(), SHA + "\n", "", None, 5])
_RECORDS = st.fixed_dictionaries(
    {"key": _HEXES},
    optional={
        "files": st.lists(
            st.one_of(st.tuples(st.sampled_from(["a.png", "b/c.txt", "../x"]), _HEXES).map(list), st.just([])),
            max_size=3,
        ),
        "entry": st.just({}),
        "run": st.just(True),
    },
)


def _written(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=lambda r: r.as_dict())


@settings(max_examples=400, deadline=None)
@given(record=_RECORDS)
@example(record={"key": KEY, "files": [["a.png", SHA + "\n"]]})  # matches SHA256's `$`, not its text
@example(record={"key": KEY, "files": [["a.png", SHA], ["a.txt", SHA[::-1]]]})
@example(record={"key": KEY.upper(), "files": [["a.png", SHA]]})  # hex, but not as augcli spells it
@example(record={"key": KEY, "files": [["a.png", SHA.upper()]]})
@example(record={"key": KEY[:30] + " 0", "files": [["a.png", SHA]]})  # fromhex takes spaces
@example(record={"key": KEY, "files": [["a.png", SHA[:62] + " 0"]]})
def test_a_record_is_packed_only_when_its_text_comes_back_the_same(record):
    packed = pack(record)
    if packed is record:
        return
    assert type(packed) is PackedRecord
    assert packed.as_dict() == record and packed == record and record == packed
    assert _written(packed) == _written(record)  # the state file's bytes do not change
    assert packed["key"] == record["key"] and packed["files"] == record["files"]
    assert "entry" not in packed and packed.get("run") is None and packed.get("partners", 7) == 7
    assert list(packed) == ["files", "key"] and len(packed) == 2
    with pytest.raises(KeyError):
        packed["entry"]


def test_only_a_records_exact_shape_is_packed():
    assert type(pack({"key": KEY, "files": [["a.png", SHA]]})) is PackedRecord
    for other in (
        {"key": KEY, "files": [["a.png", SHA]], "run": True},  # a third field
        {"key": None, "files": [["a.png", SHA]]},
        {"key": KEY, "files": []},
        {"key": KEY, "files": [["a.png", SHA, 1]]},
        {"key": KEY, "files": [[1, SHA]]},
        {"key": KEY, "entry": {}},
    ):
        assert pack(other) is other


def _save(folder: Path, units: dict) -> bytes:
    folder.mkdir(exist_ok=True)

    def write_chunks(name: str, chunks) -> None:
        (folder / name).write_bytes(b"".join(chunks))

    known = state.State(root=folder, units=units)
    known.set_lines({cell: "line" for record in units.values() for cell in state.cells_of(record)})
    state.save(folder, known, write_chunks)
    return (folder / ".augcli-state.json").read_bytes()


def _units() -> dict:
    return {
        "a.png": {"key": KEY, "files": [["a.png", SHA]]},
        "b.png": {"key": KEY, "files": [["b.png", SHA], ["b.txt", SHA[::-1]]]},
        "c.png": {"key": KEY, "files": [["c.png", SHA]], "entry": {"box": {"files": [["x", SHA]], "key": KEY}}},
        "d.png": {"key": None, "files": [["d.png", SHA]]},
        BYTES_CELL: {"key": KEY, "files": [[BYTES_CELL, SHA]]},
        "f.png": {"key": KEY, "files": [["f.png", SHA + "\n"]]},
        "g.png": {"key": KEY, "files": [["g.png", SHA]], "partners": [[0, "a.png", SHA]]},
    }


def test_a_state_read_back_packs_its_records_and_writes_the_same_bytes(tmp_path):
    first = _save(tmp_path / "one", _units())
    known = state.load(tmp_path / "one")
    assert {u for u, r in known.units.items() if type(r) is PackedRecord} == {
        "a.png",
        "b.png",
        BYTES_CELL,
    }
    assert known.units == _units()
    entry = known.units["c.png"]["entry"]["box"]  # a record's shape inside an entry: a dict again
    assert type(entry) is dict and entry == {"files": [["x", SHA]], "key": KEY}
    assert _save(tmp_path / "two", known.units) == first
    assert known.owned() == {"a.png", "b.png", "b.txt", "c.png", "d.png", BYTES_CELL, "f.png", "g.png"}


def test_a_packed_records_own_cell_is_the_units_string(tmp_path):
    _save(tmp_path, _units())
    known = state.load(tmp_path)
    for unit, record in known.units.items():
        if type(record) is PackedRecord:
            assert record.cell_list()[0] is unit


def test_a_journalled_record_is_packed_as_the_snapshots_are(tmp_path):
    _save(tmp_path, {})
    line = {"put": "n.png", "record": {"key": KEY, "files": [["n.png", SHA]]}, "lines": {"n.png": "x"}}
    (tmp_path / ".augcli-journal.jsonl").write_text(json.dumps(line) + "\n")
    known = state.load(tmp_path)
    assert type(known.units["n.png"]) is PackedRecord and known.units["n.png"]["files"] == [["n.png", SHA]]


@pytest.mark.parametrize(
    "cell", ["../in/a.png", "/etc/hostname", "c/../../victim.txt", "./c/x", "c//x", "", "bytes:../v", "bytes:"]
)
@pytest.mark.parametrize("second", [False, True])
def test_a_packed_record_naming_a_path_outside_output_is_refused(tmp_path, cell, second):
    files = [["a.png", SHA], [cell, SHA]] if second else [[cell, SHA]]
    text = json.dumps({"version": state.SNAPSHOT_VERSION, "units": {"a.png": {"key": KEY, "files": files}}})
    (tmp_path / ".augcli-state.json").write_text(text)
    with pytest.raises(UntrustedError, match=r"\.augcli-state\.json: unit 'a\.png'"):
        state.load(tmp_path)
    unit_text = json.dumps({"version": state.SNAPSHOT_VERSION, "units": {cell: {"key": KEY, "files": [[cell, SHA]]}}})
    (tmp_path / ".augcli-state.json").write_text(unit_text)
    with pytest.raises(UntrustedError, match=r"\.augcli-state\.json"):
        state.load(tmp_path)


@pytest.mark.parametrize("unit", ["bytes:../victim.txt", "bytes:", "bytes:..", "bytes:a/../../b"])
@pytest.mark.parametrize("second", [False, True])
def test_a_packed_record_whose_own_cell_is_spelt_as_bytes_is_decoded_and_checked(tmp_path, unit, second):
    """A `bytes:` name equal to its unit is decoded and checked like any other cell: a path that
    leaves OUTPUT is refused at load, naming the state file (never offered for deletion)."""
    files = [[unit, SHA], ["ok.png", SHA]] if second else [[unit, SHA]]
    text = json.dumps({"version": state.SNAPSHOT_VERSION, "units": {unit: {"key": KEY, "files": files}}})
    (tmp_path / ".augcli-state.json").write_text(text)
    with pytest.raises(UntrustedError, match=r"\.augcli-state\.json"):
        state.load(tmp_path)


def test_unpacked_gives_back_the_same_object_when_nothing_inside_was_packed():
    value = {"a": [1, {"b": "c"}], "d": None}
    assert unpacked(value) is value
    inner = pack({"key": KEY, "files": [["a", SHA]]})
    assert unpacked({"a": [inner]}) == {"a": [{"key": KEY, "files": [["a", SHA]]}]}


def test_a_large_state_costs_under_160_bytes_a_unit_once_read(tmp_path, monkeypatch):
    """A million-file OUTPUT's state must fit beside its plan: parsed as dicts, a record of one
    file costs about 730 bytes; packed, about 220 with its name; in a UnitTable's columns 135, of
    which 72 are its name. The file is read a megabyte at a time: its text, and the records' dicts
    and lists, never exist all at once."""
    count = 20_000
    units = {
        f"part{i // 1000:04d}/img{i:07d}.png": {"key": KEY, "files": [[f"part{i // 1000:04d}/img{i:07d}.png", SHA]]}
        for i in range(count)
    }
    _save(tmp_path, units)
    del units
    size = (tmp_path / ".augcli-state.json").stat().st_size
    monkeypatch.setattr(json_stream, "CHUNK", 1 << 16)
    tracemalloc.start()
    known = state.load(tmp_path)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(known.units) == count
    assert held / count < 160, held / count
    assert peak - held < size / 2, (peak - held, size)  # never the file's whole text


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("ahead", [True, False])
def test_each_file_of_a_record_is_held_to_its_own_hash(tmp_path, monkeypatch, packed, ahead):
    """A unit and its label: editing either makes the unit stale, whether the record is packed or
    not and whether its files were hashed ahead on threads or one by one."""
    import hashlib

    from augcli.build import assess

    (tmp_path / "a.png").write_bytes(b"picture")
    (tmp_path / "a.txt").write_bytes(b"label")
    shas = [hashlib.sha256(b"picture").hexdigest(), hashlib.sha256(b"label").hexdigest()]
    record = {"files": [["a.png", shas[0]], ["a.txt", shas[1]]], "key": KEY}
    record = pack(record) if packed else record
    assert (type(record) is PackedRecord) == packed
    monkeypatch.setattr(assess, "HASH_AHEAD_FROM", 1)  # two files are enough to hash on threads

    def current() -> bool:
        known = state.State(root=tmp_path)
        if ahead:
            assess.hash_changed_outputs(tmp_path, known, ["a.png", "a.txt"])
        return assess.is_current(tmp_path, record, KEY, known)

    assert current()
    assert not assess.is_current(tmp_path, record, KEY[::-1], state.State(root=tmp_path))
    (tmp_path / "a.txt").write_bytes(b"label, edited")
    assert not current()
    (tmp_path / "a.txt").write_bytes(b"label")
    (tmp_path / "a.png").write_bytes(b"picture, edited")
    assert not current()


def test_the_lines_file_keeps_the_lines_of_owned_files_only(dataset, recipe_file, tmp_path):
    from tests.test_cli import invoke

    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    before = json.loads((out / ".augcli-lines.json").read_text())
    assert any(cell.startswith("dogs/dog0") for cell in before)
    (dataset / "dogs" / "dog0.png").unlink()
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    after = json.loads((out / ".augcli-lines.json").read_text())
    assert set(after) == state.load(out).owned() == {c for c in before if not c.startswith("dogs/dog0")}


_UNIT_OPS = st.lists(
    st.tuples(
        st.sampled_from(["one", "one", "other", "del", "pop"]), st.sampled_from(list("abcdef")), st.integers(0, 3)
    ),
    max_size=40,
)


def _one_file(unit: str, number: int) -> PackedRecord:
    return pack({"key": KEY[:-1] + str(number), "files": [[unit, SHA]]})


@settings(max_examples=400, deadline=None)
@given(ops=_UNIT_OPS)
def test_a_unit_table_answers_as_a_dict_of_its_records_whatever_order_they_come_in(ops):
    """The unit table (one-file records as bytes in a sorted list, the rest in a dict, marks for
    the gone) against a plain dict: records put in order and out of it, replaced by a record of
    another shape and back, deleted; then every way the state reads it, and the snapshot it writes."""
    table, expected = UnitTable(), {}
    for op, unit, number in ops:
        if op == "one":
            table[unit] = expected[unit] = _one_file(unit, number)
        elif op == "other":  # two files, or an entry: never in the list
            record = (
                {"key": KEY, "files": [[unit, SHA], [unit + ".txt", SHA]]} if number else {"key": None, "files": []}
            )
            table[unit] = expected[unit] = record
        elif op == "del":
            assert (unit in table) == (unit in expected)
            if unit in expected:
                del table[unit], expected[unit]
        else:
            assert table.pop(unit, None) == expected.pop(unit, None)
        assert len(table) == len(expected) and sorted(table) == sorted(expected)
    assert table == expected and dict(table.items()) == expected and list(table.values()) == [table[u] for u in table]
    for unit in "abcdefg":
        assert table.get(unit) == expected.get(unit) and (unit in table) == (unit in expected)
    assert [unit for unit, _ in table.sorted_items()] == sorted(expected)
    assert sorted(table.all_cells()) == sorted(cell for r in expected.values() for cell in state.cells_of(r))
    for unit in "abcdefg":
        record = expected.get(unit)
        assert table.cells(unit) == (None if record is None else tuple(state.cells_of(record)))
        own = record is not None and [f[0] for f in record["files"]] == [unit]
        assert table.own_name(unit) == (unit if own else None)
    fielded = {u for u, r in expected.items() if set(r) - {"files", "key"} or len(r["files"]) != 1}
    assert fielded <= {u for u, _ in table.other_items()}
    for unit, record in table.items():
        if type(record) is PackedRecord and type(record.cells) is str:
            assert record.cells is unit  # the unit's own string serves its cell
    chunks = state._snapshot_chunks({"version": 5, "deaths": {}, "garbage": [], "manifest": None}, table)
    assert b"".join(chunks).decode() == json.dumps(
        {"version": 5, "units": expected, "deaths": {}, "garbage": [], "manifest": None},
        sort_keys=True,
        separators=(",", ":"),
        default=lambda r: r.as_dict(),
    )


def test_one_file_records_in_name_order_are_held_as_bytes_in_a_list(tmp_path):
    """A state read back (written in name order) and a run's records in plan order hold no
    PackedRecord and no dict entry each; a record put out of order sits beside the list."""
    units = {f"p{i:04d}.png": {"key": KEY, "files": [[f"p{i:04d}.png", SHA]]} for i in range(1000)}
    _save(tmp_path, {**units, "q.png": {"key": KEY, "files": [["q.png", SHA], ["q.txt", SHA]]}})
    known = state.load(tmp_path)
    columns = known.units._columns
    assert len(columns.keys) == 1000 and len(columns.blob) == 1000 * 48 and not columns.gone
    assert list(columns.extra) == ["q.png"]
    known.units["a.png"] = pack({"key": KEY, "files": [["a.png", SHA]]})  # out of order
    assert list(columns.extra) == ["q.png", "a.png"] and len(columns.keys) == 1000
