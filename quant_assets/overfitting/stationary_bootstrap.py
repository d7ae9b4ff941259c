"""Stationary block bootstrap: block length, draws, and intervals for performance figures.

- :func:`optimal_block_length`: the mean block length of the stationary bootstrap by Politis
  and White (2004) as corrected by Patton, Politis and White (2009), with the tuning of
  Patton's reference program as ``arch.bootstrap.optimal_block_length`` uses it (equal to it,
  tested).
- :func:`bootstrap_draws` and :func:`bootstrap_indices`: the random numbers of ``reps``
  replications, drawn in the order arch's ``StationaryBootstrap`` draws them, so a seed gives
  arch's indices exactly, and the indices they make for a given block length.
- :func:`performance_intervals`: percentile intervals (90% by default) of the annual Sharpe
  ratio, annual return and maximum drawdown of each series, each resampled with its own block
  length from one set of draws. The resamples are walked by a numba kernel
  (:mod:`quant_kernels._stationary_bootstrap`) that never builds them.

References
----------
.. [1] D. N. Politis and J. P. Romano, "The stationary bootstrap", Journal of the American
   Statistical Association 89(428), 1303-1313 (1994).
.. [2] D. N. Politis and H. White, "Automatic block-length selection for the dependent
   bootstrap", Econometric Reviews 23(1), 53-70 (2004).
.. [3] A. Patton, D. N. Politis and H. White, "Correction to 'Automatic block-length selection
   for the dependent bootstrap'", Econometric Reviews 28(4), 372-375 (2009).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.typing import FloatArray, IntArray
from quant_kernels._stationary_bootstrap import stationary_bootstrap_statistics

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_REPLICATIONS",
    "BootstrapDraws",
    "bootstrap_draws",
    "bootstrap_indices",
    "optimal_block_length",
    "performance_intervals",
]


DEFAULT_REPLICATIONS = 1_000
"""Bootstrap replications of the intervals and the SPA test."""
DEFAULT_INTERVAL = 0.90
"""Coverage of the percentile intervals: the 5th to the 95th percentile."""
MIN_AUTOCORRELATION_RUN = 5
"""Consecutive insignificant autocorrelations that end the search for the lag ``m`` (``K_N``)."""
STATIONARY_BIAS_CONSTANT = 2.0
"""``D_SB = 2 * sigma^4``: the stationary bootstrap's variance constant (the 2009 correction)."""


def optimal_block_length(x: npt.ArrayLike) -> FloatArray:
    r"""Mean block length of the stationary bootstrap for each series (Politis and White).

    .. math::

        b = \left(\frac{2 G^2}{D_{SB}}\right)^{1/3} n^{1/3},\quad
        G = \sum_{|k| \le M} \lambda(k/M) |k| \hat\gamma_k,\quad
        D_{SB} = 2 \left(\sum_{|k| \le M} \lambda(k/M) \hat\gamma_k\right)^2

    with the flat-top kernel :math:`\lambda(t) = \min(1, 2(1 - |t|))`, :math:`M = 2\hat m`,
    and :math:`\hat m` the first lag after which :math:`K_N = \max(5, \log_{10} n)` consecutive
    autocorrelations are inside :math:`\pm 2\sqrt{\log_{10}(n) / n}` (at most
    :math:`\lceil\sqrt n\rceil + K_N`); ``b`` is capped at :math:`\min(3\sqrt n, n/3)`.

    Parameters
    ----------
    x : array of shape (n_obs,) or (n_obs, n_series)
        Finite observations.

    Returns
    -------
    array of shape (n_series,)
        The block length per series (0-d for 1-D input); at least 1.

    Notes
    -----
    The lag-``i`` autocorrelation is the lag-``i`` cross product over the root of the two sums
    of squares of lag ``i + 1``, as arch 8.0.0 computes it (the two differ from the textbook
    sums by one observation each), so that the choice of ``M`` matches arch's; the
    autocovariances are the textbook ones. A constant series gets 1.

    References
    ----------
    .. [1] Politis and White (2004), section 3; Patton, Politis and White (2009), eq. 5 and 6.
    """
    values = np.asarray(x, dtype=np.float64)
    columns = values.reshape(len(values), -1)
    lengths = np.array([_block_length(columns[:, k]) for k in range(columns.shape[1])])
    return lengths.reshape(values.shape[1:]) if values.ndim > 1 else lengths.reshape(())


def _block_length(x: FloatArray) -> float:
    """:func:`optimal_block_length` of one series."""
    n = len(x)
    eps = x - x.mean()
    b_max = np.ceil(min(3.0 * np.sqrt(n), n / 3.0))
    kn = max(MIN_AUTOCORRELATION_RUN, int(np.log10(n)))
    m_max = int(np.ceil(np.sqrt(n))) + kn
    band = 2.0 * np.sqrt(np.log10(n) / n)
    lags = np.arange(m_max + 1)
    cross = np.array([eps[i:] @ eps[: n - i] for i in lags])
    squares = np.concatenate([[0.0], np.cumsum(eps**2)])  # squares[j] = sum of eps[:j]**2
    tail = squares[n] - squares[lags + 1]  # eps[i + 1:] @ eps[i + 1:]
    head = squares[n - lags - 1]  # eps[: -(i + 1)] @ eps[: -(i + 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.abs(cross) / np.sqrt(tail * head) < band
    autocovariance = cross / n
    first_lag = None
    for i in range(kn, m_max + 1):
        if inside[i - kn : i].all():
            first_lag = i - kn
            break
    m = min(2 * max(first_lag, 1), m_max) if first_lag is not None else m_max
    k = np.arange(1, m + 1)
    flat_top = np.where(k / m <= 0.5, 1.0, 2.0 * (1.0 - k / m))
    g = float(np.sum(2.0 * flat_top * k * autocovariance[1 : m + 1]))
    long_run = float(autocovariance[0] + np.sum(2.0 * flat_top * autocovariance[1 : m + 1]))
    if long_run == 0.0:
        return 1.0
    d_sb = STATIONARY_BIAS_CONSTANT * long_run**2
    b = (2.0 * g**2 / d_sb) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return float(max(1.0, min(b, b_max)))


@dataclass(frozen=True)
class BootstrapDraws:
    """The random numbers of a stationary bootstrap, one row per replication."""

    starts: IntArray
    """int64 array of shape (reps, n_obs): where a block beginning at that position starts."""
    uniforms: FloatArray
    """Array of shape (reps, n_obs): position ``t > 0`` begins a block when at most ``1 / b``."""


def bootstrap_draws(n_obs: int, reps: int, seed: int | np.random.Generator) -> BootstrapDraws:
    """Draw ``reps`` replications as ``arch.bootstrap.StationaryBootstrap(seed=seed)`` does.

    Per replication, ``n_obs`` integers from ``[0, n_obs)`` then ``n_obs`` uniforms, from
    ``numpy.random.default_rng(seed)``: the same seed gives arch's indices for any block length.

    Raises
    ------
    ValueError
        If ``n_obs`` or ``reps`` is below 1.
    """
    if n_obs < 1 or reps < 1:
        raise ValueError(f"`n_obs` and `reps` must be >= 1, got {n_obs} and {reps}.")
    generator = np.random.default_rng(seed)
    starts = np.empty((reps, n_obs), dtype=np.int64)
    uniforms = np.empty((reps, n_obs), dtype=np.float64)
    for r in range(reps):
        starts[r] = generator.integers(n_obs, size=n_obs, dtype=np.int64)
        uniforms[r] = generator.random(n_obs)
    return BootstrapDraws(starts, uniforms)


def bootstrap_indices(draws: BootstrapDraws, block_length: float) -> IntArray:
    """The resampling indices (reps, n_obs) the draws make for a mean block length.

    Position 0 and every position whose uniform is at most ``1 / block_length`` begin a block
    at their start; the others continue the block (the next index, wrapping to 0).
    """
    starts, uniforms = draws.starts, draws.uniforms
    n_obs = starts.shape[1]
    positions = np.arange(n_obs)
    begins = uniforms <= 1.0 / block_length
    begins[:, 0] = True
    block_start = np.maximum.accumulate(np.where(begins, positions, 0), axis=1)
    first = np.take_along_axis(starts, block_start, axis=1)
    return np.asarray((first + positions - block_start) % n_obs, dtype=np.int64)


def performance_intervals(
    returns: npt.ArrayLike,
    seed: int,
    reps: int = DEFAULT_REPLICATIONS,
    coverage: float = DEFAULT_INTERVAL,
    risk_free_rate: float = 0.0,
    block_length: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Stationary-bootstrap percentile intervals of annual Sharpe, annual return and drawdown.

    Parameters
    ----------
    returns : array of shape (n_obs, n_series)
        Daily simple returns over common dates, finite.
    seed : int
        Seed of the draws (the run's ``seed``): the same seed and returns give the same intervals.
    reps : int, default 1000
        Replications.
    coverage : float, default 0.9
        Coverage of the interval: from the ``(1 - coverage) / 2`` quantile to its complement
        (numpy's linear percentile).
    risk_free_rate : float, default 0.0
        Daily risk-free rate subtracted from the mean in the Sharpe ratio.
    block_length : array of shape (n_series,), optional
        Mean block lengths; by default :func:`optimal_block_length` of each series.

    Returns
    -------
    dict of str to array of shape (n_series,)
        ``sharpe_low``/``sharpe_high`` (annualised by ``sqrt(252)``), ``annual_return_low``/
        ``_high`` (geometric) and ``max_drawdown_low``/``_high`` (negative: ``-0.3`` is a 30%
        fall), computed on every resample as the leaderboard computes them on the sample.

    Raises
    ------
    ValueError
        If ``returns`` is not 2-D and finite, or ``coverage`` is not in (0, 1).
    """
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"`returns` must be a finite (n_obs, n_series) array, got {x.shape}.")
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"`coverage` must be in (0, 1), got {coverage}.")
    n_obs, n_series = x.shape
    lengths = optimal_block_length(x) if block_length is None else block_length
    lengths = np.broadcast_to(np.asarray(lengths, dtype=np.float64), (n_series,))
    draws = bootstrap_draws(n_obs, reps, seed)
    centre = x.mean(axis=0)
    statistics = stationary_bootstrap_statistics(
        np.ascontiguousarray((x - centre).T),
        np.ascontiguousarray(np.log1p(x).T),
        draws.starts,
        draws.uniforms,
        np.ascontiguousarray(lengths),
    )
    total, squares, log_growth, deepest = np.moveaxis(statistics, 2, 0)
    mean_deviation = total / n_obs
    with np.errstate(divide="ignore", invalid="ignore"):
        stdev = np.sqrt(np.maximum(squares - n_obs * mean_deviation**2, 0.0) / (n_obs - 1))
        sharpe = (centre[:, None] + mean_deviation - risk_free_rate) / stdev
    sharpe = np.where(stdev > 0, sharpe * np.sqrt(TRADING_DAYS_PER_YEAR), np.nan)
    figures = {
        "sharpe": sharpe,
        "annual_return": np.expm1(log_growth * TRADING_DAYS_PER_YEAR / n_obs),
        "max_drawdown": np.expm1(deepest),
    }
    tail = 100.0 * (1.0 - coverage) / 2.0
    out = {}
    for name, values in figures.items():
        low, high = np.nanpercentile(values, [tail, 100.0 - tail], axis=1)
        out[f"{name}_low"] = np.asarray(low, dtype=np.float64)
        out[f"{name}_high"] = np.asarray(high, dtype=np.float64)
    return out
