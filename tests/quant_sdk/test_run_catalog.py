import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.settings import Settings
from quant_sdk.run_catalog import (
    compare_leaderboards,
    data_span,
    run_status,
    run_table,
    settings_changes,
    stored_assets,
)

RUN = "20250102-030405-abcd"
OTHER = "20250103-000000-beef"


def _board(profile: str, rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["sharpe", "annual_return", "annual_volatility", "max_drawdown"],
    )
    return frame.rename_axis("engine").reset_index().assign(profile=profile)


@pytest.mark.parametrize(
    "assets, dagster_status, expected",
    [
        (["run_requests", "closes", "leaderboard"], "SUCCESS", "complete"),
        (["run_requests", "closes", "leaderboard"], "FAILURE", "failed"),
        (["run_requests", "closes", "leaderboard"], "STARTED", "running"),
        (["run_requests", "closes"], "FAILURE", "failed"),
        (["run_requests", "closes"], "CANCELED", "failed"),
        (["run_requests"], "FAILURE", "failed"),
        (["run_requests", "closes"], None, "partial"),
        (["run_requests", "closes"], "SUCCESS", "partial"),
        (["run_requests"], None, "requested"),
        ([], "QUEUED", "running"),
    ],
)
def test_run_status(assets, dagster_status, expected):
    assert run_status(assets, dagster_status) == expected


def test_run_table_from_folders_and_dagster_records_alone(tmp_path):
    store = LakehouseStore(tmp_path)
    store.write_frame(
        _board("canary", {"hrp": (0.5, 0.1, 0.2, -0.3), "market": (0.9, 0.2, 0.2, -0.2)}),
        store.run_dir("leaderboard", RUN),
    )
    store.write_frame(pd.DataFrame({"x": [1]}), store.symbol_dir("KO"))
    assert stored_assets(store) == {RUN: ["leaderboard"]}
    table = run_table(store, {OTHER: "STARTED", "hand-made": "SUCCESS"})
    assert table["run_id"].tolist() == [RUN, OTHER]
    first, second = table.to_dict(orient="records")
    assert (first["status"], first["best_engine"], first["best_sharpe"]) == (
        "complete",
        "market",
        0.9,
    )
    assert first["created_at"] == "2025-01-02T03:04:05+00:00"  # from the run id: no manifest
    assert (second["status"], second["assets"]) == ("running", 0)
    assert pd.isna(second["best_engine"]) and pd.isna(second["best_sharpe"])


def test_compare_matches_engines_across_profiles_and_takes_b_minus_a():
    a = _board("canary", {"hrp": (0.5, 0.1, 0.2, -0.3), "market": (0.9, 0.2, 0.2, -0.2)})
    b = _board(
        "production", {"hrp": (0.7, 0.15, 0.25, -0.35), "min_variance": (0.6, 0.1, 0.1, -0.1)}
    )
    side = compare_leaderboards(a, b)
    assert side["engine"].tolist() == ["hrp", "min_variance", "market"]  # B's Sharpe first
    hrp = side.iloc[0]
    assert (hrp["sharpe_a"], hrp["sharpe_b"]) == (0.5, 0.7)
    assert hrp["sharpe_diff"] == pytest.approx(0.2)
    assert hrp["max_drawdown_diff"] == pytest.approx(-0.05)
    assert np.isnan(side.iloc[1]["sharpe_a"]) and np.isnan(side.iloc[2]["sharpe_diff"])


def test_compare_matches_profile_and_engine_when_a_leaderboard_holds_several_profiles():
    a = pd.concat(
        [_board("canary", {"hrp": (0.5, 0, 0, 0)}), _board("wide", {"hrp": (0.1, 0, 0, 0)})]
    )
    b = _board("canary", {"hrp": (0.6, 0, 0, 0)})
    side = compare_leaderboards(a, b)
    assert list(side.columns[:2]) == ["profile", "engine"]
    canary = side[side["profile"] == "canary"].iloc[0]
    assert canary["sharpe_diff"] == pytest.approx(0.1)
    assert np.isnan(side[side["profile"] == "wide"].iloc[0]["sharpe_b"])


def test_compare_without_leaderboards_is_empty():
    assert compare_leaderboards(None, None).empty


def test_settings_changes_leave_out_where_the_lakehouse_is():
    changes = settings_changes(Settings(data_root="elsewhere", top_n=3), Settings())
    assert changes.to_dict(orient="records") == [{"setting": "top_n", "value": 3, "reference": 8}]


def test_data_span_without_closes_uses_the_manifest_symbols(tmp_path):
    manifest = {"inputs": {"market_data": {"PG": "h1", "KO": "h2"}}}
    span = data_span(LakehouseStore(tmp_path), RUN, manifest)
    assert span == {"first_date": None, "last_date": None, "days": None, "symbols": ["KO", "PG"]}
