"""Shared fixtures and helpers of the kernel tests: 1990s bundled closes, sliding windows."""

import numpy as np
import pandas as pd
import pytest


def windows(x, window, step=1):
    """(end index, window) pairs of x, every `step` ends."""
    return [(i, x[i - window + 1 : i + 1]) for i in range(window - 1, len(x), step)]


@pytest.fixture(scope="package")
def nineties(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    """1990s closes: rounded to 3 decimals, so many ties and zero returns."""
    return bundled_closes.loc["1990-01-01":"1999-12-31"]


@pytest.fixture(scope="package")
def nineties_returns(nineties: pd.DataFrame) -> np.ndarray:
    """Symbols x time log returns of the 1990s, C-contiguous, first column NaN."""
    return np.ascontiguousarray(np.log(nineties).diff().to_numpy().T)
