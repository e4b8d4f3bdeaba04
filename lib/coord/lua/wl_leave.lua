-- wl_leave: ARGV user
-- Leave the waitlist. A waiting buyer leaves the line; an offered one
-- gives the offer back (its ticket goes to the next in line). An entry that
-- already ended is answered as it is (leaving twice is one leave).
-- -> entry answer (see wl_entry_answer), created 0; TR_NOTFOUND.
local u = ARGV[1]
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local e = entry_get(u)
if not e then return redis.error_reply('TR_NOTFOUND not in the waitlist') end
local now = now_ms()
if e.s == 'W' then
  redis.call('ZREM', K_LINE, u)
  e.s, e.t = 'L', now
  entry_put(u, e)
  redis.call('HINCRBY', K_META, 'wl_left', 1)
elseif e.s == 'O' then
  local h = hold_get(e.o)
  if h and h.s == 'H' then
    hold_end(e.o, h, 'R', '', 0, now) -- the entry becomes 'L'
    check_conservation()
  end
  e = entry_get(u)
end
return wl_entry_answer(u, e, 0)
