-- grant: ARGV node epoch want
-- Move up to `want` tickets from the pool to the node's lease. When the pool
-- runs low no node gets more than its fair share (pool / nodes with a lease
-- entry, at least 1), so the last tickets do not pile up on one node.
-- While buyers wait in the waitlist, returned tickets are theirs: nothing
-- is granted, and the pool reads as empty to the node.
-- -> {granted, pool_left} ; TR_FENCED <epoch> if the epoch is stale.
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local f = fenced(ARGV[1], ARGV[2])
if f then return f end
if line_waiting() > 0 then return {0, 0} end
local pool = num(redis.call('GET', K_POOL))
local want = tonumber(ARGV[3])
local nodes = redis.call('HLEN', K_LEASE)
if nodes < 1 then nodes = 1 end
local share = math.ceil(pool / nodes)
if share < 1 then share = 1 end
local n = math.min(want, pool, share)
if n > 0 then
  redis.call('DECRBY', K_POOL, n)
  redis.call('HINCRBY', K_LEASE, ARGV[1], n)
  check_conservation()
end
return {n, pool - n}
