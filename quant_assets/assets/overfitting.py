"""The ``overfitting`` asset (PBO by CSCV over the run's strategies) and its luck audit.

The audit check ``winner_is_not_luck`` (tier 2, not blocking) warns when the run's PBO is above
0.5 or its best strategy's deflated Sharpe ratio is below 0.95, with the numbers in its
metadata; with ``strict`` its severity is ERROR, and it still blocks nothing.
"""

from typing import Any

import dagster as dg
import pandas as pd

from lakehouse.frames import StoredFrame
from lakehouse.store import RUN_MANIFEST
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.contracts import OverfittingContract
from quant_assets.overfitting.run_overfitting import DSR_PASS, PBO_PASS, overfitting_frame
from quant_assets.provenance import settings_of
from quant_assets.tearsheet.analytics import returns_wide

OVERFITTING_CODE_VERSION = "overfitting-1"
LUCK_CHECK = "winner_is_not_luck"


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="tournament",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version=OVERFITTING_CODE_VERSION,
    description=(
        "Probability of backtest overfitting by CSCV over the run's strategies (S blocks, "
        "C(S, S/2) splits): per split the in-sample winner, its Sharpe ratios and logit; the "
        "run's PBO, probability of loss, degradation, and its best strategy's DSR."
    ),
)
def overfitting(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    tournament_returns: pd.DataFrame,
    leaderboard: pd.DataFrame,
) -> pd.DataFrame:
    """Cross-validate the run's strategies combinatorially."""
    settings = settings_of(run_manifest)
    frame = overfitting_frame(returns_wide(tournament_returns), leaderboard, settings)
    figures = luck_figures(frame)
    context.add_output_metadata(frame_metadata(frame, **figures))
    return frame


def luck_figures(frame: pd.DataFrame) -> dict[str, Any]:
    """The run's PBO and its best strategy's DSR (empty when there was no cross-validation)."""
    if frame.empty:
        return {}
    first = frame.iloc[0]
    return {
        "pbo": float(first["pbo"]),
        "probability_of_loss": float(first["probability_of_loss"]),
        "degradation_slope": float(first["degradation_slope"]),
        "best_strategy": str(first["best_strategy"]),
        "best_dsr": float(first["best_dsr"]),
        "n_trials": int(first["n_trials"]),
        "n_strategies": int(first["n_strategies"]),
        "n_blocks": int(first["n_blocks"]),
    }


@dg.asset_check(
    asset=overfitting,
    name=LUCK_CHECK,
    blocking=False,
    partitions_def=run_id_partitions,
    additional_ins={RUN_MANIFEST: dg.AssetIn(RUN_MANIFEST)},
    description=(
        f"Tier 2: the run's PBO is at most {PBO_PASS} and its best strategy's deflated Sharpe "
        f"ratio at least {DSR_PASS}; warns otherwise (ERROR severity when `strict`), never blocks."
    ),
)
def winner_is_not_luck(frame: StoredFrame, run_manifest: dict[str, Any]) -> dg.AssetCheckResult:
    """Warn when the winner may well be luck."""
    figures = luck_figures(frame.read())
    pbo, dsr = figures.get("pbo"), figures.get("best_dsr")
    reasons = []
    if pbo is not None and pbo > PBO_PASS:
        reasons.append(f"PBO {pbo:.2f} > {PBO_PASS}")
    if dsr is not None and not dsr >= DSR_PASS:
        reasons.append(f"best DSR {dsr:.2f} < {DSR_PASS}")
    strict = settings_of(run_manifest).strict
    severity = dg.AssetCheckSeverity.ERROR if strict else dg.AssetCheckSeverity.WARN
    metadata = {
        **figures,
        "pbo_pass": PBO_PASS,
        "dsr_pass": DSR_PASS,
        "reasons": "; ".join(reasons) or "none",
    }
    return dg.AssetCheckResult(passed=not reasons, severity=severity, metadata=metadata)


defs = dg.Definitions(
    assets=[overfitting],
    asset_checks=[*contract_checks(overfitting, OverfittingContract), winner_is_not_luck],
)
