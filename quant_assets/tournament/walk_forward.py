"""The walk-forward tournament in one call: windows, parallel execution, reporting."""

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from quant_assets.settings import Settings
from quant_assets.tournament.choices import choose_holdings
from quant_assets.tournament.execution import execute, started_pool
from quant_assets.tournament.reporting import leaderboard, simulate
from quant_assets.tournament.windows import WINDOW_COLUMNS, make_windows


@dataclass(frozen=True)
class TournamentResult:
    """Everything a tournament produced.

    Attributes
    ----------
    returns : DataFrame
        Out-of-sample daily net returns, indexed by date, one column per ``profile/engine``.
    weights : DataFrame
        Target weights: window, train_end, profile, engine, symbol, weight.
    leaderboard : DataFrame
        One row per profile x engine, best Sharpe ratio first.
    windows : DataFrame
        The walk-forward windows of every profile.
    vetoes : DataFrame
        Every vetoed engine: window, train_end, profile, engine, vetoed_engine, reason.
    window_results : DataFrame
        Per window x profile x engine: engine used, turnover, cost, gross and net return.
    guard : DataFrame
        Per window x profile x engine: engine used, selected and eligible counts, ridge and
        covariance condition numbers before and after hardening.
    """

    returns: pd.DataFrame
    weights: pd.DataFrame
    leaderboard: pd.DataFrame
    windows: pd.DataFrame
    vetoes: pd.DataFrame
    window_results: pd.DataFrame
    guard: pd.DataFrame


def validate_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Check a wide price panel (dates x symbols) and return it as float64 with string columns.

    Raises
    ------
    ValueError
        Naming what is wrong: not a DataFrame, dates not a sorted unique DatetimeIndex,
        non-numeric or non-positive prices.
    """
    if not isinstance(prices, pd.DataFrame):
        raise ValueError(f"prices must be a wide DataFrame (dates x symbols), got {type(prices)}")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise ValueError("prices must be indexed by date (a DatetimeIndex)")
    if not prices.index.is_monotonic_increasing or prices.index.has_duplicates:
        raise ValueError("prices' dates must be sorted and unique")
    try:
        panel = prices.astype("float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"prices must be numeric: {error}") from None
    bad = panel.le(0).any()
    if bad.any():
        raise ValueError(f"prices must be positive; non-positive prices in {list(bad[bad].index)}")
    panel.columns = panel.columns.astype(str)
    return panel


def plan_windows(prices: pd.DataFrame, profiles: Mapping[str, Settings]) -> pd.DataFrame:
    """The windows of every profile over the return dates of ``prices``."""
    return_dates = pd.DatetimeIndex(prices.index[1:])
    frames = [make_windows(return_dates, settings, name) for name, settings in profiles.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=WINDOW_COLUMNS)


def run_tournament(
    prices: pd.DataFrame, profiles: Mapping[str, Settings], base: Settings | None = None
) -> TournamentResult:
    """Run every profile's walk-forward on exactly the dates and symbols of ``prices``.

    Parameters
    ----------
    prices : DataFrame
        Wide daily closes, dates x symbols.
    profiles : mapping of name to Settings
        The variants compared; each shapes its own windows, engines and selection.
    base : Settings, optional
        Where and how to execute (``executor``, ``workers``, ``ray_address``, ``data_root``);
        default the first profile's settings.
    """
    if not profiles:
        raise ValueError("a tournament needs at least one profile")
    panel = validate_prices(prices)
    base = base or next(iter(profiles.values()))
    with started_pool(panel, base) as pool:  # workers start while holdings are chosen
        windows = plan_windows(panel, profiles)
        choices = choose_holdings(panel, windows, profiles)
        output = execute(panel, windows, choices, profiles, base, pool)
    returns, window_results = simulate(
        panel, windows, output.weights, output.guard, output.vetoes, profiles
    )
    return TournamentResult(
        returns=returns,
        weights=output.weights,
        leaderboard=leaderboard(returns, window_results, profiles),
        windows=windows,
        vetoes=output.vetoes,
        window_results=window_results,
        guard=output.guard,
    )
