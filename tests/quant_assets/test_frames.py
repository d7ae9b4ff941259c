"""Long <-> wide closes: the vectorised conversions equal pandas' stack and pivot exactly."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lakehouse import LakehouseStore
from lakehouse.frames import StoredFrame
from quant_assets.frames import closes_to_long, closes_to_wide, wide_from_arrow


def wide_panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=60).astype("datetime64[ns]")
    symbols = [f"S{i:02d}" for i in rng.permutation(12)]  # columns not sorted
    closes = rng.lognormal(3, 0.2, (60, 12))
    closes[rng.random((60, 12)) < 0.2] = np.nan
    return pd.DataFrame(
        closes, index=pd.DatetimeIndex(dates, name="date"), columns=pd.Index(symbols, name="symbol")
    )


def pandas_long(wide: pd.DataFrame) -> pd.DataFrame:
    stacked = wide.rename_axis(index="date", columns="symbol").stack().dropna()
    long = stacked.rename("close").reset_index()
    long["symbol"] = long["symbol"].astype(str)
    return long.sort_values(["date", "symbol"]).reset_index(drop=True)


def pandas_wide(long: pd.DataFrame) -> pd.DataFrame:
    wide = long.pivot(index="date", columns="symbol", values="close").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name="date")
    wide.columns = pd.Index([str(c) for c in wide.columns], name="symbol")
    return wide[sorted(wide.columns)].astype("float64")


@pytest.mark.parametrize("seed", range(3))
def test_conversions_equal_pandas_stack_and_pivot(seed: int):
    wide = wide_panel(seed)
    long = closes_to_long(wide)
    pd.testing.assert_frame_equal(long, pandas_long(wide), check_exact=True)
    pd.testing.assert_frame_equal(closes_to_wide(long), pandas_wide(long), check_exact=True)
    shuffled = long.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(closes_to_wide(shuffled), pandas_wide(long), check_exact=True)


def test_a_stored_long_frame_converts_reading_three_columns(tmp_path: Path):
    long = closes_to_long(wide_panel()).assign(extra="ignored")
    LakehouseStore(tmp_path).write_frame(long, tmp_path)
    wide = closes_to_wide(StoredFrame(tmp_path / "part-0.parquet"))
    pd.testing.assert_frame_equal(wide, pandas_wide(long), check_exact=True)


def test_a_pair_given_twice_is_refused():
    long = closes_to_long(wide_panel())
    with pytest.raises(ValueError, match="twice"):
        closes_to_wide(pd.concat([long, long.tail(1)], ignore_index=True))


def test_dates_as_calendar_days_become_timestamps():
    table = pa.table(
        {
            "date": pa.array([date(2024, 1, 3), date(2024, 1, 2)]),
            "symbol": ["B", "A"],
            "close": [2.0, 1.0],
        }
    )
    wide = wide_from_arrow(table)
    assert list(wide.index) == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert wide.loc["2024-01-02", "A"] == 1.0 and np.isnan(wide.loc["2024-01-02", "B"])
