"""What the ``quant`` command line prints, and how: tables, plain text, JSON, log lines.

Data goes to stdout: a rich table on a terminal, aligned plain text otherwise, JSON with
``--json``. Log lines (progress, warnings) go to stderr in a short format, from our own loggers
only (:data:`PLATFORM_LOGGERS`); on a terminal, progress lines become bars
(:mod:`quant_sdk.progress_bars`).
"""

import json
import logging
import math
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from quant_sdk.progress_bars import ProgressBarHandler

PLATFORM_LOGGERS = ("lakehouse", "quant_assets", "quant_sdk", "dagster_defs")
"""The loggers the command line shows (INFO and up; DEBUG with ``--debug``)."""
LOG_FORMAT = "%(asctime)s %(message)s"
WARNING_LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
LOG_TIME_FORMAT = "%H:%M:%S"
DEFAULT_ROWS = 40
"""Rows of a frame printed as a table unless ``--limit`` says otherwise (JSON: every row)."""
DECIMALS = 4
FIXED_RANGE = (1e-3, 1e6)
"""A float in a terminal table: 4 decimals inside this range of magnitudes, else 4 significant
digits (``3.35e-05``); plain text and JSON keep more."""
PLAIN_WIDTH = 200
JSON_INDENT = 2


class ShortFormatter(logging.Formatter):
    """``12:04:05 tournament: 3/6 tasks done``; ``12:04:05 WARNING ...`` from WARNING up."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT, LOG_TIME_FORMAT)
        self.warning_formatter = logging.Formatter(WARNING_LOG_FORMAT, LOG_TIME_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record``, naming its level from WARNING up."""
        if record.levelno >= logging.WARNING:
            return self.warning_formatter.format(record)
        return super().format(record)


@contextmanager
def platform_logging(debug: bool = False, stream: TextIO | None = None) -> Iterator[None]:
    """Within the block, send :data:`PLATFORM_LOGGERS` to ``stream`` in the short format.

    ``stream`` defaults to stderr as it is on entry. The loggers do not propagate meanwhile
    (a root handler set up by someone else would print the lines twice); their handlers,
    levels and propagation are restored on exit, so ``main`` can run many times in one
    process (tests) without leaving a trace.
    """
    target = stream if stream is not None else sys.stderr
    isatty = getattr(target, "isatty", None)
    handler: logging.Handler
    if isatty is not None and isatty() and not debug:
        handler = ProgressBarHandler(target, ShortFormatter())  # bars on a terminal
    else:
        handler = logging.StreamHandler(target)
        handler.setFormatter(ShortFormatter())
    loggers = [logging.getLogger(name) for name in PLATFORM_LOGGERS]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if debug else logging.INFO)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
        handler.close()


class Output:
    """Prints data to ``stream`` as a table (terminal), plain text, or JSON (``json_mode``)."""

    def __init__(self, json_mode: bool = False, stream: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.terminal = bool(isatty and isatty())

    def line(self, text: str = "") -> None:
        """Print one line of text."""
        print(text, file=self.stream)

    def json(self, value: Any) -> None:
        """Print ``value`` as JSON (frames as lists of records, NaN as null)."""
        print(json.dumps(jsonable(value), indent=JSON_INDENT), file=self.stream)

    def fields(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Print ``name  value`` lines, names aligned."""
        rows = [(name, "" if value is None else str(value)) for name, value in pairs]
        width = max((len(name) for name, _ in rows), default=0)
        for name, value in rows:
            self.line(f"{name:<{width}}  {value}")

    def table(
        self,
        frame: pd.DataFrame,
        title: str | None = None,
        limit: int | None = None,
        sections: str | None = None,
    ) -> None:
        """Print ``frame`` (its first ``limit`` rows, default :data:`DEFAULT_ROWS`; 0: all).

        ``title`` is printed on its own line above; on a terminal, a rule separates the rows
        where the ``sections`` column changes value.
        """
        rows = DEFAULT_ROWS if limit is None else limit
        shown = frame if rows <= 0 else frame.head(rows)
        if title:
            self.line(title)
        if self.terminal:
            self._rich_table(shown, sections)
        elif frame.columns.empty:
            self.line("(no columns)")
        else:
            with pd.option_context("display.width", PLAIN_WIDTH, "display.max_columns", None):
                self.line(_plain(shown).to_string(index=False, na_rep=""))
        if len(shown) < len(frame):
            self.line(f"... {len(frame) - len(shown):,} more rows (--limit 0 or --json for all)")

    def _rich_table(self, frame: pd.DataFrame, sections: str | None) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(header_style="bold")
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column].dtype)
            table.add_column(str(column), justify="right" if numeric else "left")
        records = list(frame.itertuples(index=False))
        for position, row in enumerate(records):
            last_of_section = (
                sections is not None
                and position + 1 < len(records)
                and frame[sections].iloc[position] != frame[sections].iloc[position + 1]
            )
            table.add_row(*(_cell(value) for value in row), end_section=last_of_section)
        Console(file=self.stream, highlight=False).print(table)


def jsonable(value: Any) -> Any:
    """``value`` with frames, dates, numpy scalars, paths and NaN made JSON-ready (recursive)."""
    if isinstance(value, pd.DataFrame):
        return [jsonable(record) for record in value.to_dict(orient="records")]
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, pd.Timestamp | datetime | date):
        return _iso(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def _iso(value: pd.Timestamp | datetime | date) -> str:
    if isinstance(value, datetime) and value.tzinfo is None and value.time() == time(0):
        return value.date().isoformat()  # a date stored as midnight
    return value.isoformat()


def _cell(value: Any) -> str:
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        fixed = value == 0 or FIXED_RANGE[0] <= abs(value) < FIXED_RANGE[1]
        return f"{value:.{DECIMALS}f}" if fixed else f"{value:.{DECIMALS}g}"
    if isinstance(value, pd.Timestamp | datetime | date):
        return _iso(value)
    if isinstance(value, list | dict):
        return json.dumps(jsonable(value))
    return str(value)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for ``to_string``: dates without midnights, text left-aligned.

    pandas right-aligns every column; text columns are padded to one width here (header
    included), which reads as left-aligned.
    """
    out = frame.copy()
    renamed = {}
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            if (values.dropna() == values.dropna().dt.normalize()).all():
                out[column] = values.dt.strftime("%Y-%m-%d")
        elif not (
            pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)
        ):
            text = [plain_text(value) for value in values]
            width = max([len(str(column)), *(len(t) for t in text)])
            out[column] = [t.ljust(width) for t in text]
            renamed[column] = str(column).ljust(width)
    return out.rename(columns=renamed)


def plain_text(value: Any) -> str:
    """A value as text: "" for None and NaN, JSON for lists and dicts, else ``str``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, list | dict):
        return json.dumps(jsonable(value))
    return str(value)


def setting_text(value: Any) -> str:
    """A setting's JSON-ready value as ``--set`` and ``QUANT_*`` take it: ``null``, ``7.0``..."""
    return value if isinstance(value, str) else json.dumps(value)


def error_line(error: BaseException) -> str:
    """The error's message in one line (pydantic's multi-line validation errors joined)."""
    errors = getattr(error, "errors", None)
    if callable(errors) and type(error).__name__ == "ValidationError":
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']} (got {e['input']!r})"
            for e in errors()
        ]
        return "invalid settings: " + "; ".join(parts)
    return " ".join(str(error).split()) or type(error).__name__
