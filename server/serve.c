/* serve: stockd's nng REP sockets, each served by N contexts, each context a
 * small state machine on its own aio (nng's demo/async pattern); and the
 * contexts of offline nodes, which hand one message at a time to the same
 * handling without a socket (tests and fuzzing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_impl.h"

#include <nng/protocol/reqrep0/rep.h>
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

static void ctx_cb(void *arg);

static void
ctx_recv(struct srv_ctx *c)
{
	c->state = CTX_RECV;
	nng_ctx_recv(c->ctx, c->aio);
}

/* The answer is ready (msg), or there is none (NULL: out of memory; the
 * client times out and retries, every operation being idempotent). A
 * socket's context sends it and goes back to receiving when the send
 * completes; an offline context keeps it for serve_offline. */
static void
ctx_deliver(struct srv_ctx *c, nng_msg *msg)
{
	if (c->offline) {
		c->offline_reply = msg;
		atomic_fetch_sub(&c->node->busy, 1);
		return;
	}
	if (msg == NULL) {
		atomic_fetch_sub(&c->node->busy, 1);
		ctx_recv(c);
		return;
	}
	nng_aio_set_msg(c->aio, msg);
	c->state = CTX_SEND;
	nng_ctx_send(c->ctx, c->aio);
}

/* Pack the answer and deliver it. */
static void
ctx_send_reply(struct srv_ctx *c)
{
	const ProtobufCMessage *m;
	nng_msg *msg;

	if (c->req != NULL &&
	    c->req->body_case == TICKETRUSH__REQUEST__BODY_BATCH &&
	    c->top.status == TICKETRUSH__STATUS__STATUS_OK)
		m = &c->top.base;
	else
		m = &c->slots[0].reply.base;
	if (tr_msg_pack(m, &msg) != 0) {
		tr_error("reply dropped: out of memory");
		msg = NULL;
	}
	tr_request_free(c->req);
	c->req = NULL;
	ctx_deliver(c, msg);
}

void
slot_finish(struct slot *s)
{
	struct srv_ctx *c = s->ctx;
	if (atomic_fetch_sub(&c->outstanding, 1) == 1)
		ctx_send_reply(c);
}

void
finish_add(struct finish_list *f, struct slot *s)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct slot **v = realloc(f->v, cap * sizeof(*v));
		if (v == NULL) {
			/* Cannot defer: finish now. The caller holds the node
			 * lock, and finishing only packs and queues a send,
			 * which never takes that lock. */
			slot_finish(s);
			return;
		}
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = s;
}

void
finish_all(struct finish_list *f)
{
	for (size_t i = 0; i < f->n; i++)
		slot_finish(f->v[i]);
	f->n = 0;
}

/* Make room for n slots, all cleared and pointing at c. */
static int
ctx_prepare(struct srv_ctx *c, size_t n)
{
	if (n > c->slots_cap) {
		struct slot *s = realloc(c->slots, n * sizeof(*s));
		Ticketrush__Reply **r;
		if (s == NULL)
			return TR_ENOMEM;
		c->slots = s;
		r = realloc(c->results, n * sizeof(*r));
		if (r == NULL)
			return TR_ENOMEM;
		c->results = r;
		c->slots_cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &c->slots[i];
		ticketrush__reply__init(&s->reply);
		tr_reply_set(&s->reply, TR_EINTERNAL, "not answered");
		s->ctx = c;
		c->results[i] = &s->reply;
	}
	c->nslots = n;
	ticketrush__reply__init(&c->top);
	tr_reply_set(&c->top, TR_OK, NULL);
	c->top.n_results = n;
	c->top.results = c->results;
	return 0;
}

static void
ctx_handle(struct srv_ctx *c, nng_msg *msg)
{
	tr_node *n = c->node;
	size_t nops = 1;

	atomic_fetch_add(&n->busy, 1);
	/* Refuse an oversized batch before unpacking allocates for it. */
	if (tr_wire_batch_ops(nng_msg_body(msg), nng_msg_len(msg), &nops) ==
	        0 &&
	    nops > n->conf.batch_max) {
		char why[96];
		nng_msg_free(msg);
		c->req = NULL;
		if (ctx_prepare(c, 1) != 0) {
			ctx_deliver(c, NULL);
			return;
		}
		atomic_store(&c->outstanding, 1);
		snprintf(why, sizeof(why),
		    "batch must have 1..%u operations, "
		    "got %zu",
		    n->conf.batch_max, nops);
		ops_reply_all(c, TR_EINVALID, why);
		slot_finish(&c->slots[0]);
		return;
	}
	nops = 1;
	c->req = tr_request_unpack(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
	if (c->req != NULL &&
	    c->req->body_case == TICKETRUSH__REQUEST__BODY_BATCH) {
		nops = c->req->batch->n_ops;
		if (nops == 0 || nops > n->conf.batch_max)
			nops = 1; /* refused as a whole below */
	}
	if (ctx_prepare(c, nops) != 0) {
		tr_request_free(c->req);
		c->req = NULL;
		ctx_deliver(c, NULL); /* no memory to answer */
		return;
	}
	atomic_store(&c->outstanding, 1);
	if (c->req == NULL)
		ops_reply_all(c, TR_EINVALID,
		    "malformed message: not a ticketrush Request");
	else if (atomic_load(&n->stopping))
		ops_reply_all(c, TR_EUNAVAILABLE, "node is stopping");
	else
		ops_handle(c);
	slot_finish(&c->slots[0]);
}

static void
ctx_cb(void *arg)
{
	struct srv_ctx *c = arg;
	int rv = nng_aio_result(c->aio);

	switch (c->state) {
	case CTX_INIT: ctx_recv(c); break;
	case CTX_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		if (rv != 0) {
			ctx_recv(c);
			return;
		}
		ctx_handle(c, nng_aio_get_msg(c->aio));
		break;
	case CTX_SEND:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(c->aio));
		atomic_fetch_sub(&c->node->busy, 1);
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		ctx_recv(c);
		break;
	}
}

static int
open_socket(const char *url, nng_socket *sock, const char **why)
{
	int rv;

	if ((rv = nng_rep0_open(sock)) != 0) {
		*why = nng_strerror(rv);
		return TR_EIO;
	}
	/* Bound what one peer can make us allocate. */
	nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ, TR_MSG_MAX);
	if ((rv = nng_listen(*sock, url, NULL, 0)) != 0) {
		*why = nng_strerror(rv);
		nng_close(*sock);
		return TR_EIO;
	}
	return 0;
}

static int
start_ctxs(tr_node *n, nng_socket sock, size_t first, size_t count, bool admin)
{
	for (size_t i = first; i < first + count; i++) {
		struct srv_ctx *c = &n->ctxs[i];
		c->node = n;
		c->admin = admin;
		c->state = CTX_INIT;
		if (nng_aio_alloc(&c->aio, ctx_cb, c) != 0 ||
		    nng_ctx_open(&c->ctx, sock) != 0)
			return TR_ENOMEM;
		/* Replies use no timeout: a REP send completes at once. */
	}
	return 0;
}

int
serve_start(tr_node *n, const char **why)
{
	size_t nd = (size_t)n->conf.data_contexts;
	size_t na = (size_t)n->conf.admin_contexts;
	static char reason[300];
	const char *e = NULL;

	n->ctxs = calloc(nd + na, sizeof(*n->ctxs));
	if (n->ctxs == NULL)
		return TR_ENOMEM;
	n->nctxs = nd + na;
	if (open_socket(n->conf.data_url, &n->data_sock, &e) != 0) {
		snprintf(reason, sizeof(reason), "cannot listen on %s: %s",
		    n->conf.data_url, e);
		*why = reason;
		return TR_EIO;
	}
	n->data_open = true;
	if (open_socket(n->conf.admin_url, &n->admin_sock, &e) != 0) {
		snprintf(reason, sizeof(reason), "cannot listen on %s: %s",
		    n->conf.admin_url, e);
		*why = reason;
		return TR_EIO;
	}
	n->admin_open = true;
	if (start_ctxs(n, n->data_sock, 0, nd, false) != 0 ||
	    start_ctxs(n, n->admin_sock, nd, na, true) != 0) {
		*why = "out of memory";
		return TR_ENOMEM;
	}
	for (size_t i = 0; i < n->nctxs; i++)
		ctx_cb(&n->ctxs[i]);
	return 0;
}

int
serve_start_offline(tr_node *n)
{
	n->ctxs = calloc(2, sizeof(*n->ctxs));
	if (n->ctxs == NULL)
		return TR_ENOMEM;
	n->nctxs = 2;
	for (size_t i = 0; i < 2; i++) {
		n->ctxs[i].node = n;
		n->ctxs[i].admin = i == 1;
		n->ctxs[i].offline = true;
	}
	return 0;
}

int
serve_offline(tr_node *n, bool admin, const void *buf, size_t len,
    void **reply, size_t *reply_len)
{
	struct srv_ctx *c = &n->ctxs[admin ? 1 : 0];
	nng_msg *msg;
	size_t out_len;
	void *out;

	/* What a socket would not deliver (NNG_OPT_RECVMAXSZ). */
	if (len > TR_MSG_MAX)
		return TR_EINVALID;
	if (nng_msg_alloc(&msg, len) != 0)
		return TR_ENOMEM;
	if (len > 0)
		memcpy(nng_msg_body(msg), buf, len);
	c->offline_reply = NULL;
	ctx_handle(c, msg);
	if (atomic_load(&c->outstanding) != 0)
		return TR_EINTERNAL; /* answered later: never standalone */
	if (c->offline_reply == NULL)
		return TR_ENOMEM;
	out_len = nng_msg_len(c->offline_reply);
	if ((out = malloc(out_len > 0 ? out_len : 1)) == NULL) {
		nng_msg_free(c->offline_reply);
		c->offline_reply = NULL;
		return TR_ENOMEM;
	}
	memcpy(out, nng_msg_body(c->offline_reply), out_len);
	nng_msg_free(c->offline_reply);
	c->offline_reply = NULL;
	*reply = out;
	*reply_len = out_len;
	return 0;
}

void
serve_close(tr_node *n)
{
	if (n->data_open)
		nng_close(n->data_sock);
	if (n->admin_open)
		nng_close(n->admin_sock);
	n->data_open = n->admin_open = false;
}

void
serve_free(tr_node *n)
{
	if (n->ctxs == NULL)
		return;
	/* nng_aio_stop waits for a running callback, so nothing touches a
	 * context after this loop. */
	for (size_t i = 0; i < n->nctxs; i++)
		if (n->ctxs[i].aio)
			nng_aio_stop(n->ctxs[i].aio);
	for (size_t i = 0; i < n->nctxs; i++) {
		struct srv_ctx *c = &n->ctxs[i];
		if (c->aio)
			nng_aio_free(c->aio);
		tr_request_free(c->req);
		free(c->slots);
		free(c->results);
		free(c->extra);
		free(c->wl_show);
		free(c->events);
	}
	free(n->ctxs);
	n->ctxs = NULL;
}
