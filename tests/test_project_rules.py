"""Rules that hold across the code base: nothing pickled, layers import one way, no cycles.

The import graph is derived from the code (every ``import`` statement, lazy ones inside
functions included); there is no list of exemptions.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = (
    ("quant_event_log", "the event log storage dagster.yaml names"),
    ("quant_kernels", "numba kernels"),
    ("lakehouse", "storage"),
    ("quant_assets", "pillars: plain functions"),
    ("quant_assets.assets", "Dagster assets and checks"),
    ("dagster_defs", "the code location"),
    ("quant_sdk", "the SDK and the command line"),
)
"""Bottom to top: a module may import from its own layer and the layers below, never above."""
PACKAGES = (
    "quant_event_log",
    "quant_kernels",
    "lakehouse",
    "quant_assets",
    "dagster_defs",
    "quant_sdk",
)
FORBIDDEN_LIBRARIES = {
    "quant_kernels": {"pandas", "dagster", "dagster_ray", "pandera", "duckdb"},
    "quant_assets": {"dagster", "dagster_ray"},
}
"""Libraries a layer must not import (the kernels are numpy only; pillars know no Dagster)."""
PICKLE_PATTERN = re.compile(
    r"\bimport (c?pickle|cloudpickle|dill)\b|\bfrom (c?pickle|cloudpickle|dill)\b"
    r"|read_pickle|to_pickle|joblib\.dump|pickle\.dumps?\("
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
}


def _sources() -> list[Path]:
    return [*MODULES.values(), *(ROOT / "benchmarks").rglob("*.py")]


def _layer(module: str) -> int:
    matches = [i for i, (prefix, _) in enumerate(LAYERS) if re.match(rf"{prefix}(\.|$)", module)]
    return max(matches)


def _imports(module: str) -> set[str]:
    """Every module (ours or a library's top level) that ``module`` imports, anywhere in it."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    ours = {name for name in found if name in MODULES}
    return ours | {name.split(".")[0] for name in found if name.split(".")[0] not in PACKAGES}


GRAPH = {module: {m for m in _imports(module) if m in MODULES} for module in MODULES}


def test_every_package_module_has_a_layer():
    assert len(MODULES) > 40
    for module in MODULES:
        assert _layer(module) >= 0


def test_imports_point_down_the_layers():
    upward = [
        f"{module} ({LAYERS[_layer(module)][1]}) imports {target} ({LAYERS[_layer(target)][1]})"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert not upward


@pytest.mark.parametrize("package", sorted(FORBIDDEN_LIBRARIES))
def test_layers_keep_out_of_forbidden_libraries(package: str):
    violations = [
        f"{module} imports {library}"
        for module in MODULES
        if _layer(module) == _layer(package)
        for library in _imports(module) & FORBIDDEN_LIBRARIES[package]
    ]
    assert not violations


def test_the_event_log_imports_nothing_of_ours():
    """Every process that opens the instance imports it: no code location behind it."""
    event_log = [module for module in MODULES if _layer(module) == 0]
    assert event_log == ["quant_event_log"]
    assert not GRAPH["quant_event_log"]
    assert not _imports("quant_event_log") & set(PACKAGES)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert not _cycles(GRAPH)


def test_the_rules_catch_a_violation():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("quant_assets.assets.features") > _layer("quant_assets.features")
    assert _layer("quant_sdk.cli") > _layer("dagster_defs.sensors") > _layer("quant_assets.assets")
    assert _layer("quant_kernels") > _layer("quant_event_log")


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_is_pickled(path: Path):
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if PICKLE_PATTERN.search(line)
    ]
    assert not offending


def test_pickle_scan_catches_a_pickle():
    assert PICKLE_PATTERN.search("import pickle")
    assert PICKLE_PATTERN.search("df = pd.read_pickle(path)")
    assert PICKLE_PATTERN.search("from cloudpickle import dumps")
    assert not PICKLE_PATTERN.search("# nothing is ever pickled here")
