"""Window choices read features and regimes computed once, at the row of the training end."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.features import compute_features, features_on
from quant_assets.regimes import label_regimes
from quant_assets.settings import Settings
from quant_assets.tournament.choices import choose_holdings
from quant_assets.tournament.walk_forward import plan_windows

SETTINGS = Settings(train=252, test=63, top_n=4, min_history=252, executor="serial")


@pytest.fixture(scope="module")
def prices(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    frame = bundled_closes.loc["2014":"2019"].copy()
    frame.loc[:"2016-06-30", "AAPL"] = np.nan  # lists mid-way
    frame.loc["2017-09-01":, "XOM"] = np.nan  # dies mid-way
    return frame


def test_features_and_regimes_once_equal_recomputing_on_each_training_slice(prices):
    features = compute_features(prices, SETTINGS)
    regimes = label_regimes(prices, SETTINGS).set_index("date")
    ends = prices.index[[300, 700, 1100, len(prices) - 1]]
    once = features_on(features, ends)
    for end in ends:
        upto = prices.loc[:end]
        recomputed = compute_features(upto, SETTINGS)
        last = recomputed[recomputed["date"] == end].set_index("symbol").sort_index()
        pd.testing.assert_frame_equal(once[end], last, check_exact=True)
        sliced = label_regimes(upto, SETTINGS)
        assert sliced["label"].iloc[-1] == regimes.loc[end, "label"]


def test_choices_up_to_a_window_ignore_every_later_price(prices):
    profiles = {"p": SETTINGS}
    windows = plan_windows(prices, profiles)
    solo = choose_holdings(prices, windows, profiles)
    k = 4
    train_end = windows.loc[k, "train_end"]
    gone = prices.copy()
    gone.loc[gone.index > train_end] = np.nan  # every symbol delists after window k's training
    gone.iloc[-1, 0] = 1.0  # (one stray close keeps the dates)
    again = choose_holdings(gone, windows, profiles)
    pd.testing.assert_frame_equal(solo.iloc[: k + 1], again.iloc[: k + 1])
    assert solo.iloc[k + 1 :]["eligible"].map(len).sum() > 0
    assert again.iloc[k + 1 :]["eligible"].map(len).sum() == 0


def test_late_listings_and_deaths_are_eligible_only_while_they_can_be(prices):
    profiles = {"p": SETTINGS}
    windows = plan_windows(prices, profiles)
    choices = choose_holdings(prices, windows, profiles).merge(windows, on=["profile", "window"])
    for row in choices.itertuples():
        listed_days = prices.loc[: row.train_end, "AAPL"].notna().sum()
        assert ("AAPL" in row.eligible) == (listed_days >= SETTINGS.train + 1)
        assert ("XOM" in row.eligible) == (row.train_end < pd.Timestamp("2017-09-01"))
        assert set(row.selected) <= set(row.eligible)
