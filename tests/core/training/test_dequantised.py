"""A GGUF base is dequantised once: the saved copy loads the same weights, tokens and chat
template as the GGUF, and a copy left half-written by an interrupted conversion is replaced."""

from __future__ import annotations

from pathlib import Path

import torch

from core.training.bases import smollm2_file
from core.training.dequantised import CACHE_DIR, READY, cache_key, load_dequantised

MESSAGES = [{"role": "user", "content": "Write about a red kite."}]


def test_the_saved_copy_loads_what_the_gguf_holds(tmp_path: Path) -> None:
    gguf = smollm2_file()
    folder = tmp_path / CACHE_DIR / cache_key(gguf)
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"cut short")  # no READY: interrupted

    converted, tokenizer = load_dequantised(gguf, tmp_path)
    assert (folder / READY).read_text().strip() == folder.name
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left

    loaded, reloaded_tokenizer = load_dequantised(gguf, tmp_path)
    assert type(loaded) is type(converted)
    expected, actual = converted.state_dict(), loaded.state_dict()
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[name], actual[name]) for name in expected)
    text = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert "red kite" in text
    assert (
        reloaded_tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
        == text
    )
    assert reloaded_tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]
    assert reloaded_tokenizer.eos_token == tokenizer.eos_token
