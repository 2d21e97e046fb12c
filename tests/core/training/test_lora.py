"""LoRA training checkpoints and resumes: a run stopped at step 1 (as an interrupt leaves it,
with a checkpoint) and started again continues from step 1 to the end, and ends on the same
adapter as a run that was never stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from core.training.config import TrainConfig, load_training
from core.training.lora import (
    ADAPTER_DIR,
    CHECKPOINTS_DIR,
    RESULT_FILE,
    CheckpointMismatchError,
    resume_point,
    train,
)

TASKS = [("Write about a red kite.", "A red kite circled over the hill."),
         ("Write about a blue boat.", "A blue boat rocked at the pier."),
         ("Write about a green door.", "A green door creaked in the wind.")]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lora-data")
    rows = [{"messages": [{"role": "user", "content": t}, {"role": "assistant", "content": a}],
             "weight": 1} for t, a in TASKS]  # fmt: skip
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _recipe() -> TrainConfig:
    fast = load_training("fast_smollm2")
    return fast.model_copy(update={"max_steps": 2, "save_steps": 1})


def _adapter(out: Path) -> dict[str, object]:
    return load_file(out / ADAPTER_DIR / "adapter_model.safetensors")


def test_a_stopped_run_resumes_from_its_checkpoint_to_the_same_adapter(
    data: Path, tmp_path: Path
) -> None:
    stopped = train(_recipe(), data, tmp_path / "a", stop_at=1, progress=False)
    assert (stopped.steps, stopped.finished) == (1, False)
    assert (tmp_path / "a" / CHECKPOINTS_DIR / "checkpoint-1").is_dir()

    resumed = train(_recipe(), data, tmp_path / "a", progress=False)
    assert (resumed.resumed_from_step, resumed.steps, resumed.finished) == (1, 2, True)
    assert json.loads((tmp_path / "a" / RESULT_FILE).read_text())["resumed_from_step"] == 1

    straight = train(_recipe(), data, tmp_path / "b", progress=False)
    assert straight.resumed_from_step is None and straight.steps == 2
    one, two = _adapter(tmp_path / "a"), _adapter(tmp_path / "b")
    assert one.keys() == two.keys() and len(one) == 2 * 2 * 30
    assert all(bool((one[k] == two[k]).all()) for k in one)  # type: ignore[union-attr]


def test_checkpoints_of_another_recipe_are_not_resumed(data: Path, tmp_path: Path) -> None:
    """Checked without training: the folder's stamp names the recipe its checkpoints are of."""
    assert resume_point(_recipe(), data, tmp_path, resume=True) is None  # stamps the folder
    (tmp_path / CHECKPOINTS_DIR / "checkpoint-3").mkdir(parents=True)
    assert resume_point(_recipe(), data, tmp_path, resume=True).endswith("checkpoint-3")  # type: ignore[union-attr]

    other = _recipe().model_copy(update={"learning_rate": 0.5})
    with pytest.raises(CheckpointMismatchError, match="--no-resume"):
        resume_point(other, data, tmp_path, resume=True)
    assert resume_point(other, data, tmp_path, resume=False) is None  # starts over
    assert not (tmp_path / CHECKPOINTS_DIR).exists()
    assert resume_point(other, data, tmp_path, resume=True) is None  # now stamped as `other`
