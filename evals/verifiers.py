"""The IFEval and IFBench verifiers of if-verifiable 0.1.2, run offline: each instruction of a
task checked strictly and loosely by the package's own `evaluate_instructions`.

The package is imported only after `use_shipped_data` (its IFBench module would otherwise call
`nltk.download` at import). Its scoring is used as it is, except `words:start_verb` (see
`core.text.verbs`) and a fixed langdetect seed; `DIFFERENCES` says where results can differ from the
reference scorer.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from evals.nltk_offline import use_shipped_data

Benchmark = Literal["ifbench", "ifeval"]

FAMILIES: dict[Benchmark, tuple[str, ...]] = {
    "ifbench": ("count", "ratio", "words", "sentence", "format", "custom", "repeat"),
    "ifeval": (
        "keywords",
        "language",
        "length_constraints",
        "detectable_content",
        "detectable_format",
        "combination",
        "startend",
        "change_case",
        "punctuation",
    ),
}
"""Each benchmark's instruction families: the prefix of an instruction id before ":"."""

DIFFERENCES = (
    "Scored with if-verifiable 0.1.2's own verifiers and strict/loose logic, offline. Can differ "
    "from the reference scorer where (1) nltk's punkt sentence splitter matters (IFEval "
    "length_constraints:number_sentences; nltk.word_tokenize in IFEval "
    "change_case:capital_word_frequency and IFBench words:keywords_specific_position, "
    "words:words_position, format:title_case, words:start_verb): the shipped punkt_tab model "
    "has empty abbreviation, collocation, sentence-starter and orthographic lists, so a period "
    "after an abbreviation (Mr., e.g., U.S.) ends a sentence, and an ellipsis, an initial or a "
    "number before a period may split otherwise; (2) IFBench words:start_verb: a "
    "verb lexicon with a one-token context rule replaces nltk's perceptron tagger "
    "(core/text/verbs.py); (3) langdetect (IFEval language:response_language, "
    "change_case:english_capital/english_lowercase) runs with seed 0, where the reference "
    "leaves it unseeded. See evals/nltk_data/README.md."
)
"""Where this scorer can differ from the reference one (each instruction metric's notes)."""


class InstructionCheck(BaseModel):
    """One instruction of a task and whether the answer followed it, strictly and loosely."""

    id: str
    strict: bool
    loose: bool


def family(instruction_id: str) -> str:
    return instruction_id.split(":", 1)[0]


def benchmark_of(instruction_ids: list[str]) -> Benchmark:
    """The benchmark whose families hold every one of `instruction_ids` (ValueError if none)."""
    for name, families in FAMILIES.items():
        if instruction_ids and all(family(i) in families for i in instruction_ids):
            return name
    raise ValueError(f"instruction ids of neither IFBench nor IFEval alone: {instruction_ids}")


@cache
def registry(benchmark: Benchmark) -> dict[str, type]:
    """Instruction id -> checker class of `benchmark`, the start-verb checker replaced."""
    use_shipped_data()
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0  # the reference leaves it random: a short text may flip
    if benchmark == "ifeval":
        from if_verifiable.ifeval.instructions_registry import INSTRUCTION_DICT

        return dict(INSTRUCTION_DICT)
    from if_verifiable.ifbench.instructions import StartWithVerbChecker
    from if_verifiable.ifbench.instructions_registry import INSTRUCTION_DICT

    from core.text.verbs import starts_with_verb

    class LexiconStartVerbChecker(StartWithVerbChecker):
        """`words:start_verb` with the verb lexicon in place of the tagger."""

        def check_following(self, value: str) -> bool:
            import nltk

            return starts_with_verb(nltk.word_tokenize(value))

    return {**INSTRUCTION_DICT, "words:start_verb": LexiconStartVerbChecker}


def build(benchmark: Benchmark, instruction_id: str, kwargs: dict[str, Any], prompt: str) -> Any:
    """The checker of one instruction, built as `evaluate_instructions` builds it (None
    arguments dropped; the prompt given to checkers that take one)."""
    checker = registry(benchmark)[instruction_id](instruction_id)
    checker.build_description(**{k: v for k, v in kwargs.items() if v is not None})
    args = checker.get_instruction_args()
    if args and "prompt" in args:
        checker.build_description(prompt=prompt)
    return checker


def check(
    benchmark: Benchmark,
    prompt: str,
    instruction_ids: list[str],
    kwargs: list[dict[str, Any]],
    response: str,
) -> list[InstructionCheck]:
    """Every instruction checked on `response`, in order. A blank response (after the package
    strips any thinking block) follows none; an id the benchmark lacks is a ValueError (the
    package would skip it silently, and the counts would shrink)."""
    table = registry(benchmark)  # first: it sets up the data the package's import needs
    from if_verifiable.common import evaluate_instructions

    unknown = [i for i in instruction_ids if i not in table]
    if unknown:
        raise ValueError(f"{benchmark} has no instruction {', '.join(unknown)}")
    results, _ = evaluate_instructions(response, instruction_ids, kwargs, prompt, table)
    if not results:
        return [InstructionCheck(id=i, strict=False, loose=False) for i in instruction_ids]
    return [
        InstructionCheck(id=r.instruction_id, strict=r.strict_pass, loose=r.loose_pass)
        for r in results
    ]
