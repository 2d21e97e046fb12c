"""The NLTK data the instruction verifiers read, shipped in `evals/nltk_data/`: nothing is
downloaded (see its README for what each file is and where it differs from nltk's own)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

NLTK_DATA = Path(__file__).resolve().parent / "nltk_data"
"""Stop words, an empty-parameter punkt_tab model, and marker directories (see README.md)."""


class DownloadRefused(RuntimeError):
    """Something asked nltk to download data: evaluations never do (the data is shipped)."""


def _refuse(info_or_id: Any = None, *_: Any, **__: Any) -> NoReturn:
    raise DownloadRefused(
        f"nltk.download({info_or_id!r}) refused: evaluations read only {NLTK_DATA} "
        "(see evals/nltk_data/README.md)"
    )


def use_shipped_data() -> None:
    """Put the shipped data first on nltk's search path (and in NLTK_DATA, for any process this
    one starts) and make `nltk.download` raise; run before importing the verifiers."""
    import nltk

    root = str(NLTK_DATA)
    paths = os.environ.get("NLTK_DATA", "").split(os.pathsep)
    if root not in paths:
        os.environ["NLTK_DATA"] = os.pathsep.join([root, *filter(None, paths)])
    if root in nltk.data.path:
        nltk.data.path.remove(root)
    nltk.data.path.insert(0, root)
    nltk.download = _refuse
    nltk.downloader.download = _refuse
