"""The canary path (`quant hydrate, run, show, query, report, doctor`) with the lakehouse on a
loopback S3-compatible server, equal to the same path on a local folder."""

import hashlib
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import boto3
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from lakehouse.integrity import stored_files
from lakehouse.location import object_key
from lakehouse.sealing import CONTENT_CHECKSUM_KEY, footer_metadata
from quant_sdk.cli import main
from tests.object_storage import LoopbackS3

FAST = ["--set", "start_date=2019-01-01", "--set", "min_history=252"]
QUERY = "SELECT symbol, count(*) AS bars, max(close) AS top FROM market_data GROUP BY 1 ORDER BY 1"
SHOWN_TOO = ("leaderboard", "data", "assets", "status", "profile")
"""What `quant show --json` says of a run that must not depend on where the lakehouse is."""


@dataclass(frozen=True)
class Lake:
    root: str
    run_id: str
    outputs: dict[str, tuple[int, str, str]]
    """Command -> (exit code, stdout, stderr) of the canary path."""

    @property
    def store(self) -> LakehouseStore:
        return LakehouseStore(self.root)


def quant(*argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``quant *argv``, run in this process."""
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def canary_path(root: str, home: Path, report: Path) -> Lake:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in [n for n in os.environ if n.startswith("QUANT_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("QUANT_DATA_ROOT", root)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        outputs = {"hydrate": quant("hydrate")}
        outputs["run"] = quant("run", *FAST, "--json")
        assert outputs["run"][0] == 0, outputs["run"][2]
        run_id = json.loads(outputs["run"][1])["run_id"]
        outputs["show"] = quant("show", run_id, "--json")
        outputs["query"] = quant("query", QUERY, "--json")
        outputs["report"] = quant("report", run_id, "--out", str(report))
        outputs["doctor"] = quant("doctor", "--json")
        outputs["stale"] = quant("stale", "--all", "--json")
    return Lake(root, run_id, outputs)


@pytest.fixture(scope="module")
def lakes(loopback_s3: LoopbackS3, tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Lake]:
    """(folder, S3): the same canary path on each, from the same bundled data."""
    folder = tmp_path_factory.mktemp("object_storage")
    local = canary_path(str(folder / "lake"), folder / "home_a", folder / "a.html")
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in loopback_s3.environment.items():
            monkeypatch.setenv(name, value)
        url = f"s3://{loopback_s3.new_bucket()}/lake"
        remote = canary_path(url, folder / "home_b", folder / "b.html")
    return local, remote


@pytest.fixture(autouse=True)
def _aws(loopback_s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in loopback_s3.environment.items():
        monkeypatch.setenv(name, value)


def test_every_command_of_the_canary_path_succeeds_on_s3(lakes: tuple[Lake, Lake]):
    local, remote = lakes
    for command, (code, _, err) in remote.outputs.items():
        assert code == 0, f"quant {command} on S3: {err}"
    assert remote.outputs.keys() == local.outputs.keys()
    assert json.loads(remote.outputs["doctor"][1]) == json.loads(local.outputs["doctor"][1])
    hydrated = remote.outputs["hydrate"][1]
    assert hydrated == local.outputs["hydrate"][1]
    assert "AAPL    8313 1990-01-02 2022-12-28" in hydrated


def test_market_data_objects_are_the_local_files_byte_for_byte(lakes: tuple[Lake, Lake]):
    local, remote = lakes
    symbols = local.store.symbols()
    assert remote.store.symbols() == symbols and len(symbols) == 20
    for symbol in symbols:
        local_bytes = local.store.symbol_path(symbol).read_bytes()
        remote_bytes = remote.store.symbol_path(symbol).read_bytes()
        assert hashlib.sha256(remote_bytes).digest() == hashlib.sha256(local_bytes).digest()


def test_the_run_stores_the_same_frames_and_says_the_same(lakes: tuple[Lake, Lake]):
    local, remote = lakes
    local_files = {_asset_of(path) for path in stored_files(local.root)}
    remote_files = {_asset_of(path) for path in stored_files(remote.root)}
    assert remote_files == local_files
    frames = sorted(asset for asset, kind in local_files if kind == "part-0.parquet")
    assert "leaderboard" in frames and "tournament_returns" in frames
    for asset in frames:
        if asset == "market_data":
            continue
        paths = [
            lake.store.run_dir(asset, lake.run_id) / "part-0.parquet" for lake in (local, remote)
        ]
        # bit for bit: the SHA-256 of every data page, recorded in each file's footer
        checksums = [footer_metadata(path)[CONTENT_CHECKSUM_KEY] for path in paths]
        assert checksums[1] == checksums[0], asset
        pd.testing.assert_frame_equal(
            remote.store.read_frame(paths[1].parent),
            local.store.read_frame(paths[0].parent),
            check_exact=True,
        )
    shown = [json.loads(lake.outputs["show"][1]) for lake in lakes]
    for key in SHOWN_TOO:
        assert shown[1][key] == shown[0][key], key
    assert remote.outputs["query"][1] == local.outputs["query"][1]


def test_the_report_is_stored_in_the_bucket_and_written_locally(lakes: tuple[Lake, Lake]):
    _, remote = lakes
    stored = remote.store.run_dir("tearsheet", remote.run_id) / "tearsheet.html"
    text = stored.read_text(encoding="utf-8")
    assert remote.run_id in text and "<img" in text
    written = Path(remote.outputs["report"][1].strip().splitlines()[-1].split()[-1])
    assert written.read_text(encoding="utf-8") == text


def test_doctor_finds_an_object_changed_behind_the_lakehouse_and_repairs_it(
    lakes: tuple[Lake, Lake], loopback_s3: LoopbackS3
):
    _, remote = lakes
    path = remote.store.symbol_path("KO")
    bucket, key = object_key(path).split("/", 1)
    client = boto3.client("s3", endpoint_url=loopback_s3.endpoint)
    good = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    client.put_object(Bucket=bucket, Key=key, Body=good[:-40] + bytes(40))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("QUANT_DATA_ROOT", remote.root)
        code, out, _ = quant("doctor", "--json")
        assert code != 0 and "symbol=KO" in out
        code, out, err = quant("doctor", "--repair")
        assert code == 0, err
    repaired = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert repaired == good


def test_stale_and_prune_work_on_s3(lakes: tuple[Lake, Lake], tmp_path: Path):
    """What the sensors and maintenance use: freshness from the objects' footers, pruning."""
    local, remote = lakes
    assert json.loads(remote.outputs["stale"][1]) == json.loads(local.outputs["stale"][1])
    statuses = {row["symbol"]: row["status"] for row in json.loads(remote.outputs["stale"][1])}
    assert len(statuses) == 20 and set(statuses.values()) == {"fresh"}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("QUANT_DATA_ROOT", remote.root)
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        code, _, err = quant("prune", "--keep-last", "0")
    assert code == 0, err
    assert remote.store.run_ids() == [] and len(remote.store.symbols()) == 20


def _asset_of(path: Path) -> tuple[str, str]:
    folder = path.parent
    asset = folder.parent.name if "=" in folder.name else folder.name
    return asset, path.name
