"""The two partition dimensions: hydrated symbols and pipeline runs."""

import dagster as dg

symbol_partitions = dg.DynamicPartitionsDefinition(name="symbols")
"""One partition per hydrated symbol (``market_data``)."""

run_id_partitions = dg.DynamicPartitionsDefinition(name="run_id")
"""One partition per pipeline run, keyed ``YYYYMMDD-HHMMSS-xxxx``."""

OWNERS = ["team:quant-research"]
RUN_MANIFEST = "run_manifest"
