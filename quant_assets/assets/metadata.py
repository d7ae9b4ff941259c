"""Materialization metadata that makes an asset readable in the Dagster UI."""

from typing import Any

import dagster as dg
import pandas as pd

from lakehouse.frames import FrameSummary

PREVIEW_ROWS = 10


def frame_metadata(frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    """Symbol and date counts, date range and a preview of ``frame`` (plus ``extra``)."""
    metadata: dict[str, Any] = {}
    if "symbol" in frame.columns:
        metadata["symbols"] = int(frame["symbol"].nunique())
    if "date" in frame.columns and len(frame):
        metadata["dates"] = int(frame["date"].nunique())
        metadata["first_date"] = str(pd.Timestamp(frame["date"].min()).date())
        metadata["last_date"] = str(pd.Timestamp(frame["date"].max()).date())
    metadata["preview"] = dg.MetadataValue.md(
        frame.tail(PREVIEW_ROWS).to_markdown(index=False, floatfmt=".6g")
    )
    metadata.update(extra)
    return metadata


def summary_metadata(summary: FrameSummary, **extra: Any) -> dict[str, Any]:
    """:func:`frame_metadata` of a frame written chunk by chunk, from its summary."""
    metadata: dict[str, Any] = {}
    if summary.symbols:
        metadata["symbols"] = len(summary.symbols)
    if summary.dates:
        metadata["dates"] = len(summary.dates)
        metadata["first_date"] = str(min(summary.dates).date())
        metadata["last_date"] = str(max(summary.dates).date())
    tail = summary.tail if summary.tail is not None else pd.DataFrame()
    metadata["preview"] = dg.MetadataValue.md(
        tail.tail(PREVIEW_ROWS).to_markdown(index=False, floatfmt=".6g")
    )
    metadata.update(extra)
    return metadata
