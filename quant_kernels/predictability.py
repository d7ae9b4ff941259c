"""Predictability kernels: permutation entropy, Hurst R/S, efficiency ratio, realised volatility.

Numpy in, numpy out; compiled with numba (nopython, explicit signatures, ``cache=True``). Each
measure has a scalar form and a rolling form; the rolling forms accept a 1-D series or a 2-D
``(symbols, time)`` panel, which is processed in parallel over symbols.

Reference implementations, matched to 1e-12:

- :func:`permutation_entropy` equals ``antropy.perm_entropy`` (antropy 0.2.3). Ties are broken by
  position, as antropy does (its order 3 and 4 lookup tables compare with ``<=`` from the earlier
  sample, its general path uses a stable ``argsort``): of two equal values, the earlier one ranks
  lower.
- :func:`hurst_rs` equals ``nolds.hurst_rs(x, nvals, fit="poly", corrected, unbiased)`` (nolds
  0.6.2). nolds' default fit, ``fit="RANSAC"``, draws random subsets (scikit-learn's
  ``RANSACRegressor`` without a seed), so its result changes from call to call and cannot be
  matched; the least-squares fit ``fit="poly"`` is the one reproduced here.

Conventions shared by every rolling kernel:

- ``out[..., i]`` describes the window ending at ``i`` (inclusive), so it uses data up to ``i``
  only; ``out[..., i]`` is NaN while the window is incomplete and whenever the window holds a NaN.
- Work per step does not grow with the series and, except for Hurst, not with the window:
  permutation entropy updates ``order!`` pattern counts (6 for order 3) and re-sums them; the
  efficiency ratio and volatility slide their sums (amortised O(1), re-summed exactly now and
  then); Hurst reuses blocks across windows (see :func:`rolling_hurst_rs`). The compiled loops
  never allocate: counts, ring buffers and the output are allocated once per call by the Python
  entry point (or passed in as ``out``).
- 2-D panels run one row per task on numba's thread pool (``prange``); each thread has its own
  workspace, indexed by ``get_thread_id()``, so results do not depend on the scheduling.
- Inputs go through ``np.ascontiguousarray(x, dtype=np.float64)``; read-only arrays (pandas 3
  hands those out) are accepted without a copy. Input arrays are typed read-only in the one
  signature each kernel has: a writable array converts to it for free, and one signature
  instead of a writable and a read-only pair halves the cold compile time.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt
from numba import get_num_threads, njit, prange, set_parallel_chunksize, types
from numba.np.ufunc.parallel import get_thread_id

__all__ = [
    "HURST_FLAT_RTOL",
    "efficiency_ratio",
    "expected_rs",
    "hurst_rs",
    "logmid_n",
    "permutation_entropy",
    "rolling_hurst_rs",
    "rolling_permutation_entropy",
    "rolling_volatility",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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

_F1 = types.Array(types.float64, 1, "C")
_F1R = types.Array(types.float64, 1, "C", readonly=True)
_F2 = types.Array(types.float64, 2, "C")
_F2R = types.Array(types.float64, 2, "C", readonly=True)
_F3 = types.Array(types.float64, 3, "C")
_I1 = types.Array(types.int64, 1, "C")
_I2 = types.Array(types.int64, 2, "C")
_i8 = types.int64
_f8 = types.float64
_b1 = types.boolean
_void = types.void

# --------------------------------------------------------------------------------------------
# Permutation entropy
# --------------------------------------------------------------------------------------------


@njit([_i8(_F1R, _i8, _i8, _i8)], cache=True, nogil=True)
def _pattern_code(x: FloatArray, start: int, order: int, delay: int) -> int:
    """Ordinal pattern of ``x[start :: delay][:order]`` as an integer in ``[0, order!)``.

    The Lehmer code of the ranks: digit ``j`` counts the later samples strictly below sample
    ``j``, so equal values rank by position (stable ``argsort``, antropy's rule). Orders 3 and
    4 are spelled out (the same code, without loops).
    """
    if order == 3:
        a = x[start]
        b = x[start + delay]
        c = x[start + 2 * delay]
        return (int(b < a) + int(c < a)) * 2 + int(c < b)
    if order == 4:
        a = x[start]
        b = x[start + delay]
        c = x[start + 2 * delay]
        d = x[start + 3 * delay]
        return ((int(b < a) + int(c < a) + int(d < a)) * 3 + int(c < b) + int(d < b)) * 2 + int(
            d < c
        )
    code = 0
    for j in range(order):
        v = x[start + j * delay]
        below = 0
        for k in range(j + 1, order):
            if x[start + k * delay] < v:
                below += 1
        code = code * (order - j) + below
    return code


@njit([_i8(_F1R, _i8, _i8)], cache=True, nogil=True)
def _pattern_code3(x: FloatArray, start: int, delay: int) -> int:
    """:func:`_pattern_code` for order 3 (the rolling kernel's specialised loop uses it)."""
    a = x[start]
    b = x[start + delay]
    c = x[start + 2 * delay]
    return (int(b < a) + int(c < a)) * 2 + int(c < b)


@njit(_f8(_I1, _F1, _f8, _b1), cache=True, nogil=True)
def _entropy_from_counts(
    counts: IntArray, table: FloatArray, norm: float, normalize: bool
) -> float:
    """Entropy of the pattern counts: sum of ``table[c] = -p log2 p`` (``p = c / n``) terms."""
    h = 0.0
    for k in range(counts.shape[0]):
        h += table[counts[k]]
    if normalize:
        h = min(max(h / norm, 0.0), 1.0)
    return h


@njit(
    [_f8(_F1R, _i8, _i8, _F1, _f8, _b1, _I1)],
    cache=True,
    nogil=True,
)
def _perm_entropy_kernel(
    x: FloatArray,
    order: int,
    delay: int,
    table: FloatArray,
    norm: float,
    normalize: bool,
    counts: IntArray,
) -> float:
    """Permutation entropy of the whole of ``x``; NaN if ``x`` holds a NaN."""
    counts[:] = 0
    for i in range(x.shape[0]):
        if x[i] != x[i]:
            return np.nan
    for start in range(x.shape[0] - (order - 1) * delay):
        counts[_pattern_code(x, start, order, delay)] += 1
    return _entropy_from_counts(counts, table, norm, normalize)


@njit(
    [_void(_F1R, _i8, _i8, _i8, _F1, _f8, _b1, _I1, _F1)],
    cache=True,
    nogil=True,
)
def _rolling_pe_row(
    x: FloatArray,
    window: int,
    order: int,
    delay: int,
    table: FloatArray,
    norm: float,
    normalize: bool,
    counts: IntArray,
    out: FloatArray,
) -> None:
    """Rolling permutation entropy of one series into ``out`` (``counts`` is the workspace).

    Step ``i`` adds the pattern that starts at ``i - span`` (its last sample is ``i``) and
    removes the one that starts at ``i - window``; the entropy is then summed afresh from the
    counts, so it does not depend on the path (no running sum to drift).
    """
    span = (order - 1) * delay
    counts[:] = 0
    nan_count = 0
    if order == 3:  # the same loop with the pattern code inlined: about 1.6x faster
        for i in range(x.shape[0]):
            if x[i] != x[i]:
                nan_count += 1
            if i >= window:
                old = i - window
                if x[old] != x[old]:
                    nan_count -= 1
                counts[_pattern_code3(x, old, delay)] -= 1
            if i >= span:
                counts[_pattern_code3(x, i - span, delay)] += 1
            if i >= window - 1 and nan_count == 0:
                out[i] = _entropy_from_counts(counts, table, norm, normalize)
            else:
                out[i] = np.nan
        return
    for i in range(x.shape[0]):
        if x[i] != x[i]:
            nan_count += 1
        if i >= window:
            old = i - window
            if x[old] != x[old]:
                nan_count -= 1
            counts[_pattern_code(x, old, order, delay)] -= 1
        if i >= span:
            counts[_pattern_code(x, i - span, order, delay)] += 1
        if i >= window - 1 and nan_count == 0:
            out[i] = _entropy_from_counts(counts, table, norm, normalize)
        else:
            out[i] = np.nan


@njit(
    [_void(_F2R, _i8, _i8, _i8, _F1, _f8, _b1, _I2, _F2)],
    cache=True,
    parallel=True,
)
def _rolling_pe_panel(
    x: FloatArray,
    window: int,
    order: int,
    delay: int,
    table: FloatArray,
    norm: float,
    normalize: bool,
    counts: IntArray,
    out: FloatArray,
) -> None:
    """Rows of ``x`` in parallel (one row per scheduling chunk, see :func:`_one_row_chunks`).

    ``counts[get_thread_id(), :n_patterns]`` is the running thread's workspace; rows are padded
    to separate cache lines (no false sharing).
    """
    n_patterns = 1
    for k in range(2, order + 1):
        n_patterns *= k
    for row in prange(x.shape[0]):
        own = counts[get_thread_id(), :n_patterns]
        _rolling_pe_row(x[row], window, order, delay, table, norm, normalize, own, out[row])


def _pe_table(n_embed: int) -> FloatArray:
    """``-p log2 p`` for ``p = c / n_embed``, ``c = 0 .. n_embed`` (0 for ``c = 0``), as antropy."""
    p = np.arange(n_embed + 1, dtype=np.float64) / n_embed
    log_p = np.zeros_like(p)
    np.log2(p, out=log_p, where=p > 0)
    return np.ascontiguousarray(-(p * log_p))


def _pe_norm(order: int) -> float:
    return float(np.log2(math.factorial(order)))


def _check_pe_args(order: int, delay: int) -> None:
    if order < 2:
        raise ValueError(f"order must be at least 2, got {order}")
    if order > 10:
        raise ValueError(f"order must be at most 10 (order! patterns are counted), got {order}")
    if delay < 1:
        raise ValueError(f"delay must be at least 1, got {delay}")


def permutation_entropy(
    x: npt.ArrayLike, order: int = 3, delay: int = 1, normalize: bool = True
) -> float:
    """Permutation entropy (Bandt and Pompe) of a series, as ``antropy.perm_entropy``.

    Parameters
    ----------
    x : array_like of shape (n,)
        The series.
    order : int, default 3
        Pattern length (embedding dimension), 2 to 10.
    delay : int, default 1
        Lag between the samples of a pattern.
    normalize : bool, default True
        Divide by ``log2(order!)`` (and clip to [0, 1]), as antropy; else entropy in bits.

    Returns
    -------
    float
        The entropy; NaN if ``x`` holds a NaN (antropy does the same for orders 3 and 4; for
        higher orders antropy sorts NaN last and returns a number).

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or is too short for one pattern (``n <= (order - 1) * delay``).
    """
    order, delay = int(order), int(delay)
    _check_pe_args(order, delay)
    values = np.ascontiguousarray(x, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {values.shape}")
    n_embed = values.shape[0] - (order - 1) * delay
    if n_embed <= 0:
        raise ValueError("the series is too short for the given order and delay")
    counts = np.zeros(math.factorial(order), dtype=np.int64)
    result = _perm_entropy_kernel(
        values, order, delay, _pe_table(n_embed), _pe_norm(order), bool(normalize), counts
    )
    return float(result)


def rolling_permutation_entropy(
    x: npt.ArrayLike,
    window: int,
    order: int = 3,
    delay: int = 1,
    normalize: bool = True,
    out: FloatArray | None = None,
) -> FloatArray:
    """Permutation entropy of every window of ``window`` samples, in O(1) per step.

    Parameters
    ----------
    x : array_like of shape (n,) or (n_symbols, n)
        One series, or a panel with time along the last axis (rows run in parallel).
    window : int
        Samples per window.
    order : int, default 3
        Pattern length, 2 to 10.
    delay : int, default 1
        Lag between the samples of a pattern.
    normalize : bool, default True
        As in :func:`permutation_entropy`.
    out : ndarray, optional
        Float64, C-contiguous, writable, shape of ``x``: written in place and returned.

    Returns
    -------
    ndarray
        ``out[..., i] = permutation_entropy(x[..., i - window + 1 : i + 1])``; NaN for
        ``i < window - 1`` and for windows holding a NaN.

    Raises
    ------
    ValueError
        If the window is too short for one pattern (``window <= (order - 1) * delay``), or
        ``x`` or ``out`` have the wrong shape.
    """
    order, delay, window = int(order), int(delay), int(window)
    _check_pe_args(order, delay)
    n_embed = window - (order - 1) * delay
    if n_embed <= 0:
        raise ValueError(
            f"window {window} is too short for order {order} and delay {delay}: "
            f"it needs more than (order - 1) * delay = {(order - 1) * delay} samples"
        )
    values = _as_input(x)
    result = _as_output(out, values.shape)
    table = _pe_table(n_embed)
    norm = _pe_norm(order)
    n_patterns = math.factorial(order)
    if values.ndim == 1:
        counts = np.zeros(n_patterns, dtype=np.int64)
        _rolling_pe_row(values, window, order, delay, table, norm, bool(normalize), counts, result)
    else:
        counts2 = np.zeros((_workers(values.shape[0]), _padded(n_patterns)), dtype=np.int64)
        with _one_row_chunks():
            _rolling_pe_panel(
                values, window, order, delay, table, norm, bool(normalize), counts2, result
            )
    return result


# --------------------------------------------------------------------------------------------
# Hurst exponent, rescaled range (R/S)
# --------------------------------------------------------------------------------------------


@njit([_f8(_F1R, _i8, _i8, _b1)], cache=True, nogil=True)
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


@njit(_f8(_F1, _F1, _b1), cache=True, nogil=True)
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


@njit(
    [_f8(_F1R, _I1, _F1, _F1, _b1, _b1, _F1)],
    cache=True,
    nogil=True,
)
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


@njit(
    [_void(_F1R, _i8, _I1, _F1, _F1, _b1, _b1, _F2, _F1, _F1)],
    cache=True,
    nogil=True,
)
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


@njit(
    [_void(_F2R, _i8, _I1, _F1, _F1, _b1, _b1, _F3, _F2, _F2)],
    cache=True,
    parallel=True,
)
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
    """Rows of ``x`` in parallel (one row per scheduling chunk, see :func:`_one_row_chunks`).

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


def logmid_n(max_n: int, ratio: float = 0.25, nsteps: int = 15) -> IntArray:
    """Block sizes evenly spaced in the middle of ``log(1) .. log(max_n)``, as nolds' ``logmid_n``.

    Parameters
    ----------
    max_n : int
        Series (window) length.
    ratio : float, default 0.25
        Width of the middle part, relative to ``log(max_n)``.
    nsteps : int, default 15
        Values taken before duplicates are removed.

    Returns
    -------
    ndarray of int64
        Sorted unique block sizes.
    """
    log_max = np.log(max_n)
    span = log_max * ratio
    start = log_max * (1 - ratio) * 0.5
    midrange = start + 1.0 * np.arange(nsteps) / nsteps * span
    return np.unique(np.round(np.exp(midrange)).astype("int32")).astype(np.int64)


def expected_rs(n: int) -> float:
    """Anis-Lloyd-Peters expected (R/S)_n of white noise, as nolds' ``expected_rs``.

    Parameters
    ----------
    n : int
        Block size, at least 2.

    Returns
    -------
    float
        The expected rescaled range.
    """
    front = (n - 0.5) / n
    i = np.arange(1, n)
    back = float(np.sum(np.sqrt((n - i) / i)))
    if n <= 340:
        middle = math.gamma((n - 1) * 0.5) / math.sqrt(math.pi) / math.gamma(n * 0.5)
    else:
        middle = 1.0 / math.sqrt(n * math.pi * 0.5)
    return front * middle * back


def _hurst_tables(
    nvals: Iterable[int] | None, length: int
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Block sizes, their logs and the logs of their expected R/S (0 where unused)."""
    sizes = logmid_n(length) if nvals is None else np.asarray(list(nvals), dtype=np.int64)
    if sizes.ndim != 1:
        raise ValueError("nvals must be a 1-D sequence of block sizes")
    sizes = np.ascontiguousarray(sizes, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):  # sizes < 2 are skipped anyway
        log_n = np.log(sizes.astype(np.float64))
    log_ers = np.array([math.log(expected_rs(int(n))) if n >= 2 else 0.0 for n in sizes])
    return sizes, np.ascontiguousarray(log_n), np.ascontiguousarray(log_ers, dtype=np.float64)


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
    sizes, log_n, log_ers = _hurst_tables(nvals, values.shape[0])
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
        Samples per window (at least 4).
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
    if window < 4:
        raise ValueError(f"window must be at least 4, got {window}")
    values = _as_input(x)
    result = _as_output(out, values.shape)
    sizes, log_n, log_ers = _hurst_tables(nvals, window)
    n_sizes = sizes.shape[0]
    if values.ndim == 1:
        ring = np.zeros((n_sizes, window), dtype=np.float64)
        ys = np.zeros(n_sizes, dtype=np.float64)
        _rolling_hurst_row(
            values, window, sizes, log_n, log_ers, bool(corrected), bool(unbiased), ring, ys, result
        )
    else:
        workers = _workers(values.shape[0])
        ring3 = np.zeros((workers, n_sizes, window), dtype=np.float64)
        ys2 = np.zeros((workers, _padded(n_sizes)), dtype=np.float64)
        with _one_row_chunks():
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


# --------------------------------------------------------------------------------------------
# Efficiency ratio and realised volatility
# --------------------------------------------------------------------------------------------

_REANCHOR_RATIO = 1.0 / 16.0
"""Sliding sums are recomputed exactly once they fall below this fraction of their peak."""


@njit([_void(_F1R, _i8, _F1)], cache=True, nogil=True)
def _efficiency_ratio_row(x: FloatArray, window: int, out: FloatArray) -> None:
    """Kaufman efficiency ratio of one series into ``out``.

    The path length slides (add the new step, drop the old one) and is re-summed exactly every
    ``window`` steps, after a NaN, and when it falls below ``_REANCHOR_RATIO`` of its largest
    value since the last re-sum (where the sliding sum's absolute rounding error would become
    large relative to it).
    """
    nan_count = 0
    path = 0.0
    peak = 0.0
    age = 0
    fresh = False
    for i in range(x.shape[0]):
        if x[i] != x[i]:
            nan_count += 1
        if i > window and x[i - window - 1] != x[i - window - 1]:
            nan_count -= 1
        if i < window or nan_count > 0:
            out[i] = np.nan
            fresh = False
            continue
        if fresh and age < window:
            path += abs(x[i] - x[i - 1]) - abs(x[i - window] - x[i - window - 1])
            peak = max(peak, path)
            age += 1
        if not fresh or age >= window or path < peak * _REANCHOR_RATIO:
            path = 0.0
            for j in range(i - window + 1, i + 1):
                path += abs(x[j] - x[j - 1])
            peak = path
            age = 0
            fresh = True
        net = abs(x[i] - x[i - window])
        out[i] = min(net / path, 1.0) if path > 0.0 and net > 0.0 else 0.0


@njit([_void(_F2R, _i8, _F2)], cache=True, parallel=True)
def _efficiency_ratio_panel(x: FloatArray, window: int, out: FloatArray) -> None:
    """Rows of ``x`` in parallel."""
    for row in prange(x.shape[0]):
        _efficiency_ratio_row(x[row], window, out[row])


@njit([_void(_F1R, _i8, _i8, _F1)], cache=True, nogil=True)
def _volatility_row(x: FloatArray, window: int, ddof: int, out: FloatArray) -> None:
    """Rolling standard deviation of one series into ``out``.

    A sliding mean and sum of squared deviations (Welford-style replacement update), recomputed
    by two passes every ``window`` steps, after a NaN, and when the sum of squares falls below
    ``_REANCHOR_RATIO`` of its largest value since the last recomputation (the update's rounding
    error scales with that largest value), so the relative error stays near
    ``window * eps / _REANCHOR_RATIO``.
    """
    nan_count = 0
    mean = 0.0
    m2 = 0.0
    peak = 0.0
    age = 0
    fresh = False
    for i in range(x.shape[0]):
        if x[i] != x[i]:
            nan_count += 1
        if i >= window and x[i - window] != x[i - window]:
            nan_count -= 1
        if i < window - 1 or nan_count > 0:
            out[i] = np.nan
            fresh = False
            continue
        if fresh and age < window:
            new = x[i]
            old = x[i - window]
            delta = new - old
            new_mean = mean + delta / window
            m2 += delta * ((new - new_mean) + (old - mean))
            mean = new_mean
            peak = max(peak, m2)
            age += 1
        if not fresh or age >= window or m2 < peak * _REANCHOR_RATIO:
            total = 0.0
            for j in range(i - window + 1, i + 1):
                total += x[j]
            mean = total / window
            m2 = 0.0
            for j in range(i - window + 1, i + 1):
                d = x[j] - mean
                m2 += d * d
            peak = m2
            age = 0
            fresh = True
        out[i] = math.sqrt(m2 / (window - ddof))


@njit([_void(_F2R, _i8, _i8, _F2)], cache=True, parallel=True)
def _volatility_panel(x: FloatArray, window: int, ddof: int, out: FloatArray) -> None:
    """Rows of ``x`` in parallel."""
    for row in prange(x.shape[0]):
        _volatility_row(x[row], window, ddof, out[row])


def efficiency_ratio(x: npt.ArrayLike, window: int, out: FloatArray | None = None) -> FloatArray:
    """Kaufman efficiency ratio: net move over path length across ``window`` steps.

    Parameters
    ----------
    x : array_like of shape (n,) or (n_symbols, n)
        Prices (or log prices), time along the last axis.
    window : int
        Steps per window (the window spans ``window + 1`` samples).
    out : ndarray, optional
        Float64, C-contiguous, writable, shape of ``x``: written in place and returned.

    Returns
    -------
    ndarray
        ``out[..., i] = |x[i] - x[i - window]| / sum(|x[j] - x[j - 1]|, j = i - window + 1 .. i)``,
        in [0, 1]; 0 where the path is flat (no move at all); NaN for ``i < window`` and where
        ``x[i - window : i + 1]`` holds a NaN.
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    values = _as_input(x)
    result = _as_output(out, values.shape)
    if values.ndim == 1:
        _efficiency_ratio_row(values, window, result)
    else:
        with _one_row_chunks():
            _efficiency_ratio_panel(values, window, result)
    return result


def rolling_volatility(
    returns: npt.ArrayLike, window: int, ddof: int = 1, out: FloatArray | None = None
) -> FloatArray:
    """Rolling standard deviation of returns (not annualised).

    Parameters
    ----------
    returns : array_like of shape (n,) or (n_symbols, n)
        Returns, time along the last axis.
    window : int
        Returns per window.
    ddof : int, default 1
        Delta degrees of freedom: the divisor is ``window - ddof``.
    out : ndarray, optional
        Float64, C-contiguous, writable, shape of ``returns``: written in place and returned.

    Returns
    -------
    ndarray
        ``out[..., i] = std(returns[..., i - window + 1 : i + 1], ddof=ddof)``; NaN for
        ``i < window - 1`` and for windows holding a NaN.
    """
    window, ddof = int(window), int(ddof)
    if ddof < 0 or window <= ddof:
        raise ValueError(f"need 0 <= ddof < window, got window={window}, ddof={ddof}")
    values = _as_input(returns)
    result = _as_output(out, values.shape)
    if values.ndim == 1:
        _volatility_row(values, window, ddof, result)
    else:
        with _one_row_chunks():
            _volatility_panel(values, window, ddof, result)
    return result


# --------------------------------------------------------------------------------------------
# Boundary helpers
# --------------------------------------------------------------------------------------------


def _as_input(x: npt.ArrayLike) -> FloatArray:
    values = np.ascontiguousarray(x, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D (symbols x time), got shape {values.shape}")
    return values


def _as_output(out: FloatArray | None, shape: tuple[int, ...]) -> FloatArray:
    if out is None:
        return np.empty(shape, dtype=np.float64)
    if (
        out.shape != shape
        or out.dtype != np.float64
        or not out.flags.c_contiguous
        or not out.flags.writeable
    ):
        raise ValueError(
            f"out must be a writable C-contiguous float64 array of shape {shape}, "
            f"got {out.dtype} {out.shape}"
        )
    return out


@contextlib.contextmanager
def _one_row_chunks() -> Iterator[None]:
    """Let numba's scheduler hand out panel rows one at a time (this thread's launches only).

    By default a ``prange`` is cut into one equal chunk per thread; on a busy machine the
    call then waits for the slowest thread. A chunk of one row keeps every thread busy to the
    end. ``parallel_chunksize`` inside the kernel would do the same but breaks numba's cache.
    """
    previous = set_parallel_chunksize(1)
    try:
        yield
    finally:
        set_parallel_chunksize(previous)


def _padded(length: int) -> int:
    """Row length for per-worker workspaces: whole 64-byte lines, plus one line of gap."""
    return -(-length // 8) * 8 + 8


def _workers(n_rows: int) -> int:
    """Workspaces for a panel: one per thread of numba's pool (``get_thread_id()`` indexes them)."""
    return max(1, int(get_num_threads()))
