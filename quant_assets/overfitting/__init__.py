"""Is the winner luck? Deflated Sharpe ratios, bootstrap intervals, SPA tests and PBO.

- :mod:`.sharpe_inference`: probabilistic and deflated Sharpe ratios, expected maximum Sharpe
  ratio, minimum track record and backtest lengths, effective number of trials.
- :mod:`.stationary_bootstrap`: Politis-White block length, arch-compatible draws, intervals.
- :mod:`.superior_predictive_ability`: Hansen's SPA test of each strategy against a baseline.
- :mod:`.backtest_overfitting`: PBO by combinatorially symmetric cross-validation.
"""
