"""Compression of verbose context: sentences that nearly repeat one already kept (by embedding
similarity) add nothing and are dropped. Shared by the summariser and the prompt fitter."""

from __future__ import annotations

import re

import numpy as np

from core.text.embeddings import cosine, embed
from core.text.plain import sentences

DUPLICATE_SIMILARITY = 0.92
"""Sentences at least this similar (cosine of MiniLM embeddings) count as near-duplicates."""
_NUMBER = re.compile(r"\d[\d,.]*")


def _numbers(sentence: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(sentence))


def is_near_duplicate(
    vector: np.ndarray, kept: np.ndarray, threshold: float = DUPLICATE_SIMILARITY
) -> bool:
    """Whether `vector` (one unit embedding) is within `threshold` of any row of `kept`."""
    if len(kept) == 0:
        return False
    return float(np.max(cosine(vector.reshape(1, -1), kept))) >= threshold


def drop_near_duplicates(text: str, threshold: float = DUPLICATE_SIMILARITY) -> str:
    """`text` without the sentences that nearly repeat an earlier one; line breaks and order
    are kept, so fenced documents and instructions keep their layout."""
    lines = text.split("\n")
    split = [sentences(line) for line in lines]
    flat = [s for parts in split for s in parts]
    if len(flat) < 2:
        return text
    vectors = embed(flat)
    numbers = [_numbers(s) for s in flat]
    kept: list[int] = []
    out: list[str] = []
    index = 0
    for line, parts in zip(lines, split, strict=True):
        survivors = []
        for part in parts:
            # embeddings barely see numbers: "item 57 weighs 399" is not "item 59 weighs 413"
            same = [k for k in kept if numbers[k] == numbers[index]]
            if not is_near_duplicate(vectors[index], vectors[same], threshold):
                kept.append(index)
                survivors.append(part)
            index += 1
        out.append(line if len(survivors) == len(parts) else " ".join(survivors))
    return "\n".join(out)
