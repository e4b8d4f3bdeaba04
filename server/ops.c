/* ops: a stock node's operations. The input checks run before the node
 * lock is taken; everything else runs under it. A reservation is decided
 * here from the lease (sold out, a retry or a second click the cache
 * knows, waiting for stock); what the lease admits is recorded with the
 * coordinator by jobs.c, which answers it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

int
ops_event_attach(tr_node *n, tr_event *ev)
{
	struct ev_state *es;

	if (ev->user_data != NULL)
		return 0;
	if ((es = calloc(1, sizeof(*es))) == NULL)
		return TR_ENOMEM;
	tr_refill_init(&es->refill, n->conf.refill_min, n->conf.refill_max,
	    n->conf.refill_horizon_ms, tr_mono_ms());
	ev->user_data = es;
	return 0;
}

/* ---- reservations ------------------------------------------------------ */

void
answer_reserve(tr_node *n, struct slot *s, tr_event *ev, int rv, tr_hold *h)
{
	switch (rv) {
	case 0:
		fill_hold(s, h);
		answer(s, TR_OK, NULL);
		atomic_fetch_add(&n->reserves_ok, 1);
		return;
	case TR_EDUPLICATE:
		fill_hold(s, h);
		answer(s, rv,
		    "user already holds reservation %s; confirm or "
		    "release it",
		    h->rid);
		break;
	case TR_ELIMIT:
		answer(s, rv, "limit is %" PRIu32 " ticket(s) per user",
		    ev->conf.limit_per_user);
		break;
	case TR_ENOT_OPEN:
		answer(s, rv, "sale opens at %" PRId64 " (unix ms)",
		    ev->conf.opens_at_ms);
		break;
	case TR_ECLOSED:
		answer(s, rv,
		    "the sale of event %s is closed; holds made "
		    "before can still be confirmed",
		    ev->conf.id);
		break;
	case TR_EUNAVAILABLE:
		answer(s, rv, "event is draining on node %s", n->conf.node_id);
		break;
	case TR_ESOLD_OUT: answer(s, rv, "sold out"); break;
	case TR_EOVERLOADED:
		answer(s, rv,
		    "too many reservations queued for the "
		    "coordinator; retry");
		break;
	default: answer(s, rv, "%s", tr_strerror(rv)); break;
	}
	atomic_fetch_add(&n->reserves_rejected, 1);
}

/* The lease admitted qty for user: record the hold (standalone: in memory,
 * which is the whole truth there; else with the coordinator, which
 * answers later). Returns true if the answer comes later. */
bool
reserve_admitted(tr_node *n, struct slot *s, tr_event *ev, const char *user,
    const char *request_id, uint32_t qty, int64_t now, int64_t wall)
{
	tr_hold *h = NULL;
	char rid[TR_RID_MAX + 1];
	int rv;

	if (n->conf.standalone) {
		rv = tr_ledger_new_rid(n->ledger, ev, rid);
		if (rv == 0)
			rv = tr_ledger_hold_add(n->ledger, ev, rid, user, qty,
			    request_id, wall + (int64_t)ev->conf.hold_ms,
			    now + (int64_t)ev->conf.hold_ms, &h);
		tr_ledger_admit_end(ev, qty, rv != 0);
		answer_reserve(n, s, ev, rv, h);
		return false;
	}
	if ((rv = hold_enqueue(n, ev, s, user, request_id, qty)) != 0) {
		tr_ledger_admit_end(ev, qty, true);
		if (rv == TR_EOVERLOADED)
			answer_reserve(n, s, ev, rv, NULL);
		else {
			answer(s, TR_EUNAVAILABLE,
			    "cannot reach the "
			    "coordinator to record the hold; retry");
			atomic_fetch_add(&n->reserves_rejected, 1);
		}
		return false;
	}
	return true;
}

/* Returns true if the answer will come later. */
static bool
op_reserve(tr_node *n, struct slot *s, const Ticketrush__Op *op, int64_t now,
    int64_t wall)
{
	const Ticketrush__Reserve *r = op->reserve;
	tr_event *ev = tr_ledger_event_get(n->ledger, r->event_id);
	uint32_t qty = r->qty ? r->qty : 1;
	struct ev_state *es;
	tr_hold *h = NULL;
	bool later;
	int rv;

	if (ev == NULL)
		return lookup_park(n, s, op, r->event_id);
	es = evs_of(ev);
	es->touch_mono_ms = now;
	if (!n->conf.standalone && now > atomic_load(&n->lease_valid_until)) {
		answer(s, TR_EUNAVAILABLE,
		    "this node has not confirmed its "
		    "lease with the coordinator within the liveness TTL "
		    "(cut off, or starting): it does not sell; retry");
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	/* Closed: a retry the cache knows keeps its hold; anything new is
	 * refused here, sparing Redis (whose hold script refuses it too). */
	if (es->closed) {
		rv = tr_ledger_find_request(ev, r->user_id, r->request_id, &h);
		answer_reserve(n, s, ev, rv == 0 ? 0 : TR_ECLOSED, h);
		return false;
	}
	/* Waiters first: a newcomer must not jump the queue. */
	if (es->count > 0)
		rv = TR_EEMPTY;
	else
		rv = tr_ledger_reserve(n->ledger, ev, r->user_id, qty,
		    r->request_id, now, wall, &h);
	if (rv == TR_EPENDING) {
		later = reserve_admitted(n, s, ev, r->user_id, r->request_id,
		    qty, now, wall);
		if (!n->conf.standalone && !es->pool_empty &&
		    tr_refill_ask_ahead(&es->refill, ev->last_reserve_mono_ms,
		        now, tr_event_available(ev)))
			(void)want_grant(n, ev); /* ask ahead */
		return later;
	}
	if (rv != TR_EEMPTY) {
		answer_reserve(n, s, ev, rv, h);
		return false;
	}
	/* Sold out from memory only while the pool was seen empty a moment
	 * ago: an event that was quiet asks again (the grant says). */
	if (n->conf.standalone ||
	    (es->pool_empty && es->count == 0 && pool_known_fresh(ev, now))) {
		answer_reserve(n, s, ev, TR_ESOLD_OUT, NULL);
		return false;
	}
	if (es->fenced || ev->draining) {
		answer(s, TR_EUNAVAILABLE,
		    "node %s is re-registering or "
		    "draining this event",
		    n->conf.node_id);
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	if ((rv = want_grant(n, ev)) != 0) {
		answer(s, rv == TR_EOVERLOADED ? rv : TR_EUNAVAILABLE,
		    "cannot reach the coordinator for more stock");
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	if ((rv = waiter_push(n, es, s, r, now)) != 0) {
		answer(s, TR_EOVERLOADED,
		    "too many reservations waiting for "
		    "stock (waiters_max %zu)",
		    n->conf.waiters_max);
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	return true;
}

/* ---- confirm and release ------------------------------------------------ */

/* What the cache can answer for good: a final state (the coordinator said
 * it), or another owner. Returns true if answered. */
static bool
answer_final(tr_node *n, struct slot *s, int rv, tr_hold *h,
    const char *payment_ref, bool confirm)
{
	if (rv == TR_ENOT_OWNER) {
		answer(s, rv, "reservation belongs to another user");
		return true;
	}
	if (rv != 0 || h->state == TR_HOLD_HELD)
		return false;
	switch (h->state) {
	case TR_HOLD_CONFIRMED:
		fill_order(s, h, n->conf.node_id);
		if (!confirm)
			answer(s, TR_ECONFLICT,
			    "reservation is confirmed "
			    "(paid); it cannot be released");
		else if (strcmp(h->payment_ref, payment_ref) == 0)
			answer(s, TR_OK, NULL);
		else
			answer(s, TR_ECONFLICT,
			    "reservation %s was already "
			    "paid with payment_ref '%s'",
			    h->rid, h->payment_ref);
		return true;
	case TR_HOLD_RELEASED:
		fill_hold(s, h);
		if (confirm)
			answer(s, TR_ECONFLICT, "reservation was released");
		else
			answer(s, TR_OK, NULL);
		return true;
	case TR_HOLD_EXPIRED:
	default:
		fill_hold(s, h);
		if (confirm)
			answer(s, TR_EEXPIRED,
			    "reservation expired; its "
			    "ticket went back on sale");
		else
			answer(s, TR_OK, NULL);
		return true;
	}
}

/* Standalone: the cache is the truth. */
static void
confirm_local(tr_node *n, struct slot *s, tr_hold *h, const char *ref,
    int64_t now, int64_t wall)
{
	if (now >= h->expires_mono_ms) {
		tr_ledger_hold_ended(n->ledger, h, TR_HOLD_EXPIRED);
		(void)tr_ledger_lease_grant(h->event, h->qty);
		fill_hold(s, h);
		answer(s, TR_EEXPIRED, "reservation expired");
		return;
	}
	tr_ledger_hold_confirmed(n->ledger, h, ref, wall);
	fill_order(s, h, n->conf.node_id);
	answer(s, TR_OK, NULL);
	atomic_fetch_add(&n->confirms_ok, 1);
}

static bool
op_confirm(tr_node *n, struct slot *s, const Ticketrush__Op *op, int64_t now,
    int64_t wall)
{
	const Ticketrush__Confirm *c = op->confirm;
	char node[TR_NODE_ID_MAX + 1], event[TR_EVENT_ID_MAX + 1];
	tr_hold *h = NULL;
	tr_event *ev;
	int rv;

	(void)tr_rid_parse(c->reservation_id, node, event); /* checked */
	if ((ev = tr_ledger_event_get(n->ledger, event)) == NULL)
		return lookup_park(n, s, op, event);
	evs_of(ev)->touch_mono_ms = now;
	rv = tr_ledger_find(n->ledger, c->reservation_id, c->user_id, &h);
	if (answer_final(n, s, rv, h, c->payment_ref, true))
		return false;
	if (n->conf.standalone) {
		if (rv != 0)
			answer(s, TR_ENOT_FOUND, "no reservation %s",
			    c->reservation_id);
		else
			confirm_local(n, s, h, c->payment_ref, now, wall);
		return false;
	}
	/* HELD in the cache (maybe stale), or not ours: Redis decides. */
	if ((rv = confirm_enqueue(n, ev, s, c->reservation_id, c->user_id,
	         c->payment_ref)) != 0) {
		if (rv == TR_EOVERLOADED)
			answer(s, rv, "too many confirms queued; retry");
		else
			answer(s, TR_EUNAVAILABLE,
			    "coordinator unavailable; "
			    "the reservation is kept until it expires: retry");
		return false;
	}
	return true;
}

static bool
op_release(tr_node *n, struct slot *s, const Ticketrush__Op *op)
{
	const Ticketrush__Release *r = op->release;
	char node[TR_NODE_ID_MAX + 1], event[TR_EVENT_ID_MAX + 1];
	tr_hold *h = NULL;
	tr_event *ev;
	struct job *j;
	int rv;

	(void)tr_rid_parse(r->reservation_id, node, event); /* checked */
	if ((ev = tr_ledger_event_get(n->ledger, event)) == NULL)
		return lookup_park(n, s, op, event);
	evs_of(ev)->touch_mono_ms = tr_mono_ms();
	rv = tr_ledger_find(n->ledger, r->reservation_id, r->user_id, &h);
	if (answer_final(n, s, rv, h, "", false))
		return false;
	if (n->conf.standalone) {
		if (rv != 0) {
			answer(s, TR_ENOT_FOUND, "no reservation %s",
			    r->reservation_id);
			return false;
		}
		tr_ledger_hold_ended(n->ledger, h, TR_HOLD_RELEASED);
		(void)tr_ledger_lease_grant(ev, h->qty);
		fill_hold(s, h);
		answer(s, TR_OK, NULL);
		return false;
	}
	if (!atomic_load(&n->coord_up) ||
	    (j = job_new(JOB_RELEASE, ev)) == NULL) {
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable; retry");
		return false;
	}
	snprintf(j->rid, sizeof(j->rid), "%s", r->reservation_id);
	snprintf(j->user, sizeof(j->user), "%s", r->user_id);
	j->slot = s;
	tr_call_release(&j->call, ev->conf.id, n->conf.node_id, ev->epoch,
	    j->rid, j->user);
	if (coord_submit(n, j) != 0) {
		job_free(j);
		answer(s, TR_EOVERLOADED, "too many calls queued; retry");
		return false;
	}
	return true;
}

/* ---- input checks (no lock) --------------------------------------------- */

static bool
check_reserve(struct slot *s, const Ticketrush__Reserve *r)
{
	if (!tr_event_id_valid(r->event_id))
		answer(s, TR_EINVALID,
		    "event_id must be 1-64 chars of "
		    "[A-Za-z0-9._:-]");
	else if (!tr_user_id_valid(r->user_id))
		answer(s, TR_EINVALID,
		    "user_id must be 1-64 chars of "
		    "[A-Za-z0-9._:@-]");
	else if (!tr_request_id_valid(r->request_id))
		answer(s, TR_EINVALID,
		    "request_id must be 0-64 chars of "
		    "[A-Za-z0-9._:-]");
	else if (r->qty > TR_QTY_MAX)
		answer(s, TR_EINVALID, "qty must be " TR_QTY_RANGE);
	else
		return true;
	return false;
}

static bool
check_rid_user(struct slot *s, const char *rid, const char *user)
{
	char node[TR_NODE_ID_MAX + 1];
	if (!tr_rid_parse(rid, node, NULL))
		answer(s, TR_EINVALID,
		    "reservation_id is not of the shape "
		    "<node>.<16 hex digits>.<event>");
	else if (!tr_user_id_valid(user))
		answer(s, TR_EINVALID,
		    "user_id must be 1-64 chars of "
		    "[A-Za-z0-9._:@-]");
	else
		return true;
	return false;
}

/* Check one data op; false if already answered (invalid). */
static bool
check_op(struct slot *s, const Ticketrush__Op *op)
{
	switch (op->op_case) {
	case TICKETRUSH__OP__OP_RESERVE: return check_reserve(s, op->reserve);
	case TICKETRUSH__OP__OP_CONFIRM:
		if (!check_rid_user(s, op->confirm->reservation_id,
		        op->confirm->user_id))
			return false;
		if (!tr_payment_ref_valid(op->confirm->payment_ref)) {
			answer(s, TR_EINVALID,
			    "payment_ref must be 0-128 "
			    "printable ASCII chars");
			return false;
		}
		return true;
	case TICKETRUSH__OP__OP_RELEASE:
		return check_rid_user(s, op->release->reservation_id,
		    op->release->user_id);
	case TICKETRUSH__OP__OP_GET_EVENT:
		if (!tr_event_id_valid(op->get_event->event_id)) {
			answer(s, TR_EINVALID,
			    "event_id must be 1-64 chars "
			    "of [A-Za-z0-9._:-]");
			return false;
		}
		return true;
	case TICKETRUSH__OP__OP_WAITLIST_JOIN:
	case TICKETRUSH__OP__OP_WAITLIST_GET:
	case TICKETRUSH__OP__OP_WAITLIST_LEAVE: return waitlist_check(s, op);
	case TICKETRUSH__OP__OP_REFUND:
		return check_rid_user(s, op->refund->reservation_id,
		    op->refund->user_id);
	default:
		answer(s, TR_EINVALID, "empty or unknown operation");
		return false;
	}
}

bool
ops_run(tr_node *n, struct slot *s, const Ticketrush__Op *op, int64_t now,
    int64_t wall)
{
	switch (op->op_case) {
	case TICKETRUSH__OP__OP_RESERVE:
		return op_reserve(n, s, op, now, wall);
	case TICKETRUSH__OP__OP_CONFIRM:
		return op_confirm(n, s, op, now, wall);
	case TICKETRUSH__OP__OP_RELEASE: return op_release(n, s, op);
	case TICKETRUSH__OP__OP_WAITLIST_JOIN:
	case TICKETRUSH__OP__OP_WAITLIST_GET:
	case TICKETRUSH__OP__OP_WAITLIST_LEAVE: return waitlist_run(n, s, op);
	case TICKETRUSH__OP__OP_REFUND: return refund_run(n, s, op);
	case TICKETRUSH__OP__OP_GET_EVENT: {
		const char *id = op->get_event->event_id;
		tr_event *ev = tr_ledger_event_get(n->ledger, id);
		if (ev == NULL)
			return lookup_park(n, s, op, id);
		/* A read wakes a quiet event up: the next sync refreshes its
		 * figures (this answer says how old they are). */
		evs_of(ev)->touch_mono_ms = now;
		ops_fill_event(n, s, ev);
		answer(s, TR_OK, NULL);
		return false;
	}
	default: return false;
	}
}

/* ---- entry -------------------------------------------------------------- */

void
ops_reply_all(struct srv_ctx *c, int err, const char *detail)
{
	for (size_t i = 0; i < c->nslots; i++)
		answer(&c->slots[i], err, "%s", detail);
	if (err != TR_OK) {
		tr_reply_set(&c->top, err, c->slots[0].detail);
	}
}

static bool
is_admin_body(int body)
{
	return body == TICKETRUSH__REQUEST__BODY_CREATE_EVENT ||
	    body == TICKETRUSH__REQUEST__BODY_GET_STATUS ||
	    body == TICKETRUSH__REQUEST__BODY_DRAIN ||
	    body == TICKETRUSH__REQUEST__BODY_LIST_EVENTS ||
	    body == TICKETRUSH__REQUEST__BODY_WAITLIST_SHOW ||
	    body == TICKETRUSH__REQUEST__BODY_TOP_UP ||
	    body == TICKETRUSH__REQUEST__BODY_CLOSE_SALE ||
	    body == TICKETRUSH__REQUEST__BODY_REOPEN_SALE;
}

void
ops_handle(struct srv_ctx *c)
{
	tr_node *n = c->node;
	Ticketrush__Request *req = c->req;
	Ticketrush__Op *single = &c->single;
	struct finish_list f = {0};
	Ticketrush__Op **ops;
	size_t nops;
	bool ok[TR_BATCH_MAX_LIMIT];
	int64_t now, wall;
	char why[96];

	if (req->version != TR_PROTOCOL_VERSION) {
		snprintf(why, sizeof(why),
		    "protocol version %u not "
		    "supported; this node speaks version %d",
		    req->version, TR_PROTOCOL_VERSION);
		ops_reply_all(c, TR_EINVALID, why);
		return;
	}
	if (is_admin_body(req->body_case)) {
		if (!c->admin) {
			ops_reply_all(c, TR_EFORBIDDEN,
			    "admin call on the "
			    "data socket; use the admin socket");
			return;
		}
		pthread_mutex_lock(&n->lock);
		if (admin_run(n, c, &f))
			atomic_fetch_add(&c->outstanding, 1);
		pthread_mutex_unlock(&n->lock);
		finish_all(&f);
		free(f.v);
		return;
	}

	/* Data ops: one, or a batch. A single op is kept in the context as
	 * an Op, since it may wait (for stock, or for an event lookup). */
	ticketrush__op__init(single);
	switch (req->body_case) {
	case TICKETRUSH__REQUEST__BODY_RESERVE:
		single->op_case = TICKETRUSH__OP__OP_RESERVE;
		single->reserve = req->reserve;
		break;
	case TICKETRUSH__REQUEST__BODY_CONFIRM:
		single->op_case = TICKETRUSH__OP__OP_CONFIRM;
		single->confirm = req->confirm;
		break;
	case TICKETRUSH__REQUEST__BODY_RELEASE:
		single->op_case = TICKETRUSH__OP__OP_RELEASE;
		single->release = req->release;
		break;
	case TICKETRUSH__REQUEST__BODY_GET_EVENT:
		single->op_case = TICKETRUSH__OP__OP_GET_EVENT;
		single->get_event = req->get_event;
		break;
	case TICKETRUSH__REQUEST__BODY_WAITLIST_JOIN:
		single->op_case = TICKETRUSH__OP__OP_WAITLIST_JOIN;
		single->waitlist_join = req->waitlist_join;
		break;
	case TICKETRUSH__REQUEST__BODY_WAITLIST_GET:
		single->op_case = TICKETRUSH__OP__OP_WAITLIST_GET;
		single->waitlist_get = req->waitlist_get;
		break;
	case TICKETRUSH__REQUEST__BODY_WAITLIST_LEAVE:
		single->op_case = TICKETRUSH__OP__OP_WAITLIST_LEAVE;
		single->waitlist_leave = req->waitlist_leave;
		break;
	case TICKETRUSH__REQUEST__BODY_REFUND:
		single->op_case = TICKETRUSH__OP__OP_REFUND;
		single->refund = req->refund;
		break;
	case TICKETRUSH__REQUEST__BODY_BATCH: break;
	default:
		ops_reply_all(c, TR_EINVALID, "empty or unknown request body");
		return;
	}
	if (req->body_case == TICKETRUSH__REQUEST__BODY_BATCH) {
		nops = req->batch->n_ops;
		ops = req->batch->ops;
		if (nops == 0 || nops > n->conf.batch_max) {
			snprintf(why, sizeof(why),
			    "batch must have 1..%u "
			    "operations, got %zu",
			    n->conf.batch_max, nops);
			ops_reply_all(c, TR_EINVALID, why);
			return;
		}
	} else {
		nops = 1;
		ops = &single;
	}
	for (size_t i = 0; i < nops; i++)
		ok[i] = check_op(&c->slots[i], ops[i]);

	pthread_mutex_lock(&n->lock);
	now = tr_mono_ms();
	wall = tr_wall_ms();
	for (size_t i = 0; i < nops; i++) {
		if (ok[i] && ops_run(n, &c->slots[i], ops[i], now, wall))
			atomic_fetch_add(&c->outstanding, 1);
	}
	pthread_mutex_unlock(&n->lock);
}
