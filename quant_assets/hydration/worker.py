"""Hydrating in a spawned process while the caller records what is stored.

A hydration run of thousands of symbols does two kinds of work: fetching, validating and
writing the bars (ours), and recording each stored symbol in Dagster's event log (Dagster's: a
database write per symbol, Python all the way). In one process they take turns on one
interpreter lock; in two they use two cores. :class:`HydrationWorker` runs
:func:`~quant_assets.hydration.batches.hydrate_batches` in one spawned process, a batch per
task, :data:`BATCHES_IN_FLIGHT` batches ahead of the caller.

Requests and results cross as JSON text (the settings' snapshot and the symbols; the reports and
quarantine entries): no object is pickled. An error other than refused data (a source that is
down, a bug) comes back as its type and message, after the symbols of its batch stored before
it, and is raised in the caller as :class:`HydrationWorkerError`.

Spawning costs about a second (interpreter, imports): a run of fewer than
:data:`WORKER_MIN_SYMBOLS` symbols is hydrated in the caller's process
(:func:`stored_batches`).
"""

import json
import os
from collections import deque
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from typing import Any

from lakehouse import LakehouseStore
from quant_assets.hydration.batches import (
    HYDRATION_BATCH,
    HydrationBatch,
    HydrationOutcome,
    hydrate_batches,
    hydrate_symbols,
)
from quant_assets.hydration.hydrate import HydrationReport
from quant_assets.hydration.read_ahead import read_ahead
from quant_assets.hydration.sources import MarketDataSource, make_source
from quant_assets.settings import Settings
from quant_assets.spawning import exit_with_parent, main_script_hidden

WORKER_MIN_SYMBOLS = 4 * HYDRATION_BATCH
"""Runs of at least this many symbols hydrate in a worker process (fewer: in the caller's)."""
BATCHES_IN_FLIGHT = 2
"""Batches handed to the worker ahead of the one the caller records."""

_worker: dict[str, Any] = {}
"""The worker's store, source and run options, made once at start."""


class HydrationWorkerError(RuntimeError):
    """The worker process failed to hydrate a batch (a source outage, a bug): type and message."""


def stored_batches(
    store: LakehouseStore,
    settings: Settings,
    source: MarketDataSource,
    symbols: list[str],
    *,
    full: bool = False,
    last_completed_day: date | None = None,
    origin: Mapping[str, Any] | None = None,
) -> Generator[HydrationBatch, None, None]:
    """Hydrate ``symbols`` and yield each batch once stored, the next already under way.

    At least :data:`WORKER_MIN_SYMBOLS` symbols: in a :class:`HydrationWorker`, from the source
    ``settings`` name; fewer: from ``source`` (made from the same settings) in a thread of this
    process (:func:`~quant_assets.hydration.read_ahead.read_ahead`). ``done`` counts the
    symbols of ``symbols`` finished so far.
    """
    if len(symbols) < WORKER_MIN_SYMBOLS:
        batches = hydrate_batches(
            store,
            source,
            symbols,
            full=full,
            last_completed_day=last_completed_day,
            origin=origin,
        )
        yield from read_ahead(batches)
        return
    with HydrationWorker(store, settings, symbols, full, last_completed_day, origin) as worker:
        yield from worker.batches()


class HydrationWorker:
    """One spawned process hydrating ``symbols`` a batch at a time (enter it to start it)."""

    def __init__(
        self,
        store: LakehouseStore,
        settings: Settings,
        symbols: list[str],
        full: bool,
        last_completed_day: date | None,
        origin: Mapping[str, Any] | None,
    ) -> None:
        self.symbols = symbols
        self.request = json.dumps(
            {
                "root": str(store.root),
                "settings": settings.snapshot(),
                "symbols": symbols,
                "full": full,
                "last_completed_day": None
                if last_completed_day is None
                else str(last_completed_day),
                "origin": None if origin is None else dict(origin),
            }
        )
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "HydrationWorker":
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.request, os.getpid()),
        )
        return self

    def batches(self) -> Iterator[HydrationBatch]:
        """Each batch's outcome in order; :class:`HydrationWorkerError` after a failed one's."""
        if self._pool is None:
            raise RuntimeError("enter the HydrationWorker (`with HydrationWorker(...)`) first")
        starts = deque(range(0, len(self.symbols), HYDRATION_BATCH))
        in_flight: deque[tuple[int, Future[str]]] = deque()
        while starts or in_flight:
            while starts and len(in_flight) < BATCHES_IN_FLIGHT:
                first = starts.popleft()
                chunk = json.dumps(self.symbols[first : first + HYDRATION_BATCH])
                with main_script_hidden():  # the first submission spawns the worker
                    in_flight.append((first, self._pool.submit(_hydrate_chunk, chunk)))
            first, future = in_flight.popleft()
            result = json.loads(future.result())
            yield HydrationBatch(
                reports=[_report(report) for report in result["reports"]],
                quarantined=result["quarantined"],
                done=first + result["done"],
            )
            if result["error"] is not None:
                raise HydrationWorkerError(result["error"])

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # a running batch finishes
            self._pool = None


def _report(fields: dict[str, Any]) -> HydrationReport:
    return HydrationReport(**{**fields, "suspected_splits": tuple(fields["suspected_splits"])})


def _start_worker(request: str, parent: int) -> None:
    exit_with_parent(parent)
    options = json.loads(request)
    settings = Settings.model_validate(options["settings"])
    day = options["last_completed_day"]
    _worker.update(
        store=LakehouseStore(options["root"]),
        source=make_source(settings, symbols=options["symbols"]),
        full=options["full"],
        last_completed_day=None if day is None else date.fromisoformat(day),
        origin=options["origin"],
    )


def _hydrate_chunk(chunk: str) -> str:
    """Hydrate one batch of symbols (JSON list) in the worker; the outcome as JSON."""
    outcome = HydrationOutcome()
    error = None
    try:
        hydrate_symbols(
            _worker["store"],
            _worker["source"],
            json.loads(chunk),
            full=_worker["full"],
            outcome=outcome,
            last_completed_day=_worker["last_completed_day"],
            origin=_worker["origin"],
        )
    except Exception as failure:  # sent to the caller, which raises it
        error = f"{type(failure).__name__}: {failure}"
    return json.dumps(
        {
            "reports": [report.as_dict() for report in outcome.reports],
            "quarantined": outcome.quarantined,
            "done": len(outcome.reports) + len(outcome.quarantined),  # each symbol one or other
            "error": error,
        },
        default=_plain,
    )


def _plain(value: Any) -> Any:
    """A numpy number (a restatement factor) as a plain Python number."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
