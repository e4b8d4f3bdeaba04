/* test_ticketctl: every ticketctl command against a running stockd, its
 * output and its exit code; and audit against a real Redis, passing and
 * failing. */
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
#include <hiredis/hiredis.h>

#include "harness.h"
#include "tr_clock.h"

static th_stockd node;
static char out[16384];

/* Run ticketctl with args (one string, shell words), stdout+stderr in out;
 * returns the exit code. */
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

static int
setup_node(void **state)
{
	(void)state;
	return th_stockd_start(&node, "n1", NULL,
	    (const char *[]){"--event", "E=3,hold=5s", NULL});
}

static int
teardown_node(void **state)
{
	(void)state;
	th_stop(&node.proc, SIGTERM, 5000);
	return 0;
}

static void
status_and_event_commands_print_the_node(void **state)
{
	(void)state;
	assert_int_equal(ctl("--url %s status", node.admin_url), 0);
	assert_out_has("node n1");
	assert_out_has("standalone");
	assert_int_equal(ctl("--url %s event show E", node.data_url), 0);
	assert_out_has("event E: on_sale");
	assert_out_has("total 3");
	assert_int_equal(ctl("--url %s event list", node.admin_url), 0);
	assert_out_has("event E:");
	assert_int_equal(ctl("--url %s event create F --total 7 --hold 1m "
	                     "--limit-per-user 2",
	                     node.admin_url),
	    0);
	assert_out_has("event F: on_sale");
	assert_out_has("total 7, limit 2 per user, hold 60000 ms");
	assert_int_equal(ctl("--url %s event show NOPE", node.data_url), 1);
	assert_out_has("not_found");
}

static void
reserve_confirm_release_print_and_exit_as_documented(void **state)
{
	char rid[64];
	cJSON *j, *hold;
	(void)state;

	assert_int_equal(ctl("--json --url %s reserve E alice --request-id "
	                     "r-1",
	                     node.data_url),
	    0);
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring,
	    "ok");
	hold = cJSON_GetObjectItem(j, "hold");
	snprintf(rid, sizeof(rid), "%s",
	    cJSON_GetObjectItem(hold, "reservation_id")->valuestring);
	assert_string_equal(cJSON_GetObjectItem(hold, "state")->valuestring,
	    "held");
	cJSON_Delete(j);
	assert_true(strncmp(rid, "n1.", 3) == 0);

	/* Same request id: the same reservation, OK. */
	assert_int_equal(ctl("--url %s reserve E alice --request-id r-1",
	                     node.data_url),
	    0);
	assert_out_has(rid);
	/* Another request: the user already holds one. */
	assert_int_equal(ctl("--url %s reserve E alice", node.data_url), 1);
	assert_out_has("duplicate");
	assert_int_equal(ctl("--url %s confirm %s mallory", node.data_url,
	                     rid),
	    1);
	assert_out_has("not_owner");
	assert_int_equal(ctl("--url %s confirm %s alice --payment-ref PAY-9",
	                     node.data_url, rid),
	    0);
	assert_out_has("confirmed order");
	assert_out_has("PAY-9");
	assert_int_equal(ctl("--url %s release %s alice", node.data_url, rid),
	    1);
	assert_out_has("conflict");
	/* A second buyer reserves and releases. */
	assert_int_equal(ctl("--json --url %s reserve E bob", node.data_url),
	    0);
	j = cJSON_Parse(out);
	snprintf(rid, sizeof(rid), "%s",
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "hold"),
	        "reservation_id")
	        ->valuestring);
	cJSON_Delete(j);
	assert_int_equal(ctl("--url %s release %s bob", node.data_url, rid),
	    0);
	assert_out_has("released");
}

static void
drain_stops_new_reservations(void **state)
{
	(void)state;
	assert_int_equal(ctl("--url %s drain E", node.admin_url), 0);
	assert_int_equal(ctl("--url %s reserve E carol", node.data_url), 1);
	assert_out_has("unavailable");
	assert_int_equal(ctl("--url %s drain NOPE", node.admin_url), 1);
	assert_out_has("not_found");
}

static void
bad_usage_exits_2_and_unreachable_exits_3(void **state)
{
	(void)state;
	assert_int_equal(ctl(""), 2);
	assert_int_equal(ctl("frobnicate"), 2);
	assert_int_equal(ctl("--url %s reserve 'bad id' u", node.data_url), 2);
	assert_out_has("bad event id");
	assert_int_equal(ctl("--url %s confirm nonsense u", node.data_url), 2);
	assert_int_equal(ctl("--url %s event create X", node.admin_url), 2);
	assert_out_has("--total");
	assert_int_equal(ctl("--url %s event create X --total 0",
	                     node.admin_url),
	    2);
	assert_int_equal(ctl("--url tcp://127.0.0.1:%d status",
	                     th_free_port()),
	    3);
	assert_out_has("cannot connect");
	assert_int_equal(ctl("--json --url tcp://127.0.0.1:%d status",
	                     th_free_port()),
	    3);
	assert_out_has("\"status\":\"unavailable\"");
	assert_int_equal(ctl("--help"), 0);
	assert_out_has("usage: ticketctl");
}

static void
a_frozen_node_fails_within_the_timeout_with_exit_3(void **state)
{
	int64_t t0;
	(void)state;
	kill(node.proc.pid, SIGSTOP);
	t0 = tr_mono_ms();
	assert_int_equal(ctl("--timeout 300ms --url %s status",
	                     node.admin_url),
	    3);
	assert_true(tr_mono_ms() - t0 < 2000);
	kill(node.proc.pid, SIGCONT);
	assert_int_equal(ctl("--url %s status", node.admin_url), 0);
}

static void
audit_passes_on_a_sound_ledger_and_fails_on_a_broken_one(void **state)
{
	th_redis r;
	th_stockd n;
	redisReply *rep;
	(void)state;

	assert_int_equal(th_redis_start(&r), 0);
	assert_int_equal(th_stockd_start(&n, "a1", &r, NULL), 0);
	assert_int_equal(th_event_create(&n, "AUD", 10, 1, 60000), 0);
	assert_int_equal(th_event_wait(&n, 1, "AUD"), 0);
	assert_int_equal(ctl("--url %s reserve AUD u1", n.data_url), 0);
	assert_int_equal(ctl("--redis %s audit AUD", r.addr), 0);
	assert_out_has("PASS conservation");
	assert_out_has("audit passed");
	assert_int_equal(ctl("--json --redis %s audit AUD", r.addr), 0);
	assert_out_has("\"ok\":true");
	/* Someone sells a ticket behind the ledger's back. */
	rep = th_redis_cmd(&r, "INCR tr:{AUD}:sold");
	freeReplyObject(rep);
	assert_int_equal(ctl("--redis %s audit AUD", r.addr), 1);
	assert_out_has("FAIL conservation");
	assert_out_has("FAIL orders_match_sold");
	assert_out_has("AUDIT FAILED");
	assert_int_equal(ctl("--redis %s audit NOPE", r.addr), 1);
	assert_int_equal(ctl("--redis 127.0.0.1:%d audit AUD", th_free_port()),
	    3);
	th_stop(&n.proc, SIGTERM, 5000);
	th_redis_stop(&r);
}

static int
teardown_all(void **state)
{
	(void)state;
	th_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        status_and_event_commands_print_the_node, setup_node,
	        teardown_node),
	    cmocka_unit_test_setup_teardown(
	        reserve_confirm_release_print_and_exit_as_documented,
	        setup_node, teardown_node),
	    cmocka_unit_test_setup_teardown(drain_stops_new_reservations,
	        setup_node, teardown_node),
	    cmocka_unit_test_setup_teardown(
	        bad_usage_exits_2_and_unreachable_exits_3, setup_node,
	        teardown_node),
	    cmocka_unit_test_setup_teardown(
	        a_frozen_node_fails_within_the_timeout_with_exit_3, setup_node,
	        teardown_node),
	    cmocka_unit_test(
	        audit_passes_on_a_sound_ledger_and_fails_on_a_broken_one),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
