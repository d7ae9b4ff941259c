import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from dagster_defs import build_definitions
from lakehouse import LakehouseStore, new_run_id
from lakehouse.catalog import query
from quant_assets.assets import checks as checks_module
from quant_assets.assets import discovery as discovery_assets
from quant_assets.assets import resources as resources_module
from quant_assets.assets.checks import audited_rows
from quant_assets.assets.overfitting import LUCK_CHECK
from quant_assets.contracts import STORED_CONTRACTS
from quant_assets.overfitting.leaderboard_luck import LUCK_COLUMNS, distinct_trials
from quant_assets.provenance import write_run_request
from quant_assets.settings import Settings
from quant_assets.tearsheet.analytics import returns_wide
from quant_sdk import QuantSDK
from tests.conftest import SMALL_SYMBOLS

FAST = {"start_date": date(2019, 1, 1), "min_history": 252}


def _run(root: Path, job: str = "production", **overrides) -> tuple[dg.ExecuteInProcessResult, str]:
    run_id = new_run_id()
    base = Settings(data_root=root)
    write_run_request(LakehouseStore(root), run_id, base, "canary", {**FAST, **overrides})
    defs = build_definitions(base)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("run_id", [run_id])
        result = defs.resolve_job_def(job).execute_in_process(
            partition_key=run_id, instance=instance, raise_on_error=False
        )
    return result, run_id


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_tier1_contracts_are_validated_once_and_the_checks_report_the_audit(
    hydrated_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "lake"
    shutil.copytree(hydrated_root, root)
    validated: list[str] = []
    real = checks_module.validate_stored

    def counted(frame, contract):
        validated.append(contract.__name__)
        return real(frame, contract)

    monkeypatch.setattr(checks_module, "validate_stored", counted)
    monkeypatch.setattr(resources_module, "validate_stored", counted)
    run_id = new_run_id()
    base = Settings(data_root=root)
    write_run_request(LakehouseStore(root), run_id, base, "canary", FAST)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("run_id", [run_id])
        result = (
            build_definitions(base)
            .resolve_job_def("production")
            .execute_in_process(partition_key=run_id, instance=instance)
        )
        leaderboard = dg.AssetKey("leaderboard")
        store = LakehouseStore(root)
        rows = len(store.read_frame(store.run_dir("leaderboard", run_id)))
        assert audited_rows(instance, leaderboard, run_id, result.run_id) == (
            "RunLeaderboardContract",
            rows,
        )
        # the check of another run (e.g. run alone from the UI) validates the file itself
        assert audited_rows(instance, leaderboard, run_id, "another-dagster-run") is None
    tier1 = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name.endswith("_matches_contract")
    ]
    run_contracts = [c.__name__ for a, c in STORED_CONTRACTS.items() if a != "market_data"]
    assert len(tier1) == len(run_contracts)
    for evaluation in tier1:
        assert evaluation.passed
        assert evaluation.description == "validated by the IO manager before it published the frame"
        stored = store.read_frame(store.run_dir(evaluation.asset_key.path[-1], run_id))
        assert evaluation.metadata["num_rows"].value == len(stored)
    counts = pd.Series(validated).value_counts()
    assert (counts[run_contracts] == 1).all()  # once each: by the audit, not again by the check


def test_production_job_on_real_data(hydrated_root: Path):
    result, run_id = _run(hydrated_root)
    assert result.success
    store = LakehouseStore(hydrated_root)
    manifest = store.read_document(store.run_dir("run_manifest", run_id))
    assert manifest["profile"] == "canary" and manifest["settings"]["min_history"] == 252
    assert sorted(manifest["inputs"]["market_data"]) == sorted(SMALL_SYMBOLS)
    assert manifest["packages"]["dagster"] == dg.__version__
    by_sql = query(
        "SELECT run_id, profile, settings->>'min_history' AS min_history FROM run_manifest "
        "WHERE run_id = ?",
        [run_id],
        root=hydrated_root,
    )
    assert by_sql.values.tolist() == [[run_id, "canary", "252"]]
    universe = store.read_frame(store.run_dir("universe", run_id))
    assert universe["eligible"].all() and sorted(universe["symbol"]) == sorted(SMALL_SYMBOLS)
    features = store.read_frame(store.run_dir("features", run_id))
    assert features["date"].min() >= pd.Timestamp("2019-01-01")
    selections = store.read_frame(store.run_dir("selections", run_id))
    assert selections["selected"].sum() == min(
        len(SMALL_SYMBOLS), Settings.for_profile("canary").top_n
    )
    allocations = store.read_frame(store.run_dir("allocations", run_id))
    canary = Settings.for_profile("canary")
    assert set(allocations["engine"]) == set(canary.engines)
    assert allocations.groupby("engine")["weight"].sum().sub(1).abs().max() < 1e-9
    windows = store.read_frame(store.run_dir("tournament_windows", run_id))
    assert (windows["test_start"] > windows["train_end"]).all()
    leaderboard = store.read_frame(store.run_dir("leaderboard", run_id))
    assert sorted(leaderboard["engine"]) == sorted(canary.engines)
    assert list(leaderboard["rank"]) == list(range(1, len(canary.engines) + 1))
    assert leaderboard["sharpe"].is_monotonic_decreasing
    returns = store.read_frame(store.run_dir("tournament_returns", run_id))
    assert returns["date"].min() == windows["test_start"].min()
    checks = _checks(result)
    assert checks and all(passed for name, passed in checks.items() if name != LUCK_CHECK)
    assert {
        "universe_matches_contract",
        "features_passes_audit",
        "tournament_weights_passes_audit",
        "leaderboard_matches_contract",
        "overfitting_matches_contract",
        LUCK_CHECK,
    } <= set(checks)
    # is the winner luck? per strategy in the leaderboard, per run in `overfitting`
    assert set(LUCK_COLUMNS) | {"closes_hash"} <= set(leaderboard.columns)
    assert leaderboard["psr"].between(0, 1).all() and leaderboard["dsr"].between(0, 1).all()
    assert (leaderboard["dsr"] <= leaderboard["psr"]).all()
    # a trial is a distinct series: with 6 symbols, equal_weight of all of them is the market
    distinct = distinct_trials(returns_wide(returns)).shape[1]
    assert distinct < len(canary.engines)
    assert (leaderboard["n_trials"] >= distinct).all()  # earlier runs on these data may add
    assert (leaderboard["sharpe_low"] < leaderboard["sharpe"]).all()
    assert (leaderboard["sharpe"] < leaderboard["sharpe_high"]).all()
    # against the market baseline; NaN for it and for equal_weight, the same series here
    tested = leaderboard.set_index("engine")["spa_pvalue"]
    assert tested[["market", "equal_weight"]].isna().all()
    assert tested.drop(["market", "equal_weight"]).between(0, 1).all()
    overfitting = store.read_frame(store.run_dir("overfitting", run_id))
    assert len(overfitting) == 12_870 and overfitting["n_blocks"].eq(16).all()
    assert overfitting["pbo"].nunique() == 1 and 0 <= overfitting["pbo"].iloc[0] <= 1
    assert overfitting["pbo"].iloc[0] == (overfitting["logit"] <= 0).mean()
    best = leaderboard.iloc[0]
    assert overfitting["best_dsr"].iloc[0] == best["dsr"]
    luck = next(
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name == LUCK_CHECK
    )
    assert luck.metadata["best_dsr"].value == best["dsr"]
    assert luck.passed == (overfitting["pbo"].iloc[0] <= 0.5 and best["dsr"] >= 0.95)
    page = (store.run_dir("tearsheet", run_id) / "tearsheet.html").read_text()
    assert 'id="luck"' in page and "chance of being no better than zero" in page
    assert 'alt="PBO logit histogram"' in page
    metadata = next(
        m.metadata
        for m in result.asset_materializations_for_node("tournament_report")
        if m.asset_key == dg.AssetKey("leaderboard")
    )
    assert "min_variance" in metadata["leaderboard"].value
    assert metadata["equity_curve"].value.startswith(
        "![equity curves and drawdowns](data:image/png;base64,"
    )


def test_a_contract_breaking_frame_is_never_published(
    hydrated_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "lakehouse"
    shutil.copytree(hydrated_root, root)
    store = LakehouseStore(root)
    earlier = new_run_id()  # a published universe, so the view exists to query
    store.write_frame(
        pd.DataFrame(
            {
                "symbol": ["AAA", "BBB"],
                "first_date": pd.to_datetime(["2019-01-02"] * 2),
                "last_date": pd.to_datetime(["2020-01-02"] * 2),
                "observations": [253, 253],
                "missing_fraction": [0.0, 0.0],
                "eligible": [True, True],
                "reason": ["", ""],
            }
        ),
        store.run_dir("universe", earlier),
    )
    real = discovery_assets.discover_universe

    def duplicated_symbols(closes, settings):
        table = real(closes, settings)
        return pd.concat([table, table.iloc[:1]], ignore_index=True)

    monkeypatch.setattr(discovery_assets, "discover_universe", duplicated_symbols)
    result, run_id = _run(root)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.cause.message
    assert f"asset universe of run {run_id} breaks UniverseContract (tier 1" in message
    assert "first: column 'symbol' fails 'field_uniqueness'" in message
    rejected = store.rejected_dir("universe", run_id) / "part-0.parquet"
    assert str(rejected) in message
    kept = pd.read_parquet(rejected)
    assert kept["symbol"].duplicated().sum() == 1  # the breaking frame, kept for inspection
    assert not store.run_dir("universe", run_id).exists()  # never under its final path
    sdk = QuantSDK(settings=Settings(data_root=root))
    seen = sdk.query("SELECT DISTINCT run_id FROM universe")
    assert earlier in set(seen["run_id"]) and run_id not in set(seen["run_id"])  # never queried
    assert "_rejected" not in sdk.query("SHOW TABLES")["name"].tolist()
    for downstream in ("closes", "features", "selections"):
        assert not store.run_dir(downstream, run_id).exists()


def test_audit_warns_unless_strict(hydrated_root: Path, monkeypatch: pytest.MonkeyPatch):
    real = discovery_assets.discover_universe

    def one_eligible(closes, settings):
        table = real(closes, settings)
        table.loc[1:, "eligible"] = False
        table.loc[1:, "reason"] = "excluded by test"
        return table

    monkeypatch.setattr(discovery_assets, "discover_universe", one_eligible)
    result, run_id = _run(hydrated_root, job="production")
    assert _checks(result)["universe_passes_audit"] is False
    store = LakehouseStore(hydrated_root)
    assert store.run_dir("closes", run_id).exists()  # WARN: downstream went on
    strict, strict_run = _run(hydrated_root, strict=True)
    assert _checks(strict)["universe_passes_audit"] is False
    assert not store.run_dir("closes", strict_run).exists()  # strict: blocked


def test_production_on_ray_through_dagster_ray_matches_local(
    hydrated_root: Path, monkeypatch: pytest.MonkeyPatch
):
    """executor=ray connects dagster-ray's LocalRay resource; the leaderboard is identical."""
    ray = pytest.importorskip("ray")
    from dagster_ray import LocalRay

    connections = []
    real_connect = LocalRay.connect

    def recorded_connect(self, context):
        connections.append(self.ray_init_options)
        return real_connect(self, context)

    monkeypatch.setattr(LocalRay, "connect", recorded_connect)
    local, local_id = _run(hydrated_root, executor="local")
    assert local.success and not connections  # no Ray unless asked for
    on_ray, ray_id = _run(hydrated_root, executor="ray", workers=2)
    assert on_ray.success and len(connections) == 1
    assert connections[0]["_node_ip_address"] == "127.0.0.1"
    assert connections[0]["include_dashboard"] is False
    assert not ray.is_initialized()  # disconnected after the step
    store = LakehouseStore(hydrated_root)
    pd.testing.assert_frame_equal(
        store.read_frame(store.run_dir("leaderboard", ray_id)),
        store.read_frame(store.run_dir("leaderboard", local_id)),
    )


def test_trials_across_runs_on_the_same_closes_and_dates(hydrated_root: Path, tmp_path: Path):
    """Two runs on the same data and dates deflate by both; a run on other dates does not."""
    root = tmp_path / "lakehouse"
    shutil.copytree(hydrated_root / "market_data", root / "market_data")
    store = LakehouseStore(root)

    def run_and_read(**overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
        result, run_id = _run(root, **overrides)
        assert result.success
        board = store.read_frame(store.run_dir("leaderboard", run_id))
        returns = returns_wide(store.read_frame(store.run_dir("tournament_returns", run_id)))
        return board, returns

    first, first_returns = run_and_read(top_n=3)
    assert first["n_trials"].eq(distinct_trials(first_returns).shape[1]).all()
    second, second_returns = run_and_read(top_n=4)
    assert second["closes_hash"].iloc[0] == first["closes_hash"].iloc[0]
    both = pd.concat([second_returns, first_returns.add_prefix("first/")], axis=1)
    assert second["n_trials"].eq(distinct_trials(both).shape[1]).all()
    assert distinct_trials(both).shape[1] > distinct_trials(second_returns).shape[1]
    # the DSR of a strategy deflates by every trial: more trials of the same spread, lower DSR
    assert (second["effective_trials"] <= second["n_trials"]).all()
    later, later_returns = run_and_read(start_date=date(2019, 7, 1))
    assert later["closes_hash"].iloc[0] != first["closes_hash"].iloc[0]
    assert later["n_trials"].eq(distinct_trials(later_returns).shape[1]).all()
