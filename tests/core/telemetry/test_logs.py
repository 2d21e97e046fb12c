"""Structured logs: JSON lines with the run and thread ids; keys and tokens masked, request
text cut to the configured excerpt."""

from __future__ import annotations

import io
import json
import logging

from core.settings import Settings
from core.telemetry import configure_logging, log_context

SECRET = "sk-test-abcdefghijklmnop"
DOCUMENT = "The harbour opened in 1869. " * 40


def test_json_lines_carry_ids_and_never_leak_secrets_or_text() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_excerpt_chars=30, log_format="json"), stream=stream)
    log = logging.getLogger("refinery.test")
    try:
        with log_context(run_id="run-1", thread_id="thread-9"):
            log.info(
                "calling the model with Authorization: Bearer %s",
                SECRET,
                extra={
                    "api_key": SECRET,
                    "task": DOCUMENT,
                    "documents": [{"id": "d1", "text": DOCUMENT}],
                    "input_tokens": 812,
                    "url": f"redis://user:{SECRET}@host:6379/0",
                },
            )
            try:
                raise ValueError(f"bad key token={SECRET}")
            except ValueError:
                log.exception("failed")
        log.info("outside")
    finally:
        configure_logging(Settings(log_format="text"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    first, failed, outside = map(json.loads, lines)
    print(lines[0])
    assert SECRET not in stream.getvalue() and DOCUMENT[:31] not in stream.getvalue()
    assert (first["run_id"], first["thread_id"], first["level"]) == ("run-1", "thread-9", "info")
    assert first["msg"] == "calling the model with Authorization: Bearer ***"
    assert first["api_key"] == "***" and first["input_tokens"] == 812
    assert first["task"].startswith(DOCUMENT[:30]) and first["task"].endswith(
        f"[{len(DOCUMENT)} chars]"
    )
    assert first["documents"][0]["text"].endswith(f"[{len(DOCUMENT)} chars]")
    assert first["url"] == "redis://***@host:6379/0"
    assert "ValueError" in failed["exc"] and "token=***" in failed["exc"]
    assert failed["run_id"] == "run-1"
    assert "run_id" not in outside
