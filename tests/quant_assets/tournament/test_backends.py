"""Execution backends: serial, a local process pool and Ray give bit-identical results."""

import ipaddress
import tempfile
from pathlib import Path

import pandas as pd
import psutil
import pytest

from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament
from quant_assets.tournament.ray_backend import start_local_ray

ENGINES = ["inverse_volatility", "min_variance", "risk_parity", "market"]


@pytest.fixture(scope="module")
def prices(bundled_closes: pd.DataFrame) -> pd.DataFrame:
    return bundled_closes.loc["2016":"2019"]


@pytest.fixture(scope="module")
def data_root() -> Path:
    # Ray's socket paths must stay under about 100 characters: keep the folder short.
    with tempfile.TemporaryDirectory(prefix="q", dir="/tmp") as folder:
        yield Path(folder) / "lakehouse"


def settings(executor: str, data_root: Path) -> Settings:
    return Settings.for_profile(
        "canary", engines=ENGINES, executor=executor, workers=2, data_root=data_root, top_n=5
    )


@pytest.fixture(scope="module")
def serial(prices: pd.DataFrame, data_root: Path):
    return run_tournament(prices, {"canary": settings("serial", data_root)})


def assert_identical(result, reference) -> None:
    for table in ("leaderboard", "returns", "weights", "vetoes", "guard", "window_results"):
        pd.testing.assert_frame_equal(getattr(result, table), getattr(reference, table))


def test_local_processes_match_serial(prices: pd.DataFrame, data_root: Path, serial):
    result = run_tournament(prices, {"canary": settings("local", data_root)})
    assert_identical(result, serial)
    scratch = data_root.parent / "tmp"
    assert not list(scratch.glob("tournament-*"))  # the pool's scratch folder is removed
    assert not data_root.exists() or "tmp" not in {p.name for p in data_root.iterdir()}


def test_ray_matches_serial_and_listens_on_loopback_only(
    prices: pd.DataFrame, data_root: Path, serial
):
    ray = pytest.importorskip("ray")
    ray_settings = settings("ray", data_root)
    start_local_ray(ray_settings, workers=2)
    try:
        assert ray.cluster_resources()["CPU"] == 2
        listening = [
            (proc.name(), conn.laddr.ip, conn.laddr.port)
            for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]
            for conn in _listening(proc)
        ]
        assert listening, "a local Ray should be listening on some port"
        assert all(_is_loopback(ip) for _, ip, _ in listening), listening
        session = Path(ray._private.worker.global_worker.node.get_session_dir_path())
        assert session.is_relative_to(data_root.parent / "ray")  # temp files in the data folder
        result = run_tournament(prices, {"canary": ray_settings})  # reuses the running Ray
    finally:
        ray.shutdown()
    assert_identical(result, serial)


def _listening(proc: psutil.Process) -> list:
    try:
        return [c for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is IPv4 loopback
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def test_a_ray_address_that_does_not_answer_fails_fast_with_what_to_do(bundled_closes):
    from quant_assets.tournament.ray_backend import RayUnreachableError, check_ray_address

    with pytest.raises(RayUnreachableError, match="does not answer"):
        check_ray_address("127.0.0.1:9", timeout=5)  # the discard port: nothing listens
    with pytest.raises(RayUnreachableError, match="not host:port"):
        check_ray_address("nonsense")
    settings = Settings.for_profile(
        "canary", executor="ray", ray_address="ray://127.0.0.1:9", engines=["market"]
    )
    with pytest.raises(RayUnreachableError, match="ray_address"):
        run_tournament(bundled_closes.loc["2015":"2017"], {"canary": settings})
