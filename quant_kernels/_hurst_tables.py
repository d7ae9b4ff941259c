"""Hurst R/S tables: nolds' default block sizes and the expected R/S of white noise.

The Python-side inputs of the Hurst kernels in :mod:`quant_kernels._hurst_rs`: the block sizes
(:func:`logmid_n`, nolds' default), their logs, and the logs of the Anis-Lloyd-Peters expected
rescaled range (:func:`expected_rs`) that the corrected exponent subtracts. Both functions equal
their nolds 0.6.2 namesakes.

References
----------
.. [1] A. A. Anis and E. H. Lloyd, "The expected value of the adjusted rescaled Hurst range of
   independent normal summands", Biometrika 63(1), 111-116 (1976).
.. [2] E. E. Peters, "Fractal Market Analysis", Wiley (1994): the small-sample form of the
   expected R/S used here.
.. [3] C. Schölzel, nolds 0.6.2, ``nolds.logmid_n`` and ``nolds.expected_rs``: the reference
   implementations matched here (https://github.com/CSchoel/nolds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from quant_kernels._numba_types import FloatArray, IntArray

__all__ = ["EXPECTED_RS_GAMMA_MAX_N", "expected_rs", "hurst_tables", "logmid_n"]

EXPECTED_RS_GAMMA_MAX_N = 340
"""Largest block size whose expected R/S uses the gamma-function ratio (as nolds); above it the
ratio's asymptotic form ``1 / sqrt(n pi / 2)`` is used (the gammas overflow a little higher up)."""


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
    if n <= EXPECTED_RS_GAMMA_MAX_N:
        middle = math.gamma((n - 1) * 0.5) / math.sqrt(math.pi) / math.gamma(n * 0.5)
    else:
        middle = 1.0 / math.sqrt(n * math.pi * 0.5)
    return front * middle * back


def hurst_tables(
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
