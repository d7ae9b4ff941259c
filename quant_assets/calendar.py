"""Facts of the trading calendar that annualise daily figures."""

TRADING_DAYS_PER_YEAR = 252
"""Trading days in a year: annualises daily returns, volatilities and rates everywhere."""
