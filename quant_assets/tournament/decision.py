"""One window's allocation: every engine's guarded weights, from the training prices only.

The window row carries whom it may hold and whom it selected (decided at its training end by
:mod:`quant_assets.tournament.choices`); only price rows up to the training end are read, so
nothing after it can reach the weights. The result is plain records (JSON-ready), the unit
every backend returns.
"""

from collections.abc import Mapping
from typing import Any

import pandas as pd

from quant_assets.allocation.portfolio import (
    AllocationKeys,
    WindowAllocation,
    WindowCache,
    allocate_window,
)
from quant_assets.settings import Settings
from quant_assets.tournament.windows import price_positions

Records = dict[str, list[dict[str, Any]]]
"""Record tables by name (``weights``, ``guard``, ``vetoes``): lists of JSON-ready rows."""


def no_records() -> Records:
    """Empty record tables."""
    return {"weights": [], "guard": [], "vetoes": []}


def decide_window(
    prices: pd.DataFrame,
    window: Mapping[str, Any],
    profiles: Mapping[str, Settings],
    keys: Mapping[str, AllocationKeys] | None = None,
) -> Records:
    """Allocate for one window, for every profile sharing it (a sweep's points).

    ``window`` is a window row whose ``choices`` map each profile to its ``eligible`` and
    ``selected`` symbol lists. ``prices`` is the whole panel (dates x symbols); only the rows
    up to the window's training end are read. The profiles share one
    :class:`~quant_assets.allocation.portfolio.WindowCache`: a covariance or an allocation
    two of them would compute alike is computed once.
    """
    train_first, test_first = price_positions(pd.DatetimeIndex(prices.index), window)
    # Return k is price k+1 over price k: the training returns need prices train_first..test_first.
    train_closes = prices.iloc[train_first : test_first + 1]
    train_end = str(pd.Timestamp(window["train_end"]).date())
    cache = WindowCache()
    records = no_records()
    for profile, choice in window["choices"].items():
        settings = profiles[profile]
        decision = allocate_window(
            train_closes,
            choice["eligible"],
            choice["selected"],
            settings,
            cache,
            (keys or {}).get(profile),
        )
        key = {"window": int(window["window"]), "train_end": train_end, "profile": profile}
        _record(records, key, decision)
    return records


def _record(records: Records, key: dict[str, Any], decision: WindowAllocation) -> None:
    for engine, allocation in decision.allocations.items():
        row = {**key, "engine": engine}
        weights = allocation.weights
        records["weights"] += [
            {**row, "symbol": str(symbol), "weight": float(weight)}
            for symbol, weight in zip(
                weights.index.tolist(), weights.to_numpy().tolist(), strict=True
            )
        ]
        records["guard"].append(
            {
                **row,
                "engine_used": allocation.engine_used,
                "selected": len(decision.selected),
                "eligible": len(decision.eligible),
                "ridge": allocation.hardening.ridge,
                "condition_before": allocation.hardening.condition_before,
                "condition_after": allocation.hardening.condition_after,
            }
        )
        records["vetoes"] += [
            {**row, "vetoed_engine": veto.engine, "reason": veto.reason}
            for veto in allocation.vetoes
        ]
