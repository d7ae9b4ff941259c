from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from lakehouse import get_df_hash
from lakehouse.frames import FrameChunks, StoredFrame
from lakehouse.io_manager import LakehouseIOManager

runs = dg.DynamicPartitionsDefinition(name="run_id")
RUN_ID = "20261125-120000-beef"


@dg.asset(partitions_def=runs)
def table() -> pd.DataFrame:
    return pd.DataFrame({"symbol": ["A", "B"], "weight": [0.25, 0.75]})


@dg.asset(partitions_def=runs)
def document() -> dict:
    return {"engines": ["hrp"], "ok": True}


@dg.asset(partitions_def=runs)
def total(table: pd.DataFrame, document: dict) -> pd.DataFrame:
    assert document["ok"]
    return pd.DataFrame({"total": [table["weight"].sum()]})


@dg.asset(partitions_def=runs)
def model() -> object:
    return object()


def _materialize(assets, root: Path, **kwargs):
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("run_id", [RUN_ID])
        return dg.materialize(
            assets,
            partition_key=RUN_ID,
            instance=instance,
            resources={"io_manager": LakehouseIOManager(root=str(root))},
            **kwargs,
        )


def test_round_trip_with_metadata(tmp_path: Path):
    result = _materialize([table, document, total], tmp_path)
    assert result.success
    path = tmp_path / "table" / f"run_id={RUN_ID}" / "part-0.parquet"
    stored = pd.read_parquet(path)
    assert stored["weight"].tolist() == [0.25, 0.75]
    assert (tmp_path / "document" / f"run_id={RUN_ID}" / "document.json").exists()
    assert pd.read_parquet(tmp_path / "total" / f"run_id={RUN_ID}" / "part-0.parquet")[
        "total"
    ].tolist() == [1.0]
    metadata = result.asset_materializations_for_node("table")[0].metadata
    assert metadata["dagster/row_count"].value == 2
    assert metadata["path"].value == str(path)
    assert metadata["content_hash"].value == get_df_hash(stored)
    assert metadata["columns"].value == ["symbol", "weight"]


def test_refuses_other_types_naming_the_asset(tmp_path: Path):
    with pytest.raises(TypeError, match="asset model returned a object"):
        _materialize([model], tmp_path)
    assert not (tmp_path / "model").exists() or not any((tmp_path / "model").rglob("*.*"))


@dg.asset(partitions_def=runs)
def chunked() -> FrameChunks:
    whole = pd.DataFrame({"symbol": ["A", "B", "C"], "weight": [0.25, 0.5, 0.25]})
    return FrameChunks(
        (whole.iloc[i : i + 1] for i in range(3)),
        describe=lambda summary: {"symbols": len(summary.symbols)},
    )


@dg.asset(partitions_def=runs)
def lazy_total(chunked: StoredFrame) -> pd.DataFrame:
    assert isinstance(chunked, StoredFrame)
    weights = chunked.read(["weight"])
    return pd.DataFrame({"total": [weights["weight"].sum()], "rows": [chunked.num_rows]})


def test_chunked_outputs_and_lazy_inputs(tmp_path: Path):
    result = _materialize([chunked, lazy_total, total, table, document], tmp_path)
    assert result.success
    path = tmp_path / "chunked" / f"run_id={RUN_ID}" / "part-0.parquet"
    stored = pd.read_parquet(path)
    assert stored["symbol"].tolist() == ["A", "B", "C"]
    metadata = result.asset_materializations_for_node("chunked")[0].metadata
    assert metadata["dagster/row_count"].value == 3 and metadata["symbols"].value == 3
    assert metadata["content_hash"].value == get_df_hash(stored)
    totals = pd.read_parquet(tmp_path / "lazy_total" / f"run_id={RUN_ID}" / "part-0.parquet")
    assert totals.to_dict("records") == [{"total": 1.0, "rows": 3}]


class NoNegativeWeights(LakehouseIOManager):
    """A hook like the asset layer's: ``table`` must not hold a negative weight."""

    def contract_failure(self, asset: str, frame: StoredFrame) -> str | None:
        weights = frame.read(columns=["weight"])["weight"]
        return "has a negative weight" if asset == "table" and (weights < 0).any() else None


@dg.asset(partitions_def=runs, name="table")
def broken_table() -> pd.DataFrame:
    return pd.DataFrame({"symbol": ["A", "B"], "weight": [-0.25, 1.25]})


def test_a_frame_failing_its_audit_is_kept_aside_and_the_previous_one_stays(tmp_path: Path):
    def materialize(asset):
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("run_id", [RUN_ID])
            return dg.materialize(
                [asset],
                partition_key=RUN_ID,
                instance=instance,
                resources={"io_manager": NoNegativeWeights(root=str(tmp_path))},
                raise_on_error=False,
            )

    published = tmp_path / "table" / f"run_id={RUN_ID}" / "part-0.parquet"
    assert materialize(table).success
    before = published.read_bytes()
    result = materialize(broken_table)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.cause.message  # type: ignore[union-attr]
    rejected = tmp_path / "_rejected" / "table" / f"run_id={RUN_ID}" / "part-0.parquet"
    assert f"asset table of run {RUN_ID} has a negative weight" in message
    assert str(rejected) in message
    assert published.read_bytes() == before  # the previous version, untouched
    assert pd.read_parquet(rejected)["weight"].tolist() == [-0.25, 1.25]
    assert [p.name for p in published.parent.iterdir()] == ["part-0.parquet"]  # no temp left
