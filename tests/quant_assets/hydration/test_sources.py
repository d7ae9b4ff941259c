from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.hydration import (
    BundledSource,
    DataQualityError,
    FilesSource,
    SyntheticSource,
    YFinanceSource,
    hydrate_symbols,
    make_source,
)
from quant_assets.settings import Settings


def test_bundled_is_the_real_sp500_data(bundled_source: BundledSource):
    assert len(bundled_source.symbols()) == 20
    bars = bundled_source.fetch("AAPL")
    assert len(bars) == 8313
    assert bars["date"].iloc[0] == pd.Timestamp("1990-01-02")
    assert bundled_source.last_date("AAPL") == date(2022, 12, 28)
    assert bars["close"].iloc[0] == pytest.approx(0.264)
    assert bars[["open", "high", "low", "volume"]].isna().all().all()
    recent = bundled_source.fetch("AAPL", start=date(2022, 12, 1))
    assert recent["date"].min() >= pd.Timestamp("2022-12-01") and len(recent) == 19
    with pytest.raises(KeyError, match="no symbol 'NOPE'"):
        bundled_source.fetch("NOPE")


def test_synthetic_is_seeded_and_independent_of_symbol_count():
    small = SyntheticSource(3, 2, date(2024, 12, 31), seed=1)
    large = SyntheticSource(300, 2, date(2024, 12, 31), seed=1)
    pd.testing.assert_frame_equal(small.fetch("SYN0002"), large.fetch("SYN0002"))
    other_seed = SyntheticSource(3, 2, date(2024, 12, 31), seed=2).fetch("SYN0002")
    assert not np.allclose(other_seed["close"], small.fetch("SYN0002")["close"])
    bars = large.fetch("SYN0123")
    assert len(bars) == 2 * 252 and bars["date"].iloc[-1] == pd.Timestamp("2024-12-31")
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    log_returns = np.log(bars["close"]).diff().dropna()
    rolling = log_returns.rolling(21).std().dropna()
    assert rolling.max() > 1.8 * rolling.min()  # calm and turbulent regimes both appear


def test_files_source_reads_csv_and_parquet(tmp_path: Path):
    pd.DataFrame({"Date": ["2024-01-02", "2024-01-03"], "Close": [10.0, 11.0]}).to_csv(
        tmp_path / "ABC.csv", index=False
    )
    pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-03", "2024-01-02"]), "close": [5.0, 4.0], "volume": 7}
    ).to_parquet(tmp_path / "XYZ.parquet")
    source = FilesSource(tmp_path)
    assert source.symbols() == ["ABC", "XYZ"]
    assert source.fetch("ABC")["close"].tolist() == [10.0, 11.0]
    xyz = source.fetch("XYZ")
    assert xyz["close"].tolist() == [4.0, 5.0] and xyz["volume"].tolist() == [7.0, 7.0]
    assert source.last_date("XYZ") == date(2024, 1, 3)


@pytest.mark.parametrize(
    "content, message",
    [
        ("date,price\n2024-01-02,1\n", r"missing column\(s\) \['close'\]"),
        ("date,close\n2024-01-02,1\nnot-a-date,2\n", r"unparseable `date` in rows \[1\]"),
        ("date,close\n2024-01-02,1\n2024-01-03,-2\n", r"non-positive `close` in rows \[1\]"),
        ("date,close\n2024-01-02,1\n2024-01-02,2\n", r"duplicate dates in rows \[0, 1\]"),
    ],
)
def test_files_source_errors_name_file_symbol_and_rows(tmp_path: Path, content, message):
    (tmp_path / "BAD.csv").write_text(content)
    with pytest.raises(DataQualityError, match=message) as error:
        FilesSource(tmp_path).fetch("BAD")
    assert "BAD.csv" in str(error.value) and "'BAD'" in str(error.value)


def test_files_source_missing_folder_says_what_to_do(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="QUANT_SOURCE_PATH"):
        FilesSource(tmp_path / "absent")


def test_yfinance_source_on_recorded_frames():
    recorded = pd.DataFrame(
        {
            "Date": pd.to_datetime(["2024-05-01", "2024-05-02"]),
            "Open": [1.0, 2.0],
            "High": [1.5, 2.5],
            "Low": [0.5, 1.5],
            "Close": [1.2, 2.2],
            "Volume": [100, 200],
        }
    )

    def download(symbol: str, start: date | None) -> pd.DataFrame:
        frame = recorded.copy()
        frame.columns = [c.lower() for c in frame.columns]
        return frame if symbol == "SPY" else frame.iloc[0:0]

    source = YFinanceSource(["SPY", "GONE"], download=download)
    assert source.fetch("SPY")["close"].tolist() == [1.2, 2.2]
    with pytest.raises(DataQualityError, match="symbol 'GONE': no data from Yahoo Finance"):
        source.fetch("GONE")


def test_make_source_follows_settings(tmp_path: Path):
    assert make_source(Settings()).name == "bundled"
    assert make_source(Settings(source="synthetic", synthetic_symbols=2)).symbols() == [
        "SYN0000",
        "SYN0001",
    ]
    assert make_source(Settings(source="files", source_path=tmp_path)).name == "files"
    with pytest.raises(ValueError, match=r"needs symbols.*--symbols-file"):
        make_source(Settings(source="yfinance"))


def test_files_source_lists_its_folder_once_per_instance(tmp_path: Path, monkeypatch):
    """Hydrating N files lists the folder once (it was listed 3 times per symbol: O(N^2))."""
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    symbols = [f"S{number:03d}" for number in range(40)]
    for symbol in symbols:
        pd.DataFrame({"date": days, "close": [10.0, 11.0, 12.0]}).to_csv(
            source_dir / f"{symbol}.csv", index=False
        )
    (source_dir / "BAD.csv").write_text("date,close\n2024-01-02,-5\n")  # quarantined
    listed: list[Path] = []
    iterdir = Path.iterdir

    def spy(self: Path):
        if self == source_dir:
            listed.append(self)
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", spy)
    store = LakehouseStore(tmp_path / "lake")
    source = FilesSource(source_dir)
    outcome = hydrate_symbols(store, source, [*symbols, "BAD"])
    assert len(outcome.reports) == 40
    [refused] = outcome.quarantined
    assert refused["file"] == str(source_dir / "BAD.csv") and refused["fingerprint"]
    assert source.symbols() == sorted([*symbols, "BAD"])
    assert len(listed) == 1

    (source_dir / "NEW.csv").write_text("date,close\n2024-01-02,1\n")
    assert "NEW" not in source.symbols()  # the instance keeps its index
    assert "NEW" in FilesSource(source_dir).symbols()  # a new source sees the folder as it is
    assert len(listed) == 2
