"""The generated reference pages (docs/settings.md, docs/cli.md) match the code they describe."""

import argparse
import difflib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from quant_assets.settings import PROFILES, Settings
from quant_sdk.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_PATH = ROOT / "scripts" / "generate_docs.py"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_docs", GENERATOR_PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(generator: ModuleType) -> dict[Path, str]:
    return generator.pages(ROOT)


def test_the_committed_pages_are_what_the_code_generates_now(generated: dict[Path, str]):
    stale = {}
    for path, text in generated.items():
        committed = (ROOT / path).read_text() if (ROOT / path).exists() else ""
        if committed != text:
            diff = difflib.unified_diff(
                committed.splitlines(), text.splitlines(), f"{path} (committed)", "generated", n=0
            )
            stale[path] = "\n".join(list(diff)[:20])
    assert not stale, "stale generated docs: run `make docs` and commit them\n" + "\n".join(
        stale.values()
    )


def test_generation_depends_on_the_code_only(generator, generated, monkeypatch):
    """Not on the terminal's width nor on QUANT_* variables (which CI and `make` set)."""
    monkeypatch.setenv("COLUMNS", "37")
    monkeypatch.setenv("QUANT_TOP_N", "3")
    monkeypatch.setenv("QUANT_DATA_ROOT", "/somewhere/else")
    assert generator.pages(ROOT) == generated


def _settings_rows(text: str) -> dict[str, list[str]]:
    """Setting name -> its cells in the 'Every setting' table."""
    section = text.split("## Every setting")[1].split("\n## ")[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `([a-z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [c.strip() for c in re.split(r"(?<!\\)\|", match.group(2))]
    return rows


def test_the_settings_page_gives_every_field_its_true_default_and_environment_variable(
    generator, generated
):
    rows = _settings_rows(generated[generator.SETTINGS_PAGE])
    defaults = Settings().snapshot()
    assert list(rows) == list(Settings.model_fields)
    for name, (_, default, _, environment, description) in rows.items():
        shown = default.strip("`")
        expected = defaults[name]
        assert shown == (expected if isinstance(expected, str) else generator.json_value(expected))
        assert environment == f"`QUANT_{name.upper()}`"
        assert description
    # the values the README once got wrong (issue 16)
    assert rows["top_n"][1] == "`8`" and rows["test"][1] == "`63`"
    assert rows["start_date"][1] == "`2016-01-01`"
    assert '"market"' in rows["engines"][1] and rows["engines"][0] == "list[str]"
    assert rows["entropy_order"][2] == "`>= 2`, `<= 7`"


def test_the_settings_page_lists_what_every_profile_sets(generator, generated):
    section = generated[generator.SETTINGS_PAGE].split("## Profiles")[1]
    for profile, values in PROFILES.items():
        assert f"`{profile}`" in section
        resolved = Settings.for_profile(profile).snapshot()
        for name in values:
            row = next(line for line in section.splitlines() if line.startswith(f"| `{name}` |"))
            assert f"`{generator.json_value(resolved[name])}`" in row
    production_top_n = next(line for line in section.splitlines() if "| `top_n` |" in line)
    assert production_top_n == "| `top_n` | `8` | `10` |"


def test_the_cli_page_has_every_subcommand_and_argument(generator, generated):
    text = generated[generator.CLI_PAGE]
    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    primary = {choice.dest for choice in subcommands._choices_actions}
    for name, sub in subcommands.choices.items():
        if name not in primary:
            assert f"`quant {name}`" in text  # an alias, named under its command
            continue
        section = text.split(f"### quant {name}\n")[1].split("\n### ")[0]
        for action in sub._actions:
            if action.dest in {"help", "root", "debug"}:
                continue  # listed once, under the options of every command
            assert f"`{generator.spelling(action)}`" in section, (name, action.dest)
    assert "| `--keep-last N` | runs to keep (required) |" in text
    assert "(default: 500)" in text  # argparse's %(default)s filled in


def test_the_cli_page_lists_every_make_target(generator, generated):
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z0-9-]+):.*## ", makefile, flags=re.MULTILINE)
    assert {"run", "test", "docs"} <= set(targets)
    for target in targets:
        assert f"| `make {target}` |" in generated[generator.CLI_PAGE]


def test_a_setting_without_a_description_stops_the_generator(generator, monkeypatch):
    field = Settings.model_fields["top_n"]
    monkeypatch.setattr(field, "description", None)
    with pytest.raises(generator.MissingHelp, match="top_n"):
        generator.settings_page()


def test_an_argument_without_help_stops_the_generator(generator, monkeypatch):
    def parser_with_a_bare_argument() -> argparse.ArgumentParser:
        parser = build_parser()
        subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        subcommands.choices["runs"].add_argument("--undocumented")
        return parser

    monkeypatch.setattr("quant_sdk.cli.build_parser", parser_with_a_bare_argument)
    with pytest.raises(generator.MissingHelp, match="quant runs --undocumented"):
        generator.cli_page((ROOT / "Makefile").read_text())


def test_check_names_a_stale_page_and_write_fixes_it(generator, tmp_path):
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    assert set(generator.stale_pages(tmp_path)) == {generator.SETTINGS_PAGE, generator.CLI_PAGE}
    assert set(generator.write_pages(tmp_path)) == {generator.SETTINGS_PAGE, generator.CLI_PAGE}
    assert generator.stale_pages(tmp_path) == []
    assert generator.write_pages(tmp_path) == []  # nothing rewritten when current
    page = tmp_path / generator.CLI_PAGE
    page.write_text(page.read_text().replace("runs to keep", "runs to kept"))
    assert generator.stale_pages(tmp_path) == [generator.CLI_PAGE]
