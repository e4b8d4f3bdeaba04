/* admin: the operators' requests on the admin socket (create an event,
 * status, list events, drain, add stock, close and reopen a sale).
 * Answered in the request's first slot, under the node lock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

#define VERSION_STRING "ticketrush-stockd 0.2.0"

static void
fill_status(tr_node *n, struct srv_ctx *c)
{
	Ticketrush__NodeStatus *st = &c->status;
	struct slot *s = &c->slots[0];

	ticketrush__node_status__init(st);
	memcpy(s->node_id, n->conf.node_id, sizeof(s->node_id));
	st->node_id = s->node_id;
	st->mode = n->conf.standalone ? "standalone" : "redis";
	st->draining = atomic_load(&n->draining);
	st->uptime_ms = (uint64_t)(tr_mono_ms() - n->started_mono_ms);
	st->events = (uint32_t)tr_ledger_event_count(n->ledger);
	st->coordinator_up = !n->conf.standalone && atomic_load(&n->coord_up);
	st->reserves_ok = atomic_load(&n->reserves_ok);
	st->reserves_rejected = atomic_load(&n->reserves_rejected);
	st->confirms_ok = atomic_load(&n->confirms_ok);
	st->confirms_unreplicated = atomic_load(&n->confirms_unreplicated);
	st->holds_active = tr_ledger_active_holds(n->ledger);
	st->coordinator_calls = atomic_load(&n->coord_calls);
	st->version = VERSION_STRING;
	s->reply.node = st;
}

#define LIST_EVENTS_MAX 1000

struct list_arg {
	tr_node *n;
	struct srv_ctx *c;
	size_t i, skip, cap;
};

static void
list_event_cb(tr_event *ev, void *arg)
{
	struct list_arg *a = arg;
	struct slot *x;
	if (a->skip > 0) {
		a->skip--;
		return;
	}
	if (a->i == a->cap)
		return;
	x = &a->c->extra[a->i];
	ops_fill_event(a->n, x, ev);
	a->c->events[a->i++] = &x->event;
}

static void
op_list_events(tr_node *n, struct srv_ctx *c)
{
	const Ticketrush__ListEvents *le = c->req->list_events;
	size_t count = le->limit == 0 || le->limit > LIST_EVENTS_MAX
	    ? LIST_EVENTS_MAX
	    : le->limit;
	struct slot *s = &c->slots[0];
	struct list_arg a = {n, c, 0, le->offset, count};

	if (count > c->extra_cap) {
		struct slot *x = realloc(c->extra, count * sizeof(*x));
		Ticketrush__EventInfo **e;
		if (x == NULL) {
			answer(s, TR_ENOMEM, "out of memory");
			return;
		}
		c->extra = x;
		e = realloc(c->events, count * sizeof(*e));
		if (e == NULL) {
			answer(s, TR_ENOMEM, "out of memory");
			return;
		}
		c->events = e;
		c->extra_cap = count;
	}
	tr_ledger_each_event(n->ledger, list_event_cb, &a);
	s->reply.n_events = a.i;
	s->reply.events = c->events;
	answer(s, TR_OK, NULL);
}

struct drain_arg {
	tr_node *n;
	const char *only; /* NULL: all */
	struct finish_list *f;
	size_t matched;
};

static void
drain_event_cb(tr_event *ev, void *arg)
{
	struct drain_arg *a = arg;
	if (a->only != NULL && strcmp(a->only, ev->conf.id) != 0)
		return;
	a->matched++;
	ev->draining = true;
	waiters_fail(a->n, ev, TR_EUNAVAILABLE, "node is draining", a->f);
	if (!a->n->conf.standalone)
		give_back(a->n, ev, tr_event_available(ev));
}

/* Returns true if the answer comes later. */
static bool
op_create_event(tr_node *n, struct slot *s, const Ticketrush__CreateEvent *ce)
{
	tr_event_conf conf = {0};
	const char *why = NULL;
	tr_event *ev;
	struct job *j;
	int rv;

	snprintf(conf.id, sizeof(conf.id), "%s", ce->event_id);
	conf.total = ce->total;
	conf.limit_per_user = ce->limit_per_user ? ce->limit_per_user : 1;
	conf.hold_ms = ce->hold_ms ? ce->hold_ms : TR_HOLD_MS_DEFAULT;
	conf.opens_at_ms = ce->opens_at_ms;
	conf.waitlist_max = ce->waitlist_max;
	conf.offer_ms = ce->offer_ms;
	if (strlen(ce->event_id) > TR_EVENT_ID_MAX ||
	    tr_event_conf_check(&conf, &why) != 0) {
		answer(s, TR_EINVALID, "%s",
		    why ? why
		        : "event_id must be 1-64 chars of [A-Za-z0-9._:-]");
		return false;
	}
	if (n->conf.standalone) {
		rv = tr_ledger_event_add(n->ledger, &conf, &ev);
		if (rv == 0 && ev->user_data == NULL) {
			if ((rv = ops_event_attach(n, ev)) == 0)
				rv = tr_ledger_lease_grant(ev, conf.total);
		}
		if (rv == 0)
			ops_fill_event(n, s, ev);
		answer(s, rv,
		    rv == TR_EDUPLICATE ? "event exists with other "
		                          "settings"
		                        : NULL);
		return false;
	}
	if (!atomic_load(&n->coord_up) || !atomic_load(&n->claimed) ||
	    (j = job_new(JOB_CREATE_EVENT, NULL)) == NULL) {
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable");
		return false;
	}
	j->conf = conf;
	memcpy(j->event_id, conf.id, sizeof(j->event_id));
	j->slot = s;
	tr_call_create_event_wl(&j->call, conf.id, conf.total,
	    conf.limit_per_user, conf.hold_ms, conf.opens_at_ms,
	    conf.waitlist_max, conf.offer_ms);
	if (coord_submit(n, j) != 0) {
		job_free(j);
		answer(s, TR_EOVERLOADED, "coordinator queue full");
		return false;
	}
	return true;
}

/* Top up, close, reopen: in Redis mode one script call, answered by the
 * coordinator thread (coordloop.c); standalone, here. Returns true if the
 * answer comes later. */
static bool
op_sale(tr_node *n, struct slot *s, enum job_kind kind, const char *id,
    uint64_t value, struct finish_list *f)
{
	tr_event *ev;
	struct job *j;

	if (!tr_event_id_valid(id)) {
		answer(s, TR_EINVALID,
		    "event_id must be 1-64 chars of "
		    "[A-Za-z0-9._:-]");
		return false;
	}
	if (kind == JOB_TOPUP && (value < 1 || value > TR_TOTAL_MAX)) {
		answer(s, TR_EINVALID, "add must be " TR_TOTAL_RANGE);
		return false;
	}
	if (n->conf.standalone) {
		if ((ev = tr_ledger_event_get(n->ledger, id)) == NULL) {
			answer(s, TR_ENOT_FOUND, "no event %s", id);
			return false;
		}
		if (kind == JOB_CLOSE) {
			apply_closed(n, ev, value == 1, f);
		} else if (ev->conf.total + value > TR_TOTAL_MAX ||
		    tr_ledger_lease_grant(ev, value) != 0) {
			answer(s, TR_EINVALID,
			    "total would pass " TR_TOTAL_RANGE);
			return false;
		} else {
			/* The node's lease is the whole stock here. */
			tr_ledger_event_total_set(ev, ev->conf.total + value);
			waiters_serve(n, ev, f);
		}
		ops_fill_event(n, s, ev);
		answer(s, TR_OK, NULL);
		return false;
	}
	if (!atomic_load(&n->coord_up) || !atomic_load(&n->claimed) ||
	    (j = job_new(kind, NULL)) == NULL) {
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable");
		return false;
	}
	snprintf(j->event_id, sizeof(j->event_id), "%s", id);
	j->n = value;
	j->slot = s;
	if (kind == JOB_TOPUP)
		tr_call_topup(&j->call, id, value, TR_TOTAL_MAX);
	else
		tr_call_close(&j->call, id, value == 1);
	if (coord_submit(n, j) != 0) {
		job_free(j);
		answer(s, TR_EOVERLOADED, "coordinator queue full");
		return false;
	}
	return true;
}

bool
admin_run(tr_node *n, struct srv_ctx *c, struct finish_list *f)
{
	Ticketrush__Request *req = c->req;
	struct slot *s = &c->slots[0];

	switch (req->body_case) {
	case TICKETRUSH__REQUEST__BODY_CREATE_EVENT:
		return op_create_event(n, s, req->create_event);
	case TICKETRUSH__REQUEST__BODY_GET_STATUS:
		fill_status(n, c);
		answer(s, TR_OK, NULL);
		return false;
	case TICKETRUSH__REQUEST__BODY_LIST_EVENTS:
		op_list_events(n, c);
		return false;
	case TICKETRUSH__REQUEST__BODY_WAITLIST_SHOW:
		return waitlist_show_run(n, s, req->waitlist_show);
	case TICKETRUSH__REQUEST__BODY_DRAIN: {
		const char *only = req->drain->event_id;
		struct drain_arg a = {n, only[0] ? only : NULL, f, 0};
		tr_ledger_each_event(n->ledger, drain_event_cb, &a);
		if (a.only != NULL && a.matched == 0) {
			answer(s, TR_ENOT_FOUND, "no event %s", only);
			return false;
		}
		if (a.only == NULL)
			atomic_store(&n->draining, true);
		fill_status(n, c);
		answer(s, TR_OK, NULL);
		return false;
	}
	case TICKETRUSH__REQUEST__BODY_TOP_UP:
		return op_sale(n, s, JOB_TOPUP, req->top_up->event_id,
		    req->top_up->add, f);
	case TICKETRUSH__REQUEST__BODY_CLOSE_SALE:
		return op_sale(n, s, JOB_CLOSE, req->close_sale->event_id, 1,
		    f);
	case TICKETRUSH__REQUEST__BODY_REOPEN_SALE:
		return op_sale(n, s, JOB_CLOSE, req->reopen_sale->event_id, 0,
		    f);
	default:
		answer(s, TR_EINVALID, "empty or unknown request body");
		return false;
	}
}
