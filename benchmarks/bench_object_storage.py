"""Benchmark: the lakehouse on a loopback S3-compatible server against a local folder.

Run with ``make bench-object-storage`` (or ``python benchmarks/bench_object_storage.py
[--symbols 2000]``). The parent starts the local S3 server (:mod:`quant_sdk.local_s3`, moto on
127.0.0.1), then each case runs in a fresh child process with a fresh lakehouse and Dagster
home, once on a local folder and once on a fresh bucket:

1. **hydration**: ``--symbols`` synthetic symbols x ``--years`` years in one Dagster run
   (``QuantSDK.hydrate``); target: S3 within :data:`HYDRATION_TARGET` of the folder;
2. **production**: the bundled 20 symbols hydrated (not timed), then one ``production`` run
   end to end (``QuantSDK.run``); target: S3 within :data:`PRODUCTION_TARGET`.

Times are measured inside the child around the one SDK call (imports and the interpreter's
start are not counted). Prints each time, the ratio S3 / folder and the verdict; writes
``benchmarks/results/object_storage.json``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from quant_sdk import local_s3

RESULTS = Path(__file__).parent / "results" / "object_storage.json"
HYDRATION_TARGET = 2.0
PRODUCTION_TARGET = 1.5
SYMBOLS = 2000
YEARS = 10


def child(case: str, root: str, home: str, symbols: int, years: int) -> None:
    """Run one case in this process; print its seconds as JSON on the last line."""
    os.environ["DAGSTER_HOME"] = home
    from quant_assets.settings import Settings
    from quant_sdk import QuantSDK

    if case == "hydration":
        settings = Settings(
            data_root=root, source="synthetic", synthetic_symbols=symbols, synthetic_years=years
        )
        sdk = QuantSDK(settings=settings, dagster_log_level="CRITICAL")
        started = time.perf_counter()
        sdk.hydrate()
    else:
        sdk = QuantSDK(settings=Settings(data_root=root), dagster_log_level="CRITICAL")
        sdk.hydrate()
        started = time.perf_counter()
        sdk.run(profile="production")
    print(json.dumps({"seconds": time.perf_counter() - started}))


def run_child(case: str, root: str, folder: Path, symbols: int, years: int) -> float:
    home = folder / f"home-{case}-{'s3' if root.startswith('s3://') else 'folder'}"
    home.mkdir()
    sizes = ["--symbols", str(symbols), "--years", str(years)]
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, root, str(home), *sizes],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{case} on {root} failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=SYMBOLS)
    parser.add_argument("--years", type=int, default=YEARS)
    parser.add_argument("--child", nargs=3, metavar=("CASE", "ROOT", "HOME"))
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.symbols, args.years)
        return
    with tempfile.TemporaryDirectory(prefix="bench-s3-") as temporary:
        folder = Path(temporary)
        local_s3.start(folder / "server")
        os.environ.update(local_s3.environment())
        try:
            results: dict[str, Any] = {"symbols": args.symbols, "years": args.years}
            for case, target in (
                ("hydration", HYDRATION_TARGET),
                ("production", PRODUCTION_TARGET),
            ):
                bucket = f"bench-{case}"
                local_s3.create_bucket(bucket)
                on_folder = run_child(
                    case, str(folder / f"lake-{case}"), folder, args.symbols, args.years
                )
                on_s3 = run_child(case, f"s3://{bucket}/lake", folder, args.symbols, args.years)
                ratio = on_s3 / on_folder
                verdict = "ok" if ratio <= target else "MISSED"
                results[case] = {"folder": on_folder, "s3": on_s3, "ratio": ratio, "target": target}
                what = f"{args.symbols} synthetic symbols" if case == "hydration" else "bundled"
                print(
                    f"{case:<11} ({what}): folder {on_folder:7.1f} s   S3 {on_s3:7.1f} s   "
                    f"S3/folder {ratio:4.2f}x (target <= {target}x: {verdict})",
                    flush=True,
                )
        finally:
            local_s3.stop(folder / "server")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}; written to {RESULTS}")


if __name__ == "__main__":
    main()
