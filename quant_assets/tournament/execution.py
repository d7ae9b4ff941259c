"""Parallel execution of the tournament: target weights for every window x profile x engine.

Each task sees only the training part of the prices (features, regime and selection are
computed on it), so nothing after a window's training end can reach its weights. A task is
JSON text (the window rows and the profile's settings snapshot, which the worker validates and
makes active with :func:`~quant_assets.settings.use_settings`: workers never read the caller's
context) and so is its result; the prices travel once per worker, as Parquet or through Ray's
object store. No Python object is pickled by our code on the way.

Backends (the ``executor`` setting):

- ``serial``: in this process, one task after another.
- ``local``: a pool of spawned processes (``workers``, default all cores); the prices go to a
  Parquet file in the data folder once and each worker reads it once.
- ``ray``: the prices go to Ray's object store once (``ray.put``) and tasks receive the
  reference. Without ``ray_address`` a local Ray starts on 127.0.0.1 only, with no dashboard and
  its temporary files under ``<data folder>/ray``, and stops afterwards.

Every backend runs the same task function on the same inputs, so their results are identical.
"""

import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

from quant_assets.allocation import SolverGuard, get_engine
from quant_assets.selection import select_symbols
from quant_assets.settings import Settings, use_settings
from quant_assets.tournament.windows import window_positions

logger = logging.getLogger(__name__)

TASKS_PER_WORKER = 4
"""Window batches per worker: enough to balance load, few enough to keep overhead low."""
WEIGHT_COLUMNS = ("window", "train_end", "profile", "engine", "symbol", "weight")
GUARD_COLUMNS = (
    "window",
    "train_end",
    "profile",
    "engine",
    "engine_used",
    "selected",
    "eligible",
    "ridge",
    "condition_before",
    "condition_after",
)
TEXT_COLUMNS = ("profile", "engine", "symbol", "engine_used", "vetoed_engine", "reason")
VETO_COLUMNS = ("window", "train_end", "profile", "engine", "vetoed_engine", "reason")

Records = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Task:
    """One batch of windows of one profile."""

    profile: str
    settings: dict[str, Any]
    windows: list[dict[str, Any]]

    def to_json(self) -> str:
        """The task as JSON text: all that crosses a process boundary (no pickled objects)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "Task":
        """Rebuild a task from :meth:`to_json`."""
        return cls(**json.loads(text))


@dataclass(frozen=True)
class ExecutionOutput:
    """Target weights, the guard's record and the vetoes of every window x profile x engine."""

    weights: pd.DataFrame
    guard: pd.DataFrame
    vetoes: pd.DataFrame


def allocate_window(
    prices: pd.DataFrame, window: Mapping[str, Any], settings: Settings, profile: str
) -> Records:
    """Select and allocate for one window, from its training prices only.

    ``prices`` is the whole panel (dates x symbols); only the rows up to the window's training
    end are read.
    """
    return_dates = prices.index[1:]
    train_first, test_first, _ = window_positions(return_dates, pd.Series(window))
    # Return k is price k+1 over price k: the training returns need prices train_first..test_first.
    train = prices.to_numpy()[train_first : test_first + 1]
    symbols = prices.columns.to_numpy(dtype=object)
    complete = ~np.isnan(train).any(axis=0)
    eligible = np.flatnonzero(complete)
    if settings.selection == "all":
        selected = eligible
    else:
        train_closes = prices.iloc[train_first : test_first + 1, eligible]
        table = select_symbols(train_closes, settings)
        chosen = set(table.index[table["selected"].to_numpy()])
        selected = np.array([i for i in eligible if symbols[i] in chosen], dtype=np.intp)
    returns = train[1:] / train[:-1] - 1.0
    train_end = str(pd.Timestamp(window["train_end"]).date())
    key = {"window": int(window["window"]), "train_end": train_end, "profile": profile}
    guard = SolverGuard(settings)
    records = _no_records()
    for engine in settings.engines:
        held = selected if get_engine(engine).uses_selection else eligible
        allocation = guard.allocate_values(engine, returns[:, held], list(symbols[held]))
        row = {**key, "engine": engine}
        records["weights"] += [
            {**row, "symbol": symbol, "weight": float(weight)}
            for symbol, weight in allocation.weights.items()
        ]
        records["guard"].append(
            {
                **row,
                "engine_used": allocation.engine_used,
                "selected": len(selected),
                "eligible": len(eligible),
                "ridge": allocation.hardening.ridge,
                "condition_before": allocation.hardening.condition_before,
                "condition_after": allocation.hardening.condition_after,
            }
        )
        records["vetoes"] += [
            {**row, "vetoed_engine": veto.engine, "reason": veto.reason}
            for veto in allocation.vetoes
        ]
    return records


def run_task(panel: np.ndarray, dates: list[str], symbols: list[str], task: Task) -> Records:
    """Run one task on a prices panel given as plain arrays (the unit every backend runs)."""
    prices = pd.DataFrame(panel, index=pd.DatetimeIndex(dates, name="date"), columns=symbols)
    settings = Settings.model_validate(task.settings)
    with use_settings(settings):
        return _merged(allocate_window(prices, w, settings, task.profile) for w in task.windows)


def run_task_json(panel: np.ndarray, dates: list[str], symbols: list[str], task: str) -> str:
    """:func:`run_task` with JSON text in and out, as pool workers and Ray tasks run it.

    JSON keeps floats exact (``repr`` round trip), so every backend returns the same numbers.
    """
    return json.dumps(run_task(panel, dates, symbols, Task.from_json(task)))


def make_tasks(windows: pd.DataFrame, profiles: Mapping[str, Settings], batches: int) -> list[Task]:
    """Split every profile's windows into about ``batches`` tasks in all, in window order."""
    tasks = []
    per_profile = max(1, batches // max(len(profiles), 1))
    for profile, settings in profiles.items():
        rows = windows[windows["profile"] == profile].to_dict(orient="records")
        size = max(1, -(-len(rows) // per_profile))
        snapshot = settings.snapshot()
        tasks += [Task(profile, snapshot, rows[i : i + size]) for i in range(0, len(rows), size)]
    return tasks


def execute(
    prices: pd.DataFrame, windows: pd.DataFrame, profiles: Mapping[str, Settings], base: Settings
) -> ExecutionOutput:
    """Target weights for every window x profile x engine, on the backend ``base.executor``."""
    workers = base.workers or os.cpu_count() or 1
    batches = 1 if base.executor == "serial" else workers * TASKS_PER_WORKER
    tasks = make_tasks(windows, profiles, batches)
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
    elif base.executor == "local":
        results = _local(prices, tasks, workers, _scratch_folder(base))
    else:
        results = _ray(panel, dates, symbols, tasks, base, workers)
    merged = _merged(_logged_progress(results, len(tasks)))
    return ExecutionOutput(
        weights=_frame(merged["weights"], WEIGHT_COLUMNS),
        guard=_frame(merged["guard"], GUARD_COLUMNS),
        vetoes=_frame(merged["vetoes"], VETO_COLUMNS),
    )


def _no_records() -> Records:
    return {"weights": [], "guard": [], "vetoes": []}


def _merged(parts: Iterable[Records]) -> Records:
    """Concatenate record tables, in order."""
    merged = _no_records()
    for records in parts:
        for name, rows in records.items():
            merged[name] += rows
    return merged


def _logged_progress(results: Iterable[Records], total: int) -> Iterator[Records]:
    for done, records in enumerate(results, start=1):
        logger.info("tournament: %d/%d tasks done", done, total)
        yield records


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["train_end"] = pd.to_datetime(frame["train_end"])
    frame["window"] = frame["window"].astype("int64")
    text = [c for c in TEXT_COLUMNS if c in frame.columns]
    frame[text] = frame[text].astype("str")  # typed even when empty
    return frame.sort_values(["profile", "window", "engine"], kind="stable").reset_index(drop=True)


def _scratch_folder(settings: Settings) -> Path:
    """A fresh folder beside the lakehouse (``<data>/tmp/<token>``), not inside it."""
    folder = settings.data_root.resolve().parent / "tmp" / f"tournament-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


# Local process pool ------------------------------------------------------------------------

_worker_panel: dict[str, Any] = {}
"""The prices a pool worker read once at start (one entry per worker process)."""


def _start_worker(path: str) -> None:
    # The pool already uses every core: numba's parallel kernels would oversubscribe them.
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


def _local(
    prices: pd.DataFrame, tasks: list[Task], workers: int, scratch: Path
) -> Iterator[Records]:
    path = scratch / "prices.parquet"
    try:
        prices.to_parquet(path)
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)),
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(path),),
        ) as pool:
            for text in pool.map(_pool_task, [task.to_json() for task in tasks]):
                yield json.loads(text)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# Ray -----------------------------------------------------------------------------------------


def ray_init_options(settings: Settings, workers: int | None = None) -> dict[str, Any]:
    """Arguments of ``ray.init`` for a local Ray: loopback only, no dashboard, temp in data.

    ``workers`` defaults to ``settings.workers``, then to every core.
    """
    temp = settings.data_root.resolve().parent / "ray"
    return {
        "num_cpus": workers or settings.workers or os.cpu_count() or 1,
        "include_dashboard": False,
        "_temp_dir": str(temp),
        "_node_ip_address": "127.0.0.1",
        "log_to_driver": False,
        "configure_logging": False,
    }


def _ray_task(panel: np.ndarray, dates: list[str], symbols: list[str], task: str) -> str:
    numba.set_num_threads(1)  # one Ray task per CPU already
    return run_task_json(panel, dates, symbols, task)


def start_local_ray(settings: Settings, workers: int) -> None:
    """Start a local Ray on 127.0.0.1 only, with no dashboard and temp files in the data folder.

    Ray binds the machine's network address unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``
    when it is imported; the setting is also applied here in case Ray was imported earlier.
    """
    import ray

    prepare_local_ray(settings)
    ray.init(**ray_init_options(settings, workers))


def prepare_local_ray(settings: Settings) -> None:
    """Keep a local Ray on loopback and its temp files in the data folder (before ``ray.init``).

    Used by :func:`start_local_ray` and before dagster-ray's ``LocalRay`` resource connects.
    """
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    (settings.data_root.resolve().parent / "ray").mkdir(parents=True, exist_ok=True)


def _ray(
    panel: np.ndarray,
    dates: list[str],
    symbols: list[str],
    tasks: list[Task],
    settings: Settings,
    workers: int,
) -> Iterator[Records]:
    import ray

    started = not ray.is_initialized()
    if started and settings.ray_address:
        ray.init(address=settings.ray_address, log_to_driver=False)
    elif started:
        start_local_ray(settings, workers)
    try:
        panel_ref = ray.put(panel)
        remote = ray.remote(_ray_task)
        refs = [remote.remote(panel_ref, dates, symbols, task.to_json()) for task in tasks]
        for ref in refs:
            yield json.loads(ray.get(ref))
    finally:
        if started:
            ray.shutdown()
