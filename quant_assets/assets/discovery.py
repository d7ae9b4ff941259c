"""Discovery assets: the run's manifest, its candidate universe and its snapshot of closes."""

from typing import Any, cast

import dagster as dg
import pandas as pd

from lakehouse import validate_run_id
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.hydration import market_data
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.assets.resources import LakehouseResource, SettingsResource
from quant_assets.contracts import ClosesAudit, ClosesContract, UniverseAudit, UniverseContract
from quant_assets.discovery import discover_universe, symbols_in_scope
from quant_assets.frames import closes_to_long
from quant_assets.provenance import (
    build_manifest,
    plugin_changes,
    read_run_request,
    settings_for_request,
    settings_of,
)

ALL_SYMBOLS = dg.AssetDep(market_data, partition_mapping=dg.AllPartitionMapping())
MISSING_RUN_ID = (
    "production needs a run_id partition: mint one with `quant new-run` and pass it, e.g. "
    """--tags '{"dagster/partition": "<run_id>"}' (or run `quant run`)"""
)
"""Why a ``production`` run without a partition fails, in its first step."""


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="discovery",
    kinds={"json"},
    owners=OWNERS,
    code_version="discovery-1",
    deps=[ALL_SYMBOLS],
    description=(
        "The run's frozen settings (from the request `new_run` recorded), package versions, "
        "git commit and the content hash of every market data input."
    ),
)
def run_manifest(
    context: dg.AssetExecutionContext,
    lakehouse: LakehouseResource,
    base_settings: SettingsResource,
) -> dict[str, Any]:
    """Freeze the settings and inputs of this run."""
    if not context.has_partition_key:
        raise dg.Failure(description=MISSING_RUN_ID)
    run_id = validate_run_id(context.partition_key)
    request = read_run_request(lakehouse.store, run_id)
    settings = settings_for_request(request, base_settings.settings)
    manifest = build_manifest(run_id, settings, lakehouse.store, request)
    earlier = lakehouse.store.run_dir("run_manifest", run_id)
    if earlier.exists():  # a re-run: say so when a plug-in changed since the run was recorded
        recorded = lakehouse.store.read_document(earlier).get("plugins", [])
        changes = plugin_changes(recorded, manifest["plugins"])
        for change in changes:
            context.log.warning(f"run {run_id}: plug-in changed since it was recorded: {change}")
        manifest["plugin_changes"] = changes
    context.add_output_metadata(
        {
            "profile": settings.profile,
            "settings_hash": manifest["settings_hash"],
            "git_commit": str(manifest["git"]["commit"]),
            "inputs": len(manifest["inputs"]["market_data"]),
            "plugins": len(manifest["plugins"]),
            "sweep_points": len(manifest.get("points", {})),
        }
    )
    return cast(dict[str, Any], manifest)  # Dagster types the output as a plain dict


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="discovery",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="discovery-1",
    deps=[ALL_SYMBOLS],
    description=(
        "Every hydrated symbol in the run's dates: listing span, data quality, and whether it may "
        "be held at the run's decision date (windows decide point in time on their own)."
    ),
)
def universe(
    context: dg.AssetExecutionContext, run_manifest: dict[str, Any], lakehouse: LakehouseResource
) -> pd.DataFrame:
    """Judge every stored symbol for the run's universe."""
    settings = settings_of(run_manifest)
    closes = lakehouse.closes(settings.symbols, settings.start_date, settings.end_date)
    table = discover_universe(closes, settings)
    context.add_output_metadata(frame_metadata(table, eligible=int(table["eligible"].sum())))
    return table


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="discovery",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version="discovery-1",
    description=(
        "The run's own copy of the closes of every symbol in scope, dead ones included (long), so "
        "re-runs see the same data and backtests see no survivors-only market."
    ),
)
def closes(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    universe: pd.DataFrame,
    lakehouse: LakehouseResource,
) -> pd.DataFrame:
    """Snapshot the closes of every symbol in scope."""
    settings = settings_of(run_manifest)
    wide = lakehouse.closes(symbols_in_scope(universe), settings.start_date, settings.end_date)
    long = closes_to_long(wide)
    context.add_output_metadata(frame_metadata(long))
    return long


defs = dg.Definitions(
    assets=[run_manifest, universe, closes],
    asset_checks=[
        *contract_checks(universe, UniverseContract, UniverseAudit),
        *contract_checks(closes, ClosesContract, ClosesAudit),
    ],
)
