"""The server-side scripts of the Redis saver: each hot operation is one atomic round trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Thread keys, in the order every script receives them (see `_layout.Layout.thread_keys`):
# 1 cp (hash: member -> record)   2 ix (zset by lex: members)   3 bl (hash: blob field -> blob)
# 4 bx (hash: member -> blob list) 5 wr (hash: write field -> write) 6 wx (zset: write fields)
# 7 tr (set: run ids of the thread); then 8 = the threads index (zset: thread -> last write ms).

_EXPIRE = """
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  for i = 1, 7 do redis.call('EXPIRE', KEYS[i], ttl) end
  if KEYS[9] then redis.call('EXPIRE', KEYS[9], ttl) end
end
"""


@dataclass(frozen=True)
class Script:
    """A Lua script and its SHA-1, for EVALSHA with a SCRIPT LOAD fallback."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


PUT = Script(
    """
-- ARGV: ttl now_ms thread_id member record blob_list run_id run_member [blob_field blob]...
redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[4], ARGV[6])
redis.call('ZADD', KEYS[2], 0, ARGV[4])
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[8], ARGV[2], ARGV[3])
if ARGV[7] ~= '' then
  redis.call('SADD', KEYS[7], ARGV[7])
  redis.call('SADD', KEYS[9], ARGV[8])
end
"""
    + _EXPIRE
    + "return 1\n"
)

PUT_WRITES = Script(
    """
-- ARGV: ttl now_ms thread_id [mode field write]...; mode 'n' keeps a stored write (HSETNX)
for i = 4, #ARGV, 3 do
  if ARGV[i] == 'n' then
    redis.call('HSETNX', KEYS[5], ARGV[i + 1], ARGV[i + 2])
  else
    redis.call('HSET', KEYS[5], ARGV[i + 1], ARGV[i + 2])
  end
  redis.call('ZADD', KEYS[6], 0, ARGV[i + 1])
end
redis.call('ZADD', KEYS[8], ARGV[2], ARGV[3])
"""
    + _EXPIRE
    + "return 1\n"
)

GET = Script(
    """
-- ARGV: ns checkpoint_id ('' = latest). Returns {id, record, blob fields, blobs, writes} or nil.
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + 999, #fields)))
    for j = 1, #part do out[#out + 1] = part[j] end
  end
  return out
end
local ns, id = ARGV[1], ARGV[2]
if id == '' then
  local last = redis.call('ZREVRANGEBYLEX', KEYS[2], '(' .. ns .. '\\1', '(' .. ns .. '\\0',
    'LIMIT', 0, 1)
  if #last == 0 then return false end
  id = string.sub(last[1], #ns + 2)
end
local member = ns .. '\\0' .. id
local record = redis.call('HGET', KEYS[1], member)
if not record then return false end
local fields, blobs = {}, {}
local list = redis.call('HGET', KEYS[4], member)
if list then
  for pair in string.gmatch(list, '[^\\30]+') do fields[#fields + 1] = ns .. '\\0' .. pair end
  if #fields > 0 then blobs = hmget(KEYS[3], fields) end
end
local wfields = redis.call('ZRANGEBYLEX', KEYS[6], '[' .. member .. '\\0', '(' .. member .. '\\1')
local writes = {}
if #wfields > 0 then writes = hmget(KEYS[5], wfields) end
return {id, record, fields, blobs, writes}
"""
)

ALL = (PUT, PUT_WRITES, GET)
