/* tr_scripts: the Lua scripts that are the only writers of an event's keys.
 *
 * Every script gets the same nine KEYS, all of one event and one hash tag
 * (see tr_scripts.h), reads and checks everything it needs first, and writes
 * only after the last check: Redis keeps the writes of a script that fails
 * half-way. After each script, pool + sum(lease) + sold == total.
 *
 * Errors are returned as error replies whose first word is a stable code
 * (TR_NOEVENT, TR_FENCED, ...) that tr_coord maps to tr_err values.
 */
#include "tr_scripts.h"

#define KEYS_DOC \
	"-- KEYS: 1 meta 2 pool 3 sold 4 lease 5 epoch 6 buyers 7 orders " \
	"8 stream 9 void\n"

/* ARGV: total limit_per_user hold_ms opens_at_ms
 * -> {created(1|0)} ; TR_DUPLICATE if it exists with other settings. */
static const char create_event_lua[] = KEYS_DOC
    "local m = redis.call('HMGET', KEYS[1], 'total', 'limit_per_user',\n"
    "  'hold_ms', 'opens_at_ms')\n"
    "if m[1] then\n"
    "  if m[1] == ARGV[1] and m[2] == ARGV[2] and m[3] == ARGV[3]\n"
    "     and m[4] == ARGV[4] then return {0} end\n"
    "  return redis.error_reply('TR_DUPLICATE event exists with other "
    "settings')\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "redis.call('HSET', KEYS[1], 'total', ARGV[1], 'limit_per_user',\n"
    "  ARGV[2], 'hold_ms', ARGV[3], 'opens_at_ms', ARGV[4],\n"
    "  'created_at_ms', t[1] * 1000 + math.floor(t[2] / 1000))\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('SET', KEYS[3], 0)\n"
    "return {1}\n";

/* ARGV: node
 * A node (re)starts: whatever an earlier incarnation leased goes back to
 * the pool (its holds died with it) and the epoch moves on, so anything the
 * old incarnation still sends is refused.
 * -> {epoch, returned_to_pool, total, limit_per_user, hold_ms, opens_at_ms}
 */
static const char register_lua[] = KEYS_DOC
    "local m = redis.call('HMGET', KEYS[1], 'total', 'limit_per_user',\n"
    "  'hold_ms', 'opens_at_ms')\n"
    "if not m[1] then return redis.error_reply('TR_NOEVENT') end\n"
    "local old = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')\n"
    "if old > 0 then redis.call('INCRBY', KEYS[2], old) end\n"
    "redis.call('HSET', KEYS[4], ARGV[1], 0)\n"
    "local ep = redis.call('HINCRBY', KEYS[5], ARGV[1], 1)\n"
    "return {ep, old, tonumber(m[1]), tonumber(m[2]), tonumber(m[3]),\n"
    "  tonumber(m[4])}\n";

/* ARGV: node epoch want
 * Move up to `want` tickets from the pool to the node's lease. When the pool
 * runs low no node gets more than its fair share (pool / nodes, at least 1),
 * so the last tickets do not pile up on one node.
 * -> {granted, pool_left} ; TR_FENCED <epoch> if the epoch is stale. */
static const char grant_lua[] = KEYS_DOC
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  return redis.error_reply('TR_NOEVENT') end\n"
    "local ep = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')\n"
    "if ep ~= tonumber(ARGV[2]) then\n"
    "  return redis.error_reply('TR_FENCED ' .. ep) end\n"
    "local pool = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "local want = tonumber(ARGV[3])\n"
    "local nodes = redis.call('HLEN', KEYS[5])\n"
    "if nodes < 1 then nodes = 1 end\n"
    "local share = math.ceil(pool / nodes)\n"
    "if share < 1 then share = 1 end\n"
    "local n = math.min(want, pool, share)\n"
    "if n > 0 then\n"
    "  redis.call('DECRBY', KEYS[2], n)\n"
    "  redis.call('HINCRBY', KEYS[4], ARGV[1], n)\n"
    "end\n"
    "return {n, pool - n}\n";

/* ARGV: node epoch rid user qty payment_ref event_id
 * Record an order. Idempotent by reservation id: an existing order is
 * returned as it is. Refused if the hold was voided by a resolve, if the
 * epoch is stale, or if the user would pass the per-user limit over all
 * nodes.
 * -> {created(1|0), confirmed_at_ms, payment_ref, user, qty, node} */
static const char confirm_lua[] = KEYS_DOC
    "local function fields(o)\n"
    "  return {o.confirmed_at_ms, o.payment_ref, o.user, o.qty, o.node}\n"
    "end\n"
    "local existing = redis.call('HGET', KEYS[7], ARGV[3])\n"
    "if existing then\n"
    "  local f = fields(cjson.decode(existing))\n"
    "  table.insert(f, 1, 0)\n"
    "  return f\n"
    "end\n"
    "if redis.call('HEXISTS', KEYS[9], ARGV[3]) == 1 then\n"
    "  return redis.error_reply('TR_VOID hold was voided after an unknown "
    "outcome') end\n"
    "local limit = redis.call('HGET', KEYS[1], 'limit_per_user')\n"
    "if not limit then return redis.error_reply('TR_NOEVENT') end\n"
    "local ep = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')\n"
    "if ep ~= tonumber(ARGV[2]) then\n"
    "  return redis.error_reply('TR_FENCED ' .. ep) end\n"
    "local qty = tonumber(ARGV[5])\n"
    "local lease = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')\n"
    "if lease < qty then\n"
    "  return redis.error_reply('TR_NOLEASE lease ' .. lease .. ' < ' "
    ".. qty) end\n"
    "local bought = tonumber(redis.call('HGET', KEYS[6], ARGV[4]) or '0')\n"
    "if bought + qty > tonumber(limit) then\n"
    "  return redis.error_reply('TR_LIMIT user has ' .. bought) end\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local o = {order_id = ARGV[3], event = ARGV[7], user = ARGV[4],\n"
    "  qty = qty, payment_ref = ARGV[6], node = ARGV[1],\n"
    "  confirmed_at_ms = now}\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[1], -qty)\n"
    "redis.call('INCRBY', KEYS[3], qty)\n"
    "redis.call('HINCRBY', KEYS[6], ARGV[4], qty)\n"
    "redis.call('HSET', KEYS[7], ARGV[3], cjson.encode(o))\n"
    "redis.call('XADD', KEYS[8], '*', 'order_id', ARGV[3], 'event',\n"
    "  ARGV[7], 'user', ARGV[4], 'qty', qty, 'payment_ref', ARGV[6],\n"
    "  'node', ARGV[1], 'confirmed_at_ms', now)\n"
    "local f = fields(o)\n"
    "table.insert(f, 1, 1)\n"
    "return f\n";

/* ARGV: node epoch n
 * Give n unsold tickets of the node's lease back to the pool.
 * -> {lease_left, pool} ; TR_INVALID if n exceeds the lease. */
static const char give_back_lua[] = KEYS_DOC
    "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  return redis.error_reply('TR_NOEVENT') end\n"
    "local ep = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')\n"
    "if ep ~= tonumber(ARGV[2]) then\n"
    "  return redis.error_reply('TR_FENCED ' .. ep) end\n"
    "local n = tonumber(ARGV[3])\n"
    "local lease = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')\n"
    "if n < 0 or n > lease then\n"
    "  return redis.error_reply('TR_INVALID give back ' .. n ..\n"
    "    ' of a lease of ' .. lease) end\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[1], -n)\n"
    "local pool = redis.call('INCRBY', KEYS[2], n)\n"
    "return {lease - n, pool}\n";

/* ARGV: node seen_epoch
 * Take back the lease of a node whose liveness lapsed, if its epoch is
 * still the one the sweeper saw (a node that re-registered meanwhile is
 * left alone). Bumping the epoch fences the old incarnation.
 * -> {reclaimed(1|0), tickets_returned} */
static const char reclaim_lua[] = KEYS_DOC
    "local ep = tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')\n"
    "if ep ~= tonumber(ARGV[2]) then return {0, 0} end\n"
    "local lease = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')\n"
    "if lease > 0 then redis.call('INCRBY', KEYS[2], lease) end\n"
    "redis.call('HSET', KEYS[4], ARGV[1], 0)\n"
    "redis.call('HINCRBY', KEYS[5], ARGV[1], 1)\n"
    "return {1, lease}\n";

/* ARGV: rid
 * Settle a hold whose confirm outcome the node never learned: if the order
 * exists it stands; otherwise the hold is voided so that a confirm still in
 * flight can never land after the node returned the ticket.
 * -> {1, confirmed_at_ms, payment_ref} | {0} (voided) */
static const char resolve_lua[] = KEYS_DOC
    "local existing = redis.call('HGET', KEYS[7], ARGV[1])\n"
    "if existing then\n"
    "  local o = cjson.decode(existing)\n"
    "  return {1, o.confirmed_at_ms, o.payment_ref}\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "redis.call('HSET', KEYS[9], ARGV[1], t[1])\n"
    "return {0}\n";

/* ARGV: node
 * What a node needs to know each sync: the global figures and its own
 * epoch and lease as the coordinator has them.
 * -> {pool, sold, epoch, lease, total} */
static const char sync_lua[] = KEYS_DOC
    "local total = redis.call('HGET', KEYS[1], 'total')\n"
    "if not total then return redis.error_reply('TR_NOEVENT') end\n"
    "return {tonumber(redis.call('GET', KEYS[2]) or '0'),\n"
    "  tonumber(redis.call('GET', KEYS[3]) or '0'),\n"
    "  tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0'),\n"
    "  tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0'),\n"
    "  tonumber(total)}\n";

/* No ARGV. A consistent snapshot of the whole ledger for the audit: one
 * script, so no write lands between the reads.
 * -> {total, limit, pool, sold, lease_sum, {node, lease, epoch}*,
 *     buyers_sum, buyers_count, max_per_user, users_over_limit,
 *     orders_count, orders_qty, stream_len, negative_values} */
static const char audit_lua[] = KEYS_DOC
    "local m = redis.call('HMGET', KEYS[1], 'total', 'limit_per_user')\n"
    "if not m[1] then return redis.error_reply('TR_NOEVENT') end\n"
    "local total, limit = tonumber(m[1]), tonumber(m[2])\n"
    "local pool = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
    "local sold = tonumber(redis.call('GET', KEYS[3]) or '0')\n"
    "local negative = 0\n"
    "if pool < 0 then negative = negative + 1 end\n"
    "if sold < 0 then negative = negative + 1 end\n"
    "local nodes, lease_sum = {}, 0\n"
    "local l = redis.call('HGETALL', KEYS[4])\n"
    "for i = 1, #l, 2 do\n"
    "  local v = tonumber(l[i + 1])\n"
    "  if v < 0 then negative = negative + 1 end\n"
    "  lease_sum = lease_sum + v\n"
    "  table.insert(nodes, {l[i], v,\n"
    "    tonumber(redis.call('HGET', KEYS[5], l[i]) or '0')})\n"
    "end\n"
    "local bsum, bcount, bmax, over = 0, 0, 0, 0\n"
    "local b = redis.call('HGETALL', KEYS[6])\n"
    "for i = 2, #b, 2 do\n"
    "  local v = tonumber(b[i])\n"
    "  bsum = bsum + v\n"
    "  bcount = bcount + 1\n"
    "  if v > bmax then bmax = v end\n"
    "  if v > limit then over = over + 1 end\n"
    "  if v < 0 then negative = negative + 1 end\n"
    "end\n"
    "local ocount, oqty, peruser = 0, 0, {}\n"
    "local o = redis.call('HGETALL', KEYS[7])\n"
    "for i = 2, #o, 2 do\n"
    "  local ord = cjson.decode(o[i])\n"
    "  ocount = ocount + 1\n"
    "  oqty = oqty + ord.qty\n"
    "  peruser[ord.user] = (peruser[ord.user] or 0) + ord.qty\n"
    "end\n"
    "local mismatch = 0\n"
    "for i = 1, #b, 2 do\n"
    "  if (peruser[b[i]] or 0) ~= tonumber(b[i + 1]) then\n"
    "    mismatch = mismatch + 1 end\n"
    "end\n"
    "for u, q in pairs(peruser) do\n"
    "  if not redis.call('HGET', KEYS[6], u) then mismatch = mismatch + 1 "
    "end\n"
    "end\n"
    "return {total, limit, pool, sold, lease_sum, nodes, bsum, bcount,\n"
    "  bmax, over, ocount, oqty, redis.call('XLEN', KEYS[8]), negative,\n"
    "  mismatch}\n";

const char *const tr_script_source[TR_SCRIPT_COUNT] = {
    [TR_SCRIPT_CREATE_EVENT] = create_event_lua,
    [TR_SCRIPT_REGISTER] = register_lua,
    [TR_SCRIPT_GRANT] = grant_lua,
    [TR_SCRIPT_CONFIRM] = confirm_lua,
    [TR_SCRIPT_GIVE_BACK] = give_back_lua,
    [TR_SCRIPT_RECLAIM] = reclaim_lua,
    [TR_SCRIPT_RESOLVE] = resolve_lua,
    [TR_SCRIPT_SYNC] = sync_lua,
    [TR_SCRIPT_AUDIT] = audit_lua,
};

const char *const tr_script_name[TR_SCRIPT_COUNT] = {
    [TR_SCRIPT_CREATE_EVENT] = "create_event",
    [TR_SCRIPT_REGISTER] = "register",
    [TR_SCRIPT_GRANT] = "grant",
    [TR_SCRIPT_CONFIRM] = "confirm",
    [TR_SCRIPT_GIVE_BACK] = "give_back",
    [TR_SCRIPT_RECLAIM] = "reclaim",
    [TR_SCRIPT_RESOLVE] = "resolve",
    [TR_SCRIPT_SYNC] = "sync",
    [TR_SCRIPT_AUDIT] = "audit",
};
