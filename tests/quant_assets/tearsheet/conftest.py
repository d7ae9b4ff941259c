"""A real canary run, made once per session in a temporary lakehouse, and its tear-sheet."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from quant_assets.settings import Settings
from quant_assets.tearsheet import TearsheetInputs, load_tearsheet_inputs, render_tearsheet
from quant_sdk import QuantSDK


@dataclass(frozen=True)
class CanaryRun:
    root: Path
    run_id: str


@pytest.fixture(scope="session")
def canary_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryRun]:
    """Hydrate the 20 bundled symbols and run the canary profile through Dagster."""
    base = tmp_path_factory.mktemp("tearsheet")
    root = base / "lakehouse"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        sdk = QuantSDK(settings=Settings(data_root=root))
        sdk.hydrate()
        run_id = sdk.new_run("canary")
        sdk.run(run_id=run_id)
        yield CanaryRun(root=root, run_id=run_id)


@pytest.fixture(scope="session")
def canary_inputs(canary_run: CanaryRun) -> TearsheetInputs:
    return load_tearsheet_inputs(canary_run.root, canary_run.run_id)


@pytest.fixture(scope="session")
def canary_html(canary_inputs: TearsheetInputs) -> str:
    return render_tearsheet(canary_inputs)
