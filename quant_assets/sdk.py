"""``QuantSDK``: the one Python entry point; the command line and Makefile wrap it."""

import logging
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from lakehouse import LakehouseStore, new_run_id, validate_run_id, validate_symbol
from lakehouse.catalog import query as catalog_query
from quant_assets import freshness
from quant_assets.hydration import make_source
from quant_assets.instance import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    contiguous_ranges,
    dagster_instance,
)
from quant_assets.loading import load_closes
from quant_assets.provenance import write_run_request
from quant_assets.settings import PROFILES, Settings, get_settings
from quant_assets.tournament import TournamentResult, run_tournament

logger = logging.getLogger(__name__)

RUN_LOGGING = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
"""Runs launched by the SDK print Dagster's INFO events (the run is in the UI in full)."""
MARKET_DATA_KEY = dg.AssetKey("market_data")
BACKFILL_POLL_SECONDS = 2.0
DAEMON_HEARTBEAT_MAX_AGE_SECONDS = 120.0
BACKFILL_TAG = "quant/requested_by"
BACKFILL_STALE = "backfill_stale"


class RunFailedError(RuntimeError):
    """A Dagster run launched by the SDK did not succeed."""


class QuantSDK:
    """Hydrate, run, load and query the lakehouse.

    Parameters
    ----------
    root : str or Path, optional
        Lakehouse root; default ``settings.data_root``.
    settings : Settings, optional
        Base settings; default the active settings (see :func:`get_settings`).
    """

    def __init__(self, root: str | None = None, settings: Settings | None = None) -> None:
        base = settings or get_settings()
        self.settings = base.clone(data_root=root) if root is not None else base
        self.store = LakehouseStore(self.settings.data_root.resolve())

    # Dagster plumbing -----------------------------------------------------------------------

    def _definitions(self) -> dg.Definitions:
        # The SDK sits above the code location it drives, so it imports it lazily.
        from dagster_defs.definitions import build_definitions

        return build_definitions(self.settings)

    def _execute(self, job_name: str, tags: dict[str, str], instance: dg.DagsterInstance) -> None:
        job = self._definitions().resolve_job_def(job_name)
        result = job.execute_in_process(
            instance=instance, tags=tags, run_config=RUN_LOGGING, raise_on_error=False
        )
        if not result.success:
            failures = [
                f"{event.step_key}: {_error_message(event)}"
                for event in result.all_events
                if event.is_step_failure
            ]
            raise RunFailedError(
                f"{job_name} run {result.run_id} failed: {'; '.join(failures) or 'see the UI'}"
            )

    # Hydration ------------------------------------------------------------------------------

    def hydrate(
        self,
        source: str | None = None,
        symbols: list[str] | None = None,
        path: str | None = None,
        full: bool = False,
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` (default: all the source has) into the lakehouse via Dagster.

        Registers new ``symbols`` partitions, then materializes ``market_data`` for them in as
        few runs as there are contiguous partition ranges (usually one). Returns what is stored.
        """
        overrides: dict[str, Any] = {}
        if source:
            overrides["source"] = source
        if path:
            overrides["source_path"] = path
        settings = self.settings.clone(**overrides)
        wanted = [validate_symbol(s) for s in (symbols or make_source(settings).symbols())]
        with dagster_instance() as instance:
            known = instance.get_dynamic_partitions("symbols")
            new = [s for s in wanted if s not in set(known)]
            if new:
                instance.add_dynamic_partitions("symbols", new)
            order = list(instance.get_dynamic_partitions("symbols"))
            config = {"source": settings.source, "source_path": str(settings.source_path or "")}
            for first, last in contiguous_ranges(wanted, order):
                tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
                job = self._definitions().resolve_job_def("hydrate")
                result = job.execute_in_process(
                    instance=instance,
                    tags=tags,
                    run_config={
                        **RUN_LOGGING,
                        "ops": {"market_data": {"config": {**config, "full": full}}},
                    },
                    raise_on_error=True,
                )
                logger.info("hydrated %s..%s in run %s", first, last, result.run_id)
        return self.query(
            "SELECT symbol, count(*) AS rows, min(date) AS first_date, max(date) AS last_date "
            "FROM market_data WHERE list_contains(?::VARCHAR[], symbol) GROUP BY symbol "
            "ORDER BY symbol",
            [wanted],
        )

    # Runs -----------------------------------------------------------------------------------

    def new_run(self, profile: str = "canary", **overrides: Any) -> str:
        """Mint a run id, record its profile and overrides, and register its partition."""
        run_id = new_run_id()
        write_run_request(self.store, run_id, profile, overrides)
        with dagster_instance() as instance:
            instance.add_dynamic_partitions("run_id", [run_id])
        return run_id

    def run(
        self, profile: str = "canary", run_id: str | None = None, **overrides: Any
    ) -> pd.DataFrame:
        """Materialize ``production`` for ``run_id`` (new by default); return its leaderboard."""
        if run_id is None:
            run_id = self.new_run(profile, **overrides)
        else:
            validate_run_id(run_id)
        with dagster_instance() as instance:
            if not instance.has_dynamic_partition("run_id", run_id):
                instance.add_dynamic_partitions("run_id", [run_id])
            self._execute("production", {"dagster/partition": run_id}, instance)
        self.last_run_id = run_id
        return self.load("leaderboard", run_id)

    def run_ids(self) -> list[str]:
        """Run ids with stored assets, oldest first."""
        return self.store.run_ids()

    # Reading --------------------------------------------------------------------------------

    def load(self, asset_name: str, run_id: str) -> Any:
        """Read one run's stored asset (a DataFrame, or a dict for JSON documents)."""
        folder = self.store.run_dir(asset_name, validate_run_id(run_id))
        if (folder / "document.json").exists():
            return self.store.read_document(folder)
        return self.store.read_frame(folder)

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run SQL over every asset (one DuckDB view each); bind values with ``?``."""
        return catalog_query(sql, params, root=self.store.root)

    def prices(self, symbols: list[str] | None = None) -> pd.DataFrame:
        """Stored closes, wide: dates x symbols."""
        return load_closes(self.store.root, symbols)

    def tournament(
        self,
        prices: pd.DataFrame,
        profile: str = "canary",
        variants: Mapping[str, Mapping[str, Any]] | None = None,
        **overrides: Any,
    ) -> TournamentResult:
        """Run the walk-forward tournament on exactly these prices, outside Dagster.

        Parameters
        ----------
        prices : DataFrame
            Wide daily closes, dates x symbols (e.g. from :meth:`prices`). Every date and
            symbol given is used; ``start_date``, ``end_date`` and ``symbols`` settings are not.
        profile : str
            Named profile the settings start from (``canary``, ``production``).
        variants : mapping of name to overrides, optional
            More profiles to compare, each the first one with these overrides.
        **overrides
            Settings fields, e.g. ``engines=["min_variance"], cost_bps=0, executor="serial"``.
        """
        named = PROFILES.get(profile, {})
        settings = self.settings.clone(profile=profile, **{**named, **overrides})
        profiles = {profile: settings}
        for name, changes in (variants or {}).items():
            if name in profiles:
                raise ValueError(f"variant name {name!r} is already taken by the profile")
            profiles[name] = settings.clone(**changes)
        return run_tournament(prices, profiles, base=settings)

    # Freshness, backfills and retention -----------------------------------------------------

    def _with_source(self, source: str | None) -> Settings:
        return self.settings.clone(source=source) if source else self.settings

    def stale_symbols(self, source: str | None = None) -> pd.DataFrame:
        """Which symbols are stale, new, fresh or vanished, from the lakehouse alone.

        One DuckDB query reads every stored symbol's last date; the source (default
        ``settings.source``) says what it could provide (see :mod:`quant_assets.freshness`).
        Vanished symbols are recorded in ``market_data_status/document.json``, never deleted.

        Returns
        -------
        DataFrame
            ``symbol``, ``last_stored``, ``source_last``, ``status``.
        """
        settings = self._with_source(source)
        status = freshness.stale_symbols(self.store, settings)
        freshness.record_status(self.store, settings.source, status)
        return status

    def backfill_stale(
        self, source: str | None = None, wait: bool = False, timeout: float = 3600.0
    ) -> str | None:
        """Launch ONE Dagster backfill of ``market_data`` for the stale and new symbols.

        New symbols are registered as ``symbols`` partitions first. The backfill is stored on
        the persistent instance (the UI's backfill page shows it) and is executed by the
        ``dagster-daemon`` (``make dev`` runs one), with the code location's own settings (its
        ``QUANT_DATA_ROOT``); the run config pins the source. Symbols that an unfinished
        backfill of ``market_data`` already targets are not requested again. Returns the id of
        the backfill (an unfinished one if it already covers everything), or None when every
        symbol is fresh.

        With ``wait=True`` this waits until the backfill finishes: it needs a running daemon
        (raises :class:`RuntimeError` before launching anything if no daemon heartbeat is
        recent), raises :class:`RunFailedError` if the backfill does not succeed and
        :class:`TimeoutError` after ``timeout`` seconds.
        """
        from dagster._core.execution.backfill import PartitionBackfill
        from dagster._core.utils import make_new_backfill_id

        settings = self._with_source(source)
        wanted = freshness.needing_hydration(self.stale_symbols(settings.source))
        if not wanted:
            logger.info("every %s symbol is fresh: no backfill", settings.source)
            return None
        config = {"source": settings.source, "source_path": str(settings.source_path or "")}
        with dagster_instance() as instance:
            if wait:
                _require_daemon(instance)
            from dagster_defs.sensors import unfinished_backfills

            pending = unfinished_backfills(instance)
            covered = set().union(*pending.values()) if pending else set()
            todo = [s for s in wanted if s not in covered]
            if not todo:
                backfill_id = next(iter(pending))
                logger.info("backfill %s already covers the %d symbols", backfill_id, len(wanted))
            else:
                known = set(instance.get_dynamic_partitions("symbols"))
                new = [s for s in todo if s not in known]
                if new:
                    instance.add_dynamic_partitions("symbols", new)
                backfill = PartitionBackfill.from_asset_partitions(
                    backfill_id=make_new_backfill_id(),
                    asset_graph=self._definitions().resolve_asset_graph(),
                    partition_names=todo,
                    asset_selection=[MARKET_DATA_KEY],
                    backfill_timestamp=time.time(),
                    tags={BACKFILL_TAG: BACKFILL_STALE, "quant/source": settings.source},
                    dynamic_partitions_store=instance,
                    all_partitions=False,
                    title=f"backfill_stale: {len(todo)} {settings.source} symbols",
                    description=f"stale or new: {', '.join(todo[:50])}"
                    + (" ..." if len(todo) > 50 else ""),
                    run_config={"ops": {"market_data": {"config": config}}},
                )
                instance.add_backfill(backfill)
                backfill_id = backfill.backfill_id
                logger.info("backfill %s: %d symbols (%d new)", backfill_id, len(todo), len(new))
            if wait:
                _wait_for_backfill(instance, backfill_id, timeout)
        return backfill_id

    def prune_runs(self, keep_last: int) -> list[str]:
        """Remove every run but the ``keep_last`` newest, from the lakehouse and from Dagster.

        Run ids sort chronologically, so the newest are the last in sorted order. A pruned run
        loses its folders under every asset (``LakehouseStore.delete_run``), its ``run_id``
        dynamic partition (so years of daily runs stay under Dagster's partition limits) and,
        where the event log storage supports it (not the default SQLite one), the partition's
        materialization history of every run-partitioned asset. Keys of the
        ``run_id`` partitions that are not run ids are left alone. Returns the pruned run ids.
        """
        if keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, got {keep_last}")
        asset_graph = self._definitions().resolve_asset_graph()
        run_assets = [
            key
            for key in asset_graph.materializable_asset_keys
            if getattr(asset_graph.get(key).partitions_def, "name", None) == "run_id"
        ]
        with dagster_instance() as instance:
            registered = set(instance.get_dynamic_partitions("run_id"))
            candidates = set(self.store.run_ids()) | {k for k in registered if _is_run_id(k)}
            ordered = sorted(candidates)
            doomed = ordered[: len(ordered) - keep_last] if keep_last else ordered
            for run_id in doomed:
                self.store.delete_run(run_id)
                if run_id in registered:
                    instance.delete_dynamic_partition("run_id", run_id)
            for key in run_assets if doomed else []:
                try:
                    instance.wipe_asset_partitions(key, doomed)
                except NotImplementedError:  # the default SQLite event log cannot
                    break
        logger.info("pruned %d runs, kept %d", len(doomed), len(ordered) - len(doomed))
        return doomed


def _is_run_id(key: str) -> bool:
    try:
        validate_run_id(key)
    except ValueError:
        return False
    return True


def _require_daemon(instance: dg.DagsterInstance) -> None:
    heartbeat = instance.get_daemon_heartbeats().get("BACKFILL")
    if heartbeat is None or time.time() - heartbeat.timestamp > DAEMON_HEARTBEAT_MAX_AGE_SECONDS:
        raise RuntimeError(
            "no dagster-daemon is running on this DAGSTER_HOME to execute the backfill; start "
            "`make dev` (or `dagster-daemon run`), or hydrate in-process with `quant hydrate`"
        )


def _wait_for_backfill(instance: dg.DagsterInstance, backfill_id: str, timeout: float) -> None:
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus

    deadline = time.monotonic() + timeout
    while True:
        current = instance.get_backfill(backfill_id)
        if current is not None and current.status in BULK_ACTION_TERMINAL_STATUSES:
            if current.status != BulkActionStatus.COMPLETED_SUCCESS:
                raise RunFailedError(f"backfill {backfill_id} ended {current.status.value}")
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"backfill {backfill_id} still running after {timeout:.0f} s")
        time.sleep(BACKFILL_POLL_SECONDS)


def _error_message(event: dg.DagsterEvent) -> str:
    error = getattr(event.event_specific_data, "error", None)
    return str(getattr(error, "message", "unknown error")).strip()
