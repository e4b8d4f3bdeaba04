-- sync: ARGV node grace_ms limit
-- What a node needs each sync of an event it is busy with: the global
-- figures and its own epoch, lease and held tickets as the coordinator has
-- them (Redis is the truth both ways). On the way it ends up to `limit`
-- holds more than grace_ms overdue, whoever made them, so an event that
-- some node is busy with never keeps a dead or forgotten hold.
-- -> {pool, sold, epoch, lease, total, held, node_held, expired, closed}
local meta = redis.call('HMGET', K_META, 'total', 'closed')
local total = meta[1]
if not total then return redis.error_reply('TR_NOEVENT') end
local expired = expire_overdue(now_ms(), tonumber(ARGV[2]), tonumber(ARGV[3]))
if expired > 0 then check_conservation(tonumber(total)) end
return {num(redis.call('GET', K_POOL)), num(redis.call('GET', K_SOLD)),
  num(redis.call('HGET', K_EPOCH, ARGV[1])),
  num(redis.call('HGET', K_LEASE, ARGV[1])), tonumber(total),
  num(redis.call('GET', K_HELD)), num(redis.call('HGET', K_NHELD, ARGV[1])),
  expired, num(meta[2])}
