"""Hurst exponent by rescaled range (R/S): scalar and rolling, 1-D series or symbols x time panels.

:func:`hurst_rs` equals ``nolds.hurst_rs(x, nvals, fit="poly", corrected, unbiased)`` (nolds
0.6.2) to 1e-12; nolds' default ``fit="RANSAC"`` is random (unseeded) and cannot be matched.
Blocks of equal values are skipped (see :data:`HURST_FLAT_RTOL`). :func:`rolling_hurst_rs`
computes each block's R/S once and reuses it in every window that holds the block. Block sizes
and expected R/S come from :mod:`quant_kernels._hurst_tables`; the conventions shared by the
rolling kernels are listed in :mod:`quant_kernels.predictability`.

References
----------
.. [1] H. E. Hurst, "Long-term storage capacity of reservoirs", Transactions of the American
   Society of Civil Engineers 116, 770 (1951).
.. [2] A. A. Anis and E. H. Lloyd, "The expected value of the adjusted rescaled Hurst range of
   independent normal summands", Biometrika 63(1), 111-116 (1976); with E. E. Peters' small-sample
   correction, "Fractal Market Analysis", Wiley (1994).
.. [3] C. Schölzel, nolds 0.6.2, ``nolds.hurst_rs``: the reference implementation matched here
   (https://github.com/CSchoel/nolds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from numba import njit, prange
from numba.np.ufunc.parallel import get_thread_id

from quant_kernels._hurst_tables import hurst_tables
from quant_kernels._kernel_boundary import (
    as_kernel_input,
    as_kernel_output,
    one_row_chunks,
    padded_length,
    worker_count,
)
from quant_kernels._numba_types import (
    F1,
    F1R,
    F2,
    F2R,
    F3,
    I1,
    FloatArray,
    IntArray,
    b1,
    f8,
    i8,
    void,
)

__all__ = ["HURST_FLAT_RTOL", "MIN_WINDOW", "hurst_rs", "rolling_hurst_rs"]

HURST_FLAT_RTOL = 1e-12
"""A Hurst R/S block counts as flat, and is skipped, when its range of cumulative deviations is
at most ``HURST_FLAT_RTOL * n * max|x_j|`` over its ``n`` values. In exact arithmetic a block of
equal values has range and standard deviation 0, and nolds drops blocks whose range is exactly 0;
in floating point nolds' block mean is not always exact, so for equal non-zero values it can get a
range and deviation of rounding noise (about ``n**2 * eps * |x|``) and average their meaningless
ratio in. The kernels here compute deviations from the block's first value, which gives exactly 0
for such blocks, and the tolerance also drops blocks whose variation is at the rounding level of
their values. Real data (returns of rounded prices included) is many orders of magnitude above it.
"""

MIN_WINDOW = 4
"""Shortest window :func:`rolling_hurst_rs` accepts."""


@njit([f8(F1R, i8, i8, b1)], cache=True, nogil=True)
def _block_rs(x: FloatArray, start: int, n: int, unbiased: bool) -> float:
    """R/S of ``x[start : start + n]``, or -1.0 for a block to skip (flat, see HURST_FLAT_RTOL).

    Deviations are taken from the block's first value (exact 0 for a block of equal values).
    """
    if n < 2:
        return -1.0
    x0 = x[start]
    total = 0.0
    max_abs = 0.0
    for j in range(start, start + n):
        v = x[j]
        total += v - x0
        a = abs(v)
        if a > max_abs:
            max_abs = a
    mean = total / n
    cum = 0.0
    hi = -np.inf
    lo = np.inf
    squares = 0.0
    for j in range(start, start + n):
        dev = (x[j] - x0) - mean
        cum += dev
        if cum > hi:
            hi = cum
        if cum < lo:
            lo = cum
        squares += dev * dev
    spread = hi - lo
    if not spread > HURST_FLAT_RTOL * n * max_abs:
        return -1.0
    std = math.sqrt(squares / (n - 1 if unbiased else n))
    if not std > 0.0:
        return -1.0
    return spread / std


@njit(f8(F1, F1, b1), cache=True, nogil=True)
def _hurst_fit(log_n: FloatArray, ys: FloatArray, corrected: bool) -> float:
    """Least-squares slope of ``ys`` on ``log_n`` over the non-NaN ``ys`` (+ 0.5 if corrected)."""
    count = 0
    sum_x = 0.0
    sum_y = 0.0
    for k in range(ys.shape[0]):
        if ys[k] == ys[k]:
            count += 1
            sum_x += log_n[k]
            sum_y += ys[k]
    if count < 2:
        return np.nan
    mean_x = sum_x / count
    mean_y = sum_y / count
    sxx = 0.0
    sxy = 0.0
    for k in range(ys.shape[0]):
        if ys[k] == ys[k]:
            dx = log_n[k] - mean_x
            sxx += dx * dx
            sxy += dx * (ys[k] - mean_y)
    if not sxx > 0.0:
        return np.nan
    slope = sxy / sxx
    return slope + 0.5 if corrected else slope


@njit([f8(F1R, I1, F1, F1, b1, b1, F1)], cache=True, nogil=True)
def _hurst_kernel(
    x: FloatArray,
    nvals: IntArray,
    log_n: FloatArray,
    log_ers: FloatArray,
    corrected: bool,
    unbiased: bool,
    ys: FloatArray,
) -> float:
    """Hurst R/S of the whole of ``x``; NaN if ``x`` holds a NaN. ``ys`` is a workspace."""
    total_n = x.shape[0]
    for i in range(total_n):
        if x[i] != x[i]:
            return np.nan
    for k in range(nvals.shape[0]):
        size = nvals[k]
        ys[k] = np.nan
        if size < 2 or size > total_n:
            continue
        total = 0.0
        used = 0
        for j in range(total_n // size):
            ratio = _block_rs(x, j * size, size, unbiased)
            if ratio >= 0.0:
                total += ratio
                used += 1
        if used > 0:
            ys[k] = math.log(total / used) - (log_ers[k] if corrected else 0.0)
    return _hurst_fit(log_n, ys, corrected)


@njit([void(F1R, i8, I1, F1, F1, b1, b1, F2, F1, F1)], cache=True, nogil=True)
def _rolling_hurst_row(
    x: FloatArray,
    window: int,
    nvals: IntArray,
    log_n: FloatArray,
    log_ers: FloatArray,
    corrected: bool,
    unbiased: bool,
    ring: FloatArray,
    ys: FloatArray,
    out: FloatArray,
) -> None:
    """Rolling Hurst R/S of one series into ``out``, reusing blocks across windows.

    A window starting at ``s`` uses, for block size ``n``, the blocks starting at ``s + j n``.
    Each block's R/S is computed once, when its last sample arrives, into ``ring[k, t % window]``
    (``k`` the index of ``n``); it is still there for every window that uses it.
    """
    n_sizes = nvals.shape[0]
    nan_count = 0
    pos = 0  # i % window
    for i in range(x.shape[0]):
        if x[i] != x[i]:
            nan_count += 1
        if i >= window and x[i - window] != x[i - window]:
            nan_count -= 1
        for k in range(n_sizes):
            size = nvals[k]
            if size < 2 or size > window or size > i + 1:
                continue
            slot = pos - size + 1
            if slot < 0:
                slot += window
            ring[k, slot] = _block_rs(x, i - size + 1, size, unbiased)
        if i >= window - 1 and nan_count == 0:
            first = pos + 1
            if first == window:
                first = 0
            for k in range(n_sizes):
                size = nvals[k]
                ys[k] = np.nan
                if size < 2 or size > window:
                    continue
                total = 0.0
                used = 0
                slot = first
                for _ in range(window // size):
                    ratio = ring[k, slot]
                    if ratio >= 0.0:
                        total += ratio
                        used += 1
                    slot += size
                    if slot >= window:
                        slot -= window
                if used > 0:
                    ys[k] = math.log(total / used) - (log_ers[k] if corrected else 0.0)
            out[i] = _hurst_fit(log_n, ys, corrected)
        else:
            out[i] = np.nan
        pos += 1
        if pos == window:
            pos = 0


@njit([void(F2R, i8, I1, F1, F1, b1, b1, F3, F2, F2)], cache=True, parallel=True)
def _rolling_hurst_panel(
    x: FloatArray,
    window: int,
    nvals: IntArray,
    log_n: FloatArray,
    log_ers: FloatArray,
    corrected: bool,
    unbiased: bool,
    ring: FloatArray,
    ys: FloatArray,
    out: FloatArray,
) -> None:
    """Rows of ``x`` in parallel (one row per scheduling chunk, see :func:`one_row_chunks`).

    ``ring[t]`` and ``ys[t, :n_sizes]`` are the workspaces of the thread ``t = get_thread_id()``
    (``ys`` rows padded to separate cache lines).
    """
    n_sizes = nvals.shape[0]
    for row in prange(x.shape[0]):
        worker = get_thread_id()
        _rolling_hurst_row(
            x[row],
            window,
            nvals,
            log_n,
            log_ers,
            corrected,
            unbiased,
            ring[worker],
            ys[worker, :n_sizes],
            out[row],
        )


def hurst_rs(
    x: npt.ArrayLike,
    nvals: Iterable[int] | None = None,
    corrected: bool = True,
    unbiased: bool = True,
) -> float:
    """Hurst exponent by rescaled range, as ``nolds.hurst_rs(..., fit="poly")``.

    The series is split, for each block size ``n``, into ``len(x) // n`` non-overlapping blocks
    aligned to its start (the tail is dropped); ``(R/S)_n`` is the mean over blocks of the range
    of cumulative deviations from the block mean over the block's standard deviation. The
    exponent is the least-squares slope of ``log (R/S)_n`` on ``log n``; with ``corrected``,
    ``log`` of the Anis-Lloyd-Peters expected (R/S)_n of white noise is subtracted first and 0.5
    added to the slope.

    Parameters
    ----------
    x : array_like of shape (n,)
        The series (usually returns, not prices).
    nvals : iterable of int, optional
        Block sizes; default ``logmid_n(len(x), 0.25, 15)``, as nolds.
    corrected : bool, default True
        Apply the Anis-Lloyd-Peters correction (and add 0.5).
    unbiased : bool, default True
        Block standard deviation with ``n - 1`` (else ``n``) in the denominator.

    Returns
    -------
    float
        The exponent. NaN if ``x`` holds a NaN (nolds instead drops every block size whose
        blocks reach the NaN and fits the rest), or if fewer than two block sizes have a
        non-flat block (nolds returns NaN when none has; with one it fits a line to one point).

    Notes
    -----
    Blocks of equal values are skipped (see :data:`HURST_FLAT_RTOL`); nolds skips them only
    when its floating-point range comes out exactly 0, otherwise it averages in a ratio of
    rounding noise. ``nolds.hurst_rs`` with its default ``fit="RANSAC"`` is random (unseeded
    RANSAC) and cannot be matched.
    """
    values = np.ascontiguousarray(x, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {values.shape}")
    if values.shape[0] < 2:
        return float("nan")
    sizes, log_n, log_ers = hurst_tables(nvals, values.shape[0])
    ys = np.empty(sizes.shape[0], dtype=np.float64)
    result = _hurst_kernel(values, sizes, log_n, log_ers, bool(corrected), bool(unbiased), ys)
    return float(result)


def rolling_hurst_rs(
    x: npt.ArrayLike,
    window: int,
    nvals: Iterable[int] | None = None,
    corrected: bool = True,
    unbiased: bool = True,
    out: FloatArray | None = None,
) -> FloatArray:
    """Hurst R/S exponent of every window of ``window`` samples.

    Each block's R/S is computed once and reused by every window it belongs to (blocks are
    aligned to the window start, so a block starting at ``t`` serves the windows starting at
    ``t, t - n, t - 2n, ...``): a step costs O(sum of block sizes) to compute the new blocks plus
    O(window) additions to average them, against O(window * number of sizes) per window directly.

    Parameters
    ----------
    x : array_like of shape (n,) or (n_symbols, n)
        One series, or a panel with time along the last axis (rows run in parallel).
    window : int
        Samples per window (at least :data:`MIN_WINDOW`).
    nvals : iterable of int, optional
        Block sizes; default ``logmid_n(window, 0.25, 15)``, the default of :func:`hurst_rs` on
        one window.
    corrected : bool, default True
        As in :func:`hurst_rs`.
    unbiased : bool, default True
        As in :func:`hurst_rs`.
    out : ndarray, optional
        Float64, C-contiguous, writable, shape of ``x``: written in place and returned.

    Returns
    -------
    ndarray
        ``out[..., i] = hurst_rs(x[..., i - window + 1 : i + 1], nvals, corrected, unbiased)``;
        NaN for ``i < window - 1`` and for windows holding a NaN.
    """
    window = int(window)
    if window < MIN_WINDOW:
        raise ValueError(f"window must be at least {MIN_WINDOW}, got {window}")
    values = as_kernel_input(x)
    result = as_kernel_output(out, values.shape)
    sizes, log_n, log_ers = hurst_tables(nvals, window)
    n_sizes = sizes.shape[0]
    if values.ndim == 1:
        ring = np.zeros((n_sizes, window), dtype=np.float64)
        ys = np.zeros(n_sizes, dtype=np.float64)
        _rolling_hurst_row(
            values, window, sizes, log_n, log_ers, bool(corrected), bool(unbiased), ring, ys, result
        )
    else:
        workers = worker_count()
        ring3 = np.zeros((workers, n_sizes, window), dtype=np.float64)
        ys2 = np.zeros((workers, padded_length(n_sizes)), dtype=np.float64)
        with one_row_chunks():
            _rolling_hurst_panel(
                values,
                window,
                sizes,
                log_n,
                log_ers,
                bool(corrected),
                bool(unbiased),
                ring3,
                ys2,
                result,
            )
    return result
