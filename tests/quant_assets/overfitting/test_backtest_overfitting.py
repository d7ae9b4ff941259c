import itertools

import numpy as np
import pytest

from quant_assets.overfitting.backtest_overfitting import (
    cscv_splits,
    probability_of_backtest_overfitting,
)


def _reference_pbo(returns: np.ndarray, n_blocks: int) -> tuple[float, np.ndarray]:
    """The paper's procedure, one split at a time: rows of the halves, Sharpe, rank."""
    blocks = np.array_split(np.arange(len(returns)), n_blocks)
    logits = []
    for chosen in itertools.combinations(range(n_blocks), n_blocks // 2):
        in_rows = np.concatenate([blocks[b] for b in chosen])
        out_rows = np.concatenate([blocks[b] for b in range(n_blocks) if b not in chosen])
        train, test = returns[in_rows], returns[out_rows]
        in_sharpe = train.mean(axis=0) / train.std(axis=0, ddof=1)
        out_sharpe = test.mean(axis=0) / test.std(axis=0, ddof=1)
        best = int(np.argmax(in_sharpe))
        rank = int(np.argsort(np.argsort(out_sharpe))[best]) + 1
        w = rank / (returns.shape[1] + 1)
        logits.append(np.log(w / (1 - w)))
    logit = np.array(logits)
    return float(np.mean(logit <= 0)), logit


def test_pbo_of_a_small_matrix_by_hand() -> None:
    # 3 strategies x 4 blocks of 2 days, each block (m + 1, m - 1) percent: C(4, 2) = 6 splits.
    block_means = {"A": [3, 3, -1, -1], "B": [1, 1, 1, 1], "C": [0.2, 2, 0.2, 2]}
    returns = np.column_stack(
        [[(m + sign) / 100 for m in means for sign in (1, -1)] for means in block_means.values()]
    )
    # A half with block means m_i, m_j has mean M = (m_i + m_j) / 2 and sample variance
    # (d^2 + 4) / 3 with d = m_i - m_j, so its Sharpe ratio is sqrt(3) M / sqrt(d^2 + 4):
    #   A: {0,1} 1.5, {2,3} -0.5, any other half 1 / sqrt(20) = 0.224;  B: 0.5 in every half;
    #   C: {0,2} 0.1, {1,3} 1.0, any other half 1.1 / sqrt(7.24) = 0.409   (all times sqrt 3).
    # in sample -> winner; out of sample (the other half) -> its rank of 3, w = rank / 4:
    #   {0,1} -> A; {2,3}: A -0.5 ranks 1, logit ln(1/3), and loses
    #   {0,2} -> B; {1,3}: B 0.5 ranks 2 (A 0.224, C 1.0), logit 0
    #   {0,3} -> B; {1,2}: B 0.5 ranks 3 (A 0.224, C 0.409), logit ln 3
    #   {1,2} -> B; {0,3}: ranks 3, logit ln 3
    #   {1,3} -> C; {0,2}: C 0.1 ranks 1 (A 0.224, B 0.5), logit ln(1/3)
    #   {2,3} -> B; {0,1}: B 0.5 ranks 2 (A 1.5, C 0.409), logit 0
    # PBO = 4/6 (logits <= 0); loss in 1 split of 6; the winners' out-of-sample Sharpe ratios
    # (-0.5, .5, .5, .5, .1, .5) on their in-sample ones (1.5, .5, .5, .5, 1, .5): slope -34/35.
    result = probability_of_backtest_overfitting(returns, n_blocks=4)
    assert result.winner.tolist() == [0, 1, 1, 1, 2, 1]
    third = np.log(1 / 3)
    np.testing.assert_allclose(result.logits, [third, 0, -third, -third, third, 0], atol=1e-12)
    assert result.pbo == pytest.approx(4 / 6)
    assert result.probability_of_loss == pytest.approx(1 / 6)
    assert result.degradation_slope == pytest.approx(-34 / 35)
    scale = np.sqrt(3) * np.sqrt(252)
    np.testing.assert_allclose(
        result.in_sample_sharpe / scale, [1.5, 0.5, 0.5, 0.5, 1.0, 0.5], rtol=1e-12
    )
    assert cscv_splits(4).sum(axis=1).tolist() == [2] * 6


def test_pbo_equals_the_split_by_split_reference() -> None:
    rng = np.random.default_rng(2)
    returns = rng.normal(2e-4, 0.01, size=(403, 12))  # 403 days: blocks of 50 and 51
    result = probability_of_backtest_overfitting(returns, n_blocks=8)
    pbo, logits = _reference_pbo(returns, 8)
    assert result.pbo == pbo
    np.testing.assert_allclose(result.logits, logits, atol=1e-12)


def test_pbo_of_noise_is_near_one_half_and_of_a_real_edge_near_zero() -> None:
    noise, edge = [], []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        noise.append(probability_of_backtest_overfitting(rng.normal(0.0, 0.01, (1_000, 50))).pbo)
        returns = rng.normal(0.0, 0.01, size=(2_500, 50))
        returns[:, 7] += 0.0015  # an annual Sharpe ratio of about 2.4 over ten years
        edge.append(probability_of_backtest_overfitting(returns).pbo)
    # one seed's PBO of noise spreads widely (0.24 to 0.74 over these twelve); its mean does not
    assert 0.4 < np.mean(noise) < 0.6
    assert all(0.15 < p < 0.85 for p in noise)
    assert max(edge) < 0.1


def test_degradation_of_noise_is_negative() -> None:
    # the in-sample winner of pure noise is a winner by luck: its out-of-sample Sharpe ratio does
    # not follow its in-sample one (CSCV halves share the total, so the slope is negative)
    rng = np.random.default_rng(1)
    result = probability_of_backtest_overfitting(rng.normal(0.0, 0.01, size=(800, 30)), n_blocks=8)
    assert result.degradation_slope < 0
    assert len(result.logits) == len(result.in_sample_sharpe) == 70


def test_pbo_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="even"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), n_blocks=5)
    with pytest.raises(ValueError, match="2 days per block"):
        probability_of_backtest_overfitting(np.zeros((20, 3)), n_blocks=16)
    with pytest.raises(ValueError, match="n_strategies >= 2"):
        probability_of_backtest_overfitting(np.zeros((100, 1)))
