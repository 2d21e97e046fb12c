"""What every instruction check shares: the spec base class, count relations and findings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.state import Finding

MAX_COUNT = 100_000
"""The largest count any relation accepts (words in an essay fit; nonsense does not)."""

Limit = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Phrase = Annotated[str, Field(min_length=1, max_length=500)]
Word = Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]


class Spec(BaseModel):
    """One verifiable instruction. Subclasses set `kind` (the discriminator) and implement
    `check` and `describe`; those that can fix a text without a model implement `_repair`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str

    def check(self, text: str) -> Finding | None:
        """None when `text` follows the instruction, else a finding saying what is wrong."""
        raise NotImplementedError

    def describe(self) -> str:
        """The instruction as one plain-English sentence, for a drafting prompt."""
        raise NotImplementedError

    def repair(self, text: str) -> str | None:
        """`text` fixed without a model, or None when it cannot be. A repair is kept only if it
        passes the check and leaves words in the text, so it never hollows the answer out."""
        return next(self.repairs(text), None)

    def repairs(self, text: str) -> Iterator[str]:
        """Each way `text` can be fixed without a model, best first, every one passing the
        check and keeping words (`repair_all` takes the first that breaks no other rule)."""
        if self.check(text) is None:
            yield text
            return
        for fixed in self._repairs(text):
            if any(ch.isalnum() for ch in fixed) and self.check(fixed) is None:
                yield fixed

    def _repairs(self, text: str) -> Iterator[str]:
        """The candidate fixes, best first: `_repair`'s one, where a rule has one."""
        fixed = self._repair(text)
        if fixed is not None:
            yield fixed

    def _repair(self, text: str) -> str | None:
        return None

    def grammar(self) -> str | None:
        """A GBNF grammar under which any text follows the rule (`core.instructions.grammars`),
        for a server that constrains its sampler to one; None where the rule has none a model
        writes readable text under."""
        return None

    def words_needed(self) -> int:
        """About how many words a text must hold to follow the rule (a keyword in sentence
        28 needs 28 sentences), for sizing a draft; 0 where the rule sets no length."""
        return 0

    def nearness(self, text: str) -> float:
        """How near a failing `text` is to following the instruction, in [0, 1): the share of
        its parts already met (6 of 7 punctuation marks). 0 where the rule has no parts to
        count; a count's nearness is read from its finding (`nodes.validate.progress`)."""
        return 0.0

    def regroup(self, text: str) -> str | None:
        """`text` regrouped, not reworded, towards a count that rewording alone cannot reach
        (the check may still fail after it), or None where the rule needs no such step."""
        return None

    def finding(self, message: str, *data: str) -> Finding:
        return {
            "source": f"instruction:{self.kind}",
            "severity": "error",
            "message": message,
            "data": [self.kind, *data],
        }


class Counted(Spec):
    """A spec with a count relation: `at_least`, `at_most` (both allowed, a range) or
    `exactly` (alone). IFEval's "less than N" is `at_most: N - 1`."""

    at_least: Limit | None = None
    at_most: Limit | None = None
    exactly: Limit | None = None

    @model_validator(mode="after")
    def _one_relation(self) -> Self:
        if self.exactly is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give `exactly` alone, or `at_least` and/or `at_most`")
        if self.exactly is None and self.at_least is None and self.at_most is None:
            raise ValueError("give one of `at_least`, `at_most` or `exactly`")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("`at_least` is above `at_most`")
        return self

    def low(self) -> int:
        return self.exactly if self.exactly is not None else (self.at_least or 0)

    def high(self) -> int | None:
        return self.exactly if self.exactly is not None else self.at_most

    def holds(self, n: int) -> bool:
        high = self.high()
        return n >= self.low() and (high is None or n <= high)

    def gap(self, n: int) -> str:
        """How `n` misses the relation: "2 more needed" or "3 too many"."""
        if n < self.low():
            return f"{self.low() - n} more needed"
        return f"{n - (self.high() or 0)} too many"

    def relation(self) -> str:
        """The relation in words: "exactly 3", "at least 2", "between 2 and 5"."""
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        if self.at_least is not None and self.at_most is not None:
            return f"between {self.at_least} and {self.at_most}"
        if self.at_least is not None:
            return f"at least {self.at_least}"
        return f"at most {self.at_most}"

    def target(self, n: int) -> int:
        """The count nearest to `n` that holds."""
        high = self.high()
        return max(n, self.low()) if high is None else min(max(n, self.low()), high)

    def counted(self, n: int, noun: str, where: str = "") -> Finding | None:
        """The finding for a count `n` of `noun`, or None when it holds."""
        if self.holds(n):
            return None
        place = f" {where}" if where else ""
        message = f"{n} {noun}{place}, {self.relation()} required: {self.gap(n)}"
        return self.finding(message, str(n), self.relation())
