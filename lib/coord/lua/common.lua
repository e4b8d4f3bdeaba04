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
--  16 line       zset user -> join number: the waitlist, buyers waiting
--  17 lent       hash user -> waitlist entry (JSON), waiting or ended
--  18 lended     zset user -> ended_at_ms, ended entries only
--  19 llog       stream of offers: user, join number, reservation id, when
--                the ticket came back, when it was offered
-- Conservation after every script: pool + sum(lease) + held + sold == total.
-- An offer to the waitlist is a hold (counted in held) made by the
-- coordinator itself: node '_wl'.
--
-- A hold record: {u = user, q = qty, n = node, e = epoch, x = expires_at_ms,
-- r = request_id, s = state ('H' held, 'R' released, 'X' expired),
-- t = ended_at_ms, w = join number (offers only)}.
-- A waitlist entry: {s = state ('W' waiting, 'O' offered, 'C' offer
-- confirmed, 'X' offer expired, 'L' left, 'S' skipped: the buyer held or
-- bought the limit when their turn came), q = join number, r = request_id,
-- j = joined_at_ms, o = offer reservation id, x = offer deadline,
-- t = last change}. Times are Redis' clock (TIME), in Unix milliseconds.
local K_META, K_POOL, K_SOLD, K_HELD = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_LEASE, K_EPOCH, K_BUYERS, K_ORDERS = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_STREAM, K_HOLDS, K_DEADLINES = KEYS[9], KEYS[10], KEYS[11]
local K_UHOLDS, K_REQS, K_ENDED = KEYS[12], KEYS[13], KEYS[14]
local K_NHELD = KEYS[15]
local K_LINE, K_LENT, K_LENDED, K_LLOG = KEYS[16], KEYS[17], KEYS[18], KEYS[19]
-- The node that makes offers to the waitlist: no stock node can have this
-- id (node ids starting with '_' are refused).
local LINE_NODE = '_wl'
-- Offers made by one call at most; what is left in the pool is offered by
-- the next call (any busy node's sync runs every few hundred ms).
local LINE_FEED_MAX = 256
-- Offers kept in the llog stream (approximately).
local LLOG_MAX = 100000

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

-- A call that ends many holds keeps the counters they change in an
-- accumulator and writes them once (acc_write): a redis.call costs more
-- than the Lua around it. held: tickets out of `held`; nheld and lease:
-- node -> tickets; pool: tickets to the pool; sold: tickets into `sold`;
-- epochs: node -> epoch read;
-- waiting: the line's length as last read (nil: read it again).
local function acc_new()
  return {held = 0, nheld = {}, lease = {}, pool = 0, sold = 0, epochs = {}}
end

local function acc_write(acc)
  if acc.held ~= 0 then redis.call('DECRBY', K_HELD, acc.held) end
  for node, q in pairs(acc.nheld) do
    if redis.call('HINCRBY', K_NHELD, node, -q) <= 0 then
      redis.call('HDEL', K_NHELD, node)
    end
  end
  for node, q in pairs(acc.lease) do
    redis.call('HINCRBY', K_LEASE, node, q)
  end
  if acc.pool ~= 0 then redis.call('INCRBY', K_POOL, acc.pool) end
  if acc.sold ~= 0 then redis.call('INCRBY', K_SOLD, acc.sold) end
  acc.held, acc.nheld, acc.lease, acc.pool, acc.sold = 0, {}, {}, 0, 0
end

-- Take a live hold out of the indexes (deadlines, the user's list, and
-- unless keep_req its request id) and out of `held` (now, or in acc).
-- Its ticket is the caller's to place.
local function hold_unindex(rid, h, keep_req, acc)
  redis.call('ZREM', K_DEADLINES, rid)
  user_holds_remove(h.u, rid)
  if not keep_req and h.r ~= '' and
     redis.call('HGET', K_REQS, req_key(h.u, h.r)) == rid then
    redis.call('HDEL', K_REQS, req_key(h.u, h.r))
  end
  if acc then
    acc.held = acc.held + h.q
    acc.nheld[h.n] = (acc.nheld[h.n] or 0) + h.q
    return
  end
  redis.call('DECRBY', K_HELD, h.q)
  if redis.call('HINCRBY', K_NHELD, h.n, -h.q) <= 0 then
    redis.call('HDEL', K_NHELD, h.n)
  end
end

-- Every writing script ends here. A broken sum means a bug: the writes
-- cannot be undone (Redis has no rollback), so it is logged and counted in
-- meta.broken, which the audit reports, and the answer stands. total may
-- be passed by a script that read it already.
local function line_waiting()
  return redis.call('ZCARD', K_LINE)
end

-- Tickets a user has in live holds (offers included) and orders.
local function user_tickets(u)
  local q = num(redis.call('HGET', K_BUYERS, u))
  for _, rid in ipairs(user_holds(u)) do
    local h = hold_get(rid)
    if h then q = q + h.q end
  end
  return q
end

local function entry_get(u)
  local v = redis.call('HGET', K_LENT, u)
  if not v then return nil end
  return cjson.decode(v)
end

local function entry_put(u, e)
  redis.call('HSET', K_LENT, u, cjson.encode(e))
  if e.s == 'W' or e.s == 'O' then
    redis.call('ZREM', K_LENDED, u)
  else
    redis.call('ZADD', K_LENDED, e.t, u)
  end
end

-- The waitlist's default cap, when an event has none.
local WAITLIST_MAX_DEFAULT = 100000
-- WaitlistState numbers of the wire protocol.
local ENTRY_STATE = {W = 1, O = 2, C = 3, X = 4, L = 5, S = 6}

-- What a buyer is told about their entry: {created, state, join_number,
-- position (1: next; 0 unless waiting), ahead, offer rid, offer deadline,
-- joined_at_ms, changed_at_ms}. The position is the entry's rank in the
-- line's sorted set: no walk of the line.
local function wl_entry_answer(u, e, created)
  local pos = 0
  if e.s == 'W' then
    local r = redis.call('ZRANK', K_LINE, u)
    if r then pos = r + 1 end
  end
  return {created, ENTRY_STATE[e.s], e.q, pos, pos > 0 and pos - 1 or 0,
    e.o or '', e.x or 0, e.j or 0, e.t or 0}
end

-- An offer ended: its entry says how (state 'C', 'X' or 'L').
local function line_offer_ended(h, state, now)
  local e = entry_get(h.u)
  if not e or e.s ~= 'O' then return end
  e.s, e.t = state, now
  entry_put(h.u, e)
  local count = {C = 'wl_confirmed', X = 'wl_expired', L = 'wl_left'}
  redis.call('HINCRBY', K_META, count[state], 1)
end

local function event_id()
  return string.match(K_META, '^tr:{(.*)}:meta$')
end

-- Tickets of the pool to the buyers at the head of the line, one offer
-- each, strictly in join order: an offer is a hold for one ticket with
-- its own deadline (offer_ms), confirmed like any hold. A buyer who holds
-- or bought the limit meanwhile is skipped. ret: when the ticket came back
-- (logged with the offer). Returns the offers made.
local function feed_line(now, ret)
  local made = 0
  if line_waiting() == 0 then return 0 end
  -- A closed sale makes no new hold, offers included: what comes back
  -- waits in the pool, and the reopen feeds the line.
  if num(redis.call('HGET', K_META, 'closed')) == 1 then return 0 end
  local m = redis.call('HMGET', K_META, 'limit_per_user', 'offer_ms',
    'wl_secret')
  local limit, offer_ms = tonumber(m[1]), tonumber(m[2] or '0') or 0
  if offer_ms <= 0 then
    offer_ms = num(redis.call('HGET', K_META, 'hold_ms'))
  end
  while made < LINE_FEED_MAX and num(redis.call('GET', K_POOL)) > 0 do
    local head = redis.call('ZRANGE', K_LINE, 0, 0, 'WITHSCORES')
    if #head == 0 then break end
    local u, seq = head[1], tonumber(head[2])
    redis.call('ZREM', K_LINE, u)
    local e = entry_get(u) or {q = seq, r = '', j = now}
    if user_tickets(u) + 1 > limit then
      e.s, e.t = 'S', now
      entry_put(u, e)
      redis.call('HINCRBY', K_META, 'wl_skipped', 1)
    else
      local n = redis.call('HINCRBY', K_META, 'wl_offer_seq', 1)
      local rid = LINE_NODE .. '.' ..
        string.sub(redis.sha1hex((m[3] or '') .. ':' .. n), 1, 16) ..
        '.' .. event_id()
      local x = now + offer_ms
      redis.call('DECRBY', K_POOL, 1)
      redis.call('INCRBY', K_HELD, 1)
      redis.call('HINCRBY', K_NHELD, LINE_NODE, 1)
      redis.call('HSET', K_HOLDS, rid, cjson.encode({u = u, q = 1,
        n = LINE_NODE, e = 0, x = x, r = '', s = 'H', t = 0, w = seq}))
      redis.call('ZADD', K_DEADLINES, x, rid)
      local live = user_holds(u)
      live[#live + 1] = rid
      user_holds_set(u, live)
      e.s, e.o, e.x, e.t = 'O', rid, x, now
      entry_put(u, e)
      redis.call('XADD', K_LLOG, 'MAXLEN', '~', LLOG_MAX, '*', 'user', u,
        'seq', seq, 'rid', rid, 'ret_ms', ret, 'offer_ms', now)
      redis.call('HINCRBY', K_META, 'wl_offered', 1)
      made = made + 1
    end
  end
  return made
end

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

-- End a live hold as 'R' or 'X'. Its ticket goes to the waitlist first
-- (an offer to the head of the line), else back to the lease of the node
-- that made it when that node itself ends it (caller) with the epoch the
-- hold was made under, still current; to the pool otherwise. An ended
-- offer passes to the next in line. The record stays as ended until
-- expire_due prunes it. Returns 1 if the ticket went to the caller's
-- lease, else 0. With acc (acc_new), the counters are kept there until
-- acc_write, which the caller runs before the script ends.
local function hold_end(rid, h, state, caller, caller_epoch, now, acc)
  local to_lease = 0
  hold_unindex(rid, h, false, acc)
  h.s, h.t = state, now
  redis.call('HSET', K_HOLDS, rid, cjson.encode(h))
  redis.call('ZADD', K_ENDED, now, rid)
  if h.w then
    if acc then acc.waiting = nil end
    line_offer_ended(h, state == 'X' and 'X' or 'L', now)
  end
  local waiting
  if acc then
    if acc.waiting == nil then acc.waiting = line_waiting() end
    waiting = acc.waiting
  else
    waiting = line_waiting()
  end
  local epoch_now
  if waiting == 0 and caller == h.n and tonumber(caller_epoch) == h.e then
    if acc then
      if acc.epochs[caller] == nil then
        acc.epochs[caller] = num(redis.call('HGET', K_EPOCH, caller))
      end
      epoch_now = acc.epochs[caller]
    else
      epoch_now = num(redis.call('HGET', K_EPOCH, caller))
    end
  end
  if epoch_now == h.e then
    if acc then
      acc.lease[caller] = (acc.lease[caller] or 0) + h.q
    else
      redis.call('HINCRBY', K_LEASE, caller, h.q)
    end
    to_lease = 1
  elseif acc and waiting == 0 then
    -- Nobody waits in the line: nothing to offer.
    acc.pool = acc.pool + h.q
  else
    if acc then
      acc_write(acc)
      acc.waiting = nil
    end
    redis.call('INCRBY', K_POOL, h.q)
    -- An expired hold's ticket came back at its deadline.
    feed_line(now, state == 'X' and h.x or now)
  end
  return to_lease
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
  local acc = acc_new()
  for _, rid in ipairs(due) do
    local h = hold_get(rid)
    if h and h.s == 'H' then
      hold_end(rid, h, 'X', '', 0, now, acc)
      n = n + 1
    else
      redis.call('ZREM', K_DEADLINES, rid) -- cannot happen; keep it clean
    end
  end
  acc_write(acc)
  return n
end
