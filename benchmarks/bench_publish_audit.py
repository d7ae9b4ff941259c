"""Benchmark write, audit, publish: what the tier 1 audit before publish costs on ``features``.

Writes a features-shaped frame of N_SYMBOLS symbols x DAYS business days chunk by chunk
(``write_frame_chunks``, CHUNK_SYMBOLS symbols a chunk, as the feature build does), twice:

- the reference: written and published with no audit (the store before write, audit, publish);
- the platform: the same, audited by ``ContractedIOManager`` (``FeaturesContract``, batches of
  row groups above ``LARGE_FRAME_ROWS``) under the temporary name before it is published.

Prints both times and their ratio. The blocking asset check validates the published file once
more, so a run spends the audit's extra time twice.
Run with ``python benchmarks/bench_publish_audit.py [days]`` (default 2,520: ten years).
"""

import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse.frames import StoredFrame, write_frame_chunks
from quant_assets.assets.resources import ContractedIOManager

N_SYMBOLS = 5000
DAYS = 2520
CHUNK_SYMBOLS = 250
VALUE_COLUMNS = ("log_return", "volatility", "momentum", "perm_entropy", "hurst")


def chunks(days: int) -> Iterator[pd.DataFrame]:
    """Features-shaped chunks in (symbol, date) order, random values."""
    dates = pd.bdate_range("2015-01-01", periods=days)
    rng = np.random.default_rng(0)
    for start in range(0, N_SYMBOLS, CHUNK_SYMBOLS):
        symbols = [f"S{i:05d}" for i in range(start, min(start + CHUNK_SYMBOLS, N_SYMBOLS))]
        rows = len(symbols) * days
        yield pd.DataFrame(
            {
                "date": np.tile(dates, len(symbols)),
                "symbol": np.repeat(symbols, days),
                **{column: rng.standard_normal(rows) for column in VALUE_COLUMNS},
            }
        )


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else DAYS
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        manager = ContractedIOManager(root=str(root))

        def audit(written: Path) -> None:
            failure = manager.contract_failure("features", StoredFrame(written))
            assert failure is None, failure

        start = time.perf_counter()
        write_frame_chunks(chunks(days), root / "plain")
        plain = time.perf_counter() - start
        start = time.perf_counter()
        written = write_frame_chunks(chunks(days), root / "audited", audit=audit)
        audited = time.perf_counter() - start
    print(
        f"features {N_SYMBOLS:,} symbols x {days:,} days ({written.summary.rows:,} rows): "
        f"write {plain:.1f} s, write+audit+publish {audited:.1f} s, ratio {audited / plain:.2f}"
    )


if __name__ == "__main__":
    main()
