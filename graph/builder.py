"""The refinement graph, top to bottom: nodes, then edges, then the compiled `graph` that
`langgraph.json` names.

intake -> plan -> (retrieve || summarise per long document) -> draft
       -> (validate || critique) -> score -> refine -> (validate || critique) -> score ...
       -> confidence -> finalize
                        `-> request_review -> human_review (interrupt) -> finalize | refine | score

The critic runs only where the plan gives it weight: otherwise a writer goes to `validate`
alone (no node run and no checkpoint write for a verdict that counts for nothing).
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from core.state import InputState, OutputState, RefineState
from graph.node_cache import RETRIEVAL_CACHE, node_cache
from graph.routing import after_confidence, after_plan, after_score, to_checks
from nodes.confidence import confidence
from nodes.critique import critique
from nodes.draft import draft
from nodes.finalize import finalize
from nodes.intake import intake
from nodes.plan import plan
from nodes.refine import refine
from nodes.retrieve import retrieve
from nodes.review import human_review, request_review
from nodes.score import score
from nodes.summarise import summarise
from nodes.validate import validate


def build_graph(
    checkpointer: BaseCheckpointSaver | bool | None = None,
) -> CompiledStateGraph:
    """The compiled refinement graph, persisting to `checkpointer` (None: no persistence)."""
    builder = StateGraph(RefineState, input_schema=InputState, output_schema=OutputState)

    builder.add_node("intake", intake)
    builder.add_node("plan", plan)
    builder.add_node("retrieve", retrieve, cache_policy=RETRIEVAL_CACHE)
    builder.add_node("summarise", summarise)
    builder.add_node("draft", draft)
    builder.add_node("validate", validate)
    builder.add_node("critique", critique)
    builder.add_node("score", score)
    builder.add_node("refine", refine)
    builder.add_node("confidence", confidence)
    builder.add_node("finalize", finalize)
    builder.add_node("request_review", request_review)
    builder.add_node(
        "human_review", human_review, destinations=("finalize", "refine", "validate", "critique")
    )

    builder.add_edge(START, "intake")
    builder.add_edge("intake", "plan")
    builder.add_conditional_edges("plan", after_plan, ["retrieve", "summarise", "draft"])
    builder.add_edge("retrieve", "draft")
    builder.add_edge("summarise", "draft")
    for writer in ("draft", "refine"):
        builder.add_conditional_edges(writer, to_checks, ["validate", "critique"])
    # validate and critique always run in the same superstep, so `score` runs once after both
    # (or after validate alone) without a barrier
    builder.add_edge("validate", "score")
    builder.add_edge("critique", "score")
    builder.add_conditional_edges("score", after_score, ["refine", "confidence"])
    builder.add_conditional_edges("confidence", after_confidence, ["request_review", "finalize"])
    builder.add_edge("request_review", "human_review")
    builder.add_edge("finalize", END)

    return builder.compile(checkpointer=checkpointer, cache=node_cache(), name="refinery")


graph = build_graph()
"""The graph LangGraph's server and Studio load; they supply their own checkpointer."""
