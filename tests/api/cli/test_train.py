"""`refinery train`: the data set from result files, the events the trigger recorded (real
Redis), and promotion as a person's decision that a refused evaluation blocks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aredis
from typer.testing import CliRunner

from api.cli.train import train_app
from core.settings import get_settings
from core.training.config import SHARED_DATA
from core.training.dataset import DataManifest
from core.training.export import ExportedAdapter
from core.training.lora import TrainingResult
from core.training.pipeline import REPORT_FILE, Evaluation, PipelineReport
from core.training.trigger import TrainingEvent, TrainingEvents

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    prefix = f"cli{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REFINERY_REDIS_KEY_PREFIX", prefix)
    monkeypatch.setenv("REFINERY_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield prefix
    get_settings.cache_clear()


def test_train_data_writes_the_data_set_without_the_evaluation_rows(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (SHARED_DATA / "commongen_hard_dev.jsonl").open()]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(
        json.dumps({"id": r["id"], "answer": "An answer.", "score": 0.99, "failing": []}) + "\n"
        for r in rows[:5]
    ))  # fmt: skip
    out = tmp_path / "set"
    done = runner.invoke(train_app, ["data", "--out", str(out), "--recipe", "fast_smollm2",
                                     "--results", str(results)])  # fmt: skip
    assert done.exit_code == 0, done.output
    counts = json.loads(done.stdout)
    missing = runner.invoke(train_app, ["data", "--out", str(out), "--results", "nowhere.jsonl"])
    assert missing.exit_code == 2 and "nowhere.jsonl does not exist" in missing.output
    # fast_smollm2 evaluates on the first 2 dev tasks: they never reach the data set
    assert counts["train"] + counts["validation"] == 3
    assert counts["dropped: held-out task"] == 2
    assert json.loads((out / "manifest.json").read_text())["recipe"] == "fast_smollm2"


def _report(folder: Path, promotion: str) -> Path:
    folder.mkdir(parents=True)
    manifest = DataManifest(version="v1", git_commit="c", git_dirty=False, recipe="r",
                            recipe_fingerprint="f", data_config={}, sources=[], held_out=[],
                            counts={"train": 3})  # fmt: skip
    training = TrainingResult(recipe="r", recipe_fingerprint="f", base="smollm2-135m",
                              base_file="/m/base.gguf", steps=4, examples=3, seconds=1,
                              train_seconds=1, peak_rss_mb=1, trainable_parameters=1,
                              adapter_dir="/a", adapter_bytes=1, finished=True)  # fmt: skip
    report = PipelineReport(
        reason="manual", recipe="r", started_at="now", seconds=1, directory=str(folder),
        data=manifest, training=training, promotion=promotion,  # type: ignore[arg-type]
        adapter=ExportedAdapter(path=str(folder / "r-v1.gguf"), bytes=1, tensors=2,
                                architecture="llama", alpha=16),
        evaluation=Evaluation(report="r.md", verdict="v", worse_on=["concept_coverage"],
                              allows_promotion=promotion != "refused"),
    )  # fmt: skip
    (folder / REPORT_FILE).write_text(report.model_dump_json())
    return folder


def test_promotion_is_refused_after_a_worse_evaluation_unless_forced(
    env: str, tmp_path: Path
) -> None:
    refused = _report(tmp_path / "refused", "refused")
    done = runner.invoke(train_app, ["promote", str(refused)])
    assert done.exit_code == 1 and "worse on concept_coverage" in done.output
    promoted = get_settings().data_dir / "training" / "promoted.json"
    assert not promoted.exists()

    allowed = _report(tmp_path / "allowed", "awaiting a person")
    done = runner.invoke(train_app, ["promote", str(allowed)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == (
        f"REFINERY_MODEL_PATH=/m/base.gguf REFINERY_MODEL_LORA={allowed / 'r-v1.gguf'}"
    )
    assert json.loads(promoted.read_text())["name"] == "base+r-v1"

    done = runner.invoke(train_app, ["promote", "--force", str(refused)])
    assert done.exit_code == 0, done.output
    assert json.loads(promoted.read_text())["report"] == str(refused)


def test_events_lists_what_the_trigger_recorded_newest_first(env: str, redis_url: str) -> None:
    async def record() -> None:
        redis = aredis.from_url(redis_url)
        events = TrainingEvents(redis, f"{env}:telemetry")
        for at, reason in ((1.0, "schedule"), (2.0, "review_or_retrain")):
            await events.record(TrainingEvent(at=at, reason=reason, status="refused",  # type: ignore[arg-type]
                                              summary=reason))  # fmt: skip
        await redis.aclose()

    asyncio.run(record())
    done = runner.invoke(train_app, ["events"])
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["at"], e["reason"]) for e in lines] == [
        (2.0, "review_or_retrain"),
        (1.0, "schedule"),
    ]


def test_train_data_reads_ratings_and_reviews_from_the_feedback_store(
    env: str, redis_url: str, tmp_path: Path
) -> None:
    from core.feedback.store import FeedbackStore, RunRecord

    async def remember() -> None:
        redis = aredis.from_url(redis_url)
        store = FeedbackStore(redis, f"{env}:telemetry", get_settings())
        for run_id in ("a", "b", "c"):
            await store.remember_run(RunRecord(run_id=run_id, task=f"Task {run_id}.",
                                               answer=f"Answer {run_id}."))  # fmt: skip
        await store.rate("a", "up")
        await store.save_reviews("b", [{"action": "edit", "draft": "Draft b.", "round": 1,
                                        "corrected": "Corrected b."}])  # fmt: skip
        await store.rate("c", "up")
        await store.save_reviews("c", [{"action": "reject", "draft": "Answer c.", "round": 1}])
        await redis.aclose()

    asyncio.run(remember())
    out, empty = tmp_path / "set", tmp_path / "no-results"
    empty.mkdir()
    done = runner.invoke(train_app, ["data", "--out", str(out), "--recipe", "fast_smollm2",
                                     "--results", str(empty), "--feedback"])  # fmt: skip
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for name in ("train.jsonl", "validation.jsonl")
            for line in (out / name).read_text().splitlines()]  # fmt: skip
    assert sorted((r["id"], r["answer"], r["weight"]) for r in rows) == [
        ("a", "Answer a.", 2),
        ("b", "Corrected b.", 2),
    ]
