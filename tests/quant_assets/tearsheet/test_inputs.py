import dataclasses
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import InvalidRunId
from quant_assets.tearsheet import TearsheetInputs, load_tearsheet_inputs
from quant_assets.tearsheet.inputs import REQUIRED_COLUMNS, tearsheet_assets

from .conftest import CanaryRun


def test_loads_every_asset_as_stored(canary_run: CanaryRun, canary_inputs: TearsheetInputs):
    assert canary_inputs.run_id == canary_run.run_id
    assert canary_inputs.run_manifest["profile"] == "canary"
    assert tearsheet_assets()[0] == "run_manifest"
    for asset in tearsheet_assets()[1:]:
        path = canary_run.root / asset / f"run_id={canary_run.run_id}" / "part-0.parquet"
        pd.testing.assert_frame_equal(getattr(canary_inputs, asset), pd.read_parquet(path))
    assert set(REQUIRED_COLUMNS) == set(tearsheet_assets()[1:])


def test_missing_assets_are_named(canary_run: CanaryRun, tmp_path: Path):
    root = tmp_path / "lakehouse"
    shutil.copytree(canary_run.root, root)
    shutil.rmtree(root / "regimes")
    shutil.rmtree(root / "leaderboard" / f"run_id={canary_run.run_id}")
    with pytest.raises(FileNotFoundError, match=r"lacks \['regimes', 'leaderboard'\]"):
        load_tearsheet_inputs(root, canary_run.run_id)
    with pytest.raises(InvalidRunId):
        load_tearsheet_inputs(root, "../market_data")


def test_inputs_are_checked(canary_inputs: TearsheetInputs):
    with pytest.raises(ValueError, match=r"tournament_returns lacks columns \['net_return'\]"):
        dataclasses.replace(
            canary_inputs,
            tournament_returns=canary_inputs.tournament_returns.drop(columns=["net_return"]),
        )
    with pytest.raises(ValueError, match="run_manifest lacks"):
        dataclasses.replace(canary_inputs, run_manifest={"profile": "canary"})
    with pytest.raises(ValueError, match="closes must be a DataFrame"):
        dataclasses.replace(canary_inputs, closes=None)
