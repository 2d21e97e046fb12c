"""How well an answer reads, by a second model: per-token perplexity and a pairwise judgement."""

from __future__ import annotations

import atexit
import math
import threading
from typing import TYPE_CHECKING

import numpy as np

from core.llm.local_model import COHERENCE_MODEL, assemble
from core.settings import get_settings
from core.text.plain import strip_citations

if TYPE_CHECKING:
    from llama_cpp import Llama

READER = COHERENCE_MODEL.name
"""The second model: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (`COHERENCE_MODEL`), not the writer."""
N_CTX = 2048
"""Its context: the task (`TASK_TOKENS`) and the texts (`TEXT_TOKENS` each) fit in it."""
TASK_TOKENS = 256
"""A task is read up to this many tokens (the IFBench prompts run long)."""
TEXT_TOKENS = 768
"""An answer is read up to this many tokens: its perplexity is over them, the judge sees them."""
THREADS = 2
SYSTEM = "You are a careful editor who judges how well texts read."
QUESTION = (
    "Which answer is the better answer to the task: more coherent, more natural to read? "
    "Reply with one letter, A or B."
)
"""The judge's prompt, in the model's own chat template (ChatML, as its GGUF metadata has it):

    <|im_start|>system
    {SYSTEM}<|im_end|>
    <|im_start|>user
    Task: {task}

    Answer A:
    {a}

    Answer B:
    {b}

    {QUESTION}<|im_end|>
    <|im_start|>assistant

and the verdict is whichever of the tokens `A` and `B` is likelier next (`letter_gap`)."""

_lock = threading.Lock()
_models: dict[bool, Llama] = {}


@atexit.register
def _close_models() -> None:
    """The models freed while the interpreter still works: left to `Llama.__del__` at shutdown,
    each printed a `TypeError: 'NoneType' object is not callable` traceback after every test run."""
    while _models:
        _models.popitem()[1].close()


def model(all_logits: bool) -> Llama:
    """The second model, loaded in this process once (per `all_logits`) and kept.

    In-process with llama-cpp-python rather than on a llama-server: perplexity needs the
    log-probability of every token of a given text, and llama-server gives log-probabilities of
    generated tokens only (its completions answer `echo` with "Only no echo is supported"), so
    it cannot score a text it did not write. Two instances share the file: one keeps every
    position's logits (perplexity), the judge's only the last (`logits_all` costs time on every
    prompt token). Callers hold `_lock`."""
    if all_logits not in _models:
        from llama_cpp import Llama

        path = assemble(COHERENCE_MODEL, get_settings().data_dir / "models")
        _models[all_logits] = Llama(
            model_path=str(path),
            n_ctx=N_CTX,
            n_threads=THREADS,
            logits_all=all_logits,
            verbose=False,
        )
    return _models[all_logits]


def _tokens(llm: Llama, text: str, *, special: bool = False) -> list[int]:
    return llm.tokenize(text.encode(), add_bos=False, special=special)


def _log_softmax_at(rows: np.ndarray, targets: list[int]) -> np.ndarray:
    """log p(target) under each row of logits, a block of rows at a time (a row is 151,936
    floats)."""
    out = np.empty(len(targets))
    for start in range(0, len(targets), 128):
        block = rows[start : start + 128].astype(np.float64)
        top = block.max(axis=1, keepdims=True)
        norm = top[:, 0] + np.log(np.exp(block - top).sum(axis=1))
        picked = block[np.arange(len(block)), targets[start : start + 128]]
        out[start : start + len(block)] = picked - norm
    return out


def perplexity(text: str, task: str = "") -> float:
    """Per-token perplexity of `text` (citations stripped; its first `TEXT_TOKENS` tokens)
    under the second model, after the fixed prefix "Task: {task}\\nAnswer:\\n": exp of the mean
    negative log-likelihood of the answer's tokens alone. NaN for an empty text.

    Read it with the repetition checks beside it, never alone: after a task that lists the
    words to use, the words come cheap wherever they stand, so a list of them and a loop read
    as fluent. Measured after "Write a short story about a winter morning using the words snow,
    dog, coffee, window, run, scarf.": a fluent four-sentence story 24.8, the same with two
    nonsense sentences bolted on 57.9, its words shuffled 1,428; a list of the six words 6.5, one
    sentence said four times 4.1."""
    text = strip_citations(text).strip()
    if not text:
        return math.nan
    with _lock:
        llm = model(all_logits=True)
        prefix = _tokens(llm, "Task: ") + _tokens(llm, task)[:TASK_TOKENS]
        prefix += _tokens(llm, "\nAnswer:\n")
        answer = _tokens(llm, text)[:TEXT_TOKENS]
        llm.reset()
        llm.eval(prefix + answer)
        # the logits at position i predict token i + 1
        rows = llm.scores[len(prefix) - 1 : len(prefix) + len(answer) - 1]
        log_probs = _log_softmax_at(rows, answer)
    return float(math.exp(-log_probs.mean()))


def letter_gap(task: str, a: str, b: str) -> float:
    """log p("A") - log p("B") for the judge's next token, `a` shown as Answer A and `b` as
    Answer B (see `QUESTION`): positive when the judge prefers A."""
    from llama_cpp import llama_get_logits_ith

    with _lock:
        llm = model(all_logits=False)
        head = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
        tokens = _tokens(llm, head, special=True)
        tokens += _tokens(llm, "Task: ") + _tokens(llm, task)[:TASK_TOKENS]
        tokens += _tokens(llm, "\n\nAnswer A:\n") + _tokens(llm, a)[:TEXT_TOKENS]
        tokens += _tokens(llm, "\n\nAnswer B:\n") + _tokens(llm, b)[:TEXT_TOKENS]
        tokens += _tokens(llm, f"\n\n{QUESTION}")
        tokens += _tokens(llm, "<|im_end|>\n<|im_start|>assistant\n", special=True)
        llm.reset()
        llm.eval(tokens)
        last = np.ctypeslib.as_array(llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
        [letter_a], [letter_b] = _tokens(llm, "A"), _tokens(llm, "B")
        return float(last[letter_a]) - float(last[letter_b])


def judge_pair(task: str, first: str, final: str) -> float | None:
    """The second model's verdict on the final answer against the first draft, asked in both
    orders (first draft as A and final as B, then swapped), counted only when both agree: 1.0
    the final answer is preferred, 0.0 the first draft, 0.5 a tie or a disagreement (the
    judge followed the position, not the texts). Identical texts (citations aside) are 0.5
    and an empty final answer 0.0 without asking; None without a first draft.

    Measured on 21 stored CommonGen-Hard pairs: this 0.5B model named "A" in both orders on all
    21 (log p(A) - log p(B) +0.30 to +0.57 whichever text was A), so every verdict was a tie.
    Nor does the gap carry a signal once the position's share is taken out (half the difference
    of the two orders): a fluent six-word story against a listing of its words +0.014, against
    the same story with two nonsense sentences bolted on -0.024, against its words shuffled
    -0.038 (negative: the word salad preferred). A judge needs a model that can read; none
    other than the writer ships here."""
    first, final = strip_citations(first).strip(), strip_citations(final).strip()
    if not first:
        return None
    if first == final:
        return 0.5
    if not final:
        return 0.0
    final_as_b = letter_gap(task, first, final) < 0
    final_as_a = letter_gap(task, final, first) > 0
    if final_as_b == final_as_a:
        return 1.0 if final_as_a else 0.0
    return 0.5


def measure(task: str, first: str, final: str) -> dict[str, float]:
    """The coherence metrics of one answer (`evals.metrics.COHERENCE`): perplexity of the final
    answer, its ratio to the first draft's (1.0 when the answer is the first draft), and the
    pairwise judgement with whether it is not worse; NaN where a text is missing."""
    final_ppl = perplexity(final, task)
    same = strip_citations(first).strip() == strip_citations(final).strip()
    first_ppl = final_ppl if same else perplexity(first, task)
    pair = judge_pair(task, first, final)
    return {
        "perplexity": final_ppl,
        "perplexity_ratio": 1.0 if same and first.strip() else final_ppl / first_ppl,
        "pairwise": math.nan if pair is None else pair,
        "judged_not_worse": math.nan if pair is None else float(pair >= 0.5),
    }
