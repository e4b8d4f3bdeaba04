-- reclaim: ARGV node grace_ms limit ; K_EXTRA that node's liveness key
-- The sweeper, for an event in a dead node's index. If the node's liveness
-- key is gone (checked here, atomically), its lease goes back to the pool
-- (to the waitlist first), its lease entry is removed and its epoch moves
-- on, so its old incarnation is fenced. Its holds are left alone (they
-- stay confirmable until they expire), but those more than grace_ms
-- overdue end now, any node's, up to `limit`.
-- -> {reclaimed (1|0), tickets_returned, node_held_left, has_lease_entry}
--    {0, 0, -1, -1} while the node is alive.
if redis.call('EXISTS', K_EXTRA) == 1 then return {0, 0, -1, -1} end
if not event_exists() then return {0, 0, 0, 0} end
local node = ARGV[1]
local now = now_ms()
local reclaimed, lease = 0, 0
if redis.call('HEXISTS', K_LEASE, node) == 1 then
  lease = num(redis.call('HGET', K_LEASE, node))
  if lease > 0 then
    redis.call('INCRBY', K_POOL, lease)
    feed_line(now, now)
  end
  redis.call('HDEL', K_LEASE, node)
  redis.call('HINCRBY', K_EPOCH, node, 1)
  reclaimed = 1
end
local expired = expire_overdue(now, tonumber(ARGV[2]), tonumber(ARGV[3]))
if reclaimed == 1 or expired > 0 then check_conservation() end
return {reclaimed, lease, num(redis.call('HGET', K_NHELD, node)), 0}
