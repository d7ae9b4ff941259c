import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap
from arch.bootstrap import optimal_block_length as arch_block_length

from quant_assets.overfitting.stationary_bootstrap import (
    bootstrap_draws,
    bootstrap_indices,
    optimal_block_length,
    performance_intervals,
)
from quant_assets.tournament.reporting import performance


def _autocorrelated(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.convolve(rng.normal(size=n + width), np.ones(width) / width, "valid")[:n]


def test_block_length_equals_arch(real_returns: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    synthetic = np.column_stack(
        [
            rng.standard_t(4, size=1_500),
            _autocorrelated(rng, 1_500, 11),
            _autocorrelated(rng, 1_500, 3),
        ]
    )
    for x in (synthetic, real_returns, real_returns**2):
        expected = np.maximum(arch_block_length(x)["stationary"].to_numpy(), 1.0)
        np.testing.assert_allclose(optimal_block_length(x), expected, rtol=1e-12)
    assert optimal_block_length(synthetic[:, 1]).shape == ()
    assert float(optimal_block_length(np.ones(100))) == 1.0


@pytest.mark.parametrize("block_length", [1.0, 3.5, 20.0])
def test_indices_equal_arch_for_the_same_seed(block_length: float) -> None:
    data = np.arange(257.0)
    bootstrap = StationaryBootstrap(block_length, data, seed=42)
    expected = []
    for _ in bootstrap.bootstrap(50):
        expected.append(bootstrap.index.copy())
    draws = bootstrap_draws(len(data), 50, seed=42)
    np.testing.assert_array_equal(bootstrap_indices(draws, block_length), np.array(expected))


def test_intervals_equal_the_figures_of_arch_resamples(real_returns: np.ndarray) -> None:
    returns = real_returns[-750:, :3]
    reps, seed, risk_free = 200, 9, 1e-4
    lengths = optimal_block_length(returns)
    ours = performance_intervals(returns, seed=seed, reps=reps, risk_free_rate=risk_free)
    for k in range(returns.shape[1]):
        bootstrap = StationaryBootstrap(lengths[k], returns[:, k], seed=seed)
        figures = [performance(data[0][0], risk_free) for data in bootstrap.bootstrap(reps)]
        for name in ("sharpe", "annual_return", "max_drawdown"):
            values = [f[name] for f in figures]
            low, high = np.percentile(values, [5.0, 95.0])
            assert ours[f"{name}_low"][k] == pytest.approx(low, rel=1e-9, abs=1e-12)
            assert ours[f"{name}_high"][k] == pytest.approx(high, rel=1e-9, abs=1e-12)


def test_intervals_hold_the_sample_figure_and_repeat_by_seed(real_returns: np.ndarray) -> None:
    returns = real_returns[-1_000:]
    first = performance_intervals(returns, seed=1)
    again = performance_intervals(returns, seed=1)
    assert all(np.array_equal(first[name], again[name]) for name in first)
    other = performance_intervals(returns, seed=2)
    assert not np.array_equal(first["sharpe_low"], other["sharpe_low"])
    for k in range(returns.shape[1]):
        sample = performance(returns[:, k])
        for name in ("sharpe", "annual_return", "max_drawdown"):
            assert first[f"{name}_low"][k] < sample[name] < first[f"{name}_high"][k]


def test_intervals_refuse_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        performance_intervals(np.array([[np.nan, 0.1]] * 10), seed=1)
    with pytest.raises(ValueError, match="coverage"):
        performance_intervals(np.zeros((10, 2)), seed=1, coverage=1.5)
