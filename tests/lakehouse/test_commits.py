"""Commits on a local folder and on a real S3-compatible server: whole or nothing, never lost."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from s3fs import S3FileSystem

from lakehouse import LakehouseStore
from lakehouse.commits import ABSENT, CommitConflict, stored_version
from lakehouse.location import StorageLocationError, is_remote, lakehouse_root
from lakehouse.sealing import SEALED, parquet_seal
from quant_assets.settings import Settings
from tests.object_storage import LoopbackS3


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LakehouseStore:
    """An empty lakehouse in a local folder, or in a fresh bucket of the loopback server."""
    if request.param == "folder":
        return LakehouseStore(tmp_path / "lake")
    return LakehouseStore(request.getfixturevalue("s3_root"))


def bars(days: int, first: str = "2024-01-01", offset: float = 0.0) -> pd.DataFrame:
    dates = pd.bdate_range(first, periods=days).astype("datetime64[ns]")
    return pd.DataFrame({"date": dates, "close": [100.0 + offset + i for i in range(days)]})


def test_a_commit_expecting_an_older_version_is_refused_and_keeps_the_newer(
    store: LakehouseStore,
):
    folder = store.symbol_dir("KO")
    store.write_frame(bars(3), folder, expected=ABSENT)
    read_version = stored_version(store.symbol_path("KO"))
    store.write_frame(bars(4), folder, expected=read_version)  # another writer, first
    with pytest.raises(CommitConflict, match="another writer"):
        store.write_frame(bars(5), folder, expected=read_version)
    pd.testing.assert_frame_equal(store.read_frame(folder), bars(4))
    assert parquet_seal(store.symbol_path("KO")).state == SEALED


def test_only_one_of_two_writers_creates_a_new_file(store: LakehouseStore):
    folder = store.symbol_dir("PEP")
    assert stored_version(store.symbol_path("PEP")) is ABSENT
    store.write_frame(bars(2), folder, expected=ABSENT)
    with pytest.raises(CommitConflict):
        store.write_frame(bars(9), folder, expected=ABSENT)
    assert len(store.read_frame(folder)) == 2


def test_an_unconditional_write_replaces_and_changes_the_version(store: LakehouseStore):
    folder = store.symbol_dir("KO")
    store.write_frame(bars(3), folder)
    first = stored_version(store.symbol_path("KO"))
    store.write_frame(bars(3, offset=1.0), folder)
    assert stored_version(store.symbol_path("KO")) not in (first, ABSENT)
    assert store.symbols() == ["KO"]


WRITER = """
import sys
import pandas as pd
from lakehouse import LakehouseStore
store = LakehouseStore(sys.argv[1])
rows = 200_000
version = 0
while True:
    version += 1
    frame = pd.DataFrame({"version": [version] * rows, "value": [float(i) for i in range(rows)]})
    store.write_frame(frame, store.symbol_dir("KO"))
    print(version, flush=True)
"""


def test_a_writer_killed_mid_commit_leaves_a_whole_sealed_version(
    store: LakehouseStore, tmp_path: Path
):
    """SIGKILL a process that rewrites a 3 MB frame in a loop, at five different moments."""
    root = str(store.root)
    for delay in (0.05, 0.3, 0.7, 1.1, 1.6):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, root], stdout=subprocess.PIPE, cwd=tmp_path
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # one version committed
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        frame = store.read_frame(store.symbol_dir("KO"))
        assert parquet_seal(store.symbol_path("KO")).state == SEALED
        assert frame["version"].nunique() == 1 and len(frame) == 200_000
    if not is_remote(store.root):  # a killed writer's temporary file is hidden and swept later
        visible = [p.name for p in store.symbol_dir("KO").iterdir() if not p.name.startswith(".")]
        assert visible == ["part-0.parquet"]


def test_bad_storage_urls_are_refused_when_settings_are_made():
    for url, reason in [
        ("gs://bucket/lake", "unsupported storage gs://"),
        ("s3://key:secret@bucket/lake", "carries credentials"),
        ("s3://", "names no bucket"),
    ]:
        with pytest.raises(ValueError, match=reason):
            Settings(data_root=url)


def test_a_missing_bucket_and_missing_credentials_are_one_clear_error(
    loopback_s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch
):
    for name, value in loopback_s3.environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageLocationError, match="bucket 'no-such-bucket' does not exist"):
        lakehouse_root("s3://no-such-bucket/lake")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bucket = loopback_s3.new_bucket()
    S3FileSystem.clear_instance_cache()  # a process finds its credentials once
    try:
        with pytest.raises(StorageLocationError, match="no credentials for object storage"):
            lakehouse_root(f"s3://{bucket}/other")
    finally:
        S3FileSystem.clear_instance_cache()  # the next test's filesystem has credentials


def test_a_document_write_cut_after_its_record_leaves_the_previous_one_sound(
    store: LakehouseStore, monkeypatch: pytest.MonkeyPatch
):
    """The record is committed before the document; a crash between the two must not make
    the doctor call the previous (whole) document damaged."""
    import lakehouse.store
    from lakehouse.integrity import scan

    folder = store.run_dir("run_manifest", "20261207-010203-abcd")
    store.write_document({"top_n": 3}, folder)
    commit = lakehouse.store.publish

    def crash_before_the_document(path, write, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path.name == "document.json":
            raise OSError(5, "Input/output error")
        return commit(path, write, *args, **kwargs)

    monkeypatch.setattr(lakehouse.store, "publish", crash_before_the_document)
    with pytest.raises(OSError):
        store.write_document({"top_n": 5}, folder)
    monkeypatch.undo()
    assert store.read_document(folder) == {"top_n": 3}
    assert scan(str(store.root)) == []
    (folder / "document.json").write_text('{"top_n": 9}', encoding="utf-8")  # behind its back
    (found,) = scan(str(store.root))
    assert "checksum" in found.error
