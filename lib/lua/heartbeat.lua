-- heartbeat: KEYS[1] the node's liveness key ; ARGV instance ttl_ms
-- (Not an event script: common.lua is not prepended.)
-- Keep this process's claim on its node id: the key holds the process's
-- random instance id. Another live process with the same node id is
-- refused until its key lapses, so two processes never share one id.
-- -> 1 ; TR_TAKEN <instance> while another instance holds the id.
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return redis.error_reply('TR_TAKEN ' .. cur)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
