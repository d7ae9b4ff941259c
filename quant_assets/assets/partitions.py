"""The two partition dimensions: hydrated symbols and pipeline runs."""

import dagster as dg

from lakehouse.store import RUN_ID_PARTITIONS, SYMBOL_PARTITIONS

symbol_partitions = dg.DynamicPartitionsDefinition(name=SYMBOL_PARTITIONS)
"""One partition per hydrated symbol (``market_data``)."""

run_id_partitions = dg.DynamicPartitionsDefinition(name=RUN_ID_PARTITIONS)
"""One partition per pipeline run, keyed ``YYYYMMDD-HHMMSS-xxxx``."""

OWNERS = ["team:quant-research"]
