"""Everything augcli reads back from OUTPUT is untrusted: its state, journal, lines, manifest and run
record. Tampered or malformed, they never make augcli delete, read or write outside OUTPUT, and
never end in a traceback; and the plan proves one owner per OUTPUT path before anything is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from augcli.build.plan import PlanError, build_plan
from augcli.cli import main
from augcli.core.recipe import parse_recipe
from tests.conftest import RECIPE, augcli_command, gradient_rgb, write_image

TIMEOUT = 120


def augcli(*args: object, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(augcli_command(*args), capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def small_set(root: Path) -> Path:
    for i in range(2):
        write_image(root / "in" / "c" / f"a{i}.png", gradient_rgb(24, 16, seed=i))
    (root / "recipe.yaml").write_text(RECIPE.replace("copies: 3", "copies: 1"))
    (root / "victim.txt").write_text("keep me\n")
    return root


def made(root: Path) -> Path:
    out = root / "out"
    result = augcli("run", root / "recipe.yaml", root / "in", out)
    assert result.returncode == 0, result.stderr
    return out


def test_a_journal_line_naming_a_file_outside_output_is_refused_and_the_file_kept(tmp_path):
    root = small_set(tmp_path)
    out = made(root)
    with (out / ".augcli-journal.jsonl").open("a") as journal:
        journal.write(json.dumps({"garbage": ["../victim.txt"]}) + "\n")
    result = augcli("run", root / "recipe.yaml", root / "in", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert ".augcli-journal.jsonl, line 1" in result.stderr and "'..'" in result.stderr
    assert (root / "victim.txt").read_text() == "keep me\n"


@pytest.mark.parametrize("target", ["../in/c/a0.png", "/etc/hostname", "c/../../victim.txt", "./c/x", "c//x"])
def test_a_state_unit_naming_a_file_outside_output_is_refused(tmp_path, target):
    root = small_set(tmp_path)
    out = made(root)
    state = json.loads((out / ".augcli-state.json").read_text())
    state["units"]["gone.png"] = {"key": "k", "files": [[target, "0" * 64]]}
    (out / ".augcli-state.json").write_text(json.dumps(state))
    before = (root / "in" / "c" / "a0.png").read_bytes()
    for command in (("run",), ("run", "--check")):
        result = augcli(command[0], root / "recipe.yaml", root / "in", out, *command[1:])
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert ".augcli-state.json" in result.stderr
    assert (root / "in" / "c" / "a0.png").read_bytes() == before and (root / "victim.txt").exists()


@pytest.mark.parametrize(
    "name, text",
    [
        ("state.json", "[]"),
        ("state.json", "5"),
        ("state.json", '{"version": 5, "units": []}'),
        ("state.json", '{"version": 5, "units": {"a.png": {"key": 3, "files": []}}}'),
        ("state.json", '{"version": 5, "units": {}, "garbage": "x"}'),
        ("state.json", "{not json"),
        ("journal.jsonl", "[1, 2]\n"),
        ("journal.jsonl", '{"put": 7}\n'),
        ("journal.jsonl", '"text"\n'),
        ("lines.json", "[]"),
    ],
)
def test_state_files_of_the_wrong_shape_are_exit_2_naming_the_file(tmp_path, name, text):
    root = small_set(tmp_path)
    out = made(root)
    (out / f".augcli-{name}").write_text(text)
    (root / "in" / "c" / "a1.png").unlink()  # the run has something to remove and a manifest to write
    result = augcli("run", root / "recipe.yaml", root / "in", out)
    assert result.returncode == 2, result.stderr
    assert f".augcli-{name}" in result.stderr and "Traceback" not in result.stderr
    assert (out / "c" / "a1_aug0.png").exists()  # nothing was deleted on the word of a bad state


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(["../x", "/etc", "", "."]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["units", "deaths", "garbage", "manifest", "version"]), value=json_values)
def test_any_corruption_of_the_state_never_tracebacks_nor_touches_anything_outside(tmp_path_factory, field, value):
    root = small_set(tmp_path_factory.mktemp("corrupt"))
    out = made(root)
    state = json.loads((out / ".augcli-state.json").read_text())
    state[field] = value
    (out / ".augcli-state.json").write_text(json.dumps(state))
    inputs = {p: p.read_bytes() for p in (root / "in").rglob("*") if p.is_file()}
    result = CliRunner().invoke(main, ["run", str(root / "recipe.yaml"), str(root / "in"), str(out)])
    assert result.exit_code in (0, 2), result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert {p: p.read_bytes() for p in inputs} == inputs and (root / "victim.txt").exists()


def test_report_and_replay_refuse_a_manifest_naming_files_outside_output(tmp_path):
    root = small_set(tmp_path)
    out = made(root)
    (root / "secret.txt").write_text("s3cr3t")
    manifest = (out / "manifest.csv").read_text().splitlines()
    header = manifest[0].split(",")
    row = dict.fromkeys(header, "")
    row.update(output="../secret.txt", source="../secret.txt", modality="image", kind="original", copy="-1")
    manifest.append(",".join(row[c] for c in header))
    (out / "manifest.csv").write_text("\n".join(manifest) + "\n")
    result = augcli("replay", out, "--all")
    assert result.returncode == 2 and "'..'" in result.stderr and "Traceback" not in result.stderr
    result = augcli("verify", out)
    assert result.returncode == 2 and "'..'" in result.stderr
    pytest.importorskip("jinja2")
    result = augcli("report", out)
    assert result.returncode == 2 and "'..'" in result.stderr
    assert not (out / "report.html").exists() or "s3cr3t" not in (out / "report.html").read_text()


def test_a_report_never_replaces_an_inputs_output_named_report_html(tmp_path):
    pytest.importorskip("jinja2")
    root = small_set(tmp_path)
    (root / "in" / "report.html").write_text("<p>mine</p>")
    (root / "recipe.yaml").write_text(
        RECIPE.replace("copies: 3", "copies: 1") + "text:\n  include: ['*.html']\n  transforms: [random_swap]\n"
    )
    result = augcli("run", root / "recipe.yaml", root / "in", root / "out", "--report")
    assert (root / "out" / "report.html").read_text() == "<p>mine</p>"
    assert "report.html is an output of INPUT/report.html" in result.stderr


def test_an_input_folder_that_cannot_be_read_fails_the_run_and_removes_nothing(tmp_path):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop CAP_DAC_OVERRIDE (a plain user run is the same without it)")
    root = small_set(tmp_path)
    write_image(root / "in" / "d" / "b.png", gradient_rgb(24, 16, seed=5))
    out = made(root)
    (root / "in" / "c").chmod(0)
    try:
        drop = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--"]
        result = subprocess.run(
            drop + augcli_command("run", root / "recipe.yaml", root / "in", out, "--allow-failures"),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        (root / "in" / "c").chmod(0o755)
    assert "c: cannot list this folder" in result.stderr, result.stderr
    assert "0 removed" in result.stderr
    assert (out / "c" / "a0_aug0.png").exists() and (out / "c" / "a1.png").exists()


def test_output_reached_from_input_through_a_link_is_refused(tmp_path):
    root = small_set(tmp_path)
    out = made(root)
    (root / "in" / "link").symlink_to(out)
    result = augcli("run", root / "recipe.yaml", root / "in", out)
    assert result.returncode == 2 and "INPUT/link is OUTPUT" in result.stderr


def test_output_inside_input_through_a_bind_mount_is_refused(tmp_path):
    root = small_set(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    mount_point = root / "in" / "mounted"
    mount_point.mkdir()
    if subprocess.run(["mount", "--bind", str(outside), str(mount_point)], capture_output=True).returncode != 0:
        mount_point.rmdir()
        pytest.skip("bind mounts need root with CAP_SYS_ADMIN here")
    try:
        result = augcli("run", root / "recipe.yaml", root / "in", outside)
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)
    assert result.returncode == 2 and "INPUT/mounted is OUTPUT (through a link or a mount)" in result.stderr


def test_a_companion_that_would_overwrite_another_inputs_output_is_exit_2_naming_both(tmp_path):
    """a.png's YOLO label a.txt sits beside it; its copy's label a_aug0.txt is also a text input."""
    data = tmp_path / "in"
    write_image(data / "a.png", gradient_rgb(24, 16))
    (data / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (data / "a_aug0.txt").write_text("a plain note about the picture\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "copies: 1\nimage:\n  annotations: {format: yolo}\n  transforms: [hflip]\ntext:\n  transforms: [random_swap]\n"
    )
    result = augcli("run", recipe, data, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "a_aug0.txt and a.png would both write a_aug0.txt" in result.stderr
    assert not (tmp_path / "out").exists()


def test_names_equal_but_for_case_collide_where_output_ignores_case(tmp_path):
    data = tmp_path / "in"
    (data).mkdir()
    (data / "note.txt").write_text("one two three\n")
    (data / "Note.txt").write_text("four five six\n")
    recipe = parse_recipe("copies: 1\ntext:\n  transforms: [random_swap]\n", "r.yaml", tmp_path)
    assert len(build_plan(recipe, data).jobs) == 2
    with pytest.raises(PlanError, match="OUTPUT's file system ignores case"):
        build_plan(recipe, data, fold_case=True)


def test_a_scheduler_address_that_is_not_dask_is_refused_in_bounded_time(tmp_path):
    pytest.importorskip("distributed")
    import http.server
    import socketserver
    import threading
    import time

    root = small_set(tmp_path)
    result = augcli(
        "run", root / "recipe.yaml", root / "in", root / "o1", "--executor", "dask", "--scheduler", "bogus://"
    )
    assert result.returncode == 2 and "is not a Dask scheduler address" in result.stderr

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None: ...

    with socketserver.TCPServer(("127.0.0.1", 0), Quiet) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started = time.monotonic()
        address = f"tcp://127.0.0.1:{server.server_address[1]}"
        result = augcli(
            "run", root / "recipe.yaml", root / "in", root / "o2", "--executor", "dask", "--scheduler", address
        )
        server.shutdown()
    assert result.returncode == 2 and "no Dask scheduler answered within 10 s" in result.stderr
    assert time.monotonic() - started < 60 and not (root / "o2").exists()


def test_balance_is_capped_like_copies(tmp_path):
    root = small_set(tmp_path)
    recipe = root / "b.yaml"
    recipe.write_text(RECIPE.replace("image:\n", "image:\n  balance: 1000000000\n"))
    result = augcli("run", recipe, root / "in", root / "out")
    assert result.returncode == 2 and "(1 to 10,000,000), got 1000000000" in result.stderr
    recipe.write_text(RECIPE.replace("copies: 3", "copies: 1").replace("image:\n", "image:\n  balance: 9000000\n"))
    result = augcli("run", recipe, root / "in", root / "out")
    assert result.returncode == 2 and "over the cap of 100,000 copies per file" in result.stderr
    assert not (root / "out").exists()


def test_a_yaml_thesaurus_with_nested_aliases_is_refused_at_once(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}" + f", *{chr(97 + i)}" * 9 + "]" for i in range(8)]
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n")
    assert (tmp_path / "bomb.yaml").stat().st_size < 1024
    write_image(tmp_path / "in" / "x.png", gradient_rgb(8, 8))
    (tmp_path / "in" / "t.txt").write_text("a quick test\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("text:\n  thesaurus: bomb.yaml\n  transforms: [synonym_replacement]\n")
    result = augcli("validate", recipe)
    assert result.returncode == 2 and "nested aliases" in result.stderr and "text.thesaurus" in result.stderr


def test_a_class_named_like_tex_math_is_plain_text_in_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("jinja2")
    root = small_set(tmp_path)
    write_image(root / "in" / "$\\foo{$" / "b.png", gradient_rgb(24, 16, seed=3))
    result = augcli("run", root / "recipe.yaml", root / "in", root / "out", "--report")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "$\\foo{$" in (root / "out" / "report.html").read_text()


def test_merge_names_every_missing_shard(tmp_path):
    data = tmp_path / "in"
    for i in range(12):
        write_image(data / "c" / f"a{i}.png", gradient_rgb(12, 8, seed=i))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(RECIPE.replace("copies: 3", "copies: 1"))
    out = tmp_path / "out"
    assert augcli("run", recipe, data, out, "--shard", "1/3").returncode == 0
    result = augcli("merge", out)
    assert result.returncode == 2 and "shards 0, 2 of 3 are missing: run them" in result.stderr


def test_a_record_longer_than_a_csv_field_goes_to_a_side_file_and_reads_back(tmp_path):
    """Balancing a text table over 12,000 labels records a 500 KB class table: the manifest keeps a
    reference, every field stays under what Python's csv module reads by default."""
    import csv

    data = tmp_path / "in"
    data.mkdir()
    rows = "".join(f"{i},the film number {i} was here,label{i}\n" for i in range(12_000))
    (data / "t.csv").write_text("id,text,label\n" + rows)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "copies: 1\ntext:\n  include: ['*.csv']\n  label: label\n  balance: max\n  transforms: [random_swap]\n"
    )
    out = tmp_path / "out"
    result = augcli("run", recipe, data, out)
    assert result.returncode == 0, result.stderr
    with (out / "manifest.csv").open(newline="") as handle:
        manifest_rows = list(csv.DictReader(handle))  # the default field size limit
    (table,) = [r for r in manifest_rows if r["kind"] == "table"]
    (reference,) = json.loads(table["transforms"])
    assert reference["name"] == "records_file" and reference["params"]["file"] == ".t.csv.records.json"
    side = json.loads((out / ".t.csv.records.json").read_text())
    (balance,) = [r for r in side if r["name"] == "balance"]
    assert len(balance["params"]["classes"]) == 12_000
    assert [r["kind"] for r in manifest_rows if r["output"] == ".t.csv.records.json"] == ["record"]
    assert augcli("verify", out).returncode == 0
    replayed = augcli("replay", out, "--all")
    assert replayed.returncode == 0 and "0 differ" in replayed.stderr, replayed.stderr
    (out / ".t.csv.records.json").write_text("[]")  # tampered: its hash no longer matches
    replayed = augcli("replay", out, "--all")
    assert replayed.returncode == 2 and "not the ones manifest.csv records" in replayed.stderr


def test_preview_and_replay_never_write_through_a_link_planted_at_a_temporary_name(tmp_path):
    pytest.importorskip("jinja2")
    root = small_set(tmp_path)
    out = made(root)
    page = tmp_path / "preview.html"
    for planted in (f".{page.name}.augcli-tmp", f".{page.name}.augcli-replay-1"):
        (tmp_path / planted).symlink_to(root / "victim.txt")
    result = augcli("preview", root / "recipe.yaml", root / "in", "-o", page, "--files", "1", "--copies", "1")
    assert result.returncode == 0, result.stderr
    replayed = tmp_path / "copy.png"
    assert augcli("replay", out, "c/a0_aug0.png", "-o", replayed).returncode == 0
    assert replayed.read_bytes() == (out / "c" / "a0_aug0.png").read_bytes()
    assert (root / "victim.txt").read_text() == "keep me\n" and page.read_text().startswith("<!")
    assert sorted(p.name for p in tmp_path.glob(".*augcli-tmp")) == [f".{page.name}.augcli-tmp"]  # only the plant


@pytest.mark.parametrize("key", ["thesaurus", "stopwords"])
@pytest.mark.parametrize("kind", ["fifo", "zero", "sparse"])
def test_word_files_a_recipe_names_are_read_bounded(tmp_path, key, kind):
    """A FIFO, /dev/zero or a 10 GB sparse file as a thesaurus or stop-word list: refused at once
    (exit 2 naming the key), never a hang or a MemoryError."""
    import time

    target = tmp_path / ("words.csv" if key == "thesaurus" else "words.txt")
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        with target.open("wb") as handle:
            handle.truncate(10 << 30)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"text:\n  {key}: {target.name}\n  transforms: [synonym_replacement]\n")
    started = time.monotonic()
    result = augcli("validate", recipe)
    assert result.returncode == 2 and f"text.{key}" in result.stderr, result.stderr
    assert time.monotonic() - started < 30 and "Traceback" not in result.stderr


def test_a_bounded_read_reserves_what_the_file_holds_not_the_bound(tmp_path):
    """read_state_file's bound is 2 GiB: reading a small state must not ask for 2 GiB first (that
    peak was every no-op run's, and fails outright where memory is not overcommitted)."""
    import tracemalloc

    from augcli.core.files import read_at_most
    from augcli.storage.untrusted import UntrustedError, read_state_file

    small = tmp_path / ".augcli-state.json"
    small.write_bytes(b"x" * 1000)
    tracemalloc.start()
    try:
        assert read_state_file(small) == b"x" * 1000
        assert tracemalloc.get_traced_memory()[1] < 16 << 20  # not 2 GiB
    finally:
        tracemalloc.stop()
    with small.open("rb") as handle:
        assert read_at_most(handle, 10) == b"x" * 10
    with pytest.raises(UntrustedError, match=r"holds over 0 MiB \(1,000 bytes\): it is not a file augcli wrote"):
        read_state_file(small, limit=999)


_CELLS = st.sampled_from(["a.png", "c/a_aug0.png", "../x", "/abs", "a//b", "", ".", "c/./a", "bytes:\\x80", "a\x00b"])
_SHAS = st.sampled_from(["0" * 64, "a" * 63, "A" * 64, "f" * 64 + "\n", 5])
_RECORDS = st.fixed_dictionaries(
    {"key": st.one_of(st.none(), st.text(max_size=3), st.integers())},
    optional={
        "files": st.lists(st.one_of(st.tuples(_CELLS, _SHAS).map(list), st.just([]), st.just("x")), max_size=3),
        "entry": st.one_of(st.just({}), st.just([])),
        "run": st.one_of(st.booleans(), st.just(1)),
        "partners": st.just([[0, "a.png", None]]),
    },
)


@settings(max_examples=300, deadline=None)
@given(unit=_CELLS, record=_RECORDS)
@example(unit="a.png", record={"key": None, "files": [["a.png", "a" * 63]]})
@example(unit="a.png", record={"key": None, "files": [["../a.png", "0" * 64]]})
@example(unit="a.png", record={"key": 5, "files": []})
@example(unit="a.png", record={"key": None, "files": [], "run": 1})
def test_a_state_record_passes_the_fast_check_only_if_the_full_check_passes(unit, record):
    """The state's records are checked on a fast path that builds no message; whatever it lets
    through, the full check (which names what is wrong) must let through too."""
    from augcli.build import state

    if state._plain_record(unit, record):
        state._check_record_slowly(unit, record, "state.json")
