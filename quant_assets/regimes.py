"""Regimes: an explainable market regime label per date, from market volatility and trend.

The market is the equal-weight average of the universe's daily log returns. Its volatility is
"high" when the rolling volatility exceeds the expanding ``regime_volatility_quantile`` of its
own past (so the threshold at ``t`` uses data up to ``t`` only). Its trend is "up" when the
cumulative market log level is above its ``regime_trend_window`` moving average.
"""

import numpy as np
import pandas as pd

from quant_assets.calendar import TRADING_DAYS_PER_YEAR
from quant_assets.settings import Settings

REGIME_LABELS = ("bull", "bear", "volatile_bull", "volatile_bear", "unknown")
"""``bull``/``bear``: normal volatility, up/down trend; ``volatile_*``: high volatility;
``unknown``: not enough history yet."""
VOLATILE_REGIMES = frozenset({"volatile_bull", "volatile_bear"})


def label_regimes(closes: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Label every date of ``closes`` with a regime.

    Parameters
    ----------
    closes : DataFrame of shape (n_dates, n_symbols)
        Wide daily closes of the universe.
    settings : Settings
        ``regime_volatility_window``, ``regime_trend_window``, ``regime_volatility_quantile``.

    Returns
    -------
    DataFrame
        Columns ``date``, ``market_return``, ``market_volatility``, ``volatility_threshold``,
        ``trend`` (market level minus its moving average), ``label`` (one of
        :data:`REGIME_LABELS`).
    """
    log_closes = pd.DataFrame(np.log(closes.to_numpy()), index=closes.index, columns=closes.columns)
    market_return = log_closes.diff().mean(axis=1, skipna=True)
    volatility = market_return.rolling(settings.regime_volatility_window).std() * np.sqrt(
        TRADING_DAYS_PER_YEAR
    )
    threshold = volatility.expanding(min_periods=settings.regime_volatility_window).quantile(
        settings.regime_volatility_quantile
    )
    level = market_return.fillna(0.0).cumsum()
    trend = level - level.rolling(settings.regime_trend_window).mean()
    high = volatility > threshold
    up = trend > 0
    label = np.select(
        [high & up, high & ~up, ~high & up],
        ["volatile_bull", "volatile_bear", "bull"],
        default="bear",
    )
    known = volatility.notna() & threshold.notna() & trend.notna()
    return pd.DataFrame(
        {
            "date": closes.index.to_numpy(),
            "market_return": market_return.to_numpy(),
            "market_volatility": volatility.to_numpy(),
            "volatility_threshold": threshold.to_numpy(),
            "trend": trend.to_numpy(),
            "label": np.where(known.to_numpy(), label, "unknown").astype(str),
        }
    )
