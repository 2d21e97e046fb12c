"""Words dealt into small groups of related meaning, so each sentence of a plan gets words that
belong together ("snow, dunk, rink, winter") instead of whichever came next in the list."""

from __future__ import annotations

import numpy as np

from core.text.embeddings import embed


def capped_groups(similarity: np.ndarray, n: int) -> list[list[int]]:
    """The indices of a square `similarity` matrix in `n` groups of at most ceil(size / n)
    members (more only where no two groups fit together under that), merged greedily by average
    linkage: the two groups whose members are most alike on average go together first, ties to
    the earlier pair. Each group is in index order, the groups in the order of their first index.

    Written here: scipy's and scikit-learn's agglomerative clustering cannot cap a cluster's
    size, and uncapped they put twenty of thirty words in one sentence."""
    size = similarity.shape[0]
    groups = [[i] for i in range(size)]
    cap = -(-size // max(n, 1))
    while len(groups) > max(n, 1):
        best: tuple[float, int, int] | None = None
        for i, a in enumerate(groups):
            for j in range(i + 1, len(groups)):
                b = groups[j]
                if len(a) + len(b) <= cap:
                    link = float(similarity[np.ix_(a, b)].mean())
                    if best is None or link > best[0]:
                        best = (link, i, j)
        if best is None:  # every pair would overflow the cap: let groups grow by one
            cap += 1
            continue
        _, i, j = best
        groups[i] = sorted(groups[i] + groups.pop(j))
    return sorted(groups, key=lambda group: group[0])


def related_groups(words: list[str], n: int) -> list[list[str]]:
    """`words` in `n` groups of related meaning (all-MiniLM-L6-v2 cosine similarity), each
    group's words in the order given and the groups in the order of their first word."""
    if len(words) <= 1 or n >= len(words):
        return [[word] for word in words]
    vectors = embed([word.lower() for word in words])
    return [[words[i] for i in group] for group in capped_groups(vectors @ vectors.T, n)]
