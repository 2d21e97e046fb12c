"""The coherence metrics on the real second model (Qwen2.5-Coder-0.5B-Instruct, loaded once):
perplexity tells prose from its words shuffled and ignores citations; the pairwise judge asks
in both orders and short-cuts identical texts; the metrics reach constrained and instruction
tasks only; the gate reads a lower-is-better metric's rise as the drop."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from evals import coherence
from evals.datasets import EvalTask
from evals.gate import check
from evals.metrics import COHERENCE, METRICS, coherence_metrics, task_metrics
from graph.runner import TaskResult
from tests.evals.synthetic import make_run

TASK = "Write a sentence using the words dog, ball, snow, boy, field."
STORY = "The dog ran across the snowy field, caught the ball, and brought it back to the boy."
SHUFFLED = "boy the snowy caught across ball back field, brought and dog it to The the ran, the."
LIST = "the, dog, ran, across, snowy, field, caught, ball, and, brought, it, back, to, boy"


@pytest.fixture(scope="module")
def reader() -> Iterator[None]:
    """Both instances of the second model, loaded once for the module (kept by the process)."""
    with coherence._lock:
        coherence.model(all_logits=True)
        coherence.model(all_logits=False)
    yield


def test_a_fluent_sentence_reads_better_than_its_words_shuffled(reader: None) -> None:
    fluent, shuffled = coherence.perplexity(STORY, TASK), coherence.perplexity(SHUFFLED, TASK)
    assert fluent == pytest.approx(4.93, rel=0.05)  # measured: 4.93 (shuffled: 2,252)
    assert shuffled > 10 * fluent, (fluent, shuffled)


def test_the_answer_is_read_as_an_answer_to_its_task(reader: None) -> None:
    """The task in the prefix conditions the reading: the same story reads better after the task
    that asked for it than after none (measured: 4.93 against 20.4)."""
    assert coherence.perplexity(STORY, TASK) < 0.5 * coherence.perplexity(STORY, "")


def test_perplexity_ignores_citations(reader: None) -> None:
    cited = "The dog ran across the snowy field [doc-1], and the boy followed [doc-2]."
    plain = "The dog ran across the snowy field, and the boy followed."
    assert coherence.perplexity(cited, TASK) == pytest.approx(coherence.perplexity(plain, TASK))
    assert math.isnan(coherence.perplexity(" [doc-1] ", TASK))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="measured: the 0.5B judge follows the position, not the texts; it prefers Answer A "
    "in both orders (log p(A) - log p(B) between +0.31 and +0.51 whichever text is A, for a "
    "story against a list of its words, against its words shuffled, and for a story shown "
    "twice), so the two orders disagree and the verdict is a tie",
)
def test_the_judge_prefers_a_story_to_a_list_of_its_words_in_both_orders(reader: None) -> None:
    assert coherence.judge_pair(TASK, first=LIST, final=STORY) == 1.0
    assert coherence.judge_pair(TASK, first=STORY, final=LIST) == 0.0


@pytest.mark.parametrize(
    ("gaps", "verdict"),
    [
        ((-1.0, 1.0), 1.0),  # final preferred as B, then as A
        ((1.0, -1.0), 0.0),  # first draft preferred in both orders
        ((0.4, 0.4), 0.5),  # "A" both times: the position, not the text
        ((-0.2, -0.3), 0.5),
    ],
)
def test_a_verdict_counts_only_when_both_orders_agree(
    monkeypatch: pytest.MonkeyPatch, gaps: tuple[float, float], verdict: float
) -> None:
    """The counting rule alone (the gaps stand in for the model's): first draft as A, then
    the final answer as A."""
    asked: list[tuple[str, str]] = []

    def letter_gap(_: str, a: str, b: str) -> float:
        asked.append((a, b))
        return gaps[len(asked) - 1]

    monkeypatch.setattr(coherence, "letter_gap", letter_gap)
    assert coherence.judge_pair(TASK, first=LIST, final=STORY) == verdict
    assert asked == [(LIST, STORY), (STORY, LIST)]


def test_identical_texts_tie_without_asking_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def asked(*_: str) -> float:
        raise AssertionError("the judge was asked about identical texts")

    monkeypatch.setattr(coherence, "letter_gap", asked)
    assert coherence.judge_pair(TASK, STORY, STORY) == 0.5
    assert coherence.judge_pair(TASK, STORY, STORY.replace("boy.", "boy [doc-1].")) == 0.5
    assert coherence.judge_pair(TASK, STORY, "") == 0.0  # a failed run's empty answer
    assert coherence.judge_pair(TASK, "", STORY) is None  # no first draft to judge against


async def test_an_answer_that_is_its_first_draft_has_ratio_one(reader: None) -> None:
    task = EvalTask(id="cgh900", task=TASK, constraints={"required_words": ["dog", "ball"]})
    kept = TaskResult(thread_id="t", answer=STORY, first_draft=STORY)
    values = (await coherence_metrics(task, kept)).values
    assert values["perplexity_ratio"] == 1.0 and values["pairwise"] == 0.5
    assert values["judged_not_worse"] == 1.0 and 1.0 < values["perplexity"] < 20.0

    edited = TaskResult(thread_id="t", answer=STORY, first_draft=SHUFFLED)
    scores = await task_metrics(task, edited)
    assert set(COHERENCE) <= set(scores.values) and not scores.errors
    assert scores.values["perplexity_ratio"] < 0.1  # the shuffled draft read far worse
    assert scores.values["concept_coverage"] == 1.0  # beside coverage
    assert not set(COHERENCE) & set((await task_metrics(task, edited, coherence=False)).values)


async def test_grounded_tasks_get_no_coherence_metrics() -> None:
    task = EvalTask.model_validate(
        {"id": "qa900", "task": "Who?", "documents": [{"id": "d", "text": "Ann did."}]}
    )
    result = TaskResult(thread_id="t", answer="Ann [d].", first_draft="Ann.", passages=["d"])
    assert not set(COHERENCE) & set((await task_metrics(task, result)).values)


def test_the_gate_reads_a_rise_in_perplexity_as_the_drop() -> None:
    assert not METRICS["perplexity"].higher_is_better
    base = {f"cgh{i:03d}": {"perplexity": 10.0, "concept_coverage": 0.8} for i in range(4)}
    lower = {i: {**v, "perplexity": 8.0} for i, v in base.items()}
    higher = {**base, "cgh001": {"perplexity": 18.0, "concept_coverage": 0.8}}
    assert check(make_run("a", base), make_run("b", lower)) == []
    [failure] = check(make_run("a", base), make_run("b", higher))
    assert failure.metric == "perplexity" and failure.drop == pytest.approx(0.2)
    assert [t.id for t in failure.worse] == ["cgh001"]
    assert failure.message(0.05).startswith("perplexity rose 20.0% (10.000 -> 12.000")
    # a baseline made before the coherence metrics gates none of them
    assert (
        check(make_run("a", {i: {"concept_coverage": 0.8} for i in base}), make_run("b", higher))
        == []
    )
