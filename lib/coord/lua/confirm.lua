-- confirm: ARGV node event_id count, then count items of
-- (rid user payment_ref)
-- Pay for holds, through any node (`node` is the one asking; an order names
-- the node that made the hold), in one call. Per item, the hold's record
-- decides: it must be the user's, live, and not past its deadline by
-- Redis' clock. Its tickets move from `held` to `sold`; the order is
-- written and appended to the stream. No epoch is needed: a held ticket is
-- in no node's lease. Repeated: the existing order, created 0 (its record
-- written again unchanged, see below); the caller compares payment_ref
-- (another one is a double payment).
-- -> {now_ms, item...}: item {1, created (1|0), confirmed_at_ms,
--    payment_ref, user, qty, node} or {0, 'TR_<code> message'} with code
--    NOTFOUND, NOT_OWNER, EXPIRED, RELEASED, LIMIT. TR_NOEVENT for the
--    whole call.
local event, count = ARGV[2], tonumber(ARGV[3])
local m = redis.call('HMGET', K_META, 'limit_per_user', 'total')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local limit, total = tonumber(m[1]), tonumber(m[2])
local now = now_ms()
local out = {now}
local wrote = false
-- held, nheld and sold are written once per call (acc_write).
local acc = acc_new()

local function order_answer(created, o)
  return {1, created, o.confirmed_at_ms, o.payment_ref, o.user, o.qty, o.node}
end

local function confirm_one(rid, u, ref)
  local o = order_get(rid)
  if o then
    if o.user ~= u then
      return {0, 'TR_NOT_OWNER reservation belongs to another user'}
    end
    -- Written again as it is: a write, so that a WAIT after this call (a
    -- confirm retried until replicas have it, --confirm-replicas) waits
    -- for the order's replication even on a new connection, whose own
    -- replication offset starts at 0 (a WAIT after no write returns at
    -- once).
    redis.call('HSET', K_ORDERS, rid, redis.call('HGET', K_ORDERS, rid))
    return order_answer(0, o)
  end
  local h = hold_get(rid)
  if not h then return {0, 'TR_NOTFOUND no such reservation'} end
  if h.u ~= u then
    return {0, 'TR_NOT_OWNER reservation belongs to another user'}
  end
  if h.s == 'R' then return {0, 'TR_RELEASED reservation was released'} end
  if h.s == 'X' or h.x <= now then
    return {0, 'TR_EXPIRED reservation expired'}
  end
  if num(redis.call('HGET', K_BUYERS, u)) + h.q > limit then
    return {0, 'TR_LIMIT user already bought the limit'}
  end
  -- The request id keeps naming this reservation, now the order, for a
  -- late retry of the reservation.
  hold_unindex(rid, h, true, acc)
  redis.call('HDEL', K_HOLDS, rid)
  if h.w then line_offer_ended(h, 'C', now) end
  acc.sold = acc.sold + h.q
  redis.call('HINCRBY', K_BUYERS, u, h.q)
  o = {order_id = rid, event = event, user = u, qty = h.q,
    payment_ref = ref, node = h.n, confirmed_at_ms = now, request_id = h.r}
  redis.call('HSET', K_ORDERS, rid, cjson.encode(o))
  redis.call('XADD', K_STREAM, '*', 'order_id', rid, 'event', event,
    'user', u, 'qty', h.q, 'payment_ref', ref, 'node', h.n,
    'confirmed_at_ms', now)
  wrote = true
  return order_answer(1, o)
end

for i = 0, count - 1 do
  out[#out + 1] = confirm_one(ARGV[4 + i * 3], ARGV[5 + i * 3],
    ARGV[6 + i * 3])
end
acc_write(acc)
if wrote then check_conservation(total) end
return out
