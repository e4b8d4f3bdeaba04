/* coordloop: stockd's coordinator thread (every Redis call, pipelined) and
 * its ticker thread (hold expiry, waiter timeouts, prefetch, idle returns).
 *
 * The coordinator thread owns the tr_coord connection. Besides the jobs the
 * request path queues, it keeps this process's claim on its node id (the
 * liveness key), discovers new events, syncs global figures, the node's
 * epochs and leases, ends overdue holds of any node and reclaims the
 * leases of nodes whose liveness lapsed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

#define TICK_MS 10
#define RECONNECT_MIN_MS 50
#define RECONNECT_MAX_MS 2000

struct loop_state {
	int64_t next_reconnect, reconnect_backoff;
	int64_t next_heartbeat, next_sync, next_sweep;
	uint64_t scan_cursor; /* the sweeper's slow pass over all events */
	int64_t connected_at; /* when the connection last came up */
	int64_t last_claim;   /* when the last successful heartbeat left */
	bool synced;          /* every epoch checked since connected_at */
	bool told_taken;
	uint64_t index_cursor; /* this process's pass over its own index */
	bool index_adopted;
};

int
coord_submit(tr_node *n, struct job *j)
{
	pthread_mutex_lock(&n->qlock);
	if (n->qlen >= n->conf.coord_queue_max || atomic_load(&n->quit)) {
		pthread_mutex_unlock(&n->qlock);
		return TR_EOVERLOADED;
	}
	j->next = NULL;
	if (n->qtail)
		n->qtail->next = j;
	else
		n->qhead = j;
	n->qtail = j;
	n->qlen++;
	pthread_cond_signal(&n->qcond);
	pthread_mutex_unlock(&n->qlock);
	return 0;
}

/* Take up to max jobs, waiting at most until deadline (monotonic ms). */
static size_t
take_jobs(tr_node *n, struct job **out, size_t max, int64_t deadline)
{
	size_t k = 0;

	pthread_mutex_lock(&n->qlock);
	while (n->qhead == NULL && !atomic_load(&n->quit)) {
		int64_t wait = deadline - tr_mono_ms();
		struct timespec ts;
		if (wait <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&n->qcond, &n->qlock, &ts);
	}
	while (n->qhead != NULL && k < max) {
		out[k++] = n->qhead;
		n->qhead = n->qhead->next;
		n->qlen--;
	}
	if (n->qhead == NULL)
		n->qtail = NULL;
	pthread_mutex_unlock(&n->qlock);
	return k;
}

/* ---- known events (snapshot for the loop) ------------------------------ */

struct ev_ref {
	tr_event *ev;
	char id[TR_EVENT_ID_MAX + 1];
	uint64_t epoch;
};

struct ev_list {
	struct ev_ref *v;
	size_t n, cap;
	int64_t now;
};

static void
collect_cb(tr_event *ev, void *arg)
{
	struct ev_list *l = arg;
	if (!event_busy(ev, l->now))
		return; /* quiet: costs nothing */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct ev_ref *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].ev = ev;
	l->v[l->n].epoch = ev->epoch;
	memcpy(l->v[l->n].id, ev->conf.id, sizeof(l->v[l->n].id));
	l->n++;
}

/* The events this node is busy with. */
static void
events_snapshot(tr_node *n, struct ev_list *l)
{
	l->n = 0;
	l->now = tr_mono_ms();
	pthread_mutex_lock(&n->lock);
	tr_ledger_each_event(n->ledger, collect_cb, l);
	pthread_mutex_unlock(&n->lock);
}

/* ---- create event (admin) ----------------------------------------------- */

static void
create_event(tr_node *n, struct job *j, struct finish_list *f)
{
	struct slot *s = j->slot;
	bool created = false;
	tr_event *ev = NULL;
	int rv = tr_result_create_event(&j->call, &created);

	if (rv == 0)
		rv = tr_coord_event_publish(n->coord, j->event_id);
	if (rv == 0) {
		pthread_mutex_lock(&n->lock);
		ev = tr_ledger_event_get(n->ledger, j->event_id);
		pthread_mutex_unlock(&n->lock);
		if (ev == NULL)
			rv = register_event(n, j->event_id, &ev);
	}
	pthread_mutex_lock(&n->lock);
	if (rv == 0) {
		ops_fill_event(n, s, ev);
		snprintf(s->detail, sizeof(s->detail), "%s",
		    created ? "created" : "exists with the same settings");
	} else {
		snprintf(s->detail, sizeof(s->detail), "%s",
		    rv == TR_EDUPLICATE ? "event exists with other settings"
		        : j->call.detail[0] ? j->call.detail
		                            : "coordinator unavailable");
		if (rv == TR_EIO || rv == TR_ETIMEDOUT)
			rv = TR_EUNAVAILABLE;
	}
	tr_reply_set(&s->reply, rv, s->detail);
	pthread_mutex_unlock(&n->lock);
	finish_add(f, s);
	if (created)
		tr_info("event %s created: %" PRIu64 " tickets", j->event_id,
		    j->conf.total);
}

/* ---- top up, close, reopen (admin) ----------------------------------------
 */

/* The script's message after its code ("TR_INVALID total would be ..."). */
static const char *
script_reason(const tr_call *k)
{
	const char *p = strstr(k->detail, "TR_");
	const char *sp = p ? strchr(p, ' ') : NULL;
	return sp ? sp + 1 : k->detail;
}

static void
sale_done(tr_node *n, struct job *j, struct finish_list *f)
{
	struct slot *s = j->slot;
	tr_event_figures fig;
	uint64_t total = 0, pool = 0;
	bool changed = false;
	tr_event *ev = NULL;
	int rv = j->kind == JOB_TOPUP
	    ? tr_result_topup(&j->call, &total, &pool)
	    : tr_result_close(&j->call, &changed, &fig);

	if (rv == 0) {
		pthread_mutex_lock(&n->lock);
		ev = tr_ledger_event_get(n->ledger, j->event_id);
		pthread_mutex_unlock(&n->lock);
		/* An event this node never met: register it, as create does
		 * (registering reads the new total and the flag). */
		if (ev == NULL)
			rv = register_event(n, j->event_id, &ev);
	}
	pthread_mutex_lock(&n->lock);
	if (rv == 0) {
		struct ev_state *es = evs_of(ev);
		if (j->kind == JOB_TOPUP) {
			tr_ledger_event_total_set(ev, total);
			es->pool_known = pool;
			es->pool_empty = pool == 0;
			es->global_at_ms = tr_wall_ms();
			es->known_mono_ms = tr_mono_ms();
			snprintf(s->detail, sizeof(s->detail),
			    "added %" PRIu64 " ticket(s): total %" PRIu64
			    ", pool %" PRIu64,
			    j->n, total, pool);
		} else {
			apply_closed(n, ev, j->n == 1, f);
			snprintf(s->detail, sizeof(s->detail), "%s%s",
			    changed ? "" : "already ",
			    j->n == 1 ? "closed" : "open");
		}
		ops_fill_event(n, s, ev);
	} else if (rv == TR_ENOT_FOUND) {
		snprintf(s->detail, sizeof(s->detail), "no event %s",
		    j->event_id);
	} else if (rv == TR_EINVALID) {
		snprintf(s->detail, sizeof(s->detail), "%s",
		    script_reason(&j->call));
	} else {
		/* A top-up whose answer was lost may have been applied:
		 * adding again would add twice. */
		snprintf(s->detail, sizeof(s->detail),
		    "coordinator did not "
		    "answer%s",
		    j->kind == JOB_TOPUP
		        ? ": the top-up may have "
		          "been applied; read the event's total before trying "
		          "again"
		        : "; retry");
		rv = TR_EUNAVAILABLE;
	}
	tr_reply_set(&s->reply, rv, s->detail);
	pthread_mutex_unlock(&n->lock);
	finish_add(f, s);
	if (rv == 0)
		tr_info("event %s: %s", j->event_id, s->detail);
}

/* ---- periodic work ------------------------------------------------------ */

/* Claim (or keep) this process's hold on its node id. Selling is allowed
 * until a little before the key could lapse, and only once the epochs
 * were checked since the connection came up (synced). */
static void
heartbeat(tr_node *n, struct loop_state *ls)
{
	int64_t sent = tr_mono_ms();
	uint64_t ttl = n->conf.liveness_ttl_ms;
	tr_call k, *kp = &k;

	tr_call_heartbeat(&k, n->conf.node_id, n->instance, ttl);
	tr_coord_run(n->coord, &kp, 1);
	atomic_fetch_add(&n->coord_calls, 1);
	if (k.rv == 0) {
		ls->reconnect_backoff = RECONNECT_MIN_MS;
		if (!atomic_load(&n->claimed))
			tr_info("node %s: liveness claimed (instance %s)",
			    n->conf.node_id, n->instance);
		atomic_store(&n->claimed, true);
		ls->last_claim = sent;
		/* Stop selling a little before the key may lapse: a lapsed
		 * node's lease may be reclaimed by another node. */
		if (ls->synced)
			atomic_store(&n->lease_valid_until,
			    sent + (int64_t)(ttl - ttl / 5));
	} else if (k.rv == TR_EDUPLICATE) {
		if (atomic_load(&n->claimed) || !ls->told_taken)
			tr_warn("node %s: another live process holds this "
			        "node id (%s); not serving until its liveness "
			        "lapses",
			    n->conf.node_id, k.detail);
		ls->told_taken = true;
		atomic_store(&n->claimed, false);
	}
	tr_call_done(&k);
}

static void
sync_events(tr_node *n, struct ev_list *evs)
{
	tr_call *calls, **ptrs;
	struct finish_list f = {0};
	int rv;

	if (evs->n == 0)
		return;
	calls = malloc(evs->n * sizeof(*calls));
	ptrs = malloc(evs->n * sizeof(*ptrs));
	if (calls == NULL || ptrs == NULL)
		goto out;
	for (size_t i = 0; i < evs->n; i++) {
		tr_call_sync(&calls[i], evs->v[i].id, n->conf.node_id,
		    EXPIRE_GRACE_MS, EXPIRE_DUE_MAX);
		ptrs[i] = &calls[i];
	}
	rv = tr_coord_run(n->coord, ptrs, evs->n);
	atomic_fetch_add(&n->coord_calls, evs->n);
	pthread_mutex_lock(&n->lock);
	for (size_t i = 0; rv == 0 && i < evs->n; i++) {
		tr_event_figures fig;
		if (tr_result_sync(&calls[i], &fig) == 0)
			apply_sync(n, evs->v[i].ev, &fig, &f);
	}
	pthread_mutex_unlock(&n->lock);
	finish_all(&f);
	for (size_t i = 0; i < evs->n; i++)
		tr_call_done(&calls[i]);
out:
	free(f.v);
	free(calls);
	free(ptrs);
}

/* ---- the sweeper -----------------------------------------------------------
 */

#define SWEEP_NODES_MAX 1024
#define SWEEP_PAGE 256
#define SWEEP_PAGES_MAX 64 /* 16,384 events of one dead node per sweep */

/* One event of a dead node: its lease back to the pool, overdue holds
 * ended; the event leaves the node's index when nothing of it is left. */
static void
reap(tr_node *n, const char *node, const char *event_id, uint64_t epoch)
{
	tr_call k, *kp = &k;
	bool reclaimed = false;
	uint64_t returned = 0;
	int64_t held = -1;

	tr_call_reclaim(&k, event_id, node, epoch, EXPIRE_GRACE_MS,
	    EXPIRE_DUE_MAX);
	tr_coord_run(n->coord, &kp, 1);
	atomic_fetch_add(&n->coord_calls, 1);
	if (tr_result_reclaim(&k, &reclaimed, &returned, &held) == 0 &&
	    reclaimed)
		tr_warn("event %s: node %s is gone (liveness lapsed): "
		        "reclaimed its lease of %" PRIu64
		        " ticket(s) into the "
		        "pool; its holds stay confirmable",
		    event_id, node, returned);
	tr_call_done(&k);
	if (held != 0)
		return; /* back (its epoch moved), or holds left to expire */
	tr_call_unindex(&k, node, event_id);
	tr_coord_run(n->coord, &kp, 1);
	atomic_fetch_add(&n->coord_calls, 1);
	tr_call_done(&k);
}

/* A page of a dead node's events: each event's epoch of the node first,
 * then its liveness once more, then the reclaims, each only if that epoch
 * is still current (lib/coord/lua/reclaim.lua: the liveness key is in
 * another slot than the event's, so the script cannot read it; reading
 * the epoch before the liveness makes the reclaim safe without it).
 * Returns false when the node is back or Redis failed: stop there. */
static bool
reap_page(tr_node *n, char (*node)[TR_NODE_ID_MAX + 1],
    char (*page)[TR_EVENT_ID_MAX + 1], uint64_t *epochs, size_t got)
{
	bool alive = true;

	for (size_t e = 0; e < got; e++) {
		if (tr_coord_epoch_of(n->coord, page[e], node[0],
		        &epochs[e]) != 0)
			return false;
		atomic_fetch_add(&n->coord_calls, 1);
	}
	if (tr_coord_alive_many(n->coord, node, 1, &alive) != 0 || alive)
		return false;
	atomic_fetch_add(&n->coord_calls, 1);
	for (size_t e = 0; e < got; e++)
		reap(n, node[0], page[e], epochs[e]);
	return true;
}

/* Every dead node's events, through its index: the cost follows dead
 * nodes and their events, not all events. */
static void
sweep_dead(tr_node *n)
{
	char(*nodes)[TR_NODE_ID_MAX + 1] =
	    malloc(SWEEP_NODES_MAX * sizeof(*nodes));
	char(*page)[TR_EVENT_ID_MAX + 1] = malloc(SWEEP_PAGE * sizeof(*page));
	uint64_t *epochs = malloc(SWEEP_PAGE * sizeof(*epochs));
	bool *alive = malloc(SWEEP_NODES_MAX * sizeof(*alive));
	size_t count = 0;

	if (nodes == NULL || page == NULL || epochs == NULL || alive == NULL ||
	    tr_coord_node_list(n->coord, nodes, SWEEP_NODES_MAX, &count) !=
	        0 ||
	    tr_coord_alive_many(n->coord, nodes, count, alive) != 0)
		goto out;
	atomic_fetch_add(&n->coord_calls, 2);
	for (size_t i = 0; i < count && tr_coord_connected(n->coord); i++) {
		uint64_t cursor = 0;
		size_t seen = 0;
		if (alive[i] || strcmp(nodes[i], n->conf.node_id) == 0)
			continue;
		for (int p = 0; p < SWEEP_PAGES_MAX; p++) {
			size_t got;
			if (tr_coord_index_page(n->coord, nodes[i], &cursor,
			        page, SWEEP_PAGE, &got) != 0)
				break;
			atomic_fetch_add(&n->coord_calls, 1);
			if (got > 0 &&
			    !reap_page(n, &nodes[i], page, epochs, got)) {
				seen += got; /* not empty: it stays */
				break;
			}
			seen += got;
			if (cursor == 0)
				break;
		}
		if (seen == 0 && cursor == 0) {
			/* Nothing left: the node leaves tr:{#}:nodes. */
			tr_call k, *kp = &k;
			tr_call_unindex(&k, nodes[i], "");
			tr_coord_run(n->coord, &kp, 1);
			tr_call_done(&k);
		}
	}
out:
	free(nodes);
	free(page);
	free(epochs);
	free(alive);
}

/* A slow pass over every event, SWEEP_SCAN_PER_S a second: ended holds
 * older than an hour are pruned and overdue ones ended, also for events no
 * node is busy with. */
static void
sweep_scan(tr_node *n, struct loop_state *ls)
{
	size_t want = SWEEP_SCAN_PER_S * n->conf.sweep_ms / 1000;
	char(*ids)[TR_EVENT_ID_MAX + 1];
	size_t got = 0;

	if (want < 1)
		want = 1;
	ids = malloc(want * sizeof(*ids));
	if (ids == NULL ||
	    tr_coord_event_page(n->coord, &ls->scan_cursor, ids, want, &got) !=
	        0) {
		free(ids);
		return;
	}
	atomic_fetch_add(&n->coord_calls, 1);
	for (size_t i = 0; i < got; i++) {
		tr_call k, *kp = &k;
		uint64_t expired = 0, pruned = 0;
		tr_call_expire_due(&k, ids[i], EXPIRE_GRACE_MS, EXPIRE_DUE_MAX,
		    ENDED_KEEP_MS, EXPIRE_PRUNE_MAX);
		tr_coord_run(n->coord, &kp, 1);
		atomic_fetch_add(&n->coord_calls, 1);
		if (tr_result_expire_due(&k, &expired, &pruned) == 0 &&
		    expired > 0)
			tr_info("event %s: %" PRIu64
			        " overdue hold(s) ended by "
			        "the sweep; tickets back to the pool",
			    ids[i], expired);
		tr_call_done(&k);
	}
	free(ids);
}

/* A node killed and restarted under the same id is alive again before the
 * sweeper sees it dead, so nobody would give back what the earlier
 * incarnation leased in events this process is never asked about. Once
 * per process, after its first claim, it registers every event of its own
 * index (registering returns an earlier lease to the pool), a page of 256
 * per sync period. */
static void
adopt_index(tr_node *n, struct loop_state *ls)
{
	char(*page)[TR_EVENT_ID_MAX + 1] = malloc(SWEEP_PAGE * sizeof(*page));
	size_t got = 0;
	bool failed = false;

	if (page == NULL ||
	    tr_coord_index_page(n->coord, n->conf.node_id, &ls->index_cursor,
	        page, SWEEP_PAGE, &got) != 0) {
		free(page);
		return;
	}
	atomic_fetch_add(&n->coord_calls, 1);
	for (size_t i = 0; i < got; i++) {
		tr_event *ev;
		int rv;
		pthread_mutex_lock(&n->lock);
		ev = tr_ledger_event_get(n->ledger, page[i]);
		pthread_mutex_unlock(&n->lock);
		if (ev != NULL)
			continue;
		rv = register_event(n, page[i], &ev);
		if (rv == TR_EUNAVAILABLE || rv == TR_EIO ||
		    rv == TR_ETIMEDOUT)
			failed = true; /* else logged, and left */
	}
	free(page);
	if (failed) {
		/* Start the pass again; known events are skipped. */
		ls->index_cursor = 0;
	} else if (ls->index_cursor == 0) {
		ls->index_adopted = true;
		tr_info("node %s: events of earlier incarnations taken back",
		    n->conf.node_id);
	}
}

/* One node at a time sweeps: the role is a lease renewed every sweep,
 * taken over when its holder stops renewing. A node sweeps only after a
 * liveness TTL connected: after a coordinator outage, the first node back
 * must not reclaim the peers still reconnecting. */
static void
sweep(tr_node *n, struct loop_state *ls, int64_t now)
{
	tr_call k, *kp = &k;
	char me[TR_NODE_ID_MAX + 20];
	bool mine = false;

	if (now - ls->connected_at < (int64_t)n->conf.liveness_ttl_ms)
		return;
	snprintf(me, sizeof(me), "%s:%s", n->conf.node_id, n->instance);
	tr_call_sweeper(&k, me, n->conf.sweep_ms * TR_SWEEPER_LEASE_SWEEPS);
	tr_coord_run(n->coord, &kp, 1);
	atomic_fetch_add(&n->coord_calls, 1);
	if (tr_result_sweeper(&k, &mine) != 0)
		mine = false;
	tr_call_done(&k);
	if (!mine)
		return;
	sweep_dead(n);
	sweep_scan(n, ls);
}

static int64_t
periodic(tr_node *n, struct loop_state *ls, struct ev_list *evs)
{
	int64_t now = tr_mono_ms();
	int64_t next;

	if (!tr_coord_connected(n->coord) && now >= ls->next_reconnect) {
		/* The back-off grows even when the reconnect succeeds, and
		 * a heartbeat that goes through ends it: on a cluster a map
		 * read from a live master can still name a dead one (before
		 * its replica takes over), and the first call then fails at
		 * once; without this the node would read the map in a busy
		 * loop. */
		if (tr_coord_reconnect(n->coord) == 0) {
			ls->next_heartbeat = now;
			ls->next_sync = ls->next_sweep = now;
			ls->connected_at = now;
		}
		ls->next_reconnect = now + ls->reconnect_backoff;
		if (ls->reconnect_backoff < RECONNECT_MAX_MS)
			ls->reconnect_backoff *= 2;
	}
	if (!tr_coord_connected(n->coord)) {
		/* Every epoch must be checked again before selling. */
		ls->synced = false;
		atomic_store(&n->claimed, false);
	}
	atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	if (tr_coord_connected(n->coord) && now >= ls->next_heartbeat) {
		heartbeat(n, ls);
		ls->next_heartbeat =
		    now + (int64_t)n->conf.liveness_ttl_ms / 4;
	}
	if (tr_coord_connected(n->coord) && atomic_load(&n->claimed)) {
		if (now >= ls->next_sync || !ls->synced) {
			events_snapshot(n, evs);
			sync_events(n, evs);
			ls->next_sync = now + (int64_t)n->conf.sync_ms;
			if (!ls->synced && tr_coord_connected(n->coord)) {
				/* Epochs checked (a stale one is fenced):
				 * selling may resume under the claim. */
				uint64_t ttl = n->conf.liveness_ttl_ms;
				ls->synced = true;
				atomic_store(&n->lease_valid_until,
				    ls->last_claim + (int64_t)(ttl - ttl / 5));
			}
		}
		if (ls->synced && !ls->index_adopted)
			adopt_index(n, ls);
		if (now >= ls->next_sweep) {
			sweep(n, ls, now);
			ls->next_sweep = now + (int64_t)n->conf.sweep_ms;
		}
	}
	atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	/* While down only the reconnect is due: the other deadlines are not
	 * moved on then, and waiting for them would spin. */
	if (!tr_coord_connected(n->coord))
		return ls->next_reconnect;
	next = ls->next_heartbeat;
	if (atomic_load(&n->claimed)) {
		if (ls->next_sync < next)
			next = ls->next_sync;
		if (ls->next_sweep < next)
			next = ls->next_sweep;
	}
	return next;
}

static void
run_jobs(tr_node *n, struct job **jobs, size_t k)
{
	tr_call *ptrs[k];
	size_t k_sent;
	struct finish_list f = {0};

	pthread_mutex_lock(&n->lock);
	jobs_seal(n, jobs, k);
	pthread_mutex_unlock(&n->lock);
	/* A node writes an event into its index before it registers there,
	 * so the sweeper finds every event a dead node may hold stock in. A
	 * failed write leaves the register unsent: the call fails as
	 * unavailable and is retried by whoever asked. */
	for (size_t i = 0; i < k; i++) {
		ptrs[i] = &jobs[i]->call;
		if ((jobs[i]->kind == JOB_LOOKUP ||
		        jobs[i]->kind == JOB_REGISTER) &&
		    tr_coord_index_add(n->coord, n->conf.node_id,
		        jobs[i]->event_id) != 0) {
			jobs[i]->call.rv = TR_EUNAVAILABLE;
			ptrs[i] = NULL;
		}
	}
	{
		size_t m = 0;
		for (size_t i = 0; i < k; i++)
			if (ptrs[i] != NULL)
				ptrs[m++] = ptrs[i];
		k_sent = m;
	}
	tr_coord_run(n->coord, ptrs, k_sent);
	atomic_fetch_add(&n->coord_calls, k_sent);
	atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	for (size_t i = 0; i < k; i++) {
		if (jobs[i]->kind == JOB_CREATE_EVENT)
			create_event(n, jobs[i], &f);
		else if (jobs[i]->kind == JOB_TOPUP ||
		    jobs[i]->kind == JOB_CLOSE)
			sale_done(n, jobs[i], &f);
	}
	pthread_mutex_lock(&n->lock);
	for (size_t i = 0; i < k; i++)
		jobs_done(n, jobs[i], &f);
	pthread_mutex_unlock(&n->lock);
	finish_all(&f);
	free(f.v);
	for (size_t i = 0; i < k; i++)
		job_free(jobs[i]);
}

static void *
coord_main(void *arg)
{
	tr_node *n = arg;
	struct loop_state ls = {0};
	struct ev_list evs = {0};
	size_t max = n->conf.coord_pipeline_max;
	struct job **jobs = calloc(max, sizeof(*jobs));

	ls.reconnect_backoff = RECONNECT_MIN_MS;
	while (!atomic_load(&n->quit) && jobs != NULL) {
		int64_t next = periodic(n, &ls, &evs);
		size_t k = take_jobs(n, jobs, max, next);
		if (k > 0)
			run_jobs(n, jobs, k);
	}
	/* Stopping: answer what is still queued, without sending it. */
	for (;;) {
		size_t k = take_jobs(n, jobs, max, 0);
		if (k == 0)
			break;
		struct finish_list f = {0};
		pthread_mutex_lock(&n->lock);
		jobs_seal(n, jobs, k);
		for (size_t i = 0; i < k; i++)
			jobs[i]->call.rv = TR_EUNAVAILABLE;
		for (size_t i = 0; i < k; i++) {
			if (jobs[i]->kind == JOB_CREATE_EVENT ||
			    jobs[i]->kind == JOB_TOPUP ||
			    jobs[i]->kind == JOB_CLOSE) {
				tr_reply_set(&jobs[i]->slot->reply,
				    TR_EUNAVAILABLE, "node is stopping");
				finish_add(&f, jobs[i]->slot);
			} else {
				jobs_done(n, jobs[i], &f);
			}
		}
		pthread_mutex_unlock(&n->lock);
		finish_all(&f);
		free(f.v);
		for (size_t i = 0; i < k; i++)
			job_free(jobs[i]);
	}
	free(jobs);
	free(evs.v);
	return NULL;
}

static void *
ticker_main(void *arg)
{
	tr_node *n = arg;
	struct finish_list f = {0};

	while (!atomic_load(&n->quit)) {
		pthread_mutex_lock(&n->lock);
		ticker_run(n, tr_mono_ms(), &f);
		pthread_mutex_unlock(&n->lock);
		finish_all(&f);
		tr_sleep_ms(TICK_MS);
	}
	free(f.v);
	return NULL;
}

int
coordloop_start(tr_node *n)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->qcond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&n->qlock, NULL);
	if (pthread_create(&n->ticker_thread, NULL, ticker_main, n) != 0)
		return TR_ENOMEM;
	if (!n->conf.standalone &&
	    pthread_create(&n->coord_thread, NULL, coord_main, n) != 0) {
		atomic_store(&n->quit, true);
		pthread_join(n->ticker_thread, NULL);
		return TR_ENOMEM;
	}
	n->threads_started = true;
	return 0;
}

void
coordloop_stop(tr_node *n)
{
	if (!n->threads_started)
		return;
	atomic_store(&n->quit, true);
	pthread_mutex_lock(&n->qlock);
	pthread_cond_broadcast(&n->qcond);
	pthread_mutex_unlock(&n->qlock);
	pthread_join(n->ticker_thread, NULL);
	if (!n->conf.standalone)
		pthread_join(n->coord_thread, NULL);
	n->threads_started = false;
}
