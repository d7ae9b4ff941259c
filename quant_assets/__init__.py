"""Quant research pillars (hydration to tournament) as plain functions, and their Dagster assets.

The pillars (every module but :mod:`quant_assets.assets`) know nothing of Dagster; the assets
are thin wrappers over them. The SDK and the command line live above, in :mod:`quant_sdk`.
"""
