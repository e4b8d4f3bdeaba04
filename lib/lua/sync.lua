-- sync: ARGV node
-- What a node needs each sync: the global figures and its own epoch and
-- lease as the coordinator has them (Redis is the truth both ways).
-- -> {pool, sold, epoch, lease, total, held}
local total = redis.call('HGET', K_META, 'total')
if not total then return redis.error_reply('TR_NOEVENT') end
return {num(redis.call('GET', K_POOL)), num(redis.call('GET', K_SOLD)),
  num(redis.call('HGET', K_EPOCH, ARGV[1])),
  num(redis.call('HGET', K_LEASE, ARGV[1])), tonumber(total),
  num(redis.call('GET', K_HELD))}
