"""The Dask executor: the same tasks as the local pool, on a Dask distributed cluster.

Workers read their inputs and write their outputs themselves (OUTPUT must be reachable from every
worker: a shared file system); the client only gathers each task's small result, the manifest
records. Tasks go to the scheduler in batches (about 8 per worker; Dask spends a few milliseconds
on each task it schedules), the recipe once per worker.
A worker lost mid-run costs the re-execution of the tasks it held: Dask reschedules them, and as
every output depends only on its own generator, the bytes are the same. In augcli's clone,
`pip install -e '.[dask]'`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from augcli.build.executor import WorkerDied
from augcli.core.errors import install_hint

_SETUP: dict[str, Any] = {}


CHUNKS_PER_WORKER = 8  # tasks go in batches: Dask costs a few ms per task it schedules


def _call(tasks: list[Any], func: Callable[[Any], Any], initializer: Callable[..., None], initargs: tuple, run: str):
    """Run a batch of tasks on a worker, setting the worker up on its first batch of each run."""
    if _SETUP.get("run") != run:
        initializer(*initargs)
        _SETUP["run"] = run
    return [func(task) for task in tasks]


SCHEDULER_TIMEOUT = 10  # seconds a scheduler address has to answer
DASK_MISSING = "--executor dask needs Dask: " + install_hint("dask", "'dask[distributed]'")
_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


class SchedulerError(Exception):
    """--scheduler names no Dask scheduler that answers; nothing was written."""


def check_scheduler(address: str, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """Refuse an address that is not a Dask scheduler's (bogus://, an HTTP server, nothing listening)
    within `timeout` seconds, before a run writes anything."""
    if not _ADDRESS.match(address):
        raise SchedulerError(
            f"--scheduler {address!r} is not a Dask scheduler address: give tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
        )
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError(DASK_MISSING) from None
    import threading

    outcome: list[Any] = []

    def connect() -> None:
        try:
            outcome.append(Client(address, timeout=timeout))
        except Exception as exc:  # OSError, TimeoutError, CommClosedError: all mean "no scheduler there"
            outcome.append(exc)

    # A server that accepts the connection but never speaks Dask's protocol (an HTTP server) keeps
    # Client waiting past its own timeout: the wait is bounded here, on a thread that may be left.
    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout + 2)
    found = outcome[0] if outcome else TimeoutError("no answer")
    if isinstance(found, Exception):
        raise SchedulerError(
            f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s ({type(found).__name__}: "
            f"{found}); start one with `dask scheduler`, or leave --scheduler out for a local cluster"
        )
    found.close()


class DaskExecutor:
    """Run `func(task)` for every task on a Dask cluster; yield (task, result) as they finish. With
    no `scheduler` address, a LocalCluster of `workers` single-threaded processes is started (and
    stopped at shutdown)."""

    def __init__(
        self,
        workers: int,
        func: Callable[[Any], Any],
        initializer: Callable[..., None],
        initargs: tuple,
        scheduler: str | None = None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ImportError(DASK_MISSING) from None
        self.func, self.initializer, self.initargs, self.workers = func, initializer, initargs, workers
        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        self.futures: list[Any] = []

    def map(self, tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        import uuid

        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        run = uuid.uuid4().hex  # a long-lived cluster's workers set up again for each run
        shared = self.client.scatter(list(self.initargs), broadcast=True)
        workers = max(len(self.client.scheduler_info().get("workers", {})), self.workers, 1)
        size = max(1, min(64, len(tasks) // (workers * CHUNKS_PER_WORKER)))
        batches = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        by_key = {}
        for index, batch in enumerate(batches):
            future = self.client.submit(
                _call, batch, self.func, self.initializer, shared, run, key=f"augcli-{run}-{index}", pure=False
            )
            by_key[future.key] = batch
            self.futures.append(future)
        for future in as_completed(self.futures):
            batch = by_key[future.key]
            try:
                yield from zip(batch, future.result(), strict=True)
            except KilledWorker as exc:  # it took down every worker that tried it
                yield from ((task, WorkerDied(f"worker died: Dask gave up on it ({exc})")) for task in batch)
            finally:
                future.release()

    def shutdown(self) -> None:
        for future in self.futures:
            future.cancel()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
