/* test_dashboard: the gateway's live page (GET /dashboard) in headless
 * Chromium, against a running cluster (real redis-server, two stockd,
 * trgate on loopback): its script runs and polls, the figures read off the
 * page are Redis' own, an unknown event is shown as such, and a screenshot
 * of it is taken (left in the build folder as tests/dashboard.png). Exits
 * 77, ctest's "skipped", when Chromium is not installed. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "harness.h"
#include "tr_clock.h"

#define SKIPPED 77

static th_redis redis;
static th_stockd nodes[2];
static th_gate gate;
static char chrome[256];
static char dom[262144];
static char body[4096];

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
		        (const char *[]){"--sync", "100ms", NULL}) != 0)
			return -1;
	}
	snprintf(f0, sizeof(f0), "n1=%s", nodes[0].data_url);
	snprintf(f1, sizeof(f1), "n2=%s", nodes[1].data_url);
	return th_gate_start(&gate,
	    (const char *[]){"--node", f0, "--node", f1, "--threads", "1",
	        "--default-event", "D1", NULL});
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

/* The first Chromium on PATH into chrome; false if there is none. */
static bool
find_chromium(void)
{
	if (th_run("command -v chromium || command -v chromium-browser || "
	           "command -v google-chrome",
	        chrome, sizeof(chrome)) != 0)
		return false;
	chrome[strcspn(chrome, "\n")] = '\0';
	return chrome[0] != '\0';
}

/* Headless Chromium on the gateway's path, with args (what to do: dump
 * the DOM, take a screenshot) after `budget_ms` of the page's virtual
 * time: its timers run at once, and time waits for its requests. The
 * DOM, if dumped, in dom; the exit status. Bounded by timeout(1). */
static int
chromium(const char *path, int budget_ms, const char *args)
{
	char cmd[2048];
	/* --disable-*: a headless run that asks nothing of the network but
	 * this gateway on loopback. */
	snprintf(cmd, sizeof(cmd),
	    "timeout 120 %s --headless --no-sandbox "
	    "--disable-gpu --disable-quic --no-first-run "
	    "--disable-background-networking --disable-component-update "
	    "--disable-sync --disable-extensions --hide-scrollbars "
	    "--user-data-dir=%s/chromium --virtual-time-budget=%d %s "
	    "'http://127.0.0.1:%d%s' 2>>%s/chromium.log",
	    chrome, th_dir(), budget_ms, args, gate.port, path, th_dir());
	return th_run(cmd, dom, sizeof(dom));
}

/* The text of the element with id in the dumped DOM ("" if absent). */
static const char *
dom_text(const char *id, char *buf, size_t cap)
{
	char needle[64];
	const char *p, *end;

	snprintf(needle, sizeof(needle), "id=\"%s\"", id);
	buf[0] = '\0';
	if ((p = strstr(dom, needle)) == NULL ||
	    (p = strchr(p, '>')) == NULL || (end = strchr(++p, '<')) == NULL)
		return buf;
	snprintf(buf, cap, "%.*s", (int)(end - p), p);
	return buf;
}

static long long
dom_number(const char *id)
{
	char buf[64], *end;
	long long v = strtoll(dom_text(id, buf, sizeof(buf)), &end, 10);
	if (buf[0] == '\0' || *end != '\0')
		fail_msg("#%s is \"%s\", not a number", id, buf);
	return v;
}

/* Reserve a ticket of D1 for the buyer of json ({"user": ...}), and pay
 * for it if pay; the last HTTP status. */
static int
sell(const char *json, bool pay)
{
	char rid[128];
	cJSON *j, *v;
	int st;

	st = th_http(gate.port, "POST", "/v1/events/D1/reservations", json,
	    body, sizeof(body));
	if (st != 201 || !pay)
		return st;
	j = cJSON_Parse(body);
	v = cJSON_GetObjectItemCaseSensitive(j, "reservation_id");
	assert_true(cJSON_IsString(v));
	snprintf(rid, sizeof(rid), "/v1/reservations/%s/confirm",
	    v->valuestring);
	cJSON_Delete(j);
	return th_http(gate.port, "POST", rid, json, body, sizeof(body));
}

/* GET /v1/events/D1 until its sold is want (the nodes sync every 100 ms;
 * 5 s at most): the page shows what that route answers. */
static void
wait_gateway_sold(long long want)
{
	char needle[64];
	int64_t until = tr_mono_ms() + 5000;
	snprintf(needle, sizeof(needle), "\"sold\":%lld,", want);
	while (tr_mono_ms() < until) {
		if (th_http(gate.port, "GET", "/v1/events/D1", NULL, body,
		        sizeof(body)) == 200 &&
		    strstr(body, needle) != NULL)
			return;
		tr_sleep_ms(50);
	}
	fail_msg("GET /v1/events/D1 did not reach sold %lld: %s", want, body);
}

static void
the_page_shows_the_sold_count_that_redis_holds(void **state)
{
	char json[64], buf[256];
	long long sold;
	(void)state;

	assert_int_equal(th_event_create(&nodes[0], "D1", 300, 1, 600000), 0);
	/* 25 paid, 3 held unpaid, over both nodes. */
	for (int i = 0; i < 28; i++) {
		snprintf(json, sizeof(json), "{\"user\":\"d-%d\"}", i);
		assert_int_equal(sell(json, i < 25), i < 25 ? 200 : 201);
	}
	sold = th_redis_int(&redis, "GET tr:{D1}:sold");
	assert_int_equal(sold, 25);
	wait_gateway_sold(sold);

	/* Five virtual seconds: the page polls a few times. */
	assert_int_equal(chromium("/dashboard", 5000, "--dump-dom"), 0);
	if (dom_number("polls") < 3)
		fail_msg("the page's script did not poll: %s",
		    dom_text("status", buf, sizeof(buf)));
	assert_int_equal(dom_number("sold"), sold);
	assert_int_equal(dom_number("total"), 300);
	assert_int_equal(dom_number("held"),
	    th_redis_int(&redis, "GET tr:{D1}:held"));
	assert_int_equal(dom_number("nodes-up"), 2);
	assert_int_equal(dom_number("nodes-known"), 2);
	assert_string_equal(dom_text("state", buf, sizeof(buf)), "on sale");
	assert_non_null(strstr(dom, "id=\"state\" class=\"on_sale\""));
	assert_non_null(strstr(dom, "<title>D1 - ticketrush live</title>"));
	/* Nothing sold while it looked: a rate, and it is 0. */
	assert_string_equal(dom_text("rate", buf, sizeof(buf)), "0.0");
	/* Its status says when it last got an answer, not an error. */
	assert_non_null(
	    strstr(dom_text("status", buf, sizeof(buf)), "updated "));
	/* Both nodes in the gateway's table, up; the sales in its answers. */
	assert_non_null(strstr(dom, "<td>n1</td><td class=\"up\">up</td>"));
	assert_non_null(strstr(dom, "<td>n2</td><td class=\"up\">up</td>"));
	assert_non_null(strstr(dom, "<td>confirm</td><td>200</td>"));
}

static void
an_unknown_event_is_said_on_the_page(void **state)
{
	char buf[256];
	(void)state;

	assert_int_equal(chromium("/dashboard?event=NOPE", 3000, "--dump-dom"),
	    0);
	assert_true(dom_number("polls") >= 2);
	assert_non_null(strstr(dom, "id=\"status\" class=\"error\""));
	assert_non_null(
	    strstr(dom_text("status", buf, sizeof(buf)), "not_found"));
	assert_string_equal(dom_text("sold", buf, sizeof(buf)), "-");
	/* The gateway's own figures still show. */
	assert_int_equal(dom_number("nodes-up"), 2);
}

static void
a_screenshot_of_the_page_is_taken(void **state)
{
	static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r',
	    '\n', 0x1a, '\n'};
	char path[512], args[700];
	unsigned char head[24];
	long size;
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/tests/dashboard.png", TH_BIN_DIR);
	remove(path);
	snprintf(args, sizeof(args),
	    "--window-size=1200,900 "
	    "--screenshot=%s",
	    path);
	assert_int_equal(chromium("/dashboard", 3000, args), 0);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("no screenshot at %s (see %s/chromium.log)", path,
		    th_dir());
	assert_int_equal(fread(head, 1, sizeof(head), f), sizeof(head));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	/* A PNG of the window's size (IHDR: width, height, big-endian). */
	assert_memory_equal(head, png_magic, sizeof(png_magic));
	assert_int_equal((head[16] << 24 | head[17] << 16 | head[18] << 8 |
	                     head[19]),
	    1200);
	assert_int_equal((head[20] << 24 | head[21] << 16 | head[22] << 8 |
	                     head[23]),
	    900);
	/* The empty dark page compresses to a few KB; cards, figures and
	 * tables take far more (about 50 KB). */
	if (size < 20000)
		fail_msg("screenshot is %ld bytes: an empty page?", size);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_page_shows_the_sold_count_that_redis_holds),
	    cmocka_unit_test(an_unknown_event_is_said_on_the_page),
	    cmocka_unit_test(a_screenshot_of_the_page_is_taken),
	};
	if (!find_chromium()) {
		printf("chromium is not installed (apt-get install chromium): "
		       "skipped\n");
		return SKIPPED;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_cluster, teardown_cluster);
}
