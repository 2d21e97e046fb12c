"""The question planner: what a question asks for (a date, a duration, a yes or no...) and the
separate facts it needs, one per thing compared or joined ("Which was founded first, Kestrel
Freight or Tova?" needs Kestrel's founding date and Tova's), so each fact finds its own
document. Rules only: no model call, the same plan every time."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from core.questions.values import MONTHS, YEAR, Kind
from core.text.plain import words

AnswerType = Literal[
    "yes_no", "date", "when", "duration", "number", "money", "time", "name", "other"
]
"""What a question asks for: "when" may be answered by a date or by words ("on the last working
day of the month"); "date" asks for one ("in which year")."""
Relation = Literal["earlier", "later", "more", "less", "sum", "difference", "same", "none"]

AUXILIARIES = frozenset({
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "has", "have", "had",
    "will", "would", "should", "must", "may",
})  # fmt: skip
_QUESTION_WORDS = frozenset({
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "are", "was",
    "were", "do", "does", "did", "can", "could", "has", "have", "had", "will", "would",
    "should", "must", "may", "in", "on", "at", "for", "by", "after", "before", "since",
})  # fmt: skip
_RELATION_WORDS: dict[str, Relation] = {
    "first": "earlier", "earlier": "earlier", "earliest": "earlier", "sooner": "earlier",
    "older": "earlier", "oldest": "earlier", "before": "earlier", "already": "earlier",
    "later": "later", "last": "later", "latest": "later", "newer": "later", "newest": "later",
    "younger": "later", "after": "later", "more": "more", "longer": "more", "larger": "more",
    "bigger": "more", "higher": "more", "most": "more", "longest": "more", "greater": "more",
    "less": "less", "fewer": "less", "shorter": "less", "smaller": "less", "lower": "less",
    "fewest": "less", "shortest": "less", "together": "sum", "combined": "sum", "total": "sum",
    "altogether": "sum", "difference": "difference", "quicker": "less", "taller": "more",
    "tallest": "more", "heavier": "more", "wider": "more", "deeper": "more", "further": "more",
    "farther": "more", "lighter": "less", "narrower": "less",
}  # fmt: skip
RELATIONS = frozenset(_RELATION_WORDS) | {"already", "still"}
"""Words that compare or join facts, not part of any one fact."""
_PAYS = (
    r"(?:cost|costs|charge|charges|pay|paid|fee|fees|fare|fares|price|prices|budget|revenue"
    r"|turnover|salary|rent|deposit|dearer|cheaper|expensive|tickets?"
    r"|(?:adult|child|family|senior|student)\s+(?:return|single))\b"
)
_TYPE_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    (re.compile(r"\bhow (?:many|much) (?:minutes|hours|days|weeks|months|years)\b"), "duration"),
    (re.compile(r"\bhow long\b|\bfor how long\b"), "duration"),
    (re.compile(r"\bwhat time\b|\bat what hour\b"), "time"),
    (re.compile(r"\b(?:which|what) (?:year|date)\b|\bin what year\b"), "date"),
    (re.compile(r"^(?:since |until )?when\b"), "when"),
    (re.compile(rf"\bhow much (?:[\w'-]+ )*?{_PAYS}|\bwhat (?:do|does|did|is|are|was) "
                rf"(?:[\w'-]+ )*?{_PAYS}|\bhow much (?:is|are|was|were) (?:a|an|one)\b"),
     "money"),  # "how much is a single ticket?" asks a price
    (re.compile(r"\bhow (?:many|much)\b|\bwhat (?:percentage|share|number|amount)\b"), "number"),
    (re.compile(r"^(?:who|whom|whose)\b|\b(?:which|what) (?:company|person|firm|town)\b"), "name"),
]  # fmt: skip
_SPLITS = re.compile(r"\s*,?\s*\b(when|before|after|by the time|while|since|than)\b\s+")
_OPTIONS = re.compile(r"[,:]\s*(?:the\s+)?([^,:?]+?),?\s+or\s+(?:the\s+)?([^,:?]+?)\s*\??$")
_ENTITY = re.compile(r"\b([A-Z][\w-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w-]*)*)")
_PREPOSITIONS = frozenset({"in", "on", "at", "for", "by", "after", "before", "since"})
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those"})
_OPENERS = frozenset({
    "without", "with", "if", "apart", "besides", "except", "during", "under", "within", "from",
    "to", "of", "as", "about", "according", "including", "excluding", "between", "then", "so",
    "our", "my", "we", "we're", "i'm", "i'd", "i've", "your", "you", "it", "its", "they",
    "their", "last", "next", "and", "but", "also", "please", "distance-wise", "she", "he",
    "her", "his", "them", "us",
})  # fmt: skip
"""Words that open a question or a sentence before it in capitals and are not part of a name
("Without renewing, how many days ...", "Our horsebox weighs about 6 tonnes ...")."""
_WHEN_PAST = re.compile(r"(?i)when (?:was|were|did)\b")
"""A question about when something happened, which a date answers ("When was Oskeby harbour
built?"); "When is the museum open?" is answered by days and hours, not a date."""
_LINKS = frozenset({"from", "at", "in", "of", "for", "by", "with", "its", "their", "the", "a"})
"""Small words a "than" clause's other thing comes with ("than from its East Branch")."""
_BEFORE_OR_AFTER = re.compile(r"\b(before|after) or (before|after)\b", re.IGNORECASE)
_COMPOUND = re.compile(
    r",?\s+and\s+(?=(?:what|which|who|whom|when|where|how|by how|is|are|was|were|does|do|did|"
    r"can)\b)",
    re.IGNORECASE,
)
_AMOUNT_OF = re.compile(
    r"(?<![\w.,])(?:\d+(?:\.\d+)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"[ -](?:of us\b|[a-z]{3,})",
    re.IGNORECASE,
)
"""An amount of something, said in the sentences before a yes/no question ("a group of 7
friends", "weighs about 6 tonnes", "three of us")."""
_BRIDGE = re.compile(r"\b(?:that|this|these|those|the same|it|its|they|their|them)\b", re.I)
_EVENT_JOINS = frozenset({"when", "while", "by the time"})
"""Joints whose second clause is an event of its own ("when its ward opened"); "after its
renovation" qualifies the one fact asked for."""
_OWNER = re.compile(r"\b(its|their|his|her)\b", re.IGNORECASE)
"""A clause's word for whose thing it is about, named in the clause before."""
_ROUGHLY = r"(?:(?:roughly|about|approximately|around|more or less|exactly),? )?"
_GAP = re.compile(
    rf"^(?:and )?(?:(?:by )?{_ROUGHLY}how (?:much|many \w+|many|long|far)(?: \w+)?"
    r"|what(?:'s| is) the difference(?: in [\w ]+)?"
    r"|how (?:much|many) (?:more|fewer|less|longer|higher|taller|bigger|older)\b[\w ,']*)"
    r"(?:,? (?:roughly|about|approximately|more or less))?\??$",
    re.IGNORECASE,
)
"""A follow-up that asks only how far apart a comparison's values are ("and by how much?",
"By how many metres?", "and what's the difference in travel time?", "And by roughly how
much?", "How many more people live there, roughly?")."""
NAME = r"[A-Z][\w'-]*(?:\s+(?:of\s+)?[A-Z0-9][\w'-]*)*"
"""A name: capitalised words (a model's digits among them), "of" between them ("Museum of
Salt", "Gannet G5")."""
_AUX_OPTIONS = re.compile(
    rf"^(?i:does|do|did|is|was|are|were|has|have|had)\s+(?:the\s+)?({NAME})\s+or\s+(?:the\s+)?"
    rf"({NAME})\s+(.+?)\??$"
)
"""A choice asked with an auxiliary ("Does Gristane or Mendle have more people living in
it?"): which of two named things, not a yes or a no."""
_HOW_OLD_WHEN = re.compile(
    r"^how old (?:was|were|is|are) (?:the\s+)?(.+?)\s+(?:when|by the time)\s+(.+?)\??$",
    re.IGNORECASE,
)
"""'How old was X when Y happened?': from X's start to Y, in years."""
_CONDITION = re.compile(r"\b(?:when|while|by the time|already|still)\b", re.IGNORECASE)
"""A condition dates the events its clauses name, not the things' start."""
_ORDERS = frozenset({"earlier", "later", "more", "less"})
VALUED = frozenset({"date", "duration", "number", "money", "time"})
"""Answer types a one-part question's fact must state a value of."""
_SAME_TIME = re.compile(
    r"\s+(?:in|on|at|during)\s+the\s+same\s+(?:year|month|day|date|time)\s+"
    r"(?:that|as|when|in which)\s+",
    re.IGNORECASE,
)
"""A question whether two events fell together ("Was X rebuilt in the same year that Y
opened?"): both dates, compared."""
_POSSESSIVE = re.compile(r"'s?\b")
_HOW_LONG_BETWEEN = re.compile(
    r"^how (?:long|many (?:days|weeks|months|years))\s+(?:after|before)\s+(.+)\s+"
    r"((?:did|was|were|do|does|had|has)\s+.+?)\??$",
    re.IGNORECASE,
)


_CHANGED = re.compile(
    r"^(?:by\s+)?how\s+(?:much|many)\b(?P<thing>.*?)\b(?P<verb>go(?:es)?\s+up|went\s+up|gone\s+up"
    r"|go(?:es)?\s+down|went\s+down|gone\s+down|rise|rose|risen|increased?|grow|grew|grown|gain"
    r"|gained|fall|fell|fallen|drop|dropped|decreased?|shrink|shrank|shrunk|lose|lost|changed?)\b"
    r"(?P<when>.*?)\??$",
    re.IGNORECASE,
)
"""A change of one quantity over time ("By how much did the price of a monthly pass go up in
2024?", "How many members did X gain between the end of 2022 and the end of 2024?")."""
_THAN_BEFORE = re.compile(
    r"^how\s+(?:much|many)\s+(?:more|less|fewer|dearer|cheaper|higher|lower)\b(?P<thing>.*?)"
    r"(?P<when>\b(?:since|from|in|under|now)\b.*?)?\s*(?:,\s*)?"
    r"(?:than\s+(?:it\s+(?:was|did|used\s+to\s+be)\s+|they\s+(?:were|did)\s+)?"
    r"(?:before|previously|earlier)|compared\s+(?:with|to)\s+(?:before|earlier|previously"
    r"|the\s+(?:old|previous|former|earlier)\b.*))\??$",
    re.IGNORECASE,
)
"""The same change asked as a comparison with the time before ("How much more does a weekly
pass cost since April 2024 than before?", "How much dearer is a season permit under the 2025
rules than it was before?", "How much more does a return cost now compared with the old
fares?")."""
EARLIER_THAN = "earlier than"
"""What a side of a change is dated by where the question names no time for it ("than
before", "the old fares"): the version before the one in force at the other side's time."""
_BETWEEN = re.compile(r"\bbetween\s+(.+?)\s+and\s+(.+)$", re.IGNORECASE)
_AUXILIARY = re.compile(rf"\b(?:{'|'.join(sorted(AUXILIARIES))})\b", re.IGNORECASE)


_MONTH_YEAR = re.compile(rf"(?:(?P<month>{'|'.join(MONTHS)})\s+)?(?P<year>\d{{4}})", re.I)
"""A time a change names: a year, or a month and a year ("April 2024")."""


def _before(when: str) -> str | None:
    """The time just before the one `when` names ("in 2024": "in 2023", "since April 2024": "in
    March 2024"); None where it names no date."""
    found = _MONTH_YEAR.search(when)
    if not found:
        return None
    year = int(found["year"])
    if not found["month"]:
        return f"in {year - 1}"
    month = MONTHS[found["month"].lower()] - 1 or 12
    return f"in {list(MONTHS)[month - 1].capitalize()} {year - (month == 12)}"


def changed(text: str) -> list[str]:
    """The two sides of a change over time, each the thing at its own time, earlier first
    ("Brinmouth Savings Bank's staff at the end of 2021", "... at the end of 2023"; against
    "before", "... earlier than in 2025" and "... in 2025", or "... now"); none where the
    question asks no change of one thing between two times."""
    if found := _THAN_BEFORE.search(text):
        when = (found["when"] or "now").strip(" ,?")
        named = _MONTH_YEAR.search(when)
        later = f"in {named[0]}" if named else "now"
        times = [f"{EARLIER_THAN} {later}", later]
    elif found := _CHANGED.search(text):
        when = found["when"].strip(" ,?")
        between = _BETWEEN.search(when)
        if between:
            times = [_at(between[1]), _at(between[2])]
        elif re.match(r"(?i)since\b", when) and _MONTH_YEAR.search(when):
            times = [re.sub(r"^since\b", "in", when, flags=re.IGNORECASE), "now"]  # then to now
        elif (earlier := _before(when)) is not None:
            times = [earlier, re.sub(r"^from\b", "in", when, flags=re.IGNORECASE)]
        else:
            return []
    else:
        return []
    # "members did Merrow Cooperative Bank": "Merrow Cooperative Bank members"
    counted, owner = [*_AUXILIARY.split(found["thing"], maxsplit=1), ""][:2]
    thing = " ".join(f"{owner} {counted}".split())
    return [f"{thing} {t}" for t in times] if thing else []


def _at(time: str) -> str:
    return f"at {time}" if time.lower().startswith("the end") else f"in {time}"


class Part(BaseModel):
    """One fact the question needs: a search query for it and what it is about."""

    query: str = Field(min_length=1, max_length=500)
    subject: str = Field("", max_length=200)
    """The named thing the fact is about ("" where the question names none)."""
    value: Kind | None = None
    """The kind of value the fact states, where one is needed to answer (a date to compare)."""
    ordered: bool = False
    """Whether the question orders things in time ("older", "first"): their start is dated."""
    dated: bool = False
    """Whether the part asks about the time its query names ("Brinmouth Savings Bank's staff at
    the end of 2021", one side of a change): its fact comes from the version in force then."""
    bridge: bool = False
    """Whether the part is about what an earlier part's answer names ("and when was that
    institution founded?"): its subject comes from the earlier part's fact."""


class QuestionPlan(BaseModel):
    """What the question asks for and the facts it needs."""

    answer_type: AnswerType
    relation: Relation = "none"
    parts: list[Part] = Field(min_length=1, max_length=4)
    options: list[str] = Field(default_factory=list, max_length=4)
    """The choices a "which, A or B?" question offers."""
    compared: int | None = None
    """How many of the first parts the relation joins (None: all of them); the others answer
    questions joined on with "and"."""
    gap: bool = False
    """Whether the question also asks by how much the compared values differ."""

    @property
    def multi(self) -> bool:
        return len(self.parts) > 1


def is_question(text: str) -> bool:
    """Whether a request is a question (it ends with a question mark, or opens with a
    question word): a request to summarise or compare documents is not checked as one."""
    stripped = text.strip()
    head = (words(stripped) or [""])[0]
    return stripped.endswith("?") or head in _QUESTION_WORDS - _PREPOSITIONS


def answer_type(question: str) -> AnswerType:
    """What kind of answer the question wants, from its wording."""
    text = " ".join(question.lower().split())
    first = (words(text) or [""])[0]
    if first in AUXILIARIES:
        return "yes_no"
    for pattern, kind in _TYPE_RULES:
        if pattern.search(text):
            return kind
    return "other"


_OPENING_WORD = re.compile(
    r"[A-Z][a-z]+(?:ly(?=,|\s+(?:how|what|when|which|who|where|why)\b)"
    r"|ing(?=\s+(?:of|about|if|whether|to|on|for|at|over|ahead)\b))"
)
"""A lone capitalised word opening a sentence that is an adverb or a verb's -ing form, not a
name ("Roughly how many ...", "Honestly, ...", "Thinking of taking ..."); "Kettering has" and
"Ely is" stay names, and so does "Reading Abbey" (two words)."""


def entities(text: str) -> list[str]:
    """Named things in `text` (runs of capitalised words, a question's own first word and
    possessives left out), in order, without repeats."""
    found: list[str] = []
    plain = _POSSESSIVE.sub("", text)
    for match in _ENTITY.finditer(plain):
        name = match[1]
        while name and name.split()[0].lower() in _QUESTION_WORDS | _DETERMINERS | _OPENERS:
            name = " ".join(name.split()[1:])  # "Is the Kell Bridge": "Kell Bridge"
        opens = not plain[: match.start()].strip() or plain[: match.start()].rstrip()[-1] in ".!?:"
        if opens and name == match[1] and _OPENING_WORD.match(plain, match.start()):
            continue  # "Roughly how many ...", "Thinking of taking my dad ..."
        if name and name not in found and name != "I":
            found.append(name)
    return found


_OWNED = re.compile(r"'s\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)")
"""A named thing that belongs to another ("Tallowford library's East Branch")."""


def subject_of(text: str) -> str:
    """The named thing `text` asks about: its first name, unless a name follows a possessive
    ("Tallowford library's East Branch": the branch, not Tallowford; dev gm64)."""
    owned = _OWNED.search(text)
    named = entities(text)
    return owned[1] if owned and owned[1] in named else (named or [""])[0]


_SUM_PHRASE = re.compile(r"\bbetween (?:them|the two|both)\b|\bin all\b", re.IGNORECASE)
"""A sum said without a word of its own ("How many beds do A and B have between them?")."""


def relation(question: str) -> Relation:
    if _SUM_PHRASE.search(question):
        return "sum"
    said = words(question)
    for word in said:
        if word in _RELATION_WORDS:
            return _RELATION_WORDS[word]
    # "Was X still working when Y opened?": X ended after Y, where nothing else compares
    return "later" if "still" in said else "none"


def _value_kind(kind: AnswerType, clause: str, rel: Relation) -> Kind | None:
    """The kind of value a part must state for the answer to be worked out."""
    if rel == "difference" and kind == "duration":  # how long between two events: their dates
        return "date"
    if kind in ("date", "duration", "number", "money", "time"):
        return kind
    if kind == "when":
        return "date"
    lowered = clause.lower()
    if rel in ("earlier", "later"):
        return "date"
    if re.search(
        r"\b(?:distance|distance-wise|far|farther|further|kilometres|km|miles)\b", lowered
    ):
        return "number"  # "Distance-wise, which is the longer ride?": a length, not a time
    if re.search(
        r"\b(?:long|longer|shorter|durations?|period|warranty|minutes|hours|days|weeks|months|years"
        r"|quicker|quickest|slower|slowest)\b",
        lowered,
    ):
        return "duration"
    if rel in ("more", "less", "sum", "difference"):
        return "number"
    return None


def _strip_question_words(clause: str) -> str:
    kept = clause.strip(" ,?")
    head = kept.split(" ", 1)
    if head and head[0].lower().removesuffix("'s") in _QUESTION_WORDS and len(head) > 1:
        kept = head[1]
    return kept


_YEAR_BEFORE = re.compile(
    r"^(?:in\s+)?(?:the\s+)?(?:year\s+(?:before|earlier|prior)|previous\s+year|a\s+year"
    r"\s+(?:earlier|before))\W*$",
    re.IGNORECASE,
)
"""A time said against the year a question names ("than the year before")."""


def _joined_clauses(text: str) -> list[str]:
    """A condition's or a comparison's two clauses ("Was X ... when Y ...?", "X's warranty
    longer than Y's?": Y's warranty); none where the question has no such joint."""
    pieces = _SPLITS.split(text)  # clause, joiner, clause, ...
    if len(pieces) < 3:
        return []
    first, last = _strip_question_words(pieces[0]), _strip_question_words(pieces[-1])
    year = re.search(rf"\b{YEAR}\b", first)
    if pieces[1] == "than" and year and _YEAR_BEFORE.match(last):
        # "sell more beer in 2024 than the year before": the same thing in 2023
        last = f"{first[: year.start()]}{int(year[0]) - 1}{first[year.end() :]}"
    elif pieces[1] == "than":
        named, other = entities(first), entities(last)
        if named and other and len([w for w in words(last) if w not in _LINKS]) <= 3:
            # the name as written, possessive and all ("St Bride's Hospital": "St Bride Hospital")
            written = r"(?:'s)?\s+".join(map(re.escape, named[0].split()))
            last = re.sub(written, lambda _: other[0], first, count=1)
    owner = _OWNER.search(last)
    named = entities(first)
    if pieces[1] in _EVENT_JOINS and not entities(last) and owner and named:
        # "when its maternity ward opened": the ward of the last thing named before ("Was Yusuf
        # Ambrel already working at Caddenholm Infirmary when ...?"); "his", "her" and "their"
        # stand for the first, the one the question is about
        name = named[-1] if owner[1].lower() == "its" else named[0]
        last = f"{last[: owner.start()]}{name}'s{last[owner.end() :]}"
    elif pieces[1] != "than" and not entities(last):  # "... before it was extended": a
        return []  # qualifier of the one fact asked for, not a second fact
    return [first, last] if len(words(first)) >= 2 and len(words(last)) >= 2 else []


def _summed_clauses(text: str) -> list[str]:
    """One clause per named thing of a sum ("How many ... do X and Y have together?")."""
    named = entities(text)
    if len(named) < 2:
        return []
    rest = text
    for name in named:
        rest = rest.replace(name, " ")
    rest = _strip_question_words(re.sub(r"\band\b|\bboth\b", " ", rest))
    return [f"{name} {rest}" for name in named[:4]]


def _option(text: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)


Shape = tuple[AnswerType, Relation, list[str], list[str]]
"""A question's answer type, relation, options and the clauses of its parts."""


def _shape(text: str) -> Shape:
    """What the question's form alone says of its parts: a choice, a condition, a comparison,
    a gap between two events; no clauses where it is none of those."""
    kind = answer_type(text)
    rel = relation(text)
    options: list[str] = []
    clauses: list[str] = []
    if _BEFORE_OR_AFTER.search(text):  # "did X happen before or after Y?"
        kind, rel, options = "other", "earlier", ["before", "after"]
        pieces = re.split(r"\s+before or after\s+|\s+after or before\s+", text)
        if len(pieces) == 2:
            clauses = [_strip_question_words(pieces[0]), _strip_question_words(pieces[1])]
    elif sides := changed(text):  # one quantity at two times: the gap between them
        rel, clauses = "difference", sides
        kind = kind if kind in ("money", "number", "duration") else "number"
    elif (found := _AUX_OPTIONS.match(text)) and relation(found[3]) in _ORDERS:
        kind, rel, options = "other", relation(found[3]), [found[1], found[2]]
        clauses = [f"{option} {found[3]}" for option in options]
    elif found := _SAME_TIME.search(text):
        rel = "same"
        clauses = [_strip_question_words(text[: found.start()]), text[found.end() :].strip(" ?")]
    elif found := _OPTIONS.search(text):
        options = [_option(found[1]), _option(found[2])]
        stem = _strip_question_words(text[: found.start()])
        clauses = [f"{option} {stem}" for option in options]
    elif found := _HOW_LONG_BETWEEN.search(text):  # "how long after X did Y?"
        clauses, rel = [found[1], found[2]], "difference"
    elif found := _HOW_OLD_WHEN.search(text):  # X's start (a founding word: a start event)
        kind, rel = "duration", "difference"
        clauses = [f"{found[1]} was built or founded", found[2]]
    elif kind in ("yes_no", "duration", "number", "date", "when"):
        clauses = _joined_clauses(text)
    return kind, rel, options, clauses


_MORE_NOW = re.compile(
    r"^how much (?:more|dearer|higher)\s+(?:is|are|does|do)\s+(?P<thing>(?:an?|the)\s+[^?]+?)"
    r"(?:\s+cost)?\s+(?:now|today|these days|nowadays)\??$",
    re.IGNORECASE,
)
"""A rise asked against a time the sentences before the question name ("How much more is an
adult return now?" after "I last went in 2021")."""


def _plan_one(text: str, context: str = "") -> QuestionPlan:
    """The plan of one simple question (`context`: the sentences before it, which may name
    what a "which is older?" compares, or the time a change is counted from)."""
    if (more := _MORE_NOW.match(text)) and (year := re.search(rf"\b{YEAR}\b", context)):
        # "I last took the steamer in 2021. How much more is an adult return now?"
        text = f"How much has {more['thing']} gone up since {year[0]}?"
    kind, rel, options, clauses = _shape(text)
    which = re.search(r"(?i)(?:^|,\s*)(which\b.*)$", text)
    if not clauses and rel in _ORDERS and which:
        # "A and B are firms. Which is older?", "Between A and B, which steamer is older?"
        named = entities(f"{context} {text[: which.start(1)]}")
        if len(named) >= 2:
            options = named[:2]
            stem = _strip_question_words(which[1])
            clauses = [f"{option} {stem}" for option in options]
    if not clauses and rel == "sum":
        clauses = _summed_clauses(text)
    if len(clauses) < 2:
        value = _value_kind(kind, text, "none") if kind in VALUED else None
        if kind == "when" and _WHEN_PAST.match(text):  # "When was X built?": a date
            value = "date"
        # "A group of 10 wants to camp ... for four nights. Is that allowed?": what "that" is
        # asked about is in the sentences before it
        # as is a case the question asks a rule about ("We're a group of 7 friends. Can we all
        # go on one pitch?")
        joined = f"{context} {text}"
        leans = _BRIDGE.search(text) or (kind == "yes_no" and _AMOUNT_OF.search(context))
        asked = joined if context and leans and len(joined) <= 500 else text
        part = Part(query=asked, subject=subject_of(asked), value=value)
        return QuestionPlan(answer_type=kind, relation=rel, parts=[part])
    # the sides of a comparison are measured alike: "Does X keep its data longer than Y keeps
    # deleted records?" compares two durations, though only X's side says "longer"
    measure = _value_kind(kind, text, rel) if rel in ("more", "less") else None
    if rel == "same":
        measure = "date"
    dated = bool(changed(text))
    if dated:  # a change in a quantity is measured in the quantity, not in dates
        measure = kind if kind in VALUED else "number"
    parts = [
        Part(
            query=" ".join(clause.split()),
            subject=subject_of(clause),
            value=measure or _value_kind(kind, clause, rel),
            ordered=rel in ("earlier", "later") and not _CONDITION.search(text),
            dated=dated,
        )
        for clause in clauses[:4]
    ]
    return QuestionPlan(answer_type=kind, relation=rel, parts=parts, options=options)


_LEAD_IN = re.compile(
    rf"^([^:?]{{1,60}}):\s+(?=(?i:{'|'.join(sorted(_QUESTION_WORDS - _PREPOSITIONS))})\b)"
)
"""A few words and a colon before the question proper ("Out of curiosity: who founded ...?",
"Quick one: is the pool open on Sundays?")."""


def _context_and_question(text: str) -> tuple[str, str]:
    """The sentences around the question (before it, and any after it: "When did the tramway
    first open? I'd like the actual date if there is one."), and the last question."""
    asked = list(re.finditer(r"(?:^|(?<=[.!?])\s+)([^.!?]*\?)", text))
    if not asked:
        return "", text
    last = asked[-1]
    context = f"{text[: last.start(1)].strip()} {text[last.end(1) :].strip()}".strip()
    if lead := _LEAD_IN.match(last[1]):  # "Out of curiosity: who founded ...?"
        return f"{context} {lead[1]}".strip(), last[1][lead.end() :]
    return context, last[1]


_GAP_WORDS = frozenset({
    "and", "by", "how", "much", "many", "long", "far", "more", "fewer", "less", "longer",
    "higher", "taller", "bigger", "older", "roughly", "about", "approximately", "around", "or",
    "exactly", "what", "what's", "is", "the", "difference", "in", "there", "then", "it", "they",
})  # fmt: skip


_HOW_MUCH = re.compile(
    rf"^(?:and )?(?:by )?{_ROUGHLY}how (?:much|many|long|far)\b(?P<rest>[^?]*)\??$", re.IGNORECASE
)


def asks_gap(follow_up: str) -> bool:
    """Whether a follow-up to a comparison asks only how far apart its values are: `_GAP`'s
    phrasings, or any "how much/many ..." that names no thing of its own and is short ("and how
    many years older is she?", "How many metres in it, comparing their deepest points?")."""
    text = " ".join(follow_up.split())
    if _GAP.match(text):
        return True
    found = _HOW_MUCH.match(text)
    return bool(found) and not entities(found["rest"]) and len(words(found["rest"])) <= 8


def with_gap(plan: QuestionPlan, follow_up: str) -> QuestionPlan:
    """A comparison that also asks its gap; what the follow-up says it counts goes into each
    part's search ("Is Orlaby much bigger than Fennick? How many more people live there?":
    people living there, not any number of the towns)."""
    said = [w for w in re.findall(r"[\w'-]+", follow_up) if w.lower() not in _GAP_WORDS]
    if not said:
        return plan.model_copy(update={"gap": True})
    extra = " ".join(said)
    parts = [p.model_copy(update={"query": f"{p.query}: {extra}"}) for p in plan.parts]
    return plan.model_copy(update={"gap": True, "parts": parts})


_AROUND = re.compile(
    r"\b(?:has|have|had) been (?:around|going|in business|running)(?: for)? (?:the )?"
    r"(longer|longest)\b",
    re.IGNORECASE,
)
"""Being around longer is being older ("Which hospital has been around longer, A or B?")."""


_THAT_THAN = re.compile(
    rf"^(?:and )?(?:was|is|were|are) (?:that|it|this) (?:(?:more|less|higher|lower|fewer)"
    rf"(?: or (?:more|less|higher|lower|fewer))?) than (?:in |it was in )?(?P<year>{YEAR})"
    r"(?P<gap>,? (?:and )?by how (?:much|many)\b.*)?\??$",
    re.IGNORECASE,
)
"""A follow-up setting the amount just asked for against another year ("And was that more or
less than in 2022, by how much?")."""


def plan_question(question: str) -> QuestionPlan:
    """The facts `question` needs: one per option of a choice, one per clause of a condition
    or a "than" comparison, one per named thing summed, and those of each question joined by
    "and" ("which institution owns it, and when was that institution founded?", the second
    resting on the first's answer); otherwise the question itself."""
    text = " ".join(question.split())
    text = _AROUND.sub(lambda m: "is older" if m[1].lower() == "longer" else "is oldest", text)
    context, asked = _context_and_question(text)
    if context.endswith("?") and asks_gap(asked):  # "Which is higher, A or B? By how much?"
        earlier = plan_question(context)
        if earlier.multi:
            return with_gap(earlier, asked)
    if context.endswith("?") and (then := _THAT_THAN.match(asked)):
        # "How much slate did X send out in 2024? And was that more or less than in 2022?"
        earlier = plan_question(context)
        year = re.search(rf"\b{YEAR}\b", earlier.parts[0].query)
        if not earlier.multi and year and earlier.answer_type in ("number", "money"):
            one = earlier.parts[0].model_copy(update={"dated": True})
            other = one.model_copy(update={"query": one.query.replace(year[0], then["year"])})
            return QuestionPlan(
                answer_type=earlier.answer_type,
                relation="more",
                parts=[other, one],
                gap=bool(then["gap"]),
            )
    pieces = [p for p in _COMPOUND.split(asked) if p.strip()]
    first = _plan_one(pieces[0].rstrip(" ,") + ("?" if len(pieces) > 1 else ""), context)
    rest = pieces[1:]
    if not rest:
        return first
    if first.multi and len(rest) == 1 and asks_gap(rest[0]):  # "..., and by how much?"
        return with_gap(first, rest[0])
    parts = list(first.parts)
    for piece in rest:
        sub = _plan_one(piece[0].upper() + piece[1:], context)
        bridged = bool(_BRIDGE.search(piece))
        parts += [p.model_copy(update={"bridge": bridged}) for p in sub.parts]
    return QuestionPlan(
        answer_type=first.answer_type,
        relation=first.relation if first.multi else "none",
        parts=parts[:4],
        options=first.options,
        compared=len(first.parts) if first.multi else 0,
    )
