"""Point-in-time membership: eligibility at a date reads closes up to that date only."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.membership import decision_date, membership
from quant_assets.settings import Settings

SETTINGS = Settings(train=60, test=20, min_history=100, max_missing_fraction=0.05)


@pytest.fixture
def closes(recent_closes: pd.DataFrame) -> pd.DataFrame:
    frame = recent_closes.iloc[:400].copy()
    frame.loc[: frame.index[149], "AAPL"] = np.nan  # lists on row 150
    frame.loc[frame.index[250] :, "XOM"] = np.nan  # last close on row 249
    frame.loc[frame.index[:120:8], "KO"] = np.nan  # 15 of its first 120 closes missing
    return frame


def test_eligibility_follows_listing_death_seasoning_and_gaps(closes: pd.DataFrame):
    dates = closes.index[[100, 209, 249, 250, 260, 320, 399]]
    members = membership(closes, dates, SETTINGS)
    eligible = {d: set(members.eligible_at(i)) for i, d in enumerate(dates)}
    aapl_seasoned = closes.index[150 + SETTINGS.min_history - 1]
    for date, held in eligible.items():
        assert ("AAPL" in held) == (date >= aapl_seasoned)  # history, not the future
        assert ("XOM" in held) == (date <= closes.index[249])  # alive until its last close
    # KO misses 15 of its first 120 dates: too gappy until that share drops under 5%
    assert "KO" not in eligible[dates[1]] and "KO" in eligible[dates[5]]
    assert members.reasons_at(1, SETTINGS)["KO"].startswith("missing 6.7% of dates")
    reasons = members.reasons_at(0, SETTINGS)
    assert reasons["AAPL"] == "not listed yet"
    assert reasons["KO"].startswith("no close on every one of the last 61 dates")
    assert reasons["JNJ"] == ""


def test_eligibility_at_a_date_ignores_everything_after_it(closes: pd.DataFrame):
    date = closes.index[[300]]
    before = membership(closes, date, SETTINGS)
    future = closes.copy()
    future.loc[future.index > date[0]] = np.nan  # everyone delists right after
    future.loc[future.index[-1], "AAPL"] = 1.0
    after = membership(future, date, SETTINGS)
    assert before.eligible_at(0) == after.eligible_at(0)
    np.testing.assert_array_equal(before.missing_fraction, after.missing_fraction)


def test_symbols_trading_on_the_first_date_count_as_seasoned(closes: pd.DataFrame):
    members = membership(closes, closes.index[[70]], SETTINGS)
    assert "JNJ" in members.eligible_at(0)  # 71 closes < min_history, but listed before the data


def test_decision_date_ignores_a_stray_later_close(closes: pd.DataFrame):
    stray = closes.index[-1] + pd.Timedelta(days=3)
    padded = pd.concat([closes, pd.DataFrame({"MSFT": [300.0]}, index=[stray])])
    assert decision_date(padded, SETTINGS) == closes.index[-1]
    assert decision_date(closes, SETTINGS) == closes.index[-1]
