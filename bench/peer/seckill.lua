-- bench/peer/seckill.lua: a BENCHMARK PEER, not part of ticketrush.
--
-- The check-and-deduct flash sale as most teams build it on nginx + Lua +
-- Redis, kept here so scripts/bench can measure ticketrush against it in
-- the same run (issue 12). Per request: read the JSON body's user, take a
-- Redis connection from the cosocket keepalive pool, run one EVALSHA of a
-- script that checks stock > 0 and that the user has not bought, then
-- decrements the stock, records the buyer and queues the order, all
-- atomically in Redis (which the bench runs with `appendfsync always`, so
-- every sale is durable before the answer). Answers take the shapes of
-- trgate's POST /v1/events/{e}/reservations: 201 with JSON on a sale,
-- 409 sold_out (or duplicate) otherwise.
local redis = require "nginx.redis"

-- KEYS: stock, buyers (set), orders (list); ARGV: user.
-- Returns the stock before this sale (> 0), 0 when sold out, -1 when the
-- user already bought.
local SCRIPT = [[
local stock = tonumber(redis.call('GET', KEYS[1]) or '0')
if stock <= 0 then return 0 end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -1 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
return stock
]]
local SHA = ngx.sha1_bin(SCRIPT):gsub(".", function(c)
  return string.format("%02x", c:byte())
end)

local function answer(status, body)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.print(body)
  return ngx.exit(ngx.OK)
end

local function fail(status, code, msg)
  return answer(status, '{"error":"' .. code .. '","message":"' .. msg .. '"}')
end

if ngx.req.get_method() ~= "POST" then
  return fail(405, "method_not_allowed", "POST only")
end
ngx.req.read_body()
local body = ngx.req.get_body_data()
local user = body and body:match('"user"%s*:%s*"([%w_.:@-]+)"')
if not user or #user > 128 then
  return fail(400, "bad_request", "body must be {\"user\": \"...\"}")
end

local event = ngx.var.peer_event
local red = redis:new()
red:set_timeout(1000) -- lua-nginx-redis 0.27 has no set_timeouts
local ok, err = red:connect("127.0.0.1", tonumber(ngx.var.peer_redis_port))
if not ok then
  -- Logged, so that scripts/bench refuses a run where the peer failed.
  ngx.log(ngx.ERR, "peer: redis connect: ", err)
  return fail(503, "unavailable", "redis: " .. tostring(err))
end

local ks, kb, ko = "peer:{" .. event .. "}:stock", "peer:{" .. event .. "}:buyers",
  "peer:{" .. event .. "}:orders"
local res
res, err = red:evalsha(SHA, 3, ks, kb, ko, user)
if not res and err and err:find("NOSCRIPT", 1, true) then
  res, err = red:eval(SCRIPT, 3, ks, kb, ko, user)
end
if not res then
  red:close()
  ngx.log(ngx.ERR, "peer: redis: ", err)
  return fail(503, "unavailable", "redis: " .. tostring(err))
end
red:set_keepalive(10000, 128)

if res > 0 then
  return answer(201, '{"reservation_id":"peer.' .. event .. '.' .. res ..
    '","event_id":"' .. event .. '","user":"' .. user ..
    '","qty":1,"state":"confirmed","node":"peer"}')
elseif res == -1 then
  return fail(409, "duplicate", "user already bought")
end
return fail(409, "sold_out", "sold out")
