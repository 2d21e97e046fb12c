"""Structured logs: one JSON object a line, carrying the run and thread ids of the request
being served; keys and tokens are masked, and request text is cut to `log_excerpt_chars`."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import IO, Any

from core.settings import Settings, get_settings

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "excerpt",
    "log_context",
    "note_ids",
    "redact",
    "request_scope",
]

_NONE: dict[str, Any] = {}
_context: ContextVar[dict[str, Any]] = ContextVar("refinery_log_context", default=_NONE)
"""The one carrier of ids to the logs: `log_context` stacks fields for a block; a request's
scope holds a dict that `note_ids` fills in place, so ids found deep in a run reach the
request's own log line (a task spawned for the run shares the dict)."""

_SECRET_NAME = re.compile(
    r"(^|_)(api_?key|key|keys|token|secret|password|passwd|authorization|auth|cookie|credentials?)$",
    re.IGNORECASE,
)
_TEXT_NAMES = frozenset(
    {
        "task",
        "answer",
        "draft",
        "first_draft",
        "text",
        "prompt",
        "content",
        "comment",
        "documents",
        "document",
        "passages",
        "summary",
        "reply",
        "completion",
    }
)
_SECRET_IN_TEXT = [
    re.compile(r"(?i)\bbearer\s+[^\s,;\"']+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\blsv2_[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?i)\b(api[_-]?key|token|secret|password)=([^\s&,;\"']+)"),
    re.compile(r"(?i)(redis|rediss|https?)://[^\s:@/]*:[^\s@/]+@"),
]
_MASK = "***"
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of `text`, saying how long it was when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text)} chars]"


def scrub(text: str) -> str:
    """`text` with bearer tokens, API keys and URL passwords masked."""
    for pattern in _SECRET_IN_TEXT:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    whole = match.group(0)
    if whole.lower().startswith("bearer"):
        return f"Bearer {_MASK}"
    if "://" in whole:
        return f"{match.group(1)}://{_MASK}@"
    if "=" in whole:
        return f"{match.group(1)}={_MASK}"
    return _MASK


def redact(name: str, value: Any, limit: int) -> Any:
    """A log field's value as it may be written: secrets masked, request text excerpted."""
    if isinstance(value, str):
        if _SECRET_NAME.search(name):
            return _MASK
        if name.lower() in _TEXT_NAMES:
            return excerpt(scrub(value), limit)
        return scrub(value)
    if isinstance(value, dict):
        return {
            str(k): redact(str(k) if name not in _TEXT_NAMES else name, v, limit)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(name, v, limit) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(name, str(value), limit)


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every record logged inside carries `fields` (e.g. `run_id`, `thread_id`, `variant`)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


@contextlib.contextmanager
def request_scope() -> Iterator[dict[str, Any]]:
    """A scope (one request) whose records carry the ids `note_ids` adds while it lasts; yields
    the dict that holds them."""
    ids: dict[str, Any] = dict(_context.get())
    token = _context.set(ids)
    try:
        yield ids
    finally:
        _context.reset(token)


def note_ids(**ids: str) -> None:
    """Add ids (`thread_id`, `run_id`) to the current request's scope; outside one, nothing."""
    found = _context.get()
    if found is not _NONE:
        found.update(ids)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, context and extras."""

    def __init__(self, excerpt_chars: int) -> None:
        super().__init__()
        self.excerpt_chars = excerpt_chars

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        extras = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        for name, value in {**_context.get(), **extras}.items():
            entry[name] = redact(name, value, self.excerpt_chars)
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.msg = scrub(str(record.msg))
        ids = " ".join(f"{k}={v}" for k, v in _context.get().items())
        line = super().format(record)
        return f"{line} [{ids}]" if ids else line


def configure_logging(settings: Settings | None = None, stream: IO[str] | None = None) -> None:
    """Send the root logger's records to `stream` (stderr) in the configured format; idempotent."""
    settings = settings or get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_refinery", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._refinery = True  # type: ignore[attr-defined]
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter(settings.log_excerpt_chars))
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
