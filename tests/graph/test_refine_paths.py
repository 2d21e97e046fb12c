"""Every prompt the nodes send reaches a stand-in model that recognises it (by its template in
`nodes.prompts.PROMPTS`; none falls through), and each of the refiner's paths does what it says:
missing words get a sentence, an unsupported sentence is restated from its source, a text too
long is trimmed, one too short is expanded, the critic's feedback is a rewrite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.instructions import parse_instruction
from core.text.lexicon import coverage
from core.text.plain import sentences
from graph.builder import build_graph
from graph.runner import TaskResult, run_task
from nodes.prompts import recognise
from testkit.fake_openai import ANSWERS, FakeOpenAI, Responder, cooperative_responder
from testkit.llm import Configure, serve_fake

UNSUPPORTED = "The moon is made of cheese [fleet]."
FLEET = "It runs 84 locomotives, of which 31 are battery-electric."


def grounded_liar(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that a grounded draft claims something its document never says."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "draft_grounded":
        return UNSUPPORTED
    return cooperative_responder(messages)


@pytest.fixture
def fake(llm_settings: Configure) -> Iterator[FakeOpenAI]:
    yield from serve_fake(llm_settings, grounded_liar)


def kinds(fake: FakeOpenAI, since: int) -> list[str]:
    """The kind of each prompt the fake received after the first `since`."""
    found = [recognise(text) for _, text in fake.received[since:]]
    return [k[0] for k in found if k]


async def run(fake: FakeOpenAI, request: dict[str, Any]) -> tuple[TaskResult, list[str]]:
    since = len(fake.received)
    result = await run_task(build_graph(None), request)
    assert result.error is None, result.error
    assert fake.unrecognised == [], "a prompt the stand-in model does not know"
    return result, kinds(fake, since)


WOVEN = "refine_default"
"""The default preset weaves missing words in and writes a word list again as a story."""


async def test_missing_words_are_woven_into_the_sentence_most_about_them(
    fake: FakeOpenAI,
) -> None:
    words = ["dog", "snow", "piano", "lamp"]
    result, sent = await run(
        fake, {"task": "Write.", "constraints": {"required_words": words}, "config": WOVEN}
    )
    assert sent == ["draft_words", "reword_sentence"]  # no sentence of its own: an edit in place
    first, answer = result.first_draft or "", result.answer or ""
    assert coverage(first, words) == 0.5  # the fake's half, as documented
    assert coverage(answer, words) == 1.0 and len(sentences(answer)) == len(sentences(first))
    assert "with the piano and the lamp." in answer


def no_lamp_in_a_sentence(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that no sentence asked to take "lamp" in takes it."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "reword_sentence" and '"lamp"' in known[1]["change"]:
        return known[1]["sentence"]
    return cooperative_responder(messages)


def refuses_every_word(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that no sub-task takes a word in: a sentence asked to comes back
    unchanged, and one asked to follow another says it again."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] in ("reword_sentence", "cover_words"):
        return known[1]["sentence"]
    return cooperative_responder(messages)


async def test_a_refused_word_edit_is_never_asked_again(fake: FakeOpenAI) -> None:
    fake.responder = refuses_every_word
    words = ["dog", "snow", "piano", "lamp"]
    since = len(fake.received)
    result, sent = await run(
        fake, {"task": "Write.", "constraints": {"required_words": words}, "config": WOVEN}
    )
    # the pair into the sentence most about it, then a sentence of its own; next round each
    # word alone into a sentence, then a sentence of its own after another one: two rounds
    # without a gain are a plateau, and no prompt was sent twice
    first_round = ["reword_sentence", "cover_words"]
    second_round = ["reword_sentence", "reword_sentence", "cover_words", "cover_words"]
    assert sent == ["draft_words", *first_round, *second_round]
    asks = [text for _, text in fake.received[since:]]
    assert len(set(asks)) == len(asks)
    assert result.stop_reason == "plateau"


async def test_words_a_rewording_could_not_take_get_a_sentence_next_to_it(
    fake: FakeOpenAI,
) -> None:
    fake.responder = no_lamp_in_a_sentence
    words = ["dog", "snow", "piano", "lamp"]
    result, sent = await run(
        fake, {"task": "Write.", "constraints": {"required_words": words}, "config": WOVEN}
    )
    assert sent == ["draft_words", "reword_sentence", "cover_words"]  # in the same round
    answer = result.answer or ""
    added = "Then the piano and the lamp appeared together."
    assert coverage(answer, words) == 1.0 and added in answer
    assert not answer.endswith(added)  # placed after the sentence most about them


async def test_an_unsupported_sentence_is_restated_from_its_source(fake: FakeOpenAI) -> None:
    request = {
        "task": "Tell me about the battery-electric locomotives.",  # no question: no answer check
        "documents": [
            {"id": "fleet", "text": FLEET},
            {"id": "garden", "text": "The garden covers 42 hectares."},
        ],
    }
    result, sent = await run(fake, request)
    assert sent[:2] == ["draft_grounded", "fix_sentence"]
    assert result.first_draft == UNSUPPORTED
    assert result.answer == f"{FLEET.rstrip('.')} [fleet]."
    assert result.history[0]["findings"][0]["source"] == "grounding"


async def test_a_text_too_long_is_trimmed_of_sentences_without_required_words(
    fake: FakeOpenAI,
) -> None:
    request = {"task": "Write.", "constraints": {"required_words": ["dog"], "max_sentences": 1}}
    result, sent = await run(fake, request)
    assert result.first_draft == "A story about the dog. It went on all day. It ended well."
    assert result.answer == "A story about the dog."  # the sentences without the word went
    assert sent == ["draft_words"]  # trimming needs no model
    assert result.stop_reason == "passed"


async def test_missing_words_woven_in_keep_the_length_limit(
    fake: FakeOpenAI,
) -> None:
    request = {
        "task": "Write.",
        "constraints": {"required_words": ["dog", "snow"], "max_sentences": 2},
        "config": WOVEN,
    }
    result, _ = await run(fake, request)
    answer = result.answer or ""
    assert len(sentences(answer)) <= 2 and coverage(answer, ["dog", "snow"]) == 1.0


async def test_a_text_too_short_is_expanded(fake: FakeOpenAI) -> None:
    result, sent = await run(fake, {"task": "Describe a harbour.", "constraints": {"min_words": 8}})
    assert sent[:2] == ["draft_free", "expand"]
    assert result.first_draft == ANSWERS["draft_free"]({})
    assert result.answer == f"{result.first_draft} {ANSWERS['expand']({})}"
    assert result.stop_reason == "passed"


async def test_the_critic_s_feedback_is_a_rewrite(fake: FakeOpenAI) -> None:
    result, sent = await run(fake, {"task": "Write a haiku about the sea."})
    assert sent[0] == "draft_free" and "critique" in sent and "rewrite" in sent
    rewrite_prompt = next(
        text for _, text in fake.received if (k := recognise(text)) and k[0] == "rewrite"
    )
    assert "- Be more specific." in rewrite_prompt  # the critic's item, handed on
    assert result.answer == result.first_draft  # the fake's rewrite keeps the text


async def test_plain_language_instructions_are_read_checked_and_repaired(
    fake: FakeOpenAI,
) -> None:
    task = (
        "Describe a harbour at dawn. Write it all in lowercase, do not use any commas, and "
        "end your response with the phrase 'Any questions?'"
    )
    result, sent = await run(fake, {"task": task})
    assert [i["kind"] for i in result.instructions] == ["all_lowercase", "no_commas", "end_phrase"]
    assert sent[0] == "draft_instructed"
    drafted = next(text for _, text in fake.received if recognise(text)[0] == "draft_instructed")
    assert "2. Do not use any commas." in drafted  # the rules, stated plainly to the drafter
    first = result.history[0]
    assert {f["source"] for f in first["findings"]} == {
        "instruction:all_lowercase", "instruction:no_commas", "instruction:end_phrase",
    }  # fmt: skip
    # the fixes need no model: case, commas and the closing phrase are repaired in place
    # (the phrase in lower case too: the reference check of an end phrase ignores case)
    assert result.answer is not None
    assert " ".join(result.answer.split()) == (
        "this is an answer written plainly for the reader. it says what was asked in full. "
        "any questions?"
    )
    assert sent == ["draft_instructed"]
    assert result.stop_reason == "passed" and result.failing == []


async def test_a_missing_keyword_is_woven_into_a_sentence_not_bolted_on(
    fake: FakeOpenAI,
) -> None:
    task = "Describe a harbour. Use the word 'lantern' at least 2 times."
    result, sent = await run(fake, {"task": task})
    assert sent == ["draft_instructed", "reword", "reword"]
    first, answer = result.first_draft or "", result.answer or ""
    assert len(sentences(answer)) == len(sentences(first))  # rewritten in place, none added
    assert answer.lower().count("lantern") == 2 and result.failing == []


async def test_a_response_short_of_its_word_count_is_continued(fake: FakeOpenAI) -> None:
    result, sent = await run(fake, {"task": "Describe a harbour in at least 25 words."})
    assert sent[:2] == ["draft_instructed", "continue"]
    assert (result.answer or "").startswith(result.first_draft or "")
    assert "\n\nIt was a quiet morning in the town." in (result.answer or "")
    assert result.failing == []


async def test_a_count_still_short_after_two_continuations_is_not_continued_again(
    fake: FakeOpenAI,
) -> None:
    task = "Describe a harbour in at least 300 words."
    result, sent = await run(fake, {"task": task})
    assert sent.count("continue") == 2  # each adds about 13 words: 300 is out of reach
    assert result.failing == ["word_count"]


async def test_rules_no_repair_can_meet_go_to_one_rewrite_that_names_them(
    fake: FakeOpenAI,
) -> None:
    task = "Describe a harbour. Include quotes within quotes within quotes, at least 3 levels deep."
    result, sent = await run(fake, {"task": task})
    assert sent == ["draft_instructed", "fix_rules"]  # one rewrite a run, not one a round
    prompt = next(text for _, text in fake.received if recognise(text)[0] == "fix_rules")
    assert "The response breaks these rules:\n- Nest quotations 3 levels deep" in prompt
    assert result.failing == ["nested_quotes"]  # the fake's rewrite changes nothing
    assert result.answer == result.first_draft


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("Use only words with lengths that are prime numbers.", "prime_length_words"),
        (
            "Write at least two sentences, followed by at least two bullet points.",
            "sentences_then_bullets",
        ),
    ],
)
async def test_rules_a_rewrite_does_not_move_get_none(
    fake: FakeOpenAI, rule: str, kind: str
) -> None:
    """A word shape, or a layout a small model's rewrite was measured never to meet
    (`UNMOVED_BY_REWRITE`): the run ends on its best draft without asking for one."""
    result, sent = await run(fake, {"task": f"Describe a harbour. {rule}"})
    assert sent == ["draft_instructed"]
    assert result.failing == [kind] and result.stop_reason == "plateau"


def reader_that_invents(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that the instruction reader answers one instruction the request
    sets, one it does not (a word the request never says) and one of a kind not offered."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "read_instructions":
        return (
            '{"instructions": [{"kind": "bullet_count", "exactly": 3}, '
            '{"kind": "forbidden_words", "words": ["ocean"]}, {"kind": "json_format"}]}'
        )
    return cooperative_responder(messages)


async def test_the_model_reads_what_the_rules_missed_and_only_what_the_request_says(
    fake: FakeOpenAI,
) -> None:
    fake.responder = reader_that_invents
    task = "Describe a harbour. Make sure the answer is laid out as three bulleted items."
    result, sent = await run(fake, {"task": task})
    assert sent[0] == "read_instructions"
    prompt = next(t for _, t in fake.received if recognise(t)[0] == "read_instructions")
    assert "Make sure the answer is laid out as three bulleted items." in prompt
    assert "- bullet_count:" in prompt and "- json_format:" not in prompt
    [read] = result.instructions  # the ungrounded word and the kind not offered are dropped
    assert read["kind"] == "bullet_count" and read["exactly"] == 3
    assert read["read_from"].startswith("model: Make sure the answer")


async def test_the_single_pass_baseline_reads_by_rules_only(fake: FakeOpenAI) -> None:
    fake.responder = reader_that_invents
    task = "Describe a harbour. Make sure the answer is laid out as three bulleted items."
    result, sent = await run(fake, {"task": task, "config": "single_pass"})
    assert sent[0] == "draft_free" and "read_instructions" not in sent
    assert result.instructions == []


async def test_missing_conjunctions_are_woven_into_sentences(fake: FakeOpenAI) -> None:
    task = "Describe a harbour. Use at least 3 different coordinating conjunctions."
    result, sent = await run(fake, {"task": task})
    assert sent[0] == "draft_instructed" and set(sent[1:]) == {"reword"}
    answer = result.answer or ""
    woven = [c for c in ("but", "so", "or") if f", {c} the day went on" in answer]  # the fake's
    assert woven == ["but", "so"] and result.failing == [], answer  # "for" was already there
    assert len(sentences(answer)) == len(sentences(result.first_draft or ""))  # none added


def continues_by_repeating(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that a continuation says the draft's sentences again, then one new."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "continue":
        return f"{ANSWERS['draft_instructed']({})} The quay smelled of tar and rope."
    return cooperative_responder(messages)


async def test_a_continuation_that_says_the_text_again_keeps_only_what_is_new(
    fake: FakeOpenAI,
) -> None:
    fake.responder = continues_by_repeating
    result, sent = await run(fake, {"task": "Describe a harbour in at least 22 words."})
    assert sent[:2] == ["draft_instructed", "continue"]
    assert result.answer == (
        f"{result.first_draft}\n\nThe quay smelled of tar and rope."
    )  # the repeated sentences are dropped, the new one kept
    assert result.failing == []


def says_only_the_end_phrase(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that the draft is the closing phrase alone (a hollow win)."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "draft_instructed":
        return "see you there!"
    if known and known[0] == "redraft":
        return (
            "the office moves on friday. pack your desk by thursday evening and label every "
            "box with your name. see you there!"
        )
    return cooperative_responder(messages)


async def test_a_draft_that_follows_the_rules_by_saying_nothing_is_written_in_full(
    fake: FakeOpenAI,
) -> None:
    fake.responder = says_only_the_end_phrase
    task = "Write a note about the office move, all in lowercase, and end it with 'see you there!'"
    result, sent = await run(fake, {"task": task})
    assert result.history[0]["findings"][0]["source"] == "content"  # 3 words: no answer
    assert sent == ["draft_instructed", "redraft"]
    prompt = next(text for _, text in fake.received if recognise(text)[0] == "redraft")
    assert "2. End the answer with the exact phrase" in prompt  # the rules, stated again
    assert (result.answer or "").startswith("the office moves on friday.")
    assert result.failing == [] and result.stop_reason == "passed"


def says_the_end_phrase_over_and_over(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that the draft loops on its closing phrase."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "draft_instructed":
        return "we will win. " + "go get them " * 40
    return says_only_the_end_phrase(messages)


async def test_a_draft_that_loops_on_one_phrase_is_written_in_full(fake: FakeOpenAI) -> None:
    fake.responder = says_the_end_phrase_over_and_over
    task = "Write a note about the office move, all in lowercase, and end it with 'see you there!'"
    result, sent = await run(fake, {"task": task})
    [guard] = [f for f in result.history[0]["findings"] if f["source"] == "content"]
    assert guard["data"] == ["looping"]
    assert sent == ["draft_instructed", "redraft"]
    assert (result.answer or "").startswith("the office moves on friday.")


MEMO = (
    "The old server room closes on Friday and every team moves its machines to the new hall. "
    "Please label each cable before the movers arrive so that nothing is plugged in wrongly."
)


def says_the_request_back(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that the draft and its redraft copy the text to rephrase, and a
    sentence asked to be said as the request asks is said in other words."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] in ("draft_instructed", "redraft"):
        return MEMO
    if known and known[0] == "reword" and "in words of your own" in known[1]["change"]:
        return {
            MEMO.split(". ")[0] + ".": "On Friday the server room shuts, and all teams shift "
            "their hardware to the hall.",
            MEMO.split(". ")[1]: "Tag every lead before movers come, so no plug goes astray.",
        }[known[1]["sentence"]]
    return cooperative_responder(messages)


async def test_a_draft_that_says_the_request_back_is_restated_sentence_by_sentence(
    fake: FakeOpenAI,
) -> None:
    fake.responder = says_the_request_back
    task = f"Rephrase this memo in plain words, in at least 20 words: {MEMO}"
    result, sent = await run(fake, {"task": task})
    assert result.history[0]["findings"][0]["data"] == ["echo"]  # the memo itself: no answer
    assert sent == ["draft_instructed", "redraft", "reword", "reword"]  # redrafted, copied again
    assert result.answer == (
        "On Friday the server room shuts, and all teams shift their hardware to the hall. "
        "Tag every lead before movers come, so no plug goes astray."
    )
    assert result.failing == [] and result.stop_reason == "passed"


WINTER = ["snow", "dog", "coffee", "window", "scarf", "run"]


async def run_winter_story(fake: FakeOpenAI) -> tuple[TaskResult, list[str]]:
    """The README demo's request (a winter morning, six words) on the default preset."""
    task = "Write a short story about a winter morning."
    request = {"task": task, "constraints": {"required_words": WINTER}, "config": WOVEN}
    return await run(fake, request)


LISTED = "Snow falls, a dog barks, coffee steams, the window fogs, a scarf waits, I run."
STORY = (
    "Snow fell on the quiet town before dawn. My dog barked at the window while the coffee "
    "brewed. I wrapped my scarf tight and we went out to run."
)


def drafts_first(first: str, then: str = STORY) -> Responder:
    """Cooperative, except that the word draft is `first`, and the story told again a sentence
    at a time is `then`, one of its sentences for each ask (the cooperative answer once they
    are all told)."""
    told = iter(sentences(then))

    def respond(messages: list[dict[str, Any]]) -> str:
        known = recognise(str(messages[-1]["content"]))
        if known and known[0] == "draft_words":
            return first
        if known and known[0].startswith("story_"):
            return next(told, None) or cooperative_responder(messages)
        return cooperative_responder(messages)

    return respond


async def test_a_draft_that_lists_the_words_is_written_again_as_a_story(
    fake: FakeOpenAI,
) -> None:
    fake.responder = drafts_first(LISTED)
    result, sent = await run_winter_story(fake)
    told = [f["data"][0] for f in result.history[0]["findings"] if f["source"] == "repetition"]
    assert told == ["listing", "short"]  # one line of words: a list, and no story
    # told again a sentence at a time, one ask for each of the plan's four groups of words
    assert sent == ["draft_words", "story_opening", "story_next", "story_next", "story_next"]
    asks = [text for _, text in fake.received if recognise(text)[0] == "story_next"]
    assert '"Snow fell on the quiet town before dawn."' in asks[0]  # shown the story so far
    assert (result.answer or "").startswith("Snow fell on the quiet town before dawn.")
    assert coverage(result.answer or "", WINTER) == 1.0 and result.stop_reason == "passed"


async def test_a_redraft_that_tells_a_story_with_fewer_words_beats_the_list(
    fake: FakeOpenAI,
) -> None:
    """Dev cgh001: the comma list used more words than its redraft, kept its higher score and
    came back as the final answer; a word only in a list is not used."""
    fake.responder = drafts_first(
        LISTED, "Snow fell before dawn. My dog barked at the window. I stayed in bed."
    )
    result, sent = await run_winter_story(fake)
    assert sent[:2] == ["draft_words", "story_opening"]
    assert result.history[1]["score"] > result.history[0]["score"]
    assert LISTED not in (result.answer or "")
    assert (result.answer or "").startswith("Snow fell before dawn")  # the story, mended


async def test_a_story_of_one_sentence_goes_on_from_where_it_stops(fake: FakeOpenAI) -> None:
    """The README demo's draft: asked for four sentences, one came back with five of its six
    words ("In the snow-covered morning, a dog, with a scarf, raced down the window of a cozy
    coffee shop."). Asked again from its plan, it came back as six short sentences, its first
    one lost; now the story is told on from it, with the word it left out."""
    first = "In the snow-covered morning a dog in a scarf raced to the window of a coffee shop."
    fake.responder = drafts_first(first)
    result, sent = await run_winter_story(fake)
    [short] = [f for f in result.history[0]["findings"] if f["source"] == "repetition"]
    assert short["data"] == ["short"] and result.history[0]["score"] < 0.95
    assert sent == ["draft_words", "continue_story"]
    prompt = next(text for _, text in fake.received if recognise(text)[0] == "continue_story")
    assert f"The story so far: {first}" in prompt
    assert "3 more sentences" in prompt and 'using the word "run"' in prompt
    assert result.answer == f"{first} They went on together. Then came the run. It ended well."
    assert result.stop_reason == "passed"


async def test_a_continuation_keeps_whole_sentences_that_say_something_new(
    fake: FakeOpenAI,
) -> None:
    """The 1.5B model ran on past the count it was asked for and looped on one sentence: only
    the sentences asked for and one more are kept, none that says an earlier one again, and
    not the one its token cap cut."""
    first = "In the snow-covered morning a dog in a scarf ran to the window of a coffee shop."
    loop = "The dog ran into the coffee shop. " * 6

    def respond(messages: list[dict[str, Any]]) -> str:
        known = recognise(str(messages[-1]["content"]))
        if known and known[0] == "draft_words":
            return first
        if known and known[0] == "continue_story":
            return f"The dog ran to the window. {loop}The smell of"
        return cooperative_responder(messages)

    fake.responder = respond
    result, sent = await run_winter_story(fake)
    assert sent[:2] == ["draft_words", "continue_story"]
    assert result.history[1]["draft"] == (
        f"{first} The dog ran to the window. The dog ran into the coffee shop."
    )


def redrafts_past_its_cap() -> Responder:
    """A word list drafted, then a redraft that loops on one sentence frame until the server
    cuts it at its token cap mid-sentence (as the 1.5B model did on dev cgh001)."""
    loop = " ".join(f"The dog was always watching the {n} snow, but the cat would never care."
                    for n in range(40))  # fmt: skip
    return drafts_first(LISTED, f"{STORY} {loop}")


async def test_a_redraft_cut_at_its_token_cap_ends_on_its_last_full_sentence(
    fake: FakeOpenAI,
) -> None:
    fake.responder = redrafts_past_its_cap()
    result, sent = await run_winter_story(fake)
    assert sent[:2] == ["draft_words", "story_opening"]
    redrafted = result.history[1]["draft"]
    assert redrafted.startswith("Snow fell on the quiet town before dawn.")
    assert redrafted.endswith("but the cat would never care."), redrafted[-80:]  # no stump
    assert (result.answer or "").rstrip().endswith(".")


NARRATED = (
    "The plan for this story is to follow a dog on a winter morning with snow and coffee. The "
    "first sentence begins with the window, and the next sentence describes a scarf and a run."
)
"""A word draft that describes its plan instead of telling the story (as the 1.5B model did
on held-out cghh007: "The plan for this story is to ...")."""


async def test_a_draft_that_describes_its_plan_is_written_again_as_a_story(
    fake: FakeOpenAI,
) -> None:
    fake.responder = drafts_first(NARRATED)
    result, sent = await run_winter_story(fake)
    findings = [f for f in result.history[0]["findings"] if f["source"] == "repetition"]
    [told] = [f for f in findings if f["data"][0] == "plan"]
    assert len(told["data"]) == 3  # both sentences named
    # every word was there, only in the plan talk: told again a sentence at a time
    assert sent == ["draft_words", "story_opening", "story_next", "story_next", "story_next"]
    assert (result.answer or "").startswith("Snow fell on the quiet town before dawn.")
    assert result.stop_reason == "passed"


TEN = ["harbour", "rope", "gull", "lantern", "net", "boat", "storm", "bread", "map", "bell"]


def ignores_its_plan_once() -> Any:
    """Cooperative, except that the word draft tells a story of its own (one of ten words)."""

    def respond(messages: list[dict[str, Any]]) -> str:
        known = recognise(str(messages[-1]["content"]))
        if known and known[0] == "draft_words":
            return "The old harbour was quiet. Nobody came that day. It was a long wait."
        return cooperative_responder(messages)

    return respond


async def test_a_draft_that_ignored_its_plan_is_drafted_again_not_mended(
    fake: FakeOpenAI,
) -> None:
    fake.responder = ignores_its_plan_once()
    result, sent = await run(fake, {"task": "Write.", "constraints": {"required_words": TEN}})
    # told again a sentence at a time, no sub-task per word
    assert sent == ["draft_words", "story_opening", "story_next", "story_next", "story_next"]
    asks = [known for _, text in fake.received if (known := recognise(text))]
    told = [w for name, ask in asks if name.startswith("story_") for w in ask["words"].split(", ")]
    assert told == TEN  # the plan's groups of words, in order
    assert coverage(result.first_draft or "", TEN) == 0.1
    assert coverage(result.answer or "", TEN) == 1.0 and result.stop_reason == "passed"


async def test_a_draft_using_half_its_words_is_mended_not_drafted_again(
    fake: FakeOpenAI,
) -> None:
    fake.responder = drafts_first(
        "At the harbour a sailor coiled rope while a gull watched. He lit a lantern and mended "
        "a net by the water. Then he went home."
    )
    result, sent = await run(fake, {"task": "Write.", "constraints": {"required_words": TEN}})
    assert coverage(result.first_draft or "", TEN) == 0.5
    assert sent.count("draft_words") == 1 and "reword_sentence" in sent


SHAPE_TASK = "Describe a harbour at dawn. No two consecutive words can share the same first letter."


def draft_bodies(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [
        body
        for body in fake.bodies
        if (k := recognise(str(body["messages"][-1]["content"]))) and k[0] == "draft_instructed"
    ]


async def test_a_word_shape_rule_is_drafted_under_its_grammar_where_the_server_takes_one(
    llm_settings: Configure,
) -> None:
    """On a llama.cpp server (an endpoint marked `tokenizer`, like the embedded model) the
    draft carries the rule's GBNF grammar, so the model can only write words the rule allows;
    no other call carries it."""
    server = FakeOpenAI(responder=cooperative_responder).serve()
    try:
        llm_settings(
            llm_endpoints=[{"base_url": server.base_url, "tokenizer": True}],
            llm_local_fallback=False, llm_cache=False,
        )  # fmt: skip
        result, _ = await run(server, {"task": SHAPE_TASK})
        assert [i["kind"] for i in result.instructions] == ["no_same_first_letter"]
        [drafted] = draft_bodies(server)
        assert drafted["grammar"] == parse_instruction({"kind": "no_same_first_letter"}).grammar()
        assert [b for b in server.bodies if "grammar" in b] == [drafted]
    finally:
        server.stop()


async def test_an_openai_endpoint_gets_the_same_draft_without_a_grammar(fake: FakeOpenAI) -> None:
    _, sent = await run(fake, {"task": SHAPE_TASK})
    assert sent[0] == "draft_instructed"
    [drafted] = draft_bodies(fake)
    assert "grammar" not in drafted
    assert "Never let two neighbouring words start with the same letter." in str(
        drafted["messages"][-1]["content"]
    )


ESSAY = (
    "The harbour wakes early.\n\nBoats leave with the tide and gulls follow them out.\n\n"
    "In conclusion, the harbour is the town's heart."
)


def drafts_an_essay_with_a_conclusion(messages: list[dict[str, Any]]) -> str:
    """Cooperative, except that the draft is a short essay that ends with a conclusion."""
    known = recognise(str(messages[-1]["content"]))
    if known and known[0] == "draft_instructed":
        return ESSAY
    if known and known[0] == "continue":
        return (
            "The quay smelled of tar and rope, and nets dried on every wall.\n\n"
            "In conclusion, the harbour is the town's heart."
        )  # its own conclusion, the one the text has
    return cooperative_responder(messages)


async def test_a_continuation_goes_before_the_conclusion_not_after_it(fake: FakeOpenAI) -> None:
    """Asked to go on after a conclusion, the model writes the conclusion again (ifeval-k43):
    it is shown the text up to its conclusion, and its paragraph goes there."""
    fake.responder = drafts_an_essay_with_a_conclusion
    result, sent = await run(fake, {"task": "Write about a harbour in at least 30 words."})
    assert sent[:2] == ["draft_instructed", "continue"]
    prompt = next(text for _, text in fake.received if recognise(text)[0] == "continue")
    assert "gulls follow them out" in prompt and "In conclusion" not in prompt
    assert result.answer == ESSAY.replace(
        "\n\nIn conclusion",
        "\n\nThe quay smelled of tar and rope, and nets dried on every wall.\n\nIn conclusion",
    )
    assert result.failing == []
