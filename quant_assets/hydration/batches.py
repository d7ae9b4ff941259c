"""Hydrating many symbols: a batch at a time, each symbol on its own, the refused quarantined.

:func:`hydrate_batches` reads a batch's stored bars and fetches its fresh ones together, merges
and validates each symbol (:func:`~quant_assets.hydration.hydrate.symbol_update`), commits the
good ones on :data:`WRITE_THREADS` threads (:class:`~quant_assets.hydration.hydrate.SymbolCommit`)
and records the refused ones in the quarantine; :func:`hydrate_symbols` gathers the batches'
outcomes in one.
"""

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from lakehouse import LakehouseStore
from quant_assets.documents import QuarantineEntry
from quant_assets.hydration.bars import DataQualityError
from quant_assets.hydration.hydrate import (
    ORIGIN_KEY,
    HydrationReport,
    SymbolCommit,
    SymbolUpdate,
    source_file,
    stored_and_start,
    stored_rows,
    symbol_update,
)
from quant_assets.hydration.prefetch import FETCH_THREADS, fetch_all
from quant_assets.hydration.quarantine import (
    quarantined_symbols,
    record,
    release,
    source_fingerprint,
)
from quant_assets.hydration.sources import MarketDataSource

logger = logging.getLogger(__name__)

HYDRATION_BATCH = 256
"""Symbols read, fetched and written together by :func:`hydrate_batches`."""
WRITE_THREADS = 4
"""Threads writing symbol files at once (Parquet encoding and the disk release the GIL)."""


@dataclass
class HydrationOutcome:
    """What hydrating many symbols did: one report per good symbol, one entry per refused one."""

    reports: list[HydrationReport] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)


@dataclass
class HydrationBatch(HydrationOutcome):
    """What hydrating one batch of symbols did, and how many of the run's symbols are done."""

    done: int = 0


def hydrate_symbols(
    store: LakehouseStore,
    source: MarketDataSource,
    symbols: list[str],
    *,
    full: bool = False,
    progress: Callable[[int, int], None] | None = None,
    outcome: HydrationOutcome | None = None,
    last_completed_day: date | None = None,
    origin: Mapping[str, Any] | None = None,
) -> HydrationOutcome:
    """Hydrate each of ``symbols`` on its own; quarantine the ones whose data is refused.

    :func:`hydrate_batches` with its batches' outcomes gathered in one (pass ``outcome`` to
    see what was done before an error: a source that is down, a bug). ``progress(done,
    total)`` is called after each batch.
    """
    outcome = HydrationOutcome() if outcome is None else outcome
    batches = hydrate_batches(
        store,
        source,
        symbols,
        full=full,
        last_completed_day=last_completed_day,
        origin=origin,
    )
    for batch in batches:
        outcome.reports.extend(batch.reports)
        outcome.quarantined.extend(batch.quarantined)
        if progress is not None:
            progress(batch.done, len(symbols))
    return outcome


def hydrate_batches(
    store: LakehouseStore,
    source: MarketDataSource,
    symbols: list[str],
    *,
    full: bool = False,
    last_completed_day: date | None = None,
    origin: Mapping[str, Any] | None = None,
) -> Iterator[HydrationBatch]:
    """Hydrate ``symbols`` :data:`HYDRATION_BATCH` at a time; yield each batch once stored.

    A symbol hydrated cleanly leaves the quarantine; a refused one (a
    :class:`~quant_assets.hydration.bars.DataQualityError`) keeps its stored data untouched and
    gets a quarantine entry. Any other error (a source that is down, a bug) propagates after
    the symbols of its batch before it are yielded, stored and reported.

    A batch's stored bars are read and its fresh bars fetched together
    (:func:`~quant_assets.hydration.prefetch.fetch_all`: one vectorised call, or a thread pool),
    each symbol is merged and validated on its own, and the files are written on
    :data:`WRITE_THREADS` threads. A symbol is released from the quarantine and reported once
    its file is written.

    ``last_completed_day`` (the caller's clock) refuses later bars; ``origin`` (see
    :func:`source_origin`) is recorded in each written file's footer.
    """
    metadata = None if origin is None else {ORIGIN_KEY: json.dumps(origin, sort_keys=True)}
    held = quarantined_symbols(store)
    listed = frozenset(store.symbols())
    with (
        ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="fetch") as pool,
        ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="write") as writers,
    ):
        for first in range(0, len(symbols), HYDRATION_BATCH):
            batch = symbols[first : first + HYDRATION_BATCH]
            readings = pool.map(lambda s: stored_and_start(store, s, full, listed), batch)
            plans = dict(zip(batch, readings, strict=True))
            fetched = fetch_all(source, {s: plans[s].start for s in batch}, pool)
            writes: list[tuple[str, SymbolUpdate, Future[SymbolUpdate] | None]] = []
            outcome = HydrationBatch(done=first + len(batch))
            outage: Exception | None = None
            for symbol in batch:
                fresh = fetched[symbol]
                if isinstance(fresh, Exception) and not isinstance(fresh, DataQualityError):
                    outage = fresh  # the symbols before it are still stored and reported
                    break
                try:
                    if isinstance(fresh, DataQualityError):
                        raise fresh
                    plan = plans[symbol]
                    update = symbol_update(
                        store, source, symbol, plan.bars, plan.start, fresh, last_completed_day
                    )
                except DataQualityError as error:
                    outcome.quarantined.append(_quarantine(store, source, symbol, error))
                    continue
                commit = SymbolCommit(store, source, symbol, fresh, last_completed_day, metadata)
                write = writers.submit(commit, update, plans[symbol]) if update.changed else None
                writes.append((symbol, update, write))
            for symbol, update, write in writes:
                if write is not None:
                    update = write.result()  # a failed write propagates, like a source outage
                released = release(store, symbol, held)
                outcome.reports.append(replace(update.report, released=released))
            if outage is not None:
                outcome.done = first + len(outcome.reports) + len(outcome.quarantined)
                yield outcome
                raise outage
            yield outcome


def _quarantine(
    store: LakehouseStore, source: MarketDataSource, symbol: str, error: DataQualityError
) -> QuarantineEntry:
    logger.error("%s quarantined: %s", symbol, error)
    return record(
        store,
        symbol,
        error,
        source=source.name,
        file=source_file(source, symbol),
        fingerprint=source_fingerprint(source, symbol),
        stored_rows=stored_rows(store, symbol),
    )
