"""An allocation engine: inverse variance, capped.

An engine is a class with ``name``, ``uses_selection``, ``needs_covariance`` and
``weights(returns, settings, moments)``: ``returns`` are the window's training returns (days x
assets, simple returns, no NaN), ``settings`` the run's settings, ``moments`` the guard's
hardened covariance (read ``moments.covariance`` only when ``needs_covariance`` is True). It
returns one weight per asset; the platform's guard vetoes weights that are negative, do not sum
to one, exceed ``max_weight`` or are too concentrated, and falls back.
"""

from typing import Any, ClassVar

import numpy as np


class InverseVariance:
    """Weights proportional to ``1 / variance`` of the training returns, capped at ``max_weight``.

    Parameters
    ----------
    power : float
        Exponent of the inverse variance (1: inverse variance, 0.5: inverse volatility).
    """

    name: ClassVar[str] = "inverse_variance"
    uses_selection: ClassVar[bool] = True
    needs_covariance: ClassVar[bool] = False

    def __init__(self, power: float = 1.0) -> None:
        self.power = power

    def weights(self, returns: np.ndarray, settings: Any, moments: Any) -> np.ndarray:
        """Inverse-variance weights, the excess over the cap spread over the others."""
        variances = returns.var(axis=0, ddof=1)
        raw = 1.0 / variances**self.power
        weights = raw / raw.sum()
        cap = max(settings.max_weight, 1.0 / len(weights))
        for _ in range(len(weights)):
            over = weights > cap
            if not over.any():
                break
            fixed = weights >= cap
            free = weights[~fixed].sum()
            weights[fixed] = cap
            weights[~fixed] *= (1.0 - cap * fixed.sum()) / free
        return weights
