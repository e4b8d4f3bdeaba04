-- audit: no ARGV. A consistent snapshot of the whole ledger (one script, so
-- no write lands between the reads), with the counts the checks need.
-- -> {total, limit, pool, sold, held, lease_sum, {{node, lease, epoch}...},
--     buyers_sum, buyers_count, max_per_user, users_over_limit,
--     orders_count, orders_qty, stream_len, negative_values,
--     buyer_order_mismatches, live_holds, live_qty, holds_unindexed,
--     index_dangling, broken, refunds, line_waiting, offers_live,
--     line_bad, offers_out_of_order}
-- max_per_user and users_over_limit count live holds (offers included)
-- plus orders not refunded. orders_count counts every order, orders_qty
-- the tickets of those not refunded; the stream has an entry per order
-- and per refund. line_bad: waitlist entries that disagree with the line
-- or with their offer; offers_out_of_order: offers (in the llog stream)
-- whose join number is not above the one before.
local m = redis.call('HMGET', K_META, 'total', 'limit_per_user', 'broken')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local total, limit = tonumber(m[1]), tonumber(m[2])
local pool, sold = num(redis.call('GET', K_POOL)), num(redis.call('GET', K_SOLD))
local held = num(redis.call('GET', K_HELD))
local negative = 0
for _, v in ipairs({pool, sold, held}) do
  if v < 0 then negative = negative + 1 end
end
local nodes, lease_sum = {}, 0
local l = redis.call('HGETALL', K_LEASE)
for i = 1, #l, 2 do
  local v = tonumber(l[i + 1])
  if v < 0 then negative = negative + 1 end
  lease_sum = lease_sum + v
  nodes[#nodes + 1] = {l[i], v, num(redis.call('HGET', K_EPOCH, l[i]))}
end

-- per user: tickets in live holds and tickets bought
local per_user = {}
local function add(u, q)
  per_user[u] = (per_user[u] or 0) + q
end

-- live holds and their indexes (the per-node counts too)
local live, live_qty, unindexed = 0, 0, 0
local node_held = {}
local hs = redis.call('HGETALL', K_HOLDS)
for i = 1, #hs, 2 do
  local rid, h = hs[i], cjson.decode(hs[i + 1])
  if h.s == 'H' then
    live = live + 1
    live_qty = live_qty + h.q
    add(h.u, h.q)
    node_held[h.n] = (node_held[h.n] or 0) + h.q
    local listed = false
    for _, r in ipairs(user_holds(h.u)) do
      if r == rid then listed = true end
    end
    local x = redis.call('ZSCORE', K_DEADLINES, rid)
    if not listed or not x or tonumber(x) ~= h.x or (h.r ~= '' and
       redis.call('HGET', K_REQS, req_key(h.u, h.r)) ~= rid) then
      unindexed = unindexed + 1
    end
  end
end
local dangling = 0
local nh = redis.call('HGETALL', K_NHELD)
for i = 1, #nh, 2 do
  if (node_held[nh[i]] or 0) ~= tonumber(nh[i + 1]) then
    unindexed = unindexed + 1
  end
  node_held[nh[i]] = nil
end
for n, q in pairs(node_held) do unindexed = unindexed + 1 end
for _, rid in ipairs(redis.call('ZRANGE', K_DEADLINES, 0, -1)) do
  local h = hold_get(rid)
  if not h or h.s ~= 'H' then dangling = dangling + 1 end
end
local uh = redis.call('HGETALL', K_UHOLDS)
for i = 1, #uh, 2 do
  for rid in string.gmatch(uh[i + 1], '%S+') do
    local h = hold_get(rid)
    if not h or h.s ~= 'H' or h.u ~= uh[i] then dangling = dangling + 1 end
  end
end

-- orders against buyers
local bsum, bcount = 0, 0
local b = redis.call('HGETALL', K_BUYERS)
for i = 2, #b, 2 do
  local v = tonumber(b[i])
  bsum = bsum + v
  bcount = bcount + 1
  if v < 0 then negative = negative + 1 end
end
local ocount, oqty, ordered, refunds = 0, 0, {}, 0
local o = redis.call('HGETALL', K_ORDERS)
for i = 2, #o, 2 do
  local ord = cjson.decode(o[i])
  ocount = ocount + 1
  if ord.refunded_at_ms then
    refunds = refunds + 1
  else
    oqty = oqty + ord.qty
    ordered[ord.user] = (ordered[ord.user] or 0) + ord.qty
    add(ord.user, ord.qty)
  end
end
local mismatch = 0
for i = 1, #b, 2 do
  if (ordered[b[i]] or 0) ~= tonumber(b[i + 1]) then mismatch = mismatch + 1 end
end
for u, q in pairs(ordered) do
  if not redis.call('HGET', K_BUYERS, u) then mismatch = mismatch + 1 end
end

local max_per_user, over = 0, 0
for u, q in pairs(per_user) do
  if q > max_per_user then max_per_user = q end
  if q > limit then over = over + 1 end
end
-- the waitlist: every buyer in line is waiting under their join number;
-- every offered entry has its live offer, and every live offer its entry
local line_bad, offers_live = 0, 0
local ln = redis.call('ZRANGE', K_LINE, 0, -1, 'WITHSCORES')
for i = 1, #ln, 2 do
  local e = entry_get(ln[i])
  if not e or e.s ~= 'W' or e.q ~= tonumber(ln[i + 1]) then
    line_bad = line_bad + 1
  end
end
for i = 1, #hs, 2 do
  local rid, h = hs[i], cjson.decode(hs[i + 1])
  if h.s == 'H' and h.n == LINE_NODE then
    offers_live = offers_live + 1
    local e = entry_get(h.u)
    if not e or e.s ~= 'O' or e.o ~= rid or h.q ~= 1 then
      line_bad = line_bad + 1
    end
  end
end
local le = redis.call('HGETALL', K_LENT)
for i = 1, #le, 2 do
  local e = cjson.decode(le[i + 1])
  if e.s == 'W' and not redis.call('ZSCORE', K_LINE, le[i]) then
    line_bad = line_bad + 1
  elseif e.s == 'O' then
    local h = hold_get(e.o)
    if not h or h.s ~= 'H' or h.u ~= le[i] then line_bad = line_bad + 1 end
  end
end
local out_of_order, last = 0, 0
for _, entry in ipairs(redis.call('XRANGE', K_LLOG, '-', '+')) do
  local f = entry[2]
  for j = 1, #f, 2 do
    if f[j] == 'seq' then
      local seq = tonumber(f[j + 1])
      if seq <= last then out_of_order = out_of_order + 1 end
      last = seq
    end
  end
end

return {total, limit, pool, sold, held, lease_sum, nodes, bsum, bcount,
  max_per_user, over, ocount, oqty, redis.call('XLEN', K_STREAM), negative,
  mismatch, live, live_qty, unindexed, dangling, num(m[3]), refunds,
  line_waiting(), offers_live, line_bad, out_of_order}
