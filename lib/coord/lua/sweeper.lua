-- sweeper: KEYS[1] tr:{#}:sweeper ; ARGV me px
-- (Not an event script.) One node at a time sweeps for dead nodes: the
-- role is a lease that its holder renews every sweep; when the holder dies
-- the key lapses and the next node to ask takes it.
-- -> 1 if the caller holds the role now, else 0
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
