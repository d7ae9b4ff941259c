"""Rules that hold across the code base: nothing pickled, imports point one way."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("quant_kernels", "lakehouse", "quant_assets", "dagster_defs")
PICKLE_PATTERN = re.compile(
    r"\bimport (c?pickle|cloudpickle|dill)\b|\bfrom (c?pickle|cloudpickle|dill)\b"
    r"|read_pickle|to_pickle|joblib\.dump|pickle\.dumps?\("
)
FORBIDDEN_IMPORTS = {
    "quant_kernels": {"pandas", "dagster", "lakehouse", "quant_assets", "dagster_defs"},
    "lakehouse": {"quant_assets", "dagster_defs"},
    "quant_assets": {"dagster_defs"},
}
LAZY_FACADE_IMPORTS = {("quant_assets/sdk.py", "dagster_defs")}
"""The SDK drives the code location it sits above; it imports it inside a method."""


def _sources() -> list[Path]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    files += list((ROOT / "scripts").rglob("*.py")) + list((ROOT / "benchmarks").rglob("*.py"))
    return files


def test_sources_exist():
    assert len(_sources()) > 20


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_is_pickled(path: Path):
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if PICKLE_PATTERN.search(line)
    ]
    assert not offending


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_imports_point_one_way(package: str):
    violations = []
    for path in (ROOT / package).rglob("*.py"):
        relative = str(path.relative_to(ROOT))
        for imported in _imported_roots(path) & FORBIDDEN_IMPORTS[package]:
            if (relative, imported) not in LAZY_FACADE_IMPORTS:
                violations.append(f"{relative} imports {imported}")
    assert not violations


def test_pickle_scan_catches_a_pickle(tmp_path: Path):
    assert PICKLE_PATTERN.search("import pickle")
    assert PICKLE_PATTERN.search("df = pd.read_pickle(path)")
    assert PICKLE_PATTERN.search("from cloudpickle import dumps")
    assert not PICKLE_PATTERN.search("# nothing is ever pickled here")
