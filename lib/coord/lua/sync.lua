-- sync: ARGV node grace_ms limit
-- What a node needs each sync of an event it is busy with: the global
-- figures and its own epoch, lease and held tickets as the coordinator has
-- them (Redis is the truth both ways), and the waitlist's length and live
-- offers (a node stays busy with an event that has either, and gives its
-- free lease back while buyers wait). On the way it ends up to `limit`
-- holds more than grace_ms overdue, whoever made them (an offer that
-- expired passes to the next in line), and offers what is in the pool to
-- the line, so an event that some node is busy with never keeps a dead or
-- forgotten hold, nor a ticket in the pool while buyers wait.
-- -> {pool, sold, epoch, lease, total, held, node_held, expired, line,
--     offers, closed}
local meta = redis.call('HMGET', K_META, 'total', 'closed')
local total = meta[1]
if not total then return redis.error_reply('TR_NOEVENT') end
local now = now_ms()
local expired = expire_overdue(now, tonumber(ARGV[2]), tonumber(ARGV[3]))
local offered = feed_line(now, now)
if expired > 0 or offered > 0 then check_conservation(tonumber(total)) end
return {num(redis.call('GET', K_POOL)), num(redis.call('GET', K_SOLD)),
  num(redis.call('HGET', K_EPOCH, ARGV[1])),
  num(redis.call('HGET', K_LEASE, ARGV[1])), tonumber(total),
  num(redis.call('GET', K_HELD)), num(redis.call('HGET', K_NHELD, ARGV[1])),
  expired, line_waiting(), num(redis.call('HGET', K_NHELD, LINE_NODE)),
  num(meta[2])}
