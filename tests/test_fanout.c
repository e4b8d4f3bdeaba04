/* test_fanout: the gateway's fan-out decisions, apart from any socket:
 * which nodes a reservation skips, when it stops asking and what the
 * client hears, and where a confirm or release goes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fanout.h"
#include "tr_err.h"

#define N(i) ((tr_node_mask)1 << (i))

static void
a_node_that_said_sold_out_or_did_not_answer_is_not_asked_again(void **st)
{
	tr_fanout f;
	(void)st;

	tr_fanout_start(&f, N(3)); /* the sold-out cache skips node 3 */
	assert_int_equal(tr_fanout_exclude(&f), N(3));
	assert_true(tr_fanout_reserve_answer(&f, 0, TR_ESOLD_OUT, false));
	assert_true(tr_fanout_reserve_answer(&f, 1, 0, true));
	assert_true(tr_fanout_reserve_answer(&f, 2, TR_EOVERLOADED, false));
	assert_int_equal(tr_fanout_exclude(&f), N(0) | N(1) | N(2) | N(3));
}

static void
an_answer_with_a_hold_or_a_refusal_of_the_buyer_is_final(void **st)
{
	static const int final[] = {0, TR_ELIMIT, TR_EDUPLICATE, TR_ENOT_OPEN,
	    TR_EINVALID, TR_EINTERNAL};
	tr_fanout f;
	(void)st;

	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++) {
		tr_fanout_start(&f, 0);
		assert_false(tr_fanout_reserve_answer(&f, 1, final[i], false));
		assert_int_equal(tr_fanout_exclude(&f), 0);
	}
}

static void
every_usable_node_sold_out_is_a_cached_sold_out(void **st)
{
	tr_fanout f;
	(void)st;

	tr_fanout_start(&f, 0);
	tr_fanout_reserve_answer(&f, 0, TR_ESOLD_OUT, false);
	tr_fanout_reserve_answer(&f, 1, TR_ESOLD_OUT, false);
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1)),
	    TR_FANOUT_ALL_SOLD_OUT);
	/* A usable node not asked yet: not all of them said it. */
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1) | N(2)),
	    TR_FANOUT_UNAVAILABLE);
	/* The others are down: sold out, but not for the cache. */
	assert_int_equal(tr_fanout_verdict(&f, 0), TR_FANOUT_SOLD_OUT);
}

static void
a_node_that_timed_out_keeps_the_answer_from_being_sold_out(void **st)
{
	tr_fanout f;
	(void)st;

	/* It may have stock: the client is told to retry, not sold out. */
	tr_fanout_start(&f, 0);
	tr_fanout_reserve_answer(&f, 0, TR_ESOLD_OUT, false);
	tr_fanout_reserve_answer(&f, 1, TR_ETIMEDOUT, true);
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1)),
	    TR_FANOUT_UNAVAILABLE);
	/* Nobody answered at all. */
	tr_fanout_start(&f, 0);
	tr_fanout_reserve_answer(&f, 0, 0, true);
	assert_int_equal(tr_fanout_verdict(&f, N(0)), TR_FANOUT_UNAVAILABLE);
	assert_int_equal(tr_fanout_verdict(&f, 0), TR_FANOUT_UNAVAILABLE);
}

static void
unknown_everywhere_is_no_such_event_and_unknown_beside_sold_out_is_not(
    void **st)
{
	tr_fanout f;
	(void)st;

	tr_fanout_start(&f, 0);
	assert_true(tr_fanout_reserve_answer(&f, 0, TR_ENOT_FOUND, false));
	assert_true(tr_fanout_reserve_answer(&f, 1, TR_ENOT_FOUND, false));
	assert_int_equal(tr_fanout_exclude(&f), N(0) | N(1));
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1)),
	    TR_FANOUT_NO_EVENT);
	/* One node knows it and sold it all: the event exists. */
	tr_fanout_reserve_answer(&f, 2, TR_ESOLD_OUT, false);
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1) | N(2)),
	    TR_FANOUT_ALL_SOLD_OUT);
	/* A node that can answer was not asked: not "no such event". */
	tr_fanout_start(&f, 0);
	tr_fanout_reserve_answer(&f, 0, TR_ENOT_FOUND, false);
	assert_int_equal(tr_fanout_verdict(&f, N(0) | N(1)),
	    TR_FANOUT_UNAVAILABLE);
}

static void
a_confirm_goes_home_while_home_answers_then_anywhere_once(void **st)
{
	tr_fanout f = {0};
	(void)st;

	assert_int_equal(tr_fanout_routed_target(&f, 2, N(0) | N(2)), 2);
	/* Home is not usable now, or names no node: any other. */
	assert_int_equal(tr_fanout_routed_target(&f, 2, N(0)), -1);
	assert_int_equal(tr_fanout_routed_target(&f, -1, N(0) | N(2)), -1);
	/* Home did not answer: it is excluded, each node tried once. */
	assert_true(tr_fanout_routed_answer(&f, 2, TR_EUNAVAILABLE, false));
	assert_int_equal(tr_fanout_routed_target(&f, 2, N(0) | N(2)), -1);
	assert_int_equal(tr_fanout_exclude(&f), N(2));
	assert_true(tr_fanout_routed_answer(&f, 0, 0, true));
	assert_int_equal(tr_fanout_exclude(&f), N(0) | N(2));
	/* A refusal is the answer: expired, not the owner, paid twice. */
	assert_false(tr_fanout_routed_answer(&f, 1, TR_EEXPIRED, false));
	assert_false(tr_fanout_routed_answer(&f, 1, TR_ECONFLICT, false));
	assert_false(tr_fanout_routed_answer(&f, 1, 0, false));
}

static void
nodes_out_of_range_change_nothing(void **st)
{
	tr_fanout f;
	(void)st;

	tr_fanout_start(&f, 0);
	tr_fanout_reserve_answer(&f, TR_NODES_MAX, TR_ESOLD_OUT, false);
	tr_fanout_reserve_answer(&f, -1, 0, true);
	assert_int_equal(tr_fanout_exclude(&f), 0);
	assert_int_equal(tr_fanout_routed_target(&f, TR_NODES_MAX, ~0u), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        a_node_that_said_sold_out_or_did_not_answer_is_not_asked_again),
	    cmocka_unit_test(
	        an_answer_with_a_hold_or_a_refusal_of_the_buyer_is_final),
	    cmocka_unit_test(every_usable_node_sold_out_is_a_cached_sold_out),
	    cmocka_unit_test(
	        a_node_that_timed_out_keeps_the_answer_from_being_sold_out),
	    cmocka_unit_test(
	        unknown_everywhere_is_no_such_event_and_unknown_beside_sold_out_is_not),
	    cmocka_unit_test(
	        a_confirm_goes_home_while_home_answers_then_anywhere_once),
	    cmocka_unit_test(nodes_out_of_range_change_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
