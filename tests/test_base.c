/* test_base: the base layer's building blocks (hash map, ids, parsing,
 * error names), linked with trbase alone: what every binary shares must
 * need nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tr_err.h"
#include "tr_ids.h"
#include "tr_map.h"
#include "tr_parse.h"

static void
map_survives_heavy_churn(void **state)
{
	enum { N = 20000 };
	tr_map *m = tr_map_new();
	static char keys[N][16];
	(void)state;

	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(tr_map_put(m, keys[i], &keys[i]), 0);
	}
	assert_int_equal(tr_map_put(m, keys[5], NULL), TR_EDUPLICATE);
	/* Delete every other key; the rest must still be found (backward
	 * shift must not break probe runs). */
	for (int i = 0; i < N; i += 2)
		assert_ptr_equal(tr_map_del(m, keys[i]), &keys[i]);
	assert_int_equal(tr_map_count(m), N / 2);
	for (int i = 0; i < N; i++) {
		void *v = tr_map_get(m, keys[i]);
		if (i % 2)
			assert_ptr_equal(v, &keys[i]);
		else
			assert_null(v);
	}
	assert_null(tr_map_del(m, "absent"));
	tr_map_free(m);
}

static void
ids_accept_only_their_shapes(void **state)
{
	char long_id[80];
	(void)state;

	memset(long_id, 'a', 65);
	long_id[65] = '\0';
	assert_true(tr_event_id_valid("G1234:2027-02-01.second"));
	assert_false(tr_event_id_valid(""));
	assert_false(tr_event_id_valid("a b"));
	assert_false(tr_event_id_valid(long_id));
	long_id[64] = '\0';
	assert_true(tr_event_id_valid(long_id));
	assert_true(tr_user_id_valid("alice@example.com"));
	assert_false(tr_user_id_valid("al\"ice"));
	assert_true(tr_request_id_valid(""));
	assert_false(tr_node_id_valid("n.1"));
	assert_true(tr_payment_ref_valid("PAY 123/xyz"));
	assert_false(tr_payment_ref_valid("bad\nref"));
}

static void
reservation_ids_name_their_node_and_event_and_reject_forgeries(void **state)
{
	char rid[TR_RID_MAX + 1], node[TR_NODE_ID_MAX + 1];
	char event[TR_EVENT_ID_MAX + 1];
	char longest[TR_EVENT_ID_MAX + 1];
	(void)state;

	tr_rid_format(rid, "node-7", 0x0123456789abcdefULL, "G1234.2027:x-y");
	assert_string_equal(rid, "node-7.0123456789abcdef.G1234.2027:x-y");
	assert_true(tr_rid_parse(rid, node, event));
	assert_string_equal(node, "node-7");
	assert_string_equal(event, "G1234.2027:x-y");
	assert_true(tr_rid_parse(rid, node, NULL));
	/* The longest ids fit the buffers. */
	memset(longest, 'e', TR_EVENT_ID_MAX);
	longest[TR_EVENT_ID_MAX] = '\0';
	tr_rid_format(rid, "nnnnnnnnnnnnnnnn", 1, longest);
	assert_int_equal(strlen(rid), TR_RID_MAX);
	assert_true(tr_rid_parse(rid, node, event));
	assert_string_equal(event, longest);
	/* Forgeries and ids of the old shape. */
	assert_false(tr_rid_parse("node-7.0123456789ABCDEF.E", node, event));
	assert_false(tr_rid_parse("node-7.0123456789abcdef", node, event));
	assert_false(tr_rid_parse("node-7.0123456789abcdef.", node, event));
	assert_false(tr_rid_parse("node-7.0123.E", node, event));
	assert_false(tr_rid_parse(".0123456789abcdef.E", node, event));
	assert_false(tr_rid_parse("n/1.0123456789abcdef.E", node, event));
	assert_false(tr_rid_parse("n1.0123456789abcdef.E/x", node, event));
	assert_false(tr_rid_parse("no-dot", node, event));
	/* Two ids in a row differ (random part from the kernel). */
	assert_true(tr_random_u64() != tr_random_u64());
}

static void
durations_and_numbers_are_strict(void **state)
{
	uint64_t v;
	int64_t t;
	char host[64];
	int port;
	(void)state;

	assert_int_equal(tr_parse_duration_ms("15m", UINT64_MAX, &v), 0);
	assert_int_equal(v, 900000);
	assert_int_equal(tr_parse_duration_ms("250ms", UINT64_MAX, &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(tr_parse_duration_ms("2", UINT64_MAX, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(tr_parse_duration_ms("2d", UINT64_MAX, &v),
	    TR_EINVALID);
	assert_int_equal(tr_parse_duration_ms("25h", 24 * 3600 * 1000, &v),
	    TR_EINVALID);
	assert_int_equal(tr_parse_u64("18446744073709551616", 0, UINT64_MAX,
	                     &v),
	    TR_EINVALID);
	assert_int_equal(tr_parse_u64("-1", 0, 10, &v), TR_EINVALID);
	assert_int_equal(tr_parse_time_ms("2027-02-01T08:00:00Z", 0, &t), 0);
	assert_int_equal(t, 1801468800000LL);
	assert_int_equal(tr_parse_time_ms("+30s", 1000, &t), 0);
	assert_int_equal(t, 31000);
	assert_int_equal(tr_parse_time_ms("yesterday", 0, &t), TR_EINVALID);
	assert_int_equal(tr_parse_hostport("127.0.0.1:6379", host,
	                     sizeof(host), &port),
	    0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(tr_parse_hostport("127.0.0.1:0", host, sizeof(host),
	                     &port),
	    TR_EINVALID);
}

static void
errors_have_the_api_words_for_names(void **state)
{
	(void)state;
	assert_string_equal(tr_strerror(TR_OK), "ok");
	assert_string_equal(tr_strerror(TR_ESOLD_OUT), "sold_out");
	assert_string_equal(tr_strerror(TR_ELIMIT), "limit_exceeded");
	assert_string_equal(tr_strerror(TR_EPROTO), "protocol_error");
	assert_string_equal(tr_strerror(12345), "unknown_error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(map_survives_heavy_churn),
	    cmocka_unit_test(ids_accept_only_their_shapes),
	    cmocka_unit_test(
	        reservation_ids_name_their_node_and_event_and_reject_forgeries),
	    cmocka_unit_test(durations_and_numbers_are_strict),
	    cmocka_unit_test(errors_have_the_api_words_for_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
