"""Where market data comes from: the bundled real data, a seeded generator, files, online.

Every source answers two questions: which symbols it has (:meth:`symbols`) and the daily bars of
one symbol from a date on (:meth:`fetch`). Sources are only read by hydration; the pipeline's run
assets read the lakehouse, never a source. The online source (Yahoo Finance) lives in
:mod:`quant_assets.hydration.yahoo`; :mod:`quant_assets.hydration.screener` finds symbols for it.
"""

import importlib.resources
import logging
import threading
import warnings
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pyarrow import ArrowException

from lakehouse import InvalidSymbol, validate_symbol
from quant_assets.hydration.bars import DataQualityError, canonical_bars
from quant_assets.hydration.synthetic import SyntheticSource
from quant_assets.hydration.yahoo import YFinanceSource as YFinanceSource
from quant_assets.hydration.yahoo import last_completed_weekday as last_completed_weekday
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
    """A folder of ``<SYMBOL>.csv`` or ``<SYMBOL>.parquet`` files (date, close, optional OHLV).

    CSV files are read as UTF-8 (a byte order mark is fine) with a header row; column names are
    matched without case or surrounding spaces; extra columns are ignored. A file that cannot be
    read (empty, not UTF-8, malformed CSV, unreadable Parquet) or a symbol with two files raises
    :class:`~quant_assets.hydration.bars.DataQualityError` naming the file, for that symbol only.
    Files whose name is not a valid symbol are skipped with a warning.

    The folder is listed once, on first use, into a symbol -> file(s) index that the instance
    keeps: hydrating N files lists the folder once, not once per symbol and call. Files added,
    renamed or removed after that are not seen by this instance (a file removed meanwhile fails
    when read); every hydration and freshness check builds a new source
    (:func:`make_source`), so each sees the folder as it is when it starts. A file REWRITTEN in
    place is read as it is when fetched, and :meth:`fingerprint` sees its new size and time.
    """

    name = "files"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"source 'files': folder {self.folder} does not exist; set QUANT_SOURCE_PATH "
                "or pass path= to hydrate"
            )
        self._index: dict[str, list[Path]] | None = None
        self._index_lock = threading.Lock()  # hydration fetches on a thread pool

    def _files(self) -> dict[str, list[Path]]:
        """Symbol -> its file(s), sorted; the folder is listed on the first call only."""
        if self._index is None:
            with self._index_lock:
                if self._index is None:
                    self._index = self._list_folder()
        return self._index

    def _list_folder(self) -> dict[str, list[Path]]:
        found: dict[str, list[Path]] = {}
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() in FILE_SUFFIXES and not path.name.startswith("."):
                try:
                    symbol = validate_symbol(path.stem)
                except InvalidSymbol as error:
                    logger.warning("source 'files': skipping %s: %s", path, error)
                    continue
                found.setdefault(symbol, []).append(path)
        return found

    def symbols(self) -> list[str]:
        """Symbols named by the files in the folder."""
        return sorted(self._files())

    def path_of(self, symbol: str) -> Path | None:
        """The file of ``symbol`` (the first, if there are two), or None."""
        paths = self._files().get(symbol)
        return paths[0] if paths else None

    def fingerprint(self, symbol: str) -> str | None:
        """Size and modification time of ``symbol``'s file(s): changes when a file is rewritten."""
        stats = [path.stat() for path in self._files().get(symbol, [])]
        return ";".join(f"{s.st_size}:{s.st_mtime_ns}" for s in stats) or None

    def fetch(self, symbol: str, start: date | None = None) -> pd.DataFrame:
        """Bars read from ``<folder>/<symbol>.csv|.parquet``."""
        paths = self._files().get(symbol)
        if not paths:
            raise KeyError(f"source 'files': no {symbol}.csv or {symbol}.parquet in {self.folder}")
        if len(paths) > 1:
            raise DataQualityError(
                f"two files for one symbol ({', '.join(p.name for p in paths)})",
                source=self.name,
                symbol=symbol,
                file=str(paths[0]),
                action="Keep one of them",
            )
        path = paths[0]
        raw = _read_file(path, symbol)
        try:
            bars = canonical_bars(raw, source=self.name, symbol=symbol, file=str(path))
        except DataQualityError as error:
            lines = _csv_lines(path, error.rows) if path.suffix.lower() == ".csv" else []
            raise error.located(str(path), lines) from None
        return _since(bars, start)

    def last_date(self, symbol: str) -> date | None:
        """Last date in the symbol's file."""
        bars = self.fetch(symbol)
        return None if bars.empty else _to_date(bars["date"].iloc[-1])

    def last_dates(self) -> dict[str, date | None]:
        """Every symbol's last date, reading only each file's date column (not validated).

        A file whose dates cannot be read answers None (hydration will say why).
        """
        return {symbol: _file_last_date(paths[0]) for symbol, paths in self._files().items()}


def _read_file(path: Path, symbol: str) -> pd.DataFrame:
    """The raw rows of one source file, column names lower-cased; unreadable: DataQualityError."""

    def refuse(reason: str, action: str) -> DataQualityError:
        return DataQualityError(
            reason, source=FilesSource.name, symbol=symbol, file=str(path), action=action
        )

    if path.suffix.lower() == ".parquet":
        try:
            raw = pd.read_parquet(path)
        except (OSError, ValueError, ArrowException) as error:
            raise refuse(
                f"unreadable Parquet ({type(error).__name__}: {error})",
                "Rewrite the file as Parquet (or CSV) with `date` and `close` columns",
            ) from None
    else:
        try:
            with warnings.catch_warnings():
                # more fields than the header names: refused, not silently shifted or cut
                warnings.simplefilter("error", pd.errors.ParserWarning)
                raw = pd.read_csv(path, encoding="utf-8", index_col=False)
        except pd.errors.EmptyDataError:
            raise refuse(
                "empty file (no header, no rows)", "Write a header row `date,close` and the bars"
            ) from None
        except UnicodeDecodeError as error:
            raise refuse(
                f"not UTF-8 text (byte {error.start})", "Save the file as UTF-8 CSV"
            ) from None
        except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
            raise refuse(
                f"malformed CSV ({str(error).strip()})",
                "Give every row the same number of comma-separated fields as the header",
            ) from None
    raw.columns = [str(c).replace("\ufeff", "").strip().lower() for c in raw.columns]
    duplicated = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if duplicated:
        raise refuse(
            f"duplicate column(s) {duplicated} (names are matched without case)",
            "Keep one column of each name",
        )
    return raw


def _csv_lines(path: Path, rows: list[int]) -> list[int]:
    """File line numbers (1-based) of data ``rows`` (0-based) of a CSV with a header row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    data_lines = [n for n, line in enumerate(text.splitlines()[1:], start=2) if line.strip()]
    return [data_lines[row] for row in rows if row < len(data_lines)]


def _file_last_date(path: Path) -> date | None:
    try:
        return _read_last_date(path)
    except (OSError, ValueError, TypeError, ArrowException, pd.errors.EmptyDataError):
        return None


def _read_last_date(path: Path) -> date | None:
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
        raise ValueError(
            "the yfinance source needs symbols (--symbols, --symbols-file, QUANT_SYMBOLS or "
            "symbols=); `quant screen --out FILE` lists some"
        )
    return YFinanceSource(symbols or settings.symbols or [])
