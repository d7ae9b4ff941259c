"""Features: per symbol and date, returns, volatility, momentum and predictability.

Every feature at date ``t`` uses closes up to ``t`` only. Symbols are processed in chunks of
:data:`FEATURE_CHUNK_SYMBOLS` so the intermediate arrays of one chunk at a time are held.
"""

import numpy as np
import pandas as pd

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.contracts import FeaturesContract, column_names
from quant_assets.settings import Settings
from quant_kernels.predictability import (
    rolling_hurst_rs,
    rolling_permutation_entropy,
    rolling_volatility,
)

FEATURE_CHUNK_SYMBOLS = 256
FEATURE_COLUMNS = column_names(FeaturesContract)


def compute_features(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Long table of features for every symbol and date of ``closes``.

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Wide daily closes, DatetimeIndex ascending; NaN where a symbol did not trade.
    settings : Settings
        Window lengths: ``volatility_window``, ``momentum_window``, ``momentum_skip``,
        ``entropy_window`` (with ``entropy_order``) and ``hurst_window``.

    Returns
    -------
    DataFrame
        Columns :data:`FEATURE_COLUMNS`, sorted by (date, symbol); rows only where the symbol has
        a close. ``log_return`` is ``log(close_t / close_{t-1})``; ``volatility`` the annualised
        sample std of the last ``volatility_window`` log returns; ``momentum`` the simple return
        from ``t - momentum_skip - momentum_window`` to ``t - momentum_skip``;
        ``perm_entropy`` the normalised permutation entropy (order ``entropy_order``, delay 1;
        equal to ``antropy.perm_entropy``) of the last ``entropy_window`` log returns; ``hurst``
        the Anis-Lloyd-Peters corrected Hurst R/S exponent (equal to ``nolds.hurst_rs`` with
        ``fit="poly"`` and its default block sizes) of the last ``hurst_window`` log returns.
        Warm-up values are NaN; a window holding a NaN gives NaN (no forward filling).
    """
    chunks = [
        _chunk_features(closes.iloc[:, start : start + FEATURE_CHUNK_SYMBOLS], settings)
        for start in range(0, closes.shape[1], FEATURE_CHUNK_SYMBOLS)
    ]
    features = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return features.sort_values(["date", "symbol"]).reset_index(drop=True)[list(FEATURE_COLUMNS)]


def _chunk_features(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    log_returns = np.log(closes).diff()
    lagged = closes.shift(settings.momentum_skip)
    momentum = lagged / lagged.shift(settings.momentum_window) - 1.0
    # The kernels take symbols x time, C-contiguous, and run the symbols in parallel.
    returns_by_symbol = np.ascontiguousarray(log_returns.to_numpy(dtype=np.float64).T)
    perm_entropy = rolling_permutation_entropy(
        returns_by_symbol, settings.entropy_window, order=settings.entropy_order
    )
    hurst = rolling_hurst_rs(returns_by_symbol, settings.hurst_window)
    volatility = rolling_volatility(returns_by_symbol, settings.volatility_window) * np.sqrt(
        TRADING_DAYS_PER_YEAR
    )
    frames = {
        "log_return": log_returns.to_numpy(dtype=np.float64),
        "volatility": volatility.T,
        "momentum": momentum.to_numpy(dtype=np.float64),
        "perm_entropy": perm_entropy.T,
        "hurst": hurst.T,
    }
    present = closes.notna().to_numpy().ravel()
    long = pd.DataFrame(
        {
            "date": np.repeat(closes.index.to_numpy(), closes.shape[1]),
            "symbol": np.tile(closes.columns.astype(str).to_numpy(), closes.shape[0]),
        }
    )
    for name, values in frames.items():
        long[name] = values.ravel()  # (dates, symbols) row-major, as the rows of `long`
    return long[present].reset_index(drop=True)


def features_on(
    features: pd.DataFrame, dates: pd.DatetimeIndex
) -> dict[pd.Timestamp, pd.DataFrame]:
    """Each date's cross-section of ``features`` (long), indexed by symbol.

    Features are causal, so the row of date ``t`` is what a decision at ``t`` may see: the
    tournament reads its windows' training ends here instead of recomputing features.
    """
    wanted = features[features["date"].isin(dates)]
    return {
        pd.Timestamp(date): rows.set_index("symbol").sort_index()
        for date, rows in wanted.groupby("date", sort=True)
    }


def latest_features(features: pd.DataFrame) -> pd.DataFrame:
    """Each symbol's features on the last date of ``features``, indexed by symbol."""
    last = features["date"].max()
    return features[features["date"] == last].set_index("symbol").sort_index()
