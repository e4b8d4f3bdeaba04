-- hold: ARGV node epoch count, then count items of (rid user qty request_id)
-- Record the reservations a node admitted from its lease, in one call. Per
-- item, in order:
--   the (user, request_id) already names a live hold or an order: that one
--     (a retry, on whichever node it lands);
--   the sale is closed (meta.closed, the close script): CLOSED;
--   the user's live holds plus orders would pass limit_per_user: DUPLICATE
--     with the user's oldest live hold, or LIMIT when all are paid;
--   the sale has not opened by Redis' clock: NOT_OPEN;
--   the node's lease has fewer than qty: NO_LEASE (its books were off);
--   buyers wait in the waitlist: the lease's qty tickets go to them
--     (offers, in join order), and the reservation is WAITLIST (sold out
--     to this buyer: returned tickets go to the line first);
--   else qty moves from the node's lease to `held` and the hold is written,
--     with its deadline by Redis' clock, indexed by user, request id and
--     deadline.
-- -> {now_ms, {status, rid, qty, state, expires_at_ms}...} with status
--    1 created, 2 existing, 3 duplicate, 4 limit, 5 not open, 6 no lease,
--    7 waitlist, 8 closed.
--    TR_NOEVENT, or TR_FENCED <epoch> for the whole call.
local node, epoch, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local m = redis.call('HMGET', K_META, 'limit_per_user', 'hold_ms',
  'opens_at_ms', 'total', 'closed')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local f = fenced(node, epoch)
if f then return f end
local limit, hold_ms, opens = tonumber(m[1]), tonumber(m[2]), tonumber(m[3])
local closed = num(m[5]) == 1
local now = now_ms()
local out = {now}
local wrote = false
-- The lease and the line are read once, and the counters written once per
-- call (a redis.call costs more than the Lua around it): `lease` is what
-- the node's lease has left, `taken` what this call's holds took of it so
-- far, not yet written.
local lease = num(redis.call('HGET', K_LEASE, node))
local taken = 0
local waiting = line_waiting()
local function write_taken()
  if taken == 0 then return end
  redis.call('HINCRBY', K_LEASE, node, -taken)
  redis.call('INCRBY', K_HELD, taken)
  redis.call('HINCRBY', K_NHELD, node, taken)
  taken = 0
end
for i = 0, count - 1 do
  local rid, u = ARGV[4 + i * 4], ARGV[5 + i * 4]
  local q, r = tonumber(ARGV[6 + i * 4]), ARGV[7 + i * 4]
  local res = nil
  if r ~= '' then
    local prev = redis.call('HGET', K_REQS, req_key(u, r))
    if prev then
      local o = order_get(prev)
      if o then
        res = {2, prev, o.qty, CONFIRMED, 0}
      else
        local h = hold_get(prev)
        if h and h.s == 'H' then res = {2, prev, h.q, HELD, h.x} end
      end
    end
  end
  if not res and closed then
    res = {8, '', 0, 0, 0}
  end
  if not res then
    local live, live_qty = user_holds(u), 0
    for _, lr in ipairs(live) do
      local h = hold_get(lr)
      if h then live_qty = live_qty + h.q end
    end
    if live_qty + num(redis.call('HGET', K_BUYERS, u)) + q > limit then
      if #live > 0 then
        local h = hold_get(live[1])
        res = {3, live[1], h and h.q or 0, HELD, h and h.x or 0}
      else
        res = {4, '', 0, 0, 0}
      end
    elseif opens > 0 and now < opens then
      res = {5, '', 0, 0, 0}
    elseif lease < q then
      res = {6, '', 0, 0, 0}
    elseif waiting > 0 then
      write_taken()
      redis.call('HINCRBY', K_LEASE, node, -q)
      lease = lease - q
      redis.call('INCRBY', K_POOL, q)
      feed_line(now, now)
      waiting = line_waiting()
      wrote = true
      res = {7, '', 0, 0, 0}
    else
      local x = now + hold_ms
      lease = lease - q
      taken = taken + q
      redis.call('HSET', K_HOLDS, rid, cjson.encode({u = u, q = q, n = node,
        e = epoch, x = x, r = r, s = 'H', t = 0}))
      redis.call('ZADD', K_DEADLINES, x, rid)
      live[#live + 1] = rid
      user_holds_set(u, live)
      if r ~= '' then redis.call('HSET', K_REQS, req_key(u, r), rid) end
      wrote = true
      res = {1, rid, q, HELD, x}
    end
  end
  out[#out + 1] = res
end
write_taken()
if wrote then check_conservation(tonumber(m[4])) end
return out
