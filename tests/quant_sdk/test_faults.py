"""Under faults and odd input, the user is told what happened (issue 19), one test per case.

Each test reproduces a case through the ``quant`` command line (or the SDK under it), asserts
the line the user now sees, and that nothing else was lost. The full disk and the read-only
file system are real (a small tmpfs, remounted read-only) where the machine allows mounting;
otherwise the error is injected at the low-level write.
"""

import errno
import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import lakehouse.hashing
import lakehouse.store
import quant_assets.assets.checks
import quant_assets.assets.tournament
from dagster_defs.tags import HOST_TAG, PARTITION_TAG, PID_TAG
from lakehouse import LakehouseStore
from lakehouse.commits import LakehouseWriteError
from lakehouse.sealing import (
    CONTENT_CHECKSUM_KEY,
    MISPLACED,
    SEALED,
    UNSEALED,
    footer_metadata,
    parquet_seal,
)
from quant_assets.assets.hydration import SPLIT_CHECK
from quant_assets.hydration import BundledSource, make_source
from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from quant_sdk.cli import main
from tests.conftest import SMALL_SYMBOLS

FAST = ["--set", "start_date=2019-01-01", "--set", "min_history=252"]
PINNED_CLOCK = datetime(2024, 1, 9, 12, 0, tzinfo=UTC)
"""A Tuesday noon (UTC): the last completed trading day is Monday 2024-01-08."""


def _quant(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time (ns)."""
    return {
        str(path.relative_to(root)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
    }


def _bars(days: int, start: str = "2023-01-02", seed: int = 1) -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=days)
    steps = np.random.default_rng(seed).normal(0, 0.01, days)
    return pd.DataFrame(
        {"date": dates.strftime("%Y-%m-%d"), "close": 50 * np.exp(np.cumsum(steps))}
    )


@pytest.fixture
def lake(dagster_env: Path, monkeypatch: pytest.MonkeyPatch) -> QuantSDK:
    """The six small bundled symbols, hydrated; the environment points the CLI at them."""
    for name in [n for n in os.environ if n.startswith("QUANT_") and n != "QUANT_DATA_ROOT"]:
        monkeypatch.delenv(name)
    sdk = QuantSDK(settings=Settings(data_root=dagster_env / "lakehouse"))
    sdk.hydrate(symbols=SMALL_SYMBOLS)
    return sdk


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (a disk that fills up, and can be made read-only), else skip."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here; the injected-error tests cover this case")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


# 1. A run whose blocking checks failed is failed; meaningless settings are refused -------------


def test_1_settings_that_make_results_meaningless_are_refused_before_anything_runs(lake):
    before = _tree(lake.store.root)
    code, _, err = _quant("run", "--set", "cost_bps=1e9")
    assert code == 2
    assert "error: invalid settings: cost_bps: Input should be less than or equal to 1000" in err
    code, _, err = _quant("run", "--set", "top_n=20", "--set", "max_weight=0.04")
    assert code == 2
    assert "`max_weight` (0.04) is below 1/`top_n` (1/20 = 0.05)" in err
    assert "Raise `max_weight` to at least 0.05 or `top_n` to at least 25" in err
    assert _tree(lake.store.root) == before  # no run minted, nothing written


def test_1_a_run_whose_blocking_check_failed_is_failed_and_not_ranked(lake, monkeypatch):
    real = quant_assets.assets.checks.validate_stored

    def leaderboard_breaks_its_contract(frame, contract):
        passed, metadata = real(frame, contract)
        return (
            (False, metadata)
            if contract.__name__ == "RunLeaderboardContract"
            else (passed, metadata)
        )

    monkeypatch.setattr(
        quant_assets.assets.checks, "validate_stored", leaderboard_breaks_its_contract
    )
    # the check validates the file itself (as for a frame stored before audits were recorded),
    # not the IO manager's audit, which the real contract passed before publishing it
    monkeypatch.setattr(quant_assets.assets.checks, "audited_rows", lambda *args: None)
    code, out, err = _quant("run", *FAST)
    assert code == 1
    assert "leaderboard_matches_contract" in err
    run_id = lake.store.run_ids()[-1]
    assert (
        lake.store.run_dir("leaderboard", run_id) / "part-0.parquet"
    ).exists()  # stored, then failed

    code, out, _ = _quant("runs", "--json")
    (row,) = [r for r in json.loads(out) if r["run_id"] == run_id]
    assert (row["status"], row["dagster_status"]) == ("failed", "FAILURE")
    assert row["best_engine"] is None and pd.isna(row["best_sharpe"])  # never ranked
    code, out, _ = _quant("show", run_id)
    assert "status     failed" in out
    assert "failed at  " in out and "leaderboard_matches_contract" in out
    assert "stored by a run that did not complete" in out
    outcome = lake.store.read_document(lake.store.run_dir("run_outcome", run_id))
    assert outcome["status"] == "failed" and outcome["failures"]

    # Without Dagster's record (another instance), the stored outcome still says failed.
    monkeypatch.setenv("DAGSTER_HOME", str(lake.store.root.parent / "other_home"))
    code, out, _ = _quant("runs", "--json")
    (row,) = [r for r in json.loads(out) if r["run_id"] == run_id]
    assert (row["status"], row["dagster_status"]) == ("failed", None)


# 2. A killed run is failed when runs are listed --------------------------------------------------


def test_2_a_run_whose_process_died_is_listed_failed_without_writing(lake):
    run_id = lake.new_run("canary")
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer lives
    dagster_run_id = str(uuid.uuid4())
    with dg.DagsterInstance.get() as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name="production",
                run_id=dagster_run_id,
                status=dg.DagsterRunStatus.STARTED,
                tags={
                    PARTITION_TAG: run_id,
                    HOST_TAG: socket.gethostname(),
                    PID_TAG: str(gone.pid),
                },
            )
        )
    _, out, _ = _quant("runs", "--json")
    (row,) = [r for r in json.loads(out) if r["run_id"] == run_id]
    assert (row["status"], row["dagster_status"]) == ("failed", "STARTED")
    _, out, _ = _quant("show", run_id)
    assert "status     failed" in out
    assert f"failed at  process: the process that ran it (pid {gone.pid} on " in out
    with dg.DagsterInstance.get() as instance:  # judged, not written: the record is as it was
        assert instance.get_run_by_id(dagster_run_id).status == dg.DagsterRunStatus.STARTED


# 3. Data and its checksum are one commit; identity is checked -----------------------------------


def test_3_checksum_and_identity_live_in_the_file_footer(lake):
    path = lake.store.symbol_path("KO")
    recorded = footer_metadata(path)
    assert recorded["lakehouse.partition"] == "symbol=KO" and CONTENT_CHECKSUM_KEY in recorded
    assert parquet_seal(path).state == SEALED
    assert not path.with_name(path.name + ".sha256").exists()  # nothing to lose beside it


def test_3_another_symbols_file_copied_over_is_found_and_never_spliced(lake):
    ko = lake.store.symbol_path("KO")
    msft_before = lake.store.read_frame(lake.store.symbol_dir("MSFT"))
    shutil.copyfile(lake.store.symbol_path("MSFT"), ko)
    assert parquet_seal(ko).state == MISPLACED
    code, out, _ = _quant("doctor", "--json")
    assert code == 1
    (finding,) = json.loads(out)
    assert finding["partition"] == "symbol=KO"
    assert (
        "holds the data written for market_data/symbol=MSFT, not for this place"
        in finding["problem"]
    )

    lake.hydrate(symbols=["KO"])  # incremental: moves the foreign file aside, fetches KO in full
    stored = lake.store.read_frame(lake.store.symbol_dir("KO"))
    pd.testing.assert_frame_equal(stored, BundledSource().fetch("KO"), check_freq=False)
    pd.testing.assert_frame_equal(lake.store.read_frame(lake.store.symbol_dir("MSFT")), msft_before)
    assert list((lake.store.root / "_damaged" / "market_data" / "symbol=KO").iterdir())
    assert _quant("doctor")[0] == 0


def test_3_a_file_without_a_checksum_is_a_finding_and_rehydration_rewrites_it(lake):
    path = lake.store.symbol_path("PG")
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({}), path)  # as if its record were lost
    assert parquet_seal(path).state == UNSEALED
    code, out, _ = _quant("doctor")
    assert code == 1 and "no checksum recorded with the data" in out
    lake.hydrate(symbols=["PG"])  # the data did not change; the file is rewritten sealed
    assert parquet_seal(path).state == SEALED
    assert pq.read_table(path).equals(table.replace_schema_metadata({}).cast(pq.read_schema(path)))
    assert _quant("doctor")[0] == 0


def test_3_older_files_with_a_sidecar_are_still_verified(tmp_path):
    store = LakehouseStore(tmp_path)
    path = store.symbol_path("KO")
    path.parent.mkdir(parents=True)
    pd.DataFrame({"x": [1.0, 2.0]}).to_parquet(path)
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.write_text(f"{lakehouse.hashing.file_sha256(path)}  {path.name}\n")
    assert parquet_seal(path).sound
    pd.DataFrame({"x": [1.0, 3.0]}).to_parquet(path)
    assert parquet_seal(path).state == "tampered"


def test_3_a_full_disk_publishes_neither_data_nor_checksum(small_mount):
    store = LakehouseStore(small_mount)
    folder = store.symbol_dir("KO")
    small = pd.DataFrame({"x": np.arange(10.0)})
    store.write_frame(small, folder)
    big = pd.DataFrame({"x": np.random.default_rng(0).normal(size=400_000)})  # 3 MB > 1 MiB
    with pytest.raises(LakehouseWriteError, match="No space left on device") as raised:
        store.write_frame(big, folder)
    assert str(raised.value) == f"cannot write {folder / 'part-0.parquet'}: No space left on device"
    assert raised.value.errno == errno.ENOSPC
    pd.testing.assert_frame_equal(store.read_frame(folder), small)  # the old file, intact
    assert parquet_seal(folder / "part-0.parquet").state == SEALED
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]  # no temp left


# 4. Errors carry their root cause; read-only commands write nothing ------------------------------


def test_1_a_contract_breaking_frame_is_never_visible_to_quant_query(lake, monkeypatch):
    code, _, _ = _quant("run", *FAST)
    assert code == 0
    published = lake.store.run_ids()[-1]
    real = quant_assets.assets.tournament.relative_leaderboard

    def negative_vetoes(*args, **kwargs):
        board = real(*args, **kwargs)
        return board.assign(vetoes=-1)  # breaks RunLeaderboardContract (vetoes >= 0)

    monkeypatch.setattr(quant_assets.assets.tournament, "relative_leaderboard", negative_vetoes)
    code, _, err = _quant("run", *FAST)
    run_id = lake.store.run_ids()[-1]
    rejected = lake.store.rejected_dir("leaderboard", run_id) / "part-0.parquet"
    assert code == 1 and run_id != published
    assert f"asset leaderboard of run {run_id} breaks RunLeaderboardContract (tier 1" in err
    assert "first: column 'vetoes' fails 'greater_than_or_equal_to(0)'" in err
    assert "probably a bug" not in err
    assert (pd.read_parquet(rejected)["vetoes"] == -1).all()  # kept aside for inspection
    code, out, _ = _quant("query", "SELECT DISTINCT run_id FROM leaderboard", "--json")
    assert code == 0 and [row["run_id"] for row in json.loads(out)] == [published]


def test_4_a_full_disk_during_a_run_names_the_cause_and_show_lists_only_stored(lake, monkeypatch):
    real = lakehouse.store.publish

    def disk_full_for_closes(path, write, *args, **kwargs):
        if path.parent.parent.name == "closes":
            path.parent.mkdir(parents=True, exist_ok=True)  # the folder is made, the file not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, write, *args, **kwargs)

    monkeypatch.setattr(lakehouse.store, "publish", disk_full_for_closes)
    code, _, err = _quant("run", *FAST)
    run_id = lake.store.run_ids()[-1]
    closes = lake.store.run_dir("closes", run_id) / "part-0.parquet"
    assert code == 1
    assert f"closes: LakehouseWriteError: cannot write {closes}: No space left on device" in err
    assert "DagsterExecutionHandleOutputError" not in err and "probably a bug" not in err
    assert "hint: the run's full event log is in the Dagster UI" in err
    code, out, _ = _quant("show", run_id, "--json")
    shown = json.loads(out)
    assert "closes" not in shown["assets"] and "run_manifest" in shown["assets"]
    assert shown["status"] == "failed"


def test_4_read_only_commands_write_nothing_and_writes_say_why_they_failed(lake, monkeypatch):
    run_id = lake.new_run("canary")
    root = lake.store.root
    before = _tree(root)
    for argv in (
        ["stale"],
        ["runs"],
        ["show", run_id],
        ["query", "SELECT count(*) AS n FROM market_data"],
        ["doctor"],
    ):
        code, _, err = _quant(*argv)
        assert code == 0, (argv, err)
    assert _tree(root) == before

    def read_only(path, write, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(lakehouse.store, "publish", read_only)
    code, _, err = _quant("new-run")
    assert code == 1
    assert "error: cannot write " in err and ": Read-only file system" in err
    assert "hint: the lakehouse is on a read-only file system" in err
    assert "probably a bug" not in err


def test_4_on_a_real_read_only_file_system(small_mount, lake):
    shutil.copytree(
        lake.store.root / "market_data" / "symbol=KO", small_mount / "market_data" / "symbol=KO"
    )
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    for argv in (["stale"], ["runs"], ["query", "SELECT count(*) FROM market_data"], ["doctor"]):
        code, _, err = _quant("--root", str(small_mount), *argv)
        assert code == 0, (argv, err)
    code, _, err = _quant("--root", str(small_mount), "new-run")
    assert code == 1 and ": Read-only file system" in err and "probably a bug" not in err


# 5. doctor --repair re-fetches from the symbol's own source --------------------------------------


def test_5_repair_refetches_from_the_source_recorded_with_the_symbol(lake):
    synthetic = {"source": "synthetic", "synthetic_symbols": 3, "synthetic_years": 2}
    source = make_source(lake.settings.clone(**synthetic))
    cut, flipped = source.symbols()[-2:]
    QuantSDK(settings=lake.settings.clone(**synthetic)).hydrate(symbols=[cut, flipped])
    path = lake.store.symbol_path(cut)  # footer gone: the source comes from Dagster's record
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    path = lake.store.symbol_path(flipped)  # footer intact: the source comes from the file
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    assert lake.settings.source == "bundled"  # the repair's own settings name another source
    code, _, err = _quant("doctor", "--repair")
    assert code == 0, err
    assert "no source recorded" not in err
    for symbol in (cut, flipped):
        pd.testing.assert_frame_equal(
            lake.store.read_frame(lake.store.symbol_dir(symbol)),
            source.fetch(symbol),
            check_freq=False,
        )
    assert _quant("doctor")[0] == 0
    for symbol in SMALL_SYMBOLS:  # nothing else touched
        assert parquet_seal(lake.store.symbol_path(symbol)).state == SEALED


# 6. quant query reads nothing outside the lakehouse; planted links are reported ------------------


def test_6_duckdb_temp_folder_is_not_readable_and_links_are_left_out(lake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "s.txt").write_text("secret")
    code, out, err = _quant("query", "SELECT * FROM read_text('.tmp/s.txt')")
    assert code == 2 and "secret" not in out
    assert "Permission Error" in err
    outside = tmp_path / "outside" / "symbol=EVIL"
    outside.mkdir(parents=True)
    shutil.copyfile(lake.store.symbol_path("KO"), outside / "part-0.parquet")
    link = lake.store.asset_dir("market_data") / "symbol=EVIL"
    link.symlink_to(outside)
    code, out, err = _quant(
        "query", "SELECT DISTINCT symbol FROM market_data ORDER BY symbol", "--json"
    )
    assert code == 0, err
    assert [row["symbol"] for row in json.loads(out)] == SMALL_SYMBOLS
    code, out, _ = _quant("doctor")
    assert code == 1 and f"symbolic link to {outside}" in out
    assert _quant("doctor", "--repair")[0] == 0
    assert not link.is_symlink() and outside.is_dir()  # the link moved aside, its target untouched
    assert _quant("doctor")[0] == 0


# 7. Future bars are refused; a split-like move that holds is stored and said ---------------------


def test_7_bars_after_the_last_completed_trading_day_are_refused_by_the_pinned_clock(
    lake, tmp_path
):
    folder = tmp_path / "files"
    folder.mkdir()
    _bars(250, start="2023-01-02").to_csv(folder / "GOOD.csv", index=False)
    _bars(260, start="2023-01-02").to_csv(folder / "LATE.csv", index=False)  # to 2023-12-29
    stored = lake.hydrate(
        source="files", path=str(folder), as_of=datetime(2023, 12, 20, 12, tzinfo=UTC)
    )
    assert stored["symbol"].tolist() == ["GOOD"]
    refused = lake.store.read_document(lake.store.symbol_dir("LATE", "quarantine"))
    assert "bar(s) dated after the last completed trading day 2023-12-19" in refused["message"]
    assert refused["column"] == "date"
    assert not lake.store.symbol_path("LATE").exists()
    for symbol in SMALL_SYMBOLS:  # nothing else lost
        assert parquet_seal(lake.store.symbol_path(symbol)).state == SEALED


def test_7_a_far_future_file_is_refused_on_todays_clock(lake, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    frame = _bars(5, start="2200-12-25")
    frame.to_csv(folder / "FUTR.csv", index=False)
    code, _, err = _quant("hydrate", "--source", "files", "--path", str(folder))
    assert code == 1
    assert "FUTR" in err and "dated after the last completed trading day" in err


def test_7_a_split_that_holds_is_stored_with_a_warning_and_a_failed_tier2_check(lake, tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    bars = _bars(60, seed=3)
    bars.loc[30:, "close"] = bars.loc[30:, "close"] / 10  # a 10-for-1 split, not adjusted
    bars.to_csv(folder / "SPLT.csv", index=False)
    code, _, err = _quant("hydrate", "--source", "files", "--path", str(folder))
    assert code == 0, err
    day = bars.loc[30, "date"]
    assert f"SPLT: a one-day move by a split ratio that holds, stored unadjusted? {day}" in err
    assert "(x1/10), holds" in err
    assert len(lake.store.read_frame(lake.store.symbol_dir("SPLT"))) == 60  # kept
    with dg.DagsterInstance.get() as instance:
        (hydration,) = instance.get_runs(dg.RunsFilter(job_name="hydrate"), limit=1)
        entries = instance.all_logs(
            hydration.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
    evaluations = [entry.dagster_event.event_specific_data for entry in entries]
    (split,) = [e for e in evaluations if e.check_name == SPLIT_CHECK]
    assert (split.passed, split.partition, split.severity) == (
        False,
        "SPLT",
        dg.AssetCheckSeverity.WARN,
    )


# 8. An empty hydration says so and exits 1 -------------------------------------------------------


def test_8_a_hydration_that_stores_nothing_says_so(lake, tmp_path):
    before = _tree(lake.store.root / "market_data")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _quant("hydrate", "--source", "files", "--path", str(empty))
    assert code == 1
    assert "error: no symbols stored (0 refused: see the quarantine" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "AAA.csv").write_text("date,close\n2020-01-02,abc\n")
    (bad / "BBB.csv").write_text("date,close\n2020-01-02,-1\n")
    code, _, err = _quant("hydrate", "--source", "files", "--path", str(bad))
    assert code == 1
    assert (
        f"error: no symbols stored (2 refused: see the quarantine, {lake.store.root}/quarantine)"
        in err
    )
    assert "Catalog Error" not in err
    assert _tree(lake.store.root / "market_data") == before


# 9. production without a run_id partition says to mint one ---------------------------------------


def test_9_production_without_a_partition_fails_first_with_the_hint(lake):
    job = lake._definitions().resolve_job_def("production")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    (first,) = failures  # the first step; every later one is skipped
    assert first.step_key == "run_manifest"
    with dg.DagsterInstance.get() as instance:
        lines = [entry.user_message for entry in instance.all_logs(result.run_id)]
    hint = "production needs a run_id partition: mint one with `quant new-run`"
    assert sum(hint in line for line in lines) == 1
