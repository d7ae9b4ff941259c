"""The instance opens while an asset module is broken: the event log imports no code location.

A copy of the code location with ``raise ImportError`` appended to an asset module goes first on
``PYTHONPATH``; ``dagster instance info`` and ``DagsterInstance.get()`` still open the home our
``dagster.yaml`` describes. The ``dagster.yaml`` of the earlier version (the event log inside
``dagster_defs``) fails on the same copy, which shows the copy is the one imported.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_defs import instance as instance_module
from dagster_defs.instance import EARLIER_DAGSTER_YAMLS, EVENT_LOG_DIR, dagster_home

ROOT = Path(__file__).resolve().parents[2]
CODE_PACKAGES = (
    "quant_event_log",
    "quant_kernels",
    "lakehouse",
    "quant_assets",
    "dagster_defs",
    "quant_sdk",
)
BROKEN_MODULE = Path("quant_assets") / "assets" / "regimes.py"
DAGSTER = Path(sys.executable).parent / "dagster"
OPEN_INSTANCE = """
import dagster as dg
with dg.DagsterInstance.get() as instance:
    storage = instance.event_log_storage
    print(type(storage).__module__, type(storage).__name__, len(instance.get_runs()))
"""
IMPORT_CODE_LOCATION = "import dagster_defs"


@pytest.fixture(scope="module")
def broken_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the code location whose ``regimes`` asset module raises ImportError."""
    copy = tmp_path_factory.mktemp("broken_code")
    for package in CODE_PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    with (copy / BROKEN_MODULE).open("a", encoding="utf-8") as module:
        module.write('\nraise ImportError("regimes is broken on purpose")\n')
    return copy


def run_with(code: Path, home: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(code),
        instance_module.DAGSTER_HOME_ENV: str(home),
    }
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=code, timeout=120
    )


def test_the_instance_opens_while_an_asset_module_is_broken(
    broken_code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(instance_module.DAGSTER_HOME_ENV, str(tmp_path / "home"))
    home = dagster_home()

    imported = run_with(broken_code, home, [sys.executable, "-c", IMPORT_CODE_LOCATION])
    assert imported.returncode != 0
    assert "regimes is broken on purpose" in imported.stderr

    opened = run_with(broken_code, home, [sys.executable, "-c", OPEN_INSTANCE])
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.split() == ["quant_event_log", "PooledSqliteEventLogStorage", "0"]

    info = run_with(broken_code, home, [str(DAGSTER), "instance", "info"])
    assert info.returncode == 0, info.stderr
    assert "PooledSqliteEventLogStorage" in info.stdout


def test_the_earlier_dagster_yaml_failed_on_the_same_broken_module(
    broken_code: Path, tmp_path: Path
) -> None:
    home = tmp_path / "earlier"
    home.mkdir()
    event_log_dir = json.dumps(str(home / EVENT_LOG_DIR))
    earlier = EARLIER_DAGSTER_YAMLS[1].format(event_log_dir=event_log_dir)
    assert "dagster_defs.event_log" in earlier
    (home / "dagster.yaml").write_text(earlier, encoding="utf-8")

    opened = run_with(broken_code, home, [sys.executable, "-c", OPEN_INSTANCE])
    assert opened.returncode != 0
    assert "regimes is broken on purpose" in opened.stderr
