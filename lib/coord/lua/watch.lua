-- watch: no ARGV. Read only: what `ticketctl watch` shows of an event, in
-- one call (O(nodes), never O(holds): it runs every second in a rush).
-- -> {total, pool, sold, held, closed, {{node, lease, held}...}}: every
-- node with a lease entry or live holds.
local m = redis.call('HMGET', K_META, 'total', 'closed')
if not m[1] then return redis.error_reply('TR_NOEVENT') end
local c = redis.call('MGET', K_POOL, K_SOLD, K_HELD)
local nodes, at = {}, {}
local l = redis.call('HGETALL', K_LEASE)
for i = 1, #l, 2 do
  nodes[#nodes + 1] = {l[i], tonumber(l[i + 1]), 0}
  at[l[i]] = #nodes
end
local h = redis.call('HGETALL', K_NHELD)
for i = 1, #h, 2 do
  if at[h[i]] then
    nodes[at[h[i]]][3] = tonumber(h[i + 1])
  else
    nodes[#nodes + 1] = {h[i], 0, tonumber(h[i + 1])}
  end
end
return {tonumber(m[1]), num(c[1]), num(c[2]), num(c[3]), num(m[2]), nodes}
