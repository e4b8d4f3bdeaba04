-- topup: ARGV add max_total
-- Add stock to an event: `add` more tickets go into the pool and total
-- grows by as many, so pool + leases + held + sold == total holds. Nodes
-- sell them with their next grant; buyers in the waitlist get them first.
-- Not idempotent: each call adds.
-- -> {total, pool} ; TR_NOEVENT ; TR_INVALID when add is not a positive
-- integer or the new total would pass max_total.
local total = redis.call('HGET', K_META, 'total')
if not total then return redis.error_reply('TR_NOEVENT') end
local add, max = tonumber(ARGV[1]), tonumber(ARGV[2])
if not add or add < 1 or add ~= math.floor(add) then
  return redis.error_reply('TR_INVALID add must be a positive integer')
end
local new = tonumber(total) + add
if new > max then
  return redis.error_reply(string.format(
    'TR_INVALID total would be %d, above %d', new, max))
end
redis.call('HSET', K_META, 'total', new)
redis.call('INCRBY', K_POOL, add)
-- Buyers waiting in line get the new tickets first (as offers).
local now = now_ms()
feed_line(now, now)
check_conservation(new)
return {new, num(redis.call('GET', K_POOL))}
