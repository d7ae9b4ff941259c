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
    closes.loc[closes.index[:-300:5], "KO"] = np.nan  # a fifth missing, long ago
    closes.loc[closes.index[-5] :, "XOM"] = np.nan  # stopped trading
    universe = discover_universe(closes, Settings(min_history=504)).set_index("symbol")
    assert universe.loc["AAPL", "reason"].startswith("only 299 closes, needs min_history=504")
    assert universe.loc["KO", "reason"].startswith("missing 17.")
    assert universe.loc["XOM", "reason"].startswith("last close ")
    assert "before the decision date" in universe.loc["XOM", "reason"]
    assert universe.loc["XOM", "observations"] == len(closes) - 5  # kept, with its span
    assert eligible_symbols(universe.reset_index()) == ["JNJ", "MSFT", "PG"]
