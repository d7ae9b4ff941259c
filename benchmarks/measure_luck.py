"""Is the winner luck? A variant grid of the production tournament on the bundled data.

The ``production`` profile (1990-2022, every engine) plus a 10-point grid of ``top_n`` x
``max_weight`` variants, as ``QuantSDK.tournament(prices, "production", variants=...)`` runs it,
then the leaderboard's luck columns (PSR, DSR over every strategy, DSR over the effective
number of trials, SPA p-value against each variant's market baseline) and the PBO of all the
strategies by CSCV (S = 16). Prints the top 5 by Sharpe ratio and writes
``benchmarks/results/luck.json``. A measurement, not a test.

    python benchmarks/measure_luck.py
"""

import json
import logging
import time
import warnings
from pathlib import Path

from quant_assets.hydration.sources import BundledSource
from quant_assets.overfitting.leaderboard_luck import luck_columns
from quant_assets.overfitting.run_overfitting import overfitting_frame
from quant_assets.settings import Settings
from quant_assets.tournament import run_tournament

RESULTS = Path(__file__).with_name("results") / "luck.json"
TOP_N = (8, 12)  # every max_weight below is at least 1/top_n (main refuses less)
MAX_WEIGHT = (0.15, 0.2, 0.25, 0.3, 0.5)
SHOWN = ["profile", "engine", "sharpe", "psr", "n_trials", "dsr", "effective_trials"]
SHOWN += ["dsr_effective", "spa_pvalue", "sharpe_low", "sharpe_high"]


def main() -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.INFO)
    closes = BundledSource()._closes.astype("float64")
    settings = Settings.for_profile("production", data_root=Path("data/lakehouse"))
    profiles = {"production": settings}
    for top_n in TOP_N:
        for max_weight in MAX_WEIGHT:
            profiles[f"top{top_n}_cap{max_weight}"] = settings.clone(
                top_n=top_n, max_weight=max_weight
            )
    start = time.perf_counter()
    result = run_tournament(closes, profiles, base=settings)
    tournament_seconds = time.perf_counter() - start
    start = time.perf_counter()
    board = result.leaderboard
    board = board.join(luck_columns(board, result.returns, profiles))
    overfitting = overfitting_frame(result.returns, board, settings)
    luck_seconds = time.perf_counter() - start
    top = board[SHOWN].head(5)
    pbo = float(overfitting["pbo"].iloc[0])
    print(
        f"{len(board)} strategies ({len(profiles)} profiles): tournament {tournament_seconds:.0f} s"
    )
    print(f"luck columns and PBO {luck_seconds:.1f} s")
    print(top.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"PBO {pbo:.3f} over {len(overfitting):,} splits; probability of loss "
        f"{overfitting['probability_of_loss'].iloc[0]:.3f}; degradation slope "
        f"{overfitting['degradation_slope'].iloc[0]:.3f}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "strategies": len(board),
                "top5": top.to_dict(orient="records"),
                "pbo": pbo,
                "probability_of_loss": float(overfitting["probability_of_loss"].iloc[0]),
                "degradation_slope": float(overfitting["degradation_slope"].iloc[0]),
            },
            indent=2,
            default=str,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
