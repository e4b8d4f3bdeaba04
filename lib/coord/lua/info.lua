-- info: no ARGV. Read only: an event's settings and global figures, for
-- listings.
-- -> {total, limit_per_user, hold_ms, opens_at_ms, pool, sold, held}
local m = redis.call('HMGET', K_META, 'total', 'limit_per_user', 'hold_ms',
  'opens_at_ms')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local c = redis.call('MGET', K_POOL, K_SOLD, K_HELD)
return {tonumber(m[1]), tonumber(m[2]), tonumber(m[3]), tonumber(m[4]),
  num(c[1]), num(c[2]), num(c[3])}
