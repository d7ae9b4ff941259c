"""What a tear-sheet is drawn from: one run's stored assets, checked, and how to read them.

:class:`TearsheetInputs` holds the frames and the manifest exactly as the lakehouse stores them
(one field per asset, named like the asset), so a caller may load them from anywhere;
:func:`load_tearsheet_inputs` reads them from a lakehouse folder.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from lakehouse import LakehouseStore, validate_run_id
from lakehouse.store import RUN_MANIFEST
from quant_assets.tournament.reporting import LEADERBOARD_COLUMNS, WINDOW_RESULT_COLUMNS

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "closes": ("date", "symbol", "close"),
    "regimes": ("date", "market_return", "market_volatility", "volatility_threshold", "label"),
    "selections": ("symbol", "selected"),
    "allocations": ("engine", "symbol", "weight"),
    "tournament_windows": ("profile", "window", "train_end", "test_start", "test_end"),
    "tournament_weights": ("window", "train_end", "profile", "engine", "symbol", "weight"),
    "tournament_guard": ("window", "profile", "engine", "engine_used"),
    "tournament_vetoes": ("window", "train_end", "profile", "engine", "vetoed_engine", "reason"),
    "tournament_returns": ("date", "profile", "engine", "net_return"),
    "tournament_window_results": WINDOW_RESULT_COLUMNS,
    "leaderboard": LEADERBOARD_COLUMNS,
    "overfitting": (
        "logit",
        "in_sample_sharpe",
        "out_of_sample_sharpe",
        "pbo",
        "degradation_slope",
        "degradation_intercept",
    ),
}
"""Columns the tear-sheet reads from each stored frame."""
REQUIRED_MANIFEST_KEYS = ("run_id", "profile", "settings")
OPTIONAL_ASSETS = ("overfitting",)
"""Assets a run stored before they existed lacks: the tear-sheet goes without them."""


@dataclass(frozen=True)
class TearsheetInputs:
    """One run's stored assets, as the lakehouse holds them (long frames, a JSON manifest).

    Attributes
    ----------
    run_manifest : mapping
        The ``run_manifest`` document: run_id, created_at, profile, settings, settings_hash,
        packages, git, inputs.
    closes : DataFrame
        Long daily closes: date, symbol, close.
    regimes : DataFrame
        Per date: market_return, market_volatility, volatility_threshold, trend, label.
    selections, allocations : DataFrame
        The latest selection and allocation of the run.
    tournament_windows, tournament_weights, tournament_guard, tournament_vetoes : DataFrame
        The walk-forward windows, target weights, guard records and vetoes.
    tournament_returns : DataFrame
        Long daily net returns: date, profile, engine, net_return.
    tournament_window_results : DataFrame
        Per window x strategy: turnover, cost, gross and net return, vetoes.
    leaderboard : DataFrame
        One row per strategy, best Sharpe ratio first.
    overfitting : DataFrame or None
        The run's CSCV splits and PBO; None for a run stored before it existed.

    Raises
    ------
    ValueError
        When a frame lacks a column the tear-sheet reads, or the manifest lacks a key, naming
        both.
    """

    run_manifest: Mapping[str, Any]
    closes: pd.DataFrame
    regimes: pd.DataFrame
    selections: pd.DataFrame
    allocations: pd.DataFrame
    tournament_windows: pd.DataFrame
    tournament_weights: pd.DataFrame
    tournament_guard: pd.DataFrame
    tournament_vetoes: pd.DataFrame
    tournament_returns: pd.DataFrame
    tournament_window_results: pd.DataFrame
    leaderboard: pd.DataFrame
    overfitting: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.run_manifest, Mapping):
            raise ValueError(f"run_manifest must be a mapping, got {type(self.run_manifest)}")
        missing_keys = [k for k in REQUIRED_MANIFEST_KEYS if k not in self.run_manifest]
        if missing_keys:
            raise ValueError(f"run_manifest lacks {missing_keys}: is it a run_manifest document?")
        for asset, columns in REQUIRED_COLUMNS.items():
            frame = getattr(self, asset)
            if frame is None and asset in OPTIONAL_ASSETS:
                continue
            if not isinstance(frame, pd.DataFrame):
                raise ValueError(f"{asset} must be a DataFrame, got {type(frame)}")
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(
                    f"{asset} lacks columns {missing}: pass the stored {asset} asset unchanged"
                )

    @property
    def run_id(self) -> str:
        """The run's id, from the manifest."""
        return str(self.run_manifest["run_id"])


def tearsheet_assets() -> tuple[str, ...]:
    """Names of every asset a tear-sheet reads, in field order (the manifest first)."""
    return tuple(field.name for field in fields(TearsheetInputs))


def load_tearsheet_inputs(store_root: str | Path, run_id: str) -> TearsheetInputs:
    """Read every asset of ``run_id`` from the lakehouse at ``store_root``.

    Raises
    ------
    InvalidRunId
        When ``run_id`` is not a valid run id.
    FileNotFoundError
        Listing every asset the run lacks under ``store_root``, when any is missing.
    """
    store = LakehouseStore(store_root)
    validate_run_id(run_id)
    loaded: dict[str, Any] = {}
    missing = []
    for asset in tearsheet_assets():
        folder = store.run_dir(asset, run_id)
        try:
            if asset == RUN_MANIFEST:
                loaded[asset] = store.read_document(folder)
            else:
                loaded[asset] = store.read_frame(folder)
        except FileNotFoundError:
            if asset not in OPTIONAL_ASSETS:
                missing.append(asset)
    if missing:
        raise FileNotFoundError(
            f"run {run_id} under {store.root} lacks {missing}: materialize its production job "
            "first (QuantSDK.run(run_id=...)), or check the lakehouse root"
        )
    return TearsheetInputs(**loaded)
