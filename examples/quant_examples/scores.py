"""A selection score: 12-1 momentum over volatility.

A score is a function from one date's features (a frame indexed by symbol: the built-in
features and every signal of the run) and the market regime label to a score per symbol,
higher is better. Return a Series, or a frame with ``score`` and ``reason`` columns: a NaN
score means "not eligible", and the reason says why.
"""

import numpy as np
import pandas as pd

SIGNAL = "momentum_12_1"


def risk_adjusted_momentum(features: pd.DataFrame, regime: str) -> pd.DataFrame:
    """12-1 momentum (the ``momentum_12_1`` signal) divided by annualised volatility.

    Needs the run's ``signals`` to include ``momentum_12_1``; symbols without it yet (a year of
    history) are not eligible.
    """
    if SIGNAL not in features.columns:
        raise KeyError(f"risk_adjusted_momentum reads the {SIGNAL!r} signal: add it to `signals`")
    momentum = features[SIGNAL].astype("float64")
    volatility = features["volatility"].astype("float64")
    score = momentum / volatility.where(volatility > 0)
    reason = pd.Series("", index=features.index, dtype=object)
    reason[momentum.isna()] = "no 12-1 momentum yet (a year of history)"
    reason[volatility.isna() | (volatility <= 0)] = "no volatility"
    return pd.DataFrame({"score": score.where(reason == "", np.nan), "reason": reason})
