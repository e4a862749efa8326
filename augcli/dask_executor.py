"""The Dask executor: the same tasks as the local pool, on a Dask distributed cluster.

Workers read their inputs and write their outputs themselves (OUTPUT must be reachable from every
worker: a shared file system); the client only gathers each task's small result, the manifest
records. Tasks go to the scheduler in batches (about 8 per worker; Dask spends a few milliseconds
on each task it schedules), the recipe once per worker.
A worker lost mid-run costs the re-execution of the tasks it held: Dask reschedules them, and as
every output depends only on its own generator, the bytes are the same. `pip install 'augcli[dask]'`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from augcli.executor import WorkerDied

_SETUP: dict[str, Any] = {}


CHUNKS_PER_WORKER = 8  # tasks go in batches: Dask costs a few ms per task it schedules


def _call(tasks: list[Any], func: Callable[[Any], Any], initializer: Callable[..., None], initargs: tuple, run: str):
    """Run a batch of tasks on a worker, setting the worker up on its first batch of each run."""
    if _SETUP.get("run") != run:
        initializer(*initargs)
        _SETUP["run"] = run
    return [func(task) for task in tasks]


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
            raise ImportError("--executor dask needs Dask: pip install 'augcli[dask]'") from None
        self.func, self.initializer, self.initargs, self.workers = func, initializer, initargs, workers
        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)
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
