"""The Dask executor: the same tasks as the local pool, on a Dask distributed cluster.

Workers read their inputs and write their outputs themselves (OUTPUT must be reachable from every
worker: a shared file system, or object storage); the client only gathers each task's small
result, the manifest records. Tasks go to the scheduler as they are, the recipe once per worker.
A worker lost mid-run costs the re-execution of the tasks it held: Dask reschedules them, and as
every output depends only on its own generator, the bytes are the same. `pip install 'augcli[dask]'`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from augcli.executor import WorkerDied

_SETUP: dict[str, Any] = {}


def _call(task: Any, func: Callable[[Any], Any], initializer: Callable[..., None], initargs: tuple) -> Any:
    """Run one task on a worker, setting the worker up on its first task (per process)."""
    key = id(initargs[0]) if initargs else 0
    if _SETUP.get("key") != key:
        initializer(*initargs)
        _SETUP["key"] = key
    return func(task)


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
        self.func, self.initializer, self.initargs = func, initializer, initargs
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
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        shared = self.client.scatter(list(self.initargs), broadcast=True)
        by_key = {}
        for index, task in enumerate(tasks):
            future = self.client.submit(
                _call, task, self.func, self.initializer, shared, key=f"augcli-task-{index}", pure=False
            )
            by_key[future.key] = task
            self.futures.append(future)
        for future in as_completed(self.futures):
            task = by_key[future.key]
            try:
                yield task, future.result()
            except KilledWorker as exc:  # it took down every worker that tried it
                yield task, WorkerDied(f"worker died: Dask gave up on it ({exc})")
            finally:
                future.release()

    def shutdown(self) -> None:
        for future in self.futures:
            future.cancel()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
