"""INPUT and OUTPUT in object storage: a real S3 API (moto's server on 127.0.0.1) through s3fs,
and fsspec's memory:// store. Runs from bucket to bucket and from a folder to a bucket, reruns
that send only what changed, and shards that merge in the bucket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from augcli.cli import main
from tests.test_cli import invoke, read_manifest, tree_digest
from tests.test_layouts import ultralytics_dataset

pytest.importorskip("s3fs")
pytest.importorskip("moto")

SECRET = "very-secret-key-never-printed"
RECIPE = """\
seed: 3
copies: 2
image:
  annotations: {format: yolo}
  transforms: [hflip, {rotate: {degrees: 10}}]
"""


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1, s3fs pointed at it; stopped at the end."""
    import fsspec
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY=SECRET, AWS_ENDPOINT_URL=endpoint)
    fsspec.config.conf["s3"] = {"endpoint_url": endpoint}
    _restart_worker_server()  # workers must see these variables, as they would in a fresh augcli process
    fs = fsspec.filesystem("s3", endpoint_url=endpoint, skip_instance_cache=True)
    for bucket in ("data", "out", "shards"):
        fs.mkdir(bucket)
    yield fs
    fsspec.config.conf.pop("s3", None)
    _restart_worker_server()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


def _restart_worker_server() -> None:
    """The fork server of augcli's worker pool lives as long as this test process and keeps the
    environment it started with; stop it so the next run starts one that sees the S3 settings."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if server is not None and hasattr(server, "_stop"):
        server._stop()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AUGCLI_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def upload(fs, local: Path, url: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{url}/{path.relative_to(local).as_posix()}")


def bucket_digest(fs, url: str) -> dict[str, str]:
    import hashlib

    root = url.split("://", 1)[1]
    return {
        path[len(root) + 1 :]: hashlib.sha256(fs.cat_file(path)).hexdigest()
        for path in fs.find(root)
        if "/.augcli-" not in path
    }


def test_bucket_to_bucket_run_matches_a_local_run_and_reruns_send_only_changes(s3, cache, tmp_path, monkeypatch):
    from augcli.storage import remote

    pushed = []
    push = remote.Mirror.push
    monkeypatch.setattr(remote.Mirror, "push", lambda self, *a: pushed.append(a) or push(self, *a))
    data = ultralytics_dataset(tmp_path / "data", per_split=3)
    upload(s3, data, "data/set1")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    local = tmp_path / "local"
    assert invoke("run", recipe, data, local).exit_code == 0
    result = invoke("run", recipe, "s3://data/set1", "s3://out/run1")
    assert result.exit_code == 0, result.output
    assert bucket_digest(s3, "s3://out/run1") == tree_digest(local)
    assert len(pushed[-1][4]) == 36  # the workers sent all 36 files (18 images, 18 labels) themselves
    assert SECRET not in result.output
    again = invoke("run", recipe, "s3://data/set1", "s3://out/run1")
    # nothing made: nothing sent (a no-op run rewrites no file, the run record included)
    assert "0 made (0 outputs)" in again.output and "0 objects written, 0 deleted" in again.output
    s3.pipe_file("data/set1/images/train/im0.png", (data / "images" / "train" / "im1.png").read_bytes())
    (data / "images" / "train" / "im0.png").write_bytes((data / "images" / "train" / "im1.png").read_bytes())
    changed = invoke("run", recipe, "s3://data/set1", "s3://out/run1")
    assert " 1 made (6 outputs)" in changed.output  # im0, its two copies and their three label files
    assert "objects written" in changed.output
    assert invoke("run", recipe, data, local).exit_code == 0
    assert bucket_digest(s3, "s3://out/run1") == tree_digest(local)
    manifest = s3.cat_file("out/run1/manifest.csv")
    assert manifest == (local / "manifest.csv").read_bytes()


def test_local_folder_to_bucket_and_memory_store(s3, cache, tmp_path):
    import fsspec

    data = ultralytics_dataset(tmp_path / "data", per_split=2)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    assert invoke("run", recipe, data, "s3://out/from-local", "--report").exit_code == 0
    assert b"augcli run report" in s3.cat_file("out/from-local/report.html")
    local = tmp_path / "local"
    assert invoke("run", recipe, data, local).exit_code == 0
    assert {k: v for k, v in bucket_digest(s3, "s3://out/from-local").items() if k != "report.html"} == tree_digest(
        local
    )
    memory = fsspec.filesystem("memory")
    upload(memory, data, "/augcli-test-in")
    assert invoke("run", recipe, "memory://augcli-test-in", "memory://augcli-test-out").exit_code == 0
    again = invoke("run", recipe, "memory://augcli-test-in", "memory://augcli-test-out")  # memory:// has no ETag
    assert again.exit_code == 0 and "0 made (0 outputs)" in again.output
    assert memory.cat_file("/augcli-test-out/manifest.csv") == (local / "manifest.csv").read_bytes()
    (data / "images" / "train" / "im0.png").unlink()  # removed inputs' objects are deleted
    assert invoke("run", recipe, data, "s3://out/from-local").exit_code == 0
    s3.invalidate_cache()
    assert not s3.exists("out/from-local/images/train/im0_aug0.png")


def test_shards_on_separate_machines_merge_in_the_bucket(s3, tmp_path, monkeypatch):
    data = ultralytics_dataset(tmp_path / "data", per_split=3)
    upload(s3, data, "data/set2")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    for k in range(2):  # each shard with its own cache: as on its own machine
        monkeypatch.setenv("AUGCLI_CACHE", str(tmp_path / f"machine{k}"))
        result = invoke("run", recipe, "s3://data/set2", "s3://shards/out", "--shard", f"{k}/2")
        assert result.exit_code == 0, result.output
    monkeypatch.setenv("AUGCLI_CACHE", str(tmp_path / "machine2"))
    result = invoke("merge", "s3://shards/out")  # INPUT: the shards' bucket, pulled here
    assert result.exit_code == 0, result.output
    local = tmp_path / "local"
    assert invoke("run", recipe, data, local).exit_code == 0
    assert bucket_digest(s3, "s3://shards/out") == tree_digest(local)
    assert len(read_manifest(local)) == len(s3.cat_file("shards/out/manifest.csv").decode().splitlines()) - 1


def test_a_noise_folder_may_be_a_url(cache, tmp_path):
    import fsspec

    from tests.audio_signals import sine, write_audio

    memory = fsspec.filesystem("memory")
    write_audio(tmp_path / "hum.wav", sine(50.0, 8000, 0.3), 8000, subtype="PCM_16")
    memory.put_file(str(tmp_path / "hum.wav"), "/augcli-test-noise/hum.wav")
    write_audio(tmp_path / "data" / "a.wav", sine(440.0, 8000, 0.4), 8000, subtype="PCM_16")
    recipe = tmp_path / "noise.yaml"
    recipe.write_text("copies: 1\naudio:\n  transforms: [{background_noise: {path: 'memory://augcli-test-noise'}}]\n")
    result = invoke("run", recipe, tmp_path / "data", tmp_path / "out")
    assert result.exit_code == 0, result.output
    (row,) = [r for r in read_manifest(tmp_path / "out") if r["kind"] == "copy"]
    assert '"file":"hum.wav"' in row["transforms"]


def test_an_object_key_that_would_leave_the_mirror_is_refused(cache, tmp_path):
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.pipe_file("/augcli-test-hostile/ok.txt", b"fine\n")
    memory.pipe_file("/augcli-test-hostile/a/../../escape.txt", b"outside\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("text:\n  transforms: [random_swap]\n")
    result = invoke("run", recipe, "memory://augcli-test-hostile", tmp_path / "out")
    assert result.exit_code == 2 and "has an empty, '.' or '..' path part" in result.output
    assert not list(cache.rglob("escape.txt")) and not (tmp_path / "escape.txt").exists()


def test_a_tampered_state_in_the_bucket_deletes_and_uploads_nothing_outside(s3, cache, tmp_path):
    """The bucket's state is untrusted: a unit naming ../ paths is refused (exit 2) before the mirror
    deletes or uploads anything, and the local file it names is untouched."""
    import json

    data = ultralytics_dataset(tmp_path / "data", per_split=2)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    assert invoke("run", recipe, data, "s3://out/tampered").exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    state = json.loads(s3.cat_file("out/tampered/.augcli-state.json"))
    hostile = os.path.relpath(victim, cache).replace(os.sep, "/")
    state["units"]["gone.png"] = {"key": "k", "files": [["../../../" + hostile, "0" * 64]]}
    s3.pipe_file("out/tampered/.augcli-state.json", json.dumps(state).encode())
    (data / "images" / "train" / "im0.jpg").unlink(missing_ok=True)
    result = invoke("run", recipe, data, "s3://out/tampered")
    assert result.exit_code == 2 and ".augcli-state.json" in result.output and "'..'" in result.output
    assert victim.read_text() == "keep me\n"
    assert not s3.exists("out/" + hostile)


def test_bucket_shapes_a_console_makes_or_that_cannot_be_mirrored(s3, cache, tmp_path):
    """A web console's folder marker (`set/cls/`, zero bytes) is no file; an object that is also a
    folder of objects, and a store's root, are clear errors (exit 2), never tracebacks."""
    data = ultralytics_dataset(tmp_path / "data", per_split=2)
    upload(s3, data, "data/marked")
    s3.pipe_file("data/marked/images/train/", b"")  # the marker a console's "Create folder" leaves
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    result = invoke("run", recipe, "s3://data/marked", tmp_path / "out")
    assert result.exit_code == 0, result.output
    s3.pipe_file("data/marked/images/val", b"x")  # images/val is also a folder of objects
    result = invoke("run", recipe, "s3://data/marked", tmp_path / "out")
    assert result.exit_code == 2 and "'images/val' is both an object and a folder" in result.output
    result = invoke("run", recipe, "s3://", tmp_path / "out2")
    assert result.exit_code == 2 and "not the store's root" in result.output


def test_no_credentials_is_a_clear_error(s3, cache, tmp_path, monkeypatch):
    data = ultralytics_dataset(tmp_path / "data", per_split=1)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import fsspec

    fsspec.config.conf["s3"] = {"endpoint_url": fsspec.config.conf["s3"]["endpoint_url"], "skip_instance_cache": True}
    result = CliRunner().invoke(main, ["run", str(recipe), str(data), "s3://out/nocreds"])
    assert (result.exit_code in (1, 2) and not isinstance(result.exception, Exception)) or isinstance(
        result.exception, SystemExit
    ), result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    assert "s3://out/nocreds" in result.output, result.output


def test_manifest_csv_is_the_last_object_sent_to_a_bucket(s3, cache, tmp_path, monkeypatch):
    """A reader of the bucket never sees a manifest that lists an object not there yet."""
    from augcli.storage import remote

    order: list[str] = []
    put = remote.Mirror._put
    monkeypatch.setattr(remote.Mirror, "_put", lambda self, relative: order.append(relative) or put(self, relative))
    data = ultralytics_dataset(tmp_path / "data", per_split=2)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE)
    assert invoke("run", recipe, data, "s3://out/ordered", "--workers", "1").exit_code == 0
    assert order and order[-1] == "manifest.csv" and order.count("manifest.csv") == 1
    assert ".augcli-state.json" in order[:-1]
