"""Hostile input: schemathesis against the OpenAPI document (no 5xx, every response matching the
schema), then bodies built to hurt: oversized, deeply nested, invalid UTF-8, lone surrogates,
huge documents, tens of thousands of required words. Each must get a clear 4xx or a normal
answer, never a 5xx, and the server must keep answering."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.scenarios.client import request
from bench.scenarios.report import Scenario
from bench.scenarios.stack import Stack

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
JSON = {"Content-Type": "application/json"}
DOC = "The harbor opened in 1902. Ships brought tea and wool. "


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    """A body sent in chunks, with no Content-Length to refuse it by."""
    for part in parts:
        yield part


def hostile_bodies() -> dict[str, tuple[dict[str, Any], set[int]]]:
    """name -> (request keyword arguments, the statuses that are a right answer)."""
    deep = b'{"task": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    words = [f"w{i}" for i in range(20_000)]
    docs = [{"id": f"d{i}", "text": (DOC * 400)[:19_999]} for i in range(20)]
    return {
        "2 MB body (declared)": ({"content": b'{"task": "' + b"x" * 2_000_000 + b'"}'}, {413}),
        "2 MB body (chunked)": ({"content": _chunks(b'{"task": "', b"x" * 2_000_000)}, {413}),
        "JSON nested 100k deep": ({"content": deep}, {400, 422}),
        "invalid UTF-8": ({"content": b'{"task": "\xff\xfe\xfd"}'}, {400, 422}),
        "lone surrogate": ({"content": b'{"task": "hi \\ud800 there"}'}, {400, 422}),
        "NUL in the task": ({"content": b'{"task": "Say hi.\\u0000"}'}, {200}),
        "20,000 required words": (
            {"json": {"task": "t", "constraints": {"required_words": words}}},
            {422},
        ),
        # 200, or on a machine too busy to embed 400 kB before the deadline, a clear 504
        "20 documents of 20k chars (400 kB)": (
            {"json": {"task": "When did the harbor open?", "documents": docs}},
            {200, 504},
        ),
        "one document over the limit": (
            {"json": {"task": "t", "documents": [{"id": "d", "text": "x" * 20_001}]}},
            {422},
        ),
        "task of 4,001 chars": ({"json": {"task": "x" * 4001}}, {422}),
    }


async def run(stack: Stack, examples: int = 25) -> Scenario:
    report = Scenario(
        "hostile input",
        f"schemathesis (all checks, {examples} examples an operation) and "
        f"{len(hostile_bodies())} crafted bodies",
    )
    await _crafted(stack, report)
    _schemathesis(stack, report, examples)
    return report


async def _crafted(stack: Stack, report: Scenario) -> None:
    async with stack.client() as client:
        for name, (kwargs, right) in hostile_bodies().items():
            o = await request(client, "POST", "/v1/refinements", headers=JSON, **kwargs)
            report.count(o.status, o.error_type, o.status in right and o.status == 200)
            clear = o.status == 200 or bool(o.body.get("error", {}).get("fix"))
            if o.status == 504:
                resumable = "resume" in o.body["error"]["fix"]
                report.check(f"{name}: the 504 leaves the thread resumable", resumable)
            report.check(
                f"{name}: {o.status} {o.error_type or 'ok'} in {o.seconds:.2f} s",
                o.status in right and clear,
            )
        alive = await request(client, "GET", "/healthz")
    report.check("the server still answers", alive.status == 200 and stack.api.alive)


def _schemathesis(stack: Stack, report: Scenario, examples: int) -> None:
    args = [
        SCHEMATHESIS,
        "run",
        f"{stack.api.base_url}/openapi.json",
        "-H",
        f"Authorization: Bearer {stack.keys['alice']}",
        "--checks",
        "all",
        "-n",
        str(examples),
        "--phases",
        "examples,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--seed",
        "1",
        "--no-color",
    ]
    env = {"HYPOTHESIS_STORAGE_DIRECTORY": str(stack.workdir / "hypothesis")}
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=stack.workdir,
        env=_env(env),
    )
    out = done.stdout + done.stderr
    (stack.workdir / "schemathesis.txt").write_text(out)
    generated = _number(r"(\d+) generated", out)
    failures = _number(r"(\d+) unique failures", out)
    errors = _number(r"Errored: (\d+)", out)
    report.figures["schemathesis cases run"] = generated
    report.figures["schemathesis failures"] = failures
    report.figures["schemathesis exit code"] = done.returncode
    report.check(
        "schemathesis: no 5xx, every response matches the schema",
        done.returncode == 0 and failures == 0 and errors == 0 and generated > 0,
        f"{generated} cases, {failures} failures, {errors} errored operations",
    )


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return os.environ | extra
