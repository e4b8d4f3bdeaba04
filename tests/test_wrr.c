/* test_wrr: the gateway's smooth weighted round-robin against nginx's
 * worked example, exact splits, and failure accounting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wrr.h"

static void
nginx_worked_example_5_1_1_gives_a_a_b_a_c_a_a(void **state)
{
	tr_wrr w;
	char seq[8] = {0};
	(void)state;

	tr_wrr_init(&w);
	assert_int_equal(tr_wrr_add(&w, "a", 5, 0, 0), 0);
	assert_int_equal(tr_wrr_add(&w, "b", 1, 0, 0), 1);
	assert_int_equal(tr_wrr_add(&w, "c", 1, 0, 0), 2);
	for (int i = 0; i < 7; i++)
		seq[i] = w.peers[tr_wrr_pick(&w, 0, 0)].id[0];
	assert_string_equal(seq, "aabacaa");
}

static void
weights_1_2_3_4_split_10000_picks_exactly(void **state)
{
	tr_wrr w;
	int count[4] = {0};
	(void)state;

	tr_wrr_init(&w);
	tr_wrr_add(&w, "n1", 1, 3, 10000);
	tr_wrr_add(&w, "n2", 2, 3, 10000);
	tr_wrr_add(&w, "n3", 3, 3, 10000);
	tr_wrr_add(&w, "n4", 4, 3, 10000);
	for (int i = 0; i < 10000; i++)
		count[tr_wrr_pick(&w, 0, 1000)]++;
	assert_int_equal(count[0], 1000);
	assert_int_equal(count[1], 2000);
	assert_int_equal(count[2], 3000);
	assert_int_equal(count[3], 4000);
}

static void
excluded_and_disconnected_peers_are_skipped(void **state)
{
	tr_wrr w;
	(void)state;

	tr_wrr_init(&w);
	tr_wrr_add(&w, "a", 1, 0, 0);
	tr_wrr_add(&w, "b", 1, 0, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(tr_wrr_pick(&w, 1u << 0, 0), 1);
	tr_wrr_set_connected(&w, 1, false);
	assert_int_equal(tr_wrr_pick(&w, 1u << 0, 0), -1);
	assert_int_equal(tr_wrr_pick(&w, 0, 0), 0);
	assert_false(tr_wrr_usable(&w, 1, 0));
}

static void
peer_failing_max_fails_times_is_out_until_fail_timeout(void **state)
{
	tr_wrr w;
	int64_t t = 1000;
	(void)state;

	tr_wrr_init(&w);
	tr_wrr_add(&w, "a", 1, 3, 10000);
	tr_wrr_add(&w, "b", 1, 3, 10000);
	for (int i = 0; i < 3; i++)
		tr_wrr_failed(&w, 0, t);
	/* Within fail_timeout only b is picked. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(tr_wrr_pick(&w, 0, t + 5000), 1);
	assert_false(tr_wrr_usable(&w, 0, t + 10000));
	/* After it, a is tried again; one success forgets the failures. */
	assert_true(tr_wrr_usable(&w, 0, t + 10001));
	int got_a = 0;
	for (int i = 0; i < 4; i++)
		if (tr_wrr_pick(&w, 0, t + 10001) == 0)
			got_a = 1;
	assert_true(got_a);
	tr_wrr_succeeded(&w, 0, t + 10002);
	assert_int_equal(w.peers[0].fails, 0);
}

static void
effective_weight_drops_on_failure_and_recovers_one_per_pick(void **state)
{
	tr_wrr w;
	(void)state;

	tr_wrr_init(&w);
	tr_wrr_add(&w, "a", 10, 2, 10000);
	tr_wrr_add(&w, "b", 10, 2, 10000);
	tr_wrr_failed(&w, 0, 0); /* -10/2 */
	assert_int_equal(w.peers[0].effective_weight, 5);
	tr_wrr_failed(&w, 0, 0);
	assert_int_equal(w.peers[0].effective_weight, 0);
	/* Out for now (2 fails); later, each pick gives one back. */
	tr_wrr_pick(&w, 0, 20001);
	assert_int_equal(w.peers[0].effective_weight, 1);
	tr_wrr_pick(&w, 0, 20001);
	assert_int_equal(w.peers[0].effective_weight, 2);
}

static void
bad_peers_are_refused(void **state)
{
	tr_wrr w;
	(void)state;
	tr_wrr_init(&w);
	assert_int_equal(tr_wrr_add(&w, "a", 0, 0, 0), -1);
	assert_int_equal(tr_wrr_add(&w, "bad.id", 1, 0, 0), -1);
	assert_int_equal(tr_wrr_add(&w, "a", 1, 0, 0), 0);
	assert_int_equal(tr_wrr_add(&w, "a", 1, 0, 0), -1);
	assert_int_equal(tr_wrr_find(&w, "a"), 0);
	assert_int_equal(tr_wrr_find(&w, "z"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nginx_worked_example_5_1_1_gives_a_a_b_a_c_a_a),
	    cmocka_unit_test(weights_1_2_3_4_split_10000_picks_exactly),
	    cmocka_unit_test(excluded_and_disconnected_peers_are_skipped),
	    cmocka_unit_test(
	        peer_failing_max_fails_times_is_out_until_fail_timeout),
	    cmocka_unit_test(
	        effective_weight_drops_on_failure_and_recovers_one_per_pick),
	    cmocka_unit_test(bad_peers_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
