import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from lakehouse.catalog import ReadOnlyQueryError, asset_views, open_catalog, query
from tests.lakehouse.damage import cut_in_half, scramble_footer

RUNS = ["20260101-000000-aaaa", "20260102-000000-bbbb", "20260103-000000-cccc"]
SYMBOLS = ["AAPL", "MSFT", "0700"]


@pytest.fixture
def lake(tmp_path: Path) -> LakehouseStore:
    """Three runs of ``features`` (x = run number), three symbols, one run document."""
    store = LakehouseStore(tmp_path / "lake")
    rng = np.random.default_rng(7)
    for number, run_id in enumerate(RUNS):
        frame = pd.DataFrame({"x": np.full(1000, float(number)), "noise": rng.normal(size=1000)})
        store.write_frame(frame, store.run_dir("features", run_id))
    for number, symbol in enumerate(SYMBOLS):
        bars = pd.DataFrame(
            {"date": pd.bdate_range("2024-01-01", periods=300), "close": 100.0 + number}
        )
        store.write_frame(bars, store.symbol_dir(symbol))
    store.write_document({"a": 1}, store.run_dir("run_manifest", RUNS[0]))
    return store


def _features_file(store: LakehouseStore, run_id: str) -> Path:
    return store.run_dir("features", run_id) / "part-0.parquet"


def test_views_expose_partition_columns(lake: LakehouseStore):
    views = asset_views(lake.root)
    assert sorted(views.files) == ["features", "market_data"]
    assert views.damaged == []
    by_run = query(
        "SELECT run_id, sum(x) AS total FROM features GROUP BY run_id ORDER BY run_id",
        root=lake.root,
    )
    assert by_run.to_dict("list") == {"run_id": RUNS, "total": [0.0, 1000.0, 2000.0]}
    bound = query("SELECT count(*) AS n FROM features WHERE run_id = ?", [RUNS[1]], root=lake.root)
    assert int(bound["n"].iloc[0]) == 1000


def test_partition_values_stay_text(lake: LakehouseStore):
    """A numeric-looking symbol keeps its leading zero (no hive type guessing)."""
    symbols = query("SELECT DISTINCT symbol FROM market_data ORDER BY symbol", root=lake.root)
    assert symbols["symbol"].tolist() == sorted(SYMBOLS)


def test_joins_across_views_and_table_listing(lake: LakehouseStore):
    joined = query(
        """
        WITH per_run AS (SELECT run_id, avg(x) AS x FROM features GROUP BY run_id)
        SELECT p.run_id, m.symbol, p.x + m.close AS total
        FROM per_run p JOIN market_data m ON m.date = DATE '2024-01-01'
        WHERE p.run_id = ? ORDER BY m.symbol
        """,
        [RUNS[2]],
        root=lake.root,
    )
    assert joined["total"].tolist() == [2.0 + 102.0, 2.0 + 100.0, 2.0 + 101.0]  # 0700, AAPL, MSFT
    listed = query("SHOW TABLES", root=lake.root)
    assert sorted(listed["name"]) == ["features", "market_data", "run_manifest"]
    described = query("DESCRIBE features", root=lake.root)
    assert set(described["column_name"]) == {"x", "noise", "run_id"}


@pytest.mark.parametrize(
    ("sql", "statement_type"),
    [
        ("COPY (SELECT 1 AS x) TO '{part}'", "COPY"),
        ("INSERT INTO features VALUES (1, 2, 'x')", "INSERT"),
        ("CREATE TABLE t AS SELECT 1 AS x", "CREATE"),
        ("ATTACH '{root}/x.duckdb' AS x", "ATTACH"),
        ("SET enable_external_access = true", "SET"),
        ("SELECT 1; DROP VIEW features", "DROP"),
        ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN"),
    ],
)
def test_writes_are_refused(lake: LakehouseStore, sql: str, statement_type: str):
    part = lake.symbol_path("AAPL")
    before = part.read_bytes()
    files_before = sorted(lake.root.rglob("*"))
    with pytest.raises(ReadOnlyQueryError, match=f"{statement_type}.*read-only"):
        query(sql.format(part=part, root=lake.root), root=lake.root)
    assert part.read_bytes() == before
    assert sorted(lake.root.rglob("*")) == files_before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('{root}/../outside.parquet')",
    ],
)
def test_reading_outside_the_lakehouse_is_refused(lake: LakehouseStore, sql: str):
    outside = lake.root.parent / "outside.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(outside)
    with pytest.raises(duckdb.PermissionException):
        query(sql.format(root=lake.root), root=lake.root)


def test_internal_connection_is_locked_down(lake: LakehouseStore):
    with open_catalog(lake.root, assets=["market_data"]) as con:
        views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        assert "market_data" in views and "features" not in views
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_text('/etc/hostname')")
        with pytest.raises(duckdb.InvalidInputException, match="configuration"):
            con.execute("SET enable_external_access = true")


def test_empty_query_is_refused(lake: LakehouseStore):
    with pytest.raises(ReadOnlyQueryError, match="empty"):
        query("  ", root=lake.root)


def test_truncated_file_of_one_run_hides_only_that_run(lake: LakehouseStore, caplog):
    damaged = _features_file(lake, RUNS[0])
    cut_in_half(damaged)
    with caplog.at_level(logging.WARNING, logger="lakehouse.catalog"):
        assert query("SELECT 1 AS one", root=lake.root)["one"].tolist() == [1]
        assert caplog.records == []  # SELECT 1 builds no view, so reads no footer
        runs = query("SELECT DISTINCT run_id FROM features ORDER BY run_id", root=lake.root)
    assert runs["run_id"].tolist() == RUNS[1:]
    assert str(damaged) in caplog.text
    closes = query("SELECT count(*) AS n FROM market_data", root=lake.root)
    assert int(closes["n"].iloc[0]) == 300 * len(SYMBOLS)
    [entry] = asset_views(lake.root).damaged
    assert (entry.path, entry.asset, entry.partition_key) == (damaged, "features", RUNS[0])
    assert "truncated" in entry.error


def test_truncated_symbol_leaves_other_symbols_loadable(lake: LakehouseStore):
    cut_in_half(lake.symbol_path("MSFT"))
    with open_catalog(lake.root, assets="market_data") as con:
        symbols = con.execute("SELECT DISTINCT symbol FROM market_data ORDER BY 1").fetchall()
    assert [row[0] for row in symbols] == ["0700", "AAPL"]


def test_scrambled_footer_is_found_when_duckdb_refuses_the_view(lake: LakehouseStore, caplog):
    """Magic bytes intact, footer unreadable: the cheap check passes, the fallback finds it."""
    damaged = _features_file(lake, RUNS[1])
    scramble_footer(damaged)
    assert asset_views(lake.root).damaged == []
    with caplog.at_level(logging.WARNING, logger="lakehouse.catalog"):
        runs = query("SELECT DISTINCT run_id FROM features ORDER BY run_id", root=lake.root)
    assert runs["run_id"].tolist() == [RUNS[0], RUNS[2]]
    assert str(damaged) in caplog.text


def test_asset_with_every_file_damaged_has_no_view(lake: LakehouseStore):
    for run_id in RUNS:
        cut_in_half(_features_file(lake, run_id))
    views = asset_views(lake.root)
    assert sorted(views.files) == ["market_data"]
    assert sorted(entry.partition_key for entry in views.damaged) == RUNS
    with pytest.raises(duckdb.CatalogException, match="features"):
        query("SELECT * FROM features", root=lake.root)
    assert query("SELECT count(*) AS n FROM market_data", root=lake.root)["n"].iloc[0] > 0


def test_missing_or_empty_lakehouse(tmp_path: Path):
    assert asset_views(tmp_path / "absent").files == {}
    assert query("SELECT 42 AS x", root=tmp_path / "absent")["x"].tolist() == [42]
    (tmp_path / "lake" / "features" / f"run_id={RUNS[0]}").mkdir(parents=True)
    assert asset_views(tmp_path / "lake") == asset_views(tmp_path / "absent")


def test_json_documents_are_views_with_their_partition_column(lake: LakehouseStore):
    quarantine = lake.asset_dir("quarantine")
    lake.write_document(
        {"symbol": "BAD", "reason": "non-numeric `close`", "rows": [1, 4], "values": ["abc"]},
        quarantine / "symbol=BAD",
    )
    lake.write_document(  # text that DuckDB's sampling would take for a TIME stays text
        {
            "symbol": "0700",
            "reason": "empty file",
            "rows": [],
            "values": None,
            "fingerprint": "12:34",
        },
        quarantine / "symbol=0700",
    )
    lake.write_document(
        {"run_id": RUNS[1], "settings": {"top_n": 5, "engines": ["hrp"]}, "sharpe": 1},
        lake.run_dir("run_manifest", RUNS[1]),
    )
    lake.write_document({"files": {"vanished": {}}}, lake.asset_dir("market_data_status"))
    assert sorted(asset_views(lake.root).documents) == [
        "market_data_status",
        "quarantine",
        "run_manifest",
    ]
    refused = query(
        'SELECT symbol, reason, rows, "values", fingerprint FROM quarantine ORDER BY symbol',
        root=lake.root,
    )
    assert refused["symbol"].tolist() == ["0700", "BAD"]
    assert refused["reason"].tolist() == ["empty file", "non-numeric `close`"]
    assert [list(rows) for rows in refused["rows"]] == [[], [1, 4]]
    assert refused["fingerprint"].tolist()[0] == "12:34"
    runs = query(
        "SELECT run_id, settings->>'top_n' AS top_n, sharpe, a FROM run_manifest ORDER BY run_id",
        root=lake.root,
    )
    assert runs["run_id"].tolist() == RUNS[:2]  # from the path, for the document without one
    assert runs["top_n"].tolist()[1] == "5" and runs["a"].tolist()[0] == 1
    types = query("DESCRIBE run_manifest", root=lake.root).set_index("column_name")["column_type"]
    assert types.to_dict() == {
        "a": "BIGINT",
        "settings": "JSON",
        "sharpe": "BIGINT",
        "run_id": "VARCHAR",
    }
    status = query("SELECT files->'vanished' AS vanished FROM market_data_status", root=lake.root)
    assert status["vanished"].tolist() == ["{}"]


def test_a_damaged_document_hides_only_itself(lake: LakehouseStore, caplog):
    lake.write_document({"a": 2}, lake.run_dir("run_manifest", RUNS[1]))
    damaged = lake.run_dir("run_manifest", RUNS[1]) / "document.json"
    damaged.write_text('{"a": 2, "b', encoding="utf-8")  # cut short
    with caplog.at_level(logging.WARNING, logger="lakehouse.catalog"):
        runs = query("SELECT run_id, a FROM run_manifest", root=lake.root)
    assert runs.to_dict("list") == {"run_id": [RUNS[0]], "a": [1]}
    assert str(damaged) in caplog.text


def test_document_views_are_locked_down_like_the_rest(lake: LakehouseStore):
    with open_catalog(lake.root, assets=["run_manifest"]) as con:
        assert con.execute("SELECT a FROM run_manifest").fetchall() == [(1,)]
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_json('/etc/hostname')")
        with pytest.raises(duckdb.InvalidInputException, match="configuration"):
            con.execute("SET enable_external_access = true")
    with pytest.raises(ReadOnlyQueryError, match="read-only"):
        query("COPY run_manifest TO '{}'".format(lake.root / "x.json"), root=lake.root)
