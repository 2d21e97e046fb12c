"""English verb forms, for "start with a verb": the engine's check (`core.instructions`
`StartsWithVerb`) and the scorer's stand-in for the tagger IFBench's `words:start_verb` asks
(`evals.verifiers`). That verifier asks nltk's perceptron tagger whether the answer's first
token is a verb (tag VB*), and the tagger's weights cannot be shipped, so the first token is
looked up in a lexicon of English verb forms instead.

Where this differs from the reference scorer: the tagger reads context and this reads only the
next token. A word that can be a verb counts as one ("Love the rain" and "Love conquers all"
both pass, where the tagger may call the second a noun), unless an auxiliary or a modal follows
and it is no -ing form ("Water is", "Love can": a noun, as the tagger has it; "Running is"
stays a verb, VBG); a verb missing from the lexicon fails; modals ("Can", "Should") fail, as the
tagger calls them MD; a capitalised verb the tagger calls a proper noun passes here.
"""

from __future__ import annotations

import re

REGULAR = """
accept achieve acknowledge act adapt add address adjust admire admit adopt advance advise
affect agree aim allow alter analyse analyze announce answer anticipate apologise apologize
appear apply appreciate approach approve argue arrange arrive ask assemble assess assign assist
assume assure attach attack attempt attend attract avoid bake balance ban base bathe beg behave
believe belong blend block boil book boost borrow bother bounce brainstorm breathe brew browse
brush bury calculate call calm care carry celebrate challenge change charge chase chat check
cheer chew circle claim clarify classify clean clear click climb close coach collaborate collect
combine comfort command comment commit communicate compare compete compile complain complete
compose concentrate conclude conduct confirm connect conquer consider consist construct consult
contact contain continue contribute control convert convince cook cooperate coordinate copy
correct count cover crave crawl create cross crush cry cultivate cure dance dare debate decide
declare decline decorate decrease define delay delegate delete deliver demand demonstrate deny
depend describe deserve design desire destroy detect determine develop devote die dine direct
disagree disappear discover discuss dislike display distinguish distribute dive divide document
donate double doubt download drag dress drop dry earn ease edit educate elect eliminate embrace
emerge emphasise emphasize employ empower enable encourage end endure engage enhance enjoy
enrich ensure enter entertain envision equip escape establish estimate evaluate examine exceed
exchange excite exclude execute exercise exist expand expect experience experiment explain
explode explore express extend fade fail fasten favour favor fear file fill finish fix flip
float flow fold follow force forecast form formulate foster frame gain gather generate glance
glow grab graduate grant greet grip guarantee guard guess guide handle happen harness hate heal
help hesitate highlight hire hope host hug hunt hurry identify ignore illustrate imagine
implement imply impress improve include incorporate increase indicate influence inform inhale
inspect inspire install integrate intend interact interpret interrupt interview introduce
invent invest investigate invite involve iron join joke judge jump justify kick kill kiss knock
label land last laugh launch learn lift limit link list listen live locate lock look love
maintain manage mark marry master match matter measure melt mention merge migrate mind minimise
minimize miss mix modify monitor motivate move multiply name navigate need negotiate nod note
notice notify nourish nurture obey observe obtain occupy occur offer open operate oppose opt
order organise organize outline overlook own paint park participate pass pause perform permit
persuade pick picture place plan plant play please plug point polish possess post pour practise
practice praise pray predict prefer prepare present preserve press pretend prevent print
prioritise prioritize proceed process produce program promise promote pronounce protect provide
publish pull pump punch purchase pursue push qualify question quote race rain raise rank rate
reach react realise realize recall receive recognise recognize recommend record recover recycle
reduce refer reflect refuse regard register regret reject relate relax release rely remain
remember remind remove renew repair repeat replace reply report represent request require
rescue research reserve resist resolve respect respond rest restore result retain retire
return reveal review revise reward rinse risk roll rule rush sail satisfy save scan schedule
score scream search secure select separate serve settle share shift shop shout sign simplify
sip sketch ski skip slice slip smell smile solve sort spark specify spell spoil stack start
state stay step stir stop store stretch stroll study submit succeed suffer suggest summarise
summarize supply support suppose surprise surround survive suspect sustain switch talk tap
taste test thank tie touch tour trace track trade train transfer transform translate travel
treat trust try turn type underline unite unlock update upgrade urge use utilise utilize value
verify view visit visualise visualize vote wait walk wander want warm warn wash waste watch
water wave weigh welcome whisper wipe wish wonder work worry wrap yell yield
"""
"""Base forms inflected by rule (-s, -ed, -ing, with the usual spelling changes)."""

IRREGULAR = """
be am is are was were been being | have has had having | do does did done doing
go goes went gone going | arise arose arisen | awake awoke awoken | bear bore borne
beat beaten | become became | begin began begun | bend bent | bet | bind bound | bite bit bitten
bleed bled | blow blew blown | break broke broken | bring brought | build built | burn burnt
buy bought | cast | catch caught | choose chose chosen | cling clung | come came | cost
creep crept | cut | deal dealt | dig dug | draw drew drawn | dream dreamt | drink drank drunk
drive drove driven | eat ate eaten | fall fell fallen | feed fed | feel felt | fight fought
find found | flee fled | fly flew flown | forbid forbade forbidden | forget forgot forgotten
forgive forgave forgiven | freeze froze frozen | get got gotten | give gave given
grow grew grown | hang hung | hear heard | hide hid hidden | hit | hold held | hurt | keep kept
kneel knelt | know knew known | lay laid | lead led | leap leapt | leave left | lend lent | let
lie lay lain lying | light lit | lose lost | make made | mean meant | meet met | pay paid
prove proven | put | quit | read | rebuild rebuilt | rethink rethought | rewrite rewrote rewritten
ride rode ridden | ring rang rung | rise rose risen | run ran | say said | see saw seen
seek sought | sell sold | send sent | set | shake shook shaken | shine shone | shoot shot
show shown | shrink shrank shrunk | shut | sing sang sung | sink sank sunk | sit sat
sleep slept | slide slid | speak spoke spoken | spend spent | spin spun | split | spread
spring sprang sprung | stand stood | steal stole stolen | stick stuck | strike struck
swear swore sworn | sweep swept | swim swam swum | swing swung | take took taken
teach taught | tear tore torn | tell told | think thought | throw threw thrown
understand understood | undergo underwent undergone | uphold upheld | wake woke woken
wear wore worn | weave wove woven | weep wept | win won | withdraw withdrew withdrawn
withstand withstood | write wrote written | overcome overcame | oversee oversaw overseen
foresee foresaw foreseen | mislead misled
"""
"""Irregular verbs, each group its base form then its other forms (also inflected by rule)."""

_CVC = re.compile(r"[^aeiou][aeiou][bdgklmnprt]$")


def forms(base: str, past: bool = True) -> set[str]:
    """The base and its -s and -ing forms (and -ed forms when `past`: not for irregular verbs,
    whose "be" would give "bed") by the spelling rules; over-generating is harmless, as a
    misspelt form never starts an answer."""
    if len(base) > 1 and base.endswith("y") and base[-2] not in "aeiou":
        made = [base[:-1] + "ies", base[:-1] + "ied", base + "ing"]
    elif base.endswith(("s", "sh", "ch", "x", "z", "o")):
        made = [base + "es", base + "ed", base + "ing"]
    elif base.endswith("ie"):
        made = [base + "s", base + "d", base[:-2] + "ying"]
    elif base.endswith("e"):
        made = [
            base + "s",
            base + "d",
            base + "ing" if base.endswith(("ee", "ye", "oe")) else base[:-1] + "ing",
        ]
    else:
        made = [base + "s", base + "ed", base + "ing"]
    if _CVC.search(base):
        made += [base + base[-1] + "ed", base + base[-1] + "ing"]
    return {base, *(form for form in made if past or not form.endswith(("ed", "d")))}


def _lexicon() -> frozenset[str]:
    words: set[str] = set()
    for base in REGULAR.split():
        words |= forms(base)
    for group in IRREGULAR.split("|"):
        base, *others = group.split()
        words |= {*forms(base, past=False), *others}
    return frozenset(words)


VERB_FORMS = _lexicon()
"""Every verb form the fallback knows, lower case."""


SUBJECT_BEFORE = frozenset(
    {"is", "are", "was", "were", "has", "have", "had", "does", "did"}
    | {"can", "could", "will", "would", "shall", "should", "may", "might", "must"}
)
"""A first word followed by one of these is the subject ("Water is...", "Love can..."), which
the tagger calls a noun even when the word can be a verb."""


def starts_with_verb(tokens: list[str]) -> bool:
    """Whether the first of `tokens` is a known English verb form (any case), not followed by an
    auxiliary that makes it the subject (an -ing form stays a verb: "Running is...")."""
    first = tokens[0].lower() if tokens else ""
    if first not in VERB_FORMS:
        return False
    subject = len(tokens) > 1 and tokens[1].lower() in SUBJECT_BEFORE
    return first.endswith("ing") or not subject
