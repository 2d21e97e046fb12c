"""`python -m api.auth new NAME`: a key shown once and the keys-file line that the server reads
back to that key (by its digest, never the key itself); a wrong command says how to use it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from api import auth
from core.settings import Settings


def test_new_prints_a_key_and_the_keys_file_line_the_server_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["api.auth", "new", "alice"])
    auth.main()
    out = capsys.readouterr().out
    key = re.search(r"shown once\): (\S+)", out).group(1)  # type: ignore[union-attr]
    line = re.search(r"REFINERY_API_KEYS_FILE\): (.+)", out).group(1)  # type: ignore[union-attr]
    assert key.startswith("rf_") and key not in line
    assert line == f"{auth.digest(key)} alice"
    keys_file = tmp_path / "keys"
    keys_file.write_text(line + "\n")
    ring = auth.KeyRing.from_settings(Settings(api_keys_file=keys_file))
    found = ring.lookup(key)
    assert found is not None and found.name == "alice"
    assert ring.lookup(key + "x") is None


def test_a_wrong_command_prints_its_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["api.auth", "old"])
    with pytest.raises(SystemExit, match=r"usage: python -m api\.auth new \[NAME\]"):
        auth.main()
