"""Two `llama-server` builds on the same model and machine: how fast each reads a prompt and
how many tokens a second it generates for 1 to 4 requests at once (its slots decoding
together). The first build is the baseline; figures are ratios against it, measured in the
same run, builds alternating at each level.

    .venv/bin/python -m bench.server_build --baseline /tmp/portable/llama-server \\
        --candidate .venv/bin/llama-server

Conditions: 2 threads (the machine's cores), 4 slots, prompt cache off, 96 tokens a request
with the end-of-text token ignored, temperature 0.7, one warm-up request before each level.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from core.llm.local_model import model_file
from core.processes import free_port, stop_process
from testkit.processes import wait_until

TOKENS = 96


@contextlib.contextmanager
def serving(binary: Path, threads: int) -> Iterator[str]:
    """`binary` serving the embedded model with 4 slots; its root URL."""
    _, model = model_file()
    port = free_port()
    args = [str(binary), "-m", str(model), "--port", str(port), "-t", str(threads),
            "-tb", str(threads), "--parallel", "4", "--ctx-size", "16384", "--cont-batching",
            "--no-webui"]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, 120,
                   str(binary), process)  # fmt: skip
        yield url
    finally:
        stop_process(process, grace_s=5)


def request(url: str, i: int) -> dict[str, Any]:
    text = f"Story {i}: tell a long story about a harbour town, its boats and people. " * 4
    body = {"messages": [{"role": "user", "content": text}], "max_tokens": TOKENS,
            "ignore_eos": True, "cache_prompt": False, "temperature": 0.7}  # fmt: skip
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=600)
    reply.raise_for_status()
    return dict(reply.json()["timings"])


def level(url: str, at_once: int) -> dict[str, float]:
    """`at_once` requests together: generated tokens a second over the wall time, and the
    server's prompt-reading rate (tokens a second, its own timings, mean over requests)."""
    request(url, 0)  # warm-up
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
        timings = list(pool.map(lambda i: request(url, i), range(1, at_once + 1)))
    wall = time.perf_counter() - started
    generated = sum(t["predicted_n"] for t in timings)
    return {
        "generated_per_s": generated / wall,
        "prompt_per_s": sum(t["prompt_per_second"] for t in timings) / at_once,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--candidate", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    builds = {"baseline": args.baseline, "candidate": args.candidate}
    print(f"conditions: {args.threads} threads, 4 slots, prompt cache off, {TOKENS} tokens a "
          "request, temperature 0.7; builds alternate at each level")  # fmt: skip
    print("| at once | baseline gen tok/s | candidate gen tok/s | ratio | baseline prompt tok/s "
          "| candidate prompt tok/s | ratio |\n|---|---|---|---|---|---|---|")  # fmt: skip
    for at_once in (1, 2, 3, 4):
        order = list(builds) if at_once % 2 else list(builds)[::-1]
        figures = {}
        for name in order:
            with serving(builds[name], args.threads) as url:
                figures[name] = level(url, at_once)
        b, c = figures["baseline"], figures["candidate"]
        print(
            f"| {at_once} | {b['generated_per_s']:.1f} | {c['generated_per_s']:.1f} | "
            f"{c['generated_per_s'] / b['generated_per_s']:.2f}x | {b['prompt_per_s']:.1f} | "
            f"{c['prompt_per_s']:.1f} | {c['prompt_per_s'] / b['prompt_per_s']:.2f}x |"
        )


if __name__ == "__main__":
    main()
