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

from collections.abc import Mapping, Sequence
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
    """Out-of-sample daily net returns (dates x strategies) and the per-window table.

    Strategies (profile x engine) whose profiles share windows and ``drift`` are held together,
    window by window, as the rows of one matrix (a sweep's points usually all do).
    """
    asset_returns = listed_returns(prices)
    return_dates = asset_returns.index
    values = asset_returns.to_numpy()
    symbols = asset_returns.columns.to_numpy(dtype=object)
    column = {symbol: i for i, symbol in enumerate(asset_returns.columns.tolist())}
    strategies = [(p, e) for p, settings in profiles.items() for e in settings.engines]
    number = {strategy: k for k, strategy in enumerate(strategies)}
    rows_of = _rows_by_window(weights, number)
    weight_columns = np.array([column[s] for s in weights["symbol"].tolist()], dtype=np.int64)
    weight_values = weights["weight"].to_numpy(dtype=np.float64)
    groups: dict[tuple[bool, tuple[tuple[int, int, int], ...]], list[int]] = {}
    spans: dict[str, pd.DataFrame] = {}
    for profile, settings in profiles.items():
        mine = windows[windows["profile"] == profile]
        spans[profile] = mine
        starts = return_dates.get_indexer(pd.DatetimeIndex(mine["test_start"])).tolist()
        days = mine["test_days"].to_numpy(dtype=np.int64).tolist()
        numbers = mine["window"].to_numpy(dtype=np.int64).tolist()
        key = (settings.drift, tuple(zip(numbers, starts, days, strict=True)))
        groups.setdefault(key, []).extend(number[(profile, engine)] for engine in settings.engines)
    looked_up = ("engine_used", "vetoes")
    columns_of: dict[int, dict[str, Sequence[object] | np.ndarray]] = {}
    frames = []
    for (drift, spans_of_group), members in groups.items():
        if not spans_of_group:
            continue
        slot = np.full(len(strategies), -1, dtype=np.int64)
        slot[members] = np.arange(len(members))
        rates = np.array([profiles[strategies[k][0]].cost_bps * BASIS_POINT for k in members])
        held = np.zeros((len(members), len(column)))
        group_spans = []
        for window, first, test_days in spans_of_group:
            target = np.zeros_like(held)
            rows = rows_of.get(window)
            if rows is not None:
                rows = rows[slot[rows[:, 1]] >= 0]
                target[slot[rows[:, 1]], weight_columns[rows[:, 0]]] = weight_values[rows[:, 0]]
            held_span = _hold(target, held, values[first : first + test_days], rates, drift)
            held = held_span.end_weights
            group_spans.append(held_span)
        per_window = {
            name: np.stack([getattr(h, name) for h in group_spans], axis=1)
            for name in ("holdings", "turnover", "cost", "gross_return", "net_return")
        }
        dated = {
            profile: {
                name: spans[profile][name].to_numpy()
                for name in ("window", "test_start", "test_end")
            }
            for profile in {strategies[k][0] for k in members}
        }
        for row, k in enumerate(members):
            profile, engine = strategies[k]
            exits = [held_span.liquidated[row] for held_span in group_spans]
            columns_of[k] = {
                "profile": [profile] * len(exits),
                "engine": [engine] * len(exits),
                **dated[profile],
                **{name: per_window[name][row] for name in per_window},
                "liquidated": [";".join(str(symbols[i]) for i in e) for e in exits],
                "liquidated_value": np.array([float(sum(e.values())) for e in exits]),
            }
        positions = np.concatenate(
            [
                np.arange(first, first + h.net.shape[1])
                for (_, first, _), h in zip(spans_of_group, group_spans, strict=True)
            ]
        )
        names = [strategy_name(*strategies[k]) for k in members]
        net = np.concatenate([h.net for h in group_spans], axis=1)
        frames.append(pd.DataFrame(net.T, index=return_dates[positions], columns=names))
    order = sorted(columns_of)  # in the order of the profiles and their engines
    table: dict[str, Sequence[object] | np.ndarray] = {}
    for name in (n for n in WINDOW_RESULT_COLUMNS if n not in looked_up):
        pieces = [columns_of[k][name] for k in order]
        arrays = [piece for piece in pieces if isinstance(piece, np.ndarray)]
        if len(arrays) == len(pieces):
            table[name] = np.concatenate(arrays)
        else:
            table[name] = [value for piece in pieces for value in piece]
    held_names = {name for frame in frames for name in frame.columns}
    ordered = [strategy_name(*s) for s in strategies if strategy_name(*s) in held_names]
    returns = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    returns = returns.reindex(columns=ordered)
    returns.index.name = "date"
    if not order:
        return returns.sort_index(), pd.DataFrame(columns=list(WINDOW_RESULT_COLUMNS))
    keys = ["profile", "engine", "window"]
    results = pd.DataFrame(table)
    used = guard[[*keys, "engine_used"]]
    counted = vetoes.groupby(keys).size().rename("vetoes").reset_index()
    results = results.merge(used, on=keys, how="left").merge(counted, on=keys, how="left")
    results["engine_used"] = results["engine_used"].fillna("cash")
    results["vetoes"] = results["vetoes"].fillna(0).astype("int64")
    return returns.sort_index(), results.reindex(columns=list(WINDOW_RESULT_COLUMNS))


def _rows_by_window(
    weights: pd.DataFrame, number: Mapping[tuple[str, str], int]
) -> dict[int, np.ndarray]:
    """Window -> ``(row, strategy number)`` pairs of its weights (strategies not run dropped)."""
    if weights.empty:
        return {}
    profile_codes, profiles = pd.factorize(weights["profile"])
    engine_codes, engines = pd.factorize(weights["engine"])
    strategy_of = np.array(
        [[number.get((str(p), str(e)), -1) for e in engines] for p in profiles], dtype=np.int64
    ).reshape(len(profiles), len(engines))
    strategy = strategy_of[profile_codes, engine_codes]
    window = weights["window"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero(strategy >= 0)
    order = rows[np.argsort(window[rows], kind="stable")]
    bounds = np.flatnonzero(np.diff(window[order])) + 1
    return {
        int(window[chunk[0]]): np.column_stack([chunk, strategy[chunk]])
        for chunk in np.split(order, bounds)
        if len(chunk)
    }


def listed_returns(prices: pd.DataFrame) -> pd.DataFrame:
    """Daily simple returns while each symbol is listed (NaN outside its first..last close).

    A missing close between two closes counts as an unchanged price (the return over the gap
    lands on the day trading resumes). Nothing is carried past a symbol's last close.
    """
    last_close = prices.notna()[::-1].cummax()[::-1]
    filled = prices.ffill().where(last_close)
    return filled.pct_change(fill_method=None).iloc[1:]


@dataclass(frozen=True)
class HeldSpans:
    """Test spans of several strategies held at once, one row each.

    ``S`` strategies, ``D`` days, ``N`` symbols: daily returns, the weights left, costs and the
    delisted positions.
    """

    gross: np.ndarray
    """Shape (S, D)."""
    net: np.ndarray
    """Shape (S, D)."""
    end_weights: np.ndarray
    """Shape (S, N)."""
    turnover: np.ndarray
    cost: np.ndarray
    holdings: np.ndarray
    """Shape (S,): symbols with a positive target weight."""
    gross_return: np.ndarray
    """Shape (S,): the span's compounded gross return."""
    net_return: np.ndarray
    """Shape (S,): the span's compounded net return."""
    liquidated: list[dict[int, float]]
    """Per strategy: column of each symbol that stopped trading while held -> its value at exit
    (a fraction of the span's starting value)."""


def _hold(
    target: np.ndarray, held: np.ndarray, span: np.ndarray, rates: np.ndarray, drift: bool
) -> HeldSpans:
    """Hold each row of ``target`` (S x N) over one test span, at ``rates`` (S,) per turnover.

    ``span`` holds the span's daily returns (D x N, NaN once a symbol is delisted); ``held``
    (S x N) are the weights left by the previous span (a delisted position is cash by then).
    """
    strategies, days = len(target), len(span)
    turnover = np.abs(target - held).sum(axis=1)
    costs = np.zeros((strategies, days))
    costs[:, 0] = rates * turnover
    listed = ~np.isnan(span)
    moves = np.where(listed, span, 0.0)  # a delisted position is cash: it no longer moves
    exits = _exit_days(listed, target)
    invested = target.sum(axis=1)
    growth = np.cumprod(1.0 + moves, axis=0)
    liquidated: list[dict[int, float]] = [{} for _ in range(strategies)]
    if drift:
        value = _row_products(target, growth) + (1.0 - invested)[:, None]
        previous = np.concatenate([np.ones((strategies, 1)), value[:, :-1]], axis=1)
        gross = value / previous - 1.0
        end_weights = target * growth[-1] / value[:, -1:]
        for row, i, day in exits:
            liquidated[row][i] = float(target[row, i] * growth[day, i])
    else:
        gross = _row_products(target, moves)
        drifted = target[:, None, :] * (1.0 + moves)[None, :, :] / (1.0 + gross)[:, :, None]
        # Restoring trades are made in listed symbols only; a delisted weight stays in cash.
        restoring = np.where(listed[None], np.abs(target[:, None, :] - drifted), 0.0).sum(axis=2)
        costs[:, 1:] += rates[:, None] * restoring[:, :-1]
        turnover = turnover + restoring[:, :-1].sum(axis=1)
        end_weights = drifted[:, -1, :].copy()
        value = np.cumprod(1.0 + gross, axis=1)
        for row, i, day in exits:
            liquidated[row][i] = float(
                target[row, i] * value[row, day] / (1.0 + gross[row, day]) * (1.0 + moves[day, i])
            )
    for row, i, _ in exits:
        end_weights[row, i] = 0.0  # sold: the next window buys from cash
    net = gross - costs
    return HeldSpans(
        gross=gross,
        net=net,
        end_weights=end_weights,
        turnover=turnover,
        cost=costs.sum(axis=1),
        holdings=(target > 0).sum(axis=1),
        gross_return=np.prod(1.0 + gross, axis=1) - 1.0,
        net_return=np.prod(1.0 + net, axis=1) - 1.0,
        liquidated=liquidated,
    )


def _row_products(target: np.ndarray, daily: np.ndarray) -> np.ndarray:
    """``target @ daily.T`` (S x D), each entry summed alike whatever the number of rows ``S``.

    A matrix product's rounding depends on how BLAS blocks the whole matrix, so a strategy's
    returns would change in the last bits with the number of strategies held beside it; a sum
    along the last axis of an elementwise product is computed the same way for every row.
    """
    return np.asarray((target[:, None, :] * daily[None, :, :]).sum(axis=2))


def _exit_days(listed: np.ndarray, target: np.ndarray) -> list[tuple[int, int, int]]:
    """``(row, column, day)`` of each held symbol delisted inside the span.

    ``day`` is the span day of its last close (0 when it had none).
    """
    exits = []
    for row, i in np.argwhere((target > 0) & ~listed[-1][None, :]):
        days = np.flatnonzero(listed[:, i])
        exits.append((int(row), int(i), int(days[-1]) if len(days) else 0))
    return exits


def leaderboard(
    returns: pd.DataFrame,
    window_results: pd.DataFrame,
    profiles: Mapping[str, Settings],
) -> pd.DataFrame:
    """Score every strategy after costs, best Sharpe ratio first."""
    rows = []
    by_strategy = window_results.groupby(["profile", "engine"], sort=False)
    turnover = by_strategy["turnover"].mean().to_dict()
    cost = by_strategy["cost"].sum().to_dict()
    vetoes = by_strategy["vetoes"].sum().to_dict()
    for profile, settings in profiles.items():
        daily_risk_free = daily_rate(settings.risk_free_rate)
        for engine in settings.engines:
            name = strategy_name(profile, engine)
            if name not in returns:
                continue
            daily = returns[name].dropna()
            r = daily.to_numpy()
            key = (profile, engine)
            rows.append(
                {
                    "profile": profile,
                    "engine": engine,
                    **performance(r, daily_risk_free),
                    "avg_turnover": float(turnover.get(key, np.nan)),
                    "cost_drag": per_year(float(cost.get(key, 0.0)), len(r)),
                    "vetoes": int(vetoes.get(key, 0)),
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
