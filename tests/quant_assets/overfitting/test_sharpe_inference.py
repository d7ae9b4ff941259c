import numpy as np
import pytest
from skfolio.measures import deflated_sharpe_ratio as skfolio_dsr
from skfolio.measures import expected_max_sharpe_ratio as skfolio_expected_max
from skfolio.measures import probabilistic_sharpe_ratio as skfolio_psr

from quant_assets.overfitting.sharpe_inference import (
    SharpeMoments,
    deflated_sharpe_ratio,
    effective_number_of_trials,
    expected_maximum_sharpe,
    minimum_backtest_length,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)

DAILY_RISK_FREE = 0.02 / 252


def _moments(sharpe: float, skew: float, kurt: float, n: float) -> SharpeMoments:
    return SharpeMoments(np.array(sharpe), np.array(skew), np.array(kurt), np.array(n))


def test_psr_matches_the_pypbo_example() -> None:
    # pypbo's test: monthly SR 1.585 / sqrt(12), T = 24, skew -2.448, raw kurtosis 10.164
    value = probabilistic_sharpe_ratio(_moments(1.585 / np.sqrt(12), -2.448, 10.164, 24))
    assert float(value) == pytest.approx(0.913234306884860, abs=1e-12)


def test_dsr_matches_the_2014_paper_example() -> None:
    # Bailey and Lopez de Prado (2014): annual SR 2.5, trial variance 0.5, N = 100, 1,250 days
    # (250 a year), skewness -3, raw kurtosis 10
    assert float(expected_maximum_sharpe(100, 1.0)) == pytest.approx(2.5306028932, abs=1e-9)
    benchmark = expected_maximum_sharpe(100, np.sqrt(0.5 / 250))
    dsr = probabilistic_sharpe_ratio(_moments(2.5 / np.sqrt(250), -3.0, 10.0, 1250), benchmark)
    assert float(dsr) == pytest.approx(0.9003968344, abs=1e-9)


def test_minimum_backtest_length_of_the_2014_paper() -> None:
    # 45 independent trials: with less than ~5 years, the best shows an annual SR of 1 by luck
    assert minimum_backtest_length(45, 1.0) == pytest.approx(4.998, abs=5e-4)
    with pytest.raises(ValueError, match="n_trials"):
        minimum_backtest_length(1, 1.0)


def test_expected_maximum_matches_skfolio_for_fractional_trials() -> None:
    for n in (1.0, 2.5, 7.0, 77.0, 1_000.0):
        ours = float(expected_maximum_sharpe(n, 0.03))
        assert ours == pytest.approx(skfolio_expected_max(n, 0.03), abs=1e-15)


@pytest.mark.parametrize("kind", ["random", "real"])
def test_psr_and_dsr_equal_skfolio(kind: str, real_returns: np.ndarray) -> None:
    if kind == "random":
        rng = np.random.default_rng(3)
        returns = rng.standard_t(4, size=(1_500, 9)) * 0.01 + rng.normal(0, 4e-4, size=9)
        returns[:40, 2] = np.nan  # a late start is skipped, as skfolio skips NaNs
    else:
        returns = real_returns
    moments = sharpe_moments(returns, DAILY_RISK_FREE)
    psr = probabilistic_sharpe_ratio(moments)
    np.testing.assert_allclose(psr, skfolio_psr(returns, 0.0, DAILY_RISK_FREE), atol=1e-9)
    trials = moments.sharpe
    dsr = deflated_sharpe_ratio(moments, trials)
    np.testing.assert_allclose(dsr, skfolio_dsr(returns, trials, DAILY_RISK_FREE), atol=1e-9)
    # with an effective number of trials: the PSR against skfolio's expected maximum for it
    n_eff = effective_number_of_trials(np.nan_to_num(returns))
    effective = deflated_sharpe_ratio(moments, trials, n_trials=n_eff)
    benchmark = skfolio_expected_max(n_eff, float(np.std(trials, ddof=1)))
    np.testing.assert_allclose(
        effective, skfolio_psr(returns, benchmark, DAILY_RISK_FREE), atol=1e-9
    )
    assert np.all(effective >= dsr - 1e-12)  # fewer effective trials deflate less


def test_psr_is_undefined_for_short_or_flat_series() -> None:
    moments = sharpe_moments(np.array([[0.01, 0.0], [0.02, 0.0]]))
    assert np.isnan(probabilistic_sharpe_ratio(moments)).all()


def test_minimum_track_record_length_reaches_the_confidence() -> None:
    rng = np.random.default_rng(5)
    moments = sharpe_moments(rng.normal(5e-4, 0.01, size=2_000))
    length = float(minimum_track_record_length(moments))
    # a record of exactly that length would make the PSR equal the confidence
    at_length = SharpeMoments(moments.sharpe, moments.skewness, moments.kurtosis, np.array(length))
    assert float(probabilistic_sharpe_ratio(at_length)) == pytest.approx(0.95, abs=1e-12)
    losing = sharpe_moments(rng.normal(-5e-4, 0.01, size=2_000))
    assert np.isnan(minimum_track_record_length(losing))


def test_effective_number_of_trials() -> None:
    rng = np.random.default_rng(11)
    independent = rng.normal(size=(20_000, 10))
    assert effective_number_of_trials(independent) == pytest.approx(10.0, rel=0.01)
    common = rng.normal(size=(20_000, 1))
    clones = common + 1e-6 * rng.normal(size=(20_000, 10))
    assert effective_number_of_trials(clones) == pytest.approx(1.0, abs=0.01)
    two_ideas = np.hstack([np.repeat(independent[:, :1], 5, axis=1), independent[:, 1:2]])
    assert effective_number_of_trials(two_ideas) == pytest.approx(
        np.exp(-(5 / 6) * np.log(5 / 6) - (1 / 6) * np.log(1 / 6)), abs=0.01
    )
    with pytest.raises(ValueError, match="n_trials"):
        effective_number_of_trials(np.zeros(5))
