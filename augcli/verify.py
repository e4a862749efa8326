"""`augcli verify OUTPUT`: re-hash every file the manifest lists, and find the ones it does not."""

from __future__ import annotations

import csv
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from augcli import manifest
from augcli.plan import MANIFEST_NAME, REPORT_NAME
from augcli.state import STATE_DIR
from augcli.storage import sha256_file, walk_tree

_THREADS = 4


class VerifyError(Exception):
    """OUTPUT has no readable manifest with checksums."""


@dataclass
class Verified:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.modified or self.unlisted)


def _hash(path: Path) -> str | None:
    """The content hash of a regular file (a link or anything else counts as modified)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        return sha256_file(path)
    except OSError:
        return None


def verify(output_root: Path) -> Verified:
    try:
        rows = manifest.read(output_root / MANIFEST_NAME)
    except FileNotFoundError:
        raise VerifyError(f"{output_root} has no {MANIFEST_NAME}: it is not a finished augcli OUTPUT") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise VerifyError(f"cannot read {output_root / MANIFEST_NAME}: {exc}") from None
    if rows and "sha256" not in rows[0]:
        raise VerifyError(f"{MANIFEST_NAME} has no sha256 column (an older augcli wrote it): rerun with --rebuild")
    found = Verified(checked=len(rows))
    listed = {manifest.decode_path(row["output"]): row["sha256"] for row in rows}
    present = [path for path in listed if os.path.lexists(output_root / path)]
    found.missing = sorted(path for path in listed if path not in set(present))
    with ThreadPoolExecutor(_THREADS) as threads:
        hashes = dict(zip(present, threads.map(lambda p: _hash(output_root / p), present), strict=True))
    found.modified = sorted(path for path, sha in hashes.items() if sha != listed[path])
    for folder, entries in walk_tree(output_root, skip=(STATE_DIR,)):
        relative = Path(folder).relative_to(output_root).as_posix()
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                continue
            path = entry.name if relative == "." else f"{relative}/{entry.name}"
            if path not in listed and path not in (MANIFEST_NAME, REPORT_NAME):
                found.unlisted.append(path)
    found.unlisted.sort()
    return found
