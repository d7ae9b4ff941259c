"""Statistics of stationary-bootstrap resamples, walked without building the resampled series.

The stationary bootstrap (Politis and Romano 1994) resamples a series of ``T`` observations as
blocks of random start and geometric length, wrapping from the last observation to the first.
Each replication here is given as ``T`` uniform start indices and ``T`` uniforms, drawn in the
order ``arch.bootstrap.StationaryBootstrap`` draws them: observation ``t > 0`` continues the
current block (the next index, wrapping at ``T``) when its uniform exceeds ``p = 1 / b`` and
starts a new block at its start index otherwise. So one set of draws serves every series, each
with its own mean block length ``b``, and gives exactly arch's indices for it.

:func:`stationary_bootstrap_statistics` walks every replication of every series once and
accumulates what the performance figures need: the sum and the sum of squares of the values,
the sum of the log growths, and the deepest fall of the running log wealth below its peak (the
peak starts at 0: wealth starts at 1). Series run in parallel over numba's thread pool.

References
----------
.. [1] D. N. Politis and J. P. Romano, "The stationary bootstrap", Journal of the American
   Statistical Association 89(428), 1303-1313 (1994).
.. [2] K. Sheppard et al., ``arch.bootstrap.StationaryBootstrap`` (arch 8.0.0): the order of
   the draws and the continuation rule reproduced here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types

from quant_kernels._kernel_boundary import as_kernel_input, one_row_chunks
from quant_kernels._numba_types import F1R, F2R, F3, FloatArray, IntArray, void

__all__ = ["STATISTICS", "stationary_bootstrap_statistics"]

STATISTICS = ("sum", "sum_of_squares", "sum_of_log_growth", "deepest_log_drawdown")
"""What :func:`stationary_bootstrap_statistics` returns per series and replication, in order."""

I2R = types.Array(types.int64, 2, "C", readonly=True)


@njit([void(F2R, F2R, I2R, F2R, F1R, F3)], cache=True, nogil=True, parallel=True)
def _resampled_statistics(
    values: FloatArray,
    log_growth: FloatArray,
    starts: IntArray,
    uniforms: FloatArray,
    new_block_probability: FloatArray,
    out: FloatArray,
) -> None:
    """Fill ``out[k, r]`` with the four :data:`STATISTICS` of series ``k``, replication ``r``."""
    n_series, n_obs = values.shape
    n_reps = starts.shape[0]
    for k in prange(n_series):
        p = new_block_probability[k]
        for r in range(n_reps):
            index = starts[r, 0]
            total = 0.0
            squares = 0.0
            log_wealth = 0.0
            peak = 0.0
            deepest = 0.0
            for t in range(n_obs):
                if t > 0:
                    if uniforms[r, t] > p:
                        index += 1
                        if index == n_obs:
                            index = 0
                    else:
                        index = starts[r, t]
                value = values[k, index]
                total += value
                squares += value * value
                log_wealth += log_growth[k, index]
                if log_wealth > peak:
                    peak = log_wealth
                elif log_wealth - peak < deepest:
                    deepest = log_wealth - peak
            out[k, r, 0] = total
            out[k, r, 1] = squares
            out[k, r, 2] = log_wealth
            out[k, r, 3] = deepest


def stationary_bootstrap_statistics(
    values: FloatArray,
    log_growth: FloatArray,
    starts: IntArray,
    uniforms: FloatArray,
    block_length: FloatArray,
) -> FloatArray:
    """Sums, sums of squares, log growth and deepest log drawdown of every resample.

    Parameters
    ----------
    values : array of shape (n_series, n_obs)
        The series to resample (finite).
    log_growth : array of shape (n_series, n_obs)
        Per observation, the log of the wealth growth (``log1p`` of a simple return) whose
        running sum is the log wealth; resampled with the same indices as ``values``.
    starts : int64 array of shape (n_reps, n_obs)
        Uniform draws from ``[0, n_obs)``: where a block begins.
    uniforms : array of shape (n_reps, n_obs)
        Uniform draws from ``[0, 1)``: observation ``t > 0`` starts a new block when its
        uniform is at most ``1 / block_length``.
    block_length : array of shape (n_series,)
        Mean block length of each series (at least 1).

    Returns
    -------
    array of shape (n_series, n_reps, 4)
        The :data:`STATISTICS` per series and replication.

    Raises
    ------
    ValueError
        If the shapes disagree, a block length is below 1 or a start is out of range.
    """
    x = as_kernel_input(values)
    growth = as_kernel_input(log_growth)
    first = np.ascontiguousarray(starts, dtype=np.int64)
    draws = np.ascontiguousarray(uniforms, dtype=np.float64)
    lengths = np.ascontiguousarray(block_length, dtype=np.float64)
    if x.ndim != 2 or growth.shape != x.shape:
        raise ValueError(
            f"values and log_growth must be (n_series, n_obs) of one shape, "
            f"got {x.shape} and {growth.shape}"
        )
    n_series, n_obs = x.shape
    if first.ndim != 2 or first.shape[1] != n_obs or draws.shape != first.shape:
        raise ValueError(
            f"starts and uniforms must be (n_reps, {n_obs}), got {first.shape} and {draws.shape}"
        )
    if lengths.shape != (n_series,) or not np.all(lengths >= 1.0):
        raise ValueError(f"block_length must be {n_series} values >= 1, got {lengths}")
    if first.size and (first.min() < 0 or first.max() >= n_obs):
        raise ValueError(f"starts must lie in [0, {n_obs}), got {first.min()}..{first.max()}")
    out = np.empty((n_series, first.shape[0], len(STATISTICS)), dtype=np.float64)
    with one_row_chunks():
        _resampled_statistics(x, growth, first, draws, 1.0 / lengths, out)
    return out
