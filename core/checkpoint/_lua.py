"""The server-side scripts of the Redis saver: each hot operation is one atomic round trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Thread keys, in the order every script receives them (see `_layout.Layout.thread_keys`):
# 1 cp (hash: member -> blob list \x1d record)  2 ix (zset by lex: members)
# 3 bl (hash: blob field -> blob)  4 wx (zset by lex: write field \0 write)  5 tr (set: run ids);
# then 6 = the threads index (zset: thread -> last write ms) and, for PUT, 7 = the run's set.

_EXPIRE = """
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
  if KEYS[7] then redis.call('EXPIRE', KEYS[7], ttl) end
end
"""


@dataclass(frozen=True)
class Script:
    """A Lua script and its SHA-1, for EVALSHA with a SCRIPT LOAD fallback."""

    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


_UNFRAME = """
local function unframe(s)
  local out, pos, n = {}, 1, #s
  while pos <= n do
    local colon = string.find(s, ':', pos, true)
    local len = tonumber(string.sub(s, pos, colon - 1))
    out[#out + 1] = string.sub(s, colon + 1, colon + len)
    pos = colon + len + 1
  end
  return out
end
"""

PUT = Script(
    _UNFRAME
    + """
-- ARGV: ttl now_ms thread_id frame; frame = member stored run_id run_member
-- [blob_field blob]..., each item as "<length>:<bytes>" (few arguments pack fast)
local a = unframe(ARGV[4])
redis.call('HSET', KEYS[1], a[1], a[2])
redis.call('ZADD', KEYS[2], 0, a[1])
for i = 5, #a, 2 do redis.call('HSET', KEYS[3], a[i], a[i + 1]) end
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[3])
if a[3] ~= '' then
  redis.call('SADD', KEYS[5], a[3])
  redis.call('SADD', KEYS[7], a[4])
end
"""
    + _EXPIRE
    + "return 1\n"
)

PUT_WRITES = Script(
    _UNFRAME
    + """
-- ARGV: ttl now_ms thread_id frame; frame = [mode field write]..., framed as in PUT.
-- Mode 'n' keeps a write already stored for that task and index; 's' replaces it.
local a = unframe(ARGV[4])
for i = 1, #a, 3 do
  local lo, hi = '[' .. a[i + 1] .. '\0', '(' .. a[i + 1] .. '\1'
  local stored = redis.call('ZRANGEBYLEX', KEYS[4], lo, hi, 'LIMIT', 0, 1)
  if #stored == 0 or a[i] == 's' then
    if #stored > 0 then redis.call('ZREMRANGEBYLEX', KEYS[4], lo, hi) end
    redis.call('ZADD', KEYS[4], 0, a[i + 1] .. '\0' .. a[i + 2])
  end
end
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[3])
"""
    + _EXPIRE
    + "return 1\n"
)

GET = Script(
    """
-- ARGV: ns checkpoint_id ('' = latest).
-- Returns {id, blob list \x1d record, blob fields, blobs, writes} or nil.
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
local stored = redis.call('HGET', KEYS[1], member)
if not stored then return false end
local fields, blobs = {}, {}
local list = string.sub(stored, 1, string.find(stored, '\\29', 1, true) - 1)
for pair in string.gmatch(list, '[^\\30]+') do fields[#fields + 1] = ns .. '\\0' .. pair end
if #fields > 0 then blobs = hmget(KEYS[3], fields) end
local writes = redis.call('ZRANGEBYLEX', KEYS[4], '[' .. member .. '\\0', '(' .. member .. '\\1')
return {id, stored, fields, blobs, writes}
"""
)
