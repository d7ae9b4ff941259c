"""What the Python entry points of the rolling kernels share: array checks and panel threading.

- :func:`as_kernel_input` and :func:`as_kernel_output` check arrays at the boundary, so the
  compiled loops see only float64, C-contiguous arrays of the right shape.
- 2-D panels run one row per task on numba's thread pool (``prange``). :func:`one_row_chunks`
  hands the rows out one at a time; each thread has its own workspace, indexed by
  ``get_thread_id()``: :func:`worker_count` workspaces, each row :func:`padded_length` long so
  that two threads never write the same cache line. Results do not depend on the scheduling.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
from numba import get_num_threads, set_parallel_chunksize

from quant_kernels._numba_types import FloatArray

__all__ = ["as_kernel_input", "as_kernel_output", "one_row_chunks", "padded_length", "worker_count"]

CACHE_LINE_FLOATS = 8
"""Float64 or int64 values per 64-byte cache line."""


def as_kernel_input(x: npt.ArrayLike) -> FloatArray:
    """``x`` as a float64, C-contiguous 1-D series or 2-D (symbols x time) panel.

    No copy when ``x`` already is one (read-only arrays included).

    Raises
    ------
    ValueError
        If ``x`` is neither 1-D nor 2-D.
    """
    values = np.ascontiguousarray(x, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D (symbols x time), got shape {values.shape}")
    return values


def as_kernel_output(out: FloatArray | None, shape: tuple[int, ...]) -> FloatArray:
    """``out`` checked for ``shape``, or a new array of that shape if ``out`` is None.

    Raises
    ------
    ValueError
        If ``out`` is not a writable C-contiguous float64 array of ``shape``.
    """
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
def one_row_chunks() -> Iterator[None]:
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


def padded_length(length: int) -> int:
    """Row length for per-worker workspaces: whole 64-byte lines, plus one line of gap."""
    return -(-length // CACHE_LINE_FLOATS) * CACHE_LINE_FLOATS + CACHE_LINE_FLOATS


def worker_count() -> int:
    """Workspaces for a panel: one per thread of numba's pool (``get_thread_id()`` indexes them)."""
    return max(1, int(get_num_threads()))
