"""README.md and docs/*.md say what is true: their code runs, their commands parse, links resolve.

The reference pages (every setting, command and make target) are generated and checked by
tests/test_docs.py; these tests check the hand-written pages.
"""

import ast
import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from quant_assets.settings import Settings
from quant_sdk import QuantSDK
from quant_sdk.cli import build_parser
from quant_sdk.commands import DAGSTER_URL_ENV

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FRONT_PAGE_MOST_LINES = 200
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", flags=re.MULTILINE)
MAKE_TARGET = re.compile(r"^([a-z][a-z0-9-]*):", flags=re.MULTILINE)


def blocks(page: Path, language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(page.read_text()) if lang == language]


def prose(page: Path) -> str:
    """The page without its fenced code blocks (links and headings live outside them)."""
    return BLOCK.sub("", page.read_text())


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to '-'."""
    found: set[str] = set()
    for heading in HEADING.findall(prose(page)):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, number = slug, 0
        while candidate in found:
            number += 1
            candidate = f"{slug}-{number}"
        found.add(candidate)
    return found


def test_the_front_page_gives_the_two_commands_and_stays_short():
    shell = "\n".join(blocks(README, "bash"))
    assert re.search(r"^make run\b", shell, flags=re.MULTILINE)
    assert re.search(r"^make test\b", shell, flags=re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: install\b", makefile, flags=re.MULTILINE)  # installs first
    assert re.search(r"^test: install\b", makefile, flags=re.MULTILINE)
    lines = len(README.read_text().splitlines())
    assert lines <= FRONT_PAGE_MOST_LINES, f"README.md has {lines} lines: move detail to docs/"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {
        (README.parent / target.split("#")[0]).resolve() for target in LINK.findall(prose(README))
    }
    missing = [page.name for page in PAGES[1:] if page.resolve() not in linked]
    assert not missing


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page: Path):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def _commands(page: Path) -> list[list[str]]:
    """Each shell line of a page's bash blocks, as words, environment assignments dropped."""
    commands = []
    for code in blocks(page, "bash"):
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words = words[1:]
            if words:
                commands.append(words)
    return commands


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_quant_and_make_command_shown_exists(page: Path, capsys):
    targets = set(MAKE_TARGET.findall((ROOT / "Makefile").read_text()))
    parser = build_parser()
    wrong = []
    for words in _commands(page):
        program, arguments = words[0], words[1:]
        if program.endswith("/quant") or program == "quant":
            try:
                parser.parse_args(arguments)
            except SystemExit:
                wrong.append(f"{shlex.join(words)}: {capsys.readouterr().err.strip()}")
        elif program == "make":
            unknown = [a for a in arguments if "=" not in a and a not in targets]
            wrong += [f"{shlex.join(words)}: no make target {t!r}" for t in unknown]
    assert not wrong


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_setting_named_by_variable_or_set_exists(page: Path):
    text = page.read_text()
    named = {v.lower() for v in re.findall(r"\bQUANT_([A-Z_]+)\b", text)}
    named |= set(re.findall(r"--set '?([a-z_]+)=", text))
    named |= set(re.findall(r"new_run\(\"\w+\", (?:\w+=\w+, )*(\w+)=", text))
    named.discard("key")  # the placeholder of `--set key=value`
    named.discard(DAGSTER_URL_ENV.removeprefix("QUANT_").lower())  # the CLI's, not a setting
    assert named <= set(Settings.model_fields), named - set(Settings.model_fields)


TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_test_a_page_names_exists(page: Path):
    """`tests/x.py::test_y` and a following bare `::test_z` (same file) name real tests."""
    missing, last_file = [], None
    for path, name in TEST_REFERENCE.findall(page.read_text()):
        last_file = path or last_file
        if not path and not name:
            continue
        if path and not (ROOT / path).exists():
            missing.append(path)
        elif name and (last_file is None or f"def {name}(" not in (ROOT / last_file).read_text()):
            missing.append(f"{last_file}::{name}")
    assert not missing


PYTHON_EXAMPLES = [(page, code) for page in PAGES for code in blocks(page, "python")]


@pytest.mark.parametrize(
    ("page", "code"),
    PYTHON_EXAMPLES,
    ids=[f"{p.name}-{i}" for i, (p, _) in enumerate(PYTHON_EXAMPLES)],
)
def test_every_python_example_compiles_and_names_what_exists(page: Path, code: str):
    tree = ast.parse(code, filename=str(page))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sdk"
        ):
            assert hasattr(QuantSDK, node.attr), f"QuantSDK has no {node.attr}"


def test_every_python_example_runs_as_a_plain_script(tmp_path: Path):
    """Each block, pasted alone into a script with no ``__main__`` guard, runs (local pool too)."""
    assert len(blocks(README, "python")) >= 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANT_")}
    env.update(DAGSTER_HOME=str(tmp_path / "dagster_home"), QUANT_DATA_ROOT=str(tmp_path / "lake"))
    for number, (page, code) in enumerate(PYTHON_EXAMPLES):
        script = tmp_path / f"example_{number}.py"
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{page.name} example {number} failed:\n{done.stderr[-3000:]}"
