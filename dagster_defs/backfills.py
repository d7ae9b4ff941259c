"""Backfills of ``market_data``: launch one, list the unfinished ones, wait for one.

Dagster 1.13 has no public API to create an asset backfill or read its target from Python, so
this module is the ONE place that imports ``dagster._core`` (a test pins what it uses, so an
upgrade that moves these names fails there first, not in a user's run).
"""

import time
from collections.abc import Sequence

import dagster as dg
from dagster._core.execution.backfill import (
    BULK_ACTION_TERMINAL_STATUSES,
    BulkActionsFilter,
    BulkActionStatus,
    PartitionBackfill,
)
from dagster._core.utils import make_new_backfill_id

from dagster_defs.tags import MARKET_DATA_WRITES, WRITES_TAG
from lakehouse.store import MARKET_DATA

MARKET_DATA_KEY = dg.AssetKey(MARKET_DATA)
POLL_SECONDS = 2.0
"""How often :func:`wait_for_backfill` looks at the backfill's status."""
DAEMON_HEARTBEAT_MAX_AGE_SECONDS = 120.0
"""A daemon whose last backfill heartbeat is older than this is considered gone."""


class BackfillFailedError(RuntimeError):
    """A backfill ended in another state than success."""


def unfinished_backfills(instance: dg.DagsterInstance) -> dict[str, set[str]]:
    """Symbols of ``market_data`` targeted by each unfinished backfill, by backfill id."""
    unfinished = [s for s in BulkActionStatus if s not in BULK_ACTION_TERMINAL_STATUSES]
    targeted: dict[str, set[str]] = {}
    for backfill in instance.get_backfills(filters=BulkActionsFilter(statuses=unfinished)):
        data = backfill.asset_backfill_data
        if data is not None and MARKET_DATA_KEY in data.target_subset.asset_keys:
            subset = data.target_subset.get_partitions_subset(MARKET_DATA_KEY)
            targeted[backfill.backfill_id] = set(subset.get_partition_keys())
    return targeted


def launch_market_data_backfill(
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    symbols: Sequence[str],
    run_config: dg.RunConfig,
    tags: dict[str, str],
    title: str,
) -> str:
    """Store one backfill of ``market_data`` for ``symbols`` (the daemon runs it); its id."""
    shown = ", ".join(symbols[:50]) + (" ..." if len(symbols) > 50 else "")
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=definitions.resolve_asset_graph(),
        partition_names=list(symbols),
        asset_selection=[MARKET_DATA_KEY],
        backfill_timestamp=time.time(),
        tags={**tags, WRITES_TAG: MARKET_DATA_WRITES},  # one writer at a time (team queue)
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description=f"stale or new: {shown}",
        run_config=run_config.to_config_dict(),  # type: ignore[no-untyped-call]
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


def require_daemon(instance: dg.DagsterInstance) -> None:
    """Raise a ``RuntimeError`` saying what to start unless a backfill daemon is alive."""
    heartbeat = instance.get_daemon_heartbeats().get("BACKFILL")
    if heartbeat is None or time.time() - heartbeat.timestamp > DAEMON_HEARTBEAT_MAX_AGE_SECONDS:
        raise RuntimeError(
            "no dagster-daemon is running on this DAGSTER_HOME to execute the backfill; start "
            "`make dev` (or `dagster-daemon run`), or hydrate in-process with `quant hydrate`"
        )


def wait_for_backfill(instance: dg.DagsterInstance, backfill_id: str, timeout: float) -> None:
    """Return when ``backfill_id`` succeeded; :class:`BackfillFailedError` or ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        current = instance.get_backfill(backfill_id)
        if current is not None and current.status in BULK_ACTION_TERMINAL_STATUSES:
            if current.status != BulkActionStatus.COMPLETED_SUCCESS:
                raise BackfillFailedError(f"backfill {backfill_id} ended {current.status.value}")
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill_id} still running after {timeout:.0f} s")
        time.sleep(POLL_SECONDS)
