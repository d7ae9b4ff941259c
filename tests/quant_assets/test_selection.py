import numpy as np
import pandas as pd

from quant_assets.features import compute_features, latest_features
from quant_assets.selection import score_symbols, select_symbols
from quant_assets.settings import Settings


def _latest(closes: pd.DataFrame) -> pd.DataFrame:
    return latest_features(compute_features(closes, Settings()))


def test_top_n_by_trend_strength(recent_closes: pd.DataFrame):
    latest = _latest(recent_closes)
    table = score_symbols(latest, "bull", Settings(top_n=2))
    expected = (latest["momentum"] / latest["volatility"]).sort_values(ascending=False)
    assert table["symbol"].tolist() == list(expected.index)
    assert table["selected"].tolist() == [True, True] + [False] * 4
    assert (table.loc[~table["selected"], "reason"] == "rank beyond top_n=2").all()
    assert table["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_volatile_regime_turns_defensive(recent_closes: pd.DataFrame):
    latest = _latest(recent_closes)
    table = score_symbols(latest, "volatile_bear", Settings(top_n=2))
    calmest = latest["volatility"].nsmallest(2).index
    assert set(table.loc[table["selected"], "symbol"]) == set(calmest)


def test_exclusion_reasons(recent_closes: pd.DataFrame):
    closes = recent_closes.copy()
    closes["FLAT"] = 10.0
    closes.loc[closes.index[:-50], "NEW"] = np.nan
    closes.loc[closes.index[-50:], "NEW"] = np.linspace(1, 2, 50)
    table = score_symbols(_latest(closes), "bull", Settings(top_n=10)).set_index("symbol")
    assert table.loc["FLAT", "reason"] == "constant price (zero volatility)"
    assert table.loc["NEW", "reason"] == "not enough history"
    assert not table.loc[["FLAT", "NEW"], "selected"].any()
    assert table["selected"].sum() == 6


def test_select_symbols_uses_training_data_only(recent_closes: pd.DataFrame):
    train = recent_closes.iloc[:400]
    chosen = select_symbols(train, Settings(top_n=3))
    assert chosen["selected"].sum() == 3
    changed_future = recent_closes.copy()
    changed_future.iloc[400:] *= np.linspace(0.5, 2, len(changed_future) - 400)[:, None]
    pd.testing.assert_frame_equal(
        chosen, select_symbols(changed_future.iloc[:400], Settings(top_n=3))
    )
    everything = select_symbols(train, Settings(selection="all"))
    assert everything["selected"].all()
