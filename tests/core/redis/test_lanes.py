"""`Lanes` on a real Redis: one packed write per batch, replies in order, error replies
raised without losing the connection's place, and a connection the server dropped replaced."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aredis
from redis.exceptions import ResponseError

from core.redis.lanes import Lanes


@pytest.fixture
async def client(redis_url: str) -> aredis.Redis:
    client = aredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_batch_is_answered_in_order(client: aredis.Redis) -> None:
    lanes, key = Lanes(client.connection_pool), f"lanes:{uuid.uuid4().hex}"
    replies = await lanes.call_many(
        [("XADD", key, "MAXLEN", "~", 100, "*", "event", f"e{i}", "data", "{}") for i in range(3)]
        + [("EXPIRE", key, 60)]
    )
    ids, expired = replies[:-1], replies[-1]
    assert expired == 1 and len(ids) == 3 and ids == sorted(ids)
    stored = await client.xrange(key)
    assert [entry_id for entry_id, _ in stored] == ids
    assert [fields[b"event"] for _, fields in stored] == [b"e0", b"e1", b"e2"]
    assert 0 < await client.ttl(key) <= 60
    await lanes.aclose()


async def test_an_error_reply_is_raised_and_the_connection_stays_in_step(
    client: aredis.Redis,
) -> None:
    lanes, key = Lanes(client.connection_pool), f"lanes:{uuid.uuid4().hex}"
    await client.set(key, "a string")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await lanes.call_many([("GET", key), ("LPUSH", key, "x"), ("STRLEN", key)])
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await lanes.call("LPUSH", key, "x")
    # the same connection answers the next call with its own reply, not a stale one
    assert await lanes.call("GET", key) == b"a string"
    assert await lanes.call_many([("STRLEN", key), ("EXISTS", key)]) == [8, 1]
    await lanes.aclose()


async def test_a_connection_the_server_closed_is_replaced(client: aredis.Redis) -> None:
    lanes = Lanes(client.connection_pool)
    lane_id = await lanes.call("CLIENT", "ID")
    assert await client.execute_command("CLIENT", "KILL", "ID", lane_id) == 1
    assert await lanes.call("PING") == b"PONG"
    assert await lanes.call("CLIENT", "ID") != lane_id  # answered on a fresh connection
    await lanes.aclose()
