"""The lakehouse store: hive-partitioned Parquet files and JSON documents, in a folder or a bucket.

Layout (``root`` is the caller's ``settings.data_root``: a folder or an ``s3://`` URL, see
:mod:`lakehouse.location`)::

    <root>/<asset>/run_id=<id>/part-0.parquet     run-scoped frames
    <root>/<asset>/run_id=<id>/document.json      run-scoped documents
    <root>/market_data/symbol=<SYM>/part-0.parquet hydrated symbols

Every write is one commit (:mod:`lakehouse.commits`): written under a temporary name, then
published whole (``os.replace``, or one ``PUT`` on object storage), so a reader never sees a
half-written file; a rewrite of a file the writer read first is conditional on it being
unchanged (no lost updates). Run ids and symbols are validated before any path is built from
them.

**Checksums travel with the data** (:mod:`lakehouse.sealing`): a Parquet file is sealed with
the checksum of its data and its identity in its footer (:func:`publish_parquet`); a JSON
document keeps a record written BEFORE it, which also names the previous document's checksum,
so a write cut between the two leaves the previous document, whole and recognised.

A write that fails (a full disk, a read-only file system) raises
:class:`~lakehouse.commits.LakehouseWriteError` naming the file and the operating system's reason.
"""

import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import ArrowException

from lakehouse.commits import (
    UNCONDITIONAL,
    Audit,
    naming_the_file,
    publish,
    write_text,
)
from lakehouse.identifiers import validate_run_id, validate_symbol
from lakehouse.location import (
    arrow_source,
    is_remote,
    lakehouse_root,
    remove_tree,
    stored_bytes,
    subfolders,
)
from lakehouse.sealing import (
    Seal,
    SealedParquetWriter,
    checksum_path,
    parquet_identity,
    parquet_seal,
    recorded_checksum,
)

PARQUET_FILE = "part-0.parquet"
JSON_FILE = "document.json"
MARKET_DATA = "market_data"
RUN_MANIFEST = "run_manifest"
"""The run-scoped document of what a run used: settings, inputs, code (the provenance)."""
ASSET_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
RUN_ID_PARTITIONS = "run_id"
"""Name of the Dagster partitions of run-scoped assets (one per run id); also their folder key."""
SYMBOL_PARTITIONS = "symbols"
"""Name of the Dagster partitions of ``market_data`` (one per symbol)."""
RUN_ID_FOLDER_KEY = "run_id"
PARTITION_FOLDER_KEYS = {RUN_ID_PARTITIONS: RUN_ID_FOLDER_KEY, SYMBOL_PARTITIONS: "symbol"}
"""Partitions name -> hive key of its folders (``run_id=<id>``, ``symbol=<SYM>``)."""
READ_ERRORS = (OSError, ValueError, ArrowException)
"""What reading a damaged Parquet file (or its footer) raises."""
PLAIN_DTYPES = frozenset(np.dtype(name) for name in ("float64", "int64", "bool", "datetime64[ns]"))
"""Column dtypes a frame may have to be written without pandas metadata (:func:`is_plain_frame`)."""
REJECTED_FOLDER = "_rejected"
"""Where frames that broke their structural contract are kept for inspection (not an asset)."""


def validate_asset_name(name: str) -> str:
    """Return ``name`` if it is a safe lowercase asset folder name, else raise ``ValueError``."""
    if not ASSET_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"invalid asset name {name!r}: use lowercase letters, digits and _")
    return name


class LakehouseStore:
    """Reads and writes the lakehouse's Parquet frames and JSON documents under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = lakehouse_root(root)

    # Paths ----------------------------------------------------------------------------------

    def asset_dir(self, asset: str) -> Path:
        """Folder holding every partition of ``asset``."""
        return self.root / validate_asset_name(asset)

    def run_dir(self, asset: str, run_id: str) -> Path:
        """Folder of one run's partition of ``asset``."""
        return self.asset_dir(asset) / f"run_id={validate_run_id(run_id)}"

    def rejected_dir(self, asset: str, run_id: str) -> Path:
        """Where a run's frame of ``asset`` that broke its contract is kept (never a view)."""
        return (
            self.root
            / REJECTED_FOLDER
            / validate_asset_name(asset)
            / (f"run_id={validate_run_id(run_id)}")
        )

    def symbol_dir(self, symbol: str, asset: str = MARKET_DATA) -> Path:
        """Folder of one symbol's partition of ``asset`` (``market_data`` by default)."""
        return self.asset_dir(asset) / f"symbol={validate_symbol(symbol)}"

    def symbol_path(self, symbol: str) -> Path:
        """Parquet file of one hydrated symbol."""
        return self.symbol_dir(symbol) / PARQUET_FILE

    # Frames and documents -------------------------------------------------------------------

    def write_frame(
        self,
        df: pd.DataFrame,
        folder: Path,
        metadata: Mapping[str, str] | None = None,
        audit: Audit | None = None,
        expected: str | None = UNCONDITIONAL,
    ) -> Path:
        """Atomically write ``df`` as ``folder/part-0.parquet`` and return the path.

        ``metadata`` goes into the footer beside the checksum and identity (e.g. where the data
        came from). Float columns are not dictionary-encoded (prices rarely repeat: the
        dictionary only costs time and bytes: :func:`dictionary_columns`). ``audit`` sees the
        written file before it is published; ``expected`` makes the commit conditional
        (:func:`lakehouse.commits.publish`).
        """
        path = folder / PARQUET_FILE
        publish_parquet(path, [frame_to_arrow(df)], metadata, audit=audit, expected=expected)
        return path

    def read_frame(self, folder: Path) -> pd.DataFrame:
        """Read ``folder/part-0.parquet``.

        Raises
        ------
        FileNotFoundError
            Nothing is stored there.
        DamagedFileError
            The file cannot be read (cut short, overwritten with something else).
        """
        path = folder / PARQUET_FILE
        if not path.exists():
            raise FileNotFoundError(f"no Parquet at {path}: has the asset been materialized?")
        try:
            source, filesystem = arrow_source(path)
            return pd.read_parquet(source, engine="pyarrow", filesystem=filesystem)
        except (OSError, ValueError, ArrowException) as error:
            raise DamagedFileError(path, error) from error

    def read_sealed_frame(
        self, folder: Path, contents: bytes | None = None
    ) -> tuple[pd.DataFrame, "Seal"]:
        """``folder/part-0.parquet`` and its :func:`parquet_seal`, from one read of the file.

        ``contents`` are the file's bytes if the caller read them already.

        Raises
        ------
        FileNotFoundError
            Nothing is stored there.
        DamagedFileError
            The file cannot be read, or its footer cannot be parsed.
        """
        path = folder / PARQUET_FILE
        contents = stored_bytes(path) if contents is None else contents
        try:
            frame = pd.read_parquet(io.BytesIO(contents), engine="pyarrow")
            return frame, parquet_seal(path, contents)
        except READ_ERRORS as error:
            raise DamagedFileError(path, error) from error

    def write_document(self, document: Any, folder: Path) -> Path:
        """Atomically write a JSON-ready ``document`` as ``folder/document.json``."""
        path = folder / JSON_FILE
        text = json.dumps(document, indent=2, sort_keys=True, default=_json_default) + "\n"
        data = text.encode("utf-8")
        record = f"{hashlib.sha256(data).hexdigest()}  {path.name}\n"
        previous = recorded_checksum(path) if path.exists() else None
        if previous is not None:  # the document now, until this write commits it
            record += f"{previous}  {path.name} (previous)\n"
        with naming_the_file(path):
            publish(checksum_path(path), lambda tmp: write_text(tmp, record, "utf-8"))
            publish(path, lambda tmp: Path(tmp).write_bytes(data))
        return path

    def has_document(self, folder: Path) -> bool:
        """Whether ``folder/document.json`` exists."""
        return (folder / JSON_FILE).exists()

    def read_document(self, folder: Path) -> Any:
        """Read ``folder/document.json``."""
        path = folder / JSON_FILE
        if not path.exists():
            raise FileNotFoundError(f"no JSON document at {path}")
        return json.loads(path.read_text(encoding="utf-8"))

    # Listing and pruning --------------------------------------------------------------------

    def symbols(self) -> list[str]:
        """Every hydrated symbol, sorted."""
        return sorted(_partition_values(self.asset_dir(MARKET_DATA), "symbol"))

    def run_ids(self) -> list[str]:
        """Every run id with at least one stored asset, sorted oldest first."""
        found: set[str] = set()
        for asset_dir in subfolders(self.root):
            found.update(_partition_values(asset_dir, PARTITION_FOLDER_KEYS[RUN_ID_PARTITIONS]))
        return sorted(found)

    def delete_run(self, run_id: str) -> list[Path]:
        """Remove every asset partition of ``run_id``; return the folders removed."""
        validate_run_id(run_id)
        removed = []
        for asset_dir in subfolders(self.root):
            folder = asset_dir / f"run_id={run_id}"
            if folder in subfolders(asset_dir):
                remove_tree(folder)
                removed.append(folder)
        return removed


def _partition_values(asset_dir: Path, key: str) -> Iterator[str]:
    prefix = f"{key}="
    for child in subfolders(asset_dir):
        if child.name.startswith(prefix):
            yield child.name[len(prefix) :]


class DamagedFileError(OSError):
    """A stored file that cannot be read; the message names it and says how to repair it."""

    def __init__(self, path: Path, error: BaseException) -> None:
        self.path = path
        super().__init__(
            f"stored file {path} is damaged ({type(error).__name__}: {error}); run `quant doctor` "
            "to list and repair damaged files (a market_data symbol is re-hydrated, a run's "
            "asset is re-materialized by `quant run --run-id <id>`)"
        )


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """``df`` as an Arrow table that ``pd.read_parquet`` gives back equal to ``df``.

    A plain frame (see :func:`is_plain_frame`: market data) is converted column by column,
    without the pandas metadata pyarrow would otherwise work out (half the time of writing ten
    years of daily bars); any other frame goes through ``pa.Table.from_pandas``. Missing values
    are nulls either way (NaN and NaT, as pandas writes them).
    """
    if not is_plain_frame(df):
        return pa.Table.from_pandas(df)
    return pa.table(
        {name: pa.array(column.to_numpy(), from_pandas=True) for name, column in df.items()}
    )


def is_plain_frame(df: pd.DataFrame) -> bool:
    """Whether ``df`` reads back from Parquet equal without pandas metadata.

    True for a default index (``RangeIndex`` from 0 by 1, unnamed), unnamed unique string
    column labels and only float64, int64, bool or datetime64[ns] columns.
    """
    index, columns = df.index, df.columns
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
        and columns.name is None
        and columns.is_unique
        and all(isinstance(label, str) for label in columns)
        and all(dtype in PLAIN_DTYPES for dtype in df.dtypes)
    )


def publish_parquet(
    path: Path,
    tables: Iterable[pa.Table],
    metadata: Mapping[str, str] | None = None,
    *,
    row_group_per_table: bool = False,
    audit: Audit | None = None,
    expected: str | None = UNCONDITIONAL,
) -> None:
    """Write ``tables`` (the schema of the first) as the sealed Parquet file ``path``, atomically.

    ``audit`` sees the sealed file under its temporary name before it is published, and
    ``expected`` makes the commit conditional (:func:`lakehouse.commits.publish`).

    Empty tables add no row group. The footer holds the data's checksum, the identity of
    ``path`` (:func:`parquet_identity`) and ``metadata``; one commit publishes it, then an
    older file's sidecar is removed (the checksum is inside now).

    Raises
    ------
    ValueError
        ``tables`` is empty (give at least one, possibly empty, table).
    LakehouseWriteError
        The file could not be written (nothing is published).
    """
    sealed = {**(metadata or {}), **parquet_identity(path)}

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            writer: SealedParquetWriter | None = None
            try:
                for table in tables:
                    if writer is None:
                        writer = SealedParquetWriter(stream, table.schema)
                    if table.num_rows:
                        size = table.num_rows if row_group_per_table else None
                        writer.write_table(table, row_group_size=size)
                if writer is None:
                    raise ValueError(f"no table to write at {path}: give at least one")
                writer.close(sealed)
            except BaseException:
                if writer is not None:
                    writer.abort()
                raise

    with naming_the_file(path):
        publish(path, write, audit=audit, expected=expected)
        if not is_remote(path):  # only local lakehouses predate checksums in the footer
            checksum_path(path).unlink(missing_ok=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
