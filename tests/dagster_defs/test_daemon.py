"""The daemon for real, on a temporary DAGSTER_HOME and lakehouse, bounded in time: the
auto_sync sensor re-hydrates a symbol that was made stale, and so does ``backfill_stale``."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.freshness import stale_symbols
from quant_assets.hydration import BundledSource
from quant_sdk import QuantSDK
from tests.conftest import hydrate_cleanly
from tests.processes import stop_process_group

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEADLINE_SECONDS = 120


def _stale_lakehouse(tmp_path: Path) -> tuple[Path, LakehouseStore, pd.DataFrame]:
    """A Dagster home with storages created and a lakehouse of JNJ, KO, PG with KO stale."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # create the SQLite storages now: the daemon and its code server racing to create
        # them corrupts the schedule storage's alembic version table
        instance.get_runs(limit=1)
        instance.all_instigator_state()
        instance.get_dynamic_partitions("symbols")
    store = LakehouseStore(tmp_path / "lakehouse")
    hydrate_cleanly(store, BundledSource(), ["JNJ", "KO", "PG"])
    full = store.read_frame(store.symbol_dir("KO"))
    store.write_frame(full.iloc[:-20], store.symbol_dir("KO"))
    assert stale_symbols(store, BundledSource()).set_index("symbol").loc["KO", "status"] == "stale"
    return home, store, full


@contextmanager
def _daemon(tmp_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-m", "dagster_defs"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield daemon
    finally:
        stop_process_group(daemon)
        log.close()


def _assert_all_fresh(store: LakehouseStore, full: pd.DataFrame) -> None:
    status = stale_symbols(store, BundledSource()).set_index("symbol")["status"]
    assert (status == "fresh").all(), status[status != "fresh"]
    assert store.read_frame(store.symbol_dir("KO")).equals(full)


@pytest.mark.slow
def test_daemon_sensor_rehydrates_a_stale_symbol(tmp_path: Path):
    home, store, full = _stale_lakehouse(tmp_path)
    env = {"DAGSTER_HOME": str(home), "QUANT_DATA_ROOT": str(store.root), "QUANT_AUTO_SYNC": "true"}
    started = time.monotonic()
    runs: list[dg.DagsterRun] = []
    with _daemon(tmp_path, env) as daemon, dg.DagsterInstance.from_config(str(home)) as instance:
        while time.monotonic() - started < DEADLINE_SECONDS:
            assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            runs = instance.get_runs(dg.RunsFilter(job_name="hydrate"))
            failed = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
            assert not failed, f"hydrate run {failed[0].run_id} failed"
            if runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs):
                break
            time.sleep(1)
        elapsed = time.monotonic() - started
        assert runs, f"no hydrate run within {DEADLINE_SECONDS} s"
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert all(r.tags.get("quant/auto_sync") for r in runs)
        assert "KO" in instance.get_dynamic_partitions("symbols")
    _assert_all_fresh(store, full)
    print(f"sensor: {len(runs)} hydrate run(s) succeeded {elapsed:.1f} s after the daemon started")


@pytest.mark.slow
def test_daemon_executes_backfill_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home, store, full = _stale_lakehouse(tmp_path)
    env = {"DAGSTER_HOME": str(home), "QUANT_DATA_ROOT": str(store.root)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    with _daemon(tmp_path, env), dg.DagsterInstance.from_config(str(home)) as instance:
        while "BACKFILL" not in instance.get_daemon_heartbeats():
            assert time.monotonic() - started < DEADLINE_SECONDS, "no daemon heartbeat"
            time.sleep(0.5)
        backfill_id = QuantSDK().backfill_stale(wait=True, timeout=DEADLINE_SECONDS)
    elapsed = time.monotonic() - started
    with dg.DagsterInstance.from_config(str(home)) as instance:
        backfill = instance.get_backfill(backfill_id)
        assert backfill is not None and backfill.status.value == "COMPLETED_SUCCESS"
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    _assert_all_fresh(store, full)
    print(f"backfill: {backfill_id} completed {elapsed:.1f} s after the daemon started")
