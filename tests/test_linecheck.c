/* test_linecheck: the waitlist's verdict figures (order violations from the
 * offer log and the entries, return-to-offer times, tickets unsold while
 * buyers waited). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linecheck.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static tl_order_check
check(const tl_offer *o, size_t n, const tl_entry *e, size_t m)
{
	tl_order_check r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(tl_line_order_check(o, n, e, m, &r), 0);
	return r;
}

static void
offers_in_join_order_to_everyone_are_no_violation(void **state)
{
	tl_offer o[] = {{1, 0, 100}, {2, 0, 100}, {3, 0, 250}};
	tl_entry e[] = {{1, 'C', true, 300}, {2, 'X', true, 400},
	    {3, 'C', true, 500}, {4, 'W', false, 90}};
	tl_order_check r = check(o, 3, e, 4);
	(void)state;

	assert_int_equal(r.offers, 3);
	assert_int_equal(r.waiting, 1);
	assert_int_equal(r.violations, 0);
}

static void
an_offer_past_a_buyer_still_waiting_is_a_violation(void **state)
{
	/* Join number 2 waits to the end; 3 and 4 were served. */
	tl_offer o[] = {{1, 0, 100}, {3, 0, 200}, {4, 0, 300}};
	tl_entry e[] = {{2, 'W', false, 50}};
	tl_order_check r = check(o, 3, e, 1);
	(void)state;

	assert_int_equal(r.violations, 2);
	assert_int_equal(r.first_index, 1);
	assert_int_equal(r.first_offer_seq, 3);
	assert_int_equal(r.first_waiting_seq, 2);
}

static void
an_offer_before_one_to_an_earlier_joiner_is_a_violation(void **state)
{
	/* 3 was served before 2, who waited for it: one violation, the
	 * offer to 3. The offer to 2 itself is in order. */
	tl_offer o[] = {{1, 0, 100}, {3, 0, 200}, {2, 0, 300}, {4, 0, 400}};
	tl_order_check r = check(o, 4, NULL, 0);
	(void)state;

	assert_int_equal(r.violations, 1);
	assert_int_equal(r.first_index, 1);
	assert_int_equal(r.first_offer_seq, 3);
	assert_int_equal(r.first_waiting_seq, 2);
}

static void
a_buyer_who_left_before_the_offer_is_passed_over_fairly(void **state)
{
	tl_offer o[] = {{3, 0, 200}};
	tl_entry left[] = {{2, 'L', false, 150}};
	tl_entry skipped[] = {{2, 'S', false, 200}};
	(void)state;

	assert_int_equal(check(o, 1, left, 1).violations, 0);
	/* Skipped in the same script that made the offer: the same ms. */
	assert_int_equal(check(o, 1, skipped, 1).violations, 0);
}

static void
a_buyer_who_left_after_the_offer_was_passed_over(void **state)
{
	tl_offer o[] = {{3, 0, 200}};
	tl_entry e[] = {{2, 'L', false, 201}};
	tl_order_check r = check(o, 1, e, 1);
	(void)state;

	assert_int_equal(r.violations, 1);
	assert_int_equal(r.first_waiting_seq, 2);
	assert_int_equal(r.waiting, 0);
}

static void
entries_with_an_offer_are_judged_by_the_log_alone(void **state)
{
	/* 2's entry says it left at 500, after an offer: its offer is in
	 * the log at 150, before the offer to 3. Inconsistent entries (an
	 * 'X' without an offer) are ignored. */
	tl_offer o[] = {{2, 0, 150}, {3, 0, 200}};
	tl_entry e[] = {{2, 'L', true, 500}, {1, 'X', false, 900}};
	(void)state;

	assert_int_equal(check(o, 2, e, 2).violations, 0);
}

static void
offer_times_that_step_back_are_clamped(void **state)
{
	/* The clock went back 50 ms between the offers. The log says the
	 * offer to 3 came after the one to 1 (at 200), so 2, who left at
	 * 180, had gone: read at face value (150) it would be a violation
	 * that did not happen. 4, who left at 250, was passed over. */
	tl_offer o[] = {{1, 0, 200}, {3, 0, 150}};
	tl_entry left_before[] = {{2, 'L', false, 180}};
	tl_entry left_after[] = {{2, 'L', false, 250}};
	tl_order_check r;
	(void)state;

	assert_int_equal(check(o, 2, left_before, 1).violations, 0);
	r = check(o, 2, left_after, 1);
	assert_int_equal(r.violations, 1);
	assert_int_equal(r.first_index, 1);
}

static void
nothing_to_check_is_no_violation(void **state)
{
	tl_order_check r = check(NULL, 0, NULL, 0);
	tl_entry e[] = {{5, 'W', false, 1}};
	(void)state;

	assert_int_equal(r.offers, 0);
	assert_int_equal(r.violations, 0);
	r = check(NULL, 0, e, 1);
	assert_int_equal(r.waiting, 1);
	assert_int_equal(r.violations, 0);
}

/* The definition, literally: offer k is a violation if some smaller join
 * number was waiting at it: offered after k, or never offered and gone
 * after k's time (or never gone). O(n * (n + m)). */
static uint64_t
violations_by_definition(const tl_offer *o, size_t n, const tl_entry *e,
    size_t m)
{
	uint64_t v = 0;

	for (size_t k = 0; k < n; k++) {
		bool bad = false;
		for (size_t j = k + 1; j < n && !bad; j++)
			bad = o[j].seq < o[k].seq;
		for (size_t i = 0; i < m && !bad; i++)
			bad = !e[i].offered && e[i].seq < o[k].seq &&
			    (e[i].state == 'W' ||
			        ((e[i].state == 'L' || e[i].state == 'S') &&
			            e[i].t_ms > o[k].offer_ms));
		v += bad;
	}
	return v;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
the_fast_check_agrees_with_the_definition(void **state)
{
	enum { BUYERS = 300, ROUNDS = 200 };
	static tl_offer o[BUYERS];
	static tl_entry e[BUYERS];
	uint64_t seed = 0x9e3779b97f4a7c15ULL, found = 0;
	(void)state;

	/* A line served mostly in order, with buyers leaving, and now and
	 * then an offer to the second in line instead of the first. */
	for (int round = 0; round < ROUNDS; round++) {
		size_t n = 0, head = 0;
		int64_t now = 1000;
		bool gone[BUYERS] = {false};
		for (size_t i = 0; i < BUYERS; i++)
			e[i] = (tl_entry){i + 1, 'W', false, 0};
		while (head < BUYERS) {
			size_t pick = head;
			now += (int64_t)(rnd(&seed) % 3);
			while (pick < BUYERS && gone[pick])
				pick++;
			if (pick == BUYERS)
				break;
			if (rnd(&seed) % 7 == 0) { /* a buyer leaves */
				size_t l = pick + rnd(&seed) % 4;
				if (l < BUYERS && !gone[l]) {
					gone[l] = true;
					e[l].state = 'L';
					e[l].t_ms = now;
				}
				continue;
			}
			if (rnd(&seed) % 53 == 0) { /* served out of order */
				size_t p2 = pick + 1;
				while (p2 < BUYERS && gone[p2])
					p2++;
				if (p2 < BUYERS)
					pick = p2;
			}
			gone[pick] = true;
			e[pick].offered = true;
			e[pick].state = 'C';
			o[n++] = (tl_offer){pick + 1, now - 5, now};
			while (head < BUYERS && gone[head])
				head++;
			if (rnd(&seed) % 5 == 0)
				break; /* the rest wait still */
		}
		tl_order_check r = check(o, n, e, BUYERS);
		assert_int_equal(r.violations,
		    violations_by_definition(o, n, e, BUYERS));
		found += r.violations;
	}
	/* The generator did make violations to find. */
	assert_true(found > 0);
}

static void
return_times_are_offer_minus_return_never_negative(void **state)
{
	/* A refund is offered in its own script (0 ms); an expired hold at
	 * the sweep after its deadline; a clock that stepped back gives 0. */
	tl_offer o[] = {{1, 5000, 5000}, {2, 5000, 6200}, {3, 7000, 6900}};
	tl_hist h;
	(void)state;

	tl_hist_init(&h);
	tl_line_return_times(o, N_ELEMS(o), &h);
	assert_int_equal(h.count, 3);
	assert_int_equal(h.min, 0);
	assert_int_equal(h.max, 1200);
	assert_int_equal(tl_hist_percentile(&h, 50), 0);
	assert_int_equal(tl_hist_percentile(&h, 99), 1200);
}

static void
unsold_tickets_count_only_when_they_sat_past_the_grace(void **state)
{
	/* 0-250: a ticket in the pool for a moment (a sync behind);
	 * 1000-2250: three tickets sit there for 1.25 s with buyers in
	 * line; 3000-: tickets in the pool but nobody waits. */
	tl_line_sample s[] = {{0, 5, 1}, {250, 5, 1}, {500, 5, 0},
	    {1000, 4, 3}, {1250, 4, 3}, {1500, 4, 2}, {1750, 4, 3},
	    {2000, 4, 3}, {2250, 4, 3}, {2500, 4, 0}, {3000, 0, 9},
	    {5000, 0, 9}};
	(void)state;

	assert_int_equal(tl_line_unsold_while_waiting(s, 3, 1000), 0);
	assert_int_equal(tl_line_unsold_while_waiting(s, N_ELEMS(s), 1000), 3);
	assert_int_equal(tl_line_unsold_while_waiting(s, N_ELEMS(s), 0), 3);
	assert_int_equal(tl_line_unsold_while_waiting(s, N_ELEMS(s), 5000), 0);
	assert_int_equal(tl_line_unsold_while_waiting(NULL, 0, 1000), 0);
}

static void
sample_times_from_a_file_cannot_overflow(void **state)
{
	tl_line_sample s[] = {{INT64_MIN, 1, 1}, {INT64_MAX, 1, 2}};
	(void)state;

	assert_int_equal(tl_line_unsold_while_waiting(s, 2, 1000), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        offers_in_join_order_to_everyone_are_no_violation),
	    cmocka_unit_test(
	        an_offer_past_a_buyer_still_waiting_is_a_violation),
	    cmocka_unit_test(
	        an_offer_before_one_to_an_earlier_joiner_is_a_violation),
	    cmocka_unit_test(
	        a_buyer_who_left_before_the_offer_is_passed_over_fairly),
	    cmocka_unit_test(a_buyer_who_left_after_the_offer_was_passed_over),
	    cmocka_unit_test(
	        entries_with_an_offer_are_judged_by_the_log_alone),
	    cmocka_unit_test(offer_times_that_step_back_are_clamped),
	    cmocka_unit_test(nothing_to_check_is_no_violation),
	    cmocka_unit_test(the_fast_check_agrees_with_the_definition),
	    cmocka_unit_test(
	        return_times_are_offer_minus_return_never_negative),
	    cmocka_unit_test(
	        unsold_tickets_count_only_when_they_sat_past_the_grace),
	    cmocka_unit_test(sample_times_from_a_file_cannot_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
