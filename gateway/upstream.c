/* upstream: trgate's nng side, driven from the loop threads themselves.
 *
 * Each loop thread has, per stock node, its own raw REQ socket. Requests
 * carry a request id of ours in the header (raw mode: nng does no matching,
 * no resend), are sent without blocking from the loop, and the replies are
 * drained on the loop when nng's receive fd turns readable (h2o watches it
 * without reading it). So an answer never crosses threads: the aio
 * callbacks and queue hand-offs that dominated the gateway's profile are
 * gone. A timeout per message is an h2o timer on the same loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#include <nng/protocol/reqrep0/req.h>

#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

/* Request ids: the slot of the call in its lane, and a generation so that
 * a late reply to an earlier use of the slot is recognised and dropped. */
#define SLOT_BITS 10
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define REQ_ID_BIT 0x80000000u /* nng's mark of the request id */

static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct gw_node *n = arg;
	(void)p;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&n->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&n->pipes, 1);
}

int
gw_node_open(struct gw_node *n, const char *id, const char *url, int index)
{
	memset(n, 0, sizeof(*n));
	n->index = index;
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->url, sizeof(n->url), "%s", url);
	return 0;
}

static void on_replies(h2o_socket_t *watch, const char *err);
static void on_call_timeout(h2o_timeout_entry_t *entry);

int
gw_lane_init(struct gw_thread *t, int node)
{
	struct gw *gw = t->gw;
	struct gw_lane *l = &t->lanes[node];
	struct gw_node *n = &gw->nodes[node];
	int ncalls = gw->conf.calls_per_node, fd, rv;

	memset(l, 0, sizeof(*l));
	if (ncalls > (int)SLOT_MASK + 1)
		ncalls = (int)SLOT_MASK + 1;
	if ((rv = nng_req0_open_raw(&l->sock)) != 0)
		return TR_ENOMEM;
	l->open = true;
	nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, TR_MSG_MAX);
	/* Queues as deep as the calls a lane may have in flight: a
	 * non-blocking send must not fail because the pipe is busy with the
	 * previous message, nor a reply wait for us to read the one before. */
	nng_socket_set_int(l->sock, NNG_OPT_SENDBUF, ncalls);
	nng_socket_set_int(l->sock, NNG_OPT_RECVBUF, ncalls);
	/* Reconnect quickly after a node restarts. */
	nng_socket_set_ms(l->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(l->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, pipe_event, n);
	nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, pipe_event, n);
	/* Non-blocking: a node that is down is dialed again and again in the
	 * background; it is skipped while no loop has a connection to it. */
	if ((rv = nng_dial(l->sock, n->url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		tr_error("node %s: cannot dial %s: %s", n->id, n->url,
		    nng_strerror(rv));
		return TR_EINVALID;
	}
	if (nng_socket_get_int(l->sock, NNG_OPT_RECVFD, &fd) != 0)
		return TR_ENOMEM;
	/* Watched, never read: nng owns the fd's contents. */
	l->watch = h2o_evloop_socket_create(t->ctx.loop, fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	l->watch->data = l;
	h2o_socket_read_start(l->watch, on_replies);
	h2o_timeout_init(t->ctx.loop, &l->timeout,
	    (uint64_t)gw->conf.upstream_timeout_ms);
	l->t = t;
	l->node = node;
	l->calls = calloc((size_t)ncalls, sizeof(*l->calls));
	if (l->calls == NULL)
		return TR_ENOMEM;
	l->ncalls = ncalls;
	for (int i = ncalls - 1; i >= 0; i--) {
		struct gw_call *c = &l->calls[i];
		c->t = t;
		c->node = n;
		c->slot = (uint32_t)i;
		c->timeout_entry.cb = on_call_timeout;
		c->ops = calloc((size_t)gw->conf.batch_max, sizeof(*c->ops));
		if (c->ops == NULL)
			return TR_ENOMEM;
		c->next_free = l->free;
		l->free = c;
	}
	return 0;
}

void
gw_lane_fini(struct gw_thread *t, int node)
{
	struct gw_lane *l = &t->lanes[node];

	if (l->watch != NULL)
		h2o_socket_read_stop(l->watch);
	if (l->open)
		nng_close(l->sock);
	l->open = false;
	for (int i = 0; l->calls && i < l->ncalls; i++) {
		free(l->calls[i].ops);
		tr_reply_free(l->calls[i].reply);
	}
	free(l->calls);
	l->calls = NULL;
}

/* The body of one op, kept beside it until the message is packed. */
union op_body {
	Ticketrush__Reserve r;
	Ticketrush__Confirm c;
	Ticketrush__Release l;
	Ticketrush__GetEvent g;
	Ticketrush__WaitlistJoin wj;
	Ticketrush__WaitlistGet wg;
	Ticketrush__WaitlistLeave wl;
	Ticketrush__Refund rf;
};

static void
fill_op(Ticketrush__Op *op, union op_body *u, struct gw_op *o)
{
	ticketrush__op__init(op);
	switch (o->kind) {
	case GW_OP_RESERVE:
		ticketrush__reserve__init(&u->r);
		u->r.event_id = o->event_id;
		u->r.user_id = o->user;
		u->r.qty = o->qty;
		u->r.request_id = o->request_id;
		op->op_case = TICKETRUSH__OP__OP_RESERVE;
		op->reserve = &u->r;
		break;
	case GW_OP_CONFIRM:
		ticketrush__confirm__init(&u->c);
		u->c.reservation_id = o->rid;
		u->c.user_id = o->user;
		u->c.payment_ref = o->payment_ref;
		op->op_case = TICKETRUSH__OP__OP_CONFIRM;
		op->confirm = &u->c;
		break;
	case GW_OP_RELEASE:
		ticketrush__release__init(&u->l);
		u->l.reservation_id = o->rid;
		u->l.user_id = o->user;
		op->op_case = TICKETRUSH__OP__OP_RELEASE;
		op->release = &u->l;
		break;
	case GW_OP_GET:
		ticketrush__get_event__init(&u->g);
		u->g.event_id = o->event_id;
		op->op_case = TICKETRUSH__OP__OP_GET_EVENT;
		op->get_event = &u->g;
		break;
	case GW_OP_WL_JOIN:
		ticketrush__waitlist_join__init(&u->wj);
		u->wj.event_id = o->event_id;
		u->wj.user_id = o->user;
		u->wj.request_id = o->request_id;
		op->op_case = TICKETRUSH__OP__OP_WAITLIST_JOIN;
		op->waitlist_join = &u->wj;
		break;
	case GW_OP_WL_GET:
		ticketrush__waitlist_get__init(&u->wg);
		u->wg.event_id = o->event_id;
		u->wg.user_id = o->user;
		op->op_case = TICKETRUSH__OP__OP_WAITLIST_GET;
		op->waitlist_get = &u->wg;
		break;
	case GW_OP_WL_LEAVE:
		ticketrush__waitlist_leave__init(&u->wl);
		u->wl.event_id = o->event_id;
		u->wl.user_id = o->user;
		op->op_case = TICKETRUSH__OP__OP_WAITLIST_LEAVE;
		op->waitlist_leave = &u->wl;
		break;
	case GW_OP_REFUND:
		ticketrush__refund__init(&u->rf);
		u->rf.reservation_id = o->rid;
		u->rf.user_id = o->user;
		op->op_case = TICKETRUSH__OP__OP_REFUND;
		op->refund = &u->rf;
		break;
	}
}

static int
pack(struct gw_call *c, nng_msg **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch batch = TICKETRUSH__BATCH__INIT;
	Ticketrush__Op ops[GW_BATCH_LIMIT], *opp[GW_BATCH_LIMIT];
	union op_body bodies[GW_BATCH_LIMIT];

	for (int i = 0; i < c->n; i++) {
		fill_op(&ops[i], &bodies[i], c->ops[i]);
		opp[i] = &ops[i];
	}
	req.version = TR_PROTOCOL_VERSION;
	if (c->n == 1) {
		/* One op goes as itself: the same fields as in an Op. */
		switch (ops[0].op_case) {
		case TICKETRUSH__OP__OP_RESERVE:
			req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
			req.reserve = ops[0].reserve;
			break;
		case TICKETRUSH__OP__OP_CONFIRM:
			req.body_case = TICKETRUSH__REQUEST__BODY_CONFIRM;
			req.confirm = ops[0].confirm;
			break;
		case TICKETRUSH__OP__OP_RELEASE:
			req.body_case = TICKETRUSH__REQUEST__BODY_RELEASE;
			req.release = ops[0].release;
			break;
		case TICKETRUSH__OP__OP_WAITLIST_JOIN:
			req.body_case =
			    TICKETRUSH__REQUEST__BODY_WAITLIST_JOIN;
			req.waitlist_join = ops[0].waitlist_join;
			break;
		case TICKETRUSH__OP__OP_WAITLIST_GET:
			req.body_case = TICKETRUSH__REQUEST__BODY_WAITLIST_GET;
			req.waitlist_get = ops[0].waitlist_get;
			break;
		case TICKETRUSH__OP__OP_WAITLIST_LEAVE:
			req.body_case =
			    TICKETRUSH__REQUEST__BODY_WAITLIST_LEAVE;
			req.waitlist_leave = ops[0].waitlist_leave;
			break;
		case TICKETRUSH__OP__OP_REFUND:
			req.body_case = TICKETRUSH__REQUEST__BODY_REFUND;
			req.refund = ops[0].refund;
			break;
		default:
			req.body_case = TICKETRUSH__REQUEST__BODY_GET_EVENT;
			req.get_event = ops[0].get_event;
			break;
		}
	} else {
		batch.n_ops = (size_t)c->n;
		batch.ops = opp;
		req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
		req.batch = &batch;
	}
	return tr_msg_pack(&req.base, out);
}

int
gw_call_send(struct gw_call *c)
{
	struct gw_lane *l = &c->t->lanes[c->node->index];
	nng_msg *msg;
	int rv;

	if (pack(c, &msg) != 0)
		return TR_ENOMEM;
	/* A fresh id per message: generation in the high bits. */
	l->generation++;
	c->id = ((l->generation << SLOT_BITS) | c->slot) & ~REQ_ID_BIT;
	if (nng_msg_header_append_u32(msg, c->id | REQ_ID_BIT) != 0) {
		nng_msg_free(msg);
		return TR_ENOMEM;
	}
	/* Never blocks the loop: with no connection (or a full queue) the
	 * node cannot take it now, and the ops go elsewhere or fail. */
	if ((rv = nng_sendmsg(l->sock, msg, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(msg); /* a failed send leaves it ours */
		c->id = 0;
		return TR_EUNAVAILABLE;
	}
	c->rv = 0;
	c->reply = NULL;
	c->sent_us = tr_mono_us();
	h2o_timeout_link(c->t->ctx.loop, &l->timeout, &c->timeout_entry);
	return 0;
}

void
gw_call_reset(struct gw_call *c)
{
	if (h2o_timeout_is_linked(&c->timeout_entry))
		h2o_timeout_unlink(&c->timeout_entry);
	tr_reply_free(c->reply);
	c->reply = NULL;
	c->id = 0;
	c->n = 0;
}

static void
on_call_timeout(h2o_timeout_entry_t *entry)
{
	struct gw_call *c =
	    H2O_STRUCT_FROM_MEMBER(struct gw_call, timeout_entry, entry);
	c->rv = TR_ETIMEDOUT;
	c->reply = NULL;
	gw_on_call_done(c); /* a late reply finds the id changed */
}

/* nng has replies for this lane: take them all (level-triggered fd). */
static void
on_replies(h2o_socket_t *watch, const char *err)
{
	struct gw_lane *l = watch->data;
	nng_msg *msg;
	uint32_t id;

	(void)err;
	/* Bounded per wake-up so one busy node cannot starve the loop. */
	for (int k = 0; k < 4 * l->ncalls; k++) {
		struct gw_call *c;
		if (nng_recvmsg(l->sock, &msg, NNG_FLAG_NONBLOCK) != 0)
			return;
		if (nng_msg_header_trim_u32(msg, &id) != 0) {
			nng_msg_free(msg);
			continue;
		}
		id &= ~REQ_ID_BIT;
		c = &l->calls[id & SLOT_MASK];
		if (c->id != id || c->id == 0) {
			nng_msg_free(msg); /* late: timed out already */
			continue;
		}
		h2o_timeout_unlink(&c->timeout_entry);
		c->reply =
		    tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
		c->rv = c->reply ? 0 : TR_EPROTO;
		gw_on_call_done(c);
	}
}
