/* tr_cluster: slot map, one connection per master, redirections. */
#include "tr_cluster.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_clock.h"
#include "tr_err.h"
#include "tr_log.h"
#include "tr_rconn.h"

struct tr_cluster {
	tr_slot_master seeds[TR_CLUSTER_SEEDS_MAX];
	size_t nseeds;
	int timeout_ms;
	tr_cluster_hook hook;
	void *arg;
	bool up;
	redisContext *conn[TR_SLOT_MASTERS_MAX]; /* by master index */
	tr_slot_map map;
	tr_slot_map next; /* a refresh builds here, then swaps */
	tr_cluster_stats stats;
};

int
tr_cluster_new(const tr_slot_master *seeds, size_t nseeds, int timeout_ms,
    tr_cluster_hook hook, void *arg, tr_cluster **out)
{
	tr_cluster *cl;

	*out = NULL;
	if (nseeds == 0 || nseeds > TR_CLUSTER_SEEDS_MAX)
		return TR_EINVALID;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return TR_ENOMEM;
	memcpy(cl->seeds, seeds, nseeds * sizeof(*seeds));
	cl->nseeds = nseeds;
	cl->timeout_ms = timeout_ms > 0 ? timeout_ms : 500;
	cl->hook = hook;
	cl->arg = arg;
	tr_slot_map_reset(&cl->map);
	*out = cl;
	return 0;
}

static void
drop(tr_cluster *cl, int m, const char *why)
{
	const tr_slot_master *a = tr_slot_map_master(&cl->map, m);

	if (cl->conn[m] == NULL)
		return;
	tr_warn("coordinator %s:%d (cluster master %d) connection dropped: "
	        "%s",
	    a ? a->host : "?", a ? a->port : 0, m, why);
	redisFree(cl->conn[m]);
	cl->conn[m] = NULL;
}

void
tr_cluster_drop_connections(tr_cluster *cl)
{
	for (int m = 0; m < TR_SLOT_MASTERS_MAX; m++)
		if (cl->conn[m] != NULL) {
			redisFree(cl->conn[m]);
			cl->conn[m] = NULL;
		}
}

void
tr_cluster_free(tr_cluster *cl)
{
	if (cl == NULL)
		return;
	tr_cluster_drop_connections(cl);
	free(cl);
}

/* One entry of CLUSTER SLOTS: {start, end, {host, port, ...}, replicas}.
 * An empty host is the one we asked (Redis sends it when it does not know
 * its own address). */
static int
add_entry(tr_slot_map *m, const redisReply *e, const char *asked)
{
	const redisReply *node;
	const char *host;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER ||
	    (node = e->element[2])->type != REDIS_REPLY_ARRAY ||
	    node->elements < 2 ||
	    node->element[0]->type != REDIS_REPLY_STRING ||
	    node->element[1]->type != REDIS_REPLY_INTEGER ||
	    e->element[0]->integer < 0 ||
	    e->element[1]->integer >= TR_SLOT_COUNT ||
	    node->element[1]->integer < 1 || node->element[1]->integer > 65535)
		return TR_EPROTO;
	host = node->element[0]->len > 0 ? node->element[0]->str : asked;
	return tr_slot_map_add_range(m, (int)e->element[0]->integer,
	    (int)e->element[1]->integer, host, (int)node->element[1]->integer);
}

/* CLUSTER SLOTS of host:port into cl->next. 0 or an error. */
static int
read_map(tr_cluster *cl, const char *host, int port)
{
	redisContext *ctx = tr_rconn_open(host, port, cl->timeout_ms);
	redisReply *r;
	int rv = 0;

	if (ctx == NULL)
		return TR_EUNAVAILABLE;
	r = redisCommand(ctx, "CLUSTER SLOTS");
	cl->stats.commands++;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		tr_warn("coordinator %s:%d: CLUSTER SLOTS: %s", host, port,
		    r == NULL                          ? ctx->errstr
		        : r->type == REDIS_REPLY_ERROR ? r->str
		                                       : "no slots");
		rv = TR_EUNAVAILABLE;
		goto out;
	}
	tr_slot_map_reset(&cl->next);
	for (size_t i = 0; i < r->elements && rv == 0; i++)
		rv = add_entry(&cl->next, r->element[i], host);
	if (rv != 0)
		tr_warn("coordinator %s:%d: CLUSTER SLOTS unusable: %s", host,
		    port, tr_strerror(rv));
out:
	if (r != NULL)
		freeReplyObject(r);
	redisFree(ctx);
	return rv;
}

/* Swap in cl->next, keeping the connections to masters it still names. */
static void
adopt_next(tr_cluster *cl)
{
	redisContext *kept[TR_SLOT_MASTERS_MAX] = {0};

	for (int i = 0; i < cl->next.nmasters; i++) {
		const tr_slot_master *n = &cl->next.masters[i];
		for (int j = 0; j < cl->map.nmasters; j++) {
			const tr_slot_master *o = &cl->map.masters[j];
			if (cl->conn[j] != NULL && o->port == n->port &&
			    strcmp(o->host, n->host) == 0) {
				kept[i] = cl->conn[j];
				cl->conn[j] = NULL;
				break;
			}
		}
	}
	tr_cluster_drop_connections(cl);
	memcpy(cl->conn, kept, sizeof(kept));
	memcpy(&cl->map, &cl->next, sizeof(cl->map));
}

int
tr_cluster_refresh(tr_cluster *cl)
{
	/* Candidates: the known masters, then the seeds; each once. */
	tr_slot_master cand[TR_SLOT_MASTERS_MAX + TR_CLUSTER_SEEDS_MAX];
	size_t n = 0;

	for (int i = 0; i < cl->map.nmasters; i++)
		cand[n++] = cl->map.masters[i];
	for (size_t i = 0; i < cl->nseeds; i++)
		cand[n++] = cl->seeds[i];
	for (size_t i = 0; i < n; i++) {
		if (read_map(cl, cand[i].host, cand[i].port) != 0)
			continue;
		adopt_next(cl);
		cl->up = true;
		cl->stats.refreshes++;
		if (!tr_slot_map_covered(&cl->map))
			tr_warn("coordinator: the cluster serves only part of "
			        "its slots (%d masters)",
			    cl->map.nmasters);
		tr_info("coordinator: cluster map read from %s:%d, %d "
		        "masters",
		    cand[i].host, cand[i].port, cl->map.nmasters);
		return 0;
	}
	cl->up = false;
	return TR_EUNAVAILABLE;
}

bool
tr_cluster_up(const tr_cluster *cl)
{
	return cl->up;
}

int
tr_cluster_masters(const tr_cluster *cl)
{
	return cl->map.nmasters;
}

int
tr_cluster_master_of(const tr_cluster *cl, int slot)
{
	return tr_slot_map_lookup(&cl->map, slot);
}

void
tr_cluster_stats_get(const tr_cluster *cl, tr_cluster_stats *out)
{
	*out = cl->stats;
}

/* The connection to master m, made (and the hook run) if there is none. */
static redisContext *
conn_of(tr_cluster *cl, int m)
{
	const tr_slot_master *a = tr_slot_map_master(&cl->map, m);
	redisContext *ctx;

	if (cl->conn[m] != NULL)
		return cl->conn[m];
	if (a == NULL ||
	    (ctx = tr_rconn_open(a->host, a->port, cl->timeout_ms)) == NULL)
		return NULL;
	if (cl->hook != NULL && cl->hook(ctx, cl->arg) != 0) {
		redisFree(ctx);
		return NULL;
	}
	cl->stats.connects++;
	cl->conn[m] = ctx;
	return ctx;
}

/* The index of host:port among the masters, or -1. */
static int
master_at(const tr_cluster *cl, const char *host, int port)
{
	for (int i = 0; i < cl->map.nmasters; i++)
		if (cl->map.masters[i].port == port &&
		    strcmp(cl->map.masters[i].host, host) == 0)
			return i;
	return -1;
}

/* The master's connection failed: its unanswered commands get code, and
 * the cluster is down until the map is read again. */
static void
master_failed(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n, int m,
    int code, int *worst)
{
	for (size_t i = 0; i < n; i++)
		if (cmds[i]->rv == TR_EPENDING && cmds[i]->to == m) {
			cmds[i]->rv = cmds[i]->sent ? code : TR_EUNAVAILABLE;
			cmds[i]->reply = NULL;
		}
	if (*worst == 0)
		*worst = code;
	cl->up = false;
}

/* What a round decided beyond the answers. */
struct round {
	bool pause;   /* a TRYAGAIN: wait before the next round */
	bool refresh; /* the map is wrong beyond one MOVED: read it again */
};

/* One answer of master m for k: kept, or a redirection followed. */
static void
answer(tr_cluster *cl, tr_cluster_cmd *k, int m, redisReply *r,
    struct round *rd)
{
	tr_slot_redirect to;

	if (r->type == REDIS_REPLY_ERROR &&
	    tr_slot_redirect_parse(r->str, r->len, &to) == 0) {
		if (to.host[0] == '\0')
			memcpy(to.host, cl->map.masters[m].host,
			    strlen(cl->map.masters[m].host) + 1);
		if (to.kind == TR_SLOT_MOVED) {
			cl->stats.moved++;
			k->ask = -1;
			if (tr_slot_map_apply_moved(&cl->map, to.slot, to.host,
			        to.port) != 0)
				rd->refresh = true;
		} else {
			cl->stats.ask++;
			/* A master the map does not know yet (it serves no
			 * slot): read the map, and go to the slot's master
			 * again, which will ask again. */
			if ((k->ask = master_at(cl, to.host, to.port)) < 0)
				rd->refresh = true;
		}
		freeReplyObject(r);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR && r->len >= 8 &&
	    memcmp(r->str, "TRYAGAIN", 8) == 0) {
		/* Where it went again (with ASKING if it was asked). */
		cl->stats.tryagain++;
		rd->pause = true;
		freeReplyObject(r);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR && r->len >= 11 &&
	    memcmp(r->str, "CLUSTERDOWN", 11) == 0) {
		/* Not run: the slot has no master that serves it now. */
		tr_warn("coordinator: %s", r->str);
		rd->refresh = true;
		k->rv = TR_EUNAVAILABLE;
		freeReplyObject(r);
		return;
	}
	k->reply = r;
	k->rv = 0;
}

/* Append WAIT after master m's pending commands when any asked for it:
 * the largest count and timeout asked. Returns whether one was appended
 * (false also when appending failed: the commands then read as not
 * replicated). */
static bool
append_wait(tr_cluster *cl, redisContext *ctx, tr_cluster_cmd *const *cmds,
    size_t n, int m)
{
	int replicas = 0, ms = 0;

	for (size_t i = 0; i < n; i++) {
		const tr_cluster_cmd *k = cmds[i];
		if (k->rv != TR_EPENDING || k->to != m ||
		    k->wait_replicas <= 0)
			continue;
		if (k->wait_replicas > replicas)
			replicas = k->wait_replicas;
		if (k->wait_ms > ms)
			ms = k->wait_ms;
	}
	if (replicas == 0 ||
	    tr_rconn_wait_append(ctx, replicas, ms, cl->timeout_ms) != 0)
		return false;
	cl->stats.commands++;
	return true;
}

/* Send every pending command routed to master m, in order, and a WAIT
 * after them if one asked (*wait). Returns false when the connection
 * failed (master_failed was called). */
static bool
send_to(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n, int m,
    bool *wait, int *worst)
{
	static const char *asking[] = {"ASKING"};
	redisContext *ctx = conn_of(cl, m);
	int done = 0;

	*wait = false;

	if (ctx == NULL) {
		master_failed(cl, cmds, n, m, TR_EUNAVAILABLE, worst);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		tr_cluster_cmd *k = cmds[i];
		if (k->rv != TR_EPENDING || k->to != m)
			continue;
		if ((k->ask >= 0 &&
		        redisAppendCommandArgv(ctx, 1, asking, NULL) !=
		            REDIS_OK) ||
		    redisAppendCommandArgv(ctx, k->argc, k->argv,
		        k->argvlen) != REDIS_OK) {
			/* Out of memory; nothing of this round was written
			 * to this master yet. */
			drop(cl, m, "append failed (out of memory)");
			master_failed(cl, cmds, n, m, TR_EUNAVAILABLE, worst);
			return false;
		}
		cl->stats.commands += k->ask >= 0 ? 2 : 1;
	}
	*wait = append_wait(cl, ctx, cmds, n, m);
	/* Write it all now, so that every master works while we read. */
	while (!done) {
		if (redisBufferWrite(ctx, &done) != REDIS_OK) {
			int code = tr_rconn_error(ctx);
			for (size_t i = 0; i < n; i++)
				if (cmds[i]->rv == TR_EPENDING &&
				    cmds[i]->to == m)
					cmds[i]->sent = true;
			drop(cl, m, ctx->errstr);
			master_failed(cl, cmds, n, m, code, worst);
			return false;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (cmds[i]->rv == TR_EPENDING && cmds[i]->to == m)
			cmds[i]->sent = true;
	return true;
}

/* WAIT's answer on master m: the replicas of every command it covers
 * (answered in this round and asking), -1 when it is not a count. */
static void
read_wait(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n, int m,
    int *worst)
{
	redisContext *ctx = cl->conn[m];
	long long got;
	int code;

	if ((code = tr_rconn_wait_read(ctx, &got)) != 0) {
		drop(cl, m, ctx->errstr[0] ? ctx->errstr : "no reply to WAIT");
		master_failed(cl, cmds, n, m, code, worst);
	}
	for (size_t i = 0; i < n; i++)
		if (cmds[i]->waiting && cmds[i]->to == m) {
			cmds[i]->replicas = got;
			cmds[i]->waiting = false;
		}
}

/* Read master m's answers, in the order send_to wrote them, then the
 * WAIT's if one was sent. */
static void
read_from(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n, int m,
    bool wait, struct round *rd, int *worst)
{
	redisContext *ctx = cl->conn[m];

	for (size_t i = 0; i < n; i++) {
		tr_cluster_cmd *k = cmds[i];
		redisReply *r = NULL;
		int asked = k->ask;
		if (k->rv != TR_EPENDING || k->to != m)
			continue;
		if (asked >= 0) {
			/* ASKING's +OK; an error would show in the next
			 * answer (a MOVED back to the map's master). */
			if (redisGetReply(ctx, (void **)&r) != REDIS_OK ||
			    r == NULL)
				goto failed;
			freeReplyObject(r);
			r = NULL;
		}
		if (redisGetReply(ctx, (void **)&r) != REDIS_OK || r == NULL)
			goto failed;
		/* A TRYAGAIN keeps k->ask: the command goes where it went. */
		answer(cl, k, m, r, rd);
		if (k->rv == TR_EPENDING)
			k->hops++;
		else if (k->rv == 0 && wait && k->wait_replicas > 0)
			k->waiting = true;
		continue;
	failed : {
		int code = tr_rconn_error(ctx);
		drop(cl, m, ctx->errstr[0] ? ctx->errstr : "no reply");
		master_failed(cl, cmds, n, m, code, worst);
		for (size_t j = 0; j < n; j++)
			cmds[j]->waiting = false;
		return;
	}
	}
	if (wait)
		read_wait(cl, cmds, n, m, worst);
}

int
tr_cluster_run(tr_cluster *cl, tr_cluster_cmd *const *cmds, size_t n)
{
	bool refreshed = false;
	int worst = 0;

	for (size_t i = 0; i < n; i++) {
		cmds[i]->reply = NULL;
		cmds[i]->rv = cl->up ? TR_EPENDING : TR_EUNAVAILABLE;
		cmds[i]->ask = -1;
		cmds[i]->hops = 0;
		cmds[i]->to = -1;
		cmds[i]->replicas = -1;
		cmds[i]->waiting = false;
	}
	if (!cl->up)
		return TR_EUNAVAILABLE;
	for (int round = 0; round <= TR_CLUSTER_REDIRECTS_MAX && cl->up;
	     round++) {
		bool used[TR_SLOT_MASTERS_MAX] = {false};
		bool wait[TR_SLOT_MASTERS_MAX] = {false};
		struct round rd = {false, false};
		bool any = false;

		for (size_t i = 0; i < n; i++) {
			tr_cluster_cmd *k = cmds[i];
			if (k->rv != TR_EPENDING)
				continue;
			if (k->hops > TR_CLUSTER_REDIRECTS_MAX) {
				tr_warn("coordinator: a command was "
				        "redirected %d times: not sent again",
				    k->hops);
				k->rv = TR_EUNAVAILABLE;
				continue;
			}
			k->sent = false;
			k->to = k->ask >= 0 ? k->ask
			    : k->master >= 0
			    ? k->master
			    : tr_slot_map_lookup(&cl->map, k->slot);
			if (k->to < 0 || k->to >= cl->map.nmasters) {
				/* A hole in the map: not run. */
				k->rv = TR_EUNAVAILABLE;
				rd.refresh = true;
				continue;
			}
			used[k->to] = any = true;
		}
		if (!any)
			break;
		for (int m = 0; m < cl->map.nmasters; m++)
			if (used[m] &&
			    !send_to(cl, cmds, n, m, &wait[m], &worst))
				used[m] = false;
		for (int m = 0; m < cl->map.nmasters; m++)
			if (used[m] && cl->conn[m] != NULL)
				read_from(cl, cmds, n, m, wait[m], &rd,
				    &worst);
		if (rd.refresh && !refreshed && cl->up) {
			/* Bounded: once a run. */
			refreshed = true;
			if (tr_cluster_refresh(cl) != 0 && worst == 0)
				worst = TR_EUNAVAILABLE;
			/* Master indexes changed: ask the slot's master. */
			for (size_t i = 0; i < n; i++)
				cmds[i]->ask = -1;
		}
		/* (None after the last round: nothing is sent again.) */
		if (rd.pause && cl->up && round < TR_CLUSTER_REDIRECTS_MAX)
			tr_sleep_ms(TR_CLUSTER_TRYAGAIN_MS * (round + 1));
	}
	for (size_t i = 0; i < n; i++)
		if (cmds[i]->rv == TR_EPENDING)
			cmds[i]->rv = TR_EUNAVAILABLE; /* not run */
	return worst;
}
