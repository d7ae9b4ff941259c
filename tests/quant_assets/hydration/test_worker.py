"""The hydration worker process: what the caller's process would store, errors after the stored."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse import LakehouseStore
from quant_assets.hydration import worker as worker_module
from quant_assets.hydration.batches import HYDRATION_BATCH
from quant_assets.hydration.sources import make_source
from quant_assets.hydration.worker import HydrationWorkerError, stored_batches
from quant_assets.settings import Settings

SYMBOLS = HYDRATION_BATCH + 44
"""Two batches: the worker holds more than one in flight."""
DAYS = pd.bdate_range("2024-01-02", periods=30)


def _market(folder: Path, symbols: list[str]) -> None:
    """Small CSV files; every 50th symbol refused (a negative close), every 70th a split."""
    folder.mkdir()
    rng = np.random.default_rng(5)
    for number, symbol in enumerate(symbols):
        closes = 20.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(DAYS))))
        if number % 50 == 7:
            closes[12] = -1.0
        if number % 70 == 3:
            closes[20:] /= 2.0
        pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "close": closes}).to_csv(
            folder / f"{symbol}.csv", index=False
        )


def _hydrate(root: str, source: Path, symbols: list[str], in_worker: bool, monkeypatch):
    monkeypatch.setattr(worker_module, "WORKER_MIN_SYMBOLS", 1 if in_worker else 10**9)
    settings = Settings(data_root=root, source="files", source_path=source)
    store = LakehouseStore(root)
    batches = list(
        stored_batches(store, settings, make_source(settings), symbols, origin={"source": "files"})
    )
    return store, batches


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_the_worker_stores_and_reports_exactly_what_the_caller_s_process_would(
    where: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
):
    root = str(tmp_path) if where == "folder" else request.getfixturevalue("s3_root")
    symbols = [f"S{number:03d}" for number in range(SYMBOLS)]
    source = tmp_path / "source"
    _market(source, symbols)
    here, here_batches = _hydrate(f"{root}/here", source, symbols, False, monkeypatch)
    there, there_batches = _hydrate(f"{root}/there", source, symbols, True, monkeypatch)

    assert [b.done for b in there_batches] == [HYDRATION_BATCH, SYMBOLS]
    assert [b.done for b in there_batches] == [b.done for b in here_batches]

    def reports(batches, lake):
        return [
            {**r.as_dict(), "path": r.path.replace(lake, "<lake>")}
            for b in batches
            for r in b.reports
        ]

    assert reports(here_batches, f"{root}/here") == reports(there_batches, f"{root}/there")
    refused = [e["symbol"] for b in there_batches for e in b.quarantined]
    assert refused == [e["symbol"] for b in here_batches for e in b.quarantined]
    assert refused == [s for n, s in enumerate(symbols) if n % 50 == 7]
    splits = [r.symbol for b in there_batches for r in b.reports if r.suspected_splits]
    assert splits == [s for n, s in enumerate(symbols) if n % 70 == 3 and n % 50 != 7]
    stored = here.symbols()
    assert stored == there.symbols() and len(stored) == SYMBOLS - len(refused)
    for symbol in stored:  # the same bytes: data, checksum, identity and origin in the footer
        assert there.symbol_path(symbol).read_bytes() == here.symbol_path(symbol).read_bytes()


def test_an_error_in_the_worker_is_raised_after_its_batch_s_stored_symbols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    symbols = [f"S{number:03d}" for number in range(SYMBOLS)]
    _market(tmp_path / "source", symbols)
    missing = symbols[HYDRATION_BATCH + 10]
    (tmp_path / "source" / f"{missing}.csv").unlink()  # not refused data: the source fails

    monkeypatch.setattr(worker_module, "WORKER_MIN_SYMBOLS", 1)
    source = tmp_path / "source"
    settings = Settings(data_root=tmp_path / "lake", source="files", source_path=source)
    store = LakehouseStore(tmp_path / "lake")
    received = []
    with pytest.raises(HydrationWorkerError, match=f"KeyError: .*no {missing}.csv"):
        for batch in stored_batches(store, settings, make_source(settings), symbols):
            received.append(batch)

    assert [b.done for b in received] == [HYDRATION_BATCH, HYDRATION_BATCH + 10]
    before = {r.symbol for b in received for r in b.reports}
    assert before | {e["symbol"] for b in received for e in b.quarantined} == set(
        symbols[: HYDRATION_BATCH + 10]
    )
    assert set(store.symbols()) == before  # the symbols after the failure were not hydrated
