"""The leaderboard's answer to "is it luck?": PSR, DSR over every trial, intervals, SPA p-value.

:func:`luck_columns` adds, per strategy of a leaderboard, on its daily out-of-sample net returns:

- ``psr``: probabilistic Sharpe ratio against 0;
- ``n_trials`` and ``dsr``: the deflated Sharpe ratio over every *trial* on the same dates: the
  leaderboard's strategies with the same first and last date, plus the earlier trials given
  (other runs on the same closes and dates, :mod:`.trials`). A trial is a distinct return
  series: one run twice counts once;
- ``effective_trials`` and ``dsr_effective``: the same with the effective rank of the trials'
  return correlations as the number of trials (a grid of similar settings is fewer ideas);
- ``min_track_record``: years of such returns needed for 95% confidence that the Sharpe ratio
  is above 0 (NaN when it is not above 0);
- ``sharpe_low``/``_high``, ``annual_return_low``/``_high``, ``max_drawdown_low``/``_high``:
  90% stationary-bootstrap intervals, seeded by the run's ``seed``;
- ``spa_pvalue``: Hansen's consistent SPA p-value against the profile's ``market`` baseline
  (NaN for the baseline itself, or without one).
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.metrics import daily_rate
from quant_assets.overfitting.sharpe_inference import (
    deflated_sharpe_ratio,
    effective_number_of_trials,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)
from quant_assets.overfitting.stationary_bootstrap import performance_intervals
from quant_assets.overfitting.superior_predictive_ability import superior_predictive_ability
from quant_assets.settings import Settings
from quant_assets.tournament.reporting import strategy_name

__all__ = ["BASELINE_ENGINE", "LUCK_COLUMNS", "distinct_trials", "luck_columns"]

BASELINE_ENGINE = "market"
"""The engine every strategy of a profile is tested against (SPA)."""
INTERVAL_COLUMNS = (
    "sharpe_low",
    "sharpe_high",
    "annual_return_low",
    "annual_return_high",
    "max_drawdown_low",
    "max_drawdown_high",
)
LUCK_COLUMNS = (
    "psr",
    "n_trials",
    "dsr",
    "effective_trials",
    "dsr_effective",
    "min_track_record",
    *INTERVAL_COLUMNS,
    "spa_pvalue",
)
"""The columns :func:`luck_columns` returns, in order."""


def distinct_trials(returns: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``returns`` with exact duplicates (the same series) dropped, first kept."""
    if returns.shape[1] < 2:
        return returns
    keys = [np.round(returns[c].to_numpy(dtype=np.float64), 15).tobytes() for c in returns]
    return returns.loc[:, ~pd.Series(keys).duplicated().to_numpy()]


def luck_columns(
    board: pd.DataFrame,
    returns: pd.DataFrame,
    profiles: Mapping[str, Settings],
    earlier_trials: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The :data:`LUCK_COLUMNS` of every row of ``board``, in its order.

    Parameters
    ----------
    board : DataFrame
        The leaderboard: ``profile``, ``engine``, ``first_date`` and ``last_date`` per row.
    returns : DataFrame
        Daily net returns, dates x ``profile/engine`` columns.
    profiles : mapping of str to Settings
        Each profile's settings: ``risk_free_rate`` and ``seed`` are used.
    earlier_trials : DataFrame, optional
        Daily net returns of earlier trials (dates x one column per trial) on the same dates as
        this run's strategies; a trial whose dates differ from a strategy's is not its trial.

    Returns
    -------
    DataFrame
        :data:`LUCK_COLUMNS`, indexed like ``board``.
    """
    out = pd.DataFrame(index=board.index, columns=list(LUCK_COLUMNS), dtype="float64")
    if board.empty:
        return out.astype({"n_trials": "int64"})
    spans = board[["first_date", "last_date"]].apply(tuple, axis=1)
    for span in spans.unique():
        rows = board.index[spans == span]
        names = [
            strategy_name(str(p), str(e))
            for p, e in board.loc[rows, ["profile", "engine"]].to_numpy()
        ]
        mine = returns.loc[span[0] : span[1], names]
        trials = _trials_on(mine, earlier_trials)
        for row, name in zip(rows, names, strict=True):
            settings = profiles[str(board.at[row, "profile"])]
            out.loc[row] = _one_strategy(mine[name], trials, settings)
        _add_intervals_and_spa(out, board, rows, mine, returns, profiles)
    out["n_trials"] = out["n_trials"].astype("int64")
    return out


def _trials_on(mine: pd.DataFrame, earlier: pd.DataFrame | None) -> pd.DataFrame:
    """The span's strategies plus the earlier trials complete on its dates, duplicates dropped."""
    together = mine
    if earlier is not None and not earlier.empty:
        same_dates = earlier.reindex(mine.index)
        complete = same_dates.columns[same_dates.notna().all().to_numpy()]
        together = pd.concat([mine, same_dates[complete]], axis=1)
    return distinct_trials(together.dropna(how="any"))


def _one_strategy(daily: pd.Series, trials: pd.DataFrame, settings: Settings) -> dict[str, float]:
    risk_free = daily_rate(settings.risk_free_rate)
    moments = sharpe_moments(daily.to_numpy(dtype=np.float64), risk_free)
    trial_sharpes = sharpe_moments(trials.to_numpy(dtype=np.float64), risk_free).sharpe
    n_trials = int(np.isfinite(trial_sharpes).sum())
    effective = effective_number_of_trials(trials.to_numpy()) if n_trials else float("nan")
    usable = n_trials > 0
    return {
        "psr": float(probabilistic_sharpe_ratio(moments)),
        "n_trials": n_trials,
        "dsr": float(deflated_sharpe_ratio(moments, trial_sharpes)) if usable else np.nan,
        "effective_trials": effective,
        "dsr_effective": (
            float(deflated_sharpe_ratio(moments, trial_sharpes, n_trials=effective))
            if usable
            else np.nan
        ),
        "min_track_record": float(minimum_track_record_length(moments)) / TRADING_DAYS_PER_YEAR,
    }


def _add_intervals_and_spa(
    out: pd.DataFrame,
    board: pd.DataFrame,
    rows: pd.Index,
    mine: pd.DataFrame,
    returns: pd.DataFrame,
    profiles: Mapping[str, Settings],
) -> None:
    """Fill the intervals and SPA p-values of ``rows`` (one span), profile by profile."""
    for profile in board.loc[rows, "profile"].unique():
        settings = profiles[str(profile)]
        these = rows[board.loc[rows, "profile"].to_numpy() == profile]
        names = [strategy_name(str(profile), str(e)) for e in board.loc[these, "engine"]]
        values = mine[names].dropna(how="any")
        if len(values) < 2:
            continue
        intervals = performance_intervals(
            values.to_numpy(),
            seed=settings.seed,
            risk_free_rate=daily_rate(settings.risk_free_rate),
        )
        for column in INTERVAL_COLUMNS:
            out.loc[these, column] = intervals[column]
        baseline = strategy_name(str(profile), BASELINE_ENGINE)
        if baseline not in returns:
            continue
        market = returns.loc[values.index, baseline]
        others = [n for n in names if n != baseline]
        if not others or market.isna().any():
            continue
        spa = superior_predictive_ability(
            market.to_numpy(), values[others].to_numpy(), seed=settings.seed
        )
        pvalue = dict(zip(others, spa.pvalue_consistent, strict=True))
        out.loc[these, "spa_pvalue"] = [pvalue.get(n, np.nan) for n in names]
