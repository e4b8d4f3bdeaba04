/* test_wire: the protobuf envelopes in nng messages (lib/wire), linked
 * with trwire alone. What is packed comes back as it was; bytes that are
 * not a message, and a message over the bound, are refused; every error
 * code has its wire status and back; a Batch is counted on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tr_envelope.h"
#include "tr_err.h"

static void
a_request_comes_back_as_it_was_packed(void **state)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT, *got;
	Ticketrush__Batch b = TICKETRUSH__BATCH__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	Ticketrush__Confirm c = TICKETRUSH__CONFIRM__INIT;
	Ticketrush__Release rel = TICKETRUSH__RELEASE__INIT;
	Ticketrush__Op ops[3], *opp[3];
	nng_msg *msg = NULL;
	(void)state;

	for (int i = 0; i < 3; i++) {
		ticketrush__op__init(&ops[i]);
		opp[i] = &ops[i];
	}
	r.event_id = "G1234:2027-02-01";
	r.user_id = "alice@example.com";
	r.qty = 2;
	r.request_id = "gw-1-0-7";
	ops[0].op_case = TICKETRUSH__OP__OP_RESERVE;
	ops[0].reserve = &r;
	c.reservation_id = "n1.9f2c41d07be85a10.G1234:2027-02-01";
	c.user_id = "bob";
	c.payment_ref = "PAY 123/xyz";
	ops[1].op_case = TICKETRUSH__OP__OP_CONFIRM;
	ops[1].confirm = &c;
	rel.reservation_id = c.reservation_id;
	rel.user_id = "carol";
	ops[2].op_case = TICKETRUSH__OP__OP_RELEASE;
	ops[2].release = &rel;
	b.n_ops = 3;
	b.ops = opp;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
	req.batch = &b;

	assert_int_equal(tr_msg_pack(&req.base, &msg), 0);
	assert_int_equal(nng_msg_len(msg),
	    ticketrush__request__get_packed_size(&req));
	got = tr_request_unpack(nng_msg_body(msg), nng_msg_len(msg));
	assert_non_null(got);
	assert_int_equal(got->version, TR_PROTOCOL_VERSION);
	assert_int_equal(got->body_case, TICKETRUSH__REQUEST__BODY_BATCH);
	assert_int_equal(got->batch->n_ops, 3);
	assert_int_equal(got->batch->ops[0]->op_case,
	    TICKETRUSH__OP__OP_RESERVE);
	assert_string_equal(got->batch->ops[0]->reserve->event_id, r.event_id);
	assert_string_equal(got->batch->ops[0]->reserve->user_id, r.user_id);
	assert_int_equal(got->batch->ops[0]->reserve->qty, 2);
	assert_string_equal(got->batch->ops[0]->reserve->request_id,
	    r.request_id);
	assert_int_equal(got->batch->ops[1]->op_case,
	    TICKETRUSH__OP__OP_CONFIRM);
	assert_string_equal(got->batch->ops[1]->confirm->reservation_id,
	    c.reservation_id);
	assert_string_equal(got->batch->ops[1]->confirm->payment_ref,
	    c.payment_ref);
	assert_int_equal(got->batch->ops[2]->op_case,
	    TICKETRUSH__OP__OP_RELEASE);
	assert_string_equal(got->batch->ops[2]->release->user_id, "carol");
	tr_request_free(got);
	nng_msg_free(msg);
	/* Freeing nothing is allowed: callers free on every path. */
	tr_request_free(NULL);
	tr_reply_free(NULL);
}

static void
a_reply_carries_its_status_detail_and_results(void **state)
{
	Ticketrush__Reply rep = TICKETRUSH__REPLY__INIT, *got;
	Ticketrush__Reply res[2], *resp[2];
	Ticketrush__Hold h = TICKETRUSH__HOLD__INIT;
	nng_msg *msg = NULL;
	(void)state;

	h.reservation_id = "n1.9f2c41d07be85a10.G1234";
	h.event_id = "G1234";
	h.user_id = "alice";
	h.qty = 1;
	h.state = TICKETRUSH__HOLD_STATE__HOLD_STATE_HELD;
	h.expires_at_ms = 1801468800000LL;
	for (int i = 0; i < 2; i++) {
		ticketrush__reply__init(&res[i]);
		resp[i] = &res[i];
	}
	tr_reply_set(&res[0], TR_EDUPLICATE, "you hold one");
	res[0].hold = &h;
	/* An internal code goes out as the status a client can act on. */
	tr_reply_set(&res[1], TR_EFENCED, NULL);
	tr_reply_set(&rep, TR_OK, NULL);
	rep.n_results = 2;
	rep.results = resp;
	assert_int_equal(rep.version, TR_PROTOCOL_VERSION);
	assert_int_equal(rep.status, TICKETRUSH__STATUS__STATUS_OK);
	/* No detail is an empty one: protobuf-c would read a NULL. */
	assert_string_equal(rep.detail, "");

	assert_int_equal(tr_msg_pack(&rep.base, &msg), 0);
	got = tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
	assert_non_null(got);
	assert_int_equal(got->version, TR_PROTOCOL_VERSION);
	assert_int_equal(got->status, TICKETRUSH__STATUS__STATUS_OK);
	assert_int_equal(got->n_results, 2);
	assert_int_equal(got->results[0]->status,
	    TICKETRUSH__STATUS__STATUS_DUPLICATE);
	assert_int_equal(tr_err_from_status(got->results[0]->status),
	    TR_EDUPLICATE);
	assert_string_equal(got->results[0]->detail, "you hold one");
	assert_non_null(got->results[0]->hold);
	assert_string_equal(got->results[0]->hold->reservation_id,
	    h.reservation_id);
	assert_int_equal(got->results[0]->hold->state,
	    TICKETRUSH__HOLD_STATE__HOLD_STATE_HELD);
	assert_int_equal(got->results[0]->hold->expires_at_ms,
	    h.expires_at_ms);
	assert_int_equal(got->results[1]->status,
	    TICKETRUSH__STATUS__STATUS_UNAVAILABLE);
	assert_string_equal(got->results[1]->detail, "");
	assert_null(got->results[1]->hold);
	tr_reply_free(got);
	nng_msg_free(msg);
}

static void
bytes_that_are_not_a_message_are_refused(void **state)
{
	static const struct {
		const char *why;
		const char *bytes;
		size_t len;
	} bad[] = {
	    {"wire type 7", "\x0f", 1},
	    {"a key and no value", "\x08", 1},
	    {"a varint that never ends",
	        "\x08\xff\xff\xff\xff\xff\xff\xff"
	        "\xff\xff\xff\xff",
	        12},
	    {"a length past the end",
	        "\x1a\x7f"
	        "abc",
	        5},
	    {"a message field sent as a varint", "\x50\x01", 2},
	};
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT, *got;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	Ticketrush__Reply rep = TICKETRUSH__REPLY__INIT;
	uint8_t buf[256];
	size_t len;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tr_request_unpack(bad[i].bytes, bad[i].len) != NULL)
			fail_msg("a request from %s", bad[i].why);
		if (tr_reply_unpack(bad[i].bytes, bad[i].len) != NULL)
			fail_msg("a reply from %s", bad[i].why);
	}
	/* Cut inside a string: the whole message was sent, half arrived. */
	r.event_id = "G1234";
	r.user_id = "a-user-with-a-long-name";
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	len = ticketrush__request__pack(&req, buf);
	assert_true(len < sizeof(buf));
	assert_null(tr_request_unpack(buf, len - 5));
	got = tr_request_unpack(buf, len);
	assert_non_null(got);
	tr_request_free(got);
	tr_reply_set(&rep, TR_ESOLD_OUT, "no stock left on any node");
	len = ticketrush__reply__pack(&rep, buf);
	assert_null(tr_reply_unpack(buf, len - 5));
}

/* A Request (a Reserve with a long user id) or a Reply (a long detail)
 * whose packed size is exactly size; *text is the long string. Nothing but
 * the envelope checks the string's length here. */
static uint8_t *
message_of_size(bool reply, size_t size, char **text, size_t *len)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	Ticketrush__Reply rep = TICKETRUSH__REPLY__INIT;
	ProtobufCMessage *m = reply ? &rep.base : &req.base;
	size_t tlen = size - 16;
	uint8_t *buf;

	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	r.event_id = "E";
	/* Two tries: the lengths' varints have the same size near 1 MiB. */
	for (int i = 0; i < 2; i++) {
		free(*text);
		*text = malloc(tlen + 1);
		assert_non_null(*text);
		memset(*text, 'x', tlen);
		(*text)[tlen] = '\0';
		r.user_id = *text;
		tr_reply_set(&rep, TR_EINVALID, *text);
		tlen = tlen + size - protobuf_c_message_get_packed_size(m);
	}
	assert_int_equal(protobuf_c_message_get_packed_size(m), size);
	buf = malloc(size);
	assert_non_null(buf);
	*len = protobuf_c_message_pack(m, buf);
	assert_int_equal(*len, size);
	return buf;
}

static void
a_message_over_the_bound_is_refused_before_it_is_unpacked(void **state)
{
	Ticketrush__Request *req;
	Ticketrush__Reply *rep;
	char *text = NULL;
	uint8_t *buf;
	size_t len;
	(void)state;

	/* At the bound: a message like any other. */
	buf = message_of_size(false, TR_MSG_MAX, &text, &len);
	req = tr_request_unpack(buf, len);
	assert_non_null(req);
	assert_string_equal(req->reserve->user_id, text);
	tr_request_free(req);
	free(buf);
	buf = message_of_size(true, TR_MSG_MAX, &text, &len);
	rep = tr_reply_unpack(buf, len);
	assert_non_null(rep);
	assert_string_equal(rep->detail, text);
	tr_reply_free(rep);
	free(buf);
	/* One byte over: refused, though protobuf would read it. */
	buf = message_of_size(false, TR_MSG_MAX + 1, &text, &len);
	assert_null(tr_request_unpack(buf, len));
	req = ticketrush__request__unpack(NULL, len, buf);
	assert_non_null(req);
	ticketrush__request__free_unpacked(req, NULL);
	free(buf);
	buf = message_of_size(true, TR_MSG_MAX + 1, &text, &len);
	assert_null(tr_reply_unpack(buf, len));
	rep = ticketrush__reply__unpack(NULL, len, buf);
	assert_non_null(rep);
	ticketrush__reply__free_unpacked(rep, NULL);
	free(buf);
	free(text);
}

static void
errors_map_to_wire_statuses_and_back(void **state)
{
	static const struct {
		int err, status;
	} internal[] = {
	    {TR_ETIMEDOUT, TICKETRUSH__STATUS__STATUS_UNAVAILABLE},
	    {TR_EIO, TICKETRUSH__STATUS__STATUS_UNAVAILABLE},
	    {TR_EFENCED, TICKETRUSH__STATUS__STATUS_UNAVAILABLE},
	    {TR_EPROTO, TICKETRUSH__STATUS__STATUS_INVALID},
	    {TR_EEMPTY, TICKETRUSH__STATUS__STATUS_SOLD_OUT},
	    {TR_ENOMEM, TICKETRUSH__STATUS__STATUS_INTERNAL},
	    {TR_EPENDING, TICKETRUSH__STATUS__STATUS_INTERNAL},
	    {12345, TICKETRUSH__STATUS__STATUS_INTERNAL},
	};
	Ticketrush__Reply rep = TICKETRUSH__REPLY__INIT;
	(void)state;

	/* The first block is the wire's, one to one, by name too. */
	for (int e = TR_ESOLD_OUT; e >= TR_ECONFLICT; e--)
		assert_int_equal(tr_err_from_status(tr_err_to_status(e)), e);
	assert_int_equal(tr_err_to_status(TR_OK),
	    TICKETRUSH__STATUS__STATUS_OK);
	assert_int_equal(tr_err_to_status(TR_ESOLD_OUT),
	    TICKETRUSH__STATUS__STATUS_SOLD_OUT);
	assert_int_equal(tr_err_to_status(TR_ENOT_OPEN),
	    TICKETRUSH__STATUS__STATUS_NOT_OPEN);
	assert_int_equal(tr_err_to_status(TR_ECONFLICT),
	    TICKETRUSH__STATUS__STATUS_CONFLICT);
	assert_int_equal(tr_err_from_status(TICKETRUSH__STATUS__STATUS_OK),
	    TR_OK);
	/* Internal codes go out as what a client can act on. */
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++) {
		assert_int_equal(tr_err_to_status(internal[i].err),
		    internal[i].status);
		tr_reply_set(&rep, internal[i].err, "x");
		assert_int_equal(rep.status, internal[i].status);
	}
	/* A status we do not speak is a peer's error, not ours. */
	assert_int_equal(tr_err_from_status(
	                     TICKETRUSH__STATUS__STATUS_UNSPECIFIED),
	    TR_EPROTO);
	assert_int_equal(tr_err_to_status(TR_EWAITLIST_FULL),
	    TICKETRUSH__STATUS__STATUS_WAITLIST_FULL);
	assert_int_equal(tr_err_from_status(
	                     TICKETRUSH__STATUS__STATUS_WAITLIST_FULL),
	    TR_EWAITLIST_FULL);
	assert_int_equal(tr_err_to_status(TR_ECLOSED),
	    TICKETRUSH__STATUS__STATUS_CLOSED);
	assert_int_equal(tr_err_from_status(TICKETRUSH__STATUS__STATUS_CLOSED),
	    TR_ECLOSED);
	assert_int_equal(tr_err_from_status(
	                     TICKETRUSH__STATUS__STATUS_CLOSED + 1),
	    TR_EPROTO);
	assert_int_equal(tr_err_from_status(-1), TR_EPROTO);
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
	assert_int_equal(tr_wire_batch_ops((const uint8_t *)"\x08\xff", 2, &n),
	    TR_EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_request_comes_back_as_it_was_packed),
	    cmocka_unit_test(a_reply_carries_its_status_detail_and_results),
	    cmocka_unit_test(bytes_that_are_not_a_message_are_refused),
	    cmocka_unit_test(
	        a_message_over_the_bound_is_refused_before_it_is_unpacked),
	    cmocka_unit_test(errors_map_to_wire_statuses_and_back),
	    cmocka_unit_test(batch_operations_are_counted_on_the_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
