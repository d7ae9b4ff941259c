"""Settings flow from the caller: an SDK given settings never reads QUANT_* variables."""

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from quant_assets.hydration import SyntheticSource
from quant_assets.settings import Settings
from quant_sdk import QuantSDK

MISLEADING_ENVIRONMENT = {
    "QUANT_DATA_ROOT": "elsewhere",
    "QUANT_SOURCE": "bundled",
    "QUANT_SEED": "123",
    "QUANT_SYNTHETIC_SYMBOLS": "9",
    "QUANT_SYNTHETIC_YEARS": "10",
    "QUANT_TOP_N": "2",
    "QUANT_ENGINES": '["hrp"]',
}


@pytest.mark.parametrize("environment", ["empty", "misleading"])
def test_sdk_hydrates_and_runs_exactly_as_its_settings_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: str
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    for name in [n for n in os.environ if n.startswith("QUANT_")]:
        monkeypatch.delenv(name)
    if environment == "misleading":
        for name, value in MISLEADING_ENVIRONMENT.items():
            monkeypatch.setenv(name, value)
    settings = Settings(
        data_root=tmp_path / "lakehouse",
        source="synthetic",
        synthetic_symbols=7,
        synthetic_years=3,
        seed=1,
    )
    sdk = QuantSDK(settings=settings)

    stored = sdk.hydrate()
    source = SyntheticSource(7, 3, settings.synthetic_end, seed=1)
    assert stored["symbol"].tolist() == source.symbols()
    for symbol in source.symbols():
        bars = sdk.store.read_frame(sdk.store.symbol_dir(symbol))
        pd.testing.assert_frame_equal(bars, source.fetch(symbol), check_freq=False)

    run_id = sdk.new_run("canary", min_history=252, start_date=date(2022, 6, 1))
    leaderboard = sdk.run(run_id=run_id)
    manifest = sdk.load("run_manifest", run_id)
    expected = settings.with_profile("canary", min_history=252, start_date=date(2022, 6, 1))
    assert manifest["settings"] == expected.snapshot()
    assert sorted(leaderboard["engine"]) == sorted(expected.engines)
    assert not (tmp_path / "elsewhere").exists()
    assert not (tmp_path / "data").exists()
