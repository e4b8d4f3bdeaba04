/* test_controls: the operator's controls against a running cluster (real
 * redis-server, two stockd, trgate on loopback): ticketctl event topup,
 * event close and reopen, and what the buyers and the audit see; ticketctl
 * watch while tickets sell. */
#include <hiredis/hiredis.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "harness.h"
#include "tr_api_error.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_envelope.h"

static th_redis redis;
static th_stockd nodes[2];
static th_gate gate;
static char out[16384];
static char body[4096];

/* Nodes that sync busy events every 100 ms and keep idle leases. */
#define NODE_FLAGS "--sync", "100ms", "--lease-idle", "0"

static int
setup_cluster(void **state)
{
	char f0[160], f1[160];
	(void)state;
	if (th_redis_start(&redis) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		char id[8];
		snprintf(id, sizeof(id), "n%d", i + 1);
		if (th_stockd_start(&nodes[i], id, &redis,
		        (const char *[]){NODE_FLAGS, NULL}) != 0)
			return -1;
	}
	snprintf(f0, sizeof(f0), "n1=%s", nodes[0].data_url);
	snprintf(f1, sizeof(f1), "n2=%s", nodes[1].data_url);
	return th_gate_start(&gate,
	    (const char *[]){"--node", f0, "--node", f1, "--threads", "1",
	        "--soldout-ttl", "50ms", NULL});
}

static int
teardown_cluster(void **state)
{
	(void)state;
	th_stop(&gate.proc, SIGTERM, 5000);
	for (int i = 0; i < 2; i++)
		th_stop(&nodes[i].proc, SIGTERM, 5000);
	th_redis_stop(&redis);
	th_cleanup();
	return 0;
}

/* ticketctl with args, stdout+stderr in out; its exit code. */
static int
ctl(const char *fmt, ...)
{
	char args[2048], cmd[2600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", th_bin("ticketctl"), args);
	return th_run(cmd, out, sizeof(out));
}

static void
assert_out_has(const char *needle)
{
	if (strstr(out, needle) == NULL)
		fail_msg("output lacks \"%s\":\n%s", needle, out);
}

/* POST a reservation through the gateway; the HTTP status. */
static int
reserve(const char *event, const char *user, const char *request_id)
{
	char path[128], json[256];
	snprintf(path, sizeof(path), "/v1/events/%s/reservations", event);
	snprintf(json, sizeof(json), "{\"user\":\"%s\",\"request_id\":\"%s\"}",
	    user, request_id ? request_id : "");
	return th_http(gate.port, "POST", path, json, body, sizeof(body));
}

static int
confirm(const char *rid, const char *user)
{
	char path[160], json[128];
	snprintf(path, sizeof(path), "/v1/reservations/%s/confirm", rid);
	snprintf(json, sizeof(json), "{\"user\":\"%s\"}", user);
	return th_http(gate.port, "POST", path, json, body, sizeof(body));
}

/* A string member of the last answer's JSON body into buf. */
static void
body_str(const char *name, char *buf, size_t cap)
{
	cJSON *j = cJSON_Parse(body), *v;
	assert_non_null(j);
	v = cJSON_GetObjectItemCaseSensitive(j, name);
	if (!cJSON_IsString(v))
		fail_msg("no \"%s\" in %s", name, body);
	snprintf(buf, cap, "%s", v->valuestring);
	cJSON_Delete(j);
}

/* ticketctl audit --json of event: passes, with this total and sold. */
static void
assert_audit(const char *event, unsigned total, unsigned sold)
{
	char want[64];
	assert_int_equal(ctl("--json --redis %s audit %s", redis.addr, event),
	    0);
	assert_out_has("\"ok\":true");
	snprintf(want, sizeof(want), "\"total\":%u,\"sold\":%u", total, sold);
	assert_out_has(want);
}

/* ---- the wire and HTTP names ------------------------------------------- */

static void
closed_is_status_16_on_the_wire_and_409_closed_over_http(void **state)
{
	(void)state;
	assert_int_equal(tr_err_to_status(TR_ECLOSED), 16);
	assert_int_equal(tr_err_from_status(16), TR_ECLOSED);
	assert_string_equal(tr_strerror(TR_ECLOSED), "closed");
	assert_int_equal(tr_api_error_of(TR_ECLOSED), TR_API_CLOSED);
	assert_int_equal(tr_api_error_status(TR_API_CLOSED), 409);
	assert_string_equal(tr_api_error_name(TR_API_CLOSED), "closed");
	assert_int_equal(tr_api_error_parse("closed", 6), TR_API_CLOSED);
}

/* ---- top up ----------------------------------------------------------- */

static void
topup_adds_stock_that_the_nodes_sell_and_the_audit_stays_true(void **state)
{
	char user[32], rid[128];
	int64_t deadline;
	int sold = 0, st;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "T1", 2, 1, 60000), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(user, sizeof(user), "t-%d", i);
		assert_int_equal(reserve("T1", user, "r"), 201);
		body_str("reservation_id", rid, sizeof(rid));
		assert_int_equal(confirm(rid, user), 200);
	}
	assert_int_equal(reserve("T1", "t-late", "r"), 409);
	assert_non_null(strstr(body, "sold_out"));

	/* Through the other node's admin socket: three more. */
	assert_int_equal(ctl("--url %s event topup T1 3", nodes[1].admin_url),
	    0);
	assert_out_has("event T1: on_sale");
	assert_out_has("total 5,");
	assert_audit("T1", 5, 2);
	/* The three are in the pool, or already leased to a node that asks
	 * ahead: read in one script, as a grant may move them between two
	 * separate reads (and count one twice). */
	assert_int_equal(th_redis_int(&redis,
	                     "EVAL %s 2 tr:{T1}:pool "
	                     "tr:{T1}:lease",
	                     "local n = tonumber(redis.call('GET', KEYS[1]) "
	                     "or 0) for _, v in ipairs(redis.call('HVALS', "
	                     "KEYS[2])) do n = n + tonumber(v) end return n"),
	    3);

	/* The buyers get them within the bound (a node that saw the pool
	 * empty asks again within a second), and no more. */
	deadline = tr_mono_ms() + 3000;
	for (int i = 0; sold < 3 && tr_mono_ms() < deadline; i++) {
		snprintf(user, sizeof(user), "t2-%d", i);
		if ((st = reserve("T1", user, "r")) == 201) {
			body_str("reservation_id", rid, sizeof(rid));
			assert_int_equal(confirm(rid, user), 200);
			sold++;
		} else {
			assert_int_equal(st, 409);
			tr_sleep_ms(50);
		}
	}
	assert_int_equal(sold, 3);
	assert_int_equal(reserve("T1", "t-last", "r"), 409);
	assert_non_null(strstr(body, "sold_out"));
	assert_audit("T1", 5, 5);

	/* GET /v1/events/T1 says the new total (from the freshest node). */
	tr_sleep_ms(300);
	assert_int_equal(th_http(gate.port, "GET", "/v1/events/T1", NULL, body,
	                     sizeof(body)),
	    200);
	assert_non_null(strstr(body, "\"total\":5,\"sold\":5"));
}

static void
topup_refuses_bad_input_with_a_clear_message(void **state)
{
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "T2", 10, 1, 60000), 0);
	assert_int_equal(ctl("--url %s event topup T2 0", nodes[0].admin_url),
	    2);
	assert_out_has("the number of tickets must be 1..100000000");
	assert_int_equal(ctl("--url %s event topup T2 x7", nodes[0].admin_url),
	    2);
	assert_int_equal(ctl("--url %s event topup T2", nodes[0].admin_url),
	    2);
	assert_int_equal(ctl("--url %s event topup 'b@d' 5",
	                     nodes[0].admin_url),
	    2);
	assert_int_equal(ctl("--url %s event topup NOPE 5",
	                     nodes[0].admin_url),
	    1);
	assert_out_has("not_found");
	/* Past the bound of an event's total: refused by the script, the
	 * event unchanged. */
	assert_int_equal(ctl("--url %s event topup T2 99999995",
	                     nodes[0].admin_url),
	    1);
	assert_out_has("invalid");
	assert_out_has("above 100000000");
	assert_int_equal(th_redis_int(&redis, "HGET tr:{T2}:meta total"), 10);
	/* On the wire: 0 is INVALID, and the node keeps serving. */
	assert_int_equal(tr_client_open(nodes[0].admin_url, 3000, &c), 0);
	assert_int_equal(tr_client_top_up(c, "T2", 0, &rep), TR_EINVALID);
	assert_non_null(strstr(rep->detail, "add must be"));
	tr_reply_free(rep);
	assert_int_equal(tr_client_top_up(c, "T2", 1, &rep), 0);
	assert_int_equal(rep->event->total, 11);
	tr_reply_free(rep);
	tr_client_close(c);
	/* Not on the data socket. */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_top_up(c, "T2", 1, &rep), TR_EFORBIDDEN);
	tr_reply_free(rep);
	tr_client_close(c);
	assert_audit("T2", 11, 0);
}

/* ---- close and reopen ------------------------------------------------- */

static void
a_closed_sale_refuses_new_holds_and_still_confirms_old_ones(void **state)
{
	char user[32], rid[128], again[128];
	long long holds;
	th_stockd *home;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "C1", 100, 1, 60000), 0);
	assert_int_equal(reserve("C1", "c-held", "req-1"), 201);
	body_str("reservation_id", rid, sizeof(rid));
	/* Both nodes busy with the event, with a lease each. */
	for (int i = 0; i < 6; i++) {
		snprintf(user, sizeof(user), "c-pre-%d", i);
		assert_int_equal(reserve("C1", user, "r"), 201);
	}

	assert_int_equal(ctl("--url %s event close C1", nodes[1].admin_url),
	    0);
	assert_out_has("event C1: closed");
	holds = th_redis_int(&redis, "HLEN tr:{C1}:holds");
	/* From the moment close answered, on every node: closed. */
	for (int i = 0; i < 40; i++) {
		snprintf(user, sizeof(user), "c-new-%d", i);
		assert_int_equal(reserve("C1", user, "r"), 409);
		if (strstr(body, "\"error\":\"closed\"") == NULL)
			fail_msg("not closed: %s", body);
	}
	assert_int_equal(th_redis_int(&redis, "HLEN tr:{C1}:holds"), holds);
	/* The wire says CLOSED, with a reason. */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "C1", "c-wire", 1, "w", &rep),
	    TR_ECLOSED);
	assert_non_null(strstr(rep->detail, "closed"));
	tr_reply_free(rep);
	tr_client_close(c);
	/* A retry of a reservation made before answers its hold on the node
	 * that made it (its cache; the other nodes answer closed without
	 * asking Redis: docs/OPERATIONS.md). */
	home = rid[1] == '1' ? &nodes[0] : &nodes[1];
	assert_int_equal(tr_client_open(home->data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "C1", "c-held", 1, "req-1",
	                     &rep),
	    0);
	snprintf(again, sizeof(again), "%s", rep->hold->reservation_id);
	assert_string_equal(again, rid);
	tr_reply_free(rep);
	tr_client_close(c);
	/* The hold is paid while the sale is closed. */
	assert_int_equal(confirm(rid, "c-held"), 200);
	tr_sleep_ms(300);
	assert_int_equal(th_http(gate.port, "GET", "/v1/events/C1", NULL, body,
	                     sizeof(body)),
	    200);
	assert_non_null(strstr(body, "\"state\":\"closed\""));
	assert_int_equal(ctl("--json --url %s event show C1",
	                     nodes[0].data_url),
	    0);
	assert_out_has("\"closed\":true");
	/* Closing again is no error. */
	assert_int_equal(ctl("--url %s event close C1", nodes[0].admin_url),
	    0);

	assert_int_equal(ctl("--url %s event reopen C1", nodes[0].admin_url),
	    0);
	assert_out_has("event C1: on_sale");
	/* Both nodes sell again once they know (their next sync). */
	tr_sleep_ms(300);
	for (int i = 0; i < 6; i++) {
		snprintf(user, sizeof(user), "c-after-%d", i);
		assert_int_equal(reserve("C1", user, "r"), 201);
	}
	assert_audit("C1", 100, 1);
}

static void
the_hold_script_refuses_a_closed_sale_whatever_the_node_knows(void **state)
{
	tr_coord_opts o = {"127.0.0.1", redis.port, 3000, NULL, false};
	tr_event_figures fig;
	tr_hold_result h;
	uint64_t returned, hold_ms, granted, pool;
	uint32_t limit;
	int64_t opens, now;
	size_t count;
	bool changed;
	tr_coord *coord;
	tr_call k, *kp = &k;
	(void)state;

	/* The script itself, as a node that has not synced would call it:
	 * registered, with a lease, then the sale closes. */
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	tr_call_create_event(&k, "C2", 5, 1, 60000, 0);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	tr_call_done(&k);
	tr_call_register(&k, "C2", "ghost");
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit,
	                     &hold_ms, &opens),
	    0);
	assert_false(fig.closed);
	tr_call_done(&k);
	tr_call_grant(&k, "C2", "ghost", fig.epoch, 5);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 5);
	tr_call_done(&k);

	tr_call_close(&k, "C2", true);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_close(&k, &changed, &fig), 0);
	assert_true(changed);
	tr_call_done(&k);

	tr_call_hold(&k, "C2", "ghost", 1);
	assert_int_equal(tr_call_hold_item(&k, "ghost.00000000000000a1.C2",
	                     "u1", 1, "r1"),
	    0);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_hold(&k, &now, &count), 0);
	assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
	assert_int_equal(h.outcome, TR_HOLDCALL_CLOSED);
	tr_call_done(&k);
	assert_int_equal(th_redis_int(&redis, "GET tr:{C2}:held"), 0);

	/* A node that registers now learns it; reopened, the same hold is
	 * made. */
	tr_call_register(&k, "C2", "ghost2");
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit,
	                     &hold_ms, &opens),
	    0);
	assert_true(fig.closed);
	tr_call_done(&k);
	tr_call_close(&k, "C2", false);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	tr_call_done(&k);
	tr_call_hold(&k, "C2", "ghost", 1);
	assert_int_equal(tr_call_hold_item(&k, "ghost.00000000000000a1.C2",
	                     "u1", 1, "r1"),
	    0);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
	assert_int_equal(h.outcome, TR_HOLDCALL_CREATED);
	tr_call_done(&k);
	/* Bad input to the top-up script: refused before any write. */
	tr_call_topup(&k, "C2", 0, 100);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(k.rv, TR_EINVALID);
	tr_call_done(&k);
	tr_coord_close(coord);
	assert_audit("C2", 5, 0);
}

static void
a_node_meeting_a_closed_event_learns_it_when_it_looks_it_up(void **state)
{
	th_stockd late;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "C3", 10, 1, 60000), 0);
	assert_int_equal(ctl("--url %s event close C3", nodes[0].admin_url),
	    0);
	/* A node started after the close has never heard of C3. */
	assert_int_equal(th_stockd_start(&late, "n3", &redis,
	                     (const char *[]){NODE_FLAGS, NULL}),
	    0);
	assert_int_equal(tr_client_open(late.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_get_event(c, "C3", &rep), 0);
	assert_true(rep->event->closed);
	assert_string_equal(rep->event->state, "closed");
	tr_reply_free(rep);
	assert_int_equal(tr_client_reserve(c, "C3", "u1", 1, "r", &rep),
	    TR_ECLOSED);
	tr_reply_free(rep);
	tr_client_close(c);
	assert_int_equal(ctl("--url %s event close NOPE", late.admin_url), 1);
	assert_out_has("not_found");
	assert_int_equal(ctl("--url %s event reopen", late.admin_url), 2);
	th_stop(&late.proc, SIGTERM, 5000);
}

/* ---- the controls and the waitlist ------------------------------------ */

/* The waitlist entry of user in event, its state into state. */
static void
waitlist_state(const char *event, const char *user, char *state, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/events/%s/waitlist/%s", event, user);
	assert_int_equal(th_http(gate.port, "GET", path, NULL, body,
	                     sizeof(body)),
	    200);
	body_str("state", state, cap);
}

static void
a_topup_goes_to_the_waitlist_first_and_a_closed_sale_makes_no_offer(
    void **state)
{
	char rid[128], st[32];
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "WT", 1, 1, 60000), 0);
	assert_int_equal(reserve("WT", "wt-first", "r"), 201);
	body_str("reservation_id", rid, sizeof(rid));
	assert_int_equal(confirm(rid, "wt-first"), 200);
	assert_int_equal(th_http(gate.port, "POST", "/v1/events/WT/waitlist",
	                     "{\"user\":\"wt-a\",\"request_id\":\"j\"}", body,
	                     sizeof(body)),
	    201);
	assert_int_equal(th_http(gate.port, "POST", "/v1/events/WT/waitlist",
	                     "{\"user\":\"wt-b\",\"request_id\":\"j\"}", body,
	                     sizeof(body)),
	    201);

	/* Closed: the ticket added waits in the pool, nobody is offered. */
	assert_int_equal(ctl("--url %s event close WT", nodes[0].admin_url),
	    0);
	assert_int_equal(ctl("--url %s event topup WT 1", nodes[1].admin_url),
	    0);
	assert_int_equal(th_redis_int(&redis, "GET tr:{WT}:pool"), 1);
	waitlist_state("WT", "wt-a", st, sizeof(st));
	assert_string_equal(st, "waiting");
	assert_audit("WT", 2, 1);

	/* Reopened: the head of the line gets it at once, not a buyer who
	 * presses "buy". */
	assert_int_equal(ctl("--url %s event reopen WT", nodes[0].admin_url),
	    0);
	assert_int_equal(th_redis_int(&redis, "GET tr:{WT}:pool"), 0);
	waitlist_state("WT", "wt-a", st, sizeof(st));
	assert_string_equal(st, "offered");
	body_str("reservation_id", rid, sizeof(rid));
	waitlist_state("WT", "wt-b", st, sizeof(st));
	assert_string_equal(st, "waiting");
	assert_int_equal(reserve("WT", "wt-bot", "r"), 409);

	/* Open: a top-up is offered to the next in line in the same call. */
	assert_int_equal(ctl("--url %s event topup WT 1", nodes[1].admin_url),
	    0);
	waitlist_state("WT", "wt-b", st, sizeof(st));
	assert_string_equal(st, "offered");
	assert_int_equal(confirm(rid, "wt-a"), 200);
	assert_audit("WT", 3, 2);
}

static void
a_standalone_node_tops_up_closes_and_reopens_too(void **state)
{
	th_stockd solo;
	(void)state;

	assert_int_equal(th_stockd_start(&solo, "s1", NULL,
	                     (const char *[]){"--event", "S=1", NULL}),
	    0);
	assert_int_equal(ctl("--url %s reserve S a", solo.data_url), 0);
	assert_int_equal(ctl("--url %s reserve S b", solo.data_url), 1);
	assert_out_has("sold_out");
	assert_int_equal(ctl("--url %s event topup S 2", solo.admin_url), 0);
	assert_out_has("total 3,");
	assert_int_equal(ctl("--url %s reserve S b", solo.data_url), 0);
	assert_int_equal(ctl("--url %s event close S", solo.admin_url), 0);
	assert_int_equal(ctl("--url %s reserve S c", solo.data_url), 1);
	assert_out_has("closed");
	assert_int_equal(ctl("--url %s event reopen S", solo.admin_url), 0);
	assert_int_equal(ctl("--url %s reserve S c", solo.data_url), 0);
	th_stop(&solo.proc, SIGTERM, 5000);
}

/* ---- watch ------------------------------------------------------------ */

/* Sell one ticket of event through the gateway (a new buyer each time);
 * whether it sold. */
static bool
sell_one(const char *event, int i)
{
	char user[32], rid[128];
	snprintf(user, sizeof(user), "w-%d", i);
	if (reserve(event, user, "r") != 201)
		return false;
	body_str("reservation_id", rid, sizeof(rid));
	return confirm(rid, user) == 200;
}

/* The JSON objects of a watch's output, one a line, into lines (at most
 * cap); how many. The caller deletes them. */
static int
watch_lines(const char *text, cJSON **lines, int cap)
{
	int n = 0;
	for (const char *p = text; *p != '\0' && n < cap;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if ((lines[n] = cJSON_ParseWithLength(p, len)) == NULL)
			fail_msg("not a JSON line: %.*s", (int)len, p);
		n++;
		p += len + (nl != NULL);
	}
	return n;
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v))
		fail_msg("no number \"%s\" in %s", name, cJSON_Print(o));
	return v->valuedouble;
}

/* The event of a watch line (the only one when the watch named it). */
static const cJSON *
watch_event(const cJSON *line, const char *id)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(line, "events"))
	{
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(e, "event_id");
		if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
			return e;
	}
	fail_msg("no event %s in the watch line", id);
	return NULL;
}

/* A lease entry of node in a watch line's event, or NULL. */
static const cJSON *
watch_lease(const cJSON *event, const char *node)
{
	const cJSON *l;
	cJSON_ArrayForEach(l,
	    cJSON_GetObjectItemCaseSensitive(event, "leases"))
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, "node");
		if (cJSON_IsString(v) && strcmp(v->valuestring, node) == 0)
			return l;
	}
	return NULL;
}

static void
read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;
	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void
watch_shows_sales_leases_and_nodes_up_while_tickets_sell(void **state)
{
	static char text[65536];
	char *argv[] = {(char *)th_bin("ticketctl"), "--redis", redis.addr,
	    "watch", "WA", "--json", "--count", "3", NULL};
	cJSON *lines[8];
	th_proc w;
	int64_t until;
	int sold = 0, n, status;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "WA", 5000, 1, 60000), 0);
	/* Both nodes sell it (the gateway alternates), so both lease. */
	for (int i = 0; i < 4; i++)
		assert_true(sell_one("WA", sold++));

	/* Three refreshes a second apart while buyers keep buying; the
	 * buying stops after 2.5 s or 2000 tickets. */
	assert_int_equal(th_spawn(&w, "watch.log", argv), 0);
	until = tr_mono_ms() + 2500;
	while (tr_mono_ms() < until && sold < 2000)
		if (sell_one("WA", sold))
			sold++;
	/* Signal 0: only wait for it to end on its own. */
	status = th_stop(&w, 0, 10000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	read_file(w.log, text, sizeof(text));
	n = watch_lines(text, lines, 8);
	if (n != 3)
		fail_msg("%d lines, not 3:\n%s", n, text);

	for (int i = 0; i < 3; i++) {
		const cJSON *e = watch_event(lines[i], "WA"), *l;
		assert_int_equal(num(lines[i], "nodes_up"), 2);
		/* One script read them: the sum holds in every line. */
		assert_int_equal(num(e, "pool") + num(e, "leased") +
		        num(e, "held") + num(e, "sold"),
		    num(e, "total"));
		assert_int_equal(num(e, "total"), 5000);
		for (int k = 0; k < 2; k++) {
			const char *node = k == 0 ? "n1" : "n2";
			if ((l = watch_lease(e, node)) == NULL)
				fail_msg("no lease of %s in %s", node,
				    cJSON_PrintUnformatted(e));
			assert_true(num(l, "lease") >= 0);
			assert_true(num(l, "held") >= 0);
			assert_true(cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(l, "up")));
		}
	}
	/* Sold grows, and the rate is its difference over the time between
	 * two refreshes (none on the first). */
	assert_true(cJSON_IsNull(
	    cJSON_GetObjectItemCaseSensitive(watch_event(lines[0], "WA"),
	        "sales_per_s")));
	assert_true(num(watch_event(lines[2], "WA"), "sold") >
	    num(watch_event(lines[0], "WA"), "sold"));
	for (int i = 1; i < 3; i++) {
		const cJSON *e = watch_event(lines[i], "WA");
		const cJSON *p = watch_event(lines[i - 1], "WA");
		double dt =
		    (num(lines[i], "at_ms") - num(lines[i - 1], "at_ms")) /
		    1000.0;
		double diff = num(e, "sold") - num(p, "sold");
		assert_true(dt > 0.5 && dt < 5);
		if (fabs(num(e, "sales_per_s") * dt - diff) > 1 + diff / 20)
			fail_msg("%g/s over %g s is not %g tickets",
			    num(e, "sales_per_s"), dt, diff);
		assert_true(diff > 0);
	}
	for (int i = 0; i < n; i++)
		cJSON_Delete(lines[i]);

	/* Once the selling stopped, it says what Redis says. */
	assert_int_equal(ctl("--redis %s watch WA --json --count 1",
	                     redis.addr),
	    0);
	assert_int_equal(watch_lines(out, lines, 8), 1);
	assert_int_equal(num(watch_event(lines[0], "WA"), "sold"),
	    th_redis_int(&redis, "GET tr:{WA}:sold"));
	assert_int_equal(num(watch_event(lines[0], "WA"), "sold"), sold);
	cJSON_Delete(lines[0]);

	/* Without an event: every event of this run fits its page, by id. */
	assert_int_equal(ctl("--json --redis %s watch --count 1", redis.addr),
	    0);
	assert_int_equal(watch_lines(out, lines, 8), 1);
	watch_event(lines[0], "WA");
	watch_event(lines[0], "T1");
	assert_true(
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(lines[0], "more")));
	{
		const cJSON *e, *prev = NULL;
		cJSON_ArrayForEach(e,
		    cJSON_GetObjectItemCaseSensitive(lines[0], "events"))
		{
			const char *id =
			    cJSON_GetObjectItemCaseSensitive(e, "event_id")
			        ->valuestring;
			if (prev != NULL)
				assert_true(
				    strcmp(cJSON_GetObjectItemCaseSensitive(
				               prev, "event_id")
				               ->valuestring,
				        id) < 0);
			prev = e;
		}
	}
	cJSON_Delete(lines[0]);

	/* Not a terminal: plain lines, no escape codes. */
	assert_int_equal(ctl("--redis %s watch WA --count 1", redis.addr), 0);
	assert_out_has("nodes up 2 of");
	assert_out_has("WA: sold");
	assert_null(strchr(out, '\033'));
}

static void
watch_counts_a_node_that_stops_as_down(void **state)
{
	th_stockd extra;
	cJSON *line;
	(void)state;

	assert_int_equal(th_stockd_start(&extra, "n4", &redis,
	                     (const char *[]){NODE_FLAGS, NULL}),
	    0);
	assert_int_equal(ctl("--json --redis %s watch WA --count 1",
	                     redis.addr),
	    0);
	assert_int_equal(watch_lines(out, &line, 1), 1);
	assert_int_equal(num(line, "nodes_up"), 3);
	cJSON_Delete(line);
	/* A clean stop drops its liveness claim at once. */
	assert_int_equal(th_stop(&extra.proc, SIGTERM, 5000), 0);
	assert_int_equal(ctl("--json --redis %s watch WA --count 1",
	                     redis.addr),
	    0);
	assert_int_equal(watch_lines(out, &line, 1), 1);
	assert_int_equal(num(line, "nodes_up"), 2);
	cJSON_Delete(line);
}

static void
watch_refuses_what_it_cannot_show_with_ticketctl_exit_codes(void **state)
{
	(void)state;

	assert_int_equal(ctl("--redis %s watch NOPE --count 1", redis.addr),
	    1);
	assert_out_has("no event NOPE in Redis");
	assert_int_equal(ctl("--json --redis %s watch NOPE --count 1",
	                     redis.addr),
	    1);
	assert_out_has("\"error\":\"not_found\"");
	assert_int_equal(ctl("--redis %s watch WA --count x", redis.addr), 2);
	assert_int_equal(ctl("--redis %s watch WA --count -1", redis.addr), 2);
	assert_int_equal(ctl("--redis %s watch WA --interval 10ms",
	                     redis.addr),
	    2);
	assert_out_has("--interval must be");
	assert_int_equal(ctl("--redis %s watch WA --interval soon",
	                     redis.addr),
	    2);
	assert_int_equal(ctl("--redis %s watch WA T1", redis.addr), 2);
	assert_int_equal(ctl("--redis %s watch 'b@d'", redis.addr), 2);
	assert_int_equal(ctl("--redis %s watch WA --bogus 1", redis.addr), 2);
	/* Nothing listens there. */
	assert_int_equal(ctl("--timeout 500ms --redis 127.0.0.1:%d watch WA "
	                     "--count 1",
	                     th_free_port()),
	    3);
	assert_out_has("cannot reach Redis");
}

static void
watch_until_stopped_ends_cleanly_on_sigterm(void **state)
{
	static char text[65536];
	char *argv[] = {(char *)th_bin("ticketctl"), "--redis", redis.addr,
	    "--json", "watch", "WA", "--interval", "100ms", NULL};
	th_proc w;
	int64_t until;
	int status;
	(void)state;

	assert_int_equal(th_spawn(&w, "watch-term.log", argv), 0);
	/* At least two refreshes, within 5 s. */
	until = tr_mono_ms() + 5000;
	do {
		tr_sleep_ms(50);
		read_file(w.log, text, sizeof(text));
	} while (
	    strchr(text, '\n') == strrchr(text, '\n') && tr_mono_ms() < until);
	assert_true(strchr(text, '\n') != strrchr(text, '\n'));
	status = th_stop(&w, SIGTERM, 5000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        closed_is_status_16_on_the_wire_and_409_closed_over_http),
	    cmocka_unit_test(
	        topup_adds_stock_that_the_nodes_sell_and_the_audit_stays_true),
	    cmocka_unit_test(topup_refuses_bad_input_with_a_clear_message),
	    cmocka_unit_test(
	        a_closed_sale_refuses_new_holds_and_still_confirms_old_ones),
	    cmocka_unit_test(
	        the_hold_script_refuses_a_closed_sale_whatever_the_node_knows),
	    cmocka_unit_test(
	        a_node_meeting_a_closed_event_learns_it_when_it_looks_it_up),
	    cmocka_unit_test(
	        a_topup_goes_to_the_waitlist_first_and_a_closed_sale_makes_no_offer),
	    cmocka_unit_test(a_standalone_node_tops_up_closes_and_reopens_too),
	    cmocka_unit_test(
	        watch_shows_sales_leases_and_nodes_up_while_tickets_sell),
	    cmocka_unit_test(watch_counts_a_node_that_stops_as_down),
	    cmocka_unit_test(
	        watch_refuses_what_it_cannot_show_with_ticketctl_exit_codes),
	    cmocka_unit_test(watch_until_stopped_ends_cleanly_on_sigterm),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_cluster, teardown_cluster);
}
