"""Real daily returns for the overfitting tests: the bundled stocks, 2010-2022."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def real_returns(bundled_closes: pd.DataFrame) -> np.ndarray:
    """Daily simple returns of the 20 bundled stocks, 2010-2022 (dates x stocks, finite)."""
    closes = bundled_closes.loc["2010-01-01":]
    return closes.pct_change().iloc[1:].dropna(axis=1).to_numpy()
