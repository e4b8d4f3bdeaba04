-- wl_show: ARGV count
-- Read only: the waitlist of an event for operators: its length, the
-- offers live, the counts since the event was created, and the first
-- `count` buyers in line.
-- -> {waiting, offers_live, joined, offered, confirmed, expired, left,
--     skipped, cap, {{user, join_number, joined_at_ms}...}}
local m = redis.call('HMGET', K_META, 'wl_joined', 'wl_offered',
  'wl_confirmed', 'wl_expired', 'wl_left', 'wl_skipped', 'waitlist_max')
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local cap = num(m[7])
if cap <= 0 then cap = WAITLIST_MAX_DEFAULT end
local head = {}
local h = redis.call('ZRANGE', K_LINE, 0, tonumber(ARGV[1]) - 1,
  'WITHSCORES')
for i = 1, #h, 2 do
  local e = entry_get(h[i])
  head[#head + 1] = {h[i], tonumber(h[i + 1]), e and e.j or 0}
end
return {line_waiting(), num(redis.call('HGET', K_NHELD, LINE_NODE)),
  num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), num(m[6]), cap,
  head}
