"""A preset's role that names the promoted model (`promoted`) gets a tier of its own, served by
that model's own local server, with the deployment's chain (and the deployment's model name)
behind it; naming it while none is promoted is a clear error, at a run or at the API's start
when an enabled experiment routes traffic to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.services import experiments_to_run
from core.feedback.experiments import load_experiment
from core.llm.factory import chat_model, primary_model, reset_models, tiers
from core.llm.promoted import (
    PROMOTED,
    LocalModel,
    NoPromotedModelError,
    named_local_model,
    promoted_path,
)
from core.run_config import RoleModel, load_config
from core.settings import Settings, get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings on a data folder of the test's own, a remote endpoint as the deployment."""
    monkeypatch.setenv("REFINERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REFINERY_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("REFINERY_MODEL_NAME", "remote-model")
    monkeypatch.delenv("REFINERY_LLM_ENDPOINTS", raising=False)
    get_settings.cache_clear()
    reset_models()
    yield tmp_path
    monkeypatch.undo()
    get_settings.cache_clear()
    reset_models()


def _promote(settings: Settings, name: str = "base+adapter-1") -> LocalModel:
    model = LocalModel(name=name, base_file="/models/base.gguf", adapter_file="/a/adapter-1.gguf")
    path = promoted_path(settings)
    path.parent.mkdir(parents=True)
    path.write_text(model.model_dump_json())
    return model


def test_a_role_names_the_promoted_model_by_alias_or_by_name(data_dir: Path) -> None:
    settings = get_settings()
    assert named_local_model(None, settings) is None
    assert named_local_model("gpt-4o-mini", settings) is None  # a deployment's model name
    with pytest.raises(NoPromotedModelError, match="refinery train promote"):
        named_local_model(PROMOTED, settings)

    model = _promote(settings)
    assert named_local_model(PROMOTED, settings) == model
    assert named_local_model("base+adapter-1", settings) == model
    assert named_local_model("base+adapter-0", settings) is None
    served = model.settings(settings)
    assert (served.model_path, served.model_lora) == (
        Path("/models/base.gguf"),
        Path("/a/adapter-1.gguf"),
    )


def test_an_unreadable_record_is_a_clear_error(data_dir: Path) -> None:
    path = promoted_path(get_settings())
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"name": "x"}))
    with pytest.raises(NoPromotedModelError, match="not a promoted model's record"):
        named_local_model(PROMOTED, get_settings())
    assert named_local_model("gpt-4o-mini", get_settings()) is None  # other roles still run


def test_its_tier_comes_first_and_the_deployment_answers_behind_it(data_dir: Path) -> None:
    model = _promote(get_settings())
    chain = tiers(get_settings(), model)
    assert [(t.name, t.served) for t in chain] == [
        ("local:base+adapter-1", model),
        ("tier0", None),
    ]
    assert chain[0].targets == ()  # its own server, started on the first call

    built = chat_model(RoleModel(model=PROMOTED, max_tokens=12))
    primary = primary_model(built)
    assert primary is not None and primary.tier == "local:base+adapter-1"
    fallback = primary_model(built.chain.fallbacks[0])  # type: ignore[attr-defined]
    assert fallback is not None and fallback.tier == "tier0"
    assert fallback.model_name == "remote-model"  # never "promoted" at a remote endpoint


def test_an_enabled_experiment_that_routes_to_no_promoted_model_stops_the_start(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = load_experiment("promoted_student")
    assert not shipped.enabled  # a person enables it once a student is promoted
    assert load_config("promoted_single_pass").roles.draft.model == PROMOTED
    experiments = data_dir / "experiments"
    experiments.mkdir()
    enabled = shipped.model_dump(exclude={"name"}) | {"enabled": True}
    (experiments / "student_now.json").write_text(json.dumps(enabled))
    monkeypatch.setenv("REFINERY_EXPERIMENTS_DIR", str(experiments))
    get_settings.cache_clear()
    load_experiment.cache_clear()
    try:
        with pytest.raises(NoPromotedModelError, match="none is promoted"):
            experiments_to_run()
        _promote(get_settings())
        assert [e.name for e in experiments_to_run()] == ["student_now"]
    finally:
        load_experiment.cache_clear()
