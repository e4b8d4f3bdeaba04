/* test_metrics: the gateway's /metrics page (gateway/metrics.c). The
 * counters of every loop add up; each sample is where Prometheus' text
 * format (0.0.4) puts it, under a family declared before it; the latency
 * histogram puts each round trip in the buckets the test computes from
 * the bounds; and a page that does not fit is no page, never a cut one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define PAGE_MAX 65536

/* The value of the one sample line "<series> <value>" (series: the name
 * and its labels exactly as written). Fails unless there is exactly one. */
static double
sample(const char *page, const char *series)
{
	size_t n = strlen(series);
	const char *p = page, *found = NULL;
	char *end;
	double v;

	for (; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			if (found != NULL)
				fail_msg("%s: twice", series);
			found = p + n + 1;
		}
		if (strchr(p, '\n') == NULL)
			fail_msg("the page does not end with a newline");
	}
	if (found == NULL)
		fail_msg("%s: not on the page", series);
	v = strtod(found, &end);
	if (end == found || *end != '\n')
		fail_msg("%s: not a number", series);
	return v;
}

static bool
on_page(const char *page, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = page; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, series, n) == 0 && (p[n] == ' ' || p[n] == '{'))
			return true;
	return false;
}

/* Every sample belongs to a family whose TYPE came before it (a
 * histogram's samples end in _bucket, _sum or _count), and every line is
 * a comment or "<series> <number>". */
static void
assert_exposition_ok(const char *page)
{
	char typed[64][96];
	size_t ntyped = 0;

	for (const char *p = page; *p != '\0'; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n'), *sp;
		char name[96];
		size_t n;
		bool ok = false;

		assert_non_null(nl);
		if (strncmp(p, "# TYPE ", 7) == 0) {
			assert_true(ntyped < 64);
			n = strcspn(p + 7, " ");
			snprintf(typed[ntyped++], sizeof(typed[0]), "%.*s",
			    (int)n, p + 7);
			continue;
		}
		if (strncmp(p, "# HELP ", 7) == 0)
			continue;
		n = strcspn(p, "{ \n");
		assert_true(n > 0 && n < sizeof(name));
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		for (size_t i = 0; i < ntyped && !ok; i++) {
			size_t t = strlen(typed[i]);
			ok = strcmp(name, typed[i]) == 0 ||
			    (strncmp(name, typed[i], t) == 0 &&
			        (strcmp(name + t, "_bucket") == 0 ||
			            strcmp(name + t, "_sum") == 0 ||
			            strcmp(name + t, "_count") == 0));
		}
		if (!ok)
			fail_msg("%s: a sample with no TYPE before it", name);
		/* One space, then the value, then the end of the line. */
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (p[n] == '{')
			sp = strstr(p, "} ") + 1;
		assert_non_null(sp);
		strtod(sp + 1, (char **)&sp);
		assert_ptr_equal(sp, nl);
	}
}

static void
requests_of_every_loop_add_up_by_route_and_status(void **state)
{
	tr_gw_metrics *m[2] = {calloc(1, sizeof(tr_gw_metrics)),
	    calloc(1, sizeof(tr_gw_metrics))};
	tr_metrics_nodes nodes = {0};
	static char page[PAGE_MAX];
	(void)state;

	assert_non_null(m[0]);
	assert_non_null(m[1]);
	for (int i = 0; i < 3; i++)
		tr_metrics_request(m[0], TR_ROUTE_RESERVE, 201);
	tr_metrics_request(m[1], TR_ROUTE_RESERVE, 201);
	tr_metrics_request(m[1], TR_ROUTE_RESERVE, 410);
	tr_metrics_request(m[0], TR_ROUTE_CONFIRM, 409);
	/* Statuses not counted one by one: "other". */
	tr_metrics_request(m[0], TR_ROUTE_OTHER, 418);
	tr_metrics_request(m[1], TR_ROUTE_OTHER, 299);
	tr_metrics_request(m[1], TR_ROUTE_METRICS, 200);
	assert_true(tr_metrics_render(page, sizeof(page), m, 2, &nodes) > 0);
	assert_exposition_ok(page);
	assert_true(sample(page,
	                "trgate_requests_total{route=\"reserve\","
	                "status=\"201\"}") == 4);
	assert_true(sample(page,
	                "trgate_requests_total{route=\"reserve\","
	                "status=\"410\"}") == 1);
	assert_true(sample(page,
	                "trgate_requests_total{route=\"confirm\","
	                "status=\"409\"}") == 1);
	assert_true(sample(page,
	                "trgate_requests_total{route=\"other\","
	                "status=\"other\"}") == 2);
	assert_true(sample(page,
	                "trgate_requests_total{route=\"metrics\","
	                "status=\"200\"}") == 1);
	/* Nothing counted, nothing written: no series of zeros. */
	assert_false(on_page(page, "trgate_requests_total{route=\"release\""));
	assert_false(on_page(page,
	    "trgate_requests_total{route=\"reserve\","
	    "status=\"200\"}"));
	/* The other families are there, at zero. */
	assert_true(sample(page, "trgate_soldout_cache_hits_total") == 0);
	assert_true(sample(page, "trgate_connections") == 0);
	free(m[0]);
	free(m[1]);
}

static void
round_trips_fall_in_the_buckets_of_their_bounds(void **state)
{
	/* Each bound itself, just over, under the first, past the last. */
	static const uint64_t lat_us[] = {100, 101, 0, 250, 999, 1000, 1001,
	    49999, 50000, 1000000, 1000001, 7000000};
	enum { N = sizeof(lat_us) / sizeof(lat_us[0]) };
	tr_gw_metrics *m[3];
	tr_metrics_nodes nodes = {0};
	static char page[PAGE_MAX];
	char series[96];
	double last = 0, sum_s = 0;
	(void)state;

	for (int i = 0; i < 3; i++) {
		m[i] = calloc(1, sizeof(tr_gw_metrics));
		assert_non_null(m[i]);
	}
	for (size_t i = 0; i < N; i++) {
		tr_metrics_upstream(m[i % 3], lat_us[i]);
		sum_s += (double)lat_us[i] / 1e6;
	}
	assert_true(tr_metrics_render(page, sizeof(page), m, 3, &nodes) > 0);
	assert_exposition_ok(page);
	for (int b = 0; b < TR_METRIC_LAT_BUCKETS; b++) {
		uint64_t want = 0;
		double got;
		for (size_t i = 0; i < N; i++)
			want += lat_us[i] <= tr_metric_lat_bounds_us[b];
		snprintf(series, sizeof(series),
		    "trgate_upstream_latency_seconds_bucket{le=\"%g\"}",
		    (double)tr_metric_lat_bounds_us[b] / 1e6);
		got = sample(page, series);
		if (got != (double)want)
			fail_msg("%s: %.0f, want %llu", series, got,
			    (unsigned long long)want);
		/* Cumulative: never fewer than the bucket before. */
		assert_true(got >= last);
		last = got;
	}
	assert_true(
	    sample(page,
	        "trgate_upstream_latency_seconds_bucket{le=\"+Inf\"}") == N);
	assert_true(
	    sample(page, "trgate_upstream_latency_seconds_count") == N);
	/* Seconds, to the microsecond. */
	assert_true(fabs(sample(page, "trgate_upstream_latency_seconds_sum") -
	                sum_s) < 1e-6);
	for (int i = 0; i < 3; i++)
		free(m[i]);
}

static void
nodes_and_counters_are_written_per_node_and_summed(void **state)
{
	tr_gw_metrics *m[2] = {calloc(1, sizeof(tr_gw_metrics)),
	    calloc(1, sizeof(tr_gw_metrics))};
	tr_metrics_nodes nodes = {.n = 3,
	    .id = {"n1", "n2", "node-3"},
	    .inflight = {4, 0, 17},
	    .up = {1, 0, 1}};
	static char page[PAGE_MAX];
	(void)state;

	assert_non_null(m[0]);
	assert_non_null(m[1]);
	m[0]->picks[0] = 5;
	m[1]->picks[0] = 6;
	m[1]->picks[2] = 9;
	m[0]->soldout_hits = 1;
	m[1]->soldout_hits = 2;
	m[0]->fanout_retries = 3;
	m[1]->shed_overloaded = 4;
	m[0]->upstream_batches = 10;
	m[1]->upstream_batches = 20;
	m[0]->upstream_ops = 100;
	m[1]->upstream_ops = 250;
	m[0]->connections = 7;
	m[1]->connections = 8;
	m[1]->connections_refused = 11;
	assert_true(tr_metrics_render(page, sizeof(page), m, 2, &nodes) > 0);
	assert_exposition_ok(page);
	assert_true(
	    sample(page, "trgate_node_picks_total{node=\"n1\"}") == 11);
	assert_true(sample(page, "trgate_node_picks_total{node=\"n2\"}") == 0);
	assert_true(
	    sample(page, "trgate_node_picks_total{node=\"node-3\"}") == 9);
	assert_true(sample(page, "trgate_node_inflight{node=\"n1\"}") == 4);
	assert_true(
	    sample(page, "trgate_node_inflight{node=\"node-3\"}") == 17);
	assert_true(sample(page, "trgate_node_up{node=\"n1\"}") == 1);
	assert_true(sample(page, "trgate_node_up{node=\"n2\"}") == 0);
	assert_true(sample(page, "trgate_node_up{node=\"node-3\"}") == 1);
	assert_true(sample(page, "trgate_soldout_cache_hits_total") == 3);
	assert_true(sample(page, "trgate_fanout_retries_total") == 3);
	assert_true(sample(page, "trgate_shed_total") == 4);
	assert_true(sample(page, "trgate_upstream_messages_total") == 30);
	assert_true(sample(page, "trgate_upstream_ops_total") == 350);
	assert_true(sample(page, "trgate_connections") == 15);
	assert_true(sample(page, "trgate_connections_refused_total") == 11);
	/* Only the nodes configured. */
	assert_false(on_page(page, "trgate_node_up{node=\"\"}"));
	free(m[0]);
	free(m[1]);
}

static void
a_page_that_does_not_fit_is_no_page(void **state)
{
	tr_gw_metrics *m = calloc(1, sizeof(*m));
	tr_metrics_nodes nodes = {.n = 1, .id = {"n1"}, .up = {1}};
	static char page[PAGE_MAX], small[PAGE_MAX];
	size_t len;
	(void)state;

	assert_non_null(m);
	tr_metrics_request(m, TR_ROUTE_RESERVE, 201);
	tr_metrics_upstream(m, 300);
	len = tr_metrics_render(page, sizeof(page), &m, 1, &nodes);
	assert_true(len > 0);
	assert_int_equal(strlen(page), len);
	/* Room for the page and its terminator: the same page. */
	assert_int_equal(tr_metrics_render(small, len + 1, &m, 1, &nodes),
	    len);
	assert_string_equal(small, page);
	/* A byte short, or far short: nothing, so that the gateway never
	 * serves half a page as if it were all of it. */
	assert_int_equal(tr_metrics_render(small, len, &m, 1, &nodes), 0);
	assert_int_equal(tr_metrics_render(small, 200, &m, 1, &nodes), 0);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        requests_of_every_loop_add_up_by_route_and_status),
	    cmocka_unit_test(round_trips_fall_in_the_buckets_of_their_bounds),
	    cmocka_unit_test(
	        nodes_and_counters_are_written_per_node_and_summed),
	    cmocka_unit_test(a_page_that_does_not_fit_is_no_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
