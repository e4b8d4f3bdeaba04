/* test_chaos: the fault campaign's schedule and history checker, on
 * crafted schedules and histories (each violation made once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chaos_check.h"
#include "chaos_sched.h"

static chaos_sched_conf
conf_of(uint64_t seed, int netns_node)
{
	chaos_sched_conf c = {seed, 12000, 3, 2000, netns_node, 2, 6};
	return c;
}

static void
the_same_seed_gives_the_same_schedule(void **state)
{
	chaos_sched a, b, c;
	chaos_sched_conf ca = conf_of(42, 2), cb = conf_of(43, 2);
	char ta[2048], tb[2048];
	(void)state;

	assert_int_equal(chaos_sched_make(&ca, &a), 0);
	assert_int_equal(chaos_sched_make(&ca, &b), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.faults, b.faults, a.n * sizeof(a.faults[0]));
	chaos_sched_format(&a, ta, sizeof(ta));
	chaos_sched_make(&cb, &c);
	chaos_sched_format(&c, tb, sizeof(tb));
	assert_string_not_equal(ta, tb);
	/* Out of range: refused. */
	ca.nodes = 0;
	assert_int_equal(chaos_sched_make(&ca, &a), -1);
}

static int64_t
end_of(const chaos_fault *f)
{
	return f->duration_ms < 0 ? INT64_MAX : f->start_ms + f->duration_ms;
}

static bool
same_target(const chaos_fault *a, const chaos_fault *b)
{
	bool ra = a->kind == CHAOS_REDIS_KILL || a->kind == CHAOS_REDIS_PAUSE;
	bool rb = b->kind == CHAOS_REDIS_KILL || b->kind == CHAOS_REDIS_PAUSE;
	if (ra || rb)
		return ra && rb;
	if (a->kind == CHAOS_GATEWAY_KILL || b->kind == CHAOS_GATEWAY_KILL)
		return a->kind == b->kind;
	return a->target == b->target;
}

static void
faults_fit_the_run_and_never_overlap_on_one_target(void **state)
{
	size_t seen[CHAOS_KIND_COUNT] = {0};
	(void)state;

	for (uint64_t seed = 1; seed <= 500; seed++) {
		chaos_sched s;
		chaos_sched_conf c = conf_of(seed, seed % 2 ? 2 : -1);
		int forever = 0;
		assert_int_equal(chaos_sched_make(&c, &s), 0);
		assert_true(s.n >= 1 && s.n <= 6);
		for (size_t i = 0; i < s.n; i++)
			forever += s.faults[i].kind == CHAOS_NODE_KILL &&
			    s.faults[i].duration_ms < 0;
		assert_true(forever < c.nodes);
		for (size_t i = 0; i < s.n; i++) {
			const chaos_fault *f = &s.faults[i];
			seen[f->kind]++;
			assert_true(f->start_ms >= 1000 &&
			    f->start_ms <= c.load_ms - 2000);
			if (i > 0)
				assert_true(
				    f->start_ms >= s.faults[i - 1].start_ms);
			if (f->kind == CHAOS_NODE_PAUSE)
				assert_true(
				    f->duration_ms > c.liveness_ttl_ms);
			if (f->kind == CHAOS_PARTITION) {
				assert_int_equal(c.netns_node, 2);
				assert_int_equal(f->target, 2);
			}
			if (f->kind != CHAOS_NODE_KILL)
				assert_true(f->duration_ms > 0);
			for (size_t j = 0; j < i; j++) {
				const chaos_fault *g = &s.faults[j];
				if (same_target(f, g))
					assert_true(f->start_ms >= end_of(g) ||
					    g->start_ms >= end_of(f));
			}
		}
	}
	/* Over 500 schedules, every kind of fault occurs. */
	for (int k = 0; k < CHAOS_KIND_COUNT; k++)
		assert_true(seen[k] > 0);
}

/* ---- the checker -----------------------------------------------------------
 */

static const char *const users[] = {"alice", "bob", "carol"};

static chaos_op
op(enum chaos_op_kind kind, int user, const char *key, const char *rid,
    int status, const char *st, const char *paid)
{
	chaos_op o;
	memset(&o, 0, sizeof(o));
	o.kind = (uint8_t)kind;
	o.user = (uint32_t)user;
	snprintf(o.key, sizeof(o.key), "%s", key);
	snprintf(o.rid, sizeof(o.rid), "%s", rid);
	o.status = status;
	snprintf(o.state, sizeof(o.state), "%s", st);
	snprintf(o.paid, sizeof(o.paid), "%s", paid);
	return o;
}

#define R1 "n1.0000000000000001.E0"
#define R2 "n2.0000000000000002.E0"
#define R3 "n1.0000000000000003.E0"

static size_t
check(const chaos_op *ops, size_t n, const chaos_order_fact *orders,
    size_t norders, const chaos_hold_fact *holds, size_t nholds, uint64_t sold,
    chaos_report *r)
{
	chaos_event_facts ev = {orders, norders, holds, nholds, sold, 10, 1};
	memset(r, 0, sizeof(*r));
	assert_int_equal(chaos_check(ops, n, users, 3, &ev, 1, r), 0);
	return r->total;
}

static void
a_clean_history_has_no_violation(void **state)
{
	chaos_op ops[] = {
	    op(CHAOS_RESERVE, 0, "a1", R1, 201, "held", ""),
	    op(CHAOS_RESERVE, 0, "a1", R1, 201, "held", ""), /* retry */
	    op(CHAOS_CONFIRM, 0, "PAY", R1, -1, "", ""),     /* lost */
	    op(CHAOS_CONFIRM, 0, "PAY", R1, 200, "confirmed", "PAY"),
	    op(CHAOS_RESERVE, 1, "b1", R2, 201, "held", ""),
	    op(CHAOS_RELEASE, 1, "", R2, 200, "released", ""),
	    /* the same request id after its hold ended: a new intent */
	    op(CHAOS_RESERVE, 1, "b1", R3, 201, "held", ""),
	    op(CHAOS_CONFIRM, 1, "", R3, 200, "confirmed", ""),
	    op(CHAOS_RESERVE, 2, "c1", "", 409, "", ""),
	};
	chaos_order_fact orders[] = {{.rid = R1,
	                                 .user = "alice",
	                                 .payment_ref = "PAY"},
	    {.rid = R3, .user = "bob", .payment_ref = ""}};
	chaos_hold_fact holds[] = {{.rid = R2, .state = 'R'}};
	chaos_report r;
	(void)state;

	assert_int_equal(check(ops, 9, orders, 2, holds, 1, 2, &r), 0);
	assert_int_equal(r.ops, 9);
}

static void
each_broken_promise_is_reported(void **state)
{
	chaos_report r;
	(void)state;

	{ /* a paid ticket lost */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", R1, 201, "held",
		                      ""),
		    op(CHAOS_CONFIRM, 0, "P", R1, 200, "confirmed", "P")};
		chaos_hold_fact holds[] = {{.rid = R1, .state = 'X'}};
		assert_int_equal(check(ops, 2, NULL, 0, holds, 1, 0, &r), 1);
		assert_int_equal(r.count[CHAOS_ACKED_ORDER_MISSING], 1);
	}
	{ /* 200 to a second payment reference */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", R1, 201, "held",
		                      ""),
		    op(CHAOS_CONFIRM, 0, "P2", R1, 200, "confirmed", "P1")};
		chaos_order_fact orders[] = {
		    {.rid = R1, .user = "alice", .payment_ref = "P1"}};
		assert_int_equal(check(ops, 2, orders, 1, NULL, 0, 1, &r), 1);
		assert_int_equal(r.count[CHAOS_PAID_WITH_OTHER_REF], 1);
	}
	{ /* someone else's order; an order nobody was given */
		chaos_op ops[] = {
		    op(CHAOS_RESERVE, 0, "a1", R1, 201, "held", "")};
		chaos_order_fact orders[] = {{.rid = R1,
		                                 .user = "bob",
		                                 .payment_ref = ""},
		    {.rid = R2, .user = "carol", .payment_ref = ""}};
		assert_int_equal(check(ops, 1, orders, 2, NULL, 0, 2, &r), 2);
		assert_int_equal(r.count[CHAOS_ORDER_OF_ANOTHER_USER], 2);
	}
	{ /* sold after its owner was told released, or expired */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", R1, 201, "held",
		                      ""),
		    op(CHAOS_RELEASE, 0, "", R1, 200, "released", ""),
		    op(CHAOS_RESERVE, 1, "b1", R2, 201, "held", ""),
		    op(CHAOS_CONFIRM, 1, "", R2, 410, "expired", "")};
		chaos_order_fact orders[] = {{.rid = R1,
		                                 .user = "alice",
		                                 .payment_ref = ""},
		    {.rid = R2, .user = "bob", .payment_ref = ""}};
		assert_int_equal(check(ops, 4, orders, 2, NULL, 0, 2, &r), 2);
		assert_int_equal(r.count[CHAOS_ORDER_AFTER_RELEASE], 2);
	}
	{ /* a 201 hold gone without a trace */
		chaos_op ops[] = {
		    op(CHAOS_RESERVE, 0, "a1", R1, 201, "held", "")};
		assert_int_equal(check(ops, 1, NULL, 0, NULL, 0, 0, &r), 1);
		assert_int_equal(r.count[CHAOS_ACKED_HOLD_VANISHED], 1);
	}
	{ /* one request id, two tickets */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", R1, 201, "held",
		                      ""),
		    op(CHAOS_RESERVE, 0, "a1", R2, 201, "held", "")};
		chaos_hold_fact holds[] = {{.rid = R1, .state = 'H'},
		    {.rid = R2, .state = 'H'}};
		assert_int_equal(check(ops, 2, NULL, 0, holds, 2, 0, &r), 1);
		assert_int_equal(r.count[CHAOS_REQUEST_ID_TWO_HOLDS], 1);
	}
	{ /* the same, seen only in Redis' records: the first answer was
	   * lost, the retry made a second hold while the first lived */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", "", -1, "", ""),
		    op(CHAOS_RESERVE, 0, "a1", R2, 201, "held", "")};
		chaos_hold_fact holds[] = {{.rid = R1,
		                               .state = 'X',
		                               .user = "alice",
		                               .request_id = "a1",
		                               .made_ms = 1000,
		                               .ended_ms = 4000},
		    {.rid = R2,
		        .state = 'X',
		        .user = "alice",
		        .request_id = "a1",
		        .made_ms = 2000,
		        .ended_ms = 5000},
		    /* after the first ended: a new intent, fine */
		    {.rid = R3,
		        .state = 'X',
		        .user = "alice",
		        .request_id = "a1",
		        .made_ms = 6000,
		        .ended_ms = 9000}};
		assert_int_equal(check(ops, 2, NULL, 0, holds, 3, 0, &r), 1);
		assert_int_equal(r.count[CHAOS_REQUEST_ID_TWO_HOLDS], 1);
		assert_non_null(strstr(r.example[0], R1));
	}
	{ /* one of the two was paid: its record is the order */
		chaos_op ops[] = {
		    op(CHAOS_RESERVE, 0, "a1", R2, 201, "held", "")};
		chaos_order_fact orders[] = {{.rid = R2,
		    .user = "alice",
		    .request_id = "a1",
		    .confirmed_ms = 2500}};
		chaos_hold_fact holds[] = {{.rid = R1,
		    .state = 'X',
		    .user = "alice",
		    .request_id = "a1",
		    .made_ms = 1000,
		    .ended_ms = 4000}};
		assert_int_equal(check(ops, 1, orders, 1, holds, 1, 1, &r), 1);
		assert_int_equal(r.count[CHAOS_REQUEST_ID_TWO_HOLDS], 1);
		/* made after the order's hold was confirmed is a second
		 * ticket too; made long before and ended: fine */
		holds[0].made_ms = 3000;
		assert_int_equal(check(ops, 1, orders, 1, holds, 1, 1, &r), 1);
		holds[0].made_ms = 100;
		holds[0].ended_ms = 200;
		orders[0].confirmed_ms = 90000;
		assert_int_equal(check(ops, 1, orders, 1, holds, 1, 1, &r), 0);
	}
	{ /* over the limit (1), and oversold (total 10) */
		chaos_op ops[] = {op(CHAOS_RESERVE, 0, "a1", R1, 201, "held",
		                      ""),
		    op(CHAOS_RESERVE, 0, "a2", R2, 201, "held", "")};
		chaos_order_fact orders[] = {{.rid = R1,
		                                 .user = "alice",
		                                 .payment_ref = ""},
		    {.rid = R2, .user = "alice", .payment_ref = ""}};
		assert_int_equal(check(ops, 2, orders, 2, NULL, 0, 11, &r), 2);
		assert_int_equal(r.count[CHAOS_OVER_LIMIT], 1);
		assert_int_equal(r.count[CHAOS_OVERSOLD], 1);
		assert_true(r.nexamples == 2);
		assert_non_null(strstr(r.example[0], "over_limit")
		        ? r.example[0]
		        : r.example[1]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_same_seed_gives_the_same_schedule),
	    cmocka_unit_test(
	        faults_fit_the_run_and_never_overlap_on_one_target),
	    cmocka_unit_test(a_clean_history_has_no_violation),
	    cmocka_unit_test(each_broken_promise_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
