import io

import numpy as np
import pandas as pd

from lakehouse import get_df_hash


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=4),
            "symbol": ["A", "B", "C", "D"],
            "x": [0.1 + 0.2, np.nan, -0.0, 1e-3],
            "n": [1, 2, 3, 4],
            "flag": [True, False, True, True],
        }
    )


def test_hash_survives_parquet_round_trip():
    frame = _frame()
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    assert get_df_hash(pd.read_parquet(io.BytesIO(buffer.getvalue()))) == get_df_hash(frame)


def test_hash_ignores_column_order_and_float_noise_below_precision():
    frame = _frame()
    noisy = frame[["n", "x", "flag", "symbol", "date"]].copy()
    noisy["x"] = noisy["x"] + 1e-13
    assert get_df_hash(noisy) == get_df_hash(frame)


def test_hash_sees_real_changes():
    frame = _frame()
    changed = frame.copy()
    changed.loc[3, "x"] = 1.001e-3
    assert get_df_hash(changed) != get_df_hash(frame)
    assert get_df_hash(frame.iloc[:3]) != get_df_hash(frame)
    renamed = frame.rename(columns={"n": "m"})
    assert get_df_hash(renamed) != get_df_hash(frame)
