-- release: ARGV node epoch rid user
-- Give a hold back, through any node (`node`, `epoch`: the one asking).
-- Past its deadline it ends as expired instead. Already ended: answered as
-- it ended (releasing twice is one release).
-- -> {state, to_lease (1|0), qty, expires_at_ms}
--    TR_NOTFOUND, TR_NOT_OWNER, TR_CONFIRMED (paid: cannot be released).
local node, epoch, rid, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local h = hold_get(rid)
if not h then
  local o = order_get(rid)
  if o then
    if o.user ~= u then
      return redis.error_reply('TR_NOT_OWNER reservation belongs to another user')
    end
    return redis.error_reply('TR_CONFIRMED reservation is paid')
  end
  return redis.error_reply('TR_NOTFOUND no such reservation')
end
if h.u ~= u then
  return redis.error_reply('TR_NOT_OWNER reservation belongs to another user')
end
if h.s ~= 'H' then return {STATE_OF[h.s], 0, h.q, h.x} end
local now = now_ms()
local state = 'R'
if h.x <= now then state = 'X' end
local to_lease = hold_end(rid, h, state, node, epoch, now)
check_conservation()
return {STATE_OF[state], to_lease, h.q, h.x}
