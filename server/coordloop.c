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
#define DISCOVER_MS 1000
#define RECONNECT_MIN_MS 50
#define RECONNECT_MAX_MS 2000

struct loop_state {
	int64_t next_reconnect, reconnect_backoff;
	int64_t next_heartbeat, next_discover, next_sync, next_sweep;
	int64_t connected_at; /* when the connection last came up */
	int64_t last_claim;   /* when the last successful heartbeat left */
	bool synced;          /* every epoch checked since connected_at */
	bool told_taken;
};

int
coord_submit(tr_node *n, struct job *j)
{
	pthread_mutex_lock(&n->qlock);
	if (n->qlen >= n->conf.coord_queue_max ||
	    atomic_load(&n->quit)) {
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
};

static void
collect_cb(tr_event *ev, void *arg)
{
	struct ev_list *l = arg;
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

static void
events_snapshot(tr_node *n, struct ev_list *l)
{
	l->n = 0;
	pthread_mutex_lock(&n->lock);
	tr_ledger_each_event(n->ledger, collect_cb, l);
	pthread_mutex_unlock(&n->lock);
}

/* ---- discovery ----------------------------------------------------------- */

struct id_list {
	char (*v)[TR_EVENT_ID_MAX + 1];
	size_t n, cap;
};

static void
id_cb(const char *id, void *arg)
{
	struct id_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));
		if (v == NULL)
			return;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], TR_EVENT_ID_MAX + 1, "%s", id);
}

static void
discover(tr_node *n)
{
	struct id_list ids = {0};
	tr_event *ev;

	if (tr_coord_event_list(n->coord, id_cb, &ids) == 0) {
		for (size_t i = 0; i < ids.n; i++) {
			pthread_mutex_lock(&n->lock);
			ev = tr_ledger_event_get(n->ledger, ids.v[i]);
			pthread_mutex_unlock(&n->lock);
			if (ev == NULL)
				(void)register_event(n, ids.v[i], &ev);
		}
	}
	atomic_fetch_add(&n->coord_calls, 1);
	free(ids.v);
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
		snprintf(s->detail, sizeof(s->detail), "%s", created ?
		    "created" : "exists with the same settings");
	} else {
		snprintf(s->detail, sizeof(s->detail), "%s",
		    rv == TR_EDUPLICATE ? "event exists with other settings" :
		    j->call.detail[0] ? j->call.detail :
		    "coordinator unavailable");
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
			    "lapses", n->conf.node_id, k.detail);
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
		tr_call_sync(&calls[i], evs->v[i].id, n->conf.node_id);
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

/* Liveness of the other nodes, asked once per node per sweep. */
struct seen_node {
	char node[TR_NODE_ID_MAX + 1];
	bool alive;
};

#define SWEEP_PAGE 256
#define SWEEP_PAGES_MAX 64 /* 16,384 node ids per event per sweep */
#define SWEEP_NODES_MAX 1024

static int
node_alive(tr_node *n, struct seen_node *seen, size_t *nseen,
    const char *node, bool *alive)
{
	int rv;
	for (size_t i = 0; i < *nseen; i++)
		if (strcmp(seen[i].node, node) == 0) {
			*alive = seen[i].alive;
			return 0;
		}
	if ((rv = tr_coord_alive(n->coord, node, alive)) != 0)
		return rv;
	atomic_fetch_add(&n->coord_calls, 1);
	if (*nseen < SWEEP_NODES_MAX) {
		snprintf(seen[*nseen].node, sizeof(seen[*nseen].node), "%s",
		    node);
		seen[(*nseen)++].alive = *alive;
	}
	return 0;
}

static void
reclaim_dead(tr_node *n, const char *event_id, struct seen_node *seen,
    size_t *nseen)
{
	char (*page)[TR_NODE_ID_MAX + 1] = malloc(SWEEP_PAGE * sizeof(*page));
	uint64_t cursor = 0;
	size_t count;

	if (page == NULL)
		return;
	for (int p = 0; p < SWEEP_PAGES_MAX; p++) {
		if (tr_coord_lease_page(n->coord, event_id, &cursor, page,
		    SWEEP_PAGE, &count) != 0)
			break;
		atomic_fetch_add(&n->coord_calls, 1);
		for (size_t e = 0; e < count; e++) {
			bool alive = true, reclaimed = false;
			uint64_t returned = 0;
			tr_call k, *kp = &k;
			if (strcmp(page[e], n->conf.node_id) == 0 ||
			    node_alive(n, seen, nseen, page[e], &alive) != 0 ||
			    alive)
				continue;
			/* The script checks liveness again, atomically. */
			tr_call_reclaim(&k, event_id, page[e]);
			tr_coord_run(n->coord, &kp, 1);
			atomic_fetch_add(&n->coord_calls, 1);
			if (tr_result_reclaim(&k, &reclaimed, &returned) == 0 &&
			    reclaimed)
				tr_warn("event %s: node %s is gone (liveness "
				    "lapsed): reclaimed its lease of %" PRIu64
				    " ticket(s) into the pool; its holds stay "
				    "confirmable", event_id, page[e], returned);
			tr_call_done(&k);
		}
		if (cursor == 0)
			break;
	}
	free(page);
}

/* Every node sweeps every event: holds overdue by more than the grace
 * (their node is dead or lost the answer) end, and, once this node has
 * been connected for a liveness TTL, the leases of nodes whose liveness
 * lapsed are reclaimed. The wait after (re)connecting gives the other
 * nodes the same TTL to come back after a coordinator outage. */
static void
sweep(tr_node *n, struct loop_state *ls, struct ev_list *evs, int64_t now)
{
	bool reclaim = now - ls->connected_at >=
	    (int64_t)n->conf.liveness_ttl_ms;
	struct seen_node *seen = NULL;
	size_t nseen = 0;

	if (reclaim && (seen = malloc(SWEEP_NODES_MAX * sizeof(*seen))) ==
	    NULL)
		reclaim = false;
	for (size_t i = 0; i < evs->n && tr_coord_connected(n->coord); i++) {
		tr_call k, *kp = &k;
		uint64_t expired = 0, pruned = 0;

		tr_call_expire_due(&k, evs->v[i].id, EXPIRE_GRACE_MS,
		    EXPIRE_DUE_MAX, ENDED_KEEP_MS, EXPIRE_PRUNE_MAX);
		tr_coord_run(n->coord, &kp, 1);
		atomic_fetch_add(&n->coord_calls, 1);
		if (tr_result_expire_due(&k, &expired, &pruned) == 0 &&
		    expired > 0)
			tr_info("event %s: %" PRIu64 " overdue hold(s) of "
			    "other nodes expired; tickets back to the pool",
			    evs->v[i].id, expired);
		tr_call_done(&k);
		if (reclaim)
			reclaim_dead(n, evs->v[i].id, seen, &nseen);
	}
	free(seen);
}

static int64_t
periodic(tr_node *n, struct loop_state *ls, struct ev_list *evs)
{
	int64_t now = tr_mono_ms();
	int64_t next;

	if (!tr_coord_connected(n->coord) && now >= ls->next_reconnect) {
		if (tr_coord_reconnect(n->coord) == 0) {
			ls->reconnect_backoff = RECONNECT_MIN_MS;
			ls->next_heartbeat = ls->next_discover = now;
			ls->next_sync = ls->next_sweep = now;
			ls->connected_at = now;
		} else {
			ls->next_reconnect = now + ls->reconnect_backoff;
			if (ls->reconnect_backoff < RECONNECT_MAX_MS)
				ls->reconnect_backoff *= 2;
		}
	}
	if (!tr_coord_connected(n->coord)) {
		/* Every epoch must be checked again before selling. */
		ls->synced = false;
		atomic_store(&n->claimed, false);
	}
	atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	if (tr_coord_connected(n->coord) && now >= ls->next_heartbeat) {
		heartbeat(n, ls);
		ls->next_heartbeat = now + (int64_t)n->conf.liveness_ttl_ms / 4;
	}
	if (tr_coord_connected(n->coord) && atomic_load(&n->claimed)) {
		if (now >= ls->next_discover) {
			discover(n);
			ls->next_discover = now + DISCOVER_MS;
		}
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
		if (now >= ls->next_sweep) {
			events_snapshot(n, evs);
			sweep(n, ls, evs, now);
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
		if (ls->next_discover < next)
			next = ls->next_discover;
	}
	return next;
}

static void
run_jobs(tr_node *n, struct job **jobs, size_t k)
{
	tr_call *ptrs[k];
	struct finish_list f = {0};

	pthread_mutex_lock(&n->lock);
	jobs_seal(n, jobs, k);
	pthread_mutex_unlock(&n->lock);
	for (size_t i = 0; i < k; i++)
		ptrs[i] = &jobs[i]->call;
	tr_coord_run(n->coord, ptrs, k);
	atomic_fetch_add(&n->coord_calls, k);
	atomic_store(&n->coord_up, tr_coord_connected(n->coord));
	for (size_t i = 0; i < k; i++)
		if (jobs[i]->kind == JOB_CREATE_EVENT)
			create_event(n, jobs[i], &f);
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
			if (jobs[i]->kind == JOB_CREATE_EVENT) {
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
		ops_tick(n, tr_mono_ms(), &f);
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
