"""The model factory: one `ChatOpenAI` per role setting, on the configured endpoint or the
embedded local model server.

Nodes ask for `chat_model(role)` and never build clients themselves, so retries, fallbacks and
caching are added here once for every agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from core.run_config import RoleModel
from core.settings import get_settings
from core.state import Usage
from core.usage import usage_of


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint and the model it serves by default."""

    base_url: str
    api_key: str
    model: str


@lru_cache(maxsize=1)
def default_endpoint() -> Endpoint:
    """The configured endpoint, or the embedded local model server (started on first use)."""
    settings = get_settings()
    if settings.openai_base_url:
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
        return Endpoint(settings.openai_base_url, key, settings.model_name or "default")
    from core.local_model import local_server

    server = local_server()
    return Endpoint(server.base_url, "local", server.model_name)


@lru_cache(maxsize=64)
def chat_model(role: RoleModel) -> BaseChatModel:
    """The chat model for a role's settings, shared by every run that uses the same settings."""
    settings = get_settings()
    endpoint = default_endpoint()
    return ChatOpenAI(
        model=role.model or endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        temperature=role.temperature,
        max_completion_tokens=role.max_tokens,
        seed=role.seed,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        stream_usage=True,
    )


def model_name(model: BaseChatModel) -> str:
    """The model identity a chat model reports, for usage accounting."""
    return str(getattr(model, "model_name", None) or getattr(model, "model", "unknown"))


async def complete(
    node: str, role: RoleModel, prompts: list[str], system: str
) -> tuple[list[str], Usage]:
    """Run one prompt per item (concurrently), returning the replies' text and their usage."""
    model = chat_model(role)
    batch = [[SystemMessage(system), HumanMessage(p)] for p in prompts]
    if len(batch) == 1:
        replies = [await model.ainvoke(batch[0])]
    else:
        replies = await model.abatch(batch)
    texts = [str(r.content).strip() for r in replies]
    return texts, usage_of(node, model_name(model), replies)
