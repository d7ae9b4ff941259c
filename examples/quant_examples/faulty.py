"""Faulty plug-ins the platform refuses or vetoes (its tests use them).

``peeking`` reads tomorrow's close; ``Raising`` fails in every window; ``ShortSeller`` returns
weights with a short position.
"""

from typing import Any, ClassVar

import numpy as np
import pandas as pd


def peeking(closes: pd.DataFrame) -> pd.DataFrame:
    """Tomorrow's close over today's: look-ahead, refused before its values are used."""
    return closes.shift(-1) / closes - 1.0


class Raising:
    """An engine that raises in every window: vetoed, and the run goes on."""

    name: ClassVar[str] = "raising"
    uses_selection: ClassVar[bool] = True
    needs_covariance: ClassVar[bool] = False

    def weights(self, returns: np.ndarray, settings: Any, moments: Any) -> np.ndarray:
        """Fail."""
        raise RuntimeError("this engine always fails")


class ShortSeller:
    """An engine that sells the first asset short: its weights are vetoed."""

    name: ClassVar[str] = "short_seller"
    uses_selection: ClassVar[bool] = True
    needs_covariance: ClassVar[bool] = False

    def weights(self, returns: np.ndarray, settings: Any, moments: Any) -> np.ndarray:
        """-50% in the first asset, the rest equally."""
        n = returns.shape[1]
        weights = np.full(n, 1.5 / max(n - 1, 1))
        weights[0] = -0.5
        return weights
