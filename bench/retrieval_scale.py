"""Retrieval with many documents in one request: for each answerable question of the multi-
document dev set, whether every document it needs is among the passages, and how long
retrieval takes, with the question's own 46 documents and with 200 (the other worlds' documents
plus generated near-namesakes), for the question planner's part-by-part search against one
search of the whole question (retrieval before it), measured in the same run, order
alternated, the embedding cache emptied before every request (cold: every document encoded).

    .venv/bin/python -m bench.retrieval_scale [--documents 200] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from core.run_config import load_config
from core.state import Document
from core.text import embeddings
from core.text.search import hybrid_search
from evals.datasets import DATA_DIR
from nodes.plan import make_plan
from nodes.retrieve import retrieve

HERE = Path(__file__).resolve().parent.parent
DEV = HERE / "evals" / "data" / "grounded_multi_dev.jsonl"
OTHERS = [HERE / "evals/data/grounded_multi_heldout.jsonl", DATA_DIR / "grounded_qa_dev.jsonl"]
FIRMS = ["Norvane", "Halden", "Corrin", "Quessly", "Brinmouth", "Tallowford", "Varnholt", "Oskeby"]
KINDS = ["Freight", "Labs", "Outdoor", "Cycles", "Marine", "Savings", "Clinic", "Library", "Works"]
TOWNS = ["Varnholt", "Brinmouth", "Tallowford", "Quessly", "Oskeby", "Senna", "Kessa"]


def namesakes(count: int, seed: int = 7) -> list[Document]:
    """Generated documents about firms named like the dev world's, with the same kinds of
    facts (founding years, staff, warranties, opening hours): distractors that share words."""
    rng = random.Random(seed)
    out: list[Document] = []
    for i in range(count):
        suffix = rng.choice(["Group", "Co-op", "Trust", "Partners"])
        name = f"{rng.choice(FIRMS)} {rng.choice(KINDS)} {suffix}"
        text = (
            f"{name} was founded in {rng.randint(1890, 2022)} in {rng.choice(TOWNS)}. "
            f"It employs {rng.randint(5, 900)} people and has {rng.randint(1, 30)} branches. "
            f"Its products carry a {rng.randint(1, 10)}-year warranty, and repairs take "
            f"{rng.randint(3, 20)} working days. It is open from {rng.randint(7, 10)}:00 to "
            f"{rng.randint(16, 20)}:00 and closed on {rng.choice(['Sundays', 'Mondays'])}."
        )
        out.append({"id": f"namesake-{i:03d}", "text": text})
    return out


def corpus(dev_docs: list[Document], size: int) -> list[Document]:
    """The dev world's documents, then the other worlds', then generated ones, to `size`."""
    docs = list(dev_docs)
    for path in OTHERS:
        docs += json.loads(path.read_text().splitlines()[0])["documents"]
    docs += namesakes(max(0, size - len(docs)))
    return docs[:size]


def by_search(task: str, documents: list[Document]) -> list[str]:
    k = load_config("refine_default").budgets.passages
    return [p["doc_id"] for p in hybrid_search(task, documents, k)]


def by_parts(task: str, documents: list[Document]) -> list[str]:
    state: dict[str, Any] = {"task": task, "documents": documents, "config": "refine_default"}
    state["plan"] = make_plan(state, load_config("refine_default"), [])  # type: ignore[arg-type]
    return [p["doc_id"] for p in retrieve(state)["passages"]]  # type: ignore[arg-type]


Result = tuple[bool, float, float, int]
"""Every needed document found, share of them found, seconds, passages kept."""


def measure(rows: list[dict[str, Any]], size: int) -> dict[str, list[Result]]:
    """Per method, one result per row."""
    methods = {"one search (before)": by_search, "part by part": by_parts}
    seen: dict[str, list[Result]] = {m: [] for m in methods}
    for n, row in enumerate(rows):
        docs = corpus(row["documents"], size)
        order = list(methods) if n % 2 == 0 else list(reversed(methods))
        for name in order:
            embeddings._seen.clear()  # cold: every document encoded again
            start = time.perf_counter()
            got = set(methods[name](row["task"], docs))
            elapsed = time.perf_counter() - start
            need = set(row["reference_doc_ids"])
            seen[name].append((need <= got, len(need & got) / len(need), elapsed, len(got)))
    return seen


def summary(results: list[Result]) -> str:
    times = sorted(r[2] for r in results)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return (
        f"{sum(r[0] for r in results) / len(results):10.3f} "
        f"{statistics.mean(r[1] for r in results):12.3f} "
        f"{statistics.mean(r[3] for r in results):8.1f} {times[len(times) // 2]:7.2f} {p95:7.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    rows = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answerable", True)][: args.limit]
    multi = [i for i, r in enumerate(rows) if (r.get("hops") or 1) >= 2]
    print(
        f"conditions: {len(rows)} answerable dev questions ({len(multi)} need 2+ documents), "
        f"{os.cpu_count()} cores, MiniLM on CPU, embedding cache emptied before every request"
    )
    header = f"{'all needed':>10} {'needed found':>12} {'passages':>8} {'p50 s':>7} {'p95 s':>7}"
    for size in (len(rows[0]["documents"]), args.documents):
        print(f"\n{size} documents in the request\n{'method':32} {header}")
        for name, results in measure(rows, size).items():
            print(f"{name:32} {summary(results)}")
            print(f"{'  of them 2+ documents':32} {summary([results[i] for i in multi])}")


if __name__ == "__main__":
    main()
