"""Benchmark: our Dagster event log against Dagster's own SQLite one, on a hydration-like run.

Run with ``make bench`` (or ``python benchmarks/bench_event_log.py [--partitions N]``). In one
process, the same job runs once on a Dagster home with Dagster's default storage and once on a
home written by :func:`dagster_defs.instance.dagster_home` (``PooledSqliteEventLogStorage``):
one run over ``N`` symbol partitions that logs a materialization per partition, as the
``market_data`` asset does. It prints both times and the ratio, checks that both homes hold the
same materialized partitions, and writes ``benchmarks/results/event_log.json``.
"""

import argparse
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from dagster_defs.instance import DAGSTER_HOME_ENV, dagster_home
from quant_event_log import PooledSqliteEventLogStorage

PARTITIONS = 1000
RESULTS = Path(__file__).parent / "results" / "event_log.json"
symbols = dg.DynamicPartitionsDefinition(name="bench_symbols")


@dg.asset(
    partitions_def=symbols, backfill_policy=dg.BackfillPolicy.single_run(), output_required=False
)
def bars(context: dg.AssetExecutionContext) -> Iterator[dg.Output[None]]:
    """A materialization per partition with a few numbers, like ``market_data``."""
    for key in context.partition_keys:
        metadata = {"rows_after": 2520, "new_rows": 2520, "first_date": "2016-01-04"}
        context.log_event(
            dg.AssetMaterialization(asset_key=context.asset_key, partition=key, metadata=metadata)
        )
    yield from ()


JOB = dg.Definitions(assets=[bars], jobs=[dg.define_asset_job("bars_job")]).resolve_job_def(
    "bars_job"
)


def timed_run(home: Path, keys: list[str]) -> tuple[float, str, set[str]]:
    """Seconds of one run over ``keys`` on ``home``; the storage's class; what got materialized."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("bench_symbols", keys)
        start = time.perf_counter()
        result = JOB.execute_in_process(
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={
                "dagster/asset_partition_range_start": keys[0],
                "dagster/asset_partition_range_end": keys[-1],
            },
        )
        seconds = time.perf_counter() - start
        assert result.success
        storage = type(instance.event_log_storage).__name__
        return seconds, storage, set(instance.get_materialized_partitions(bars.key))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=PARTITIONS)
    partitions = parser.parse_args().partitions
    warnings.filterwarnings("ignore")
    keys = [f"S{i:05d}" for i in range(partitions)]
    with tempfile.TemporaryDirectory(prefix="qevents") as scratch:
        stock_home = Path(scratch) / "stock"
        stock_home.mkdir()
        (stock_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ[DAGSTER_HOME_ENV] = str(Path(scratch) / "ours")
        ours_home = dagster_home()
        stock, stock_class, stock_done = timed_run(stock_home, keys)
        ours, ours_class, ours_done = timed_run(ours_home, keys)
    assert ours_class == PooledSqliteEventLogStorage.__name__
    assert stock_done == ours_done == set(keys)
    print(f"one run over {partitions:,} partitions, a materialization each (a planned event too)")
    print(f"  Dagster's {stock_class:30s} {stock:7.2f} s")
    print(f"  ours      {ours_class:30s} {ours:7.2f} s")
    print(f"  speedup   {stock / ours:7.1f}x   (same partitions materialized: yes)")
    report = {"partitions": partitions, "stock_seconds": stock, "ours_seconds": ours}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**report, "speedup": stock / ours}, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
