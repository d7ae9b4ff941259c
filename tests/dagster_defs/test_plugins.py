"""Plug-ins and sweeps through the real ``production`` job, on every executor."""

import sys
import textwrap
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from dagster_defs import build_definitions
from lakehouse import LakehouseStore, new_run_id
from quant_assets.plugins import PluginError
from quant_assets.provenance import write_run_request
from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament
from tests.dagster_defs.test_production import FAST

HERC = "skfolio.optimization:HierarchicalEqualRiskContribution"
RAISING = "quant_examples.faulty:Raising"
PLUGINS = {
    "engines": ["min_variance", "inverse_variance", RAISING, HERC],
    "signals": ["momentum_12_1"],
    "score": "risk_adjusted_momentum",
    "top_n": 3,
}
COMPARED = ("features", "selections", "tournament_weights", "tournament_vetoes", "leaderboard")


def _execute(root: Path, run_id: str) -> dg.ExecuteInProcessResult:
    defs = build_definitions(Settings(data_root=root))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("run_id", [run_id])
        return defs.resolve_job_def("production").execute_in_process(
            partition_key=run_id, instance=instance, raise_on_error=False
        )


def _run(root: Path, grid=None, **overrides) -> tuple[dg.ExecuteInProcessResult, str]:
    run_id = new_run_id()
    base = Settings(data_root=root)
    write_run_request(LakehouseStore(root), run_id, base, "canary", {**FAST, **overrides}, grid)
    return _execute(root, run_id), run_id


def _load(root: Path, asset: str, run_id: str) -> pd.DataFrame:
    store = LakehouseStore(root)
    return store.read_frame(store.run_dir(asset, run_id))


def _failure(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures, "the run should have failed"
    return str(failures[0].event_specific_data.error.cause.message)


@pytest.fixture(scope="module")
def plugin_run(hydrated_root: Path) -> str:
    result, run_id = _run(hydrated_root, executor="serial", **PLUGINS)
    assert result.success
    return run_id


def test_example_engine_signal_and_score_in_one_run(hydrated_root: Path, plugin_run: str):
    closes = _load(hydrated_root, "closes", plugin_run).pivot(
        index="date", columns="symbol", values="close"
    )
    # the signal's column, against pandas on the run's closes
    features = _load(hydrated_root, "features", plugin_run)
    oracle = (closes.shift(21) / closes.shift(252) - 1.0).stack().rename("momentum_12_1")
    got = features.set_index(["date", "symbol"])["momentum_12_1"].dropna()
    pd.testing.assert_series_equal(
        got, oracle.rename_axis(["date", "symbol"]).reindex(got.index), check_exact=True
    )
    # the score's ranking in selections: 12-1 momentum over the features' volatility
    selections = _load(hydrated_root, "selections", plugin_run)
    on_date = features[features["date"] == features["date"].max()].set_index("symbol")
    expected = (on_date["momentum_12_1"] / on_date["volatility"]).sort_values(ascending=False)
    assert list(selections["symbol"]) == list(expected.index)
    np.testing.assert_array_equal(selections["score"], expected.to_numpy())
    assert list(selections.loc[selections["selected"], "symbol"]) == list(expected.index[:3])
    # a raising engine is vetoed in every window, naming it and its error; the others finish
    guard = _load(hydrated_root, "tournament_guard", plugin_run)
    vetoes = _load(hydrated_root, "tournament_vetoes", plugin_run)
    raising = guard[guard["engine"] == RAISING]
    assert (raising["engine_used"] == "inverse_volatility").all()
    assert set(vetoes["vetoed_engine"]) == {RAISING} and len(vetoes) == len(raising)
    assert set(vetoes["reason"]) == {"RuntimeError: this engine always fails"}
    others = guard[guard["engine"] != RAISING]
    assert (others["engine_used"] == others["engine"]).all()
    board = _load(hydrated_root, "leaderboard", plugin_run)
    assert sorted(board["engine"]) == sorted(PLUGINS["engines"])
    assert board.set_index("engine").loc[RAISING, "vetoes"] == len(raising)


def test_manifest_records_every_plugin(hydrated_root: Path, plugin_run: str):
    store = LakehouseStore(hydrated_root)
    manifest = store.read_document(store.run_dir("run_manifest", plugin_run))
    records = {(r["kind"], r["name"]): r for r in manifest["plugins"]}
    assert set(records) == {
        *(("engine", e) for e in PLUGINS["engines"]),
        ("signal", "momentum_12_1"),
        ("score", "risk_adjusted_momentum"),
    }
    herc = records[("engine", HERC)]
    assert herc["distribution"] == "skfolio" and herc["version"] == "1.12.2"
    assert herc["import_path"].endswith(":HierarchicalEqualRiskContribution")
    example = records[("signal", "momentum_12_1")]
    assert example["import_path"] == "quant_examples.signals:momentum_12_1"
    assert example["distribution"] == "quant-lakehouse-examples"
    assert len(example["source_sha256"]) == 64
    assert records[("engine", "min_variance")]["distribution"] == "quant-lakehouse"


def _identical_on(hydrated_root: Path, plugin_run: str, executor: str) -> None:
    result, run_id = _run(hydrated_root, executor=executor, workers=2, **PLUGINS)
    assert result.success
    for asset in COMPARED:
        pd.testing.assert_frame_equal(
            _load(hydrated_root, asset, run_id),
            _load(hydrated_root, asset, plugin_run),
            check_exact=True,
        )


def test_plugins_are_bit_identical_on_local(hydrated_root: Path, plugin_run: str):
    _identical_on(hydrated_root, plugin_run, "local")


@pytest.mark.slow
def test_plugins_are_bit_identical_on_ray(hydrated_root: Path, plugin_run: str):
    pytest.importorskip("ray")
    _identical_on(hydrated_root, plugin_run, "ray")


def test_a_peeking_signal_fails_the_run_naming_where(hydrated_root: Path):
    result, run_id = _run(
        hydrated_root, executor="serial", signals=["quant_examples.faulty:peeking"]
    )
    assert not result.success
    message = _failure(result)
    assert "signal 'quant_examples.faulty:peeking' looks ahead: its value for AAPL on" in message
    store = LakehouseStore(hydrated_root)
    assert not list(store.run_dir("features", run_id).glob("*.parquet"))  # nothing stored
    assert not store.run_dir("selections", run_id).exists()


def test_a_plugin_a_worker_cannot_import_fails_fast_naming_it(
    recent_closes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import types

    module = types.ModuleType("parent_only")  # imported here, not importable by a worker
    module.Ghost = type("Ghost", (), {"weights": lambda self, r, s, m: np.full(r.shape[1], 0.2)})
    monkeypatch.setitem(sys.modules, "parent_only", module)
    settings = Settings.for_profile(
        "canary",
        engines=["parent_only:Ghost"],
        executor="local",
        workers=2,
        min_history=252,
        data_root=tmp_path / "lake",
    )
    with pytest.raises(PluginError, match=r"engine 'parent_only:Ghost' cannot be imported"):
        run_tournament(recent_closes, {"p": settings})


def test_rerun_says_when_a_plugin_changed(
    hydrated_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "plugins"
    folder.mkdir()
    source = folder / "my_score.py"
    source.write_text("def calm(features, regime):\n    return -features['volatility']\n")
    monkeypatch.syspath_prepend(str(folder))
    result, run_id = _run(hydrated_root, executor="serial", score="my_score:calm")
    assert result.success
    source.write_text(
        source.read_text()
        + textwrap.dedent("""
        # a comment: the source changed
        """)
    )
    again = _execute(hydrated_root, run_id)
    assert again.success
    store = LakehouseStore(hydrated_root)
    manifest = store.read_document(store.run_dir("run_manifest", run_id))
    assert len(manifest["plugin_changes"]) == 1
    assert manifest["plugin_changes"][0].startswith("score 'my_score:calm': source_sha256 was")


NOT_PER_STRATEGY = ["rank", "profile", "n_trials", "dsr", "effective_trials", "dsr_effective"]
"""Leaderboard columns that depend on the other strategies tried (the trials), not on one."""


@pytest.mark.slow
def test_a_sweep_equals_separate_runs(hydrated_root: Path):
    grid = {"top_n": [3, 4, 5], "engines": ["inverse_variance", "min_variance"]}
    result, sweep_id = _run(hydrated_root, grid=grid, executor="serial")
    assert result.success
    store = LakehouseStore(hydrated_root)
    manifest = store.read_document(store.run_dir("run_manifest", sweep_id))
    assert manifest["grid"] == grid and len(manifest["points"]) == 6
    board = _load(hydrated_root, "leaderboard", sweep_id)
    weights = _load(hydrated_root, "tournament_weights", sweep_id)
    assert len(board) == 6 and (board["n_trials"] >= 2).all()  # its points are trials of each other
    for top_n in grid["top_n"]:
        for engine in grid["engines"]:
            name = f"top_n={top_n},engines={engine}"
            alone, run_id = _run(hydrated_root, executor="serial", top_n=top_n, engines=[engine])
            assert alone.success
            mine = board[board["profile"] == name].drop(columns=NOT_PER_STRATEGY)
            theirs = _load(hydrated_root, "leaderboard", run_id).drop(columns=NOT_PER_STRATEGY)
            pd.testing.assert_frame_equal(
                mine.reset_index(drop=True), theirs.reset_index(drop=True), check_exact=True
            )
            pd.testing.assert_frame_equal(
                weights[weights["profile"] == name].drop(columns="profile").reset_index(drop=True),
                _load(hydrated_root, "tournament_weights", run_id).drop(columns="profile"),
                check_exact=True,
            )
