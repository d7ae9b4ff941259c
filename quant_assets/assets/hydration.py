"""Hydration asset ``market_data`` (one partition per symbol, many in one run) and its check.

Each symbol of a run is validated and stored on its own, a batch at a time
(:func:`quant_assets.hydration.batches.hydrate_batches`); each stored batch is recorded in
Dagster while the next ones are fetched and written, in a worker process for large runs
(:mod:`quant_assets.hydration.worker`).
Dagster records exactly what the lakehouse holds:

- a good symbol gets an ``AssetMaterialization`` of its partition (its own numbers only: each
  event is a write to Dagster's event log, so thousands of them must stay small);
- a refused symbol gets NO materialization (its stored data, if any, is untouched, and its last
  materialization still describes it) and a FAILED ``market_data_not_quarantined`` check of its
  partition, whose metadata say source, file, column, rows and reason. It is listed in the
  lakehouse's ``quarantine`` (:mod:`quant_assets.hydration.quarantine`);
- a symbol that leaves the quarantine (stored again after a fix) gets a PASSED check;
- the run's report and quarantine tables and its counts go on ONE ``AssetObservation`` of
  ``market_data`` (no partition), the run's summary in the asset's events.

So the check results a hydration records are the changes of a symbol's quarantine status: a
partition whose check was never evaluated was never refused. Recording a passed check for every
stored symbol would be a third event per symbol (about 18 s of a 5,000-symbol hydration on
SQLite); running the check from the UI evaluates any partitions against the quarantine.

The run succeeds with the refused symbols recorded as failed checks; with ``strict`` settings
it then fails (``dg.Failure``), which marks exactly the refused partitions as failed in Dagster
while the good ones stay materialized.

Bars dated after the last completed trading day of the run's clock (``as_of`` in the run
config, else the time Dagster created the run) are refused. A stored symbol with a one-day move
that looks like an unadjusted split gets a failed ``market_data_has_no_unadjusted_split`` check
(tier 2, WARN: it is stored, and said).
"""

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from lakehouse.store import MARKET_DATA
from lakehouse.sweep import sweep_stale_temp_files
from quant_assets.assets.partitions import OWNERS, symbol_partitions
from quant_assets.assets.resources import LakehouseResource, SettingsResource
from quant_assets.calendar import last_completed_trading_day
from quant_assets.documents import QuarantineEntry
from quant_assets.hydration import HydrationOutcome, make_source
from quant_assets.hydration import quarantine as quarantine_record
from quant_assets.hydration.hydrate import source_origin
from quant_assets.hydration.validation import suspected_splits
from quant_assets.hydration.worker import stored_batches
from quant_assets.settings import Settings

PROGRESS_EVERY = 500
"""Symbols between two progress lines in the run log (each line is an event too)."""
REPORT_ROWS = 50
"""Rows of the run's report and quarantine tables shown in metadata."""
QUARANTINE_CHECK = "market_data_not_quarantined"
MARKET_DATA_POOL = MARKET_DATA
"""The concurrency pool of ``market_data``'s writes: a team's instance lets one step in at once
(``concurrency: pools`` in :mod:`dagster_defs.team`); without a limit (the laptop) it is free."""
MARKET_DATA_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(days=2), fail_window=timedelta(days=4)
)
"""The UI shows ``market_data`` late (warn) two days after its last materialization and failed
after four: a daily sync over a long weekend stays within it."""
SPLIT_CHECK = "market_data_has_no_unadjusted_split"
ORIGIN_METADATA = "origin"
"""Materialization metadata: the source settings the symbol was hydrated with."""


class HydrationConfig(dg.Config):
    """Where a hydration run reads from (empty fields: the code location's settings)."""

    source: str = Field("", description="bundled, synthetic, files or yfinance; empty: settings.")
    source_path: str = Field("", description="Folder of the `files` source; empty: settings.")
    full: bool = Field(False, description="Re-fetch the whole history, not only missing dates.")
    as_of: str = Field(
        "",
        description="The hydration's clock (ISO 8601, UTC): bars after its last completed "
        "trading day are refused. Empty: the time Dagster created the run.",
    )


def hydration_settings(config: HydrationConfig, base: Settings) -> Settings:
    """``base`` with the run config's source applied."""
    overrides: dict[str, object] = {}
    if config.source:
        overrides["source"] = config.source
    if config.source_path:
        overrides["source_path"] = config.source_path
    return base.clone(**overrides)


def hydration_run_config(
    settings: Settings, full: bool = False, as_of: datetime | None = None
) -> dg.RunConfig:
    """The run config of a ``hydrate`` run reading ``settings``' source (SDK, sensor, backfill).

    ``as_of`` pins the run's clock (default: the time Dagster creates the run).
    """
    config = HydrationConfig(
        source=settings.source,
        source_path=str(settings.source_path or ""),
        full=full,
        as_of="" if as_of is None else as_of.isoformat(),
    )
    return dg.RunConfig(ops={MARKET_DATA: config})


def hydration_clock(context: dg.AssetExecutionContext, config: HydrationConfig) -> datetime:
    """The run's clock: ``as_of`` from its config, else when Dagster created the run."""
    if config.as_of:
        return datetime.fromisoformat(config.as_of)
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is None or record.create_timestamp is None:
        raise dg.Failure(
            description="the run has no creation time: set `as_of` in its config",
            allow_retries=False,
        )
    created: datetime = record.create_timestamp.astimezone(UTC)
    return created


def run_metadata(outcome: HydrationOutcome, source: str, symbols: int) -> dict[str, Any]:
    """What the whole run did: counts, the report table and the quarantine table (markdown)."""
    metadata: dict[str, Any] = {
        "source": source,
        "run_symbols": symbols,
        "run_hydrated": len(outcome.reports),
        "run_quarantined": len(outcome.quarantined),
    }
    if outcome.reports:
        shown = [r.as_dict() for r in outcome.reports[:REPORT_ROWS]]
        table = pd.DataFrame(shown).drop(columns=["path", "source"])
        metadata["report"] = dg.MetadataValue.md(table.to_markdown(index=False))
    if outcome.quarantined:
        metadata["quarantine"] = dg.MetadataValue.md(
            quarantine_record.markdown_table(outcome.quarantined, REPORT_ROWS)
        )
    return metadata


def _entry_metadata(entry: QuarantineEntry) -> dict[str, Any]:
    return {
        "source": entry["source"],
        "file": entry["file"] or "",
        "column": entry["column"] or "",
        "rows": dg.MetadataValue.json(entry["rows"]),
        "values": dg.MetadataValue.json(entry["values"]),
        "reason": entry["reason"],
        "stored_rows": entry["stored_rows"],
    }


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    output_required=False,
    group_name="hydration",
    kinds={"parquet"},
    owners=OWNERS,
    code_version="hydration-2",
    pool=MARKET_DATA_POOL,
    freshness_policy=MARKET_DATA_FRESHNESS,
    description=(
        "Daily bars per symbol (date, open, high, low, close, volume), validated and merged "
        "incrementally from the configured source into `market_data/symbol=<SYM>/part-0.parquet`."
        " Refused symbols go to the `quarantine` (check `market_data_not_quarantined`)."
    ),
)
def market_data(
    context: dg.AssetExecutionContext,
    config: HydrationConfig,
    lakehouse: LakehouseResource,
    base_settings: SettingsResource,
) -> Iterator[dg.Output[None]]:
    """Hydrate every symbol partition of this run; materialize the good, quarantine the bad."""
    settings = hydration_settings(config, base_settings.settings)
    swept = sweep_stale_temp_files(lakehouse.root)
    if swept:
        context.log.info(f"removed {len(swept)} temporary files left by interrupted writes")
    symbols = list(context.partition_keys)
    total = len(symbols)
    source = make_source(settings, symbols=symbols)
    origin = source_origin(settings)
    batches = stored_batches(
        lakehouse.store,
        settings,
        source,
        symbols,
        full=config.full,
        last_completed_day=last_completed_trading_day(hydration_clock(context, config)),
        origin=origin,
    )
    outcome = HydrationOutcome()
    logged = 0
    try:  # each batch is recorded while the next ones are hydrated
        for batch in batches:
            _record_symbols(context, batch, origin)
            outcome.reports.extend(batch.reports)
            outcome.quarantined.extend(batch.quarantined)
            if batch.done // PROGRESS_EVERY > logged // PROGRESS_EVERY or batch.done == total:
                context.log.info(f"hydrated {batch.done}/{total} symbols from {source.name}")
                logged = batch.done
    finally:  # a source outage fails the run, but what was written is recorded first
        batches.close()
        summary = run_metadata(outcome, source.name, len(symbols))
        _record_summary(context, summary)
    if outcome.quarantined:
        names = ", ".join(e["symbol"] for e in outcome.quarantined[:REPORT_ROWS])
        message = (
            f"{len(outcome.quarantined)} of {len(symbols)} symbols quarantined ({names}); "
            "their stored data is unchanged. See the `quarantine` metadata or "
            "`<data_root>/quarantine/`, fix the source and hydrate them again."
        )
        if settings.strict:
            # the same symbols would be refused again: no retry policy may repeat the run
            raise dg.Failure(description=message, metadata=summary, allow_retries=False)
        context.log.warning(message)
    yield from ()


def _record_symbols(
    context: dg.AssetExecutionContext, outcome: HydrationOutcome, origin: dict[str, Any]
) -> None:
    """Log each symbol's small events.

    A good symbol gets a materialization (with its ``origin``, the source settings: what
    ``doctor --repair`` re-fetches from when the file itself is unreadable; a passed check if
    it left the quarantine), a refused one a failed check.
    """
    for report in outcome.reports:
        numbers = report.as_dict()
        factor = numbers.pop("restatement_factor")
        splits = list(numbers.pop("suspected_splits"))
        numbers = {k: v for k, v in numbers.items() if v is not None and k != "symbol"}
        if factor is not None:
            numbers["restatement_factor"] = float(factor)
        context.log_event(
            dg.AssetMaterialization(
                asset_key=context.asset_key,
                partition=report.symbol,
                metadata={
                    **numbers,
                    "dagster/row_count": report.rows_after,
                    ORIGIN_METADATA: dg.MetadataValue.json(origin),
                },
            )
        )
        if splits:
            numbers["suspected_splits"] = dg.MetadataValue.json(splits)
            context.log.warning(f"{report.symbol}: looks like an unadjusted split: {splits}")
            context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=context.asset_key,
                    check_name=SPLIT_CHECK,
                    passed=False,
                    partition=report.symbol,
                    blocking=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    description=_split_description(splits),
                    metadata={"suspected_splits": dg.MetadataValue.json(splits)},
                )
            )
        if report.released:
            context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=context.asset_key,
                    check_name=QUARANTINE_CHECK,
                    passed=True,
                    partition=report.symbol,
                    blocking=False,
                    description="left the quarantine: stored after passing validation",
                )
            )
    for entry in outcome.quarantined:
        context.log.error(f"quarantined {entry['symbol']}: {entry['message']}")
        context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=context.asset_key,
                check_name=QUARANTINE_CHECK,
                passed=False,
                partition=entry["symbol"],
                blocking=False,
                severity=dg.AssetCheckSeverity.ERROR,
                description=entry["message"],
                metadata=_entry_metadata(entry),
            )
        )


def _record_summary(context: dg.AssetExecutionContext, summary: dict[str, Any]) -> None:
    """Log the run's summary once: an observation of ``market_data`` (no partition)."""
    context.log_event(
        dg.AssetObservation(
            asset_key=context.asset_key,
            description="The hydration run's summary: every symbol's report, the quarantine.",
            metadata=summary,
        )
    )


# A partitioned check is a Dagster preview feature; without the partitions_def the check would
# not be per symbol.
warnings.filterwarnings("ignore", category=dg.PreviewWarning, module="dagster")


@dg.asset_check(
    asset=market_data,
    name=QUARANTINE_CHECK,
    partitions_def=symbol_partitions,
    blocking=False,
    description=(
        "The symbol's latest data was not refused: fails while the symbol is in the lakehouse's "
        "`quarantine` (source, file, column, rows and reason in the metadata). Hydration runs "
        "record its changes: failed when they refuse a symbol, passed when a refused symbol is "
        "stored again (a partition never evaluated was never refused); running it re-reads "
        "the quarantine."
    ),
)
def market_data_not_quarantined(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
) -> dg.AssetCheckResult:
    """Fail when the partition's symbol is quarantined."""
    entry = quarantine_record.entry(lakehouse.store, context.partition_key)
    if entry is None:
        return dg.AssetCheckResult(passed=True)
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=entry["message"],
        metadata=_entry_metadata(entry),
    )


def _split_description(splits: list[str]) -> str:
    return (
        f"{len(splits)} one-day move(s) by a split ratio that hold: {'; '.join(splits[:3])}. "
        "Stored as given; if the source did not adjust for a split, runs trade it as a real move."
    )


@dg.asset_check(
    asset=market_data,
    name=SPLIT_CHECK,
    partitions_def=symbol_partitions,
    blocking=False,
    description=(
        "Tier 2: the symbol's stored closes have no one-day move by a split ratio (x2, x3, x4, "
        "x5, x10 or inverses) that holds: such a move is kept, but may be a split the source "
        "did not adjust for. Hydration runs record a failed (WARN) result when they store one."
    ),
)
def market_data_has_no_unadjusted_split(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
) -> dg.AssetCheckResult:
    """Warn when the partition's stored closes hold a move that looks like a split."""
    store = lakehouse.store
    bars = store.read_frame(store.symbol_dir(context.partition_key))
    splits = suspected_splits(bars)
    if not splits:
        return dg.AssetCheckResult(passed=True)
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=_split_description(splits),
        metadata={"suspected_splits": dg.MetadataValue.json(splits)},
    )


defs = dg.Definitions(
    assets=[market_data],
    asset_checks=[market_data_not_quarantined, market_data_has_no_unadjusted_split],
)
