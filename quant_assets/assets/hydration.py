"""Hydration asset: ``market_data``, one partition per symbol, hydrated in a single run."""

import dagster as dg
import pandas as pd
from pydantic import Field

from lakehouse.store import MARKET_DATA
from lakehouse.sweep import sweep_stale_temp_files
from quant_assets.assets.partitions import OWNERS, symbol_partitions
from quant_assets.assets.resources import LakehouseResource, SettingsResource
from quant_assets.hydration import hydrate_symbol, make_source
from quant_assets.settings import Settings

PROGRESS_EVERY = 50


class HydrationConfig(dg.Config):
    """Where a hydration run reads from (empty fields: the code location's settings)."""

    source: str = Field("", description="bundled, synthetic, files or yfinance; empty: settings.")
    source_path: str = Field("", description="Folder of the `files` source; empty: settings.")
    full: bool = Field(False, description="Re-fetch the whole history, not only missing dates.")


def hydration_settings(config: HydrationConfig, base: Settings) -> Settings:
    """``base`` with the run config's source applied."""
    overrides: dict[str, object] = {}
    if config.source:
        overrides["source"] = config.source
    if config.source_path:
        overrides["source_path"] = config.source_path
    return base.clone(**overrides)


def hydration_run_config(settings: Settings, full: bool = False) -> dg.RunConfig:
    """The run config of a ``hydrate`` run reading ``settings``' source (SDK, sensor, backfill)."""
    config = HydrationConfig(
        source=settings.source, source_path=str(settings.source_path or ""), full=full
    )
    return dg.RunConfig(ops={MARKET_DATA: config})


@dg.asset(
    partitions_def=symbol_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="hydration",
    kinds={"parquet"},
    owners=OWNERS,
    code_version="hydration-1",
    description=(
        "Daily bars per symbol (date, open, high, low, close, volume), merged incrementally "
        "from the configured source into `market_data/symbol=<SYM>/part-0.parquet`."
    ),
)
def market_data(
    context: dg.AssetExecutionContext,
    config: HydrationConfig,
    lakehouse: LakehouseResource,
    base_settings: SettingsResource,
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """Hydrate every symbol partition of this run from its source."""
    settings = hydration_settings(config, base_settings.settings)
    swept = sweep_stale_temp_files(lakehouse.root)
    if swept:
        context.log.info(f"removed {len(swept)} temporary files left by interrupted writes")
    symbols = list(context.partition_keys)
    source = make_source(settings, symbols=symbols)
    reports = []
    for done, symbol in enumerate(symbols, start=1):
        reports.append(hydrate_symbol(lakehouse.store, source, symbol, full=config.full))
        if done % PROGRESS_EVERY == 0 or done == len(symbols):
            context.log.info(f"hydrated {done}/{len(symbols)} symbols from {source.name}")
    table = pd.DataFrame([r.as_dict() for r in reports])
    return dg.MaterializeResult(
        metadata={
            "source": source.name,
            "symbols": len(symbols),
            "dagster/row_count": int(table["rows_after"].sum()),
            "new_rows": int(table["new_rows"].sum()),
            "corrected_rows": int(table["corrected_rows"].sum()),
            "last_date": str(table["last_date"].max()),
            "report": dg.MetadataValue.md(table.head(50).to_markdown(index=False)),
        }
    )


defs = dg.Definitions(assets=[market_data])
