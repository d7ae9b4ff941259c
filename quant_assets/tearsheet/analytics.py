"""The numbers behind the tear-sheet's figures and tables, derived from a run's stored frames.

Plain pandas and numpy, no drawing: wide returns, monthly returns, holdings over time, selection
frequency, turnover and cost drag, regime spans. Wealth, drawdowns, Sharpe ratios and
annualisation come from :mod:`quant_assets.metrics`.
"""

import numpy as np
import pandas as pd

from quant_assets.metrics import annualised, per_year
from quant_assets.tournament.reporting import strategy_name

OTHER_HOLDINGS = "other"
"""Column gathering every holding outside the top ones in :func:`holdings_over_time`."""
ALL_STRATEGIES = "all"
"""Column of :func:`selection_frequency` over every strategy together."""
MONTHS = tuple(range(1, 13))
YEAR_COLUMN = "year"


def returns_wide(tournament_returns: pd.DataFrame) -> pd.DataFrame:
    """Daily net returns, dates x ``profile/engine`` columns, from the long stored frame.

    Returns
    -------
    DataFrame
        Shape (n_dates, n_strategies), sorted ``DatetimeIndex`` named ``date``; NaN where a
        strategy has no return on a date.
    """
    if tournament_returns.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"), dtype="float64")
    names = [
        strategy_name(str(p), str(e))
        for p, e in zip(tournament_returns["profile"], tournament_returns["engine"], strict=True)
    ]
    wide = (
        tournament_returns.assign(strategy=names)
        .pivot(index="date", columns="strategy", values="net_return")
        .sort_index()
        .astype("float64")
    )
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide.columns = pd.Index([str(c) for c in wide.columns], name=None)
    return wide


def monthly_returns(daily: pd.Series) -> pd.DataFrame:
    """Compounded return of every calendar month, years x months, plus the year's return.

    Returns
    -------
    DataFrame
        Index: the years (int), columns 1..12 then ``year``; NaN for a month with no return.
    """
    clean = daily.dropna()
    if clean.empty:
        return pd.DataFrame(columns=[*MONTHS, YEAR_COLUMN], dtype="float64")
    index = pd.DatetimeIndex(clean.index)
    growth = (1.0 + clean).groupby([index.year, index.month]).prod() - 1.0
    table = growth.unstack().reindex(columns=list(MONTHS))
    yearly = (1.0 + clean).groupby(index.year).prod() - 1.0
    table[YEAR_COLUMN] = yearly
    table.index = table.index.astype(int)
    table.index.name = YEAR_COLUMN
    table.columns.name = None
    return table


def holdings_over_time(
    tournament_weights: pd.DataFrame,
    tournament_windows: pd.DataFrame,
    profile: str,
    engine: str,
    top: int,
) -> pd.DataFrame:
    """Target weights of one strategy per window: the ``top`` holdings and the rest together.

    Parameters
    ----------
    tournament_weights, tournament_windows : DataFrame
        The stored frames.
    profile, engine : str
        The strategy.
    top : int
        How many symbols keep their own column: those with the largest mean weight over all
        windows (a window without the symbol counts as 0).

    Returns
    -------
    DataFrame
        Index: the windows' ``test_start`` (the weights are held from then), one row per window
        of ``profile`` (all zeros when it held cash); columns: the top symbols by mean weight,
        then ``other`` when more symbols were held.
    """
    windows = tournament_windows[tournament_windows["profile"] == profile]
    mine = tournament_weights[
        (tournament_weights["profile"] == profile) & (tournament_weights["engine"] == engine)
    ]
    table = mine.pivot_table(
        index="window", columns="symbol", values="weight", aggfunc="sum", fill_value=0.0
    )
    table = table.reindex(index=windows["window"].to_numpy(), fill_value=0.0).astype("float64")
    ranked = table.mean().sort_values(ascending=False, kind="stable").index
    kept = table[list(ranked[:top])].copy()
    if len(ranked) > top:
        kept[OTHER_HOLDINGS] = table[list(ranked[top:])].sum(axis=1)
    kept.index = pd.DatetimeIndex(windows["test_start"].to_numpy(), name="test_start")
    kept.columns = pd.Index([str(c) for c in kept.columns])
    return kept


def selection_frequency(tournament_weights: pd.DataFrame) -> pd.DataFrame:
    """How often each symbol is held: the share of a strategy's windows with a weight above 0.

    Returns
    -------
    DataFrame
        Index: every symbol held at least once (sorted by ``all``, most held first); columns:
        ``all`` (the share over every strategy's windows together), ``windows_held`` (that
        count, an int), then one share column per ``profile/engine``. A strategy's windows
        are those in which it held anything.
    """
    held = tournament_weights[tournament_weights["weight"] > 0]
    if held.empty:
        return pd.DataFrame(columns=[ALL_STRATEGIES, "windows_held"], dtype="float64")
    names = [
        strategy_name(str(p), str(e)) for p, e in zip(held["profile"], held["engine"], strict=True)
    ]
    held = held.assign(strategy=names)
    windows_per_strategy = held.groupby("strategy")["window"].nunique()
    counts = held.groupby(["symbol", "strategy"])["window"].nunique().unstack(fill_value=0)
    shares = counts / windows_per_strategy.reindex(counts.columns)
    table = pd.DataFrame(
        {
            ALL_STRATEGIES: counts.sum(axis=1) / windows_per_strategy.sum(),
            "windows_held": counts.sum(axis=1).astype("int64"),
        }
    ).join(shares)
    table.index = pd.Index([str(s) for s in table.index], name="symbol")
    return table.sort_values([ALL_STRATEGIES], ascending=False, kind="stable")


def cost_summary(window_results: pd.DataFrame, leaderboard: pd.DataFrame) -> pd.DataFrame:
    """Turnover and what trading cost each strategy, in leaderboard order.

    Gross and net annual returns compound the per-window returns over the strategy's return
    days (``days`` in the leaderboard): ``prod(1 + r_w) ** (252 / days) - 1``. The net one
    equals the leaderboard's ``annual_return``; their difference is the return lost to costs.

    Returns
    -------
    DataFrame
        One row per leaderboard row: profile, engine, windows, avg_turnover, total_turnover,
        total_cost, cost_drag (total cost per year, as in the leaderboard),
        gross_annual_return, net_annual_return, return_lost.
    """
    rows = []
    strategies = zip(
        leaderboard["profile"].astype(str),
        leaderboard["engine"].astype(str),
        leaderboard["days"].to_numpy(dtype=np.int64).tolist(),
        strict=True,
    )
    for profile, engine, days in strategies:
        mine = window_results[
            (window_results["profile"] == profile) & (window_results["engine"] == engine)
        ]
        gross = annualised(float(np.prod(1.0 + mine["gross_return"].to_numpy())), days)
        net = annualised(float(np.prod(1.0 + mine["net_return"].to_numpy())), days)
        rows.append(
            {
                "profile": profile,
                "engine": engine,
                "windows": len(mine),
                "avg_turnover": float(mine["turnover"].mean()),
                "total_turnover": float(mine["turnover"].sum()),
                "total_cost": float(mine["cost"].sum()),
                "cost_drag": per_year(float(mine["cost"].sum()), days),
                "gross_annual_return": gross,
                "net_annual_return": net,
                "return_lost": gross - net,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "profile",
            "engine",
            "windows",
            "avg_turnover",
            "total_turnover",
            "total_cost",
            "cost_drag",
            "gross_annual_return",
            "net_annual_return",
            "return_lost",
        ],
    )


def regime_spans(regimes: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive dates with the same regime label.

    Returns
    -------
    DataFrame
        start, end (dates, inclusive), label, days; in date order.
    """
    ordered = regimes.sort_values("date")
    labels = ordered["label"].astype(str).to_numpy()
    if len(labels) == 0:
        return pd.DataFrame(columns=["start", "end", "label", "days"])
    change = np.concatenate([[True], labels[1:] != labels[:-1]])
    run = np.cumsum(change)
    dates = pd.DatetimeIndex(ordered["date"])
    frame = pd.DataFrame({"date": dates, "label": labels, "run": run})
    spans = frame.groupby("run").agg(
        start=("date", "min"), end=("date", "max"), label=("label", "first"), days=("date", "size")
    )
    return spans.reset_index(drop=True)


def regime_counts(regimes: pd.DataFrame) -> pd.DataFrame:
    """Days, share of days and number of spells of each regime label, most days first."""
    spans = regime_spans(regimes)
    if spans.empty:
        return pd.DataFrame(columns=["label", "days", "share", "spells"])
    table = spans.groupby("label").agg(days=("days", "sum"), spells=("days", "size"))
    table["share"] = table["days"] / table["days"].sum()
    table = table.sort_values(["days"], ascending=False, kind="stable").reset_index()
    return table[["label", "days", "share", "spells"]]


def veto_counts(tournament_vetoes: pd.DataFrame) -> pd.DataFrame:
    """Number of vetoes per profile, engine, vetoed engine and reason, most first."""
    keys = ["profile", "engine", "vetoed_engine", "reason"]
    if tournament_vetoes.empty:
        return pd.DataFrame(columns=[*keys, "vetoes"])
    counts = tournament_vetoes.groupby(keys).size().rename("vetoes").reset_index()
    return counts.sort_values(["vetoes", *keys], ascending=[False, True, True, True, True])
