import dataclasses

import pandas as pd

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.benchmark import benchmark_returns
from quant_assets.tearsheet.context import build_context
from quant_assets.tournament.reporting import strategy_name


def test_context_orders_returns_by_rank_and_picks_the_best(canary_inputs: TearsheetInputs):
    context = build_context(canary_inputs, benchmark_returns())
    board = canary_inputs.leaderboard
    expected = [strategy_name(p, e) for p, e in zip(board["profile"], board["engine"], strict=True)]
    assert list(context.returns.columns) == expected
    assert context.best == (board["profile"].iloc[0], board["engine"].iloc[0])
    assert context.best_name == expected[0]
    assert set(context.colors) == set(expected)
    assert context.daily_risk_free == canary_inputs.run_manifest["settings"]["risk_free_rate"] / 252
    overlap = context.benchmark_on(pd.DatetimeIndex(context.returns.index))
    assert overlap is not None and overlap.notna().all()
    assert context.benchmark_on(pd.DatetimeIndex(["2040-01-02"])) is None


def test_context_of_an_empty_leaderboard(canary_inputs: TearsheetInputs):
    empty = dataclasses.replace(canary_inputs, leaderboard=canary_inputs.leaderboard.iloc[:0])
    context = build_context(empty, benchmark_returns())
    assert context.best is None and context.best_name is None
    assert context.board.empty
