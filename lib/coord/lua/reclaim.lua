-- reclaim: ARGV node grace_ms limit epoch
-- The sweeper, for an event in a dead node's index: the node's lease goes
-- back to the pool (to the waitlist first), its lease entry is removed and
-- its epoch moves on, so its old incarnation is fenced. Its holds are left
-- alone (they stay confirmable until they expire), but those more than
-- grace_ms overdue end now, any node's, up to `limit`.
--
-- Why it is safe without reading the node's liveness key here (that key
-- is outside the event's slot: a script on a Redis Cluster may not touch
-- it): the sweeper reads the node's epoch in this event (`epoch`), THEN
-- finds the node's liveness key gone, then calls this script, which does
-- nothing unless the epoch is still `epoch`. A node registers in an event
-- (which moves its epoch on) only under a granted liveness claim. So:
-- - a node that came back and registered after the sweeper read the epoch
--   keeps its new lease (refused here: the epoch moved);
-- - otherwise the lease was granted under a claim that has lapsed since
--   (the sweeper saw the key gone after it read the epoch): the node sells
--   only until 0.8 TTL after its last good heartbeat, and whatever it
--   still sends under `epoch` is refused as FENCED once this script moved
--   the epoch on. The same incarnation reconnecting in the milliseconds
--   between the sweeper's look and this call (without a register) loses
--   its lease to the pool: its next call is FENCED and it registers again.
--   Tickets are never lost nor sold twice: the hold script checks epoch
--   and lease atomically.
-- -> {reclaimed (1|0), tickets_returned, node_held_left, has_lease_entry}
--    {0, 0, -1, -1} when the epoch moved (the node is back).
local node = ARGV[1]
if num(redis.call('HGET', K_EPOCH, node)) ~= tonumber(ARGV[4]) then
  return {0, 0, -1, -1}
end
if not event_exists() then return {0, 0, 0, 0} end
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
