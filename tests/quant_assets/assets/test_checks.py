"""Contract checks on stored frames: large ones validated in batches, exactly as a whole."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lakehouse.frames import StoredFrame, write_frame_chunks
from quant_assets.assets import checks
from quant_assets.assets.checks import validate_contract, validate_stored
from quant_assets.contracts import ClosesContract, FeaturesAudit, FeaturesContract
from quant_assets.features import feature_chunks
from quant_assets.frames import closes_to_long
from quant_assets.settings import Settings


@pytest.fixture
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    dates = pd.bdate_range("2019-01-01", periods=300).astype("datetime64[ns]")
    closes = np.exp(np.cumsum(rng.normal(0, 0.02, (300, 6)), axis=0)) * 20
    return pd.DataFrame(
        closes,
        index=pd.DatetimeIndex(dates, name="date"),
        columns=pd.Index([f"S{i}" for i in range(6)], name="symbol"),
    )


def stored_features(chunks: list[pd.DataFrame], folder: Path) -> StoredFrame:
    return StoredFrame(write_frame_chunks(chunks, folder).path)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames above 500 rows are "large", and batches hold one row group (300 rows)."""
    monkeypatch.setattr(checks, "LARGE_FRAME_ROWS", 500)
    real_batches = StoredFrame.batches
    monkeypatch.setattr(StoredFrame, "batches", lambda self: real_batches(self, batch_rows=1))


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("contract", [FeaturesContract, FeaturesAudit])
def test_batches_of_a_good_frame_pass_like_the_whole(panel, tmp_path: Path, contract):
    chunks = list(feature_chunks(panel, Settings(), chunk_symbols=1))
    stored = stored_features(chunks, tmp_path)
    passed, metadata = validate_stored(stored, contract)
    whole_passed, whole = validate_contract(pd.concat(chunks, ignore_index=True), contract)
    assert passed and whole_passed
    assert metadata["num_rows"] == whole["num_rows"] == 1_800 and metadata["num_failures"] == 0


@pytest.mark.usefixtures("small_batches")
def test_rows_out_of_order_across_a_boundary_fail(panel, tmp_path: Path):
    chunks = list(feature_chunks(panel, Settings(), chunk_symbols=1))
    chunks[2], chunks[3] = chunks[3], chunks[2]  # each batch is sorted, the frame is not
    passed, metadata = validate_stored(stored_features(chunks, tmp_path), FeaturesContract)
    assert not passed and metadata["num_failures"] == 1
    (case,) = metadata["failure_cases"].value
    assert case == {"check": "rows increase in ['symbol', 'date']", "index": "900"}


@pytest.mark.usefixtures("small_batches")
def test_failures_inside_a_batch_name_rows_of_the_whole_frame(panel, tmp_path: Path):
    chunks = list(feature_chunks(panel, Settings(), chunk_symbols=1))
    chunks[4] = chunks[4].copy()
    chunks[4].loc[chunks[4].index[10], "volatility"] = -1.0  # row 4 * 300 + 10 of the frame
    passed, metadata = validate_stored(stored_features(chunks, tmp_path), FeaturesAudit)
    assert not passed and metadata["num_failures"] == 1
    (case,) = metadata["failure_cases"].value
    assert case["column"] == "volatility" and case["index"] == "1210"


@pytest.mark.usefixtures("small_batches")
def test_contracts_that_cannot_be_batched_are_validated_whole(panel, tmp_path: Path):
    long = closes_to_long(panel)
    stored = stored_features([long.iloc[:900], long.iloc[900:]], tmp_path)
    batches_read = []
    real_read = StoredFrame.read
    stored.read = lambda *a, **k: batches_read.append(1) or real_read(stored, *a, **k)
    passed, metadata = validate_stored(stored, ClosesContract)
    assert passed and metadata["num_rows"] == 1_800 and batches_read == [1]
