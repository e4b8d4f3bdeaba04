-- give_back: ARGV node epoch n
-- Give n free tickets of the node's lease back to the pool.
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
local pool = redis.call('INCRBY', K_POOL, n)
check_conservation()
return {lease - n, pool}
