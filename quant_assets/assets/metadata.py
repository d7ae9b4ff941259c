"""Materialization metadata that makes an asset readable in the Dagster UI."""

from typing import Any

import dagster as dg
import pandas as pd

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
