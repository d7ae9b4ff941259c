"""HTML tables from frames: one formatting rule per column kind, every cell escaped.

A column's kind (percent, ratio, integer, date, text, ...) decides how its numbers are written;
:data:`COLUMN_KINDS` names the kind of every column the tear-sheet shows, and a missing value
(NaN, NaT, None) is written as :data:`MISSING`.
"""

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

MISSING = "n/a"
PERCENT = "percent"
RATIO = "ratio"
DECIMAL = "decimal"
INTEGER = "integer"
DATE = "date"
TEXT = "text"

FORMATTERS: dict[str, Callable[[Any], str]] = {
    PERCENT: lambda v: f"{float(v):.2%}",
    RATIO: lambda v: f"{float(v):.2f}",
    DECIMAL: lambda v: f"{float(v):.4f}",
    INTEGER: lambda v: f"{int(v):,d}",
    DATE: lambda v: pd.Timestamp(v).strftime("%Y-%m-%d"),
    TEXT: str,
}
"""How a value of each kind is written (before escaping)."""

COLUMN_KINDS: dict[str, str] = {
    "rank": INTEGER,
    "annual_return": PERCENT,
    "annual_volatility": PERCENT,
    "sharpe": RATIO,
    "sortino": RATIO,
    "max_drawdown": PERCENT,
    "calmar": RATIO,
    "avg_turnover": RATIO,
    "total_turnover": RATIO,
    "cost_drag": PERCENT,
    "total_cost": PERCENT,
    "vetoes": INTEGER,
    "days": INTEGER,
    "first_date": DATE,
    "last_date": DATE,
    "benchmark_days": INTEGER,
    "benchmark_annual_return": PERCENT,
    "excess_annual_return": PERCENT,
    "beta": RATIO,
    "tracking_error": PERCENT,
    "information_ratio": RATIO,
    "windows": INTEGER,
    "gross_annual_return": PERCENT,
    "net_annual_return": PERCENT,
    "return_lost": PERCENT,
    "window": INTEGER,
    "train_end": DATE,
    "share": PERCENT,
    "spells": INTEGER,
    "windows_held": INTEGER,
}
"""The kind of every named column the tear-sheet shows; any other column is ``text``."""

NUMERIC_KINDS = frozenset({PERCENT, RATIO, DECIMAL, INTEGER})
SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]*")


def is_missing(value: Any) -> bool:
    """True for None, NaN and NaT."""
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_value(value: Any, kind: str = TEXT) -> str:
    """``value`` written as its ``kind`` says (not escaped); ``MISSING`` for a missing value.

    Raises
    ------
    KeyError
        For an unknown kind, naming the known ones.
    """
    if kind not in FORMATTERS:
        raise KeyError(f"unknown column kind {kind!r}; known: {sorted(FORMATTERS)}")
    if is_missing(value) or (isinstance(value, float) and math.isinf(value)):
        return MISSING
    return FORMATTERS[kind](value)


def column_kind(column: str, kinds: Mapping[str, str] | None = None) -> str:
    """The kind of ``column``: from ``kinds``, else :data:`COLUMN_KINDS`, else ``text``.

    :func:`html_table` writes a column that :data:`COLUMN_KINDS` calls numeric but that holds
    no numbers (e.g. a text ``vetoes`` column) as text.
    """
    if kinds and column in kinds:
        return kinds[column]
    return COLUMN_KINDS.get(column, TEXT)


def _checked_kind(kind: str, values: pd.Series, *, explicit: bool) -> str:
    """A default numeric kind falls back to text for a column that does not hold numbers."""
    if explicit or kind not in NUMERIC_KINDS:
        return kind
    return kind if pd.api.types.is_numeric_dtype(values.dtype) else TEXT


def header_label(column: str) -> str:
    """A column name as a header: a snake_case name with spaces, any other name as it is.

    (So ``annual_return`` reads ``annual return`` while ``canary/equal_weight`` keeps its name.)
    """
    return column.replace("_", " ") if SNAKE_CASE.fullmatch(column) else column


def html_table(
    frame: pd.DataFrame,
    *,
    table_id: str,
    kinds: Mapping[str, str] | None = None,
    index: bool = False,
    max_rows: int | None = None,
    caption: str | None = None,
) -> str:
    """An escaped ``<table>`` of ``frame``, numbers right-aligned and written by column kind.

    Parameters
    ----------
    frame : DataFrame
        The rows to show.
    table_id : str
        The table's ``id`` attribute.
    kinds : mapping of str to str, optional
        Column kinds overriding :data:`COLUMN_KINDS`.
    index : bool
        Show the index as the first column (its name as header).
    max_rows : int, optional
        Show only the first ``max_rows`` rows and say how many were left out.
    caption : str, optional
        A caption above the table.
    """
    shown = frame.reset_index() if index else frame
    columns: Sequence[str] = [str(c) for c in shown.columns]
    omitted = 0
    if max_rows is not None and len(shown) > max_rows:
        omitted = len(shown) - max_rows
        shown = shown.iloc[:max_rows]
    column_kinds = [
        _checked_kind(column_kind(c, kinds), shown.iloc[:, i], explicit=bool(kinds and c in kinds))
        for i, c in enumerate(columns)
    ]
    head = "".join(
        f'<th class="{"num" if k in NUMERIC_KINDS else "txt"}">{html.escape(header_label(c))}</th>'
        for c, k in zip(columns, column_kinds, strict=True)
    )
    body_rows = []
    for values in shown.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="{"num" if k in NUMERIC_KINDS else "txt"}">'
            f"{html.escape(format_value(v, k))}</td>"
            for v, k in zip(values, column_kinds, strict=True)
        )
        body_rows.append(f"<tr>{cells}</tr>")
    caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    note = f'<p class="note">{omitted:,d} more rows not shown.</p>' if omitted else ""
    return (
        f'<table id="{html.escape(table_id, quote=True)}">{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>{note}"
    )


def key_value_table(items: Sequence[tuple[str, str]], *, table_id: str) -> str:
    """A two-column table of already-written ``(label, value)`` text pairs, escaped."""
    rows = "".join(
        f'<tr><th scope="row">{html.escape(label)}</th>'
        f'<td class="txt">{html.escape(value)}</td></tr>'
        for label, value in items
    )
    return (
        f'<table id="{html.escape(table_id, quote=True)}" class="kv"><tbody>{rows}</tbody></table>'
    )
