"""The worker pool's process context, kept import-light so the pool can start first thing.

Not "fork": a parent that already ran OpenCV (or holds any threads) can hand a held lock to its
children. The fork server starts clean, imports augcli once, and forks each worker from there.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

PRELOAD = ["augcli.modalities", "augcli.runner"]


def context() -> BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(PRELOAD)
    return forkserver


def start_server() -> None:
    """Start the fork server now, so its imports overlap the parent's recipe and plan work."""
    if context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
