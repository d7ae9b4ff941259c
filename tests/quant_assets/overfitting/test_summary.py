import pandas as pd

from quant_assets.overfitting.summary import luck_summary


def _board(**luck) -> pd.DataFrame:
    row = {"profile": "canary", "engine": "hrp", "sharpe": 0.948, **luck}
    return pd.DataFrame([row, {**row, "engine": "market", "sharpe": 0.5}])


def test_names_the_best_with_its_dsr_and_the_pbo() -> None:
    board = _board(dsr=0.6912, n_trials=77, effective_trials=9.46, dsr_effective=0.8123)
    overfitting = pd.DataFrame({"pbo": [0.31] * 70})
    assert luck_summary(board, overfitting) == (
        "best: canary/hrp, Sharpe 0.95, DSR 0.69 over 77 trials (0.81 over 9.5 effective); "
        "PBO 0.31 over 70 splits"
    )
    assert luck_summary(board, None) == (
        "best: canary/hrp, Sharpe 0.95, DSR 0.69 over 77 trials (0.81 over 9.5 effective)"
    )


def test_nothing_to_say_for_runs_before_the_dsr() -> None:
    assert luck_summary(None, None) is None
    assert luck_summary(_board().iloc[:0], None) is None
    assert luck_summary(_board(), None) is None
