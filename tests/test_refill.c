/* test_refill: how much stock a node asks for, and when it asks ahead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "refill.h"

static void
grant_size_follows_the_rate_of_sale_within_its_bounds(void **state)
{
	tr_refill r;
	(void)state;

	tr_refill_init(&r, 8, 1000, 250, 0);
	/* Nothing sold: the smallest grant. */
	assert_int_equal(tr_refill_batch(&r), 8);
	assert_int_equal(tr_refill_low_water(&r), 2);
	/* 2,000 a second: 250 ms of it is 500, at once (a rush starts in a
	 * step). */
	tr_refill_observe(&r, 200, 100);
	assert_int_equal(tr_refill_batch(&r), 500);
	assert_int_equal(tr_refill_low_water(&r), 125);
	/* The rush pauses: the rate decays, not at once. */
	tr_refill_observe(&r, 200, 200);
	assert_true(tr_refill_batch(&r) < 500);
	assert_true(tr_refill_batch(&r) > 400);
	/* 100,000 a second: capped. */
	tr_refill_observe(&r, 10200, 300);
	assert_int_equal(tr_refill_batch(&r), 1000);
	/* Quiet for long: back to the smallest grant. */
	for (int64_t t = 400; t < 20000; t += 100)
		tr_refill_observe(&r, 10200, t);
	assert_int_equal(tr_refill_batch(&r), 8);
	/* A counter that went back (event reset) starts over. */
	tr_refill_observe(&r, 5, 20100);
	assert_int_equal(tr_refill_batch(&r), 8);
}

static void
one_sale_right_after_the_start_does_not_ask_for_the_pool(void **state)
{
	tr_refill r;
	(void)state;

	/* The event was attached at 1000 ms and its first sale is seen at
	 * 1001 ms: over 1 ms that would be 1,000 a second, a grant of 250
	 * that takes a small event's whole pool from the other nodes. */
	tr_refill_init(&r, 8, 4096, 250, 1000);
	tr_refill_observe(&r, 1, 1001);
	assert_int_equal(tr_refill_batch(&r), 8);
	/* Measured at the next tick, over 10 ms: 100 a second, 25. */
	tr_refill_observe(&r, 1, 1010);
	assert_int_equal(tr_refill_batch(&r), 25);
}

static void
a_node_asks_ahead_only_while_it_sells(void **state)
{
	tr_refill r;
	(void)state;

	tr_refill_init(&r, 8, 1000, 250, 0);
	/* Never sold: never asks, whatever is left. */
	assert_false(tr_refill_ask_ahead(&r, 0, 5000, 0));
	/* Sold a moment ago, two left of a batch of 8: asks. */
	assert_true(tr_refill_ask_ahead(&r, 4900, 5000, 2));
	assert_false(tr_refill_ask_ahead(&r, 4900, 5000, 3));
	/* Last sale too long ago: lets others have the stock. */
	assert_false(tr_refill_ask_ahead(&r, 5000 - TR_REFILL_RECENT_MS,
	    5000, 0));
}

static void
idle_lease_goes_back_unless_disabled(void **state)
{
	(void)state;
	assert_false(tr_refill_idle(1000, 5999, 5000));
	assert_true(tr_refill_idle(1000, 6000, 5000));
	assert_false(tr_refill_idle(0, 1000000, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
		grant_size_follows_the_rate_of_sale_within_its_bounds),
	    cmocka_unit_test(
		one_sale_right_after_the_start_does_not_ask_for_the_pool),
	    cmocka_unit_test(a_node_asks_ahead_only_while_it_sells),
	    cmocka_unit_test(idle_lease_goes_back_unless_disabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
