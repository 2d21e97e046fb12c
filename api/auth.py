"""API keys: only their SHA-256 digests are configured; a request's `Authorization: Bearer`
key is hashed and looked up. With no key configured every caller is the loopback `local` key."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from core.settings import Settings

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ApiKey:
    """An accepted key: a short id (a digest prefix: safe to log and to store), its name, rate."""

    id: str
    name: str
    rate_per_minute: int
    burst: int | None = None
    """Requests it may send at once; None: the server's `api_rate_burst`."""


LOCAL = "local"
"""The id of the single caller of a server with no keys configured (loopback only)."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """The configured keys, by digest."""

    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self._by_digest = keys

    @property
    def open(self) -> bool:
        """True when no key is configured: no auth, and the server binds loopback only."""
        return not self._by_digest

    def __len__(self) -> int:
        return len(self._by_digest)

    def lookup(self, presented: str) -> ApiKey | None:
        return self._by_digest.get(digest(presented))

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """Keys from `api_keys` (`DIGEST[:NAME]`) and `api_keys_file` lines
        (`DIGEST NAME [PER_MINUTE [BURST]]`)."""
        rate = settings.api_rate_per_minute
        entries = [tuple(item.split(":", 1)) for item in settings.api_keys]
        if settings.api_keys_file:
            for line in settings.api_keys_file.read_text().splitlines():
                parts = line.split("#", 1)[0].split()
                if parts:
                    entries.append(tuple(parts))
        keys: dict[str, ApiKey] = {}
        for number, entry in enumerate(entries, 1):
            value = entry[0].lower()
            if not _DIGEST.match(value):
                raise ValueError(
                    f"API key entry {number} is not a SHA-256 hex digest; configure "
                    "digests only (`python -m api.auth new` makes a key and its digest)"
                )
            name = entry[1] if len(entry) > 1 else f"key-{value[:8]}"
            per_minute = int(entry[2]) if len(entry) > 2 else rate
            burst = int(entry[3]) if len(entry) > 3 else None
            keys[value] = ApiKey(value[:16], name, per_minute, burst)
        return cls(keys)


def new_key() -> tuple[str, str]:
    """A fresh random key and its digest."""
    key = "rf_" + secrets.token_urlsafe(32)
    return key, digest(key)


def main() -> None:
    """`python -m api.auth new [NAME]`: print a new key (give it to the caller) and the line
    for the keys file (give it to the server)."""
    import sys

    if len(sys.argv) < 2 or sys.argv[1] != "new":
        raise SystemExit("usage: python -m api.auth new [NAME]")
    name = sys.argv[2] if len(sys.argv) > 2 else "client"
    key, value = new_key()
    print(f"key (give to the caller, shown once): {key}")
    print(f"keys file line (REFINERY_API_KEYS_FILE): {value} {name}")


if __name__ == "__main__":
    main()
