import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_defs import build_definitions
from dagster_defs.instance import dagster_instance
from dagster_defs.jobs import HYDRATION_RETRY_POLICY
from dagster_defs.schedules import build_daily_production, scheduled_run_id
from dagster_defs.sensors import (
    RETRY_AFTER_SECONDS,
    build_auto_sync,
    evaluate_auto_sync,
)
from dagster_defs.tags import AUTO_SYNC_TAG
from lakehouse import LakehouseStore
from quant_assets.hydration import FilesSource
from quant_assets.provenance import read_run_request
from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from tests.conftest import hydrate_cleanly

DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]


@pytest.fixture
def synced(dagster_env: Path):
    """Files source AAA, BBB, CCC; lakehouse AAA fresh and BBB stale, both registered."""
    source_dir = dagster_env / "source"
    source_dir.mkdir()
    for symbol in ("AAA", "BBB", "CCC"):
        frame = pd.DataFrame({"date": DAYS, "close": [10.0, 11.0, 12.0]})
        frame.to_csv(source_dir / f"{symbol}.csv", index=False)
    settings = Settings(data_root=dagster_env / "lakehouse", source="files", source_path=source_dir)
    store = LakehouseStore(settings.data_root)
    hydrate_cleanly(store, FilesSource(source_dir), ["AAA", "BBB"])
    bbb = store.read_frame(store.symbol_dir("BBB"))
    store.write_frame(bbb.iloc[:1], store.symbol_dir("BBB"))
    defs = build_definitions(settings)
    with dagster_instance() as instance:
        instance.add_dynamic_partitions("symbols", ["AAA", "BBB"])
        yield settings, defs, instance, store


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    result = defs.resolve_sensor_def("auto_sync")(context)
    assert isinstance(result, dg.SensorResult)
    assert result.cursor is None  # what is in flight or failed is Dagster's knowledge
    return result


def _run(
    settings: Settings, instance: dg.DagsterInstance, request: dg.RunRequest, retries=False
) -> bool:
    """Execute the requested run as the daemon would (without its step retries unless asked)."""
    job = build_definitions(settings, retries=retries).resolve_job_def("hydrate")
    return job.execute_in_process(
        instance=instance, tags=request.tags, run_config=request.run_config, raise_on_error=False
    ).success


def _source_failing(monkeypatch, symbol: str, times: int | None = None) -> None:
    """``symbol`` cannot be fetched from the files source (the first ``times`` tries, or ever)."""
    fetch = FilesSource.fetch
    failures = [0]

    def outage(self, wanted, start=None):  # not a data problem: the source is unreachable
        if wanted == symbol and (times is None or failures[0] < times):
            failures[0] += 1
            raise ConnectionError("source unreachable")
        return fetch(self, wanted, start)

    monkeypatch.setattr(FilesSource, "fetch", outage)


def test_auto_sync_requests_stale_and_new_once_then_skips_when_fresh(synced, monkeypatch):
    settings, defs, instance, store = synced
    first = _tick(defs, instance)
    (request,) = first.run_requests  # BBB (stale) and CCC (new) are contiguous: one run
    assert request.tags["dagster/asset_partition_range_start"] == "BBB"
    assert request.tags["dagster/asset_partition_range_end"] == "CCC"
    assert request.tags[AUTO_SYNC_TAG]
    assert request.run_config["ops"]["market_data"]["config"]["source"] == "files"
    (add,) = first.dynamic_partitions_requests
    assert (add.partitions_def_name, list(add.partition_keys)) == ("symbols", ["CCC"])

    # the daemon registers CCC and launches the run; while it runs, nothing new is requested
    instance.add_dynamic_partitions("symbols", list(add.partition_keys))
    fetching, release = threading.Event(), threading.Event()
    fetch = FilesSource.fetch

    def slow(self, symbol, start=None):
        fetching.set()
        assert release.wait(60)
        return fetch(self, symbol, start)

    monkeypatch.setattr(FilesSource, "fetch", slow)
    outcome: list[object] = []

    def daemon_run() -> None:
        try:
            with dagster_instance() as other:  # the run's own process in real life
                outcome.append(_run(settings, other, request))
        except Exception as error:  # shown by the assertion below
            outcome.append(error)

    worker = threading.Thread(target=daemon_run)
    worker.start()
    try:
        assert fetching.wait(60)
        second = _tick(defs, instance)
    finally:
        release.set()
        worker.join(120)
    assert not second.run_requests
    assert "2 files symbols need hydration but 2 already requested and in flight" in (
        second.skip_reason.skip_message
    )
    assert outcome == [True]
    third = _tick(defs, instance)
    assert not third.run_requests
    assert third.skip_reason.skip_message.startswith(
        "every files symbol is fresh (source last date 2024-01-04; 0 stale, 0 new, 3 fresh"
    )
    assert len(store.read_frame(store.symbol_dir("BBB"))) == 3


def test_auto_sync_holds_a_quarantined_symbol_until_its_file_changes(synced):
    settings, defs, instance, store = synced
    (settings.source_path / "CCC.csv").write_text("date,close\n2024-01-02,-1\n")
    first = _tick(defs, instance)
    instance.add_dynamic_partitions("symbols", ["CCC"])
    assert _run(settings, instance, first.run_requests[0])  # BBB hydrated, CCC quarantined
    assert store.symbols() == ["AAA", "BBB"]
    held = _tick(defs, instance)
    assert not held.run_requests  # the same bad file is not fetched again every minute
    assert "0 stale, 0 new, 2 fresh, 0 vanished, 1 quarantined" in held.skip_reason.skip_message
    pd.DataFrame({"date": DAYS, "close": [10.0, 11.0, 12.0]}).to_csv(
        settings.source_path / "CCC.csv", index=False
    )
    (request,) = _tick(defs, instance).run_requests  # fixed: hydrated again
    assert request.tags["dagster/asset_partition_range_start"] == "CCC"
    assert _run(settings, instance, request) and store.symbols() == ["AAA", "BBB", "CCC"]


def test_auto_sync_backs_off_after_a_failed_run(synced, monkeypatch):
    settings, defs, instance, _ = synced
    pd.DataFrame({"date": DAYS, "close": [10.0, 11.0, 12.0]}).to_csv(
        settings.source_path / "CCC.csv", index=False
    )
    _source_failing(monkeypatch, "CCC")
    first = _tick(defs, instance)
    instance.add_dynamic_partitions("symbols", ["CCC"])
    assert not _run(settings, instance, first.run_requests[0])
    # what was written before the outage is recorded: the lakehouse and Dagster agree
    assert instance.get_materialized_partitions(dg.AssetKey("market_data")) == {"BBB"}
    blocked = _tick(defs, instance)
    assert not blocked.run_requests
    # BBB was hydrated before CCC failed; CCC waits before it is retried
    assert "1 failed in a run that ended less than 3600 s ago (CCC)" in (
        blocked.skip_reason.skip_message
    )
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    retried = evaluate_auto_sync(context, settings, now=time.time() + RETRY_AFTER_SECONDS + 1)
    (request,) = retried.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "CCC"
    assert not retried.dynamic_partitions_requests


@pytest.mark.slow
def test_hydration_retries_a_passing_source_outage_within_the_run(synced, monkeypatch):
    settings, defs, instance, store = synced
    _source_failing(monkeypatch, "CCC", times=1)
    (request,) = _tick(defs, instance).run_requests
    instance.add_dynamic_partitions("symbols", ["CCC"])
    started = time.monotonic()
    assert _run(settings, instance, request, retries=True)  # the job's retry policy, as the daemon
    assert time.monotonic() - started >= HYDRATION_RETRY_POLICY.delay
    assert store.symbols() == ["AAA", "BBB", "CCC"]
    assert "every files symbol is fresh" in _tick(defs, instance).skip_reason.skip_message


def test_auto_sync_default_status_follows_settings():
    assert build_auto_sync(Settings()).default_status == dg.DefaultSensorStatus.STOPPED
    on = build_auto_sync(Settings(auto_sync=True))
    assert on.default_status == dg.DefaultSensorStatus.RUNNING
    assert build_daily_production(Settings()).default_status == dg.DefaultScheduleStatus.STOPPED


def test_daily_production_mints_registers_and_requests_a_run(synced):
    settings, defs, instance, store = synced
    schedule = defs.resolve_schedule_def("daily_production")
    tick = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)
    run_ids = []
    for _ in range(2):  # a retried tick reuses its run id
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick,
            repository_def=defs.get_repository_def(),
        )
        (request,) = schedule.evaluate_tick(context).run_requests
        run_ids.append(request.partition_key)
    run_id = run_ids[0]
    assert run_ids == [scheduled_run_id(tick)] * 2
    assert run_id.startswith("20250304-060000-")
    assert request.run_key == run_id and request.tags["dagster/partition"] == run_id
    assert instance.get_dynamic_partitions("run_id") == [run_id]
    assert read_run_request(store, run_id)["profile"] == settings.profile


def test_auto_sync_leaves_symbols_to_an_unfinished_backfill(synced, monkeypatch):
    settings, defs, instance, _ = synced
    monkeypatch.setenv("QUANT_DATA_ROOT", str(settings.data_root))
    backfill_id = QuantSDK(settings=settings).backfill_stale()
    assert backfill_id is not None
    result = _tick(defs, instance)
    assert not result.run_requests
    assert "2 already requested and in flight (BBB, CCC)" in result.skip_reason.skip_message
