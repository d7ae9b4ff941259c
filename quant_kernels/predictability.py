"""Predictability kernels: permutation entropy, Hurst R/S and rolling realised volatility.

The public face of the kernels; each measure lives in its own module:

- :mod:`quant_kernels._permutation_entropy`: :func:`permutation_entropy` and
  :func:`rolling_permutation_entropy` (equal to ``antropy.perm_entropy``, antropy 0.2.3);
- :mod:`quant_kernels._hurst_rs`: :func:`hurst_rs` and :func:`rolling_hurst_rs` (equal to
  ``nolds.hurst_rs(fit="poly")``, nolds 0.6.2), with :data:`HURST_FLAT_RTOL`; its tables
  :func:`logmid_n` and :func:`expected_rs` are in :mod:`quant_kernels._hurst_tables`;
- :mod:`quant_kernels._rolling_volatility`: :func:`rolling_volatility`.

Numpy in, numpy out; compiled with numba (nopython, explicit signatures, ``cache=True``; the types
are in :mod:`quant_kernels._numba_types`). Importing this module compiles (or loads from the cache)
every kernel.

Conventions shared by every rolling kernel:

- ``out[..., i]`` describes the window ending at ``i`` (inclusive), so it uses data up to ``i``
  only; ``out[..., i]`` is NaN while the window is incomplete and whenever the window holds a NaN.
- Work per step does not grow with the series and, except for Hurst, not with the window:
  permutation entropy updates ``order!`` pattern counts (6 for order 3) and re-sums them;
  volatility slides its sums (amortised O(1), re-summed exactly now and then); Hurst reuses
  blocks across windows (see :func:`rolling_hurst_rs`). The compiled loops never allocate:
  counts, ring buffers and the output are allocated once per call by the Python entry point (or
  passed in as ``out``).
- The input is a 1-D series or a 2-D ``(symbols, time)`` panel. Panels run one row per task on
  numba's thread pool (``prange``); each thread has its own workspace, indexed by
  ``get_thread_id()``, so results do not depend on the scheduling (see
  :mod:`quant_kernels._kernel_boundary`).
- Inputs go through ``np.ascontiguousarray(x, dtype=np.float64)``; read-only arrays (pandas 3
  hands those out) are accepted without a copy. Input arrays are typed read-only in the one
  signature each kernel has: a writable array converts to it for free, and one signature
  instead of a writable and a read-only pair halves the cold compile time.
"""

from quant_kernels._hurst_rs import HURST_FLAT_RTOL, hurst_rs, rolling_hurst_rs
from quant_kernels._hurst_tables import expected_rs, logmid_n
from quant_kernels._permutation_entropy import permutation_entropy, rolling_permutation_entropy
from quant_kernels._rolling_volatility import rolling_volatility

__all__ = [
    "HURST_FLAT_RTOL",
    "expected_rs",
    "hurst_rs",
    "logmid_n",
    "permutation_entropy",
    "rolling_hurst_rs",
    "rolling_permutation_entropy",
    "rolling_volatility",
]
