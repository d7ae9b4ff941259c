"""Asset checks that run the pandera contracts of :mod:`quant_assets.contracts`.

Each run asset gets two checks: ``<asset>_matches_contract`` (tier 1, blocking) and
``<asset>_passes_audit`` (tier 2: WARN severity, ERROR when the run's ``strict`` setting is on).
Failure cases (first :data:`MAX_FAILURE_CASES`) go in the check metadata.

The tier 1 check of a frame the run's IO manager audited before publishing it
(:class:`~quant_assets.assets.resources.ContractedIOManager`: the materialization's
:data:`AUDITED_CONTRACT` metadata names the contract) reports that audit instead of validating
the same file again; run on its own (from the UI, on a partition another run materialized, or
one stored before audits were recorded) it validates the stored file.

Checks read the stored file (:class:`~lakehouse.frames.StoredFrame`). A frame above
:data:`LARGE_FRAME_ROWS` rows whose contract allows it
(:func:`~quant_assets.contracts.batchable_row_order`) is validated a batch of row groups at a
time, with the row order checked across every boundary, so no check holds it whole.
"""

import warnings
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from lakehouse.frames import StoredFrame
from lakehouse.store import RUN_MANIFEST
from quant_assets.assets.partitions import run_id_partitions
from quant_assets.contracts import batchable_row_order, strictly_increasing
from quant_assets.provenance import settings_of

MAX_FAILURE_CASES = 20
AUDITED_CONTRACT = "audited_contract"
"""Materialization metadata: the tier 1 contract the frame passed before it was published."""
LARGE_FRAME_ROWS = 2_000_000
"""Frames above this many rows are validated in batches when their contract allows it."""


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


def validate_stored(
    stored: StoredFrame, contract: type[pa.DataFrameModel]
) -> tuple[bool, dict[str, Any]]:
    """:func:`validate_contract` of a stored frame, a batch of row groups at a time if large.

    Failure cases give row positions in the whole frame.
    """
    keys = batchable_row_order(contract)
    if keys is None or stored.num_rows <= LARGE_FRAME_ROWS:
        return validate_contract(stored.read(), contract)
    passed, cases, failures, offset = True, [], 0, 0
    previous: pd.DataFrame | None = None
    for batch in stored.batches():
        batch.index = pd.RangeIndex(offset, offset + len(batch))
        ok, metadata = validate_contract(batch, contract)
        seam = batch.head(1) if previous is None else pd.concat([previous, batch.head(1)])
        if not strictly_increasing(seam, keys):
            ok, metadata["num_failures"] = False, metadata["num_failures"] + 1
            metadata.setdefault("failure_cases", dg.MetadataValue.json([]))
            boundary = {"check": f"rows increase in {list(keys)}", "index": str(offset)}
            metadata["failure_cases"] = dg.MetadataValue.json(
                [boundary, *metadata["failure_cases"].value]
            )
        if not ok:
            passed = False
            failures += metadata["num_failures"]
            cases += list(metadata["failure_cases"].value)
        previous, offset = batch.tail(1), offset + len(batch)
    summary: dict[str, Any] = {
        "num_rows": offset,
        "contract": contract.__name__,
        "num_failures": failures,
    }
    if cases:
        summary["failure_cases"] = dg.MetadataValue.json(cases[:MAX_FAILURE_CASES])
    return passed, summary


def audited_rows(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str, run_id: str
) -> tuple[str, int] | None:
    """(contract, rows) the frame of ``partition`` passed before ``run_id`` published it.

    None unless the partition's latest materialization is ``run_id``'s and records an audit.
    """
    filters = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition])
    for record in instance.fetch_materializations(filters, limit=1).records:
        materialization = record.asset_materialization
        if record.run_id != run_id or materialization is None:
            return None
        metadata = materialization.metadata
        contract, rows = metadata.get(AUDITED_CONTRACT), metadata.get("dagster/row_count")
        if contract is None or rows is None or not isinstance(rows.value, int):
            return None
        return str(contract.value), rows.value
    return None


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
    def matches_contract(
        context: dg.AssetCheckExecutionContext, frame: StoredFrame
    ) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        audited = audited_rows(context.instance, key, context.partition_key, run_id)
        if audited is not None and audited[0] == contract.__name__:
            metadata: dict[str, Any] = {
                "num_rows": audited[1],
                "contract": contract.__name__,
                "num_failures": 0,
            }
            description = "validated by the IO manager before it published the frame"
            return dg.AssetCheckResult(passed=True, metadata=metadata, description=description)
        passed, metadata = validate_stored(frame, contract)
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
    def passes_audit(frame: StoredFrame, run_manifest: dict[str, Any]) -> dg.AssetCheckResult:
        passed, metadata = validate_stored(frame, audit)
        strict = settings_of(run_manifest).strict
        severity = dg.AssetCheckSeverity.ERROR if strict else dg.AssetCheckSeverity.WARN
        return dg.AssetCheckResult(passed=passed, severity=severity, metadata=metadata)

    return [matches_contract, passes_audit]
