"""The instance's event log opens each database once and still behaves as Dagster's own.

The same job on Dagster's stock SQLite event log and on ours stores the same events; the live
log watcher (the UI's run page) hears every event while the run goes on; only the last runs'
databases stay open; a home written by an earlier version gets the new storage.
"""

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from dagster_defs import instance as instance_module
from dagster_defs.instance import (
    EARLIER_DAGSTER_YAMLS,
    EVENT_LOG_DIR,
    dagster_home,
    dagster_instance,
)
from quant_event_log import OPEN_RUN_SHARDS, PooledSqliteEventLogStorage

SYMBOLS = [f"S{i:03d}" for i in range(40)]
SYMBOL_PARTITIONS = "test_symbols"
symbols = dg.DynamicPartitionsDefinition(name=SYMBOL_PARTITIONS)


@dg.asset(
    partitions_def=symbols, backfill_policy=dg.BackfillPolicy.single_run(), output_required=False
)
def bars(context: dg.AssetExecutionContext) -> Iterator[dg.Output[None]]:
    """Like ``market_data``: one materialization per partition but the first (refused)."""
    for i, key in enumerate(context.partition_keys[1:]):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=context.asset_key, partition=key, metadata={"rows": i, "symbol": key}
            )
        )
    yield from ()


job = dg.Definitions(assets=[bars], jobs=[dg.define_asset_job("bars_job")]).resolve_job_def(
    "bars_job"
)


def stored_materializations(
    instance: dg.DagsterInstance,
) -> list[tuple[str | None, dict[str, Any]]]:
    records = instance.fetch_materializations(bars.key, limit=1000).records
    found = []
    for record in records:
        materialization = record.asset_materialization
        assert materialization is not None
        metadata = {k: v.value for k, v in materialization.metadata.items()}
        found.append((materialization.partition, metadata))
    return sorted(found, key=lambda item: (item[0] or "", str(item[1])))


def run_bars(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions(SYMBOL_PARTITIONS, SYMBOLS)
    return job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": SYMBOLS[0],
            "dagster/asset_partition_range_end": SYMBOLS[-1],
        },
    )


def test_a_run_stores_the_same_events_as_on_dagsters_own_sqlite_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock_home = tmp_path / "stock"
    stock_home.mkdir()
    with dg.DagsterInstance.from_config(str(stock_home)) as stock:
        assert type(stock.event_log_storage) is SqliteEventLogStorage
        stock_result = run_bars(stock)
        stock_events = stored_materializations(stock)
        stock_planned = len(stock.get_records_for_run(stock_result.run_id).records)

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "ours"))
    with dagster_instance() as ours:
        assert isinstance(ours.event_log_storage, PooledSqliteEventLogStorage)
        result = run_bars(ours)
        assert result.success
        assert stored_materializations(ours) == stock_events
        assert len(ours.get_records_for_run(result.run_id).records) == stock_planned
        assert ours.get_materialized_partitions(bars.key) == set(SYMBOLS[1:])
        assert set(ours.event_log_storage.open_shards()) == {result.run_id, "index"}
    assert [partition for partition, _ in stock_events] == SYMBOLS[1:]


def message(run_id: str, text: str) -> EventLogEntry:
    return EventLogEntry(None, logging.INFO, text, run_id, time.time())  # type: ignore[no-untyped-call]


def test_the_live_log_watcher_hears_each_event_while_the_run_goes_on(tmp_path: Path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    heard: list[str] = []

    def hear(entry: EventLogEntry, cursor: str) -> None:
        heard.append(entry.user_message)

    storage.store_event(message("live", "before watching"))
    storage.watch("live", None, hear)
    try:
        for i in range(5):
            storage.store_event(message("live", f"event {i}"))
            deadline = time.time() + 10
            while f"event {i}" not in heard and time.time() < deadline:
                time.sleep(0.02)
            assert heard[-1:] == [f"event {i}"], f"the watcher did not hear event {i}: {heard}"
    finally:
        storage.end_watch("live", hear)
        storage.dispose()


def test_only_the_last_runs_databases_stay_open_and_closed_ones_reopen(tmp_path: Path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    runs = [f"run{i:02d}" for i in range(OPEN_RUN_SHARDS + 4)]
    for run_id in runs:
        storage.store_event(message(run_id, f"hello from {run_id}"))
    open_runs = [shard for shard in storage.open_shards() if shard != "index"]
    assert open_runs == runs[-OPEN_RUN_SHARDS:]
    first = storage.get_records_for_run(runs[0]).records  # closed: opened again to read
    assert [r.event_log_entry.user_message for r in first] == [f"hello from {runs[0]}"]
    assert storage.open_shards()[-1] == runs[0]
    storage.dispose()
    assert storage.open_shards() == []


def test_wipe_closes_the_databases_it_deletes(tmp_path: Path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path / "runs"))
    storage.store_event(message("gone", "soon wiped"))
    storage.wipe()
    assert not (tmp_path / "runs" / "gone.db").exists()
    assert storage.get_records_for_run("gone").records == []
    storage.store_event(message("after", "written after the wipe"))
    assert len(storage.get_records_for_run("after").records) == 1
    storage.dispose()


def test_a_home_we_wrote_earlier_gets_the_new_storage_and_a_users_yaml_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, text in enumerate(EARLIER_DAGSTER_YAMLS):
        earlier = tmp_path / f"earlier{number}"
        earlier.mkdir()
        event_log_dir = json.dumps(str(earlier / EVENT_LOG_DIR))
        (earlier / "dagster.yaml").write_text(
            text.format(event_log_dir=event_log_dir), encoding="utf-8"
        )
        monkeypatch.setenv(instance_module.DAGSTER_HOME_ENV, str(earlier))
        home = dagster_home()
        written = (home / "dagster.yaml").read_text(encoding="utf-8")
        assert "module: quant_event_log" in written
        with dagster_instance() as instance:
            assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)

    users = tmp_path / "users"
    users.mkdir()
    own = "telemetry:\n  enabled: false\n"
    (users / "dagster.yaml").write_text(own, encoding="utf-8")
    monkeypatch.setenv(instance_module.DAGSTER_HOME_ENV, str(users))
    dagster_home()
    assert (users / "dagster.yaml").read_text(encoding="utf-8") == own
