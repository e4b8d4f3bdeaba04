-- expire: ARGV node epoch count rid...
-- The node that made these holds ends those past their deadline by Redis'
-- clock; their tickets go back to its lease (its epoch still current) or to
-- the pool. The others are answered as they are.
-- -> {now_ms, {state, to_lease, time, payment_ref}...}: state HELD with
--    time = its deadline (not due yet by Redis' clock), CONFIRMED with
--    time = confirmed_at_ms and the order's payment_ref, RELEASED or
--    EXPIRED (to_lease 1 if this call put the ticket in the caller's
--    lease), or 0 if unknown.
local node, epoch, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local out = {now}
local wrote = false
local acc = acc_new()
for i = 1, count do
  local rid = ARGV[3 + i]
  local h = hold_get(rid)
  if h and h.s == 'H' and h.x > now then
    out[#out + 1] = {HELD, 0, h.x, ''}
  elseif h and h.s == 'H' then
    local to_lease = hold_end(rid, h, 'X', node, epoch, now, acc)
    wrote = true
    out[#out + 1] = {EXPIRED, to_lease, now, ''}
  elseif h then
    out[#out + 1] = {STATE_OF[h.s], 0, h.t, ''}
  else
    local o = order_get(rid)
    if o then
      out[#out + 1] = {CONFIRMED, 0, o.confirmed_at_ms, o.payment_ref}
    else
      out[#out + 1] = {0, 0, 0, ''}
    end
  end
end
acc_write(acc)
if wrote then check_conservation() end
return out
