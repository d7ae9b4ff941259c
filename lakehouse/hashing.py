"""Content hashes: of frames (surviving a Parquet round trip) and of stored files' bytes."""

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FILE_HASH_CHUNK = 1 << 20
"""Bytes read at a time when hashing a file."""
HASH_FLOAT_DECIMALS = 10
"""Floats are rounded to this many decimals before hashing, so storage noise does not matter."""
TEXT_SEPARATOR = b"\x1f"
"""Between two values of a text column."""
MISSING_TEXT = "<NA>"


def get_df_hash(df: pd.DataFrame) -> str:
    """Return a SHA-256 hex digest of ``df``'s content.

    The hash ignores column order (columns are sorted by name) and the index type details that a
    Parquet round trip may change: the index is reset into columns, floats are rounded to
    :data:`HASH_FLOAT_DECIMALS` decimals (``-0.0`` becomes ``0.0``, every NaN is the same),
    datetimes are hashed as UTC nanoseconds, and everything else by its string form. It is the
    digest of the row count and, per column, of the column's name and content hash
    (:class:`FrameHasher`), so a frame hashed chunk by chunk gets the same value.
    """
    frame = df.reset_index() if _has_named_or_meaningful_index(df) else df
    hasher = FrameHasher()
    hasher.update(frame)
    return hasher.hexdigest()


class FrameHasher:
    """:func:`get_df_hash` of a frame seen in chunks (same columns in each, index ignored)."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns: dict[str, Any] = {}

    def update(self, chunk: pd.DataFrame) -> None:
        """Hash the rows of ``chunk`` after the rows seen so far."""
        for name in chunk.columns:
            key = str(name)
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = hashlib.sha256()
            elif self.rows and len(chunk) and _is_text(chunk[name]):
                column.update(TEXT_SEPARATOR)  # between the previous chunk's text and this one
            column.update(_column_bytes(chunk[name]))
        self.rows += len(chunk)

    def hexdigest(self) -> str:
        """The digest of everything seen."""
        digest = hashlib.sha256()
        digest.update(f"rows={self.rows}".encode())
        for name in sorted(self.columns):
            digest.update(f"|{name}|".encode())
            digest.update(self.columns[name].digest())
        return digest.hexdigest()


def _has_named_or_meaningful_index(df: pd.DataFrame) -> bool:
    index = df.index
    is_default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    return not is_default or any(name is not None for name in index.names)


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return not (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_float_dtype(dtype)
        or pd.api.types.is_integer_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


def _column_bytes(column: pd.Series) -> bytes:
    if pd.api.types.is_bool_dtype(column.dtype):
        return bytes(column.to_numpy(dtype=np.uint8, na_value=2).tobytes())
    if pd.api.types.is_float_dtype(column.dtype):
        values = np.round(column.to_numpy(dtype=np.float64, na_value=np.nan), HASH_FLOAT_DECIMALS)
        values = np.where(np.isnan(values), np.nan, values + 0.0)
        return bytes(values.tobytes())
    if pd.api.types.is_integer_dtype(column.dtype):
        return bytes(column.to_numpy(dtype=np.int64).tobytes())
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        stamps = column.dt.tz_convert("UTC") if column.dt.tz is not None else column
        return bytes(stamps.astype("datetime64[ns]").to_numpy().view(np.int64).tobytes())
    if isinstance(column.dtype, pd.StringDtype) and len(column):
        # Arrow joins the values in C: the same bytes as the generic path, without a Python loop.
        stored = pa.Table.from_pandas(column.to_frame(), preserve_index=False).column(0)
        text = stored.combine_chunks().cast(pa.large_string()).fill_null(MISSING_TEXT)
        whole = pa.LargeListArray.from_arrays(pa.array([0, len(text)], pa.int64()), text)
        joined = pc.binary_join(whole, pa.scalar(TEXT_SEPARATOR.decode(), pa.large_string()))[0]
        return bytes(joined.as_buffer())
    separator = TEXT_SEPARATOR.decode()
    return separator.join(MISSING_TEXT if pd.isna(v) else str(v) for v in column).encode()


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(FILE_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
