"""INPUT and OUTPUT as fsspec URLs (s3://bucket/prefix, gs://..., memory://... for tests).

augcli works on a local mirror of each remote folder, kept in step by object listings:
- `pull` brings the mirror up to date with the remote folder: only objects whose size or ETag
  (or modification time, where a store has no ETag) changed are fetched;
- `push` sends back what a run changed: every file the run's state owns whose bytes changed since
  the last push, uploaded as one whole object each (a PUT is atomic: readers see the old object or
  the new one, never half of one); files the state no longer owns are deleted; the state comes
  next and manifest.csv last, so a manifest in the bucket only ever lists objects that are there.
Files no augcli state owns are never touched, so shards pushing into one bucket at the same time
do not interfere. Credentials come from each backend's own environment and configuration (for S3:
AWS_* variables, ~/.aws); augcli never prints them. In augcli's clone, `pip install -e '.[s3]'`
(or gcsfs, adlfs).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from augcli.core.errors import install_hint
from augcli.storage.untrusted import RECORD_FILE_LIMIT, UntrustedError, read_json_file, relative_path_problem

RECORD = ".augcli-mirror.json"  # what was pulled or pushed, to compare with the next listing


def local_path(text: str) -> Path:
    """A plain path, or the path of a file:// URL."""
    return Path(text[len("file://") :]) if text.startswith("file://") else Path(text)


def safe_key(relative: object) -> bool:
    """Whether an object's key below the folder maps to a path inside the mirror: a relative path
    with no '..', '.' or empty part, no NUL and no backslash (untrusted.relative_path_problem: an
    object named a/../../x must never be written, or a recorded key deleted, outside it)."""
    return isinstance(relative, str) and "\\" not in relative and relative_path_problem(relative) is None


def cache_root() -> Path:
    base = os.environ.get("AUGCLI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "augcli")
    return Path(base) / "mirrors"


class Uploader:
    """Sends the files of finished outputs from a worker straight to the remote OUTPUT, each as one
    whole object: workers write outputs themselves, the client only sends the state and the
    manifest. Picklable (the filesystem is made in each worker)."""

    def __init__(self, url: str, local: Path) -> None:
        self.url, self.local = url, local
        self._fs: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "local": self.local, "_fs": None}

    def __call__(self, paths: list[str]) -> list[str]:
        """Upload these paths (relative to OUTPUT); returns those sent (a failure leaves the rest to push)."""
        import fsspec

        sent: list[str] = []
        try:
            if self._fs is None:
                self._fs, self._root = fsspec.core.url_to_fs(self.url)
            for relative in paths:
                self._fs.put_file(str(self.local / relative), f"{self._root.rstrip('/')}/{relative}")
                sent.append(relative)
        except Exception:  # no credentials or no network here: the client sends what is left
            pass
        return sent


class RemoteError(Exception):
    """A remote folder that cannot be listed, read or written (the message names the URL, not secrets)."""


def _read_record(file: Path) -> dict[str, Any]:
    """The mirror's record of what was pulled and pushed (read bounded, never a FIFO), every key
    checked before pull or push deletes or uploads anything by it: RemoteError naming the file for
    a key that is not a relative path inside the mirror (exit 2). An unreadable or malformed record
    is dropped (a full pull follows: it only saves transfers)."""
    try:
        record = read_json_file(file, RECORD_FILE_LIMIT)
    except FileNotFoundError:
        return {}
    except (OSError, UntrustedError):
        return {}
    if not isinstance(record, dict):
        return {}
    tables = [record.get("remote", {}), record.get("local", {})]
    owned = record.get("owned", {})
    if not all(isinstance(t, dict) for t in (*tables, owned)) or not all(isinstance(v, list) for v in owned.values()):
        return {}
    for key in [k for table in tables for k in table] + [k for keys in owned.values() for k in keys]:
        if not safe_key(key):
            raise RemoteError(
                f"{file}: key {key!r} is not a relative path inside the mirror (an empty, '.' or '..' part, or "
                "absolute): pull and push delete and upload by these keys; remove the file (the next pull is whole)"
            )
    return record


class Mirror:
    """A remote folder and its local mirror."""

    def __init__(self, url: str, local: Path | None = None) -> None:
        try:
            import fsspec
        except ImportError:
            hint = install_hint("s3", "fsspec s3fs; gcsfs or adlfs for gs:// or az://")
            raise RemoteError(f"{url}: URLs need fsspec and the store's package: {hint}") from None
        try:
            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise RemoteError(f"{url}: {exc}") from None
        self.url, self.root = url, root.rstrip("/")
        if not self.root or self.root in (".", "/"):
            raise RemoteError(f"{url}: name a bucket and a folder in it (e.g. s3://bucket/data), not the store's root")
        self.local = local or cache_root() / hashlib.sha256(url.encode()).hexdigest()[:24]
        self.local.mkdir(parents=True, exist_ok=True)
        self.record: dict[str, Any] = _read_record(self.local / RECORD)
        self.record.setdefault("remote", {})  # relative -> remote version (size, etag/mtime)
        self.record.setdefault("local", {})  # relative -> [size, mtime_ns] when pulled or pushed

    def _version(self, info: dict[str, Any]) -> list[Any]:
        """What changes when an object does: its size and ETag (or its time, where there is none)."""
        keys = ("ETag", "etag", "mtime", "LastModified", "created")
        tag = next((info[k] for k in keys if info.get(k)), None)
        if hasattr(tag, "timestamp"):  # a listing and info() may give one time as a float or a datetime
            tag = tag.timestamp()
        return [int(info.get("size") or 0), str(tag)]

    def listing(self, under: str = "") -> dict[str, dict[str, Any]]:
        """Every object below the folder (or those whose path starts with `under`), by path relative
        to the folder."""
        base = self.root
        self.fs.invalidate_cache()  # another machine may have written since this process last listed
        try:
            found = self.fs.find(base, detail=True, withdirs=False) if self.fs.exists(base) else {}
        except Exception as exc:  # OSError, or a backend's own (botocore's NoCredentialsError is not one)
            raise RemoteError(f"cannot list {self.url}: {type(exc).__name__}: {exc}") from None
        prefix = self.root + "/"
        out = {}
        for path, info in found.items():
            if path.endswith("/") and not int(info.get("size") or 0):
                continue  # a folder marker (`ds/cls/`, as web consoles make them): no file
            path = path.rstrip("/")
            if path.startswith(prefix) and info.get("type", "file") == "file" and not path.endswith(RECORD):
                relative = path[len(prefix) :]
                if not relative.startswith(under):
                    continue
                if not safe_key(relative):
                    raise RemoteError(
                        f"{self.url}: object {relative!r} has an empty, '.' or '..' path part: it cannot be mirrored "
                        "safely; rename it"
                    )
                out[relative] = info
        folders = {relative.rsplit("/", 1)[0] for relative in out if "/" in relative}
        folders |= {f.rsplit("/", i)[0] for f in folders for i in range(1, f.count("/") + 1)}
        clash = sorted(folders & set(out))
        if clash:
            raise RemoteError(
                f"{self.url}: {clash[0]!r} is both an object and a folder of objects ({clash[0]}/...): a local "
                "mirror cannot hold both; rename one"
            )
        return out

    def _stamp(self, relative: str) -> list[int]:
        info = os.lstat(self.local / relative)
        return [info.st_size, info.st_mtime_ns]

    def pull(self, under: str = "") -> Path:
        """Bring the mirror up to date with the remote folder (or its `under` part); returns it."""
        remote = self.listing(under)
        for relative, info in sorted(remote.items()):
            version = self._version(info)
            target = self.local / relative
            current = self.record["remote"].get(relative) == version and target.is_file()
            if current and self.record["local"].get(relative) == self._stamp(relative):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.augcli-pull")
            try:
                self.fs.get_file(f"{self.root}/{relative}", str(temporary))
            except Exception as exc:  # a backend's own errors too
                raise RemoteError(f"cannot read {self.url}/{relative}: {exc}") from None
            os.replace(temporary, target)
            self.record["remote"][relative] = version
            self.record["local"][relative] = self._stamp(relative)
        for relative in [r for r in self.record["remote"] if r.startswith(under) and r not in remote]:
            (self.local / relative).unlink(missing_ok=True)  # gone from the remote folder
            self.record["remote"].pop(relative, None)
            self.record["local"].pop(relative, None)
        self._save()
        return self.local

    def push(
        self, place: str, owned: set[str], extras: list[str], manifest: str, sent: list[str] = ()
    ) -> tuple[int, int]:
        """Upload the files a state (`place`) owns that changed, then its own files (`extras`), and
        the manifest last; delete what it no longer owns. `sent`: files the workers already
        uploaded. Returns (objects uploaded, objects deleted)."""
        if sent:
            listed = self.listing()
            for relative in sent:
                if relative in listed and (self.local / relative).is_file():
                    self.record["remote"][relative] = self._version(listed[relative])
                    self.record["local"][relative] = self._stamp(relative)

        previously = set(self.record.get("owned", {}).get(place, []))
        uploads = [r for r in sorted(owned) if (self.local / r).is_file() and self._changed(r)]
        uploaded = 0
        for relative in uploads + [r for r in extras if r != manifest and self._changed(r)]:
            self._put(relative)
            uploaded += 1
        deleted = 0
        for relative in sorted(previously - owned):
            if not (self.local / relative).exists():
                with contextlib.suppress(FileNotFoundError):
                    self.fs.rm_file(f"{self.root}/{relative}")
                self.record["remote"].pop(relative, None)
                self.record["local"].pop(relative, None)
                deleted += 1
        if (self.local / manifest).is_file() and self._changed(manifest):
            self._put(manifest)  # last: it lists only objects that are already there
            uploaded += 1
        self.record.setdefault("owned", {})[place] = sorted(owned)
        self._save()
        return uploaded, deleted

    def push_file(self, relative: str) -> bool:
        """Upload one file no state owns (the run report) when it changed; True if it was sent."""
        if not (self.local / relative).is_file() or not self._changed(relative):
            return False
        self._put(relative)
        self._save()
        return True

    def _changed(self, relative: str) -> bool:
        return self.record["local"].get(relative) != self._stamp(relative)

    def _put(self, relative: str) -> None:
        try:
            self.fs.put_file(str(self.local / relative), f"{self.root}/{relative}")
            info = self.fs.info(f"{self.root}/{relative}")
        except Exception as exc:  # a backend's own errors too
            raise RemoteError(f"cannot write {self.url}/{relative}: {exc}") from None
        self.record["remote"][relative] = self._version(info)
        self.record["local"][relative] = self._stamp(relative)

    def _save(self) -> None:
        path = self.local / RECORD
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.record, sort_keys=True))
        os.replace(temporary, path)
