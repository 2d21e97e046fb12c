"""The model factory: one fallback chain per role setting, built once and shared.

A role's chain is its tiers in order (`Settings.llm_endpoints` by tier, then the embedded local
model; or the one configured endpoint; or the local model alone), after the local model the
role names, if it names one (`core.llm.promoted`: the promoted student on its own local
server). Each tier is a weighted pool of endpoints (`core.llm.pooled`), retried on transient
failures (`core.llm.retries`), and the tiers are joined with `with_fallbacks`, which also covers
a stream failing before its first token. Deterministic roles (temperature 0, or a fixed seed)
answer repeated prompts from the response cache (`core.llm.cache`). Nodes ask for
`chat_model(role)` or call `complete()`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableWithFallbacks
from langchain_core.runnables.base import RunnableBindingBase

from core.llm.cache import TieredCache
from core.llm.context_window import fit_to_window
from core.llm.endpoints import HealthBoard
from core.llm.local_server import default_slots
from core.llm.pooled import PooledChatModel, Target
from core.llm.promoted import LocalModel, named_local_model
from core.llm.resilient import ResilientChatModel
from core.llm.retries import with_retries
from core.llm.stats import llm_stats
from core.llm.timeouts import AdaptiveTimeout
from core.run_config import RoleModel
from core.settings import Settings, get_settings
from core.state import Usage
from core.usage import usage_of

__all__ = [
    "ChatChain",
    "Endpoint",
    "ResilientChatModel",
    "chat_model",
    "complete",
    "default_endpoint",
    "model_name",
    "primary_model",
    "reset_models",
]

log = logging.getLogger(__name__)

ChatChain = Runnable[LanguageModelInput, BaseMessage]
"""Anything `complete` can run: a role's model, or a binding of it."""


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible endpoint and the model it serves by default."""

    base_url: str
    api_key: str
    model: str


@dataclass(frozen=True)
class Tier:
    """One link of the fallback chain: a pool of endpoints, or the local model (lazy)."""

    name: str
    targets: tuple[Target, ...]
    model: str | None
    context_window: int
    tokenizer: bool = False
    slots: int | None = None
    legacy_max_tokens: bool = False
    """Whether its servers need the output cap as `max_tokens` (see the setting)."""
    timeout_s: float | None = None
    """Per-call timeout once a slot is the call's (None: `llm_timeout_s`)."""
    structured_output: Literal["json_schema", "json_object", "none"] = "json_object"
    """The strongest `response_format` its servers honour (see `PooledChatModel`)."""
    retry_timeouts: bool = True
    """Whether a call that timed out is retried (not on the embedded server: a slow
    generation there is not a fault a retry fixes)."""
    request_body: Mapping[str, Any] = field(default_factory=dict)
    """Fields its requests carry besides OpenAI's (the embedded server's `cache_prompt`)."""
    served: LocalModel | None = None
    """The local model its own server serves (None: the embedded default, or endpoints)."""

    @property
    def grammars(self) -> bool:
        """Whether its servers take a GBNF `grammar`: llama.cpp's do (the embedded one, and
        endpoints marked `tokenizer`)."""
        return self.tokenizer


def _local_targets(model: LocalModel | None = None) -> tuple[list[Target], str]:
    from core.llm.local_server import local_server

    server = local_server(model)
    return [Target(base_url=server.base_url, api_key="local")], server.model_name


async def _local_ready(timeout_s: float, model: LocalModel | None = None) -> bool:
    """Wait until the local server answers (it may be restarting), up to `timeout_s`."""
    from core.llm.local_server import running_server

    server = running_server(model)
    return True if server is None else await server.until_ready(timeout_s)


async def _local_recheck(model: LocalModel | None = None) -> bool:
    """Whether the local server answers now (a call could not reach it); where not, callers
    wait for it from here on."""
    from core.llm.local_server import running_server

    server = running_server(model)
    return True if server is None else await server.recheck()


def _key(spec_key: Any) -> str:
    return spec_key.get_secret_value() if spec_key else "none"


def tiers(settings: Settings, named: LocalModel | None = None) -> list[Tier]:
    """The fallback chain the settings describe, primary first; after a tier of its own for the
    local model a role names, if it names one."""
    chain = _deployment_tiers(settings)
    if named is None:
        return chain
    local = _local_tier(settings)
    return [replace(local, name=f"local:{named.name}", model=named.name, served=named), *chain]


def _local_tier(settings: Settings) -> Tier:
    return Tier(
        "local",
        (),
        None,
        settings.local_context,
        tokenizer=True,
        slots=settings.local_parallel or default_slots(),
        timeout_s=settings.local_call_timeout_s,
        retry_timeouts=False,
        structured_output="json_schema",
        legacy_max_tokens=True,  # both cap fields: older llama.cpp servers read only one
        request_body={} if settings.local_prompt_reuse else {"cache_prompt": False},
    )


def _deployment_tiers(settings: Settings) -> list[Tier]:
    local = _local_tier(settings)
    if settings.llm_endpoints:
        chain = []
        for level in sorted({spec.tier for spec in settings.llm_endpoints}):
            specs = [s for s in settings.llm_endpoints if s.tier == level]
            chain.append(
                Tier(
                    f"tier{level}",
                    tuple(
                        Target(base_url=s.base_url, api_key=_key(s.api_key), weight=s.weight)
                        for s in specs
                    ),
                    specs[0].model or settings.model_name,
                    min(s.context_window or settings.llm_context_window for s in specs),
                    tokenizer=all(s.tokenizer for s in specs),
                    legacy_max_tokens=settings.openai_legacy_max_tokens,
                )
            )
        return [*chain, local] if settings.llm_local_fallback else chain
    if settings.openai_base_url:
        target = Target(base_url=settings.openai_base_url, api_key=_key(settings.openai_api_key))
        return [
            Tier(
                "tier0",
                (target,),
                settings.model_name,
                settings.llm_context_window,
                legacy_max_tokens=settings.openai_legacy_max_tokens,
            )
        ]
    return [local]


@lru_cache(maxsize=1)
def health_board() -> HealthBoard:
    """The process's endpoint health, with the settings' ejection policy."""
    s = get_settings()
    return HealthBoard(s.llm_eject_after, s.llm_cooldown_s, s.llm_cooldown_max_s)


@lru_cache(maxsize=1)
def response_cache() -> TieredCache:
    """The process's response cache (in-process LRU over shared Redis)."""
    return TieredCache(get_settings())


def _cacheable(role: RoleModel) -> bool:
    return role.temperature == 0 or role.seed is not None


_BALANCERS: dict[str, list[weakref.ref[PooledChatModel]]] = {}


def balancers(tier: str) -> list[PooledChatModel]:
    """Every pooled model of `tier` this process has built (each role's chain has its own
    pool): the balancers that capacity scaling's instances join (`core.scaling.fleet`)."""
    alive = [model for ref in _BALANCERS.get(tier, []) if (model := ref()) is not None]
    _BALANCERS[tier] = [weakref.ref(model) for model in alive]
    return alive


def _tier_model(
    tier: Tier, role: RoleModel, settings: Settings, last_resort: bool
) -> PooledChatModel:
    model = _new_tier_model(tier, role, settings, last_resort)
    _BALANCERS.setdefault(tier.name, []).append(weakref.ref(model))
    return model


def _new_tier_model(
    tier: Tier, role: RoleModel, settings: Settings, last_resort: bool
) -> PooledChatModel:
    return PooledChatModel(
        model_name=role.model or tier.model or "default",
        tier=tier.name,
        temperature=role.temperature,
        max_tokens=role.max_tokens,
        legacy_max_tokens=tier.legacy_max_tokens,
        seed=role.seed,
        request_body=dict(tier.request_body),
        timeout_s=tier.timeout_s or settings.llm_timeout_s,
        adaptive_timeout=_adaptive_timeout(tier, settings),
        context_window=tier.context_window,
        tokenizer=tier.tokenizer,
        slots=tier.slots,
        structured_output=tier.structured_output,
        last_resort=last_resort,
        static_targets=list(tier.targets),
        targets=None if tier.targets else partial(_local_targets, tier.served),
        ready=None if tier.targets else partial(_local_ready, model=tier.served),
        recheck=None if tier.targets else partial(_local_recheck, model=tier.served),
        board=health_board(),
        cache=False,  # the cache sits in front of the whole chain (`ResilientChatModel`)
        tags=["nostream"],  # LangGraph streams the outer model's tokens; these are the same
    )


def _adaptive_timeout(tier: Tier, settings: Settings) -> AdaptiveTimeout | None:
    """A pool's timeout that follows its call times, where the settings ask for one and a
    timed-out call is retried (not on the embedded server: a slow generation is no fault)."""
    if settings.llm_timeout_multiple is None or not tier.retry_timeouts:
        return None
    ceiling = tier.timeout_s or settings.llm_timeout_s
    return AdaptiveTimeout(
        ceiling_s=ceiling,
        floor_s=min(settings.llm_timeout_floor_s, ceiling),
        multiple=settings.llm_timeout_multiple,
    )


class CountedFallbacks(RunnableWithFallbacks):
    """`with_fallbacks` that logs and counts each time a fallback tier takes over."""

    def _tier_name(self, runnable: Runnable) -> str:
        pooled = _pooled(runnable)
        return pooled.tier if pooled else "fallback"

    @property
    def runnables(self) -> Iterator[Runnable]:
        yield self.runnable
        for fallback in self.fallbacks:
            name = self._tier_name(fallback)
            llm_stats().count("fallbacks", name)
            log.warning("falling back to %s", name)
            yield fallback


@lru_cache(maxsize=64)
def chat_model(role: RoleModel) -> ResilientChatModel:
    """The chat model for a role's settings (a `BaseChatModel`), shared by every run."""
    settings = get_settings()
    named = named_local_model(role.model, settings)
    chain = tiers(settings, named)
    deployment = role.model_copy(update={"model": None}) if named else role
    links = [
        with_retries(
            _tier_model(tier, role if tier.served else deployment, settings, tier is chain[-1]),
            settings,
            tier.name,
            retry_timeouts=tier.retry_timeouts,
        )
        for tier in chain
    ]
    joined = (
        links[0]
        if len(links) == 1
        else CountedFallbacks(
            runnable=links[0], fallbacks=links[1:], exceptions_to_handle=(Exception,)
        )
    )
    cache = response_cache() if settings.llm_cache and _cacheable(role) else False
    primary = _pooled(links[0])
    assert primary is not None
    return ResilientChatModel(
        chain=joined, primary=primary, temperature=role.temperature, cache=cache
    )


def _pooled(model: Any) -> PooledChatModel | None:
    """The primary tier's pooled model inside a chain, binding or retry wrapper."""
    while model is not None and not isinstance(model, PooledChatModel):
        if isinstance(model, ResilientChatModel):
            model = model.primary
        elif isinstance(model, RunnableWithFallbacks):
            model = model.runnable
        elif isinstance(model, RunnableBindingBase):
            model = model.bound
        else:
            return None
    return model


def primary_model(chain: Any) -> PooledChatModel | None:
    """The primary tier's model of a chain from `chat_model` (None for other runnables)."""
    return _pooled(chain)


def model_name(model: Any) -> str:
    """The model identity a chat model (or chain) reports, for usage accounting."""
    pooled = _pooled(model)
    if pooled is not None:
        return pooled.model_name
    if isinstance(model, BaseChatModel):
        return str(getattr(model, "model_name", None) or getattr(model, "model", "unknown"))
    return "unknown"


@lru_cache(maxsize=1)
def default_endpoint() -> Endpoint:
    """The primary endpoint, or the embedded local model server (started on first use)."""
    settings = get_settings()
    first = tiers(settings)[0]
    if first.targets:
        target = first.targets[0]
        return Endpoint(target.base_url, target.api_key, first.model or "default")
    [target], served = _local_targets()
    return Endpoint(target.base_url, target.api_key, served)


def reset_models() -> None:
    """Forget every built chain, the health board and the cache object (after a settings
    change, in tests); the counters stay (`llm_stats().reset()` clears them)."""
    for cached in (chat_model, default_endpoint, health_board, response_cache):
        cached.cache_clear()


async def _fit(messages: list[BaseMessage], role: RoleModel, chain: ChatChain) -> list[BaseMessage]:
    pooled = _pooled(chain)
    if pooled is None:
        return messages
    urls = pooled.resolved_urls() if pooled.tokenizer else []
    return await fit_to_window(
        messages, pooled.context_window, role.max_tokens, urls[0] if urls else None
    )


async def complete(
    node: str,
    role: RoleModel,
    prompts: list[str],
    system: str,
    *,
    response_format: dict[str, Any] | None = None,
    grammar: str | None = None,
) -> tuple[list[str], Usage]:
    """Run one prompt per item (concurrently), fitted to the model's context window, with the
    OpenAI `response_format` and the GBNF `grammar` if given (the grammar only where a tier's
    servers take one); returns the replies' text and their usage (cache hits use no tokens)."""
    chain = chat_model(role)
    batch = [await _fit([SystemMessage(system), HumanMessage(p)], role, chain) for p in prompts]
    bound = {k: v for k, v in (("response_format", response_format), ("grammar", grammar)) if v}
    model = chain.bind(**bound) if bound else chain
    replies = await asyncio.gather(*(model.ainvoke(messages) for messages in batch))
    texts = [str(r.content).strip() for r in replies]
    return texts, usage_of(node, model_name(chain), replies)
