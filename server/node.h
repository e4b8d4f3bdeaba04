/* node: a stock node (stockd): serves Reserve / Confirm / Release from an
 * in-memory lease over nng, and keeps the lease with the coordinator. */
#ifndef TR_NODE_H
#define TR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

/* One node at a time sweeps; its role is a lease of this many sweeps,
 * renewed every sweep. With the role shorter than the liveness TTL, a
 * dead sweeper's role has lapsed (and another node sweeps) before its own
 * liveness does, so any dead node is reclaimed within its TTL plus one
 * sweep. */
#define TR_SWEEPER_LEASE_SWEEPS 3

/* Replicas a confirm can wait for (--confirm-replicas). */
#define TR_NODE_CONFIRM_REPLICAS_MAX 16

typedef struct tr_node tr_node;

typedef struct tr_node_conf {
	char node_id[TR_NODE_ID_MAX + 1];
	const char *data_url;  /* e.g. tcp://127.0.0.1:7001 */
	const char *admin_url; /* e.g. tcp://127.0.0.1:7101 */
	int data_contexts;     /* concurrent requests served; default 128 */
	int admin_contexts;    /* default 4 */
	uint32_t batch_max;    /* ops per Batch; default 256 */

	/* Standalone: no coordinator; events and their whole stock are given
	 * here; orders live in memory only (NOT durable). */
	bool standalone;
	tr_event_conf *events;
	size_t event_count;

	/* Coordinator (Redis) mode. */
	const char *redis_host;
	int redis_port;
	/* Instead of host and port: "host:port[,host:port...]"; several, or
	 * redis_cluster: a Redis Cluster (tr_coord_opts). */
	const char *redis_addrs;
	bool redis_cluster;
	int redis_timeout_ms;      /* per reply; default 500 */
	uint64_t liveness_ttl_ms;  /* default 10000 */
	uint64_t sync_ms;          /* global figures refresh; default 200 */
	uint64_t sweep_ms;         /* dead-node reclaim sweep; default 1000 */
	uint64_t refill_min;       /* default 8 */
	uint64_t refill_max;       /* default 4096 */
	int64_t refill_horizon_ms; /* default 250 */
	int64_t lease_idle_ms;     /* give back an idle lease; default 5000 */
	size_t waiters_max;        /* reservations waiting for a grant, per
	                            * event; default 4096 */
	int64_t wait_timeout_ms;   /* how long one waits; default 1000 */
	size_t coord_queue_max; /* coordinator calls queued; default 65536 */
	size_t coord_pipeline_max; /* calls per round trip; default 512 */
	/* A confirm is answered OK only once this many replicas of the
	 * Redis that ran it have the order (WAIT); else UNAVAILABLE, and a
	 * retry with the same id is answered once they have it. 0: no WAIT
	 * (default). At most TR_NODE_CONFIRM_REPLICAS_MAX. */
	int confirm_replicas;
	/* How long a confirm waits for them: 1 ms .. half of
	 * redis_timeout_ms (the WAIT must not outlast the reply timeout);
	 * default 100. */
	int confirm_wait_ms;

	size_t tombstones_max; /* default 65536 */
} tr_node_conf;

/* Fill conf with the defaults (node_id "n1", standalone off). */
void tr_node_conf_defaults(tr_node_conf *conf);

/* Create a node and start serving: binds both sockets, starts the threads.
 * Returns 0, TR_EINVALID (bad conf; *why says what), TR_EIO (cannot bind;
 * *why says which URL) or TR_ENOMEM; on failure nothing is left running. In
 * coordinator mode a node starts even while Redis is down, and connects
 * when it can. */
int tr_node_start(const tr_node_conf *conf, tr_node **out, const char **why);

/* Graceful stop: new requests are answered UNAVAILABLE, in-flight ones
 * finish (at most grace_ms), leases go back to the pool, then sockets and
 * threads close and the node is freed. */
void tr_node_stop(tr_node *n, int64_t grace_ms);

/* ---- Offline nodes: for tests and fuzzing, never for serving ----------
 *
 * An offline node is a standalone node (conf->standalone, its events in
 * conf; the URLs are not used) with no sockets and no threads. Each
 * message given to tr_node_handle_offline goes through the very code a
 * message received on a socket goes through: the Batch counted on the
 * wire, the Request unpacked, version and field checks, the operations on
 * the ledger, the Reply packed. Nothing expires by itself (there is no
 * ticker thread): a confirm after a hold's deadline still answers EXPIRED.
 */

/* Create an offline node. Returns 0, TR_EINVALID (bad conf, or not
 * standalone; *why says what) or TR_ENOMEM; on failure nothing is left.
 * Free with tr_node_stop. */
int tr_node_open_offline(const tr_node_conf *conf, tr_node **out,
    const char **why);

/* Handle one message (len bytes, anything) as the data socket (admin
 * false) or the admin socket would, and give the packed Reply in *reply
 * (len *reply_len; the caller frees it with free()). One call at a time
 * per node. Returns 0; TR_EINVALID if n is not an offline node or the
 * message is larger than a socket accepts (TR_MSG_MAX: a socket never
 * delivers it); TR_ENOMEM (no answer, as a socket would drop it);
 * TR_EINTERNAL if the answer would come later (it never does in
 * standalone mode: the node is not usable after that). */
int tr_node_handle_offline(tr_node *n, bool admin, const void *msg, size_t len,
    void **reply, size_t *reply_len);

#endif
