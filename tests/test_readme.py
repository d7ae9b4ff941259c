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
