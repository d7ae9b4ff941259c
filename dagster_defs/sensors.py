"""Sensor ``auto_sync``: keep the hydrated lakehouse fresh without re-downloading everything.

Each tick (at most once a minute) it asks :func:`quant_assets.freshness.stale_symbols` which
symbols are stale or new for ``settings.source``, registers the symbols Dagster does not know
yet as ``symbols`` partitions (``SensorResult.dynamic_partitions_requests``), and requests the
``hydrate`` job for them.

A run request carries one partition or one partition range (the range tags ``sdk.hydrate`` uses
too), so one tick's request becomes one run per contiguous range of the ``symbols`` partitions:
usually a single run (new symbols are appended together; a daily update makes every symbol stale
at once). All the runs of a tick share the tag ``quant/auto_sync=<request id>``.

The sensor keeps no state of its own (no cursor): what is in flight and what failed is Dagster's
knowledge, asked each tick.

- A symbol whose ``market_data`` partition is in progress (``instance.get_status_by_partition``:
  a queued or started run of any origin planned it) or that an unfinished backfill of
  ``market_data`` targets (``make backfill-stale``, the UI) is left to that run.
- Within a run, the ``hydrate`` job's retry policy
  (:data:`dagster_defs.jobs.HYDRATION_RETRY_POLICY`) retries a failed hydration (a source
  outage) after a delay.
- A symbol whose partition failed (its latest run failed and nothing stored it since) is
  requested again only when no failed run that targeted it ended in the last
  :data:`RETRY_AFTER_SECONDS` (run records filtered by status and update time), so a broken
  source is not hammered every tick.

When it does nothing the sensor says why in its skip reason.

Why a sensor and not declarative automation (``AutomationCondition``): new symbols must be
registered as dynamic partitions, which only a sensor's result can do, and "stale" compares the
source's last dates with the lakehouse (one source listing and one DuckDB query a tick), not a
data version Dagster stores; an observable source asset would record an observation per symbol
per tick, thousands of events a minute.

It is STOPPED by default; ``QUANT_AUTO_SYNC=true`` (``settings.auto_sync``) makes it RUNNING by
default, and the UI or ``dagster sensor start auto_sync`` turn it on at any time.
"""

import hashlib
import time
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from dagster_defs.backfills import MARKET_DATA_KEY, unfinished_backfills
from dagster_defs.instance import contiguous_ranges
from dagster_defs.tags import AUTO_SYNC_TAG, PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG
from lakehouse import LakehouseStore
from lakehouse.store import SYMBOL_PARTITIONS
from quant_assets import freshness
from quant_assets.assets.hydration import hydration_run_config
from quant_assets.assets.partitions import symbol_partitions
from quant_assets.settings import Settings

MINIMUM_INTERVAL_SECONDS = 60
IN_PROGRESS = dg.AssetPartitionStatus.IN_PROGRESS
FAILED = dg.AssetPartitionStatus.FAILED
RETRY_AFTER_SECONDS = 3600
"""A symbol whose hydration failed is requested again this long after the failed run ended."""


def held_symbols(
    instance: dg.DagsterInstance, wanted: list[str], order: list[str], now: float
) -> dict[str, set[str]]:
    """Which of ``wanted`` to leave alone: ``in_flight`` and ``blocked`` (failed recently).

    ``order`` is the registered ``symbols`` partitions, in order. Everything comes from
    Dagster: partition statuses of ``market_data``, unfinished backfills, failed run records.
    """
    registered = set(order)
    known = [symbol for symbol in wanted if symbol in registered]
    statuses = instance.get_status_by_partition(MARKET_DATA_KEY, known, symbol_partitions) or {}
    in_flight = {s for s, status in statuses.items() if status == IN_PROGRESS}
    for symbols in unfinished_backfills(instance).values():
        in_flight.update(symbols.intersection(wanted))
    failed = {s for s, status in statuses.items() if status == FAILED} - in_flight
    since = now - RETRY_AFTER_SECONDS
    blocked = failed & failed_run_symbols(instance, order, since) if failed else set()
    return {"in_flight": in_flight, "blocked": blocked}


def failed_run_symbols(instance: dg.DagsterInstance, order: list[str], since: float) -> set[str]:
    """Symbols targeted by runs that failed after ``since`` (a timestamp), ``order`` as above.

    A run targets one partition (its partition tag) or a range of them (its range tags); runs
    of other partitions (``run_id`` ones) name no symbol.
    """
    position = {key: index for index, key in enumerate(order)}
    records = instance.get_run_records(
        dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.FAILURE],
            updated_after=datetime.fromtimestamp(since, UTC),
        )
    )
    symbols: set[str] = set()
    for record in records:
        tags = record.dagster_run.tags
        if tags.get(PARTITION_TAG) in position:
            symbols.add(tags[PARTITION_TAG])
        first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
        if first in position and last in position:
            symbols.update(order[position[first] : position[last] + 1])
    return symbols


def evaluate_auto_sync(
    context: dg.SensorEvaluationContext, settings: Settings, now: float | None = None
) -> dg.SensorResult:
    """One tick of ``auto_sync`` (the sensor's body, callable on its own in tests)."""
    now = time.time() if now is None else now
    store = LakehouseStore(settings.data_root)
    status = freshness.stale_symbols(store, settings)
    freshness.record_status(store, settings.source, status)
    wanted = freshness.needing_hydration(status)
    known = list(context.instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
    held = held_symbols(context.instance, wanted, known, now)
    todo = [s for s in wanted if s not in held["in_flight"] | held["blocked"]]
    if not todo:
        message = _skip_message(settings.source, status, wanted, held)
        return dg.SensorResult(skip_reason=dg.SkipReason(message))

    known_set = set(known)
    unregistered = [s for s in todo if s not in known_set]
    request_id = _request_id(todo, now)
    run_config = hydration_run_config(settings)
    run_requests = [
        dg.RunRequest(
            run_key=f"{request_id}-{index}",
            run_config=run_config,
            tags={RANGE_START_TAG: first, RANGE_END_TAG: last, AUTO_SYNC_TAG: request_id},
        )
        for index, (first, last) in enumerate(contiguous_ranges(todo, known + unregistered))
    ]
    context.log.info(
        f"auto_sync {request_id}: {len(todo)} symbols ({len(unregistered)} new partitions) "
        f"in {len(run_requests)} run(s)"
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=(
            [symbol_partitions.build_add_request(unregistered)] if unregistered else []
        ),
    )


def _request_id(symbols: list[str], now: float) -> str:
    digest = hashlib.sha256(",".join(symbols).encode()).hexdigest()[:8]
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now))}-{digest}"


def _skip_message(
    source: str, status: pd.DataFrame, wanted: list[str], held: dict[str, set[str]]
) -> str:
    counts = status["status"].value_counts()
    summary = ", ".join(f"{counts.get(name, 0)} {name}" for name in freshness.STATUSES)
    if status.empty:
        return f"source {source} offers no symbols and the lakehouse holds none"
    if not wanted:
        last = status["source_last"].max()
        return f"every {source} symbol is fresh (source last date {str(last)[:10]}; {summary})"
    in_flight = sorted(held["in_flight"])
    blocked = sorted(held["blocked"])
    parts = []
    if in_flight:
        parts.append(f"{len(in_flight)} already requested and in flight ({_few(in_flight)})")
    if blocked:
        parts.append(
            f"{len(blocked)} failed in a run that ended less than {RETRY_AFTER_SECONDS} s ago "
            f"({_few(blocked)})"
        )
    return (
        f"{len(wanted)} {source} symbols need hydration but " + "; ".join(parts) + f" [{summary}]"
    )


def _few(symbols: list[str], limit: int = 5) -> str:
    return ", ".join(symbols[:limit]) + (" ..." if len(symbols) > limit else "")


def build_auto_sync(settings: Settings) -> dg.SensorDefinition:
    """The ``auto_sync`` sensor for ``settings`` (RUNNING by default iff ``auto_sync``)."""

    @dg.sensor(
        name="auto_sync",
        job_name="hydrate",
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=(
            dg.DefaultSensorStatus.RUNNING if settings.auto_sync else dg.DefaultSensorStatus.STOPPED
        ),
        description=(
            f"Hydrate stale and new symbols of the `{settings.source}` source; one run per "
            "contiguous range of `symbols` partitions, never twice while in flight."
        ),
    )
    def auto_sync(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return evaluate_auto_sync(context, settings)

    return auto_sync
