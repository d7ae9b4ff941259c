"""Signals: plug-in features computed from the whole closes panel, checked for look-ahead.

A signal (the ``signals`` setting; :mod:`quant_assets.plugins`) is a function, or a class whose
instances are callable, from the wide closes panel (a DataFrame of dates x symbols, NaN where a
symbol is not listed) to a panel of the same shape. Its value at date ``t`` must depend on
closes up to ``t`` only. Each signal becomes a column of the ``features`` table, named by
:attr:`~quant_assets.plugins.Plugin.column`, with a value wherever the symbol has a close, and
the selection score reads it beside the built-in features.

Before its values are used, a signal is checked for look-ahead (:func:`check_causal`): it is
computed again on the panel cut after :data:`LOOKAHEAD_CUTS` dates spread over the history, and
each result must equal the same rows of the full computation (to :data:`CAUSAL_RTOL`; NaN where
NaN). A signal that peeks is refused, naming the first date and symbol where it does.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quant_assets.contracts import BASE_FEATURE_COLUMNS
from quant_assets.plugins import PluginError, resolve
from quant_assets.settings import Settings

LOOKAHEAD_CUTS = 4
"""Cuts of the panel the look-ahead check recomputes a signal on (evenly spread)."""
MIN_CUT_DATES = 2
"""Cuts shorter than this many dates are skipped."""
CAUSAL_RTOL = 1e-9
CAUSAL_ATOL = 1e-12
"""Tolerances of "equal" in the look-ahead check: a causal signal recomputed on fewer rows may
differ by rounding (a reordered sum), not by information."""
SignalFunction = Callable[[pd.DataFrame], Any]


class LookAheadError(PluginError):
    """A signal's value at some date changes when later closes are removed."""


@dataclass(frozen=True)
class SignalPanel:
    """One signal's values on the panel (dates x symbols, the closes' order), and its column."""

    name: str
    column: str
    values: np.ndarray


def signal_panels(closes: pd.DataFrame, settings: Settings) -> list[SignalPanel]:
    """Every signal of ``settings`` computed on ``closes``, each checked for look-ahead first.

    Raises
    ------
    PluginError
        A signal that raises, returns a panel of another shape, or whose column name is taken.
    LookAheadError
        A signal that peeks (:func:`check_causal`).
    """
    panels: list[SignalPanel] = []
    taken = set(BASE_FEATURE_COLUMNS)
    for name in settings.signals:
        plugin = resolve("signal", name)
        column = plugin.column
        if column in taken:
            raise PluginError(
                f"signal {name!r} would be the column {column!r}, which is taken; name it "
                "differently (register it under another name)"
            )
        taken.add(column)
        function = plugin.build()
        values = compute_signal(name, function, closes)
        check_causal(name, function, closes, values)
        panels.append(SignalPanel(name, column, values))
    return panels


def compute_signal(name: str, function: SignalFunction, closes: pd.DataFrame) -> np.ndarray:
    """``function(closes)`` as a float array of the panel's shape, in its row and column order."""
    try:
        result = function(closes.copy())
    except Exception as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        raise PluginError(f"signal {name!r} failed: {reason}") from error
    if not isinstance(result, pd.DataFrame):
        raise PluginError(
            f"signal {name!r} returned a {type(result).__name__}; a signal returns a DataFrame "
            "of the closes' dates x symbols"
        )
    if set(result.index) != set(closes.index) or set(result.columns) != set(closes.columns):
        raise PluginError(
            f"signal {name!r} returned a panel of shape {result.shape} whose dates or symbols "
            f"are not the closes' {closes.shape}"
        )
    try:
        aligned = result.reindex(index=closes.index, columns=closes.columns)
        return np.ascontiguousarray(aligned.to_numpy(dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise PluginError(f"signal {name!r} returned values that are not numbers: {error}") from (
            None
        )


def cut_positions(n_dates: int, cuts: int = LOOKAHEAD_CUTS) -> list[int]:
    """Lengths of the prefixes the look-ahead check recomputes on (sorted, distinct)."""
    lengths = {n_dates * k // (cuts + 1) for k in range(1, cuts + 1)}
    return sorted(n for n in lengths if MIN_CUT_DATES <= n < n_dates)


def check_causal(
    name: str, function: SignalFunction, closes: pd.DataFrame, full: np.ndarray
) -> None:
    """Refuse ``function`` unless, on every cut of ``closes``, it equals the prefix of ``full``.

    Raises
    ------
    LookAheadError
        Naming the earliest date (and on it the first symbol) where a cut's value differs from
        the full computation's, the cut, and both values.
    """
    earliest: tuple[int, int, int, float, float] | None = None
    for length in cut_positions(len(closes)):
        partial = compute_signal(name, function, closes.iloc[:length])
        expected = full[:length]
        same = np.isclose(partial, expected, rtol=CAUSAL_RTOL, atol=CAUSAL_ATOL, equal_nan=True)
        if same.all():
            continue
        rows, columns = np.nonzero(~same)
        first = int(np.lexsort((columns, rows))[0])
        row, column = int(rows[first]), int(columns[first])
        if earliest is None or (row, column) < (earliest[0], earliest[1]):
            earliest = (row, column, length, partial[row, column], expected[row, column])
    if earliest is None:
        return
    row, column, length, cut_value, full_value = earliest
    date = pd.Timestamp(closes.index[row]).date()
    cut_end = pd.Timestamp(closes.index[length - 1]).date()
    raise LookAheadError(
        f"signal {name!r} looks ahead: its value for {closes.columns[column]} on {date} is "
        f"{float(full_value):.6g} on the whole panel but {float(cut_value):.6g} on the closes up "
        f"to {cut_end}; "
        "a signal at a date may read the closes up to that date only"
    )
