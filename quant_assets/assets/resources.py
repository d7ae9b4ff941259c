"""The resources the assets read through: the lakehouse (loading), the base settings, Ray."""

import json
from datetime import date

import dagster as dg
import pandas as pd
from dagster_ray import LocalRay
from pydantic import Field

from lakehouse import LakehouseStore
from quant_assets.loading import load_closes
from quant_assets.settings import Settings
from quant_assets.tournament.ray_backend import prepare_local_ray


class LakehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Read access to the lakehouse for the run assets (market data and run documents)."""

    root: str = Field(description="Root folder of the lakehouse.")

    @property
    def store(self) -> LakehouseStore:
        """The store under :attr:`root`."""
        return LakehouseStore(self.root)

    def closes(
        self, symbols: list[str] | None = None, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """Wide stored closes; see :func:`quant_assets.loading.load_closes`."""
        return load_closes(self.root, symbols, start, end)


class SettingsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The settings of whoever built the code location (the SDK, the CLI, ``dagster dev``).

    Hydration runs use them with their run config's source applied; a run id registered without
    a run request (by hand in the UI) runs with them. Runs minted by ``new_run`` or the daily
    schedule carry their own frozen settings in their run request instead.
    """

    snapshot: str = Field(description="The settings as JSON (`Settings.snapshot()`).")

    @classmethod
    def of(cls, settings: Settings) -> "SettingsResource":
        """The resource holding ``settings``."""
        return cls(snapshot=json.dumps(settings.snapshot(), sort_keys=True))

    @property
    def settings(self) -> Settings:
        """The validated settings."""
        return Settings.model_validate(json.loads(self.snapshot))


def connect_local_ray(
    context: dg.AssetExecutionContext, ray_cluster: LocalRay, settings: Settings, purpose: str
) -> None:
    """Connect dagster-ray's ``LocalRay`` (127.0.0.1 only) when the run asks for a local Ray.

    Only for ``executor="ray"`` without ``ray_address`` (an address is joined by the backends
    themselves), and only once per run: the resource stays connected until the run ends, so
    the features and the tournament share one local Ray.
    """
    import ray

    if settings.executor != "ray" or settings.ray_address is not None or ray.is_initialized():
        return
    prepare_local_ray(settings)
    ray_cluster.connect(context)  # torn down by the resource when the run ends
    context.log.info(f"connected dagster-ray's LocalRay (127.0.0.1 only) for the {purpose}")
