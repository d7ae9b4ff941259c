import numpy as np
import pandas as pd
import pytest

from quant_assets.hydration import DataQualityError, canonical_bars
from quant_assets.hydration.validation import (
    SPIKE_FACTOR,
    SPIKE_REVERSAL_TOLERANCE,
    spike_rows,
    validate_bars,
)


def _bars(closes: list[float], **columns) -> pd.DataFrame:
    dates = pd.bdate_range("2024-01-02", periods=len(closes))
    return canonical_bars(
        pd.DataFrame({"date": dates, "close": closes, **columns}), source="test", symbol="SYM"
    )


def test_a_one_day_spike_that_reverses_is_refused_naming_its_date():
    bars = _bars([100.0, 101.0, 101_000.0, 102.0, 103.0])
    with pytest.raises(DataQualityError) as caught:
        validate_bars(bars, source="test", symbol="SYM", file="SYM.csv")
    error = caught.value
    assert (error.column, error.rows, error.file) == ("close", [2], "SYM.csv")
    assert "2024-01-04: 101 -> 101000 -> 102" in str(error) and "implausible" in str(error)


def test_the_spike_rule_bounds():
    up = SPIKE_FACTOR
    back = 1.0 + SPIKE_REVERSAL_TOLERANCE
    assert spike_rows(np.array([10.0, 10.0 * up, 10.0])).tolist() == [1]
    assert spike_rows(np.array([10.0, 10.0 / up, 10.0])).tolist() == [1]  # -80% and back
    assert spike_rows(np.array([10.0, 10.0 * up * 0.999, 10.0])).tolist() == []  # under x5
    assert spike_rows(np.array([10.0, 10.0 * up, 10.0 * back * 1.01])).tolist() == []  # not back
    assert spike_rows(np.array([10.0, 10.0 * up, 10.0 * back * 0.99])).tolist() == [1]
    assert spike_rows(np.array([10.0, 10.0 * up, 10.0 * up])).tolist() == []  # a move that holds
    assert spike_rows(np.array([10.0, 10.0, 10.0 * up])).tolist() == []  # last bar: not judged yet


def test_real_history_passes(bundled_source):
    for symbol in bundled_source.symbols():
        bars = bundled_source.fetch(symbol)
        assert validate_bars(bars, source="bundled", symbol=symbol) is bars


def test_the_market_data_contract_runs_on_what_would_be_stored():
    bars = _bars([10.0, 11.0, 12.0], volume=[1.0, -5.0, 2.0])
    with pytest.raises(DataQualityError) as caught:
        validate_bars(bars, source="test", symbol="SYM")
    assert caught.value.column == "volume" and caught.value.rows == [1]
    assert "MarketDataContract" in str(caught.value)
    unsorted = bars.iloc[::-1].reset_index(drop=True)
    with pytest.raises(DataQualityError, match="dates_ascending"):
        validate_bars(unsorted, source="test", symbol="SYM")


def test_no_bars_at_all_is_refused():
    with pytest.raises(DataQualityError, match="no bars with a close"):
        validate_bars(_bars([10.0]).iloc[0:0], source="test", symbol="SYM")
