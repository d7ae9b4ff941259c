import dataclasses
import re

import numpy as np
import pytest

from quant_assets.tearsheet import render_tearsheet
from quant_assets.tearsheet.inputs import TearsheetInputs
from quant_assets.tearsheet.luck_section import logit_figure, split_scatter_figure, verdict


def test_the_sentence_names_the_best_strategy_its_dsr_and_the_pbo(
    canary_inputs: TearsheetInputs, canary_html: str
):
    board, overfitting = canary_inputs.leaderboard, canary_inputs.overfitting
    assert overfitting is not None and not overfitting.empty
    best = board.iloc[0]
    sentence = verdict(board, overfitting)
    assert f"The best of {best['n_trials']} strategies" in sentence
    assert f"{best['profile']}/{best['engine']}" in sentence
    assert f"has a {1 - best['dsr']:.0%} chance of being no better than zero" in sentence
    assert f"in {overfitting['pbo'].iloc[0]:.0%} of them (PBO)" in sentence
    section = canary_html.split('<h2 id="luck"')[1].split("<h2 ")[0]
    assert 'id="luck-table"' in section
    assert len(re.findall(r"<img ", section)) == 2


def test_the_figures_plot_the_stored_splits(canary_inputs: TearsheetInputs):
    overfitting = canary_inputs.overfitting
    assert overfitting is not None
    bars = logit_figure(overfitting).axes[0].patches
    assert sum(bar.get_height() for bar in bars) == len(overfitting)
    points = split_scatter_figure(overfitting).axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(points[:, 0], overfitting["in_sample_sharpe"])
    np.testing.assert_array_equal(points[:, 1], overfitting["out_of_sample_sharpe"])


def test_a_run_stored_before_the_section_still_renders(canary_inputs: TearsheetInputs):
    older = dataclasses.replace(canary_inputs, overfitting=None)
    html = render_tearsheet(older)
    section = html.split('<h2 id="luck"')[1].split("<h2 ")[0]
    assert "<img " not in section and "chance of being no better than zero" in section
    with pytest.raises(ValueError, match="overfitting lacks"):
        dataclasses.replace(canary_inputs, overfitting=older.leaderboard)
