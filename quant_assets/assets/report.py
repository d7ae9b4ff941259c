"""Report asset: the run's self-contained HTML tear-sheet, stored beside its assets."""

import dagster as dg

from lakehouse import validate_run_id
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.assets.resources import LakehouseResource
from quant_assets.tearsheet import (
    load_tearsheet_inputs,
    render_tearsheet,
    save_tearsheet,
    tearsheet_path,
)
from quant_assets.tearsheet.inputs import tearsheet_assets


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="tournament",
    kinds={"html"},
    owners=OWNERS,
    code_version="tearsheet-1",
    deps=[dg.AssetKey(name) for name in tearsheet_assets()],
    description=(
        "One self-contained HTML tear-sheet of the run (no network needed to open it): "
        "leaderboard against the S&P 500, equity and drawdowns, monthly returns, rolling "
        "Sharpe, weights, costs, vetoes, regimes, selection frequency, the manifest."
    ),
)
def tearsheet(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """Render the run's stored assets into ``tearsheet/run_id=<id>/tearsheet.html``."""
    run_id = validate_run_id(context.partition_key)
    document = render_tearsheet(load_tearsheet_inputs(lakehouse.root, run_id))
    path = save_tearsheet(document, tearsheet_path(lakehouse.store, run_id))
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "bytes": len(document.encode())}
    )


defs = dg.Definitions(assets=[tearsheet])
