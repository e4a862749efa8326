"""Up-to-date keys: a digest of everything an output's bytes depend on.

An output's key covers the input's content, the files that travel with it (a label, a mask), the
files its section reads (a COCO json, a noise folder, a thesaurus), the section's canonical
settings, the seed, the copy index, and FORMAT_VERSION. Content is hashed once and cached by
size, mtime and inode, as rsync does, so an unchanged file is never read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from augcli.build.stat_cache import StatTable, stat_of
from augcli.core.files import sha256_file, sha256_files
from augcli.core.transforms import Composition, Transform

# Bump whenever a change to augcli alters the bytes of any output: every output is then remade.
FORMAT_VERSION = 2
_HASH_THREADS = 4
_HEX = re.compile(r"[0-9a-f]*")  # json.dumps writes such a string as it is


def digest(*parts: Any) -> str:
    """A stable digest of JSON-friendly parts (sorted keys: dict order never matters)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def content_digest(source: str | None, companions: list[str | None]) -> str:
    """`digest(source, companions)`: an input's content with its label's and mask's. The usual
    input, a hash and no companions, is spelt out as json.dumps would spell it (once per input)."""
    if not companions and type(source) is str and _HEX.fullmatch(source):
        return hashlib.blake2b(f'["{source}",[]]'.encode(), digest_size=16).hexdigest()
    return digest(source, companions)


def fast_digest(*parts: str | int | bool) -> str:
    """A digest of plain values (hashes, numbers, a path), without JSON: it runs once per output."""
    text = "\x00".join(map(str, parts))
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def canonical_transform(transform: Transform) -> list[Any]:
    """A transform as its name, parsed settings and children: equal settings, equal keys. Its
    output version joins them once it is past 1, so the keys of every other transform stay as they were."""
    children = [canonical_transform(c) for c in transform.children] if isinstance(transform, Composition) else []
    version = [transform.output_version] if transform.output_version != 1 else []
    return [transform.name, transform.settings(), children, *version]


class Hasher:
    """sha256 of files by content, reusing the cached hash of a file whose stat did not change."""

    def __init__(self, cache: StatTable) -> None:
        self.cache = cache
        self.hashed = 0  # files hashed in this run (their cache entries are new)

    def _cached(self, path: str, info: os.stat_result) -> str | None:
        return self.cache.sha_if_current(path, stat_of(info), mark=True)  # asked for: the cache keeps it

    def file(self, path: str | Path, key: str | None = None) -> str | None:
        """The content hash, or None when the file cannot be read (that input fails later, with its
        reason). `key`: the string the cache may hold it under (StatTable.inner of the path)."""
        path = os.fsdecode(path)
        try:
            info = os.stat(path)
            known = self._cached(path, info)
            if known is not None:
                return known
            sha = sha256_file(Path(path))
        except OSError:
            return None
        self._learn(path, info, sha, key)
        return sha

    def _learn(self, path: str, info: os.stat_result, sha: str, key: str | None) -> None:
        self.hashed += 1
        self.cache.set_entry(path, [info.st_size, info.st_mtime_ns, info.st_ino, sha], key)
        self.cache.mark(path)

    def many(self, paths: list[str], keys: list[str] | None = None) -> dict[str, str | None]:
        """Hash many files; the uncached ones on a few threads (hashlib and reads release the GIL).
        `keys`: for each path, the string the cache may hold it under (the plan's relative path)."""
        result: dict[str, str | None] = {}
        todo = []
        key_of = dict(zip(paths, keys, strict=True)) if keys is not None else {}
        for path in paths:
            try:
                info = os.stat(path)
            except OSError:
                result[path] = None
                continue
            known = self._cached(path, info)
            if known is None:
                todo.append(path)
            else:
                result[path] = known
        if len(todo) > 8:
            for path, sha in zip(todo, sha256_files(todo, _HASH_THREADS), strict=True):
                result[path] = self.remember(path, sha, key_of.get(path))
        else:
            result.update((path, self.file(path, key_of.get(path))) for path in todo)
        return result

    def remember(self, path: str, sha: str | None, key: str | None = None) -> str | None:
        """Cache a hash made elsewhere under the file's stat now (None: it could not be read)."""
        if sha is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        self._learn(path, info, sha, key)
        return sha

    def tree(self, path: str | Path) -> str | None:
        """A file's hash, or a folder's: the names and hashes of every file below it."""
        path = Path(path)
        if not path.is_dir():
            return self.file(path)
        files = sorted(p for p in path.rglob("*") if p.is_file())
        hashes = self.many([os.fsdecode(p) for p in files])
        return digest([[p.relative_to(path).as_posix(), hashes[os.fsdecode(p)]] for p in files])
