import dataclasses
import re

import pandas as pd

from quant_assets.tearsheet import TearsheetInputs
from quant_assets.tearsheet.benchmark import benchmark_returns
from quant_assets.tearsheet.context import build_context
from quant_assets.tearsheet.run_sections import (
    manifest_section,
    regimes_section,
    selection_section,
    vetoes_section,
    weights_section,
)


def test_vetoes_section_lists_and_counts_vetoes(canary_inputs: TearsheetInputs):
    clean = vetoes_section(build_context(canary_inputs, benchmark_returns()))
    assert "No engine was vetoed" in clean.body
    windows = canary_inputs.tournament_windows
    vetoes = pd.DataFrame(
        {
            "window": windows["window"].iloc[:3].to_numpy(),
            "train_end": windows["train_end"].iloc[:3].to_numpy(),
            "profile": "canary",
            "engine": "min_variance",
            "vetoed_engine": "min_variance",
            "reason": ["<weights> & NaN", "<weights> & NaN", "ill-conditioned"],
        }
    )
    inputs = dataclasses.replace(canary_inputs, tournament_vetoes=vetoes)
    body = vetoes_section(build_context(inputs, benchmark_returns())).body
    assert "Vetoes in this run: 3." in body
    assert "&lt;weights&gt; &amp; NaN" in body and "<weights>" not in body
    counts = body.split('id="veto-counts-table"', 1)[1].split("</table>", 1)[0]
    assert counts.index("&lt;weights&gt;") < counts.index("ill-conditioned")  # most first


def test_weights_section_shows_the_best_strategy(canary_inputs: TearsheetInputs):
    body = weights_section(build_context(canary_inputs, benchmark_returns())).body
    best = canary_inputs.leaderboard.iloc[0]
    assert f"{best['profile']}/{best['engine']}" in body
    assert body.count("data:image/png;base64,") == 1
    assert 'id="allocations-table"' in body


def test_regimes_section_names_the_last_regime(canary_inputs: TearsheetInputs):
    body = regimes_section(build_context(canary_inputs, benchmark_returns())).body
    last = canary_inputs.regimes.sort_values("date").iloc[-1]
    assert f"{last['date']:%Y-%m-%d}: {last['label']}" in body


def test_manifest_section_shows_provenance(canary_inputs: TearsheetInputs):
    body = manifest_section(build_context(canary_inputs, benchmark_returns())).body
    manifest = canary_inputs.run_manifest
    assert manifest["git"]["commit"] in body
    assert manifest["settings_hash"] in body
    for symbol, digest in manifest["inputs"]["market_data"].items():
        assert f'<td class="txt">{symbol}</td><td class="txt">{digest}</td>' in body
    for package, version in manifest["packages"].items():
        assert f'{package}</td><td class="txt">{version}<' in body


def test_selection_section_orders_strategies_by_rank(canary_inputs: TearsheetInputs):
    body = selection_section(build_context(canary_inputs, benchmark_returns())).body
    table = body.split('id="selection-table"', 1)[1].split("</thead>", 1)[0]
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    board = canary_inputs.leaderboard
    ranked = [f"{p}/{e}" for p, e in zip(board["profile"], board["engine"], strict=True)]
    assert headers == ["symbol", "all", "windows held", *ranked]
