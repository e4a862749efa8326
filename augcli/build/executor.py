"""The local executor: tasks over worker processes, one task per worker at a time.

Unlike multiprocessing.Pool, it watches every worker's process sentinel: a worker that dies
(SIGKILL, the out-of-memory killer, a crash in a C library) never hangs the run. The task it held
is reported as failed with the cause, and a fresh worker takes its place. Workers ignore SIGINT:
Ctrl-C reaches the parent alone, which stops them, so the terminal shows one line, not a
traceback per worker.
"""

from __future__ import annotations

import contextlib
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from augcli.build import pool


class WorkerDied(Exception):
    """The worker that held a task died before it answered."""


def death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        if number == signal.SIGKILL:  # what the out-of-memory killer sends
            return f"worker died: killed by signal {number} (out of memory?)"
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown"
        return f"worker died: killed by signal {number} ({name})"
    return f"worker died: exit status {exitcode}"


def _serve(conn: Connection, initializer: Callable[..., None], initargs: tuple, func: Callable[[Any], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    initializer(*initargs)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(func(task))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: Any = None
    busy: bool = False


class LocalExecutor:
    """Run `func(task)` for every task on `workers` processes; yield (task, result) as they finish.

    A task whose worker died yields (task, WorkerDied(reason)) instead of a result.
    """

    def __init__(self, workers: int, func: Callable[[Any], Any], initializer: Callable[..., None], initargs: tuple):
        self.size, self.func, self.initializer, self.initargs = workers, func, initializer, initargs
        self.context = pool.context()
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve, args=(child, self.initializer, self.initargs, self.func), daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self.workers.append(worker)
        return worker

    def map(self, tasks: list[Any] | deque) -> Iterator[tuple[Any, Any]]:
        """A deque given is taken, not copied: each task is dropped once its result is handed on."""
        queue = tasks if type(tasks) is deque else deque(tasks)
        try:
            for _ in range(min(self.size, len(queue))):
                self._start()
            for worker in self.workers:
                self._give(worker, queue)
            while any(w.busy for w in self.workers):
                ready = wait([w.conn for w in self.workers if w.busy] + [w.process.sentinel for w in self.workers])
                for worker in list(self.workers):
                    if worker.busy and worker.conn in ready:
                        try:
                            result = worker.conn.recv()
                        except (EOFError, OSError):
                            result = None  # it died while answering: its exit status tells the cause
                        else:
                            task, worker.busy, worker.task = worker.task, False, None
                            self._give(worker, queue)  # before the caller files the result: no idle worker meanwhile
                            yield task, result
                            continue
                    elif worker.process.sentinel not in ready:
                        continue
                    yield from self._bury(worker, queue)
        finally:
            self.shutdown()

    def _bury(self, worker: _Worker, queue: deque) -> Iterator[tuple[Any, Any]]:
        """A worker died: its task fails with the cause, and a fresh worker takes its place."""
        worker.process.join()
        self.workers.remove(worker)
        worker.conn.close()
        if worker.busy:
            yield worker.task, WorkerDied(death_reason(worker.process.exitcode))
        if queue:
            self._give(self._start(), queue)

    def _give(self, worker: _Worker, queue: deque) -> None:
        if queue:
            worker.task = queue.popleft()
            worker.busy = True
            with contextlib.suppress(OSError):  # it died since its last answer: its sentinel reports the task
                worker.conn.send(worker.task)

    def shutdown(self) -> None:
        """Stop every worker: politely when idle, at once when it still works (Ctrl-C, an error)."""
        for worker in self.workers:
            try:
                if worker.busy:
                    worker.process.terminate()
                else:
                    worker.conn.send(None)
            except (OSError, ValueError):
                worker.process.terminate()
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers.clear()
