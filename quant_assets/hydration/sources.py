"""Where market data comes from: the bundled real data, a seeded generator, files, online.

Every source answers two questions: which symbols it has (:meth:`symbols`) and the daily bars of
one symbol from a date on (:meth:`fetch`). Sources are only read by hydration; the pipeline's run
assets read the lakehouse, never a source.
"""

import importlib.resources
import logging
from collections.abc import Callable
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from lakehouse import validate_symbol
from quant_assets.hydration.bars import DataQualityError, canonical_bars
from quant_assets.hydration.synthetic import SyntheticSource
from quant_assets.settings import Settings

logger = logging.getLogger(__name__)

BUNDLED_DATASET = "datasets/data/sp500_dataset.csv.gz"
"""Real daily adjusted closes of 20 S&P 500 stocks, 1990-2022, shipped inside skfolio's wheel."""
FILE_SUFFIXES = (".csv", ".parquet")


class MarketDataSource(Protocol):
    """A place daily bars come from."""

    name: str

    def symbols(self) -> list[str]:
        """Every symbol the source can provide, sorted."""
        ...

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Canonical bars of ``symbol`` from ``start`` (inclusive; None: all history)."""
        ...

    def last_date(self, symbol: str) -> date | None:
        """The last date the source can provide for ``symbol`` (None if unknown)."""
        ...


def _to_date(value: Any) -> date:
    day: date = pd.Timestamp(value).date()
    return day


def _since(bars: pd.DataFrame, start: date | None) -> pd.DataFrame:
    if start is None:
        return bars
    return bars[bars["date"] >= pd.Timestamp(start)].reset_index(drop=True)


class BundledSource:
    """The real S&P 500 closes that skfolio ships (read from its package data, no import)."""

    name = "bundled"

    @cached_property
    def _closes(self) -> pd.DataFrame:
        path = importlib.resources.files("skfolio") / BUNDLED_DATASET
        with importlib.resources.as_file(path) as csv_path:
            return pd.read_csv(csv_path, parse_dates=["Date"], index_col="Date")

    def symbols(self) -> list[str]:
        """The 20 bundled symbols."""
        return sorted(str(c) for c in self._closes.columns)

    def _require(self, symbol: str) -> None:
        if symbol not in self._closes.columns:
            raise KeyError(f"source 'bundled' has no symbol {symbol!r}; it has {self.symbols()}")

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Bars of ``symbol``: close only (open, high, low and volume are NaN)."""
        self._require(symbol)
        closes = self._closes[symbol]
        frame = pd.DataFrame({"date": closes.index, "close": closes.to_numpy()})
        return _since(canonical_bars(frame, source=self.name, symbol=symbol), start)

    def last_date(self, symbol: str) -> date | None:
        """Last date with a close for ``symbol``."""
        self._require(symbol)
        last = self._closes[symbol].last_valid_index()
        return None if last is None else _to_date(last)

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date at once."""
        return {symbol: self.last_date(symbol) for symbol in self.symbols()}


class FilesSource:
    """A folder of ``<SYMBOL>.csv`` or ``<SYMBOL>.parquet`` files (date, close, optional OHLV)."""

    name = "files"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"source 'files': folder {self.folder} does not exist; set QUANT_SOURCE_PATH "
                "or pass path= to hydrate"
            )

    def _files(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() in FILE_SUFFIXES and not path.name.startswith("."):
                symbol = validate_symbol(path.stem)
                if symbol in found:
                    raise DataQualityError(
                        f"source 'files': symbol {symbol!r} has two files "
                        f"({found[symbol].name}, {path.name}); keep one"
                    )
                found[symbol] = path
        return found

    def symbols(self) -> list[str]:
        """Symbols named by the files in the folder."""
        return sorted(self._files())

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Bars read from ``<folder>/<symbol>.csv|.parquet``."""
        path = self._files().get(symbol)
        if path is None:
            raise KeyError(f"source 'files': no {symbol}.csv or {symbol}.parquet in {self.folder}")
        raw = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        try:
            bars = canonical_bars(raw, source=f"files:{path.name}", symbol=symbol)
        except DataQualityError as error:
            raise DataQualityError(f"{error} (file {path})") from error
        return _since(bars, start)

    def last_date(self, symbol: str) -> date | None:
        """Last date in the symbol's file."""
        bars = self.fetch(symbol)
        return None if bars.empty else _to_date(bars["date"].iloc[-1])

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date, reading only each file's date column (not validated)."""
        return {symbol: _file_last_date(path) for symbol, path in self._files().items()}


Downloader = Callable[[str, date | None], pd.DataFrame]


class YFinanceSource:
    """Yahoo Finance through the ``yfinance`` package (needs internet; not installed by default).

    ``download`` may be injected (tests use recorded frames). yfinance returns an EMPTY frame
    rather than raising when offline; that is turned into an error here.
    """

    name = "yfinance"

    def __init__(self, symbols: list[str], download: Downloader | None = None) -> None:
        self._symbols = sorted(validate_symbol(s) for s in symbols)
        self._download = download or _yfinance_download

    def symbols(self) -> list[str]:
        """The symbols asked for (Yahoo has no listing to enumerate)."""
        return list(self._symbols)

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Daily adjusted bars of ``symbol`` from Yahoo."""
        raw = self._download(symbol, start)
        if raw.empty:
            raise DataQualityError(
                f"source 'yfinance': no data for {symbol!r} (offline, or unknown symbol)"
            )
        return canonical_bars(raw, source=self.name, symbol=symbol)

    def last_date(self, symbol: str) -> date | None:
        """The last completed weekday (Yahoo's daily bars close then)."""
        return last_completed_weekday()

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date at once (the last completed weekday)."""
        return dict.fromkeys(self._symbols, last_completed_weekday())


def last_completed_weekday(today: date | None = None) -> date:
    """The last weekday strictly before ``today`` (default: today, UTC)."""
    day = pd.Timestamp(today) if today else pd.Timestamp.now(tz="UTC").tz_localize(None)
    return _to_date(pd.bdate_range(end=day.normalize() - pd.Timedelta(days=1), periods=1)[0])


def _file_last_date(path: Path) -> date | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        names = {str(n).strip().lower(): str(n) for n in pq.read_schema(path).names}
        column = names.get("date")
        dates = pd.read_parquet(path, columns=[column])[column] if column else None
    else:
        frame = pd.read_csv(path, usecols=lambda name: str(name).strip().lower() == "date")
        dates = frame.iloc[:, 0] if frame.shape[1] else None
    if dates is None or dates.empty:
        return None
    last = pd.to_datetime(dates, errors="coerce").max()
    return None if pd.isna(last) else _to_date(last)


def _yfinance_download(symbol: str, start: date | None) -> pd.DataFrame:
    try:
        import yfinance
    except ImportError as error:
        raise ImportError(
            "the yfinance source needs `pip install yfinance` and internet access"
        ) from error
    raw: Any = yfinance.download(
        symbol, start=start, auto_adjust=True, progress=False, multi_level_index=False
    )
    frame = raw.reset_index()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def make_source(settings: Settings, symbols: list[str] | None = None) -> MarketDataSource:
    """Build the source that ``settings.source`` names."""
    if settings.source == "bundled":
        return BundledSource()
    if settings.source == "synthetic":
        return SyntheticSource(
            settings.synthetic_symbols,
            settings.synthetic_years,
            settings.synthetic_end,
            settings.seed,
        )
    if settings.source == "files":
        assert settings.source_path is not None  # enforced by Settings validation
        return FilesSource(settings.source_path)
    if not symbols and not settings.symbols:
        raise ValueError("the yfinance source needs symbols (QUANT_SYMBOLS or symbols=)")
    return YFinanceSource(symbols or settings.symbols or [])
