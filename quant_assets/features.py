"""Features: per symbol and date, returns, volatility, momentum and predictability.

Every feature at date ``t`` uses closes up to ``t`` only. Symbols are independent, so the panel
is computed in chunks of :data:`FEATURE_CHUNK_SYMBOLS` symbols (:func:`feature_chunks`), each
chunk a long frame sorted by (symbol, date): concatenated in order they are the whole table
(:func:`compute_features`), and written one by one they make the same file without any process
holding the whole table (the ``features`` asset; :mod:`quant_assets.feature_build` also runs
the chunks as Ray tasks). Readers take the rows of the dates they need
(:func:`features_on`), from a frame or straight from the stored file.
"""

from collections.abc import Iterator
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.frames import StoredFrame
from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.contracts import FeaturesContract, column_names
from quant_assets.settings import Settings
from quant_assets.signals import SignalPanel, signal_panels
from quant_kernels.predictability import (
    rolling_hurst_rs,
    rolling_permutation_entropy,
    rolling_volatility,
)

FEATURE_CHUNK_SYMBOLS = 256
"""Symbols per chunk: about 0.6M rows and 40 MB of features at 10 years of dates."""
FEATURE_COLUMNS = column_names(FeaturesContract)


def compute_features(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Long table of features for every symbol and date of ``closes``, in memory.

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
        Columns :data:`FEATURE_COLUMNS`, then one per signal of ``settings.signals``
        (:mod:`quant_assets.signals`), sorted by (symbol, date); rows only where the symbol has
        a close. ``log_return`` is ``log(close_t / close_{t-1})``; ``volatility`` the annualised
        sample std of the last ``volatility_window`` log returns; ``momentum`` the simple return
        from ``t - momentum_skip - momentum_window`` to ``t - momentum_skip``;
        ``perm_entropy`` the normalised permutation entropy (order ``entropy_order``, delay 1;
        equal to ``antropy.perm_entropy``) of the last ``entropy_window`` log returns; ``hurst``
        the Anis-Lloyd-Peters corrected Hurst R/S exponent (equal to ``nolds.hurst_rs`` with
        ``fit="poly"`` and its default block sizes) of the last ``hurst_window`` log returns.
        Warm-up values are NaN; a window holding a NaN gives NaN (no forward filling).
    """
    return pd.concat(list(feature_chunks(closes, settings)), ignore_index=True)


def feature_chunks(
    closes: pd.DataFrame, settings: Settings, chunk_symbols: int = FEATURE_CHUNK_SYMBOLS
) -> Iterator[pd.DataFrame]:
    """:func:`compute_features` chunk by chunk, ``chunk_symbols`` symbols at a time, in order.

    At least one (possibly empty) chunk is yielded; concatenated, the chunks are exactly the
    whole table.
    """
    ordered = sorted_symbols(closes)
    signals = signal_panels(ordered, settings)
    panel = ordered.to_numpy(dtype=np.float64)
    dates = ordered.index.to_numpy()
    symbols = [str(s) for s in ordered.columns]
    for start in chunk_starts(len(symbols), chunk_symbols):
        stop = start + chunk_symbols
        chunk = chunk_features(panel[:, start:stop], dates, symbols[start:stop], settings)
        yield with_signals(chunk, panel[:, start:stop], signals, start)


def with_signals(
    chunk: pd.DataFrame, block: np.ndarray, signals: list[SignalPanel], start: int
) -> pd.DataFrame:
    """``chunk`` with a column per signal, from the signal panels' columns of the chunk.

    ``block`` is the chunk's closes (dates x its symbols), whose column ``j`` is column
    ``start + j`` of the sorted panel; values are kept where a close is, in the chunk's
    (symbol, date) row order.
    """
    if not signals:
        return chunk
    present = ~np.isnan(np.asarray(block, dtype=np.float64).T)  # symbols x time, row-major
    width = block.shape[1]
    columns = {s.column: s.values[:, start : start + width].T[present] for s in signals}
    return chunk.assign(**columns)


def sorted_symbols(closes: pd.DataFrame) -> pd.DataFrame:
    """``closes`` with its symbols (columns) in sorted order: the order of the table's rows."""
    names = [str(s) for s in closes.columns]
    return closes if names == sorted(names) else closes.iloc[:, np.argsort(names, kind="stable")]


def chunk_starts(n_symbols: int, chunk_symbols: int) -> range:
    """First column of each chunk (one chunk, empty, when there are no symbols)."""
    if chunk_symbols < 1:
        raise ValueError(f"chunk_symbols must be at least 1, got {chunk_symbols}")
    return range(0, max(n_symbols, 1), chunk_symbols)


def chunk_features(
    panel: np.ndarray, dates: np.ndarray, symbols: list[str], settings: Settings
) -> pd.DataFrame:
    """Features of one chunk of symbols, long and sorted by (symbol, date).

    Parameters
    ----------
    panel : ndarray of shape (n_dates, n_symbols)
        The chunk's closes (NaN where a symbol did not trade).
    dates : ndarray of datetime64, shape (n_dates,)
        Ascending dates of the rows.
    symbols : list of str
        Names of the columns, sorted.
    settings : Settings
        The feature windows (see :func:`compute_features`).
    """
    closes = np.ascontiguousarray(np.asarray(panel, dtype=np.float64).T)  # symbols x time
    log_closes = np.log(closes)
    log_returns = np.full_like(closes, np.nan)
    log_returns[:, 1:] = log_closes[:, 1:] - log_closes[:, :-1]
    # momentum_t = close_{t - skip} / close_{t - skip - window} - 1, from t = skip + window on
    n_dates, skip, window = closes.shape[1], settings.momentum_skip, settings.momentum_window
    momentum = np.full_like(closes, np.nan)
    if skip + window < n_dates:
        momentum[:, skip + window :] = (
            closes[:, window : n_dates - skip] / closes[:, : n_dates - skip - window] - 1.0
        )
    # The kernels take symbols x time, C-contiguous, and run the symbols in parallel.
    features = {
        "log_return": log_returns,
        "volatility": rolling_volatility(log_returns, settings.volatility_window)
        * np.sqrt(TRADING_DAYS_PER_YEAR),
        "momentum": momentum,
        "perm_entropy": rolling_permutation_entropy(
            log_returns, settings.entropy_window, order=settings.entropy_order
        ),
        "hurst": rolling_hurst_rs(log_returns, settings.hurst_window),
    }
    present = ~np.isnan(closes)
    rows, days = np.nonzero(present)  # row-major: by symbol, then by date
    names = pa.array(list(symbols), pa.large_string())
    symbol = pa.DictionaryArray.from_arrays(pa.array(rows.astype(np.int32)), names)
    table = pd.DataFrame(
        {
            "date": np.asarray(dates)[days],
            "symbol": symbol.cast(pa.large_string()).to_pandas(),
            **{name: values[present] for name, values in features.items()},
        }
    )
    return table[list(FEATURE_COLUMNS)]


def features_on(
    features: pd.DataFrame | StoredFrame, dates: pd.DatetimeIndex
) -> dict[pd.Timestamp, pd.DataFrame]:
    """Each date's cross-section of ``features`` (long), indexed by symbol.

    Features are causal, so the row of date ``t`` is what a decision at ``t`` may see: the
    tournament reads its windows' training ends here instead of recomputing features. A
    :class:`~lakehouse.frames.StoredFrame` is scanned for the rows of ``dates`` only.
    """
    if isinstance(features, StoredFrame):
        wanted = features.read(rows=pc.field("date").isin(_timestamps(dates)))
    else:
        wanted = features[features["date"].isin(dates)]
    return {
        pd.Timestamp(cast(pd.Timestamp, date)): rows.set_index("symbol").sort_index()
        for date, rows in wanted.groupby("date", sort=True)
    }


def _timestamps(dates: pd.DatetimeIndex) -> pa.Array:
    return pa.array(pd.DatetimeIndex(dates).as_unit("ns").to_numpy(), pa.timestamp("ns"))
