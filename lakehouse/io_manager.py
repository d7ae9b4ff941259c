"""A Dagster IO manager over the lakehouse store: frames to Parquet, documents to JSON.

Paths come from the FULL asset key (parts joined by ``__``) and the partition key, e.g.
``<root>/features/run_id=<id>/part-0.parquet``. Anything that is not a DataFrame, a
:class:`~lakehouse.frames.FrameChunks`, a dict or a list is refused with a ``TypeError`` naming
the asset: nothing is ever pickled.

Large frames are never held whole here: a :class:`~lakehouse.frames.FrameChunks` output is
written chunk by chunk, and an input annotated :class:`~lakehouse.frames.StoredFrame` gets the
stored file to read lazily (the columns and rows it needs) instead of the whole frame.

Write, audit, publish: a run's frame is written under a temporary name beside its final path
and handed to :meth:`LakehouseIOManager.contract_failure` before it is published. A frame that
breaks its structural contract is moved to ``<root>/_rejected/<asset>/run_id=<id>/`` (never a
view) and the step fails with :class:`ContractBreach`; the previous file, if any, is untouched.
The lakehouse knows no contracts: the asset layer overrides the hook.
"""

import contextlib
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from lakehouse.commits import Audit, move_aside
from lakehouse.frames import FrameChunks, StoredFrame, write_frame_chunks
from lakehouse.hashing import get_df_hash
from lakehouse.location import is_remote
from lakehouse.store import (
    JSON_FILE,
    PARQUET_FILE,
    PARTITION_FOLDER_KEYS,
    RUN_ID_PARTITIONS,
    SYMBOL_PARTITIONS,
    LakehouseStore,
)


class ContractBreach(ValueError):
    """A run's frame broke its structural contract: kept aside under ``_rejected``, unpublished."""


class LakehouseIOManager(dg.ConfigurableIOManager):
    """Stores asset outputs in the lakehouse: DataFrames as Parquet, dicts and lists as JSON."""

    root: str = Field(description="Root folder of the lakehouse.")

    @property
    def store(self) -> LakehouseStore:
        """The store under :attr:`root`."""
        return LakehouseStore(self.root)

    def folder(self, context: dg.OutputContext | dg.InputContext) -> Path:
        """Folder of the asset partition that ``context`` refers to."""
        asset_key = context.asset_key
        name = "__".join(asset_key.path)
        base = self.store.asset_dir(name)
        if not context.has_asset_partitions:
            return base
        partitions_def = context.asset_partitions_def
        partition_key = context.asset_partition_key
        definition_name = getattr(partitions_def, "name", None)
        if definition_name == RUN_ID_PARTITIONS:
            return self.store.run_dir(name, partition_key)
        if definition_name == SYMBOL_PARTITIONS:
            return self.store.symbol_dir(partition_key, asset=name)
        raise ValueError(
            f"asset {asset_key.to_user_string()} uses partitions {definition_name!r}; "
            f"the lakehouse stores only {sorted(PARTITION_FOLDER_KEYS)}"
        )

    def contract_failure(self, asset: str, frame: StoredFrame) -> str | None:
        """Why the run's frame of ``asset`` breaks its structural contract, or None if it holds.

        Called on the written file before it is published. The lakehouse knows no contracts,
        so every frame holds here; the asset layer's IO manager overrides this.
        """
        return None

    def _audit(self, context: dg.OutputContext) -> Audit | None:
        """The check a run's frame passes before it is published (None: not a run asset)."""
        if not context.has_asset_partitions:
            return None
        if getattr(context.asset_partitions_def, "name", None) != RUN_ID_PARTITIONS:
            return None
        asset = "__".join(context.asset_key.path)
        run_id = context.asset_partition_key

        def audit(written: Path) -> None:
            failure = self.contract_failure(asset, StoredFrame(written))
            if failure is None:
                return
            rejected = self.store.rejected_dir(asset, run_id) / PARQUET_FILE
            move_aside(written, rejected)
            if not is_remote(rejected):
                with contextlib.suppress(OSError):  # the partition folder, if this left it empty
                    written.parent.rmdir()
            raise ContractBreach(
                f"asset {asset} of run {run_id} {failure}; not published, kept at {rejected}"
            )

        return audit

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Write ``obj`` atomically and attach row count, columns, path and content hash.

        A run's frame is published only if it passes :meth:`contract_failure`.
        """
        if obj is None:
            return
        folder = self.folder(context)
        if isinstance(obj, pd.DataFrame):
            path = self.store.write_frame(obj, folder, audit=self._audit(context))
            context.add_output_metadata(
                {
                    "path": dg.MetadataValue.path(str(path)),
                    "dagster/row_count": len(obj),
                    "columns": dg.MetadataValue.json([str(c) for c in obj.columns]),
                    "content_hash": get_df_hash(obj),
                }
            )
        elif isinstance(obj, FrameChunks):
            written = write_frame_chunks(obj.chunks, folder, audit=self._audit(context))
            context.add_output_metadata(
                {
                    "path": dg.MetadataValue.path(str(written.path)),
                    "dagster/row_count": written.summary.rows,
                    "columns": dg.MetadataValue.json(written.columns),
                    "content_hash": written.content_hash,
                    **(obj.describe(written.summary) if obj.describe else {}),
                }
            )
        elif isinstance(obj, dict | list):
            path = self.store.write_document(obj, folder)
            context.add_output_metadata(
                {
                    "path": dg.MetadataValue.path(str(path)),
                    "entries": len(obj),
                }
            )
        else:
            raise TypeError(
                f"asset {context.asset_key.to_user_string()} returned a {type(obj).__name__}; "
                "the lakehouse stores only pandas DataFrames or FrameChunks (Parquet) and dicts or "
                "lists (JSON)"
            )

    def load_input(self, context: dg.InputContext) -> Any:
        """Read the upstream asset partition back (Parquet or JSON).

        An input annotated :class:`~lakehouse.frames.StoredFrame` gets the stored Parquet file
        to read lazily; any other gets the whole frame (or the document).
        """
        folder = self.folder(context)
        if (folder / PARQUET_FILE).exists():
            if _wants_stored_frame(context):
                return StoredFrame(folder / PARQUET_FILE)
            return self.store.read_frame(folder)
        if (folder / JSON_FILE).exists():
            return self.store.read_document(folder)
        raise FileNotFoundError(
            f"asset {context.asset_key.to_user_string()} has nothing stored at {folder}; "
            "materialize it first"
        )


def _wants_stored_frame(context: dg.InputContext) -> bool:
    typing_type = getattr(context.dagster_type, "typing_type", None)
    return isinstance(typing_type, type) and issubclass(typing_type, StoredFrame)
