from datetime import date

import pytest
from pydantic import ValidationError

from quant_assets.settings import PROFILES, Settings
from quant_assets.settings_sources import explain_settings


def _rows(frame):
    return {row.setting: row for row in frame.itertuples(index=False)}


def test_every_field_once_and_the_values_are_what_with_profile_resolves():
    base = Settings(top_n=3, cost_bps=7.0, seed=11)
    explained = explain_settings("production", {"top_n": 5}, base, {"top_n": "environment"})
    assert explained["setting"].tolist() == list(Settings.model_fields)
    resolved = base.with_profile("production", top_n=5).snapshot()
    assert dict(zip(explained["setting"], explained["value"], strict=True)) == resolved


def test_sources_follow_the_priority_and_name_what_was_overridden():
    base = Settings(top_n=3, cost_bps=7.0, seed=11)
    sources = {"top_n": "environment", "cost_bps": "environment"}
    rows = _rows(explain_settings("production", {"top_n": 5}, base, sources))
    assert (rows["top_n"].source, rows["top_n"].overridden) == (
        "override",
        f"environment=3; profile={PROFILES['production']['top_n']}",
    )
    assert (rows["cost_bps"].source, rows["cost_bps"].value) == ("environment", 7.0)
    assert (rows["seed"].source, rows["seed"].value) == ("caller", 11)  # origin not named
    assert (rows["engines"].source, rows["start_date"].value) == ("profile", None)
    assert (rows["profile"].source, rows["profile"].value) == ("profile", "production")
    assert (rows["covariance"].source, rows["covariance"].overridden) == ("default", "")


def test_the_canary_profile_overrides_the_environment_for_the_fields_it_sets():
    rows = _rows(
        explain_settings(
            "canary",
            None,
            Settings(top_n=2, max_weight=0.5, start_date=None),
            {"top_n": "environment"},
        )
    )
    assert (rows["top_n"].value, rows["top_n"].source) == (PROFILES["canary"]["top_n"], "profile")
    assert rows["top_n"].overridden == "environment=2"
    assert rows["start_date"].overridden == "caller=null"
    assert rows["start_date"].value == date(2016, 1, 1).isoformat()


def test_an_environment_value_equal_to_the_default_is_still_from_the_environment():
    rows = _rows(explain_settings("canary", None, Settings(), {"seed": "environment"}))
    assert rows["seed"].source == "environment"


@pytest.mark.parametrize(
    "profile, overrides, error",
    [
        ("nope", {}, ValueError),
        ("canary", {"nope": 1}, ValueError),
        ("canary", {"top_n": 0}, ValidationError),
    ],
)
def test_bad_profile_or_overrides_raise(profile, overrides, error):
    with pytest.raises(error):
        explain_settings(profile, overrides)
