"""A chat model served by a weighted pool of OpenAI-compatible endpoints (one tier of a role's
fallback chain): each request goes to the next healthy endpoint, under a per-call timeout, and
its failure or success feeds the endpoints' health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Literal

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, PrivateAttr

from core.llm.endpoints import EndpointPool, HealthBoard
from core.llm.retries import EmptyResponseError, cause_of, is_transient
from core.llm.stats import llm_stats
from core.llm.timeouts import AdaptiveTimeout
from core.text.plain import estimate_tokens

log = logging.getLogger(__name__)


class Target(BaseModel):
    """One endpoint of a pool."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    api_key: str = "none"
    weight: float = 1.0
    slots: int | None = Field(None, ge=1)
    """Requests in flight on this endpoint at most (its server's parallel slots); None: the
    pool's `slots`."""


Targets = Callable[[], tuple[list[Target], str]]
"""Resolves a pool's endpoints and served model name on first use (the local server starts
only when its tier is first needed)."""


Ready = Callable[[float], Awaitable[bool]]
Recheck = Callable[[], Awaitable[bool]]

RESTART_WAITS = 3
"""How many times one call may wait for its supervised server to come back and go again."""


class ServerNotReadyError(ConnectionError):
    """The endpoints' server did not come back within the call's time."""


class PooledChatModel(BaseChatModel):
    """One tier: the role's parameters, on whichever healthy endpoint of the pool is next."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str
    """The model the endpoints serve (the `model` field of requests)."""
    tier: str = "tier0"
    """The tier's name in logs and counters (`tier0` is the primary pool, `local` the last)."""
    temperature: float = 0.0
    max_tokens: int = 256
    legacy_max_tokens: bool = False
    """Also send the cap as `max_tokens` (servers that ignore `max_completion_tokens`)."""
    seed: int | None = None
    request_body: dict[str, Any] = Field(default_factory=dict)
    """Fields every request carries besides OpenAI's (e.g. llama.cpp's `cache_prompt`)."""
    timeout_s: float = 120.0
    adaptive_timeout: InstanceOf[AdaptiveTimeout] | None = Field(default=None, exclude=True)
    """Where set, an async call's timeout (a stream's: its whole time) follows this pool's
    observed call times (at most `timeout_s`); None: always `timeout_s`."""
    context_window: int = 4096
    """Tokens the model's context holds (prompt and reply)."""
    slots: int | None = None
    """Requests in flight per endpoint at most (a llama.cpp server's parallel slots); callers
    beyond it wait here, and the timeout starts once a slot is theirs. None: no limit."""
    last_resort: bool = False
    """Whether no tier follows this one (its pool then never refuses: panic mode)."""
    tokenizer: bool = False
    """Whether the endpoints are llama.cpp servers: a tokenizer endpoint (exact counts) and a
    GBNF `grammar` in the request body (a call's grammar is dropped elsewhere: the prompt
    still says the rule in words)."""
    structured_output: Literal["json_schema", "json_object", "none"] = "json_object"
    """The strongest `response_format` the endpoints honour: a call asking for a JSON schema
    gets it where they take schemas (the embedded llama-server compiles it to a grammar),
    plain JSON mode where they take only that, and nothing where neither (the caller's lenient
    reader copes)."""
    ready: Ready | None = Field(default=None, exclude=True)
    """Waits (up to its argument, in seconds) until the endpoints' server answers: the
    supervised embedded server may be restarting. A call waits for it before taking a slot."""
    recheck: Recheck | None = Field(default=None, exclude=True)
    """Checks the endpoints' server now, after a call could not reach it: whether it answers.
    Where it does not, its readiness is cleared, so `ready` waits for the supervisor to bring it
    back; the call then goes again without spending a retry (a restart is not the call's
    fault, and a run's few retries were spent in seconds on a closed port)."""
    targets: Targets | None = Field(default=None, exclude=True)
    """Lazy endpoint resolution (used when `static_targets` is empty)."""
    static_targets: list[Target] = Field(default_factory=list)
    board: InstanceOf[HealthBoard] = Field(exclude=True)

    _pool: EndpointPool | None = PrivateAttr(default=None)
    _targets: dict[str, Target] = PrivateAttr(default_factory=dict)
    _clients: dict[str, ChatOpenAI] = PrivateAttr(default_factory=dict)
    """The synchronous calls' clients, by endpoint."""
    _loop_clients: Any = PrivateAttr(default_factory=weakref.WeakKeyDictionary)
    """Event loop -> endpoint -> the async calls' client on that loop."""
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _gates: Any = PrivateAttr(default_factory=weakref.WeakKeyDictionary)

    @property
    def _llm_type(self) -> str:
        return "refinery-pooled-openai"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # The cache key: what makes two replies interchangeable, not which endpoint served.
        return {
            "model_name": self.model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }

    def get_num_tokens(self, text: str) -> int:
        """An offline estimate (LangChain's default would download a tiktoken encoding)."""
        return estimate_tokens(text)

    def resolved_urls(self) -> list[str]:
        """The pool's endpoints if known yet (never starts the local server)."""
        if self.static_targets:
            return [t.base_url for t in self.static_targets]
        return list(self._pool.urls) if self._pool else []

    # --- endpoint choice -------------------------------------------------------------------------

    def _resolve(self) -> EndpointPool:
        with self._lock:
            if self._pool is None:
                targets = self.static_targets
                if not targets and self.targets is not None:
                    targets, served = self.targets()
                    self.model_name = served or self.model_name
                urls = [t.base_url for t in targets]
                self._pool = EndpointPool(
                    urls, [t.weight for t in targets], self.board, panic=self.last_resort
                )
                for target in targets:
                    self._targets[target.base_url] = target
                    self._clients[target.base_url] = self._client(target)
            return self._pool

    def _client(self, target: Target, **extra: Any) -> ChatOpenAI:
        return ChatOpenAI(
            model=self.model_name,
            base_url=target.base_url,
            api_key=target.api_key,
            temperature=self.temperature,
            max_completion_tokens=self.max_tokens,
            extra_body=self._body() or None,
            seed=self.seed,
            timeout=self.timeout_s,
            max_retries=0,  # the retry loop is `core.llm.retries`, once, around this model
            stream_usage=True,
            **extra,
        )

    def _body(self) -> dict[str, Any]:
        # ChatOpenAI renames `max_tokens` in the payload, so the legacy field goes as extra
        legacy = {"max_tokens": self.max_tokens} if self.legacy_max_tokens else {}
        return {**legacy, **self.request_body}

    def _async_client(self, url: str) -> ChatOpenAI:
        """`url`'s client for the running event loop, with a connection pool of its own: an
        httpx pool belongs to the loop it was opened on, and langchain-openai's default one is
        shared by the whole process (per base URL), so a second `asyncio.run` in one process
        met the first loop's dead connections."""
        loop = asyncio.get_running_loop()
        with self._lock:
            clients = self._loop_clients.setdefault(loop, {})
            if url not in clients:
                pool = openai.DefaultAsyncHttpxClient(timeout=self.timeout_s)
                clients[url] = self._client(self._targets[url], http_async_client=pool)
            return clients[url]

    def _pick(self) -> str:
        url = self._resolve().pick()
        llm_stats().count("calls", url)
        return url

    def _choose(self) -> tuple[str, ChatOpenAI]:
        url = self._pick()
        return url, self._clients[url]

    def _release(self, url: str) -> None:
        if self._pool is not None:
            self._pool.release(url)

    # --- membership (capacity scaling: `core.scaling.fleet`) ------------------------------------

    def join(self, target: Target) -> None:
        """Add an endpoint that is ready to serve; the next calls are balanced over it too."""
        pool = self._resolve()
        with self._lock:
            if target.base_url not in self._clients:
                self._targets[target.base_url] = target
                self._clients[target.base_url] = self._client(target)
        pool.add(target.base_url, target.weight)

    def drain(self, url: str) -> None:
        """Send `url` no new calls; `in_flight(url)` says when the last one has ended."""
        self._resolve().drain(url)

    def leave(self, url: str) -> None:
        """Forget a drained endpoint."""
        self._resolve().remove(url)
        with self._lock:
            self._clients.pop(url, None)
            self._targets.pop(url, None)
            for clients in self._loop_clients.values():
                clients.pop(url, None)
            for gates in self._gates.values():  # a later server on this port has its own slots
                gates.pop(url, None)

    def in_flight(self, url: str | None = None) -> int:
        """Calls in flight on `url` (None: on every endpoint of the pool)."""
        return self._pool.in_flight(url) if self._pool is not None else 0

    async def _achoose(self) -> tuple[str, ChatOpenAI]:
        if self._pool is None and not self.static_targets:
            await asyncio.to_thread(self._resolve)  # may start the local server
        if self.ready is not None and not await self.ready(self.timeout_s):
            raise ServerNotReadyError(f"the {self.tier} model server is not ready")
        url = self._pick()
        return url, self._async_client(url)

    def _gate(self, url: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """This endpoint's slot (per event loop: asyncio primitives belong to one loop): its
        target's `slots`, else the pool's."""
        target = self._targets.get(url)
        slots = target.slots if target is not None and target.slots else self.slots
        if slots is None:
            return contextlib.nullcontext()
        gates = self._gates.setdefault(asyncio.get_running_loop(), {})
        if url not in gates:
            gates[url] = asyncio.Semaphore(slots)
        return gates[url]

    def _shaped(self, kwargs: dict[str, Any], client: ChatOpenAI) -> dict[str, Any]:
        """The call's keyword arguments with its `grammar` and `response_format` as these
        endpoints take them.

        A JSON schema travels in the request body (`extra_body`), not as the client's own
        `response_format`: given that, langchain-openai calls the SDK's `parse`, which raises
        `LengthFinishReasonError` on a reply cut at its token cap instead of returning the text
        for the lenient reader (measured: one critic call in 32 tasks failed its run so)."""

        def in_body(rest: dict[str, Any], **fields: Any) -> dict[str, Any]:
            body = {**(client.extra_body or {}), **(rest.get("extra_body") or {})}
            return {**rest, "extra_body": {**body, **fields}}

        if "grammar" in kwargs:
            grammar = kwargs["grammar"]
            kwargs = {k: v for k, v in kwargs.items() if k != "grammar"}
            if grammar and self.tokenizer:
                kwargs = in_body(kwargs, grammar=grammar)
        wanted = kwargs.get("response_format")
        if not isinstance(wanted, dict) or wanted.get("type") != "json_schema":
            return kwargs
        if self.structured_output == "json_schema":
            rest = {k: v for k, v in kwargs.items() if k != "response_format"}
            return in_body(rest, response_format=wanted)
        if self.structured_output == "json_object":
            return {**kwargs, "response_format": {"type": "json_object"}}
        return {k: v for k, v in kwargs.items() if k != "response_format"}

    def _failed(self, url: str, exc: BaseException) -> None:
        cause = cause_of(exc)
        llm_stats().count("failures", cause)
        if is_transient(exc):
            self.board.failure(url, cause)
        log.info("%s %s failed: %s", self.tier, url, cause)

    # --- BaseChatModel -------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        url, client = self._choose()
        kwargs = self._shaped(kwargs, client)
        try:
            result = client._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except Exception as exc:
            self._failed(url, exc)
            raise
        finally:
            self._release(url)
        self.board.success(url)
        return result

    async def _came_back(self, exc: openai.APIConnectionError, waits: int) -> bool:
        """Whether a call that could not reach its supervised server may go again: the
        connection failed (refused, or cut before a reply; a timeout is no such thing), the
        call has waited fewer than `RESTART_WAITS` times, and the server answers again within
        the call's time (its supervisor restarts it, or takes over the one whose owner left)."""
        if self.ready is None or self.recheck is None or waits >= RESTART_WAITS:
            return False
        if isinstance(exc, openai.APITimeoutError):
            return False
        answering = await self.recheck()
        log.info("%s: the model server %s; the call waits for it (%s)", self.tier,
                 "answers again" if answering else "is not answering", cause_of(exc))  # fmt: skip
        llm_stats().count("restart_waits", self.tier)
        return await self.ready(self.timeout_s)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        waits = 0
        while True:
            try:
                return await self._agenerate_once(messages, stop, run_manager, **kwargs)
            except openai.APIConnectionError as exc:
                if not await self._came_back(exc, waits):
                    raise
            waits += 1

    async def _agenerate_once(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        **kwargs: Any,
    ) -> ChatResult:
        url, client = await self._achoose()
        kwargs = self._shaped(kwargs, client)
        adaptive = self.adaptive_timeout
        try:
            async with self._gate(url):
                limit = adaptive.current() if adaptive is not None else self.timeout_s
                started = time.monotonic()
                try:
                    async with asyncio.timeout(limit):
                        result = await client._agenerate(
                            messages, stop=stop, run_manager=run_manager, **kwargs
                        )
                except TimeoutError:
                    log.info("%s %s: no answer within %.1f s", self.tier, url, limit)
                    raise
                if adaptive is not None:
                    adaptive.observe(time.monotonic() - started)
        except Exception as exc:
            self._failed(url, exc)
            raise
        finally:
            self._release(url)
        self.board.success(url)
        return result

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        url, client = self._choose()
        kwargs = self._shaped(kwargs, client)
        chunks = 0
        try:
            for chunk in client._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
                chunks += 1
                yield chunk
            if not chunks:
                raise EmptyResponseError(f"{url} streamed no chunk")
        except Exception as exc:
            self._failed(url, exc)
            raise
        finally:
            self._release(url)
        self.board.success(url)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # Goes again after a restart only before its first chunk (a caller has none yet).
        waits = 0
        while True:
            chunks = 0
            try:
                async for chunk in self._astream_once(messages, stop, run_manager, **kwargs):
                    chunks += 1
                    yield chunk
                return
            except openai.APIConnectionError as exc:
                if chunks or not await self._came_back(exc, waits):
                    raise
            waits += 1

    async def _astream_once(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        # A hang is caught by the client's read timeout (`timeout_s` between bytes) and, with
        # an adaptive timeout, by the whole stream's deadline (checked around each chunk it
        # waits for, never across a yield); a failure before the first chunk lets the fallback
        # chain move on to the next tier.
        url, client = await self._achoose()
        kwargs = self._shaped(kwargs, client)
        adaptive = self.adaptive_timeout
        chunks = 0
        try:
            async with self._gate(url):
                started = time.monotonic()
                limit = adaptive.current() if adaptive is not None else None
                deadline = asyncio.get_running_loop().time() + limit if limit else None
                stream = client._astream(messages, stop=stop, run_manager=run_manager, **kwargs)
                async with contextlib.aclosing(stream):
                    while True:
                        try:
                            async with asyncio.timeout_at(deadline):
                                chunk = await anext(stream, None)
                        except TimeoutError:
                            log.info("%s %s: no answer within %.1f s", self.tier, url, limit)
                            raise
                        if chunk is None:
                            break
                        chunks += 1
                        yield chunk
                if adaptive is not None and chunks:
                    adaptive.observe(time.monotonic() - started)
            if not chunks:
                raise EmptyResponseError(f"{url} streamed no chunk")
        except Exception as exc:
            self._failed(url, exc)
            raise
        finally:
            self._release(url)
        self.board.success(url)
