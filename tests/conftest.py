"""Shared fixtures: small slices of the real bundled S&P 500 data, and isolated lakehouses."""

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.hydration import BundledSource, HydrationReport, MarketDataSource, hydrate_symbols
from tests.object_storage import LoopbackS3, start_loopback_s3

SMALL_SYMBOLS = ["AAPL", "JNJ", "KO", "MSFT", "PG", "XOM"]
"""Six bundled symbols, enough for every stage and fast."""


def hydrate_cleanly(
    store: LakehouseStore, source: MarketDataSource, symbols: list[str]
) -> dict[str, HydrationReport]:
    """Hydrate ``symbols`` the production way (``hydrate_symbols``); none may be quarantined."""
    outcome = hydrate_symbols(store, source, symbols)
    assert not outcome.quarantined, outcome.quarantined
    return {report.symbol: report for report in outcome.reports}


@pytest.fixture(scope="session")
def bundled_source() -> BundledSource:
    return BundledSource()


@pytest.fixture(scope="session")
def bundled_closes(bundled_source: BundledSource) -> pd.DataFrame:
    """All 20 real symbols, 1990-2022, wide."""
    return bundled_source._closes.rename_axis(index="date", columns="symbol").astype("float64")


@pytest.fixture(scope="session")
def recent_closes(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    """SMALL_SYMBOLS from 2015 on."""
    return bundled_closes.loc["2015-01-01":, SMALL_SYMBOLS]


@pytest.fixture(scope="session")
def hydrated_root(tmp_path_factory: pytest.TempPathFactory, bundled_source: BundledSource) -> Path:
    """A lakehouse holding SMALL_SYMBOLS, hydrated once per session. Treat as read-only."""
    root = tmp_path_factory.mktemp("lakehouse")
    store = LakehouseStore(root)
    hydrate_cleanly(store, bundled_source, SMALL_SYMBOLS)
    return root


@pytest.fixture
def dagster_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty lakehouse and a persistent Dagster home in tmp_path, set in the environment."""
    monkeypatch.setenv("QUANT_DATA_ROOT", str(tmp_path / "lakehouse"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    yield tmp_path


@pytest.fixture(scope="session")
def local_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own on a free loopback port; the URL of its database.

    Started the way ``make team-up`` starts one (:mod:`quant_sdk.local_postgres`), in a folder
    under /tmp the ``postgres`` user can reach (pytest's own is root's only); stopped and
    deleted after the session.
    """
    from quant_sdk import local_postgres as server

    try:
        server.postgres_bin()
    except FileNotFoundError as error:
        pytest.skip(f"no PostgreSQL here ({error}); `make postgresql` installs it")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="quant-pg-"))
    try:
        yield server.start(folder, port)
    finally:
        server.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def loopback_s3() -> Iterator[LoopbackS3]:
    """An S3-compatible server (moto) on a free loopback port, for the whole session."""
    server = start_loopback_s3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_root(loopback_s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<fresh bucket>/lake``, with the ``AWS_*`` variables set for the loopback server."""
    for name, value in loopback_s3.environment.items():
        monkeypatch.setenv(name, value)
    return f"s3://{loopback_s3.new_bucket()}/lake"
