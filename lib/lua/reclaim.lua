-- reclaim: ARGV node ; KEYS[15] that node's liveness key
-- If the node's liveness key is gone (checked here, atomically with the
-- reclaim), its lease goes back to the pool, its lease entry is removed
-- (dead and empty) and its epoch moves on, so its old incarnation is fenced.
-- Its holds are left alone: they stay confirmable until they expire.
-- -> {reclaimed (1|0), tickets_returned}
if redis.call('EXISTS', KEYS[15]) == 1 then return {0, 0} end
if redis.call('HEXISTS', K_LEASE, ARGV[1]) == 0 then return {0, 0} end
local lease = num(redis.call('HGET', K_LEASE, ARGV[1]))
if lease > 0 then redis.call('INCRBY', K_POOL, lease) end
redis.call('HDEL', K_LEASE, ARGV[1])
redis.call('HINCRBY', K_EPOCH, ARGV[1], 1)
check_conservation()
return {1, lease}
