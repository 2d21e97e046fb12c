"""The embedded model tier on real work: CommonGen-Hard and IFBench dev tasks through
`refinery run --input`, cache off, at several concurrencies, on llama-cpp-python's server (the
old embedded tier, as an OpenAI-compatible endpoint) and on the supervised `llama-server` (the
new one), in the same run, servers alternating, plus `llama-bench`'s decode figure.

Per cell: tasks per hour, p50/p95 task latency, output tokens per second, failures, and for
`llama-server` the engine's wall time over the model's busy time (prompt + generation seconds
from the server's own counters), which is what a user pays on top of the model.

    .venv/bin/python -m bench.model_tier --commongen 20 --ifbench 12 --concurrency 1,2,4
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from core.llm.local_model import model_file
from core.llm.local_server import default_slots, server_binary
from core.processes import free_port, stop_process
from evals.datasets import DATA_DIR
from testkit.processes import wait_until

OUT = Path(__file__).resolve().parent / "out" / "model_tier.json"


def tasks(commongen: int | range, ifbench: int | range) -> list[dict[str, Any]]:
    """Tasks of each dev set (a count: the first ones; a range: those rows), in the engine's
    request shape (IFBench: the prompt as the task, nothing else; its instruction ids are for
    scoring only)."""

    def rows(name: str, which: int | range) -> list[dict[str, Any]]:
        which = range(which) if isinstance(which, int) else which
        with (DATA_DIR / name).open() as f:
            lines = itertools.islice(f, which.start, which.stop)
            return [json.loads(line) for line in lines]

    return rows("commongen_hard_dev.jsonl", commongen) + [
        {"id": f"if{row['key']}", "task": row["prompt"].strip()}
        for row in rows("ifbench_dev.jsonl", ifbench)
    ]


def llama_bench(threads: int) -> float | None:
    """`llama-bench`'s token-generation rate for the model (tokens/s): the physical limit."""
    binary = server_binary().with_name("llama-bench")
    if not binary.exists():
        return None
    _, path = model_file()
    done = subprocess.run(
        [str(binary), "-m", str(path), "-t", str(threads), "-p", "0", "-n", "128", "-o", "json"],
        capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    return float(json.loads(done.stdout)[0]["avg_ts"])


def server_decode(threads: int, repeats: int = 3) -> float:
    """`llama-server`'s single-stream decode rate (tokens/s, its own timings): the median of
    `repeats` requests of 128 tokens, one at a time, on the server as the engine starts it."""
    from core.llm.local_server import LocalModelServer
    from core.settings import Settings

    server = LocalModelServer(Settings(local_threads=threads), shared=False)
    server.start()
    rates = []
    try:
        for _ in range(repeats):
            body = {
                "model": server.model_name,
                "messages": [{"role": "user", "content": "Tell a long story about a harbour."}],
                "max_tokens": 128,
                "ignore_eos": True,
            }
            reply = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=600)
            rates.append(float(reply.json()["timings"]["predicted_per_second"]))
    finally:
        server.stop()
    return statistics.median(rates)


#: llama-server's own counters kept from `/metrics`: where the model's time went.
COUNTERS = ("prompt_tokens_total", "prompt_tokens_cached_total", "prompt_seconds_total",
            "tokens_predicted_total", "tokens_predicted_seconds_total", "n_decode_total",
            "spec_decode_num_draft_tokens_total",
            "spec_decode_num_accepted_tokens_total")  # fmt: skip


def read_counters(text: str) -> dict[str, float]:
    """The `llamacpp:` counters named in COUNTERS from a Prometheus text page."""
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        counter = name.removeprefix("llamacpp:")
        if counter != name and counter in COUNTERS:
            found[counter] = float(value)
    return found


class BusyPoller:
    """Polls a llama-server's `/slots` every 50 ms and adds up the time any slot was
    processing: the model's busy wall time (overlapping slots counted once); and its
    `/metrics` every second for the prompt and generation counters (so they may miss the last
    second's). The server dies with the engine's process, so both are kept as they go."""

    def __init__(self, root: str) -> None:
        self.slots_url, self.metrics_url, self.busy_s = f"{root}/slots", f"{root}/metrics", 0.0
        self.counters: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BusyPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        last, busy, polls = time.perf_counter(), False, 0
        with httpx.Client(timeout=2) as client:
            while not self._stop.wait(0.05):
                polls += 1
                if polls % 20 == 0:
                    with contextlib.suppress(httpx.HTTPError):
                        page = client.get(self.metrics_url)
                        # A restarted server starts its counters again: keep the larger.
                        for name, value in read_counters(page.text).items():
                            self.counters[name] = max(value, self.counters.get(name, 0.0))
                now = time.perf_counter()
                if busy:
                    self.busy_s += now - last
                last = now
                try:
                    slots = client.get(self.slots_url).json()
                except (httpx.HTTPError, ValueError):
                    slots = None  # not up yet, or gone
                # A list of slots once it serves; an error object while it loads.
                busy = isinstance(slots, list) and any(s.get("is_processing") for s in slots)


@contextlib.contextmanager
def old_server(threads: int, log: Path) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server (one request at a time), as today's tier ran
    it; its base URL."""
    name, path = model_file()
    port = free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", name,
            "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads",
            str(threads), "--n_threads_batch", str(threads), "--verbose", "false"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        # A cell against a server that never came up measures nothing: fail, do not go on.
        wait_until(lambda: httpx.get(f"{url}/models", timeout=2).status_code == 200, 300,
                   f"llama-cpp-python's server (log: {log})", process)  # fmt: skip
        yield url
    finally:
        stop_process(process, grace_s=10)


def run_cell(
    server: str, concurrency: int, config: str, rows: list[dict[str, Any]], workdir: Path,
    threads: int,
) -> dict[str, Any]:  # fmt: skip
    """One `refinery run --input` of `rows` on `server` at `concurrency`; its figures."""
    cell = workdir / f"{server}-c{concurrency}"
    shutil.rmtree(cell, ignore_errors=True)
    cell.mkdir(parents=True)
    source, target = cell / "tasks.jsonl", cell / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = os.environ | {"REFINERY_LLM_CACHE": "false", "REFINERY_LOCAL_THREADS": str(threads),
                        "REFINERY_DATA_DIR": str(cell / "data")}  # fmt: skip
    (cell / "data").mkdir(exist_ok=True)
    models = Path(os.environ.get("REFINERY_DATA_DIR", "data")).resolve() / "models"
    with contextlib.suppress(FileExistsError):
        (cell / "data" / "models").symlink_to(models)
    env.pop("REFINERY_OPENAI_BASE_URL", None)
    command = [sys.executable, "-m", "api.cli.main", "run", "--input", str(source), "--output",
               str(target), "--config", config, "--concurrency", str(concurrency)]  # fmt: skip
    poller: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    with contextlib.ExitStack() as stack:
        if server == "llama-cpp-python":
            url = stack.enter_context(old_server(threads, cell / "old-server.log"))
            env |= {"REFINERY_OPENAI_BASE_URL": url, "REFINERY_OPENAI_LEGACY_MAX_TOKENS": "true",
                    "REFINERY_MODEL_NAME": model_file()[0]}  # fmt: skip
        else:
            port = free_port()
            env |= {"REFINERY_LOCAL_PORT": str(port)}
            poller = BusyPoller(f"http://127.0.0.1:{port}")
        with poller as polled:
            started = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
    results = (
        [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    )
    latencies = sorted(r["wall_s"] for r in results)
    out_tokens = sum(r["usage"]["output_tokens"] for r in results)
    errors = [r["error"] for r in results if r.get("error")]
    figures: dict[str, Any] = {
        "server": server,
        "concurrency": concurrency,
        "tasks": len(results),
        "exit": done.returncode,
        "failed": len(errors),
        "errors": errors[:3],
        "wall_s": round(wall, 1),
        "tasks_per_hour": round(len(results) / wall * 3600, 1) if wall else 0.0,
        "p50_s": round(statistics.median(latencies), 1) if latencies else None,
        "p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 1)
        if latencies
        else None,
        "output_tokens_per_s": round(out_tokens / wall, 2) if wall else 0.0,
        "retries": done.stderr.count("failed ("),
    }
    if polled is not None and polled.busy_s:
        # Task wall times leave out the process's start-up (imports, model load); at
        # concurrency 1 their sum is the engine's time for the same calls the model served.
        figures["model_busy_s"] = round(polled.busy_s, 1)
        figures["engine_over_model"] = round(sum(latencies) / polled.busy_s, 3)
        figures["server_counters"] = polled.counters
    figures["input_tokens"] = sum(r["usage"].get("input_tokens", 0) for r in results)
    return figures


def table(cells: list[dict[str, Any]]) -> str:
    head = ("| server | conc. | tasks | failed | tasks/h | p50 s | p95 s | out tok/s | retries "
            "| engine/model |\n|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    lines = [head]
    for c in cells:
        lines.append(
            f"| {c['server']} | {c['concurrency']} | {c['tasks']} | {c['failed']} | "
            f"{c['tasks_per_hour']} | {c['p50_s']} | {c['p95_s']} | {c['output_tokens_per_s']} | "
            f"{c['retries']} | {c.get('engine_over_model', '-')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commongen", type=int, default=20)
    parser.add_argument("--ifbench", type=int, default=12)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--config", default="refine_default")
    parser.add_argument("--servers", default="llama-cpp-python,llama-server")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", type=Path, default=OUT)
    parser.add_argument("--decode-only", action="store_true", help="only the decode figures")
    args = parser.parse_args()
    servers = args.servers.split(",")
    missing = [m for m in ("llama_cpp", "starlette_context") if importlib.util.find_spec(m) is None]
    if "llama-cpp-python" in servers and missing:
        # The project installs llama-cpp-python for the coherence metric, not its server extra.
        servers.remove("llama-cpp-python")
        print(f"{', '.join(missing)} not installed (`.venv/bin/python -m pip install "
              "'llama-cpp-python[server]==0.3.36'` measures the old tier): only llama-server is "
              "measured", file=sys.stderr)  # fmt: skip
    if args.decode_only:
        limit, decode = llama_bench(args.threads), server_decode(args.threads)
        print(f"llama-bench tg128 {limit} tok/s; llama-server single stream {decode:.2f} tok/s")
        return
    rows = tasks(args.commongen, args.ifbench)
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"conditions: {len(rows)} tasks ({args.commongen} CommonGen-Hard, {args.ifbench} "
          f"IFBench dev), preset {args.config}, cache off, {args.threads} threads, "
          f"llama-server slots {default_slots()}, {os.cpu_count()} cores; servers alternate "
          "within each concurrency", file=sys.stderr)  # fmt: skip
    limit = llama_bench(args.threads)
    decode = server_decode(args.threads)
    if limit:
        print(f"single-stream decode: llama-server {decode:.2f} tok/s, llama-bench tg128 "
              f"{limit:.2f} tok/s ({decode / limit:.3f}x)", file=sys.stderr)  # fmt: skip
    cells = []
    workdir = OUT.parent / "model_tier"  # each cell's tasks, answers and server logs stay here
    for i, level in enumerate(levels):
        order = servers if i % 2 == 0 else servers[::-1]
        for server in order:
            cell = run_cell(server, level, args.config, rows, workdir, args.threads)
            print(json.dumps(cell), file=sys.stderr)
            cells.append(cell)
    print(table(cells))
    if limit:
        print(f"\nllama-bench token generation (tg128, {args.threads} threads): {limit:.2f} tok/s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    print(f"llama-server single-stream decode (128 tokens, median of 3): {decode:.2f} tok/s")
    summary = {"cells": cells, "llama_bench_tg": limit, "server_decode": decode}
    args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
