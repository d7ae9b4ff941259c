"""Integrity of stored files: find damaged Parquet and JSON files and move them aside.

Three depths of checking, cheapest first:

- :func:`footer_problem` reads 12 bytes of a Parquet file (the ``PAR1`` magic at both ends and
  the footer length). It finds truncated and empty files, about 6 us a file; the catalog runs it
  on every file before building a view.
- :func:`metadata_problem` also parses the footer (about 50 us a file): the catalog's fallback
  when DuckDB still refuses a file.
- :func:`read_problem` reads every row group of a Parquet file, or parses a JSON document:
  :func:`scan` runs it on every stored file (the base of ``quant doctor``).

A damaged file is never deleted: :func:`quarantine_file` moves it to
``<root>/_damaged/<asset>/<partition>/<timestamp>-<name>``, out of every view and listing, so the
partition can be re-created.
"""

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.hashing import file_sha256
from lakehouse.location import (
    arrow_source,
    is_remote,
    lakehouse_root,
    object_key,
    rename,
    subfolders,
)
from lakehouse.sealing import checksum_path, parquet_seal, recorded_checksums
from lakehouse.store import (
    ASSET_NAME_PATTERN,
    JSON_FILE,
    PARQUET_FILE,
    LakehouseStore,
    validate_asset_name,
)

DAMAGED_FOLDER = "_damaged"
"""Folder under the root holding quarantined files (not an asset: the name starts with ``_``)."""
STORED_FILES = (PARQUET_FILE, JSON_FILE)
PARTITION_SEPARATOR = "="
"""Hive partition folders are ``<key>=<value>``."""
PARQUET_MAGIC = b"PAR1"
FOOTER_LENGTH_BYTES = 4
"""A Parquet file ends with the footer's length (4 bytes, little-endian) and the magic."""
TAIL_BYTES = FOOTER_LENGTH_BYTES + len(PARQUET_MAGIC)
SMALLEST_PARQUET_BYTES = len(PARQUET_MAGIC) + TAIL_BYTES
QUARANTINE_STAMP = "%Y%m%d-%H%M%S-%f"

READ_ERRORS = (OSError, ValueError, pa.ArrowException)
"""What reading a damaged file raises (pyarrow, json and the operating system)."""


@dataclass(frozen=True)
class DamagedFile:
    """A stored file that cannot be read, and why.

    ``partition`` is the hive folder (``run_id=<id>`` or ``symbol=<SYM>``), ``None`` for an
    unpartitioned asset.
    """

    path: Path
    asset: str
    partition: str | None
    error: str

    @property
    def partition_key(self) -> str | None:
        """The partition's value (the run id or the symbol), ``None`` if unpartitioned."""
        if self.partition is None:
            return None
        return self.partition.split(PARTITION_SEPARATOR, 1)[1]

    def __str__(self) -> str:
        """One line naming the file and the error."""
        return f"{self.path}: {self.error}"


def footer_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete Parquet file by its first and last bytes, or ``None``.

    Raises ``FileNotFoundError`` if the file does not exist (e.g. not yet published).
    """
    if is_remote(path):
        size, head, tail = _object_ends(path)
        if size < SMALLEST_PARQUET_BYTES:
            return f"truncated Parquet file: {size} bytes"
    else:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(descriptor).st_size
            if size < SMALLEST_PARQUET_BYTES:
                return f"truncated Parquet file: {size} bytes"
            head = os.pread(descriptor, len(PARQUET_MAGIC), 0)
            tail = os.pread(descriptor, TAIL_BYTES, size - TAIL_BYTES)
        finally:
            os.close(descriptor)
    if head != PARQUET_MAGIC:
        return f"not a Parquet file: no {PARQUET_MAGIC!r} magic bytes at the start"
    if tail[FOOTER_LENGTH_BYTES:] != PARQUET_MAGIC:
        return f"truncated Parquet file: no {PARQUET_MAGIC!r} magic bytes at the end ({size} bytes)"
    footer_length = int.from_bytes(tail[:FOOTER_LENGTH_BYTES], "little")
    if footer_length + SMALLEST_PARQUET_BYTES > size:
        return f"truncated Parquet file: footer of {footer_length} bytes in a {size}-byte file"
    return None


def _object_ends(path: Path) -> tuple[int, bytes, bytes]:
    """Size, first bytes and last bytes of a remote object (:func:`footer_problem`)."""
    key, filesystem = object_key(path), path.fs  # type: ignore[attr-defined]
    size = int(filesystem.size(key))
    if size < SMALLEST_PARQUET_BYTES:
        return size, b"", b""
    head = filesystem.cat_file(key, 0, len(PARQUET_MAGIC))
    return size, head, filesystem.cat_file(key, size - TAIL_BYTES, size)


def metadata_problem(path: Path) -> str | None:
    """Why the Parquet footer of ``path`` cannot be parsed, or ``None``."""
    try:
        source, filesystem = arrow_source(path)
        pq.read_metadata(source, filesystem=filesystem)
    except READ_ERRORS as error:
        return _described(error)
    return None


def read_problem(path: Path) -> str | None:
    """Why ``path`` (a stored Parquet or JSON file) cannot be fully read, or ``None``."""
    try:
        if path.name == JSON_FILE:
            json.loads(path.read_text(encoding="utf-8"))
        else:
            source, filesystem = arrow_source(path)
            parquet = pq.ParquetFile(source, filesystem=filesystem)
            for row_group in range(parquet.num_row_groups):
                parquet.read_row_group(row_group)
    except READ_ERRORS as error:
        return _described(error)
    return None


def asset_dirs(root: Path) -> list[Path]:
    """Folders of ``root`` named like assets (so not ``_damaged``), sorted."""
    return [folder for folder in _sorted_dirs(root) if ASSET_NAME_PATTERN.fullmatch(folder.name)]


def partition_dirs(asset_dir: Path) -> list[Path]:
    """Hive partition folders (``<key>=<value>``) of an asset folder, sorted."""
    return [folder for folder in _sorted_dirs(asset_dir) if PARTITION_SEPARATOR in folder.name]


def stored_files(root: str | Path) -> Iterator[Path]:
    """Every stored Parquet and JSON file, partitioned or not, in sorted order."""
    for asset_dir in asset_dirs(LakehouseStore(root).root):
        yield from _files_in(asset_dir)
        for partition_dir in partition_dirs(asset_dir):
            yield from _files_in(partition_dir)


def damaged_file(path: Path, error: str) -> DamagedFile:
    """Describe the stored file ``path`` (``<root>/<asset>/[<partition>/]<name>``) as damaged."""
    folder = path.parent
    if PARTITION_SEPARATOR in folder.name:
        return DamagedFile(path, folder.parent.name, folder.name, error)
    return DamagedFile(path, folder.name, None, error)


def scan(root: str | Path) -> list[DamagedFile]:
    """Fully read every stored Parquet and JSON file under ``root``; return the damaged ones.

    Reads everything (about as long as loading the whole lakehouse once); quarantined files
    under ``_damaged`` are not scanned.
    """
    damaged = []
    for path in stored_files(root):
        problem = read_problem(path) or checksum_problem(path)
        if problem is not None:
            damaged.append(damaged_file(path, problem))
    return damaged


def checksum_problem(path: Path) -> str | None:
    """Why ``path`` is not the data the store wrote for its place, or None.

    A Parquet file is judged by :func:`~lakehouse.sealing.parquet_seal` (the checksum in its
    footer, or an older file's sidecar, and the asset and partition it was written for); a JSON
    document by its sidecar. A file without any checksum is a finding, never a pass: nothing
    says it is what the store wrote.
    """
    if path.name == PARQUET_FILE:
        try:
            seal = parquet_seal(path)
        except READ_ERRORS as error:
            return _described(error)
        if seal.sound:
            return None
        return f"{seal.detail} ({seal.state}: {_SEAL_CAUSES[seal.state]})"
    recorded = recorded_checksums(path)
    if not recorded:
        return f"no checksum recorded with the data ({_SEAL_CAUSES['unsealed']})"
    if file_sha256(path) in recorded:  # the latest write, or the one before it (cut short)
        return None
    return (
        "content differs from the checksum recorded when it was written (changed outside the "
        "platform, or a write was interrupted)"
    )


_SEAL_CAUSES = {
    "unsealed": "written outside the platform, or its record was lost; re-create it",
    "tampered": "changed outside the platform, or a write was interrupted",
    "misplaced": "another partition's file copied over this one",
}


def quarantine_file(path: str | Path, now: datetime | None = None) -> Path:
    """Move a damaged stored file to ``<root>/_damaged/<asset>/<partition>/<stamp>-<name>``.

    The move is one :func:`~lakehouse.location.rename`, so the file is either in place or
    quarantined (on object storage, briefly both), never lost; an emptied partition folder is
    removed so the partition reads as absent and can be re-created. Returns the new path.

    Raises
    ------
    ValueError
        If ``path`` is not a stored file of the lakehouse layout.
    FileExistsError
        If the quarantine destination is taken (nothing is moved).
    """
    path = lakehouse_root(path)
    if path.name not in STORED_FILES:
        raise ValueError(f"{path} is not a stored lakehouse file (expected one of {STORED_FILES})")
    described = damaged_file(path, "")
    partition_dir = path.parent if described.partition is not None else None
    asset_dir = path.parent.parent if partition_dir is not None else path.parent
    validate_asset_name(described.asset)
    root = asset_dir.parent
    destination_dir = root / DAMAGED_FOLDER / described.asset
    if described.partition is not None:
        destination_dir = destination_dir / described.partition
    stamp = (now or datetime.now(UTC)).strftime(QUARANTINE_STAMP)
    destination = destination_dir / f"{stamp}-{path.name}"
    if not path.is_file():
        raise FileNotFoundError(f"nothing to quarantine at {path}")
    if destination.exists():
        raise FileExistsError(f"quarantine destination {destination} exists; nothing was moved")
    rename(path, destination)
    sidecar = checksum_path(path)
    if sidecar.exists():  # the record goes with the file it describes
        rename(sidecar, checksum_path(destination))
    if partition_dir is not None:
        _remove_if_empty(partition_dir)
    return destination


def planted_links(root: str | Path) -> list[Path]:
    """Symbolic links where the lakehouse has asset or partition folders or stored files, sorted.

    The store never writes one: a link was planted (it could point anywhere). Listings and
    views leave them out (:func:`asset_dirs`, :func:`partition_dirs`, :func:`stored_files`).
    """
    base = LakehouseStore(root).root
    if is_remote(base):  # object storage has no links
        return []
    found = [
        path
        for path in _entries(base)
        if path.is_symlink() and ASSET_NAME_PATTERN.fullmatch(path.name)
    ]
    for asset_dir in asset_dirs(base):
        found += [path for path in _entries(asset_dir) if path.is_symlink()]
        for folder in [asset_dir, *partition_dirs(asset_dir)]:
            found += [folder / name for name in STORED_FILES if (folder / name).is_symlink()]
    return sorted(found)


def quarantine_link(path: str | Path, now: datetime | None = None) -> Path:
    """Move a planted symbolic link (not its target) under ``<root>/_damaged/``; the new path."""
    link = Path(path).absolute()
    if not link.is_symlink():
        raise ValueError(f"{link} is not a symbolic link")
    if link.name in STORED_FILES:
        described = damaged_file(link, "")
        root = link.parent.parent if described.partition is None else link.parent.parent.parent
        destination_dir = root / DAMAGED_FOLDER / described.asset / (described.partition or "")
    elif PARTITION_SEPARATOR in link.name:
        root = link.parent.parent
        destination_dir = root / DAMAGED_FOLDER / link.parent.name
    else:
        root = link.parent
        destination_dir = root / DAMAGED_FOLDER
    stamp = (now or datetime.now(UTC)).strftime(QUARANTINE_STAMP)
    destination = destination_dir / f"{stamp}-{link.name}"
    destination_dir.mkdir(parents=True, exist_ok=True)
    os.replace(link, destination)
    return destination


def _files_in(folder: Path) -> Iterator[Path]:
    for name in STORED_FILES:
        path = folder / name
        if path.is_file() and (is_remote(path) or not path.is_symlink()):
            yield path


def _entries(folder: Path) -> list[Path]:
    if is_remote(folder) or not folder.is_dir():  # object storage has no links
        return []
    with os.scandir(folder) as entries:
        return [Path(entry.path) for entry in entries]


def _sorted_dirs(folder: Path) -> list[Path]:
    """Real sub-folders of ``folder`` (a symbolic link to a folder is not one), sorted."""
    return subfolders(folder)


def _remove_if_empty(folder: Path) -> None:
    if is_remote(folder):  # a prefix without objects does not exist
        return
    with contextlib.suppress(OSError):  # not empty (another file, a temp file): leave it
        folder.rmdir()


def _described(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
