"""`refinery run --doc`: each file is a source document named by its file name, the answer is
grounded in and cites the one that holds the fact, and a missing or unreadable file is a clear
usage error that runs nothing (a real CLI process against the fake model server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.fake_openai import FakeOpenAI

QUESTION = "How many locomotives does Kestrel Freight run?"
KESTREL = "Kestrel Freight runs 31 battery-electric locomotives. It was founded in 1998."
TOVA = "Tova Bakery opened in 2011. It sells rye bread and pastries from a shop by the harbour."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().serve()
    yield server
    server.stop()


def _refinery(
    args: list[str], fake: FakeOpenAI, redis_url: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "REFINERY_OPENAI_BASE_URL": fake.base_url,
        "REFINERY_LLM_CACHE": "false",
        "REDIS_URL": redis_url,
        "REFINERY_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "1000",  # a usage error on one line
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli.main", "run", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_documents_given_as_files_ground_the_answer(
    fake: FakeOpenAI, redis_url: str, tmp_path: Path
) -> None:
    (tmp_path / "kestrel-handbook.txt").write_text(KESTREL + "\n")
    (tmp_path / "tova.md").write_text(TOVA + "\n")
    done = _refinery(
        [QUESTION, "--doc", str(tmp_path / "tova.md"), "--doc",
         str(tmp_path / "kestrel-handbook.txt"), "--config", "single_pass", "--json"],
        fake, redis_url, tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["error"] is None
    assert "31" in result["answer"] and "[kestrel-handbook]" in result["answer"]
    drafts = [prompt for _, prompt in fake.received if '<document id="' in prompt]
    assert drafts, "no prompt carried a document"
    assert '<document id="kestrel-handbook">' in drafts[0] and KESTREL in drafts[0]
    assert not fake.unrecognised


def test_a_missing_document_file_is_a_usage_error_and_runs_nothing(
    fake: FakeOpenAI, redis_url: str, tmp_path: Path
) -> None:
    done = _refinery([QUESTION, "--doc", str(tmp_path / "nowhere.txt")], fake, redis_url, tmp_path)
    assert done.returncode == 2
    assert "--doc" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.calls == 0


def test_a_document_that_is_not_text_is_a_usage_error_and_runs_nothing(
    fake: FakeOpenAI, redis_url: str, tmp_path: Path
) -> None:
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.7\n\xff\xfe\x00\x81 binary")
    done = _refinery([QUESTION, "--doc", str(binary)], fake, redis_url, tmp_path)
    assert done.returncode == 2
    assert "--doc" in done.stderr and "not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.calls == 0
