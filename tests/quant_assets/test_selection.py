import numpy as np
import pandas as pd

from quant_assets.features import compute_features, features_on
from quant_assets.regimes import label_regimes
from quant_assets.selection import score_symbols, select_among, select_now, selected_symbols
from quant_assets.settings import Settings


def _latest(closes: pd.DataFrame) -> pd.DataFrame:
    last = closes.index[-1:]
    return features_on(compute_features(closes, Settings()), last)[last[0]]


def test_top_n_by_trend_strength(recent_closes: pd.DataFrame):
    latest = _latest(recent_closes)
    table = score_symbols(latest, "bull", Settings(top_n=2, max_weight=0.5))
    expected = (latest["momentum"] / latest["volatility"]).sort_values(ascending=False)
    assert table["symbol"].tolist() == list(expected.index)
    assert table["selected"].tolist() == [True, True] + [False] * 4
    assert (table.loc[~table["selected"], "reason"] == "rank beyond top_n=2").all()
    assert table["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_volatile_regime_turns_defensive(recent_closes: pd.DataFrame):
    latest = _latest(recent_closes)
    table = score_symbols(latest, "volatile_bear", Settings(top_n=2, max_weight=0.5))
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


def test_select_now_judges_every_symbol_at_the_decision_date(recent_closes: pd.DataFrame):
    closes = recent_closes.copy()
    closes.loc[closes.index[-40] :, "XOM"] = np.nan  # delisted before the end
    closes.loc[: closes.index[-100], "AAPL"] = np.nan  # listed 100 days ago
    stray = closes.index[-1] + pd.Timedelta(days=1)
    closes.loc[stray, :] = np.nan
    closes.loc[stray, "KO"] = closes["KO"].iloc[-2]  # one symbol with a stray later close
    settings = Settings(top_n=2, max_weight=0.5, min_history=252)
    features = compute_features(closes, settings)
    regimes = label_regimes(closes, settings)
    table = select_now(closes, features, regimes, settings).set_index("symbol")
    assert table.loc["XOM", "reason"].startswith("not eligible: no close on every one")
    assert table.loc["AAPL", "reason"].startswith("not eligible: ")
    assert not table.loc[["XOM", "AAPL"], "selected"].any()
    assert table["selected"].sum() == 2  # the stray date did not empty the universe
    held = set(selected_symbols(table.reset_index()))
    assert held <= {"JNJ", "KO", "MSFT", "PG"}


def test_select_all_holds_every_eligible_symbol(recent_closes: pd.DataFrame):
    settings = Settings(selection="all")
    section = _latest(recent_closes)
    table = select_among(section, ["KO", "PG", "XOM"], "bull", settings)
    assert sorted(selected_symbols(table)) == ["KO", "PG", "XOM"]
