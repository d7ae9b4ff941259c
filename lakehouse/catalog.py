"""DuckDB over the lakehouse: one read-only view per asset across its readable partitions.

Hive partitioning turns the folder names into VARCHAR columns, so ``run_id`` (run-scoped assets)
and ``symbol`` (``market_data``) can be filtered and grouped on like any other column::

    query("SELECT run_id, count(*) FROM features GROUP BY run_id", root=root)

JSON document assets (``run_manifest``, ``run_requests``, ``quarantine``, ``market_data_status``)
get a view too, one row per document (or per object of a document that is a list), with the
partition column from the path as well::

    query("SELECT symbol, reason FROM quarantine", root=root)

Their columns are the documents' top-level keys, typed from every document (not guessed from a
sample: JSON text that looks like a date or a time stays text): all strings VARCHAR, all whole
numbers BIGINT, all numbers DOUBLE, all booleans BOOLEAN, lists of one such type a list of it;
objects and anything mixed are DuckDB ``JSON`` (``settings->>'top_n'``).

What keeps it safe:

- **Damaged files are left out, one by one.** A view is built over the files whose Parquet magic
  bytes and footer length are sound (12 bytes read per file); if DuckDB still cannot build the
  view, every footer of that asset is parsed and the failing files are left out as well. A JSON
  document that does not parse is left out the same way (documents are small: each is read
  when its view is built). Left-out
  files are logged as a warning and listed in :attr:`AssetViews.damaged`, so a damaged file hides
  its own partition and nothing else. Damage inside the data pages is found only by a query that
  reads that file, and by :func:`lakehouse.integrity.scan`.
- **Connections are locked down.** Once the views exist, DuckDB may open files under the root
  only, and its configuration is locked so SQL cannot undo that. Its temporary folder (which
  DuckDB adds to the readable directories) is :data:`DUCKDB_TEMP_FOLDER` under the root, not
  ``<cwd>/.tmp``: no view can name it (not an asset name), and it is only created if a query
  spills to disk. Symbolic links are never followed into a view (:mod:`lakehouse.integrity`).
- **Queries are read-only.** :func:`query` accepts SELECT statements only (WITH, FROM-first,
  DESCRIBE, SHOW and SUMMARIZE are SELECTs to DuckDB): DuckDB would still let ``COPY ... TO``
  write inside the root.
- **A query builds only the views it names**, so ``SELECT 1`` or a query on one run's asset does
  not read the footers of 10,000 symbol files.
"""

import json
import logging
import re
import tempfile
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from lakehouse.integrity import (
    PARTITION_SEPARATOR,
    SMALLEST_PARQUET_BYTES,
    DamagedFile,
    asset_dirs,
    damaged_file,
    footer_problem,
    metadata_problem,
    partition_dirs,
)
from lakehouse.location import arrow_source, is_remote, lakehouse_root, object_key
from lakehouse.store import (
    JSON_FILE,
    PARQUET_FILE,
    PARTITION_FOLDER_KEYS,
    SYMBOL_PARTITIONS,
)

logger = logging.getLogger(__name__)

READ_STATEMENT = duckdb.StatementType.SELECT
SQL_WORD = re.compile(r"[a-z_][a-z0-9_]*")
CATALOG_LISTING_WORDS = frozenset({"show", "information_schema", "pg_catalog", "sqlite_master"})
"""Words of SQL that lists tables: such a query gets every view."""
CATALOG_FUNCTION_PREFIX = "duckdb_"
"""``duckdb_views()``, ``duckdb_tables()``, ``duckdb_columns()``: they also list the views."""
DAMAGED_LISTED_AT_MOST = 20
JSON_COLUMN = "JSON"
"""DuckDB type of a document key whose values are objects or of mixed types."""
BIGINT_RANGE = range(-(2**63), 2**63)
QUOTED_STATEMENT_CHARS = 80
DUCKDB_TEMP_FOLDER = "_duckdb_temp"
SCHEMA_READ_THREADS = 16
"""Footers read at once to unify the schema of a run-scoped asset on object storage."""
REMOTE_SPILL_FOLDER = "quant-duckdb"
"""Under the system's temporary folder: where DuckDB spills for a lakehouse on object storage."""
"""DuckDB's spill folder, under the root (``_`` first: never an asset, never a view)."""


class ReadOnlyQueryError(ValueError):
    """SQL that is not a SELECT: the lakehouse catalog only answers queries."""


@dataclass(frozen=True)
class AssetViews:
    """The readable Parquet files of each asset, and the files left out as damaged."""

    files: dict[str, list[Path]]
    """Asset name -> its readable ``part-0.parquet`` files (absolute paths, sorted)."""
    damaged: list[DamagedFile]
    documents: dict[str, list[Path]] = field(default_factory=dict)
    """Asset name -> its ``document.json`` files, for assets without Parquet files (sorted)."""
    sizes: dict[str, int] = field(default_factory=dict)
    """Object key -> size in bytes, of files on object storage (known from the listing)."""


def asset_views(root: str | Path, assets: Collection[str] | None = None) -> AssetViews:
    """List each asset's readable partition files; left-out files go to ``damaged``.

    Parameters
    ----------
    root : str or Path
        Lakehouse root.
    assets : str or collection of str, optional
        Only these asset names (names that are not stored assets are ignored); default all.
    """
    wanted = None if assets is None else frozenset([assets] if isinstance(assets, str) else assets)
    files: dict[str, list[Path]] = {}
    documents: dict[str, list[Path]] = {}
    damaged: list[DamagedFile] = []
    sizes: dict[str, int] = {}
    for asset_dir in asset_dirs(_absolute_root(root)):
        if wanted is not None and asset_dir.name not in wanted:
            continue
        if is_remote(asset_dir):
            _list_objects(asset_dir, files, documents, damaged, sizes)
            continue
        readable = []
        written = [asset_dir / JSON_FILE, *(d / JSON_FILE for d in partition_dirs(asset_dir))]
        for partition_dir in partition_dirs(asset_dir):
            path = partition_dir / PARQUET_FILE
            if path.is_symlink():
                damaged.append(damaged_file(path, "a symbolic link: planted, left out"))
                continue
            try:
                problem = footer_problem(path)
            except FileNotFoundError:
                continue  # an empty partition folder, or a write not yet published
            except OSError as error:
                problem = f"{type(error).__name__}: {error}"
            if problem is None:
                readable.append(path)
            else:
                damaged.append(damaged_file(path, problem))
        if readable:
            files[asset_dir.name] = readable
        elif listed := [path for path in written if path.is_file()]:
            documents[asset_dir.name] = listed
    return AssetViews(files, damaged, documents, sizes)


def _list_objects(
    asset_dir: Path,
    files: dict[str, list[Path]],
    documents: dict[str, list[Path]],
    damaged: list[DamagedFile],
    sizes: dict[str, int],
) -> None:
    """:func:`asset_views` of one asset on object storage, from one recursive listing.

    An object is never half-written (it appears when its upload completes), so a size check
    stands in for reading each file's ends; DuckDB's own refusal still leaves a bad file out.
    """
    key = object_key(asset_dir)
    listed = asset_dir.fs.find(key, detail=True)  # type: ignore[attr-defined]
    parquet, written = [], []
    for name, entry in sorted(listed.items()):
        relative = name[len(key) :].strip("/").split("/")
        partitioned = len(relative) == 2 and PARTITION_SEPARATOR in relative[0]
        if relative[-1] == JSON_FILE and (len(relative) == 1 or partitioned):
            written.append(asset_dir.joinpath(*relative))
        elif relative[-1] == PARQUET_FILE and partitioned:
            path = asset_dir.joinpath(*relative)
            if int(entry["size"]) < SMALLEST_PARQUET_BYTES:
                damaged.append(damaged_file(path, f"truncated Parquet file: {entry['size']} bytes"))
            else:
                parquet.append(path)
                sizes[name] = int(entry["size"])
    if parquet:
        files[asset_dir.name] = parquet
    elif written:
        documents[asset_dir.name] = written


def open_catalog(
    root: str | Path, assets: Collection[str] | None = None
) -> duckdb.DuckDBPyConnection:
    """Open a locked-down in-memory DuckDB connection with one view per stored asset.

    Only ``assets`` get a view when given. Damaged files are left out and logged as a warning.
    The connection reads files under ``root`` only and its settings cannot be changed; it can
    still run any statement, so give it only SQL written by the code (user SQL goes through
    :func:`query`).
    """
    con, damaged = _open(root, assets)
    _warn_about(damaged)
    return con


def query(sql: str, params: list[Any] | None = None, *, root: str | Path) -> pd.DataFrame:
    """Run read-only ``sql`` (with bound ``params``) against the catalog; return a DataFrame.

    Raises
    ------
    ReadOnlyQueryError
        If a statement of ``sql`` is not a SELECT (nothing is run).
    """
    refuse_writes(sql)
    con, damaged = _open(root, assets=_named_assets(sql))
    _warn_about(damaged)
    with con:
        return con.execute(sql, params or []).df()


def refuse_writes(sql: str) -> None:
    """Raise :class:`ReadOnlyQueryError` unless every statement of ``sql`` is a SELECT."""
    with duckdb.connect(":memory:") as parser:
        statements = parser.extract_statements(sql)
    if not statements:
        raise ReadOnlyQueryError("empty query: give one SELECT statement")
    for number, statement in enumerate(statements, start=1):
        if statement.type != READ_STATEMENT:
            text = " ".join(statement.query.split())[:QUOTED_STATEMENT_CHARS]
            raise ReadOnlyQueryError(
                f"statement {number} is {statement.type.name} ({text!r}): lakehouse queries are "
                "read-only, only SELECT statements are accepted (assets are written by runs)"
            )


def _open(
    root: str | Path, assets: Collection[str] | None
) -> tuple[duckdb.DuckDBPyConnection, list[DamagedFile]]:
    views = asset_views(root, assets)
    con = duckdb.connect(":memory:")
    root_path = _absolute_root(root)
    if is_remote(root_path):
        con.register_filesystem(root_path.fs)  # type: ignore[attr-defined]
    try:
        damaged = views.damaged + _create_views(con, views.files, views.sizes)
        damaged += _create_document_views(con, views.documents)
        _lock_down(con, root_path)
    except BaseException:
        con.close()
        raise
    return con, damaged


def _create_views(
    con: duckdb.DuckDBPyConnection, files: dict[str, list[Path]], sizes: dict[str, int]
) -> list[DamagedFile]:
    damaged: list[DamagedFile] = []
    for name, paths in files.items():
        damaged += _create_view(con, name, paths, sizes)
    return damaged


def _create_view(
    con: duckdb.DuckDBPyConnection, name: str, paths: list[Path], sizes: dict[str, int]
) -> list[DamagedFile]:
    """Create one view; if it cannot be, leave out the files whose footer does not parse.

    In a folder the view is DuckDB's ``read_parquet`` over the files. On object storage it is
    an Arrow dataset over them, scanned lazily by Arrow's S3 client (in parallel; the footer,
    then the columns a query needs in one coalesced request; sizes from the listing, so no
    request to learn them): see :func:`_dataset`.
    """
    create: Callable[[list[Path]], object]
    if paths and is_remote(paths[0]):
        errors: tuple[type[Exception], ...] = (OSError, pa.ArrowException)
        create = lambda files: con.register(name, _dataset(files, sizes))  # noqa: E731
    else:
        errors = (duckdb.Error,)
        create = lambda files: con.execute(_view_sql(name, files))  # noqa: E731
    try:
        create(paths)
    except errors as error:
        refused = [
            damaged_file(path, problem)
            for path in paths
            if (problem := metadata_problem(path)) is not None
        ]
        if not refused:
            error.add_note(f"while building the lakehouse view {name!r} over {len(paths)} files")
            raise
        left_out = {entry.path for entry in refused}
        readable = [path for path in paths if path not in left_out]
        if readable:
            create(readable)
        return refused
    return []


def _dataset(paths: list[Path], sizes: dict[str, int]) -> ds.Dataset:
    """An Arrow dataset over ``paths`` on object storage, with the partition column as text.

    The schema is every run's file's, unified by name (DuckDB's ``union_by_name``); files of
    symbols, all written by hydration with the same columns, take the first one's.
    """
    file_format = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=True)
    )
    fragments = []
    filesystem = None
    for path in paths:
        key, filesystem = arrow_source(path)
        partition_key, value = path.parent.name.split(PARTITION_SEPARATOR, 1)
        fragments.append(
            file_format.make_fragment(
                key,
                filesystem,
                partition_expression=pc.field(partition_key) == value,
                file_size=sizes.get(key),
            )
        )
    uniform = partition_key == PARTITION_FOLDER_KEYS[SYMBOL_PARTITIONS]
    inspected = fragments[:1] if uniform else fragments
    with ThreadPoolExecutor(SCHEMA_READ_THREADS) as pool:
        schemas = list(pool.map(lambda fragment: fragment.physical_schema, inspected))
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    if partition_key not in schema.names:  # else the file's own column, as DuckDB reads it
        schema = schema.append(pa.field(partition_key, pa.string()))
    return ds.FileSystemDataset(fragments, schema, file_format, filesystem)


def _view_sql(name: str, paths: list[Path]) -> str:
    listed = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)
    return (
        f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{listed}], '
        "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
    )


def _create_document_views(
    con: duckdb.DuckDBPyConnection, documents: dict[str, list[Path]]
) -> list[DamagedFile]:
    """One view per JSON document asset; documents that do not parse are left out."""
    damaged: list[DamagedFile] = []
    for name, paths in documents.items():
        rows: list[Any] = []
        readable: list[Path] = []
        for path in paths:
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # pruned meanwhile
            except (OSError, ValueError) as error:
                damaged.append(damaged_file(path, f"{type(error).__name__}: {error}"))
                continue
            rows += document if isinstance(document, list) else [document]
            readable.append(path)
        columns = _document_columns(rows, readable)
        if not columns:
            logger.debug("no view over %s: its documents are not objects with keys", name)
            continue
        sql = _document_view_sql(name, readable, columns)
        try:
            con.execute(sql)
        except duckdb.Error as error:
            error.add_note(f"while building the lakehouse view {name!r} over {len(readable)} files")
            raise
    return damaged


def _document_columns(rows: list[Any], paths: list[Path]) -> dict[str, str]:
    """DuckDB type of every top-level key of ``rows`` (see the module docstring).

    A key that the path already gives (``run_id=...``, ``symbol=...``) is left to the path.
    Empty when a row is not an object (a document that is a list of numbers, say): no view.
    """
    if not all(isinstance(row, dict) for row in rows):
        return {}
    from_path = {
        folder.name.split("=", 1)[0]
        for folder in (path.parent for path in paths)
        if "=" in folder.name
    }
    keys = dict.fromkeys(key for row in rows for key in row if key not in from_path)
    return {key: _sql_type([row.get(key) for row in rows]) for key in keys}


def _sql_type(values: list[Any]) -> str:
    """The DuckDB type that holds every one of ``values`` (parsed JSON) as it is."""
    present = [value for value in values if value is not None]
    if all(isinstance(value, str) for value in present):
        return "VARCHAR"
    if all(isinstance(value, bool) for value in present):
        return "BOOLEAN"
    numbers = [value for value in present if not isinstance(value, bool)]
    if len(numbers) == len(present) and all(isinstance(v, int) for v in numbers):
        return "BIGINT" if all(value in BIGINT_RANGE for value in numbers) else JSON_COLUMN
    if len(numbers) == len(present) and all(isinstance(v, int | float) for v in numbers):
        return "DOUBLE"
    if all(isinstance(value, list) for value in present):
        element = _sql_type([item for value in present for item in value])
        return JSON_COLUMN if element == JSON_COLUMN else f"{element}[]"
    return JSON_COLUMN


def _document_view_sql(name: str, paths: list[Path], columns: dict[str, str]) -> str:
    listed = ", ".join(_sql_text(str(path)) for path in paths)
    typed = ", ".join(f"{_sql_text(key)}: {_sql_text(kind)}" for key, kind in columns.items())
    return (
        f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_json([{listed}], '
        f"columns = {{{typed}}}, auto_detect = false, format = 'auto', "
        "hive_partitioning = true, hive_types_autocast = false)"
    )


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _lock_down(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    # DuckDB adds its temp folder to the readable directories: keep it inside the root (on
    # object storage, where DuckDB cannot spill, in a private local folder of its own).
    spill = Path(tempfile.gettempdir()) / REMOTE_SPILL_FOLDER if is_remote(root) else root
    con.execute("SET temp_directory = ?", [str(spill / DUCKDB_TEMP_FOLDER)])
    # DuckDB 2.0.1 refuses allowed_directories once external access is off: this order only.
    con.execute("SET allowed_directories = ?", [[str(root) + ("/" if is_remote(root) else "")]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _named_assets(sql: str) -> Collection[str] | None:
    """Words of ``sql`` that may name an asset, or ``None`` (every view) if it lists tables."""
    words = set(SQL_WORD.findall(sql.lower()))
    if words & CATALOG_LISTING_WORDS or any(
        word.startswith(CATALOG_FUNCTION_PREFIX) for word in words
    ):
        return None
    return words


def _absolute_root(root: str | Path) -> Path:
    return lakehouse_root(root)


def _warn_about(damaged: list[DamagedFile]) -> None:
    if not damaged:
        return
    listed = "; ".join(str(entry) for entry in damaged[:DAMAGED_LISTED_AT_MOST])
    more = len(damaged) - DAMAGED_LISTED_AT_MOST
    logger.warning(
        "left %d damaged file(s) out of the lakehouse views: %s%s. Their partitions read as "
        "absent; move them aside with lakehouse.integrity.quarantine_file and re-create them.",
        len(damaged),
        listed,
        f"; and {more} more" if more > 0 else "",
    )
