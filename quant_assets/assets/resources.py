"""The resources the assets read through: the lakehouse (loading), the base settings, Ray.

Also the IO manager that publishes a run's frame only once it holds its tier 1 contract
(:class:`ContractedIOManager`).
"""

import json
from datetime import date
from typing import Any

import dagster as dg
import pandas as pd
from dagster_ray import LocalRay
from pydantic import Field

from lakehouse import LakehouseStore
from lakehouse.frames import FrameChunks, StoredFrame
from lakehouse.io_manager import LakehouseIOManager
from quant_assets.assets.checks import AUDITED_CONTRACT, validate_stored
from quant_assets.assets.connections import hold_pooled_connections
from quant_assets.contracts import STORED_CONTRACTS
from quant_assets.loading import load_closes
from quant_assets.settings import Settings
from quant_assets.tournament.ray_backend import prepare_local_ray


class LakehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Read access to the lakehouse for the run assets (market data and run documents)."""

    root: str = Field(description="Root folder of the lakehouse.")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Hold the run's database connections (see :mod:`quant_assets.assets.connections`)."""
        if context.instance is not None:
            hold_pooled_connections(context.instance)

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


class ContractedIOManager(LakehouseIOManager):
    """The lakehouse IO manager, auditing each run frame against its tier 1 contract first.

    Write, audit, publish: the frame is validated under its temporary name (as the asset check
    validates it, a batch of row groups at a time when large), so a frame that breaks
    :data:`~quant_assets.contracts.STORED_CONTRACTS` is never visible under its final path.
    """

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Write, audit and publish ``obj``; record the contract a published frame passed.

        The materialization's :data:`AUDITED_CONTRACT` metadata names the tier 1 contract the
        frame was validated against before it was published (a frame that broke it raised
        instead), so the ``<asset>_matches_contract`` check of the same run reads that result
        rather than validating the file a second time.
        """
        super().handle_output(context, obj)
        contract = STORED_CONTRACTS.get("__".join(context.asset_key.path))
        frame = isinstance(obj, pd.DataFrame | FrameChunks)
        # the audit runs on exactly the outputs _audit has one for: a run's frames
        if contract is not None and frame and self._audit(context) is not None:
            context.add_output_metadata({AUDITED_CONTRACT: contract.__name__})

    def contract_failure(self, asset: str, frame: StoredFrame) -> str | None:
        """``breaks <Contract> (tier 1): <first failure>``, or None if the frame holds."""
        contract = STORED_CONTRACTS.get(asset)
        if contract is None:
            return None
        passed, metadata = validate_stored(frame, contract)
        if passed:
            return None
        cases = metadata.get("failure_cases")
        first = describe_failure(cases.value[0]) if cases is not None and cases.value else "?"
        failures = metadata["num_failures"]
        return f"breaks {contract.__name__} (tier 1, {failures} failure(s)); first: {first}"


def describe_failure(case: dict[str, Any]) -> str:
    """One pandera failure case (a record of ``failure_cases``) on one line."""
    where = f"column {case['column']!r}" if case.get("column") not in (None, "None") else "frame"
    found = case.get("failure_case")
    row = case.get("index")
    detail = "" if found in (None, "None") else f" with {found!r}"
    at = "" if row in (None, "None", "nan") else f" at row {row}"
    return f"{where} fails {case.get('check')!r}{detail}{at}"


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
