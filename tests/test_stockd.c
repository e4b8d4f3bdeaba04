/* test_stockd: a real stockd (standalone mode) over real nng: races for
 * stock, hostile bytes, admin calls on the wrong socket, graceful stop. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "harness.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_envelope.h"
#include "tr_ids.h"
#include "tr_map.h"

/* ---- the race ------------------------------------------------------------
 */

#define RACE_TICKETS 10000
#define RACE_ATTEMPTS 100000
#define RACE_THREADS 16
#define RACE_BATCH 50

struct racer {
	const char *url;
	int id;
	int ok, sold_out, other;
	char (*rids)[TR_RID_MAX + 1]; /* successes */
};

/* Half the racers send single Reserves, half send Batches of 50, so both
 * paths compete for the same stock. */
static void *
race(void *arg)
{
	struct racer *r = arg;
	int per = RACE_ATTEMPTS / RACE_THREADS;
	bool batch = r->id % 2 == 1;
	tr_client *c;
	char users[RACE_BATCH][32];

	if (tr_client_open(r->url, 5000, &c) != 0)
		return NULL;
	for (int i = 0; i < per;) {
		int n = batch ? RACE_BATCH : 1;
		Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
		Ticketrush__Batch b = TICKETRUSH__BATCH__INIT;
		Ticketrush__Op ops[RACE_BATCH], *opp[RACE_BATCH];
		Ticketrush__Reserve res[RACE_BATCH];
		Ticketrush__Reply *rep = NULL;

		if (i + n > per)
			n = per - i;
		for (int k = 0; k < n; k++) {
			snprintf(users[k], sizeof(users[k]), "t%d-u%d", r->id,
			    i + k);
			ticketrush__reserve__init(&res[k]);
			res[k].event_id = "RACE";
			res[k].user_id = users[k];
			res[k].qty = 1;
			ticketrush__op__init(&ops[k]);
			ops[k].op_case = TICKETRUSH__OP__OP_RESERVE;
			ops[k].reserve = &res[k];
			opp[k] = &ops[k];
		}
		if (batch) {
			b.n_ops = (size_t)n;
			b.ops = opp;
			req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
			req.batch = &b;
		} else {
			req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
			req.reserve = &res[0];
		}
		tr_client_call(c, &req, &rep);
		if (rep == NULL) {
			r->other += n;
		} else {
			size_t nr = batch ? rep->n_results : 1;
			for (size_t k = 0; k < nr; k++) {
				Ticketrush__Reply *x =
				    batch ? rep->results[k] : rep;
				if (x->status ==
				    TICKETRUSH__STATUS__STATUS_OK) {
					snprintf(r->rids[r->ok],
					    TR_RID_MAX + 1, "%s",
					    x->hold->reservation_id);
					r->ok++;
				} else if (x->status ==
				    TICKETRUSH__STATUS__STATUS_SOLD_OUT) {
					r->sold_out++;
				} else {
					r->other++;
				}
			}
			if (batch && nr != (size_t)n)
				r->other += n - (int)nr;
		}
		tr_reply_free(rep);
		i += n;
	}
	tr_client_close(c);
	return NULL;
}

static void
racers_sell_exactly_the_stock_with_unique_reservation_ids(void **state)
{
	th_stockd s;
	pthread_t t[RACE_THREADS];
	struct racer r[RACE_THREADS];
	int ok = 0, sold_out = 0, other = 0, status;
	tr_map *seen = tr_map_new();
	(void)state;

	assert_int_equal(th_stockd_start(&s, "n1", NULL,
	                     (const char *[]){"--event", "RACE=10000", NULL}),
	    0);
	for (int i = 0; i < RACE_THREADS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].url = s.data_url;
		r[i].id = i;
		r[i].rids = calloc(RACE_TICKETS, TR_RID_MAX + 1);
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		sold_out += r[i].sold_out;
		other += r[i].other;
		for (int k = 0; k < r[i].ok; k++)
			assert_int_equal(tr_map_put(seen, r[i].rids[k],
			                     r[i].rids[k]),
			    0); /* no id twice */
	}
	assert_int_equal(ok, RACE_TICKETS);
	assert_int_equal(sold_out, RACE_ATTEMPTS - RACE_TICKETS);
	assert_int_equal(other, 0);
	assert_int_equal(tr_map_count(seen), RACE_TICKETS);
	tr_map_free(seen);
	for (int i = 0; i < RACE_THREADS; i++)
		free(r[i].rids);
	/* Exited, and with 0: a node killed by a signal fails. */
	status = th_stop(&s.proc, SIGTERM, 5000);
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- hostile bytes -------------------------------------------------------
 */

/* Send raw bytes on a REQ socket and return the reply (NULL on timeout). */
static Ticketrush__Reply *
raw_call(const char *url, const void *bytes, size_t len)
{
	nng_socket sock;
	nng_msg *msg;
	Ticketrush__Reply *rep = NULL;

	assert_int_equal(nng_req0_open(&sock), 0);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 3000);
	assert_int_equal(nng_dial(sock, url, NULL, 0), 0);
	assert_int_equal(nng_send(sock, (void *)bytes, len, 0), 0);
	if (nng_recvmsg(sock, &msg, 0) == 0) {
		rep = tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
	}
	nng_close(sock);
	return rep;
}

static void
expect_status(Ticketrush__Reply *rep, int status, const char *why)
{
	if (rep == NULL)
		fail_msg("%s: no reply", why);
	if ((int)rep->status != status)
		fail_msg("%s: status %d (%s), want %d", why, rep->status,
		    rep->detail, status);
	tr_reply_free(rep);
}

static void
reserve_one(const char *url, const char *user, int want_status)
{
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	assert_int_equal(tr_client_open(url, 3000, &c), 0);
	tr_client_reserve(c, "E", user, 1, NULL, &rep);
	expect_status(rep, want_status, user);
	tr_client_close(c);
}

static void
garbage_and_truncated_messages_get_errors_and_node_keeps_serving(void **st)
{
	th_stockd s;
	uint8_t garbage[512];
	uint8_t packed[256];
	size_t len;
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	(void)st;

	assert_int_equal(th_stockd_start(&s, "n1", NULL,
	                     (const char *[]){"--event", "E=10", "--batch-max",
	                         "8", NULL}),
	    0);
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 37 + 11);
	expect_status(raw_call(s.data_url, garbage, sizeof(garbage)),
	    TICKETRUSH__STATUS__STATUS_INVALID, "garbage");
	expect_status(raw_call(s.data_url, "", 0),
	    TICKETRUSH__STATUS__STATUS_INVALID, "empty message");

	r.event_id = "E";
	r.user_id = "someone-with-a-long-name";
	req.version = 1;
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	len = ticketrush__request__pack(&req, packed);
	expect_status(raw_call(s.data_url, packed, len - 5),
	    TICKETRUSH__STATUS__STATUS_INVALID, "truncated");

	req.version = 7;
	len = ticketrush__request__pack(&req, packed);
	expect_status(raw_call(s.data_url, packed, len),
	    TICKETRUSH__STATUS__STATUS_INVALID, "unknown version");

	/* A Batch above --batch-max is refused whole. */
	{
		Ticketrush__Batch b = TICKETRUSH__BATCH__INIT;
		Ticketrush__Op ops[9], *opp[9];
		uint8_t big[2048];
		for (int i = 0; i < 9; i++) {
			ticketrush__op__init(&ops[i]);
			ops[i].op_case = TICKETRUSH__OP__OP_RESERVE;
			ops[i].reserve = &r;
			opp[i] = &ops[i];
		}
		b.n_ops = 9;
		b.ops = opp;
		req.version = 1;
		req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
		req.batch = &b;
		len = ticketrush__request__pack(&req, big);
		expect_status(raw_call(s.data_url, big, len),
		    TICKETRUSH__STATUS__STATUS_INVALID, "oversized batch");
	}
	/* A 1 MiB batch of empty operations (a quarter million of them) is
	 * refused by its count on the wire, before unpacking would allocate
	 * for each; quickly, and the node keeps serving. */
	{
		size_t n = 0, ops = (TR_MSG_MAX - 16) / 2;
		uint8_t *huge = malloc(TR_MSG_MAX);
		Ticketrush__Reply *rep;
		int64_t t0;
		huge[n++] = 0x08; /* version = 1 */
		huge[n++] = 0x01;
		huge[n++] = 0x72; /* field 14 (batch), length-delimited */
		/* length varint of ops * 2 bytes */
		for (size_t v = ops * 2;; v >>= 7) {
			huge[n++] =
			    (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
			if (v <= 0x7f)
				break;
		}
		for (size_t i = 0; i < ops; i++) {
			huge[n++] = 0x0a; /* Batch.ops, an empty Op */
			huge[n++] = 0x00;
		}
		t0 = tr_mono_ms();
		rep = raw_call(s.data_url, huge, n);
		assert_non_null(rep);
		assert_non_null(strstr(rep->detail, "batch must have 1..8"));
		assert_true(tr_mono_ms() - t0 < 1000);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_INVALID,
		    "quarter-million batch");
		free(huge);
	}
	/* A request with no body. */
	req.body_case = TICKETRUSH__REQUEST__BODY__NOT_SET;
	len = ticketrush__request__pack(&req, packed);
	expect_status(raw_call(s.data_url, packed, len),
	    TICKETRUSH__STATUS__STATUS_INVALID, "no body");

	/* Ids of the wrong shape. */
	{
		tr_client *c;
		Ticketrush__Reply *rep = NULL;
		assert_int_equal(tr_client_open(s.data_url, 3000, &c), 0);
		tr_client_reserve(c, "bad event!", "u", 1, NULL, &rep);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_INVALID,
		    "bad event id");
		tr_client_reserve(c, "E", "", 1, NULL, &rep);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_INVALID,
		    "empty user");
		tr_client_confirm(c, "n1.not-hex-at-all", "u", NULL, &rep);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_INVALID,
		    "bad reservation id");
		tr_client_confirm(c, "n9.0123456789abcdef.E", "u", NULL, &rep);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_NOT_FOUND,
		    "another node's reservation");
		tr_client_reserve(c, "NOPE", "u", 1, NULL, &rep);
		expect_status(rep, TICKETRUSH__STATUS__STATUS_NOT_FOUND,
		    "unknown event");
		tr_client_close(c);
	}
	/* Still serving. */
	assert_true(th_alive(&s.proc));
	reserve_one(s.data_url, "after-the-storm",
	    TICKETRUSH__STATUS__STATUS_OK);
	th_stop(&s.proc, SIGTERM, 5000);
}

static void
admin_call_on_data_socket_is_forbidden(void **state)
{
	th_stockd s;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	(void)state;

	assert_int_equal(th_stockd_start(&s, "n1", NULL,
	                     (const char *[]){"--event", "E=10", NULL}),
	    0);
	assert_int_equal(tr_client_open(s.data_url, 3000, &c), 0);
	tr_client_create_event(c, "X", 10, 1, 1000, 0, &rep);
	expect_status(rep, TICKETRUSH__STATUS__STATUS_FORBIDDEN, "create");
	tr_client_drain(c, NULL, &rep);
	expect_status(rep, TICKETRUSH__STATUS__STATUS_FORBIDDEN, "drain");
	tr_client_status(c, &rep);
	expect_status(rep, TICKETRUSH__STATUS__STATUS_FORBIDDEN, "status");
	tr_client_close(c);
	/* The same calls on the admin socket work. */
	assert_int_equal(tr_client_open(s.admin_url, 3000, &c), 0);
	tr_client_status(c, &rep);
	expect_status(rep, TICKETRUSH__STATUS__STATUS_OK, "admin status");
	tr_client_close(c);
	th_stop(&s.proc, SIGTERM, 5000);
}

static void
drained_node_refuses_new_reservations_but_confirms_old_ones(void **state)
{
	th_stockd s;
	tr_client *c, *a;
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	(void)state;

	assert_int_equal(th_stockd_start(&s, "n1", NULL,
	                     (const char *[]){"--event", "E=10", NULL}),
	    0);
	assert_int_equal(tr_client_open(s.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_open(s.admin_url, 3000, &a), 0);
	assert_int_equal(tr_client_reserve(c, "E", "early", 1, NULL, &rep), 0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	assert_int_equal(tr_client_drain(a, NULL, &rep), 0);
	assert_true(rep->node->draining);
	tr_reply_free(rep);
	tr_client_reserve(c, "E", "late", 1, NULL, &rep);
	expect_status(rep, TICKETRUSH__STATUS__STATUS_UNAVAILABLE, "late");
	assert_int_equal(tr_client_confirm(c, rid, "early", "p", &rep), 0);
	tr_reply_free(rep);
	tr_client_close(c);
	tr_client_close(a);
	th_stop(&s.proc, SIGTERM, 5000);
}

static void
sigterm_stops_the_node_with_exit_0(void **state)
{
	th_stockd s;
	int status;
	(void)state;

	assert_int_equal(th_stockd_start(&s, "n1", NULL,
	                     (const char *[]){"--event", "E=10", NULL}),
	    0);
	reserve_one(s.data_url, "u", TICKETRUSH__STATUS__STATUS_OK);
	status = th_stop(&s.proc, SIGTERM, 5000);
	assert_true(status >= 0 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
teardown_all(void **state)
{
	(void)state;
	th_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        racers_sell_exactly_the_stock_with_unique_reservation_ids),
	    cmocka_unit_test(
	        garbage_and_truncated_messages_get_errors_and_node_keeps_serving),
	    cmocka_unit_test(admin_call_on_data_socket_is_forbidden),
	    cmocka_unit_test(
	        drained_node_refuses_new_reservations_but_confirms_old_ones),
	    cmocka_unit_test(sigterm_stops_the_node_with_exit_0),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
