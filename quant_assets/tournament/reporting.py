"""Reporting: hold each window's weights over its test span, then score every profile x engine.

Holding: the target weights are bought at the close of the training end. With ``drift`` they
then drift with prices through the test span; without it they are restored every close. The
rebalancing cost is ``cost_bps`` x turnover, where turnover is ``sum |target - held|`` against
the drifted weights left by the previous window (the first window buys from cash, so its
turnover is 1); it is charged on the first test day. Without ``drift``, each day's restoring
trades are charged the same way.

Delistings: a held symbol that stops trading (no close after some date of the test span, in the
whole panel) is sold at its last close; the proceeds sit in cash (0% return) until the next
rebalance, and the window's results record the symbol and the value at exit. The sale itself is
not charged. Prices are never carried forward past a symbol's last close; a missing close
*between* two closes (a halt, a holiday of one exchange) is a day without a price change.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quant_assets.contracts import (
    LeaderboardContract,
    TournamentWindowResultsContract,
    column_names,
)
from quant_assets.metrics import daily_rate, per_year, performance
from quant_assets.settings import Settings

BASIS_POINT = 1e-4
LEADERBOARD_COLUMNS = column_names(LeaderboardContract)
WINDOW_RESULT_COLUMNS = column_names(TournamentWindowResultsContract)


def strategy_name(profile: str, engine: str) -> str:
    """Column name of one profile x engine in the returns table."""
    return f"{profile}/{engine}"


def simulate(
    prices: pd.DataFrame,
    windows: pd.DataFrame,
    weights: pd.DataFrame,
    guard: pd.DataFrame,
    vetoes: pd.DataFrame,
    profiles: Mapping[str, Settings],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Out-of-sample daily net returns (dates x strategies) and the per-window table."""
    asset_returns = listed_returns(prices)
    return_dates = asset_returns.index
    values = asset_returns.to_numpy()
    symbols = asset_returns.columns.to_numpy(dtype=object)
    column = {symbol: i for i, symbol in enumerate(asset_returns.columns.tolist())}
    weight_columns = np.array([column[s] for s in weights["symbol"].tolist()], dtype=np.int64)
    weight_values = weights["weight"].to_numpy(dtype=np.float64)
    rows_of = weights.groupby(["profile", "engine", "window"], sort=False).indices
    used_of = guard.set_index(["profile", "engine", "window"])["engine_used"].to_dict()
    veto_counts = vetoes.groupby(["profile", "engine", "window"]).size().to_dict()
    series: dict[str, pd.Series] = {}
    window_rows = []
    for profile, settings in profiles.items():
        mine = windows[windows["profile"] == profile]
        spans = zip(
            mine["window"].to_numpy(dtype=np.int64).tolist(),
            return_dates.get_indexer(pd.DatetimeIndex(mine["test_start"])).tolist(),
            mine["test_days"].to_numpy(dtype=np.int64).tolist(),
            pd.DatetimeIndex(mine["test_start"]),
            pd.DatetimeIndex(mine["test_end"]),
            strict=True,
        )
        profile_windows = list(spans)
        for engine in settings.engines:
            held = np.zeros(len(column))
            daily_positions, daily_returns = [], []
            for window, first, test_days, test_start, test_end in profile_windows:
                key = (profile, engine, window)
                target = np.zeros(len(column))
                rows = rows_of.get(key)
                if rows is not None:
                    target[weight_columns[rows]] = weight_values[rows]
                span = values[first : first + test_days]
                held_span = _hold(target, held, span, settings)
                gross, net, held = held_span.gross, held_span.net, held_span.end_weights
                exits = held_span.liquidated
                daily_positions.append(np.arange(first, first + len(net)))
                daily_returns.append(net)
                window_rows.append(
                    {
                        "profile": profile,
                        "engine": engine,
                        "window": window,
                        "test_start": test_start,
                        "test_end": test_end,
                        "engine_used": used_of.get(key, "cash"),
                        "holdings": int((target > 0).sum()),
                        "turnover": held_span.turnover,
                        "cost": held_span.cost,
                        "gross_return": float(np.prod(1.0 + gross) - 1.0),
                        "net_return": float(np.prod(1.0 + net) - 1.0),
                        "vetoes": int(veto_counts.get(key, 0)),
                        "liquidated": ";".join(str(symbols[i]) for i in exits),
                        "liquidated_value": float(sum(exits.values())),
                    }
                )
            if daily_returns:
                positions = np.concatenate(daily_positions)
                series[strategy_name(profile, engine)] = pd.Series(
                    np.concatenate(daily_returns), index=return_dates[positions]
                )
    returns = pd.DataFrame(series)
    returns.index.name = "date"
    return returns.sort_index(), pd.DataFrame(window_rows, columns=list(WINDOW_RESULT_COLUMNS))


def listed_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns while each symbol is listed (NaN outside its first..last close).

    A missing close between two closes counts as an unchanged price (the return over the gap
    lands on the day trading resumes). Nothing is carried past a symbol's last close.
    """
    last_close = prices.notna()[::-1].cummax()[::-1]
    filled = prices.ffill().where(last_close)
    return filled.pct_change(fill_method=None).iloc[1:]


@dataclass(frozen=True)
class HeldSpan:
    """One test span held: daily returns, the weights left, costs and the delisted positions."""

    gross: np.ndarray
    net: np.ndarray
    end_weights: np.ndarray
    turnover: float
    cost: float
    liquidated: dict[int, float]
    """Column of each symbol that stopped trading while held -> its value at exit (a fraction
    of the span's starting value)."""


def _hold(target: np.ndarray, held: np.ndarray, span: np.ndarray, settings: Settings) -> HeldSpan:
    """Hold ``target`` over one test span (daily returns, NaN once a symbol is delisted).

    ``held`` are the weights left by the previous span (a delisted position is cash by then).
    """
    rate = settings.cost_bps * BASIS_POINT
    turnover = float(np.abs(target - held).sum())
    costs = np.zeros(len(span))
    costs[0] = rate * turnover
    listed = ~np.isnan(span)
    moves = np.where(listed, span, 0.0)  # a delisted position is cash: it no longer moves
    exit_day = _exit_days(listed, target)
    invested = target.sum()
    growth = np.cumprod(1.0 + moves, axis=0)
    if settings.drift:
        value = growth @ target + (1.0 - invested)
        previous = np.concatenate([[1.0], value[:-1]])
        gross = value / previous - 1.0
        end_weights = target * growth[-1] / value[-1]
        liquidated = {i: float(target[i] * growth[day, i]) for i, day in exit_day.items()}
    else:
        gross = moves @ target
        drifted = target * (1.0 + moves) / (1.0 + gross)[:, None]
        # Restoring trades are made in listed symbols only; a delisted weight stays in cash.
        restoring = np.where(listed, np.abs(target - drifted), 0.0).sum(axis=1)
        costs[1:] += rate * restoring[:-1]
        turnover += float(restoring[:-1].sum())
        end_weights = drifted[-1]
        value = np.cumprod(1.0 + gross)
        liquidated = {
            i: float(target[i] * value[day] / (1.0 + gross[day]) * (1.0 + moves[day, i]))
            for i, day in exit_day.items()
        }
    for i in exit_day:
        end_weights[i] = 0.0  # sold: the next window buys from cash
    return HeldSpan(gross, gross - costs, end_weights, turnover, float(costs.sum()), liquidated)


def _exit_days(listed: np.ndarray, target: np.ndarray) -> dict[int, int]:
    """Held column -> the span day of its last close, for symbols delisted inside the span."""
    exits = {}
    for i in np.flatnonzero((target > 0) & ~listed[-1]):
        days = np.flatnonzero(listed[:, i])
        exits[int(i)] = int(days[-1]) if len(days) else 0
    return exits


def leaderboard(
    returns: pd.DataFrame,
    window_results: pd.DataFrame,
    profiles: Mapping[str, Settings],
) -> pd.DataFrame:
    """Score every strategy after costs, best Sharpe ratio first."""
    rows = []
    for profile, settings in profiles.items():
        daily_risk_free = daily_rate(settings.risk_free_rate)
        for engine in settings.engines:
            name = strategy_name(profile, engine)
            if name not in returns:
                continue
            daily = returns[name].dropna()
            r = daily.to_numpy()
            mine = window_results[
                (window_results["profile"] == profile) & (window_results["engine"] == engine)
            ]
            rows.append(
                {
                    "profile": profile,
                    "engine": engine,
                    **performance(r, daily_risk_free),
                    "avg_turnover": float(mine["turnover"].mean()),
                    "cost_drag": per_year(float(mine["cost"].sum()), len(r)),
                    "vetoes": int(mine["vetoes"].sum()),
                    "days": len(r),
                    "first_date": daily.index.min(),
                    "last_date": daily.index.max(),
                }
            )
    board = pd.DataFrame(rows)
    if board.empty:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    board = board.sort_values(["sharpe", "profile", "engine"], ascending=[False, True, True])
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    return board.reset_index(drop=True)[list(LEADERBOARD_COLUMNS)]
