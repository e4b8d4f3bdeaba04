/* tr_coord: the Redis coordinator client (hiredis, synchronous, pipelined).
 *
 * One tr_coord is one connection, used by one thread at a time. Every
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

#include "tr_ids.h"
#include "tr_scripts.h"

struct redisReply;
typedef struct tr_coord tr_coord;

typedef struct tr_coord_opts {
	const char *host;   /* e.g. "127.0.0.1" */
	int port;
	int timeout_ms;     /* connect and each reply; default 500 */
} tr_coord_opts;

/* Connect and load the scripts. On failure returns TR_EUNAVAILABLE and
 * still gives a tr_coord in *out (disconnected) if allow_down is true, so
 * that a node can start while Redis is down; otherwise *out is NULL. */
int tr_coord_open(const tr_coord_opts *o, bool allow_down, tr_coord **out);
void tr_coord_close(tr_coord *c);

/* Whether the connection is up (as of the last call). */
bool tr_coord_connected(const tr_coord *c);

/* Drop any connection and connect again, loading the scripts. 0 or
 * TR_EUNAVAILABLE. */
int tr_coord_reconnect(tr_coord *c);

/* Redis commands sent so far (each script call counts one). */
uint64_t tr_coord_commands(const tr_coord *c);

/* A script call. Fill with one tr_call_* builder; read after tr_coord_run.
 */
typedef struct tr_call {
	enum tr_script script;
	int argc;
	const char *argv[3 + TR_EVENT_KEY_COUNT + 8];
	size_t argvlen[3 + TR_EVENT_KEY_COUNT + 8];
	char buf[2048];
	size_t used;
	/* After tr_coord_run: 0, or an error code: TR_ENOT_FOUND (no such
	 * event), TR_EFENCED, TR_ELIMIT, TR_EEXPIRED (voided), TR_EDUPLICATE,
	 * TR_EINVALID, TR_EINTERNAL (broken invariant), TR_EUNAVAILABLE (not
	 * connected: not sent), TR_EIO / TR_ETIMEDOUT (sent, outcome
	 * unknown). */
	int rv;
	char detail[160];     /* the script's error message, if any */
	uint64_t fenced_epoch; /* with TR_EFENCED: the coordinator's epoch */
	struct redisReply *reply;
} tr_call;

/* Builders. Ids must be valid (callers check input first). */
void tr_call_create_event(tr_call *k, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms);
void tr_call_register(tr_call *k, const char *event_id, const char *node);
void tr_call_grant(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t want);
void tr_call_confirm(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, const char *rid, const char *user, uint32_t qty,
    const char *payment_ref);
void tr_call_give_back(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t n);
void tr_call_reclaim(tr_call *k, const char *event_id, const char *node,
    uint64_t seen_epoch);
void tr_call_resolve(tr_call *k, const char *event_id, const char *rid);
void tr_call_sync(tr_call *k, const char *event_id, const char *node);
void tr_call_audit(tr_call *k, const char *event_id);

/* Send n calls in one pipeline and read every answer into each call's rv
 * and reply. Returns 0 if the connection stayed up (individual calls may
 * still have failed), or TR_EUNAVAILABLE / TR_EIO / TR_ETIMEDOUT. */
int tr_coord_run(tr_coord *c, tr_call *const *calls, size_t n);

/* Free a call's reply (safe to call twice). */
void tr_call_done(tr_call *k);

/* Readers: each returns 0 and fills its outputs if k->rv == 0 and the
 * reply has the expected shape, else k->rv or TR_EPROTO. */
int tr_result_create_event(const tr_call *k, bool *created);
int tr_result_register(const tr_call *k, uint64_t *epoch,
    uint64_t *returned, uint64_t *total, uint32_t *limit_per_user,
    uint64_t *hold_ms, int64_t *opens_at_ms);
int tr_result_grant(const tr_call *k, uint64_t *granted, uint64_t *pool);

typedef struct tr_order_info {
	bool created; /* false: it existed (a repeated confirm) */
	int64_t confirmed_at_ms;
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	uint32_t qty;
	char node[TR_NODE_ID_MAX + 1];
} tr_order_info;
int tr_result_confirm(const tr_call *k, tr_order_info *out);
int tr_result_give_back(const tr_call *k, uint64_t *lease_left,
    uint64_t *pool);
int tr_result_reclaim(const tr_call *k, bool *reclaimed, uint64_t *returned);
/* confirmed: the order exists (then confirmed_at_ms and payment_ref are
 * set); otherwise the hold is now void. */
int tr_result_resolve(const tr_call *k, bool *confirmed,
    int64_t *confirmed_at_ms, char *payment_ref, size_t ref_cap);

typedef struct tr_sync_info {
	uint64_t pool, sold, epoch, lease, total;
} tr_sync_info;
int tr_result_sync(const tr_call *k, tr_sync_info *out);

#define TR_AUDIT_NODES_MAX 256
typedef struct tr_audit {
	uint64_t total, limit_per_user, pool, sold, lease_sum;
	size_t node_count;
	struct {
		char node[TR_NODE_ID_MAX + 1];
		int64_t lease;
		uint64_t epoch;
	} nodes[TR_AUDIT_NODES_MAX];
	uint64_t buyers_sum, buyers_count, max_per_user, users_over_limit;
	uint64_t orders_count, orders_qty, stream_len, negative_values;
	uint64_t buyer_order_mismatches;
} tr_audit;
int tr_result_audit(const tr_call *k, tr_audit *out);

/* Plain commands (not scripts). Each returns 0, TR_EUNAVAILABLE, TR_EIO or
 * TR_ETIMEDOUT. */

/* Add an event id to the set of events nodes watch. */
int tr_coord_event_publish(tr_coord *c, const char *event_id);
/* Call fn for each published event id. */
int tr_coord_event_list(tr_coord *c, void (*fn)(const char *id, void *arg),
    void *arg);
/* Refresh node's liveness key for ttl_ms. */
int tr_coord_heartbeat(tr_coord *c, const char *node, uint64_t ttl_ms);
/* Whether node's liveness key exists. */
int tr_coord_alive(tr_coord *c, const char *node, bool *alive);

/* Nodes that hold a lease of an event, with their lease and epoch. */
typedef struct tr_lease_entry {
	char node[TR_NODE_ID_MAX + 1];
	int64_t lease;
	uint64_t epoch;
} tr_lease_entry;
int tr_coord_event_leases(tr_coord *c, const char *event_id,
    tr_lease_entry *out, size_t cap, size_t *n);

/* Redis's own count of commands processed (INFO stats), for measuring. */
int tr_coord_server_commands(tr_coord *c, uint64_t *out);

#endif
