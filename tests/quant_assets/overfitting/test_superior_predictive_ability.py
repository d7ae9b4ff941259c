import numpy as np
import pytest
from arch.bootstrap import SPA

from quant_assets.overfitting.superior_predictive_ability import superior_predictive_ability


@pytest.mark.parametrize("kind", ["random", "real"])
def test_spa_equals_arch_for_the_same_seed(kind: str, real_returns: np.ndarray) -> None:
    if kind == "random":
        rng = np.random.default_rng(4)
        benchmark = rng.normal(3e-4, 0.01, size=1_200)
        models = benchmark[:, None] * 0.5 + rng.normal([-2e-4, 0.0, 6e-4], 0.008, size=(1_200, 3))
    else:
        benchmark = real_returns.mean(axis=1)  # the equal-weight market of the bundled stocks
        models = real_returns[:, :4]
    ours = superior_predictive_ability(benchmark, models, seed=17, reps=400)
    for k in range(models.shape[1]):
        spa = SPA(-benchmark, -models[:, k], block_size=ours.block_length[k], reps=400, seed=17)
        spa.compute()
        lower, consistent, upper = spa.pvalues.to_numpy()
        assert (ours.pvalue_lower[k], ours.pvalue_consistent[k], ours.pvalue_upper[k]) == (
            lower,
            consistent,
            upper,
        )
        # Hansen's studentised statistic, from arch's loss differential and its variance
        mean = spa._loss_diff.mean()
        expected = max(np.sqrt(len(benchmark)) * mean / np.sqrt(spa._loss_diff_var[0]), 0.0)
        assert ours.statistic[k] == pytest.approx(expected, rel=1e-9)


def test_spa_finds_a_real_edge_and_not_a_fake_one() -> None:
    rng = np.random.default_rng(8)
    benchmark = rng.normal(2e-4, 0.01, size=2_500)
    better = benchmark + rng.normal(8e-4, 0.004, size=2_500)
    same = benchmark + rng.normal(0.0, 0.004, size=2_500)
    result = superior_predictive_ability(benchmark, np.column_stack([better, same]), seed=1)
    assert result.pvalue_consistent[0] < 0.01
    assert result.pvalue_consistent[1] > 0.05


def test_spa_refuses_mismatched_gains() -> None:
    with pytest.raises(ValueError, match="as long as"):
        superior_predictive_ability(np.zeros(10), np.zeros((11, 2)), seed=1)
