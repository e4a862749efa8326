"""`augcli verify OUTPUT`: re-hash every file the manifest lists, and find the ones it does not.

Missing or modified listed files fail; unlisted files are reported (training tools put caches and
thumbnails into datasets) and fail only with --strict. Linear in the number of files."""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from augcli.build import manifest
from augcli.build.plan import MANIFEST_NAME, REPORT_NAME
from augcli.build.state import is_state_name
from augcli.core.files import sha256_file
from augcli.storage.tree import walk_tree
from augcli.storage.untrusted import UntrustedError, relative_path_problem

_THREADS = 4


class VerifyError(Exception):
    """OUTPUT has no readable manifest with checksums."""


@dataclass
class Verified:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    strict: bool = False  # unlisted files fail too

    @property
    def ok(self) -> bool:
        return not (self.missing or self.modified or (self.strict and self.unlisted))


def _hash(path: Path) -> str | None:
    """The content hash of a regular file, through a link (a data version tool's link to its cache
    holds the same bytes); a FIFO, a device or a folder counts as modified."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        return sha256_file(path)
    except OSError:
        return None


def verify(output_root: Path, strict: bool = False) -> Verified:
    try:  # bounded: never a FIFO, a device or a file larger than a manifest augcli writes
        rows = manifest.read(output_root / MANIFEST_NAME)
    except FileNotFoundError:
        raise VerifyError(f"{output_root} has no {MANIFEST_NAME}: it is not a finished augcli OUTPUT") from None
    except UntrustedError as exc:
        raise VerifyError(str(exc)) from None
    except OSError as exc:
        raise VerifyError(f"cannot read {output_root / MANIFEST_NAME}: {exc}") from None
    if rows and ("sha256" not in rows[0] or "output" not in rows[0]):
        raise VerifyError(f"{MANIFEST_NAME} has no output or sha256 column: rerun augcli run with --rebuild")
    found = Verified(checked=len(rows), strict=strict)
    listed = {}
    for number, row in enumerate(rows, start=2):
        try:
            path = manifest.decode_path(row["output"] or "")
        except UntrustedError as exc:
            raise VerifyError(f"{MANIFEST_NAME}, line {number}: {exc}") from None
        problem = relative_path_problem(path)
        if problem:
            raise VerifyError(f"{MANIFEST_NAME}, line {number}: {problem}; it names no file inside OUTPUT")
        listed[path] = row["sha256"] or ""
    present = [path for path in listed if os.path.lexists(output_root / path)]
    there = set(present)
    found.missing = sorted(path for path in listed if path not in there)
    with ThreadPoolExecutor(_THREADS) as threads:
        hashes = dict(zip(present, threads.map(lambda p: _hash(output_root / p), present), strict=True))
    found.modified = sorted(path for path, sha in hashes.items() if sha != listed[path])
    own = tuple(entry.name for entry in os.scandir(output_root) if is_state_name(entry.name))
    for folder, entries in walk_tree(output_root, skip=own):
        relative = Path(folder).relative_to(output_root).as_posix()
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                continue
            path = entry.name if relative == "." else f"{relative}/{entry.name}"
            if path not in listed and path not in (MANIFEST_NAME, REPORT_NAME):
                found.unlisted.append(path)
    found.unlisted.sort()
    return found
