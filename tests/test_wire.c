/* test_wire: the protobuf envelopes in nng messages (lib/wire), linked
 * with trwire alone: error codes and wire statuses, and a Batch counted on
 * the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tr_envelope.h"
#include "tr_err.h"

static void
errors_map_to_wire_statuses_and_back(void **state)
{
	(void)state;
	for (int e = TR_ESOLD_OUT; e >= TR_ECONFLICT; e--)
		assert_int_equal(tr_err_from_status(tr_err_to_status(e)), e);
	assert_int_equal(tr_err_from_status(tr_err_to_status(TR_OK)), TR_OK);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(errors_map_to_wire_statuses_and_back),
	    cmocka_unit_test(batch_operations_are_counted_on_the_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
