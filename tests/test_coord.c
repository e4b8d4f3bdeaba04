/* test_coord: stock nodes with the Redis coordinator, against a real
 * redis-server: exact sales across nodes, no undersell after abandoned
 * holds, the per-user limit across nodes, fencing of a killed node (whose
 * holds survive it), orders surviving a Redis crash, Redis outages, and the
 * scripts' edge cases called directly. */
#include <errno.h>
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

/* Flags that make the node's background work fast enough for tests. */
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

static long long
sold_of(const char *event)
{
	return th_redis_int(&redis, "GET tr:{%s}:sold", event);
}

/* ticketctl audit: exit code 0 means every check passed. */
static int
audit(const char *event, char *out, size_t cap)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s --redis %s audit %s",
	    th_bin("ticketctl"), redis.addr, event);
	return th_run(cmd, out, cap);
}

static void
assert_audit_passes(const char *event)
{
	char out[4096];
	int rv = audit(event, out, sizeof(out));
	if (rv != 0)
		fail_msg("audit of %s failed (exit %d):\n%s", event, rv, out);
}

/* Reserve then confirm on the node the reservation names; returns the
 * reserve status (as tr_err). */
static int
buy(tr_client *c, const char *event, const char *user, bool confirm)
{
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	int rv = tr_client_reserve(c, event, user, 1, NULL, &rep);
	if (rv == 0)
		snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	if (rv != 0 || !confirm)
		return rv;
	for (int tries = 0; tries < 20; tries++) {
		int c_rv = tr_client_confirm(c, rid, user, "pay", &rep);
		tr_reply_free(rep);
		rep = NULL;
		if (c_rv == 0)
			return 0;
		if (c_rv != TR_EUNAVAILABLE && c_rv != TR_ETIMEDOUT)
			return c_rv;
		tr_sleep_ms(100);
	}
	return TR_EUNAVAILABLE;
}

/* One hold call of one item; returns the item's outcome (or the call's
 * error as a negative tr_err). */
static int
hold_one(tr_coord *coord, const char *event, const char *node, uint64_t epoch,
    const char *rid, const char *user, uint32_t qty, const char *req,
    tr_hold_result *out)
{
	tr_call k, *kp = &k;
	int64_t now;
	size_t count;
	int rv;

	tr_call_hold(&k, event, node, epoch);
	assert_int_equal(tr_call_hold_item(&k, rid, user, qty, req), 0);
	tr_coord_run(coord, &kp, 1);
	if ((rv = tr_result_hold(&k, &now, &count)) == 0) {
		assert_int_equal(count, 1);
		assert_int_equal(tr_result_hold_item(&k, 0, out), 0);
		rv = (int)out->outcome;
	}
	tr_call_done(&k);
	return rv;
}

/* One confirm call of one item: 0 with *out, or the refusal. */
static int
confirm_one(tr_coord *coord, const char *event, const char *node,
    const char *rid, const char *user, const char *ref, tr_order_info *out)
{
	tr_call k, *kp = &k;
	tr_order_info unused;
	char detail[160];
	int64_t now;
	size_t count;
	int rv;

	tr_call_confirm(&k, event, node);
	assert_int_equal(tr_call_confirm_item(&k, rid, user, ref), 0);
	tr_coord_run(coord, &kp, 1);
	if ((rv = tr_result_confirm(&k, &now, &count)) == 0) {
		assert_int_equal(count, 1);
		rv = tr_result_confirm_item(&k, 0, out ? out : &unused, detail,
		    sizeof(detail));
	}
	tr_call_done(&k);
	return rv;
}

/* ---- four nodes, 100,000 attempts ------------------------------------- */

#define BIG_TICKETS 10000
#define BIG_ATTEMPTS 100000
#define BIG_THREADS 16

struct buyer_thread {
	th_stockd *nodes;
	int id;
	int ok, sold_out, other, confirm_failed;
};

static void *
buyer_main(void *arg)
{
	struct buyer_thread *b = arg;
	tr_client *c[4];
	char user[32];
	int per = BIG_ATTEMPTS / BIG_THREADS;

	for (int i = 0; i < 4; i++)
		if (tr_client_open(b->nodes[i].data_url, 5000, &c[i]) != 0)
			return NULL;
	for (int i = 0; i < per; i++) {
		int rv;
		snprintf(user, sizeof(user), "b%d-%d", b->id, i);
		rv = buy(c[(b->id + i) % 4], "BIG", user, true);
		if (rv == 0)
			b->ok++;
		else if (rv == TR_ESOLD_OUT)
			b->sold_out++;
		else
			b->other++;
	}
	for (int i = 0; i < 4; i++)
		tr_client_close(c[i]);
	return NULL;
}

static void
four_nodes_sell_exactly_the_tickets_of_100000_attempts(void **state)
{
	th_stockd nodes[4];
	pthread_t t[BIG_THREADS];
	struct buyer_thread b[BIG_THREADS];
	int ok = 0, sold_out = 0, other = 0;
	redisReply *r;
	(void)state;

	start_nodes(nodes, 4, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 4, "BIG", BIG_TICKETS, 1, 60000);
	for (int i = 0; i < BIG_THREADS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].nodes = nodes;
		b[i].id = i;
		pthread_create(&t[i], NULL, buyer_main, &b[i]);
	}
	for (int i = 0; i < BIG_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += b[i].ok;
		sold_out += b[i].sold_out;
		other += b[i].other;
	}
	print_message("ok %d sold_out %d other %d\n", ok, sold_out, other);
	assert_int_equal(ok, BIG_TICKETS);
	assert_int_equal(sold_of("BIG"), BIG_TICKETS);
	assert_int_equal(th_redis_int(&redis, "HLEN tr:{BIG}:orders"),
	    BIG_TICKETS);
	/* Nobody has two orders. */
	r = th_redis_cmd(&redis, "HVALS tr:{BIG}:buyers");
	assert_non_null(r);
	for (size_t i = 0; i < r->elements; i++)
		assert_string_equal(r->element[i]->str, "1");
	freeReplyObject(r);
	assert_audit_passes("BIG");
	stop_nodes(nodes, 4);
}

/* ---- undersell ---------------------------------------------------------- */

static void
abandoned_holds_expire_and_later_users_buy_them(void **state)
{
	th_stockd nodes[2];
	tr_client *c[2];
	int ok = 0;
	char user[32];
	int64_t deadline;
	(void)state;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 2, "UNDER", 200, 1, 1000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &c[i]),
		    0);
	/* 200 buyers; every fourth abandons the hold. Like the gateway, a
	 * buyer turned away by one node (its lease empty, the pool empty)
	 * tries the other, which may still hold the last tickets. */
	for (int i = 0; i < 200; i++) {
		snprintf(user, sizeof(user), "first-%d", i);
		int rv = buy(c[i % 2], "UNDER", user, i % 4 != 0);
		if (rv == TR_ESOLD_OUT)
			rv = buy(c[(i + 1) % 2], "UNDER", user, i % 4 != 0);
		if (rv == 0)
			ok++;
	}
	assert_int_equal(ok, 200);
	assert_int_equal(sold_of("UNDER"), 150);
	/* Demand goes on; the abandoned 50 expire and are sold again. */
	deadline = tr_mono_ms() + 10000;
	for (int i = 0; sold_of("UNDER") < 200 && tr_mono_ms() < deadline;
	     i++) {
		snprintf(user, sizeof(user), "later-%d", i);
		if (buy(c[i % 2], "UNDER", user, true) != 0)
			tr_sleep_ms(20);
	}
	assert_int_equal(sold_of("UNDER"), 200);
	assert_audit_passes("UNDER");
	for (int i = 0; i < 2; i++)
		tr_client_close(c[i]);
	stop_nodes(nodes, 2);
}

/* ---- per-user limit across nodes -------------------------------------- */

static void
one_user_on_two_nodes_gets_one_hold_and_the_other_node_names_it(void **st)
{
	th_stockd nodes[2];
	tr_client *c[2];
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	(void)st;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 2, "LIMIT", 10, 1, 60000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000,
		                     &c[i]),
		    0);
	assert_int_equal(tr_client_reserve(c[0], "LIMIT", "alice", 1, NULL,
	                     &rep),
	    0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	/* The other node has never seen alice: Redis knows her hold. */
	assert_int_equal(tr_client_reserve(c[1], "LIMIT", "alice", 1, NULL,
	                     &rep),
	    TR_EDUPLICATE);
	assert_string_equal(rep->hold->reservation_id, rid);
	tr_reply_free(rep);
	assert_int_equal(th_redis_int(&redis, "GET tr:{LIMIT}:held"), 1);
	/* Paid (through its node, as the gateway sends it): no more
	 * anywhere. */
	assert_int_equal(tr_client_confirm(c[0], rid, "alice", "p", &rep), 0);
	tr_reply_free(rep);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tr_client_reserve(c[i], "LIMIT", "alice", 1,
		                     NULL, &rep),
		    TR_ELIMIT);
		tr_reply_free(rep);
	}
	assert_int_equal(sold_of("LIMIT"), 1);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{LIMIT}:buyers alice"),
	    1);
	assert_audit_passes("LIMIT");
	for (int i = 0; i < 2; i++)
		tr_client_close(c[i]);
	stop_nodes(nodes, 2);
}

/* ---- fencing ------------------------------------------------------------ */

static void
killed_node_lease_is_reclaimed_and_its_old_epoch_is_refused(void **state)
{
	th_stockd nodes[2];
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	long long old_epoch, lease;
	char rid[TR_RID_MAX + 1];
	char user[32];
	int64_t deadline;
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", redis.port, 2000, NULL, false};
	tr_hold_result h;
	(void)state;

	start_nodes(nodes, 2,
	    (const char *[]){FAST_NODE, "--refill-min", "40", NULL});
	create_event(nodes, 2, "FENCE", 100, 1, 60000);
	/* n1 takes a lease and makes a hold, then dies hard. */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "FENCE", "victim", 1, NULL,
	                     &rep),
	    0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	tr_client_close(c);
	lease = th_redis_int(&redis, "HGET tr:{FENCE}:lease n1");
	old_epoch = th_redis_int(&redis, "HGET tr:{FENCE}:epoch n1");
	print_message("n1 lease after one hold: %lld\n", lease);
	assert_true(lease >= 39);
	th_stop(&nodes[0].proc, SIGKILL, 2000);

	/* n2's sweep sees n1's liveness lapse and reclaims its lease. */
	deadline = tr_mono_ms() + 8000;
	while (th_redis_int(&redis, "HEXISTS tr:{FENCE}:lease n1") != 0 &&
	    tr_mono_ms() < deadline)
		tr_sleep_ms(50);
	assert_int_equal(th_redis_int(&redis, "HEXISTS tr:{FENCE}:lease n1"),
	    0);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{FENCE}:epoch n1"),
	    old_epoch + 1);

	/* A reservation recorded by the old incarnation is refused. */
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	assert_int_equal(hold_one(coord, "FENCE", "n1", (uint64_t)old_epoch,
	                     "n1.00000000000000aa.FENCE", "late", 1, "", &h),
	    TR_EFENCED);
	tr_coord_close(coord);

	/* The victim's hold survived its node: paid through n2. */
	assert_int_equal(tr_client_open(nodes[1].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_confirm(c, rid, "victim", "pay", &rep), 0);
	assert_string_equal(rep->order->node_id, "n1");
	tr_reply_free(rep);

	/* The sale still ends with every ticket sold, through n2. */
	deadline = tr_mono_ms() + 10000;
	for (int i = 0; sold_of("FENCE") < 100 && tr_mono_ms() < deadline;
	     i++) {
		snprintf(user, sizeof(user), "after-%d", i);
		if (buy(c, "FENCE", user, true) != 0)
			tr_sleep_ms(20);
	}
	tr_client_close(c);
	assert_int_equal(sold_of("FENCE"), 100);
	assert_int_equal(th_redis_int(&redis, "HEXISTS tr:{FENCE}:orders %s",
	                     rid),
	    1);
	assert_audit_passes("FENCE");
	stop_nodes(&nodes[1], 1);
}

/* ---- durability --------------------------------------------------------- */

static void
acknowledged_orders_survive_a_redis_crash(void **state)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char(*orders)[TR_RID_MAX + 1] = calloc(300, TR_RID_MAX + 1);
	char user[32];
	int n = 0;
	(void)state;

	start_nodes(&node, 1, (const char *[]){FAST_NODE, NULL});
	create_event(&node, 1, "DURABLE", 300, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	for (int i = 0; i < 300; i++) {
		char rid[TR_RID_MAX + 1];
		snprintf(user, sizeof(user), "d%d", i);
		if (tr_client_reserve(c, "DURABLE", user, 1, NULL, &rep) !=
		    0) {
			tr_reply_free(rep);
			continue;
		}
		snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
		tr_reply_free(rep);
		if (tr_client_confirm(c, rid, user, "p", &rep) == 0)
			snprintf(orders[n++], TR_RID_MAX + 1, "%s", rid);
		tr_reply_free(rep);
		rep = NULL;
	}
	assert_int_equal(n, 300);
	/* kill -9: only what appendfsync always wrote survives. */
	assert_int_equal(th_redis_restart(&redis, true), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(th_redis_int(&redis,
		                     "HEXISTS tr:{DURABLE}:orders %s",
		                     orders[i]),
		    1);
	assert_int_equal(sold_of("DURABLE"), 300);
	assert_audit_passes("DURABLE");
	tr_client_close(c);
	free(orders);
	stop_nodes(&node, 1);
}

/* ---- Redis outage --------------------------------------------------------
 */

static void
redis_outage_refuses_quickly_then_the_sale_goes_on(void **st)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	int64_t t0, took;
	int rv = -1;
	(void)st;

	start_nodes(&node, 1,
	    (const char *[]){"--liveness-ttl", "10s", "--sync", "100ms",
	        "--refill-min", "50", "--redis-timeout", "300ms", NULL});
	create_event(&node, 1, "OUTAGE", 100, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 5000, &c), 0);
	/* A hold made while Redis is up. */
	assert_int_equal(tr_client_reserve(c, "OUTAGE", "before", 1, NULL,
	                     &rep),
	    0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);

	th_redis_stop(&redis);
	/* A hold cannot be recorded, nor a confirm: both answer
	 * UNAVAILABLE, quickly, and nothing is sold from memory. */
	t0 = tr_mono_ms();
	rv = tr_client_reserve(c, "OUTAGE", "during", 1, "r-during", &rep);
	tr_reply_free(rep);
	assert_int_equal(rv, TR_EUNAVAILABLE);
	rv = tr_client_confirm(c, rid, "before", "p", &rep);
	tr_reply_free(rep);
	took = tr_mono_ms() - t0;
	assert_int_equal(rv, TR_EUNAVAILABLE);
	assert_true(took < 3000);

	/* Redis comes back (same AOF): the node reconnects by itself, the
	 * hold made before is confirmed and the retry of the refused
	 * reservation sells. */
	assert_int_equal(th_redis_restart(&redis, false), 0);
	t0 = tr_mono_ms();
	do {
		rep = NULL;
		rv = tr_client_confirm(c, rid, "before", "p", &rep);
		tr_reply_free(rep);
		if (rv != 0)
			tr_sleep_ms(100);
	} while (rv != 0 && tr_mono_ms() - t0 < 8000);
	assert_int_equal(rv, 0);
	do {
		rep = NULL;
		rv = tr_client_reserve(c, "OUTAGE", "during", 1, "r-during",
		    &rep);
		tr_reply_free(rep);
		if (rv != 0)
			tr_sleep_ms(100);
	} while (rv != 0 && tr_mono_ms() - t0 < 8000);
	assert_int_equal(rv, 0);
	assert_int_equal(sold_of("OUTAGE"), 1);
	assert_int_equal(th_redis_int(&redis, "GET tr:{OUTAGE}:held"), 1);
	assert_audit_passes("OUTAGE");
	tr_client_close(c);
	stop_nodes(&node, 1);
}

/* ---- scripts --------------------------------------------------------------
 * Called directly, as a node would. */

static void
scripts_refuse_what_would_break_the_ledger(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000, NULL, false};
	tr_call k, *kp = &k;
	tr_event_figures fig;
	uint64_t returned, hold, granted, pool, left;
	uint32_t limit, qty;
	int64_t opens, expires, node_held;
	bool created, to_lease, reclaimed;
	int st;
	tr_order_info a, b;
	tr_hold_result h;
	(void)state;

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
#define RUN() tr_coord_run(coord, &kp, 1)

	tr_call_create_event(&k, "EDGE", 5, 1, 60000, 0);
	RUN();
	assert_int_equal(tr_result_create_event(&k, &created), 0);
	assert_true(created);
	tr_call_done(&k);
	tr_call_create_event(&k, "EDGE", 6, 1, 60000, 0);
	RUN();
	assert_int_equal(k.rv, TR_EDUPLICATE);
	tr_call_done(&k);

	tr_call_register(&k, "EDGE", "x1");
	RUN();
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit, &hold,
	                     &opens),
	    0);
	assert_int_equal(fig.total, 5);
	assert_int_equal(fig.pool, 5);
	tr_call_done(&k);

	/* Grant more than the pool: only the pool comes. Then nothing. */
	tr_call_grant(&k, "EDGE", "x1", fig.epoch, 100);
	RUN();
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 5);
	assert_int_equal(pool, 0);
	tr_call_done(&k);
	tr_call_grant(&k, "EDGE", "x1", fig.epoch, 100);
	RUN();
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 0);
	tr_call_done(&k);

	/* A stale epoch is fenced, for grants and for holds. */
	tr_call_grant(&k, "EDGE", "x1", fig.epoch + 1, 1);
	RUN();
	assert_int_equal(k.rv, TR_EFENCED);
	assert_int_equal(k.fenced_epoch, fig.epoch);
	tr_call_done(&k);
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch + 1,
	                     "x1.00000000000000a0.EDGE", "u", 1, "r", &h),
	    TR_EFENCED);

	/* A hold, its retry (same request id), and the same user again. */
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000aa.EDGE", "u", 1, "r1", &h),
	    TR_HOLDCALL_CREATED);
	assert_true(h.expires_at_ms > 0);
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000ab.EDGE", "u", 1, "r1", &h),
	    TR_HOLDCALL_EXISTING);
	assert_string_equal(h.rid, "x1.00000000000000aa.EDGE");
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000ac.EDGE", "u", 1, "r2", &h),
	    TR_HOLDCALL_DUPLICATE);
	assert_string_equal(h.rid, "x1.00000000000000aa.EDGE");
	assert_int_equal(th_redis_int(&redis, "GET tr:{EDGE}:held"), 1);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{EDGE}:lease x1"), 4);

	/* Confirm through another node: the order names the hold's node. */
	assert_int_equal(confirm_one(coord, "EDGE", "x2",
	                     "x1.00000000000000aa.EDGE", "u", "p1", &a),
	    0);
	assert_true(a.created);
	assert_string_equal(a.node, "x1");
	/* Again, with another payment reference: the order as it is (the
	 * node answers CONFLICT); the same request id names the order. */
	assert_int_equal(confirm_one(coord, "EDGE", "x1",
	                     "x1.00000000000000aa.EDGE", "u", "p-other", &b),
	    0);
	assert_false(b.created);
	assert_int_equal(a.confirmed_at_ms, b.confirmed_at_ms);
	assert_string_equal(b.payment_ref, "p1");
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000ad.EDGE", "u", 1, "r1", &h),
	    TR_HOLDCALL_EXISTING);
	assert_int_equal(h.state, 2 /* CONFIRMED */);
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000ae.EDGE", "u", 1, "r3", &h),
	    TR_HOLDCALL_LIMIT);
	assert_int_equal(sold_of("EDGE"), 1);
	/* Another user cannot confirm or release it; it cannot be
	 * released. */
	assert_int_equal(confirm_one(coord, "EDGE", "x1",
	                     "x1.00000000000000aa.EDGE", "v", "", NULL),
	    TR_ENOT_OWNER);
	tr_call_release(&k, "EDGE", "x1", fig.epoch,
	    "x1.00000000000000aa.EDGE", "u");
	RUN();
	assert_int_equal(k.rv, TR_ECONFLICT);
	tr_call_done(&k);

	/* Release by the hold's own node: its ticket back to that lease.
	 * Twice is once. Confirm after it: refused. */
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000b0.EDGE", "w", 1, "", &h),
	    TR_HOLDCALL_CREATED);
	tr_call_release(&k, "EDGE", "x1", fig.epoch,
	    "x1.00000000000000b0.EDGE", "w");
	RUN();
	assert_int_equal(tr_result_release(&k, &st, &to_lease, &qty, &expires),
	    0);
	assert_int_equal(st, 3 /* RELEASED */);
	assert_true(to_lease);
	tr_call_done(&k);
	tr_call_release(&k, "EDGE", "x1", fig.epoch,
	    "x1.00000000000000b0.EDGE", "w");
	RUN();
	assert_int_equal(tr_result_release(&k, &st, &to_lease, &qty, &expires),
	    0);
	assert_int_equal(st, 3);
	assert_false(to_lease);
	tr_call_done(&k);
	assert_int_equal(confirm_one(coord, "EDGE", "x1",
	                     "x1.00000000000000b0.EDGE", "w", "", NULL),
	    TR_ECONFLICT);
	assert_int_equal(confirm_one(coord, "EDGE", "x1",
	                     "x1.00000000000000ff.EDGE", "w", "", NULL),
	    TR_ENOT_FOUND);

	/* A hold that is not due is not expired by its node; released
	 * through another node its ticket goes to the pool. */
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000c0.EDGE", "z", 1, "", &h),
	    TR_HOLDCALL_CREATED);
	tr_call_expire(&k, "EDGE", "x1", fig.epoch);
	assert_int_equal(tr_call_expire_item(&k, "x1.00000000000000c0.EDGE"),
	    0);
	RUN();
	{
		int64_t now, t;
		size_t count;
		char ref[8];
		assert_int_equal(tr_result_expire(&k, &now, &count), 0);
		assert_int_equal(tr_result_expire_item(&k, 0, &st, &to_lease,
		                     &t, ref, sizeof(ref)),
		    0);
		assert_int_equal(st, 1 /* HELD */);
		assert_int_equal(t, h.expires_at_ms);
	}
	tr_call_done(&k);
	left = (uint64_t)th_redis_int(&redis, "GET tr:{EDGE}:pool");
	tr_call_release(&k, "EDGE", "x2", 1, "x1.00000000000000c0.EDGE", "z");
	RUN();
	assert_int_equal(tr_result_release(&k, &st, &to_lease, &qty, &expires),
	    0);
	assert_false(to_lease);
	tr_call_done(&k);
	assert_int_equal(th_redis_int(&redis, "GET tr:{EDGE}:pool"), left + 1);

	/* Give back more than the lease: refused, nothing moves. */
	left = (uint64_t)th_redis_int(&redis, "HGET tr:{EDGE}:lease x1");
	tr_call_give_back(&k, "EDGE", "x1", fig.epoch, left + 1);
	RUN();
	assert_int_equal(k.rv, TR_EINVALID);
	tr_call_done(&k);
	tr_call_give_back(&k, "EDGE", "x1", fig.epoch, left);
	RUN();
	assert_int_equal(tr_result_give_back(&k, &granted, &pool), 0);
	assert_int_equal(granted, 0);
	tr_call_done(&k);
	/* A hold beyond the lease (now 0) is refused: no oversell even if a
	 * node's books were wrong. */
	assert_int_equal(hold_one(coord, "EDGE", "x1", fig.epoch,
	                     "x1.00000000000000d0.EDGE", "y", 1, "", &h),
	    TR_HOLDCALL_NO_LEASE);

	/* A reclaim under an epoch that is no longer the node's (it came
	 * back and registered after the sweeper read the epoch) is refused;
	 * under the current one the lease goes, and its entry. */
	tr_call_reclaim(&k, "EDGE", "x1", fig.epoch + 7, 1000, 100);
	RUN();
	assert_int_equal(tr_result_reclaim(&k, &reclaimed, &returned,
	                     &node_held),
	    0);
	assert_false(reclaimed);
	assert_int_equal(node_held, -1); /* its epoch moved: back */
	tr_call_done(&k);
	assert_int_equal(th_redis_int(&redis, "HEXISTS tr:{EDGE}:lease x1"),
	    1);
	tr_call_reclaim(&k, "EDGE", "x1", fig.epoch, 1000, 100);
	RUN();
	assert_int_equal(tr_result_reclaim(&k, &reclaimed, &returned,
	                     &node_held),
	    0);
	assert_true(reclaimed);
	assert_int_equal(node_held, 0);
	tr_call_done(&k);
	assert_int_equal(th_redis_int(&redis, "HEXISTS tr:{EDGE}:lease x1"),
	    0);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{EDGE}:epoch x1"),
	    (long long)fig.epoch + 1);

	/* Unknown event. */
	tr_call_grant(&k, "NOSUCH", "x1", 1, 1);
	RUN();
	assert_int_equal(k.rv, TR_ENOT_FOUND);
	tr_call_done(&k);
	tr_coord_close(coord);
	assert_audit_passes("EDGE");
}

static void
expired_holds_come_back_and_the_sweep_prunes_old_records(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000, NULL, false};
	tr_call k, *kp = &k;
	tr_event_figures fig;
	tr_hold_result h;
	uint64_t returned, hold, expired, pruned;
	uint32_t limit;
	int64_t opens;
	(void)state;

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	tr_call_create_event(&k, "EXP", 3, 1, 100, 0);
	RUN();
	tr_call_done(&k);
	tr_call_register(&k, "EXP", "x1");
	RUN();
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit, &hold,
	                     &opens),
	    0);
	tr_call_done(&k);
	tr_call_grant(&k, "EXP", "x1", fig.epoch, 3);
	RUN();
	tr_call_done(&k);
	assert_int_equal(hold_one(coord, "EXP", "x1", fig.epoch,
	                     "x1.0000000000000001.EXP", "u", 1, "", &h),
	    TR_HOLDCALL_CREATED);
	tr_sleep_ms(150);
	/* Past its deadline: confirm refuses it, without writing. */
	assert_int_equal(confirm_one(coord, "EXP", "x1",
	                     "x1.0000000000000001.EXP", "u", "", NULL),
	    TR_EEXPIRED);
	assert_int_equal(th_redis_int(&redis, "GET tr:{EXP}:held"), 1);
	/* Not yet past the grace: the sweep leaves it to its node. */
	tr_call_expire_due(&k, "EXP", 60000, 100, 3600000, 100);
	RUN();
	assert_int_equal(tr_result_expire_due(&k, &expired, &pruned), 0);
	assert_int_equal(expired, 0);
	tr_call_done(&k);
	/* Past the grace: the sweep ends it, the ticket to the pool. */
	tr_call_expire_due(&k, "EXP", 0, 100, 3600000, 100);
	RUN();
	assert_int_equal(tr_result_expire_due(&k, &expired, &pruned), 0);
	assert_int_equal(expired, 1);
	tr_call_done(&k);
	assert_int_equal(th_redis_int(&redis, "GET tr:{EXP}:held"), 0);
	assert_int_equal(th_redis_int(&redis, "GET tr:{EXP}:pool"), 1);
	assert_audit_passes("EXP");
	/* The ended record answers EXPIRED until it is pruned. */
	assert_int_equal(confirm_one(coord, "EXP", "x1",
	                     "x1.0000000000000001.EXP", "u", "", NULL),
	    TR_EEXPIRED);
	tr_call_expire_due(&k, "EXP", 0, 100, 0, 100);
	RUN();
	assert_int_equal(tr_result_expire_due(&k, &expired, &pruned), 0);
	assert_int_equal(pruned, 1);
	tr_call_done(&k);
	assert_int_equal(confirm_one(coord, "EXP", "x1",
	                     "x1.0000000000000001.EXP", "u", "", NULL),
	    TR_ENOT_FOUND);
	assert_int_equal(th_redis_int(&redis, "HLEN tr:{EXP}:holds"), 0);
	assert_int_equal(th_redis_int(&redis, "ZCARD tr:{EXP}:ended"), 0);
	tr_coord_close(coord);
	assert_audit_passes("EXP");
}

static void
scripts_are_reloaded_after_redis_forgets_them(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000, NULL, false};
	tr_call k, *kp = &k;
	redisReply *r;
	bool created;
	(void)state;

	o.port = redis.port;
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	r = th_redis_cmd(&redis, "SCRIPT FLUSH");
	freeReplyObject(r);
	tr_call_create_event(&k, "RELOAD", 5, 1, 1000, 0);
	assert_int_equal(tr_coord_run(coord, &kp, 1), 0);
	assert_int_equal(tr_result_create_event(&k, &created), 0);
	tr_call_done(&k);
	tr_coord_close(coord);
}

/* CPU seconds (user + system) a process has used so far. A read that
 * fails fails the test: a measurement not made must not pass for a small
 * one. */
static double
cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
	        &stime) != 2)
		fail_msg("%s: no utime and stime in \"%s\"", path, buf);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void
node_waiting_for_redis_does_not_spin(void **state)
{
	th_stockd node;
	double before, used;
	(void)state;

	assert_int_equal(th_stockd_start(&node, "idle", &redis, NULL), 0);
	th_redis_stop(&redis);
	tr_sleep_ms(500);
	before = cpu_seconds(node.proc.pid);
	tr_sleep_ms(2000);
	used = cpu_seconds(node.proc.pid) - before;
	print_message("CPU used in 2 s with Redis down: %.2f s\n", used);
	/* A node that died is no measure of one that waits (a zombie's
	 * /proc entry still reads). */
	assert_true(th_alive(&node.proc));
	/* It reconnects with backoff: a few connects a second and the
	 * ticker. A node that spins takes a core, 2 s. */
	assert_true(used < 0.4);
	th_stop(&node.proc, SIGTERM, 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        scripts_refuse_what_would_break_the_ledger, setup_redis,
	        teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        expired_holds_come_back_and_the_sweep_prunes_old_records,
	        setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        scripts_are_reloaded_after_redis_forgets_them, setup_redis,
	        teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        one_user_on_two_nodes_gets_one_hold_and_the_other_node_names_it,
	        setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        abandoned_holds_expire_and_later_users_buy_them, setup_redis,
	        teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        four_nodes_sell_exactly_the_tickets_of_100000_attempts,
	        setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        killed_node_lease_is_reclaimed_and_its_old_epoch_is_refused,
	        setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        acknowledged_orders_survive_a_redis_crash, setup_redis,
	        teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        redis_outage_refuses_quickly_then_the_sale_goes_on,
	        setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
	        node_waiting_for_redis_does_not_spin, setup_redis,
	        teardown_redis),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
