"""Frames written chunk by chunk and read lazily equal the same frame written and read whole."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakehouse import LakehouseStore, get_df_hash
from lakehouse.frames import FrameChunks, StoredFrame, write_frame_chunks


def frame(rows: int = 1_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=rows // 4).astype("datetime64[ns]")
    values = rng.normal(size=rows)
    values[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "symbol": pd.Series([f"S{i // (rows // 4)}" for i in range(rows)]).astype(str),
            "date": np.tile(dates, 4),
            "value": values,
        }
    )


def chunks_of(whole: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    bounds = np.cumsum([0, *sizes])
    return [whole.iloc[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("sizes", [[1_000], [250, 250, 250, 250], [0, 1, 0, 599, 400]])
def test_chunked_write_equals_the_whole_write(tmp_path: Path, sizes: list[int]):
    whole = frame()
    written = write_frame_chunks(chunks_of(whole, sizes), tmp_path / "chunked")
    LakehouseStore(tmp_path).write_frame(whole, tmp_path / "whole")
    chunked = pd.read_parquet(written.path)
    pd.testing.assert_frame_equal(chunked, pd.read_parquet(tmp_path / "whole" / "part-0.parquet"))
    pd.testing.assert_frame_equal(chunked, whole)
    assert written.content_hash == get_df_hash(whole)
    assert written.summary.rows == len(whole) and written.columns == list(whole.columns)
    assert written.summary.symbols == set(whole["symbol"])
    assert written.summary.dates == set(whole["date"])
    pd.testing.assert_frame_equal(written.summary.tail, whole.tail(10).reset_index(drop=True))
    nonempty = [s for s in sizes if s]
    assert pq.ParquetFile(written.path).num_row_groups == len(nonempty)


def test_a_chunk_that_does_not_fit_the_schema_publishes_nothing(tmp_path: Path):
    good = frame()
    bad = good.assign(value="text")
    with pytest.raises(Exception, match="value"):
        write_frame_chunks([good, bad], tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary file


def test_stored_frame_reads_columns_rows_and_batches(tmp_path: Path):
    whole = frame(4_000)
    written = write_frame_chunks(chunks_of(whole, [1_000] * 4), tmp_path)
    stored = StoredFrame(written.path)
    assert stored.num_rows == 4_000 and stored.columns == ["symbol", "date", "value"]
    some = stored.read(["symbol", "value"], pc.field("symbol") == "S2")
    expected = whole.loc[whole["symbol"] == "S2", ["symbol", "value"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    batches = list(stored.batches(batch_rows=1_500))
    assert [len(b) for b in batches] == [2_000, 2_000]  # whole row groups
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)


def test_stored_frame_of_nothing_says_what_is_missing(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="materialized"):
        StoredFrame(tmp_path / "part-0.parquet")


def test_frame_chunks_are_consumed_lazily(tmp_path: Path):
    made: list[int] = []

    def generate():
        for i in range(3):
            made.append(i)
            yield frame(400, seed=i)

    chunks = FrameChunks(generate())
    assert made == []
    write_frame_chunks(chunks.chunks, tmp_path)
    assert made == [0, 1, 2]
