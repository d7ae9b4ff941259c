"""The canonical daily-bar frame every source produces, and the parsing that refuses bad input.

:func:`canonical_bars` turns whatever a source read (a CSV, a Parquet file, a vendor's frame)
into canonical bars or raises :class:`DataQualityError` naming the source, file, symbol,
column and rows and saying what to do. The rules:

- ``date`` and ``close`` are required; ``open``, ``high``, ``low``, ``volume`` are optional.
- Dates are calendar days. A time of day is dropped. Dates carrying a time zone are taken as
  the calendar date in their own zone (``2024-01-02T20:00-05:00`` is 2024-01-02), which is
  only well defined when every date carries the same zone: mixed zones (or zoned and unzoned
  dates together) are refused, naming the rows of each zone.
- Numbers must parse. A cell that is not a number (``abc``, ``$100.22``, ``1,234.5``) is an
  error, never dropped; so is ``inf``. Only an EMPTY close cell (or NaN) is a gap: its row is
  dropped and counted (``bars.attrs[EMPTY_CLOSES_ATTR]``, logged).
- Closes are positive; dates are unique.
"""

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from quant_assets.contracts import MarketDataContract, column_names

logger = logging.getLogger(__name__)

BAR_COLUMNS = column_names(MarketDataContract)
"""Columns of a stored symbol: ``date`` (datetime64[ns], unique, ascending) and float64 prices."""
REQUIRED_BAR_COLUMNS = ("date", "close")
DATE_DTYPE = "datetime64[ns]"
EMPTY_CLOSES_ATTR = "empty_closes"
"""``bars.attrs`` key: how many rows :func:`canonical_bars` dropped for an empty close."""
ROWS_SHOWN = 10
"""How many offending rows (and values) an error message lists."""
NO_ZONE = "no zone"
EARLIEST_DATE = pd.Timestamp("1800-01-01")
LATEST_DATE = pd.Timestamp("2200-12-31")
"""Dates a daily bar may carry (well inside what datetime64[ns] can hold)."""
_DAY_NS = 86_400 * 10**9
PLAIN_DATE_FORMAT = "%Y-%m-%d"
"""The date format of the CSV files pandas writes (and most people do): parsed without guessing."""


class DataQualityError(ValueError):
    """Market data that cannot be stored; the message names source, file, symbol, column and rows.

    The parts are kept as attributes (``source``, ``file``, ``symbol``, ``column``, ``rows``,
    ``reason``) so a quarantine record can hold them.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        symbol: str | None = None,
        file: str | None = None,
        column: str | None = None,
        rows: Sequence[int] = (),
        action: str = "",
        lines: Sequence[int] = (),
        values: Sequence[str] = (),
    ) -> None:
        self.reason = reason
        self.source = source
        self.symbol = symbol
        self.file = file
        self.column = column
        self.rows = [int(r) for r in rows]
        self.action = action
        self.lines = [int(n) for n in lines]
        self.values = [str(v) for v in values][:ROWS_SHOWN]
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.source is not None:
            where.append(f"source {self.source!r}")
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.symbol is not None:
            where.append(f"symbol {self.symbol!r}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.reason
        if self.rows:
            more = len(self.rows) - ROWS_SHOWN
            text += f" in rows {self.rows[:ROWS_SHOWN]}" + (f" and {more} more" if more > 0 else "")
            if self.lines:
                text += f" (file lines {self.lines[:ROWS_SHOWN]})"
        if self.values:
            text += f", values {self.values}"
        return text + (f". {self.action}" if self.action else "")

    def located(self, file: str, lines: Sequence[int] = ()) -> "DataQualityError":
        """The same error with ``file`` and the file line of each row filled in."""
        return DataQualityError(
            self.reason,
            source=self.source,
            symbol=self.symbol,
            file=file,
            column=self.column,
            rows=self.rows,
            action=self.action,
            lines=lines,
            values=self.values,
        )


def canonical_bars(
    frame: pd.DataFrame, *, source: str, symbol: str, file: str | None = None
) -> pd.DataFrame:
    """Return ``frame`` as canonical bars, or raise :class:`DataQualityError` saying what is wrong.

    A frame that is already canonical in all but name is taken as it is (the same result,
    fast), and so is one that only needs its ``YYYY-MM-DD`` text dates parsed (a plain CSV
    file); any other is parsed and checked cell by cell (:func:`parse_bars`).

    Parameters
    ----------
    frame : DataFrame
        Raw rows, lower-case column names; needs ``date`` and ``close``. Missing optional
        columns become NaN; other columns are ignored.
    source, symbol, file : str
        Named in every error (``file`` when the rows came from one).

    Returns
    -------
    DataFrame
        :data:`BAR_COLUMNS`, unique ascending calendar dates (datetime64[ns]), float64 prices,
        positive finite closes; NaN only in the optional columns. ``attrs[EMPTY_CLOSES_ATTR]``
        counts rows dropped for an empty close.
    """
    ready = _already_canonical(frame)
    if ready is None:
        typed = _with_plain_dates(frame)
        ready = None if typed is None else _already_canonical(typed)
    if ready is not None:
        return ready
    return parse_bars(frame, source=source, symbol=symbol, file=file)


def parse_bars(
    frame: pd.DataFrame, *, source: str, symbol: str, file: str | None = None
) -> pd.DataFrame:
    """:func:`canonical_bars` the long way: every cell parsed and checked (the rules above)."""

    def error(
        reason: str,
        column: str | None = None,
        rows: Sequence[int] = (),
        action: str = "",
        values: Sequence[str] = (),
    ) -> DataQualityError:
        return DataQualityError(
            reason,
            source=source,
            symbol=symbol,
            file=file,
            column=column,
            rows=rows,
            action=action,
            values=values,
        )

    missing = [c for c in REQUIRED_BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise error(
            f"missing column(s) {missing}; found {list(frame.columns)}",
            action="Give the file a header row with `date` and `close` "
            "(optionally open, high, low, volume)",
        )
    frame = frame.reset_index(drop=True)
    bars = pd.DataFrame({"date": _parse_dates(frame["date"], error)})
    for column in BAR_COLUMNS[1:]:
        if column in frame.columns:
            bars[column] = _parse_numbers(frame[column], column, error)
        else:
            bars[column] = np.nan
    empty = bars.index[bars["close"].isna()]
    if len(empty):
        logger.warning(
            "source %r, symbol %r: %d row(s) with an empty close dropped as gaps (rows %s)",
            source,
            symbol,
            len(empty),
            empty[:ROWS_SHOWN].tolist(),
        )
    bars = bars.drop(index=empty)
    non_positive = bars.index[bars["close"] <= 0].tolist()
    if non_positive:
        raise error(
            "non-positive `close`",
            "close",
            non_positive,
            "Closes are prices: fix or remove these rows",
        )
    duplicated = bars.index[bars["date"].duplicated(keep=False)].tolist()
    if duplicated:
        raise error(
            "duplicate dates",
            "date",
            duplicated,
            "Keep one row per calendar day (times of day are dropped)",
        )
    bars = bars.sort_values("date").reset_index(drop=True)
    bars.attrs[EMPTY_CLOSES_ATTR] = len(empty)
    return bars


def _already_canonical(frame: pd.DataFrame) -> pd.DataFrame | None:
    """``frame`` as canonical bars when it needs no parsing, checking or sorting, else None.

    A vendor's typed frame or a generated one (the synthetic market) usually is: datetime64[ns]
    dates (any unit) at midnight, strictly increasing and in range; float64 prices with no empty,
    infinite or non-positive close. Then the result equals :func:`canonical_bars`' long path,
    built with a handful of array checks instead of a dozen pandas passes; any doubt (another
    dtype, a gap, an infinite value, unsorted dates) returns None and the long path decides.
    """
    given = dict(frame.items())  # by name, without building a lookup table per frame
    if not set(REQUIRED_BAR_COLUMNS) <= set(given) or len(given) != len(frame.columns):
        return None
    date = given["date"]
    if not (isinstance(date.dtype, np.dtype) and date.dtype.kind == "M"):
        return None  # text, objects or a time zone: the long path parses them
    try:
        days = date.to_numpy().astype(DATE_DTYPE)
    except (ValueError, OverflowError):
        return None
    stamps = days.view(np.int64)
    if len(stamps) and not (
        stamps[0] >= EARLIEST_DATE.value
        and stamps[-1] <= LATEST_DATE.value
        and bool(np.all(stamps[1:] > stamps[:-1]))
        and not bool(np.any(stamps % _DAY_NS))
    ):
        return None  # unsorted, repeated, out of range or not at midnight (NaT is the minimum)
    columns: dict[str, Any] = {"date": days}
    for column in BAR_COLUMNS[1:]:
        if column not in given:
            columns[column] = np.full(len(frame), np.nan)
            continue
        if given[column].dtype != np.float64:
            return None
        values = given[column].to_numpy()
        if np.isinf(values).any():
            return None
        columns[column] = values
    close = columns["close"]
    if not bool(np.all(close > 0)):  # NaN compares False: an empty close takes the long path
        return None
    bars = pd.DataFrame(columns)
    bars.attrs[EMPTY_CLOSES_ATTR] = 0
    return bars


def _with_plain_dates(frame: pd.DataFrame) -> pd.DataFrame | None:
    """``frame`` with its text dates parsed when all are written :data:`PLAIN_DATE_FORMAT`.

    Integer prices or volumes become float64, as the long path makes them. The result is for
    :func:`_already_canonical`, which still checks everything it checks; None (the long path
    decides) when the dates are not text in exactly that form, or column names repeat.
    """
    if "date" not in frame.columns or not frame.columns.is_unique:
        return None
    date = frame["date"]
    if not pd.api.types.is_string_dtype(date.dtype):
        return None
    try:
        typed: dict[str, pd.Series] = {"date": pd.to_datetime(date, format=PLAIN_DATE_FORMAT)}
    except (ValueError, TypeError, OverflowError):
        return None
    for column in BAR_COLUMNS[1:]:
        if column in frame.columns and pd.api.types.is_integer_dtype(frame[column].dtype):
            typed[column] = frame[column].astype("float64")
    return frame.assign(**typed)


def _parse_dates(values: pd.Series, error: Any) -> pd.Series:
    """Calendar days of ``values`` (datetime64[ns], midnight); see the module rules."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        parsed = values.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values
    else:
        try:
            parsed = pd.to_datetime(values, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            parsed = None
        given = values.notna() & values.astype("str").str.strip().ne("")
        if parsed is None or bool((parsed.isna() & given).any()):
            _refuse_mixed_zones(values[given], error)
        if parsed is None:
            parsed = values.map(_one_date).astype("datetime64[ns]")
        elif isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
    out_of_range = parsed.index[(parsed < EARLIEST_DATE) | (parsed > LATEST_DATE)].tolist()
    if out_of_range:
        shown = [str(values.iloc[i]) for i in out_of_range[:ROWS_SHOWN]]
        raise error(
            "`date` out of range",
            "date",
            out_of_range,
            f"Dates must lie between {EARLIEST_DATE.date()} and {LATEST_DATE.date()}",
            shown,
        )
    unparseable = parsed.index[parsed.isna()].tolist()
    if unparseable:
        shown = [str(values.iloc[i]) for i in unparseable[:ROWS_SHOWN]]
        raise error(
            "missing or unparseable `date`",
            "date",
            unparseable,
            "Write every date in one format, e.g. YYYY-MM-DD",
            shown,
        )
    dates: pd.Series = parsed.dt.normalize().astype(DATE_DTYPE)
    return dates


def _one_date(value: Any) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _zone_of(value: Any) -> str | None:
    """The UTC offset a date is written in (``+01:00``), :data:`NO_ZONE`, or None if unparseable."""
    try:
        stamp = pd.Timestamp(str(value).strip()) if isinstance(value, str) else pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    offset = stamp.utcoffset()
    if offset is None:
        return NO_ZONE
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _refuse_mixed_zones(values: pd.Series, error: Any) -> None:
    """Raise when the parseable dates of ``values`` are written in more than one zone."""
    zones = values.map(_zone_of).dropna()
    if zones.nunique() <= 1:
        return
    groups = zones.groupby(zones).groups
    parts = [
        f"{zone}: rows {list(rows[:ROWS_SHOWN])}"
        for zone, rows in sorted(groups.items(), key=lambda item: item[1][0])
    ]
    raise error(
        f"dates in mixed time zones ({'; '.join(parts)})",
        "date",
        sorted(int(i) for rows in groups.values() for i in rows),
        "Write every date in one zone (or none); each is read as its calendar day in its zone",
    )


def _parse_numbers(values: pd.Series, column: str, error: Any) -> pd.Series:
    """``values`` as float64: empty cells NaN; non-numeric or infinite cells are an error."""
    if pd.api.types.is_bool_dtype(values.dtype):
        raise error(
            "true/false values, not numbers", column, list(range(len(values))), "Write numbers"
        )
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
    else:
        text = values.astype("str").str.strip()
        empty = values.isna() | text.eq("")
        numbers = pd.to_numeric(values.where(~empty), errors="coerce").astype("float64")
        not_numeric = values.index[numbers.isna() & ~empty].tolist()
        if not_numeric:
            shown = [str(values.iloc[i]) for i in not_numeric[:ROWS_SHOWN]]
            raise error(
                f"non-numeric `{column}`",
                column,
                not_numeric,
                "Write plain decimal numbers (no currency signs or thousands separators); "
                "leave a cell empty for a missing value",
                shown,
            )
    infinite = numbers.index[np.isinf(numbers.to_numpy())].tolist()
    if infinite:
        raise error(
            f"infinite `{column}`",
            column,
            infinite,
            "Replace with the real value, or leave the cell empty for a missing value",
        )
    return numbers
