-- wl_join: ARGV user request_id secret
-- Join the event's waitlist (候补). Joining again while waiting or offered
-- is the same entry, whatever the request id. A buyer whose live holds
-- plus orders reach the limit cannot join (DUPLICATE naming a live hold,
-- or LIMIT); past the line's cap, WAITLIST_FULL. A ticket already in the
-- pool is offered at once (the joiner may be first in line). secret
-- (random, from the node) is kept only if the event has none yet.
-- -> entry answer (see wl_entry_answer) with created 1|0 first;
--    TR_NOEVENT, TR_DUPLICATE <rid>, TR_LIMIT, TR_WAITLIST_FULL <cap>.
local u, r = ARGV[1], ARGV[2]
local m = redis.call('HMGET', K_META, 'limit_per_user', 'waitlist_max')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local limit, cap = tonumber(m[1]), tonumber(m[2] or '0') or 0
if cap <= 0 then cap = WAITLIST_MAX_DEFAULT end
redis.call('HSETNX', K_META, 'wl_secret', ARGV[3])
local now = now_ms()
local e = entry_get(u)
if e and (e.s == 'W' or e.s == 'O') then return wl_entry_answer(u, e, 0) end
if user_tickets(u) + 1 > limit then
  local live = user_holds(u)
  if #live > 0 then
    return redis.error_reply('TR_DUPLICATE ' .. live[1])
  end
  return redis.error_reply('TR_LIMIT user already bought the limit')
end
if line_waiting() >= cap then
  return redis.error_reply('TR_WAITLIST_FULL ' .. cap)
end
local seq = redis.call('HINCRBY', K_META, 'wl_seq', 1)
e = {s = 'W', q = seq, r = r, j = now, o = '', x = 0, t = now}
entry_put(u, e)
redis.call('ZADD', K_LINE, seq, u)
redis.call('HINCRBY', K_META, 'wl_joined', 1)
if feed_line(now, now) > 0 then check_conservation() end
return wl_entry_answer(u, entry_get(u), 1)
