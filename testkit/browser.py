"""Debian's Chromium for page tests: where it is, and the flags that keep it headless and off
the network (without the background-networking flags it dials out at every start)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> Path:
    """Chromium's path; where it is missing the calling test fails, saying how to install it
    (a page test that skipped would pass CI having tested nothing)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is not at {CHROMIUM}, so the page cannot be tested: install it "
            "with `scripts/setup.sh --test` (or `apt-get install chromium`)",
            pytrace=False,
        )
    return CHROMIUM
