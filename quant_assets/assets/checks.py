"""Asset checks that run the pandera contracts of :mod:`quant_assets.contracts`.

Each run asset gets two checks: ``<asset>_matches_contract`` (tier 1, blocking) and
``<asset>_passes_audit`` (tier 2: WARN severity, ERROR when the run's ``strict`` setting is on).
Failure cases (first :data:`MAX_FAILURE_CASES`) go in the check metadata.
"""

import warnings
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from quant_assets.assets.partitions import RUN_MANIFEST, run_id_partitions
from quant_assets.provenance import settings_of

MAX_FAILURE_CASES = 20


def validate_contract(
    frame: pd.DataFrame, contract: type[pa.DataFrameModel]
) -> tuple[bool, dict[str, Any]]:
    """Validate ``frame`` against ``contract``; return (passed, check metadata)."""
    metadata: dict[str, Any] = {"num_rows": len(frame), "contract": contract.__name__}
    try:
        contract.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        metadata["num_failures"] = len(cases)
        preview = cases.head(MAX_FAILURE_CASES).astype(str).to_dict(orient="records")
        metadata["failure_cases"] = dg.MetadataValue.json(preview)
        return False, metadata
    metadata["num_failures"] = 0
    return True, metadata


def contract_checks(
    asset: dg.AssetsDefinition | dg.AssetKey,
    contract: type[pa.DataFrameModel],
    audit: type[pa.DataFrameModel] | None = None,
) -> list[dg.AssetChecksDefinition]:
    """Build the tier 1 (and, with ``audit``, tier 2) checks of a run-partitioned asset.

    ``asset`` is an asset definition, or the key of one output of a multi-asset.
    """
    key = asset if isinstance(asset, dg.AssetKey) else asset.key
    name = key.path[-1]
    # Partitioned checks are a Dagster preview feature; without the partitions_def a check on a
    # run_id asset would load every run's partition.
    warnings.filterwarnings("ignore", category=dg.PreviewWarning, module="dagster")

    @dg.asset_check(
        asset=key,
        name=f"{name}_matches_contract",
        blocking=True,
        partitions_def=run_id_partitions,
        description=f"Tier 1: `{name}` has the structure of {contract.__name__}.",
    )
    def matches_contract(frame: pd.DataFrame) -> dg.AssetCheckResult:
        passed, metadata = validate_contract(frame, contract)
        return dg.AssetCheckResult(passed=passed, metadata=metadata)

    if audit is None:
        return [matches_contract]

    @dg.asset_check(
        asset=key,
        name=f"{name}_passes_audit",
        blocking=True,
        partitions_def=run_id_partitions,
        additional_ins={RUN_MANIFEST: dg.AssetIn(RUN_MANIFEST)},
        description=(
            f"Tier 2: `{name}` values pass {audit.__name__}; warns, blocks when `strict`."
        ),
    )
    def passes_audit(frame: pd.DataFrame, run_manifest: dict[str, Any]) -> dg.AssetCheckResult:
        passed, metadata = validate_contract(frame, audit)
        strict = settings_of(run_manifest).strict
        severity = dg.AssetCheckSeverity.ERROR if strict else dg.AssetCheckSeverity.WARN
        return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata)

    return [matches_contract, passes_audit]
