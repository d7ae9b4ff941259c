"""One window's decision: select from the training prices, then every engine's guarded weights.

Only the rows up to the window's training end are read, so nothing after it can reach the
weights. The result is plain records (JSON-ready), the unit every backend returns.
"""

from collections.abc import Mapping
from typing import Any

import pandas as pd

from quant_assets.allocation.portfolio import allocate_window, eligible_in
from quant_assets.selection import select_symbols
from quant_assets.settings import Settings
from quant_assets.tournament.windows import window_positions

Records = dict[str, list[dict[str, Any]]]
"""Record tables by name (``weights``, ``guard``, ``vetoes``): lists of JSON-ready rows."""


def no_records() -> Records:
    """Empty record tables."""
    return {"weights": [], "guard": [], "vetoes": []}


def decide_window(
    prices: pd.DataFrame, window: Mapping[str, Any], settings: Settings, profile: str
) -> Records:
    """Select and allocate for one window, from its training prices only.

    ``prices`` is the whole panel (dates x symbols); only the rows up to the window's training
    end are read.
    """
    return_dates = prices.index[1:]
    train_first, test_first, _ = window_positions(return_dates, pd.Series(window))
    # Return k is price k+1 over price k: the training returns need prices train_first..test_first.
    train_closes = prices.iloc[train_first : test_first + 1]
    eligible = eligible_in(train_closes)
    if settings.selection == "all":
        selected = eligible
    else:
        table = select_symbols(train_closes[eligible], settings)
        selected = [str(s) for s in table.index[table["selected"].to_numpy()]]
    decision = allocate_window(train_closes, selected, settings)
    train_end = str(pd.Timestamp(window["train_end"]).date())
    key = {"window": int(window["window"]), "train_end": train_end, "profile": profile}
    records = no_records()
    for engine, allocation in decision.allocations.items():
        row = {**key, "engine": engine}
        records["weights"] += [
            {**row, "symbol": symbol, "weight": float(weight)}
            for symbol, weight in allocation.weights.items()
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
    return records
