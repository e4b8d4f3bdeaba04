-- heartbeat: KEYS[1] the node's liveness key, KEYS[2] tr:{#}:nodes ;
-- ARGV instance ttl_ms node
-- (Not an event script: common.lua is not prepended.)
-- Keep this process's claim on its node id: the key holds the process's
-- random instance id. Another live process with the same node id is
-- refused until its key lapses, so two processes never share one id. The
-- node id joins tr:{#}:nodes, the set the sweeper looks at (every heartbeat:
-- a sweeper that dropped it meanwhile sees it again).
-- -> 1 ; TR_TAKEN <instance> while another instance holds the id.
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return redis.error_reply('TR_TAKEN ' .. cur)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
