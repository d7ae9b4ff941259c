"""Permutation entropy (Bandt and Pompe): scalar and rolling, 1-D series or symbols x time panels.

:func:`permutation_entropy` equals ``antropy.perm_entropy`` (antropy 0.2.3) to 1e-12. Ties are
broken by position, as antropy does (its order 3 and 4 lookup tables compare with ``<=`` from the
earlier sample, its general path uses a stable ``argsort``): of two equal values, the earlier one
ranks lower.

:func:`rolling_permutation_entropy` updates the ``order!`` pattern counts (6 for order 3) by one
pattern in and one out per step and re-sums the entropy from the counts, so a step costs the same
whatever the window and nothing drifts. The conventions shared by the rolling kernels (NaN policy,
panels, read-only inputs) are listed in :mod:`quant_kernels.predictability`.

References
----------
.. [1] C. Bandt and B. Pompe, "Permutation entropy: a natural complexity measure for time
   series", Physical Review Letters 88(17), 174102 (2002).
.. [2] R. Vallat, antropy 0.2.3, ``antropy.perm_entropy``: the reference implementation matched
   here (https://github.com/raphaelvallat/antropy).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange
from numba.np.ufunc.parallel import get_thread_id

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
    I1,
    I2,
    FloatArray,
    IntArray,
    b1,
    f8,
    i8,
    void,
)

__all__ = ["permutation_entropy", "rolling_permutation_entropy"]

MAX_ORDER = 10
"""Longest pattern: ``order!`` patterns are counted (3,628,800 at order 10)."""


@njit([i8(F1R, i8, i8, i8)], cache=True, nogil=True)
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


@njit([i8(F1R, i8, i8)], cache=True, nogil=True)
def _pattern_code3(x: FloatArray, start: int, delay: int) -> int:
    """:func:`_pattern_code` for order 3 (the rolling kernel's specialised loop uses it)."""
    a = x[start]
    b = x[start + delay]
    c = x[start + 2 * delay]
    return (int(b < a) + int(c < a)) * 2 + int(c < b)


@njit(f8(I1, F1, f8, b1), cache=True, nogil=True)
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


@njit([f8(F1R, i8, i8, F1, f8, b1, I1)], cache=True, nogil=True)
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


@njit([void(F1R, i8, i8, i8, F1, f8, b1, I1, F1)], cache=True, nogil=True)
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


@njit([void(F2R, i8, i8, i8, F1, f8, b1, I2, F2)], cache=True, parallel=True)
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
    """Rows of ``x`` in parallel (one row per scheduling chunk, see :func:`one_row_chunks`).

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
    if order > MAX_ORDER:
        raise ValueError(
            f"order must be at most {MAX_ORDER} (order! patterns are counted), got {order}"
        )
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
    values = as_kernel_input(x)
    result = as_kernel_output(out, values.shape)
    table = _pe_table(n_embed)
    norm = _pe_norm(order)
    n_patterns = math.factorial(order)
    if values.ndim == 1:
        counts = np.zeros(n_patterns, dtype=np.int64)
        _rolling_pe_row(values, window, order, delay, table, norm, bool(normalize), counts, result)
    else:
        counts2 = np.zeros((worker_count(), padded_length(n_patterns)), dtype=np.int64)
        with one_row_chunks():
            _rolling_pe_panel(
                values, window, order, delay, table, norm, bool(normalize), counts2, result
            )
    return result
