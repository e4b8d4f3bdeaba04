/* test_http_api: routes, request bodies, statuses and JSON answers of the
 * gateway, as docs/HTTP-API.md states them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "dashboard.h"
#include "http_api.h"
#include "tr_err.h"

static int
route(const char *method, const char *path, tr_route *r, tr_http_error *e)
{
	return tr_route_parse(method, strlen(method), path, strlen(path), r,
	    e);
}

static void
every_documented_route_is_matched(void **state)
{
	tr_route r;
	tr_http_error e;
	(void)state;

	assert_int_equal(route("POST", "/v1/events/G1234/reservations", &r,
	                     &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_RESERVE);
	assert_string_equal(r.event_id, "G1234");
	assert_int_equal(
	    route("POST", "/v1/reservations/n3.9f2c41d07be85a10.G1234/confirm",
	        &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_CONFIRM);
	assert_string_equal(r.node, "n3");
	assert_string_equal(r.event_id, "G1234");
	assert_string_equal(r.rid, "n3.9f2c41d07be85a10.G1234");
	assert_int_equal(
	    route("POST", "/v1/reservations/n3.9f2c41d07be85a10.G1234/release",
	        &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_RELEASE);
	assert_int_equal(route("GET", "/v1/events/G1234", &r, &e), 0);
	assert_int_equal(r.kind, TR_ROUTE_EVENT);
	assert_int_equal(route("GET", "/buy/ticket", &r, &e), 0);
	assert_int_equal(r.kind, TR_ROUTE_BUY);
	assert_string_equal(r.user, "");
	assert_int_equal(route("GET", "/buy/ticket?x=1&user=bob%40b.c", &r,
	                     &e),
	    0);
	assert_string_equal(r.user, "bob@b.c");
	assert_int_equal(route("GET", "/healthz", &r, &e), 0);
	assert_int_equal(route("GET", "/metrics", &r, &e), 0);
	/* Percent-encoded ids are decoded before they are checked. */
	assert_int_equal(route("GET", "/v1/events/G1%3A2", &r, &e), 0);
	assert_string_equal(r.event_id, "G1:2");
	/* The waitlist and refunds. */
	assert_int_equal(route("POST", "/v1/events/G1234/waitlist", &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_WL_JOIN);
	assert_string_equal(r.event_id, "G1234");
	assert_int_equal(route("GET", "/v1/events/G1234/waitlist/bob%40b.c",
	                     &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_WL_GET);
	assert_string_equal(r.user, "bob@b.c");
	assert_int_equal(r.wait_ms, 0);
	assert_int_equal(route("GET", "/v1/events/E/waitlist/bob?wait=20s", &r,
	                     &e),
	    0);
	assert_int_equal(r.wait_ms, 20000);
	assert_int_equal(r.wait_state, 0);
	/* The state the client knows, either way round. */
	assert_int_equal(
	    route("GET", "/v1/events/E/waitlist/bob?wait=20s&state=waiting",
	        &r, &e),
	    0);
	assert_int_equal(r.wait_ms, 20000);
	assert_int_equal(r.wait_state, 1);
	assert_int_equal(route("GET",
	                     "/v1/events/E/waitlist/bob?state=offered&wait=2s",
	                     &r, &e),
	    0);
	assert_int_equal(r.wait_state, 2);
	assert_int_equal(r.wait_ms, 2000);
	assert_int_equal(route("DELETE", "/v1/events/E/waitlist/bob", &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_WL_LEAVE);
	assert_int_equal(route("POST",
	                     "/v1/orders/_wl.9f2c41d07be85a10.G1234/refund",
	                     &r, &e),
	    0);
	assert_int_equal(r.kind, TR_ROUTE_REFUND);
	assert_string_equal(r.node, "_wl");
	assert_string_equal(r.event_id, "G1234");
}

static void
waitlist_routes_refuse_what_they_do_not_take(void **state)
{
	tr_route r;
	tr_http_error e;
	(void)state;

	assert_int_equal(route("GET", "/v1/events/E/waitlist", &r, &e), -1);
	assert_int_equal(e.status, 405);
	assert_int_equal(route("PUT", "/v1/events/E/waitlist/bob", &r, &e),
	    -1);
	assert_int_equal(e.status, 405);
	assert_int_equal(route("GET", "/v1/events/E/waitlist/a%20b", &r, &e),
	    -1);
	assert_int_equal(e.status, 400);
	/* A wait is at most 30 s, and a duration. */
	assert_int_equal(route("GET", "/v1/events/E/waitlist/bob?wait=31s", &r,
	                     &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET", "/v1/events/E/waitlist/bob?wait=soon",
	                     &r, &e),
	    -1);
	/* A state is one of the six, spelled as the answers spell it. */
	assert_int_equal(route("GET",
	                     "/v1/events/E/waitlist/bob?wait=2s&state=soon",
	                     &r, &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET",
	                     "/v1/events/E/waitlist/bob?wait=2s&state=", &r,
	                     &e),
	    -1);
	assert_int_equal(route("GET",
	                     "/v1/events/E/waitlist/bob?wait=2s&state=unknown",
	                     &r, &e),
	    -1);
	assert_int_equal(route("GET",
	                     "/v1/events/E/waitlist/bob?wait=2s&state=Waiting",
	                     &r, &e),
	    -1);
	assert_int_equal(route("POST", "/v1/orders/nope/refund", &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET",
	                     "/v1/orders/n1.9f2c41d07be85a10.E/refund", &r,
	                     &e),
	    -1);
	assert_int_equal(e.status, 405);
}

static void
wrong_paths_methods_and_ids_get_their_errors(void **state)
{
	tr_route r;
	tr_http_error e;
	(void)state;

	assert_int_equal(route("GET", "/nope", &r, &e), -1);
	assert_int_equal(e.status, 404);
	assert_string_equal(e.code, "no_route");
	assert_int_equal(route("GET", "/v1/events/E/reservations", &r, &e),
	    -1);
	assert_int_equal(e.status, 405);
	assert_int_equal(route("POST", "/v1/events/E", &r, &e), -1);
	assert_int_equal(e.status, 405);
	assert_int_equal(route("POST", "/v1/events/bad%20id/reservations", &r,
	                     &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("POST", "/v1/reservations/n1.xyz/confirm", &r,
	                     &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.code, "invalid");
	assert_int_equal(route("POST", "/v1/reservations/n1.%zz/confirm", &r,
	                     &e),
	    -1);
	/* The shape of before holds (no event part): refused. */
	assert_int_equal(route("POST",
	                     "/v1/reservations/n1.0123456789abcdef/confirm",
	                     &r, &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("POST",
	                     "/v1/reservations/n1.0123456789abcdef.E/refund",
	                     &r, &e),
	    -1);
	assert_int_equal(e.status, 404);
	assert_int_equal(route("GET", "/buy/ticket?user=a%20b", &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET", "", &r, &e), -1);
	assert_int_equal(route("GET", "/v1/events/E/reservations/x", &r, &e),
	    -1);
}

static void
reserve_bodies_are_checked_field_by_field(void **state)
{
	tr_reserve_body b;
	tr_http_error e;
	const char *ok = "{\"user\":\"u1\",\"qty\":2,\"request_id\":\"r-1\","
	                 "\"extra\":true}";
	(void)state;

	assert_int_equal(tr_body_reserve(ok, strlen(ok), &b, &e), 0);
	assert_string_equal(b.user, "u1");
	assert_int_equal(b.qty, 2);
	assert_string_equal(b.request_id, "r-1");
	assert_int_equal(tr_body_reserve("{\"user\":\"u\"}", 12, &b, &e), 0);
	assert_int_equal(b.qty, 1);
#define BAD(body_, status_, code_)                                            \
	do {                                                                  \
		assert_int_equal(tr_body_reserve(body_, strlen(body_), &b,    \
		                     &e),                                     \
		    -1);                                                      \
		assert_int_equal(e.status, status_);                          \
		assert_string_equal(e.code, code_);                           \
	} while (0)
	BAD("", 400, "invalid_json");
	BAD("not json", 400, "invalid_json");
	BAD("[1,2]", 400, "invalid_json");
	BAD("{\"user\":\"u\"} x", 400, "invalid_json");
	BAD("{\"user\":\"u\"}{}", 400, "invalid_json");
	BAD("{\"user\":\"u\"", 400, "invalid_json");
	BAD("{}", 400, "invalid");
	BAD("{\"user\":5}", 400, "invalid");
	BAD("{\"user\":\"a b\"}", 400, "invalid");
	BAD("{\"user\":\"u\",\"qty\":0}", 400, "invalid");
	BAD("{\"user\":\"u\",\"qty\":1.5}", 400, "invalid");
	BAD("{\"user\":\"u\",\"qty\":\"1\"}", 400, "invalid");
	BAD("{\"user\":\"u\",\"request_id\":[]}", 400, "invalid");
	assert_non_null(strstr(e.message, "request_id"));
	{
		char big[TR_HTTP_BODY_MAX + 10];
		memset(big, ' ', sizeof(big));
		assert_int_equal(tr_body_reserve(big, sizeof(big), &b, &e),
		    -1);
		assert_int_equal(e.status, 413);
	}
}

static void
confirm_bodies_take_user_and_payment_ref(void **state)
{
	tr_confirm_body b;
	tr_http_error e;
	const char *ok = "{\"user\":\"u1\",\"payment_ref\":\"PAY 7\"}";
	(void)state;
	assert_int_equal(tr_body_confirm(ok, strlen(ok), &b, &e), 0);
	assert_string_equal(b.payment_ref, "PAY 7");
	assert_int_equal(tr_body_confirm("{\"user\":\"u1\",\"payment_ref\":"
	                                 "\"a\\nb\"}",
	                     35, &b, &e),
	    -1);
	assert_int_equal(e.status, 400);
}

static void
node_statuses_map_to_documented_http_codes(void **state)
{
	(void)state;
	assert_int_equal(tr_http_status_of(TR_OK, true), 201);
	assert_int_equal(tr_http_status_of(TR_OK, false), 200);
	assert_int_equal(tr_http_status_of(TR_ESOLD_OUT, false), 409);
	assert_int_equal(tr_http_status_of(TR_ELIMIT, false), 409);
	assert_int_equal(tr_http_status_of(TR_EDUPLICATE, false), 409);
	assert_int_equal(tr_http_status_of(TR_ECONFLICT, false), 409);
	assert_int_equal(tr_http_status_of(TR_ENOT_FOUND, false), 404);
	assert_int_equal(tr_http_status_of(TR_EEXPIRED, false), 410);
	assert_int_equal(tr_http_status_of(TR_ENOT_OWNER, false), 403);
	assert_int_equal(tr_http_status_of(TR_ENOT_OPEN, false), 403);
	assert_int_equal(tr_http_status_of(TR_EINVALID, false), 400);
	assert_int_equal(tr_http_status_of(TR_EUNAVAILABLE, false), 503);
	assert_int_equal(tr_http_status_of(TR_EOVERLOADED, false), 503);
	assert_int_equal(tr_http_status_of(TR_ETIMEDOUT, false), 503);
	assert_int_equal(tr_http_status_of(TR_EINTERNAL, false), 500);
}

static void
answers_are_valid_json_with_escaped_strings(void **state)
{
	tr_http_error e;
	char buf[512];
	size_t n;
	cJSON *j;
	Ticketrush__Hold h = TICKETRUSH__HOLD__INIT;
	(void)state;

	tr_http_error_from(&e, TR_ESOLD_OUT, "sold \"out\"\n\\");
	n = tr_json_error(buf, sizeof(buf), &e, "n1.0123456789abcdef.E", NULL);
	assert_true(n > 0);
	j = cJSON_Parse(buf);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
	    "sold_out");
	assert_string_equal(cJSON_GetObjectItem(j, "message")->valuestring,
	    "sold \"out\"\n\\");
	cJSON_Delete(j);
	/* Too small a buffer: 0, never a cut JSON. */
	assert_int_equal(tr_json_error(buf, 10, &e, NULL, NULL), 0);
	/* A second payment names the order and how it was paid. */
	tr_http_error_from(&e, TR_ECONFLICT, "already paid");
	assert_int_equal(e.status, 409);
	assert_true(tr_json_error(buf, sizeof(buf), &e,
	                "n1.0123456789abcdef.E", "PAY-\"1\"") > 0);
	j = cJSON_Parse(buf);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
	    "conflict");
	assert_string_equal(cJSON_GetObjectItem(j, "reservation_id")
	                        ->valuestring,
	    "n1.0123456789abcdef.E");
	assert_string_equal(cJSON_GetObjectItem(j, "payment_ref")->valuestring,
	    "PAY-\"1\"");
	cJSON_Delete(j);

	h.reservation_id = "n2.0123456789abcdef.E";
	h.event_id = "E";
	h.user_id = "u";
	h.qty = 1;
	h.state = TICKETRUSH__HOLD_STATE__HOLD_STATE_HELD;
	h.expires_at_ms = 42;
	assert_true(tr_json_hold(buf, sizeof(buf), &h, "n2") > 0);
	j = cJSON_Parse(buf);
	assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring,
	    "held");
	assert_string_equal(cJSON_GetObjectItem(j, "node")->valuestring, "n2");
	cJSON_Delete(j);
	/* The flood's static answers, as served. */
	j = cJSON_Parse(tr_json_buy_sold_out);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "code")->valueint, -1);
	cJSON_Delete(j);
	j = cJSON_Parse(tr_json_sold_out);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring,
	    "sold_out");
	cJSON_Delete(j);
}

static void
event_figures_add_up_over_nodes(void **state)
{
	tr_event_sum s = {0};
	Ticketrush__EventInfo a = TICKETRUSH__EVENT_INFO__INIT;
	Ticketrush__EventInfo b = TICKETRUSH__EVENT_INFO__INIT;
	char buf[512];
	cJSON *j;
	(void)state;

	a.event_id = b.event_id = "E";
	a.total = b.total = 100;
	a.state = b.state = "on_sale";
	a.available = 3;
	a.held = 2;
	a.held_total = 4;
	a.sold = 50;
	a.pool = 10;
	a.global_at_ms = 1000;
	b.available = 4;
	b.held = 1;
	b.held_total = 3;
	b.sold = 51;
	b.pool = 9;
	b.global_at_ms = 1200; /* fresher */
	tr_event_sum_add(&s, &a);
	tr_event_sum_add(&s, &b);
	assert_true(tr_json_event(buf, sizeof(buf), &s) > 0);
	j = cJSON_Parse(buf);
	assert_int_equal(cJSON_GetObjectItem(j, "sold")->valueint, 51);
	assert_int_equal(cJSON_GetObjectItem(j, "available")->valueint,
	    3 + 4 + 9);
	assert_int_equal(cJSON_GetObjectItem(j, "held")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItem(j, "nodes")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(j, "state")->valuestring,
	    "on_sale");
	cJSON_Delete(j);
}

/* ---- the live page ----------------------------------------------------- */

static void
dashboard_route_takes_an_optional_valid_event(void **state)
{
	tr_route r;
	tr_http_error e;
	(void)state;

	assert_int_equal(route("GET", "/dashboard", &r, &e), 0);
	assert_int_equal(r.kind, TR_ROUTE_DASHBOARD);
	assert_string_equal(r.event_id, "");
	assert_int_equal(route("HEAD", "/dashboard?event=G1234", &r, &e), 0);
	assert_string_equal(r.event_id, "G1234");
	assert_int_equal(route("GET", "/dashboard?x=1&event=G1%3A2", &r, &e),
	    0);
	assert_string_equal(r.event_id, "G1:2");
	assert_string_equal(tr_route_name[TR_ROUTE_DASHBOARD], "dashboard");
	/* A bad name is the API's 400, with its JSON. */
	assert_int_equal(route("GET", "/dashboard?event=b%40d", &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.code, "invalid");
	assert_string_equal(r.event_id, "");
	assert_int_equal(route("GET", "/dashboard?event=", &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET", "/dashboard?event=%zz", &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("GET", "/dashboard?event=<script>", &r, &e),
	    -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(route("POST", "/dashboard", &r, &e), -1);
	assert_int_equal(e.status, 405);
	assert_int_equal(route("GET", "/dashboard/x", &r, &e), -1);
	assert_int_equal(e.status, 404);
}

static void
dashboard_page_is_self_contained_and_names_its_event(void **state)
{
	static char page[65536];
	size_t len, want;
	(void)state;

	want = tr_dashboard_size("G1234");
	len = tr_dashboard_render(page, sizeof(page), "G1234");
	assert_int_equal(len, want);
	assert_int_equal(strlen(page), len);
	assert_null(strstr(page, "@EVENT@"));
	assert_non_null(strstr(page, "<title>G1234 - ticketrush live"));
	assert_non_null(strstr(page, "data-event=\"G1234\""));
	/* What it reads, and the figures it shows. */
	assert_non_null(strstr(page, "\"/v1/events/\""));
	assert_non_null(strstr(page, "\"/metrics\""));
	assert_non_null(strstr(page, "id=\"sold\""));
	assert_non_null(strstr(page, "id=\"rate\""));
	assert_non_null(strstr(page, "id=\"nodes-up\""));
	/* Nothing from elsewhere: no URL with a host, no file to load. */
	assert_null(strstr(page, "http://"));
	assert_null(strstr(page, "https://"));
	assert_null(strstr(page, "//cdn"));
	assert_null(strstr(page, " src="));
	assert_null(strstr(page, "<link"));
	assert_null(strstr(page, "@import"));
	assert_null(strstr(page, "url("));
	/* Each id shape, and only that. */
	assert_int_equal(tr_dashboard_render(page, sizeof(page), "a:b.c-d_e"),
	    tr_dashboard_size("a:b.c-d_e"));
	assert_int_equal(tr_dashboard_render(page, sizeof(page),
	                     "\"><script>"),
	    0);
	assert_int_equal(tr_dashboard_render(page, sizeof(page), ""), 0);
	/* A buffer one byte short is left alone. */
	memset(page, 'x', 16);
	assert_int_equal(tr_dashboard_render(page, want, "G1234"), 0);
	assert_int_equal(page[0], 'x');
	assert_int_equal(tr_dashboard_render(page, want + 1, "G1234"), want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_documented_route_is_matched),
	    cmocka_unit_test(wrong_paths_methods_and_ids_get_their_errors),
	    cmocka_unit_test(waitlist_routes_refuse_what_they_do_not_take),
	    cmocka_unit_test(reserve_bodies_are_checked_field_by_field),
	    cmocka_unit_test(confirm_bodies_take_user_and_payment_ref),
	    cmocka_unit_test(node_statuses_map_to_documented_http_codes),
	    cmocka_unit_test(answers_are_valid_json_with_escaped_strings),
	    cmocka_unit_test(event_figures_add_up_over_nodes),
	    cmocka_unit_test(dashboard_route_takes_an_optional_valid_event),
	    cmocka_unit_test(
	        dashboard_page_is_self_contained_and_names_its_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
