"""Probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation (CSCV).

The ``n_obs`` common dates of ``n_strategies`` return series are cut into ``S`` contiguous
blocks (as ``numpy.array_split`` cuts them: the
first ``n_obs mod S`` blocks are one day longer). Every choice of ``S/2`` blocks is an in-sample set
and the other half its out-of-sample set: ``C(S, S/2)`` splits (12,870 for ``S = 16``). In each
split the strategy with the best in-sample Sharpe ratio is chosen, and its out-of-sample Sharpe
ratio is ranked among all strategies': the relative rank ``w = rank / (N + 1)`` (ties get their
average rank) gives the logit ``lambda = ln(w / (1 - w))``. PBO is the share of splits with
``lambda <= 0``: the in-sample winner was no better than the median out of sample.

Also: the probability of loss (the winner's out-of-sample Sharpe ratio below 0) and the
degradation (least-squares slope and intercept of the winner's out-of-sample on its in-sample
Sharpe ratio over the splits).

Speed: a split's Sharpe ratios come from block statistics, not from its rows. Each block's
count, sum and sum of squares (of the returns less their column mean, against cancellation) are
computed once; a split's in-sample sums are its blocks' (a product of the split-membership
matrix and the block sums), and its out-of-sample sums are the totals less those.

References
----------
.. [1] D. H. Bailey, J. M. Borwein, M. Lopez de Prado and Q. J. Zhu, "The probability of
   backtest overfitting", Journal of Computational Finance 20(4), 39-69 (2017).
"""

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quant_assets.calendar import TRADING_DAYS_PER_YEAR

__all__ = ["DEFAULT_BLOCKS", "CscvResult", "cscv_splits", "probability_of_backtest_overfitting"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_BLOCKS = 16
"""``S``: contiguous blocks of the out-of-sample dates (12,870 splits)."""
SPLITS_PER_CHUNK = 512
"""Splits scored at once: bounds the memory to a few (chunk x strategies) arrays."""


@dataclass(frozen=True)
class CscvResult:
    """The outcome of CSCV over a set of strategies."""

    pbo: float
    """Share of splits whose in-sample winner ranked at or below the median out of sample."""
    probability_of_loss: float
    """Share of splits whose in-sample winner lost out of sample (Sharpe ratio below 0)."""
    degradation_slope: float
    """Least-squares slope of the winner's out-of-sample on its in-sample Sharpe ratio."""
    degradation_intercept: float
    logits: FloatArray
    """Per split, the logit of the winner's relative out-of-sample rank."""
    in_sample_sharpe: FloatArray
    """Per split, the winner's annualised in-sample Sharpe ratio."""
    out_of_sample_sharpe: FloatArray
    """Per split, the winner's annualised out-of-sample Sharpe ratio."""
    winner: IntArray
    """Per split, the column of the in-sample winner."""
    n_blocks: int
    n_strategies: int


def cscv_splits(n_blocks: int) -> npt.NDArray[np.bool_]:
    """In-sample membership of every split: (C(S, S/2), S), in lexicographic order of the sets.

    Raises
    ------
    ValueError
        If ``n_blocks`` is not an even number >= 2.
    """
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"`n_blocks` (S) must be an even number >= 2, got {n_blocks}.")
    combos = list(itertools.combinations(range(n_blocks), n_blocks // 2))
    membership = np.zeros((len(combos), n_blocks), dtype=bool)
    for row, combo in enumerate(combos):
        membership[row, list(combo)] = True
    return membership


def probability_of_backtest_overfitting(
    returns: npt.ArrayLike,
    n_blocks: int = DEFAULT_BLOCKS,
    risk_free_rate: float = 0.0,
) -> CscvResult:
    """PBO, probability of loss and degradation of the in-sample winner, by CSCV.

    Parameters
    ----------
    returns : array of shape (n_obs, n_strategies)
        Daily returns of every strategy over common dates (finite, no NaN).
    n_blocks : int, default 16
        ``S``, the number of contiguous blocks (even).
    risk_free_rate : float, default 0.0
        Daily risk-free rate subtracted from the mean in the Sharpe ratios.

    Returns
    -------
    CscvResult
        PBO and the per-split logits and Sharpe ratios.

    Raises
    ------
    ValueError
        If ``returns`` is not finite and 2-D with two strategies and two days per block.
    """
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2 or not np.all(np.isfinite(x)):
        raise ValueError(
            f"`returns` must be a finite (n_obs, n_strategies >= 2) array, got {x.shape}."
        )
    n_obs, n_strategies = x.shape
    membership = cscv_splits(n_blocks)
    if n_obs < 2 * n_blocks:
        raise ValueError(f"CSCV needs at least 2 days per block: {n_obs} days, S={n_blocks}.")
    sizes = n_obs // n_blocks + (np.arange(n_blocks) < n_obs % n_blocks)
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    centre = x.mean(axis=0)
    deviation = x - centre
    counts = np.diff(bounds).astype(np.float64)
    sums = np.add.reduceat(deviation, bounds[:-1], axis=0)
    squares = np.add.reduceat(deviation**2, bounds[:-1], axis=0)
    winners, logits, is_sharpe, oos_sharpe = [], [], [], []
    for first in range(0, len(membership), SPLITS_PER_CHUNK):
        chunk = membership[first : first + SPLITS_PER_CHUNK].astype(np.float64)
        in_sample = _sharpe(chunk @ counts, chunk @ sums, chunk @ squares, centre, risk_free_rate)
        rest = 1.0 - chunk
        out_sample = _sharpe(rest @ counts, rest @ sums, rest @ squares, centre, risk_free_rate)
        best = np.argmax(np.where(np.isnan(in_sample), -np.inf, in_sample), axis=1)
        rows = np.arange(len(chunk))
        chosen = out_sample[rows, best]
        below = (out_sample < chosen[:, None]).sum(axis=1)
        ties = (out_sample == chosen[:, None]).sum(axis=1)
        relative_rank = (below + (ties + 1) / 2.0) / (n_strategies + 1)
        winners.append(best)
        logits.append(np.log(relative_rank / (1.0 - relative_rank)))
        is_sharpe.append(in_sample[rows, best])
        oos_sharpe.append(chosen)
    logit = np.concatenate(logits)
    in_best = np.concatenate(is_sharpe) * np.sqrt(TRADING_DAYS_PER_YEAR)
    out_best = np.concatenate(oos_sharpe) * np.sqrt(TRADING_DAYS_PER_YEAR)
    slope, intercept = _least_squares(in_best, out_best)
    return CscvResult(
        pbo=float(np.mean(logit <= 0.0)),
        probability_of_loss=float(np.mean(out_best < 0.0)),
        degradation_slope=slope,
        degradation_intercept=intercept,
        logits=logit,
        in_sample_sharpe=in_best,
        out_of_sample_sharpe=out_best,
        winner=np.concatenate(winners).astype(np.int64),
        n_blocks=n_blocks,
        n_strategies=n_strategies,
    )


def _sharpe(
    count: FloatArray,
    total: FloatArray,
    squares: FloatArray,
    centre: FloatArray,
    risk_free_rate: float,
) -> FloatArray:
    """Per-period Sharpe ratios (splits x strategies) from sums of the centred returns."""
    n = count[:, None]
    mean_deviation = total / n
    variance = (squares - n * mean_deviation**2) / (n - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sharpe = (centre + mean_deviation - risk_free_rate) / np.sqrt(variance)
    return np.asarray(np.where(variance > 0, sharpe, np.nan), dtype=np.float64)


def _least_squares(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Slope and intercept of ``y`` on ``x`` (NaN when ``x`` does not vary)."""
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    spread = float(np.sum((x - x.mean()) ** 2)) if len(x) else 0.0
    if spread == 0.0:
        return float("nan"), float("nan")
    slope = float(np.sum((x - x.mean()) * (y - y.mean())) / spread)
    return slope, float(y.mean() - slope * x.mean())
