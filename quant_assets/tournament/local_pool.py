"""The ``local`` backend: a pool of spawned processes on this machine.

The prices go to a Parquet file in a scratch folder beside the lakehouse once, and each worker
reads it once at start. Workers run the numba kernels on one thread each (the pool already fills
the cores).

Spawned workers never re-import the caller's main script: Python's ``spawn`` re-runs it in every
worker, so a plain script without ``if __name__ == "__main__":`` would start the whole job again
in each worker and fail. Everything a worker runs lives in this importable module.
"""

import contextlib
import json
import os
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from lakehouse.sweep import sweep_scratch
from quant_assets.settings import Settings
from quant_assets.tournament.decision import Records
from quant_assets.tournament.tasks import Task, run_task_json

SCRATCH_PREFIX = "tournament-"
"""Scratch folders are ``<data>/tmp/tournament-<token>``."""
PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that the process that started it is still alive."""
SCRATCH_MAX_AGE_SECONDS = 24 * 3600
"""Scratch folders untouched this long were left by a crashed run and are swept."""

_worker_panel: dict[str, Any] = {}
"""The prices a pool worker read once at start (one entry per worker process)."""


def scratch_folder(settings: Settings) -> Path:
    """A fresh folder beside the lakehouse (``<data>/tmp/<token>``), not inside it.

    Scratch folders of crashed runs (untouched for :data:`SCRATCH_MAX_AGE_SECONDS`) are swept.
    """
    parent = settings.data_root.resolve().parent / "tmp"
    if parent.is_dir():
        sweep_scratch(parent, f"{SCRATCH_PREFIX}*", SCRATCH_MAX_AGE_SECONDS)
    folder = parent / f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def _start_worker(path: str, parent: int) -> None:
    _exit_with_parent(parent)
    numba.set_num_threads(1)
    prices = pd.read_parquet(path)
    _worker_panel.update(
        panel=prices.to_numpy(dtype=np.float64),
        dates=[str(d) for d in prices.index],
        symbols=[str(s) for s in prices.columns],
    )


def _pool_task(task: str) -> str:
    return run_task_json(
        _worker_panel["panel"], _worker_panel["dates"], _worker_panel["symbols"], task
    )


def run_local(
    prices: pd.DataFrame, tasks: list[Task], workers: int, settings: Settings
) -> Iterator[Records]:
    """Run ``tasks`` on a pool of ``workers`` spawned processes; yield results in task order."""
    scratch = scratch_folder(settings)
    path = scratch / "prices.parquet"
    try:
        prices.to_parquet(path)
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)),
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(path), os.getpid()),
        ) as pool:
            with _main_script_hidden():  # workers are spawned while the tasks are submitted
                texts = pool.map(_pool_task, [task.to_json() for task in tasks])
            for text in texts:
                yield json.loads(text)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _exit_with_parent(parent: int) -> None:
    """End this worker as soon as its parent is gone (killed), instead of living on orphaned.

    ``parent`` is the pid the parent passed down, so a parent killed while the worker was still
    starting is noticed too (the worker's ``getppid()`` is then already another process).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Keep spawned workers from re-running the caller's ``__main__`` script.

    ``multiprocessing`` tells a spawned child to run the parent's main module again when that
    module has a ``__file__`` and no ``__spec__`` (a plain ``python script.py``). Our workers
    need nothing from it, so it is hidden while they start.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path
