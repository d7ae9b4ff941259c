"""The feature build in this process and on Ray: the same frames, bit for bit.

The slow test starts a real two-node Ray cluster (``ray.cluster_utils.Cluster``: a head and a
worker node, one CPU each, on loopback) and points the runs at it with ``ray_address``, as a
user points them at their own cluster: the features (chunks of symbols as Ray tasks) and a
small tournament (windows as Ray tasks) must equal the serial ones exactly.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quant_assets.feature_build import build_features
from quant_assets.features import compute_features
from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament

ENGINES = ["inverse_volatility", "min_variance", "hrp", "market"]


def panel(n_dates: int = 320, n_symbols: int = 24, seed: int = 11) -> pd.DataFrame:
    """Correlated random walks; a late listing, an early delisting and a gap."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, (n_dates, 1))
    returns = market + rng.normal(0.0, 0.015, (n_dates, n_symbols))
    closes = 40 * np.exp(np.cumsum(returns, axis=0))
    dates = pd.bdate_range("2019-01-01", periods=n_dates).astype("datetime64[ns]")
    wide = pd.DataFrame(
        closes,
        index=pd.DatetimeIndex(dates, name="date"),
        columns=pd.Index([f"SYM{i:02d}" for i in range(n_symbols)], name="symbol"),
    )
    wide.iloc[:90, 3] = np.nan
    wide.iloc[250:, 5] = np.nan
    wide.iloc[140, 7] = np.nan
    return wide


def settings(executor: str, data_root: Path, **overrides: object) -> Settings:
    return Settings.for_profile(
        "canary",
        engines=ENGINES,
        executor=executor,
        workers=2,
        data_root=data_root,
        start_date=None,
        train=100,
        test=21,
        min_history=60,
        top_n=6,
        **overrides,
    )


def test_serial_build_is_the_in_memory_table(tmp_path: Path):
    closes = panel()
    chunks = list(build_features(closes, settings("serial", tmp_path), chunk_symbols=5))
    assert len(chunks) == 5
    whole = compute_features(closes, settings("serial", tmp_path))
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole, check_exact=True)


@pytest.fixture(scope="module")
def two_node_cluster() -> Iterator[str]:
    """A real Ray cluster of two nodes on this machine; yields its address."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback, before Ray
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    # Ray's socket paths must stay short: a short folder under /tmp, for its sessions and for
    # the address file it writes under $RAY_TMPDIR/ray.
    previous = os.environ.get("RAY_TMPDIR")
    with tempfile.TemporaryDirectory(prefix="qr", dir="/tmp") as folder:
        os.environ["RAY_TMPDIR"] = folder
        (Path(folder) / "ray").mkdir()
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "include_dashboard": False, "temp_dir": folder},
        )
        try:
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            yield str(cluster.address)
        finally:
            cluster.shutdown()
            if previous is None:
                os.environ.pop("RAY_TMPDIR", None)
            else:
                os.environ["RAY_TMPDIR"] = previous


@pytest.mark.slow
def test_features_and_tournament_on_a_two_node_cluster_equal_serial(two_node_cluster: str):
    import ray

    closes = panel()
    with tempfile.TemporaryDirectory(prefix="q", dir="/tmp") as folder:
        root = Path(folder) / "lakehouse"
        serial = settings("serial", root)
        on_cluster = settings("ray", root, ray_address=two_node_cluster)

        ray.init(address=two_node_cluster)
        try:
            nodes = [node for node in ray.nodes() if node["Alive"]]
            assert len(nodes) == 2 and ray.cluster_resources()["CPU"] == 2
        finally:
            ray.shutdown()

        # Features: 24 symbols in chunks of 3 symbols, eight Ray tasks over both nodes.
        chunks = list(build_features(closes, on_cluster, chunk_symbols=3))
        assert not ray.is_initialized()  # the build connected to the cluster and left it
        expected = list(build_features(closes, serial, chunk_symbols=3))
        assert len(chunks) == len(expected) == 8
        for got, want in zip(chunks, expected, strict=True):
            pd.testing.assert_frame_equal(got, want, check_exact=True)

        # A small tournament: windows as Ray tasks on the same cluster.
        result = run_tournament(closes, {"canary": on_cluster})
        reference = run_tournament(closes, {"canary": serial})
        assert len(reference.windows) >= 8 and len(reference.weights)
        for table in ("leaderboard", "returns", "weights", "vetoes", "guard", "window_results"):
            pd.testing.assert_frame_equal(getattr(result, table), getattr(reference, table))
