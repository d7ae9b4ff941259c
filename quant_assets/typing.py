"""Type aliases shared by the pillars: the numpy arrays they pass around."""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""A float64 array (weights, returns, covariances)."""
IntArray = npt.NDArray[np.int64]
"""An int64 array (positions, indices)."""
