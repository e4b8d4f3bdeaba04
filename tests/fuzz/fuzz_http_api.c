/* fuzz_http_api: the gateway's routes, JSON bodies and JSON answers
 * (gateway/http_api.h), as trgate's request handler uses them.
 *
 * Input: "METHOD PATH\nBODY", split at the first space and the first
 * newline (no newline: no body). The route is parsed; its body too when
 * the route takes one (reserve; confirm and release); then every answer
 * the gateway may write from what was parsed: the error, the hold, the
 * order, the event, the /buy/ticket answers, and the errors made from a
 * node's status and detail (the body's first line stands for the detail);
 * for /dashboard, the page of the event it names.
 *
 * Checked: what a parser accepts has its documented shape; every answer
 * fits the gateway's buffer (TR_HTTP_ANSWER_MAX), is one JSON object that
 * cJSON reads back with the same strings; and a writer given less room
 * writes nothing rather than a cut answer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dashboard.h"
#include "http_api.h"
#include "tr_err.h"
#include "tr_ids.h"

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

/* A node's detail is a string under 256 bytes (server/node_impl.h). */
#define DETAIL_MAX 255

/* One writer call, so that each can be run with any room. */
struct answer {
	enum { A_ERROR, A_BUY_ERROR, A_HOLD, A_ORDER, A_EVENT, A_BUY_OK } kind;
	const tr_http_error *err;
	const char *rid, *payment_ref, *node;
	const Ticketrush__Hold *hold;
	const Ticketrush__Order *order;
	const tr_event_sum *sum;
};

static size_t
write_answer(const struct answer *a, char *buf, size_t cap)
{
	switch (a->kind) {
	case A_ERROR:
		return tr_json_error(buf, cap, a->err, a->rid, a->payment_ref);
	case A_BUY_ERROR: return tr_json_buy_error(buf, cap, a->err);
	case A_HOLD: return tr_json_hold(buf, cap, a->hold, a->node);
	case A_ORDER: return tr_json_order(buf, cap, a->order);
	case A_EVENT: return tr_json_event(buf, cap, a->sum);
	default: return tr_json_buy_ok(buf, cap, a->rid);
	}
}

static void
check_member(const cJSON *j, const char *name, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	CHECK(cJSON_IsString(v));
	CHECK(strcmp(v->valuestring, want) == 0);
}

/* Write the answer in the gateway's buffer and with less room; read it
 * back. Returns the parsed object (the caller checks members). */
static cJSON *
check_answer(const struct answer *a, size_t short_cap)
{
	char full[TR_HTTP_ANSWER_MAX], *small;
	size_t len, n;
	cJSON *j;

	len = write_answer(a, full, sizeof(full));
	CHECK(len > 0 && len < sizeof(full));
	CHECK(strlen(full) == len);
	/* Less room: the whole answer, or nothing. */
	short_cap %= len + 2;
	CHECK((small = malloc(short_cap ? short_cap : 1)) != NULL);
	n = write_answer(a, small, short_cap);
	CHECK(n == 0 || (n == len && memcmp(small, full, len + 1) == 0));
	free(small);
	j = cJSON_ParseWithLength(full, len);
	CHECK(cJSON_IsObject(j));
	return j;
}

static void
check_error(const tr_http_error *err, const char *rid, const char *ref,
    size_t short_cap)
{
	struct answer a = {.kind = A_ERROR,
	    .err = err,
	    .rid = rid,
	    .payment_ref = ref};
	cJSON *j;

	CHECK(err->status >= 400 && err->status <= 599);
	CHECK(err->code != NULL);
	CHECK(memchr(err->message, '\0', sizeof(err->message)) != NULL);
	j = check_answer(&a, short_cap);
	check_member(j, "error", err->code);
	check_member(j, "message", err->message);
	if (rid != NULL)
		check_member(j, "reservation_id", rid);
	if (ref != NULL)
		check_member(j, "payment_ref", ref);
	cJSON_Delete(j);
	a.kind = A_BUY_ERROR;
	j = check_answer(&a, short_cap);
	check_member(j, "error", err->code);
	check_member(j, "msg", err->message);
	cJSON_Delete(j);
}

static void
check_hold(const char *rid, const char *event, const char *user, uint32_t qty,
    const char *request_id, size_t short_cap)
{
	Ticketrush__Hold h = TICKETRUSH__HOLD__INIT;
	char node[TR_NODE_ID_MAX + 1];
	struct answer a = {.kind = A_HOLD, .hold = &h, .node = node};
	cJSON *j;

	CHECK(tr_rid_parse(rid, node, NULL));
	h.reservation_id = (char *)rid;
	h.event_id = (char *)event;
	h.user_id = (char *)user;
	h.request_id = (char *)request_id;
	h.qty = qty;
	h.state = TICKETRUSH__HOLD_STATE__HOLD_STATE_HELD;
	h.expires_at_ms = INT64_MAX;
	j = check_answer(&a, short_cap);
	check_member(j, "reservation_id", rid);
	check_member(j, "event_id", event);
	check_member(j, "user", user);
	check_member(j, "node", node);
	cJSON_Delete(j);
}

static void
check_order(const char *rid, const char *event, const char *user,
    const char *ref, size_t short_cap)
{
	Ticketrush__Order o = TICKETRUSH__ORDER__INIT;
	char node[TR_NODE_ID_MAX + 1];
	struct answer a = {.kind = A_ORDER, .order = &o};
	cJSON *j;

	CHECK(tr_rid_parse(rid, node, NULL));
	o.order_id = (char *)rid;
	o.event_id = (char *)event;
	o.user_id = (char *)user;
	o.qty = UINT32_MAX;
	o.payment_ref = (char *)ref;
	o.confirmed_at_ms = INT64_MIN;
	o.node_id = node;
	j = check_answer(&a, short_cap);
	check_member(j, "order_id", rid);
	check_member(j, "payment_ref", ref);
	check_member(j, "node", node);
	cJSON_Delete(j);
}

/* The event answer, from figures taken from the body's bytes. */
static void
check_event(const char *event, const uint8_t *b, size_t n, size_t short_cap)
{
	Ticketrush__EventInfo e = TICKETRUSH__EVENT_INFO__INIT;
	uint64_t v[8] = {0};
	tr_event_sum sum = {0};
	struct answer a = {.kind = A_EVENT, .sum = &sum};
	cJSON *j;

	memcpy(v, b, n < sizeof(v) ? n : sizeof(v));
	e.event_id = (char *)event;
	e.total = v[0];
	e.available = v[1];
	e.sold = v[2];
	e.pool = v[3];
	e.held_total = v[4];
	e.global_at_ms = (int64_t)v[5];
	e.limit_per_user = (uint32_t)v[6];
	e.hold_ms = v[7];
	e.opens_at_ms = (int64_t)v[6];
	e.state = v[7] & 1 ? "scheduled" : "on_sale";
	/* Two nodes answered. */
	tr_event_sum_add(&sum, &e);
	tr_event_sum_add(&sum, &e);
	j = check_answer(&a, short_cap);
	check_member(j, "event_id", event);
	cJSON_Delete(j);
}

/* The body's first line as a node's detail, with one of the statuses (by
 * the input's length: each input costs one). */
static void
check_node_error(const char *body, size_t len, size_t pick, size_t short_cap)
{
	static const int codes[] = {TR_ESOLD_OUT, TR_ELIMIT, TR_EDUPLICATE,
	    TR_ENOT_FOUND, TR_EEXPIRED, TR_ENOT_OWNER, TR_ENOT_OPEN,
	    TR_EINVALID, TR_EUNAVAILABLE, TR_EOVERLOADED, TR_EFORBIDDEN,
	    TR_EINTERNAL, TR_ECONFLICT, TR_ENOMEM, TR_EFENCED, TR_ETIMEDOUT,
	    TR_EIO, TR_EPROTO, -1, -99};
	char detail[DETAIL_MAX + 1];
	const char *nl = memchr(body, '\n', len);
	size_t n = nl ? (size_t)(nl - body) : len;
	tr_http_error err;

	if (n > DETAIL_MAX)
		n = DETAIL_MAX;
	memcpy(detail, body, n);
	detail[n] = '\0';
	pick %= sizeof(codes) / sizeof(codes[0]);
	CHECK(tr_http_status_of(codes[pick], false) >= 400);
	tr_http_error_from(&err, codes[pick], detail);
	check_error(&err, NULL, NULL, short_cap);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *sp, *nl, *body;
	size_t mlen, plen, blen, short_cap;
	char *method, *path;
	tr_route r;
	tr_http_error err;

	nl = memchr(in, '\n', size);
	plen = nl ? (size_t)(nl - in) : size;
	sp = memchr(in, ' ', plen);
	mlen = sp ? (size_t)(sp - in) : plen;
	body = nl ? nl + 1 : in + size;
	blen = (size_t)(in + size - body);
	short_cap = size;
	/* Exact copies: the parsers get lengths, and must not read on. */
	CHECK((method = malloc(mlen ? mlen : 1)) != NULL);
	memcpy(method, in, mlen);
	plen = sp ? plen - mlen - 1 : 0;
	CHECK((path = malloc(plen ? plen : 1)) != NULL);
	memcpy(path, sp ? sp + 1 : in, plen);

	if (tr_route_parse(method, mlen, path, plen, &r, &err) != 0) {
		CHECK(err.status == 400 || err.status == 404 ||
		    err.status == 405);
		check_error(&err, NULL, NULL, short_cap);
		goto out;
	}
	CHECK(r.kind >= 0 && r.kind < TR_ROUTE_OTHER);
	switch (r.kind) {
	case TR_ROUTE_RESERVE: {
		tr_reserve_body b;
		char rid[TR_RID_MAX + 1];
		CHECK(tr_event_id_valid(r.event_id));
		if (tr_body_reserve(body, blen, &b, &err) != 0) {
			CHECK(err.status == 400 || err.status == 413);
			check_error(&err, NULL, NULL, short_cap);
			break;
		}
		CHECK(tr_user_id_valid(b.user));
		CHECK(tr_request_id_valid(b.request_id));
		CHECK(b.qty >= 1 && b.qty <= 100);
		tr_rid_format(rid, "n1", UINT64_MAX, r.event_id);
		check_hold(rid, r.event_id, b.user, b.qty, b.request_id,
		    short_cap);
		/* A duplicate names the user's hold. */
		tr_http_error_from(&err, TR_EDUPLICATE,
		    "user already holds "
		    "a reservation");
		check_error(&err, rid, NULL, short_cap);
		break;
	}
	case TR_ROUTE_CONFIRM:
	case TR_ROUTE_RELEASE: {
		tr_confirm_body b;
		char node[TR_NODE_ID_MAX + 1];
		CHECK(tr_rid_parse(r.rid, node, NULL));
		CHECK(strcmp(node, r.node) == 0);
		CHECK(tr_event_id_valid(r.event_id));
		if (tr_body_confirm(body, blen, &b, &err) != 0) {
			CHECK(err.status == 400 || err.status == 413);
			check_error(&err, NULL, NULL, short_cap);
			break;
		}
		CHECK(tr_user_id_valid(b.user));
		CHECK(tr_payment_ref_valid(b.payment_ref));
		check_order(r.rid, r.event_id, b.user, b.payment_ref,
		    short_cap);
		check_hold(r.rid, r.event_id, b.user, 1, "", short_cap);
		/* A second payment names the order and its reference. */
		tr_http_error_from(&err, TR_ECONFLICT, "already paid");
		check_error(&err, r.rid, b.payment_ref, short_cap);
		break;
	}
	case TR_ROUTE_EVENT:
		CHECK(tr_event_id_valid(r.event_id));
		check_event(r.event_id, (const uint8_t *)body, blen,
		    short_cap);
		break;
	case TR_ROUTE_BUY: {
		char rid[TR_RID_MAX + 1];
		struct answer a = {.kind = A_BUY_OK, .rid = rid};
		cJSON *j;
		CHECK(r.user[0] == '\0' || tr_user_id_valid(r.user));
		tr_rid_format(rid, "n1", 0, "G1234");
		j = check_answer(&a, short_cap);
		cJSON_Delete(j);
		break;
	}
	case TR_ROUTE_DASHBOARD: {
		/* The page of the event named (else the default one), whole,
		 * in exactly its room; with a byte less, nothing. */
		const char *ev = r.event_id[0] ? r.event_id : "G1234";
		size_t n = tr_dashboard_size(ev);
		char *page;
		CHECK(r.event_id[0] == '\0' || tr_event_id_valid(r.event_id));
		CHECK((page = malloc(n + 1)) != NULL);
		CHECK(tr_dashboard_render(page, n, ev) == 0);
		CHECK(tr_dashboard_render(page, n + 1, ev) == n);
		CHECK(strlen(page) == n && strstr(page, "@EVENT@") == NULL);
		free(page);
		break;
	}
	default: break;
	}
out:
	check_node_error(body, blen, size, short_cap);
	free(method);
	free(path);
	return 0;
}
