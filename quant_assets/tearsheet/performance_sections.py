"""Sections on returns: summary, leaderboard, equity and drawdowns, monthly returns, rolling Sharpe.

Each builder takes the shared :class:`~quant_assets.tearsheet.context.TearsheetContext` and
returns a :class:`~quant_assets.tearsheet.document.Section` whose body is escaped HTML.
"""

import pandas as pd

from quant_assets.metrics import rolling_sharpe
from quant_assets.tearsheet.analytics import monthly_returns
from quant_assets.tearsheet.benchmark import BENCHMARK_METRIC_COLUMNS, BENCHMARK_NAME
from quant_assets.tearsheet.context import TearsheetContext
from quant_assets.tearsheet.document import Section, paragraph, scrolling
from quant_assets.tearsheet.figures import (
    equity_and_drawdown_figure,
    img_tag,
    monthly_heatmap_figure,
    png_bytes,
    rolling_sharpe_figure,
)
from quant_assets.tearsheet.tables import (
    DATE,
    INTEGER,
    PERCENT,
    RATIO,
    format_value,
    html_table,
    key_value_table,
)
from quant_assets.tournament.reporting import LEADERBOARD_COLUMNS

ROLLING_SHARPE_DAYS = 126
"""Trailing window of the rolling Sharpe ratio (about six months of trading days)."""
LEADERBOARD_TABLE_COLUMNS = (*LEADERBOARD_COLUMNS, *BENCHMARK_METRIC_COLUMNS)
BENCHMARK_DEFINITIONS = (
    f"Benchmark columns compare each strategy with the {BENCHMARK_NAME} index over the dates "
    "both have (benchmark days). Excess annual return: the strategy's geometric annual return "
    "minus the index's over those dates (252 days a year). Beta: cov(r, b) / var(b) of daily "
    "returns. Tracking error: the standard deviation of the daily active return r - b, times "
    "sqrt(252). Information ratio: the mean daily active return over its standard deviation, "
    "times sqrt(252). n/a: no date in common with the index. The index is a price index "
    "(dividends left out) while the stock closes are dividend-adjusted, so excess returns "
    "against it are flattered by about its dividend yield."
)


def summary_section(context: TearsheetContext) -> Section:
    """Run id, profile, data and out-of-sample spans, counts, and the best strategy."""
    inputs = context.inputs
    manifest = inputs.run_manifest
    closes = inputs.closes
    returns = context.returns
    git = manifest.get("git") or {}
    items = [
        ("Run id", str(manifest["run_id"])),
        ("Profile", str(manifest["profile"])),
        ("Created at", str(manifest.get("created_at", ""))),
        ("Data span", _span(closes["date"], f"{closes['symbol'].nunique()} symbols")),
        ("Out-of-sample span", _span(pd.Series(returns.index), "return days")),
        ("Windows", format_value(len(inputs.tournament_windows), INTEGER)),
        ("Strategies", format_value(len(inputs.leaderboard), INTEGER)),
        ("Vetoes", format_value(len(inputs.tournament_vetoes), INTEGER)),
        ("Git commit", _git_text(git)),
    ]
    best = context.best_name
    if best is None:
        items.append(("Best strategy", "none: the leaderboard is empty"))
    else:
        row = context.board.iloc[0]
        items.append(
            (
                "Best strategy (highest Sharpe ratio)",
                f"{best}: Sharpe {format_value(row['sharpe'], RATIO)}, annual return "
                f"{format_value(row['annual_return'], PERCENT)}, max drawdown "
                f"{format_value(row['max_drawdown'], PERCENT)}",
            )
        )
        items.append((f"Best vs {BENCHMARK_NAME}", _relative_text(row, context.benchmark)))
    return Section("summary", "Summary", key_value_table(items, table_id="summary-table"))


def leaderboard_section(context: TearsheetContext) -> Section:
    """The leaderboard with the benchmark-relative columns, and their definitions."""
    columns = [c for c in LEADERBOARD_TABLE_COLUMNS if c in context.board.columns]
    table = html_table(context.board[columns], table_id="leaderboard-table")
    body = paragraph(
        "Every profile x engine after costs, best Sharpe ratio first. Returns are annual and "
        "geometric, volatilities annualised with sqrt(252), drawdowns from the running peak; "
        "cost drag is the trading cost paid per year."
    )
    return Section(
        "leaderboard",
        "Leaderboard",
        body + scrolling(table) + paragraph(BENCHMARK_DEFINITIONS, "note"),
    )


def equity_section(context: TearsheetContext) -> Section:
    """Growth of 1 and drawdowns of every strategy, one figure per profile, plus the index."""
    parts = []
    profiles = list(dict.fromkeys(str(p) for p in context.board["profile"]))
    for profile in profiles:
        columns = [c for c in context.returns.columns if c.startswith(f"{profile}/")]
        daily = context.returns[columns].dropna(how="all")
        benchmark = context.benchmark_on(pd.DatetimeIndex(daily.index))
        png = png_bytes(
            equity_and_drawdown_figure(
                daily, benchmark, context.colors, f"{profile}: out-of-sample equity after costs"
            )
        )
        parts.append(img_tag(png, f"equity curves and drawdowns of profile {profile}"))
        if benchmark is None:
            parts.append(paragraph(_no_overlap_text(context.benchmark), "note"))
    if not parts:
        parts.append(paragraph("No strategy returned anything: there is no equity curve."))
    return Section("equity", "Equity curves and drawdowns", "".join(parts))


def monthly_section(context: TearsheetContext) -> Section:
    """The best strategy's compounded return per calendar month, as a heat map."""
    best = context.best_name
    if best is None or best not in context.returns:
        body = paragraph("No best strategy: the leaderboard is empty.")
    else:
        table = monthly_returns(context.returns[best])
        png = png_bytes(monthly_heatmap_figure(table, f"{best}: monthly net returns"))
        body = paragraph(f"Monthly returns of the best strategy, {best} (year on the right).")
        body += img_tag(png, f"monthly returns heat map of {best}")
    return Section("monthly-returns", "Monthly returns (best strategy)", body)


def rolling_sharpe_section(context: TearsheetContext) -> Section:
    """Trailing Sharpe ratio of every strategy and of the index."""
    sharpe = rolling_sharpe(context.returns, ROLLING_SHARPE_DAYS, context.daily_risk_free)
    benchmark = context.benchmark_on(pd.DatetimeIndex(context.returns.index))
    benchmark_sharpe = None
    if benchmark is not None:
        benchmark_frame = benchmark.to_frame(str(benchmark.name))
        benchmark_sharpe = rolling_sharpe(
            benchmark_frame, ROLLING_SHARPE_DAYS, context.daily_risk_free
        ).iloc[:, 0]
    png = png_bytes(
        rolling_sharpe_figure(
            sharpe, benchmark_sharpe, context.colors, f"{ROLLING_SHARPE_DAYS}-day rolling Sharpe"
        )
    )
    body = paragraph(
        f"Sharpe ratio over the trailing {ROLLING_SHARPE_DAYS} trading days: mean excess daily "
        "return over its standard deviation, times sqrt(252)."
    )
    body += img_tag(png, f"{ROLLING_SHARPE_DAYS}-day rolling Sharpe ratio of every strategy")
    if benchmark is None:
        body += paragraph(_no_overlap_text(context.benchmark), "note")
    return Section("rolling-sharpe", "Rolling Sharpe ratio", body)


def _span(dates: pd.Series, what: str) -> str:
    if dates.empty:
        return "none"
    first, last = dates.min(), dates.max()
    count = dates.nunique()
    return f"{format_value(first, DATE)} to {format_value(last, DATE)} ({count:,d} days, {what})"


def _git_text(git: dict[str, object]) -> str:
    commit = str(git.get("commit") or "unknown")
    return f"{commit} (uncommitted changes)" if git.get("dirty") else commit


def _relative_text(row: pd.Series, benchmark: pd.Series) -> str:
    days = int(row["benchmark_days"])
    if days == 0:
        return _no_overlap_text(benchmark)
    return (
        f"excess annual return {format_value(row['excess_annual_return'], PERCENT)}, beta "
        f"{format_value(row['beta'], RATIO)}, information ratio "
        f"{format_value(row['information_ratio'], RATIO)} over {days:,d} common days"
    )


def _no_overlap_text(benchmark: pd.Series) -> str:
    if benchmark.empty:
        return f"No {BENCHMARK_NAME} returns were given, so the index is not shown."
    return (
        f"The {BENCHMARK_NAME} index has no date in common with these returns (it covers "
        f"{format_value(benchmark.index.min(), DATE)} to "
        f"{format_value(benchmark.index.max(), DATE)}), so it is not shown."
    )
