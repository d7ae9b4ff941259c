"""The `quant` command line on real canary runs: exit codes, JSON, tables, errors, no noise."""

import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import date
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from lakehouse import LakehouseStore, new_run_id
from quant_assets.settings import ENGINE_NAMES, PROFILES, Settings
from quant_sdk import QuantSDK
from quant_sdk.cli import build_parser, main
from tests.conftest import SMALL_SYMBOLS

REPO = Path(__file__).resolve().parents[2]
FAST = ["--set", "start_date=2019-01-01", "--set", "min_history=252"]
DAGSTER_NOISE = (" - dagster - ", "STEP_SUCCESS", "STEP_FAILURE", "RUN_FAILURE", "LocalRay")
SHORT_HISTORY = ["--set", "start_date=2022-06-01"]
"""Too little history after this date: the universe audit warns and a later step fails."""
FAILED_RUN_LINE = re.compile(r"error: run (\S+): production run \S+ failed: (\w+): \w+Error: ")


@dataclass(frozen=True)
class Lake:
    root: Path
    dagster_home: Path
    run_a: str
    run_b: str
    run_b_output: tuple[int, str, str]
    """(exit code, stdout, stderr) of `quant run` for run_b."""

    @property
    def store(self) -> LakehouseStore:
        return LakehouseStore(self.root)


def _environment(lake_root: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("QUANT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("QUANT_DATA_ROOT", str(lake_root))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Six bundled symbols; run A (top_n=3) by the SDK, run B (top_n=5) by `quant run`."""
    folder = tmp_path_factory.mktemp("cli")
    root, home = folder / "lakehouse", folder / "dagster_home"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _environment(root, home, monkeypatch)
        sdk = QuantSDK(settings=Settings(data_root=root))
        sdk.hydrate(symbols=SMALL_SYMBOLS)
        run_a = sdk.new_run("canary", top_n=3, start_date=date(2019, 1, 1), min_history=252)
        sdk.run(run_id=run_a)
        out, err = StringIO(), StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["run", "--set", "top_n=5", *FAST])
    run_b = next(
        line.split()[1] for line in out.getvalue().splitlines() if line.startswith("run_id")
    )
    return Lake(root, home, run_a, run_b, (code, out.getvalue(), err.getvalue()))


@pytest.fixture(autouse=True)
def cli_environment(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    _environment(lake.root, lake.dagster_home, monkeypatch)


def _quant(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = _quant(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def _leaderboard(lake: Lake, run_id: str) -> pd.DataFrame:
    return lake.store.read_frame(lake.store.run_dir("leaderboard", run_id))


# Runs and their output ---------------------------------------------------------------------


def test_run_prints_run_id_lakehouse_and_leaderboard_and_progress_in_our_words(lake: Lake):
    code, out, err = lake.run_b_output
    assert code == 0, err
    assert out.splitlines()[0] == f"run_id:     {lake.run_b}"
    assert f"lakehouse:  {lake.root}" in out
    board = _leaderboard(lake, lake.run_b)
    for engine in board["engine"]:
        assert engine in out
    assert f"run {lake.run_b}: canary profile, job production" in err
    assert re.search(r"tournament: (\d+)/\1 tasks done", err)
    assert "production: stored leaderboard (" in err and "/16 assets)" in err
    best = board.iloc[0]
    assert f"luck:       best: canary/{best['engine']}, Sharpe {best['sharpe']:.2f}, DSR" in out
    assert "; PBO " in out.splitlines()[3] and "splits" in out.splitlines()[3]
    assert "tournament_allocations: 0 fallbacks" in err  # an asset's context.log, relayed
    for noise in (*DAGSTER_NOISE, "BetaWarning"):
        assert noise not in err


def test_runs_lists_every_run_with_status_profile_when_and_best_engine(lake: Lake, capsys):
    rows = {row["run_id"]: row for row in _json(capsys, "runs")}
    for run_id in (lake.run_a, lake.run_b):
        row = rows[run_id]
        board = _leaderboard(lake, run_id).sort_values("sharpe", ascending=False)
        manifest = lake.store.read_document(lake.store.run_dir("run_manifest", run_id))
        assert (row["status"], row["profile"], row["dagster_status"]) == (
            "complete",
            "canary",
            "SUCCESS",
        )
        assert row["created_at"] == manifest["created_at"]
        assert row["best_engine"] == board["engine"].iloc[0]
        assert row["best_sharpe"] == board["sharpe"].iloc[0]
        assert row["assets"] == 16  # with the overfitting asset and the tear-sheet
    code, out, _ = _quant(capsys, "runs")
    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines[lake.run_a][1:3] == ["canary", "complete"]
    assert lines[lake.run_b][1:3] == ["canary", "complete"]


def test_runs_status_requested_and_partial_without_a_dagster_record(tmp_path: Path, capsys):
    root = str(tmp_path / "other")
    requested = _json(capsys, "--root", root, "new-run")["run_id"]
    partial = new_run_id()
    store = LakehouseStore(root)
    store.write_frame(pd.DataFrame({"x": [1.0]}), store.run_dir("features", partial))
    rows = {row["run_id"]: row for row in _json(capsys, "runs", "--root", root)}
    assert rows[requested]["status"] == "requested" and rows[requested]["profile"] == "canary"
    assert rows[partial]["status"] == "partial"
    assert rows[partial]["profile"] is None and rows[partial]["dagster_status"] is None
    assert rows[partial]["created_at"][:10] == f"{partial[:4]}-{partial[4:6]}-{partial[6:8]}"


def test_show_prints_leaderboard_settings_changes_and_data_span(lake: Lake, capsys):
    shown = _json(capsys, "show", lake.run_a)
    stored = _leaderboard(lake, lake.run_a)
    printed = pd.DataFrame(shown["leaderboard"])
    assert printed["engine"].tolist() == stored["engine"].tolist()
    assert printed["sharpe"].tolist() == stored["sharpe"].tolist()
    assert printed["first_date"].tolist() == [str(d.date()) for d in stored["first_date"]]
    changes = {row["setting"]: row for row in shown["settings_changes"]}
    assert set(changes) == {"top_n", "start_date", "min_history"}
    assert (changes["top_n"]["value"], changes["top_n"]["profile_value"]) == (
        3,
        PROFILES["canary"]["top_n"],
    )
    closes = lake.store.read_frame(lake.store.run_dir("closes", lake.run_a))
    assert shown["data"] == {
        "first_date": str(closes["date"].min().date()),
        "last_date": str(closes["date"].max().date()),
        "days": closes["date"].nunique(),
        "symbols": sorted(SMALL_SYMBOLS),
    }
    assert (shown["status"], shown["profile"], shown["failures"]) == ("complete", "canary", [])
    best = stored.iloc[0]
    overfitting = lake.store.read_frame(lake.store.run_dir("overfitting", lake.run_a))
    assert shown["luck"].startswith(f"best: canary/{best['engine']}, Sharpe {best['sharpe']:.2f}")
    assert f"DSR {best['dsr']:.2f} over {best['n_trials']} trials" in shown["luck"]
    assert f"PBO {overfitting['pbo'].iloc[0]:.2f} over 12,870 splits" in shown["luck"]
    code, out, _ = _quant(capsys, "show", lake.run_a)
    assert code == 0
    assert f"luck     {shown['luck']}" in out
    assert f"run      {lake.run_a}" in out
    assert f"6 symbols, {shown['data']['first_date']} to {shown['data']['last_date']}" in out
    assert "settings that differ from the canary profile:" in out
    assert any(line.split()[:3] == ["top_n", "3", "8"] for line in out.splitlines())


def test_show_asset_prints_any_stored_asset_and_load_is_an_alias(lake: Lake, capsys):
    universe = lake.store.read_frame(lake.store.run_dir("universe", lake.run_a))
    records = _json(capsys, "show", lake.run_a, "universe")
    assert [r["symbol"] for r in records] == universe["symbol"].tolist()
    assert [r["observations"] for r in records] == universe["observations"].tolist()
    assert _json(capsys, "load", "universe", lake.run_a) == records
    assert _json(capsys, "show", lake.run_a, "universe", "--limit", "2") == records[:2]
    _, show_text, _ = _quant(capsys, "show", lake.run_a, "universe")
    _, load_text, _ = _quant(capsys, "load", "universe", lake.run_a)
    assert show_text == load_text and "AAPL" in show_text
    manifest = _json(capsys, "show", lake.run_a, "run_manifest")
    assert manifest["run_id"] == lake.run_a and manifest["settings"]["top_n"] == 3


def test_compare_puts_leaderboards_side_by_side_and_names_the_differing_setting(lake: Lake, capsys):
    compared = _json(capsys, "compare", lake.run_a, lake.run_b)
    assert compared["settings"] == [{"setting": "top_n", "a": 3, "b": 5}]
    assert (compared["run_a"]["run_id"], compared["run_b"]["run_id"]) == (lake.run_a, lake.run_b)
    a = _leaderboard(lake, lake.run_a).set_index("engine")
    b = _leaderboard(lake, lake.run_b).set_index("engine")
    rows = compared["leaderboard"]
    assert sorted(row["engine"] for row in rows) == sorted(a.index)
    for row in rows:
        for metric in ("sharpe", "dsr", "annual_return", "annual_volatility", "max_drawdown"):
            assert row[f"{metric}_a"] == a.loc[row["engine"], metric]
            assert row[f"{metric}_b"] == b.loc[row["engine"], metric]
            assert row[f"{metric}_diff"] == pytest.approx(row[f"{metric}_b"] - row[f"{metric}_a"])
    code, out, _ = _quant(capsys, "compare", lake.run_a, lake.run_b)
    assert code == 0
    assert any(line.split() == ["top_n", "3", "5"] for line in out.splitlines())
    sharpe_lines = [line.split() for line in out.splitlines() if " sharpe " in line]
    assert len(sharpe_lines) == len(a)


def test_query_and_its_sql_alias(lake: Lake, capsys):
    sql = "SELECT run_id, count(*) AS engines FROM leaderboard GROUP BY run_id ORDER BY run_id"
    expected = [
        {"run_id": run_id, "engines": len(_leaderboard(lake, run_id))}
        for run_id in sorted([lake.run_a, lake.run_b])
    ]
    assert _json(capsys, "query", sql) == expected
    assert _json(capsys, "sql", sql) == expected
    code, out, _ = _quant(capsys, "query", sql)
    assert code == 0 and lake.run_a in out and lake.run_b in out


# Settings -----------------------------------------------------------------------------------


def test_settings_say_where_each_value_comes_from(lake: Lake, capsys, monkeypatch):
    monkeypatch.setenv("QUANT_COST_BPS", "7")
    monkeypatch.setenv("QUANT_TOP_N", "3")
    canary = {row["setting"]: row for row in _json(capsys, "settings")}
    assert (canary["cost_bps"]["value"], canary["cost_bps"]["source"]) == (7.0, "environment")
    assert (canary["top_n"]["source"], canary["top_n"]["overridden"]) == (
        "profile",
        "environment=3",
    )
    assert canary["seed"]["source"] == "default"
    explained = {
        row["setting"]: row
        for row in _json(capsys, "settings", "--profile", "production", "--set", "top_n=5")
    }
    assert (explained["engines"]["value"], explained["engines"]["source"]) == (
        list(ENGINE_NAMES),
        "profile",
    )
    assert (explained["top_n"]["value"], explained["top_n"]["source"]) == (5, "override")
    assert explained["top_n"]["overridden"] == "environment=3; profile=10"
    assert explained["cost_bps"]["source"] == "environment"
    changed = _json(capsys, "--root", "/elsewhere", "settings", "--changed")
    assert {row["setting"]: row["source"] for row in changed}["data_root"] == "override"
    assert "default" not in {row["source"] for row in changed}
    code, out, _ = _quant(capsys, "settings", "--set", "seed=3")
    assert code == 0
    assert any(line.split()[:3] == ["seed", "3", "override"] for line in out.splitlines())


# Errors and exit codes ----------------------------------------------------------------------


def test_a_failed_run_exits_1_with_one_line_and_is_listed_as_failed(lake: Lake, capsys):
    code, out, err = _quant(capsys, "run", *SHORT_HISTORY)
    assert code == 1 and out == ""
    error, hint = err.splitlines()[-2:]
    failed = FAILED_RUN_LINE.match(error)
    assert failed, error
    run_id, step = failed.groups()
    assert hint.startswith("hint: ") and "--debug" in hint
    assert "Traceback" not in err
    assert "WARNING production: check universe_passes_audit on universe failed" in err
    for noise in DAGSTER_NOISE:
        assert noise not in err
    row = next(r for r in _json(capsys, "runs") if r["run_id"] == run_id)
    assert (row["status"], row["dagster_status"], row["best_engine"]) == ("failed", "FAILURE", None)
    shown = _json(capsys, "show", run_id)
    assert shown["leaderboard"] is None
    assert shown["failures"][0]["step"] == step

    code, _, err = _quant(capsys, "--debug", "run", "--run-id", run_id)
    assert code == 1
    assert "Traceback" in err and "STEP_FAILURE" in err  # Dagster's own log, under --debug


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "latest"], "invalid run id 'latest'"),
        (["show", "{run_a}", "no_such_asset"], "has no stored 'no_such_asset'; it has: "),
        (["compare", "{run_a}", "20991231-000000-beef"], "no run 20991231-000000-beef"),
        (["query", "SELECT nope FROM leaderboard"], "nope"),
        (["run", "--set", "top_n=0"], "invalid settings: top_n: Input should be greater"),
        (["new-run", "--set", "top_n"], "--set expects key=value, got 'top_n'"),
        (["settings", "--set", "nope=1"], "unknown settings ['nope']"),
        (["run", "--run-id", "{run_a}", "--set", "top_n=1"], "already has its own"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_a_hint(lake: Lake, capsys, argv, message):
    argv = [arg.format(run_a=lake.run_a) for arg in argv]
    code, out, err = _quant(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 2, err
    error, hint = err.splitlines()
    assert error.startswith("error: ") and message in error
    assert hint.startswith("hint: ") and hint.endswith("--debug shows the traceback")
    code, _, err = _quant(capsys, "--debug", *argv)
    assert code == 2 and "Traceback (most recent call last)" in err


def test_bad_environment_variable_is_a_user_error(capsys, monkeypatch):
    monkeypatch.setenv("QUANT_TOP_N", "many")
    code, _, err = _quant(capsys, "settings")
    assert code == 2
    assert err.splitlines()[0].startswith("error: bad QUANT_* environment variable: invalid")


def test_bad_arguments_exit_2_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--profile", "nope"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_every_subcommand_has_help_and_data_commands_take_json(capsys):
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name, parser in commands.items():
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: quant {parser.prog.split()[-1]}")
    for name in ("hydrate", "runs", "show", "load", "compare", "query", "settings", "stale"):
        assert "--json" in commands[name].format_help()


def test_hydrate_json_lists_what_is_stored(lake: Lake, capsys):
    stored = _json(capsys, "hydrate", "--symbols", "KO")
    assert stored == [
        {"symbol": "KO", "rows": 8313, "first_date": "1990-01-02", "last_date": "2022-12-28"}
    ]


# No library noise, in a fresh interpreter ----------------------------------------------------


def _fresh_quant(lake: Lake, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "quant_sdk.cli", *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_beta_warning_unless_debug(lake: Lake):
    quiet = _fresh_quant(lake, "runs")
    assert quiet.returncode == 0, quiet.stderr
    assert lake.run_a in quiet.stdout and quiet.stderr == ""
    loud = _fresh_quant(lake, "--debug", "runs")
    assert loud.returncode == 0
    assert "BetaWarning: Parameter `backfill_policy`" in loud.stderr, (
        "Dagster no longer warns about backfill_policy: drop the CLI's filter"
    )


def test_report_writes_a_self_contained_tear_sheet_with_the_leaderboard(
    lake: Lake, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    stored = lake.root / "tearsheet" / f"run_id={lake.run_a}" / "tearsheet.html"
    assert stored.exists()  # the production run's `tearsheet` asset wrote it
    out_file = tmp_path / "report.html"
    code, out, _ = _quant(capsys, "report", lake.run_a, "--out", str(out_file))
    assert code == 0 and out.strip() == str(out_file)
    html = out_file.read_text()
    for section in ("summary", "leaderboard", "equity", "monthly-returns", "manifest"):
        assert f'id="{section}"' in html
    assert not re.search(r"""(src|href)=["']?https?://""", html)
    board = lake.store.read_frame(lake.store.run_dir("leaderboard", lake.run_a))
    assert {"beta", "information_ratio", "excess_annual_return"} <= set(board.columns)
    assert f"{board['sharpe'].iloc[0]:.2f}" in html
    code, _, err = _quant(capsys, "report", "20990101-000000-dead")
    assert code == 2 and err.startswith("error: ")


def test_doctor_reports_a_healthy_lakehouse(
    lake: Lake, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    _, out, _ = _quant(capsys, "doctor", "--json")
    findings = json.loads(out)
    assert [f["problem"] for f in findings] == [], findings
