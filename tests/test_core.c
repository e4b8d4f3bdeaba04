/* test_core: the shared building blocks (hash map, ids, parsing, reading
 * the coordinator's refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tr_coord.h"
#include "tr_envelope.h"
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
	    &v), TR_EINVALID);
	assert_int_equal(tr_parse_u64("-1", 0, 10, &v), TR_EINVALID);
	assert_int_equal(tr_parse_time_ms("2027-02-01T08:00:00Z", 0, &t), 0);
	assert_int_equal(t, 1801468800000LL);
	assert_int_equal(tr_parse_time_ms("+30s", 1000, &t), 0);
	assert_int_equal(t, 31000);
	assert_int_equal(tr_parse_time_ms("yesterday", 0, &t), TR_EINVALID);
	assert_int_equal(tr_parse_hostport("127.0.0.1:6379", host,
	    sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(tr_parse_hostport("127.0.0.1:0", host, sizeof(host),
	    &port), TR_EINVALID);
}

static void
errors_map_to_wire_statuses_and_back(void **state)
{
	(void)state;
	for (int e = TR_ESOLD_OUT; e >= TR_ECONFLICT; e--)
		assert_int_equal(tr_err_from_status(tr_err_to_status(e)), e);
	assert_int_equal(tr_err_from_status(tr_err_to_status(TR_OK)), TR_OK);
	assert_string_equal(tr_strerror(TR_ESOLD_OUT), "sold_out");
	assert_string_equal(tr_strerror(12345), "unknown_error");
	assert_int_equal(tr_err_from_status(99), TR_EPROTO);
}

static void
batch_operations_are_counted_on_the_wire(void **state)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch b = TICKETRUSH__BATCH__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	Ticketrush__Op ops[300], *opp[300];
	static uint8_t buf[65536];
	size_t len, n = 99;
	(void)state;

	for (int i = 0; i < 300; i++) {
		ticketrush__op__init(&ops[i]);
		ops[i].op_case = TICKETRUSH__OP__OP_RESERVE;
		ops[i].reserve = &r;
		opp[i] = &ops[i];
	}
	r.event_id = "E";
	r.user_id = "u";
	req.version = 1;
	req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
	req.batch = &b;
	b.ops = opp;
	for (size_t k = 0; k <= 300; k += 150) {
		b.n_ops = k;
		len = ticketrush__request__pack(&req, buf);
		assert_int_equal(tr_wire_batch_ops(buf, len, &n), 0);
		assert_int_equal(n, k);
	}
	/* Not a batch: none. */
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	len = ticketrush__request__pack(&req, buf);
	assert_int_equal(tr_wire_batch_ops(buf, len, &n), 0);
	assert_int_equal(n, 0);
	/* Truncated, a length past the end, an unknown wire type. */
	req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
	b.n_ops = 10;
	len = ticketrush__request__pack(&req, buf);
	assert_int_equal(tr_wire_batch_ops(buf, len - 3, &n), TR_EPROTO);
	assert_int_equal(tr_wire_batch_ops((const uint8_t *)"\x72\x7f", 2, &n),
	    TR_EPROTO);
	assert_int_equal(tr_wire_batch_ops((const uint8_t *)"\x0f", 1, &n),
	    TR_EPROTO);
	assert_int_equal(tr_wire_batch_ops((const uint8_t *)"\x08\xff", 2,
	    &n), TR_EPROTO);
}

/* Memory that ends where the process may not read: a string placed at
 * its end shows any read past its terminator as a crash. */
struct fence_page {
	char *base;
	size_t page;
};

static char *
fence_page_tail(struct fence_page *g, size_t len)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->base = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
	return g->base + g->page - len;
}

static void
a_fenced_refusal_is_read_within_its_message(void **state)
{
	/* "TR_FENCED <epoch>" was read from 10 bytes past the code: when
	 * a message ends right after the code, one byte past its end. */
	struct fence_page g;
	char *msg = fence_page_tail(&g, sizeof("TR_FENCED"));
	redisReply *r = calloc(1, sizeof(*r));
	redisReader *rd = redisReaderCreate();
	void *item = NULL;
	const char *resp;
	char *detail;
	tr_order_info o;
	tr_call k;
	(void)state;

	/* A whole call refused. */
	memcpy(msg, "TR_FENCED", sizeof("TR_FENCED"));
	r->type = REDIS_REPLY_ERROR;
	r->str = msg;
	r->len = strlen(msg);
	tr_call_sync(&k, "G1234", "n1", 1000, 1000);
	assert_int_equal(tr_call_answer(&k, r), TR_EFENCED);
	assert_true(k.fenced_epoch == 0);
	k.reply = NULL; /* r->str is not hiredis' to free */
	tr_call_done(&k);
	free(r);

	/* One confirm refused: its message is copied into the caller's
	 * detail, which ends at the fence here. */
	detail = g.base + g.page - 10;
	tr_call_confirm(&k, "G1234", "n1");
	assert_int_equal(tr_call_confirm_item(&k, "n1.9f2c41d07be85a10.G1234",
	    "alice", ""), 0);
	resp = "*2\r\n:1\r\n*2\r\n:0\r\n$9\r\nTR_FENCED\r\n";
	assert_int_equal(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &item), REDIS_OK);
	assert_non_null(item);
	assert_int_equal(tr_call_answer(&k, item), 0);
	assert_int_equal(tr_result_confirm_item(&k, 0, &o, detail, 10),
	    TR_EFENCED);
	assert_string_equal(detail, "TR_FENCED");
	tr_call_done(&k);
	redisReaderFree(rd);
	munmap(g.base, 2 * g.page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(map_survives_heavy_churn),
	    cmocka_unit_test(ids_accept_only_their_shapes),
	    cmocka_unit_test(
		reservation_ids_name_their_node_and_event_and_reject_forgeries),
	    cmocka_unit_test(batch_operations_are_counted_on_the_wire),
	    cmocka_unit_test(durations_and_numbers_are_strict),
	    cmocka_unit_test(errors_map_to_wire_statuses_and_back),
	    cmocka_unit_test(a_fenced_refusal_is_read_within_its_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
