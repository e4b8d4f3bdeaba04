/* tr_coord: the Redis coordinator client (hiredis, synchronous, pipelined).
 *
 * One tr_coord is one connection, used by one thread at a time (or, on a
 * Redis Cluster, one per master: tr_cluster.h routes each call to the
 * master of its event's slot, and the failure model below is per
 * master: any master's failure puts the whole client down). Every
 * change to an event's keys is a script call (tr_scripts.h): build calls
 * with tr_call_*, run one or many in a single round trip with
 * tr_coord_run, read each answer with tr_result_*, and release them with
 * tr_call_done.
 *
 * Failure model: after any I/O error or timeout the hiredis context is
 * freed at once (a context that reported an error is never reused); calls
 * fail fast with TR_EUNAVAILABLE until tr_coord_reconnect succeeds. Scripts
 * are loaded on connect and again when Redis answers NOSCRIPT (it
 * restarted), and the refused calls are retried once.
 */
#ifndef TR_COORD_H
#define TR_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tr_cluster.h"
#include "tr_ids.h"
#include "tr_scripts.h"

struct redisReply;
typedef struct tr_coord tr_coord;

typedef struct tr_coord_opts {
	const char *host; /* e.g. "127.0.0.1" */
	int port;
	int timeout_ms; /* connect and each reply; default 500 */
	/* Instead of host and port: "host:port[,host:port...]", at most
	 * TR_CLUSTER_SEEDS_MAX. With more than one address, or with cluster
	 * true, the client speaks to a Redis Cluster and these are its seeds
	 * (it reads the masters from CLUSTER SLOTS); else to one Redis. */
	const char *addrs;
	bool cluster;
} tr_coord_opts;

/* How many addresses addrs names (1..TR_CLUSTER_SEEDS_MAX), or
 * TR_EINVALID: for checking a --redis flag. */
int tr_coord_addrs_count(const char *addrs);

/* Connect and load the scripts. On failure returns TR_EUNAVAILABLE and
 * still gives a tr_coord in *out (disconnected) if allow_down is true, so
 * that a node can start while Redis is down; otherwise *out is NULL. */
int tr_coord_open(const tr_coord_opts *o, bool allow_down, tr_coord **out);
void tr_coord_close(tr_coord *c);

/* Whether the connection is up (as of the last call). On a cluster: the
 * slot map was read and no master's connection failed since. */
bool tr_coord_connected(const tr_coord *c);

/* Whether c speaks to a Redis Cluster (tr_cluster.h routes its calls). */
bool tr_coord_is_cluster(const tr_coord *c);
/* The routing's counters; TR_EINVALID with one Redis. */
int tr_coord_cluster_stats(const tr_coord *c, tr_cluster_stats *out);

/* Drop any connection and connect again, loading the scripts. 0 or
 * TR_EUNAVAILABLE. */
int tr_coord_reconnect(tr_coord *c);

/* Redis commands sent so far (each script call counts one). */
uint64_t tr_coord_commands(const tr_coord *c);

/* A script call. Fill with one tr_call_* builder; read after tr_coord_run;
 * always end with tr_call_done (it frees the reply and any argument space
 * a large call took). */
typedef struct tr_call {
	enum tr_script script;
	int argc;
	const char *argv[3 + TR_EVENT_KEY_COUNT + 1 + 8];
	size_t argvlen[3 + TR_EVENT_KEY_COUNT + 1 + 8];
	/* (8: the most fixed arguments a builder pushes) */
	char buf[3072];
	size_t used;
	/* Arguments past the fixed ones (the items of hold and expire), in
	 * a heap buffer: offsets, since the buffer may move while growing. */
	char *xbuf;
	size_t xused, xcap;
	size_t *xoff, *xlen;
	int xargc, xargcap;
	/* After tr_coord_run: 0, or an error code: TR_ENOT_FOUND (no such
	 * event, or reservation), TR_ENOT_OWNER, TR_EFENCED, TR_ELIMIT,
	 * TR_EEXPIRED, TR_ECONFLICT (released, or paid), TR_EDUPLICATE (an
	 * event with other settings; a node id held by another process),
	 * TR_EINVALID, TR_EINTERNAL (broken invariant), TR_EUNAVAILABLE (not
	 * connected: not sent), TR_EIO / TR_ETIMEDOUT (sent, outcome
	 * unknown), TR_ENOMEM (not sent). */
	int rv;
	char detail[160];      /* the script's error message, if any */
	uint64_t fenced_epoch; /* with TR_EFENCED: the coordinator's epoch */
	struct redisReply *reply;
	/* Set with tr_call_wait; after tr_coord_run, replicas: how many
	 * replicas acknowledged the write, or -1 (not asked, not answered). */
	int wait_replicas, wait_ms;
	long long replicas;
} tr_call;

/* Ask that the call, once Redis ran it, waits until `replicas` replicas
 * of the server that ran it have its writes, at most wait_ms (WAIT
 * replicas wait_ms, sent right after the call on the same connection, in
 * the same pipeline: one WAIT covers every call of that pipeline, with
 * the largest count and timeout asked). wait_ms is kept within 1 ms and
 * half the reply timeout (tr_rconn_wait_ms). The call's answer is read
 * as usual; k->replicas says how many acknowledged: fewer than asked
 * means the write is on the master (it ran) but a failover now may lose
 * it. Call after the builder (which clears it). */
void tr_call_wait(tr_call *k, int replicas, int wait_ms);

/* Builders. Ids must be valid (callers check input first). Each starts a
 * fresh call: a call that was run must be released with tr_call_done
 * before it is built again. */
void tr_call_create_event(tr_call *k, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms);
void tr_call_register(tr_call *k, const char *event_id, const char *node);
void tr_call_grant(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t want);
/* A hold call; then one tr_call_hold_item per reservation the node
 * admitted (the strings are copied). Returns 0 or TR_ENOMEM (the call is
 * then unusable: tr_call_done it). */
void tr_call_hold(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch);
int tr_call_hold_item(tr_call *k, const char *rid, const char *user,
    uint32_t qty, const char *request_id);
/* A confirm call; then one tr_call_confirm_item per hold to pay for. */
void tr_call_confirm(tr_call *k, const char *event_id, const char *node);
int tr_call_confirm_item(tr_call *k, const char *rid, const char *user,
    const char *payment_ref);
void tr_call_release(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, const char *rid, const char *user);
/* An expire call; then one tr_call_expire_item per due hold. */
void tr_call_expire(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch);
int tr_call_expire_item(tr_call *k, const char *rid);
void tr_call_expire_due(tr_call *k, const char *event_id, uint64_t grace_ms,
    uint32_t limit, uint64_t keep_ended_ms, uint32_t prune_limit);
void tr_call_give_back(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t n);
/* The sweeper: reclaim a dead node's lease of an event, and end the
 * event's holds overdue by grace_ms (any node's, at most limit). Only if
 * the node's epoch there is still epoch: read it (tr_coord_epoch_of)
 * before finding the node's liveness key gone (lib/coord/lua/reclaim.lua
 * says why that is safe). */
void tr_call_reclaim(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t grace_ms, uint32_t limit);
void tr_call_retire(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch);
/* Sync an event a node is busy with; on the way, end the event's holds
 * overdue by grace_ms (any node's, at most limit). */
void tr_call_sync(tr_call *k, const char *event_id, const char *node,
    uint64_t grace_ms, uint32_t limit);
void tr_call_audit(tr_call *k, const char *event_id);
/* Create with the waitlist's settings: its cap (0: the default, 100,000)
 * and how long an offer lasts (0: the event's hold_ms).
 * tr_call_create_event takes both defaults. Both give the event a random
 * secret for its offer ids. */
void tr_call_create_event_wl(tr_call *k, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms,
    uint64_t waitlist_max, uint64_t offer_ms);
/* The waitlist (lib/coord/lua/wl_*.lua): join, read and leave a user's
 * entry; the line for operators (its first count buyers); and a refund of
 * an order, whose ticket goes to the line first. */
void tr_call_wl_join(tr_call *k, const char *event_id, const char *user,
    const char *request_id);
void tr_call_wl_get(tr_call *k, const char *event_id, const char *user);
void tr_call_wl_leave(tr_call *k, const char *event_id, const char *user);
void tr_call_wl_show(tr_call *k, const char *event_id, uint32_t count);
void tr_call_refund(tr_call *k, const char *event_id, const char *rid,
    const char *user);
/* Read only: an event's settings and global figures. */
void tr_call_info(tr_call *k, const char *event_id);
/* Operators: add n tickets to an event (pool and total; the new total at
 * most max_total); close (closed true) or reopen its sale. */
void tr_call_topup(tr_call *k, const char *event_id, uint64_t n,
    uint64_t max_total);
void tr_call_close(tr_call *k, const char *event_id, bool closed);
/* Read only: what ticketctl watch shows of an event (O(nodes)). */
void tr_call_watch(tr_call *k, const char *event_id);
/* Liveness (not event scripts): claim or refresh node's liveness key for
 * this process (instance), or drop the claim. */
void tr_call_heartbeat(tr_call *k, const char *node, const char *instance,
    uint64_t ttl_ms);
void tr_call_leave(tr_call *k, const char *node, const char *instance);
/* Take or keep the sweeper role for px_ms (me: "<node>:<instance>"). */
void tr_call_sweeper(tr_call *k, const char *me, uint64_t px_ms);
/* The sweeper found nothing left of dead node in event: drop the event
 * from its index (and the node from tr:{#}:nodes when none is left), unless
 * the node is alive again. */
void tr_call_unindex(tr_call *k, const char *node, const char *event_id);

/* Send n calls in one pipeline and read every answer into each call's rv
 * and reply. Returns 0 if the connection stayed up (individual calls may
 * still have failed), or TR_EUNAVAILABLE / TR_EIO / TR_ETIMEDOUT. */
int tr_coord_run(tr_coord *c, tr_call *const *calls, size_t n);

/* Free a call's reply and argument space (safe to call twice). */
void tr_call_done(tr_call *k);

/* A call's answer arrived (tr_coord_run does this for each call): k takes
 * r (tr_call_done frees it) and rv becomes 0, the script's refusal (its
 * message in detail), or TR_EPENDING when Redis did not know the script
 * (NOSCRIPT: load the scripts, send the call again). Returns k->rv. Tests
 * and fuzzers give replies they made to the readers through it. */
int tr_call_answer(tr_call *k, struct redisReply *r);

/* Readers: each returns 0 and fills its outputs if k->rv == 0 and the
 * reply has the expected shape, else k->rv or TR_EPROTO. */
int tr_result_create_event(const tr_call *k, bool *created);

/* What register and sync tell a node about an event. */
typedef struct tr_event_figures {
	uint64_t total, pool, sold, held;
	uint64_t epoch;     /* the node's */
	uint64_t lease;     /* the node's: free tickets leased to it */
	uint64_t node_held; /* the node's: tickets in its live holds */
	uint64_t expired;   /* sync: overdue holds it ended */
	uint64_t line;      /* sync: buyers waiting in the waitlist */
	uint64_t offers;    /* sync: the waitlist's live offers */
	bool closed;        /* the sale is closed (the close script) */
} tr_event_figures;
int tr_result_register(const tr_call *k, tr_event_figures *fig,
    uint64_t *returned, uint32_t *limit_per_user, uint64_t *hold_ms,
    int64_t *opens_at_ms);
int tr_result_grant(const tr_call *k, uint64_t *granted, uint64_t *pool);

/* One item of a hold call's answer (see lib/coord/lua/hold.lua). */
enum tr_hold_outcome {
	TR_HOLDCALL_CREATED = 1,   /* a new hold: rid is the one sent */
	TR_HOLDCALL_EXISTING = 2,  /* the request id's hold or order: rid */
	TR_HOLDCALL_DUPLICATE = 3, /* at the limit with the live hold rid */
	TR_HOLDCALL_LIMIT = 4,     /* at the limit with paid tickets */
	TR_HOLDCALL_NOT_OPEN = 5,  /* before opens_at by Redis' clock */
	TR_HOLDCALL_NO_LEASE = 6,  /* the node's lease in Redis is short */
	TR_HOLDCALL_WAITLIST = 7,  /* buyers wait: the ticket went to them */
	TR_HOLDCALL_CLOSED = 8,    /* the sale is closed: no new hold */
};
typedef struct tr_hold_result {
	enum tr_hold_outcome outcome;
	char rid[TR_RID_MAX + 1];
	uint32_t qty;
	int state;             /* HoldState: HELD or CONFIRMED */
	int64_t expires_at_ms; /* Redis' clock */
} tr_hold_result;
/* now_ms: Redis' clock when the script ran; count: items answered. */
int tr_result_hold(const tr_call *k, int64_t *now_ms, size_t *count);
int tr_result_hold_item(const tr_call *k, size_t i, tr_hold_result *out);

typedef struct tr_order_info {
	bool created; /* false: it existed (a repeated confirm) */
	int64_t confirmed_at_ms;
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	uint32_t qty;
	char node[TR_NODE_ID_MAX + 1]; /* the node that made the hold */
} tr_order_info;
/* now_ms: Redis' clock when the script ran; count: items answered. */
int tr_result_confirm(const tr_call *k, int64_t *now_ms, size_t *count);
/* One item: 0 and *out, or the refusal (TR_ENOT_FOUND, TR_ENOT_OWNER,
 * TR_EEXPIRED, TR_ECONFLICT when released, TR_ELIMIT) with its message in
 * detail, or k->rv / TR_EPROTO. */
int tr_result_confirm_item(const tr_call *k, size_t i, tr_order_info *out,
    char *detail, size_t detail_cap);

/* state: HoldState RELEASED or EXPIRED; to_lease: the ticket went back to
 * the caller's lease (else to the pool, or nowhere: it had ended). */
int tr_result_release(const tr_call *k, int *state, bool *to_lease,
    uint32_t *qty, int64_t *expires_at_ms);

/* One item of an expire call's answer: state HELD (not due by Redis'
 * clock; time = its deadline), CONFIRMED (time = confirmed_at_ms, and the
 * order's payment_ref), RELEASED or EXPIRED (to_lease: this call put the
 * ticket in the caller's lease), or 0 (unknown to Redis). */
int tr_result_expire(const tr_call *k, int64_t *now_ms, size_t *count);
int tr_result_expire_item(const tr_call *k, size_t i, int *state,
    bool *to_lease, int64_t *time_ms, char *payment_ref, size_t ref_cap);
int tr_result_expire_due(const tr_call *k, uint64_t *expired,
    uint64_t *pruned);
int tr_result_give_back(const tr_call *k, uint64_t *lease_left,
    uint64_t *pool);
/* *node_held: the dead node's tickets still in live holds there (the
 * event stays in its index until 0); -1 when its epoch had moved (it came
 * back). */
int tr_result_reclaim(const tr_call *k, bool *reclaimed, uint64_t *returned,
    int64_t *node_held);
int tr_result_sweeper(const tr_call *k, bool *mine);
int tr_result_retire(const tr_call *k, uint64_t *returned);
int tr_result_sync(const tr_call *k, tr_event_figures *out);

typedef struct tr_event_info {
	uint64_t total, hold_ms, pool, sold, held;
	uint32_t limit_per_user;
	int64_t opens_at_ms;
} tr_event_info;
int tr_result_info(const tr_call *k, tr_event_info *out);

/* A waitlist entry (WaitlistState numbers of the wire protocol). */
enum tr_wl_state {
	TR_WL_WAITING = 1,
	TR_WL_OFFERED = 2,
	TR_WL_CONFIRMED = 3, /* the offer was paid */
	TR_WL_EXPIRED = 4,   /* the offer passed unpaid */
	TR_WL_LEFT = 5,      /* left the line, or gave the offer back */
	TR_WL_SKIPPED = 6,   /* held or bought the limit when it was their
	                      * turn */
};
typedef struct tr_wl_entry {
	bool created; /* join: a new entry (false: the one that was there) */
	enum tr_wl_state state;
	uint64_t join_number;
	uint64_t position; /* 1: next; 0 unless waiting */
	uint64_t ahead;
	char offer_rid[TR_RID_MAX + 1]; /* offered and after: the offer */
	int64_t offer_expires_at_ms;
	int64_t joined_at_ms, changed_at_ms;
} tr_wl_entry;
/* wl_join, wl_get, wl_leave. A join refused with TR_EDUPLICATE names the
 * user's live hold: tr_result_wl_duplicate reads it. */
int tr_result_wl_entry(const tr_call *k, tr_wl_entry *out);
int tr_result_wl_duplicate(const tr_call *k, char *rid, size_t cap);

#define TR_WL_SHOW_MAX 100
typedef struct tr_wl_show {
	uint64_t waiting, offers_live, cap;
	/* since the event was created */
	uint64_t joined, offered, confirmed, expired, left, skipped;
	size_t head_count;
	struct {
		char user[TR_USER_ID_MAX + 1];
		uint64_t join_number;
		int64_t joined_at_ms;
	} head[TR_WL_SHOW_MAX];
} tr_wl_show;
int tr_result_wl_show(const tr_call *k, tr_wl_show *out);

typedef struct tr_refund_info {
	bool created; /* false: it was refunded before */
	int64_t refunded_at_ms, confirmed_at_ms;
	uint32_t qty;
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char node[TR_NODE_ID_MAX + 1];
} tr_refund_info;
int tr_result_refund(const tr_call *k, tr_refund_info *out);

#define TR_AUDIT_NODES_MAX 256
typedef struct tr_audit {
	uint64_t total, limit_per_user, pool, sold, held, lease_sum;
	size_t node_count;
	struct {
		char node[TR_NODE_ID_MAX + 1];
		int64_t lease;
		uint64_t epoch;
	} nodes[TR_AUDIT_NODES_MAX];
	uint64_t buyers_sum, buyers_count, max_per_user, users_over_limit;
	uint64_t orders_count, orders_qty, stream_len, negative_values;
	/* refunded orders (in orders_count, not in orders_qty); the
	 * waitlist: buyers waiting, live offers, entries that disagree with
	 * the line or their offer, offers made out of join order */
	uint64_t refunds, line_waiting, offers_live, line_bad;
	uint64_t offers_out_of_order;
	uint64_t buyer_order_mismatches;
	uint64_t live_holds, live_qty, holds_unindexed, index_dangling;
	uint64_t broken; /* conservation failures the scripts saw */
} tr_audit;
int tr_result_audit(const tr_call *k, tr_audit *out);

/* topup: the event's new total and pool. */
int tr_result_topup(const tr_call *k, uint64_t *total, uint64_t *pool);
/* close: *changed unless it was so already; fig's total, pool, sold and
 * held (the rest zero) and closed as asked. */
int tr_result_close(const tr_call *k, bool *changed, tr_event_figures *fig);

/* What ticketctl watch shows: the ledger's sums and, per node with a
 * lease entry or live holds (at most TR_AUDIT_NODES_MAX), its free lease
 * and the tickets of its live holds. */
typedef struct tr_watch {
	uint64_t total, pool, sold, held;
	bool closed;
	size_t node_count;
	struct {
		char node[TR_NODE_ID_MAX + 1];
		uint64_t lease, held;
	} nodes[TR_AUDIT_NODES_MAX];
} tr_watch;
int tr_result_watch(const tr_call *k, tr_watch *out);

/* Plain commands (not scripts). Each returns 0, TR_EUNAVAILABLE, TR_EIO or
 * TR_ETIMEDOUT. */

/* Add an event id to the set of events. */
int tr_coord_event_publish(tr_coord *c, const char *event_id);
/* One page of event ids (SSCAN of tr:{#}:events): pass cursor 0 first, then
 * the *cursor returned, until it is 0 again. At most cap ids. */
int tr_coord_event_page(tr_coord *c, uint64_t *cursor,
    char (*ids)[TR_EVENT_ID_MAX + 1], size_t cap, size_t *n);

/* Nodes and their events (for the sweeper). tr:{#}:nodes holds every node id
 * that claimed; tr:{#}:node:<node>:events the events it registered in. */
int tr_coord_node_join(tr_coord *c, const char *node);
/* At most cap node ids into nodes. */
int tr_coord_node_list(tr_coord *c, char (*nodes)[TR_NODE_ID_MAX + 1],
    size_t cap, size_t *n);
/* Whether each node's liveness key exists (one MGET). */
int tr_coord_alive_many(tr_coord *c, char (*nodes)[TR_NODE_ID_MAX + 1],
    size_t n, bool *alive);
int tr_coord_index_add(tr_coord *c, const char *node, const char *event_id);
int tr_coord_index_del(tr_coord *c, const char *node, const char *event_id);
/* One page of a node's events (SSCAN), as tr_coord_event_page. */
int tr_coord_index_page(tr_coord *c, const char *node, uint64_t *cursor,
    char (*ids)[TR_EVENT_ID_MAX + 1], size_t cap, size_t *n);

/* A node's epoch in an event (0 if it has none). */
int tr_coord_epoch_of(tr_coord *c, const char *event_id, const char *node,
    uint64_t *epoch);

/* Redis's own count of commands processed (INFO stats), for measuring; on
 * a cluster the sum over its masters. */
int tr_coord_server_commands(tr_coord *c, uint64_t *out);

#endif
