/* jobs: a stock node's coordinator calls. What starts them (grants, the
 * batches of reservations to record and of due holds to end, give-backs,
 * lookups of unknown events, re-registration after a fence) runs on the
 * request and ticker threads; what their answers do runs on the
 * coordinator thread. Everything here runs under node->lock unless said
 * otherwise.
 *
 * Ticket accounting follows one rule: tickets go back to the lease only
 * when the coordinator surely did not take them (the call was never sent,
 * or it refused) and the event's epoch is still the one they were taken
 * under. When the outcome is unknown (a timeout), nothing is credited and
 * the next sync adopts the coordinator's figure.
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

struct job *
job_new(enum job_kind kind, tr_event *ev)
{
	struct job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->ev = ev;
	if (ev != NULL) {
		memcpy(j->event_id, ev->conf.id, sizeof(j->event_id));
		j->epoch = ev->epoch;
	}
	return j;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	tr_call_done(&j->call);
	free(j->items);
	free(j);
}

/* ---- grants and give-backs --------------------------------------------- */

static uint64_t
waiting_qty(const struct ev_state *es)
{
	uint64_t q = 0;
	for (size_t i = 0; i < es->count; i++)
		q += es->ring[(es->head + i) % es->cap].qty;
	return q;
}

int
want_grant(tr_node *n, tr_event *ev)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;
	uint64_t want;

	if (es->grant_in_flight)
		return 0;
	if (n->conf.standalone || es->fenced || ev->draining)
		return TR_EUNAVAILABLE;
	if (!atomic_load(&n->coord_up))
		return TR_EUNAVAILABLE;
	want = tr_refill_batch(&es->refill);
	if (waiting_qty(es) > want)
		want = waiting_qty(es);
	if ((j = job_new(JOB_GRANT, ev)) == NULL)
		return TR_ENOMEM;
	j->n = want;
	tr_call_grant(&j->call, ev->conf.id, n->conf.node_id, ev->epoch, want);
	if (coord_submit(n, j) != 0) {
		job_free(j);
		return TR_EOVERLOADED;
	}
	es->grant_in_flight = true;
	return 0;
}

void
give_back(tr_node *n, tr_event *ev, uint64_t count)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;

	if (count == 0 || es->give_back_in_flight || es->fenced ||
	    !atomic_load(&n->coord_up))
		return;
	if ((j = job_new(JOB_GIVE_BACK, ev)) == NULL)
		return;
	if (tr_ledger_give_back_begin(ev, count) != 0) {
		job_free(j);
		return;
	}
	j->n = count;
	tr_call_give_back(&j->call, ev->conf.id, n->conf.node_id, ev->epoch,
	    count);
	if (coord_submit(n, j) != 0) {
		tr_ledger_give_back_end(ev, count, true);
		job_free(j);
		return;
	}
	es->give_back_in_flight = true;
}

static void
done_grant(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	uint64_t granted = 0, pool = 0;
	int rv = tr_result_grant(&j->call, &granted, &pool);

	es->grant_in_flight = false;
	if (rv == 0 && j->epoch != ev->epoch)
		rv = TR_EFENCED; /* granted to a lease we no longer have */
	if (rv == 0 && tr_ledger_lease_grant(ev, granted) != 0) {
		tr_error("event %s: lease overflow", ev->conf.id);
		rv = TR_EINTERNAL;
	}
	if (rv == 0) {
		es->pool_known = pool;
		es->pool_empty = pool == 0;
		es->global_at_ms = tr_wall_ms();
		es->known_mono_ms = tr_mono_ms();
		waiters_serve(n, ev, f);
		return;
	}
	if (rv == TR_EFENCED && j->call.rv == TR_EFENCED) {
		fence(n, ev, j->call.fenced_epoch, f);
		return;
	}
	waiters_fail(n, ev, TR_EUNAVAILABLE,
	    rv == TR_ETIMEDOUT ? "coordinator timed out"
	                       : "coordinator unavailable",
	    f);
}

static void
done_give_back(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	uint64_t lease_left, pool;
	int rv = tr_result_give_back(&j->call, &lease_left, &pool);
	bool not_taken = rv == TR_EUNAVAILABLE || rv == TR_ENOMEM;

	es->give_back_in_flight = false;
	tr_ledger_give_back_end(ev, j->n, not_taken && j->epoch == ev->epoch);
	if (rv == 0) {
		es->pool_known = pool;
		es->pool_empty = pool == 0;
		return;
	}
	if (rv == TR_EFENCED) {
		fence(n, ev, j->call.fenced_epoch, f);
		return;
	}
	/* Unknown (timeout) or refused (our lease was above the
	 * coordinator's): the next sync adopts the coordinator's figure. */
	if (!not_taken)
		tr_warn("event %s: give back of %" PRIu64 " failed: %s",
		    ev->conf.id, j->n, tr_strerror(rv));
}

/* ---- reservations: the hold batch -------------------------------------- */

int
hold_enqueue(tr_node *n, tr_event *ev, struct slot *s, const char *user,
    const char *request_id, uint32_t qty)
{
	struct ev_state *es = evs_of(ev);
	struct job *j = es->hold_job;
	struct hold_item *it;
	int rv;

	if (!atomic_load(&n->coord_up) || es->fenced)
		return TR_EUNAVAILABLE;
	if (j == NULL || j->nitems == HOLD_BATCH_MAX) {
		if ((j = job_new(JOB_HOLD, ev)) == NULL)
			return TR_ENOMEM;
		if (coord_submit(n, j) != 0) {
			job_free(j);
			return TR_EOVERLOADED;
		}
		es->hold_job = j; /* open until the coordinator seals it */
	}
	if (j->nitems == j->items_cap) {
		size_t cap = j->items_cap ? j->items_cap * 2 : 8;
		void *v = realloc(j->items, cap * sizeof(struct hold_item));
		if (v == NULL)
			return TR_ENOMEM;
		j->items = v;
		j->items_cap = cap;
	}
	it = &((struct hold_item *)j->items)[j->nitems];
	if ((rv = tr_ledger_new_rid(n->ledger, ev, it->rid)) != 0)
		return rv;
	it->slot = s;
	it->user = user;
	it->request_id = request_id ? request_id : "";
	it->qty = qty;
	it->epoch = ev->epoch;
	it->sent = -1;
	j->nitems++;
	return 0;
}

static void
seal_hold(tr_node *n, struct job *j)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	struct hold_item *items = j->items;
	int sent = 0;

	if (es->hold_job == j)
		es->hold_job = NULL;
	j->sealed = true;
	j->epoch = ev->epoch;
	tr_call_hold(&j->call, ev->conf.id, n->conf.node_id, ev->epoch);
	for (size_t i = 0; i < j->nitems; i++) {
		/* Admitted under an epoch that has moved on: that lease is
		 * gone, so the reservation is not sent. */
		if (items[i].epoch != ev->epoch || es->fenced) {
			items[i].sent = -1;
			continue;
		}
		if (tr_call_hold_item(&j->call, items[i].rid, items[i].user,
		        items[i].qty, items[i].request_id) != 0) {
			items[i].sent = -2; /* out of memory */
			continue;
		}
		items[i].sent = sent++;
	}
}

/* Answer an item with a hold the coordinator named (not necessarily this
 * node's, nor cached). */
static void
answer_named_hold(tr_node *n, struct slot *s, tr_event *ev,
    const struct hold_item *it, const tr_hold_result *r, int status)
{
	fill_hold_fields(s, r->rid, ev->conf.id, it->user, it->request_id,
	    r->qty, r->state, r->expires_at_ms);
	if (status == TR_OK) {
		answer(s, TR_OK, NULL);
		atomic_fetch_add(&n->reserves_ok, 1);
	} else {
		answer(s, status,
		    "user already holds reservation %s; "
		    "confirm or release it",
		    r->rid);
		atomic_fetch_add(&n->reserves_rejected, 1);
	}
}

static void
done_hold_item(tr_node *n, struct job *j, struct hold_item *it,
    int64_t redis_now, struct finish_list *f)
{
	tr_event *ev = j->ev;
	struct slot *s = it->slot;
	tr_hold_result r;
	tr_hold *h = NULL;
	bool same_epoch = it->epoch == ev->epoch;
	int rv;

	if (it->sent < 0) {
		tr_ledger_admit_end(ev, it->qty, it->sent == -2 && same_epoch);
		answer(s, TR_EUNAVAILABLE,
		    "this node's lease moved on while "
		    "the reservation waited; retry");
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(f, s);
		return;
	}
	if ((rv = tr_result_hold_item(&j->call, (size_t)it->sent, &r)) != 0) {
		tr_ledger_admit_end(ev, it->qty, false);
		answer(s, TR_EINTERNAL,
		    "coordinator answered a hold call "
		    "in a shape this node does not read");
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(f, s);
		return;
	}
	switch (r.outcome) {
	case TR_HOLDCALL_CREATED: {
		/* Our monotonic deadline from Redis' clock: the same
		 * remaining time, so a skewed wall clock does not matter. */
		int64_t left = r.expires_at_ms - redis_now;
		tr_ledger_admit_end(ev, it->qty, false);
		rv = tr_ledger_hold_add(n->ledger, ev, r.rid, it->user, r.qty,
		    it->request_id, r.expires_at_ms, tr_mono_ms() + left, &h);
		if (rv == 0) {
			answer_reserve(n, s, ev, 0, h);
		} else {
			/* Not cached (no memory): the hold stands in Redis and
			 * the sweep ends it; answer from the call. */
			answer_named_hold(n, s, ev, it, &r, TR_OK);
		}
		break;
	}
	case TR_HOLDCALL_EXISTING:
		tr_ledger_admit_end(ev, it->qty, same_epoch);
		answer_named_hold(n, s, ev, it, &r, TR_OK);
		break;
	case TR_HOLDCALL_DUPLICATE:
		tr_ledger_admit_end(ev, it->qty, same_epoch);
		answer_named_hold(n, s, ev, it, &r, TR_EDUPLICATE);
		break;
	case TR_HOLDCALL_LIMIT:
		tr_ledger_admit_end(ev, it->qty, same_epoch);
		answer_reserve(n, s, ev, TR_ELIMIT, NULL);
		break;
	case TR_HOLDCALL_NOT_OPEN:
		tr_ledger_admit_end(ev, it->qty, same_epoch);
		answer_reserve(n, s, ev, TR_ENOT_OPEN, NULL);
		break;
	case TR_HOLDCALL_WAITLIST:
		/* Buyers wait in line: the coordinator gave this ticket of our
		 * lease to them. */
		tr_ledger_admit_end(ev, it->qty, false);
		evs_of(ev)->pool_empty = true;
		evs_of(ev)->line = evs_of(ev)->line ? evs_of(ev)->line : 1;
		evs_of(ev)->known_mono_ms = tr_mono_ms();
		answer_reserve(n, s, ev, TR_ESOLD_OUT, NULL);
		break;
	case TR_HOLDCALL_CLOSED:
		/* Closed since this node last heard: it knows now. */
		tr_ledger_admit_end(ev, it->qty, same_epoch);
		apply_closed(n, ev, true, f);
		answer_reserve(n, s, ev, TR_ECLOSED, NULL);
		break;
	case TR_HOLDCALL_NO_LEASE:
	default:
		/* Our books said we had the tickets; the coordinator says no.
		 * It is the truth: the next sync adopts its figure. */
		tr_ledger_admit_end(ev, it->qty, false);
		answer(s, TR_EUNAVAILABLE,
		    "this node's lease was short in "
		    "the coordinator; retry");
		atomic_fetch_add(&n->reserves_rejected, 1);
		break;
	}
	finish_add(f, s);
}

static void
done_hold(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_event *ev = j->ev;
	struct hold_item *items = j->items;
	int64_t redis_now = 0;
	size_t count = 0;
	int rv = tr_result_hold(&j->call, &redis_now, &count);

	if (rv == 0) {
		for (size_t i = 0; i < j->nitems; i++)
			done_hold_item(n, j, &items[i], redis_now, f);
		return;
	}
	/* The whole call failed. */
	for (size_t i = 0; i < j->nitems; i++) {
		struct hold_item *it = &items[i];
		bool not_taken = it->sent < 0 || rv == TR_EUNAVAILABLE ||
		    rv == TR_ENOMEM || rv == TR_EFENCED || rv == TR_ENOT_FOUND;
		/* A fenced lease is gone: nothing comes back to it. */
		tr_ledger_admit_end(ev, it->qty,
		    not_taken && it->epoch == ev->epoch && rv != TR_EFENCED);
		switch (rv) {
		case TR_ENOT_FOUND:
			answer(it->slot, rv, "no event %s in the coordinator",
			    ev->conf.id);
			break;
		case TR_EFENCED:
			answer(it->slot, TR_EUNAVAILABLE,
			    "this node's lease "
			    "was reclaimed; retry");
			break;
		case TR_ETIMEDOUT:
		case TR_EIO:
			answer(it->slot, TR_EUNAVAILABLE,
			    "coordinator did not "
			    "answer; retry with the same request_id (the "
			    "retry finds the hold if it was made)");
			break;
		default:
			answer(it->slot, TR_EUNAVAILABLE,
			    "coordinator "
			    "unavailable; retry");
			break;
		}
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(f, it->slot);
	}
	if (rv == TR_EFENCED)
		fence(n, ev, j->call.fenced_epoch, f);
}

/* ---- expiry: the expire batch ------------------------------------------- */

bool
expire_enqueue(tr_node *n, tr_hold *h)
{
	tr_event *ev = h->event;
	struct ev_state *es = evs_of(ev);
	struct job *j = es->expire_job;
	struct expire_item *it;

	if (!atomic_load(&n->coord_up))
		return false;
	if (j == NULL || j->nitems == EXPIRE_BATCH_MAX) {
		if ((j = job_new(JOB_EXPIRE, ev)) == NULL)
			return false;
		if (coord_submit(n, j) != 0) {
			job_free(j);
			return false;
		}
		es->expire_job = j;
	}
	if (j->nitems == j->items_cap) {
		size_t cap = j->items_cap ? j->items_cap * 2 : 8;
		void *v = realloc(j->items, cap * sizeof(struct expire_item));
		if (v == NULL)
			return false;
		j->items = v;
		j->items_cap = cap;
	}
	it = &((struct expire_item *)j->items)[j->nitems++];
	memcpy(it->rid, h->rid, sizeof(it->rid));
	it->qty = h->qty;
	return true;
}

static void
seal_expire(tr_node *n, struct job *j)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	struct expire_item *items = j->items;

	if (es->expire_job == j)
		es->expire_job = NULL;
	j->sealed = true;
	j->epoch = ev->epoch;
	tr_call_expire(&j->call, ev->conf.id, n->conf.node_id, ev->epoch);
	for (size_t i = 0; i < j->nitems; i++)
		if (tr_call_expire_item(&j->call, items[i].rid) != 0) {
			/* out of memory: send none, try all again later */
			tr_call_done(&j->call);
			tr_call_expire(&j->call, ev->conf.id, n->conf.node_id,
			    ev->epoch);
			j->call.rv = TR_ENOMEM;
			return;
		}
}

static void
done_expire(tr_node *n, struct job *j)
{
	tr_event *ev = j->ev;
	struct expire_item *items = j->items;
	int64_t redis_now = 0, now = tr_mono_ms();
	size_t count = 0;
	int rv = j->call.rv == TR_ENOMEM
	    ? TR_ENOMEM
	    : tr_result_expire(&j->call, &redis_now, &count);

	for (size_t i = 0; i < j->nitems; i++) {
		tr_hold *h = tr_ledger_hold_get(n->ledger, items[i].rid);
		char ref[TR_PAYMENT_REF_MAX + 1] = "";
		int state = 0;
		bool to_lease = false;
		int64_t t = 0;

		if (rv == 0 &&
		    tr_result_expire_item(&j->call, i, &state, &to_lease, &t,
		        ref, sizeof(ref)) != 0)
			state = -1;
		if (rv == 0 && to_lease && j->epoch == ev->epoch)
			(void)tr_ledger_lease_grant(ev, items[i].qty);
		if (h == NULL)
			continue;
		if (rv != 0 || state < 0) {
			/* Try again in a second; any node's sweep ends it
			 * too if this node cannot. */
			(void)tr_ledger_hold_reschedule(n->ledger, h,
			    now + 1000);
			continue;
		}
		switch (state) {
		case TR_HOLD_HELD: /* not due by Redis' clock */
			(void)tr_ledger_hold_reschedule(n->ledger, h,
			    now + (t > redis_now ? t - redis_now : 0) + 5);
			break;
		case TR_HOLD_CONFIRMED: /* paid through another node */
			tr_ledger_hold_confirmed(n->ledger, h, ref, t);
			break;
		case TR_HOLD_RELEASED:
		case TR_HOLD_EXPIRED:
			tr_ledger_hold_ended(n->ledger, h,
			    (enum tr_hold_state)state);
			break;
		default: /* unknown to Redis: gone long ago */
			tr_ledger_hold_ended(n->ledger, h, TR_HOLD_EXPIRED);
			break;
		}
	}
	if (rv == TR_ETIMEDOUT || rv == TR_EIO)
		tr_warn("event %s: expire call unanswered; retrying",
		    ev->conf.id);
}

/* ---- confirm and release -------------------------------------------------
 */

int
confirm_enqueue(tr_node *n, tr_event *ev, struct slot *s, const char *rid,
    const char *user, const char *payment_ref)
{
	struct ev_state *es = evs_of(ev);
	struct job *j = es->confirm_job;
	struct confirm_item *it;

	if (!atomic_load(&n->coord_up))
		return TR_EUNAVAILABLE;
	if (j == NULL || j->nitems == CONFIRM_BATCH_MAX) {
		if ((j = job_new(JOB_CONFIRM, ev)) == NULL)
			return TR_ENOMEM;
		if (coord_submit(n, j) != 0) {
			job_free(j);
			return TR_EOVERLOADED;
		}
		es->confirm_job = j;
	}
	if (j->nitems == j->items_cap) {
		size_t cap = j->items_cap ? j->items_cap * 2 : 8;
		void *v = realloc(j->items, cap * sizeof(struct confirm_item));
		if (v == NULL)
			return TR_ENOMEM;
		j->items = v;
		j->items_cap = cap;
	}
	it = &((struct confirm_item *)j->items)[j->nitems++];
	it->slot = s;
	snprintf(it->rid, sizeof(it->rid), "%s", rid);
	snprintf(it->user, sizeof(it->user), "%s", user);
	snprintf(it->payment_ref, sizeof(it->payment_ref), "%s",
	    payment_ref ? payment_ref : "");
	it->sent = -1;
	return 0;
}

static void
seal_confirm(tr_node *n, struct job *j)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	struct confirm_item *items = j->items;
	int sent = 0;

	if (es->confirm_job == j)
		es->confirm_job = NULL;
	j->sealed = true;
	tr_call_confirm(&j->call, ev->conf.id, n->conf.node_id);
	if (n->conf.confirm_replicas > 0)
		tr_call_wait(&j->call, n->conf.confirm_replicas,
		    n->conf.confirm_wait_ms);
	for (size_t i = 0; i < j->nitems; i++)
		items[i].sent = tr_call_confirm_item(&j->call, items[i].rid,
		                    items[i].user, items[i].payment_ref) == 0
		    ? sent++
		    : -1;
}

/* Whether the confirm call reached the replicas --confirm-replicas asks
 * for (always, without the flag). */
static bool
replicated_enough(const tr_node *n, const struct job *j)
{
	return n->conf.confirm_replicas == 0 ||
	    j->call.replicas >= n->conf.confirm_replicas;
}

static void
done_confirm_item(tr_node *n, struct job *j, struct confirm_item *it,
    struct finish_list *f)
{
	tr_hold *h = tr_ledger_hold_get(n->ledger, it->rid);
	struct slot *s = it->slot;
	char detail[160] = "";
	tr_order_info info;
	int rv = it->sent < 0
	    ? TR_EUNAVAILABLE
	    : tr_result_confirm_item(&j->call, (size_t)it->sent, &info, detail,
	          sizeof(detail));

	switch (rv) {
	case 0:
		if (!replicated_enough(n, j) &&
		    strcmp(info.payment_ref, it->payment_ref) == 0) {
			/* The order is on the master, but a failover now
			 * could lose it: not acknowledged, and not cached as
			 * paid, so the retry asks Redis (and WAITs) again. */
			answer(s, TR_EUNAVAILABLE,
			    "order recorded, but on %lld of %d replicas "
			    "within %d ms: retry confirm (it is idempotent)",
			    j->call.replicas < 0 ? 0 : j->call.replicas,
			    n->conf.confirm_replicas, n->conf.confirm_wait_ms);
			atomic_fetch_add(&n->confirms_unreplicated, 1);
			break;
		}
		if (h != NULL && strcmp(h->user_id, info.user) == 0)
			tr_ledger_hold_confirmed(n->ledger, h,
			    info.payment_ref, info.confirmed_at_ms);
		fill_order_fields(s, it->rid, j->event_id, info.user,
		    h ? h->request_id : "", info.qty, info.payment_ref,
		    info.confirmed_at_ms, info.node);
		if (!info.created &&
		    strcmp(info.payment_ref, it->payment_ref) != 0) {
			answer(s, TR_ECONFLICT,
			    "reservation %s was already "
			    "paid with payment_ref '%s'",
			    it->rid, info.payment_ref);
			break;
		}
		answer(s, TR_OK, NULL);
		if (info.created)
			atomic_fetch_add(&n->confirms_ok, 1);
		break;
	case TR_ENOT_FOUND: answer(s, rv, "no reservation %s", it->rid); break;
	case TR_ENOT_OWNER:
		answer(s, rv, "reservation belongs to another user");
		break;
	case TR_EEXPIRED:
		if (h != NULL)
			fill_hold(s, h);
		answer(s, rv,
		    "reservation expired; its ticket went back on "
		    "sale");
		break;
	case TR_ECONFLICT:
		if (h != NULL) {
			tr_ledger_hold_ended(n->ledger, h, TR_HOLD_RELEASED);
			fill_hold(s, h);
		}
		answer(s, rv, "reservation was released");
		break;
	case TR_ELIMIT:
		answer(s, rv, "user already bought the limit of tickets");
		break;
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_EUNAVAILABLE:
	case TR_ENOMEM:
		answer(s, TR_EUNAVAILABLE,
		    "coordinator did not answer: "
		    "retry confirm (it is idempotent)");
		break;
	default:
		answer(s, rv, "%s",
		    detail[0]               ? detail
		        : j->call.detail[0] ? j->call.detail
		                            : tr_strerror(rv));
		break;
	}
	finish_add(f, s);
}

static void
done_confirm(tr_node *n, struct job *j, struct finish_list *f)
{
	struct confirm_item *items = j->items;
	int64_t now;
	size_t count;

	/* A whole-call failure reaches every item through its rv. */
	(void)tr_result_confirm(&j->call, &now, &count);
	for (size_t i = 0; i < j->nitems; i++)
		done_confirm_item(n, j, &items[i], f);
}

static void
done_release(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_event *ev = j->ev;
	tr_hold *h = tr_ledger_hold_get(n->ledger, j->rid);
	struct slot *s = j->slot;
	int state;
	bool to_lease;
	uint32_t qty;
	int64_t expires;
	int rv =
	    tr_result_release(&j->call, &state, &to_lease, &qty, &expires);

	switch (rv) {
	case 0:
		if (to_lease && j->epoch == ev->epoch)
			(void)tr_ledger_lease_grant(ev, qty);
		if (h != NULL)
			tr_ledger_hold_ended(n->ledger, h,
			    (enum tr_hold_state)state);
		fill_hold_fields(s, j->rid, ev->conf.id, j->user,
		    h ? h->request_id : "", qty, state, expires);
		answer(s, TR_OK, NULL);
		break;
	case TR_ECONFLICT:
		answer(s, rv,
		    "reservation is confirmed (paid); it cannot be "
		    "released");
		break;
	case TR_ENOT_FOUND: answer(s, rv, "no reservation %s", j->rid); break;
	case TR_ENOT_OWNER:
		answer(s, rv, "reservation belongs to another user");
		break;
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_EUNAVAILABLE:
		answer(s, TR_EUNAVAILABLE,
		    "coordinator did not answer: "
		    "retry release (it is idempotent)");
		break;
	default: answer(s, rv, "%s", tr_strerror(rv)); break;
	}
	finish_add(f, s);
}

/* ---- epochs: fence, register, sync -------------------------------------- */

void
apply_closed(tr_node *n, tr_event *ev, bool closed, struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);

	if (closed != es->closed)
		tr_info("event %s: sale %s", ev->conf.id,
		    closed ? "closed" : "reopened");
	es->closed = closed;
	if (closed)
		waiters_fail(n, ev, TR_ECLOSED, "the sale is closed", f);
}

void
apply_register(tr_node *n, tr_event *ev, const tr_event_figures *fig)
{
	struct ev_state *es = evs_of(ev);
	(void)n;
	tr_ledger_event_fence(ev, fig->epoch);
	tr_ledger_event_total_set(ev, fig->total);
	/* The flag alone: a reservation waiting now hears CLOSED from its
	 * hold call. */
	es->closed = fig->closed;
	es->fenced = false;
	es->pool_known = fig->pool;
	es->sold_known = fig->sold;
	es->held_known = fig->held;
	es->redis_held = fig->node_held;
	es->pool_empty = fig->pool == 0;
	es->global_at_ms = tr_wall_ms();
	es->known_mono_ms = tr_mono_ms();
}

bool
event_busy(const tr_event *ev, int64_t now)
{
	const struct ev_state *es = ev->user_data;
	return es != NULL &&
	    (es->fenced || ev->lease > 0 || ev->admitting > 0 ||
	        ev->giving > 0 || ev->held > 0 || es->redis_held > 0 ||
	        es->count > 0 || es->grant_in_flight || es->hold_job != NULL ||
	        es->confirm_job != NULL || es->expire_job != NULL ||
	        es->line > 0 || es->offers > 0 ||
	        now - es->touch_mono_ms < BUSY_MS);
}

bool
pool_known_fresh(const tr_event *ev, int64_t now)
{
	const struct ev_state *es = ev->user_data;
	return es != NULL && now - es->known_mono_ms < POOL_FRESH_MS;
}

void
fence(tr_node *n, tr_event *ev, uint64_t coord_epoch, struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;

	if (es->fenced)
		return;
	tr_warn("event %s: lease of node %s was reclaimed (epoch %" PRIu64
	        " -> %" PRIu64 "): registering again; its holds stay valid",
	    ev->conf.id, n->conf.node_id, ev->epoch, coord_epoch);
	tr_ledger_event_fence(ev, ev->epoch);
	es->fenced = true;
	waiters_fail(n, ev, TR_EUNAVAILABLE,
	    "node lease was reclaimed; "
	    "retry",
	    f);
	if ((j = job_new(JOB_REGISTER, ev)) != NULL) {
		tr_call_register(&j->call, ev->conf.id, n->conf.node_id);
		if (coord_submit(n, j) == 0)
			return; /* done_register clears `fenced` */
		job_free(j);
	}
	/* Could not ask now: the next sync sees the stale epoch again and
	 * fences again, which retries the registration. */
	es->fenced = false;
}

static void
done_register(tr_node *n, struct job *j)
{
	struct ev_state *es = evs_of(j->ev);
	tr_event_figures fig;
	uint64_t returned, hold_ms;
	uint32_t limit;
	int64_t opens;
	int rv = tr_result_register(&j->call, &fig, &returned, &limit,
	    &hold_ms, &opens);

	if (rv != 0) {
		es->fenced = false; /* the next sync retries */
		tr_warn("event %s: re-register failed: %s", j->ev->conf.id,
		    tr_strerror(rv));
		return;
	}
	apply_register(n, j->ev, &fig);
	tr_info("event %s: node %s registered with epoch %" PRIu64,
	    j->ev->conf.id, n->conf.node_id, fig.epoch);
}

void
apply_sync(tr_node *n, tr_event *ev, const tr_event_figures *fig,
    struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	int64_t change;

	es->pool_known = fig->pool;
	es->sold_known = fig->sold;
	es->held_known = fig->held;
	es->redis_held = fig->node_held;
	es->line = fig->line;
	es->offers = fig->offers;
	es->pool_empty = fig->pool == 0 || fig->line > 0;
	es->global_at_ms = tr_wall_ms();
	es->known_mono_ms = tr_mono_ms();
	/* An operator may have added stock (total) or closed the sale. */
	tr_ledger_event_total_set(ev, fig->total);
	apply_closed(n, ev, fig->closed, f);
	if (fig->expired > 0)
		tr_info("event %s: %" PRIu64 " overdue hold(s) ended; tickets "
		        "back to the pool",
		    ev->conf.id, fig->expired);
	if (es->fenced)
		return; /* registering again */
	if (fig->epoch != ev->epoch) {
		fence(n, ev, fig->epoch, f);
		return;
	}
	/* No call is in flight during a sync (one coordinator thread), so
	 * the coordinator's lease must equal lease + admitting + giving. A
	 * lost answer (timeout) or a lost write (a Redis failover) makes
	 * them differ: Redis is the truth, both ways. */
	if ((change = tr_ledger_lease_adopt(ev, fig->lease)) != 0) {
		tr_warn("event %s: lease repaired from the coordinator's "
		        "figure (%+" PRId64 " ticket(s))",
		    ev->conf.id, change);
		if (change > 0)
			waiters_serve(n, ev, f);
	}
	/* Buyers wait in line: the free tickets here are theirs. */
	if (fig->line > 0 && tr_event_available(ev) > 0 && es->count == 0 &&
	    !es->grant_in_flight)
		give_back(n, ev, tr_event_available(ev));
}

/* ---- unknown events ------------------------------------------------------
 */

static struct lookup *
lookup_find(tr_node *n, const char *id)
{
	for (int i = 0; i < LOOKUPS_MAX; i++)
		if (n->lookups[i].in_use && strcmp(n->lookups[i].id, id) == 0)
			return &n->lookups[i];
	return NULL;
}

static bool
lookup_missed(tr_node *n, const char *id, int64_t now)
{
	for (size_t i = 0; i < LOOKUP_MISS_MAX; i++)
		if (n->misses[i].until_mono_ms > now &&
		    strcmp(n->misses[i].id, id) == 0)
			return true;
	return false;
}

static void
lookup_miss_add(tr_node *n, const char *id)
{
	struct lookup_miss *m = &n->misses[n->misses_next];
	n->misses_next = (n->misses_next + 1) % LOOKUP_MISS_MAX;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->until_mono_ms = tr_mono_ms() + LOOKUP_MISS_MS;
}

static bool
misses_spent(tr_node *n, int64_t now)
{
	if (now - n->lookup_window_ms >= 1000) {
		n->lookup_window_ms = now;
		n->misses_in_window = 0;
	}
	return n->misses_in_window >= LOOKUP_MISSES_PER_S;
}

/* Start a lookup of id, or NULL if none can start now (*busy: every
 * lookup slot is taken, else the misses of this second are spent). */
static struct lookup *
lookup_start(tr_node *n, const char *id, int64_t now, bool *busy)
{
	struct lookup *lk = NULL;
	struct job *j;

	*busy = false;
	if (misses_spent(n, now))
		return NULL;
	for (int i = 0; i < LOOKUPS_MAX && lk == NULL; i++)
		if (!n->lookups[i].in_use)
			lk = &n->lookups[i];
	if (lk == NULL) {
		*busy = true;
		return NULL;
	}
	if ((j = job_new(JOB_LOOKUP, NULL)) == NULL)
		return NULL;
	snprintf(j->event_id, sizeof(j->event_id), "%s", id);
	tr_call_register(&j->call, id, n->conf.node_id);
	if (coord_submit(n, j) != 0) {
		job_free(j);
		*busy = true;
		return NULL;
	}
	lk->in_use = true;
	snprintf(lk->id, sizeof(lk->id), "%s", id);
	lk->head = lk->tail = NULL;
	return lk;
}

bool
lookup_park(tr_node *n, struct slot *s, const Ticketrush__Op *op,
    const char *event_id)
{
	int64_t now = tr_mono_ms();
	struct lookup *lk;
	struct parked *p;
	bool busy = false;

	if (n->conf.standalone || lookup_missed(n, event_id, now)) {
		answer(s, TR_ENOT_FOUND, "no event %s", event_id);
		return false;
	}
	if (!atomic_load(&n->coord_up) || !atomic_load(&n->claimed)) {
		answer(s, TR_EUNAVAILABLE,
		    "node does not know event %s and "
		    "cannot ask the coordinator now; retry",
		    event_id);
		return false;
	}
	if (n->parked >= n->conf.waiters_max) {
		answer(s, TR_EOVERLOADED,
		    "too many requests waiting for "
		    "event lookups; retry");
		return false;
	}
	if ((lk = lookup_find(n, event_id)) == NULL &&
	    (lk = lookup_start(n, event_id, now, &busy)) == NULL) {
		if (busy)
			answer(s, TR_EUNAVAILABLE,
			    "node is looking up %d "
			    "events already; retry",
			    LOOKUPS_MAX);
		else
			answer(s, TR_ENOT_FOUND,
			    "node does not know event %s "
			    "(and after %d lookups that found nothing this "
			    "second, looks no more until the next)",
			    event_id, LOOKUP_MISSES_PER_S);
		return false;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		answer(s, TR_EOVERLOADED, "out of memory; retry");
		return false;
	}
	p->slot = s;
	p->op = op;
	if (lk->tail)
		lk->tail->next = p;
	else
		lk->head = p;
	lk->tail = p;
	n->parked++;
	return true;
}

static void
done_lookup(tr_node *n, struct job *j, struct finish_list *f)
{
	struct lookup *lk = lookup_find(n, j->event_id);
	tr_event_conf conf = {0};
	tr_event_figures fig;
	tr_event *ev = NULL;
	uint64_t returned;
	int rv = tr_result_register(&j->call, &fig, &returned,
	    &conf.limit_per_user, &conf.hold_ms, &conf.opens_at_ms);
	int64_t now = tr_mono_ms(), wall = tr_wall_ms();

	if (rv == 0 &&
	    (ev = tr_ledger_event_get(n->ledger, j->event_id)) != NULL) {
		/* Registered meanwhile (created here, or taken back from an
		 * earlier incarnation): this registration is the newer. */
		apply_register(n, ev, &fig);
	} else if (rv == 0) {
		snprintf(conf.id, sizeof(conf.id), "%s", j->event_id);
		conf.total = fig.total;
		rv = tr_ledger_event_add(n->ledger, &conf, &ev);
		if (rv == 0)
			rv = ops_event_attach(n, ev);
		if (rv == 0) {
			apply_register(n, ev, &fig);
			tr_info("event %s: looked up and registered, epoch "
			        "%" PRIu64,
			    conf.id, fig.epoch);
		}
	} else if (rv == TR_ENOT_FOUND) {
		lookup_miss_add(n, j->event_id);
		(void)misses_spent(n, now);
		n->misses_in_window++;
	}
	if (lk == NULL)
		return;
	while (lk->head != NULL) {
		struct parked *p = lk->head;
		lk->head = p->next;
		n->parked--;
		if (rv == 0) {
			if (!ops_run(n, p->slot, p->op, now, wall))
				finish_add(f, p->slot);
		} else {
			if (rv == TR_ENOT_FOUND)
				answer(p->slot, rv, "no event %s",
				    j->event_id);
			else
				answer(p->slot, TR_EUNAVAILABLE,
				    "could not "
				    "look event %s up: %s; retry",
				    j->event_id, tr_strerror(rv));
			finish_add(f, p->slot);
		}
		free(p);
	}
	lk->tail = NULL;
	lk->in_use = false;
}

int
register_event(tr_node *n, const char *id, tr_event **out)
{
	tr_call k, *kp = &k;
	tr_event_conf conf = {0};
	tr_event_figures fig;
	uint64_t returned;
	tr_event *ev;
	int rv;

	/* The index first: the sweeper must find every event a dead node
	 * may hold a lease in (a superset is harmless). */
	if ((rv = tr_coord_index_add(n->coord, n->conf.node_id, id)) != 0)
		return rv;
	tr_call_register(&k, id, n->conf.node_id);
	tr_coord_run(n->coord, &kp, 1);
	atomic_fetch_add(&n->coord_calls, 2);
	snprintf(conf.id, sizeof(conf.id), "%s", id);
	rv = tr_result_register(&k, &fig, &returned, &conf.limit_per_user,
	    &conf.hold_ms, &conf.opens_at_ms);
	conf.total = fig.total;
	tr_call_done(&k);
	if (rv != 0)
		return rv;
	pthread_mutex_lock(&n->lock);
	rv = tr_ledger_event_add(n->ledger, &conf, &ev);
	if (rv == 0)
		rv = ops_event_attach(n, ev);
	if (rv == 0) {
		apply_register(n, ev, &fig);
		*out = ev;
	}
	pthread_mutex_unlock(&n->lock);
	if (rv == 0)
		tr_info(
		    "event %s: registered, epoch %" PRIu64 ", %" PRIu64
		    " ticket(s) of an earlier incarnation back to the pool",
		    id, fig.epoch, returned);
	else
		tr_error("event %s: cannot add: %s", id, tr_strerror(rv));
	return rv;
}

/* ---- dispatch -------------------------------------------------------------
 */

void
jobs_seal(tr_node *n, struct job **jobs, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (jobs[i]->kind == JOB_HOLD)
			seal_hold(n, jobs[i]);
		else if (jobs[i]->kind == JOB_CONFIRM)
			seal_confirm(n, jobs[i]);
		else if (jobs[i]->kind == JOB_EXPIRE)
			seal_expire(n, jobs[i]);
	}
}

void
jobs_done(tr_node *n, struct job *j, struct finish_list *f)
{
	switch (j->kind) {
	case JOB_GRANT: done_grant(n, j, f); break;
	case JOB_HOLD: done_hold(n, j, f); break;
	case JOB_CONFIRM: done_confirm(n, j, f); break;
	case JOB_RELEASE: done_release(n, j, f); break;
	case JOB_EXPIRE: done_expire(n, j); break;
	case JOB_GIVE_BACK: done_give_back(n, j, f); break;
	case JOB_REGISTER: done_register(n, j); break;
	case JOB_LOOKUP: done_lookup(n, j, f); break;
	case JOB_WAITLIST: waitlist_done(n, j, f); break;
	case JOB_CREATE_EVENT:
	case JOB_TOPUP:
	case JOB_CLOSE:
		/* coordloop.c answers these: they take several calls. */
		break;
	}
}
