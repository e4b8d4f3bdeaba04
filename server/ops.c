/* ops: a stock node's operations on its ledger, the coordinator calls they
 * start, and the answers. Everything here runs under node->lock except the
 * input checks in ops_handle. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

#define VERSION_STRING "ticketrush-stockd 0.1.0"

static struct ev_state *
evs_of(tr_event *ev)
{
	return ev->user_data;
}

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

/* ---- filling answers --------------------------------------------------- */

static void
answer(struct slot *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer(struct slot *s, int err, const char *fmt, ...)
{
	va_list ap;
	s->detail[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
		va_end(ap);
	}
	tr_reply_set(&s->reply, err, s->detail);
}

static void
fill_hold(struct slot *s, const tr_hold *h)
{
	Ticketrush__Hold *o = &s->hold;
	ticketrush__hold__init(o);
	memcpy(s->rid, h->rid, sizeof(s->rid));
	memcpy(s->user, h->user_id, sizeof(s->user));
	memcpy(s->event_id, h->event->conf.id, sizeof(s->event_id));
	memcpy(s->request_id, h->request_id, sizeof(s->request_id));
	o->reservation_id = s->rid;
	o->event_id = s->event_id;
	o->user_id = s->user;
	o->request_id = s->request_id;
	o->qty = h->qty;
	o->state = (Ticketrush__HoldState)h->state;
	o->expires_at_ms = h->expires_wall_ms;
	s->reply.hold = o;
}

static void
fill_order(tr_node *n, struct slot *s, const tr_hold *h)
{
	Ticketrush__Order *o = &s->order;
	fill_hold(s, h);
	ticketrush__order__init(o);
	memcpy(s->payment_ref, h->payment_ref, sizeof(s->payment_ref));
	memcpy(s->node_id, n->conf.node_id, sizeof(s->node_id));
	o->order_id = s->rid;
	o->event_id = s->event_id;
	o->user_id = s->user;
	o->qty = h->qty;
	o->payment_ref = s->payment_ref;
	o->confirmed_at_ms = h->confirmed_wall_ms;
	o->node_id = s->node_id;
	s->reply.order = o;
}

static const char *
event_state(tr_node *n, tr_event *ev, int64_t now_wall)
{
	struct ev_state *es = evs_of(ev);
	if (ev->draining)
		return "draining";
	if (ev->conf.opens_at_ms != 0 && now_wall < ev->conf.opens_at_ms)
		return "scheduled";
	if (tr_event_available(ev) == 0 &&
	    (n->conf.standalone || (es != NULL && es->pool_empty)))
		return "sold_out";
	return "on_sale";
}

void
ops_fill_event(tr_node *n, struct slot *s, tr_event *ev)
{
	Ticketrush__EventInfo *o = &s->event;
	struct ev_state *es = evs_of(ev);

	ticketrush__event_info__init(o);
	memcpy(s->event_id, ev->conf.id, sizeof(s->event_id));
	snprintf(s->state, sizeof(s->state), "%s",
	    event_state(n, ev, tr_wall_ms()));
	o->event_id = s->event_id;
	o->total = ev->conf.total;
	o->limit_per_user = ev->conf.limit_per_user;
	o->hold_ms = ev->conf.hold_ms;
	o->opens_at_ms = ev->conf.opens_at_ms;
	o->state = s->state;
	o->lease = ev->lease;
	o->held = ev->held;
	o->available = tr_event_available(ev);
	o->sold_here = ev->sold_here;
	o->epoch = ev->epoch;
	if (n->conf.standalone) {
		/* The node is the whole truth: its lease is the pool. */
		o->pool = 0;
		o->sold = ev->sold_here;
		o->global_at_ms = tr_wall_ms();
	} else if (es != NULL) {
		o->pool = es->pool_known;
		o->sold = es->sold_known;
		o->global_at_ms = es->global_at_ms;
	}
	s->reply.event = o;
}

/* ---- coordinator calls ------------------------------------------------- */

struct job *
job_new(enum job_kind kind, tr_event *ev)
{
	struct job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->kind = kind;
	j->ev = ev;
	if (ev != NULL)
		memcpy(j->event_id, ev->conf.id, sizeof(j->event_id));
	return j;
}

static uint64_t
waiting_qty(const struct ev_state *es)
{
	uint64_t q = 0;
	for (size_t i = 0; i < es->count; i++)
		q += es->ring[(es->head + i) % es->cap].qty;
	return q;
}

/* Ask for a grant unless one is in flight. Returns 0 if one is (now) in
 * flight, else an error (coordinator down, queue full, nothing to ask). */
static int
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
		free(j);
		return TR_EOVERLOADED;
	}
	es->grant_in_flight = true;
	return 0;
}

/* Give `count` free tickets back to the pool; they leave the local lease
 * now so nobody can take them meanwhile. */
static void
give_back(tr_node *n, tr_event *ev, uint64_t count)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;

	if (count == 0 || es->give_back_in_flight || es->fenced ||
	    !atomic_load(&n->coord_up))
		return;
	if ((j = job_new(JOB_GIVE_BACK, ev)) == NULL)
		return;
	j->n = count;
	tr_call_give_back(&j->call, ev->conf.id, n->conf.node_id, ev->epoch,
	    count);
	if (tr_ledger_lease_return(ev, count) != 0 ||
	    coord_submit(n, j) != 0) {
		free(j);
		return;
	}
	es->give_back_in_flight = true;
}

static void
fence(tr_node *n, tr_event *ev, uint64_t coord_epoch, struct finish_list *f);

/* ---- reservations ------------------------------------------------------ */

/* Answer a Reserve with the ledger's verdict (not TR_EEMPTY). */
static void
answer_reserve(tr_node *n, struct slot *s, tr_event *ev, int rv,
    tr_hold *h)
{
	switch (rv) {
	case 0:
		fill_hold(s, h);
		answer(s, TR_OK, NULL);
		atomic_fetch_add(&n->reserves_ok, 1);
		return;
	case TR_EDUPLICATE:
		fill_hold(s, h);
		answer(s, rv, "user already holds reservation %s; confirm or "
		    "release it", h->rid);
		break;
	case TR_ELIMIT:
		answer(s, rv, "limit is %" PRIu32 " ticket(s) per user",
		    ev->conf.limit_per_user);
		break;
	case TR_ENOT_OPEN:
		answer(s, rv, "sale opens at %" PRId64 " (unix ms)",
		    ev->conf.opens_at_ms);
		break;
	case TR_EUNAVAILABLE:
		answer(s, rv, "event is draining on node %s",
		    n->conf.node_id);
		break;
	case TR_ESOLD_OUT:
		answer(s, rv, "sold out");
		break;
	default:
		answer(s, rv, "%s", tr_strerror(rv));
		break;
	}
	atomic_fetch_add(&n->reserves_rejected, 1);
}

static int
waiter_push(tr_node *n, struct ev_state *es, struct slot *s,
    const Ticketrush__Reserve *r, int64_t now)
{
	struct waiter *w;

	if (es->count == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		struct waiter *ring;
		if (es->cap >= n->conf.waiters_max)
			return TR_EOVERLOADED;
		if (cap > n->conf.waiters_max)
			cap = n->conf.waiters_max;
		if ((ring = malloc(cap * sizeof(*ring))) == NULL)
			return TR_ENOMEM;
		for (size_t i = 0; i < es->count; i++)
			ring[i] = es->ring[(es->head + i) % es->cap];
		free(es->ring);
		es->ring = ring;
		es->cap = cap;
		es->head = 0;
	}
	w = &es->ring[(es->head + es->count) % es->cap];
	w->slot = s;
	w->user = r->user_id;
	w->request_id = r->request_id;
	w->qty = r->qty;
	w->deadline_mono_ms = now + n->conf.wait_timeout_ms;
	es->count++;
	return 0;
}

static struct waiter *
waiter_front(struct ev_state *es)
{
	return es->count ? &es->ring[es->head] : NULL;
}

static void
waiter_pop(struct ev_state *es)
{
	es->head = (es->head + 1) % es->cap;
	es->count--;
}

/* Answer every waiter of ev with err. */
static void
waiters_fail(tr_node *n, tr_event *ev, int err, const char *detail,
    struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	struct waiter *w;
	while ((w = waiter_front(es)) != NULL) {
		answer(w->slot, err, "%s", detail);
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(f, w->slot);
		waiter_pop(es);
	}
}

/* Stock arrived (or the pool is known empty): serve waiters in order. */
static void
waiters_serve(tr_node *n, tr_event *ev, struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	int64_t now = tr_mono_ms(), wall = tr_wall_ms();
	struct waiter *w;

	while ((w = waiter_front(es)) != NULL) {
		tr_hold *h = NULL;
		int rv = tr_ledger_reserve(n->ledger, ev, w->user, w->qty,
		    w->request_id, now, wall, &h);
		if (rv == TR_EEMPTY) {
			if (!es->pool_empty) {
				if (want_grant(n, ev) == 0)
					return; /* wait for the next grant */
				waiters_fail(n, ev, TR_EUNAVAILABLE,
				    "coordinator unavailable", f);
				return;
			}
			rv = TR_ESOLD_OUT;
		}
		answer_reserve(n, w->slot, ev, rv, h);
		finish_add(f, w->slot);
		waiter_pop(es);
	}
}

/* Returns true if the answer will come later (waiting for a grant). */
static bool
op_reserve(tr_node *n, struct slot *s, const Ticketrush__Reserve *r,
    int64_t now, int64_t wall)
{
	tr_event *ev = tr_ledger_event_get(n->ledger, r->event_id);
	struct ev_state *es;
	tr_hold *h = NULL;
	int rv;

	if (ev == NULL) {
		answer(s, TR_ENOT_FOUND, "no event %s", r->event_id);
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	es = evs_of(ev);
	if (!n->conf.standalone &&
	    now > atomic_load(&n->lease_valid_until)) {
		answer(s, TR_EUNAVAILABLE, "coordinator unreachable for longer "
		    "than the liveness TTL: this node's lease may be "
		    "reclaimed, so it does not sell");
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	/* Waiters first: a newcomer must not jump the queue. */
	if (es->count > 0)
		rv = TR_EEMPTY;
	else
		rv = tr_ledger_reserve(n->ledger, ev, r->user_id, r->qty,
		    r->request_id, now, wall, &h);
	if (rv != TR_EEMPTY) {
		answer_reserve(n, s, ev, rv, h);
		if (rv == 0 && !n->conf.standalone && !es->pool_empty &&
		    tr_event_available(ev) <=
		    tr_refill_low_water(&es->refill))
			(void)want_grant(n, ev); /* ask ahead */
		return false;
	}
	if (n->conf.standalone || (es->pool_empty && es->count == 0)) {
		answer_reserve(n, s, ev, TR_ESOLD_OUT, NULL);
		return false;
	}
	if (es->fenced || ev->draining) {
		answer(s, TR_EUNAVAILABLE, "node %s is re-registering or "
		    "draining this event", n->conf.node_id);
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
		answer(s, TR_EOVERLOADED, "too many reservations waiting for "
		    "stock (waiters_max %zu)", n->conf.waiters_max);
		atomic_fetch_add(&n->reserves_rejected, 1);
		return false;
	}
	return true;
}

/* ---- confirm and release ------------------------------------------------ */

static bool
own_rid(tr_node *n, struct slot *s, const char *rid)
{
	char node[TR_NODE_ID_MAX + 1];
	if (!tr_rid_parse(rid, node)) {
		answer(s, TR_EINVALID, "reservation_id is not of the shape "
		    "<node>.<16 hex digits>");
		return false;
	}
	if (strcmp(node, n->conf.node_id) != 0) {
		answer(s, TR_ENOT_FOUND, "reservation %s belongs to node %s, "
		    "this is node %s", rid, node, n->conf.node_id);
		return false;
	}
	return true;
}

static bool
op_confirm(tr_node *n, struct slot *s, const Ticketrush__Confirm *c,
    int64_t now)
{
	tr_hold *h = NULL;
	struct job *j;
	int rv;

	rv = tr_ledger_confirm_begin(n->ledger, c->reservation_id, c->user_id,
	    now, &h);
	switch (rv) {
	case 0:
		fill_order(n, s, h); /* confirmed before: same order */
		answer(s, TR_OK, NULL);
		return false;
	case TR_EPENDING:
		break;
	case TR_EEXPIRED:
		fill_hold(s, h);
		answer(s, rv, "reservation expired; its ticket went back on "
		    "sale");
		return false;
	case TR_ECONFLICT:
		fill_hold(s, h);
		answer(s, rv, "reservation was released");
		return false;
	case TR_ENOT_OWNER:
		answer(s, rv, "reservation belongs to another user");
		return false;
	case TR_ENOT_FOUND:
		answer(s, rv, "no reservation %s (or forgotten long ago)",
		    c->reservation_id);
		return false;
	default:
		answer(s, rv, "%s", tr_strerror(rv));
		return false;
	}
	if (n->conf.standalone) {
		tr_ledger_confirm_end(n->ledger, h, 0, c->payment_ref,
		    tr_wall_ms(), now);
		fill_order(n, s, h);
		answer(s, TR_OK, NULL);
		atomic_fetch_add(&n->confirms_ok, 1);
		return false;
	}
	if (!atomic_load(&n->coord_up) ||
	    (j = job_new(JOB_CONFIRM, h->event)) == NULL) {
		tr_ledger_confirm_end(n->ledger, h, TR_EUNAVAILABLE, NULL, 0,
		    now);
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable; the "
		    "reservation is kept until it expires: retry");
		return false;
	}
	memcpy(j->rid, h->rid, sizeof(j->rid));
	memcpy(j->user, h->user_id, sizeof(j->user));
	snprintf(j->payment_ref, sizeof(j->payment_ref), "%s",
	    c->payment_ref);
	j->qty = h->qty;
	j->slot = s;
	tr_call_confirm(&j->call, h->event->conf.id, n->conf.node_id,
	    h->event->epoch, h->rid, h->user_id, h->qty, c->payment_ref);
	if (coord_submit(n, j) != 0) {
		free(j);
		tr_ledger_confirm_end(n->ledger, h, TR_EUNAVAILABLE, NULL, 0,
		    now);
		answer(s, TR_EOVERLOADED, "too many confirms queued; retry");
		return false;
	}
	return true;
}

static void
op_release(tr_node *n, struct slot *s, const Ticketrush__Release *r)
{
	tr_hold *h = NULL;
	int rv = tr_ledger_release(n->ledger, r->reservation_id, r->user_id,
	    &h);

	if (h != NULL && rv != TR_ENOT_OWNER)
		fill_hold(s, h);
	switch (rv) {
	case 0:
		answer(s, TR_OK, NULL);
		break;
	case TR_ECONFLICT:
		answer(s, rv, h->state == TR_HOLD_CONFIRMED ?
		    "reservation is confirmed (paid); it cannot be released" :
		    "a confirm of this reservation is in flight or its "
		    "outcome is being settled; retry confirm");
		break;
	case TR_ENOT_OWNER:
		answer(s, rv, "reservation belongs to another user");
		break;
	default:
		answer(s, rv, "no reservation %s", r->reservation_id);
		break;
	}
}

/* ---- input checks (no lock) --------------------------------------------- */

static bool
check_reserve(struct slot *s, const Ticketrush__Reserve *r)
{
	if (!tr_event_id_valid(r->event_id))
		answer(s, TR_EINVALID, "event_id must be 1-64 chars of "
		    "[A-Za-z0-9._:-]");
	else if (!tr_user_id_valid(r->user_id))
		answer(s, TR_EINVALID, "user_id must be 1-64 chars of "
		    "[A-Za-z0-9._:@-]");
	else if (!tr_request_id_valid(r->request_id))
		answer(s, TR_EINVALID, "request_id must be 0-64 chars of "
		    "[A-Za-z0-9._:-]");
	else if (r->qty > TR_LIMIT_PER_USER_MAX)
		answer(s, TR_EINVALID, "qty must be 1..%d",
		    TR_LIMIT_PER_USER_MAX);
	else
		return true;
	return false;
}

static bool
check_rid_user(struct slot *s, const char *rid, const char *user)
{
	char node[TR_NODE_ID_MAX + 1];
	if (!tr_rid_parse(rid, node))
		answer(s, TR_EINVALID, "reservation_id is not of the shape "
		    "<node>.<16 hex digits>");
	else if (!tr_user_id_valid(user))
		answer(s, TR_EINVALID, "user_id must be 1-64 chars of "
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
	case TICKETRUSH__OP__OP_RESERVE:
		return check_reserve(s, op->reserve);
	case TICKETRUSH__OP__OP_CONFIRM:
		if (!check_rid_user(s, op->confirm->reservation_id,
		    op->confirm->user_id))
			return false;
		if (!tr_payment_ref_valid(op->confirm->payment_ref)) {
			answer(s, TR_EINVALID, "payment_ref must be 0-128 "
			    "printable ASCII chars");
			return false;
		}
		return true;
	case TICKETRUSH__OP__OP_RELEASE:
		return check_rid_user(s, op->release->reservation_id,
		    op->release->user_id);
	case TICKETRUSH__OP__OP_GET_EVENT:
		if (!tr_event_id_valid(op->get_event->event_id)) {
			answer(s, TR_EINVALID, "event_id must be 1-64 chars "
			    "of [A-Za-z0-9._:-]");
			return false;
		}
		return true;
	default:
		answer(s, TR_EINVALID, "empty or unknown operation");
		return false;
	}
}

/* Run one checked data op under the lock; true if it finishes later. */
static bool
run_op(tr_node *n, struct slot *s, const Ticketrush__Op *op, int64_t now,
    int64_t wall)
{
	switch (op->op_case) {
	case TICKETRUSH__OP__OP_RESERVE:
		return op_reserve(n, s, op->reserve, now, wall);
	case TICKETRUSH__OP__OP_CONFIRM:
		if (!own_rid(n, s, op->confirm->reservation_id))
			return false;
		return op_confirm(n, s, op->confirm, now);
	case TICKETRUSH__OP__OP_RELEASE:
		if (own_rid(n, s, op->release->reservation_id))
			op_release(n, s, op->release);
		return false;
	case TICKETRUSH__OP__OP_GET_EVENT: {
		tr_event *ev = tr_ledger_event_get(n->ledger,
		    op->get_event->event_id);
		if (ev == NULL) {
			answer(s, TR_ENOT_FOUND, "no event %s",
			    op->get_event->event_id);
			return false;
		}
		ops_fill_event(n, s, ev);
		answer(s, TR_OK, NULL);
		return false;
	}
	default:
		return false;
	}
}

/* ---- admin -------------------------------------------------------------- */

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
	st->holds_active = tr_ledger_active_holds(n->ledger);
	st->coordinator_calls = atomic_load(&n->coord_calls);
	st->version = VERSION_STRING;
	s->reply.node = st;
}

struct list_arg {
	tr_node *n;
	struct srv_ctx *c;
	size_t i;
};

static void
list_event_cb(tr_event *ev, void *arg)
{
	struct list_arg *a = arg;
	struct slot *x = &a->c->extra[a->i];
	ops_fill_event(a->n, x, ev);
	a->c->events[a->i++] = &x->event;
}

static void
op_list_events(tr_node *n, struct srv_ctx *c)
{
	size_t count = tr_ledger_event_count(n->ledger);
	struct slot *s = &c->slots[0];
	struct list_arg a = {n, c, 0};

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
	if (strlen(ce->event_id) > TR_EVENT_ID_MAX ||
	    tr_event_conf_check(&conf, &why) != 0) {
		answer(s, TR_EINVALID, "%s", why ? why :
		    "event_id must be 1-64 chars of [A-Za-z0-9._:-]");
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
		answer(s, rv, rv == TR_EDUPLICATE ? "event exists with other "
		    "settings" : NULL);
		return false;
	}
	if (!atomic_load(&n->coord_up) ||
	    (j = job_new(JOB_CREATE_EVENT, NULL)) == NULL) {
		answer(s, TR_EUNAVAILABLE, "coordinator unavailable");
		return false;
	}
	j->conf = conf;
	memcpy(j->event_id, conf.id, sizeof(j->event_id));
	j->slot = s;
	tr_call_create_event(&j->call, conf.id, conf.total,
	    conf.limit_per_user, conf.hold_ms, conf.opens_at_ms);
	if (coord_submit(n, j) != 0) {
		free(j);
		answer(s, TR_EOVERLOADED, "coordinator queue full");
		return false;
	}
	return true;
}

/* Admin ops: answered in slot 0. True if it finishes later. */
static bool
run_admin(tr_node *n, struct srv_ctx *c, struct finish_list *f)
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
	default:
		answer(s, TR_EINVALID, "empty or unknown request body");
		return false;
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
	    body == TICKETRUSH__REQUEST__BODY_LIST_EVENTS;
}

void
ops_handle(struct srv_ctx *c)
{
	tr_node *n = c->node;
	Ticketrush__Request *req = c->req;
	struct finish_list f = {0};
	Ticketrush__Op single = TICKETRUSH__OP__INIT;
	Ticketrush__Op **ops;
	size_t nops;
	bool ok[TR_BATCH_MAX_LIMIT];
	int64_t now, wall;
	char why[96];

	if (req->version != TR_PROTOCOL_VERSION) {
		snprintf(why, sizeof(why), "protocol version %u not "
		    "supported; this node speaks version %d", req->version,
		    TR_PROTOCOL_VERSION);
		ops_reply_all(c, TR_EINVALID, why);
		return;
	}
	if (is_admin_body(req->body_case)) {
		if (!c->admin) {
			ops_reply_all(c, TR_EFORBIDDEN, "admin call on the "
			    "data socket; use the admin socket");
			return;
		}
		pthread_mutex_lock(&n->lock);
		if (run_admin(n, c, &f))
			atomic_fetch_add(&c->outstanding, 1);
		pthread_mutex_unlock(&n->lock);
		finish_all(&f);
		free(f.v);
		return;
	}

	/* Data ops: one, or a batch. */
	switch (req->body_case) {
	case TICKETRUSH__REQUEST__BODY_RESERVE:
		single.op_case = TICKETRUSH__OP__OP_RESERVE;
		single.reserve = req->reserve;
		break;
	case TICKETRUSH__REQUEST__BODY_CONFIRM:
		single.op_case = TICKETRUSH__OP__OP_CONFIRM;
		single.confirm = req->confirm;
		break;
	case TICKETRUSH__REQUEST__BODY_RELEASE:
		single.op_case = TICKETRUSH__OP__OP_RELEASE;
		single.release = req->release;
		break;
	case TICKETRUSH__REQUEST__BODY_GET_EVENT:
		single.op_case = TICKETRUSH__OP__OP_GET_EVENT;
		single.get_event = req->get_event;
		break;
	case TICKETRUSH__REQUEST__BODY_BATCH:
		break;
	default:
		ops_reply_all(c, TR_EINVALID, "empty or unknown request body");
		return;
	}
	if (req->body_case == TICKETRUSH__REQUEST__BODY_BATCH) {
		nops = req->batch->n_ops;
		ops = req->batch->ops;
		if (nops == 0 || nops > n->conf.batch_max) {
			snprintf(why, sizeof(why), "batch must have 1..%u "
			    "operations, got %zu", n->conf.batch_max, nops);
			ops_reply_all(c, TR_EINVALID, why);
			return;
		}
	} else {
		nops = 1;
		ops = NULL;
	}
	for (size_t i = 0; i < nops; i++)
		ok[i] = check_op(&c->slots[i], ops ? ops[i] : &single);

	pthread_mutex_lock(&n->lock);
	now = tr_mono_ms();
	wall = tr_wall_ms();
	for (size_t i = 0; i < nops; i++) {
		if (ok[i] && run_op(n, &c->slots[i], ops ? ops[i] : &single,
		    now, wall))
			atomic_fetch_add(&c->outstanding, 1);
	}
	pthread_mutex_unlock(&n->lock);
}

/* ---- coordinator answers ------------------------------------------------ */

static void
fence(tr_node *n, tr_event *ev, uint64_t coord_epoch, struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;

	if (es->fenced)
		return;
	tr_warn("event %s: lease of node %s was reclaimed (epoch %" PRIu64
	    " -> %" PRIu64 "): dropping its holds and re-registering",
	    ev->conf.id, n->conf.node_id, ev->epoch, coord_epoch);
	tr_ledger_event_reset(n->ledger, ev, ev->epoch);
	es->fenced = true;
	waiters_fail(n, ev, TR_EUNAVAILABLE, "node lease was reclaimed; "
	    "retry", f);
	if ((j = job_new(JOB_REGISTER, ev)) != NULL) {
		tr_call_register(&j->call, ev->conf.id, n->conf.node_id);
		if (coord_submit(n, j) == 0)
			return; /* done_register clears `fenced` */
		free(j);
	}
	/* Could not ask now: the next sync sees the stale epoch again and
	 * fences again, which retries the registration. */
	es->fenced = false;
}

static void
done_grant(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_event *ev = j->ev;
	struct ev_state *es = evs_of(ev);
	uint64_t granted = 0, pool = 0;
	int rv = tr_result_grant(&j->call, &granted, &pool);

	es->grant_in_flight = false;
	if (rv == 0) {
		if (tr_ledger_lease_grant(ev, granted) != 0) {
			tr_error("event %s: lease overflow", ev->conf.id);
			rv = TR_EINTERNAL;
		} else {
			es->pool_known = pool;
			es->pool_empty = pool == 0;
			es->global_at_ms = tr_wall_ms();
			waiters_serve(n, ev, f);
			return;
		}
	}
	if (rv == TR_EFENCED) {
		fence(n, ev, j->call.fenced_epoch, f);
		return;
	}
	waiters_fail(n, ev, TR_EUNAVAILABLE, rv == TR_ETIMEDOUT ?
	    "coordinator timed out" : "coordinator unavailable", f);
}

static void
done_confirm(tr_node *n, struct job *j, struct finish_list *f)
{
	tr_hold *h = tr_ledger_hold_get(n->ledger, j->rid);
	struct slot *s = j->slot;
	tr_order_info info;
	int64_t now = tr_mono_ms();
	int rv = tr_result_confirm(&j->call, &info);

	if (h == NULL) { /* forgotten meanwhile: answer from Redis alone */
		answer(s, rv == 0 ? TR_EINTERNAL : rv, "reservation %s was "
		    "forgotten while confirming", j->rid);
		finish_add(f, s);
		return;
	}
	switch (rv) {
	case 0:
		tr_ledger_confirm_end(n->ledger, h, 0, info.payment_ref,
		    info.confirmed_at_ms, now);
		fill_order(n, s, h);
		answer(s, TR_OK, NULL);
		if (info.created)
			atomic_fetch_add(&n->confirms_ok, 1);
		break;
	case TR_ELIMIT:
		tr_ledger_confirm_end(n->ledger, h, rv, NULL, 0, now);
		fill_hold(s, h);
		answer(s, rv, "user already bought the limit of %" PRIu32
		    " ticket(s) on another node; this hold was released",
		    h->event->conf.limit_per_user);
		break;
	case TR_EEXPIRED:
		tr_ledger_confirm_end(n->ledger, h, rv, NULL, 0, now);
		fill_hold(s, h);
		answer(s, rv, "reservation expired");
		break;
	case TR_EFENCED:
		tr_ledger_confirm_end(n->ledger, h, rv, NULL, 0, now);
		answer(s, TR_EUNAVAILABLE, "this node's lease was reclaimed; "
		    "the reservation is void");
		fence(n, h->event, j->call.fenced_epoch, f);
		break;
	case TR_EIO:
	case TR_ETIMEDOUT:
		tr_ledger_confirm_end(n->ledger, h, rv, NULL, 0, now);
		answer(s, TR_EUNAVAILABLE, "coordinator did not answer; the "
		    "outcome is unknown: retry confirm (it is idempotent)");
		break;
	default:
		tr_ledger_confirm_end(n->ledger, h, rv, NULL, 0, now);
		answer(s, rv, "%s", j->call.detail[0] ? j->call.detail :
		    tr_strerror(rv));
		break;
	}
	finish_add(f, s);
}

static void
done_resolve(tr_node *n, struct job *j)
{
	tr_hold *h = tr_ledger_hold_get(n->ledger, j->rid);
	bool confirmed = false;
	int64_t at = 0;
	char ref[TR_PAYMENT_REF_MAX + 1] = "";
	int rv = tr_result_resolve(&j->call, &confirmed, &at, ref, sizeof(ref));

	if (h == NULL)
		return;
	if (rv == 0)
		tr_ledger_confirm_end(n->ledger, h, confirmed ? 0 :
		    TR_EEXPIRED, ref, at, tr_mono_ms());
	else
		tr_ledger_confirm_end(n->ledger, h, rv == TR_EUNAVAILABLE ?
		    TR_EIO : rv, NULL, 0, tr_mono_ms());
	if (rv == 0)
		tr_info("reservation %s settled with the coordinator: %s",
		    j->rid, confirmed ? "confirmed" : "voided and expired");
}

static void
done_give_back(tr_node *n, struct job *j)
{
	struct ev_state *es = evs_of(j->ev);
	uint64_t lease_left, pool;
	int rv = tr_result_give_back(&j->call, &lease_left, &pool);

	es->give_back_in_flight = false;
	if (rv == 0) {
		es->pool_known = pool;
		es->pool_empty = pool == 0;
		return;
	}
	if (j->repair)
		return; /* the next sync looks again */
	if (rv == TR_EUNAVAILABLE) {
		/* Never sent: the tickets are still ours. */
		(void)tr_ledger_lease_grant(j->ev, j->n);
		return;
	}
	/* Unknown or refused: assume they left. If they did not, the next
	 * sync sees the coordinator's lease above ours and gives back the
	 * difference, so nothing stays stranded. */
	tr_warn("event %s: give back of %" PRIu64 " failed: %s", j->ev->conf.id,
	    j->n, tr_strerror(rv));
}

static void
done_register(tr_node *n, struct job *j, struct finish_list *f)
{
	struct ev_state *es = evs_of(j->ev);
	uint64_t epoch, returned, total, hold_ms;
	uint32_t limit;
	int64_t opens;
	int rv = tr_result_register(&j->call, &epoch, &returned, &total,
	    &limit, &hold_ms, &opens);

	(void)f;
	es->fenced = false;
	if (rv != 0) {
		tr_warn("event %s: re-register failed: %s", j->ev->conf.id,
		    tr_strerror(rv));
		return; /* the next sync retries */
	}
	tr_ledger_event_reset(n->ledger, j->ev, epoch);
	es->pool_empty = false;
	tr_info("event %s: node %s registered with epoch %" PRIu64,
	    j->ev->conf.id, n->conf.node_id, epoch);
}

void
evs_reset_after_register(tr_event *ev)
{
	struct ev_state *es = evs_of(ev);
	es->pool_empty = false;
	es->fenced = false;
}

void
evs_apply_sync(tr_node *n, tr_event *ev, const tr_sync_info *si,
    struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	struct job *j;

	es->pool_known = si->pool;
	es->sold_known = si->sold;
	es->pool_empty = si->pool == 0;
	es->global_at_ms = tr_wall_ms();
	if (si->epoch != ev->epoch) {
		fence(n, ev, si->epoch, f);
		return;
	}
	/* Calls run one batch at a time on this thread, so nothing is in
	 * flight now; queued give-backs already left our lease, so wait for
	 * them. A coordinator lease above ours comes from a grant or give-back
	 * whose answer was lost: return the difference. */
	if (es->give_back_in_flight || es->grant_in_flight ||
	    si->lease <= ev->lease)
		return;
	if ((j = job_new(JOB_GIVE_BACK, ev)) == NULL)
		return;
	j->n = si->lease - ev->lease;
	j->repair = true;
	tr_call_give_back(&j->call, ev->conf.id, n->conf.node_id, ev->epoch,
	    j->n);
	if (coord_submit(n, j) != 0) {
		free(j);
		return;
	}
	es->give_back_in_flight = true;
	tr_warn("event %s: coordinator lease %" PRIu64 " above ours %" PRIu64
	    ": giving back the difference", ev->conf.id, si->lease, ev->lease);
}

void
ops_job_done(tr_node *n, struct job *j, struct finish_list *f)
{
	switch (j->kind) {
	case JOB_GRANT:
		done_grant(n, j, f);
		break;
	case JOB_CONFIRM:
		done_confirm(n, j, f);
		break;
	case JOB_RESOLVE:
		done_resolve(n, j);
		break;
	case JOB_GIVE_BACK:
		done_give_back(n, j);
		break;
	case JOB_REGISTER:
		done_register(n, j, f);
		break;
	case JOB_CREATE_EVENT:
		/* coordloop.c answers these: they take several calls. */
		break;
	}
}

/* ---- periodic ----------------------------------------------------------- */

static void
resolve_cb(tr_hold *h, void *arg)
{
	tr_node *n = arg;
	struct job *j = job_new(JOB_RESOLVE, h->event);

	if (j != NULL) {
		memcpy(j->rid, h->rid, sizeof(j->rid));
		tr_call_resolve(&j->call, h->event->conf.id, h->rid);
		if (coord_submit(n, j) == 0)
			return;
		free(j);
	}
	/* Try again later: still unknown. */
	tr_ledger_confirm_end(n->ledger, h, TR_EIO, NULL, 0, tr_mono_ms());
}

struct tick_arg {
	tr_node *n;
	int64_t now;
	struct finish_list *f;
};

static void
tick_event(tr_event *ev, void *arg)
{
	struct tick_arg *a = arg;
	tr_node *n = a->n;
	struct ev_state *es = evs_of(ev);
	struct waiter *w;
	uint64_t avail;

	if (es == NULL)
		return;
	tr_refill_observe(&es->refill, ev->reserved_count, a->now);
	while ((w = waiter_front(es)) != NULL &&
	    w->deadline_mono_ms <= a->now) {
		answer(w->slot, TR_EUNAVAILABLE, "timed out waiting for stock "
		    "from the coordinator");
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(a->f, w->slot);
		waiter_pop(es);
	}
	if (n->conf.standalone)
		return;
	avail = tr_event_available(ev);
	if (ev->draining || tr_refill_idle(ev->last_reserve_mono_ms, a->now,
	    n->conf.lease_idle_ms)) {
		if (avail > 0 && es->count == 0 && !es->grant_in_flight)
			give_back(n, ev, avail);
		return;
	}
	/* Selling recently: keep a little ahead of demand. */
	if (!es->pool_empty && avail <= tr_refill_low_water(&es->refill))
		(void)want_grant(n, ev);
}

void
ops_tick(tr_node *n, int64_t now, struct finish_list *f)
{
	struct tick_arg a = {n, now, f};

	tr_ledger_expire_due(n->ledger, now, 100000, resolve_cb, n);
	tr_ledger_each_event(n->ledger, tick_event, &a);
}
