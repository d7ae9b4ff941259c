import os
from datetime import date

import pytest
from pydantic import ValidationError

from quant_assets.settings import PROFILES, Settings


def test_profiles_and_clone():
    canary = Settings.for_profile("canary")
    assert canary.profile == "canary"
    assert canary.start_date == date(2016, 1, 1)
    assert canary.engines == PROFILES["canary"]["engines"]
    production = Settings.for_profile("production", top_n=5)
    assert production.start_date is None and production.top_n == 5
    clone = canary.clone(top_n=3, cost_bps=0)
    assert (clone.top_n, clone.cost_bps, canary.top_n) == (3, 0.0, PROFILES["canary"]["top_n"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"engines": ["magic"]}, "unknown engine 'magic'"),
        ({"top_n": 0}, "top_n"),
        ({"max_weight": 1.5}, "max_weight"),
        ({"start_date": date(2020, 1, 2), "end_date": date(2020, 1, 1)}, "after"),
        ({"source": "files"}, "source_path"),
        ({"no_such_setting": 1}, "unknown settings"),
        ({"step": 5}, "the step is not a setting"),
        ({"cost_bps": 1e9}, "cost_bps"),
        ({"top_n": 20, "max_weight": 0.04}, r"`max_weight` \(0.04\) is below 1/`top_n`"),
    ],
)
def test_clone_validates(overrides, message):
    with pytest.raises((ValidationError, ValueError), match=message):
        Settings().clone(**overrides)


def test_environment_is_read_only_by_from_environment(monkeypatch: pytest.MonkeyPatch):
    for name in [n for n in os.environ if n.startswith("QUANT_")]:  # e.g. the Makefile's
        monkeypatch.delenv(name)
    monkeypatch.setenv("QUANT_TOP_N", "4")
    monkeypatch.setenv("QUANT_ENGINES", '["hrp", "market"]')
    monkeypatch.setenv("QUANT_SEED", "99")
    assert Settings().top_n == PROFILES["canary"]["top_n"]  # Settings() never reads it
    assert Settings(seed=1).seed == 1
    assert Settings.for_profile("production").top_n == PROFILES["production"]["top_n"]
    settings = Settings.from_environment()
    assert settings.top_n == 4 and settings.engines == ["hrp", "market"] and settings.seed == 99
    assert type(settings) is Settings
    assert Settings.environment_fields() == {"top_n", "engines", "seed"}
    # explicit overrides win over the environment; a profile's own values too
    assert Settings.from_environment(top_n=2, max_weight=0.5).top_n == 2
    assert settings.with_profile("production").top_n == PROFILES["production"]["top_n"]
    assert settings.with_profile("production").seed == 99
    assert settings.with_profile("production", top_n=2, max_weight=0.5).top_n == 2


def test_default_settings_are_the_canary_profile():
    assert Settings().profile == "canary"
    assert Settings() == Settings.for_profile("canary")
    assert set(PROFILES["canary"]) == set(PROFILES["production"])
    production = Settings.for_profile("production")
    assert production.with_profile("canary") == Settings()  # a profile sets all it names


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        Settings().top_n = 3  # type: ignore[misc]


def test_content_hash_tracks_values():
    base = Settings.for_profile("canary")
    assert base.content_hash() == Settings.for_profile("canary").content_hash()
    assert base.content_hash() != base.clone(top_n=4).content_hash()


def test_step_follows_test_so_out_of_sample_stays_contiguous():
    assert Settings(test=21).step == 21
    assert Settings().clone(test=10).step == 10
    assert Settings.for_profile("production").step == Settings.for_profile("production").test
    assert Settings.for_profile("canary", test=21).step == 21


def test_step_is_the_test_span_and_old_manifests_still_load():
    assert Settings().clone(test=21).step == 21
    recorded = {**Settings().snapshot(), "step": Settings().test}  # manifests before it was derived
    assert Settings.model_validate(recorded) == Settings()
    with pytest.raises(ValidationError, match="the step is not a setting"):
        Settings.model_validate({**recorded, "step": Settings().test + 1})
