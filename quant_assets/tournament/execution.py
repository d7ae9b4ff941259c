"""Parallel execution of the tournament: target weights for every window x profile x engine.

Each window's eligible and selected symbols are decided first, at its training end
(:mod:`.choices`); windows are then batched into tasks (:mod:`.tasks`), each task allocates its
windows from training data only (:mod:`.decision`), and the ``executor`` setting picks where
tasks run:

- ``serial``: in this process, one task after another.
- ``local``: this process and ``workers - 1`` spawned processes (:mod:`.local_pool`).
- ``ray``: a local Ray on loopback, or the cluster at ``ray_address`` (:mod:`.ray_backend`).

Every backend runs the same task function on the same inputs, so their results are identical.
"""

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quant_assets.contracts import (
    TournamentGuardContract,
    TournamentVetoesContract,
    TournamentWeightsContract,
    column_names,
)
from quant_assets.settings import Settings
from quant_assets.tournament.decision import Records
from quant_assets.tournament.local_pool import LocalPool, run_local
from quant_assets.tournament.ray_backend import run_ray
from quant_assets.tournament.tasks import make_tasks, merged, run_task

logger = logging.getLogger(__name__)

TASKS_PER_WORKER = 4
"""Window batches per worker: enough to balance load, few enough to keep overhead low."""
WEIGHT_COLUMNS = column_names(TournamentWeightsContract)
GUARD_COLUMNS = column_names(TournamentGuardContract)
VETO_COLUMNS = column_names(TournamentVetoesContract)
TEXT_COLUMNS = ("profile", "engine", "symbol", "engine_used", "vetoed_engine", "reason")


@dataclass(frozen=True)
class ExecutionOutput:
    """Target weights, the guard's record and the vetoes of every window x profile x engine."""

    weights: pd.DataFrame
    guard: pd.DataFrame
    vetoes: pd.DataFrame


def started_pool(
    prices: pd.DataFrame, base: Settings
) -> contextlib.AbstractContextManager[LocalPool | None]:
    """A :class:`LocalPool` on ``prices`` for the ``local`` executor, else nothing.

    Entered before the work that precedes :func:`execute`, so its workers start meanwhile.
    """
    if base.executor != "local":
        return contextlib.nullcontext()
    return LocalPool(prices, (base.workers or os.cpu_count() or 1) - 1, base)


def execute(
    prices: pd.DataFrame,
    windows: pd.DataFrame,
    choices: pd.DataFrame,
    profiles: Mapping[str, Settings],
    base: Settings,
    pool: LocalPool | None = None,
) -> ExecutionOutput:
    """Target weights for every window x profile x engine, on the backend ``base.executor``.

    ``choices`` holds each window's ``eligible`` and ``selected`` symbols
    (:func:`quant_assets.tournament.choices.choose_holdings`). ``pool``: a :class:`LocalPool`
    already started on these prices (for the ``local`` executor; one is started here if not).
    """
    workers = base.workers or os.cpu_count() or 1
    batches = 1 if base.executor == "serial" else workers * TASKS_PER_WORKER
    planned = windows.merge(choices, on=["profile", "window"], how="left", validate="one_to_one")
    tasks = make_tasks(planned, profiles, batches)
    panel = prices.to_numpy(dtype=np.float64)
    dates = [str(d) for d in prices.index]
    symbols = [str(s) for s in prices.columns]
    logger.info(
        "tournament: %d windows in %d tasks on the %s executor",
        len(windows),
        len(tasks),
        base.executor,
    )
    if base.executor == "serial" or not tasks:
        results: Iterable[Records] = (run_task(panel, dates, symbols, task) for task in tasks)
    elif base.executor == "local" and pool is not None:
        results = pool.map(tasks)
    elif base.executor == "local":
        results = run_local(prices, tasks, workers, base)
    else:
        results = run_ray(panel, dates, symbols, tasks, base, workers)
    records = merged(_logged_progress(results, len(tasks)))
    return ExecutionOutput(
        weights=_frame(records["weights"], WEIGHT_COLUMNS),
        guard=_frame(records["guard"], GUARD_COLUMNS),
        vetoes=_frame(records["vetoes"], VETO_COLUMNS),
    )


def _logged_progress(results: Iterable[Records], total: int) -> Iterator[Records]:
    for done, records in enumerate(results, start=1):
        logger.info("tournament: %d/%d tasks done", done, total)
        yield records


def _frame(table: dict[str, list[Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({column: table[column] for column in columns}, columns=list(columns))
    frame["train_end"] = pd.to_datetime(frame["train_end"])
    frame["window"] = frame["window"].astype("int64")
    text = [c for c in TEXT_COLUMNS if c in frame.columns]
    frame[text] = frame[text].astype("str")  # typed even when empty
    return frame.sort_values(["profile", "window", "engine"], kind="stable").reset_index(drop=True)
