"""Tournament assets, one per stage: windows, target weights (parallel), and the report.

The assets call the same functions as :meth:`QuantSDK.tournament`, on the run's own closes
and with the run's settings as its one profile.
"""

from collections.abc import Iterator
from typing import Any, cast

import dagster as dg
import pandas as pd
from dagster_ray import LocalRay

from lakehouse.frames import StoredFrame
from lakehouse.hashing import get_df_hash
from quant_assets.assets.checks import contract_checks
from quant_assets.assets.metadata import frame_metadata
from quant_assets.assets.partitions import OWNERS, run_id_partitions
from quant_assets.assets.resources import LakehouseResource, connect_local_ray
from quant_assets.contracts import (
    RunLeaderboardContract,
    TournamentGuardContract,
    TournamentReturnsContract,
    TournamentVetoesContract,
    TournamentWeightsAudit,
    TournamentWeightsContract,
    TournamentWindowResultsContract,
    TournamentWindowsContract,
)
from quant_assets.frames import closes_to_wide
from quant_assets.overfitting.leaderboard_luck import luck_columns
from quant_assets.overfitting.trials import CLOSES_HASH, earlier_trials
from quant_assets.provenance import profiles_of, settings_of
from quant_assets.settings import Settings
from quant_assets.sweep import FEATURE_FIELDS, REGIME_FIELDS, stage_key
from quant_assets.tearsheet import benchmark_returns, relative_leaderboard, tearsheet_path
from quant_assets.tearsheet.figures import (
    equity_and_drawdown_figure,
    png_bytes,
    png_markdown,
    strategy_colors,
)
from quant_assets.tournament.choices import CausalInputs, choose_holdings
from quant_assets.tournament.execution import execute, started_pool
from quant_assets.tournament.reporting import leaderboard as score_strategies
from quant_assets.tournament.reporting import simulate
from quant_assets.tournament.walk_forward import plan_windows, validate_prices

TOURNAMENT_CODE_VERSION = "tournament-4"
EQUITY_TITLE = "Out-of-sample equity, after costs"


def _run_profiles(run_manifest: dict[str, Any]) -> dict[str, Settings]:
    """The run's profile, or every point of its sweep."""
    return profiles_of(run_manifest)


def _out(description: str) -> dg.AssetOut:
    return dg.AssetOut(
        group_name="tournament",
        kinds={"pandas", "parquet"},
        owners=OWNERS,
        code_version=TOURNAMENT_CODE_VERSION,
        description=description,
    )


@dg.asset(
    partitions_def=run_id_partitions,
    group_name="tournament",
    kinds={"pandas", "parquet"},
    owners=OWNERS,
    code_version=TOURNAMENT_CODE_VERSION,
    description="Walk-forward windows (train, test, step on trading dates) of the run's profile "
    "(of every point of a sweep).",
)
def tournament_windows(
    context: dg.AssetExecutionContext, run_manifest: dict[str, Any], closes: StoredFrame
) -> pd.DataFrame:
    """Plan the windows on the run's closes."""
    windows = plan_windows(validate_prices(closes_to_wide(closes)), _run_profiles(run_manifest))
    context.add_output_metadata(
        frame_metadata(
            windows,
            windows=len(windows),
            first_test=str(windows["test_start"].min().date()),
            last_test=str(windows["test_end"].max().date()),
        )
    )
    return windows


@dg.multi_asset(
    partitions_def=run_id_partitions,
    outs={
        "tournament_weights": _out("Target weights per window x profile x engine."),
        "tournament_guard": _out(
            "Per window x engine: engine used, selection size, ridge and condition numbers."
        ),
        "tournament_vetoes": _out("Every engine the SolverGuard vetoed: window, engine, reason."),
    },
    ins={
        "run_manifest": dg.AssetIn(),
        "closes": dg.AssetIn(),
        "features": dg.AssetIn(),
        "regimes": dg.AssetIn(),
        "tournament_windows": dg.AssetIn(),
    },
)
def tournament_allocations(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    closes: StoredFrame,
    features: StoredFrame,
    regimes: pd.DataFrame,
    tournament_windows: pd.DataFrame,
    ray_cluster: LocalRay,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Select at every training end, then allocate every window from its training data only.

    Selection reads the run's features and regimes at each training end; allocation runs in
    parallel on the run's executor.
    """
    profiles = _run_profiles(run_manifest)
    base = settings_of(run_manifest)
    prices = validate_prices(closes_to_wide(closes))
    # The stored features and regimes are the run's settings'; points that change neither
    # read them, the others compute their own (once per distinct feature and regime settings).
    stored = stage_key(base, (*FEATURE_FIELDS, *REGIME_FIELDS))
    inputs = {
        name: CausalInputs(features, regimes)
        for name, settings in profiles.items()
        if stage_key(settings, (*FEATURE_FIELDS, *REGIME_FIELDS)) == stored
    }
    with started_pool(prices, base) as pool:  # a local pool's workers start meanwhile
        choices = choose_holdings(prices, tournament_windows, profiles, inputs)
        connect_local_ray(context, ray_cluster, base, "tournament")
        output = execute(prices, tournament_windows, choices, profiles, base, pool)
    fallbacks = int((output.guard["engine_used"] != output.guard["engine"]).sum())
    hardened = int((output.guard["ridge"] > 0).sum())
    yield dg.Output(
        output.weights,
        output_name="tournament_weights",
        metadata=frame_metadata(output.weights, executor=base.executor),
    )
    yield dg.Output(
        output.guard,
        output_name="tournament_guard",
        metadata=frame_metadata(output.guard, fallbacks=fallbacks, hardened=hardened),
    )
    yield dg.Output(
        output.vetoes,
        output_name="tournament_vetoes",
        metadata=frame_metadata(output.vetoes, vetoes=len(output.vetoes)),
    )
    context.log.info("%d fallbacks, %d hardened covariances", fallbacks, hardened)


@dg.multi_asset(
    partitions_def=run_id_partitions,
    outs={
        "tournament_returns": _out("Out-of-sample daily net returns per profile x engine."),
        "tournament_window_results": _out(
            "Per window x engine: turnover, cost, gross and net return, vetoes."
        ),
        "leaderboard": _out(
            "Every profile x engine after costs: return, volatility, Sharpe, Sortino, drawdown, "
            "Calmar, turnover, cost drag, vetoes; best Sharpe first."
        ),
    },
    ins={
        "run_manifest": dg.AssetIn(),
        "closes": dg.AssetIn(),
        "tournament_windows": dg.AssetIn(),
        "tournament_weights": dg.AssetIn(),
        "tournament_guard": dg.AssetIn(),
        "tournament_vetoes": dg.AssetIn(),
    },
)
def tournament_report(
    context: dg.AssetExecutionContext,
    run_manifest: dict[str, Any],
    closes: StoredFrame,
    tournament_windows: pd.DataFrame,
    tournament_weights: pd.DataFrame,
    tournament_guard: pd.DataFrame,
    tournament_vetoes: pd.DataFrame,
    lakehouse: LakehouseResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Hold the weights out of sample after costs and rank the strategies.

    The leaderboard also measures each strategy against the S&P 500 index where dates overlap.
    """
    profiles = _run_profiles(run_manifest)
    prices = validate_prices(closes_to_wide(closes))
    returns, window_results = simulate(
        prices,
        tournament_windows,
        tournament_weights,
        tournament_guard,
        tournament_vetoes,
        profiles,
    )
    board = with_luck(
        score_strategies(returns, window_results, profiles),
        returns,
        profiles,
        get_df_hash(prices),
        lakehouse,
        context,
    )
    board = relative_leaderboard(board, returns, benchmark_returns())
    long = returns_to_long(returns)
    equity_figure = equity_and_drawdown_figure(
        returns, None, strategy_colors(list(returns.columns)), EQUITY_TITLE
    )
    yield dg.Output(long, output_name="tournament_returns", metadata=frame_metadata(long))
    yield dg.Output(
        window_results,
        output_name="tournament_window_results",
        metadata=frame_metadata(window_results),
    )
    yield dg.Output(
        board,
        output_name="leaderboard",
        metadata={
            "leaderboard": dg.MetadataValue.md(board.to_markdown(index=False, floatfmt=".4f")),
            "equity_curve": dg.MetadataValue.md(
                png_markdown(png_bytes(equity_figure), "equity curves and drawdowns")
            ),
            "best": f"{board['profile'].iloc[0]}/{board['engine'].iloc[0]}" if len(board) else "",
            "strategies": len(board),
            "tear_sheet": dg.MetadataValue.path(
                str(tearsheet_path(lakehouse.store, context.partition_key))
            ),
        },
    )


def with_luck(
    board: pd.DataFrame,
    returns: pd.DataFrame,
    profiles: dict[str, Settings],
    closes_hash: str,
    lakehouse: LakehouseResource,
    context: dg.AssetExecutionContext,
) -> pd.DataFrame:
    """The leaderboard with its closes hash and luck columns, trials of earlier runs counted."""
    board = board.assign(**{CLOSES_HASH: closes_hash})
    if board.empty:
        return pd.concat([board, luck_columns(board, returns, profiles)], axis=1)
    earlier = [
        earlier_trials(lakehouse.root, closes_hash, first, last, context.partition_key)
        for first, last in board[["first_date", "last_date"]].drop_duplicates().to_numpy()
    ]
    trials = pd.concat(earlier, axis=1) if earlier else None
    if trials is not None and trials.shape[1]:
        context.log.info("%d trials of earlier runs on the same closes and dates", trials.shape[1])
    return pd.concat([board, luck_columns(board, returns, profiles, trials)], axis=1)


def returns_to_long(returns: pd.DataFrame) -> pd.DataFrame:
    """Wide ``profile/engine`` daily returns -> long ``date, profile, engine, net_return``."""
    stacked = returns.rename_axis(index="date", columns="strategy").stack()
    long = cast(pd.Series, stacked).rename("net_return")  # one column level: a Series
    frame = long.reset_index()
    frame[["profile", "engine"]] = frame["strategy"].str.split("/", n=1, expand=True)
    return frame[["date", "profile", "engine", "net_return"]].reset_index(drop=True)


defs = dg.Definitions(
    assets=[tournament_windows, tournament_allocations, tournament_report],
    asset_checks=[
        *contract_checks(tournament_windows, TournamentWindowsContract),
        *contract_checks(
            dg.AssetKey("tournament_weights"), TournamentWeightsContract, TournamentWeightsAudit
        ),
        *contract_checks(dg.AssetKey("tournament_guard"), TournamentGuardContract),
        *contract_checks(dg.AssetKey("tournament_vetoes"), TournamentVetoesContract),
        *contract_checks(dg.AssetKey("tournament_returns"), TournamentReturnsContract),
        *contract_checks(dg.AssetKey("tournament_window_results"), TournamentWindowResultsContract),
        *contract_checks(dg.AssetKey("leaderboard"), RunLeaderboardContract),
    ],
)
