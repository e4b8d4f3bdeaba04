-- refund: ARGV rid user
-- The order's owner returns a paid ticket. The order stays, marked
-- refunded (refunding twice is one refund); a refund entry goes to the
-- order stream; the tickets leave `sold` and the buyer's count, and come
-- back to the waitlist first, else the pool. A retry of the original
-- reservation's request id no longer finds it.
-- -> {created (1|0), refunded_at_ms, qty, confirmed_at_ms, payment_ref,
--    node} ; TR_NOTFOUND, TR_NOT_OWNER, TR_NOT_PAID (a live or ended hold).
local rid, u = ARGV[1], ARGV[2]
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local o = order_get(rid)
if not o then
  if hold_get(rid) then
    return redis.error_reply('TR_NOT_PAID reservation is not paid')
  end
  return redis.error_reply('TR_NOTFOUND no such order')
end
if o.user ~= u then
  return redis.error_reply('TR_NOT_OWNER order belongs to another user')
end
if o.refunded_at_ms then
  return {0, o.refunded_at_ms, o.qty, o.confirmed_at_ms, o.payment_ref,
    o.node}
end
local now = now_ms()
o.refunded_at_ms = now
redis.call('HSET', K_ORDERS, rid, cjson.encode(o))
redis.call('DECRBY', K_SOLD, o.qty)
if redis.call('HINCRBY', K_BUYERS, u, -o.qty) <= 0 then
  redis.call('HDEL', K_BUYERS, u)
end
if o.request_id and o.request_id ~= '' and
   redis.call('HGET', K_REQS, req_key(u, o.request_id)) == rid then
  redis.call('HDEL', K_REQS, req_key(u, o.request_id))
end
redis.call('XADD', K_STREAM, '*', 'refund_of', rid, 'event', o.event,
  'user', u, 'qty', o.qty, 'refunded_at_ms', now)
redis.call('HINCRBY', K_META, 'refunded', o.qty)
redis.call('INCRBY', K_POOL, o.qty)
feed_line(now, now)
check_conservation()
return {1, now, o.qty, o.confirmed_at_ms, o.payment_ref, o.node}
