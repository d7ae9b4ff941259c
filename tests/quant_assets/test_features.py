from pathlib import Path

import antropy
import nolds
import numpy as np
import pandas as pd
import pytest

from lakehouse import get_df_hash
from lakehouse.frames import StoredFrame, write_frame_chunks
from quant_assets.contracts import FeaturesAudit, strictly_increasing
from quant_assets.features import (
    FEATURE_COLUMNS,
    compute_features,
    feature_chunks,
    features_on,
)
from quant_assets.settings import Settings

SETTINGS = Settings(volatility_window=21, momentum_window=126, momentum_skip=21)


def test_features_match_direct_formulas(recent_closes: pd.DataFrame):
    features = compute_features(recent_closes, SETTINGS)
    assert tuple(features.columns) == FEATURE_COLUMNS
    assert len(features) == recent_closes.size
    msft = features[features["symbol"] == "MSFT"].set_index("date")
    close = recent_closes["MSFT"]
    t = 400
    expected_return = np.log(close.iloc[t] / close.iloc[t - 1])
    window = np.log(close.iloc[t - 21 : t + 1]).diff().dropna()
    expected_vol = window.std(ddof=1) * np.sqrt(252)
    expected_momentum = close.iloc[t - 21] / close.iloc[t - 21 - 126] - 1
    row = msft.iloc[t]
    np.testing.assert_allclose(row["log_return"], expected_return, rtol=1e-12)
    np.testing.assert_allclose(row["volatility"], expected_vol, rtol=1e-12)
    np.testing.assert_allclose(row["momentum"], expected_momentum, rtol=1e-12)
    assert msft["volatility"].iloc[:21].isna().all() and msft["volatility"].iloc[21:].notna().all()


def test_no_look_ahead_and_no_filling(recent_closes: pd.DataFrame):
    closes = recent_closes.copy()
    base = compute_features(closes, SETTINGS)
    cut = closes.index[500]
    changed = closes.copy()
    changed.loc[changed.index > cut] *= 1.7
    after = compute_features(changed, SETTINGS)
    before_cut = base["date"] <= cut
    pd.testing.assert_frame_equal(base[before_cut], after[before_cut])
    gappy = closes.copy()
    gappy.loc[gappy.index[300], "KO"] = np.nan
    features = compute_features(gappy, SETTINGS)
    ko = features[features["symbol"] == "KO"]
    assert len(ko) == len(closes) - 1  # the gap is a missing row, not a zero


def test_features_on_gives_each_date_by_symbol(recent_closes: pd.DataFrame):
    dates = recent_closes.index[[-300, -1]]
    sections = features_on(compute_features(recent_closes, SETTINGS), dates)
    assert list(sections) == list(dates)
    for date, section in sections.items():
        assert list(section.index) == sorted(recent_closes.columns)
        assert (section["date"] == date).all()


def test_predictability_features_match_antropy_and_nolds(recent_closes: pd.DataFrame):
    settings = SETTINGS.clone(entropy_window=64, entropy_order=4, hurst_window=100)
    closes = recent_closes.copy()
    closes.loc[closes.index[300], "KO"] = np.nan
    features = compute_features(closes, settings)
    assert features["perm_entropy"].dropna().between(0, 1).all()
    for symbol in ("MSFT", "KO"):
        rows = features[features["symbol"] == symbol].set_index("date")
        returns = np.log(closes[symbol]).diff().to_numpy()  # NaN at 0 (and at 300, 301 for KO)
        for t in (63, 64, 99, 100, 301, 364, 365, 400, 700):
            day = closes.index[t]
            if day not in rows.index:
                continue
            row = rows.loc[day]
            entropy_window = returns[max(t - 63, 0) : t + 1]
            if t < 64 or np.isnan(entropy_window).any():
                assert np.isnan(row["perm_entropy"])
            else:
                expected = antropy.perm_entropy(entropy_window, order=4, normalize=True)
                assert abs(row["perm_entropy"] - expected) <= 1e-12
            hurst_window = returns[max(t - 99, 0) : t + 1]
            if t < 100 or np.isnan(hurst_window).any():
                assert np.isnan(row["hurst"])
            else:
                assert abs(row["hurst"] - nolds.hurst_rs(hurst_window, fit="poly")) <= 1e-12
    msft = features[features["symbol"] == "MSFT"]
    assert msft["perm_entropy"].iloc[:64].isna().all()
    assert msft["perm_entropy"].iloc[64:].notna().all()
    assert msft["hurst"].iloc[:100].isna().all() and msft["hurst"].iloc[100:].notna().all()
    ko = features[features["symbol"] == "KO"].set_index("date")["perm_entropy"]
    assert ko.loc[closes.index[301] : closes.index[364]].isna().all()  # windows holding the gap
    assert ko.loc[closes.index[365] :].notna().all()


def _panel(n_dates: int = 400, n_symbols: int = 9, seed: int = 5) -> pd.DataFrame:
    """Random walks with a late listing, an early delisting and a one-day gap."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2018-01-01", periods=n_dates).astype("datetime64[ns]")
    closes = np.exp(np.cumsum(rng.normal(0, 0.02, (n_dates, n_symbols)), axis=0)) * 50
    wide = pd.DataFrame(
        closes,
        index=pd.DatetimeIndex(dates, name="date"),
        columns=pd.Index([f"S{i}" for i in rng.permutation(n_symbols)], name="symbol"),
    )
    wide.iloc[:150, 0] = np.nan
    wide.iloc[300:, 1] = np.nan
    wide.iloc[200, 2] = np.nan
    return wide


@pytest.mark.parametrize("chunk_symbols", [1, 2, 4, 256])
def test_chunks_concatenate_to_the_in_memory_table(chunk_symbols: int):
    closes = _panel()
    whole = compute_features(closes, SETTINGS)
    chunks = list(feature_chunks(closes, SETTINGS, chunk_symbols))
    assert len(chunks) == -(-closes.shape[1] // chunk_symbols)
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole, check_exact=True)
    # Each chunk holds whole symbols, in the table's (symbol, date) order.
    for chunk in chunks:
        assert strictly_increasing(chunk, ("symbol", "date"))


def test_written_chunk_by_chunk_equals_the_in_memory_table(tmp_path: Path):
    closes = _panel()
    whole = compute_features(closes, SETTINGS)
    written = write_frame_chunks(feature_chunks(closes, SETTINGS, 2), tmp_path)
    stored = pd.read_parquet(written.path)
    pd.testing.assert_frame_equal(stored, whole, check_exact=True)
    assert written.content_hash == get_df_hash(whole)
    FeaturesAudit.validate(stored)
    dates = pd.DatetimeIndex(closes.index[[149, 150, 250, 399]])
    lazily = features_on(StoredFrame(written.path), dates)
    eagerly = features_on(whole, dates)
    assert list(lazily) == list(eagerly) == list(dates)
    for date in dates:
        pd.testing.assert_frame_equal(lazily[date], eagerly[date], check_exact=True)


def test_numpy_returns_and_momentum_equal_the_pandas_formulas_bit_for_bit():
    closes = _panel()
    table = compute_features(closes, SETTINGS).set_index(["date", "symbol"])
    lagged = closes.shift(SETTINGS.momentum_skip)
    expected = {
        "log_return": np.log(closes).diff(),
        "momentum": lagged / lagged.shift(SETTINGS.momentum_window) - 1.0,
    }
    for name, wide in expected.items():
        long = wide.where(closes.notna()).stack().dropna().rename(name)  # rows with a close
        np.testing.assert_array_equal(table.loc[long.index, name].to_numpy(), long.to_numpy())
        assert table[name].notna().sum() == len(long)


def test_a_panel_without_symbols_gives_one_empty_chunk():
    (chunk,) = feature_chunks(_panel().iloc[:, :0], SETTINGS)
    assert chunk.empty and tuple(chunk.columns) == FEATURE_COLUMNS
