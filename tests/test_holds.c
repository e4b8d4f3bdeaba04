/* test_holds: holds recorded in Redis, against real redis-server, stockd
 * and trgate processes. A retried reservation makes one hold on whichever
 * node it lands; one user holds at most the limit over all nodes; holds
 * outlive their node and Redis' own crash; a confirm racing its hold's
 * expiry never both sells and resells; a new event sells at once on every
 * node; the coordinator paths the review found (a paid order answered as
 * gone, ghost reservations from the gateway's retry, the sweep past 64
 * nodes, a paused node's old lease, two processes with one node id,
 * give-back on stop, the sync that repairs one way only, a double payment,
 * unknown events). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_ids.h"

static th_redis redis;

static int
setup_redis(void **state)
{
	(void)state;
	return th_redis_start(&redis);
}

static int
teardown_redis(void **state)
{
	(void)state;
	th_redis_stop(&redis);
	return 0;
}

static int
teardown_all(void **state)
{
	(void)state;
	th_cleanup();
	return 0;
}

/* Background work fast enough for tests. */
#define FAST_NODE                                                             \
	"--liveness-ttl", "2s", "--sweep", "200ms", "--sync", "100ms",        \
	    "--lease-idle", "0"

static void
start_nodes(th_stockd *nodes, int n, const char *const *extra)
{
	char name[16];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i + 1);
		assert_int_equal(th_stockd_start(&nodes[i], name, &redis,
		                     extra),
		    0);
	}
}

static void
stop_nodes(th_stockd *nodes, int n)
{
	for (int i = 0; i < n; i++)
		th_stop(&nodes[i].proc, SIGTERM, 5000);
}

static void
create_event(th_stockd *nodes, int n, const char *id, unsigned long long total,
    unsigned limit, unsigned long long hold_ms)
{
	assert_int_equal(th_event_create(&nodes[0], id, total, limit, hold_ms),
	    0);
	assert_int_equal(th_event_wait(nodes, (size_t)n, id), 0);
}

/* A gateway over nodes, weights 1; extra flags after. */
static void
start_gate(th_gate *g, th_stockd *nodes, int n, const char *const *extra)
{
	static char flags[8][300];
	const char *args[40];
	int a = 0;
	char body[256];
	int64_t deadline = tr_mono_ms() + 5000;

	for (int i = 0; i < n; i++) {
		snprintf(flags[i], sizeof(flags[i]),
		    "%s=%s,weight=1,"
		    "max_fails=0",
		    nodes[i].node, nodes[i].data_url);
		args[a++] = "--node";
		args[a++] = flags[i];
	}
	for (int i = 0; extra && extra[i]; i++)
		args[a++] = extra[i];
	args[a] = NULL;
	assert_int_equal(th_gate_start(g, args), 0);
	/* Every node connected, so that picks go round all of them. */
	while (tr_mono_ms() < deadline) {
		char want[32];
		snprintf(want, sizeof(want), "\"nodes_up\":%d", n);
		if (th_http(g->port, "GET", "/healthz", NULL, body,
		        sizeof(body)) == 200 &&
		    strstr(body, want) != NULL)
			return;
		tr_sleep_ms(20);
	}
	fail_msg("gateway did not connect to all %d nodes", n);
}

static long long
rint_(const char *fmt, const char *event)
{
	return th_redis_int(&redis, fmt, event);
}

static void
assert_audit_passes(const char *event)
{
	char cmd[512], out[8192];
	int rv;
	snprintf(cmd, sizeof(cmd), "%s --redis %s audit %s",
	    th_bin("ticketctl"), redis.addr, event);
	if ((rv = th_run(cmd, out, sizeof(out))) != 0)
		fail_msg("audit of %s failed (exit %d):\n%s", event, rv, out);
}

/* HTTP helpers: status, and the string field `field` of the JSON body. */
static int
http_json(th_conn *c, const char *method, const char *path, const char *body,
    const char *field, char *out, size_t cap)
{
	char resp[4096];
	int status = th_conn_http(c, method, path, body, resp, sizeof(resp));
	cJSON *j, *f;
	if (out != NULL)
		out[0] = '\0';
	if (status < 0 || out == NULL)
		return status;
	if ((j = cJSON_Parse(resp)) != NULL) {
		f = cJSON_GetObjectItem(j, field);
		if (cJSON_IsString(f))
			snprintf(out, cap, "%s", f->valuestring);
		cJSON_Delete(j);
	}
	return status;
}

static int
http_reserve(th_conn *c, const char *event, const char *user,
    const char *request_id, char *rid)
{
	char path[160], body[256];
	snprintf(path, sizeof(path), "/v1/events/%s/reservations", event);
	if (request_id != NULL)
		snprintf(body, sizeof(body),
		    "{\"user\":\"%s\","
		    "\"request_id\":\"%s\"}",
		    user, request_id);
	else
		snprintf(body, sizeof(body), "{\"user\":\"%s\"}", user);
	return http_json(c, "POST", path, body, "reservation_id", rid,
	    TR_RID_MAX + 1);
}

static int
http_confirm(th_conn *c, const char *rid, const char *user, const char *ref,
    char *paid_ref)
{
	char path[200], body[256], tmp[TR_PAYMENT_REF_MAX + 1];
	snprintf(path, sizeof(path), "/v1/reservations/%s/confirm", rid);
	snprintf(body, sizeof(body),
	    "{\"user\":\"%s\",\"payment_ref\":\"%s\"}", user, ref);
	return http_json(c, "POST", path, body, "payment_ref",
	    paid_ref ? paid_ref : tmp, sizeof(tmp));
}

/* ---- retries and repeated clicks ---------------------------------------- */

static void
one_request_id_sent_to_every_node_makes_one_hold(void **state)
{
	th_stockd nodes[4];
	th_gate g;
	th_conn c;
	tr_client *cl[4];
	Ticketrush__Reply *rep = NULL;
	char first[TR_RID_MAX + 1], rid[TR_RID_MAX + 1];
	(void)state;

	start_nodes(nodes, 4, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 4, "RETRY", 100, 2, 60000);
	start_gate(&g, nodes, 4, NULL);
	th_conn_init(&c, g.port);
	/* Through the gateway: weights 1,1,1,1 send four in a row to four
	 * different nodes. */
	assert_int_equal(http_reserve(&c, "RETRY", "alice", "click-1", first),
	    201);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(http_reserve(&c, "RETRY", "alice", "click-1",
		                     rid),
		    201);
		assert_string_equal(rid, first);
	}
	/* Directly to every node over protobuf, and to every node at once. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &cl[i]),
		    0);
		assert_int_equal(tr_client_reserve(cl[i], "RETRY", "alice", 1,
		                     "click-1", &rep),
		    0);
		assert_string_equal(rep->hold->reservation_id, first);
		tr_reply_free(rep);
		rep = NULL;
	}
	assert_int_equal(rint_("GET tr:{%s}:held", "RETRY"), 1);
	assert_int_equal(rint_("HLEN tr:{%s}:holds", "RETRY"), 1);
	/* Once paid, the same request id still names the same reservation,
	 * now confirmed, on a node that never saw it. */
	assert_int_equal(http_confirm(&c, first, "alice", "P", NULL), 200);
	assert_int_equal(tr_client_reserve(cl[3], "RETRY", "alice", 1,
	                     "click-1", &rep),
	    0);
	assert_string_equal(rep->hold->reservation_id, first);
	assert_int_equal(rep->hold->state,
	    TICKETRUSH__HOLD_STATE__HOLD_STATE_CONFIRMED);
	tr_reply_free(rep);
	assert_int_equal(rint_("GET tr:{%s}:sold", "RETRY"), 1);
	assert_int_equal(rint_("GET tr:{%s}:held", "RETRY"), 0);
	for (int i = 0; i < 4; i++)
		tr_client_close(cl[i]);
	th_conn_close(&c);
	assert_audit_passes("RETRY");
	th_stop(&g.proc, SIGTERM, 5000);
	stop_nodes(nodes, 4);
}

struct racer {
	const char *url;
	char rid[TR_RID_MAX + 1];
	int rv;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	if (tr_client_open(r->url, 3000, &c) != 0) {
		r->rv = TR_EUNAVAILABLE;
		return NULL;
	}
	r->rv = tr_client_reserve(c, "RACE", "bob", 1, "same", &rep);
	if (rep != NULL && rep->hold != NULL)
		snprintf(r->rid, sizeof(r->rid), "%s",
		    rep->hold->reservation_id);
	tr_reply_free(rep);
	tr_client_close(c);
	return NULL;
}

static void
one_request_id_sent_to_every_node_at_once_makes_one_hold(void **state)
{
	th_stockd nodes[4];
	struct racer r[4];
	pthread_t t[4];
	(void)state;

	start_nodes(nodes, 4, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 4, "RACE", 100, 1, 60000);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 4; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].url = nodes[i].data_url;
			pthread_create(&t[i], NULL, racer_main, &r[i]);
		}
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(r[i].rv, 0);
			assert_string_equal(r[i].rid, r[0].rid);
		}
		assert_int_equal(rint_("GET tr:{%s}:held", "RACE"), 1);
	}
	assert_audit_passes("RACE");
	stop_nodes(nodes, 4);
}

static void
one_user_holds_at_most_the_limit_over_all_nodes(void **state)
{
	th_stockd nodes[4];
	tr_client *c[4];
	Ticketrush__Reply *rep = NULL;
	char first[TR_RID_MAX + 1], req[32];
	int ok = 0, dup = 0, limit = 0;
	(void)state;

	start_nodes(nodes, 4, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 4, "ONE", 100, 1, 60000);
	create_event(nodes, 4, "THREE", 100, 3, 60000);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &c[i]),
		    0);
	/* limit 1: a click on every node in turn, each a new request. */
	for (int i = 0; i < 8; i++) {
		snprintf(req, sizeof(req), "one-%d", i);
		int rv = tr_client_reserve(c[i % 4], "ONE", "scalper", 1, req,
		    &rep);
		if (i == 0) {
			assert_int_equal(rv, 0);
			snprintf(first, sizeof(first), "%s",
			    rep->hold->reservation_id);
		} else {
			/* The others carry the one hold there is. */
			assert_int_equal(rv, TR_EDUPLICATE);
			assert_string_equal(rep->hold->reservation_id, first);
		}
		tr_reply_free(rep);
		rep = NULL;
	}
	assert_int_equal(rint_("GET tr:{%s}:held", "ONE"), 1);
	/* limit 3: twelve clicks over four nodes; some paid on the way. */
	for (int i = 0; i < 12; i++) {
		snprintf(req, sizeof(req), "three-%d", i);
		int rv = tr_client_reserve(c[i % 4], "THREE", "scalper", 1,
		    req, &rep);
		if (rv == 0) {
			ok++;
			if (ok == 2) {
				Ticketrush__Reply *cr = NULL;
				assert_int_equal(
				    tr_client_confirm(c[(i + 1) % 4],
				        rep->hold->reservation_id, "scalper",
				        "p", &cr),
				    0);
				tr_reply_free(cr);
			}
		} else if (rv == TR_EDUPLICATE) {
			dup++;
		} else {
			assert_int_equal(rv, TR_ELIMIT);
			limit++;
		}
		tr_reply_free(rep);
		rep = NULL;
	}
	assert_int_equal(ok, 3);
	assert_int_equal(dup + limit, 9);
	assert_int_equal(rint_("GET tr:{%s}:held", "THREE") +
	        rint_("GET tr:{%s}:sold", "THREE"),
	    3);
	for (int i = 0; i < 4; i++)
		tr_client_close(c[i]);
	assert_audit_passes("ONE");
	assert_audit_passes("THREE");
	stop_nodes(nodes, 4);
}

/* ---- holds outlive their node ------------------------------------------- */

#define KILL_HOLDERS 600
#define KILL_PAYERS 500

static void
killed_nodes_holders_pay_through_the_gateway_and_the_rest_come_back(void **s)
{
	th_stockd nodes[2];
	th_gate g;
	th_conn c;
	tr_client *cl;
	Ticketrush__Reply *rep = NULL;
	static char rids[KILL_HOLDERS][TR_RID_MAX + 1];
	char user[32], rid[TR_RID_MAX + 1];
	int paid = 0, sold_after = 0;
	int64_t deadline;
	(void)s;

	start_nodes(nodes, 2,
	    (const char *[]){FAST_NODE, "--refill-max", "1000", NULL});
	create_event(nodes, 2, "KILL", 1000, 1, 15000);
	start_gate(&g, nodes, 2, NULL);
	/* 600 holds made by n2, none paid yet. */
	assert_int_equal(tr_client_open(nodes[1].data_url, 5000, &cl), 0);
	for (int i = 0; i < KILL_HOLDERS; i++) {
		snprintf(user, sizeof(user), "holder-%d", i);
		assert_int_equal(tr_client_reserve(cl, "KILL", user, 1, NULL,
		                     &rep),
		    0);
		snprintf(rids[i], sizeof(rids[i]), "%s",
		    rep->hold->reservation_id);
		assert_true(strncmp(rids[i], "n2.", 3) == 0);
		tr_reply_free(rep);
		rep = NULL;
	}
	tr_client_close(cl);
	th_stop(&nodes[1].proc, SIGKILL, 2000);

	/* 500 of them pay through the gateway, which sends each to n2 first
	 * (gone) and then to n1. */
	th_conn_init(&c, g.port);
	for (int i = 0; i < KILL_PAYERS; i++) {
		snprintf(user, sizeof(user), "holder-%d", i);
		int st = http_confirm(&c, rids[i], user, "PAY", NULL);
		if (st != 200)
			fail_msg("confirm of %s after its node died: %d",
			    rids[i], st);
		paid++;
	}
	assert_int_equal(paid, KILL_PAYERS);
	assert_int_equal(rint_("GET tr:{%s}:sold", "KILL"), KILL_PAYERS);
	/* The other 100 expire (15 s holds) with n2 still dead; their
	 * tickets come back and sell to later buyers, like the rest. */
	deadline = tr_mono_ms() + 40000;
	for (int i = 0; rint_("GET tr:{%s}:sold", "KILL") < 1000 &&
	     tr_mono_ms() < deadline;
	     i++) {
		snprintf(user, sizeof(user), "later-%d", i);
		if (http_reserve(&c, "KILL", user, NULL, rid) == 201 &&
		    http_confirm(&c, rid, user, "", NULL) == 200)
			sold_after++;
		else
			tr_sleep_ms(20);
	}
	print_message("%d paid after the kill, %d sold later\n", paid,
	    sold_after);
	assert_int_equal(rint_("GET tr:{%s}:sold", "KILL"), 1000);
	assert_int_equal(sold_after, 1000 - KILL_PAYERS);
	assert_int_equal(rint_("GET tr:{%s}:held", "KILL"), 0);
	/* The unpaid 100 are expired, not sold. */
	for (int i = KILL_PAYERS; i < KILL_HOLDERS; i++)
		assert_int_equal(th_redis_int(&redis,
		                     "HEXISTS tr:{KILL}:orders %s", rids[i]),
		    0);
	th_conn_close(&c);
	assert_audit_passes("KILL");
	th_stop(&g.proc, SIGTERM, 5000);
	stop_nodes(nodes, 1);
}

/* ---- Redis crash during a sale ----------------------------------------- */

#define CRASH_BUYERS 4
#define CRASH_EACH 400

struct crash_buyer {
	th_stockd *nodes;
	int id;
	int held, paid;
	char (*rids)[TR_RID_MAX + 1];
	char (*users)[32];
	bool *paid_ok;
};

static void *
crash_buyer_main(void *arg)
{
	struct crash_buyer *b = arg;
	tr_client *c[2];
	for (int i = 0; i < 2; i++)
		if (tr_client_open(b->nodes[i].data_url, 2000, &c[i]) != 0)
			return NULL;
	for (int i = 0; i < CRASH_EACH; i++) {
		Ticketrush__Reply *rep = NULL;
		char *user = b->users[b->held];
		snprintf(user, 32, "crash-%d-%d", b->id, i);
		if (tr_client_reserve(c[i % 2], "CRASH", user, 1, NULL,
		        &rep) == 0) {
			snprintf(b->rids[b->held], TR_RID_MAX + 1, "%s",
			    rep->hold->reservation_id);
			tr_reply_free(rep);
			rep = NULL;
			/* Every other one pays at once. */
			if (i % 2 == 0 &&
			    tr_client_confirm(c[(i + 1) % 2], b->rids[b->held],
			        user, "P", &rep) == 0)
				b->paid_ok[b->held] = true;
			b->held++;
		}
		tr_reply_free(rep);
	}
	for (int i = 0; i < 2; i++)
		tr_client_close(c[i]);
	return NULL;
}

static void
holds_and_orders_answered_survive_a_redis_crash(void **state)
{
	th_stockd nodes[2];
	struct crash_buyer b[CRASH_BUYERS];
	pthread_t t[CRASH_BUYERS];
	tr_client *c;
	int holds = 0, orders = 0, confirmed_later = 0;
	(void)state;

	start_nodes(nodes, 2,
	    (const char *[]){FAST_NODE, "--redis-timeout", "300ms", NULL});
	create_event(nodes, 2, "CRASH", 100000, 1, 60000);
	for (int i = 0; i < CRASH_BUYERS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].nodes = nodes;
		b[i].id = i;
		b[i].rids = calloc(CRASH_EACH, TR_RID_MAX + 1);
		b[i].users = calloc(CRASH_EACH, 32);
		b[i].paid_ok = calloc(CRASH_EACH, sizeof(bool));
		pthread_create(&t[i], NULL, crash_buyer_main, &b[i]);
	}
	/* kill -9 in the middle of the sale; back from the AOF. */
	tr_sleep_ms(400);
	assert_int_equal(th_redis_restart(&redis, true), 0);
	for (int i = 0; i < CRASH_BUYERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	for (int i = 0; i < CRASH_BUYERS; i++) {
		for (int k = 0; k < b[i].held; k++) {
			Ticketrush__Reply *rep = NULL;
			int rv = -1;
			holds++;
			if (b[i].paid_ok[k]) {
				/* Every order answered 200 is there. */
				orders++;
				assert_int_equal(
				    th_redis_int(&redis,
				        "HEXISTS tr:{CRASH}:orders %s",
				        b[i].rids[k]),
				    1);
				continue;
			}
			/* Every hold answered 201 can still be paid. */
			for (int tries = 0; tries < 50 && rv != 0; tries++) {
				tr_reply_free(rep);
				rep = NULL;
				rv = tr_client_confirm(c, b[i].rids[k],
				    b[i].users[k], "P", &rep);
				if (rv == TR_EUNAVAILABLE)
					tr_sleep_ms(100);
				else
					break;
			}
			if (rv != 0)
				fail_msg("hold %s answered 201 cannot be paid "
				         "after the crash: %d",
				    b[i].rids[k], rv);
			confirmed_later++;
			tr_reply_free(rep);
		}
	}
	print_message("%d holds answered 201, %d orders answered 200, %d "
	              "paid after the crash\n",
	    holds, orders, confirmed_later);
	assert_true(holds > 100);
	assert_int_equal(rint_("GET tr:{%s}:sold", "CRASH"), holds);
	tr_client_close(c);
	assert_audit_passes("CRASH");
	for (int i = 0; i < CRASH_BUYERS; i++) {
		free(b[i].rids);
		free(b[i].users);
		free(b[i].paid_ok);
	}
	stop_nodes(nodes, 2);
}

/* ---- a confirm racing its hold's expiry --------------------------------- */

#define RACE_ROUNDS 12
#define RACE_HOLD_MS 300

struct race_round {
	th_stockd *nodes;
	int id;
	int payer_paid, thief_paid, violations;
};

struct thief {
	const char *url[2];
	char event[32];
	bool paid;
	int64_t until;
};

static void *
thief_main(void *arg)
{
	struct thief *th = arg;
	tr_client *cl[2], *c;
	if (tr_client_open(th->url[0], 2000, &cl[0]) != 0)
		return NULL;
	if (tr_client_open(th->url[1], 2000, &cl[1]) != 0) {
		tr_client_close(cl[0]);
		return NULL;
	}
	/* Both nodes in turn: the ticket comes back to its node's lease. */
	for (int i = 0; tr_mono_ms() < th->until && !th->paid; i++) {
		Ticketrush__Reply *rep = NULL;
		c = cl[i % 2];
		if (tr_client_reserve(c, th->event, "thief", 1, NULL, &rep) ==
		    0) {
			char rid[TR_RID_MAX + 1];
			snprintf(rid, sizeof(rid), "%s",
			    rep->hold->reservation_id);
			tr_reply_free(rep);
			rep = NULL;
			th->paid =
			    tr_client_confirm(c, rid, "thief", "", &rep) == 0;
		}
		tr_reply_free(rep);
		tr_sleep_ms(3);
	}
	tr_client_close(cl[0]);
	tr_client_close(cl[1]);
	return NULL;
}

static void *
race_round_main(void *arg)
{
	struct race_round *r = arg;
	tr_client *c;
	uint64_t seed = (uint64_t)r->id * 7919 + 17;

	if (tr_client_open(r->nodes[0].data_url, 3000, &c) != 0)
		return NULL;
	for (int round = 0; round < RACE_ROUNDS; round++) {
		struct thief th = {
		    .url = {r->nodes[0].data_url, r->nodes[1].data_url}};
		Ticketrush__Reply *rep = NULL;
		char rid[TR_RID_MAX + 1];
		pthread_t tt;
		int64_t jitter;
		bool paid;

		snprintf(th.event, sizeof(th.event), "RACE-%d-%d", r->id,
		    round);
		/* One ticket: either the payer keeps it or the thief gets
		 * it back from the expiry, never both. */
		if (th_event_create(&r->nodes[0], th.event, 1, 1,
		        RACE_HOLD_MS) != 0 ||
		    th_event_wait(r->nodes, 2, th.event) != 0 ||
		    tr_client_reserve(c, th.event, "payer", 1, NULL, &rep) !=
		        0) {
			print_message("round %s: could not set up: %s\n",
			    th.event, rep ? rep->detail : "no answer");
			tr_reply_free(rep);
			r->violations++;
			continue;
		}
		snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
		tr_reply_free(rep);
		rep = NULL;
		th.until = tr_mono_ms() + RACE_HOLD_MS + 1500;
		pthread_create(&tt, NULL, thief_main, &th);
		/* Pay within +-30 ms of the deadline. */
		seed = seed * 6364136223846793005ULL + 1;
		jitter = (int64_t)((seed >> 33) % 61) - 30;
		tr_sleep_ms(RACE_HOLD_MS + jitter);
		paid = tr_client_confirm(c, rid, "payer", "P", &rep) == 0;
		tr_reply_free(rep);
		pthread_join(tt, NULL);
		r->payer_paid += paid;
		r->thief_paid += th.paid;
		if (paid && th.paid) {
			print_message("round %s: both paid\n", th.event);
			r->violations++;
		}
		if (th_redis_int(&redis, "GET tr:{%s}:sold", th.event) !=
		    (long long)(paid + th.paid)) {
			print_message("round %s: sold %lld, paid %d + %d\n",
			    th.event,
			    th_redis_int(&redis, "GET tr:{%s}:sold", th.event),
			    paid, th.paid);
			r->violations++;
		}
	}
	tr_client_close(c);
	return NULL;
}

static void
a_confirm_racing_its_expiry_never_sells_the_ticket_twice(void **state)
{
	th_stockd nodes[2];
	struct race_round r[3];
	pthread_t t[3];
	int payer = 0, thief = 0, violations = 0;
	(void)state;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, NULL});
	for (int i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].nodes = nodes;
		r[i].id = i;
		pthread_create(&t[i], NULL, race_round_main, &r[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		payer += r[i].payer_paid;
		thief += r[i].thief_paid;
		violations += r[i].violations;
	}
	print_message("%d rounds: payer won %d, the ticket came back and "
	              "sold to the other buyer %d\n",
	    3 * RACE_ROUNDS, payer, thief);
	assert_int_equal(violations, 0);
	/* The race went both ways: the test saw both outcomes. */
	assert_true(payer > 0);
	assert_true(thief > 0);
	for (int i = 0; i < 3; i++)
		for (int round = 0; round < RACE_ROUNDS; round++) {
			char ev[32];
			snprintf(ev, sizeof(ev), "RACE-%d-%d", i, round);
			assert_audit_passes(ev);
		}
	stop_nodes(nodes, 2);
}

/* ---- a new event ----------------------------------------------------------
 */

static void
a_new_event_is_on_sale_at_once_on_every_node(void **state)
{
	th_stockd nodes[4];
	th_gate g;
	th_conn c;
	tr_client *admin, *cl[4];
	Ticketrush__Reply *rep = NULL;
	char user[32], rid[TR_RID_MAX + 1], body[2048], event[16];
	(void)state;

	/* Slow discovery would take a second: the lookup must not wait. */
	start_nodes(nodes, 4, (const char *[]){FAST_NODE, NULL});
	start_gate(&g, nodes, 4, NULL);
	th_conn_init(&c, g.port);
	assert_int_equal(tr_client_open(nodes[0].admin_url, 3000, &admin), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &cl[i]),
		    0);
	for (int round = 0; round < 5; round++) {
		snprintf(event, sizeof(event), "NEW%d", round);
		assert_int_equal(tr_client_create_event(admin, event, 100, 1,
		                     60000, 0, &rep),
		    0);
		tr_reply_free(rep);
		rep = NULL;
		/* At once, on every node, then through the gateway. */
		for (int i = 0; i < 4; i++) {
			snprintf(user, sizeof(user), "direct-%d", i);
			if (tr_client_reserve(cl[(i + round) % 4], event, user,
			        1, NULL, &rep) != 0)
				fail_msg("new event %s on node %d: %s", event,
				    (i + round) % 4 + 1,
				    rep ? rep->detail : "no answer");
			tr_reply_free(rep);
			rep = NULL;
		}
		snprintf(body, sizeof(body), "/v1/events/%s", event);
		assert_int_equal(th_conn_http(&c, "GET", body, NULL, body,
		                     sizeof(body)),
		    200);
		assert_null(strstr(body, "sold_out"));
		assert_non_null(strstr(body, "\"total\":100"));
		for (int i = 0; i < 4; i++) {
			snprintf(user, sizeof(user), "gw-%d", i);
			assert_int_equal(http_reserve(&c, event, user, NULL,
			                     rid),
			    201);
		}
	}
	/* A made-up event is 404 from every node, through the gateway. */
	assert_int_equal(http_reserve(&c, "NO-SUCH-EVENT", "u", NULL, rid),
	    404);
	for (int i = 0; i < 4; i++)
		tr_client_close(cl[i]);
	tr_client_close(admin);
	th_conn_close(&c);
	th_stop(&g.proc, SIGTERM, 5000);
	stop_nodes(nodes, 4);
}

static uint64_t
node_calls(th_stockd *n)
{
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	uint64_t v = 0;
	assert_int_equal(tr_client_open(n->admin_url, 3000, &c), 0);
	assert_int_equal(tr_client_status(c, &rep), 0);
	v = rep->node->coordinator_calls;
	tr_reply_free(rep);
	tr_client_close(c);
	return v;
}

static void
a_flood_of_unknown_events_costs_a_few_redis_calls(void **state)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char event[32];
	uint64_t before, used;
	int64_t t0;
	double secs;
	int not_found = 0;
	(void)state;

	/* Background work slowed down so the count is the lookups'. */
	start_nodes(&node, 1,
	    (const char *[]){"--liveness-ttl", "20s", "--sweep", "60s",
	        "--sync", "60s", NULL});
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	tr_sleep_ms(300);
	before = node_calls(&node);
	t0 = tr_mono_ms();
	for (int i = 0; i < 3000; i++) {
		/* Half made-up ids, half the same one again and again. */
		if (i % 2)
			snprintf(event, sizeof(event), "fake-%d", i);
		else
			snprintf(event, sizeof(event), "fake-same");
		int rv = tr_client_reserve(c, event, "u", 1, NULL, &rep);
		not_found += rv == TR_ENOT_FOUND;
		tr_reply_free(rep);
		rep = NULL;
	}
	secs = (double)(tr_mono_ms() - t0) / 1000.0;
	used = node_calls(&node) - before;
	print_message("3000 reservations of unknown events in %.2f s: %" PRIu64
	              " coordinator calls\n",
	    secs, used);
	assert_int_equal(not_found, 3000);
	/* 20 lookups a second at most, plus a heartbeat and discovery a
	 * second. */
	assert_true((double)used <= (20 + 4) * (secs + 1));
	tr_client_close(c);
	stop_nodes(&node, 1);
}

/* ---- the review's findings ------------------------------------------------
 */

static void
a_paid_order_is_found_after_its_node_restarts(void **state)
{
	th_stockd nodes[2];
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	int64_t at, deadline;
	int rv = -1;
	(void)state;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 2, "PAID", 10, 1, 60000);
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "PAID", "u", 1, NULL, &rep), 0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	assert_int_equal(tr_client_confirm(c, rid, "u", "P", &rep), 0);
	at = rep->order->confirmed_at_ms;
	tr_reply_free(rep);
	tr_client_close(c);
	/* kill -9; its lease is reclaimed meanwhile; it comes back. */
	th_stop(&nodes[0].proc, SIGKILL, 2000);
	deadline = tr_mono_ms() + 8000;
	while (th_redis_int(&redis, "HEXISTS tr:{PAID}:lease n1") == 1 &&
	    tr_mono_ms() < deadline)
		tr_sleep_ms(50);
	assert_int_equal(th_stockd_restart(&nodes[0]), 0);
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	/* The retry finds the order: 200 with the same order, not 404. */
	deadline = tr_mono_ms() + 8000;
	do {
		rep = NULL;
		rv = tr_client_confirm(c, rid, "u", "P", &rep);
		if (rv == 0)
			break;
		tr_reply_free(rep);
		tr_sleep_ms(100);
	} while (tr_mono_ms() < deadline);
	assert_int_equal(rv, 0);
	assert_int_equal(rep->order->confirmed_at_ms, at);
	tr_reply_free(rep);
	tr_client_close(c);
	assert_audit_passes("PAID");
	stop_nodes(nodes, 2);
}

static void
a_second_payment_is_a_conflict_naming_the_order(void **state)
{
	th_stockd node;
	th_gate g;
	th_conn c;
	char rid[TR_RID_MAX + 1], ref[TR_PAYMENT_REF_MAX + 1];
	(void)state;

	start_nodes(&node, 1, (const char *[]){FAST_NODE, NULL});
	create_event(&node, 1, "PAY", 10, 1, 60000);
	start_gate(&g, &node, 1, NULL);
	th_conn_init(&c, g.port);
	assert_int_equal(http_reserve(&c, "PAY", "u", NULL, rid), 201);
	assert_int_equal(http_confirm(&c, rid, "u", "PAY-1", ref), 200);
	assert_string_equal(ref, "PAY-1");
	/* A retry with the same reference is the same order. */
	assert_int_equal(http_confirm(&c, rid, "u", "PAY-1", ref), 200);
	/* Another reference: a double payment, made visible. */
	assert_int_equal(http_confirm(&c, rid, "u", "PAY-2", ref), 409);
	assert_string_equal(ref, "PAY-1");
	assert_int_equal(rint_("GET tr:{%s}:sold", "PAY"), 1);
	th_conn_close(&c);
	th_stop(&g.proc, SIGTERM, 5000);
	stop_nodes(&node, 1);
}

static void
the_gateways_retry_after_a_timeout_makes_no_ghost_hold(void **state)
{
	th_stockd nodes[2];
	th_gate g;
	th_conn c;
	char rid[TR_RID_MAX + 1];
	(void)state;

	start_nodes(nodes, 2,
	    (const char *[]){"--liveness-ttl", "5s", "--sweep", "200ms",
	        "--sync", "100ms", "--lease-idle", "0", NULL});
	create_event(nodes, 2, "GHOST", 100, 2, 60000);
	start_gate(&g, nodes, 2,
	    (const char *[]){"--upstream-timeout", "300ms", NULL});
	th_conn_init(&c, g.port);
	/* Warm both nodes' leases. */
	assert_int_equal(http_reserve(&c, "GHOST", "w1", NULL, rid), 201);
	assert_int_equal(http_reserve(&c, "GHOST", "w2", NULL, rid), 201);
	/* n1 freezes: the gateway's attempt there times out, it tries n2
	 * with the same request id; n1 wakes and handles the first. */
	kill(nodes[0].proc.pid, SIGSTOP);
	for (int i = 0; i < 2; i++) {
		char user[16];
		snprintf(user, sizeof(user), "ghost-%d", i);
		assert_int_equal(http_reserve(&c, "GHOST", user, NULL, rid),
		    201);
	}
	tr_sleep_ms(200);
	kill(nodes[0].proc.pid, SIGCONT);
	tr_sleep_ms(1000);
	/* One hold each (the limit is 2, so a ghost would stand), though
	 * one of the two was sent to both nodes. */
	assert_int_equal(rint_("GET tr:{%s}:held", "GHOST"), 4);
	th_conn_close(&c);
	assert_audit_passes("GHOST");
	th_stop(&g.proc, SIGTERM, 5000);
	stop_nodes(nodes, 2);
}

static void
the_sweep_reclaims_dead_nodes_past_the_first_64(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000, NULL, false};
	tr_call k, *kp = &k;
	tr_event_figures fig;
	uint64_t returned, hold, granted, pool;
	uint32_t limit;
	int64_t opens, deadline;
	th_stockd node;
	char dead[16];
	(void)state;

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	tr_call_create_event(&k, "MANY", 1000, 1, 60000, 0);
	tr_coord_run(coord, &kp, 1);
	tr_call_done(&k);
	assert_int_equal(tr_coord_event_publish(coord, "MANY"), 0);
	/* 100 nodes that registered (as nodes do: in tr:{#}:nodes, the event
	 * in their index first), took 3 tickets each, and died. */
	for (int i = 0; i < 100; i++) {
		snprintf(dead, sizeof(dead), "dead%03d", i);
		assert_int_equal(tr_coord_node_join(coord, dead), 0);
		assert_int_equal(tr_coord_index_add(coord, dead, "MANY"), 0);
		tr_call_register(&k, "MANY", dead);
		tr_coord_run(coord, &kp, 1);
		assert_int_equal(tr_result_register(&k, &fig, &returned,
		                     &limit, &hold, &opens),
		    0);
		tr_call_done(&k);
		tr_call_grant(&k, "MANY", dead, fig.epoch, 3);
		tr_coord_run(coord, &kp, 1);
		assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
		assert_int_equal(granted, 3);
		tr_call_done(&k);
	}
	tr_coord_close(coord);
	assert_int_equal(rint_("GET tr:{%s}:pool", "MANY"), 700);
	start_nodes(&node, 1, (const char *[]){FAST_NODE, NULL});
	/* After one TTL connected, the sweeper (it is the only node) pages
	 * through every dead node's index. */
	deadline = tr_mono_ms() + 10000;
	while (
	    rint_("HLEN tr:{%s}:lease", "MANY") > 0 && tr_mono_ms() < deadline)
		tr_sleep_ms(100);
	/* n1 knows MANY only if something asked it: nothing did, so no
	 * lease entry of its own; every dead one is gone. */
	assert_int_equal(rint_("HLEN tr:{%s}:lease", "MANY"), 0);
	assert_int_equal(rint_("GET tr:{%s}:pool", "MANY"), 1000);
	/* Their indexes and their places in tr:{#}:nodes went with them. */
	assert_int_equal(th_redis_int(&redis, "SCARD tr:{#}:nodes"), 1);
	assert_int_equal(th_redis_int(&redis,
	                     "EXISTS tr:{#}:node:dead042:events"),
	    0);
	assert_audit_passes("MANY");
	stop_nodes(&node, 1);
}

static void
a_node_paused_past_its_ttl_sells_nothing_from_its_old_lease(void **state)
{
	th_stockd nodes[2];
	tr_client *c[2];
	Ticketrush__Reply *rep = NULL;
	char user[32];
	int ok = 0;
	int64_t deadline;
	long long epoch;
	(void)state;

	start_nodes(nodes, 2,
	    (const char *[]){FAST_NODE, "--refill-min", "30", NULL});
	create_event(nodes, 2, "PAUSE", 60, 1, 60000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &c[i]),
		    0);
	assert_int_equal(tr_client_reserve(c[0], "PAUSE", "first", 1, NULL,
	                     &rep),
	    0);
	tr_reply_free(rep);
	rep = NULL;
	epoch = th_redis_int(&redis, "HGET tr:{PAUSE}:epoch n1");
	/* n1 stops for longer than its TTL; n2 reclaims its lease. */
	kill(nodes[0].proc.pid, SIGSTOP);
	deadline = tr_mono_ms() + 8000;
	while (th_redis_int(&redis, "HGET tr:{PAUSE}:epoch n1") == epoch &&
	    tr_mono_ms() < deadline)
		tr_sleep_ms(50);
	assert_true(th_redis_int(&redis, "HGET tr:{PAUSE}:epoch n1") > epoch);
	/* n2 sells what came back while n1 sleeps... */
	for (int i = 0; i < 40; i++) {
		snprintf(user, sizeof(user), "during-%d", i);
		if (tr_client_reserve(c[1], "PAUSE", user, 1, NULL, &rep) == 0)
			ok++;
		tr_reply_free(rep);
		rep = NULL;
	}
	/* ...and n1 wakes believing in its old lease: everyone at both
	 * nodes, and no more than 60 holds exist. */
	kill(nodes[0].proc.pid, SIGCONT);
	for (int i = 0; i < 80; i++) {
		snprintf(user, sizeof(user), "after-%d", i);
		if (tr_client_reserve(c[i % 2], "PAUSE", user, 1, NULL,
		        &rep) == 0)
			ok++;
		tr_reply_free(rep);
		rep = NULL;
	}
	print_message("%d holds made around the pause\n", ok);
	assert_true(ok <= 59);
	assert_true(rint_("GET tr:{%s}:held", "PAUSE") <= 60);
	assert_int_equal(rint_("GET tr:{%s}:held", "PAUSE"), ok + 1);
	assert_audit_passes("PAUSE");
	for (int i = 0; i < 2; i++)
		tr_client_close(c[i]);
	stop_nodes(nodes, 2);
}

static void
a_second_process_with_the_same_node_id_waits_for_the_first(void **state)
{
	th_stockd first, second;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	long long epoch;
	int64_t deadline;
	int rv = -1;
	(void)state;

	start_nodes(&first, 1, (const char *[]){FAST_NODE, NULL});
	create_event(&first, 1, "TWIN", 10, 1, 60000);
	epoch = th_redis_int(&redis, "HGET tr:{TWIN}:epoch n1");
	/* Same node id, other ports. */
	assert_int_equal(th_stockd_start(&second, "n1", &redis,
	                     (const char *[]){FAST_NODE, NULL}),
	    0);
	tr_sleep_ms(1500);
	/* It does not knock the first off, and does not sell. */
	assert_int_equal(th_redis_int(&redis, "HGET tr:{TWIN}:epoch n1"),
	    epoch);
	assert_int_equal(tr_client_open(second.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "TWIN", "u2", 1, NULL, &rep),
	    TR_EUNAVAILABLE);
	tr_reply_free(rep);
	rep = NULL;
	tr_client_close(c);
	assert_int_equal(tr_client_open(first.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "TWIN", "u1", 1, NULL, &rep), 0);
	tr_reply_free(rep);
	rep = NULL;
	tr_client_close(c);
	/* The first stops cleanly: the second takes the id over at once. */
	th_stop(&first.proc, SIGTERM, 5000);
	assert_int_equal(tr_client_open(second.data_url, 3000, &c), 0);
	deadline = tr_mono_ms() + 5000;
	do {
		rv = tr_client_reserve(c, "TWIN", "u2", 1, NULL, &rep);
		tr_reply_free(rep);
		rep = NULL;
		if (rv != 0)
			tr_sleep_ms(100);
	} while (rv != 0 && tr_mono_ms() < deadline);
	assert_int_equal(rv, 0);
	tr_client_close(c);
	assert_audit_passes("TWIN");
	stop_nodes(&second, 1);
}

static void
sync_repairs_the_lease_both_ways(void **state)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	redisReply *r;
	char user[32];
	long long lease;
	int64_t deadline;
	int sold = 0;
	(void)state;

	start_nodes(&node, 1,
	    (const char *[]){FAST_NODE, "--refill-min", "20", NULL});
	create_event(&node, 1, "REPAIR", 100, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "REPAIR", "a", 1, NULL, &rep),
	    0);
	tr_reply_free(rep);
	rep = NULL;
	lease = th_redis_int(&redis, "HGET tr:{REPAIR}:lease n1");
	assert_true(lease >= 10);
	/* A lost write (as after a failover): Redis holds 10 fewer than the
	 * node believes. The node must adopt it, not fail confirms forever
	 * nor sell what it does not have. */
	r = th_redis_cmd(&redis, "HINCRBY tr:{REPAIR}:lease n1 -10");
	freeReplyObject(r);
	r = th_redis_cmd(&redis, "INCRBY tr:{REPAIR}:pool 10");
	freeReplyObject(r);
	/* And the other way: 7 more than it believes (a lost answer). */
	tr_sleep_ms(300);
	r = th_redis_cmd(&redis, "HINCRBY tr:{REPAIR}:lease n1 7");
	freeReplyObject(r);
	r = th_redis_cmd(&redis, "DECRBY tr:{REPAIR}:pool 7");
	freeReplyObject(r);
	/* The whole sale still goes through, every hold paid. */
	deadline = tr_mono_ms() + 10000;
	for (int i = 0; rint_("GET tr:{%s}:sold", "REPAIR") < 99 &&
	     tr_mono_ms() < deadline;
	     i++) {
		char rid[TR_RID_MAX + 1];
		snprintf(user, sizeof(user), "buyer-%d", i);
		if (tr_client_reserve(c, "REPAIR", user, 1, NULL, &rep) != 0) {
			tr_reply_free(rep);
			tr_sleep_ms(20);
			continue;
		}
		snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
		tr_reply_free(rep);
		rep = NULL;
		assert_int_equal(tr_client_confirm(c, rid, user, "", &rep), 0);
		tr_reply_free(rep);
		rep = NULL;
		sold++;
	}
	assert_int_equal(rint_("GET tr:{%s}:sold", "REPAIR"), 99);
	assert_audit_passes("REPAIR");
	tr_client_close(c);
	stop_nodes(&node, 1);
}

static void
stop_gives_back_what_redis_says_the_node_holds(void **state)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	redisReply *r;
	(void)state;

	/* No sync while this runs: the node's books stay off. */
	start_nodes(&node, 1,
	    (const char *[]){"--liveness-ttl", "2s", "--sync", "60s",
	        "--sweep", "60s", "--lease-idle", "0", "--refill-min", "20",
	        NULL});
	create_event(&node, 1, "STOP", 100, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "STOP", "a", 1, NULL, &rep), 0);
	tr_reply_free(rep);
	tr_client_close(c);
	/* A grant whose answer was lost: Redis leased 7 more than the node
	 * knows of. */
	r = th_redis_cmd(&redis, "HINCRBY tr:{STOP}:lease n1 7");
	freeReplyObject(r);
	r = th_redis_cmd(&redis, "DECRBY tr:{STOP}:pool 7");
	freeReplyObject(r);
	stop_nodes(&node, 1);
	/* All of it went back, not only what the node believed. */
	assert_int_equal(th_redis_int(&redis, "HEXISTS tr:{STOP}:lease n1"),
	    0);
	assert_int_equal(rint_("GET tr:{%s}:pool", "STOP"), 99);
	assert_int_equal(rint_("GET tr:{%s}:held", "STOP"), 1);
	/* A clean stop drops the liveness claim. */
	assert_int_equal(th_redis_int(&redis, "EXISTS tr:{#}:node:n1:alive"),
	    0);
	assert_audit_passes("STOP");
}

static void
opens_at_is_decided_by_the_coordinators_clock(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000, NULL, false};
	tr_call k, *kp = &k;
	tr_event_figures fig;
	uint64_t returned, hold, granted, pool;
	uint32_t limit;
	int64_t opens, now, t;
	size_t count;
	tr_hold_result h;
	redisReply *r;
	(void)state;

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	r = th_redis_cmd(&redis, "TIME");
	now = strtoll(r->element[0]->str, NULL, 10) * 1000;
	freeReplyObject(r);
	/* Opens in 1.5 s by Redis' clock, whatever the node's says. */
	tr_call_create_event(&k, "LATER", 5, 1, 60000, now + 1500);
	tr_coord_run(coord, &kp, 1);
	tr_call_done(&k);
	tr_call_register(&k, "LATER", "x1");
	tr_coord_run(coord, &kp, 1);
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit, &hold,
	                     &opens),
	    0);
	tr_call_done(&k);
	tr_call_grant(&k, "LATER", "x1", fig.epoch, 5);
	tr_coord_run(coord, &kp, 1);
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	tr_call_done(&k);
	for (int phase = 0; phase < 2; phase++) {
		tr_call_hold(&k, "LATER", "x1", fig.epoch);
		assert_int_equal(tr_call_hold_item(&k,
		                     phase ? "x1.0000000000000002.LATER"
		                           : "x1.0000000000000001.LATER",
		                     "u", 1, ""),
		    0);
		tr_coord_run(coord, &kp, 1);
		assert_int_equal(tr_result_hold(&k, &t, &count), 0);
		assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
		assert_int_equal(h.outcome,
		    phase ? TR_HOLDCALL_CREATED : TR_HOLDCALL_NOT_OPEN);
		tr_call_done(&k);
		tr_sleep_ms(1700);
	}
	tr_coord_close(coord);
	assert_audit_passes("LATER");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_redis, teardown_redis)
	    T(one_request_id_sent_to_every_node_makes_one_hold),
	    T(one_request_id_sent_to_every_node_at_once_makes_one_hold),
	    T(one_user_holds_at_most_the_limit_over_all_nodes),
	    T(killed_nodes_holders_pay_through_the_gateway_and_the_rest_come_back),
	    T(holds_and_orders_answered_survive_a_redis_crash),
	    T(a_confirm_racing_its_expiry_never_sells_the_ticket_twice),
	    T(a_new_event_is_on_sale_at_once_on_every_node),
	    T(a_flood_of_unknown_events_costs_a_few_redis_calls),
	    T(a_paid_order_is_found_after_its_node_restarts),
	    T(a_second_payment_is_a_conflict_naming_the_order),
	    T(the_gateways_retry_after_a_timeout_makes_no_ghost_hold),
	    T(the_sweep_reclaims_dead_nodes_past_the_first_64),
	    T(a_node_paused_past_its_ttl_sells_nothing_from_its_old_lease),
	    T(a_second_process_with_the_same_node_id_waits_for_the_first),
	    T(sync_repairs_the_lease_both_ways),
	    T(stop_gives_back_what_redis_says_the_node_holds),
	    T(opens_at_is_decided_by_the_coordinators_clock),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
