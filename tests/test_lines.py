"""Manifest lines a run sets are held on disk (lines.py): the same lines, files and manifest, less memory."""

from __future__ import annotations

import json
import os
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from augcli.build import lines, state
from augcli.build.lines import Lines, SpilledLines
from tests.test_cli import invoke

CELLS = st.sampled_from(["a.png", "b/c.png", "b/é.png", "z.png", "m.png", "bytes:%ff.png", "a.png.txt"])
TEXT = st.text(max_size=40)  # any str, lone surrogates included


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.dictionaries(CELLS, TEXT, max_size=4), max_size=12),
    st.dictionaries(CELLS, TEXT, max_size=4),
    st.sampled_from([0, 3, 1 << 30]),
)
def test_spilled_lines_read_back_as_a_dict_of_the_last_line_set_reads(updates, base, spill_after):
    """Held as a dict, spilled at once, or spilled part way: the same lines read back."""
    lines.SPILL_AFTER, kept = spill_after, lines.SPILL_AFTER
    try:
        _read_back_as_a_dict(updates, base)
    finally:
        lines.SPILL_AFTER = kept


def _read_back_as_a_dict(updates, base):
    spilled = SpilledLines()
    model: dict[str, str] = {}
    for update in updates:
        spilled.update(update)
        model.update(update)
        for cell in model:  # read between writes too: the buffered bytes must be on disk by then
            assert spilled.get(cell) == model[cell]
    assert sorted(spilled) == sorted(model) and len(spilled) == len(model)
    assert spilled.get("missing.png") is None and "missing.png" not in spilled
    view = Lines(base, spilled)
    assert sorted(view) == sorted(base | model) and len(view) == len(base | model)
    assert dict(view.items()) == base | model
    assert all((cell in view) == (cell in base | model) for cell in ["a.png", "z.png", "q.png"])
    spilled.close()


def test_the_spill_file_has_no_name_in_output_and_the_lines_cost_no_string_each(tmp_path, monkeypatch):
    """A first run of a million files sets two million lines of about 150 characters: past the
    first few, none is held as a string (a dict of them was about 250 bytes a line); the file
    holding them is unnamed."""
    monkeypatch.setattr(lines, "SPILL_AFTER", 1000)
    cells = [f"part{i // 1000:04d}/img{i:07d}.png" for i in range(20_000)]
    text = ',part/img.png,image,copy,0,,"[{""name"":""hflip"",""params"":{}}]",,' + "0" * 64
    known = state.State(root=tmp_path)
    known.spill_lines_to(tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, len(cells), 2):
            known.set_lines({cell: cell + text for cell in cells[start : start + 2]})
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 40 * len(cells)  # the list slot and 12 bytes of where each line lies
    assert os.listdir(tmp_path) == []  # unnamed (O_TMPFILE), or unlinked at once
    assert known._spilled.spilled and os.path.samefile(_folder_of(known._spilled), tmp_path)
    read = known.lines()
    assert read[cells[0]] == cells[0] + text and read[cells[-1]] == cells[-1] + text
    known.close()
    assert known._spilled is None and not known.lines_changed()


def _folder_of(spilled: SpilledLines) -> str:
    """The folder the spill file lies in (its descriptor's link names it, deleted)."""
    target = os.readlink(f"/proc/self/fd/{spilled._file.fileno()}")
    return os.path.dirname(target.removesuffix(" (deleted)"))


def test_a_command_that_only_reads_output_spills_nothing_into_it(tmp_path, monkeypatch):
    """Lines a journal replays (a killed run's, read by --check or replay) never go to OUTPUT, a
    read-only one too: past the threshold they go to the system's temporary folder, and where no
    file can be made at all they stay a dict."""
    monkeypatch.setattr(lines, "SPILL_AFTER", 2)
    known = state.State(root=tmp_path)
    known.set_lines({f"c{i}.png": f"line {i}" for i in range(5)})  # as a journal's replay does
    assert known._spilled.spilled and os.listdir(tmp_path) == []
    assert not os.path.samefile(_folder_of(known._spilled), tmp_path)
    stuck = SpilledLines(tmp_path / "missing")  # neither OUTPUT nor the system's folder can take it
    monkeypatch.setattr(lines.tempfile, "tempdir", str(tmp_path / "missing"))
    stuck.update({f"c{i}.png": f"line {i}" for i in range(5)})
    assert not stuck.spilled and stuck.get("c4.png") == "line 4" and len(stuck) == 5


def test_the_lines_file_and_manifest_are_the_bytes_a_dict_gave(dataset, recipe_file, tmp_path):
    """Saved from the spilled lines, the lines file is json.dumps(sort_keys) of each owned file's
    line, a line of a file no record owns any more dropped; a rerun that remakes one file keeps
    the others' lines from the file."""
    out = tmp_path / "out"
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    known = state.load(out)
    lines_file = state.path(out, state.LINES)
    written = json.loads(lines_file.read_bytes())
    owned = sorted(known.owned())
    assert sorted(written) == owned
    assert lines_file.read_bytes() == json.dumps(written, sort_keys=True, separators=(",", ":")).encode()
    manifest = (out / "manifest.csv").read_text().splitlines()
    assert manifest[1:] == [written[cell] for cell in owned]
    # a rerun after one input changed: one unit's lines spilled, the rest read from the file
    (dataset / "dogs" / "dog0.png").write_bytes((dataset / "dogs" / "dog1.png").read_bytes())
    assert invoke("run", recipe_file, dataset, out, "--workers", "1").exit_code == 0
    again = json.loads(lines_file.read_bytes())
    changed = {cell for cell in owned if again[cell] != written[cell]}
    assert changed and all(cell.startswith("dogs/dog0") for cell in changed)
    assert (out / "manifest.csv").read_text().splitlines()[1:] == [again[cell] for cell in owned]
    # a line set for a file no record owns is not written
    known = state.load(out)
    known.set_lines({"stray.png": "stray.png,x"})
    assert b"stray" not in b"".join(state._lines_chunks(known))
    assert b"".join(state._lines_chunks(known)) == lines_file.read_bytes()


def test_the_lines_file_is_in_name_order_whatever_order_units_landed_in(tmp_path):
    sha = "a" * 64
    known = state.State(root=tmp_path)
    cells = ["z.png", "b/é.png", "a.png", "b/c.png", "a.png.txt"]
    for cell in cells:  # out of order: most go beside the list
        known.units[cell] = state.packed(cell, {"key": "k", "files": [[cell, sha]]})
        known.set_lines({cell: f"{cell},line \u2603"})
    known.units["pair.png"] = {"key": "k", "files": [["pair.png", sha], ["a.png", sha]]}  # a file twice
    known.set_lines({"pair.png": "pair"})
    expected = {cell: f"{cell},line \u2603" for cell in cells} | {"pair.png": "pair"}
    assert b"".join(state._lines_chunks(known)) == json.dumps(expected, sort_keys=True, separators=(",", ":")).encode()
    assert b"".join(state._lines_chunks(state.State(root=tmp_path))) == b"{}"
