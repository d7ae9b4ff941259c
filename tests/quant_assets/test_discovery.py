import numpy as np
import pandas as pd

from quant_assets.discovery import discover_universe, eligible_symbols
from quant_assets.settings import Settings


def test_real_symbols_with_full_history_are_eligible(recent_closes: pd.DataFrame):
    universe = discover_universe(recent_closes, Settings(min_history=504))
    assert universe["eligible"].all()
    assert eligible_symbols(universe) == sorted(recent_closes.columns)
    assert (universe["observations"] == len(recent_closes)).all()


def test_exclusions_say_why(recent_closes: pd.DataFrame):
    closes = recent_closes.copy()
    closes.loc[: closes.index[-300], "AAPL"] = np.nan  # listed late: short history
    closes.loc[closes.index[::10], "KO"] = np.nan  # 10% missing
    closes.loc[closes.index[-5] :, "XOM"] = np.nan  # stopped trading
    universe = discover_universe(closes, Settings(min_history=504)).set_index("symbol")
    assert universe.loc["AAPL", "reason"].startswith("only 299 closes, needs min_history=504")
    assert "missing 10.0% of dates" in universe.loc["KO", "reason"]
    assert universe.loc["XOM", "reason"].startswith("no close since")
    assert eligible_symbols(universe.reset_index()) == ["JNJ", "MSFT", "PG"]
