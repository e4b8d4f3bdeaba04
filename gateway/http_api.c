/* http_api: routes, bodies (cJSON), statuses and answers of trgate. */
#include "http_api.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tr_api_error.h"
#include "tr_buf.h"
#include "tr_err.h"
#include "tr_event.h"
#include "tr_parse.h"

const char *const tr_route_name[TR_ROUTE_COUNT] = {
    [TR_ROUTE_RESERVE] = "reserve",
    [TR_ROUTE_CONFIRM] = "confirm",
    [TR_ROUTE_RELEASE] = "release",
    [TR_ROUTE_EVENT] = "event",
    [TR_ROUTE_BUY] = "buy_ticket",
    [TR_ROUTE_HEALTH] = "healthz",
    [TR_ROUTE_METRICS] = "metrics",
    [TR_ROUTE_WL_JOIN] = "waitlist_join",
    [TR_ROUTE_WL_GET] = "waitlist_get",
    [TR_ROUTE_WL_LEAVE] = "waitlist_leave",
    [TR_ROUTE_REFUND] = "refund",
    [TR_ROUTE_DASHBOARD] = "dashboard",
    [TR_ROUTE_OTHER] = "other",
};

void
tr_http_error_set(tr_http_error *err, int api_code, const char *fmt, ...)
{
	va_list ap;
	err->status = tr_api_error_status(api_code);
	err->code = tr_api_error_name(api_code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s+len) into out (cap bytes); false if it does not
 * fit, is malformed, or decodes to a NUL. */
static bool
decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

static bool
method_is(const char *m, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(m, want, len) == 0;
}

/* An event id from URL bytes into out->event_id; else a 400 naming what
 * ("event id", "event"). */
static int
take_event_id(const char *s, size_t len, const char *what, tr_route *out,
    tr_http_error *err)
{
	if (decode(s, len, out->event_id, sizeof(out->event_id)) &&
	    tr_event_id_valid(out->event_id))
		return 0;
	tr_http_error_set(err, TR_API_INVALID,
	    "%s must be 1-64 chars of [A-Za-z0-9._:-]", what);
	return -1;
}

/* A reservation id from URL bytes into out->rid, out->node and
 * out->event_id; else a 400 naming what ("reservation id", "order id"). */
static int
take_rid(const char *s, size_t len, const char *what, tr_route *out,
    tr_http_error *err)
{
	if (decode(s, len, out->rid, sizeof(out->rid)) &&
	    tr_rid_parse(out->rid, out->node, out->event_id))
		return 0;
	tr_http_error_set(err, TR_API_INVALID,
	    "%s must be <node>.<16 hex digits>.<event>", what);
	return -1;
}

/* The i-th path segment (0-based) of a path without query. */
static bool
segment(const char *path, size_t len, int i, const char **seg, size_t *slen)
{
	size_t pos = 0;
	for (int k = 0; pos < len; k++) {
		size_t start, end;
		if (path[pos] != '/')
			return false;
		start = ++pos;
		while (pos < len && path[pos] != '/')
			pos++;
		end = pos;
		if (k == i) {
			*seg = path + start;
			*slen = end - start;
			return true;
		}
	}
	return false;
}

static int
count_segments(const char *path, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += path[i] == '/';
	return n;
}

static bool
seg_is(const char *seg, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(seg, want, len) == 0;
}

static int
wrong_method(tr_http_error *err, const char *allowed)
{
	tr_http_error_set(err, TR_API_METHOD_NOT_ALLOWED,
	    "use %s on this path", allowed);
	return -1;
}

/* /buy/ticket?user=U: find user= in the query. */
static int
parse_buy_query(const char *q, size_t qlen, tr_route *out, tr_http_error *err)
{
	size_t i = 0;
	out->user[0] = '\0';
	while (i < qlen) {
		size_t start = i, eq, end;
		while (i < qlen && q[i] != '&')
			i++;
		end = i++;
		for (eq = start; eq < end && q[eq] != '='; eq++)
			;
		if (eq < end && eq - start == 4 &&
		    memcmp(q + start, "user", 4) == 0) {
			if (!decode(q + eq + 1, end - eq - 1, out->user,
			        sizeof(out->user)) ||
			    !tr_user_id_valid(out->user)) {
				tr_http_error_set(err, TR_API_INVALID,
				    "user must be "
				    "1-64 chars of [A-Za-z0-9._:@-]");
				return -1;
			}
		}
	}
	return 0;
}

static const char *const wl_state_names[] = {"unknown", "waiting", "offered",
    "confirmed", "expired", "left", "skipped"};

/* ?wait=DUR on a waitlist GET: a duration of at most 30 s; &state=NAME:
 * the state the client last saw, so that a change made before the poll
 * arrived is answered at once rather than waited past. */
static int
parse_wait_query(const char *q, size_t qlen, tr_route *out, tr_http_error *err)
{
	size_t i = 0;
	while (i < qlen) {
		size_t start = i, end;
		char v[16];
		uint64_t ms;
		while (i < qlen && q[i] != '&')
			i++;
		end = i++;
		if (end - start >= 6 && memcmp(q + start, "state=", 6) == 0) {
			int k = 0;
			if (decode(q + start + 6, end - start - 6, v,
			        sizeof(v)))
				for (k = 6; k > 0; k--)
					if (strcmp(v, wl_state_names[k]) == 0)
						break;
			if (k == 0) {
				tr_http_error_set(err, TR_API_INVALID,
				    "state "
				    "must be waiting, offered, confirmed, "
				    "expired, left or skipped");
				return -1;
			}
			out->wait_state = k;
			continue;
		}
		if (end - start <= 5 || memcmp(q + start, "wait=", 5) != 0)
			continue;
		if (!decode(q + start + 5, end - start - 5, v, sizeof(v)) ||
		    tr_parse_duration_ms(v, TR_HTTP_WAIT_MAX_MS, &ms) != 0) {
			tr_http_error_set(err, TR_API_INVALID,
			    "wait must be a "
			    "duration of at most 30s (e.g. wait=20s)");
			return -1;
		}
		out->wait_ms = (int64_t)ms;
	}
	return 0;
}

/* ?event=E on the dashboard: a valid event id (absent: ""). */
static int
parse_event_query(const char *q, size_t qlen, tr_route *out,
    tr_http_error *err)
{
	size_t i = 0;
	while (i < qlen) {
		size_t start = i, end;
		while (i < qlen && q[i] != '&')
			i++;
		end = i++;
		if (end - start < 6 || memcmp(q + start, "event=", 6) != 0)
			continue;
		if (take_event_id(q + start + 6, end - start - 6, "event", out,
		        err) != 0) {
			out->event_id[0] = '\0';
			return -1;
		}
	}
	return 0;
}

/* /v1/events/{event}/waitlist[/{user}]: s2 the event segment. */
static int
parse_waitlist(const char *method, size_t mlen, const char *path, size_t plen,
    const char *q, size_t qlen, int nseg, const char *s2, size_t l2,
    tr_route *out, tr_http_error *err)
{
	const char *s4;
	size_t l4;

	if (nseg == 4) {
		out->kind = TR_ROUTE_WL_JOIN;
		if (!method_is(method, mlen, "POST"))
			return wrong_method(err, "POST");
	} else {
		bool get = method_is(method, mlen, "GET") ||
		    method_is(method, mlen, "HEAD");
		out->kind = get ? TR_ROUTE_WL_GET : TR_ROUTE_WL_LEAVE;
		if (!get && !method_is(method, mlen, "DELETE"))
			return wrong_method(err, "GET or DELETE");
		if (!segment(path, plen, 4, &s4, &l4) ||
		    !decode(s4, l4, out->user, sizeof(out->user)) ||
		    !tr_user_id_valid(out->user)) {
			tr_http_error_set(err, TR_API_INVALID,
			    "user must be "
			    "1-64 chars of [A-Za-z0-9._:@-]");
			return -1;
		}
		if (get && parse_wait_query(q ? q : "", qlen, out, err) != 0)
			return -1;
	}
	return take_event_id(s2, l2, "event id", out, err);
}

int
tr_route_parse(const char *method, size_t mlen, const char *path, size_t plen,
    tr_route *out, tr_http_error *err)
{
	const char *q = memchr(path, '?', plen), *s0, *s1, *s2, *s3;
	size_t qlen = 0, l0, l1, l2, l3;
	bool get =
	    method_is(method, mlen, "GET") || method_is(method, mlen, "HEAD");
	bool post = method_is(method, mlen, "POST");
	int nseg;

	memset(out, 0, sizeof(*out));
	if (q != NULL) {
		qlen = plen - (size_t)(q - path) - 1;
		plen = (size_t)(q - path);
		q++;
	}
	nseg = count_segments(path, plen);
	if (plen == 0 || path[0] != '/' || !segment(path, plen, 0, &s0, &l0))
		goto no_route;
	if (nseg == 1 && seg_is(s0, l0, "healthz")) {
		out->kind = TR_ROUTE_HEALTH;
		return get ? 0 : wrong_method(err, "GET");
	}
	if (nseg == 1 && seg_is(s0, l0, "metrics")) {
		out->kind = TR_ROUTE_METRICS;
		return get ? 0 : wrong_method(err, "GET");
	}
	if (nseg == 1 && seg_is(s0, l0, "dashboard")) {
		out->kind = TR_ROUTE_DASHBOARD;
		if (!get)
			return wrong_method(err, "GET");
		return parse_event_query(q ? q : "", qlen, out, err);
	}
	if (nseg == 2 && seg_is(s0, l0, "buy") &&
	    segment(path, plen, 1, &s1, &l1) && seg_is(s1, l1, "ticket")) {
		out->kind = TR_ROUTE_BUY;
		if (!get)
			return wrong_method(err, "GET");
		return parse_buy_query(q ? q : "", qlen, out, err);
	}
	if (!seg_is(s0, l0, "v1") || nseg < 3 ||
	    !segment(path, plen, 1, &s1, &l1) ||
	    !segment(path, plen, 2, &s2, &l2))
		goto no_route;
	if (seg_is(s1, l1, "events") && (nseg == 4 || nseg == 5) &&
	    segment(path, plen, 3, &s3, &l3) && seg_is(s3, l3, "waitlist"))
		return parse_waitlist(method, mlen, path, plen, q, qlen, nseg,
		    s2, l2, out, err);
	if (seg_is(s1, l1, "orders") && nseg == 4 &&
	    segment(path, plen, 3, &s3, &l3) && seg_is(s3, l3, "refund")) {
		out->kind = TR_ROUTE_REFUND;
		if (!post)
			return wrong_method(err, "POST");
		return take_rid(s2, l2, "order id", out, err);
	}
	if (seg_is(s1, l1, "events") && (nseg == 3 || nseg == 4)) {
		if (nseg == 4 &&
		    (!segment(path, plen, 3, &s3, &l3) ||
		        !seg_is(s3, l3, "reservations")))
			goto no_route;
		out->kind = nseg == 3 ? TR_ROUTE_EVENT : TR_ROUTE_RESERVE;
		if (nseg == 3 && !get)
			return wrong_method(err, "GET");
		if (nseg == 4 && !post)
			return wrong_method(err, "POST");
		return take_event_id(s2, l2, "event id", out, err);
	}
	if (seg_is(s1, l1, "reservations") && nseg == 4 &&
	    segment(path, plen, 3, &s3, &l3) &&
	    (seg_is(s3, l3, "confirm") || seg_is(s3, l3, "release"))) {
		out->kind = seg_is(s3, l3, "confirm") ? TR_ROUTE_CONFIRM
		                                      : TR_ROUTE_RELEASE;
		if (!post)
			return wrong_method(err, "POST");
		return take_rid(s2, l2, "reservation id", out, err);
	}
no_route:
	tr_http_error_set(err, TR_API_NO_ROUTE,
	    "no such path; see docs/HTTP-API.md");
	return -1;
}

/* ---- bodies ------------------------------------------------------------- */

static cJSON *
parse_object(const char *body, size_t len, tr_http_error *err)
{
	const char *end = NULL;
	cJSON *j;
	if (len > TR_HTTP_BODY_MAX) {
		tr_http_error_set(err, TR_API_BODY_TOO_LARGE,
		    "body over %d bytes", TR_HTTP_BODY_MAX);
		return NULL;
	}
	/* One object and nothing after it but white space: cJSON stops
	 * after the value and would take `{...} trailing bytes`. */
	j = cJSON_ParseWithLengthOpts(body, len, &end, false);
	while (j != NULL && end < body + len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (j == NULL || !cJSON_IsObject(j) || end != body + len) {
		cJSON_Delete(j);
		tr_http_error_set(err, TR_API_INVALID_JSON,
		    "body must be a JSON "
		    "object");
		return NULL;
	}
	return j;
}

/* A string member; missing is allowed when !required. */
static int
get_string(cJSON *j, const char *name, bool required, char *out, size_t cap,
    bool (*valid)(const char *), const char *shape, tr_http_error *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v)) {
		if (!required)
			return 0;
		tr_http_error_set(err, TR_API_INVALID, "\"%s\" is required",
		    name);
		return -1;
	}
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap ||
	    !valid(v->valuestring)) {
		tr_http_error_set(err, TR_API_INVALID,
		    "\"%s\" must be a string of %s", name, shape);
		return -1;
	}
	strcpy(out, v->valuestring);
	return 0;
}

int
tr_body_reserve(const char *body, size_t len, tr_reserve_body *out,
    tr_http_error *err)
{
	cJSON *j = parse_object(body, len, err), *qty;
	int rv = -1;

	if (j == NULL)
		return -1;
	if (get_string(j, "user", true, out->user, sizeof(out->user),
	        tr_user_id_valid, "1-64 chars of [A-Za-z0-9._:@-]",
	        err) != 0 ||
	    get_string(j, "request_id", false, out->request_id,
	        sizeof(out->request_id), tr_request_id_valid,
	        "0-64 chars of [A-Za-z0-9._:-]", err) != 0)
		goto out;
	out->qty = 1;
	qty = cJSON_GetObjectItemCaseSensitive(j, "qty");
	if (qty != NULL && !cJSON_IsNull(qty)) {
		double d = cJSON_IsNumber(qty) ? qty->valuedouble : -1;
		if (d < 1 || d > TR_QTY_MAX || floor(d) != d) {
			tr_http_error_set(err, TR_API_INVALID,
			    "\"qty\" must be an integer " TR_QTY_RANGE);
			goto out;
		}
		out->qty = (uint32_t)d;
	}
	rv = 0;
out:
	cJSON_Delete(j);
	return rv;
}

int
tr_body_confirm(const char *body, size_t len, tr_confirm_body *out,
    tr_http_error *err)
{
	cJSON *j = parse_object(body, len, err);
	int rv = -1;

	if (j == NULL)
		return -1;
	if (get_string(j, "user", true, out->user, sizeof(out->user),
	        tr_user_id_valid, "1-64 chars of [A-Za-z0-9._:@-]",
	        err) != 0 ||
	    get_string(j, "payment_ref", false, out->payment_ref,
	        sizeof(out->payment_ref), tr_payment_ref_valid,
	        "0-128 printable ASCII chars", err) != 0)
		goto out;
	rv = 0;
out:
	cJSON_Delete(j);
	return rv;
}

/* ---- statuses ------------------------------------------------------------
 */

int
tr_http_status_of(int err, bool created)
{
	if (err == TR_OK)
		return created ? 201 : 200;
	return tr_api_error_status(tr_api_error_of(err));
}

void
tr_http_error_from(tr_http_error *err, int code, const char *detail)
{
	int api = tr_api_error_of(code);
	tr_http_error_set(err, api, "%s",
	    detail && detail[0] ? detail : tr_api_error_name(api));
}

/* ---- JSON ----------------------------------------------------------------
 */

size_t
tr_json_error(char *buf, size_t cap, const tr_http_error *err,
    const char *reservation_id, const char *payment_ref)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_printf(&o, "{\"error\":");
	tr_buf_json_str(&o, err->code);
	tr_buf_printf(&o, ",\"message\":");
	tr_buf_json_str(&o, err->message);
	if (reservation_id != NULL) {
		tr_buf_printf(&o, ",\"reservation_id\":");
		tr_buf_json_str(&o, reservation_id);
	}
	if (payment_ref != NULL) {
		tr_buf_printf(&o, ",\"payment_ref\":");
		tr_buf_json_str(&o, payment_ref);
	}
	tr_buf_printf(&o, "}");
	return tr_buf_len(&o);
}

static const char *
state_name(int s)
{
	static const char *names[] = {"unknown", "held", "confirmed",
	    "released", "expired"};
	return s >= 0 && s <= 4 ? names[s] : "unknown";
}

/* The 201 of every sale: built without printf (it is on the hot path). */
size_t
tr_json_hold(char *buf, size_t cap, const Ticketrush__Hold *h,
    const char *node)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_lit(&o, "{\"reservation_id\":");
	tr_buf_json_str(&o, h->reservation_id);
	tr_buf_lit(&o, ",\"event_id\":");
	tr_buf_json_str(&o, h->event_id);
	tr_buf_lit(&o, ",\"user\":");
	tr_buf_json_str(&o, h->user_id);
	tr_buf_lit(&o, ",\"qty\":");
	tr_buf_int(&o, h->qty);
	tr_buf_lit(&o, ",\"state\":");
	tr_buf_json_str(&o, state_name(h->state));
	tr_buf_lit(&o, ",\"expires_at_ms\":");
	tr_buf_int(&o, h->expires_at_ms);
	tr_buf_lit(&o, ",\"node\":");
	tr_buf_json_str(&o, node);
	tr_buf_lit(&o, "}");
	return tr_buf_len(&o);
}

size_t
tr_json_order(char *buf, size_t cap, const Ticketrush__Order *x)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_printf(&o, "{\"order_id\":");
	tr_buf_json_str(&o, x->order_id);
	tr_buf_printf(&o, ",\"event_id\":");
	tr_buf_json_str(&o, x->event_id);
	tr_buf_printf(&o, ",\"user\":");
	tr_buf_json_str(&o, x->user_id);
	tr_buf_printf(&o, ",\"qty\":%" PRIu32 ",\"payment_ref\":", x->qty);
	tr_buf_json_str(&o, x->payment_ref);
	tr_buf_printf(&o,
	    ",\"confirmed_at_ms\":%" PRId64 ",\"node\":", x->confirmed_at_ms);
	tr_buf_json_str(&o, x->node_id);
	if (x->refunded_at_ms != 0)
		tr_buf_printf(&o, ",\"refunded_at_ms\":%" PRId64,
		    x->refunded_at_ms);
	tr_buf_printf(&o, "}");
	return tr_buf_len(&o);
}

static const char *
wl_state_name(int s)
{
	return s >= 1 && s <= 6 ? wl_state_names[s] : wl_state_names[0];
}

size_t
tr_json_wl_entry(char *buf, size_t cap, const Ticketrush__WaitlistEntry *e)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_lit(&o, "{\"event_id\":");
	tr_buf_json_str(&o, e->event_id);
	tr_buf_lit(&o, ",\"user\":");
	tr_buf_json_str(&o, e->user_id);
	tr_buf_lit(&o, ",\"state\":");
	tr_buf_json_str(&o, wl_state_name(e->state));
	tr_buf_lit(&o, ",\"join_number\":");
	tr_buf_int(&o, (int64_t)e->join_number);
	tr_buf_lit(&o, ",\"position\":");
	tr_buf_int(&o, (int64_t)e->position);
	tr_buf_lit(&o, ",\"ahead\":");
	tr_buf_int(&o, (int64_t)e->ahead);
	if (e->reservation_id != NULL && e->reservation_id[0] != '\0') {
		tr_buf_lit(&o, ",\"reservation_id\":");
		tr_buf_json_str(&o, e->reservation_id);
		tr_buf_lit(&o, ",\"offer_expires_at_ms\":");
		tr_buf_int(&o, e->offer_expires_at_ms);
	}
	tr_buf_lit(&o, ",\"joined_at_ms\":");
	tr_buf_int(&o, e->joined_at_ms);
	tr_buf_lit(&o, "}");
	return tr_buf_len(&o);
}

void
tr_event_sum_add(tr_event_sum *s, const Ticketrush__EventInfo *e)
{
	if (s->nodes == 0) {
		snprintf(s->event_id, sizeof(s->event_id), "%s", e->event_id);
		s->total = e->total;
		s->limit_per_user = e->limit_per_user;
		s->hold_ms = e->hold_ms;
		s->opens_at_ms = e->opens_at_ms;
	}
	s->nodes++;
	s->available += e->available;
	/* Every node reports the coordinator's figures as of its last sync:
	 * take the freshest. */
	if (s->nodes == 1 || e->global_at_ms >= s->global_at_ms) {
		s->global_at_ms = e->global_at_ms;
		s->sold = e->sold;
		s->pool = e->pool;
		s->held = e->held_total;
		s->waitlist = e->waitlist;
		s->offers = e->offers;
		s->closed = e->closed;
		/* An operator may have added stock since a staler node's
		 * figures. */
		s->total = e->total;
	}
	if (e->state != NULL && strcmp(e->state, "scheduled") == 0)
		s->scheduled = true;
}

size_t
tr_json_event(char *buf, size_t cap, const tr_event_sum *s)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	/* While buyers wait in line, what comes back is theirs; a closed
	 * sale has nothing to reserve. */
	uint64_t available =
	    s->waitlist > 0 || s->closed ? 0 : s->available + s->pool;
	const char *state = s->closed        ? "closed"
	    : s->scheduled                   ? "scheduled"
	    : available == 0 && s->held == 0 ? "sold_out"
	                                     : "on_sale";
	tr_buf_printf(&o, "{\"event_id\":");
	tr_buf_json_str(&o, s->event_id);
	tr_buf_printf(&o,
	    ",\"state\":\"%s\",\"total\":%" PRIu64 ",\"sold\":%" PRIu64
	    ",\"available\":%" PRIu64 ",\"held\":%" PRIu64 ",\"pool\":%" PRIu64
	    ",\"limit_per_user\":%" PRIu32 ",\"hold_ms\":%" PRIu64
	    ",\"opens_at_ms\":%" PRId64 ",\"waitlist\":%" PRIu64
	    ",\"offers\":%" PRIu64 ",\"nodes\":%d}",
	    state, s->total, s->sold, available, s->held, s->pool,
	    s->limit_per_user, s->hold_ms, s->opens_at_ms, s->waitlist,
	    s->offers, s->nodes);
	return tr_buf_len(&o);
}

size_t
tr_json_buy_ok(char *buf, size_t cap, const char *reservation_id)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_printf(&o,
	    "{\"code\":1,\"msg\":\"抢票成功\",\"data\":{\"reservation_id\":");
	tr_buf_json_str(&o, reservation_id);
	tr_buf_printf(&o, "}}");
	return tr_buf_len(&o);
}

const char tr_json_sold_out[] =
    "{\"error\":\"sold_out\",\"message\":\"sold out\"}";
const char tr_json_buy_sold_out[] = "{\"code\":-1,\"msg\":\"已售罄\"}";

size_t
tr_json_buy_error(char *buf, size_t cap, const tr_http_error *err)
{
	tr_buf o;
	tr_buf_init(&o, buf, cap);
	tr_buf_printf(&o, "{\"code\":-1,\"msg\":");
	tr_buf_json_str(&o, err->message);
	tr_buf_printf(&o, ",\"error\":");
	tr_buf_json_str(&o, err->code);
	tr_buf_printf(&o, "}");
	return tr_buf_len(&o);
}
