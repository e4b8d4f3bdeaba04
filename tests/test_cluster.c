/* test_cluster: the coordinator client against a real Redis Cluster of
 * three masters on loopback: each event's calls go to the master of its
 * slot, a call follows ASK, TRYAGAIN and MOVED while its slot moves, and a
 * stock node sells an event there end to end (ticketctl audits it). */
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

#include <cmocka.h>

#include "harness.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_err.h"

enum { MASTERS = 3, PER_MASTER = 2 };

static th_cluster cl;

static int
teardown_cluster(void **state)
{
	(void)state;
	th_cluster_stop(&cl);
	th_cleanup();
	return 0;
}

static int
setup_cluster(void **state)
{
	(void)state;
	if (th_cluster_start(&cl, MASTERS) != 0) {
		teardown_cluster(state);
		return -1;
	}
	return 0;
}

static int
slot_of(const char *event)
{
	return (int)th_redis_int(&cl.node[0], "CLUSTER KEYSLOT tr:{%s}:meta",
	    event);
}

/* The node that serves the event's slot, by its own CLUSTER NODES. */
static int
owner_of(const char *event)
{
	int slot = slot_of(event), owner;
	assert_in_range(slot, 0, 16383);
	owner = th_cluster_owner(&cl, slot);
	assert_in_range(owner, 0, MASTERS - 1);
	return owner;
}

/* Keys of the slot that node i holds. */
static long long
keys_on(int i, int slot)
{
	return th_redis_int(&cl.node[i], "CLUSTER COUNTKEYSINSLOT %d", slot);
}

/* How often node i answered an error of this kind (INFO errorstats). */
static long long
errorstat(int i, const char *kind)
{
	redisReply *r = th_redis_cmd(&cl.node[i], "INFO errorstats");
	char want[64];
	const char *p;
	long long n = 0;

	assert_non_null(r);
	snprintf(want, sizeof(want), "errorstat_%s:count=", kind);
	if (r->type == REDIS_REPLY_STRING && (p = strstr(r->str, want)))
		n = strtoll(p + strlen(want), NULL, 10);
	freeReplyObject(r);
	return n;
}

static tr_coord *
open_coord(void)
{
	tr_coord_opts o = {NULL, 0, 2000, cl.seeds, false};
	tr_coord *c = NULL;
	assert_int_equal(tr_coord_open(&o, false, &c), 0);
	assert_true(tr_coord_is_cluster(c));
	return c;
}

/* Run one call and expect it answered. */
static void
run1(tr_coord *c, tr_call *k)
{
	assert_int_equal(th_coord_call(c, k), 0);
}

/* An event id whose slot node `want` serves (names E<prefix><n>). */
static void
event_on(int want, const char *prefix, char *out, size_t cap)
{
	for (int n = 0; n < 1000; n++) {
		snprintf(out, cap, "%s%d", prefix, n);
		if (owner_of(out) == want)
			return;
	}
	fail_msg("no event id of prefix %s on node %d", prefix, want);
}

/* ---- routing ------------------------------------------------------------ */

static void
each_events_calls_go_to_the_master_of_its_slot(void **state)
{
	char ids[MASTERS * PER_MASTER][16];
	tr_call calls[MASTERS * PER_MASTER], *ptrs[MASTERS * PER_MASTER];
	const size_t n = MASTERS * PER_MASTER;
	tr_event_figures fig;
	tr_cluster_stats st;
	uint64_t returned, granted, pool, hold, epoch;
	int64_t opens;
	uint32_t limit;
	bool created;
	tr_coord *c;
	(void)state;

	/* Two events on each master. */
	size_t have[MASTERS] = {0}, got = 0;
	for (int t = 0; t < 1000 && got < n; t++) {
		int o;
		snprintf(ids[got], sizeof(ids[got]), "R%d", t);
		if (have[o = owner_of(ids[got])] < PER_MASTER) {
			have[o]++;
			got++;
		}
	}
	assert_int_equal(got, n);

	c = open_coord();
	tr_coord_cluster_stats(c, &st);
	assert_int_equal(st.connects, 0); /* masters are connected lazily */

	/* One run, one pipeline per master. */
	for (size_t i = 0; i < n; i++) {
		tr_call_create_event(&calls[i], ids[i], 100, 4, 60000, 0);
		ptrs[i] = &calls[i];
	}
	assert_int_equal(tr_coord_run(c, ptrs, n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(calls[i].rv, 0);
		assert_int_equal(tr_result_create_event(&calls[i], &created),
		    0);
		assert_true(created);
		tr_call_done(&calls[i]);
	}
	/* Each event's keys are on the master of its slot, and only there. */
	for (size_t i = 0; i < n; i++) {
		int slot = slot_of(ids[i]), owner = owner_of(ids[i]);
		for (int m = 0; m < MASTERS; m++)
			if (m == owner)
				assert_true(keys_on(m, slot) > 0);
			else
				assert_int_equal(keys_on(m, slot), 0);
		assert_int_equal(th_redis_int(&cl.node[owner],
		                     "GET tr:{%s}:pool", ids[i]),
		    100);
	}
	/* A sale step in each: register, grant, a hold, a confirm. */
	for (size_t i = 0; i < n; i++) {
		char rid[64];
		tr_hold_result h;
		int64_t now;
		size_t count;

		tr_call_register(&calls[0], ids[i], "n1");
		run1(c, &calls[0]);
		assert_int_equal(tr_result_register(&calls[0], &fig, &returned,
		                     &limit, &hold, &opens),
		    0);
		epoch = fig.epoch;
		tr_call_done(&calls[0]);
		tr_call_grant(&calls[0], ids[i], "n1", epoch, 10);
		run1(c, &calls[0]);
		assert_int_equal(tr_result_grant(&calls[0], &granted, &pool),
		    0);
		assert_int_equal(granted, 10);
		tr_call_done(&calls[0]);
		snprintf(rid, sizeof(rid), "n1.00000000000000a%zu.%s", i,
		    ids[i]);
		tr_call_hold(&calls[0], ids[i], "n1", epoch);
		assert_int_equal(tr_call_hold_item(&calls[0], rid, "u", 1,
		                     "q1"),
		    0);
		run1(c, &calls[0]);
		assert_int_equal(tr_result_hold(&calls[0], &now, &count), 0);
		assert_int_equal(tr_result_hold_item(&calls[0], 0, &h), 0);
		assert_int_equal(h.outcome, TR_HOLDCALL_CREATED);
		tr_call_done(&calls[0]);
		tr_call_confirm(&calls[0], ids[i], "n1");
		assert_int_equal(tr_call_confirm_item(&calls[0], rid, "u",
		                     "pay"),
		    0);
		run1(c, &calls[0]);
		tr_call_done(&calls[0]);
		assert_int_equal(th_redis_int(&cl.node[owner_of(ids[i])],
		                     "GET tr:{%s}:sold", ids[i]),
		    1);
	}
	tr_coord_cluster_stats(c, &st);
	assert_int_equal(st.connects, MASTERS);
	assert_int_equal(st.moved, 0);
	assert_int_equal(st.ask, 0);
	tr_coord_close(c);
}

static void
keys_outside_events_share_one_slot_on_the_cluster(void **state)
{
	char nodes[4][TR_NODE_ID_MAX + 1], page[8][TR_EVENT_ID_MAX + 1];
	bool alive[4], mine;
	uint64_t cursor = 0;
	size_t count;
	tr_call k;
	tr_coord *c = open_coord();
	int slot = (int)th_redis_int(&cl.node[0], "CLUSTER KEYSLOT tr:{#}:x");
	int owner = th_cluster_owner(&cl, slot);
	(void)state;

	assert_in_range(owner, 0, MASTERS - 1);
	/* Heartbeat and unindex touch several of them in one script: a
	 * CROSSSLOT error if they were not of one slot. */
	tr_call_heartbeat(&k, "h1", "inst1", 60000);
	run1(c, &k);
	tr_call_done(&k);
	tr_call_sweeper(&k, "h1:inst1", 3000);
	run1(c, &k);
	assert_int_equal(tr_result_sweeper(&k, &mine), 0);
	assert_true(mine);
	tr_call_done(&k);
	assert_int_equal(tr_coord_node_join(c, "h2"), 0);
	assert_int_equal(tr_coord_index_add(c, "h2", "EV1"), 0);
	assert_int_equal(tr_coord_event_publish(c, "EV1"), 0);
	assert_int_equal(tr_coord_node_list(c, nodes, 4, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(tr_coord_alive_many(c, nodes, count, alive), 0);
	assert_true(alive[0] != alive[1]); /* h1 claimed, h2 never did */
	assert_int_equal(tr_coord_index_page(c, "h2", &cursor, page, 8,
	                     &count),
	    0);
	assert_int_equal(count, 1);
	tr_call_unindex(&k, "h2", "EV1");
	run1(c, &k);
	tr_call_done(&k);
	/* All on the master of {#}. */
	assert_int_equal(th_redis_int(&cl.node[owner],
	                     "EXISTS tr:{#}:nodes tr:{#}:sweeper "
	                     "tr:{#}:events tr:{#}:node:h1:alive"),
	    4);
	assert_int_equal(th_redis_int(&cl.node[owner],
	                     "EXISTS tr:{#}:node:h2:events"),
	    0);
	tr_coord_close(c);
}

/* ---- a slot that moves -------------------------------------------------- */

struct mover {
	int slot, from, to;
	int rv;
};

/* Ends the migration once the target answered TRYAGAIN: the client is
 * then retrying at the ASK target. */
static void *
end_migration_when_asked(void *arg)
{
	struct mover *mv = arg;
	int64_t deadline = tr_mono_ms() + 5000;
	long long before = errorstat(mv->to, "TRYAGAIN");

	mv->rv = -1;
	while (tr_mono_ms() < deadline) {
		if (errorstat(mv->to, "TRYAGAIN") > before) {
			mv->rv = th_cluster_migrate_end(&cl, mv->slot, mv->to);
			return NULL;
		}
		tr_sleep_ms(2);
	}
	return NULL;
}

static int
hold_one(tr_coord *c, const char *event, uint64_t epoch, const char *rid,
    const char *user)
{
	tr_call k, *kp = &k;
	tr_hold_result h;
	int64_t now;
	size_t count;
	int rv;

	tr_call_hold(&k, event, "n1", epoch);
	assert_int_equal(tr_call_hold_item(&k, rid, user, 1, ""), 0);
	assert_int_equal(tr_coord_run(c, &kp, 1), 0);
	rv = k.rv;
	if (rv == 0) {
		assert_int_equal(tr_result_hold(&k, &now, &count), 0);
		assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
		assert_int_equal(h.outcome, TR_HOLDCALL_CREATED);
	}
	tr_call_done(&k);
	return rv;
}

static void
a_call_follows_ask_tryagain_and_moved_while_its_slot_moves(void **state)
{
	char ev[16];
	tr_cluster_stats st0, st;
	uint64_t epoch;
	struct mover mv;
	pthread_t th;
	int from = 0, to = 1, third = 2;
	tr_coord *c = open_coord();
	(void)state;

	event_on(from, "M", ev, sizeof(ev));
	mv.slot = slot_of(ev);
	mv.from = from;
	mv.to = to;
	assert_int_equal(th_coord_lease(c, ev, 50, 50, 60000, "n1", 20,
	                     &epoch),
	    0);
	assert_int_equal(hold_one(c, ev, epoch, "n1.0000000000000001.M",
	                     "before"),
	    0);

	/* Every key moved, the slot not yet handed over: the source answers
	 * ASK, the target TRYAGAIN (a script's keys that were never written
	 * are missing there) until the slot is its own; the call then goes
	 * through at the ASK target. */
	tr_coord_cluster_stats(c, &st0);
	assert_int_equal(th_cluster_migrate_begin(&cl, mv.slot, from, to), 0);
	assert_int_equal(th_cluster_migrate_keys(&cl, mv.slot, from, to), 0);
	assert_int_equal(keys_on(from, mv.slot), 0);
	assert_int_equal(pthread_create(&th, NULL, end_migration_when_asked,
	                     &mv),
	    0);
	assert_int_equal(hold_one(c, ev, epoch, "n1.0000000000000002.M",
	                     "during"),
	    0);
	pthread_join(th, NULL);
	assert_int_equal(mv.rv, 0);
	tr_coord_cluster_stats(c, &st);
	assert_true(st.ask > st0.ask);
	assert_true(st.tryagain > st0.tryagain);
	assert_int_equal(st.moved, st0.moved); /* it went by ASK */
	assert_true(errorstat(from, "ASK") > 0);
	assert_int_equal(th_redis_int(&cl.node[to], "GET tr:{%s}:held", ev),
	    2);

	/* The map still names the old master: it answers MOVED, the map
	 * learns, the call goes on. */
	assert_int_equal(hold_one(c, ev, epoch, "n1.0000000000000003.M",
	                     "after"),
	    0);
	tr_coord_cluster_stats(c, &st0);
	assert_true(st0.moved > st.moved);
	assert_true(errorstat(from, "MOVED") > 0);
	assert_int_equal(th_redis_int(&cl.node[to], "GET tr:{%s}:held", ev),
	    3);

	/* A migration that does not end: the call gives up after
	 * TR_CLUSTER_REDIRECTS_MAX redirections, not run, and the client
	 * stays up; once the slot is handed over it goes through. */
	assert_int_equal(th_cluster_migrate_begin(&cl, mv.slot, to, third), 0);
	assert_int_equal(th_cluster_migrate_keys(&cl, mv.slot, to, third), 0);
	assert_int_equal(hold_one(c, ev, epoch, "n1.0000000000000004.M",
	                     "stuck"),
	    TR_EUNAVAILABLE);
	assert_true(tr_coord_connected(c));
	assert_int_equal(th_cluster_migrate_end(&cl, mv.slot, third), 0);
	/* It was not run: nothing more held. */
	assert_int_equal(th_redis_int(&cl.node[third], "GET tr:{%s}:held", ev),
	    3);
	assert_int_equal(hold_one(c, ev, epoch, "n1.0000000000000004.M",
	                     "stuck"),
	    0);
	assert_int_equal(th_redis_int(&cl.node[third], "GET tr:{%s}:held", ev),
	    4);
	tr_coord_close(c);
}

/* ---- a stock node on the cluster --------------------------------------- */

#define FAST                                                                  \
	"--liveness-ttl", "2s", "--sweep", "200ms", "--sync", "100ms",        \
	    "--lease-idle", "0"

/* Reserve and confirm one ticket for user through the node, asking again
 * while the node answers UNAVAILABLE (a slot in flight), 100 times at
 * most. Returns the final status of the confirm. */
static int
buy(const char *url, const char *event, const char *user)
{
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	char rid[TR_RID_MAX + 1] = "";
	int rv = TR_EUNAVAILABLE;

	assert_int_equal(tr_client_open(url, 3000, &c), 0);
	for (int i = 0; i < 100 && rv == TR_EUNAVAILABLE; i++) {
		tr_reply_free(rep);
		rep = NULL;
		/* The same request id: a retry makes no second hold. */
		rv = tr_client_reserve(c, event, user, 1, user, &rep);
		if (rv == TR_EUNAVAILABLE)
			tr_sleep_ms(50);
	}
	if (rv == 0)
		snprintf(rid, sizeof(rid), "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
	rep = NULL;
	if (rv != 0) {
		tr_client_close(c);
		return rv;
	}
	rv = TR_EUNAVAILABLE;
	for (int i = 0; i < 100 && rv == TR_EUNAVAILABLE; i++) {
		tr_reply_free(rep);
		rep = NULL;
		rv = tr_client_confirm(c, rid, user, "pay", &rep);
		if (rv == TR_EUNAVAILABLE)
			tr_sleep_ms(50);
	}
	tr_reply_free(rep);
	tr_client_close(c);
	return rv;
}

static void
stockd_sells_on_the_cluster_across_a_slot_move_and_the_audit_passes(
    void **state)
{
	static const char *extra[] = {FAST, NULL};
	char ev[16], user[32];
	th_stockd s;
	int from, to, sold = 0, slot;
	long long asked, moved;
	(void)state;

	/* An event on a master that is not the first seed, so that a client
	 * speaking to the first seed alone would miss it. */
	event_on(1, "S", ev, sizeof(ev));
	from = owner_of(ev);
	to = (from + 1) % MASTERS;
	slot = slot_of(ev);
	asked = errorstat(from, "ASK");
	moved = errorstat(from, "MOVED");
	assert_int_equal(th_stockd_start_seeds(&s, "n1", cl.seeds, extra), 0);
	assert_int_equal(th_event_create(&s, ev, 40, 1, 60000), 0);
	assert_int_equal(th_event_wait(&s, 1, ev), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "a%d", i);
		assert_int_equal(buy(s.data_url, ev, user), 0);
		sold++;
	}
	assert_int_equal(th_redis_int(&cl.node[from], "GET tr:{%s}:sold", ev),
	    sold);

	/* The slot moves while the node is busy with the event (it syncs
	 * it every 100 ms): its calls meet ASK, then MOVED. */
	assert_int_equal(th_cluster_migrate_begin(&cl, slot, from, to), 0);
	assert_int_equal(th_cluster_migrate_keys(&cl, slot, from, to), 0);
	/* Until the node's sync has met the ASK (a loaded machine may take
	 * longer than a sync period or two), at most 10 s. */
	for (int t = 0; t < 100 && errorstat(from, "ASK") <= asked; t++)
		tr_sleep_ms(100);
	assert_int_equal(th_cluster_migrate_end(&cl, slot, to), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(user, sizeof(user), "b%d", i);
		assert_int_equal(buy(s.data_url, ev, user), 0);
		sold++;
	}
	assert_true(errorstat(from, "ASK") > asked);
	assert_true(errorstat(from, "MOVED") > moved);
	assert_int_equal(th_redis_int(&cl.node[to], "GET tr:{%s}:sold", ev),
	    sold);
	assert_int_equal(keys_on(from, slot), 0);
	assert_true(th_alive(&s.proc));
	th_stop(&s.proc, SIGTERM, 5000);

	/* The audit through the seeds, through one seed named a cluster,
	 * and not through one seed taken for a lone Redis (which does not
	 * serve the event's slot). */
	assert_int_equal(th_ctl("--redis %s audit %s", cl.seeds, ev), 0);
	assert_int_equal(th_ctl("--redis-cluster --redis %s audit %s",
	                     cl.node[from == 0 ? 1 : 0].addr, ev),
	    0);
	assert_int_not_equal(th_ctl("--redis %s audit %s",
	                         cl.node[to == 0 ? 1 : 0].addr, ev),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_events_calls_go_to_the_master_of_its_slot),
	    cmocka_unit_test(
	        keys_outside_events_share_one_slot_on_the_cluster),
	    cmocka_unit_test(
	        a_call_follows_ask_tryagain_and_moved_while_its_slot_moves),
	    cmocka_unit_test(
	        stockd_sells_on_the_cluster_across_a_slot_move_and_the_audit_passes),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup_cluster, teardown_cluster);
}
