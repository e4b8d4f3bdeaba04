-- give_back: ARGV node epoch n
-- Give n free tickets of the node's lease back to the pool (to the
-- waitlist first).
-- -> {lease_left, pool} ; TR_INVALID if n exceeds the lease, TR_FENCED.
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local f = fenced(ARGV[1], ARGV[2])
if f then return f end
local n = tonumber(ARGV[3])
local lease = num(redis.call('HGET', K_LEASE, ARGV[1]))
if n < 0 or n > lease then
  return redis.error_reply('TR_INVALID give back ' .. n .. ' of a lease of '
    .. lease)
end
redis.call('HINCRBY', K_LEASE, ARGV[1], -n)
redis.call('INCRBY', K_POOL, n)
local now = now_ms()
feed_line(now, now)
check_conservation()
return {lease - n, num(redis.call('GET', K_POOL))}
