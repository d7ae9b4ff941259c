import dataclasses
import re

import pandas as pd

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.benchmark import BENCHMARK_NAME, benchmark_returns
from quant_assets.tearsheet.context import build_context
from quant_assets.tearsheet.performance_sections import (
    equity_section,
    monthly_section,
    summary_section,
)


def test_summary_names_the_run_and_its_best_strategy(canary_inputs: TearsheetInputs):
    section = summary_section(build_context(canary_inputs, benchmark_returns()))
    best = canary_inputs.leaderboard.iloc[0]
    assert section.section_id == "summary"
    assert canary_inputs.run_id in section.body
    assert f"{best['profile']}/{best['engine']}: Sharpe {best['sharpe']:.2f}" in section.body
    closes = canary_inputs.closes
    span = f"{closes['date'].min():%Y-%m-%d} to {closes['date'].max():%Y-%m-%d}"
    assert span in section.body
    assert re.search(r"excess annual return -?\d+\.\d\d%", section.body)


def test_sections_without_benchmark_overlap_say_so(canary_inputs: TearsheetInputs):
    future = benchmark_returns()
    future.index = future.index + pd.DateOffset(years=40)
    context = build_context(canary_inputs, future.rename(BENCHMARK_NAME))
    assert "has no date in common" in summary_section(context).body
    assert "has no date in common" in equity_section(context).body


def test_sections_of_an_empty_leaderboard(canary_inputs: TearsheetInputs):
    empty = dataclasses.replace(canary_inputs, leaderboard=canary_inputs.leaderboard.iloc[:0])
    context = build_context(empty, benchmark_returns())
    assert "the leaderboard is empty" in summary_section(context).body
    assert "No best strategy" in monthly_section(context).body
