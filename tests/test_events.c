/* test_events: thousands of events at once, against real redis-server and
 * stockd processes. Quiet events cost the coordinator nothing; a dead
 * node's leases in hundreds of events are all reclaimed within its
 * liveness TTL and a sweep or two; events are listed a page at a time. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"

static th_redis redis;

static int
setup_redis(void **state)
{
	(void)state;
	return th_redis_start(&redis);
}

static int
teardown_redis(void **state)
{
	(void)state;
	th_redis_stop(&redis);
	return 0;
}

static int
teardown_all(void **state)
{
	(void)state;
	th_cleanup();
	return 0;
}

#define FAST_NODE                                                             \
	"--liveness-ttl", "2s", "--sweep", "250ms", "--sync", "100ms",        \
	    "--lease-idle", "0"

/* n events "Q<i>" of 10 tickets, created and published as ticketctl
 * event create does, in pipelines of 500. */
static void
create_events(int n)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 5000, NULL, false};
	tr_call *calls = calloc(500, sizeof(*calls));
	tr_call **ptrs = calloc(500, sizeof(*ptrs));
	char id[32];

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	for (int from = 0; from < n; from += 500) {
		int m = n - from < 500 ? n - from : 500;
		for (int i = 0; i < m; i++) {
			snprintf(id, sizeof(id), "Q%d", from + i);
			tr_call_create_event(&calls[i], id, 10, 1, 60000, 0);
			ptrs[i] = &calls[i];
		}
		assert_int_equal(tr_coord_run(coord, ptrs, (size_t)m), 0);
		for (int i = 0; i < m; i++) {
			bool created;
			assert_int_equal(tr_result_create_event(&calls[i],
			                     &created),
			    0);
			tr_call_done(&calls[i]);
			snprintf(id, sizeof(id), "Q%d", from + i);
			assert_int_equal(tr_coord_event_publish(coord, id), 0);
		}
	}
	tr_coord_close(coord);
	free(calls);
	free(ptrs);
}

static long long
commands(void)
{
	redisReply *r = th_redis_cmd(&redis, "INFO stats");
	long long v = -1;
	const char *p;
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING &&
	    (p = strstr(r->str, "total_commands_processed:")) != NULL)
		v = strtoll(p + strlen("total_commands_processed:"), NULL, 10);
	freeReplyObject(r);
	return v;
}

/* Redis commands a second over ms, as Redis counts them (every call
 * inside a script too), less the INFO calls that measure. */
static double
rate(int64_t ms)
{
	long long before = commands();
	int64_t t0 = tr_mono_ms();
	tr_sleep_ms(ms);
	return (double)(commands() - before - 1) * 1000.0 /
	    (double)(tr_mono_ms() - t0);
}

static void
quiet_events_cost_the_coordinator_nothing(void **state)
{
	th_stockd nodes[4];
	char name[8];
	double idle_few, idle_many;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	(void)state;

	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d", i + 1);
		assert_int_equal(th_stockd_start(&nodes[i], name, &redis,
		                     (const char *[]){FAST_NODE, NULL}),
		    0);
	}
	create_events(1);
	tr_sleep_ms(1000);
	idle_few = rate(3000);
	create_events(3000);
	/* Every node hears of a few of them (a read touches an event). */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	for (int i = 0; i < 50; i++) {
		char id[16];
		snprintf(id, sizeof(id), "Q%d", i * 37);
		assert_int_equal(tr_client_get_event(c, id, &rep), 0);
		tr_reply_free(rep);
		rep = NULL;
	}
	tr_client_close(c);
	/* Past BUSY_MS: all quiet again. */
	tr_sleep_ms(3000);
	idle_many = rate(3000);
	print_message("idle, 4 nodes: %.0f commands/s with 1 event, %.0f with "
	              "3,001\n",
	    idle_few, idle_many);
	/* Flat in the number of quiet events: what 3,000 more add is the
	 * sweeper's slow pass (10 events a second, a few commands each),
	 * whatever their number; a generous bound for a loaded machine. */
	assert_true(idle_many < idle_few + 150);
	assert_true(idle_many < 400);
	for (int i = 0; i < 4; i++)
		th_stop(&nodes[i].proc, SIGTERM, 5000);
}

static void
a_dead_nodes_leases_in_300_events_are_all_reclaimed_in_time(void **st)
{
	th_stockd nodes[2];
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	int64_t killed, deadline;
	long long left = 0;
	char id[16];
	(void)st;

	create_events(300);
	assert_int_equal(th_stockd_start(&nodes[0], "n1", &redis,
	                     (const char *[]){FAST_NODE, NULL}),
	    0);
	assert_int_equal(th_stockd_start(&nodes[1], "n2", &redis,
	                     (const char *[]){FAST_NODE, NULL}),
	    0);
	/* n1 sells one ticket of each: a lease in all 300. */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "Q%d", i);
		assert_int_equal(tr_client_reserve(c, id, "u", 1, NULL, &rep),
		    0);
		tr_reply_free(rep);
		rep = NULL;
	}
	tr_client_close(c);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "Q%d", i);
		assert_true(
		    th_redis_int(&redis, "HGET tr:{%s}:lease n1", id) > 0);
	}
	/* Let n2 hold the sweeper role first (a TTL connected). */
	tr_sleep_ms(2500);
	th_stop(&nodes[0].proc, SIGKILL, 2000);
	killed = tr_mono_ms();
	deadline = killed + 15000;
	do {
		left = 0;
		for (int i = 0; i < 300; i++) {
			snprintf(id, sizeof(id), "Q%d", i);
			left += th_redis_int(&redis,
			    "HEXISTS tr:{%s}:lease n1", id);
		}
		if (left > 0)
			tr_sleep_ms(100);
	} while (left > 0 && tr_mono_ms() < deadline);
	print_message("n1's leases in 300 events reclaimed %.2f s after its "
	              "kill (liveness TTL 2 s, sweep 250 ms)\n",
	    (double)(tr_mono_ms() - killed) / 1000.0);
	assert_int_equal(left, 0);
	/* Within the TTL, the role's lease (3 sweeps) and a sweep, with room
	 * for a loaded machine. */
	assert_true(tr_mono_ms() - killed < 2000 + 3 * 250 + 250 + 2000);
	/* Its holds stay (confirmable until they expire); nothing was sold
	 * twice. */
	for (int i = 0; i < 300; i += 37) {
		char cmd[600], out[4096];
		snprintf(id, sizeof(id), "Q%d", i);
		assert_int_equal(th_redis_int(&redis, "GET tr:{%s}:held", id),
		    1);
		snprintf(cmd, sizeof(cmd), "%s --redis %s audit %s",
		    th_bin("ticketctl"), redis.addr, id);
		if (th_run(cmd, out, sizeof(out)) != 0)
			fail_msg("audit of %s failed:\n%s", id, out);
	}
	th_stop(&nodes[1].proc, SIGTERM, 5000);
}

/* Killed and restarted under its own id, a lone node (no sweeper sees it
 * dead: it is alive again) gives back what it leased before in every
 * event, without anyone asking it about them. */
static void
a_restarted_node_gives_back_its_earlier_leases_unasked(void **st)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	int64_t started, deadline;
	long long left;
	char id[16];
	(void)st;

	create_events(200);
	assert_int_equal(th_stockd_start(&node, "n1", &redis,
	                     (const char *[]){FAST_NODE, NULL}),
	    0);
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "Q%d", i);
		assert_int_equal(tr_client_reserve(c, id, "u", 1, NULL, &rep),
		    0);
		tr_reply_free(rep);
		rep = NULL;
	}
	tr_client_close(c);
	th_stop(&node.proc, SIGKILL, 2000);
	left = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "Q%d", i);
		left += th_redis_int(&redis, "HGET tr:{%s}:lease n1", id);
	}
	assert_true(left > 0);
	assert_int_equal(th_stockd_start(&node, "n1", &redis,
	                     (const char *[]){FAST_NODE, NULL}),
	    0);
	started = tr_mono_ms();
	deadline = started + 15000;
	do {
		left = 0;
		for (int i = 0; i < 200; i++) {
			snprintf(id, sizeof(id), "Q%d", i);
			left +=
			    th_redis_int(&redis, "HGET tr:{%s}:lease n1", id);
		}
		if (left > 0)
			tr_sleep_ms(100);
	} while (left > 0 && tr_mono_ms() < deadline);
	print_message(
	    "restarted n1 gave back its earlier leases in 200 "
	    "events %.2f s after it started (its claim waits out the old "
	    "one, TTL 2 s)\n",
	    (double)(tr_mono_ms() - started) / 1000.0);
	assert_int_equal(left, 0);
	/* 9 of each event's 10 tickets are in the pool again. */
	for (int i = 0; i < 200; i += 23) {
		snprintf(id, sizeof(id), "Q%d", i);
		assert_int_equal(th_redis_int(&redis, "GET tr:{%s}:pool", id),
		    9);
	}
	th_stop(&node.proc, SIGTERM, 5000);
}

static void
events_are_listed_a_page_at_a_time(void **state)
{
	char cmd[600], *out = malloc(1 << 20);
	char next[32] = "0";
	int pages = 0, lines = 0;
	(void)state;

	create_events(2500);
	/* ticketctl event all, a page of 1000 at most, until the cursor is
	 * back at 0. */
	do {
		char *p;
		snprintf(cmd, sizeof(cmd),
		    "%s --redis %s event all --count 1000 "
		    "--cursor %s",
		    th_bin("ticketctl"), redis.addr, next);
		assert_int_equal(th_run(cmd, out, 1 << 20), 0);
		pages++;
		for (p = out; (p = strstr(p, "total 10,")) != NULL; p++)
			lines++;
		p = strstr(out, "next cursor ");
		assert_non_null(p);
		sscanf(p + strlen("next cursor "), "%31s", next);
	} while (strcmp(next, "0") != 0 && pages < 100);
	print_message("2,500 events in %d pages\n", pages);
	assert_true(pages >= 3);
	/* SSCAN may show an id twice across pages, never miss one. */
	assert_true(lines >= 2500);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_redis, teardown_redis)
	    T(quiet_events_cost_the_coordinator_nothing),
	    T(a_dead_nodes_leases_in_300_events_are_all_reclaimed_in_time),
	    T(a_restarted_node_gives_back_its_earlier_leases_unasked),
	    T(events_are_listed_a_page_at_a_time),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
