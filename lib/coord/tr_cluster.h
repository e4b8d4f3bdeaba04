/* tr_cluster: the coordinator's commands routed over a Redis Cluster.
 *
 * hiredis 0.14 speaks to one server. This module keeps the cluster's slot
 * map (tr_slot, read with CLUSTER SLOTS from a seed or a known master) and
 * one blocking hiredis connection per master, made when a command first
 * needs that master (at most TR_SLOT_MASTERS_MAX). tr_cluster_run sends a
 * batch as one pipeline per master, written to every master before any
 * answer is read, and follows redirections:
 *
 * - MOVED: the slot has a new master; the map learns it
 *   (tr_slot_map_apply_moved, or a whole new map when that fails) and the
 *   command goes there;
 * - ASK: the slot is being migrated and the keys are not here; ASKING and
 *   the command go to the named master once (the map stays);
 * - TRYAGAIN: a multi-key command (every script call of ours) in a slot
 *   being migrated, with some of its keys moved and some not; after a
 *   pause the command goes again where it went.
 *
 * A redirection means Redis did not run the command, so sending it again
 * runs it at most once. Each command follows at most
 * TR_CLUSTER_REDIRECTS_MAX of them; past that it fails as not sent
 * (TR_EUNAVAILABLE).
 *
 * Failure model (tr_coord's): a connection that reported an error is freed
 * at once and the cluster is down (tr_cluster_up false, every call fails
 * fast with TR_EUNAVAILABLE) until tr_cluster_refresh read the map again.
 * The commands that were sent on that connection and not answered have an
 * unknown outcome (TR_EIO, TR_ETIMEDOUT).
 */
#ifndef TR_CLUSTER_H
#define TR_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tr_slot.h"

struct redisContext;
struct redisReply;
typedef struct tr_cluster tr_cluster;

#define TR_CLUSTER_SEEDS_MAX 16
/* Redirections (MOVED, ASK, TRYAGAIN) one command follows at most. */
#define TR_CLUSTER_REDIRECTS_MAX 5
/* Pause before the n-th resend after TRYAGAIN: n times this (a migration
 * moves a slot's keys in milliseconds; the sum stays under 0.4 s). */
#define TR_CLUSTER_TRYAGAIN_MS 25

/* Called on every new master connection before its first command (the
 * coordinator loads its scripts there). Returns 0, or anything else to
 * have the connection dropped as failed. */
typedef int (*tr_cluster_hook)(struct redisContext *ctx, void *arg);

/* Remember nseeds addresses (1..TR_CLUSTER_SEEDS_MAX) and the hook;
 * connects nowhere (tr_cluster_refresh does). Returns 0, TR_EINVALID or
 * TR_ENOMEM (then *out is NULL). */
int tr_cluster_new(const tr_slot_master *seeds, size_t nseeds, int timeout_ms,
    tr_cluster_hook hook, void *arg, tr_cluster **out);
void tr_cluster_free(tr_cluster *cl);

/* Read the slot map (CLUSTER SLOTS) from the first that answers of the
 * known masters, then the seeds, and bring the cluster up. Connections to
 * masters that are still masters are kept, the others freed. Returns 0, or
 * TR_EUNAVAILABLE (nothing answered with a usable map: the map and the
 * connections are as they were, and the cluster is down). */
int tr_cluster_refresh(tr_cluster *cl);

/* Up since the last refresh and no connection failed. */
bool tr_cluster_up(const tr_cluster *cl);

/* Free every connection (the next command connects again, running the
 * hook); the map and the up state stay. */
void tr_cluster_drop_connections(tr_cluster *cl);

/* One command of a batch. The caller fills slot (or master), argc, argv
 * and argvlen; tr_cluster_run fills reply and rv. */
typedef struct tr_cluster_cmd {
	int slot;   /* the slot of every key of the command */
	int master; /* >= 0: send to this master index, not by slot */
	int argc;
	const char **argv;
	const size_t *argvlen;
	/* > 0: after the command, wait until this many replicas of the
	 * master that ran it have its write (WAIT wait_replicas wait_ms, on
	 * the same connection, at the end of that master's pipeline; one
	 * WAIT covers every command of the pipeline, so it takes the
	 * largest count and timeout asked there; wait_ms kept within
	 * tr_rconn_wait_ms's bounds). */
	int wait_replicas;
	int wait_ms;
	/* After tr_cluster_run: with wait_replicas, the replicas that
	 * acknowledged (WAIT's answer), or -1 (no answer, or not run). */
	long long replicas;
	/* After tr_cluster_run: rv 0 and the answer in reply (the caller
	 * frees it; an error reply other than a redirection is an answer),
	 * or rv TR_EUNAVAILABLE (not run: not sent, no master for the slot,
	 * or too many redirections) or TR_EIO / TR_ETIMEDOUT (sent, no
	 * answer: outcome unknown) and reply NULL. */
	struct redisReply *reply;
	int rv;
	/* The module's own, while running. */
	int to, ask, hops;
	bool sent, waiting;
} tr_cluster_cmd;

/* Run n commands: one pipeline per master, then the redirected ones again,
 * TR_CLUSTER_REDIRECTS_MAX rounds at most. Returns 0 if every connection
 * stayed up (commands may still have failed, see rv), else the first
 * failure (TR_EUNAVAILABLE, TR_EIO, TR_ETIMEDOUT): the cluster is down. */
int tr_cluster_run(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n);

/* Masters in the map (their indexes are 0..count-1 until a refresh). */
int tr_cluster_masters(const tr_cluster *cl);

/* What the routing did, for tests and logs. */
typedef struct tr_cluster_stats {
	uint64_t commands;  /* sent, ASKING included */
	uint64_t moved;     /* MOVED answers followed */
	uint64_t ask;       /* ASK answers followed */
	uint64_t tryagain;  /* TRYAGAIN answers */
	uint64_t refreshes; /* slot maps read */
	uint64_t connects;  /* master connections made */
} tr_cluster_stats;
void tr_cluster_stats_get(const tr_cluster *cl, tr_cluster_stats *out);

/* The master index that serves slot now, or TR_ENOT_FOUND. */
int tr_cluster_master_of(const tr_cluster *cl, int slot);

#endif
