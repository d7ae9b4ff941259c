"""Keeping the lakehouse fresh and sound: stale symbols, backfills, the doctor, pruning runs.

:class:`LakehouseMaintenance` holds the SDK's methods that look after the lakehouse rather than
run research; :class:`~quant_sdk.sdk.QuantSDK` inherits them.
"""

import logging
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
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
from dagster_defs.instance import dagster_instance
from dagster_defs.tags import BACKFILL_TAG, SOURCE_TAG
from lakehouse import LakehouseStore
from lakehouse.store import MARKET_DATA, REJECTED_FOLDER, RUN_ID_PARTITIONS, SYMBOL_PARTITIONS
from quant_assets import doctor, freshness
from quant_assets.assets.hydration import ORIGIN_METADATA, hydration_run_config
from quant_assets.assets.partitions import run_id_partitions
from quant_assets.settings import Settings
from quant_sdk.execution import RunFailedError, register_partitions
from quant_sdk.run_catalog import is_run_id

logger = logging.getLogger(__name__)

BACKFILL_STALE = "backfill_stale"


class LakehouseMaintenance(ABC):
    """Freshness, backfills, the doctor and retention, over ``settings`` and ``store``.

    The class using it (:class:`~quant_sdk.sdk.QuantSDK`) builds the code location and
    hydrates.
    """

    settings: Settings
    store: LakehouseStore

    @abstractmethod
    def _definitions(self, settings: Settings | None = None) -> dg.Definitions:
        """The code location's definitions, built with ``settings`` (default: the SDK's)."""

    @abstractmethod
    def hydrate(
        self,
        source: str | None = None,
        symbols: list[str] | None = None,
        path: str | None = None,
        full: bool = False,
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` (see :meth:`quant_sdk.sdk.QuantSDK.hydrate`)."""

    @abstractmethod
    def _hydrate_with(
        self, settings: Settings, symbols: list[str] | None, full: bool = False
    ) -> pd.DataFrame:
        """Hydrate ``symbols`` from the source ``settings`` name."""

    def _with_source(self, source: str | None) -> Settings:
        return self.settings.clone(source=source) if source else self.settings

    def stale_symbols(self, source: str | None = None, record: bool = True) -> pd.DataFrame:
        """Which symbols are stale, new, fresh or vanished, from the lakehouse alone.

        One DuckDB query reads every stored symbol's last date; the source (default
        ``settings.source``) says what it could provide (see :mod:`quant_assets.freshness`).
        Vanished symbols are recorded in ``market_data_status/document.json`` (with ``record``;
        ``quant stale`` is read-only and passes False), never deleted.

        Returns
        -------
        DataFrame
            ``symbol``, ``last_stored``, ``source_last``, ``status``.
        """
        settings = self._with_source(source)
        status = freshness.stale_symbols(self.store, settings)
        if record:
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
                register_partitions(instance, SYMBOL_PARTITIONS, todo)
                backfill_id = launch_market_data_backfill(
                    instance,
                    self._definitions(settings),
                    todo,
                    run_config=hydration_run_config(settings),
                    tags={BACKFILL_TAG: BACKFILL_STALE, SOURCE_TAG: settings.source},
                    title=f"backfill_stale: {len(todo)} {settings.source} symbols",
                )
                logger.info("backfill %s: %d symbols", backfill_id, len(todo))
            if wait:
                try:
                    wait_for_backfill(instance, backfill_id, timeout)
                except BackfillFailedError as error:
                    raise RunFailedError(str(error)) from None
        return backfill_id

    def verify(self, repair: bool = False) -> pd.DataFrame:
        """Examine every stored file (readable, untouched since written, within its contract).

        With ``repair``, damaged files are moved aside into ``<root>/_damaged/`` and the
        ``market_data`` symbols among them are re-hydrated in full from the source recorded
        with each (its file's footer; the current source for a file that records none); a
        damaged asset of a run is re-created by re-running it (``run(run_id=...)``), which is
        left to you as it recomputes the run on today's data. Returns the findings (see
        :func:`quant_assets.doctor.examine`), with ``repaired`` when ``repair``.
        """
        findings = doctor.examine(self.store)
        if not repair or findings.empty:
            return findings
        origins = doctor.recorded_origins(findings)
        unrecorded = [symbol for symbol, origin in origins.items() if origin is None]
        origins.update(_origins_on_record(unrecorded))
        moved, symbols, runs = doctor.repair(findings)
        logger.warning("moved %d damaged files aside under %s", len(moved), self.store.root)
        for origin, group in doctor.by_origin(symbols, origins).items():
            if origin is None:
                logger.warning(
                    "%s: no source recorded with the data; re-hydrating from %s",
                    ", ".join(group),
                    self.settings.source,
                )
            settings = self.settings.clone(**dict(origin or ()))
            self._hydrate_with(settings, group, full=True)
        for run_id in runs:
            logger.warning("run %s lost a damaged asset: re-run it with run(run_id=...)", run_id)
        findings["repaired"] = [row.asset == MARKET_DATA for row in findings.itertuples()]
        return findings

    def prune_runs(self, keep_last: int) -> list[str]:
        """Remove every run but the ``keep_last`` newest, from the lakehouse and from Dagster.

        Run ids sort chronologically, so the newest are the last in sorted order. A pruned run
        loses its folders under every asset (``LakehouseStore.delete_run``) and its frames kept
        aside under ``_rejected`` (:func:`delete_rejected`), its ``run_id``
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
            candidates = set(self.store.run_ids()) | {k for k in registered if is_run_id(k)}
            ordered = sorted(candidates)
            doomed = ordered[: len(ordered) - keep_last] if keep_last else ordered
            for run_id in doomed:
                self.store.delete_run(run_id)
                delete_rejected(self.store, run_id)
                if run_id in registered:
                    instance.delete_dynamic_partition(RUN_ID_PARTITIONS, run_id)
            for key in run_assets if doomed else []:
                try:
                    instance.wipe_asset_partitions(key, doomed)
                except NotImplementedError:  # the default SQLite event log cannot
                    break
        logger.info("pruned %d runs, kept %d", len(doomed), len(ordered) - len(doomed))
        return doomed


def delete_rejected(store: LakehouseStore, run_id: str) -> list[Path]:
    """Remove the frames of ``run_id`` that broke their contract, kept under ``_rejected``.

    Returns the folders removed (one per asset that had a rejected frame of the run).
    """
    rejected = store.root / REJECTED_FOLDER
    removed = []
    for asset_dir in sorted(rejected.iterdir()) if rejected.is_dir() else []:
        folder = store.rejected_dir(asset_dir.name, run_id)
        if folder.is_dir():
            shutil.rmtree(folder)
            removed.append(folder)
    return removed


def _origins_on_record(symbols: list[str]) -> dict[str, dict[str, Any]]:
    """Symbol -> the source settings on its latest materialization in Dagster (when recorded).

    The fallback for a file too damaged to read its own footer.
    """
    found: dict[str, dict[str, Any]] = {}
    if not symbols:
        return found
    with dagster_instance() as instance:
        for symbol in symbols:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=dg.AssetKey(MARKET_DATA), asset_partitions=[symbol]
                ),
                limit=1,
            ).records
            materialization = records[0].asset_materialization if records else None
            origin = (
                None if materialization is None else materialization.metadata.get(ORIGIN_METADATA)
            )
            if isinstance(origin, dg.JsonMetadataValue) and isinstance(origin.value, dict):
                found[symbol] = dict(origin.value)
    return found
