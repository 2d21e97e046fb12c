"""LoRA fine-tuning on CPU with `peft` and transformers' `Trainer` (its progress bar, its
checkpoints of adapter, optimiser, scheduler and data position, and its resume): the base is a
packaged GGUF, dequantised once (`core.training.dequantised`), so nothing is downloaded."""

from __future__ import annotations

import json
import logging
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.settings import Settings, get_settings
from core.training.bases import base_file
from core.training.config import TrainConfig
from core.training.dataset import TRAIN_FILE, VALIDATION_FILE
from core.training.dequantised import load_dequantised

log = logging.getLogger(__name__)

ADAPTER_DIR, BASE_CONFIG_DIR, CHECKPOINTS_DIR = "adapter", "base-config", "checkpoints"
RESULT_FILE, RUN_FILE = "training.json", "run.json"


class TrainingResult(BaseModel):
    """What one `train` call did and cost."""

    recipe: str
    recipe_fingerprint: str
    base: str
    base_file: str
    steps: int
    """The step training reached (max_steps unless it was stopped)."""
    resumed_from_step: int | None = None
    examples: int
    """Training rows after weighting (an approved example counts `approved_weight` times)."""
    train_loss: float | None = None
    validation_loss: float | None = None
    seconds: float
    """Wall time of this call: loading the base, training and saving."""
    train_seconds: float
    peak_rss_mb: float
    """The process's peak resident memory (getrusage), in MiB."""
    trainable_parameters: int
    adapter_dir: str
    adapter_bytes: int
    finished: bool


def load_base(recipe: TrainConfig, settings: Settings | None = None) -> tuple[Any, Any, Path]:
    """The base model (float32, dequantised from its GGUF, converted once and kept under the
    data folder) and its tokenizer, from the GGUF's own metadata (chat template included)."""
    settings = settings or get_settings()
    gguf = base_file(recipe.base, settings)
    model, tokenizer = load_dequantised(gguf, settings.data_dir / "models")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, gguf


def encode(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> dict[str, list]:
    """One chat example (its messages, the answer last) as token ids, the loss on the answer
    only (the prompt's labels -100)."""
    asked = messages[:-1]
    prompt = tokenizer.apply_chat_template(asked, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"][:max_length]
    prompt_len = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if not full.startswith(prompt):
        prompt_len = 0  # a template that rewrites the prompt: learn the whole text
    labels = [-100] * min(prompt_len, len(ids)) + ids[prompt_len:]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def read_rows(path: Path, tokenizer: Any, max_length: int, weighted: bool) -> list[dict]:
    """A data set file as encoded rows; with `weighted`, each repeated `weight` times."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        example = json.loads(line)
        encoded = encode(tokenizer, example["messages"], max_length)
        rows += [encoded] * (int(example.get("weight", 1)) if weighted else 1)
    return rows


def save_base_config(model: Any, tokenizer: Any, target: Path) -> None:
    """The base's config and tokenizer as Hugging Face files: what llama.cpp's adapter
    converter reads to name the tensors (`--base`); its GGUF origin is left out."""
    model.config.architectures = [type(model).__name__]
    model.config.save_pretrained(target)
    tokenizer.save_pretrained(target)
    config_path = target / "config.json"
    config = json.loads(config_path.read_text())
    config.pop("quantization_config", None)
    config_path.write_text(json.dumps(config, indent=2))


def _stop_at(step: int | None) -> Any:
    """A callback that stops training at `step`, saving a checkpoint there (an interrupt)."""
    from transformers import TrainerCallback

    class StopAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if step is not None and state.global_step >= step:
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopAt()


def _arguments(recipe: TrainConfig, out: Path, progress: bool) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out / CHECKPOINTS_DIR),
        max_steps=recipe.max_steps,
        per_device_train_batch_size=recipe.batch_size,
        per_device_eval_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.grad_accumulation,
        learning_rate=recipe.learning_rate,
        warmup_steps=recipe.warmup_steps,
        lr_scheduler_type="linear",
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        logging_steps=1,
        seed=recipe.seed,
        data_seed=recipe.seed,
        use_cpu=True,
        report_to="none",
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


class CheckpointMismatchError(ValueError):
    """The checkpoints in the output folder come from another recipe or data set."""


def resume_point(recipe: TrainConfig, data: Path, out: Path, resume: bool) -> str | None:
    """The last checkpoint in `out` when `resume`, if it belongs to this recipe and data set
    (else an error: resuming another run's optimiser state would train a mixture); `out` is
    stamped as this run's either way."""
    from transformers.trainer_utils import get_last_checkpoint

    manifest = data / "manifest.json"
    identity = {
        "recipe_fingerprint": recipe.fingerprint(),
        "data_version": json.loads(manifest.read_text())["version"] if manifest.is_file() else None,
    }
    stamp = out / RUN_FILE
    checkpoints = out / CHECKPOINTS_DIR
    if not resume and checkpoints.is_dir():
        shutil.rmtree(checkpoints)  # starting over: an old checkpoint must not be resumed later
    last = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
    if last and stamp.is_file() and json.loads(stamp.read_text()) != identity:
        raise CheckpointMismatchError(
            f"{out} holds checkpoints of {stamp.read_text().strip()}, not of {identity}: "
            "give another --out, or --no-resume"
        )
    out.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(identity))
    return last


def train(
    recipe: TrainConfig,
    data: Path,
    out: Path,
    *,
    resume: bool = True,
    stop_at: int | None = None,
    progress: bool = True,
    settings: Settings | None = None,
) -> TrainingResult:
    """Fine-tune a LoRA adapter of `recipe.base` on `data` (a `build_dataset` folder) into
    `out`; resumes from the last checkpoint in `out` when `resume`, and `stop_at` stops early at
    that step with a checkpoint (as an interrupt would, for resuming later)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer

    started = time.perf_counter()
    if recipe.threads:
        torch.set_num_threads(recipe.threads)
    model, tokenizer, gguf = load_base(recipe, settings)
    torch.manual_seed(recipe.seed)  # after the load, so the adapter's start ignores its draws
    train_rows = read_rows(data / TRAIN_FILE, tokenizer, recipe.max_length, weighted=True)
    if not train_rows:
        raise ValueError(f"{data / TRAIN_FILE} holds no examples: nothing to train on")
    validation_rows = read_rows(data / VALIDATION_FILE, tokenizer, recipe.max_length, False)
    lora = recipe.lora
    model = get_peft_model(
        model,
        LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            target_modules=list(lora.target_modules),
            task_type="CAUSAL_LM",
        ),
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    out.mkdir(parents=True, exist_ok=True)
    save_base_config(model.get_base_model(), tokenizer, out / BASE_CONFIG_DIR)
    last = resume_point(recipe, data, out, resume)
    resumed_from = (
        json.loads((Path(last) / "trainer_state.json").read_text())["global_step"] if last else None
    )
    trainer = Trainer(
        model=model,
        args=_arguments(recipe, out, progress),
        train_dataset=train_rows,
        eval_dataset=validation_rows or None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        callbacks=[_stop_at(stop_at)],
    )
    fit_started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=last)
    train_seconds = time.perf_counter() - fit_started
    finished = trainer.state.global_step >= recipe.max_steps
    validation_loss = trainer.evaluate()["eval_loss"] if validation_rows and finished else None
    adapter = out / ADAPTER_DIR
    model.save_pretrained(adapter)
    result = TrainingResult(
        recipe=recipe.name,
        recipe_fingerprint=recipe.fingerprint(),
        base=recipe.base,
        base_file=str(gguf),
        steps=trainer.state.global_step,
        resumed_from_step=resumed_from,
        examples=len(train_rows),
        train_loss=round(output.training_loss, 4) if output.training_loss else None,
        validation_loss=round(validation_loss, 4) if validation_loss is not None else None,
        seconds=round(time.perf_counter() - started, 1),
        train_seconds=round(train_seconds, 1),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        trainable_parameters=trainable,
        adapter_dir=str(adapter),
        adapter_bytes=sum(p.stat().st_size for p in adapter.iterdir() if p.is_file()),
        finished=finished,
    )
    (out / RESULT_FILE).write_text(result.model_dump_json(indent=2) + "\n")
    return result
