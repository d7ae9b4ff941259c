"""Where the lakehouse lives: a local folder, or a URL on object storage (``s3://bucket/prefix``).

:func:`lakehouse_root` turns ``settings.data_root`` into the root path every part of the
platform builds its paths from: a :class:`pathlib.Path` (absolute) for a folder or a
``file://`` URL, a :class:`upath.UPath` over an `fsspec <https://filesystem-spec.readthedocs.io>`_
filesystem for object storage. A ``UPath`` has the ``pathlib`` API (``/``, ``name``, ``parent``,
``exists``, ``iterdir``, ``open``...), so the store's code is the same on both; what object
storage does differently (no rename, conditional writes, ranged reads) is decided in
:mod:`lakehouse.store` and :mod:`lakehouse.integrity` by :func:`is_remote`.

Credentials and the endpoint come from the standard places of the provider's SDK (for S3:
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``, ``AWS_PROFILE`` and
``~/.aws/credentials``), never from a URL or a setting: settings are logged and stored with
every run, so a URL carrying a secret is refused.

Listings are never cached (``use_listings_cache=False``): another process (a backfill, the
daemon) writes the same bucket, and a stale listing would hide its partitions.
"""

import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pyarrow.fs as pafs
from upath import UPath

LOCAL_SCHEME = "file"
OBJECT_STORE_SCHEMES = {"s3": "s3fs", "s3a": "s3fs"}
"""URL schemes the lakehouse runs on, and the package that implements each (PyPI name).

Only S3 (and S3-compatible stores: MinIO, Ceph, R2, moto) is supported: commits rely on its
conditional writes (``If-None-Match``/``If-Match``, :mod:`lakehouse.store`)."""
URL_MARK = "://"
REMOTE_WORK_FOLDER = "quant-work"


class StorageLocationError(ValueError):
    """``data_root`` names storage the lakehouse cannot use; the message says what to do."""


def is_url(data_root: str | Path) -> bool:
    """Whether ``data_root`` is written as a URL (``scheme://...``), or is a remote path."""
    return is_remote(data_root) if not isinstance(data_root, str) else URL_MARK in data_root


def validate_data_root(data_root: str | Path) -> str | Path:
    """``data_root`` as settings keep it: a folder as a ``Path``, a URL as checked text.

    Raises
    ------
    StorageLocationError
        An unsupported scheme, a URL without a bucket, or a URL carrying credentials.
    """
    if not is_url(data_root):
        return Path(data_root)
    text = str(data_root).rstrip("/")  # a remote path's str() is its URL
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == LOCAL_SCHEME:
        return Path(parts.path)
    if scheme not in OBJECT_STORE_SCHEMES:
        known = ", ".join(f"{name}://" for name in OBJECT_STORE_SCHEMES)
        raise StorageLocationError(
            f"data_root {text!r}: unsupported storage {scheme}://; use a folder, file://, or "
            f"object storage at {known} (S3-compatible stores too: set AWS_ENDPOINT_URL)"
        )
    if parts.username or parts.password or parts.query:
        raise StorageLocationError(
            f"data_root {parts.scheme}://{parts.hostname}{parts.path}: the URL carries "
            "credentials or options; settings are logged and stored with every run, so give "
            "credentials the standard way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "~/.aws/credentials) and the endpoint in AWS_ENDPOINT_URL"
        )
    if not parts.netloc:
        raise StorageLocationError(
            f"data_root {text!r} names no bucket: write it as {scheme}://<bucket>[/<prefix>]"
        )
    return text


def lakehouse_root(data_root: str | Path) -> Path:
    """The root path of the lakehouse at ``data_root`` (see the module docstring).

    A folder is made absolute (``resolve``); a URL becomes a ``UPath`` on its filesystem. The
    ``UPath`` is typed as ``Path``: the store uses only the ``pathlib`` API both share, and asks
    :func:`is_remote` for the rest.
    """
    if is_remote(data_root):
        return cast(Path, data_root)
    checked = validate_data_root(data_root)
    if isinstance(checked, Path):
        return checked.resolve()
    parts = urlsplit(checked)
    bucket = _object_store_root(f"{parts.scheme}://{parts.netloc}")
    key = [part for part in parts.path.split("/") if part]
    return cast(Path, bucket.joinpath(*key) if key else bucket)


def is_remote(path: str | Path) -> bool:
    """Whether ``path`` is a path on object storage (not a local ``pathlib`` path or text)."""
    return isinstance(path, UPath) and not isinstance(path, Path)


def rename(source: Path, destination: Path) -> None:
    """Move one stored file to ``destination`` on the same storage, replacing it.

    One :func:`os.replace` on a local folder; a copy then a delete on object storage (which has
    no rename: a reader may briefly see both, never neither).
    """
    if is_remote(source):
        source.fs.mv(object_key(source), object_key(destination))  # type: ignore[attr-defined]
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, destination)


def object_key(path: Path) -> str:
    """``bucket/key`` of a remote path (what its fsspec filesystem takes)."""
    return str(cast(UPath, path).path)


@cache
def _object_store_root(url: str) -> UPath:
    """The bucket ``url`` (``s3://<bucket>``), once it answered (one listing, once per process)."""
    parts = urlsplit(url)
    package = OBJECT_STORE_SCHEMES[parts.scheme.lower()]
    try:
        root = UPath(url, use_listings_cache=False)  # one filesystem for every path under it
    except ImportError as error:
        raise StorageLocationError(
            f"data_root {url!r} needs the {package} package: pip install {package}"
        ) from error
    try:
        root.fs.ls(parts.netloc, detail=False)
    except FileNotFoundError as error:
        raise StorageLocationError(
            f"data_root {url!r}: bucket {parts.netloc!r} does not exist (create it, or check "
            "AWS_ENDPOINT_URL points at the right server)"
        ) from error
    except PermissionError as error:
        raise StorageLocationError(
            f"data_root {url!r}: access to bucket {parts.netloc!r} is denied for these "
            f"credentials ({error})"
        ) from error
    except Exception as error:  # botocore's own errors (no credentials, no connection)
        raise StorageLocationError(_access_problem(url, error)) from error
    return root


def _access_problem(url: str, error: Exception) -> str:
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return (
            f"data_root {url!r}: no credentials for object storage; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials"
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return (
            f"data_root {url!r}: cannot reach the object store ({error}); check AWS_ENDPOINT_URL "
            "and that the server is running"
        )
    return f"data_root {url!r}: object storage refused the first listing ({name}: {error})"


def subfolders(folder: Path) -> list[Path]:
    """The folders directly under ``folder`` (none if it does not exist), sorted by name.

    One listing request on object storage (``is_dir`` per child would be one more each).
    """
    if not is_remote(folder):
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
        return [folder / name for name in sorted(names)]
    try:
        listed = folder.fs.ls(object_key(folder), detail=True)  # type: ignore[attr-defined]
    except FileNotFoundError:
        return []
    names = [entry["name"].rsplit("/", 1)[-1] for entry in listed if entry["type"] == "directory"]
    return [folder / name for name in sorted(names)]


def remove_tree(folder: Path) -> None:
    """Delete ``folder`` and everything under it."""
    if is_remote(folder):
        folder.fs.rm(object_key(folder), recursive=True)  # type: ignore[attr-defined]
    else:
        shutil.rmtree(folder)


def arrow_source(path: Path) -> tuple[str, pafs.FileSystem | None]:
    """``(path, filesystem)`` for pyarrow and pandas readers (``filesystem=``) of ``path``.

    On object storage the filesystem is Arrow's own S3 client (C++, reads in parallel), which
    finds credentials and ``AWS_ENDPOINT_URL`` in the same standard places.
    """
    if not is_remote(path):
        return str(path), None
    key = object_key(path)
    return key, arrow_filesystem(f"{urlsplit(str(path)).scheme}://{key.split('/', 1)[0]}")


@cache
def arrow_filesystem(bucket_url: str) -> pafs.FileSystem:
    """Arrow's filesystem for ``s3://<bucket>`` (one per bucket and process)."""
    filesystem: pafs.FileSystem = pafs.FileSystem.from_uri(bucket_url)[0]
    return filesystem


def local_work_folder(data_root: str | Path) -> Path:
    """Local folder for work files beside the lakehouse (scratch, Ray's temp), never inside it.

    The lakehouse folder's parent (``data/`` for ``data/lakehouse``); for a lakehouse on
    object storage, :data:`REMOTE_WORK_FOLDER` under the system's temporary folder.
    """
    root = lakehouse_root(data_root)
    if is_remote(root):
        return Path(tempfile.gettempdir()) / REMOTE_WORK_FOLDER
    return root.parent


def file_names(folder: Path) -> list[str]:
    """Names of the files directly in ``folder`` (none if it does not exist), sorted."""
    if not is_remote(folder):
        if not folder.is_dir():
            return []
        with os.scandir(folder) as entries:
            return sorted(entry.name for entry in entries if entry.is_file())
    try:
        listed = folder.fs.ls(object_key(folder), detail=True)  # type: ignore[attr-defined]
    except FileNotFoundError:
        return []
    return sorted(entry["name"].rsplit("/", 1)[-1] for entry in listed if entry["type"] == "file")


def stored_bytes(path: Path) -> bytes:
    """Every byte of the stored file ``path`` (one request on object storage).

    Raises ``FileNotFoundError`` if nothing is stored there.
    """
    if is_remote(path):
        contents: bytes = path.fs.cat_file(object_key(path))  # type: ignore[attr-defined]
        return contents
    return path.read_bytes()
