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
	assert_false(
	    tr_refill_ask_ahead(&r, 5000 - TR_REFILL_RECENT_MS, 5000, 0));
}

/* The fraction of a rate of 4,000 a second left after one second without
 * a sale, observed in ticks of tick_ms. */
static double
rate_left_after_a_quiet_second(int64_t tick_ms)
{
	tr_refill r;
	uint64_t before;

	/* A horizon of 1 s: the batch is the rate itself. */
	tr_refill_init(&r, 1, 1000000, 1000, 0);
	tr_refill_observe(&r, 400, 100);
	before = tr_refill_batch(&r);
	assert_int_equal(before, 4000);
	for (int64_t t = 100 + tick_ms; t <= 1100; t += tick_ms)
		tr_refill_observe(&r, 400, t);
	return (double)tr_refill_batch(&r) / (double)before;
}

static void
a_rate_decays_over_about_a_second_whatever_the_tick(void **state)
{
	double coarse, fine;
	(void)state;

	/* Smoothed over about one second: e^-1 (0.37) of it is left after
	 * one, 0.39 with ticks of 100 ms. A time constant off by a factor
	 * of two leaves 0.16 or 0.61. */
	coarse = rate_left_after_a_quiet_second(100);
	fine = rate_left_after_a_quiet_second(10);
	print_message("left after 1 s: %.3f (100 ms ticks), %.3f (10 ms)\n",
	    coarse, fine);
	assert_true(coarse > 0.30 && coarse < 0.45);
	assert_true(fine > 0.30 && fine < 0.45);
}

static void
sales_seen_in_a_tick_of_no_time_are_counted_at_the_next(void **state)
{
	tr_refill r;
	(void)state;

	tr_refill_init(&r, 1, 1000000, 1000, 0);
	/* Two ticks in the same millisecond: no rate from no time, and the
	 * 100 sales are not forgotten. */
	tr_refill_observe(&r, 100, 0);
	assert_int_equal(tr_refill_batch(&r), 1);
	tr_refill_observe(&r, 100, 100);
	assert_int_equal(tr_refill_batch(&r), 1000);
	/* A clock read that went back is ignored the same way. */
	tr_refill_observe(&r, 300, 50);
	assert_int_equal(tr_refill_batch(&r), 1000);
	tr_refill_observe(&r, 300, 200);
	assert_int_equal(tr_refill_batch(&r), 2000);
}

static void
settings_left_at_zero_take_the_documented_defaults(void **state)
{
	tr_refill r;
	(void)state;

	tr_refill_init(&r, 0, 0, 0, 0);
	assert_int_equal(r.min_batch, 8);
	assert_int_equal(r.max_batch, 4096);
	assert_int_equal(r.horizon_ms, 250);
	/* A maximum under the minimum is no bound either. */
	tr_refill_init(&r, 16, 4, 100, 0);
	assert_int_equal(r.max_batch, 4096);
	tr_refill_observe(&r, 1000000, 1000);
	assert_int_equal(tr_refill_batch(&r), 4096);
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
	    cmocka_unit_test(
	        a_rate_decays_over_about_a_second_whatever_the_tick),
	    cmocka_unit_test(
	        sales_seen_in_a_tick_of_no_time_are_counted_at_the_next),
	    cmocka_unit_test(
	        settings_left_at_zero_take_the_documented_defaults),
	    cmocka_unit_test(a_node_asks_ahead_only_while_it_sells),
	    cmocka_unit_test(idle_lease_goes_back_unless_disabled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
