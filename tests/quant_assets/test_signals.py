"""Signals: a features column each, checked for look-ahead before use."""

import numpy as np
import pandas as pd
import pytest

from quant_assets.features import compute_features
from quant_assets.plugins import PluginError
from quant_assets.settings import Settings
from quant_assets.signals import LookAheadError, cut_positions


def test_signal_becomes_a_features_column(recent_closes):
    features = compute_features(recent_closes, Settings(signals=["momentum_12_1"]))
    expected = (recent_closes.shift(21) / recent_closes.shift(252) - 1.0).stack(future_stack=True)
    expected = expected.rename_axis(["date", "symbol"]).rename("momentum_12_1")
    got = features.set_index(["date", "symbol"])["momentum_12_1"]
    pd.testing.assert_series_equal(got, expected.reindex(got.index), check_exact=True)
    assert got.notna().sum() == len(recent_closes.columns) * (len(recent_closes) - 252)
    plain = compute_features(recent_closes, Settings())
    pd.testing.assert_frame_equal(features.drop(columns="momentum_12_1"), plain)


def test_a_peeking_signal_is_refused_naming_where_it_peeks(recent_closes):
    closes = recent_closes.copy()
    closes.iloc[: len(closes) // 2, 0] = np.nan  # AAPL listed late: the first peek is JNJ's
    with pytest.raises(LookAheadError) as error:
        compute_features(closes, Settings(signals=["quant_examples.faulty:peeking"]))
    first_cut = cut_positions(len(closes))[0]
    date = closes.index[first_cut - 1].date()
    message = str(error.value)
    assert f"for JNJ on {date}" in message and "looks ahead" in message
    assert f"closes up to {date}" in message


def test_a_signal_that_reads_the_future_only_late_is_caught(recent_closes):
    import sys
    import types

    module = types.ModuleType("late_peek")
    # causal except that it subtracts the mean of the whole history: the last cut catches it
    module.demeaned = lambda closes: closes - closes.mean()
    sys.modules["late_peek"] = module
    try:
        with pytest.raises(LookAheadError, match="for AAPL on"):
            compute_features(recent_closes, Settings(signals=["late_peek:demeaned"]))
    finally:
        del sys.modules["late_peek"]


def test_a_signal_of_the_wrong_shape_is_refused(recent_closes):
    import sys
    import types

    module = types.ModuleType("bad_shape")
    module.last_row = lambda closes: closes.tail(1)
    module.series = lambda closes: closes.iloc[:, 0]
    sys.modules["bad_shape"] = module
    try:
        with pytest.raises(PluginError, match="are not the closes'"):
            compute_features(recent_closes, Settings(signals=["bad_shape:last_row"]))
        with pytest.raises(PluginError, match="returned a Series"):
            compute_features(recent_closes, Settings(signals=["bad_shape:series"]))
    finally:
        del sys.modules["bad_shape"]
