"""The server-side scripts of the Redis saver: each hot operation is one atomic round trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# Thread keys, in the order every script receives them (see `_layout.Layout.thread_keys`):
# 1 cp (hash: member -> pair list \x1d record)  2 ix (zset by lex: members)
# 3 bl (hash: blob field -> value, digest field -> value)  4 wx (zset by lex: one entry per
# task: member \0 task \0 framed writes)  5 tr (set: run ids);
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
local function frame(s) return #s .. ':' .. s end
"""

PUT = Script(
    _UNFRAME
    + """
-- ARGV: ttl now_ms thread_id frame; frame = member stored run_id run_member
-- [field value]... (blob fields and digest fields alike), each item as "<length>:<bytes>"
-- (few arguments pack fast)
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
-- ARGV: ttl now_ms thread_id frame; frame = prefix ("ns\\0id\\0task\\0") task_path n
-- [digest_field value] x n, then [idx channel value]... One entry per task: a write already
-- stored for the task and index is kept, except at negative (special) indexes, replaced.
local a = unframe(ARGV[4])
local prefix, path = a[1], a[2]
local first = 4 + 2 * tonumber(a[3])
for i = 4, first - 1, 2 do redis.call('HSET', KEYS[3], a[i], a[i + 1]) end
local lo, hi = '[' .. prefix, '(' .. string.sub(prefix, 1, -2) .. '\\1'
local old = redis.call('ZRANGEBYLEX', KEYS[4], lo, hi, 'LIMIT', 0, 1)[1]
local order, by_idx, changed = {}, {}, not old
if old then
  local o = unframe(string.sub(old, #prefix + 1))
  path = o[1]
  for j = 2, #o, 3 do
    order[#order + 1] = o[j]
    by_idx[o[j]] = {o[j + 1], o[j + 2]}
  end
end
for j = first, #a, 3 do
  local idx = a[j]
  if by_idx[idx] == nil or tonumber(idx) < 0 then
    if by_idx[idx] == nil then order[#order + 1] = idx end
    by_idx[idx] = {a[j + 1], a[j + 2]}
    changed = true
  end
end
if changed then
  local parts = {prefix, frame(path)}
  for _, idx in ipairs(order) do
    parts[#parts + 1] = frame(idx) .. frame(by_idx[idx][1]) .. frame(by_idx[idx][2])
  end
  if old then redis.call('ZREM', KEYS[4], old) end
  redis.call('ZADD', KEYS[4], 0, table.concat(parts))
end
redis.call('ZADD', KEYS[6], ARGV[2], ARGV[3])
"""
    + _EXPIRE
    + "return 1\n"
)

GET = Script(
    _UNFRAME
    + """
-- ARGV: ns checkpoint_id ('' = latest). Returns {id, pair list \\x1d record, blob fields,
-- blobs, write entries, digest fields, digested values} or nil.
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
for pair in string.gmatch(list, '[^\\30]+') do
  -- "channel\\0version" has a blob; a third part flags None or empty (no blob)
  if not string.find(pair, '\\0', string.find(pair, '\\0', 1, true) + 1, true) then
    fields[#fields + 1] = ns .. '\\0' .. pair
  end
end
if #fields > 0 then blobs = hmget(KEYS[3], fields) end
local writes = redis.call('ZRANGEBYLEX', KEYS[4], '[' .. member .. '\\0', '(' .. member .. '\\1')
local refs, seen = {}, {}
local function want(value)
  if not value then return end
  if string.sub(value, 1, 3) == '@L\\0' then
    for _, item in ipairs(unframe(string.sub(value, 4))) do want(item) end
  elseif string.sub(value, 1, 2) == '@\\0' then
    local field = '\\0\\0' .. string.sub(value, 3)
    if not seen[field] then
      seen[field] = true
      refs[#refs + 1] = field
    end
  end
end
for i = 1, #fields do want(blobs[i]) end
for _, entry in ipairs(writes) do
  local o = unframe(string.sub(entry, string.find(entry, '\\0', #member + 2, true) + 1))
  for j = 4, #o, 3 do want(o[j]) end
end
local values = {}
if #refs > 0 then values = hmget(KEYS[3], refs) end
return {id, stored, fields, blobs, writes, refs, values}
"""
)

ALL = (PUT, PUT_WRITES, GET)
