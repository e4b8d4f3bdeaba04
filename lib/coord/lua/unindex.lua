-- unindex: KEYS[1] the node's liveness key, KEYS[2] its event index,
-- KEYS[3] tr:{#}:nodes ; ARGV node event
-- (Not an event script.) The sweeper found nothing left of a dead node in
-- an event (no lease entry, no live hold): the event leaves the node's
-- index, and a node with an empty index leaves tr:{#}:nodes. Never while the
-- node is alive: a node that came back writes its index before it
-- registers, and must not lose that entry to a sweeper that looked a
-- moment before.
-- -> 1 if removed, 0 if the node is alive
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 1
