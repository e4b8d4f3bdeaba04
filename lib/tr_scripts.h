/* tr_scripts: Lua sources of the coordinator scripts and the key layout. */
#ifndef TR_SCRIPTS_H
#define TR_SCRIPTS_H

/*
 * Redis keys of event E (all share the hash tag {E}, so a Redis Cluster
 * keeps one event on one slot and every script touches one slot):
 *   tr:{E}:meta    hash: total, limit_per_user, hold_ms, opens_at_ms,
 *                  created_at_ms
 *   tr:{E}:pool    integer: unsold tickets leased to no node
 *   tr:{E}:sold    integer: tickets confirmed
 *   tr:{E}:lease   hash node -> tickets leased to that node
 *   tr:{E}:epoch   hash node -> lease generation (fencing token)
 *   tr:{E}:buyers  hash user -> tickets confirmed
 *   tr:{E}:orders  hash reservation id -> order JSON
 *   tr:{E}:stream  stream of orders, for order/payment services
 *   tr:{E}:void    hash reservation id -> time it was voided
 * Outside any event: tr:events (set of event ids) and
 * tr:node:<node>:alive (liveness, with a TTL).
 * Every event script receives these nine keys as KEYS[1..9], in this order.
 */
enum tr_script {
	TR_SCRIPT_CREATE_EVENT,
	TR_SCRIPT_REGISTER,
	TR_SCRIPT_GRANT,
	TR_SCRIPT_CONFIRM,
	TR_SCRIPT_GIVE_BACK,
	TR_SCRIPT_RECLAIM,
	TR_SCRIPT_RESOLVE,
	TR_SCRIPT_SYNC,
	TR_SCRIPT_AUDIT,
	TR_SCRIPT_COUNT
};

#define TR_EVENT_KEY_COUNT 9

extern const char *const tr_script_source[TR_SCRIPT_COUNT];
extern const char *const tr_script_name[TR_SCRIPT_COUNT];

#endif
