"""One window's portfolio: every engine's guarded weights from the window's training closes.

The one place that decides what each engine may hold: engines that use selection hold the
selected symbols, the others (``market``) every eligible one. Eligibility is decided point in
time (:mod:`quant_assets.membership`); here a symbol must also have a close on every training
date, as engines need complete returns. The tournament calls it per window, the
``allocations`` asset once at the run's decision date.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quant_assets.allocation.engines import get_engine
from quant_assets.allocation.guard import Allocation, SolverGuard
from quant_assets.contracts import AllocationsContract, column_names
from quant_assets.settings import Settings

ALLOCATION_COLUMNS = column_names(AllocationsContract)


@dataclass(frozen=True)
class WindowAllocation:
    """Every engine's guarded allocation in one window, and who could be held."""

    eligible: list[str]
    selected: list[str]
    allocations: dict[str, Allocation]


def allocate_window(
    train_closes: pd.DataFrame, eligible: Iterable[str], selected: Iterable[str], settings: Settings
) -> WindowAllocation:
    """Guarded weights of every engine of ``settings`` from one window's training closes.

    Parameters
    ----------
    train_closes : DataFrame of shape (n_dates, n_symbols)
        Closes of the training window (NaN where a symbol did not trade); its simple returns
        (``n_dates - 1`` rows) are what engines see.
    eligible : iterable of str
        Symbols that may be held (point in time); those without a close on every training date
        are dropped.
    selected : iterable of str
        Symbols chosen by selection; only the eligible ones are held.
    settings : Settings
        ``engines`` and what :class:`SolverGuard` reads.
    """
    wanted = [str(s) for s in eligible]
    column_of = {symbol: i for i, symbol in enumerate(train_closes.columns.tolist())}
    block = train_closes.to_numpy(dtype=np.float64)[:, [column_of[s] for s in wanted]]
    complete = ~np.isnan(block).any(axis=0)
    eligible = [s for s, ok in zip(wanted, complete, strict=True) if ok]
    chosen = set(selected)
    held_selection = [s for s in eligible if s in chosen]
    values = block[:, complete]
    returns = values[1:] / values[:-1] - 1.0
    position = {symbol: i for i, symbol in enumerate(eligible)}
    guard = SolverGuard(settings)
    allocations: dict[str, Allocation] = {}
    for engine in settings.engines:
        held = held_selection if get_engine(engine).uses_selection else eligible
        columns = [position[s] for s in held]
        allocations[engine] = guard.allocate_values(engine, returns[:, columns], held)
    return WindowAllocation(eligible, held_selection, allocations)


def current_allocations(
    closes: pd.DataFrame, eligible: list[str], selected: list[str], settings: Settings
) -> pd.DataFrame:
    """Weights per engine from the last ``train`` returns of ``closes`` (dates x symbols).

    ``closes`` ends at the decision date. ``vetoes`` lists the engines vetoed on the way
    (``;``-separated reasons).
    """
    window = allocate_window(closes.iloc[-(settings.train + 1) :], eligible, selected, settings)
    rows = []
    for engine, allocation in window.allocations.items():
        vetoes = "; ".join(f"{veto.engine}: {veto.reason}" for veto in allocation.vetoes)
        rows += [
            {
                "engine": engine,
                "symbol": symbol,
                "weight": float(weight),
                "engine_used": allocation.engine_used,
                "vetoes": vetoes,
            }
            for symbol, weight in allocation.weights.items()
        ]
    table = pd.DataFrame(rows, columns=list(ALLOCATION_COLUMNS))
    text = ["engine", "symbol", "engine_used", "vetoes"]
    return table.astype({**dict.fromkeys(text, "str"), "weight": "float64"})  # typed when empty
