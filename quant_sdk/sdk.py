"""``QuantSDK``: the one Python entry point; the command line and Makefile wrap it."""

import logging
from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from dagster_defs.backfills import (
    BackfillFailedError,
    launch_market_data_backfill,
    require_daemon,
    unfinished_backfills,
    wait_for_backfill,
)
from dagster_defs.definitions import build_definitions
from dagster_defs.instance import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    contiguous_ranges,
    dagster_instance,
)
from lakehouse import LakehouseStore, new_run_id, validate_run_id, validate_symbol
from lakehouse.catalog import query as catalog_query
from lakehouse.store import RUN_ID_PARTITIONS, SYMBOL_PARTITIONS
from quant_assets import freshness
from quant_assets.assets.hydration import hydration_run_config
from quant_assets.assets.partitions import run_id_partitions
from quant_assets.hydration import make_source
from quant_assets.loading import load_closes
from quant_assets.provenance import write_run_request
from quant_assets.settings import Settings
from quant_assets.tournament import TournamentResult, run_tournament

logger = logging.getLogger(__name__)

RUN_LOG_LEVEL = "INFO"
"""Runs launched by the SDK print Dagster's INFO events (the run is in the UI in full)."""
BACKFILL_TAG = "quant/requested_by"
BACKFILL_STALE = "backfill_stale"


class RunFailedError(RuntimeError):
    """A Dagster run (or backfill) launched by the SDK did not succeed."""


class QuantSDK:
    """Hydrate, run, load and query the lakehouse.

    Parameters
    ----------
    root : str or Path, optional
        Lakehouse root; default ``settings.data_root``.
    settings : Settings, optional
        Base settings, used as given (the environment is not read). Default:
        :meth:`Settings.from_environment`, the ``QUANT_*`` variables read once, here.
    """

    def __init__(self, root: str | None = None, settings: Settings | None = None) -> None:
        base = settings if settings is not None else Settings.from_environment()
        self.settings = base.clone(data_root=root) if root is not None else base
        self.store = LakehouseStore(self.settings.data_root.resolve())

    # Dagster plumbing -----------------------------------------------------------------------

    def _definitions(self, settings: Settings | None = None) -> dg.Definitions:
        return build_definitions(settings or self.settings)

    def _execute(
        self,
        job_name: str,
        tags: dict[str, str],
        instance: dg.DagsterInstance,
        run_config: dg.RunConfig | None = None,
        settings: Settings | None = None,
    ) -> str:
        """Execute ``job_name`` in this process on ``instance``; its Dagster run id."""
        job = self._definitions(settings).resolve_job_def(job_name)
        config = run_config or dg.RunConfig()
        config.loggers = {"console": {"config": {"log_level": RUN_LOG_LEVEL}}}
        result = job.execute_in_process(
            instance=instance, tags=tags, run_config=config, raise_on_error=False
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
        return result.run_id

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
            _register(instance, SYMBOL_PARTITIONS, wanted)
            order = list(instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
            for first, last in contiguous_ranges(wanted, order):
                tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
                config = hydration_run_config(settings, full=full)
                dagster_run = self._execute("hydrate", tags, instance, config, settings)
                logger.info("hydrated %s..%s in run %s", first, last, dagster_run)
        return self.query(
            "SELECT symbol, count(*) AS rows, min(date) AS first_date, max(date) AS last_date "
            "FROM market_data WHERE symbol IN (SELECT UNNEST(?::VARCHAR[])) GROUP BY symbol "
            "ORDER BY symbol",
            [wanted],
        )

    # Runs -----------------------------------------------------------------------------------

    def new_run(self, profile: str = "canary", **overrides: Any) -> str:
        """Mint a run id, freeze its settings in a run request, and register its partition.

        The run's settings are this SDK's settings with ``profile`` and ``overrides`` applied.
        """
        run_id = new_run_id()
        write_run_request(self.store, run_id, self.settings, profile, overrides)
        with dagster_instance() as instance:
            _register(instance, RUN_ID_PARTITIONS, [run_id])
        return run_id

    def run(
        self, profile: str = "canary", run_id: str | None = None, **overrides: Any
    ) -> pd.DataFrame:
        """Materialize ``production`` for ``run_id`` (new by default); return its leaderboard.

        To keep the run id of a new run, mint it first: ``sdk.run(run_id=sdk.new_run(...))``.
        """
        if run_id is None:
            run_id = self.new_run(profile, **overrides)
        else:
            validate_run_id(run_id)
        with dagster_instance() as instance:
            _register(instance, RUN_ID_PARTITIONS, [run_id])
            self._execute("production", {"dagster/partition": run_id}, instance)
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
        settings = self.settings.with_profile(profile, **overrides)
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
        settings = self._with_source(source)
        wanted = freshness.needing_hydration(self.stale_symbols(settings.source))
        if not wanted:
            logger.info("every %s symbol is fresh: no backfill", settings.source)
            return None
        with dagster_instance() as instance:
            if wait:
                require_daemon(instance)
            pending = unfinished_backfills(instance)
            covered = set().union(*pending.values()) if pending else set()
            todo = [s for s in wanted if s not in covered]
            if not todo:
                backfill_id = next(iter(pending))
                logger.info("backfill %s already covers the %d symbols", backfill_id, len(wanted))
            else:
                _register(instance, SYMBOL_PARTITIONS, todo)
                backfill_id = launch_market_data_backfill(
                    instance,
                    self._definitions(settings),
                    todo,
                    run_config=hydration_run_config(settings),
                    tags={BACKFILL_TAG: BACKFILL_STALE, "quant/source": settings.source},
                    title=f"backfill_stale: {len(todo)} {settings.source} symbols",
                )
                logger.info("backfill %s: %d symbols", backfill_id, len(todo))
            if wait:
                try:
                    wait_for_backfill(instance, backfill_id, timeout)
                except BackfillFailedError as error:
                    raise RunFailedError(str(error)) from None
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
            if asset_graph.get(key).partitions_def == run_id_partitions
        ]
        with dagster_instance() as instance:
            registered = set(instance.get_dynamic_partitions(RUN_ID_PARTITIONS))
            candidates = set(self.store.run_ids()) | {k for k in registered if _is_run_id(k)}
            ordered = sorted(candidates)
            doomed = ordered[: len(ordered) - keep_last] if keep_last else ordered
            for run_id in doomed:
                self.store.delete_run(run_id)
                if run_id in registered:
                    instance.delete_dynamic_partition(RUN_ID_PARTITIONS, run_id)
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


def _register(instance: dg.DagsterInstance, partitions: str, keys: list[str]) -> None:
    """Add the ``keys`` that ``partitions`` does not hold yet (in order)."""
    known = set(instance.get_dynamic_partitions(partitions))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(partitions, new)


def _error_message(event: dg.DagsterEvent) -> str:
    error = getattr(event.event_specific_data, "error", None)
    return str(getattr(error, "message", "unknown error")).strip()
