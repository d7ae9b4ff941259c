"""Array aliases for annotations and the numba types the kernels' explicit signatures are built of.

Every kernel has one explicit signature (compiled at import, cached with ``cache=True``). Input
arrays are typed read-only (``F1R``, ``F2R``): a writable array converts to that type for free and
read-only arrays (pandas 3 hands those out) are accepted without a copy, so one signature serves
both instead of a writable and a read-only pair, which halves the cold compile time. Workspaces and
outputs are writable (``F1``, ``F2``, ``F3``, ``I1``, ``I2``). All arrays are C-contiguous.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import types

__all__ = [
    "F1",
    "F1R",
    "F2",
    "F2R",
    "F3",
    "I1",
    "I2",
    "FloatArray",
    "IntArray",
    "b1",
    "f8",
    "i8",
    "void",
]

FloatArray = npt.NDArray[np.float64]
"""Annotation of the float64 arrays the kernels take and return."""
IntArray = npt.NDArray[np.int64]
"""Annotation of the int64 arrays (pattern counts, block sizes)."""

F1 = types.Array(types.float64, 1, "C")
F1R = types.Array(types.float64, 1, "C", readonly=True)
F2 = types.Array(types.float64, 2, "C")
F2R = types.Array(types.float64, 2, "C", readonly=True)
F3 = types.Array(types.float64, 3, "C")
I1 = types.Array(types.int64, 1, "C")
I2 = types.Array(types.int64, 2, "C")
i8 = types.int64
f8 = types.float64
b1 = types.boolean
void = types.void
