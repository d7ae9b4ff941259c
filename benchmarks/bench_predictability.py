"""Benchmark the predictability kernels against antropy and nolds; print ratios, write JSON.

One process, one run: every timing is the best of several repeats after a warm-up call, on a
series of N = 20,000 points with a window of 256 (19,745 windows). Reference libraries:

- antropy 0.2.3 ``perm_entropy`` called once per window, and once on the whole
  ``sliding_window_view`` (antropy 0.2.3 accepts 2-D input for orders 3 and 4: one row per window);
- nolds 0.6.2 ``hurst_rs(fit="poly")`` per window, timed on 200 evenly spaced windows and
  extrapolated to all of them (a full run would take about 11 s per repeat).

Also: 1,000-symbol panels (2-D, parallel over symbols), the run-to-run coefficient of variation
over 1,000 timed iterations, and compile / cached-load times measured in fresh subprocesses.

Run with ``make bench`` (or ``python benchmarks/bench_predictability.py``).
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import antropy
import nolds
import numba
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quant_kernels.predictability import (
    rolling_hurst_rs,
    rolling_permutation_entropy,
    rolling_volatility,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "predictability.json"
N = 20_000
WINDOW = 256
N_WINDOWS = N - WINDOW + 1
PANEL_SYMBOLS = 1_000
PANEL_LENGTH = 2_520  # ten years of trading days
NOLDS_SAMPLE = 200
CV_ITERATIONS = 1_000
REPEATS_FAST = 200
REPEATS_SLOW = 3
REPEATS_PANEL = 20

TARGETS = {
    "pe_vs_antropy_per_window": 1_000.0,
    "pe_vs_antropy_batch": 100.0,
    "pe_ns_per_window_max": 10.0,
    "hurst_vs_nolds_per_window": 100.0,
    "hurst_vs_nolds_per_window_block_reuse": 500.0,
    "cv_max": 0.05,
    "compile_s_per_kernel_max": 1.0,
}


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls, after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_to_run(fn: Callable[[], object], iterations: int) -> dict[str, float]:
    """Run-to-run spread of ``iterations`` calls (after a warm-up), wall clock and CPU time.

    The kernels run single-threaded in the calling thread, so the thread's CPU time excludes
    the time the OS gave to other processes (this machine is shared); the wall-clock spread
    includes it. ``robust_cv`` is 1.4826 * MAD / median of the wall times.
    """
    fn()
    wall, cpu = [], []
    for _ in range(iterations):
        start_cpu = time.thread_time()
        start = time.perf_counter()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    median = statistics.median(wall)
    mad = statistics.median(abs(t - median) for t in wall)
    return {
        "iterations": iterations,
        "wall_mean_s": statistics.fmean(wall),
        "wall_median_s": median,
        "wall_min_s": min(wall),
        "wall_cv": statistics.stdev(wall) / statistics.fmean(wall),
        "robust_cv": 1.4826 * mad / median,
        "cpu_mean_s": statistics.fmean(cpu),
        "cpu_cv": statistics.stdev(cpu) / statistics.fmean(cpu),
    }


COMPILE_PROBE = """
import json, time
t0 = time.perf_counter()
import numba
from numba.core import event
t1 = time.perf_counter()
with event.install_recorder("numba:compile") as recorder:
    import quant_kernels.predictability as qp
t2 = time.perf_counter()
starts, per_signature = {}, []
for stamp, ev in recorder.buffer:
    name = ev.data["dispatcher"].py_func.__name__
    key = (name, str(ev.data["args"]))
    if ev.is_start:
        starts[key] = stamp
    else:
        per_signature.append([name, stamp - starts.pop(key)])
import numpy as np
x = np.random.default_rng(0).standard_normal(2_000)
first_calls = {}
for label, call in [
    ("rolling_permutation_entropy", lambda: qp.rolling_permutation_entropy(x, 256)),
    ("rolling_hurst_rs", lambda: qp.rolling_hurst_rs(x, 256)),
    ("rolling_hurst_rs (2-D)", lambda: qp.rolling_hurst_rs(x.reshape(4, 500), 256)),
    ("rolling_volatility", lambda: qp.rolling_volatility(x, 20)),
]:
    start = time.perf_counter()
    call()
    first_calls[label] = time.perf_counter() - start
print(json.dumps({
    "import_numba_s": t1 - t0,
    "import_module_s": t2 - t1,
    "per_signature": per_signature,
    "first_calls_s": first_calls,
}))
"""


def compile_times() -> dict[str, object]:
    """Import the kernels in a fresh process with an empty cache, then again with it filled."""
    with tempfile.TemporaryDirectory(prefix="numba_cache_bench_") as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        runs = []
        for _ in ("cold", "cached"):
            completed = subprocess.run(
                [sys.executable, "-c", COMPILE_PROBE],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    cold, cached = runs
    per_kernel: dict[str, float] = {}
    per_signature_max: dict[str, float] = {}
    for name, seconds in cold["per_signature"]:
        per_kernel[name] = per_kernel.get(name, 0.0) + seconds
        per_signature_max[name] = max(per_signature_max.get(name, 0.0), seconds)
    return {
        "cold_import_s": cold["import_module_s"],
        "cached_import_s": cached["import_module_s"],
        "per_kernel_all_signatures_s": per_kernel,
        "per_signature_max_s": per_signature_max,
        "signatures_compiled_cold": len(cold["per_signature"]),
        "signatures_compiled_cached": len(cached["per_signature"]),
        "first_calls_after_cached_import_s": cached["first_calls_s"],
    }


def main() -> None:
    load_before = os.getloadavg()
    rng = np.random.default_rng(7)
    x = rng.standard_normal(N) * 0.01
    out = np.empty(N)
    views = sliding_window_view(x, WINDOW)
    print(
        f"predictability benchmark: N={N:,}, window={WINDOW}, {N_WINDOWS:,} windows, "
        f"{numba.get_num_threads()} numba threads, {platform.processor() or platform.machine()}"
    )

    # Permutation entropy ------------------------------------------------------------------
    pe_ours = best_of(lambda: rolling_permutation_entropy(x, WINDOW, out=out), REPEATS_FAST)
    ours_pe = rolling_permutation_entropy(x, WINDOW)
    batch = antropy.perm_entropy(views, order=3, normalize=True)
    assert np.max(np.abs(ours_pe[WINDOW - 1 :] - batch)) <= 1e-12
    pe_batch = best_of(lambda: antropy.perm_entropy(views, order=3, normalize=True), REPEATS_SLOW)
    pe_loop = best_of(
        lambda: [antropy.perm_entropy(v, order=3, normalize=True) for v in views], REPEATS_SLOW
    )

    # Hurst ----------------------------------------------------------------------------------
    hurst_ours = best_of(lambda: rolling_hurst_rs(x, WINDOW, out=out), REPEATS_FAST)
    ours_h = rolling_hurst_rs(x, WINDOW)
    sample = np.linspace(0, N_WINDOWS - 1, NOLDS_SAMPLE).astype(int)
    reference = [nolds.hurst_rs(views[j], fit="poly") for j in sample]
    assert np.max(np.abs(ours_h[sample + WINDOW - 1] - reference)) <= 1e-12
    nolds_sample = best_of(
        lambda: [nolds.hurst_rs(views[j], fit="poly") for j in sample], REPEATS_SLOW
    )
    hurst_nolds = nolds_sample / NOLDS_SAMPLE * N_WINDOWS

    vol_ours = best_of(lambda: rolling_volatility(x, WINDOW, out=out), REPEATS_FAST)

    # Panels -------------------------------------------------------------------------------
    panel = rng.standard_normal((PANEL_SYMBOLS, PANEL_LENGTH)) * 0.01
    panel_out = np.empty_like(panel)
    panel_windows = PANEL_SYMBOLS * (PANEL_LENGTH - WINDOW + 1)
    panel_pe = best_of(
        lambda: rolling_permutation_entropy(panel, WINDOW, out=panel_out), REPEATS_PANEL
    )
    panel_hurst = best_of(lambda: rolling_hurst_rs(panel, WINDOW, out=panel_out), REPEATS_SLOW)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    panel_pe_serial = best_of(
        lambda: rolling_permutation_entropy(panel, WINDOW, out=panel_out), REPEATS_PANEL
    )
    panel_hurst_serial = best_of(lambda: rolling_hurst_rs(panel, WINDOW, out=panel_out), 1)
    numba.set_num_threads(threads)

    # Variance ------------------------------------------------------------------------------
    cv_pe = run_to_run(lambda: rolling_permutation_entropy(x, WINDOW, out=out), CV_ITERATIONS)
    cv_hurst = run_to_run(lambda: rolling_hurst_rs(x, WINDOW, out=out), CV_ITERATIONS)

    compiled = compile_times()
    load_after = os.getloadavg()

    ns = 1e9 / N_WINDOWS
    results: dict[str, object] = {
        "config": {
            "n": N,
            "window": WINDOW,
            "windows": N_WINDOWS,
            "repeats_ours": REPEATS_FAST,
            "repeats_reference": REPEATS_SLOW,
            "repeats_panel_perm_entropy": REPEATS_PANEL,
            "nolds_sampled_windows": NOLDS_SAMPLE,
            "panel": [PANEL_SYMBOLS, PANEL_LENGTH],
            "numba_threads": numba.get_num_threads(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "numpy": np.__version__,
            "load_average_1min_before_after": [load_before[0], load_after[0]],
        },
        "perm_entropy": {
            "ours_s": pe_ours,
            "ours_ns_per_window": pe_ours * ns,
            "antropy_per_window_s": pe_loop,
            "antropy_per_window_us": pe_loop * ns / 1e3,
            "antropy_batch_s": pe_batch,
            "antropy_batch_ns_per_window": pe_batch * ns,
            "speedup_vs_per_window": pe_loop / pe_ours,
            "speedup_vs_batch": pe_batch / pe_ours,
        },
        "hurst": {
            "ours_s": hurst_ours,
            "ours_us_per_window": hurst_ours * ns / 1e3,
            "nolds_per_window_s_extrapolated": hurst_nolds,
            "nolds_us_per_window": hurst_nolds * ns / 1e3,
            "speedup_vs_per_window": hurst_nolds / hurst_ours,
        },
        "volatility": {"ours_s": vol_ours, "ours_ns_per_window": vol_ours * ns},
        "panel": {
            "windows": panel_windows,
            "perm_entropy_s": panel_pe,
            "perm_entropy_ns_per_window": panel_pe / panel_windows * 1e9,
            "perm_entropy_parallel_speedup": panel_pe_serial / panel_pe,
            "hurst_s": panel_hurst,
            "hurst_us_per_window": panel_hurst / panel_windows * 1e6,
            "hurst_parallel_speedup": panel_hurst_serial / panel_hurst,
        },
        "run_to_run": {"perm_entropy": cv_pe, "hurst": cv_hurst},
        "compile": compiled,
        "targets": TARGETS,
    }
    report(results)
    print(
        f"\nload average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        f"on {os.cpu_count()} cores (other work on the machine shows in wall-clock times)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def report(r: dict[str, object]) -> None:
    """Print the table of timings, ratios and targets."""
    pe, hu, panel = r["perm_entropy"], r["hurst"], r["panel"]
    vol, cv, comp = r["volatility"], r["run_to_run"], r["compile"]
    assert isinstance(pe, dict) and isinstance(hu, dict) and isinstance(panel, dict)
    assert isinstance(vol, dict) and isinstance(cv, dict)
    assert isinstance(comp, dict)
    worst_kernel = max(comp["per_kernel_all_signatures_s"].items(), key=lambda kv: kv[1])
    worst_signature = max(comp["per_signature_max_s"].items(), key=lambda kv: kv[1])

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        ("measure", "ours", "reference", "ratio", "target", ""),
        (
            "perm. entropy vs antropy, per window",
            f"{pe['ours_ns_per_window']:.2f} ns/win",
            f"{pe['antropy_per_window_us']:.2f} us/win",
            f"{pe['speedup_vs_per_window']:,.0f}x",
            ">= 1,000x",
            verdict(pe["speedup_vs_per_window"] >= TARGETS["pe_vs_antropy_per_window"]),
        ),
        (
            "perm. entropy vs antropy, 2-D batch",
            f"{pe['ours_ns_per_window']:.2f} ns/win",
            f"{pe['antropy_batch_ns_per_window']:.0f} ns/win",
            f"{pe['speedup_vs_batch']:,.0f}x",
            ">= 100x",
            verdict(pe["speedup_vs_batch"] >= TARGETS["pe_vs_antropy_batch"]),
        ),
        (
            "perm. entropy, time per window",
            f"{pe['ours_ns_per_window']:.2f} ns/win",
            "",
            "",
            "<= 10 ns",
            verdict(pe["ours_ns_per_window"] <= TARGETS["pe_ns_per_window_max"]),
        ),
        (
            f"Hurst R/S vs nolds poly ({NOLDS_SAMPLE} windows, extrap.)",
            f"{hu['ours_us_per_window']:.3f} us/win",
            f"{hu['nolds_us_per_window']:.0f} us/win",
            f"{hu['speedup_vs_per_window']:,.0f}x",
            ">= 500x (reuse)",
            verdict(
                hu["speedup_vs_per_window"] >= TARGETS["hurst_vs_nolds_per_window_block_reuse"]
            ),
        ),
        ("rolling volatility", f"{vol['ours_ns_per_window']:.2f} ns/win", "", "", "", ""),
        (
            f"panel {PANEL_SYMBOLS:,}x{PANEL_LENGTH:,}: perm. entropy",
            f"{panel['perm_entropy_s'] * 1e3:.1f} ms",
            f"{panel['perm_entropy_ns_per_window']:.2f} ns/win",
            f"{panel['perm_entropy_parallel_speedup']:.2f}x vs 1 thread",
            "",
            "",
        ),
        (
            f"panel {PANEL_SYMBOLS:,}x{PANEL_LENGTH:,}: Hurst R/S",
            f"{panel['hurst_s'] * 1e3:.0f} ms",
            f"{panel['hurst_us_per_window']:.3f} us/win",
            f"{panel['hurst_parallel_speedup']:.2f}x vs 1 thread",
            "",
            "",
        ),
        *[
            (
                f"run-to-run CV, {label} ({CV_ITERATIONS:,} it.)",
                f"cpu {cv[key]['cpu_cv'] * 100:.2f} %",
                f"wall {cv[key]['wall_cv'] * 100:.2f} %",
                f"robust {cv[key]['robust_cv'] * 100:.2f} %",
                "< 5 % (cpu)",
                verdict(cv[key]["cpu_cv"] < TARGETS["cv_max"]),
            )
            for label, key in (("perm. entropy", "perm_entropy"), ("Hurst R/S", "hurst"))
        ],
        (
            "compile, slowest signature (cold cache)",
            f"{worst_signature[1]:.2f} s",
            worst_signature[0],
            "",
            "<= 1 s",
            verdict(worst_signature[1] <= TARGETS["compile_s_per_kernel_max"]),
        ),
        (
            "compile, slowest kernel, all signatures",
            f"{worst_kernel[1]:.2f} s",
            worst_kernel[0],
            "",
            "<= 1 s",
            verdict(worst_kernel[1] <= TARGETS["compile_s_per_kernel_max"]),
        ),
        (
            "import, cold cache / cached",
            f"{comp['cold_import_s']:.2f} s",
            f"{comp['cached_import_s']:.2f} s",
            f"{comp['signatures_compiled_cached']} recompiled",
            "",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print("\ncompile per kernel (cold cache, seconds, all signatures):")
    for name, seconds in sorted(comp["per_kernel_all_signatures_s"].items(), key=lambda kv: -kv[1]):
        print(
            f"  {name:<28} {seconds:.2f}"
            f"  (slowest signature {comp['per_signature_max_s'][name]:.2f})"
        )
    print("first calls after a cached import (seconds):")
    for name, seconds in comp["first_calls_after_cached_import_s"].items():
        print(f"  {name:<28} {seconds:.4f}")


if __name__ == "__main__":
    main()
