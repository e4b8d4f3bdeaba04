/* test_coord: stock nodes with the Redis coordinator, against a real
 * redis-server: exact sales across nodes, no undersell after abandoned
 * holds, the per-user limit across nodes, fencing of a killed node, orders
 * surviving a Redis crash, Redis outages, and the scripts' edge cases. */
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
#define FAST_NODE "--liveness-ttl", "2s", "--sweep", "200ms", "--sync", \
	"100ms", "--lease-idle", "0"

static void
start_nodes(th_stockd *nodes, int n, const char *const *extra)
{
	char name[16];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i + 1);
		assert_int_equal(th_stockd_start(&nodes[i], name, &redis,
		    extra), 0);
	}
}

static void
stop_nodes(th_stockd *nodes, int n)
{
	for (int i = 0; i < n; i++)
		th_stop(&nodes[i].proc, SIGTERM, 5000);
}

static void
create_event(th_stockd *nodes, int n, const char *id,
    unsigned long long total, unsigned limit, unsigned long long hold_ms)
{
	assert_int_equal(th_event_create(&nodes[0], id, total, limit,
	    hold_ms), 0);
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
	snprintf(cmd, sizeof(cmd), "%s --redis %s audit %s", th_bin("ticketctl"),
	    redis.addr, event);
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
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000, &c[i]),
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
one_user_on_two_nodes_gets_at_most_the_limit(void **state)
{
	th_stockd nodes[2];
	tr_client *c[2];
	Ticketrush__Reply *rep = NULL;
	char rid[2][TR_RID_MAX + 1];
	int confirmed = 0, limited = 0;
	(void)state;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, NULL});
	create_event(nodes, 2, "LIMIT", 10, 1, 60000);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tr_client_open(nodes[i].data_url, 3000, &c[i]),
		    0);
		/* Each node alone sees no earlier purchase: both holds. */
		assert_int_equal(tr_client_reserve(c[i], "LIMIT", "alice", 1,
		    NULL, &rep), 0);
		snprintf(rid[i], sizeof(rid[i]), "%s",
		    rep->hold->reservation_id);
		tr_reply_free(rep);
	}
	for (int i = 0; i < 2; i++) {
		int rv = tr_client_confirm(c[i], rid[i], "alice", "p", &rep);
		if (rv == 0)
			confirmed++;
		else if (rv == TR_ELIMIT) {
			limited++;
			/* The refused hold went back on sale at once. */
			assert_int_equal(rep->hold->state,
			    TICKETRUSH__HOLD_STATE__HOLD_STATE_RELEASED);
		}
		tr_reply_free(rep);
	}
	assert_int_equal(confirmed, 1);
	assert_int_equal(limited, 1);
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
	tr_coord_opts o = {"127.0.0.1", redis.port, 2000};
	tr_call k, *kp = &k;
	(void)state;

	start_nodes(nodes, 2, (const char *[]){FAST_NODE, "--refill-min",
	    "40", NULL});
	create_event(nodes, 2, "FENCE", 100, 1, 60000);
	/* n1 takes a lease and holds a reservation, then dies hard. */
	assert_int_equal(tr_client_open(nodes[0].data_url, 3000, &c), 0);
	assert_int_equal(tr_client_reserve(c, "FENCE", "victim", 1, NULL,
	    &rep), 0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	tr_client_close(c);
	lease = th_redis_int(&redis, "HGET tr:{FENCE}:lease n1");
	old_epoch = th_redis_int(&redis, "HGET tr:{FENCE}:epoch n1");
	assert_true(lease >= 40);
	th_stop(&nodes[0].proc, SIGKILL, 2000);

	/* n2's sweep sees n1's liveness lapse and reclaims its lease. */
	deadline = tr_mono_ms() + 8000;
	while (th_redis_int(&redis, "HGET tr:{FENCE}:lease n1") != 0 &&
	    tr_mono_ms() < deadline)
		tr_sleep_ms(50);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{FENCE}:lease n1"), 0);
	assert_int_equal(th_redis_int(&redis, "HGET tr:{FENCE}:epoch n1"),
	    old_epoch + 1);

	/* A confirm from the old incarnation is refused. */
	assert_int_equal(tr_coord_open(&o, false, &coord), 0);
	tr_call_confirm(&k, "FENCE", "n1", (uint64_t)old_epoch, rid, "victim",
	    1, "late");
	tr_coord_run(coord, &kp, 1);
	assert_int_equal(k.rv, TR_EFENCED);
	tr_call_done(&k);
	tr_coord_close(coord);

	/* The sale still ends with every ticket sold, through n2. */
	assert_int_equal(tr_client_open(nodes[1].data_url, 3000, &c), 0);
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
	    rid), 0);
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
	char (*orders)[TR_RID_MAX + 1] = calloc(300, TR_RID_MAX + 1);
	char user[32];
	int n = 0;
	(void)state;

	start_nodes(&node, 1, (const char *[]){FAST_NODE, NULL});
	create_event(&node, 1, "DURABLE", 300, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 3000, &c), 0);
	for (int i = 0; i < 300; i++) {
		char rid[TR_RID_MAX + 1];
		snprintf(user, sizeof(user), "d%d", i);
		if (tr_client_reserve(c, "DURABLE", user, 1, NULL, &rep) != 0) {
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
		    "HEXISTS tr:{DURABLE}:orders %s", orders[i]), 1);
	assert_int_equal(sold_of("DURABLE"), 300);
	assert_audit_passes("DURABLE");
	tr_client_close(c);
	free(orders);
	stop_nodes(&node, 1);
}

/* ---- Redis outage -------------------------------------------------------- */

static void
redis_outage_keeps_lease_sales_and_refuses_confirms_then_recovers(void **st)
{
	th_stockd node;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1];
	int64_t t0, took;
	int rv = -1;
	(void)st;

	start_nodes(&node, 1, (const char *[]){"--liveness-ttl", "10s",
	    "--sync", "100ms", "--refill-min", "50", "--redis-timeout",
	    "300ms", NULL});
	create_event(&node, 1, "OUTAGE", 100, 1, 60000);
	assert_int_equal(tr_client_open(node.data_url, 5000, &c), 0);
	/* Take a lease while Redis is up. */
	assert_int_equal(buy(c, "OUTAGE", "before", true), 0);

	th_redis_stop(&redis);
	/* Reservations keep selling from the lease. */
	assert_int_equal(tr_client_reserve(c, "OUTAGE", "during", 1, NULL,
	    &rep), 0);
	snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	/* Confirms answer UNAVAILABLE, quickly. */
	t0 = tr_mono_ms();
	rv = tr_client_confirm(c, rid, "during", "p", &rep);
	took = tr_mono_ms() - t0;
	tr_reply_free(rep);
	assert_int_equal(rv, TR_EUNAVAILABLE);
	assert_true(took < 2000);

	/* Redis comes back (same AOF): the node reconnects by itself and the
	 * very same confirm now succeeds. */
	assert_int_equal(th_redis_restart(&redis, false), 0);
	t0 = tr_mono_ms();
	do {
		rep = NULL;
		rv = tr_client_confirm(c, rid, "during", "p", &rep);
		tr_reply_free(rep);
		if (rv != 0)
			tr_sleep_ms(100);
	} while (rv != 0 && tr_mono_ms() - t0 < 8000);
	assert_int_equal(rv, 0);
	assert_int_equal(sold_of("OUTAGE"), 2);
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
	tr_coord_opts o = {"127.0.0.1", 0, 2000};
	tr_call k, *kp = &k;
	uint64_t epoch, returned, total, hold, granted, pool, left;
	uint32_t limit;
	int64_t opens;
	bool created;
	tr_order_info a, b;
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
	assert_int_equal(tr_result_register(&k, &epoch, &returned, &total,
	    &limit, &hold, &opens), 0);
	assert_int_equal(total, 5);
	tr_call_done(&k);

	/* Grant more than the pool: only the pool comes. Then nothing. */
	tr_call_grant(&k, "EDGE", "x1", epoch, 100);
	RUN();
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 5);
	assert_int_equal(pool, 0);
	tr_call_done(&k);
	tr_call_grant(&k, "EDGE", "x1", epoch, 100);
	RUN();
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 0);
	tr_call_done(&k);

	/* A stale epoch is fenced. */
	tr_call_grant(&k, "EDGE", "x1", epoch + 1, 1);
	RUN();
	assert_int_equal(k.rv, TR_EFENCED);
	assert_int_equal(k.fenced_epoch, epoch);
	tr_call_done(&k);

	/* Confirm twice: the same order, created once. */
	tr_call_confirm(&k, "EDGE", "x1", epoch, "x1.00000000000000aa", "u", 1,
	    "p1");
	RUN();
	assert_int_equal(tr_result_confirm(&k, &a), 0);
	assert_true(a.created);
	tr_call_done(&k);
	tr_call_confirm(&k, "EDGE", "x1", epoch, "x1.00000000000000aa", "u", 1,
	    "p-other");
	RUN();
	assert_int_equal(tr_result_confirm(&k, &b), 0);
	assert_false(b.created);
	assert_int_equal(a.confirmed_at_ms, b.confirmed_at_ms);
	assert_string_equal(b.payment_ref, "p1");
	tr_call_done(&k);
	assert_int_equal(sold_of("EDGE"), 1);

	/* Give back more than the lease (4 left): refused, nothing moves. */
	tr_call_give_back(&k, "EDGE", "x1", epoch, 5);
	RUN();
	assert_int_equal(k.rv, TR_EINVALID);
	tr_call_done(&k);
	tr_call_give_back(&k, "EDGE", "x1", epoch, 4);
	RUN();
	assert_int_equal(tr_result_give_back(&k, &left, &pool), 0);
	assert_int_equal(left, 0);
	assert_int_equal(pool, 4);
	tr_call_done(&k);

	/* Confirm beyond the lease (now 0) is refused: no oversell even if a
	 * node's books were wrong. */
	tr_call_confirm(&k, "EDGE", "x1", epoch, "x1.00000000000000bb", "v", 1,
	    "");
	RUN();
	assert_int_equal(k.rv, TR_EINTERNAL);
	tr_call_done(&k);

	/* A voided hold can never be confirmed. */
	tr_call_resolve(&k, "EDGE", "x1.00000000000000cc");
	RUN();
	{
		bool confirmed = true;
		int64_t at;
		char ref[8];
		assert_int_equal(tr_result_resolve(&k, &confirmed, &at, ref,
		    sizeof(ref)), 0);
		assert_false(confirmed);
	}
	tr_call_done(&k);
	tr_call_confirm(&k, "EDGE", "x1", epoch, "x1.00000000000000cc", "w", 1,
	    "");
	RUN();
	assert_int_equal(k.rv, TR_EEXPIRED);
	tr_call_done(&k);

	/* Unknown event. */
	tr_call_grant(&k, "NOSUCH", "x1", 1, 1);
	RUN();
	assert_int_equal(k.rv, TR_ENOT_FOUND);
	tr_call_done(&k);
	tr_coord_close(coord);
	assert_audit_passes("EDGE");
}

static void
scripts_are_reloaded_after_redis_forgets_them(void **state)
{
	tr_coord *coord;
	tr_coord_opts o = {"127.0.0.1", 0, 2000};
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

/* CPU seconds (user + system) a process has used so far. */
static double
cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	fclose(f);
	/* Fields 14 and 15, counted after the ")" that ends the name. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &utime, &stime) != 2)
		return -1;
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
	assert_true(before >= 0);
	assert_true(used < 0.4); /* it reconnects with backoff; no spinning */
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
		scripts_are_reloaded_after_redis_forgets_them, setup_redis,
		teardown_redis),
	    cmocka_unit_test_setup_teardown(
		one_user_on_two_nodes_gets_at_most_the_limit, setup_redis,
		teardown_redis),
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
		redis_outage_keeps_lease_sales_and_refuses_confirms_then_recovers,
		setup_redis, teardown_redis),
	    cmocka_unit_test_setup_teardown(
		node_waiting_for_redis_does_not_spin, setup_redis,
		teardown_redis),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
