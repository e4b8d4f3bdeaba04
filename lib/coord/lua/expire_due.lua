-- expire_due: ARGV grace_ms limit keep_ended_ms prune_limit
-- Any node's sweep: end up to `limit` holds more than grace_ms past their
-- deadline, whoever made them (a dead node, a node whose answer was lost);
-- their tickets go to the pool. Then forget up to prune_limit ended records
-- older than keep_ended_ms (a confirm after that answers NOT_FOUND instead
-- of EXPIRED), and as many ended waitlist entries as old.
-- -> {expired, pruned}
local grace, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local keep, prune = tonumber(ARGV[3]), tonumber(ARGV[4])
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local now = now_ms()
local expired = expire_overdue(now, grace, limit)
local old = redis.call('ZRANGEBYSCORE', K_ENDED, '-inf', now - keep,
  'LIMIT', 0, prune)
for _, rid in ipairs(old) do
  local h = hold_get(rid)
  if h and h.s ~= 'H' then redis.call('HDEL', K_HOLDS, rid) end
  redis.call('ZREM', K_ENDED, rid)
end
local gone = redis.call('ZRANGEBYSCORE', K_LENDED, '-inf', now - keep,
  'LIMIT', 0, prune)
for _, u in ipairs(gone) do
  local e = entry_get(u)
  if e and e.s ~= 'W' and e.s ~= 'O' then redis.call('HDEL', K_LENT, u) end
  redis.call('ZREM', K_LENDED, u)
end
if expired > 0 then check_conservation() end
return {expired, #old}
