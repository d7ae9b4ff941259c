"""Sections on what the run held and did: weights, costs, vetoes, regimes, selection, manifest.

Each builder takes the shared :class:`~quant_assets.tearsheet.context.TearsheetContext` and
returns a :class:`~quant_assets.tearsheet.document.Section` whose body is escaped HTML.
"""

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from quant_assets.tearsheet.analytics import (
    cost_summary,
    holdings_over_time,
    regime_counts,
    selection_frequency,
    veto_counts,
)
from quant_assets.tearsheet.context import TearsheetContext
from quant_assets.tearsheet.document import Section, paragraph, scrolling
from quant_assets.tearsheet.figures import img_tag, png_bytes
from quant_assets.tearsheet.portfolio_figures import (
    holdings_area_figure,
    regime_timeline_figure,
    selection_frequency_figure,
    turnover_and_cost_figure,
)
from quant_assets.tearsheet.tables import DATE, PERCENT, format_value, html_table, key_value_table

TOP_HOLDINGS = 10
"""Symbols drawn on their own in the weights figure; the rest are summed as ``other``."""
MAX_VETO_ROWS = 200
WEIGHTS_TITLE = "Weights over time (best strategy)"
"""Vetoes listed one by one at most (the counts table covers them all)."""


def weights_section(context: TearsheetContext) -> Section:
    """The best strategy's target weights per window (stacked area) and the latest allocation."""
    best = context.best
    if best is None:
        return Section("weights", WEIGHTS_TITLE, paragraph("The leaderboard is empty."))
    profile, engine = best
    inputs = context.inputs
    holdings = holdings_over_time(
        inputs.tournament_weights, inputs.tournament_windows, profile, engine, TOP_HOLDINGS
    )
    windows = inputs.tournament_windows
    last_test_day = windows.loc[windows["profile"] == profile, "test_end"].max()
    end = None if pd.isna(last_test_day) else pd.Timestamp(last_test_day)
    png = png_bytes(
        holdings_area_figure(holdings, end, f"{profile}/{engine}: target weights per window")
    )
    summary = (
        pd.DataFrame({"mean_weight": holdings.mean(), "last_weight": holdings.iloc[-1]})
        if len(holdings)
        else pd.DataFrame(columns=["mean_weight", "last_weight"], dtype="float64")
    ).rename_axis("symbol")
    body = paragraph(
        f"Target weights of the best strategy, {profile}/{engine}, held from each window's "
        f"first test day; the {TOP_HOLDINGS} largest holdings on average are drawn on their "
        "own, the rest as other; the gap to 1 is cash."
    )
    body += img_tag(png, f"stacked target weights of {profile}/{engine} over time")
    body += html_table(
        summary,
        table_id="weights-table",
        kinds={"mean_weight": PERCENT, "last_weight": PERCENT},
        index=True,
        caption="Mean and last target weight",
    )
    allocations = inputs.allocations
    if not allocations.empty:
        body += scrolling(
            html_table(
                allocations,
                table_id="allocations-table",
                kinds={"weight": PERCENT},
                caption="The run's latest allocation (allocations asset), every engine",
            )
        )
    return Section("weights", WEIGHTS_TITLE, body)


def turnover_section(context: TearsheetContext) -> Section:
    """Turnover, cost drag and the return lost to costs, per strategy."""
    inputs = context.inputs
    costs = cost_summary(inputs.tournament_window_results, inputs.leaderboard)
    png = png_bytes(
        turnover_and_cost_figure(costs, inputs.tournament_window_results, context.colors)
    )
    body = paragraph(
        "Turnover is the sum of absolute weight changes at each rebalance; cost is the settings' "
        "cost in basis points times turnover. Gross and net annual returns compound the "
        "per-window returns before and after costs."
    )
    body += img_tag(png, "turnover and cost drag per strategy")
    body += scrolling(html_table(costs, table_id="turnover-table"))
    return Section("turnover-costs", "Turnover and cost drag", body)


def vetoes_section(context: TearsheetContext) -> Section:
    """Counts of vetoed engines by reason, every veto, and the windows run on a fallback."""
    inputs = context.inputs
    vetoes = inputs.tournament_vetoes
    results = inputs.tournament_window_results
    fallbacks = results[results["engine_used"] != results["engine"]]
    fallback_counts = (
        fallbacks.groupby(["profile", "engine", "engine_used"]).size().rename("windows")
    ).reset_index()
    if vetoes.empty:
        body = paragraph("No engine was vetoed in this run.")
    else:
        body = paragraph(
            f"Vetoes in this run: {len(vetoes):,d}. A vetoed engine's weights failed a check; "
            "its fallback (or cash) was held for that window instead."
        )
        body += html_table(veto_counts(vetoes), table_id="veto-counts-table", caption="Counts")
        listed = vetoes.sort_values(["profile", "engine", "window"])
        body += scrolling(
            html_table(
                listed[["window", "train_end", "profile", "engine", "vetoed_engine", "reason"]],
                table_id="vetoes-table",
                max_rows=MAX_VETO_ROWS,
                caption="Every veto",
            )
        )
    if fallback_counts.empty:
        body += paragraph("Every window ran on its own engine (no fallback, no cash).")
    else:
        body += html_table(
            fallback_counts,
            table_id="fallbacks-table",
            caption="Windows held on a fallback engine (or cash)",
        )
    return Section("vetoes", "Vetoes", body)


def regimes_section(context: TearsheetContext) -> Section:
    """The regime timeline over the market's growth, and days per regime."""
    regimes = context.inputs.regimes
    if regimes.empty:
        return Section("regimes", "Regime timeline", paragraph("The run stored no regimes."))
    last = regimes.sort_values("date").iloc[-1]
    body = paragraph(
        f"Regime on {format_value(last['date'], DATE)}: {last['label']}. The market is the "
        "equal-weight average of the symbols' daily log returns; a regime is volatile when the "
        "market's volatility is above the threshold, bull or bear by its trend."
    )
    body += img_tag(
        png_bytes(regime_timeline_figure(regimes)), "market growth with regime-coloured spans"
    )
    body += html_table(regime_counts(regimes), table_id="regimes-table", caption="Days per regime")
    return Section("regimes", "Regime timeline", body)


def selection_section(context: TearsheetContext) -> Section:
    """How often each symbol is held across windows, and the run's latest selection."""
    inputs = context.inputs
    frequency = selection_frequency(inputs.tournament_weights)
    ranked = [name for name in context.returns.columns if name in frequency.columns]
    others = [c for c in frequency.columns if c not in set(ranked)]
    frequency = frequency[others + ranked]  # 'all', 'windows_held', then leaderboard order
    strategy_kinds = {str(c): PERCENT for c in frequency.columns if c != "windows_held"}
    body = paragraph(
        "Share of windows in which each symbol had a weight above zero: over every strategy's "
        "windows together (all), and per strategy. The chart shows the most held symbols, the "
        "table every symbol held at least once."
    )
    if not frequency.empty:
        body += img_tag(
            png_bytes(selection_frequency_figure(frequency)), "selection frequency per symbol"
        )
    body += scrolling(
        html_table(frequency, table_id="selection-table", kinds=strategy_kinds, index=True)
    )
    if not inputs.selections.empty:
        body += scrolling(
            html_table(
                inputs.selections,
                table_id="latest-selection-table",
                kinds={"score": "decimal", "rank": "integer"},
                caption="The run's latest selection (selections asset)",
            )
        )
    return Section("selection-frequency", "Selection frequency", body)


def manifest_section(context: TearsheetContext) -> Section:
    """Provenance: ids, data span, git commit, settings, packages and input hashes."""
    manifest = context.inputs.run_manifest
    closes = context.inputs.closes
    git = manifest.get("git") or {}
    span = (
        f"{format_value(closes['date'].min(), DATE)} to {format_value(closes['date'].max(), DATE)}"
        if len(closes)
        else "none"
    )
    facts = [
        ("Run id", str(manifest["run_id"])),
        ("Created at", _text(manifest.get("created_at"))),
        ("Profile", _text(manifest.get("profile"))),
        ("Settings hash", _text(manifest.get("settings_hash"))),
        ("Git commit", _text(git.get("commit"))),
        ("Uncommitted changes", _text(git.get("dirty"))),
        ("Data span (closes)", span),
    ]
    request = manifest.get("request") or {}
    if request.get("overrides"):
        facts.append(("Overrides requested", _text(request["overrides"])))
    body = key_value_table(facts, table_id="manifest-table")
    body += _mapping_table(manifest.get("settings") or {}, "settings-table", "Settings")
    body += _mapping_table(manifest.get("packages") or {}, "packages-table", "Packages")
    hashes = ((manifest.get("inputs") or {}).get("market_data")) or {}
    body += scrolling(_mapping_table(hashes, "inputs-table", "Input hashes (SHA-256 per symbol)"))
    return Section("manifest", "Run manifest", body)


def _text(value: Any) -> str:
    """A manifest value as text: strings as they are, anything else as JSON."""
    if value is None:
        return "n/a"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _mapping_table(mapping: Mapping[str, Any], table_id: str, caption: str) -> str:
    rows = pd.DataFrame(
        {"name": [str(k) for k in mapping], "value": [_text(v) for v in mapping.values()]}
    )
    return html_table(rows, table_id=table_id, caption=caption)
