"""Ordered, bounded streaming of tasks through workers: results come back in input order
and at most ``window`` tasks are in flight, so memory stays flat however many there are.
Local: a pool of worker processes that live for the whole batch (numba kernels loaded
once per process). Remote: a dask.distributed cluster."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WINDOW_PER_WORKER = 4  # tasks in flight per worker


def run_local(fn: Callable[[Any], Any], tasks: Iterable[Any], jobs: int) -> Iterator[Any]:
    """fn(task) for every task, in input order, on ``jobs`` worker processes (in this
    process when jobs == 1)."""
    if jobs <= 1:
        for task in tasks:
            yield fn(task)
        return
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        yield from _ordered(lambda task: pool.apply_async(fn, (task,)), lambda f: f.get(),
                            tasks, jobs * WINDOW_PER_WORKER)


def run_dask(fn: Callable[[Any], Any], tasks: Iterable[Any], address: str) -> Iterator[Any]:
    """fn(task) for every task, in input order, on the dask.distributed cluster whose
    scheduler listens at ``address`` (e.g. tcp://10.0.0.5:8786)."""
    from dask.distributed import Client

    with Client(address) as client:
        workers = max(1, sum(client.nthreads().values()))
        yield from _ordered(lambda task: client.submit(fn, task, pure=False),
                            lambda f: f.result(), tasks, workers * WINDOW_PER_WORKER)


def _ordered(submit, result, tasks: Iterable[Any], window: int) -> Iterator[Any]:
    pending: deque = deque()
    for task in tasks:
        pending.append(submit(task))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())
