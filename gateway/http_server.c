/* server: trgate's HTTP side on h2o and the request logic: routes, the
 * sold-out cache, weighted picks with fan-out past sold-out nodes, per-node
 * batching per loop turn, in-flight bounds, and every answer exactly once.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dashboard.h"
#include "gw.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

#define METRICS_BUF 65536

static struct gw_thread *
thread_of(h2o_req_t *req)
{
	return H2O_STRUCT_FROM_MEMBER(struct gw_thread, ctx, req->conn->ctx);
}

/* ---- answering ------------------------------------------------------------
 */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

static void
respond_raw(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route,
    int status, const char *type, const char *body, size_t len)
{
	req->res.status = status;
	req->res.reason = reason(status);
	req->res.content_length = len; /* else h2o sends it chunked */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, type, strlen(type));
	if (status == 503)
		h2o_add_header(&req->pool, &req->res.headers,
		    H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
	tr_metrics_request(&t->metrics, route, status);
	h2o_send_inline(req, body, len);
}

static void
respond_json(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route,
    int status, const char *body, size_t len)
{
	respond_raw(t, req, route, status, "application/json", body, len);
}

/* The flood's answer: static bytes, no formatting, no copy. */
static void
respond_sold_out(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route)
{
	static h2o_generator_t generator = {NULL, NULL};
	bool buy = route == TR_ROUTE_BUY;
	const char *text = buy ? tr_json_buy_sold_out : tr_json_sold_out;
	h2o_iovec_t body = h2o_iovec_init(text, strlen(text));

	req->res.status = buy ? 200 : 409;
	req->res.reason = buy ? "OK" : "Conflict";
	req->res.content_length = body.len;
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE,
	    NULL, H2O_STRLIT("application/json"));
	tr_metrics_request(&t->metrics, route, req->res.status);
	h2o_start_response(req, &generator);
	h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void
respond_error_with(struct gw_thread *t, h2o_req_t *req,
    enum tr_route_kind route, const tr_http_error *err, const char *rid,
    const char *payment_ref)
{
	char body[TR_HTTP_ANSWER_MAX];
	size_t len;

	if (route == TR_ROUTE_BUY)
		len = tr_json_buy_error(body, sizeof(body), err);
	else
		len = tr_json_error(body, sizeof(body), err, rid, payment_ref);
	respond_json(t, req, route, err->status, body, len);
}

static void
respond_error(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route,
    const tr_http_error *err, const char *rid)
{
	respond_error_with(t, req, route, err, rid, NULL);
}

static void
respond_status(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route,
    int code, const char *detail)
{
	tr_http_error err;
	tr_http_error_from(&err, code, detail);
	respond_error(t, req, route, &err, NULL);
}

static void
guard_dispose(void *p)
{
	struct gw_guard *g = p;
	if (g->slot != NULL)
		*g->slot = NULL;
}

/* Watch req for the time an answer is pending: if the client goes away,
 * *slot becomes NULL. */
static struct gw_guard *
guard_new(h2o_req_t *req, h2o_req_t **slot)
{
	struct gw_guard *g =
	    h2o_mem_alloc_shared(&req->pool, sizeof(*g), guard_dispose);
	g->slot = slot;
	*slot = req;
	return g;
}

/* The request of an op, detached from its guard (we answer it now), or
 * NULL if its client went away. */
static h2o_req_t *
take_req(h2o_req_t **slot, struct gw_guard *g)
{
	h2o_req_t *req = *slot;
	if (req != NULL)
		g->slot = NULL;
	*slot = NULL;
	return req;
}

/* ---- operations ------------------------------------------------------------
 */

static struct gw_op *
op_new(struct gw_thread *t, enum gw_op_kind kind, enum tr_route_kind route)
{
	struct gw_op *op = calloc(1, sizeof(*op));
	if (op == NULL)
		return NULL;
	op->kind = kind;
	op->route = route;
	op->t = t;
	op->node = -1;
	op->home = -1;
	op->qty = 1;
	return op;
}

static void flush_cb(h2o_timeout_entry_t *entry);

static void
schedule_flush(struct gw_thread *t)
{
	if (!h2o_timeout_is_linked(&t->flush_entry))
		h2o_timeout_link(t->ctx.loop, &t->flush_timeout,
		    &t->flush_entry);
}

/* Queue op for node; it leaves with this loop turn's batch. Returns 0, or
 * TR_EOVERLOADED at the node's in-flight bound (op untouched). */
static int
enqueue(struct gw_thread *t, struct gw_op *op, int node)
{
	struct gw *gw = t->gw;
	struct gw_node *n = &gw->nodes[node];
	struct gw_lane *l = &t->lanes[node];

	if (atomic_load(&n->inflight) >= gw->conf.max_inflight) {
		atomic_fetch_add_explicit(&t->metrics.shed_overloaded, 1,
		    memory_order_relaxed);
		return TR_EOVERLOADED;
	}
	atomic_fetch_add(&n->inflight, 1);
	atomic_fetch_add_explicit(&t->metrics.picks[node], 1,
	    memory_order_relaxed);
	op->node = node;
	op->next = NULL;
	if (l->tail)
		l->tail->next = op;
	else
		l->head = op;
	l->tail = op;
	l->pending++;
	schedule_flush(t);
	return 0;
}

/* Bitmask of the nodes that can be picked now. */
static tr_node_mask
usable_nodes(struct gw *gw, int64_t now)
{
	tr_node_mask m = 0;
	pthread_mutex_lock(&gw->wrr_lock);
	for (int i = 0; i < gw->conf.nnodes; i++) {
		tr_wrr_set_connected(&gw->wrr, i,
		    atomic_load(&gw->nodes[i].pipes) > 0);
		if (tr_wrr_usable(&gw->wrr, i, now))
			m |= 1u << i;
	}
	pthread_mutex_unlock(&gw->wrr_lock);
	return m;
}

static int
pick(struct gw *gw, tr_node_mask exclude, int64_t now)
{
	int i;
	pthread_mutex_lock(&gw->wrr_lock);
	for (int k = 0; k < gw->conf.nnodes; k++)
		tr_wrr_set_connected(&gw->wrr, k,
		    atomic_load(&gw->nodes[k].pipes) > 0);
	i = tr_wrr_pick(&gw->wrr, exclude, now);
	pthread_mutex_unlock(&gw->wrr_lock);
	return i;
}

static void op_finish_reserve(struct gw_op *op, int result,
    Ticketrush__Reply *rep, const char *detail);

/* Send a reservation to the next node with stock (not yet asked, not
 * failed), or finish it: sold out if every node that can answer said so,
 * unavailable otherwise. */
static void
dispatch_reserve(struct gw_op *op)
{
	struct gw_thread *t = op->t;
	struct gw *gw = t->gw;
	int64_t now = tr_mono_ms();
	int node = pick(gw, tr_fanout_exclude(&op->fan), now);

	if (node >= 0) {
		if (enqueue(t, op, node) == 0)
			return;
		op_finish_reserve(op, TR_EOVERLOADED, NULL,
		    "node at its "
		    "in-flight bound; retry");
		return;
	}
	switch (tr_fanout_verdict(&op->fan, usable_nodes(gw, now))) {
	case TR_FANOUT_NO_EVENT:
		op_finish_reserve(op, TR_ENOT_FOUND, NULL, "no such event");
		return;
	case TR_FANOUT_ALL_SOLD_OUT:
		tr_soldout_mark_all(&t->soldout, op->event_id, now);
		op_finish_reserve(op, TR_ESOLD_OUT, NULL, "sold out");
		return;
	case TR_FANOUT_SOLD_OUT:
		op_finish_reserve(op, TR_ESOLD_OUT, NULL, "sold out");
		return;
	case TR_FANOUT_UNAVAILABLE: break;
	}
	op_finish_reserve(op, TR_EUNAVAILABLE, NULL,
	    "no stock node can "
	    "answer now");
}

static void
op_free(struct gw_op *op)
{
	if (op->wait_until_ms != 0)
		op->t->polls--;
	if (h2o_timeout_is_linked(&op->poll_entry))
		h2o_timeout_unlink(&op->poll_entry);
	free(op);
}

static void
op_finish_reserve(struct gw_op *op, int result, Ticketrush__Reply *rep,
    const char *detail)
{
	struct gw_thread *t = op->t;
	h2o_req_t *req;
	char body[TR_HTTP_ANSWER_MAX];
	size_t len;

	if (op->probe) {
		/* The probe ends here whatever happens to its client. */
		if (result == TR_ESOLD_OUT)
			tr_soldout_mark_all(&t->soldout, op->event_id,
			    tr_mono_ms());
		else if (result != 0)
			tr_soldout_probe_failed(&t->soldout, op->event_id);
	}
	req = take_req(&op->req, op->guard);
	if (req == NULL) {
		op_free(op);
		return;
	}
	if (result == 0 && rep != NULL && rep->hold != NULL) {
		char node[TR_NODE_ID_MAX + 1];
		if (!tr_rid_parse(rep->hold->reservation_id, node, NULL))
			snprintf(node, sizeof(node), "?");
		if (op->route == TR_ROUTE_BUY) {
			len = tr_json_buy_ok(body, sizeof(body),
			    rep->hold->reservation_id);
			respond_json(t, req, op->route, 200, body, len);
		} else {
			len =
			    tr_json_hold(body, sizeof(body), rep->hold, node);
			respond_json(t, req, op->route, 201, body, len);
		}
	} else if (result == TR_ESOLD_OUT) {
		respond_sold_out(t, req, op->route);
	} else if (result == 0) {
		respond_status(t, req, op->route, TR_EINTERNAL,
		    "node answered OK without a reservation");
	} else {
		tr_http_error err;
		tr_http_error_from(&err, result, detail);
		respond_error(t, req, op->route, &err,
		    result == TR_EDUPLICATE && rep && rep->hold
		        ? rep->hold->reservation_id
		        : NULL);
	}
	op_free(op);
}

static void
start_reserve(struct gw_thread *t, h2o_req_t *req, enum tr_route_kind route,
    const char *event_id, const char *user, uint32_t qty,
    const char *request_id)
{
	int64_t now = tr_mono_ms();
	tr_node_mask exclude = 0;
	enum tr_soldout_verdict v;
	struct gw_op *op;

	v = tr_soldout_check(&t->soldout, event_id, now, &exclude);
	if (v == TR_SOLDOUT_ANSWER) {
		atomic_fetch_add_explicit(&t->metrics.soldout_hits, 1,
		    memory_order_relaxed);
		respond_sold_out(t, req, route);
		return;
	}
	if ((op = op_new(t, GW_OP_RESERVE, route)) == NULL) {
		if (v == TR_SOLDOUT_PROBE)
			tr_soldout_probe_failed(&t->soldout, event_id);
		respond_status(t, req, route, TR_EINTERNAL, "out of memory");
		return;
	}
	op->guard = guard_new(req, &op->req);
	snprintf(op->event_id, sizeof(op->event_id), "%s", event_id);
	snprintf(op->user, sizeof(op->user), "%s", user);
	/* Every attempt of this request (another node after a timeout)
	 * carries the same request id, so the attempts make one hold. */
	if (request_id[0] != '\0')
		snprintf(op->request_id, sizeof(op->request_id), "%s",
		    request_id);
	else
		snprintf(op->request_id, sizeof(op->request_id),
		    "gw-%016" PRIx64 "-%d-%" PRIu64, t->gw->instance, t->index,
		    t->next_request++);
	op->qty = qty;
	tr_fanout_start(&op->fan, exclude);
	op->probe = v == TR_SOLDOUT_PROBE;
	dispatch_reserve(op);
}

static void finish_routed(struct gw_op *op, int result, Ticketrush__Reply *rep,
    const char *detail);

/* Confirm and release go to the node the reservation id names while it
 * answers; else to any other node (every node can confirm or release any
 * hold: its record is in the coordinator). Each node is tried once. */
static void
dispatch_routed(struct gw_op *op)
{
	struct gw_thread *t = op->t;
	struct gw *gw = t->gw;
	int64_t now = tr_mono_ms();
	int node =
	    tr_fanout_routed_target(&op->fan, op->home, usable_nodes(gw, now));

	if (node < 0)
		node = pick(gw, tr_fanout_exclude(&op->fan), now);
	if (node < 0) {
		finish_routed(op, TR_EUNAVAILABLE, NULL,
		    "no stock node can "
		    "answer now; retry");
		return;
	}
	if (enqueue(t, op, node) != 0)
		finish_routed(op, TR_EOVERLOADED, NULL,
		    "node at its "
		    "in-flight bound; retry");
}

static void poll_cb(h2o_timeout_entry_t *entry);

/* A long poll of a waitlist entry: keep the client waiting while the
 * entry's state is the one first answered and the wait lasts. True if
 * the op waits for its timer. */
static bool
poll_again(struct gw_op *op, int result, Ticketrush__Reply *rep)
{
	struct gw_thread *t = op->t;
	int state;

	if (result != 0 || rep == NULL || rep->waitlist_entry == NULL ||
	    op->req == NULL || op->wait_until_ms == 0)
		return false;
	state = (int)rep->waitlist_entry->state;
	if (op->wl_state == 0)
		op->wl_state = state;
	if (state != op->wl_state || atomic_load(&t->gw->stopping) ||
	    tr_mono_ms() + GW_POLL_MS > op->wait_until_ms)
		return false;
	if (!h2o_timeout_is_linked(&op->poll_entry)) {
		op->poll_entry.cb = poll_cb;
		h2o_timeout_link(t->ctx.loop, &t->poll_timeout,
		    &op->poll_entry);
	}
	return true;
}

static void
poll_cb(h2o_timeout_entry_t *entry)
{
	struct gw_op *op =
	    H2O_STRUCT_FROM_MEMBER(struct gw_op, poll_entry, entry);

	if (op->req == NULL) { /* the client left */
		op_free(op);
		return;
	}
	/* Ask again, any node once more. */
	op->fan.failed = 0;
	dispatch_routed(op);
}

static void
start_routed(struct gw_thread *t, h2o_req_t *req, const tr_route *r,
    const tr_confirm_body *b)
{
	struct gw *gw = t->gw;
	struct gw_op *op;

	op = op_new(t,
	    r->kind == TR_ROUTE_CONFIRM      ? GW_OP_CONFIRM
	        : r->kind == TR_ROUTE_REFUND ? GW_OP_REFUND
	                                     : GW_OP_RELEASE,
	    r->kind);
	if (op == NULL) {
		respond_status(t, req, r->kind, TR_EINTERNAL, "out of memory");
		return;
	}
	op->guard = guard_new(req, &op->req);
	op->home = tr_wrr_find(&gw->wrr, r->node);
	memcpy(op->rid, r->rid, sizeof(op->rid));
	memcpy(op->event_id, r->event_id, sizeof(op->event_id));
	memcpy(op->user, b->user, sizeof(op->user));
	memcpy(op->payment_ref, b->payment_ref, sizeof(op->payment_ref));
	dispatch_routed(op);
}

/* Waitlist calls go to any node (the line is in the coordinator), each
 * node once; a GET with ?wait= is a long poll (poll_again). */
static void
start_waitlist(struct gw_thread *t, h2o_req_t *req, const tr_route *r,
    enum gw_op_kind kind, const char *user, const char *request_id)
{
	struct gw_op *op = op_new(t, kind, r->kind);

	if (op == NULL) {
		respond_status(t, req, r->kind, TR_EINTERNAL, "out of memory");
		return;
	}
	op->guard = guard_new(req, &op->req);
	memcpy(op->event_id, r->event_id, sizeof(op->event_id));
	snprintf(op->user, sizeof(op->user), "%s", user);
	snprintf(op->request_id, sizeof(op->request_id), "%s", request_id);
	if (kind == GW_OP_WL_GET && r->wait_ms > 0 &&
	    t->polls < GW_POLLS_MAX) {
		op->wait_until_ms = tr_mono_ms() + r->wait_ms;
		/* The state the client knows, if it named one: a change
		 * before this request came is answered at once. */
		op->wl_state = r->wait_state;
		t->polls++;
	}
	dispatch_routed(op);
}

static void
finish_sum(struct gw_thread *t, struct gw_sum *s)
{
	h2o_req_t *req = take_req(&s->req, s->guard);
	char body[TR_HTTP_ANSWER_MAX];
	size_t len;

	if (req != NULL) {
		if (s->sum.nodes > 0) {
			len = tr_json_event(body, sizeof(body), &s->sum);
			respond_json(t, req, s->route, 200, body, len);
		} else {
			respond_status(t, req, s->route, TR_ENOT_FOUND,
			    "no stock node knows this event");
		}
	}
	free(s);
}

static void
start_get_event(struct gw_thread *t, h2o_req_t *req, const tr_route *r)
{
	struct gw *gw = t->gw;
	tr_node_mask usable = usable_nodes(gw, tr_mono_ms());
	struct gw_sum *s;

	if (usable == 0) {
		respond_status(t, req, r->kind, TR_EUNAVAILABLE,
		    "no stock "
		    "node can answer now");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		respond_status(t, req, r->kind, TR_EINTERNAL, "out of memory");
		return;
	}
	s->route = r->kind;
	s->guard = guard_new(req, &s->req);
	s->pending = 1; /* until every op is queued */
	for (int i = 0; i < gw->conf.nnodes; i++) {
		struct gw_op *op;
		if (!((usable >> i) & 1) ||
		    (op = op_new(t, GW_OP_GET, r->kind)) == NULL)
			continue;
		op->sum = s;
		memcpy(op->event_id, r->event_id, sizeof(op->event_id));
		if (enqueue(t, op, i) == 0)
			s->pending++;
		else
			op_free(op);
	}
	if (--s->pending == 0)
		finish_sum(t, s);
}

/* ---- finished calls --------------------------------------------------------
 */

static void
finish_routed(struct gw_op *op, int result, Ticketrush__Reply *rep,
    const char *detail)
{
	struct gw_thread *t = op->t;
	h2o_req_t *req = take_req(&op->req, op->guard);
	char body[TR_HTTP_ANSWER_MAX];
	size_t len = 0;

	if (req == NULL) {
		op_free(op);
		return;
	}
	if (result == 0 &&
	    (op->kind == GW_OP_CONFIRM || op->kind == GW_OP_REFUND) && rep &&
	    rep->order) {
		len = tr_json_order(body, sizeof(body), rep->order);
	} else if (result == 0 && rep && rep->waitlist_entry) {
		len =
		    tr_json_wl_entry(body, sizeof(body), rep->waitlist_entry);
		/* A new entry is created; joining again finds the same one. */
		if (len > 0 && op->kind == GW_OP_WL_JOIN &&
		    rep->waitlist_entry->created) {
			respond_json(t, req, op->route, 201, body, len);
			op_free(op);
			return;
		}
	} else if (result == 0 && op->kind == GW_OP_RELEASE && rep &&
	    rep->hold) {
		char node[TR_NODE_ID_MAX + 1];
		if (!tr_rid_parse(op->rid, node, NULL))
			snprintf(node, sizeof(node), "?");
		len = tr_json_hold(body, sizeof(body), rep->hold, node);
	}
	if (len > 0) {
		respond_json(t, req, op->route, 200, body, len);
	} else if (result == 0) {
		respond_status(t, req, op->route, TR_EINTERNAL,
		    "node answered OK without a body");
	} else {
		tr_http_error err;
		bool paid = result == TR_ECONFLICT && rep && rep->order;
		bool holds = result == TR_EDUPLICATE && rep && rep->hold;
		tr_http_error_from(&err, result, detail);
		/* A second payment: name the order and how it was paid; a
		 * join at the limit: the hold the buyer has. */
		respond_error_with(t, req, op->route, &err,
		    paid        ? rep->order->order_id
		        : holds ? rep->hold->reservation_id
		                : NULL,
		    paid ? rep->order->payment_ref : NULL);
	}
	op_free(op);
}

static void
complete_op(struct gw_thread *t, struct gw_op *op, int node, int result,
    Ticketrush__Reply *rep, bool transport_failed)
{
	const char *detail = rep
	    ? rep->detail
	    : (result == TR_ETIMEDOUT ? "stock node timed out"
	                              : "stock node unreachable");

	switch (op->kind) {
	case GW_OP_RESERVE:
		if (result == TR_ESOLD_OUT && !transport_failed)
			tr_soldout_mark_node(&t->soldout, op->event_id, node,
			    tr_mono_ms());
		if (tr_fanout_reserve_answer(&op->fan, node, result,
		        transport_failed)) {
			if (result != TR_ENOT_FOUND || transport_failed)
				atomic_fetch_add_explicit(&t->metrics
				                               .fanout_retries,
				    1, memory_order_relaxed);
			dispatch_reserve(op);
			return;
		}
		if (result == 0)
			tr_soldout_clear(&t->soldout, op->event_id, node);
		op_finish_reserve(op, result, rep, detail);
		return;
	case GW_OP_CONFIRM:
	case GW_OP_RELEASE:
	case GW_OP_WL_JOIN:
	case GW_OP_WL_GET:
	case GW_OP_WL_LEAVE:
	case GW_OP_REFUND:
		if (tr_fanout_routed_answer(&op->fan, node, result,
		        transport_failed)) {
			dispatch_routed(op);
			return;
		}
		if (op->kind == GW_OP_WL_GET && poll_again(op, result, rep))
			return;
		finish_routed(op, result, rep, detail);
		return;
	case GW_OP_GET: {
		struct gw_sum *s = op->sum;
		if (result == 0 && rep && rep->event)
			tr_event_sum_add(&s->sum, rep->event);
		op_free(op);
		if (--s->pending == 0)
			finish_sum(t, s);
		return;
	}
	}
}

void
gw_on_call_done(struct gw_call *c)
{
	struct gw_thread *t = c->t;
	struct gw *gw = t->gw;
	int node = c->node->index;
	struct gw_lane *l = &t->lanes[node];
	Ticketrush__Reply *reply = c->reply;
	bool transport = c->rv != 0;
	int64_t now = tr_mono_ms();

	tr_metrics_upstream(&t->metrics,
	    (uint64_t)(tr_mono_us() - c->sent_us));
	atomic_fetch_sub(&c->node->inflight, (unsigned long long)c->n);
	pthread_mutex_lock(&gw->wrr_lock);
	if (transport)
		tr_wrr_failed(&gw->wrr, node, now);
	else
		tr_wrr_succeeded(&gw->wrr, node, now);
	pthread_mutex_unlock(&gw->wrr_lock);
	if (transport)
		tr_warn("node %s: %s", c->node->id,
		    c->rv == TR_ETIMEDOUT ? "timed out" : tr_strerror(c->rv));

	for (int i = 0; i < c->n; i++) {
		Ticketrush__Reply *rep = NULL;
		int result = c->rv;
		if (!transport) {
			if (c->n == 1)
				rep = reply;
			else if (reply->n_results == (size_t)c->n)
				rep = reply->results[i];
			else
				rep = reply; /* the batch was refused whole */
			result = tr_err_from_status((int)rep->status);
			if (result == TR_EPROTO)
				result = TR_EINTERNAL;
		}
		complete_op(t, c->ops[i], node, result, rep, transport);
	}
	gw_call_reset(c);
	c->next_free = l->free;
	l->free = c;
	t->calls_in_flight--;
	if (l->pending > 0)
		schedule_flush(t);
}

/* End of a loop turn (or batch_wait_ms after the first queued op): one
 * message per node with what is queued for it. */
static void
flush_cb(h2o_timeout_entry_t *entry)
{
	struct gw_thread *t =
	    H2O_STRUCT_FROM_MEMBER(struct gw_thread, flush_entry, entry);
	struct gw *gw = t->gw;

	for (int i = 0; i < gw->conf.nnodes; i++) {
		struct gw_lane *l = &t->lanes[i];
		while (l->pending > 0 && l->free != NULL) {
			struct gw_call *c = l->free;
			l->free = c->next_free;
			c->n = 0;
			while (l->head != NULL && c->n < gw->conf.batch_max) {
				c->ops[c->n++] = l->head;
				l->head = l->head->next;
				l->pending--;
			}
			if (l->head == NULL)
				l->tail = NULL;
			atomic_fetch_add_explicit(&t->metrics.upstream_batches,
			    1, memory_order_relaxed);
			atomic_fetch_add_explicit(&t->metrics.upstream_ops,
			    (unsigned long long)c->n, memory_order_relaxed);
			t->calls_in_flight++;
			if (gw_call_send(c) != 0) {
				/* Could not even pack it: fail its ops as
				 * a transport failure. */
				c->rv = TR_EUNAVAILABLE;
				c->sent_us = tr_mono_us();
				gw_on_call_done(c);
			}
		}
		/* Calls all busy: the rest leaves when one comes back. */
	}
}

/* ---- handler ---------------------------------------------------------------
 */

static void
handle_health(struct gw_thread *t, h2o_req_t *req)
{
	struct gw *gw = t->gw;
	tr_node_mask usable = usable_nodes(gw, tr_mono_ms());
	int up = __builtin_popcount(usable);
	char body[128];
	int len = snprintf(body, sizeof(body),
	    "{\"status\":\"%s\","
	    "\"nodes_up\":%d,\"nodes\":%d}",
	    up > 0 ? "ok" : "down", up, gw->conf.nnodes);
	respond_json(t, req, TR_ROUTE_HEALTH, up > 0 ? 200 : 503, body,
	    (size_t)len);
}

static void
handle_metrics(struct gw_thread *t, h2o_req_t *req)
{
	struct gw *gw = t->gw;
	tr_gw_metrics *sets[GW_THREADS_MAX];
	tr_metrics_nodes nodes = {0};
	tr_node_mask usable = usable_nodes(gw, tr_mono_ms());
	char *buf = h2o_mem_alloc_pool(&req->pool, METRICS_BUF);
	size_t len;

	for (int i = 0; i < gw->conf.threads; i++)
		sets[i] = &gw->threads[i].metrics;
	nodes.n = gw->conf.nnodes;
	for (int i = 0; i < nodes.n; i++) {
		nodes.id[i] = gw->nodes[i].id;
		nodes.inflight[i] = atomic_load(&gw->nodes[i].inflight);
		nodes.up[i] = (usable >> i) & 1;
	}
	len = tr_metrics_render(buf, METRICS_BUF, sets, gw->conf.threads,
	    &nodes);
	respond_raw(t, req, TR_ROUTE_METRICS, 200, "text/plain; version=0.0.4",
	    buf, len);
}

/* The live page of ?event=, or of the default event. It is served for an
 * event no node knows too: the page polls, and says what GET
 * /v1/events answers (404 until the event exists). */
static void
handle_dashboard(struct gw_thread *t, h2o_req_t *req, const tr_route *r)
{
	static const char csp[] =
	    "default-src 'none'; "
	    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
	    "connect-src 'self'";
	const char *event =
	    r->event_id[0] != '\0' ? r->event_id : t->gw->conf.default_event;
	size_t cap, len;
	char *buf;

	if (event[0] == '\0') {
		respond_status(t, req, r->kind, TR_ENOT_FOUND,
		    "no event: "
		    "pass ?event=E (or start trgate with --default-event)");
		return;
	}
	cap = tr_dashboard_size(event) + 1;
	buf = h2o_mem_alloc_pool(&req->pool, cap);
	len = tr_dashboard_render(buf, cap, event);
	if (len == 0) {
		respond_status(t, req, r->kind, TR_EINTERNAL, "dashboard");
		return;
	}
	/* Always fresh, and the browser holds the page to what it is:
	 * inline code, requests to this gateway only. */
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL,
	    NULL, H2O_STRLIT("no-store"));
	h2o_add_header_by_str(&req->pool, &req->res.headers,
	    H2O_STRLIT("content-security-policy"), 0, NULL, csp,
	    sizeof(csp) - 1);
	respond_raw(t, req, r->kind, 200, "text/html; charset=utf-8", buf,
	    len);
}

/* Bytes of the request head as the client sent it (about). */
static size_t
head_size(const h2o_req_t *req)
{
	size_t n = req->method.len + req->path.len + 12;
	for (size_t i = 0; i < req->headers.size; i++)
		n += req->headers.entries[i].name->len +
		    req->headers.entries[i].value.len + 4;
	return n + req->authority.len;
}

int
gw_on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct gw_thread *t = thread_of(req);
	tr_route r;
	tr_http_error err;
	(void)self;

	/* h2o reads heads up to ~417 KB: the API's own bounds are tighter. */
	if (head_size(req) > TR_HTTP_HEADERS_MAX) {
		tr_http_error_set(&err, TR_API_HEADERS_TOO_LARGE,
		    "request "
		    "headers over %d bytes",
		    TR_HTTP_HEADERS_MAX);
		req->http1_is_persistent = 0;
		respond_error(t, req, TR_ROUTE_OTHER, &err, NULL);
		return 0;
	}
	if (req->entity.len > TR_HTTP_BODY_MAX) {
		tr_http_error_set(&err, TR_API_BODY_TOO_LARGE,
		    "body over %d "
		    "bytes",
		    TR_HTTP_BODY_MAX);
		req->http1_is_persistent = 0;
		respond_error(t, req, TR_ROUTE_OTHER, &err, NULL);
		return 0;
	}
	if (tr_route_parse(req->method.base, req->method.len, req->path.base,
	        req->path.len, &r, &err) != 0) {
		respond_error(t, req,
		    err.status == 404 ? TR_ROUTE_OTHER : r.kind, &err, NULL);
		return 0;
	}
	if (atomic_load(&t->gw->stopping) && r.kind != TR_ROUTE_HEALTH) {
		respond_status(t, req, r.kind, TR_EUNAVAILABLE,
		    "gateway is "
		    "stopping");
		return 0;
	}
	switch (r.kind) {
	case TR_ROUTE_HEALTH: handle_health(t, req); break;
	case TR_ROUTE_METRICS: handle_metrics(t, req); break;
	case TR_ROUTE_DASHBOARD: handle_dashboard(t, req, &r); break;
	case TR_ROUTE_EVENT: start_get_event(t, req, &r); break;
	case TR_ROUTE_RESERVE: {
		tr_reserve_body b;
		/* The flood: when the event is known sold out, that is the
		 * answer whatever the body says; spare parsing it. */
		if (tr_soldout_peek(&t->soldout, r.event_id, tr_mono_ms())) {
			atomic_fetch_add_explicit(&t->metrics.soldout_hits, 1,
			    memory_order_relaxed);
			respond_sold_out(t, req, r.kind);
			break;
		}
		if (tr_body_reserve(req->entity.base, req->entity.len, &b,
		        &err) != 0)
			respond_error(t, req, r.kind, &err, NULL);
		else
			start_reserve(t, req, r.kind, r.event_id, b.user,
			    b.qty, b.request_id);
		break;
	}
	case TR_ROUTE_BUY: {
		char user[TR_USER_ID_MAX + 1];
		if (t->gw->conf.default_event[0] == '\0') {
			respond_status(t, req, r.kind, TR_ENOT_FOUND,
			    "no default event (trgate --default-event)");
			break;
		}
		if (r.user[0] != '\0')
			snprintf(user, sizeof(user), "%s", r.user);
		else /* a fresh buyer per request, as the article's ab run */
			snprintf(user, sizeof(user),
			    "anon-%016" PRIx64 "-%d-%" PRIu64, t->gw->instance,
			    t->index, t->next_user++);
		start_reserve(t, req, r.kind, t->gw->conf.default_event, user,
		    1, "");
		break;
	}
	case TR_ROUTE_WL_JOIN: {
		tr_reserve_body b;
		if (tr_body_reserve(req->entity.base, req->entity.len, &b,
		        &err) != 0) {
			respond_error(t, req, r.kind, &err, NULL);
		} else if (b.qty != 1) {
			tr_http_error_set(&err, TR_API_INVALID,
			    "a waitlist "
			    "entry is for one ticket: \"qty\" must be 1");
			respond_error(t, req, r.kind, &err, NULL);
		} else {
			start_waitlist(t, req, &r, GW_OP_WL_JOIN, b.user,
			    b.request_id);
		}
		break;
	}
	case TR_ROUTE_WL_GET:
	case TR_ROUTE_WL_LEAVE:
		start_waitlist(t, req, &r,
		    r.kind == TR_ROUTE_WL_GET ? GW_OP_WL_GET : GW_OP_WL_LEAVE,
		    r.user, "");
		break;
	case TR_ROUTE_CONFIRM:
	case TR_ROUTE_RELEASE:
	case TR_ROUTE_REFUND: {
		tr_confirm_body b;
		if (tr_body_confirm(req->entity.base, req->entity.len, &b,
		        &err) != 0)
			respond_error(t, req, r.kind, &err, NULL);
		else
			start_routed(t, req, &r, &b);
		break;
	}
	default:
		respond_status(t, req, TR_ROUTE_OTHER, TR_EINTERNAL, "route");
		break;
	}
	return 0;
}

/* ---- threads
 * ---------------------------------------------------------------- */

static void
on_sock_close(void *data)
{
	struct gw_thread *t = data;
	t->connections--;
	atomic_fetch_sub_explicit(&t->metrics.connections, 1,
	    memory_order_relaxed);
}

static void
on_accept(h2o_socket_t *listener, const char *err)
{
	struct gw_thread *t = listener->data;
	int limit = t->gw->conf.max_connections / t->gw->conf.threads;
	h2o_socket_t *sock;

	if (err != NULL)
		return;
	/* Take every connection that is waiting, up to a bound per turn. */
	for (int i = 0; i < 64; i++) {
		if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
			return;
		if (t->connections >= (limit > 0 ? limit : 1)) {
			atomic_fetch_add_explicit(&t->metrics
			                               .connections_refused,
			    1, memory_order_relaxed);
			h2o_socket_close(sock);
			continue;
		}
		t->connections++;
		atomic_fetch_add_explicit(&t->metrics.connections, 1,
		    memory_order_relaxed);
		sock->on_close.cb = on_sock_close;
		sock->on_close.data = t;
		h2o_accept(&t->accept_ctx, sock);
	}
}

/* Everything h2o is set up on the loop's own thread: h2o keeps its buffer
 * and memory-pool recyclers in thread-local storage, and an object made on
 * another thread would be recycled into that thread's lists from here,
 * racing with it (seen as heap corruption with two loops). */
static int
thread_init(struct gw_thread *t)
{
	struct gw *gw = t->gw;

	h2o_context_init(&t->ctx, h2o_evloop_create(), &gw->h2o);
	t->accept_ctx.ctx = &t->ctx;
	t->accept_ctx.hosts = gw->h2o.hosts;
	h2o_timeout_init(t->ctx.loop, &t->flush_timeout,
	    (uint64_t)gw->conf.batch_wait_ms);
	h2o_timeout_init(t->ctx.loop, &t->poll_timeout, GW_POLL_MS);
	t->flush_entry.cb = flush_cb;
	tr_soldout_init(&t->soldout, gw->conf.nnodes, gw->conf.soldout_ttl_ms);
	for (int i = 0; i < gw->conf.nnodes; i++)
		if (gw_lane_init(t, i) != 0)
			return TR_ENOMEM;
	t->listener = h2o_evloop_socket_create(t->ctx.loop, t->listen_fd,
	    H2O_SOCKET_FLAG_DONT_READ);
	t->listener->data = t;
	h2o_socket_read_start(t->listener, on_accept);
	return 0;
}

static void *
thread_main(void *arg)
{
	struct gw_thread *t = arg;
	struct gw *gw = t->gw;
	int64_t deadline;
	int rv = thread_init(t);

	pthread_mutex_lock(&gw->start_lock);
	t->started = rv == 0 ? 1 : -1;
	pthread_cond_broadcast(&gw->start_cond);
	pthread_mutex_unlock(&gw->start_lock);
	if (rv != 0)
		return NULL;
	while (!atomic_load(&gw->stopping))
		h2o_evloop_run(t->ctx.loop, 100);
	/* Stop accepting; answer what is in flight (2 s at most). */
	h2o_socket_read_stop(t->listener);
	h2o_socket_close(t->listener);
	deadline = tr_mono_ms() + 2000;
	while ((t->calls_in_flight > 0 || t->polls > 0 ||
	           h2o_timeout_is_linked(&t->flush_entry)) &&
	    tr_mono_ms() < deadline)
		h2o_evloop_run(t->ctx.loop, 10);
	for (int i = 0; i < gw->conf.nnodes; i++)
		gw_lane_fini(t, i);
	return NULL;
}

int
gw_thread_start(struct gw *gw, int index, int listen_fd)
{
	struct gw_thread *t = &gw->threads[index];
	int started;

	t->index = index;
	t->gw = gw;
	t->listen_fd = listen_fd;
	if (pthread_create(&t->tid, NULL, thread_main, t) != 0)
		return TR_ENOMEM;
	pthread_mutex_lock(&gw->start_lock);
	while ((started = t->started) == 0)
		pthread_cond_wait(&gw->start_cond, &gw->start_lock);
	pthread_mutex_unlock(&gw->start_lock);
	if (started < 0) {
		pthread_join(t->tid, NULL);
		return TR_ENOMEM;
	}
	return 0;
}

void
gw_threads_join(struct gw *gw)
{
	for (int i = 0; i < gw->conf.threads; i++)
		pthread_join(gw->threads[i].tid, NULL);
}
