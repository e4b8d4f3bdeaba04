-- close: ARGV closed (1 close the sale, 0 reopen it)
-- While meta.closed is 1 the hold script records no new hold of the event
-- (CLOSED); confirms, releases and expiry go on, so holds made before stay
-- confirmable until their deadline. Nodes learn the flag when they sync
-- or register the event, and from the hold script's answers. The waitlist
-- gets no offer while closed; reopening feeds it what came back meanwhile.
-- -> {changed (1|0), total, pool, sold, held} ; TR_NOEVENT ; TR_INVALID.
local m = redis.call('HMGET', K_META, 'total', 'closed')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
if ARGV[1] ~= '0' and ARGV[1] ~= '1' then
  return redis.error_reply('TR_INVALID closed must be 0 or 1')
end
local want = tonumber(ARGV[1])
local changed = 0
if num(m[2]) ~= want then
  redis.call('HSET', K_META, 'closed', want)
  changed = 1
  -- Reopened: what came back while closed goes to the line first.
  if want == 0 then
    local now = now_ms()
    feed_line(now, now)
  end
end
check_conservation(tonumber(m[1]))
local c = redis.call('MGET', K_POOL, K_SOLD, K_HELD)
return {changed, tonumber(m[1]), num(c[1]), num(c[2]), num(c[3])}
