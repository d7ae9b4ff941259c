"""Large frames without holding them whole: written chunk by chunk, read by column and row.

- :class:`FrameChunks` is a frame produced as a sequence of pandas chunks (same columns and
  dtypes). :func:`write_frame_chunks` writes it as ONE Parquet file, a row group per chunk,
  atomically, holding one chunk at a time; it keeps a :class:`FrameSummary` and the content
  hash (:class:`~lakehouse.hashing.FrameHasher`) as the chunks go by.
- :class:`StoredFrame` is a stored Parquet frame read lazily: only the columns and rows a
  reader asks for (pyarrow scans with filters), or one batch of row groups at a time.

The IO manager writes a :class:`FrameChunks` output this way and hands a :class:`StoredFrame`
to inputs annotated with it (:mod:`lakehouse.io_manager`).
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec.asyn import sync

from lakehouse.commits import Audit
from lakehouse.hashing import FrameHasher
from lakehouse.location import arrow_source, is_remote, object_key
from lakehouse.sealing import FOOTER_TAIL_BYTES
from lakehouse.store import PARQUET_FILE, publish_parquet

SUMMARY_TAIL_ROWS = 10
"""Rows of the frame's end kept by :class:`FrameSummary` (a preview)."""
BATCH_ROWS = 2_000_000
"""Rows :meth:`StoredFrame.batches` aims at per batch (whole row groups, at least one)."""


@dataclass
class FrameSummary:
    """Counts of a frame seen chunk by chunk: rows, distinct symbols and dates, its last rows."""

    rows: int = 0
    symbols: set[str] = field(default_factory=set)
    dates: set[pd.Timestamp] = field(default_factory=set)
    tail: pd.DataFrame | None = None

    def update(self, chunk: pd.DataFrame) -> None:
        """Count ``chunk`` in."""
        self.rows += len(chunk)
        if "symbol" in chunk.columns:
            self.symbols.update(str(s) for s in chunk["symbol"].unique())
        if "date" in chunk.columns:
            self.dates.update(pd.Timestamp(d) for d in chunk["date"].unique())
        if len(chunk) or self.tail is None:
            end = chunk.tail(SUMMARY_TAIL_ROWS)
            joined = end if self.tail is None else pd.concat([self.tail, end])
            self.tail = joined.tail(SUMMARY_TAIL_ROWS).reset_index(drop=True)


@dataclass(frozen=True)
class FrameChunks:
    """A frame given as chunks, for the IO manager to write without holding it whole.

    Attributes
    ----------
    chunks : iterable of DataFrame
        The frame's rows in order, as frames with the same columns and dtypes (their index is
        ignored). Consumed once, lazily: a generator computes each chunk when it is written.
    describe : callable, optional
        Turns the :class:`FrameSummary` of what was written into output metadata.
    """

    chunks: Iterable[pd.DataFrame]
    describe: Callable[[FrameSummary], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class WrittenFrame:
    """What :func:`write_frame_chunks` wrote."""

    path: Path
    columns: list[str]
    summary: FrameSummary
    content_hash: str


def write_frame_chunks(
    chunks: Iterable[pd.DataFrame], folder: Path, audit: Audit | None = None
) -> WrittenFrame:
    """Write ``chunks`` as ``folder/part-0.parquet``, a row group per chunk, atomically.

    ``audit`` sees the written file before it is published (:func:`~lakehouse.commits.publish`).

    The schema is the first chunk's; later chunks are cast to it (a chunk that cannot be cast
    raises and nothing is published). The content hash equals
    :func:`~lakehouse.hashing.get_df_hash` of the concatenated frame.

    Raises
    ------
    ValueError
        No chunk at all (an empty frame is one empty chunk).
    """
    path = folder / PARQUET_FILE
    summary = FrameSummary()
    hasher = FrameHasher()
    columns: list[str] = []

    def tables() -> Iterator[pa.Table]:
        schema: pa.Schema | None = None
        for chunk in chunks:
            frame = chunk.reset_index(drop=True)
            if schema is None:
                schema = pa.Schema.from_pandas(frame, preserve_index=False)
                columns.extend(str(c) for c in frame.columns)
            summary.update(frame)
            hasher.update(frame)
            yield pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        if schema is None:
            raise ValueError(f"no chunks to write at {path}: give at least one (empty) frame")

    publish_parquet(path, tables(), row_group_per_table=True, audit=audit)
    return WrittenFrame(path, columns, summary, hasher.hexdigest())


class StoredFrame:
    """A Parquet frame in the lakehouse, read lazily: only the columns and rows asked for.

    Parameters
    ----------
    path : Path
        The ``part-0.parquet`` file.
    """

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no Parquet at {path}: has the asset been materialized?")
        self.path = path

    def __repr__(self) -> str:
        return f"StoredFrame({str(self.path)!r})"

    @property
    def _file(self) -> pq.ParquetFile:
        source, filesystem = arrow_source(self.path)
        return pq.ParquetFile(source, filesystem=filesystem)

    @property
    def num_rows(self) -> int:
        """Rows in the file (from its footer)."""
        return int(self._file.metadata.num_rows)

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return [str(name) for name in self._file.schema_arrow.names]

    def read_arrow(
        self, columns: Sequence[str] | None = None, rows: pc.Expression | None = None
    ) -> pa.Table:
        """The ``columns`` (default all) of the rows matching ``rows`` (default all), as Arrow."""
        names = None if columns is None else list(columns)
        source, filesystem = arrow_source(self.path)
        return pq.read_table(source, columns=names, filters=rows, filesystem=filesystem)

    def read(
        self, columns: Sequence[str] | None = None, rows: pc.Expression | None = None
    ) -> pd.DataFrame:
        """:meth:`read_arrow` as pandas (the dtypes ``pd.read_parquet`` gives)."""
        frame: pd.DataFrame = self.read_arrow(columns, rows).to_pandas()
        return frame

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
        """The whole frame in order, as frames of whole row groups of about ``batch_rows``."""
        file = self._file
        groups: list[int] = []
        rows = 0
        for group in range(file.num_row_groups):
            groups.append(group)
            rows += file.metadata.row_group(group).num_rows
            if rows >= batch_rows:
                yield file.read_row_groups(groups).to_pandas()
                groups, rows = [], 0
        if groups or file.num_row_groups == 0:
            yield file.read_row_groups(groups).to_pandas() if groups else self.read()


FOOTER_READ_BYTES = 64 * 1024
"""Bytes read from the end of an object for its footer (one request; a footer is a few KB)."""


@dataclass(frozen=True)
class ColumnSpan:
    """Rows of a stored Parquet file and the smallest and largest value of one column."""

    rows: int
    low: Any
    high: Any


def column_span(path: Path, column: str) -> ColumnSpan:
    """:class:`ColumnSpan` of ``column`` from the file's footer alone (no data page is read).

    The row count and each row group's min/max statistics (pyarrow writes them) are in the
    footer: one request for the end of an object on object storage. Raises ``ValueError`` if the
    column has no statistics, and what reading a damaged footer raises.
    """
    metadata = _footer(path)
    index = metadata.schema.names.index(column)
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max:
            raise ValueError(f"{path}: column {column!r} has no min/max statistics")
        lows.append(statistics.min)
        highs.append(statistics.max)
    return ColumnSpan(metadata.num_rows, min(lows, default=None), max(highs, default=None))


def _footer(path: Path) -> pq.FileMetaData:
    if not is_remote(path):
        return pq.read_metadata(path)
    bucket, key = object_key(path).split("/", 1)
    filesystem = path.fs  # type: ignore[attr-defined]
    tail: bytes = sync(filesystem.loop, _object_tail, filesystem, bucket, key)
    footer_length = int.from_bytes(tail[-FOOTER_TAIL_BYTES : -FOOTER_TAIL_BYTES + 4], "little")
    if footer_length + FOOTER_TAIL_BYTES > len(tail):  # a large footer: read it whole
        source, arrow_filesystem = arrow_source(path)
        return pq.read_metadata(source, filesystem=arrow_filesystem)
    return pq.read_metadata(pa.BufferReader(tail))


async def _object_tail(filesystem: Any, bucket: str, key: str) -> bytes:
    response = await filesystem._call_s3(
        "get_object", Bucket=bucket, Key=key, Range=f"bytes=-{FOOTER_READ_BYTES}"
    )
    body = response["Body"]
    try:
        tail: bytes = await body.read()
    finally:
        body.close()
    return tail
