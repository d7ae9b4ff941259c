from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_defs.instance import dagster_instance
from lakehouse import new_run_id
from quant_assets.hydration import FilesSource
from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from quant_sdk.cli import main
from tests.conftest import hydrate_cleanly


@pytest.fixture
def files_sdk(dagster_env: Path, bundled_closes: pd.DataFrame) -> QuantSDK:
    """Files source of four real symbols; KO and PG hydrated (PG truncated), JNJ and MSFT new."""
    source_dir = dagster_env / "source"
    source_dir.mkdir()
    recent = bundled_closes.loc["2022-01-01":]
    for symbol in ("JNJ", "KO", "MSFT", "PG"):
        recent[symbol].rename("close").rename_axis("date").to_frame().to_csv(
            source_dir / f"{symbol}.csv"
        )
    settings = Settings(data_root=dagster_env / "lakehouse", source="files", source_path=source_dir)
    sdk = QuantSDK(settings=settings)
    hydrate_cleanly(sdk.store, FilesSource(source_dir), ["KO", "PG"])
    pg = sdk.store.read_frame(sdk.store.symbol_dir("PG"))
    sdk.store.write_frame(pg.iloc[:-5], sdk.store.symbol_dir("PG"))
    with dagster_instance() as instance:
        instance.add_dynamic_partitions("symbols", ["KO", "PG"])
    return sdk


def test_backfill_stale_launches_one_backfill_of_exactly_the_stale_and_new(
    files_sdk, capsys, monkeypatch
):
    status = files_sdk.stale_symbols()
    assert dict(zip(status["symbol"], status["status"], strict=True)) == {
        "JNJ": "new",
        "KO": "fresh",
        "MSFT": "new",
        "PG": "stale",
    }
    backfill_id = files_sdk.backfill_stale()
    with dagster_instance() as instance:
        (backfill,) = instance.get_backfills()
        assert backfill.backfill_id == backfill_id
        assert backfill.asset_selection == [dg.AssetKey("market_data")]
        subset = backfill.asset_backfill_data.target_subset
        keys = subset.get_partitions_subset(dg.AssetKey("market_data")).get_partition_keys()
        assert sorted(keys) == ["JNJ", "MSFT", "PG"]
        assert list(instance.get_dynamic_partitions("symbols")) == ["KO", "PG", "JNJ", "MSFT"]
        assert backfill.run_config["ops"]["market_data"]["config"]["source"] == "files"
    assert files_sdk.backfill_stale() == backfill_id  # still unfinished: not launched again
    with pytest.raises(RuntimeError, match="no dagster-daemon is running"):
        files_sdk.backfill_stale(wait=True)
    with dagster_instance() as instance:
        assert len(instance.get_backfills()) == 1

    monkeypatch.setenv("QUANT_SOURCE_PATH", str(files_sdk.settings.source_path))
    assert main(["stale", "--source", "files"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 stale, 2 new, 0 quarantined, 0 vanished, 1 fresh")
    assert "MSFT" in out and "KO" not in out
    assert main(["backfill-stale", "--source", "files"]) == 0
    assert capsys.readouterr().out.strip() == backfill_id
    assert main(["backfill-stale", "--source", "files", "--wait"]) == 1
    assert "no dagster-daemon" in capsys.readouterr().err


def test_backfill_stale_returns_none_when_fresh(files_sdk):
    source = FilesSource(files_sdk.settings.source_path)
    hydrate_cleanly(files_sdk.store, source, ["JNJ", "MSFT", "PG"])
    assert files_sdk.backfill_stale() is None
    with dagster_instance() as instance:
        assert instance.get_backfills() == []


def test_prune_runs_keeps_the_newest_in_lakehouse_and_dagster(dagster_env: Path, capsys):
    sdk = QuantSDK()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    run_ids = [new_run_id(start + timedelta(days=day)) for day in range(5)]
    frame = pd.DataFrame({"x": [1.0]})
    for run_id in run_ids[:4]:  # the last one is registered in Dagster only
        sdk.store.write_frame(frame, sdk.store.run_dir("features", run_id))
        sdk.store.write_document({"run_id": run_id}, sdk.store.run_dir("run_requests", run_id))
    rejected = {  # a frame of runs 0 and 3 broke its contract: kept aside, never published
        run_id: sdk.store.rejected_dir("closes", run_id) / "part-0.parquet"
        for run_id in (run_ids[0], run_ids[3])
    }
    for path in rejected.values():
        path.parent.mkdir(parents=True)
        frame.to_parquet(path)
    with dagster_instance() as instance:
        instance.add_dynamic_partitions("run_id", [*run_ids[1:], "hand-made"])

    assert sdk.prune_runs(keep_last=2) == run_ids[:3]
    assert sdk.run_ids() == [run_ids[3]]
    assert not sdk.store.run_dir("run_requests", run_ids[0]).exists()
    assert not rejected[run_ids[0]].parent.exists() and rejected[run_ids[3]].exists()
    with dagster_instance() as instance:
        assert list(instance.get_dynamic_partitions("run_id")) == [*run_ids[3:], "hand-made"]

    assert main(["prune", "--keep-last", "1"]) == 0
    assert capsys.readouterr().out.split() == ["pruned", "1", "runs", run_ids[3]]
    assert not rejected[run_ids[3]].parent.exists()
    assert sdk.prune_runs(keep_last=1) == []
    with pytest.raises(ValueError, match="keep_last"):
        sdk.prune_runs(keep_last=-1)
