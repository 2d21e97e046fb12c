"""The chat model a role gets: a real `BaseChatModel` (so anything written for LangChain chat
models, ragas' judge included, takes it) that runs the role's fallback chain of retried tiers,
with the response cache in front of the whole chain (one lookup per request, not per attempt)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field, InstanceOf

from core.llm.pooled import PooledChatModel
from core.text.plain import estimate_tokens


class ResilientChatModel(BaseChatModel):
    """A role's model: `chain` (tiers with retries and fallbacks) behind one chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    chain: InstanceOf[Runnable] = Field(exclude=True)
    """The tiers: `CountedRetry` links joined by `CountedFallbacks`."""
    primary: PooledChatModel = Field(exclude=True)
    """The primary tier's model (its name, parameters and context window)."""
    temperature: float = 0.0
    """The role's temperature, for tools that read it (the tiers hold their own copy)."""

    @property
    def model_name(self) -> str:
        return self.primary.model_name

    @property
    def _llm_type(self) -> str:
        return "refinery-resilient"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return self.primary._identifying_params

    def get_num_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self.chain.invoke(messages, stop=stop, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=_ai(reply))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = await self.chain.ainvoke(messages, stop=stop, **kwargs)
        return ChatResult(generations=[ChatGeneration(message=_ai(reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self.chain.stream(messages, stop=stop, **kwargs):
            yield ChatGenerationChunk(message=_chunk(chunk))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.chain.astream(messages, stop=stop, **kwargs):
            yield ChatGenerationChunk(message=_chunk(chunk))


def _ai(reply: BaseMessage) -> AIMessage:
    if isinstance(reply, AIMessage):
        return reply.model_copy(update={"id": None}) if isinstance(reply, AIMessageChunk) else reply
    return AIMessage(content=reply.content)


def _chunk(chunk: BaseMessage) -> AIMessageChunk:
    if isinstance(chunk, AIMessageChunk):
        return chunk
    return AIMessageChunk(content=chunk.content)
