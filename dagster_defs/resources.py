"""Resources, built in one place from settings (never at import time of a pillar)."""

from typing import Any

from lakehouse.io_manager import LakehouseIOManager
from quant_assets.loading import LakehouseResource
from quant_assets.settings import Settings


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    """The IO manager and lakehouse resource rooted at ``settings.data_root`` (made absolute)."""
    root = str((settings or Settings()).data_root.resolve())
    return {
        "io_manager": LakehouseIOManager(root=root),
        "lakehouse": LakehouseResource(root=root),
    }
