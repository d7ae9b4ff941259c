"""Benchmark ``stale_symbols`` on 2,000 stored symbols: footer statistics against a file loop.

Writes 2,000 small symbol files (every tenth cut short, so some are stale) into a temporary
lakehouse, then times, best of REPEATS:

- ``stale_symbols`` (the platform: each file's footer statistics, read on threads, plus the
  source's dates);
- the reference: the same statuses from a loop that opens each file's last date with pyarrow
  (what a hand-made script does).

Prints both times and their ratio, and checks both give the same statuses.
Run with ``python benchmarks/bench_freshness.py [n_symbols]``.
"""

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse import LakehouseStore
from quant_assets.freshness import stale_symbols
from quant_assets.hydration.synthetic import SyntheticSource

N_SYMBOLS = 2000
END = date(2024, 12, 31)
REPEATS = 3


def write_lakehouse(root: Path, source: SyntheticSource) -> None:
    """Five days per symbol, every tenth symbol cut to three (stale unless delisted)."""
    store = LakehouseStore(root)
    days = pd.bdate_range(end=END, periods=5)
    full = pa.table({"date": days.to_numpy(), "close": [1.0] * 5})
    for index, symbol in enumerate(source.symbols()):
        folder = store.symbol_dir(symbol)
        folder.mkdir(parents=True)
        pq.write_table(full if index % 10 else full.slice(0, 3), folder / "part-0.parquet")


def reference_statuses(root: Path, source: SyntheticSource) -> dict[str, str]:
    """Stale or fresh per stored symbol, one file at a time."""
    statuses = {}
    source_last = source.last_dates()
    for symbol in source.symbols():
        path = LakehouseStore(root).symbol_path(symbol)
        dates = pq.read_table(path, columns=["date"]).column("date").to_pandas()
        last = dates.max().date()
        wanted = source_last[symbol]
        statuses[symbol] = "stale" if wanted is not None and wanted > last else "fresh"
    return statuses


def best_of(function, *args):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_SYMBOLS
    source = SyntheticSource(n, 1, END, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_lakehouse(root, source)
        ours, status = best_of(stale_symbols, LakehouseStore(root), source)
        theirs, reference = best_of(reference_statuses, root, source)
    mine = dict(zip(status["symbol"], status["status"], strict=True))
    assert mine == reference, "stale_symbols and the file loop disagree"
    print(f"stale_symbols, {n:,} stored symbols (best of {REPEATS})")
    print(f"  footer statistics (ours): {ours * 1000:7.1f} ms")
    print(f"  file loop (reference):   {theirs * 1000:8.1f} ms")
    print(f"  ratio: {theirs / ours:.1f}x faster; {sum(v == 'stale' for v in mine.values())} stale")


if __name__ == "__main__":
    main()
