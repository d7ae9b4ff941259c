"""The real ``hydrate`` job on an ephemeral instance: Dagster records what the lakehouse holds."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from dagster_defs import build_definitions
from dagster_defs.tags import RANGE_END_TAG, RANGE_START_TAG
from lakehouse import LakehouseStore
from lakehouse.store import MARKET_DATA, SYMBOL_PARTITIONS
from quant_assets.assets.hydration import QUARANTINE_CHECK
from quant_assets.assets.partitions import symbol_partitions
from quant_assets.hydration.quarantine import entry, quarantined
from quant_assets.settings import Settings

DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
KEY = dg.AssetKey(MARKET_DATA)
CHECK = dg.AssetCheckKey(KEY, QUARANTINE_CHECK)


def _csv(folder: Path, symbol: str, closes: list[object], days: list[str] = DAYS) -> None:
    pd.DataFrame({"date": days[: len(closes)], "close": closes}).to_csv(
        folder / f"{symbol}.csv", index=False
    )


class Hydration:
    """A files source folder, a lakehouse and an ephemeral Dagster instance."""

    def __init__(self, root: Path, strict: bool = False) -> None:
        self.source_dir = root / "source"
        self.source_dir.mkdir(exist_ok=True)
        settings = Settings(
            data_root=root / "lake", source="files", source_path=self.source_dir, strict=strict
        )
        self.store = LakehouseStore(settings.data_root)
        self.defs = build_definitions(settings)
        self.instance = dg.DagsterInstance.ephemeral()

    def run(self, symbols: list[str]) -> dg.ExecuteInProcessResult:
        known = set(self.instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
        self.instance.add_dynamic_partitions(
            SYMBOL_PARTITIONS, [s for s in symbols if s not in known]
        )
        order = list(self.instance.get_dynamic_partitions(SYMBOL_PARTITIONS))
        wanted = sorted(symbols, key=order.index)
        return self.defs.resolve_job_def("hydrate").execute_in_process(
            instance=self.instance,
            tags={RANGE_START_TAG: wanted[0], RANGE_END_TAG: wanted[-1]},
            raise_on_error=False,
        )

    def materialized(self) -> list[str]:
        return sorted(self.instance.get_materialized_partitions(KEY))

    def failed(self) -> list[str]:
        status = get_and_update_asset_status_cache_value(self.instance, KEY, symbol_partitions)
        if status is None:
            return []
        subset = status.deserialize_failed_partition_subsets(symbol_partitions)
        return sorted(subset.get_partition_keys())

    def check(self, symbol: str) -> AssetCheckExecutionRecordStatus | None:
        """The latest recorded result of the quarantine check of ``symbol`` (None: never)."""
        history = self.instance.event_log_storage.get_asset_check_execution_history(
            CHECK, limit=1, partition_filter=PartitionKeyFilter(key=symbol)
        )
        return history[0].status if history else None

    def materialization(self, symbol: str) -> dg.AssetMaterialization:
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=KEY, asset_partitions=[symbol]), limit=1
        ).records
        return records[0].asset_materialization

    def summary(self) -> dict:
        """The metadata of the last run's summary (an observation with no partition)."""
        (record,) = self.instance.fetch_observations(KEY, limit=1).records
        assert record.partition_key is None
        return record.asset_observation.metadata

    def stored(self, symbol: str) -> pd.DataFrame:
        return self.store.read_frame(self.store.symbol_dir(symbol))


PASSED = AssetCheckExecutionRecordStatus.SUCCEEDED
FAILED = AssetCheckExecutionRecordStatus.FAILED


@pytest.mark.parametrize("bad", ["AAA", "ZZZ"])  # sorted before, and after, the good symbol
def test_one_bad_file_fails_only_its_partition_in_either_order(tmp_path: Path, bad: str):
    lake = Hydration(tmp_path)
    _csv(lake.source_dir, "MMM", [10.0, 11.0, 12.0])
    _csv(lake.source_dir, bad, [10.0, "abc", 12.0])
    result = lake.run(["AAA" if bad == "AAA" else "MMM", "ZZZ" if bad == "ZZZ" else "MMM"])
    assert result.success  # not strict: the run succeeds with the bad symbol recorded as failed
    assert lake.store.symbols() == ["MMM"] == lake.materialized()
    assert lake.check(bad) == FAILED
    assert lake.check("MMM") is None  # hydrations record the changes of quarantine status
    assert lake.stored("MMM")["close"].tolist() == [10.0, 11.0, 12.0]
    (row,) = quarantined(lake.store).itertuples()
    assert (row.symbol, row.column, row.rows) == (bad, "close", [1])
    metadata = lake.materialization("MMM").metadata
    assert metadata["dagster/row_count"].value == 3 and metadata["new_rows"].value == 3
    assert "quarantine" not in metadata and "report" not in metadata  # small per-symbol events
    summary = lake.summary()  # the run's tables, once
    assert summary["run_quarantined"].value == 1 and summary["run_hydrated"].value == 1
    assert f"| {bad} " in summary["quarantine"].value and "non-numeric" in (
        summary["quarantine"].value
    )
    assert "| MMM " in summary["report"].value
    evaluation = lake.instance.event_log_storage.get_asset_check_execution_history(
        CHECK, limit=1, partition_filter=PartitionKeyFilter(key=bad)
    )[0].event.dagster_event.event_specific_data
    assert evaluation.metadata["column"].value == "close"
    assert evaluation.metadata["file"].value == str(lake.source_dir / f"{bad}.csv")


def test_strict_fails_the_run_and_exactly_the_bad_partitions(tmp_path: Path):
    lake = Hydration(tmp_path, strict=True)
    _csv(lake.source_dir, "AAA", [10.0, float("inf"), 12.0])
    _csv(lake.source_dir, "MMM", [10.0, 11.0, 12.0])
    result = lake.run(["AAA", "MMM"])
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.user_failure_data
    assert "1 of 2 symbols quarantined (AAA)" in failure.description
    assert lake.materialized() == ["MMM"] and lake.failed() == ["AAA"]
    assert lake.store.symbols() == ["MMM"]


def _hydrated(tmp_path: Path) -> Hydration:
    lake = Hydration(tmp_path)
    _csv(lake.source_dir, "SYM", [10.0, 11.0, 12.0])
    assert lake.run(["SYM"]).success
    return lake


@pytest.mark.parametrize(
    "content, reason",
    [
        ("date,close\n2024-01-02,10\n2024-01-03,inf\n2024-01-04,12\n2024-01-05,13\n", "infinite"),
        ("date,close\n2024-01-02,10\n2024-01-03,11\n2024-01-04,abc\n", "non-numeric `close`"),
        ("date,close\n2024-01-02,$10\n2024-01-03,$11\n2024-01-04,$12\n", "non-numeric `close`"),
        (
            "date,close\n2024-01-02,10\n2024-01-03,11\n2024-01-04,12000\n2024-01-05,12.5\n",
            "implausible one-day spike",
        ),
        (
            "date,close\n2024-01-02T00:00-05:00,10\n2024-01-03T00:00+01:00,11\n",
            "dates in mixed time zones (-05:00: rows [0]; +01:00: rows [1])",
        ),
        ("", "empty file"),
        ("date,price\n2024-01-02,10\n", "missing column(s) ['close']"),
        ("date,close\n2024-01-02,10\n2024-01-02,10\n", "duplicate dates"),
        ("date,close\n2024-01-02,10\n2024-01-03,-1\n", "non-positive `close`"),
    ],
)
def test_bad_input_is_quarantined_and_stored_good_data_survives(tmp_path: Path, content, reason):
    lake = _hydrated(tmp_path)
    before = lake.stored("SYM")
    (lake.source_dir / "SYM.csv").write_text(content)
    assert lake.run(["SYM"]).success
    pd.testing.assert_frame_equal(lake.stored("SYM"), before)
    assert lake.check("SYM") == FAILED
    recorded = entry(lake.store, "SYM")
    assert recorded is not None and reason in recorded["message"]
    assert (
        str(lake.source_dir / "SYM.csv") in recorded["message"] and "'SYM'" in recorded["message"]
    )
    assert recorded["stored_rows"] == 3


def test_a_corrupt_parquet_is_quarantined_with_a_clear_message(tmp_path: Path):
    lake = _hydrated(tmp_path)
    (lake.source_dir / "SYM.csv").unlink()
    (lake.source_dir / "SYM.parquet").write_bytes(b"PAR1 corrupt")
    assert lake.run(["SYM"]).success
    assert "unreadable Parquet" in entry(lake.store, "SYM")["message"]


def test_dates_at_one_offset_are_stored_as_their_calendar_days(tmp_path: Path):
    lake = Hydration(tmp_path)
    content = "date,close\n2024-01-02T00:00-05:00,10\n2024-01-03T00:00-05:00,11\n"
    (lake.source_dir / "TZ.csv").write_text(content)
    assert lake.run(["TZ"]).success and lake.materialized() == ["TZ"]
    assert lake.stored("TZ")["date"].tolist() == [pd.Timestamp(d) for d in DAYS[:2]]


def test_a_fixed_file_clears_the_quarantine_and_the_check(tmp_path: Path):
    lake = _hydrated(tmp_path)
    (lake.source_dir / "SYM.csv").write_text("date,close\n2024-01-02,10\n2024-01-03,abc\n")
    assert lake.run(["SYM"]).success and lake.check("SYM") == FAILED
    _csv(lake.source_dir, "SYM", [10.0, 11.0, 12.0, 13.0])
    assert lake.run(["SYM"]).success
    assert lake.check("SYM") == PASSED and entry(lake.store, "SYM") is None
    assert lake.stored("SYM")["close"].tolist() == [10.0, 11.0, 12.0, 13.0]
    assert lake.materialization("SYM").metadata["new_rows"].value == 1


def test_a_restated_file_replaces_the_history_and_says_so(tmp_path: Path):
    lake = Hydration(tmp_path)
    days = [str(d.date()) for d in pd.bdate_range("2024-01-02", periods=30)]
    closes = [100.0 + i for i in range(30)]
    _csv(lake.source_dir, "ADJ", closes, days)
    assert lake.run(["ADJ"]).success
    _csv(lake.source_dir, "ADJ", [c * 0.5 for c in closes], days)  # a 2:1 split, adjusted back
    assert lake.run(["ADJ"]).success
    metadata = lake.materialization("ADJ").metadata
    assert metadata["restated_rows"].value == 30
    assert metadata["restatement_factor"].value == pytest.approx(0.5)
    assert lake.stored("ADJ")["close"].tolist() == [c * 0.5 for c in closes]


def test_hydrating_twice_changes_nothing(tmp_path: Path):
    lake = _hydrated(tmp_path)
    path = lake.store.symbol_path("SYM")
    mtime = path.stat().st_mtime_ns
    assert lake.run(["SYM"]).success
    assert path.stat().st_mtime_ns == mtime
    assert lake.materialization("SYM").metadata["new_rows"].value == 0
