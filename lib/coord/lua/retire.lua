-- retire: ARGV node epoch
-- A node stops: whatever Redis says its lease holds goes back to the pool
-- and its lease entry is removed. Its holds stay confirmable until they
-- expire. A fenced node has nothing to give: its lease was reclaimed.
-- -> {returned}
if redis.call('HEXISTS', K_LEASE, ARGV[1]) == 0 then return {0} end
if num(redis.call('HGET', K_EPOCH, ARGV[1])) ~= tonumber(ARGV[2]) then
  return {0}
end
local lease = num(redis.call('HGET', K_LEASE, ARGV[1]))
if lease > 0 then redis.call('INCRBY', K_POOL, lease) end
redis.call('HDEL', K_LEASE, ARGV[1])
check_conservation()
return {lease}
