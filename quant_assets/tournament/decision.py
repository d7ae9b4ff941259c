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

Records = dict[str, dict[str, list[Any]]]
"""Record tables by name (``weights``, ``guard``, ``vetoes``), each as columns: a list of JSON-ready
values per column name (columns, not rows: a sweep's weights are millions of values, and a row
of repeated keys per value would cost most of the time to build, send and read)."""
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "weights": ("window", "train_end", "profile", "engine", "symbol", "weight"),
    "guard": (
        "window",
        "train_end",
        "profile",
        "engine",
        "engine_used",
        "selected",
        "eligible",
        "ridge",
        "condition_before",
        "condition_after",
    ),
    "vetoes": ("window", "train_end", "profile", "engine", "vetoed_engine", "reason"),
}
"""The columns of each record table."""


def no_records() -> Records:
    """Empty record tables."""
    return {name: {column: [] for column in columns} for name, columns in RECORD_COLUMNS.items()}


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
    window, train_end, profile = key["window"], key["train_end"], key["profile"]
    weights, guard, vetoes = records["weights"], records["guard"], records["vetoes"]
    for engine, allocation in decision.allocations.items():
        held = len(allocation.symbols)
        weights["window"] += [window] * held
        weights["train_end"] += [train_end] * held
        weights["profile"] += [profile] * held
        weights["engine"] += [engine] * held
        weights["symbol"] += allocation.symbols
        weights["weight"] += allocation.values.tolist()
        hardening = allocation.hardening
        for column, value in (
            ("window", window),
            ("train_end", train_end),
            ("profile", profile),
            ("engine", engine),
            ("engine_used", allocation.engine_used),
            ("selected", len(decision.selected)),
            ("eligible", len(decision.eligible)),
            ("ridge", hardening.ridge),
            ("condition_before", hardening.condition_before),
            ("condition_after", hardening.condition_after),
        ):
            guard[column].append(value)
        for veto in allocation.vetoes:
            for column, value in (
                ("window", window),
                ("train_end", train_end),
                ("profile", profile),
                ("engine", engine),
                ("vetoed_engine", veto.engine),
                ("reason", veto.reason),
            ):
                vetoes[column].append(value)
