-- create_event: ARGV total limit_per_user hold_ms opens_at_ms waitlist_max
--   offer_ms secret
-- All the stock goes into the pool. Creating again with the same settings
-- changes nothing. secret (random, from the node) makes the waitlist's
-- offer ids unguessable; it is never read back.
-- -> {created (1|0)} ; TR_DUPLICATE if the event exists with other settings.
local m = redis.call('HMGET', K_META, 'total', 'limit_per_user', 'hold_ms',
  'opens_at_ms', 'waitlist_max', 'offer_ms')
if m[1] then
  if m[1] == ARGV[1] and m[2] == ARGV[2] and m[3] == ARGV[3] and
     m[4] == ARGV[4] and (m[5] or ARGV[5]) == ARGV[5] and
     (m[6] or ARGV[6]) == ARGV[6] then
    return {0}
  end
  return redis.error_reply('TR_DUPLICATE event exists with other settings')
end
redis.call('HSET', K_META, 'total', ARGV[1], 'limit_per_user', ARGV[2],
  'hold_ms', ARGV[3], 'opens_at_ms', ARGV[4], 'waitlist_max', ARGV[5],
  'offer_ms', ARGV[6], 'wl_secret', ARGV[7], 'created_at_ms', now_ms(),
  'broken', 0)
redis.call('SET', K_POOL, ARGV[1])
redis.call('SET', K_SOLD, 0)
redis.call('SET', K_HELD, 0)
check_conservation()
return {1}
