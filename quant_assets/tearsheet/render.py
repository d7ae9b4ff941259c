"""Render a run's tear-sheet: every section in order, into one self-contained HTML document.

:func:`render_tearsheet` is the entry point the command line and the SDK call;
:func:`save_tearsheet` writes the result atomically.
"""

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from lakehouse import LakehouseStore
from lakehouse.commits import write_text_atomically
from quant_assets.tearsheet.benchmark import BENCHMARK_NAME, benchmark_returns
from quant_assets.tearsheet.context import TearsheetContext, build_context
from quant_assets.tearsheet.document import Section, render_document
from quant_assets.tearsheet.inputs import TearsheetInputs
from quant_assets.tearsheet.luck_section import luck_section
from quant_assets.tearsheet.performance_sections import (
    equity_section,
    leaderboard_section,
    monthly_section,
    rolling_sharpe_section,
    summary_section,
)
from quant_assets.tearsheet.run_sections import (
    manifest_section,
    regimes_section,
    selection_section,
    turnover_section,
    vetoes_section,
    weights_section,
)

SECTION_BUILDERS: tuple[Callable[[TearsheetContext], Section], ...] = (
    summary_section,
    leaderboard_section,
    luck_section,
    equity_section,
    monthly_section,
    rolling_sharpe_section,
    weights_section,
    turnover_section,
    vetoes_section,
    regimes_section,
    selection_section,
    manifest_section,
)
"""Every section, in the order the document shows them."""
SECTION_IDS = (
    "summary",
    "leaderboard",
    "luck",
    "equity",
    "monthly-returns",
    "rolling-sharpe",
    "weights",
    "turnover-costs",
    "vetoes",
    "regimes",
    "selection-frequency",
    "manifest",
)
"""The ``<h2 id>`` of every section, in order (one per builder)."""
HTML_ENCODING = "utf-8"


def render_tearsheet(inputs: TearsheetInputs, *, benchmark: pd.Series | None = None) -> str:
    """The run's tear-sheet as one HTML document that needs no network to be viewed.

    Parameters
    ----------
    inputs : TearsheetInputs
        The run's stored assets (see :func:`~quant_assets.tearsheet.inputs.load_tearsheet_inputs`).
    benchmark : Series, optional
        Daily benchmark returns indexed by date; default the S&P 500 index shipped with
        skfolio (:func:`~quant_assets.tearsheet.benchmark.benchmark_returns`).

    Returns
    -------
    str
        HTML5 text: inline style sheet, figures as ``data:`` PNG images, every text escaped,
        no script and no external link.
    """
    daily_benchmark = benchmark_returns() if benchmark is None else benchmark
    if daily_benchmark.name is None:
        daily_benchmark = daily_benchmark.rename(BENCHMARK_NAME)
    context = build_context(inputs, daily_benchmark)
    sections = [build(context) for build in SECTION_BUILDERS]
    manifest = inputs.run_manifest
    subtitle = f"profile {manifest['profile']}, created {manifest.get('created_at', 'n/a')}"
    return render_document(f"Tear-sheet of run {inputs.run_id}", subtitle, sections)


TEARSHEET_ASSET = "tearsheet"
"""The run asset (and lakehouse folder) of a run's tear-sheet."""
TEARSHEET_FILE = "tearsheet.html"


def tearsheet_path(store: LakehouseStore, run_id: str) -> Path:
    """Where a run's tear-sheet is stored: ``<root>/tearsheet/run_id=<id>/tearsheet.html``."""
    return store.run_dir(TEARSHEET_ASSET, run_id) / TEARSHEET_FILE


def save_tearsheet(document: str, path: str | Path) -> Path:
    """Write ``document`` to ``path`` atomically (temporary file, then ``os.replace``).

    The file gets the usual permissions (those the umask allows), not a temporary file's
    owner-only ones, so a report can be shared or served as it is.
    """
    return write_text_atomically(path, document, HTML_ENCODING)
