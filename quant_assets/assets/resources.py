"""The resources the assets read through: the lakehouse (loading) and the base settings."""

import json
from datetime import date

import dagster as dg
import pandas as pd
from pydantic import Field

from lakehouse import LakehouseStore
from quant_assets.loading import load_closes
from quant_assets.settings import Settings


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
