/* tr_scripts: the coordinator's Lua scripts, the only writers of an event's
 * keys, and the key layout they share.
 *
 * The scripts are lib/coord/lua/<name>.lua, embedded at build time
 * (cmake/embed_lua.cmake); lib/coord/lua/common.lua documents every key and
 * the hold record, and is prepended to each event script.
 *
 * Keys of event E (one hash tag, so a Redis Cluster keeps an event on one
 * slot): tr:{E}:meta, pool, sold, held, lease, epoch, buyers, orders,
 * stream, holds, deadlines, uholds, reqs, ended, nheld. Every event script
 * receives these fifteen as KEYS[1..15], in this order.
 * Outside any event, all under the one hash tag {#} (no event id can be
 * "#", so no event shares their slot; on a Redis Cluster they live on the
 * master of that slot, and a script may touch several of them at once):
 * tr:{#}:events (set of event ids), tr:{#}:node:<node>:alive (liveness,
 * with a TTL; its value is the claiming process's instance id),
 * tr:{#}:nodes (set of node ids that ever claimed),
 * tr:{#}:node:<node>:events (the events a node registered in: a superset,
 * written before the register) and tr:{#}:sweeper (which node sweeps, with
 * a TTL). The same names with one Redis.
 */
#ifndef TR_SCRIPTS_H
#define TR_SCRIPTS_H

#include <stdbool.h>

/* X(ENUM, file name, event script?) */
#define TR_SCRIPT_LIST(X)                                                     \
	X(CREATE_EVENT, create_event, true)                                   \
	X(REGISTER, register, true)                                           \
	X(GRANT, grant, true)                                                 \
	X(HOLD, hold, true)                                                   \
	X(CONFIRM, confirm, true)                                             \
	X(RELEASE, release, true)                                             \
	X(EXPIRE, expire, true)                                               \
	X(EXPIRE_DUE, expire_due, true)                                       \
	X(GIVE_BACK, give_back, true)                                         \
	X(RECLAIM, reclaim, true)                                             \
	X(RETIRE, retire, true)                                               \
	X(SYNC, sync, true)                                                   \
	X(AUDIT, audit, true)                                                 \
	X(INFO, info, true)                                                   \
	X(HEARTBEAT, heartbeat, false)                                        \
	X(LEAVE, leave, false)                                                \
	X(SWEEPER, sweeper, false)                                            \
	X(UNINDEX, unindex, false)                                            \
	X(WL_JOIN, wl_join, true)                                             \
	X(WL_GET, wl_get, true)                                               \
	X(WL_LEAVE, wl_leave, true)                                           \
	X(WL_SHOW, wl_show, true)                                             \
	X(REFUND, refund, true)                                               \
	X(TOPUP, topup, true)                                                 \
	X(CLOSE, close, true)                                                 \
	X(WATCH, watch, true)

enum tr_script {
#define TR_SCRIPT_ENUM(e, name, ev) TR_SCRIPT_##e,
	TR_SCRIPT_LIST(TR_SCRIPT_ENUM)
#undef TR_SCRIPT_ENUM
	    TR_SCRIPT_COUNT
};

#define TR_EVENT_KEY_COUNT 19

/* The keys outside any event (above). */
#define TR_KEY_EVENTS "tr:{#}:events"
#define TR_KEY_NODES "tr:{#}:nodes"
#define TR_KEY_SWEEPER "tr:{#}:sweeper"
#define TR_KEY_NODE "tr:{#}:node:" /* then "<node>:alive", "<node>:events" */

extern const char *const tr_script_source[TR_SCRIPT_COUNT];
extern const char *const tr_script_name[TR_SCRIPT_COUNT];
/* Whether the script takes the event's keys (else its own KEYS). */
extern const bool tr_script_is_event[TR_SCRIPT_COUNT];

#endif
