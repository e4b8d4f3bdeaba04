/* node: start and stop a stock node; the parts live in serve.c (nng),
 * ops.c (operations) and coordloop.c (coordinator and ticker threads). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_ids.h"
#include "tr_err.h"
#include "tr_log.h"

void
tr_node_conf_defaults(tr_node_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->node_id, "n1");
	c->data_url = "tcp://127.0.0.1:7001";
	c->admin_url = NULL; /* main.c: tcp://127.0.0.1:<data port + 100> */
	c->data_contexts = 128;
	c->admin_contexts = 4;
	c->batch_max = 256;
	c->redis_host = "127.0.0.1";
	c->redis_port = 6379;
	c->redis_timeout_ms = 500;
	c->liveness_ttl_ms = 10000;
	c->sync_ms = 200;
	c->sweep_ms = 1000;
	c->refill_min = 8;
	c->refill_max = 4096;
	c->refill_horizon_ms = 250;
	c->lease_idle_ms = 5000;
	c->waiters_max = 4096;
	c->wait_timeout_ms = 1000;
	c->coord_queue_max = 65536;
	c->coord_pipeline_max = 512;
	c->confirm_wait_ms = 100;
	c->tombstones_max = 65536;
}

/* offline: tr_node_open_offline, which needs no URLs but a standalone
 * conf. */
static const char *
conf_check(const tr_node_conf *c, bool offline)
{
	if (!tr_node_id_valid(c->node_id))
		return "node id must be 1-16 chars of [A-Za-z0-9_-]";
	if (offline && !c->standalone)
		return "an offline node is a standalone node";
	if (!offline && (c->data_url == NULL || c->admin_url == NULL))
		return "both a data URL and an admin URL are needed";
	if (c->data_contexts < 1 || c->data_contexts > 4096)
		return "contexts must be 1..4096";
	if (c->admin_contexts < 1 || c->admin_contexts > 64)
		return "admin contexts must be 1..64";
	if (c->batch_max < 1 || c->batch_max > TR_BATCH_MAX_LIMIT)
		return "batch-max must be 1..1024";
	if (c->confirm_replicas < 0 ||
	    c->confirm_replicas > TR_NODE_CONFIRM_REPLICAS_MAX)
		return "confirm-replicas must be 0..16";
	if (c->confirm_replicas > 0 &&
	    (c->confirm_wait_ms < 1 ||
	        c->confirm_wait_ms > c->redis_timeout_ms / 2))
		return "confirm-wait must be 1ms .. half of redis-timeout";
	if (c->standalone && c->confirm_replicas > 0)
		return "confirm-replicas needs Redis (not --standalone)";
	if (c->standalone && c->event_count == 0)
		return "standalone mode needs at least one --event";
	if (!c->standalone && c->liveness_ttl_ms < 1000)
		return "liveness TTL must be at least 1s";
	if (c->waiters_max < 1 || c->coord_queue_max < 1 ||
	    c->coord_pipeline_max < 1 || c->coord_pipeline_max > 1024)
		return "queue bounds must be positive (pipeline <= 1024)";
	return NULL;
}

static void
free_evs_cb(tr_event *ev, void *arg)
{
	struct ev_state *es = ev->user_data;
	(void)arg;
	if (es != NULL) {
		free(es->ring);
		free(es);
		ev->user_data = NULL;
	}
}

static void
node_free(tr_node *n)
{
	serve_free(n);
	if (n->ledger != NULL) {
		tr_ledger_each_event(n->ledger, free_evs_cb, NULL);
		tr_ledger_free(n->ledger);
	}
	tr_coord_close(n->coord);
	free(n->events_copy);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static int
add_standalone_events(tr_node *n)
{
	for (size_t i = 0; i < n->conf.event_count; i++) {
		tr_event *ev;
		int rv =
		    tr_ledger_event_add(n->ledger, &n->conf.events[i], &ev);
		if (rv == 0)
			rv = ops_event_attach(n, ev);
		if (rv == 0 && ev->lease == 0)
			rv = tr_ledger_lease_grant(ev, ev->conf.total);
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* What a started and an offline node share: the ledger with its events
 * (standalone) or the coordinator connection. */
static int
node_new(const tr_node_conf *conf, bool offline, tr_node **out,
    const char **why)
{
	tr_ledger_limits lim = {0};
	tr_node *n;
	int rv;

	*out = NULL;
	if ((*why = conf_check(conf, offline)) != NULL)
		return TR_EINVALID;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return TR_ENOMEM;
	n->conf = *conf;
	n->offline = offline;
	snprintf(n->instance, sizeof(n->instance), "%016" PRIx64,
	    tr_random_u64());
	pthread_mutex_init(&n->lock, NULL);
	n->started_mono_ms = tr_mono_ms();
	lim.tombstones_max = conf->tombstones_max;
	*why = "out of memory";
	if ((n->ledger = tr_ledger_new(conf->node_id, &lim)) == NULL) {
		rv = TR_ENOMEM;
		goto fail;
	}
	if (conf->standalone) {
		size_t bytes = conf->event_count * sizeof(*conf->events);
		if ((n->events_copy = malloc(bytes)) == NULL) {
			rv = TR_ENOMEM;
			goto fail;
		}
		memcpy(n->events_copy, conf->events, bytes);
		n->conf.events = n->events_copy;
		if ((rv = add_standalone_events(n)) != 0) {
			*why = "bad or duplicate --event";
			goto fail;
		}
		atomic_store(&n->lease_valid_until, INT64_MAX);
	} else {
		tr_coord_opts o = {conf->redis_host, conf->redis_port,
		    conf->redis_timeout_ms, conf->redis_addrs,
		    conf->redis_cluster};
		if (tr_coord_open(&o, true, &n->coord) != 0) {
			if (n->coord == NULL) {
				rv = TR_ENOMEM;
				goto fail;
			}
			if (conf->redis_addrs != NULL)
				tr_warn("coordinator %s is down; serving what "
				        "we can and retrying",
				    conf->redis_addrs);
			else
				tr_warn("coordinator %s:%d is down; serving "
				        "what we can and retrying",
				    conf->redis_host, conf->redis_port);
		}
		atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	}
	*why = NULL;
	*out = n;
	return 0;
fail:
	node_free(n);
	return rv;
}

int
tr_node_start(const tr_node_conf *conf, tr_node **out, const char **why)
{
	tr_node *n;
	int rv;

	if ((rv = node_new(conf, false, out, why)) != 0)
		return rv;
	n = *out;
	*out = NULL;
	if ((rv = coordloop_start(n)) != 0) {
		*why = "out of memory";
		goto fail;
	}
	if ((rv = serve_start(n, why)) != 0) {
		coordloop_stop(n);
		serve_close(n);
		goto fail;
	}
	tr_info("node %s serving %s (admin %s), mode %s", conf->node_id,
	    conf->data_url, conf->admin_url,
	    conf->standalone
	        ? "standalone (orders in memory only: NOT durable)"
	        : "redis");
	*out = n;
	*why = NULL;
	return 0;
fail:
	node_free(n);
	return rv;
}

int
tr_node_open_offline(const tr_node_conf *conf, tr_node **out, const char **why)
{
	int rv;

	if ((rv = node_new(conf, true, out, why)) != 0)
		return rv;
	if ((rv = serve_start_offline(*out)) != 0) {
		*why = "out of memory";
		node_free(*out);
		*out = NULL;
	}
	return rv;
}

int
tr_node_handle_offline(tr_node *n, bool admin, const void *msg, size_t len,
    void **reply, size_t *reply_len)
{
	if (!n->offline)
		return TR_EINVALID;
	return serve_offline(n, admin, msg, len, reply, reply_len);
}

struct retire_all {
	tr_node *n;
	uint64_t returned;
};

/* Stopping: whatever the coordinator says this node's lease holds goes
 * back to the pool, so no ticket waits for a reclaim. Holds stay: they are
 * confirmable through any node until they expire. Runs after the threads
 * stopped, so this thread owns the connection. */
static void
retire_cb(tr_event *ev, void *arg)
{
	struct retire_all *g = arg;
	tr_call k, *kp = &k;
	uint64_t returned;

	tr_call_retire(&k, ev->conf.id, g->n->conf.node_id, ev->epoch);
	tr_coord_run(g->n->coord, &kp, 1);
	if (tr_result_retire(&k, &returned) == 0)
		g->returned += returned;
	else
		tr_warn("event %s: could not give the lease back (%s); it "
		        "returns when the lease is reclaimed",
		    ev->conf.id, tr_strerror(k.rv));
	tr_call_done(&k);
}

void
tr_node_stop(tr_node *n, int64_t grace_ms)
{
	int64_t deadline = tr_mono_ms() + grace_ms;

	if (n == NULL)
		return;
	atomic_store(&n->stopping, true);
	while (atomic_load(&n->busy) > 0 && tr_mono_ms() < deadline)
		tr_sleep_ms(5);
	if (atomic_load(&n->busy) > 0)
		tr_warn("stopping with %d request(s) unanswered",
		    atomic_load(&n->busy));
	coordloop_stop(n);
	serve_close(n);
	if (!n->conf.standalone && tr_coord_connected(n->coord) &&
	    atomic_load(&n->claimed)) {
		struct retire_all g = {n, 0};
		tr_call k, *kp = &k;
		tr_ledger_each_event(n->ledger, retire_cb, &g);
		tr_info("gave %" PRIu64 " ticket(s) back to the pool",
		    g.returned);
		/* Drop the liveness claim: a restart with this node id may
		 * claim it at once. */
		tr_call_leave(&k, n->conf.node_id, n->instance);
		tr_coord_run(n->coord, &kp, 1);
		tr_call_done(&k);
	}
	node_free(n);
}
