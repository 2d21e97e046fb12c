"""Hybrid search over a request's documents: BM25 and MiniLM embeddings, fused by reciprocal
rank."""

from __future__ import annotations

import bm25s
import numpy as np

from core.state import Document, Passage
from core.text.embeddings import cosine, embed

RRF_K = 60
"""Reciprocal-rank-fusion constant (the usual 60: ranks matter, raw scores do not)."""
MIN_SIMILARITY = 0.15
"""Documents below this cosine similarity to the query are never used."""
LEXICAL_SHARE = 0.5
SEMANTIC_MARGIN = 0.15
"""A document joins the best one only when its evidence is comparable on both counts: BM25 at
least `LEXICAL_SHARE` of the best document's, cosine within `SEMANTIC_MARGIN` of it. Passages
that merely share a topic dilute the context and the citations."""


def _bm25_scores(query: str, texts: list[str]) -> np.ndarray:
    corpus = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    if not corpus.vocab:  # only stop words or punctuation: nothing to index (bm25s would fail)
        return np.zeros(len(texts))
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
    if not tokens.vocab:
        return np.zeros(len(texts))
    return np.asarray(retriever.get_scores(_query_ids(tokens)), dtype=np.float64)


def _query_ids(tokens: bm25s.tokenization.Tokenized) -> list[str]:
    inverse = {i: w for w, i in tokens.vocab.items()}
    return [inverse[i] for i in tokens.ids[0]]


def _ranks(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def hybrid_search(query: str, documents: list[Document], k: int, cut: bool = True) -> list[Passage]:
    """Up to `k` documents best matching `query`, by fused BM25 and embedding ranks (`cut`:
    only those comparable with the best, see `LEXICAL_SHARE`)."""
    if not documents:
        return []
    texts = [d["text"] for d in documents]
    lexical = _bm25_scores(query, texts)
    vectors = embed([query, *texts])
    semantic = cosine(vectors[:1], vectors[1:])[0]
    fused = 1.0 / (RRF_K + _ranks(lexical)) + 1.0 / (RRF_K + _ranks(semantic))
    order = np.argsort(-fused, kind="stable")[:k]
    top = order[0]

    def comparable(i: int) -> bool:
        return i == top or (
            lexical[i] >= LEXICAL_SHARE * lexical[top]
            and semantic[i] >= semantic[top] - SEMANTIC_MARGIN
        )

    return [
        {"doc_id": documents[i]["id"], "text": documents[i]["text"], "score": float(fused[i])}
        for i in order
        if not cut or (comparable(i) and (semantic[i] >= MIN_SIMILARITY or lexical[i] > 0))
    ]


def ranking(query: str, documents: list[Document]) -> list[str]:
    """Every document's id, best match for `query` first (fused ranks, no cut)."""
    return [p["doc_id"] for p in hybrid_search(query, documents, len(documents), cut=False)]
