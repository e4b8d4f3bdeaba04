/* reply: a stock node's answers, filled into a slot with copies of every
 * string, so they can be packed after the lock is released. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_envelope.h"

void
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

void
fill_hold_fields(struct slot *s, const char *rid, const char *event_id,
    const char *user, const char *request_id, uint32_t qty, int state,
    int64_t expires_at_ms)
{
	Ticketrush__Hold *o = &s->hold;
	ticketrush__hold__init(o);
	snprintf(s->rid, sizeof(s->rid), "%s", rid);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->event_id, sizeof(s->event_id), "%s", event_id);
	snprintf(s->request_id, sizeof(s->request_id), "%s",
	    request_id ? request_id : "");
	o->reservation_id = s->rid;
	o->event_id = s->event_id;
	o->user_id = s->user;
	o->request_id = s->request_id;
	o->qty = qty;
	o->state = (Ticketrush__HoldState)state;
	o->expires_at_ms = expires_at_ms;
	s->reply.hold = o;
}

void
fill_hold(struct slot *s, const tr_hold *h)
{
	fill_hold_fields(s, h->rid, h->event->conf.id, h->user_id,
	    h->request_id, h->qty, h->state, h->expires_wall_ms);
}

void
fill_order_fields(struct slot *s, const char *rid, const char *event_id,
    const char *user, const char *request_id, uint32_t qty,
    const char *payment_ref, int64_t confirmed_at_ms, const char *node)
{
	Ticketrush__Order *o = &s->order;
	fill_hold_fields(s, rid, event_id, user, request_id, qty,
	    TR_HOLD_CONFIRMED, 0);
	ticketrush__order__init(o);
	snprintf(s->payment_ref, sizeof(s->payment_ref), "%s",
	    payment_ref ? payment_ref : "");
	snprintf(s->node_id, sizeof(s->node_id), "%s", node);
	o->order_id = s->rid;
	o->event_id = s->event_id;
	o->user_id = s->user;
	o->qty = qty;
	o->payment_ref = s->payment_ref;
	o->confirmed_at_ms = confirmed_at_ms;
	o->node_id = s->node_id;
	s->reply.order = o;
}

void
fill_order(struct slot *s, const tr_hold *h, const char *node)
{
	fill_order_fields(s, h->rid, h->event->conf.id, h->user_id,
	    h->request_id, h->qty, h->payment_ref, h->confirmed_wall_ms, node);
}

static const char *
event_state(tr_node *n, tr_event *ev, int64_t now_wall)
{
	struct ev_state *es = ev->user_data;
	if (ev->draining)
		return "draining";
	if (es != NULL && es->closed)
		return "closed";
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
	struct ev_state *es = ev->user_data;

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
	o->closed = es != NULL && es->closed;
	if (n->conf.standalone) {
		/* The node is the whole truth: its lease is the pool. */
		o->pool = 0;
		o->sold = ev->sold_here;
		o->held_total = ev->held;
		o->global_at_ms = tr_wall_ms();
	} else if (es != NULL) {
		o->pool = es->pool_known;
		o->sold = es->sold_known;
		o->held_total = es->held_known;
		o->global_at_ms = es->global_at_ms;
		o->waitlist = es->line;
		o->offers = es->offers;
	}
	s->reply.event = o;
}
