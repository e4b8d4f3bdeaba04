-- wl_get: ARGV user
-- Read only: a buyer's waitlist entry.
-- -> entry answer (see wl_entry_answer), created 0; TR_NOTFOUND.
local u = ARGV[1]
if not event_exists() then return redis.error_reply('TR_NOEVENT') end
local e = entry_get(u)
if not e then return redis.error_reply('TR_NOTFOUND not in the waitlist') end
return wl_entry_answer(u, e, 0)
