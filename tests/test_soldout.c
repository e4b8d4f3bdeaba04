/* test_soldout: the gateway's sold-out cache: fan-out marks, the cached
 * answer for the flood, and exactly one re-probe at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "soldout.h"

static void
a_sold_out_node_is_skipped_for_that_event_only(void **state)
{
	tr_soldout s;
	tr_node_mask ex;
	(void)state;

	tr_soldout_init(&s, 4, 100);
	tr_soldout_mark_node(&s, "E", 2, 1000);
	assert_int_equal(tr_soldout_check(&s, "E", 1050, &ex),
	    TR_SOLDOUT_FORWARD);
	assert_int_equal(ex, 1u << 2);
	assert_int_equal(tr_soldout_check(&s, "F", 1050, &ex),
	    TR_SOLDOUT_FORWARD);
	assert_int_equal(ex, 0);
	/* The mark lapses after the TTL. */
	tr_soldout_check(&s, "E", 1101, &ex);
	assert_int_equal(ex, 0);
}

static void
all_sold_out_answers_the_flood_then_probes_once(void **state)
{
	tr_soldout s;
	tr_node_mask ex;
	(void)state;

	tr_soldout_init(&s, 4, 100);
	tr_soldout_mark_all(&s, "E", 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(tr_soldout_check(&s, "E", 1099, &ex),
		    TR_SOLDOUT_ANSWER);
	assert_int_equal(s.hits, 1000);
	/* Stale: the first request probes, the rest keep the answer. */
	assert_int_equal(tr_soldout_check(&s, "E", 1100, &ex),
	    TR_SOLDOUT_PROBE);
	assert_int_equal(ex, 0);
	assert_int_equal(tr_soldout_check(&s, "E", 1100, &ex),
	    TR_SOLDOUT_ANSWER);
	/* The probe found stock: everyone goes upstream again. */
	tr_soldout_clear(&s, "E", 1);
	assert_int_equal(tr_soldout_check(&s, "E", 1101, &ex),
	    TR_SOLDOUT_FORWARD);
}

static void
a_failed_probe_lets_the_next_request_probe(void **state)
{
	tr_soldout s;
	tr_node_mask ex;
	(void)state;

	tr_soldout_init(&s, 2, 100);
	tr_soldout_mark_all(&s, "E", 0);
	assert_int_equal(tr_soldout_check(&s, "E", 200, &ex),
	    TR_SOLDOUT_PROBE);
	tr_soldout_probe_failed(&s, "E");
	assert_int_equal(tr_soldout_check(&s, "E", 200, &ex),
	    TR_SOLDOUT_PROBE);
	/* Still sold out everywhere: cached again for a TTL. */
	tr_soldout_mark_all(&s, "E", 200);
	assert_int_equal(tr_soldout_check(&s, "E", 250, &ex),
	    TR_SOLDOUT_ANSWER);
}

static void
the_table_is_bounded(void **state)
{
	tr_soldout s;
	char id[16];
	tr_node_mask ex;
	(void)state;

	tr_soldout_init(&s, 2, 100);
	for (int i = 0; i < TR_SOLDOUT_EVENTS_MAX * 3; i++) {
		snprintf(id, sizeof(id), "E%d", i);
		tr_soldout_mark_all(&s, id, i);
	}
	assert_int_equal(s.count, TR_SOLDOUT_EVENTS_MAX);
	/* The newest is remembered, the oldest forgotten. */
	snprintf(id, sizeof(id), "E%d", TR_SOLDOUT_EVENTS_MAX * 3 - 1);
	assert_int_equal(tr_soldout_check(&s, id, 800, &ex),
	    TR_SOLDOUT_ANSWER);
	assert_int_equal(tr_soldout_check(&s, "E0", 800, &ex),
	    TR_SOLDOUT_FORWARD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_sold_out_node_is_skipped_for_that_event_only),
	    cmocka_unit_test(all_sold_out_answers_the_flood_then_probes_once),
	    cmocka_unit_test(a_failed_probe_lets_the_next_request_probe),
	    cmocka_unit_test(the_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
