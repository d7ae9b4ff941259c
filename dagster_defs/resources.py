"""Resources, built in one place from the caller's settings (never at import time of a pillar)."""

from typing import Any

from dagster_ray import LocalRay
from dagster_ray.configs import Lifecycle

from lakehouse.location import lakehouse_root
from quant_assets.assets.resources import (
    ContractedIOManager,
    LakehouseResource,
    SettingsResource,
)
from quant_assets.settings import Settings
from quant_assets.tournament.ray_backend import ray_init_options


def build_resources(settings: Settings) -> dict[str, Any]:
    """The IO manager, the lakehouse, the base settings and dagster-ray's ``LocalRay``.

    The IO manager publishes a run's frame only once it holds its tier 1 contract.

    The IO manager and the lakehouse are rooted at ``settings.data_root`` (made absolute).
    ``LocalRay`` does not connect by itself: the tournament asset connects it only when the run
    asks for Ray, so other runs never start one.
    """
    root = str(lakehouse_root(settings.data_root))
    return {
        "io_manager": ContractedIOManager(root=root),
        "lakehouse": LakehouseResource(root=root),
        "base_settings": SettingsResource.of(settings),
        "ray_cluster": LocalRay(
            lifecycle=Lifecycle(connect=False), ray_init_options=ray_init_options(settings)
        ),
    }
