"""Walk-forward windows on trading dates."""

import pandas as pd
import pytest

from quant_assets.settings import Settings
from quant_assets.tournament.windows import NotEnoughHistoryError, make_windows

DATES = pd.bdate_range("2020-01-01", periods=100)


def test_rolling_windows_tile_the_test_spans():
    windows = make_windows(DATES, Settings(train=40, test=10), "p")
    assert len(windows) == 6  # starts 0, 10, ..., 50; 50 + 40 + 10 = 100
    assert (windows["train_days"] == 40).all() and (windows["test_days"] == 10).all()
    assert windows["test_start"].iloc[0] == DATES[40]
    assert windows["test_end"].iloc[-1] == DATES[99]
    # Consecutive test spans follow each other with no gap and no overlap.
    following = DATES.get_indexer(windows["test_end"].iloc[:-1]) + 1
    assert list(following) == list(DATES.get_indexer(windows["test_start"].iloc[1:]))
    assert (windows["train_end"] < windows["test_start"]).all()


def test_expanding_windows_start_at_the_first_date():
    windows = make_windows(DATES, Settings(train=40, test=10, window_mode="expanding"), "p")
    assert (windows["train_start"] == DATES[0]).all()
    assert list(windows["train_days"]) == [40, 50, 60, 70, 80, 90]


def test_incomplete_last_test_span_is_dropped():
    windows = make_windows(DATES[:95], Settings(train=40, test=10), "p")
    assert windows["test_end"].max() == DATES[89]


def test_too_short_history_names_what_to_do():
    with pytest.raises(NotEnoughHistoryError, match=r"needs train \+ test = 90 \+ 20"):
        make_windows(DATES, Settings(train=90, test=20), "canary")
