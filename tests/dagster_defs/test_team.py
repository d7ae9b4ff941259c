"""A team's Dagster on a real PostgreSQL started by the test: the queue, the limit, the results.

The fast tests read the ``dagster.yaml`` :mod:`dagster_defs.team` writes and open an instance on
it. The slow one starts ``dagster-daemon`` and ``dagster-webserver`` on that instance; two
``quant run --submit`` processes with different working folders queue ``production``; the daemon
launches them, both complete, and their leaderboards equal the laptop mode's bit for bit;
two hydrations submitted together never run at once; ``quant runs`` agrees with the webserver,
read from the instance or (with only ``QUANT_DAGSTER_URL``) through the webserver.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
import yaml

from dagster_defs.definitions import build_definitions
from dagster_defs.tags import MARKET_DATA_WRITES, WRITES_TAG
from dagster_defs.team import (
    MARKET_DATA_WRITERS,
    POOL_LIMIT,
    team_dagster_yaml,
    write_team_home,
)
from quant_assets.assets.hydration import MARKET_DATA_POOL
from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from quant_sdk.cli import main
from quant_sdk.commands import DAGSTER_URL_ENV, EXIT_USAGE
from quant_sdk.submission import DagsterWebserver
from tests.conftest import SMALL_SYMBOLS
from tests.processes import stop_process_group

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 180
RUN_SECONDS = 600
SUBMITTED_SYMBOLS = [*SMALL_SYMBOLS, "JPM"]
"""The submitted hydrations add JPM (a new partition, added through the webserver)."""


def test_the_team_yaml_names_postgres_the_queue_and_one_market_data_writer():
    config = yaml.safe_load(team_dagster_yaml("postgresql://alice:s3cret@db.example.com:5432/dg"))
    assert config["storage"]["postgres"]["postgres_url"] == (
        "postgresql+psycopg2://alice:s3cret@db.example.com:5432/dg"
    )
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [
        {"key": WRITES_TAG, "value": MARKET_DATA_WRITES, "limit": MARKET_DATA_WRITERS}
    ]
    assert config["concurrency"]["pools"] == {"default_limit": POOL_LIMIT}
    assert config["run_monitoring"]["enabled"] is True
    assert config["telemetry"] == {"enabled": False}


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "mysql://db/dagster", "postgresql://db.example.com", "db:5432"]
)
def test_a_url_that_is_not_a_postgres_database_is_refused(url: str):
    with pytest.raises(ValueError, match="postgres_url"):
        team_dagster_yaml(url)


def test_every_market_data_writer_carries_the_limited_tag_and_the_pool():
    defs = build_definitions(Settings())
    assert defs.resolve_job_def("hydrate").tags[WRITES_TAG] == MARKET_DATA_WRITES
    assert WRITES_TAG not in defs.resolve_job_def("production").tags
    (market_data,) = [
        spec for spec in defs.resolve_all_asset_specs() if spec.key.path == ["market_data"]
    ]
    assert market_data.freshness_policy is not None
    pools = defs.resolve_asset_graph().get(market_data.key).pools
    assert pools == {MARKET_DATA_POOL}


def test_an_instance_opens_on_the_team_yaml(local_postgres: str, tmp_path: Path):
    home = write_team_home(tmp_path / "home", local_postgres)
    assert (home / "dagster.yaml").stat().st_mode & 0o077 == 0  # the URL may hold a password
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config
        assert limits is not None and limits.tag_concurrency_limits[0]["limit"] == 1
        instance.add_dynamic_partitions("team_test", ["a"])
        assert instance.get_dynamic_partitions("team_test") == ["a"]


def test_submit_without_a_webserver_address_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.delenv(DAGSTER_URL_ENV, raising=False)
    for command in (["run", "--submit"], ["hydrate", "--submit"]):
        assert main([*command, "--root", str(tmp_path)]) == EXIT_USAGE
        error = capsys.readouterr().err
        assert "--submit needs the address" in error and DAGSTER_URL_ENV in error


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without any ``QUANT_*`` or ``DAGSTER_HOME``, plus ``values``."""
    kept = {
        k: v for k, v in os.environ.items() if not k.startswith("QUANT_") and k != "DAGSTER_HOME"
    }
    return {**kept, **values}


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield
        finally:
            stop_process_group(process)


def wait_for_webserver(url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"no webserver at {url}: {log.read_text()[-3000:]}")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_two_submissions_run_through_the_queue_and_equal_the_laptop_mode(
    local_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name in [k for k in os.environ if k.startswith("QUANT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "laptop_home"))
    laptop = QuantSDK(settings=Settings(data_root=tmp_path / "laptop_lake"))
    laptop.hydrate("bundled", SUBMITTED_SYMBOLS)
    expected = laptop.run("canary")

    home = write_team_home(tmp_path / "team_home", local_postgres)
    lake = tmp_path / "team_lake"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    QuantSDK(settings=Settings(data_root=lake)).hydrate("bundled", SMALL_SYMBOLS)  # in-process

    url = f"http://127.0.0.1:{free_port()}"
    env = clean_environment(DAGSTER_HOME=str(home), QUANT_DATA_ROOT=str(lake))
    webserver_command = [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h"]
    webserver_command += ["127.0.0.1", "-p", url.rsplit(":", 1)[1]]
    with ExitStack() as stack:
        daemon_command = [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"]
        stack.enter_context(started(daemon_command, env, tmp_path / "daemon.log"))
        stack.enter_context(started(webserver_command, env, tmp_path / "webserver.log"))
        wait_for_webserver(url, tmp_path / "webserver.log")
        webserver = DagsterWebserver(url)

        submitter = QuantSDK(settings=Settings(data_root=lake), dagster_url=url)
        hydrations = [
            run.dagster_run_id
            for _ in range(2)
            for run in submitter.submit_hydration("bundled", SUBMITTED_SYMBOLS, full=True)
        ]
        assert len(hydrations) == 2  # one range each: JPM was added after XOM

        submitters = []
        for name in ("alice", "bob"):
            folder = tmp_path / name
            folder.mkdir()
            submitters.append(
                subprocess.Popen(
                    [str(BIN / "quant"), "run", "--submit", "--json"],
                    cwd=folder,
                    env={**env, "QUANT_DAGSTER_URL": url},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        submitted = []
        for submitter in submitters:
            out, err = submitter.communicate(timeout=STARTUP_SECONDS)
            assert submitter.returncode == 0, err
            submitted.append(json.loads(out))
        dagster_run_ids = [s["dagster_run_id"] for s in submitted]
        for dagster_run_id in [*hydrations, *dagster_run_ids]:
            status = webserver.wait(dagster_run_id, RUN_SECONDS)
            assert status == dg.DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text()[
                -3000:
            ]

        listed = subprocess.run(
            [str(BIN / "quant"), "runs", "--json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        graphql = {s["run_id"]: webserver.status(s["dagster_run_id"]).value for s in submitted}
        # a user with only the webserver's URL: no DAGSTER_HOME holding database credentials
        no_credentials = clean_environment(
            QUANT_DATA_ROOT=str(lake), QUANT_DAGSTER_URL=url, DAGSTER_HOME=str(tmp_path / "none")
        )
        remote = subprocess.run(
            [str(BIN / "quant"), "runs", "--json"],
            env=no_credentials,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        shown = subprocess.run(
            [str(BIN / "quant"), "show", submitted[0]["run_id"], "--json"],
            env=no_credentials,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )

    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())
    for output in (listed.stdout, remote.stdout):
        runs = {row["run_id"]: row for row in json.loads(output)}
        assert {run_id: runs[run_id]["dagster_status"] for run_id in graphql} == graphql
        assert all(runs[run_id]["status"] == "complete" for run_id in graphql)
    summary = json.loads(shown.stdout)
    assert (summary["status"], summary["dagster_status"]) == ("complete", "SUCCESS")

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("symbols") == SUBMITTED_SYMBOLS
        for dagster_run_id in [*hydrations, *dagster_run_ids]:
            enqueued = instance.all_logs(dagster_run_id, of_type=dg.DagsterEventType.RUN_ENQUEUED)
            assert enqueued, f"run {dagster_run_id} did not go through the queue"
        first, second = sorted(
            (instance.get_run_record_by_id(i) for i in hydrations),
            key=lambda record: record.start_time if record and record.start_time else 0.0,
        )
        assert first and second and first.end_time and second.start_time
        assert second.start_time >= first.end_time, "two hydrations ran at once"

    team = QuantSDK(settings=Settings(data_root=lake))
    for run in submitted:
        pd.testing.assert_frame_equal(team.load("leaderboard", run["run_id"]), expected)
