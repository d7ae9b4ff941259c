"""Features: per symbol and date, returns, volatility, momentum and predictability.

Every feature at date ``t`` uses closes up to ``t`` only. Symbols are processed in chunks of
:data:`FEATURE_CHUNK_SYMBOLS` so the intermediate arrays of one chunk at a time are held.
"""

import numpy as np
import pandas as pd

from quant_assets.settings import Settings

TRADING_DAYS_PER_YEAR = 252
FEATURE_CHUNK_SYMBOLS = 256
FEATURE_COLUMNS = (
    "date",
    "symbol",
    "log_return",
    "volatility",
    "momentum",
    "perm_entropy",
    "hurst",
)


def compute_features(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Long table of features for every symbol and date of ``closes``.

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Wide daily closes, DatetimeIndex ascending; NaN where a symbol did not trade.
    settings : Settings
        Window lengths: ``volatility_window``, ``momentum_window``, ``momentum_skip``.

    Returns
    -------
    DataFrame
        Columns :data:`FEATURE_COLUMNS`, sorted by (date, symbol); rows only where the symbol has
        a close. ``log_return`` is ``log(close_t / close_{t-1})``; ``volatility`` the annualised
        sample std of the last ``volatility_window`` log returns; ``momentum`` the simple return
        from ``t - momentum_skip - momentum_window`` to ``t - momentum_skip``. Warm-up values
        are NaN; a window holding a NaN gives NaN (no forward filling).
    """
    chunks = [
        _chunk_features(closes.iloc[:, start : start + FEATURE_CHUNK_SYMBOLS], settings)
        for start in range(0, closes.shape[1], FEATURE_CHUNK_SYMBOLS)
    ]
    features = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return features.sort_values(["date", "symbol"]).reset_index(drop=True)[list(FEATURE_COLUMNS)]


def _chunk_features(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    log_returns = np.log(closes).diff()
    volatility = log_returns.rolling(settings.volatility_window).std() * np.sqrt(
        TRADING_DAYS_PER_YEAR
    )
    lagged = closes.shift(settings.momentum_skip)
    momentum = lagged / lagged.shift(settings.momentum_window) - 1.0
    frames = {
        "log_return": log_returns,
        "volatility": volatility,
        "momentum": momentum,
        "perm_entropy": pd.DataFrame(np.nan, index=closes.index, columns=closes.columns),
        "hurst": pd.DataFrame(np.nan, index=closes.index, columns=closes.columns),
    }
    present = closes.notna().to_numpy().ravel()
    long = pd.DataFrame(
        {
            "date": np.repeat(closes.index.to_numpy(), closes.shape[1]),
            "symbol": np.tile(closes.columns.astype(str).to_numpy(), closes.shape[0]),
        }
    )
    for name, frame in frames.items():
        long[name] = frame.to_numpy(dtype=np.float64).ravel()
    return long[present].reset_index(drop=True)


def latest_features(features: pd.DataFrame) -> pd.DataFrame:
    """Each symbol's features on the last date of ``features``, indexed by symbol."""
    last = features["date"].max()
    return features[features["date"] == last].set_index("symbol").sort_index()
