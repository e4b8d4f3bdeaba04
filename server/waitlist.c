/* waitlist: a stock node's side of the waitlist (候补) and of refunds.
 *
 * The line lives in the coordinator (lib/coord/lua/wl_*.lua, refund.lua):
 * Redis decides the order of joining and makes every offer, so a node only
 * checks the input, passes each request on as one script call, and
 * answers from the script's answer. An offer is a hold made by the
 * coordinator (node "_wl"): it is confirmed and released like any hold,
 * through any node. What a node does with the line otherwise (it stays
 * busy with an event that has one, gives its free lease back while buyers
 * wait) is in jobs.c (apply_sync). Lock held unless said otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_err.h"
#include "tr_ids.h"

/* One script call for the slot's request; true if the answer comes later. */
static bool
submit(tr_node *n, struct slot *s, tr_event *ev, struct job *j)
{
	if (j == NULL) {
		answer(s, TR_EOVERLOADED, "out of memory; retry");
		return false;
	}
	j->slot = s;
	if (coord_submit(n, j) != 0) {
		job_free(j);
		answer(s, TR_EOVERLOADED, "too many calls queued; retry");
		return false;
	}
	(void)ev;
	return true;
}

/* The event, or false after parking the op for a lookup or answering. */
static bool
event_for(tr_node *n, struct slot *s, const Ticketrush__Op *op,
    const char *event_id, tr_event **ev, bool *later)
{
	*later = false;
	if (n->conf.standalone) {
		answer(s, TR_EUNAVAILABLE,
		    "the waitlist and refunds need the "
		    "coordinator; this node is standalone");
		return false;
	}
	if ((*ev = tr_ledger_event_get(n->ledger, event_id)) == NULL) {
		*later = lookup_park(n, s, op, event_id);
		return false;
	}
	evs_of(*ev)->touch_mono_ms = tr_mono_ms();
	if (!atomic_load(&n->coord_up)) {
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable; retry");
		return false;
	}
	return true;
}

bool
waitlist_check(struct slot *s, const Ticketrush__Op *op)
{
	const char *event = NULL, *user = NULL, *request_id = "";

	switch (op->op_case) {
	case TICKETRUSH__OP__OP_WAITLIST_JOIN:
		event = op->waitlist_join->event_id;
		user = op->waitlist_join->user_id;
		request_id = op->waitlist_join->request_id;
		break;
	case TICKETRUSH__OP__OP_WAITLIST_GET:
		event = op->waitlist_get->event_id;
		user = op->waitlist_get->user_id;
		break;
	case TICKETRUSH__OP__OP_WAITLIST_LEAVE:
		event = op->waitlist_leave->event_id;
		user = op->waitlist_leave->user_id;
		break;
	default:
		answer(s, TR_EINVALID, "not a waitlist operation");
		return false;
	}
	if (!tr_event_id_valid(event))
		answer(s, TR_EINVALID,
		    "event_id must be 1-64 chars of "
		    "[A-Za-z0-9._:-]");
	else if (!tr_user_id_valid(user))
		answer(s, TR_EINVALID,
		    "user_id must be 1-64 chars of "
		    "[A-Za-z0-9._:@-]");
	else if (!tr_request_id_valid(request_id))
		answer(s, TR_EINVALID,
		    "request_id must be 0-64 chars of "
		    "[A-Za-z0-9._:-]");
	else
		return true;
	return false;
}

bool
waitlist_run(tr_node *n, struct slot *s, const Ticketrush__Op *op)
{
	const char *event, *user;
	struct job *j;
	tr_event *ev;
	bool later;

	switch (op->op_case) {
	case TICKETRUSH__OP__OP_WAITLIST_JOIN:
		event = op->waitlist_join->event_id;
		user = op->waitlist_join->user_id;
		break;
	case TICKETRUSH__OP__OP_WAITLIST_GET:
		event = op->waitlist_get->event_id;
		user = op->waitlist_get->user_id;
		break;
	case TICKETRUSH__OP__OP_WAITLIST_LEAVE:
		event = op->waitlist_leave->event_id;
		user = op->waitlist_leave->user_id;
		break;
	default: return false;
	}
	if (!event_for(n, s, op, event, &ev, &later))
		return later;
	if ((j = job_new(JOB_WAITLIST, ev)) != NULL) {
		snprintf(j->user, sizeof(j->user), "%s", user);
		if (op->op_case == TICKETRUSH__OP__OP_WAITLIST_JOIN)
			tr_call_wl_join(&j->call, ev->conf.id, j->user,
			    op->waitlist_join->request_id);
		else if (op->op_case == TICKETRUSH__OP__OP_WAITLIST_GET)
			tr_call_wl_get(&j->call, ev->conf.id, j->user);
		else
			tr_call_wl_leave(&j->call, ev->conf.id, j->user);
	}
	return submit(n, s, ev, j);
}

bool
refund_run(tr_node *n, struct slot *s, const Ticketrush__Op *op)
{
	const Ticketrush__Refund *r = op->refund;
	char node[TR_NODE_ID_MAX + 1], event[TR_EVENT_ID_MAX + 1];
	struct job *j;
	tr_event *ev;
	bool later;

	(void)tr_rid_parse(r->reservation_id, node, event); /* checked */
	if (!event_for(n, s, op, event, &ev, &later))
		return later;
	if ((j = job_new(JOB_WAITLIST, ev)) != NULL) {
		snprintf(j->rid, sizeof(j->rid), "%s", r->reservation_id);
		snprintf(j->user, sizeof(j->user), "%s", r->user_id);
		tr_call_refund(&j->call, ev->conf.id, j->rid, j->user);
	}
	return submit(n, s, ev, j);
}

bool
waitlist_show_run(tr_node *n, struct slot *s,
    const Ticketrush__WaitlistShow *w)
{
	uint32_t count = w->count == 0 ? 10 : w->count;
	tr_event *ev;
	struct job *j;

	if (!tr_event_id_valid(w->event_id)) {
		answer(s, TR_EINVALID,
		    "event_id must be 1-64 chars of "
		    "[A-Za-z0-9._:-]");
		return false;
	}
	if (count > TR_WL_SHOW_MAX) {
		answer(s, TR_EINVALID, "count must be 0..%d", TR_WL_SHOW_MAX);
		return false;
	}
	if (n->conf.standalone || !atomic_load(&n->coord_up)) {
		answer(s, TR_EUNAVAILABLE,
		    "the waitlist is in the "
		    "coordinator, which this node cannot reach");
		return false;
	}
	/* Read straight from the coordinator: an operator may ask about an
	 * event this node was never asked about. */
	ev = tr_ledger_event_get(n->ledger, w->event_id);
	if ((j = job_new(JOB_WAITLIST, ev)) != NULL) {
		snprintf(j->event_id, sizeof(j->event_id), "%s", w->event_id);
		tr_call_wl_show(&j->call, j->event_id, count);
	}
	return submit(n, s, ev, j);
}

/* ---- answers --------------------------------------------------------- */

static void
fill_entry(struct slot *s, const char *event_id, const char *user,
    const tr_wl_entry *e)
{
	Ticketrush__WaitlistEntry *o = &s->wl_entry;

	ticketrush__waitlist_entry__init(o);
	snprintf(s->event_id, sizeof(s->event_id), "%s", event_id);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->rid, sizeof(s->rid), "%s", e->offer_rid);
	o->event_id = s->event_id;
	o->user_id = s->user;
	o->state = (Ticketrush__WaitlistState)e->state;
	o->join_number = e->join_number;
	o->position = e->position;
	o->ahead = e->ahead;
	o->reservation_id = s->rid;
	o->offer_expires_at_ms = e->offer_expires_at_ms;
	o->joined_at_ms = e->joined_at_ms;
	o->changed_at_ms = e->changed_at_ms;
	o->created = e->created;
	s->reply.waitlist_entry = o;
}

static void
done_entry(struct job *j, struct slot *s)
{
	tr_wl_entry e;
	char rid[TR_RID_MAX + 1];
	int rv = tr_result_wl_entry(&j->call, &e);

	switch (rv) {
	case 0:
		fill_entry(s, j->event_id, j->user, &e);
		answer(s, TR_OK, NULL);
		return;
	case TR_EDUPLICATE:
		/* The user holds the limit: name that hold, as Reserve does.
		 */
		if (tr_result_wl_duplicate(&j->call, rid, sizeof(rid)) == 0) {
			fill_hold_fields(s, rid, j->event_id, j->user, "", 1,
			    TR_HOLD_HELD, 0);
			answer(s, rv,
			    "user already holds reservation %s; "
			    "confirm or release it",
			    rid);
		} else {
			answer(s, TR_EINTERNAL,
			    "coordinator answered a join "
			    "in a shape this node does not read");
		}
		return;
	case TR_ELIMIT: answer(s, rv, "user already bought the limit"); return;
	case TR_EWAITLIST_FULL:
		answer(s, rv, "the waitlist is full (%s)", j->call.detail);
		return;
	case TR_ENOT_FOUND:
		answer(s, rv, "%s",
		    j->call.script == TR_SCRIPT_WL_JOIN
		        ? "no such event"
		        : "user is not in the waitlist");
		return;
	default: break;
	}
	if (rv == TR_EIO || rv == TR_ETIMEDOUT || rv == TR_EUNAVAILABLE)
		answer(s, TR_EUNAVAILABLE,
		    "coordinator did not answer: retry "
		    "(joining and leaving are idempotent)");
	else
		answer(s, rv == TR_EPROTO ? TR_EINTERNAL : rv, "%s",
		    tr_strerror(rv));
}

static void
done_refund(struct job *j, struct slot *s)
{
	tr_refund_info r;
	int rv = tr_result_refund(&j->call, &r);

	switch (rv) {
	case 0:
		fill_order_fields(s, j->rid, j->event_id, j->user, "", r.qty,
		    r.payment_ref, r.confirmed_at_ms, r.node);
		s->order.refunded_at_ms = r.refunded_at_ms;
		answer(s, TR_OK, "%s",
		    r.created ? "refunded" : "refunded before");
		return;
	case TR_ECONFLICT:
		answer(s, rv, "reservation is not paid: release it instead");
		return;
	case TR_ENOT_FOUND: answer(s, rv, "no order %s", j->rid); return;
	case TR_ENOT_OWNER:
		answer(s, rv, "order belongs to another user");
		return;
	case TR_EIO:
	case TR_ETIMEDOUT:
	case TR_EUNAVAILABLE:
		answer(s, TR_EUNAVAILABLE,
		    "coordinator did not answer: retry "
		    "(a refund is idempotent)");
		return;
	default:
		answer(s, rv == TR_EPROTO ? TR_EINTERNAL : rv, "%s",
		    tr_strerror(rv));
		return;
	}
}

static void
done_show(struct job *j, struct slot *s)
{
	struct srv_ctx *c = s->ctx;
	struct wl_show_out *w = c->wl_show;
	tr_wl_show *r;
	int rv;

	if (w == NULL && (w = c->wl_show = calloc(1, sizeof(*w))) == NULL) {
		answer(s, TR_EINTERNAL, "out of memory");
		return;
	}
	r = &w->show;
	if ((rv = tr_result_wl_show(&j->call, r)) != 0) {
		answer(s,
		    rv == TR_EPROTO                          ? TR_EINTERNAL
		        : rv == TR_EIO || rv == TR_ETIMEDOUT ? TR_EUNAVAILABLE
		                                             : rv,
		    "%s",
		    rv == TR_ENOT_FOUND ? "no such event" : tr_strerror(rv));
		return;
	}
	ticketrush__waitlist_info__init(&w->info);
	snprintf(w->event_id, sizeof(w->event_id), "%s", j->event_id);
	w->info.event_id = w->event_id;
	w->info.waiting = r->waiting;
	w->info.offers_live = r->offers_live;
	w->info.cap = r->cap;
	w->info.joined = r->joined;
	w->info.offered = r->offered;
	w->info.confirmed = r->confirmed;
	w->info.expired = r->expired;
	w->info.left = r->left;
	w->info.skipped = r->skipped;
	for (size_t i = 0; i < r->head_count; i++) {
		ticketrush__waitlist_head__init(&w->head[i]);
		w->head[i].user_id = r->head[i].user;
		w->head[i].join_number = r->head[i].join_number;
		w->head[i].joined_at_ms = r->head[i].joined_at_ms;
		w->head_ptrs[i] = &w->head[i];
	}
	w->info.n_head = r->head_count;
	w->info.head = w->head_ptrs;
	s->reply.waitlist = &w->info;
	answer(s, TR_OK, NULL);
}

void
waitlist_done(tr_node *n, struct job *j, struct finish_list *f)
{
	struct slot *s = j->slot;

	(void)n;
	if (j->call.script == TR_SCRIPT_REFUND)
		done_refund(j, s);
	else if (j->call.script == TR_SCRIPT_WL_SHOW)
		done_show(j, s);
	else
		done_entry(j, s);
	finish_add(f, s);
}
