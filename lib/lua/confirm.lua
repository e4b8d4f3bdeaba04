-- confirm: ARGV node rid user payment_ref event_id
-- Pay for a hold, through any node (`node` is the one asking; the order
-- names the node that made the hold). The hold's record decides: it must be
-- the user's, live, and not past its deadline by Redis' clock. Its tickets
-- move from `held` to `sold`; the order is written and appended to the
-- stream. No epoch is needed: a held ticket is in no node's lease.
-- Repeated: the existing order, created 0; the caller compares payment_ref.
-- -> {created (1|0), confirmed_at_ms, payment_ref, user, qty, node}
--    TR_NOTFOUND, TR_NOT_OWNER, TR_EXPIRED, TR_RELEASED, TR_LIMIT,
--    TR_NOEVENT.
local rid, u, ref = ARGV[2], ARGV[3], ARGV[4]
local function answer(created, o)
  return {created, o.confirmed_at_ms, o.payment_ref, o.user, o.qty, o.node}
end
local o = order_get(rid)
if o then
  if o.user ~= u then
    return redis.error_reply('TR_NOT_OWNER reservation belongs to another user')
  end
  return answer(0, o)
end
local limit = redis.call('HGET', K_META, 'limit_per_user')
if not limit then return redis.error_reply('TR_NOEVENT') end
local h = hold_get(rid)
if not h then return redis.error_reply('TR_NOTFOUND no such reservation') end
if h.u ~= u then
  return redis.error_reply('TR_NOT_OWNER reservation belongs to another user')
end
if h.s == 'R' then
  return redis.error_reply('TR_RELEASED reservation was released')
end
local now = now_ms()
if h.s == 'X' or h.x <= now then
  return redis.error_reply('TR_EXPIRED reservation expired')
end
if num(redis.call('HGET', K_BUYERS, u)) + h.q > tonumber(limit) then
  return redis.error_reply('TR_LIMIT user already bought the limit')
end
hold_unindex(rid, h)
redis.call('HDEL', K_HOLDS, rid)
redis.call('INCRBY', K_SOLD, h.q)
redis.call('HINCRBY', K_BUYERS, u, h.q)
o = {order_id = rid, event = ARGV[5], user = u, qty = h.q, payment_ref = ref,
  node = h.n, confirmed_at_ms = now, request_id = h.r}
redis.call('HSET', K_ORDERS, rid, cjson.encode(o))
-- the request id now names the order, for a late retry of the reservation
if h.r ~= '' then redis.call('HSET', K_REQS, req_key(u, h.r), rid) end
redis.call('XADD', K_STREAM, '*', 'order_id', rid, 'event', ARGV[5],
  'user', u, 'qty', h.q, 'payment_ref', ref, 'node', h.n,
  'confirmed_at_ms', now)
check_conservation()
return answer(1, o)
