-- leave: KEYS[1] the node's liveness key ; ARGV instance
-- (Not an event script.) A node that stopped cleanly drops its claim, if it
-- is still its own.
-- -> 1 if dropped, 0 otherwise
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
