"""Resources, built in one place from settings (never at import time of a pillar)."""

from typing import Any

from dagster_ray import LocalRay
from dagster_ray.configs import Lifecycle

from lakehouse.io_manager import LakehouseIOManager
from quant_assets.loading import LakehouseResource
from quant_assets.settings import Settings
from quant_assets.tournament.execution import ray_init_options


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    """The IO manager, the lakehouse resource and dagster-ray's ``LocalRay``.

    The first two are rooted at ``settings.data_root`` (made absolute). ``LocalRay`` does not
    connect by itself: the tournament asset connects it only when the
    run asks for Ray, so other runs never start one.
    """
    settings = settings or Settings()
    root = str(settings.data_root.resolve())
    return {
        "io_manager": LakehouseIOManager(root=root),
        "lakehouse": LakehouseResource(root=root),
        "ray_cluster": LocalRay(
            lifecycle=Lifecycle(connect=False), ray_init_options=ray_init_options(settings)
        ),
    }
