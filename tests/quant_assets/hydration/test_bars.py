import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_assets.hydration import DataQualityError, FilesSource, canonical_bars
from quant_assets.hydration.bars import EMPTY_CLOSES_ATTR


def _fetch(tmp_path: Path, content: str | bytes, name: str = "BAD.csv") -> pd.DataFrame:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return FilesSource(tmp_path).fetch(Path(name).stem)


@pytest.mark.parametrize(
    "cell, shown",
    [("abc", "'abc'"), ("$100.22", "'$100.22'"), ("1,234.5", "'1,234.5'")],
)
def test_a_non_numeric_close_is_an_error_naming_file_symbol_column_row_and_value(
    tmp_path: Path, cell, shown
):
    content = f'date,close\n2024-01-02,10\n2024-01-03,"{cell}"\n2024-01-04,11\n'
    with pytest.raises(DataQualityError) as caught:
        _fetch(tmp_path, content)
    error = caught.value
    assert (error.symbol, error.column, error.rows, error.file) == (
        "BAD",
        "close",
        [1],
        str(tmp_path / "BAD.csv"),
    )
    message = str(error)
    assert "non-numeric `close` in rows [1] (file lines [3])" in message
    assert shown in message and "plain decimal numbers" in message


def test_every_close_with_a_currency_sign_is_refused_not_stored_empty(tmp_path: Path):
    content = "date,close\n2024-01-02,$100.22\n2024-01-03,$101.50\n"
    with pytest.raises(DataQualityError, match=r"non-numeric `close` in rows \[0, 1\]"):
        _fetch(tmp_path, content)


def test_infinite_close_is_an_error(tmp_path: Path):
    with pytest.raises(DataQualityError, match=r"infinite `close` in rows \[1\]"):
        _fetch(tmp_path, "date,close\n2024-01-02,10\n2024-01-03,inf\n")


def test_only_empty_closes_are_dropped_and_they_are_counted(tmp_path: Path, caplog):
    content = (
        "date,close,volume\n2024-01-02,10,5\n2024-01-03,,6\n2024-01-04,NaN,7\n2024-01-05,12,\n"
    )
    with caplog.at_level(logging.WARNING):
        bars = _fetch(tmp_path, content)
    assert bars["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-01-05"]
    assert bars.attrs[EMPTY_CLOSES_ATTR] == 2
    assert "2 row(s) with an empty close dropped as gaps (rows [1, 2])" in caplog.text
    assert np.isnan(bars["volume"].iloc[1])  # an empty optional cell is NaN, the row is kept


def test_a_non_numeric_optional_column_is_an_error_too(tmp_path: Path):
    with pytest.raises(DataQualityError, match=r"column 'volume': non-numeric `volume`"):
        _fetch(tmp_path, "date,close,volume\n2024-01-02,10,lots\n")


def test_dates_in_one_zone_become_their_calendar_days(tmp_path: Path):
    content = (
        "date,close\n2024-01-02T00:00:00-05:00,10\n2024-01-03T20:00:00-05:00,11\n"
        "2024-01-04T09:30:00-05:00,12\n"
    )
    bars = _fetch(tmp_path, content)
    assert bars["date"].dtype == "datetime64[ns]"
    assert bars["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    zoned = pd.DataFrame(
        {"date": pd.date_range("2024-01-02 20:00", periods=2, tz="America/New_York"), "close": 1.0}
    )
    assert canonical_bars(zoned, source="t", symbol="X")["date"].tolist() == [
        pd.Timestamp("2024-01-02"),
        pd.Timestamp("2024-01-03"),
    ]


@pytest.mark.parametrize(
    "dates, expected",
    [
        (
            ["2024-01-02T00:00-05:00", "2024-01-03T00:00+01:00", "2024-01-04T00:00-05:00"],
            "-05:00: rows [0, 2]; +01:00: rows [1]",
        ),
        (["2024-01-02", "2024-01-03T00:00-05:00"], "no zone: rows [0]; -05:00: rows [1]"),
    ],
)
def test_mixed_time_zones_are_refused_naming_the_rows_of_each_zone(tmp_path: Path, dates, expected):
    content = "date,close\n" + "".join(f"{d},10\n" for d in dates)
    with pytest.raises(DataQualityError) as caught:
        _fetch(tmp_path, content)
    message = str(caught.value)
    assert "column 'date': dates in mixed time zones" in message and expected in message
    assert "BAD.csv" in message and "symbol 'BAD'" in message


def test_times_of_day_are_dropped_so_two_bars_on_one_day_are_duplicates(tmp_path: Path):
    content = "date,close\n2024-01-02 10:00,10\n2024-01-02 16:00,11\n"
    with pytest.raises(DataQualityError, match=r"duplicate dates in rows \[0, 1\]"):
        _fetch(tmp_path, content)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"empty file \(no header, no rows\)"),
        (b"date,close\n2024-01-02,1,extra\n", "malformed CSV"),
        ("date,close\n2024-01-02,1\n".encode("utf-16"), "not UTF-8 text"),
        (b"Date,Close,Volume\n", None),  # a header only: no bars, refused by hydration
    ],
)
def test_unreadable_csv_files_name_the_file_and_say_what_to_do(tmp_path: Path, content, message):
    if message is None:
        assert _fetch(tmp_path, content).empty
        return
    with pytest.raises(DataQualityError, match=message) as caught:
        _fetch(tmp_path, content)
    assert str(tmp_path / "BAD.csv") in str(caught.value) and "symbol 'BAD'" in str(caught.value)


def test_unreadable_parquet_names_the_file(tmp_path: Path):
    (tmp_path / "PQ.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataQualityError, match="unreadable Parquet") as caught:
        FilesSource(tmp_path).fetch("PQ")
    assert "PQ.parquet" in str(caught.value) and "Rewrite the file" in str(caught.value)


def test_bom_case_spaces_and_extra_columns_are_accepted(tmp_path: Path):
    content = "\ufeff Date ,CLOSE,Adj Close,notes\n2024-01-02,10,9.5,hello\n"
    bars = _fetch(tmp_path, content.encode("utf-8"), "OK.csv")
    assert bars["close"].tolist() == [10.0]


def test_duplicate_columns_are_refused(tmp_path: Path):
    with pytest.raises(DataQualityError, match=r"duplicate column\(s\) \['close'\]"):
        _fetch(tmp_path, "date,close,Close\n2024-01-02,1,2\n")


def test_two_files_or_a_bad_file_name_do_not_break_the_other_symbols(tmp_path: Path, caplog):
    pd.DataFrame({"date": ["2024-01-02"], "close": [1.0]}).to_csv(tmp_path / "TWO.csv", index=False)
    pd.DataFrame({"date": ["2024-01-02"], "close": [1.0]}).to_parquet(tmp_path / "TWO.parquet")
    pd.DataFrame({"date": ["2024-01-02"], "close": [1.0]}).to_csv(tmp_path / "OK.csv", index=False)
    (tmp_path / "bad name.csv").write_text("date,close\n2024-01-02,1\n")
    source = FilesSource(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert source.symbols() == ["OK", "TWO"]
    assert "skipping" in caplog.text and "bad name.csv" in caplog.text
    assert source.fetch("OK")["close"].tolist() == [1.0]
    with pytest.raises(
        DataQualityError, match=r"two files for one symbol \(TWO.csv, TWO.parquet\)"
    ):
        source.fetch("TWO")


def test_last_dates_survive_unreadable_files(tmp_path: Path):
    (tmp_path / "EMPTY.csv").write_text("")
    (tmp_path / "PQ.parquet").write_bytes(b"not parquet")
    (tmp_path / "MIX.csv").write_text("date,close\n2024-01-02T00:00-05:00,1\n2024-01-03T00:00Z,1\n")
    (tmp_path / "ZONE.csv").write_text("date,close\n2024-01-03T20:00-05:00,1\n")
    last = FilesSource(tmp_path).last_dates()
    assert last["EMPTY"] is None and last["PQ"] is None and last["MIX"] is None
    assert str(last["ZONE"]) == "2024-01-03"  # its calendar day, as hydration stores it
