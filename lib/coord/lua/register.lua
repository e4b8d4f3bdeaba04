-- register: ARGV node
-- A node process starts selling an event (or starts again after it was
-- fenced). Whatever an earlier incarnation of this node id still had in its
-- lease goes back to the pool, and the epoch moves on, so anything the old
-- incarnation still sends is refused. Holds are left alone: they stay
-- confirmable until they expire.
-- -> {epoch, returned_to_pool, total, limit_per_user, hold_ms, opens_at_ms,
--     pool, sold, held, node_held, closed}
local m = redis.call('HMGET', K_META, 'total', 'limit_per_user', 'hold_ms',
  'opens_at_ms', 'closed')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local old = num(redis.call('HGET', K_LEASE, ARGV[1]))
if old > 0 then redis.call('INCRBY', K_POOL, old) end
redis.call('HSET', K_LEASE, ARGV[1], 0)
local ep = redis.call('HINCRBY', K_EPOCH, ARGV[1], 1)
check_conservation()
return {ep, old, tonumber(m[1]), tonumber(m[2]), tonumber(m[3]),
  tonumber(m[4]), num(redis.call('GET', K_POOL)),
  num(redis.call('GET', K_SOLD)), num(redis.call('GET', K_HELD)),
  num(redis.call('HGET', K_NHELD, ARGV[1])), num(m[5])}
