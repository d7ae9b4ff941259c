"""The plain Dagster CLI path a user follows, in subprocesses, on a persistent DAGSTER_HOME."""

import json
import os
import subprocess
import sys
from pathlib import Path

from lakehouse import LakehouseStore, validate_run_id

BIN = Path(sys.executable).parent


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_new_run_then_dagster_job_execute(tmp_path: Path):
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "QUANT_DATA_ROOT": str(tmp_path / "lakehouse"),
    }
    _run([str(BIN / "quant"), "hydrate", "--symbols", "JNJ,KO,PG"], env, tmp_path)
    run_id = _run(
        [
            str(BIN / "quant"),
            "new-run",
            "--profile",
            "canary",
            "--set",
            "min_history=252",
            "--set",
            "start_date=2019-01-01",
        ],
        env,
        tmp_path,
    ).strip()
    validate_run_id(run_id)
    assert (tmp_path / "dagster_home" / "dagster.yaml").read_text().startswith("telemetry")
    _run(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            "-m",
            "dagster_defs",
            "-j",
            "production",
            "--tags",
            json.dumps({"dagster/partition": run_id}),
        ],
        env,
        Path(__file__).resolve().parents[2],
    )
    store = LakehouseStore(tmp_path / "lakehouse")
    manifest = store.read_document(store.run_dir("run_manifest", run_id))
    assert manifest["settings"]["min_history"] == 252
    assert sorted(store.read_frame(store.run_dir("universe", run_id))["symbol"]) == [
        "JNJ",
        "KO",
        "PG",
    ]
    runs = _run([str(BIN / "quant"), "runs"], env, tmp_path).split()
    assert run_id in runs
    bad = subprocess.run(
        [str(BIN / "quant"), "load", "universe", "../../etc"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid run id" in bad.stderr
