-- common.lua: prepended to every event script at build time.
--
-- KEYS of event E (all share the hash tag {E}, so one event is one Redis
-- Cluster slot):
--   1 meta       hash: total, limit_per_user, hold_ms, opens_at_ms,
--                created_at_ms, broken (conservation failures seen),
--                closed (1: the sale is closed, no new hold; absent: 0)
--   2 pool       integer: unsold tickets leased to no node
--   3 sold       integer: tickets confirmed
--   4 held       integer: tickets in live (HELD) holds
--   5 lease      hash node -> free tickets leased to that node
--   6 epoch      hash node -> lease generation (fencing token)
--   7 buyers     hash user -> tickets confirmed
--   8 orders     hash reservation id -> order (JSON)
--   9 stream     stream of orders, for order and payment services
--  10 holds      hash reservation id -> hold record (JSON), live and ended
--  11 deadlines  zset reservation id -> expires_at_ms, live holds only
--  12 uholds     hash user -> live reservation ids, space separated
--  13 reqs       hash "user request_id" -> reservation id, while the hold
--                is live or confirmed
--  14 ended      zset reservation id -> ended_at_ms, ended records only
--  15 nheld      hash node -> tickets in live holds that node made (a node
--                stays busy with an event while it has holds there)
-- Conservation after every script: pool + sum(lease) + held + sold == total.
--
-- A hold record: {u = user, q = qty, n = node, e = epoch, x = expires_at_ms,
-- r = request_id, s = state ('H' held, 'R' released, 'X' expired),
-- t = ended_at_ms}. Times are Redis' clock (TIME), in Unix milliseconds.
local K_META, K_POOL, K_SOLD, K_HELD = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_LEASE, K_EPOCH, K_BUYERS, K_ORDERS = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_STREAM, K_HOLDS, K_DEADLINES = KEYS[9], KEYS[10], KEYS[11]
local K_UHOLDS, K_REQS, K_ENDED = KEYS[12], KEYS[13], KEYS[14]
local K_NHELD = KEYS[15]

-- HoldState numbers of the wire protocol.
local HELD, CONFIRMED, RELEASED, EXPIRED = 1, 2, 3, 4
local STATE_OF = {H = HELD, R = RELEASED, X = EXPIRED}

local function num(v)
  return tonumber(v or '0') or 0
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function hold_get(rid)
  local v = redis.call('HGET', K_HOLDS, rid)
  if not v then return nil end
  return cjson.decode(v)
end

local function order_get(rid)
  local v = redis.call('HGET', K_ORDERS, rid)
  if not v then return nil end
  return cjson.decode(v)
end

-- The live reservation ids of a user, in the order they were made.
local function user_holds(u)
  local t = {}
  local v = redis.call('HGET', K_UHOLDS, u)
  if v then
    for rid in string.gmatch(v, '%S+') do t[#t + 1] = rid end
  end
  return t
end

local function user_holds_set(u, t)
  if #t == 0 then
    redis.call('HDEL', K_UHOLDS, u)
  else
    redis.call('HSET', K_UHOLDS, u, table.concat(t, ' '))
  end
end

local function user_holds_remove(u, rid)
  local keep = {}
  for _, r in ipairs(user_holds(u)) do
    if r ~= rid then keep[#keep + 1] = r end
  end
  user_holds_set(u, keep)
end

local function req_key(u, r)
  return u .. ' ' .. r
end

-- Take a live hold out of the indexes (deadlines, the user's list, and
-- unless keep_req its request id) and out of `held`. Its ticket is the
-- caller's to place.
local function hold_unindex(rid, h, keep_req)
  redis.call('ZREM', K_DEADLINES, rid)
  user_holds_remove(h.u, rid)
  if not keep_req and h.r ~= '' and
     redis.call('HGET', K_REQS, req_key(h.u, h.r)) == rid then
    redis.call('HDEL', K_REQS, req_key(h.u, h.r))
  end
  redis.call('DECRBY', K_HELD, h.q)
  if redis.call('HINCRBY', K_NHELD, h.n, -h.q) <= 0 then
    redis.call('HDEL', K_NHELD, h.n)
  end
end

-- End a live hold as 'R' or 'X'. Its ticket goes back to the lease of the
-- node that made it when that node itself ends it (caller) with the epoch
-- the hold was made under, still current; to the pool otherwise. The record
-- stays as ended until expire_due prunes it. Returns 1 if the ticket went
-- to the caller's lease, else 0.
local function hold_end(rid, h, state, caller, caller_epoch, now)
  local to_lease = 0
  hold_unindex(rid, h)
  h.s, h.t = state, now
  redis.call('HSET', K_HOLDS, rid, cjson.encode(h))
  redis.call('ZADD', K_ENDED, now, rid)
  if caller == h.n and tonumber(caller_epoch) == h.e and
     num(redis.call('HGET', K_EPOCH, caller)) == h.e then
    redis.call('HINCRBY', K_LEASE, caller, h.q)
    to_lease = 1
  else
    redis.call('INCRBY', K_POOL, h.q)
  end
  return to_lease
end

-- Every writing script ends here. A broken sum means a bug: the writes
-- cannot be undone (Redis has no rollback), so it is logged and counted in
-- meta.broken, which the audit reports, and the answer stands. total may
-- be passed by a script that read it already.
local function check_conservation(total)
  total = total or num(redis.call('HGET', K_META, 'total'))
  local c = redis.call('MGET', K_POOL, K_SOLD, K_HELD)
  local sum = num(c[1]) + num(c[2]) + num(c[3])
  for _, v in ipairs(redis.call('HVALS', K_LEASE)) do sum = sum + num(v) end
  if sum ~= total then
    redis.log(redis.LOG_WARNING, 'ticketrush: conservation broken on ' ..
      K_META .. ': ' .. sum .. ' ~= ' .. total)
    redis.call('HINCRBY', K_META, 'broken', 1)
  end
end

local function fenced(node, epoch)
  local ep = num(redis.call('HGET', K_EPOCH, node))
  if ep ~= tonumber(epoch) then
    return redis.error_reply('TR_FENCED ' .. ep)
  end
  return nil
end

local function event_exists()
  return redis.call('EXISTS', K_META) == 1
end

-- End up to `limit` holds more than grace_ms past their deadline by Redis'
-- clock, whoever made them (a dead node's, one whose answer was lost):
-- tickets to the pool. Returns how many ended (check conservation after).
local function expire_overdue(now, grace, limit)
  local n = 0
  local due = redis.call('ZRANGEBYSCORE', K_DEADLINES, '-inf', now - grace,
    'LIMIT', 0, limit)
  for _, rid in ipairs(due) do
    local h = hold_get(rid)
    if h and h.s == 'H' then
      hold_end(rid, h, 'X', '', 0, now)
      n = n + 1
    else
      redis.call('ZREM', K_DEADLINES, rid) -- cannot happen; keep it clean
    end
  end
  return n
end
