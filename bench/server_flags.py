"""`llama-server` flags on the engine's real requests: the chat requests that dev tasks really
sent through `refinery run` are captured once, then replayed verbatim against a fresh server
started with the engine's own flags (the baseline) and with extra flags (the candidate),
rounds alternating which goes first. Printed: each side's wall time, generated tokens a second,
the server's own prompt and generation seconds, drafted and kept tokens, and the candidate's
wall time as a ratio of the baseline's in the same round; and how many replies came out the
same (a flag that changes the arithmetic changes answers).

    .venv/bin/python -m bench.server_flags capture --commongen 20:24 --ifbench 12:16
    .venv/bin/python -m bench.server_flags replay --concurrency 4 --rounds 2 \\
        --candidate "--spec-type ngram-simple --spec-ngram-simple-size-n 4"

Conditions: the model cache is off while capturing (every call reaches the server); a replayed
task's requests go in their captured order, `--concurrency` tasks at once; `--no-prompt-cache`
sends each request as evaluations do (no reused prefix). Answers are not scored here: the
replies of a replay do not feed the next request, so this measures the server, not the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.model_tier import tasks
from core.llm.local_server import LocalModelServer
from core.settings import Settings

OUT = Path(__file__).resolve().parent / "out" / "server_flags"


def _range(spec: str) -> range:
    """`start:stop` as a range of rows."""
    start, _, stop = spec.partition(":")
    return range(int(start), int(stop))


def capture(args: argparse.Namespace) -> None:
    """Run each task alone through `refinery run` (a process of its own, cache off), writing
    the request bodies it sends to `OUT/requests/<n>.jsonl`."""
    rows = tasks(_range(args.commongen), _range(args.ifbench))
    folder = OUT / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    env = os.environ | {"REFINERY_LLM_CACHE": "false"}
    for n, row in enumerate(rows):
        task = folder / f"{n:03d}.task.json"
        task.write_text(json.dumps(row) + "\n")
        command = [sys.executable, "-m", "bench.server_flags", "_run", str(task),
                   str(folder / f"{n:03d}.jsonl")]  # fmt: skip
        subprocess.run(command, env=env, check=True, capture_output=True)
        task.unlink()
        task.with_suffix(".out").unlink(missing_ok=True)
        print(f"captured {row['id']}", file=sys.stderr)


def _run_capturing(task: Path, log: Path) -> None:
    """`refinery run --input task` in this process, each chat request's body appended to
    `log` (the OpenAI client's HTTP layer is wrapped; nothing else changes)."""
    import httpx2

    send = httpx2.AsyncClient.send

    async def logged(self: httpx2.AsyncClient, request: httpx2.Request, **kw: Any) -> Any:
        if request.url.path.endswith("/chat/completions"):
            with log.open("a") as out:
                out.write(json.dumps(json.loads(request.content)) + "\n")
        return await send(self, request, **kw)

    httpx2.AsyncClient.send = logged  # type: ignore[method-assign]
    from api.cli.main import app

    app(["run", "--input", str(task), "--output", str(task.with_suffix(".out")),
         "--concurrency", "1"])  # fmt: skip


class Flagged(LocalModelServer):
    """A server of its own with the engine's flags plus `extra` (its start, health wait, log
    and stop are the engine's)."""

    def __init__(self, extra: list[str], slots: int) -> None:
        super().__init__(Settings(local_parallel=slots), shared=False)
        self.extra = extra

    def command(self) -> list[str]:
        return [*super().command(), *self.extra]


async def _replay(url: str, requests: list[list[dict[str, Any]]], concurrency: int,
                  no_prompt_cache: bool) -> tuple[float, list[dict[str, Any]]]:  # fmt: skip
    """Every task's requests in order, `concurrency` tasks at once; wall time and replies."""
    queue = list(enumerate(requests))
    replies: list[dict[str, Any]] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            n, calls = queue.pop(0)
            for i, body in enumerate(calls):
                body = {k: v for k, v in body.items() if k != "stream_options"}
                body["stream"] = False
                if no_prompt_cache:
                    body["cache_prompt"] = False
                reply = (await client.post(url, json=body, timeout=900)).json()
                replies.append({"task": n, "call": i, "timings": reply["timings"],
                                "text": reply["choices"][0]["message"]["content"]})  # fmt: skip

    started = time.perf_counter()
    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - started, replies


def _figures(wall: float, replies: list[dict[str, Any]]) -> dict[str, float]:
    def total(key: str) -> float:
        return sum(r["timings"].get(key, 0) for r in replies)

    return {"wall_s": round(wall, 1), "generated": total("predicted_n"),
            "generated_per_s": round(total("predicted_n") / wall, 2),
            "prompt_read": total("prompt_n"), "prompt_s": round(total("prompt_ms") / 1000, 1),
            "generation_s": round(total("predicted_ms") / 1000, 1),
            "drafted": total("draft_n"), "kept": total("draft_n_accepted")}  # fmt: skip


def replay(args: argparse.Namespace) -> None:
    files = sorted((OUT / "requests").glob("[0-9][0-9][0-9].jsonl"))
    if not files:
        raise SystemExit("nothing captured yet: run `python -m bench.server_flags capture`")
    requests = [[json.loads(line) for line in f.read_text().splitlines()] for f in files]
    sides = {"baseline": [], "candidate": shlex.split(args.candidate)}
    total = sum(map(len, requests))
    print(f"conditions: {len(requests)} tasks, {total} requests, {args.concurrency} at once, "
          f"{args.slots} slots, prompt cache {'off' if args.no_prompt_cache else 'on'}; "
          f"candidate adds {args.candidate!r}; sides alternate first", file=sys.stderr)  # fmt: skip
    ratios, same = [], []
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
        texts: dict[str, list[str]] = {}
        walls: dict[str, float] = {}
        for name in order:
            server = Flagged(sides[name], args.slots)
            server.start()
            try:
                wall, replies = asyncio.run(
                    _replay(f"{server.base_url}/chat/completions", requests,
                            args.concurrency, args.no_prompt_cache)
                )  # fmt: skip
            finally:
                server.stop()
            replies.sort(key=lambda r: (r["task"], r["call"]))
            texts[name], walls[name] = [r["text"] for r in replies], wall
            print(f"round {round_ + 1} {name}: {json.dumps(_figures(wall, replies))}")
        ratios.append(walls["candidate"] / walls["baseline"])
        same.append(sum(a == b for a, b in zip(texts["baseline"], texts["candidate"], strict=True)))
    print(
        f"candidate wall / baseline wall: {', '.join(f'{r:.3f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.3f}); replies the same: {same} of "
        f"{total}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("capture", help="record the requests of dev tasks")
    take.add_argument("--commongen", default="20:24", help="rows start:stop")
    take.add_argument("--ifbench", default="12:16", help="rows start:stop")
    again = commands.add_parser("replay", help="replay them on baseline and candidate flags")
    again.add_argument("--candidate", required=True, help="extra llama-server flags")
    again.add_argument("--concurrency", type=int, default=4)
    again.add_argument("--slots", type=int, default=4)
    again.add_argument("--rounds", type=int, default=2)
    again.add_argument("--no-prompt-cache", action="store_true")
    inner = commands.add_parser("_run")
    inner.add_argument("task", type=Path)
    inner.add_argument("log", type=Path)
    args = parser.parse_args()
    if args.command == "_run":
        _run_capturing(args.task, args.log)
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        (capture if args.command == "capture" else replay)(args)


if __name__ == "__main__":
    main()
