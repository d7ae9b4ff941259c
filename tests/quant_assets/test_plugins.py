"""Plug-ins: names, import paths with typed parameters, entry points, errors, records."""

import hashlib
import inspect
import sys
import types

import numpy as np
import pytest
from skfolio.measures import RiskMeasure

from quant_assets.allocation.engines import ENGINES, EstimatorEngine, get_engine
from quant_assets.plugins import PluginError, registered, resolve, typed_value
from quant_assets.settings import ENGINE_NAMES, Settings


def test_built_ins_are_registered_as_entry_points_like_any_plugin():
    engines = registered("engine")
    assert set(ENGINE_NAMES) <= set(engines)
    for name in ENGINE_NAMES:
        assert engines[name].startswith("quant_assets.allocation.engines:")
        assert type(get_engine(name)) is type(ENGINES[name])
    assert registered("score")["trend_strength"] == "quant_assets.selection:trend_strength"


def test_the_example_package_registers_its_plugins():
    assert registered("engine")["inverse_variance"] == "quant_examples.engines:InverseVariance"
    assert registered("signal")["momentum_12_1"] == "quant_examples.signals:momentum_12_1"
    assert "risk_adjusted_momentum" in registered("score")
    plugin = resolve("engine", "inverse_variance")
    record = plugin.record()
    assert record["import_path"] == "quant_examples.engines:InverseVariance"
    assert record["distribution"] == "quant-lakehouse-examples"
    assert record["version"] == "0.1.0"
    source = inspect.getsourcefile(plugin.target)
    assert record["source_sha256"] == hashlib.sha256(open(source, "rb").read()).hexdigest()


def test_import_path_with_typed_parameters():
    plugin = resolve("engine", "skfolio.optimization:MeanRisk?risk_measure=cvar&min_weights=0")
    assert plugin.params == {"risk_measure": RiskMeasure.CVAR, "min_weights": 0}
    assert plugin.record()["distribution"] == "skfolio"
    engine = get_engine("quant_examples.engines:InverseVariance?power=0.5")
    assert engine.engine.power == 0.5  # a float default: read as a float
    assert typed_value("TRUE") is True and typed_value("none") is None
    assert typed_value("7", 1.5) == 7.0 and isinstance(typed_value("7", 1.5), float)
    with pytest.raises(ValueError, match="not one of"):
        typed_value("CVARR", RiskMeasure.VARIANCE)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("min_varience", "unknown engine 'min_varience' (did you mean 'min_variance'?)"),
        ("no_such_pkg.mod:Thing", "cannot be imported (ModuleNotFoundError"),
        ("skfolio.optimization:MeanRsk", "has no attribute 'MeanRsk' (did you mean 'MeanRisk'?)"),
        ("skfolio.optimization:MeanRisk?risk_measur=CVAR", "did you mean 'risk_measure'?"),
        ("skfolio.optimization:MeanRisk?risk_measure", "spelled `?key=value"),
        ("numpy:pi", "not a class with `weights"),
    ],
)
def test_bad_names_are_one_line_errors_listing_what_is_registered(name, message):
    with pytest.raises(PluginError) as error:
        resolve("engine", name)
    text = str(error.value)
    assert message in text and "\n" not in text
    if "unknown" in message or "import" in message:
        assert "registered engines: [" in text and "'min_variance'" in text


def test_settings_accept_plugins_and_refuse_unknown_ones():
    settings = Settings(
        engines=["min_variance", "skfolio.optimization:HierarchicalEqualRiskContribution"],
        signals=["momentum_12_1"],
        score="risk_adjusted_momentum",
    )
    assert settings.clone().engines == settings.engines  # survives a JSON round trip
    with pytest.raises(ValueError, match=r"unknown score .trend_strenght.*did you mean"):
        Settings(score="trend_strenght")
    with pytest.raises(ValueError, match="listed more than once"):
        Settings(engines=["hrp", "hrp"])
    with pytest.raises(ValueError, match="unknown signal"):
        Settings(signals=["momentum_1_12"])


def test_skfolio_estimator_engine_matches_skfolio_itself(bundled_closes):
    from skfolio.optimization import HierarchicalEqualRiskContribution

    returns = bundled_closes.loc["2019", ["AAPL", "JNJ", "KO", "MSFT", "PG", "XOM"]]
    values = returns.pct_change().iloc[1:].to_numpy()
    engine = get_engine("skfolio.optimization:HierarchicalEqualRiskContribution")
    assert isinstance(engine, EstimatorEngine)
    settings = Settings(max_weight=1.0)
    ours = engine.weights(values, settings, None)
    theirs = HierarchicalEqualRiskContribution(max_weights=1.0).fit(values).weights_
    np.testing.assert_allclose(ours, theirs / theirs.sum(), rtol=0, atol=1e-12)


def test_a_module_only_this_process_has_resolves_here(monkeypatch: pytest.MonkeyPatch):
    module = types.ModuleType("only_here")
    module.double = lambda closes: closes * 2.0
    monkeypatch.setitem(sys.modules, "only_here", module)
    plugin = resolve("signal", "only_here:double")
    assert plugin.column == "double" and plugin.record()["source_sha256"] is None
