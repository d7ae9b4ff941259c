"""Sweeps: a grid of settings run as the profiles of one tournament, sharing what they can.

A grid maps setting names to lists of values, e.g. ``{"top_n": [5, 10, 20], "max_weight":
[0.1, 0.2]}``. Its points are every combination, in the grid's order (the last setting varies
fastest), and each point is a profile of the run's tournament named after its values:
``top_n=5,max_weight=0.1``. A point's settings are the run's settings with its values applied.

Settings that decide what the run stores once for all points (its data: ``symbols``,
``start_date``...; where it runs: ``executor``...) cannot vary (:data:`FIXED_IN_SWEEP`).

Work that does not depend on a point is done once. The settings are grouped by the stage that
reads them (:data:`FEATURE_FIELDS`, :data:`REGIME_FIELDS`, :data:`MEMBERSHIP_FIELDS`,
:data:`WINDOW_FIELDS`, :data:`GUARD_FIELDS`), and :func:`stage_key` gives the key under which a
stage's result is shared: points with equal keys share features, regimes, membership, scores,
windows, and each window's covariance with its hardening.
"""

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from quant_assets.settings import Settings

FIXED_IN_SWEEP: dict[str, str] = {
    "data_root": "a run lives in one lakehouse",
    "profile": "points are applied on top of the run's profile",
    "source": "the run's data is stored once for all points",
    "source_path": "the run's data is stored once for all points",
    "synthetic_symbols": "the run's data is stored once for all points",
    "synthetic_years": "the run's data is stored once for all points",
    "synthetic_end": "the run's data is stored once for all points",
    "symbols": "the run's closes are stored once for all points",
    "start_date": "the run's closes are stored once for all points",
    "end_date": "the run's closes are stored once for all points",
    "executor": "one run has one executor",
    "workers": "one run has one executor",
    "ray_address": "one run has one executor",
    "strict": "contract checks are per run",
    "auto_sync": "a sensor setting, not a run's",
}
"""Settings a grid may not vary, and why."""
FEATURE_FIELDS = (
    "volatility_window",
    "momentum_window",
    "momentum_skip",
    "entropy_window",
    "entropy_order",
    "hurst_window",
    "signals",
)
"""What the ``features`` table depends on."""
REGIME_FIELDS = ("regime_volatility_window", "regime_trend_window", "regime_volatility_quantile")
"""What the ``regimes`` labels depend on."""
MEMBERSHIP_FIELDS = ("train", "min_history", "max_missing_fraction")
"""What point-in-time membership depends on (besides the windows' dates)."""
SCORE_FIELDS = (*FEATURE_FIELDS, *REGIME_FIELDS, "score")
"""What one date's scores depend on (besides who is eligible)."""
WINDOW_FIELDS = ("train", "test", "window_mode")
"""What the walk-forward windows depend on."""
GUARD_FIELDS = ("covariance", "kappa_max", "max_weight", "min_effective_holdings")
"""What the SolverGuard reads (hardening, veto, fallback)."""
MOMENT_FIELDS = ("covariance", "kappa_max")
"""What a window's hardened covariance depends on (besides the symbols held)."""
POINT_SEPARATOR = ","
"""Between the ``name=value`` parts of a point's profile name."""


class SweepError(ValueError):
    """A grid that cannot be run: an unknown or fixed setting, no values, or a bad point."""


def stage_key(settings: Settings, fields: Sequence[str]) -> str:
    """The values of ``fields`` in ``settings``, as one comparable string."""
    snapshot = settings.snapshot()
    return json.dumps({name: snapshot[name] for name in fields}, sort_keys=True)


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in order (the last setting varies fastest)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def point_name(point: Mapping[str, Any]) -> str:
    """``top_n=5,max_weight=0.1``: the profile name of one grid point."""
    return POINT_SEPARATOR.join(f"{name}={_text(value)}" for name, value in point.items())


def point_settings(settings: Settings, point: Mapping[str, Any]) -> Settings:
    """``settings`` with the point's values (a scalar for a list setting is a list of one)."""
    values = {}
    for name, value in point.items():
        is_list = Settings.model_fields[name].annotation in (list[str], list[str] | None)
        values[name] = [value] if is_list and not isinstance(value, list) else value
    return settings.clone(**values)


def check_grid(grid: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The grid with every value list as a list, or a :class:`SweepError` naming the problem."""
    known = set(Settings.model_fields)
    checked: dict[str, list[Any]] = {}
    if not grid:
        raise SweepError("a sweep needs a grid of at least one setting")
    for name, values in grid.items():
        if name not in known:
            raise SweepError(f"grid: unknown setting {name!r}")
        if name in FIXED_IN_SWEEP:
            raise SweepError(f"grid: {name!r} cannot vary within a run: {FIXED_IN_SWEEP[name]}")
        listed = list(values) if isinstance(values, list | tuple) else [values]
        if not listed:
            raise SweepError(f"grid: {name!r} has no values")
        names = [_text(v) for v in listed]
        if len(set(names)) != len(names):
            raise SweepError(f"grid: {name!r} repeats a value: {names}")
        checked[name] = listed
    return checked


def sweep_profiles(settings: Settings, grid: Mapping[str, Sequence[Any]]) -> dict[str, Settings]:
    """Every point of ``grid`` as a named profile: ``{"top_n=5,max_weight=0.1": Settings}``.

    Raises
    ------
    SweepError
        For a grid :func:`check_grid` refuses, or a point whose settings are invalid (naming it).
    """
    profiles = {}
    for point in grid_points(check_grid(grid)):
        name = point_name(point)
        if "/" in name:
            raise SweepError(f"grid point {name!r}: a value may not contain '/'")
        try:
            profiles[name] = point_settings(settings, point)
        except ValueError as error:
            message = " ".join(str(error).split())
            raise SweepError(f"grid point {name!r} is not valid: {message}") from None
    return profiles


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
