"""Sweeps: grid points as profiles of one tournament, each equal to its own tournament."""

import pandas as pd
import pytest

from quant_assets.settings import Settings
from quant_assets.sweep import SweepError, grid_points, point_name, sweep_profiles
from quant_assets.tournament import run_tournament

GRID = {"top_n": [3, 5], "engines": ["inverse_variance", "min_variance", "market"]}


def test_points_are_named_after_their_values():
    points = grid_points({"top_n": [5, 10], "max_weight": [0.1, 0.2]})
    assert [point_name(p) for p in points] == [
        "top_n=5,max_weight=0.1",
        "top_n=5,max_weight=0.2",
        "top_n=10,max_weight=0.1",
        "top_n=10,max_weight=0.2",
    ]
    profiles = sweep_profiles(Settings(), {"engines": ["hrp", "skfolio.optimization:MeanRisk"]})
    assert profiles["engines=hrp"].engines == ["hrp"]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"start_date": ["2019-01-01"]}, "cannot vary within a run"),
        ({"top_m": [1]}, "unknown setting 'top_m'"),
        ({"top_n": []}, "has no values"),
        ({"top_n": [0]}, "grid point 'top_n=0' is not valid"),
        ({"engines": ["min_varience"]}, "did you mean 'min_variance'"),
    ],
)
def test_bad_grids_are_refused(grid, message):
    with pytest.raises(SweepError, match=message):
        sweep_profiles(Settings(), grid)


def test_every_point_equals_its_own_tournament(recent_closes):
    base = Settings.for_profile("canary", executor="serial", min_history=252, test=42)
    profiles = sweep_profiles(base, GRID)
    together = run_tournament(recent_closes, profiles, base=base)
    assert len(together.leaderboard) == 6
    for name, settings in profiles.items():
        alone = run_tournament(recent_closes, {name: settings})
        pd.testing.assert_frame_equal(
            together.weights[together.weights["profile"] == name].reset_index(drop=True),
            alone.weights,
            check_exact=True,
        )
        pd.testing.assert_frame_equal(
            together.returns[[c for c in together.returns if c.startswith(f"{name}/")]],
            alone.returns,
            check_exact=True,
        )
