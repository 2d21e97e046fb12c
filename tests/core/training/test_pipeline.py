"""The whole loop on SmolLM2-135M (the CI check, a few minutes on two cores): a synthetic 5% drop
of the mean score raises "review or retrain", the trigger starts the real pipeline (data set,
LoRA training of a handful of steps, GGUF export), records the event with its report, and the
local llama-server loads the adapter (`--lora`) and answers with it."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import redis.asyncio as aredis

from core.llm.factory import complete, reset_models
from core.llm.local_server import LocalModelServer, stop_local_server
from core.llm.promoted import PROMOTED
from core.run_config import RoleModel
from core.settings import Settings, get_settings
from core.telemetry.drift import DriftMonitor
from core.training.bases import smollm2_file
from core.training.config import SHARED_DATA, load_training
from core.training.pipeline import REPORT_FILE, PipelineReport, run_pipeline
from core.training.promotion import promote
from core.training.trigger import DAY_S, TrainingEvent, TrainingEvents, check, due

WINDOWS = {"drift_baseline_size": 100, "drift_recent_size": 60, "drift_min_samples": 50}


def _history(folder: Path) -> tuple[Path, Path]:
    """Checked answers to CommonGen-Hard dev tasks past the first 30 (the evaluation rows)."""
    rows = [json.loads(line) for line in (SHARED_DATA / "commongen_hard_dev.jsonl").open()]
    tasks = rows[30:42]
    results = [
        {"id": t["id"], "thread_id": f"th-{t['id']}", "score": 0.96, "failing": [],
         "error": None, "first_draft": f"A {t['constraints']['required_words'][0]}.",
         "answer": "We " + ", ".join(t["constraints"]["required_words"][:8]) + " together."}
        for t in tasks
    ]  # fmt: skip
    (folder / "requests.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    return folder / "results.jsonl", folder / "requests.jsonl"


async def _feed(monitor: DriftMonitor, drop: float) -> None:
    """A baseline of scores (20 values five times), then the same 20 three times, each `drop`
    lower (relative): the means differ by exactly `drop`."""
    scores = np.random.default_rng(3).normal(0.85, 0.02, 20)
    for value in np.tile(scores, 5):
        await monitor.record({"score": float(value)})
    for value in np.tile(scores, 3):
        await monitor.record({"score": float(value) * (1 - drop)})


async def _trigger(redis_url: str, drop: float, root: Path, history: tuple[Path, Path]) -> Any:
    settings = Settings(redis_url=redis_url, redis_key_prefix=f"t-{uuid.uuid4().hex[:8]}",
                        **WINDOWS)  # fmt: skip
    redis = aredis.from_url(redis_url)
    prefix = f"{settings.redis_key_prefix}:telemetry"
    try:
        monitor, events = DriftMonitor(redis, prefix, settings), TrainingEvents(redis, prefix)
        await _feed(monitor, drop)
        drift = await monitor.check()
        results, requests = history
        recipe = load_training("fast_smollm2")

        def start(reason: Any) -> PipelineReport:
            return run_pipeline(recipe, root, reason=reason, results=[results],
                                requests=[requests], progress=False)  # fmt: skip

        event = await check(drift, events, lambda r: asyncio.to_thread(start, r),
                            settings=settings)  # fmt: skip
        return drift, event, await events.recent()
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def fired(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The trigger on a synthetic 5% drop (a hair over, so float rounding cannot hide it)."""
    folder = tmp_path_factory.mktemp("training")
    history = _history(folder)
    return asyncio.run(_trigger(redis_url, 0.0505, folder / "runs", history))


def test_a_5_percent_drop_starts_the_pipeline_and_records_its_report(fired: Any) -> None:
    drift, event, recorded = fired
    assert drift.review_or_retrain and 0.05 <= drift.quality_drop < 0.051
    assert isinstance(event, TrainingEvent) and event.reason == "review_or_retrain"
    assert [e.at for e in recorded] == [event.at] and recorded[0].report == event.report

    report = event.report
    assert report.data.counts["train"] + report.data.counts["validation"] == 12
    assert report.training.steps == 4 and report.training.finished
    assert report.adapter.tensors == 2 * 2 * 30  # lora_a and lora_b of q_proj, v_proj, 30 blocks
    assert Path(report.adapter.path).name == f"fast_smollm2-{report.data.version}.gguf"
    assert report.promotion == "not evaluated"
    saved = json.loads((Path(report.directory) / REPORT_FILE).read_text())
    assert saved["data"]["version"] == report.data.version
    assert event.summary.startswith("review_or_retrain: fast_smollm2")


async def test_a_4_percent_drop_starts_nothing(redis_url: str, tmp_path: Path) -> None:
    drift, event, recorded = await _trigger(redis_url, 0.04, tmp_path, _history(tmp_path))
    assert not drift.review_or_retrain and 0.039 < drift.quality_drop < 0.041
    assert event is None and recorded == []


def test_the_schedule_and_the_alert_cooldown_decide_when_it_is_due() -> None:
    every_week = Settings(retrain_every_days=7)
    last = TrainingEvent(at=0.0, reason="schedule", status="not evaluated", summary="")
    assert due(None, None, 0.0, every_week) == "schedule"
    assert due(None, last, 6.9 * DAY_S, every_week) is None
    assert due(None, last, 7.0 * DAY_S, every_week) == "schedule"
    assert due(None, last, 30 * DAY_S, Settings()) is None  # no schedule set


def test_the_local_server_loads_the_adapter_and_answers(fired: Any, tmp_path: Path) -> None:
    adapter = Path(fired[1].report.adapter.path)
    settings = Settings(data_dir=tmp_path, model_path=smollm2_file(), model_lora=adapter,
                        local_parallel=1, local_context=1024)  # fmt: skip
    server = LocalModelServer(settings, shared=False)
    assert server.model_name == f"SmolLM2-135M-Instruct.Q4_1+{adapter.stem}"
    server.start(timeout_s=120)
    try:
        loaded = httpx.get(f"{server.root_url}/lora-adapters", timeout=10).json()
        assert [(a["path"], a["scale"]) for a in loaded] == [(str(adapter), 1.0)]
        ask = [{"role": "user", "content": "Write a sentence with: dog, park."}]
        body = {"model": server.model_name, "max_tokens": 12, "temperature": 0, "messages": ask}
        reply = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=120).json()
        assert reply["model"] == server.model_name
        assert reply["choices"][0]["message"]["content"].strip()
        assert reply["usage"]["completion_tokens"] > 0
    finally:
        server.stop()


def test_a_role_that_names_the_promoted_model_is_answered_by_its_own_server(
    fired: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promoted, the adapter answers a preset's role that names `promoted` (the promoted
    student's A/B variant, `promoted_single_pass`) on a local server of its own."""
    monkeypatch.setenv("REFINERY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REFINERY_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never reached
    monkeypatch.setenv("REFINERY_LOCAL_PARALLEL", "1")
    monkeypatch.setenv("REFINERY_LOCAL_CONTEXT", "1024")
    monkeypatch.setenv("REFINERY_LLM_CACHE", "false")
    get_settings.cache_clear()
    reset_models()
    model = promote(Path(fired[1].report.directory))
    try:
        role = RoleModel(model=PROMOTED, temperature=0, max_tokens=12)
        texts, usage = asyncio.run(
            complete("draft", role, ["Write a sentence with: dog, park."], "Be brief.")
        )
        assert texts[0]
        assert list(usage["by_model"]) == [model.name]
        assert model.name == f"SmolLM2-135M-Instruct.Q4_1+{Path(model.adapter_file).stem}"
    finally:
        stop_local_server()
        monkeypatch.undo()
        get_settings.cache_clear()
        reset_models()
