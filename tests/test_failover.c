/* test_failover: replicas and failover. A confirm waits for replicas
 * (WAIT, --confirm-replicas) with one Redis and a replica; on a Redis
 * Cluster whose masters each have a replica, the coordinator client and a
 * stock node follow a promoted replica after kill -9 of its master, and
 * no acknowledged order is lost with --confirm-replicas 1. */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_err.h"

/* Masters of the failover cluster (each with a replica), and its
 * cluster-node-timeout: a dead master is failed over within seconds. */
enum { MASTERS = 3, NODE_TIMEOUT_MS = 1000 };
/* The cluster fails a master over in about 2 node timeouts plus an
 * election; past this the test forces it (and says so). */
#define FAILOVER_WAIT_MS 15000
/* A stock node sells again within this after the replica took over: its
 * reconnect back-off (at most 2 s), a new map, a heartbeat and a sync. */
#define FOLLOW_BOUND_MS 6000

#define FAST                                                                  \
	"--liveness-ttl", "2s", "--sweep", "200ms", "--sync", "100ms",        \
	    "--lease-idle", "0"

static th_redis master, replica;
static th_cluster cl;

static int
teardown(void **state)
{
	(void)state;
	th_redis_stop(&replica);
	th_redis_stop(&master);
	th_cluster_stop(&cl);
	return 0;
}

/* One Redis with one replica. */
static int
setup_pair(void **state)
{
	(void)state;
	if (th_redis_start(&master) != 0 || th_redis_start(&replica) != 0 ||
	    th_redis_replicate(&replica, &master) != 0) {
		teardown(state);
		return -1;
	}
	return 0;
}

static int
setup_cluster(void **state)
{
	(void)state;
	if (th_cluster_start_replicas(&cl, MASTERS, NODE_TIMEOUT_MS) != 0) {
		teardown(state);
		return -1;
	}
	return 0;
}

static void
run1(tr_coord *c, tr_call *k)
{
	assert_int_equal(th_coord_call(c, k), 0);
}

/* Create ev (10 tickets), register n1, grant it 10 and hold rid for u. */
static uint64_t
hold_through(tr_coord *c, const char *ev, const char *rid, const char *u)
{
	tr_call k;
	tr_hold_result h;
	uint64_t epoch;
	int64_t now;
	size_t count;

	assert_int_equal(th_coord_lease(c, ev, 10, 4, 60000, "n1", 10, &epoch),
	    0);
	tr_call_hold(&k, ev, "n1", epoch);
	assert_int_equal(tr_call_hold_item(&k, rid, u, 1, "q1"), 0);
	run1(c, &k);
	assert_int_equal(tr_result_hold(&k, &now, &count), 0);
	assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
	assert_int_equal(h.outcome, TR_HOLDCALL_CREATED);
	tr_call_done(&k);
	return epoch;
}

/* Confirm rid (one item), asking WAIT replicas ms if replicas > 0. The
 * replicas WAIT counted (-1: not asked). */
static long long
confirm_waiting(tr_coord *c, const char *ev, const char *rid, const char *u,
    int replicas, int ms)
{
	tr_call k;
	long long got;
	tr_order_info info;
	char detail[160];

	tr_call_confirm(&k, ev, "n1");
	assert_int_equal(tr_call_confirm_item(&k, rid, u, "pay"), 0);
	if (replicas > 0)
		tr_call_wait(&k, replicas, ms);
	run1(c, &k);
	assert_int_equal(tr_result_confirm_item(&k, 0, &info, detail,
	                     sizeof(detail)),
	    0);
	got = k.replicas;
	tr_call_done(&k);
	return got;
}

/* ---- WAIT with one Redis and a replica ---------------------------------- */

static void
wait_counts_the_replicas_that_have_a_confirm(void **state)
{
	tr_coord_opts o = {NULL, 0, 1000, master.addr, false};
	tr_coord *c = NULL;
	int64_t t0;
	(void)state;

	assert_int_equal(tr_coord_open(&o, false, &c), 0);
	hold_through(c, "W1", "n1.00000000000000a1.W1", "u1");
	/* Not asked: no WAIT, no count. */
	assert_int_equal(confirm_waiting(c, "W1", "n1.00000000000000a1.W1",
	                     "u1", 0, 0),
	    -1);
	/* One replica asked, one has it. */
	assert_int_equal(confirm_waiting(c, "W1", "n1.00000000000000a1.W1",
	                     "u1", 1, 200),
	    1);
	assert_int_equal(th_redis_int(&replica, "HEXISTS tr:{W1}:orders %s",
	                     "n1.00000000000000a1.W1"),
	    1);
	/* Two asked, one exists: WAIT gives up after its timeout, and says
	 * one. */
	t0 = tr_mono_ms();
	assert_int_equal(confirm_waiting(c, "W1", "n1.00000000000000a1.W1",
	                     "u1", 2, 150),
	    1);
	assert_true(tr_mono_ms() - t0 >= 140);
	/* A replica that does not answer (stopped): none within the time. */
	kill(replica.proc.pid, SIGSTOP);
	assert_int_equal(confirm_waiting(c, "W1", "n1.00000000000000a1.W1",
	                     "u1", 1, 100),
	    0);
	kill(replica.proc.pid, SIGCONT);
	/* A timeout past half the reply timeout is cut to it: the WAIT
	 * ends before the connection's reply timeout, which stays up. */
	kill(replica.proc.pid, SIGSTOP);
	assert_int_equal(confirm_waiting(c, "W1", "n1.00000000000000a1.W1",
	                     "u1", 1, 60000),
	    0);
	kill(replica.proc.pid, SIGCONT);
	assert_true(tr_coord_connected(c));
	tr_coord_close(c);
}

/* Reserve one ticket for user (retrying UNAVAILABLE with the same
 * request id until deadline): 0 and its id in rid, or the status. */
static int
reserve_until(tr_client *cli, const char *ev, const char *user, char *rid,
    int64_t deadline)
{
	Ticketrush__Reply *rep = NULL;
	int rv;

	for (;;) {
		rv = tr_client_reserve(cli, ev, user, 1, user, &rep);
		if (rv == 0)
			snprintf(rid, TR_RID_MAX + 1, "%s",
			    rep->hold->reservation_id);
		tr_reply_free(rep);
		rep = NULL;
		if (rv != TR_EUNAVAILABLE || tr_mono_ms() > deadline)
			return rv;
		tr_sleep_ms(50);
	}
}

/* One confirm; its detail into detail. */
static int
confirm_once(tr_client *cli, const char *rid, const char *user, char *detail,
    size_t cap)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_confirm(cli, rid, user, "pay", &rep);

	snprintf(detail, cap, "%s", rep && rep->detail ? rep->detail : "");
	tr_reply_free(rep);
	return rv;
}

static uint64_t
node_unreplicated(th_stockd *s)
{
	tr_client *adm;
	Ticketrush__Reply *rep = NULL;
	uint64_t v;

	assert_int_equal(tr_client_open(s->admin_url, 3000, &adm), 0);
	assert_int_equal(tr_client_status(adm, &rep), 0);
	v = rep->node->confirms_unreplicated;
	tr_reply_free(rep);
	tr_client_close(adm);
	return v;
}

static void
a_confirm_short_of_its_replicas_is_unavailable_until_they_have_it(void **state)
{
	static const char *with_wait[] = {FAST, "--confirm-replicas", "1",
	    "--confirm-wait", "100ms", NULL};
	static const char *without[] = {FAST, NULL};
	char rid[TR_RID_MAX + 1], detail[256];
	th_stockd s, plain;
	tr_client *cli, *pcli;
	int64_t deadline = tr_mono_ms() + 10000;
	(void)state;

	assert_int_equal(th_stockd_start(&s, "n1", &master, with_wait), 0);
	assert_int_equal(th_stockd_start(&plain, "n2", &master, without), 0);
	assert_int_equal(th_event_create(&s, "WS", 20, 1, 60000), 0);
	assert_int_equal(th_event_wait(&s, 1, "WS"), 0);
	assert_int_equal(th_event_wait(&plain, 1, "WS"), 0);
	assert_int_equal(tr_client_open(s.data_url, 3000, &cli), 0);
	assert_int_equal(tr_client_open(plain.data_url, 3000, &pcli), 0);

	/* The replica has it: OK. */
	assert_int_equal(reserve_until(cli, "WS", "a", rid, deadline), 0);
	assert_int_equal(confirm_once(cli, rid, "a", detail, sizeof(detail)),
	    0);
	assert_int_equal(th_redis_int(&replica, "HEXISTS tr:{WS}:orders %s",
	                     rid),
	    1);

	/* The replica stopped: the order is written on the master, but the
	 * node does not acknowledge it. */
	assert_int_equal(reserve_until(cli, "WS", "b", rid, deadline), 0);
	kill(replica.proc.pid, SIGSTOP);
	assert_int_equal(confirm_once(cli, rid, "b", detail, sizeof(detail)),
	    TR_EUNAVAILABLE);
	assert_non_null(strstr(detail, "on 0 of 1 replicas"));
	assert_int_equal(th_redis_int(&master, "HEXISTS tr:{WS}:orders %s",
	                     rid),
	    1);
	assert_int_equal(node_unreplicated(&s), 1);
	/* Nor from its cache: a retry asks Redis, and WAITs, again. */
	assert_int_equal(confirm_once(cli, rid, "b", detail, sizeof(detail)),
	    TR_EUNAVAILABLE);
	/* A node without the flag acknowledges what no replica has. */
	{
		char prid[TR_RID_MAX + 1];
		assert_int_equal(reserve_until(pcli, "WS", "c", prid,
		                     deadline),
		    0);
		assert_int_equal(confirm_once(pcli, prid, "c", detail,
		                     sizeof(detail)),
		    0);
	}
	/* The replica back: the retry with the same id is the same order,
	 * acknowledged now. */
	kill(replica.proc.pid, SIGCONT);
	assert_int_equal(confirm_once(cli, rid, "b", detail, sizeof(detail)),
	    0);
	assert_int_equal(th_redis_int(&replica, "HEXISTS tr:{WS}:orders %s",
	                     rid),
	    1);
	assert_int_equal(th_redis_int(&master, "GET tr:{WS}:sold"), 3);
	assert_int_equal(node_unreplicated(&s), 2);

	tr_client_close(cli);
	tr_client_close(pcli);
	th_stop(&s.proc, SIGTERM, 5000);
	th_stop(&plain.proc, SIGTERM, 5000);
}

static void
stockd_refuses_a_confirm_wait_past_half_its_redis_timeout(void **state)
{
	char cmd[512], out[1024];
	(void)state;

	snprintf(cmd, sizeof(cmd),
	    "%s --redis %s --confirm-replicas 1 --confirm-wait 300ms "
	    "--redis-timeout 500ms 2>&1",
	    th_bin("stockd"), master.addr);
	assert_int_not_equal(th_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "confirm-wait"));
}

/* ---- a Redis Cluster with replicas ---------------------------------------
 */

static int
slot_of(const char *event)
{
	return (int)th_redis_int(&cl.node[cl.masters],
	    "CLUSTER KEYSLOT tr:{%s}:meta", event);
}

/* An event id whose slot master m serves. */
static void
event_on(size_t m, const char *prefix, char *out, size_t cap)
{
	for (int n = 0; n < 1000; n++) {
		snprintf(out, cap, "%s%d", prefix, n);
		if (th_cluster_owner(&cl, slot_of(out)) == (int)m)
			return;
	}
	fail_msg("no event id of prefix %s on master %zu", prefix, m);
}

/* Kill -9 master m and wait for its replica to take over: the replica's
 * index. Prints how long it took and whether the test had to force it. */
static int
kill_and_fail_over(size_t m)
{
	int64_t t0 = tr_mono_ms();
	bool forced;
	int rep;

	th_stop(&cl.node[m].proc, SIGKILL, 2000);
	rep = th_cluster_failover_wait(&cl, m, FAILOVER_WAIT_MS, &forced);
	assert_true(rep >= 0);
	print_message(
	    "failover: replica %d took over master %zu in %lld ms%s\n", rep, m,
	    (long long)(tr_mono_ms() - t0),
	    forced ? " (forced: CLUSTER FAILOVER TAKEOVER)" : "");
	return rep;
}

static void
the_client_follows_a_promoted_replica_and_seeds_naming_the_dead_master_work(
    void **state)
{
	char ev[16], seeds[sizeof(cl.seeds)];
	const char *rid = "n1.00000000000000b1.F0";
	tr_coord_opts o = {NULL, 0, 1000, cl.seeds, false};
	tr_cluster_stats st0, st;
	tr_coord *c = NULL, *c2 = NULL;
	tr_call k, *kp = &k;
	int rep, rv = -1;
	int64_t deadline;
	(void)state;

	event_on(0, "F", ev, sizeof(ev));
	assert_int_equal(tr_coord_open(&o, false, &c), 0);
	hold_through(c, ev, rid, "u1");
	/* With WAIT the order is on the replica before it is taken for
	 * done. */
	assert_int_equal(confirm_waiting(c, ev, rid, "u1", 1, 200), 1);
	tr_coord_cluster_stats(c, &st0);

	rep = kill_and_fail_over(0);
	/* The dead master's connection fails: the client is down until it
	 * reads the map again, and then goes to the promoted replica. */
	tr_call_info(&k, ev);
	rv = tr_coord_run(c, &kp, 1);
	tr_call_done(&k);
	if (rv != 0)
		assert_false(tr_coord_connected(c));
	deadline = tr_mono_ms() + 5000;
	for (rv = -1; rv != 0 && tr_mono_ms() < deadline;) {
		if (!tr_coord_connected(c) && tr_coord_reconnect(c) != 0) {
			tr_sleep_ms(50);
			continue;
		}
		tr_call_info(&k, ev);
		if (tr_coord_run(c, &kp, 1) == 0 && k.rv == 0)
			rv = 0;
		tr_call_done(&k);
	}
	assert_int_equal(rv, 0);
	tr_coord_cluster_stats(c, &st);
	assert_true(st.refreshes > st0.refreshes);
	/* The acknowledged order is there. */
	assert_int_equal(th_redis_int(&cl.node[rep],
	                     "HEXISTS tr:{%s}:orders %s", ev, rid),
	    1);
	assert_int_equal(th_redis_int(&cl.node[rep], "GET tr:{%s}:sold", ev),
	    1);

	/* A new client whose seed list names the dead master first. */
	snprintf(seeds, sizeof(seeds), "%s", cl.seeds);
	assert_string_equal(strtok(seeds, ","), cl.node[0].addr);
	o.addrs = cl.seeds;
	assert_int_equal(tr_coord_open(&o, false, &c2), 0);
	tr_call_info(&k, ev);
	run1(c2, &k);
	tr_call_done(&k);
	tr_coord_close(c2);
	tr_coord_close(c);
}

/* ---- a stock node selling through a failover -----------------------------
 */

#define ACKED_MAX 4096

struct sale {
	const char *url, *event;
	atomic_bool stop;
	/* Orders the node acknowledged (200), and holds (201) whose confirm
	 * then found no hold: a hold lost by the failover. */
	char acked[ACKED_MAX][TR_RID_MAX + 1];
	atomic_int nacked;
	int holds_lost, refused;
	/* When the last order was acknowledged (monotonic ms). */
	_Atomic int64_t last_ok;
};

/* One buyer after another, each retrying UNAVAILABLE (same request id,
 * same reservation id) for up to 30 s. */
static void *
sell(void *arg)
{
	struct sale *sl = arg;
	tr_client *cli;
	char user[32], rid[TR_RID_MAX + 1], detail[256];

	if (tr_client_open(sl->url, 3000, &cli) != 0)
		return NULL;
	for (int i = 0; !atomic_load(&sl->stop) && i < ACKED_MAX; i++) {
		int64_t deadline = tr_mono_ms() + 30000;
		int rv;
		snprintf(user, sizeof(user), "u%d", i);
		if ((rv = reserve_until(cli, sl->event, user, rid,
		         deadline)) != 0) {
			sl->refused++;
			if (rv == TR_ESOLD_OUT)
				break;
			continue;
		}
		do {
			rv = confirm_once(cli, rid, user, detail,
			    sizeof(detail));
			if (rv == TR_EUNAVAILABLE)
				tr_sleep_ms(50);
		} while (rv == TR_EUNAVAILABLE && tr_mono_ms() < deadline);
		if (rv == 0) {
			int k = atomic_load(&sl->nacked);
			snprintf(sl->acked[k], sizeof(sl->acked[k]), "%s",
			    rid);
			atomic_store(&sl->nacked, k + 1);
			atomic_store(&sl->last_ok, tr_mono_ms());
		} else if (rv == TR_ENOT_FOUND) {
			sl->holds_lost++;
		} else {
			sl->refused++;
		}
	}
	tr_client_close(cli);
	return NULL;
}

static void
stockd_sells_through_a_failover_and_loses_no_acknowledged_order(void **state)
{
	static const char *extra[] = {FAST, "--confirm-replicas", "1",
	    "--confirm-wait", "200ms", NULL};
	static struct sale sl;
	char ev[16];
	th_stockd s;
	pthread_t th;
	int64_t killed, promoted, followed;
	int rep, lost = 0, n;
	size_t m;
	long long sold;
	(void)state;

	/* The master of the {#} keys too: liveness, the sweeper and the
	 * event all go down with it. */
	m = (size_t)th_cluster_owner(&cl,
	    (int)th_redis_int(&cl.node[cl.masters],
	        "CLUSTER KEYSLOT tr:{#}:nodes"));
	assert_true(m < cl.masters);
	event_on(m, "G", ev, sizeof(ev));
	assert_int_equal(th_stockd_start_seeds(&s, "n1", cl.seeds, extra), 0);
	assert_int_equal(th_event_create(&s, ev, 1000, 1, 60000), 0);
	assert_int_equal(th_event_wait(&s, 1, ev), 0);

	memset(&sl, 0, sizeof(sl));
	sl.url = s.data_url;
	sl.event = ev;
	assert_int_equal(pthread_create(&th, NULL, sell, &sl), 0);
	/* Mid-sale: once some orders are acknowledged. */
	for (int t = 0; t < 200 && atomic_load(&sl.nacked) < 20; t++)
		tr_sleep_ms(50);
	assert_true(atomic_load(&sl.nacked) >= 20);

	killed = tr_mono_ms();
	rep = kill_and_fail_over(m);
	promoted = tr_mono_ms();
	/* The node follows the new map: a hold acknowledged after the
	 * promotion (reservations do not wait for replicas; the buyer may be
	 * retrying a confirm, so a probe of its own asks). */
	{
		char prid[TR_RID_MAX + 1];
		tr_client *probe;
		assert_int_equal(tr_client_open(s.data_url, 3000, &probe), 0);
		assert_int_equal(reserve_until(probe, ev, "probe", prid,
		                     promoted + 20000),
		    0);
		followed = tr_mono_ms();
		tr_client_close(probe);
	}
	print_message("stockd: holding again %lld ms after the kill, %lld ms "
	              "after the promotion\n",
	    (long long)(followed - killed), (long long)(followed - promoted));
	assert_true(followed > promoted);
	assert_true(followed - promoted <= FOLLOW_BOUND_MS);
	/* The promoted replica has no replica of its own: no confirm is
	 * acknowledged (each is answered UNAVAILABLE and retried) until the
	 * old master is back, as the new one's replica. */
	n = atomic_load(&sl.nacked);
	tr_sleep_ms(500);
	assert_int_equal(atomic_load(&sl.nacked), n);
	assert_true(node_unreplicated(&s) > 0);
	assert_int_equal(th_redis_restart(&cl.node[m], false), 0);
	assert_int_equal(th_cluster_wait_replica(&cl, m, 15000), 0);
	/* The sale goes on. */
	for (int t = 0; t < 400 && atomic_load(&sl.nacked) < n + 20; t++)
		tr_sleep_ms(50);
	atomic_store(&sl.stop, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&sl.nacked) >= n + 20);
	assert_true(th_alive(&s.proc));
	th_stop(&s.proc, SIGTERM, 5000);

	/* Every acknowledged order is on the new master: with
	 * --confirm-replicas 1 a confirm is acknowledged only once the
	 * replica has it. */
	n = atomic_load(&sl.nacked);
	for (int i = 0; i < n; i++)
		if (th_redis_int(&cl.node[rep], "HEXISTS tr:{%s}:orders %s",
		        ev, sl.acked[i]) != 1)
			lost++;
	sold = th_redis_int(&cl.node[rep], "GET tr:{%s}:sold", ev);
	print_message("acknowledged orders %d, lost %d; holds lost %d; sold "
	              "%lld of 1000\n",
	    n, lost, sl.holds_lost, sold);
	assert_int_equal(lost, 0);
	assert_true(sold >= n);
	assert_true(sold <= 1000);
	/* The seeds still name the dead master: the audit goes elsewhere. */
	assert_int_equal(th_ctl("--redis %s audit %s", cl.seeds, ev), 0);
}

int
main(void)
{
	const struct CMUnitTest pair[] = {
	    cmocka_unit_test(wait_counts_the_replicas_that_have_a_confirm),
	    cmocka_unit_test(
	        a_confirm_short_of_its_replicas_is_unavailable_until_they_have_it),
	    cmocka_unit_test(
	        stockd_refuses_a_confirm_wait_past_half_its_redis_timeout),
	};
	/* Each kills a master: a cluster each. */
	const struct CMUnitTest cluster[] = {
	    cmocka_unit_test_setup_teardown(
	        the_client_follows_a_promoted_replica_and_seeds_naming_the_dead_master_work,
	        setup_cluster, teardown),
	    cmocka_unit_test_setup_teardown(
	        stockd_sells_through_a_failover_and_loses_no_acknowledged_order,
	        setup_cluster, teardown),
	};
	int failed;

	signal(SIGPIPE, SIG_IGN);
	failed =
	    cmocka_run_group_tests_name("replica", pair, setup_pair, teardown);
	failed += cmocka_run_group_tests_name("cluster", cluster, NULL, NULL);
	th_cleanup();
	return failed;
}
