"""The training data set from the engine's history: only runs that passed their checks, a
person's rating weighs (up) or drops (down), first drafts become rejected sides, one example a
task, a stable split by task, and no held-out row (by id or by text) ever reaches it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.feedback.store import RunRecord
from core.training.config import SHARED_DATA, TrainConfig
from core.training.dataset import (
    MANIFEST_FILE,
    PREFERENCE_FILE,
    TRAIN_FILE,
    VALIDATION_FILE,
    build_dataset,
    in_validation,
)
from core.training.heldout import HeldOut, HeldOutLeakError

CGH = SHARED_DATA / "commongen_hard_dev.jsonl"


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _result(i: str, **fields: Any) -> dict[str, Any]:
    row = {"id": i, "thread_id": f"th-{i}", "answer": f"final {i}", "first_draft": f"draft {i}",
           "score": 0.97, "failing": [], "error": None}  # fmt: skip
    return row | fields


def _recipe(**data: Any) -> TrainConfig:
    """A recipe whose evaluation rows are the first 30 CommonGen-Hard dev tasks."""
    return TrainConfig.model_validate(
        {"data": {"validation_share": 0.0, **data},
         "evaluation": {"sets": [{"path": str(CGH), "first": 30}]}}
    )  # fmt: skip


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, Path]:
    requests = _write(tmp_path / "requests.jsonl", [
        {"id": f"r{n}", "task": f"Task number {n}: write about the sea."} for n in range(6)
    ])  # fmt: skip
    results = _write(tmp_path / "results.jsonl", [
        _result("r0"),
        _result("r1", error="model down"),
        _result("r2", failing=["length"]),
        _result("r3", score=0.5),
        _result("r4", first_draft="final r4"),
        _result("r5"),
    ])  # fmt: skip
    return results, requests


def test_only_runs_that_passed_their_checks_are_kept_with_drafts_as_rejected_sides(
    tmp_path: Path, history: tuple[Path, Path]
) -> None:
    results, requests = history
    manifest = build_dataset(tmp_path / "out", _recipe(), results=[results], requests=[requests])

    train = _rows(tmp_path / "out" / TRAIN_FILE)
    assert sorted(r["id"] for r in train) == ["r0", "r4", "r5"]
    assert train[0]["messages"] == [
        {"role": "user", "content": "Task number 0: write about the sea."},
        {"role": "assistant", "content": "final r0"},
    ]
    pairs = _rows(tmp_path / "out" / PREFERENCE_FILE)
    # r4's first draft is its final answer: no preference pair for it
    assert [(p["id"], p["chosen"], p["rejected"]) for p in pairs] == [
        ("r0", "final r0", "draft r0"),
        ("r5", "final r5", "draft r5"),
    ]
    assert manifest.counts["dropped: error"] == 1
    assert manifest.counts["dropped: failing instructions"] == 1
    assert manifest.counts["dropped: score below the minimum"] == 1


def test_an_example_is_learnt_with_the_prompt_its_task_gets_in_one_pass(
    tmp_path: Path, history: tuple[Path, Path]
) -> None:
    results, requests = history
    seen: list[tuple[str, str]] = []

    def prompter(request: Any, preset: str) -> list[dict[str, str]] | None:
        seen.append((request["task"], preset))
        if request["id"] == "r5":
            return None
        return [
            {"role": "system", "content": "S"},
            {"role": "user", "content": f"P {request['id']}"},
        ]

    build_dataset(tmp_path / "out", _recipe(), results=[results], requests=[requests],
                  prompter=prompter)  # fmt: skip

    train = {r["id"]: r for r in _rows(tmp_path / "out" / TRAIN_FILE)}
    assert train["r0"]["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "P r0"},
        {"role": "assistant", "content": "final r0"},
    ]
    assert train["r0"]["task"] == "Task number 0: write about the sea."  # held-out checks use it
    assert train["r5"]["messages"][0]["content"] == "Task number 5: write about the sea."
    pairs = {p["id"]: p for p in _rows(tmp_path / "out" / PREFERENCE_FILE)}
    assert pairs["r0"]["prompt"] == "P r0"
    assert pairs["r0"]["messages"] == train["r0"]["messages"][:-1]
    assert {preset for _, preset in seen} == {"single_pass"}  # the recipe's evaluation preset


def test_a_persons_rating_weighs_up_drops_or_adds_an_example(
    tmp_path: Path, history: tuple[Path, Path]
) -> None:
    results, requests = history
    feedback = [
        RunRecord(run_id="th-r0", task="Task number 0: write about the sea.", answer="final r0",
                  rating="up"),
        RunRecord(run_id="th-r5", task="Task number 5: write about the sea.", answer="final r5",
                  rating="down"),
        RunRecord(run_id="api-7", task="Name three rivers.", answer="Nile, Amazon, Danube.",
                  rating="up", score=0.9),
    ]  # fmt: skip
    manifest = build_dataset(
        tmp_path / "out", _recipe(approved_weight=3), results=[results], requests=[requests],
        feedback=feedback,
    )  # fmt: skip

    train = {r["id"]: r for r in _rows(tmp_path / "out" / TRAIN_FILE)}
    assert sorted(train) == ["api-7", "r0", "r4"]
    assert (train["r0"]["weight"], train["r0"]["approved"]) == (3, True)
    assert (train["r4"]["weight"], train["r4"]["approved"]) == (1, False)
    assert train["api-7"]["answer"] == "Nile, Amazon, Danube." and train["api-7"]["weight"] == 3
    assert manifest.counts["dropped: rejected or rated down by a person"] == 1
    assert manifest.counts["train_weighted"] == 3 + 1 + 3


def test_one_example_a_task_the_best_scored_and_a_stable_split_by_task(tmp_path: Path) -> None:
    task = "Describe a lighthouse."
    same = "  describe a LIGHTHOUSE. "
    requests = _write(tmp_path / "q.jsonl", [{"id": "a", "task": task}, {"id": "b", "task": same}])
    results = _write(tmp_path / "r.jsonl", [_result("a", score=0.92), _result("b", score=0.99)])
    manifest = build_dataset(tmp_path / "o", _recipe(), results=[results], requests=[requests])
    assert [r["id"] for r in _rows(tmp_path / "o" / TRAIN_FILE)] == ["b"]
    assert manifest.counts["dropped: duplicate task"] == 1

    tasks = [f"Task {n}" for n in range(400)]
    held = [t for t in tasks if in_validation(t, 0.25)]
    assert held == [t for t in tasks if in_validation(t, 0.25)]  # the same split every time
    assert 60 < len(held) < 140  # about a quarter of 400 (binomial sd 8.7)


def test_held_out_rows_never_reach_the_data_set_by_id_or_by_text(tmp_path: Path) -> None:
    dev = [json.loads(line) for line in CGH.read_text().splitlines()]
    first, later = dev[0], dev[40]
    requests = _write(tmp_path / "q.jsonl", [
        first,                                                 # held out by id (and text)
        {"id": "mine-1", "task": dev[5]["task"].upper()},      # held out by text only
        later,                                                 # past the first 30: trainable
    ])  # fmt: skip
    results = _write(tmp_path / "r.jsonl", [_result(first["id"]), _result("mine-1"),
                                            _result(later["id"])])  # fmt: skip
    manifest = build_dataset(tmp_path / "o", _recipe(), results=[results], requests=[requests])

    kept = _rows(tmp_path / "o" / TRAIN_FILE) + _rows(tmp_path / "o" / VALIDATION_FILE)
    assert [r["id"] for r in kept] == [later["id"]]
    assert manifest.counts["dropped: held-out task"] == 2
    assert {"path": str(CGH), "rows": 30} in manifest.held_out

    held = HeldOut.load([], repo_sets=[CGH])
    with pytest.raises(HeldOutLeakError, match="1 held-out"):
        held.check([("other-id", dev[100]["task"])])


def test_the_manifest_versions_the_data_with_commit_and_recipe(
    tmp_path: Path, history: tuple[Path, Path]
) -> None:
    results, requests = history
    one = build_dataset(tmp_path / "a", _recipe(), results=[results], requests=[requests])
    two = build_dataset(tmp_path / "b", _recipe(), results=[results], requests=[requests])
    other = build_dataset(tmp_path / "c", _recipe(min_score=0.4), results=[results],
                          requests=[requests])  # fmt: skip

    assert one.version == two.version != other.version
    assert len(one.git_commit) == 40
    assert one.recipe_fingerprint == _recipe().fingerprint()
    saved = json.loads((tmp_path / "a" / MANIFEST_FILE).read_text())
    assert saved["version"] == one.version and saved["data_config"]["min_score"] == 0.9
    assert [s["path"] for s in saved["sources"]] == [str(results), str(requests)]


def test_a_grounded_task_is_learnt_with_its_documents(tmp_path: Path) -> None:
    docs = [{"id": "d1", "text": "The ferry leaves at 9."}, {"id": "d2", "text": "It is red."}]
    requests = _write(tmp_path / "q.jsonl", [{"id": "g1", "task": "When does it leave?",
                                              "documents": docs}])  # fmt: skip
    results = _write(tmp_path / "r.jsonl", [_result("g1", answer="At 9 [d1].")])
    build_dataset(tmp_path / "o", _recipe(), results=[results], requests=[requests])

    [row] = _rows(tmp_path / "o" / TRAIN_FILE)
    assert row["messages"][0]["content"] == (
        "Documents:\n[d1] The ferry leaves at 9.\n\n[d2] It is red.\n\nWhen does it leave?"
    )
    assert row["task"] == "When does it leave?"  # held-out checks read the task itself


def test_a_reviewers_edit_is_the_answer_and_the_draft_they_corrected_the_rejected_side(
    tmp_path: Path, history: tuple[Path, Path]
) -> None:
    results, requests = history

    def review(action: str, **fields: Any) -> dict[str, Any]:
        return {"action": action, "draft": "draft shown", "round": 1, **fields}

    feedback = [
        RunRecord(run_id="th-r0", task="Task number 0: write about the sea.",
                  reviews=[review("edit", corrected="The sea, as the reviewer wrote it.")]),
        RunRecord(run_id="th-r4", task="Task number 4: write about the sea.",
                  reviews=[review("feedback", notes="shorter"), review("approve")]),
        RunRecord(run_id="th-r5", task="Task number 5: write about the sea.",
                  reviews=[review("reject")]),
    ]  # fmt: skip
    manifest = build_dataset(tmp_path / "o", _recipe(), results=[results], requests=[requests],
                             feedback=feedback)  # fmt: skip

    train = {r["id"]: r for r in _rows(tmp_path / "o" / TRAIN_FILE)}
    assert sorted(train) == ["r0", "r4"]
    assert train["r0"]["answer"] == "The sea, as the reviewer wrote it."
    assert (train["r0"]["approved"], train["r0"]["weight"]) == (True, 2)
    assert (train["r4"]["answer"], train["r4"]["approved"]) == ("final r4", True)
    pairs = {p["id"]: p for p in _rows(tmp_path / "o" / PREFERENCE_FILE)}
    assert (pairs["r0"]["chosen"], pairs["r0"]["rejected"]) == (
        "The sea, as the reviewer wrote it.",
        "draft shown",
    )
    assert manifest.counts["dropped: rejected or rated down by a person"] == 1
