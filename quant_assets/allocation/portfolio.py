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

from quant_assets.allocation.engines import AnyEngine, get_engine
from quant_assets.allocation.guard import Allocation, SolverGuard, WindowMoments
from quant_assets.contracts import AllocationsContract, column_names
from quant_assets.settings import Settings
from quant_assets.sweep import GUARD_FIELDS, MOMENT_FIELDS, stage_key
from quant_assets.typing import FloatArray

ALLOCATION_COLUMNS = column_names(AllocationsContract)


@dataclass(frozen=True)
class WindowAllocation:
    """Every engine's guarded allocation in one window, and who could be held."""

    eligible: list[str]
    selected: list[str]
    allocations: dict[str, Allocation]


class WindowCache:
    """What one window's allocations share across engines and profiles (sweep points).

    ``returns``: the complete training returns of each eligible set (and the symbols kept);
    ``closes``: the window's closes as an array, with each symbol's column. ``moments``: the
    hardened covariance of each set of held symbols, per covariance settings
    (:data:`~quant_assets.sweep.MOMENT_FIELDS`), so every engine and profile holding the same
    symbols in the window estimates and hardens it once. ``allocations``: each engine's guarded
    allocation, per held symbols, guard settings and the settings the engine reads (its
    ``reads``; every setting for a plug-in that does not declare them). A hit returns exactly
    what the computation would: the same function of the same inputs.
    """

    def __init__(self) -> None:
        self.moments: dict[tuple[str, tuple[str, ...]], WindowMoments] = {}
        self.allocations: dict[tuple[str, ...], Allocation] = {}
        self.returns: dict[tuple[str, ...], tuple[list[str], FloatArray]] = {}
        self.closes: tuple[dict[str, int], FloatArray] | None = None


@dataclass(frozen=True)
class AllocationKeys:
    """The cache keys of one profile's settings (computed once per profile, not per window)."""

    guard: str
    moments: str
    engines: dict[str, str]

    @classmethod
    def of(cls, settings: Settings) -> "AllocationKeys":
        """The keys of ``settings``: guard, covariance, and what each engine reads."""
        return cls(
            guard=stage_key(settings, GUARD_FIELDS),
            moments=stage_key(settings, MOMENT_FIELDS),
            engines={e: _reads_key(get_engine(e), settings) for e in settings.engines},
        )


def allocate_window(
    train_closes: pd.DataFrame,
    eligible: Iterable[str],
    selected: Iterable[str],
    settings: Settings,
    cache: WindowCache | None = None,
    keys: AllocationKeys | None = None,
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
    cache : WindowCache, optional
        Shared by the profiles allocating the same window (a sweep's points).
    keys : AllocationKeys, optional
        ``AllocationKeys.of(settings)``, when the caller has it.
    """
    cache = cache or WindowCache()
    keys = keys or AllocationKeys.of(settings)
    wanted = tuple(str(s) for s in eligible)
    if wanted not in cache.returns:
        if cache.closes is None:
            column_of = {symbol: i for i, symbol in enumerate(train_closes.columns.tolist())}
            cache.closes = column_of, train_closes.to_numpy(dtype=np.float64)
        column_of, closes = cache.closes
        block = closes[:, [column_of[s] for s in wanted]]
        complete = np.asarray(~np.isnan(block).any(axis=0), dtype=bool)
        values = block[:, complete]
        cache.returns[wanted] = (
            [s for s, ok in zip(wanted, complete, strict=True) if ok],
            values[1:] / values[:-1] - 1.0,
        )
    eligible, returns = cache.returns[wanted]
    chosen = set(selected)
    held_selection = [s for s in eligible if s in chosen]
    position = {symbol: i for i, symbol in enumerate(eligible)}
    guard = SolverGuard(settings)
    allocations: dict[str, Allocation] = {}
    for engine in settings.engines:
        chosen_engine = get_engine(engine)
        held = held_selection if chosen_engine.uses_selection else eligible
        key = (engine, keys.guard, keys.engines[engine], *held)
        if key not in cache.allocations:
            columns = [position[s] for s in held]
            moments = cache.moments.get((keys.moments, tuple(held)))
            if moments is None and held:
                moments = WindowMoments(guard, np.ascontiguousarray(returns[:, columns]))
                cache.moments[(keys.moments, tuple(held))] = moments
            cache.allocations[key] = guard.allocate_values(
                engine, returns[:, columns], held, moments
            )
        allocations[engine] = cache.allocations[key]
    return WindowAllocation(eligible, held_selection, allocations)


def _reads_key(engine: AnyEngine, settings: Settings) -> str:
    """The settings ``engine`` reads, as a key: its ``reads`` if declared, else all of them."""
    reads = getattr(engine, "reads", None)
    if reads is None:
        return settings.content_hash()
    return stage_key(settings, tuple(reads))


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
