import threading
from datetime import date

import pytest
from pydantic import ValidationError

from quant_assets.settings import (
    PROFILES,
    Settings,
    get_settings,
    inspect_active_settings,
    use_settings,
)


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
        ({"engines": ["magic"]}, "unknown engines"),
        ({"top_n": 0}, "top_n"),
        ({"max_weight": 1.5}, "max_weight"),
        ({"start_date": date(2020, 1, 2), "end_date": date(2020, 1, 1)}, "after"),
        ({"source": "files"}, "source_path"),
        ({"no_such_setting": 1}, "unknown settings"),
    ],
)
def test_clone_validates(overrides, message):
    with pytest.raises((ValidationError, ValueError), match=message):
        Settings().clone(**overrides)


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUANT_TOP_N", "4")
    monkeypatch.setenv("QUANT_ENGINES", '["hrp", "market"]')
    settings = Settings()
    assert settings.top_n == 4 and settings.engines == ["hrp", "market"]
    # a profile's own values win over the environment; explicit overrides over both
    assert Settings.for_profile("production").top_n == PROFILES["production"]["top_n"]
    assert Settings.for_profile("production", top_n=2).top_n == 2


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        Settings().top_n = 3  # type: ignore[misc]


def test_active_settings_are_scoped_per_context_and_thread():
    default_top_n = Settings().top_n
    seen: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def work(name: str, top_n: int) -> None:
        with use_settings(Settings().clone(top_n=top_n)):
            barrier.wait()
            seen[name] = get_settings().top_n

    threads = [threading.Thread(target=work, args=(n, k)) for n, k in (("a", 1), ("b", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": 1, "b": 2}
    assert get_settings().top_n == default_top_n
    with use_settings(Settings().clone(top_n=9)):
        assert inspect_active_settings()["top_n"] == 9
    assert inspect_active_settings()["top_n"] == default_top_n


def test_content_hash_tracks_values():
    base = Settings.for_profile("canary")
    assert base.content_hash() == Settings.for_profile("canary").content_hash()
    assert base.content_hash() != base.clone(top_n=2).content_hash()
