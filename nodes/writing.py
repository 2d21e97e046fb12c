"""Asking the model for text: each prompt with the system prompt it needs, each reply without
the scaffolding of our own prompt that a small model sometimes echoes back after its answer."""

from __future__ import annotations

from core.llm.factory import complete
from core.run_config import RoleModel
from core.state import Usage
from nodes import prompts


async def write(node: str, role: RoleModel, asks: list[str]) -> tuple[list[str], Usage]:
    """One reply per prompt (concurrently), each cut where it starts repeating a prompt's own
    wording (measured: a whole rewrite came back with "The response breaks these rules: ..."
    and the rules after the answer, and was kept as the final answer)."""
    replies, usage = await complete(node, role, asks, prompts.system_for(*asks))
    return [prompts.unechoed(reply) for reply in replies], usage
