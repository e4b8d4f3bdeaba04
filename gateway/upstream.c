/* upstream: trgate's nng side. One REQ socket per stock node (automatic
 * resend off: a reservation is sent once; requests carry request ids), one
 * nng context per message in flight, a timeout on every round trip. The
 * answer is unpacked on nng's thread and handed to the owning loop thread.
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
	int rv;

	memset(n, 0, sizeof(*n));
	n->index = index;
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->url, sizeof(n->url), "%s", url);
	if ((rv = nng_req0_open(&n->sock)) != 0)
		return TR_ENOMEM;
	nng_socket_set_ms(n->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_size(n->sock, NNG_OPT_RECVMAXSZ, TR_MSG_MAX);
	/* Reconnect quickly after a node restarts. */
	nng_socket_set_ms(n->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(n->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_pipe_notify(n->sock, NNG_PIPE_EV_ADD_POST, pipe_event, n);
	nng_pipe_notify(n->sock, NNG_PIPE_EV_REM_POST, pipe_event, n);
	/* Non-blocking: a node that is down now is dialed again and again in
	 * the background; it is skipped while it has no connection. */
	if ((rv = nng_dial(n->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		tr_error("node %s: cannot dial %s: %s", id, url,
		    nng_strerror(rv));
		nng_close(n->sock);
		return TR_EINVALID;
	}
	return 0;
}

void
gw_node_close(struct gw_node *n)
{
	nng_close(n->sock);
}

static void
call_cb(void *arg)
{
	struct gw_call *c = arg;
	int rv = nng_aio_result(c->aio);

	if (rv == 0 && !c->receiving) {
		c->receiving = true;
		nng_ctx_recv(c->ctx, c->aio);
		return;
	}
	if (rv != 0) {
		if (!c->receiving)
			nng_msg_free(nng_aio_get_msg(c->aio));
		c->rv = rv == NNG_ETIMEDOUT ? TR_ETIMEDOUT : TR_EUNAVAILABLE;
	} else {
		nng_msg *msg = nng_aio_get_msg(c->aio);
		c->reply = tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
		c->rv = c->reply ? 0 : TR_EPROTO;
	}
	h2o_multithread_send_message(&c->t->receiver, &c->msg);
}

int
gw_lane_init(struct gw_thread *t, int node)
{
	struct gw_lane *l = &t->lanes[node];
	int ncalls = t->gw->conf.calls_per_node;

	memset(l, 0, sizeof(*l));
	l->calls = calloc((size_t)ncalls, sizeof(*l->calls));
	if (l->calls == NULL)
		return TR_ENOMEM;
	for (int i = 0; i < ncalls; i++) {
		struct gw_call *c = &l->calls[i];
		c->t = t;
		c->node = &t->gw->nodes[node];
		c->ops = calloc((size_t)t->gw->conf.batch_max, sizeof(*c->ops));
		if (c->ops == NULL || nng_aio_alloc(&c->aio, call_cb, c) != 0 ||
		    nng_ctx_open(&c->ctx, c->node->sock) != 0)
			return TR_ENOMEM;
		nng_aio_set_timeout(c->aio, t->gw->conf.upstream_timeout_ms);
		c->next_free = l->free;
		l->free = c;
	}
	return 0;
}

void
gw_lane_fini(struct gw_thread *t, int node)
{
	struct gw_lane *l = &t->lanes[node];
	for (int i = 0; l->calls && i < t->gw->conf.calls_per_node; i++) {
		struct gw_call *c = &l->calls[i];
		if (c->aio) {
			nng_aio_stop(c->aio);
			nng_aio_free(c->aio);
		}
		free(c->ops);
		tr_reply_free(c->reply);
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
	}
}

int
gw_call_send(struct gw_call *c)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch batch = TICKETRUSH__BATCH__INIT;
	Ticketrush__Op ops[GW_BATCH_LIMIT], *opp[GW_BATCH_LIMIT];
	union op_body bodies[GW_BATCH_LIMIT];
	nng_msg *msg;

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
	if (tr_msg_pack(&req.base, &msg) != 0)
		return TR_ENOMEM;
	c->receiving = false;
	c->rv = 0;
	c->reply = NULL;
	c->sent_us = tr_mono_us();
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	return 0;
}

void
gw_call_reset(struct gw_call *c)
{
	tr_reply_free(c->reply);
	c->reply = NULL;
	c->n = 0;
}
