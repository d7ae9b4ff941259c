"""The ``local`` backend: this process and a pool of spawned processes on this machine.

With ``workers`` processes in all, ``workers - 1`` are spawned and this process works too: a
spawned worker costs about a second of CPU to start (interpreter, imports, prices), which on a
machine of few cores is what a short run gains by going parallel; the caller is already started.

The prices go to a Parquet file in a scratch folder beside the lakehouse once, and each worker
reads it once at start. Workers run numba (if a plug-in uses it) on one thread each (the pool
already fills the cores).

Spawned workers never re-import the caller's main script: Python's ``spawn`` re-runs it in every
worker, so a plain script without ``if __name__ == "__main__":`` would start the whole job again
in each worker and fail. Everything a worker runs lives in this importable module.
"""

import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lakehouse.location import local_work_folder
from lakehouse.sweep import sweep_scratch
from quant_assets.settings import Settings
from quant_assets.spawning import exit_with_parent, main_script_hidden
from quant_assets.tournament.decision import Records
from quant_assets.tournament.tasks import Task, run_task, run_task_json

SCRATCH_PREFIX = "tournament-"
"""Scratch folders are ``<data>/tmp/tournament-<token>``."""
SCRATCH_MAX_AGE_SECONDS = 24 * 3600
"""Scratch folders untouched this long were left by a crashed run and are swept."""

_worker_panel: dict[str, Any] = {}
"""The prices a pool worker read once at start (one entry per worker process)."""


def scratch_folder(settings: Settings) -> Path:
    """A fresh folder beside the lakehouse (``<data>/tmp/<token>``), not inside it.

    Scratch folders of crashed runs (untouched for :data:`SCRATCH_MAX_AGE_SECONDS`) are swept.
    """
    parent = local_work_folder(settings.data_root) / "tmp"
    if parent.is_dir():
        sweep_scratch(parent, f"{SCRATCH_PREFIX}*", SCRATCH_MAX_AGE_SECONDS)
    folder = parent / f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def _start_worker(path: str, parent: int) -> None:
    exit_with_parent(parent)
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(1)
    else:  # read by numba when a plug-in imports it; nothing here needs numba itself
        os.environ["NUMBA_NUM_THREADS"] = "1"
    prices = pd.read_parquet(path)
    _worker_panel.update(
        panel=prices.to_numpy(dtype=np.float64),
        dates=[str(d) for d in prices.index],
        symbols=[str(s) for s in prices.columns],
    )


def _ready() -> int:
    """A no-op task: submitted once per worker, it spawns and starts the workers early."""
    return os.getpid()


def _pool_task(task: str) -> str:
    return run_task_json(
        _worker_panel["panel"], _worker_panel["dates"], _worker_panel["symbols"], task
    )


class LocalPool:
    """The calling process and ``spawned`` workers holding ``prices``, started on entering.

    Spawning a worker costs its interpreter and imports (about a second each here); entering
    the pool before the tasks are known (:func:`~quant_assets.tournament.walk_forward.
    run_tournament` enters it before choosing holdings) lets the workers start while the
    caller still works. The prices go to a Parquet file in a scratch folder that is removed
    on exit.
    """

    def __init__(self, prices: pd.DataFrame, spawned: int, settings: Settings) -> None:
        self.prices = prices
        self.spawned = max(0, spawned)
        self.settings = settings
        self._scratch: Path | None = None
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalPool":
        if not self.spawned:
            return self  # this process alone
        self._scratch = scratch_folder(self.settings)
        path = self._scratch / "prices.parquet"
        try:
            self.prices.to_parquet(path)
            self._pool = ProcessPoolExecutor(
                max_workers=self.spawned,
                mp_context=get_context("spawn"),
                initializer=_start_worker,
                initargs=(str(path), os.getpid()),
            )
            with main_script_hidden():  # workers are spawned by these submissions
                for _ in range(self.spawned):
                    self._pool.submit(_ready)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def map(self, tasks: list[Task]) -> Iterator[Records]:
        """Run ``tasks`` on the pool and in this process; yield their results in task order.

        Every task is queued for the workers; meanwhile this process takes tasks from the end
        of the queue that no worker has started (a cancelled future), so it works while workers
        are still starting, and the last tasks are not left to one slow worker. Both run
        :func:`~quant_assets.tournament.tasks.run_task` on the same prices, and a worker's
        result comes back through JSON, whose floats round-trip exactly: the records are the
        same wherever a task ran.
        """
        if self._pool is None and self.spawned:
            raise RuntimeError("enter the LocalPool (`with LocalPool(...) as pool:`) first")
        pool = self._pool
        futures = [] if pool is None else [pool.submit(_pool_task, t.to_json()) for t in tasks]
        here: dict[int, Records] = {}
        panel = self.prices.to_numpy(dtype=np.float64)
        dates = [str(d) for d in self.prices.index]
        symbols = [str(s) for s in self.prices.columns]
        for position in reversed(range(len(tasks))):
            if futures and not futures[position].cancel():
                break  # queued in order: every earlier task has started too
            here[position] = run_task(panel, dates, symbols, tasks[position])
        for position, future in enumerate(futures):
            yield here[position] if position in here else json.loads(future.result())

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            # Not waiting for the workers to exit (about 0.3 s): they read the prices file at
            # start only, and the pool joins them in the background.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def run_local(
    prices: pd.DataFrame, tasks: list[Task], workers: int, settings: Settings
) -> Iterator[Records]:
    """Run ``tasks`` on ``workers`` processes (this one among them); yield results in order."""
    with LocalPool(prices, min(workers, len(tasks)) - 1, settings) as pool:
        yield from pool.map(tasks)
