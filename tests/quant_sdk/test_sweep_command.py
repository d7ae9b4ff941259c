"""`quant sweep`'s --grid spelling."""

import pytest

from quant_sdk.cli import build_parser
from quant_sdk.commands import UsageError, parse_grid


def test_grid_values_are_json_where_they_are_json():
    grid = parse_grid(
        [
            "top_n=5,10,20",
            "max_weight=0.1,0.2",
            'engines=["hrp","market"],inverse_variance,skfolio.optimization:MeanRisk?risk_measure=CVAR',
        ]
    )
    assert grid == {
        "top_n": [5, 10, 20],
        "max_weight": [0.1, 0.2],
        "engines": [
            ["hrp", "market"],
            "inverse_variance",
            "skfolio.optimization:MeanRisk?risk_measure=CVAR",
        ],
    }


@pytest.mark.parametrize("pair", ["top_n", "top_n=", "=5"])
def test_a_bad_grid_is_a_usage_error(pair):
    with pytest.raises(UsageError, match="--grid expects"):
        parse_grid([pair])


def test_sweep_takes_profile_set_and_repeated_grids():
    args = build_parser().parse_args(
        ["sweep", "--profile", "production", "--grid", "top_n=5,10", "--grid", "cost_bps=0,5"]
    )
    assert args.grid == ["top_n=5,10", "cost_bps=0,5"] and args.profile == "production"
