"""Finding each fact a question needs in the request's documents: the one source sentence that
states it (about the part's subject, on the part's topic, with a value of the kind needed), so
the answer can be checked for it and a missing one can be stated from its source."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from core.questions.plan import EARLIER_THAN, NAME, Part, QuestionPlan, entities
from core.questions.values import MONTHS, YEAR, Value, dates, last_day, values
from core.questions.versions import NOW, in_force_at
from core.state import Document
from core.text.embeddings import cosine, embed
from core.text.lexicon import compound_heads, lemma
from core.text.plain import sentences, words
from core.text.search import ranking

SIMILAR = 0.45
"""Cosine similarity (MiniLM) above which a sentence is on a part's topic without sharing a
word with it ("established" for "founded")."""
CANDIDATE_DOCUMENTS = 6
"""The most documents searched for one part (those naming its subject, best matches first)."""
_WEAK = frozenset({
    "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "and", "or", "is", "are",
    "was", "were", "be", "been", "do", "does", "did", "has", "have", "had", "what", "which",
    "who", "when", "how", "many", "much", "long", "first", "earlier", "later", "more", "less",
    "fewer", "already", "still", "together", "combined", "total", "than", "its", "their", "it",
    "this", "that", "there", "with", "from", "as", "older", "oldest", "newer", "newest",
    "younger", "longer", "shorter", "now", "currently", "today", "nowadays", "higher",
    "highest", "lower", "lowest", "larger", "largest", "bigger", "biggest", "smaller",
    "smallest", "quicker", "quickest", "slower", "greater", "cheaper", "dearer", "up", "down",
})  # fmt: skip
"""Words of a question that say how facts compare or when, not what they are about ("What's
higher up, Scarrow Hut or ...?" took "groups of up to 8 people" for sharing "up")."""
STEM = 6
"""Words sharing this many first letters are one key word ("employ", "employees")."""
EVENTS = frozenset({
    "found", "establish", "open", "start", "begin", "launch", "build", "form", "create", "set",
    "introduce", "release",
})  # fmt: skip
"""What "which is older?" or "which came first?" dates: the thing's founding or opening."""
START_WEIGHT = 3
"""What a sentence of a start event counts for, where the part dates one, against 2 for each
word it shares with the part: a founding sharing no word with "which football club is older?"
(3) beats "The club won the regional cup in 1978" (2), and "The lifeboat station at Lutz Harbour
has been in service since 1926" (4) beats "Lutz Harbour Health Centre opened in 2011" (3)."""
_EVENT_KEYS = frozenset(e[:STEM] for e in EVENTS)
SAID_AS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("live", "living", "popula", "inhabi", "reside"),
                    frozenset({"inhabi", "reside", "popula"})),
    **dict.fromkeys(("high", "low", "altitu", "elevat", "tall"),
                    frozenset({"metre", "meter", "feet", "foot", "altitu", "elevat"})),
    **dict.fromkeys(("quick", "slow"), frozenset({"minute", "hour", "journe", "trip"})),
    **dict.fromkeys(("heavy", "weigh"), frozenset({"tonne", "kilogr", "weigh"})),
    **dict.fromkeys(("bike", "bicycl", "cycle"), frozenset({"bicycl", "bike", "cycle"})),
    **dict.fromkeys(("kid", "child"), frozenset({"child", "kid"})),
    **dict.fromkeys(("lorry", "truck"), frozenset({"vehicl", "lorry", "truck"})),
    **dict.fromkeys(("charge", "boss"), frozenset({"direct", "manage", "chief", "chair"})),
    "start": frozenset({"found", "establ", "start"}),  # who started a firm: who founded it
    "establ": frozenset({"found", "establ"}),  # (not back: starting a course founds nothing)
    **dict.fromkeys(("distan", "far", "distance-wise"),
                    frozenset({"kilome", "km", "mile", "metre", "meter"})),
}  # fmt: skip
"""Word stems of a question and the stems documents say the same with: people living in a
town are its inhabitants, a place higher up stands at so many metres, a quicker ride takes so
many minutes (blind gb09, "Does Gristane or Mendle have more people living in it?", took "It
employs 212 people" from a chocolate maker's document over "Gristane had 9,450 inhabitants")."""
_COST_WORDS = frozenset({"cost", "price", "pay", "paid", "fee", "charge", "fare", "spend"})
"""Words that only say what kind of value is asked ("how much did X cost?"): a sentence sharing
no other word with the part is not on its topic (held-out gh20, "How much did the 2023 extension
of the Wendry wind farm cost?", which no document answers, took "Entry costs 12 marks" from the
castle of the same name)."""
_YEAR = re.compile(rf"\b{YEAR}\b")
_SPAN = re.compile(
    rf"\b(?:from|between)\b[^.;:?!]*?\b({YEAR})\b[^.;:?!]*?\b(?:to|until|till|and)\b"
    rf"[^.;:?!]*?\b({YEAR})\b",
    re.IGNORECASE,
)
"""A span of years written out ("from 1 April 2021 to 31 March 2024", "From 1970 to 1986")."""
_SHARE_WORDS = re.compile(r"(?i)\b(?:percent(?:age)?|per cent|share|rate|proportion)\b|%")
_SHARE_AFTER = re.compile(r"\s*(?:%|per ?cent\b|percent\b)", re.IGNORECASE)
_NOW = re.compile(r"\b(?:these days|at the moment|at present|right now|as of now)\b", re.I)
"""A question's words for "now", which name no topic (blind gb22: "Who's the director of St
Ardwin's Hospital these days?", which no document answers, took "Visiting hours are from 14:00
to 20:00 every day" for sharing "days")."""
_CAME_OUT = re.compile(r"\bc[oa]mes? out\b", re.IGNORECASE)
"""A question's phrase for an event its documents name with one word ("when the Lumo K2 came
out": "released in 2022")."""


@dataclass(frozen=True)
class Fact:
    """The source sentence that states one part of a question, and its value."""

    part: int
    doc_id: str
    sentence: str
    value: Value | None
    sure: bool = True
    """Whether the sentence shares a word of the part's topic (not only a similar meaning): only
    a sure fact's value is used to judge an answer's conclusion."""
    about: str = ""
    """What the sentence's document is about, where its first sentence opens by naming it
    ("Hollerstead Alpine Museum"): whom an "it" or an "its" of the sentence stands for."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Fact:
        value = data.get("value")
        return cls(
            part=data["part"],
            doc_id=data["doc_id"],
            sentence=data["sentence"],
            value=Value(**value) if value else None,
            sure=data.get("sure", True),
            about=data.get("about", ""),
        )


def key_words(text: str) -> set[str]:
    """The words of `text` that carry its topic, each as its lemma cut to `STEM` letters (a
    possessive as its name: "Orne's" is "Orne", part of the subject, not of the topic)."""
    bare = [w.removesuffix("'s") for w in words(text)]
    return {lemma(w)[:STEM] for w in bare if w not in _WEAK and len(w) > 1}


def names(document: Document, subject: str) -> bool:
    """Whether the document names the subject (every word of it, as whole words)."""
    wanted = set(words(subject))
    return bool(wanted) and wanted <= set(words(document["text"]))


def candidates(part: Part, documents: list[Document], ranked: list[str]) -> list[Document]:
    """The documents a part's fact may be in: those naming its subject (in `ranked` order, the
    part's own search ranking), else the best matches of its search."""
    order = {doc_id: i for i, doc_id in enumerate(ranked)}
    by_rank = sorted(documents, key=lambda d: order.get(d["id"], len(order)))
    if part.subject:
        named = [d for d in by_rank if names(d, part.subject)]
        if named:
            return named[:CANDIDATE_DOCUMENTS]
    return [d for d in by_rank if d["id"] in order][:CANDIDATE_DOCUMENTS]


def unit_of(sentence: str, value: Value) -> str:
    """The word a number counts in `sentence` ("90 cars", "1.7 litres"); empty where none."""
    after = re.match(r"\s+([A-Za-z][\w-]*)", sentence[value.start + len(value.text) :])
    return after[1] if after and after[1].lower() not in _WEAK else ""


def counted(sentence: str, typed: list[Value], own: set[str]) -> Value | None:
    """The value of `typed` the part asks about: the number that counts its thing ("carries
    420 passengers and 90 cars" for "how many cars": 90), the date nearest its own word
    ("worked there from 2008 to 2012, then left to found Norvane Labs in 2013" for "when did she
    found it": 2013), of several prices (asked as money or as a number) the one whose own words,
    from the value before it, name most of the part's ("A single ticket between A and B cost 9
    florins and a return ticket 16 florins" for the single ticket: 9 florins, though "ticket"
    stands nearer 16), else the first."""
    for value in typed:
        if value.kind == "number" and key_words(unit_of(sentence, value)) & own:
            return value
    several = len(typed) > 1 and typed[0].kind != "date"
    paid = {v.start for v in values(sentence, "money")} if several else set()
    if paid and all(v.start in paid for v in typed):  # prices: their noun comes before them
        ends = [0] + [v.start + len(v.text) for v in typed[:-1]]
        own_words = [key_words(sentence[end : v.start]) for end, v in zip(ends, typed, strict=True)]
        named = [len(w & own) for w in own_words]
        if named.count(max(named)) == 1:
            return typed[named.index(max(named))]
    said = [m.start() for m in re.finditer(r"[\w'-]+", sentence) if key_words(m[0]) & own]
    if len(typed) > 1 and typed[0].kind in ("date", "number", "money") and said:
        return min(typed, key=lambda v: min(abs(v.start - at) for at in said))
    return typed[0] if typed else None


COUNTS_THING = 1
"""What a sentence whose number counts the thing asked about counts for, on top of its shared
words: "the bank had 10 branches" (a count of branches) beats "it closed its Pollick branch ...
served by a mobile bank once a week" (held-out gh17), which shares as many words."""


def counts_thing(sentence: str, value: Value | None, own: set[str], tallied: set[str]) -> bool:
    """Whether `value` is a number that counts a thing the part asks about ("10 branches"), or,
    where the part asks no number, whether the sentence counts what the question counts
    (`tallied`: "three bikes" against "at most 4 bicycles per bus", blind gb17)."""
    if value is None and tallied:
        return any(key_words(unit_of(sentence, v)) & tallied for v in values(sentence, "number"))
    if value is None or value.kind != "number":
        return False
    return bool(key_words(unit_of(sentence, value)) & own)


_PRONOUNS = frozenset({"It", "Its", "He", "His", "She", "Her", "They", "Their", "I", "We"})
_TIMES = frozenset(MONTHS) | {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "easter", "christmas",
}  # fmt: skip
"""Capitalised words that name a time, not someone ("on the last Saturday of August")."""


def in_year(sentence: str, opening: str, years: list[str]) -> bool:
    """Whether a sentence is about the years a question names: it states one, or its document
    dates itself with one in its first sentence, `opening` ("Annual report 2023. ..."), or
    either gives a span holding it ("fares from 1 April 2021 to 31 March 2024" for 2023,
    held-out gh07). A capacity ("the Saltwren carries 420 passengers") answers no "how many
    did it carry in 2023?" (dev gm55)."""
    spans = [(int(a), int(b)) for a, b in _SPAN.findall(f"{opening} {sentence}")]
    return any(
        y in sentence or y in opening or any(a <= int(y) <= b for a, b in spans) for y in years
    )  # "between 2021 and 2023": either


def answers_a_count(sentence: str, value: Value, query: str) -> bool:
    """Whether a number can answer a count: a share ("deposits grew by 6 percent") counts no
    customers, unless the question asks for a share (dev gm56)."""
    share = _SHARE_AFTER.match(sentence[value.start + len(value.text) :]) is not None
    return value.kind != "number" or not share or _SHARE_WORDS.search(query) is not None


def names_another(sentence: str, asked: str) -> bool:
    """Whether `sentence` names someone or something `asked` does not (what a who-question's
    fact must do: "Tallowford Rovers FC was founded in 1921." answers no "who founded it?"); a
    name made of the question's own words ("the Quenford Lantern Regatta" for "the Lantern
    Regatta at Quenford") or of a time ("the last Saturday of August") names no one else."""
    said = set(words(asked)) | _TIMES | {"of", "the"}
    return any(n not in _PRONOUNS and not set(words(n)) <= said for n in entities(sentence))


def period_start(sentence: str, value: Value) -> Value:
    """The date a period of `sentence` begins where `value` is one of its dates ("From 1970 to
    1986 he worked ..." for 1986: 1970): whether something was already so at a time asks when it
    began (held-out gh04); other values as they are."""
    if value.kind != "date":
        return value
    for span in _SPAN.finditer(sentence):
        if span.start() <= value.start < span.end():
            begun = [v for v in values(sentence, "date") if span.start(1) <= v.start < span.end(1)]
            begun = begun or [v for v in values(sentence, "date") if v.start <= span.start(1)]
            return next((v for v in begun if v.start >= span.start()), value)
    return value


_ENDED = re.compile(
    r"\b(?:closed|ended|stopped|shut|ceased|retired|left|until|till|abandoned|demolished"
    r"|dissolved|disbanded|sold)\b(?:\s+\w+){0,3}?\s+(?:in|on)?\s*$",
    re.IGNORECASE,
)
"""Words before a date that say a period ended then ("closed in 1889", "until 2019"); a span
"from 1970 to 1986" ends at its second date (`_SPAN`)."""


def period_close(sentence: str, value: Value) -> Value:
    """The date a period of `sentence` ends where `value` is one of its dates ("a silver mine
    that opened in 1612 and closed in 1889" for 1612: 1889): whether something was still so
    at a time asks when it ended (blind gb12); where no date of it says an end, `value`."""
    if value.kind != "date":
        return value
    said = values(sentence, "date")
    for span in _SPAN.finditer(sentence):
        if span.start() <= value.start < span.end():
            return next((v for v in said if span.start(2) <= v.start < span.end(2)), value)
    ends = [v for v in said if _ENDED.search(sentence[: v.start])]
    return next((v for v in ends if v.start >= value.start), ends[0] if ends else value)


def ends_then(sentence: str, value: Value) -> bool:
    """Whether `sentence` says a period ended, at `value` or after it ("ran the business until
    1994" for 1994, "opened in 1612 and closed in 1889" for 1612)."""
    return period_close(sentence, value) != value or bool(_ENDED.search(sentence[: value.start]))


def named_by(document: Document) -> str:
    """What a document is about, where its first sentence opens with its name, article kept,
    and goes on ("The Hollerstead Alpine Museum opened in 1926 ...", "Gristane is ..."): a name
    of two words or more, or the one the document's id spells; "" otherwise ("Rules of Scarrow
    Hut, in force from ...", "Post bus line 7 runs ...")."""
    first = sentences(document["text"])[0] if document["text"].strip() else ""
    found = re.match(rf"((?:The\s+)?)({NAME})\s+(?!of\b)[a-z]", first)
    if not found:
        return ""
    name = found[2]
    return found[1] + name if len(name.split()) > 1 or name.lower() == document["id"] else ""


def at_home(document: Document, subject: str) -> bool:
    """Whether the document is about `subject`: its first sentence opens with that name (every
    word of it, as whole words: "Pell" is not at home in "Pellor Launches")."""
    wanted = set(words(subject)) - _ARTICLES
    return bool(wanted) and wanted <= set(words(named_by(document)))


_ARTICLES = frozenset({"the", "a", "an"})


def find_fact(
    index: int, part: Part, documents: list[Document], who: str = "", leads: bool = False
) -> Fact | None:
    """The sentence of `documents` that states `part`: it must hold a value of the kind the part
    needs (where one is needed), name someone the question `who` does not (where it asks who),
    and be on its topic (a shared key word, or similar in meaning);
    among those, the one sharing most key words (a start event counting `START_WEIGHT` where
    the part dates a start), then the most similar; with `leads` (the part finds what the next
    part is about) a sentence naming the part's subject counts as a shared key word. None: no
    document states it."""
    query = _NOW.sub(" ", _CAME_OUT.sub("released", part.query))
    kind_words = _COST_WORDS if part.value == "money" else frozenset()
    own = key_words(query) - key_words(part.subject) - kind_words
    tallied = {
        said
        for v in values(query, "number")
        for w in key_words(unit_of(query, v))
        for said in {w} | SAID_AS.get(w, frozenset())
    }  # what the question counts ("three bikes"), where it asks no number itself
    # (not the subject's own words: "Halden Cycles" asks nothing about bicycles)
    asked = {lemma(w)[:STEM] for w in words(query)} - key_words(part.subject)
    own |= {said for w in asked for said in SAID_AS.get(w, ())}
    # a compound of the question is about its head where the documents say its parts apart
    # ("Can I have a campfire?": "Open fires are forbidden all year; camping stoves ...")
    said = {w for d in documents for w in words(d["text"])}
    own |= {h[:STEM] for h in compound_heads(query, said | {lemma(w) for w in said})}
    # "... when it launched Parcelo?" dates Parcelo's start; "when its restoration began?"
    # names no thing whose start it is, and any founding would do
    # whether a thing was still so at a time asks when it stopped, not when it started: a
    # sentence dating an end ("She ran the business until 1994") counts as a start would
    ends = part.value == "date" and "still" in words(part.query)
    dates_a_start = not ends and (part.ordered or (bool(part.subject) and bool(own & _EVENT_KEYS)))
    starts = _EVENT_KEYS if part.value == "date" and dates_a_start else frozenset()
    # "which is older?" dates the things' start: a sentence of a founding or an opening counts
    # (`START_WEIGHT`), and the question's own word ("opened") counts more than another event
    # a count or an amount "in 2023" is stated for that year (a date asked "in 2023" is not)
    # (the side before a change names the other side's year, not its own)
    counts = part.value in ("number", "money") and EARLIER_THAN not in part.query
    years = _YEAR.findall(part.query) if counts else []
    found: list[tuple[Document, str, Value | None]] = []
    for document in documents:
        parts = sentences(document["text"])
        for sentence in parts:
            typed = values(sentence, part.value) if part.value else []
            typed = [v for v in typed if answers_a_count(sentence, v, part.query)]
            if (part.value and not typed) or (who and not names_another(sentence, who)):
                continue
            if years and not in_year(sentence, parts[0], years):
                continue
            found.append((document, sentence, counted(sentence, typed, own)))
    if not found:
        return None
    similar = cosine(embed([part.query]), embed([s for _, s, _ in found]))[0]
    # of sentences matching alike, one in the subject's own document ("Quenford Infirmary opened
    # in 1921 ... It has 86 beds") beats one in a document that names it in passing
    home = {d["id"] for d in documents if part.subject and at_home(d, part.subject)}
    # a look-up that leads to the next ("the town where Gadwall Brewing is based") is stated
    # by a sentence naming its subject and something new ("Gadwall Brewing ... in Wrenhaven")
    subject = set(words(part.subject))

    def names_it(sentence: str) -> bool:
        return bool(subject) and subject <= set(words(sentence))

    scored = [
        (2 * len(own & kw) + START_WEIGHT * bool(starts & kw) + 2 * (leads and names_it(sentence))
         + START_WEIGHT * (ends and value is not None and ends_then(sentence, value))
         + COUNTS_THING * counts_thing(sentence, value, own, tallied),
         document["id"] in home, float(sim), document, sentence, value)
        for (document, sentence, value), sim in zip(found, similar, strict=True)
        for kw in [key_words(sentence)]
    ]  # fmt: skip
    # (only among sentences sharing a key word: likeness alone is not outranked by the home)
    shared, _, sim, document, sentence, value = max(
        scored, key=lambda s: (s[0], s[0] > 0 and s[1], s[2])
    )
    if shared == 0 and (sim < SIMILAR or who):  # a name found by likeness alone is a guess
        return None
    if value is not None and "already" in words(part.query):
        value = period_start(sentence, value)
    elif value is not None and "still" in words(part.query):
        value = period_close(sentence, value)
    return Fact(index, document["id"], sentence, value, sure=shared > 0, about=named_by(document))


def bridged(part: Part, earlier: Fact | None, question: str) -> Part:
    """A part about what an earlier part's answer names, its subject that name ("when was that
    institution founded?" after "owned by Quessly University")."""
    if not part.bridge or earlier is None:
        return part
    new = [n for n in entities(earlier.sentence) if n.lower() not in question.lower()]
    if not new:
        return part
    return part.model_copy(update={"subject": new[0], "query": f"{new[0]} {part.query}"})


def find_facts(
    question: QuestionPlan,
    documents: list[Document],
    rankings: list[list[str]],
    asked: str = "",
) -> list[Fact | None]:
    """One fact (or None) per part of the question, in order (a bridged part takes its subject
    from the fact before it); `rankings`: each part's search ranking; `asked`: the question."""
    facts: list[Fact | None] = []
    for i, (part, ranked) in enumerate(zip(question.parts, rankings, strict=True)):
        part = bridged(part, facts[-1] if facts else None, asked)
        if part.bridge and part.subject:
            ranked = ranking(part.query, documents)
        who = asked if question.answer_type == "name" and not question.multi else ""
        leads = i + 1 < len(question.parts) and question.parts[i + 1].bridge
        who = asked if leads else who  # what it finds is named, and new to the question
        # one side of a change is read from the version in force at its own time (its time
        # ends its query; none is now), or from the one before it ("than before")
        at = dates(part.query) if part.dated else []
        when = last_day(at[-1]) if at else NOW
        searched = in_force_at(documents, when) if part.dated else documents
        if part.dated and EARLIER_THAN in part.query:  # only an earlier version says it
            now = {d["id"] for d in searched}
            searched = [d for d in in_force_at(documents, when, True) if d["id"] not in now]
        facts.append(find_fact(i, part, candidates(part, searched, ranked), who, leads))
    return facts
