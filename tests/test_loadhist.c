/* test_loadhist: trload's latency histogram (buckets, percentiles, merge). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loadhist.h"

/* |got - want| <= want / 64: the documented bucket error. */
static void
assert_near(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;
	if (d * 64 > want)
		fail_msg("got %llu, want %llu (+-1.6%%)",
		    (unsigned long long)got, (unsigned long long)want);
}

static void
small_values_give_exact_percentiles(void **state)
{
	tl_hist h;
	(void)state;

	tl_hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		tl_hist_record(&h, v);
	assert_int_equal(h.count, 100);
	assert_int_equal(h.min, 1);
	assert_int_equal(h.max, 100);
	assert_int_equal(tl_hist_percentile(&h, 50), 50);
	assert_int_equal(tl_hist_percentile(&h, 90), 90);
	assert_int_equal(tl_hist_percentile(&h, 99), 99);
	assert_int_equal(tl_hist_percentile(&h, 99.9), 100);
	assert_int_equal(tl_hist_percentile(&h, 100), 100);
	assert_true(tl_hist_mean(&h) > 50.49 && tl_hist_mean(&h) < 50.51);
}

static void
large_values_stay_within_the_bucket_error(void **state)
{
	tl_hist h;
	(void)state;

	tl_hist_init(&h);
	/* 1 .. 1,000,000 us in steps of 10: a uniform spread. */
	for (uint64_t v = 10; v <= 1000000; v += 10)
		tl_hist_record(&h, v);
	assert_near(tl_hist_percentile(&h, 50), 500000);
	assert_near(tl_hist_percentile(&h, 90), 900000);
	assert_near(tl_hist_percentile(&h, 99), 990000);
	assert_near(tl_hist_percentile(&h, 99.9), 999000);
	assert_int_equal(tl_hist_percentile(&h, 100), 1000000);
	assert_int_equal(h.min, 10);
}

static void
rare_slow_answers_show_in_the_tail_only(void **state)
{
	tl_hist h;
	(void)state;

	/* 990 fast answers and 10 slow ones: p99 is fast, p99.9 is slow. */
	tl_hist_init(&h);
	tl_hist_record_n(&h, 100, 990);
	tl_hist_record_n(&h, 250000, 10);
	assert_int_equal(tl_hist_percentile(&h, 50), 100);
	assert_int_equal(tl_hist_percentile(&h, 99), 100);
	assert_near(tl_hist_percentile(&h, 99.1), 250000);
	assert_near(tl_hist_percentile(&h, 99.9), 250000);
	assert_int_equal(tl_hist_percentile(&h, 100), 250000);
}

static void
empty_histogram_reports_zero(void **state)
{
	tl_hist h;
	(void)state;

	tl_hist_init(&h);
	assert_int_equal(tl_hist_percentile(&h, 50), 0);
	assert_int_equal(tl_hist_percentile(&h, 100), 0);
	assert_true(tl_hist_mean(&h) == 0.0);
	tl_hist_record_n(&h, 5, 0);
	assert_int_equal(h.count, 0);
	assert_int_equal(h.min, UINT64_MAX);
}

static void
merged_threads_equal_one_histogram_of_all_values(void **state)
{
	tl_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	tl_hist *all = malloc(sizeof(*all)), *none = malloc(sizeof(*none));
	uint64_t x = 12345;
	(void)state;

	tl_hist_init(a);
	tl_hist_init(b);
	tl_hist_init(all);
	tl_hist_init(none);
	for (int i = 0; i < 50000; i++) {
		/* xorshift: a spread from 1 us to ~1 s */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = 1 + x % ((i % 2) ? 1000 : 1000000);
		tl_hist_record(i % 3 ? a : b, v);
		tl_hist_record(all, v);
	}
	tl_hist_merge(a, b);
	tl_hist_merge(a, none); /* merging an empty one changes nothing */
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
	assert_int_equal(tl_hist_percentile(a, 99.9),
	    tl_hist_percentile(all, 99.9));

	/* Into an empty one: min must come from src, not stay "empty". */
	tl_hist_merge(none, b);
	assert_int_equal(none->min, b->min);
	assert_int_equal(none->count, b->count);
	free(a);
	free(b);
	free(all);
	free(none);
}

static void
buckets_tile_the_value_range_without_gaps(void **state)
{
	uint64_t prev_hi = 0, lo, hi;
	(void)state;

	for (size_t i = 0; i < TL_HIST_BUCKETS; i++) {
		tl_hist_bucket_range(i, &lo, &hi);
		if (i > 0)
			assert_int_equal(lo, prev_hi + 1);
		assert_true(hi >= lo);
		assert_int_equal(tl_hist_bucket_of(lo), i);
		assert_int_equal(tl_hist_bucket_of(hi), i);
		/* relative width at most 1/64 above the exact range */
		if (i >= TL_HIST_EXACT)
			assert_true((hi - lo + 1) * 64 <= lo);
		prev_hi = hi;
	}
	assert_int_equal(prev_hi + 1, TL_HIST_LIMIT);
}

static void
huge_values_keep_an_exact_max_and_a_saturated_sum(void **state)
{
	tl_hist h;
	(void)state;

	tl_hist_init(&h);
	tl_hist_record(&h, (uint64_t)1 << 50);
	tl_hist_record_n(&h, UINT64_MAX / 2, 4);
	assert_int_equal(h.max, UINT64_MAX / 2);
	assert_int_equal(tl_hist_percentile(&h, 100), UINT64_MAX / 2);
	assert_int_equal(h.buckets[TL_HIST_BUCKETS - 1], 5);
	assert_int_equal(h.sum, UINT64_MAX); /* saturated, not wrapped */
	/* A percentile never leaves [min, max]. */
	assert_true(tl_hist_percentile(&h, 1) >= h.min);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(small_values_give_exact_percentiles),
	    cmocka_unit_test(large_values_stay_within_the_bucket_error),
	    cmocka_unit_test(rare_slow_answers_show_in_the_tail_only),
	    cmocka_unit_test(empty_histogram_reports_zero),
	    cmocka_unit_test(merged_threads_equal_one_histogram_of_all_values),
	    cmocka_unit_test(buckets_tile_the_value_range_without_gaps),
	    cmocka_unit_test(
	        huge_values_keep_an_exact_max_and_a_saturated_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
