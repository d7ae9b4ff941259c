"""README.md documents every setting, make target and `quant` subcommand that exists."""

import re
from pathlib import Path

from quant_assets.settings import Settings
from quant_sdk.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [
        name
        for name in Settings.model_fields
        if f"| `{name}` | `QUANT_{name.upper()}`" not in README
    ]
    assert not missing


def test_every_make_target_is_documented():
    targets = re.findall(r"^([a-z-]+):.*## ", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert "run" in targets and "test" in targets
    missing = [t for t in targets if t != "help" and f"make {t}" not in README]
    assert not missing


def test_every_cli_subcommand_is_documented():
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    missing = [name for name in subparsers.choices if f"| `{name}" not in README]
    assert not missing


PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", flags=re.DOTALL)


def test_every_python_example_runs_as_a_plain_script(tmp_path: Path):
    """Each block, pasted alone into a script with no ``__main__`` guard, runs (local pool too)."""
    import os
    import subprocess
    import sys

    blocks = PYTHON_BLOCK.findall(README)
    assert len(blocks) >= 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANT_")}
    env.update(DAGSTER_HOME=str(tmp_path / "dagster_home"), QUANT_DATA_ROOT=str(tmp_path / "lake"))
    for number, block in enumerate(blocks):
        script = tmp_path / f"example_{number}.py"
        script.write_text(block)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"README example {number} failed:\n{done.stderr[-3000:]}"
