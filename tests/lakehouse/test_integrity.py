from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from lakehouse.catalog import asset_views
from lakehouse.integrity import (
    DAMAGED_FOLDER,
    footer_problem,
    quarantine_file,
    scan,
    stored_files,
)
from tests.lakehouse.damage import cut_in_half, scramble_footer, spoil_first_page

RUNS = ["20260101-000000-aaaa", "20260102-000000-bbbb"]
NOW = datetime(2026, 11, 2, 12, 30, 45, 123456, tzinfo=UTC)


@pytest.fixture
def lake(tmp_path: Path) -> LakehouseStore:
    store = LakehouseStore(tmp_path / "lake")
    rng = np.random.default_rng(3)
    for run_id in RUNS:
        store.write_frame(
            pd.DataFrame({"x": rng.normal(size=500)}), store.run_dir("scores", run_id)
        )
        store.write_document({"run": run_id}, store.run_dir("run_manifest", run_id))
    store.write_frame(pd.DataFrame({"close": [1.0, 2.0]}), store.symbol_dir("AAPL"))
    store.write_document({"vanished": []}, store.asset_dir("market_data_status"))
    return store


def test_healthy_lakehouse_scans_clean(lake: LakehouseStore):
    assert scan(lake.root) == []
    assert len(list(stored_files(lake.root))) == 6


def test_scan_finds_every_kind_of_damage(lake: LakehouseStore):
    truncated = lake.run_dir("scores", RUNS[0]) / "part-0.parquet"
    spoiled = lake.run_dir("scores", RUNS[1]) / "part-0.parquet"
    scrambled = lake.symbol_path("AAPL")
    invalid_json = lake.run_dir("run_manifest", RUNS[1]) / "document.json"
    unpartitioned = lake.asset_dir("market_data_status") / "document.json"
    cut_in_half(truncated)
    spoil_first_page(spoiled)
    scramble_footer(scrambled)
    invalid_json.write_text('{"run": ', encoding="utf-8")
    unpartitioned.write_bytes(b"\xff\xfe not utf-8")
    found = {entry.path: entry for entry in scan(lake.root)}
    assert sorted(found) == sorted([truncated, spoiled, scrambled, invalid_json, unpartitioned])
    assert (found[truncated].asset, found[truncated].partition) == ("scores", f"run_id={RUNS[0]}")
    assert found[scrambled].partition_key == "AAPL"
    assert (found[unpartitioned].partition, found[unpartitioned].partition_key) == (None, None)
    assert "JSONDecodeError" in found[invalid_json].error
    assert all(entry.error for entry in found.values())


def test_footer_check_is_cheap_but_shallow(lake: LakehouseStore):
    path = lake.run_dir("scores", RUNS[0]) / "part-0.parquet"
    assert footer_problem(path) is None
    spoil_first_page(path)
    assert footer_problem(path) is None  # page damage needs a full read (scan)
    cut_in_half(path)
    assert "truncated" in (footer_problem(path) or "")
    path.write_bytes(b"")
    assert "0 bytes" in (footer_problem(path) or "")
    with pytest.raises(FileNotFoundError):
        footer_problem(path.with_name("absent.parquet"))


def test_quarantine_moves_the_file_aside_intact(lake: LakehouseStore):
    path = lake.run_dir("scores", RUNS[0]) / "part-0.parquet"
    original = cut_in_half(path)
    damaged_bytes = path.read_bytes()
    moved = quarantine_file(path, now=NOW)
    assert moved == (
        lake.root
        / DAMAGED_FOLDER
        / "scores"
        / f"run_id={RUNS[0]}"
        / "20261102-123045-123456-part-0.parquet"
    )
    assert moved.read_bytes() == damaged_bytes != original
    assert not path.exists() and not path.parent.exists()  # the partition reads as absent
    assert scan(lake.root) == []
    assert asset_views(lake.root).files["scores"] == [
        lake.run_dir("scores", RUNS[1]).resolve() / "part-0.parquet"
    ]
    assert lake.run_ids() == RUNS  # RUNS[0] still has its manifest
    lake.write_frame(pd.DataFrame({"x": [1.0]}), lake.run_dir("scores", RUNS[0]))
    assert len(asset_views(lake.root).files["scores"]) == 2


def test_quarantine_of_an_unpartitioned_document(lake: LakehouseStore):
    path = lake.asset_dir("market_data_status") / "document.json"
    moved = quarantine_file(path, now=NOW)
    assert moved.parent == lake.root / DAMAGED_FOLDER / "market_data_status"
    assert lake.asset_dir("market_data_status").is_dir()  # the asset folder itself stays


def test_quarantine_never_overwrites_and_refuses_foreign_files(lake: LakehouseStore, tmp_path):
    path = lake.run_dir("run_manifest", RUNS[0]) / "document.json"
    first = quarantine_file(path, now=NOW)
    lake.write_document({"run": "again"}, lake.run_dir("run_manifest", RUNS[0]))
    with pytest.raises(FileExistsError, match="nothing was moved"):
        quarantine_file(path, now=NOW)
    assert path.exists() and first.read_text(encoding="utf-8") != path.read_text(encoding="utf-8")
    stray = tmp_path / "notes.txt"
    stray.write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="not a stored lakehouse file"):
        quarantine_file(stray)
    with pytest.raises(FileNotFoundError):
        quarantine_file(lake.run_dir("scores", "20260105-000000-dddd") / "part-0.parquet")


def test_a_file_changed_outside_the_store_fails_its_recorded_checksum(tmp_path):
    import pandas as pd

    from lakehouse import LakehouseStore
    from lakehouse.integrity import scan

    store = LakehouseStore(tmp_path)
    good = store.write_frame(pd.DataFrame({"close": [1.0, 2.0]}), store.symbol_dir("AAPL"))
    other = store.write_frame(pd.DataFrame({"close": [3.0]}), store.symbol_dir("MSFT"))
    assert scan(tmp_path) == []
    pd.DataFrame({"x": [1]}).to_parquet(good)  # a valid Parquet, but not what the store wrote
    (found,) = scan(tmp_path)
    assert found.path == good and "checksum" in found.error
    assert other.exists()
