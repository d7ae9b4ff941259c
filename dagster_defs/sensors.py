"""Sensor ``auto_sync``: keep the hydrated lakehouse fresh without re-downloading everything.

Each tick (at most once a minute) it asks :func:`quant_assets.freshness.stale_symbols` which
symbols are stale or new for ``settings.source``, registers the symbols Dagster does not know
yet as ``symbols`` partitions (``SensorResult.dynamic_partitions_requests``), and requests the
``hydrate`` job for them.

A run request carries one partition or one partition range (the range tags ``sdk.hydrate`` uses
too), so one *sync request* becomes one run per contiguous range of the ``symbols`` partitions:
usually a single run (new symbols are appended together; a daily update makes every symbol stale
at once). All the runs of a sync request share the tag ``quant/auto_sync=<request id>``.

The cursor (JSON) remembers each sync request's symbols until its runs have finished, so a symbol
is never requested twice while a run for it is in flight; symbols that an unfinished backfill of
``market_data`` targets (``make backfill-stale``, the UI) are left to it. A request whose runs
failed blocks its symbols for :data:`RETRY_AFTER_SECONDS`, so a broken source is not hammered
every tick. When it does nothing the sensor says why in its skip reason.

It is STOPPED by default; ``QUANT_AUTO_SYNC=true`` (``settings.auto_sync``) makes it RUNNING by
default, and the UI or ``dagster sensor start auto_sync`` turn it on at any time.
"""

import hashlib
import json
import time
from typing import Any

import dagster as dg
import pandas as pd

from dagster_defs.backfills import unfinished_backfills
from dagster_defs.instance import contiguous_ranges
from dagster_defs.jobs import hydrate
from dagster_defs.tags import AUTO_SYNC_TAG, RANGE_END_TAG, RANGE_START_TAG
from lakehouse import LakehouseStore
from lakehouse.store import SYMBOL_PARTITIONS
from quant_assets import freshness
from quant_assets.assets.hydration import hydration_run_config
from quant_assets.assets.partitions import symbol_partitions
from quant_assets.settings import Settings

MINIMUM_INTERVAL_SECONDS = 60
LAUNCH_GRACE_SECONDS = 600
"""A sync request with no run after this long is forgotten (its runs were never launched)."""
RETRY_AFTER_SECONDS = 3600
"""A sync request whose runs failed blocks its symbols this long before they are retried."""
FAILED_STATUSES = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
FINISHED_STATUSES = (dg.DagsterRunStatus.SUCCESS, *FAILED_STATUSES)


def load_cursor(cursor: str | None) -> dict[str, Any]:
    """The sensor's cursor: ``{"requests": {request_id: {"symbols": [...], ...}}}``."""
    state: dict[str, Any] = json.loads(cursor) if cursor else {}
    state.setdefault("requests", {})
    return state


def _request_state(
    instance: dg.DagsterInstance, request_id: str, entry: dict[str, Any], now: float
) -> str:
    """``in_flight``, ``blocked`` (failed recently) or ``done`` (forget it)."""
    if "failed_at" in entry:
        return "blocked" if now - entry["failed_at"] < RETRY_AFTER_SECONDS else "done"
    runs = instance.get_runs(dg.RunsFilter(tags={AUTO_SYNC_TAG: request_id}))
    if not runs:
        return "in_flight" if now - entry["requested_at"] < LAUNCH_GRACE_SECONDS else "done"
    if any(run.status not in FINISHED_STATUSES for run in runs):
        return "in_flight"
    if any(run.status in FAILED_STATUSES for run in runs):
        entry["failed_at"] = now
        return "blocked"
    return "done"


def evaluate_auto_sync(
    context: dg.SensorEvaluationContext, settings: Settings, now: float | None = None
) -> dg.SensorResult:
    """One tick of ``auto_sync`` (the sensor's body, callable on its own in tests)."""
    now = time.time() if now is None else now
    state = load_cursor(context.cursor)
    held: dict[str, set[str]] = {"in_flight": set(), "blocked": set()}
    kept: dict[str, Any] = {}
    for request_id, entry in state["requests"].items():
        verdict = _request_state(context.instance, request_id, entry, now)
        if verdict != "done":
            kept[request_id] = entry
            held[verdict].update(entry["symbols"])
    state["requests"] = kept
    for symbols in unfinished_backfills(context.instance).values():
        held["in_flight"].update(symbols)

    store = LakehouseStore(settings.data_root)
    status = freshness.stale_symbols(store, settings)
    freshness.record_status(store, settings.source, status)
    wanted = freshness.needing_hydration(status)
    todo = [s for s in wanted if s not in held["in_flight"] | held["blocked"]]
    if not todo:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(_skip_message(settings.source, status, wanted, held)),
            cursor=json.dumps(state, sort_keys=True),
        )

    known = list(context.instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
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
    state["requests"][request_id] = {"symbols": todo, "requested_at": now}
    context.log.info(
        f"auto_sync {request_id}: {len(todo)} symbols ({len(unregistered)} new partitions) "
        f"in {len(run_requests)} run(s)"
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=(
            [symbol_partitions.build_add_request(unregistered)] if unregistered else []
        ),
        cursor=json.dumps(state, sort_keys=True),
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
    in_flight = sorted(held["in_flight"].intersection(wanted))
    blocked = sorted(held["blocked"].intersection(wanted))
    parts = []
    if in_flight:
        parts.append(f"{len(in_flight)} already requested and in flight ({_few(in_flight)})")
    if blocked:
        parts.append(
            f"{len(blocked)} failed recently, retried after {RETRY_AFTER_SECONDS} s "
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
        job=hydrate,
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
