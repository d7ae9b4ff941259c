"""A run's ``overfitting`` frame: CSCV over all its strategies, and its best strategy's DSR.

One row per split of :func:`~quant_assets.overfitting.backtest_overfitting.
probability_of_backtest_overfitting` (the in-sample winner, its Sharpe ratios in and out of
sample, the logit of its out-of-sample rank), with the run's figures repeated on every row:
``pbo``, ``probability_of_loss``, the degradation slope and intercept, ``S``, the number of
strategies, and the leaderboard's best strategy with its ``dsr`` and ``n_trials``. The
strategies are scored on the dates all of them have returns. With fewer than two strategies or
two days per block the frame is empty.
"""

import pandas as pd

from quant_assets.contracts import OverfittingContract, column_names
from quant_assets.metrics import daily_rate
from quant_assets.overfitting.backtest_overfitting import probability_of_backtest_overfitting
from quant_assets.settings import Settings
from quant_assets.tournament.reporting import strategy_name

__all__ = ["DSR_PASS", "OVERFITTING_COLUMNS", "PBO_PASS", "overfitting_frame"]

OVERFITTING_COLUMNS = column_names(OverfittingContract)
PBO_PASS = 0.5
"""Above this PBO the in-sample winner more often than not ranks below the median out of sample."""
DSR_PASS = 0.95
"""Below this DSR the best strategy's Sharpe ratio is not significant after all the trials."""


def overfitting_frame(
    returns: pd.DataFrame, board: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """The ``overfitting`` frame of a run.

    Parameters
    ----------
    returns : DataFrame
        Daily net returns, dates x ``profile/engine`` columns.
    board : DataFrame
        The run's leaderboard (best first) with its ``dsr`` and ``n_trials`` columns.
    settings : Settings
        ``pbo_blocks`` (S) and ``risk_free_rate`` are used.

    Returns
    -------
    DataFrame
        The columns of :class:`~quant_assets.contracts.OverfittingContract`.
    """
    common = returns.dropna(how="any")
    if common.shape[1] < 2 or len(common) < 2 * settings.pbo_blocks or board.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in OVERFITTING_COLUMNS})
    result = probability_of_backtest_overfitting(
        common.to_numpy(), settings.pbo_blocks, daily_rate(settings.risk_free_rate)
    )
    best = board.iloc[0]
    names = [str(c) for c in common.columns]
    frame = pd.DataFrame(
        {
            "split": range(len(result.logits)),
            "winner": [names[i] for i in result.winner],
            "in_sample_sharpe": result.in_sample_sharpe,
            "out_of_sample_sharpe": result.out_of_sample_sharpe,
            "logit": result.logits,
            "pbo": result.pbo,
            "probability_of_loss": result.probability_of_loss,
            "degradation_slope": result.degradation_slope,
            "degradation_intercept": result.degradation_intercept,
            "n_blocks": result.n_blocks,
            "n_strategies": result.n_strategies,
            "best_strategy": strategy_name(str(best["profile"]), str(best["engine"])),
            "best_dsr": float(best["dsr"]),
            "n_trials": int(best["n_trials"]),
        }
    )
    return frame[list(OVERFITTING_COLUMNS)]


def _dtype(column: str) -> str:
    if column in ("winner", "best_strategy"):
        return "str"
    if column in ("split", "n_blocks", "n_strategies", "n_trials"):
        return "int64"
    return "float64"
