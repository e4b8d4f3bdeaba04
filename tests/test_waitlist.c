/* test_waitlist: the waitlist (候补) and refunds against real redis-server
 * and stockd processes: every ticket that comes back goes to the earliest
 * buyer in line, on whatever node it comes back; offers that expire pass
 * on; refunds feed the line; offers outlive the node that took the join;
 * the cap; a buyer at the limit cannot join. Each ends with
 * `ticketctl audit` (conservation, the line, offers in join order). */
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

#define FAST_NODE                                                             \
	"--liveness-ttl", "2s", "--sweep", "200ms", "--sync", "100ms",        \
	    "--lease-idle", "0"

#define NODES_MAX 4

struct cluster {
	th_stockd nodes[NODES_MAX];
	tr_client *data[NODES_MAX];
	int n;
};

static void
cluster_start(struct cluster *cl, int n)
{
	char name[16];

	cl->n = n;
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i + 1);
		assert_int_equal(th_stockd_start(&cl->nodes[i], name, &redis,
		                     (const char *[]){FAST_NODE, NULL}),
		    0);
		assert_int_equal(tr_client_open(cl->nodes[i].data_url, 5000,
		                     &cl->data[i]),
		    0);
	}
}

static void
cluster_stop(struct cluster *cl)
{
	for (int i = 0; i < cl->n; i++) {
		tr_client_close(cl->data[i]);
		th_stop(&cl->nodes[i].proc, SIGTERM, 5000);
	}
}

static void
create(struct cluster *cl, const char *event, uint64_t total,
    uint64_t waitlist_max, uint64_t offer_ms)
{
	tr_client *admin;
	Ticketrush__Reply *rep = NULL;

	assert_int_equal(tr_client_open(cl->nodes[0].admin_url, 5000, &admin),
	    0);
	assert_int_equal(tr_client_create_event_wl(admin, event, total, 1,
	                     60000, 0, waitlist_max, offer_ms, &rep),
	    0);
	tr_reply_free(rep);
	tr_client_close(admin);
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

/* Reserve for user on node i; the reservation id, or fail. */
static void
hold(struct cluster *cl, int i, const char *event, const char *user, char *rid)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_reserve(cl->data[i], event, user, 1, NULL, &rep);
	if (rv != 0)
		fail_msg("reserve %s for %s on n%d: %s", event, user, i + 1,
		    rep ? rep->detail : tr_strerror(rv));
	snprintf(rid, TR_RID_MAX + 1, "%s", rep->hold->reservation_id);
	tr_reply_free(rep);
}

/* The answer's status for a reservation attempt. */
static int
try_hold(struct cluster *cl, int i, const char *event, const char *user)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_reserve(cl->data[i], event, user, 1, NULL, &rep);
	tr_reply_free(rep);
	return rv;
}

struct entry {
	int rv;
	int state;
	uint64_t join_number, position;
	char rid[TR_RID_MAX + 1];
	bool created;
};

static struct entry
entry_of(int rv, Ticketrush__Reply *rep)
{
	struct entry e = {rv, 0, 0, 0, "", false};
	if (rv == 0 && rep && rep->waitlist_entry) {
		Ticketrush__WaitlistEntry *w = rep->waitlist_entry;
		e.state = w->state;
		e.join_number = w->join_number;
		e.position = w->position;
		e.created = w->created;
		snprintf(e.rid, sizeof(e.rid), "%s", w->reservation_id);
	} else if (rep && rep->hold) {
		snprintf(e.rid, sizeof(e.rid), "%s",
		    rep->hold->reservation_id);
	}
	tr_reply_free(rep);
	return e;
}

static struct entry
join(struct cluster *cl, int i, const char *event, const char *user)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_waitlist_join(cl->data[i], event, user, NULL, &rep);
	return entry_of(rv, rep);
}

static struct entry
get(struct cluster *cl, int i, const char *event, const char *user)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_waitlist_get(cl->data[i], event, user, &rep);
	return entry_of(rv, rep);
}

static int
release(struct cluster *cl, int i, const char *rid, const char *user)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_release(cl->data[i], rid, user, &rep);
	tr_reply_free(rep);
	return rv;
}

static int
confirm(struct cluster *cl, int i, const char *rid, const char *user)
{
	Ticketrush__Reply *rep = NULL;
	int rv = tr_client_confirm(cl->data[i], rid, user, "pay", &rep);
	tr_reply_free(rep);
	return rv;
}

/* Wait until user's entry is in state (or fail after ms). */
static struct entry
wait_state(struct cluster *cl, const char *event, const char *user, int state,
    int ms)
{
	int64_t deadline = tr_mono_ms() + ms;
	struct entry e;
	do {
		e = get(cl, 0, event, user);
		if (e.rv == 0 && e.state == state)
			return e;
		tr_sleep_ms(50);
	} while (tr_mono_ms() < deadline);
	fail_msg("%s's entry in %s: state %d, wanted %d", user, event, e.state,
	    state);
	return e;
}

static void
a_returned_ticket_goes_to_the_first_in_line_not_to_a_newcomer(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1], r2[TR_RID_MAX + 1];
	struct entry a, b, again;
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "W1", 2, 0, 0);
	/* n1's first grant takes both tickets (its fair share, alone). */
	hold(&cl, 0, "W1", "u1", r1);
	hold(&cl, 0, "W1", "u2", r2);
	assert_int_equal(try_hold(&cl, 0, "W1", "late"), TR_ESOLD_OUT);

	a = join(&cl, 0, "W1", "wa");
	b = join(&cl, 1, "W1", "wb");
	assert_int_equal(a.rv, 0);
	assert_int_equal(a.state, TR_WL_WAITING);
	assert_true(a.created);
	assert_int_equal(a.position, 1);
	assert_int_equal(b.position, 2);
	assert_true(b.join_number > a.join_number);
	/* Joining again is the same entry, on any node. */
	again = join(&cl, 1, "W1", "wa");
	assert_int_equal(again.rv, 0);
	assert_false(again.created);
	assert_int_equal(again.join_number, a.join_number);

	/* u1 gives the ticket back through the node that made it: it does
	 * not return to that node's lease, it is offered to wa. */
	assert_int_equal(release(&cl, 0, r1, "u1"), 0);
	a = get(&cl, 1, "W1", "wa");
	assert_int_equal(a.state, TR_WL_OFFERED);
	assert_true(strncmp(a.rid, "_wl.", 4) == 0);
	b = get(&cl, 1, "W1", "wb");
	assert_int_equal(b.state, TR_WL_WAITING);
	assert_int_equal(b.position, 1);
	assert_int_equal(try_hold(&cl, 0, "W1", "late"), TR_ESOLD_OUT);
	assert_int_equal(try_hold(&cl, 1, "W1", "late"), TR_ESOLD_OUT);

	/* wa pays the offer through the other node. */
	assert_int_equal(confirm(&cl, 1, a.rid, "wa"), 0);
	a = get(&cl, 0, "W1", "wa");
	assert_int_equal(a.state, TR_WL_CONFIRMED);
	assert_audit_passes("W1");
	cluster_stop(&cl);
}

struct releaser {
	struct cluster *cl;
	int node;
	char (*rids)[TR_RID_MAX + 1];
	const char *event;
	int from, to, failed;
};

static void *
release_some(void *arg)
{
	struct releaser *r = arg;
	tr_client *c;
	Ticketrush__Reply *rep = NULL;

	if (tr_client_open(r->cl->nodes[r->node].data_url, 5000, &c) != 0) {
		r->failed = r->to - r->from;
		return NULL;
	}
	for (int i = r->from; i < r->to; i++) {
		char user[16];
		snprintf(user, sizeof(user), "h%d", i);
		if (tr_client_release(c, r->rids[i], user, &rep) != 0)
			r->failed++;
		tr_reply_free(rep);
		rep = NULL;
	}
	tr_client_close(c);
	return NULL;
}

static void
concurrent_returns_on_three_nodes_are_offered_in_join_order(void **st)
{
	enum { TOTAL = 40, WAITING = 30, RETURNED = 20 };
	struct cluster cl;
	char rids[TOTAL][TR_RID_MAX + 1], user[16];
	uint64_t order[WAITING];
	struct releaser rel[3];
	pthread_t th[3];
	int offered = 0, waiting = 0;
	(void)st;

	cluster_start(&cl, 3);
	create(&cl, "W2", TOTAL, 0, 0);
	for (int i = 0; i < TOTAL; i++) {
		snprintf(user, sizeof(user), "h%d", i);
		hold(&cl, 0, "W2", user, rids[i]);
	}
	/* The line, joined through all three nodes in a known order. */
	for (int i = 0; i < WAITING; i++) {
		struct entry e;
		snprintf(user, sizeof(user), "w%d", i);
		e = join(&cl, i % 3, "W2", user);
		assert_int_equal(e.rv, 0);
		assert_int_equal(e.position, (uint64_t)i + 1);
		order[i] = e.join_number;
		if (i > 0)
			assert_true(order[i] > order[i - 1]);
	}
	/* 20 holds given back at once, through three nodes. */
	for (int k = 0; k < 3; k++) {
		rel[k] = (struct releaser){&cl, k, rids, "W2",
		    k * RETURNED / 3, (k + 1) * RETURNED / 3, 0};
		pthread_create(&th[k], NULL, release_some, &rel[k]);
	}
	for (int k = 0; k < 3; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(rel[k].failed, 0);
	}
	/* The first 20 in line have offers, each one; the others wait, in
	 * their order. */
	for (int i = 0; i < WAITING; i++) {
		struct entry e;
		snprintf(user, sizeof(user), "w%d", i);
		e = get(&cl, i % 3, "W2", user);
		assert_int_equal(e.rv, 0);
		if (i < RETURNED) {
			assert_int_equal(e.state, TR_WL_OFFERED);
			offered++;
		} else {
			assert_int_equal(e.state, TR_WL_WAITING);
			assert_int_equal(e.position,
			    (uint64_t)(i - RETURNED) + 1);
			waiting++;
		}
	}
	print_message("%d returns on 3 nodes: %d offers to the first in line, "
	              "%d still waiting in order\n",
	    RETURNED, offered, waiting);
	assert_int_equal(th_redis_int(&redis, "ZCARD tr:{W2}:line"),
	    WAITING - RETURNED);
	assert_audit_passes("W2");
	cluster_stop(&cl);
}

static void
an_offer_that_expires_passes_to_the_next_in_line(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1];
	struct entry a, b;
	int64_t t0;
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "W3", 1, 0, 400); /* offers last 400 ms */
	hold(&cl, 0, "W3", "u1", r1);
	assert_int_equal(join(&cl, 0, "W3", "wa").rv, 0);
	assert_int_equal(join(&cl, 1, "W3", "wb").rv, 0);
	assert_int_equal(release(&cl, 1, r1, "u1"), 0);
	a = get(&cl, 0, "W3", "wa");
	assert_int_equal(a.state, TR_WL_OFFERED);
	/* wa does not pay: past the deadline and the sweep's grace (1 s),
	 * the sync of a node busy with the event ends it. */
	t0 = tr_mono_ms();
	b = wait_state(&cl, "W3", "wb", TR_WL_OFFERED, 5000);
	print_message("wa's offer passed to wb %.2f s after it was made "
	              "(offer 0.4 s, grace 1 s, sync 0.1 s)\n",
	    (double)(tr_mono_ms() - t0) / 1000.0);
	assert_int_equal(get(&cl, 1, "W3", "wa").state, TR_WL_EXPIRED);
	/* The expired offer cannot be paid; the live one can. */
	assert_int_equal(confirm(&cl, 0, a.rid, "wa"), TR_EEXPIRED);
	assert_int_equal(confirm(&cl, 1, b.rid, "wb"), 0);
	assert_audit_passes("W3");
	cluster_stop(&cl);
}

static void
a_refund_feeds_the_line(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1];
	Ticketrush__Reply *rep = NULL;
	struct entry a;
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "W4", 1, 0, 0);
	hold(&cl, 0, "W4", "u1", r1);
	assert_int_equal(confirm(&cl, 0, r1, "u1"), 0);
	assert_int_equal(join(&cl, 1, "W4", "wa").rv, 0);
	/* Only the owner refunds. */
	assert_int_equal(tr_client_refund(cl.data[1], r1, "thief", &rep),
	    TR_ENOT_OWNER);
	tr_reply_free(rep);
	rep = NULL;
	assert_int_equal(tr_client_refund(cl.data[1], r1, "u1", &rep), 0);
	assert_non_null(rep->order);
	assert_true(rep->order->refunded_at_ms > 0);
	tr_reply_free(rep);
	rep = NULL;
	/* Twice is one refund. */
	assert_int_equal(tr_client_refund(cl.data[0], r1, "u1", &rep), 0);
	tr_reply_free(rep);
	rep = NULL;
	a = get(&cl, 0, "W4", "wa");
	assert_int_equal(a.state, TR_WL_OFFERED);
	assert_int_equal(th_redis_int(&redis, "GET tr:{W4}:sold"), 0);
	/* The stream has the order and its refund. */
	assert_int_equal(th_redis_int(&redis, "XLEN tr:{W4}:stream"), 2);
	assert_int_equal(confirm(&cl, 1, a.rid, "wa"), 0);
	/* A hold that is not paid is released, not refunded. */
	assert_audit_passes("W4");
	cluster_stop(&cl);
}

static void
offers_stay_confirmable_when_the_node_that_took_the_join_dies(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1];
	struct entry a;
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "W5", 1, 0, 0);
	hold(&cl, 1, "W5", "u1", r1);
	assert_int_equal(join(&cl, 0, "W5", "wa").rv, 0);
	assert_int_equal(release(&cl, 0, r1, "u1"), 0);
	a = get(&cl, 0, "W5", "wa");
	assert_int_equal(a.state, TR_WL_OFFERED);
	th_stop(&cl.nodes[0].proc, SIGKILL, 2000);
	/* The offer is a hold in the coordinator: any node confirms it. */
	assert_int_equal(confirm(&cl, 1, a.rid, "wa"), 0);
	assert_int_equal(get(&cl, 1, "W5", "wa").state, TR_WL_CONFIRMED);
	assert_audit_passes("W5");
	tr_client_close(cl.data[0]);
	tr_client_close(cl.data[1]);
	th_stop(&cl.nodes[1].proc, SIGTERM, 5000);
}

static void
the_line_has_a_cap_and_a_buyer_at_the_limit_cannot_join(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1];
	struct entry e;
	(void)st;

	cluster_start(&cl, 1);
	create(&cl, "W6", 1, 2, 0); /* two buyers in line at most */
	hold(&cl, 0, "W6", "u1", r1);
	/* u1 holds the limit (1): DUPLICATE, naming the hold. */
	e = join(&cl, 0, "W6", "u1");
	assert_int_equal(e.rv, TR_EDUPLICATE);
	assert_string_equal(e.rid, r1);
	assert_int_equal(join(&cl, 0, "W6", "wa").rv, 0);
	assert_int_equal(join(&cl, 0, "W6", "wb").rv, 0);
	assert_int_equal(join(&cl, 0, "W6", "wc").rv, TR_EWAITLIST_FULL);
	/* Leaving makes room; leaving twice is one leave. */
	{
		Ticketrush__Reply *rep = NULL;
		assert_int_equal(tr_client_waitlist_leave(cl.data[0], "W6",
		                     "wa", &rep),
		    0);
		assert_int_equal(rep->waitlist_entry->state, TR_WL_LEFT);
		tr_reply_free(rep);
		rep = NULL;
		assert_int_equal(tr_client_waitlist_leave(cl.data[0], "W6",
		                     "wa", &rep),
		    0);
		tr_reply_free(rep);
	}
	assert_int_equal(join(&cl, 0, "W6", "wc").rv, 0);
	/* Paid: LIMIT_EXCEEDED. */
	assert_int_equal(confirm(&cl, 0, r1, "u1"), 0);
	assert_int_equal(join(&cl, 0, "W6", "u1").rv, TR_ELIMIT);
	/* Unknown user: NOT_FOUND. */
	assert_int_equal(get(&cl, 0, "W6", "nobody").rv, TR_ENOT_FOUND);
	assert_audit_passes("W6");
	cluster_stop(&cl);
}

/* Hand a live hold to another user, as a transfer outside the line would
 * (the ticket stays where it is: conservation and indexes hold). */
static void
transfer_hold(const char *event, const char *rid, const char *from,
    const char *to)
{
	static const char *script =
	    "local h = cjson.decode(redis.call('HGET', KEYS[1], ARGV[1]))\n"
	    "h.u = ARGV[3]\n"
	    "redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(h))\n"
	    "redis.call('HDEL', KEYS[2], ARGV[2])\n"
	    "redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])\n"
	    "return 1";
	char k1[128], k2[128];
	redisReply *r;

	snprintf(k1, sizeof(k1), "tr:{%s}:holds", event);
	snprintf(k2, sizeof(k2), "tr:{%s}:uholds", event);
	r = th_redis_cmd(&redis, "EVAL %s 2 %s %s %s %s %s", script, k1, k2,
	    rid, from, to);
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	freeReplyObject(r);
}

static void
a_buyer_who_got_a_ticket_elsewhere_is_skipped(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1], r2[TR_RID_MAX + 1], r3[TR_RID_MAX + 1];
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "W7", 3, 0, 0);
	hold(&cl, 0, "W7", "u1", r1);
	hold(&cl, 0, "W7", "u2", r2);
	hold(&cl, 0, "W7", "u3", r3);
	assert_int_equal(join(&cl, 0, "W7", "wa").rv, 0);
	assert_int_equal(join(&cl, 0, "W7", "wb").rv, 0);
	assert_int_equal(join(&cl, 0, "W7", "wc").rv, 0);
	/* wb gets u2's ticket outside the line, and pays it (through n2:
	 * n1's cache still has u2's name on it): at the limit. */
	transfer_hold("W7", r2, "u2", "wb");
	assert_int_equal(confirm(&cl, 1, r2, "wb"), 0);
	/* Two tickets come back: wa is offered one; wb's turn is skipped
	 * (the limit is 1) and the next goes to wc. */
	assert_int_equal(release(&cl, 0, r1, "u1"), 0);
	assert_int_equal(release(&cl, 0, r3, "u3"), 0);
	assert_int_equal(get(&cl, 0, "W7", "wa").state, TR_WL_OFFERED);
	assert_int_equal(get(&cl, 0, "W7", "wb").state, TR_WL_SKIPPED);
	assert_int_equal(get(&cl, 0, "W7", "wc").state, TR_WL_OFFERED);
	assert_audit_passes("W7");
	cluster_stop(&cl);
}

static void
show_lists_the_head_of_the_line_for_operators(void **st)
{
	struct cluster cl;
	char r1[TR_RID_MAX + 1], cmd[512], out[4096];
	(void)st;

	cluster_start(&cl, 1);
	create(&cl, "W8", 1, 0, 0);
	hold(&cl, 0, "W8", "u1", r1);
	assert_int_equal(join(&cl, 0, "W8", "wa").rv, 0);
	assert_int_equal(join(&cl, 0, "W8", "wb").rv, 0);
	snprintf(cmd, sizeof(cmd), "%s --url %s waitlist show W8",
	    th_bin("ticketctl"), cl.nodes[0].admin_url);
	assert_int_equal(th_run(cmd, out, sizeof(out)), 0);
	if (strstr(out, "2 waiting") == NULL || strstr(out, "wa") == NULL ||
	    strstr(out, "wb") == NULL || strstr(out, "wa") > strstr(out, "wb"))
		fail_msg("ticketctl waitlist show W8:\n%s", out);
	snprintf(cmd, sizeof(cmd), "%s --url %s waitlist show NOPE",
	    th_bin("ticketctl"), cl.nodes[0].admin_url);
	assert_int_equal(th_run(cmd, out, sizeof(out)), 1);
	cluster_stop(&cl);
}

/* ---- through the gateway ------------------------------------------------ */

static void
gate_start(th_gate *g, struct cluster *cl)
{
	static char flags[NODES_MAX][300];
	const char *args[2 * NODES_MAX + 1];
	int a = 0;

	for (int i = 0; i < cl->n; i++) {
		snprintf(flags[i], sizeof(flags[i]),
		    "%s=%s,weight=1,"
		    "max_fails=0",
		    cl->nodes[i].node, cl->nodes[i].data_url);
		args[a++] = "--node";
		args[a++] = flags[i];
	}
	args[a] = NULL;
	assert_int_equal(th_gate_start(g, args), 0);
}

/* The string field `name` of a JSON body (out empty if none). */
static void
field(const char *body, const char *name, char *out, size_t cap)
{
	char key[64];
	const char *p, *e;
	snprintf(key, sizeof(key), "\"%s\":\"", name);
	out[0] = '\0';
	if ((p = strstr(body, key)) == NULL)
		return;
	p += strlen(key);
	if ((e = strchr(p, '"')) == NULL || (size_t)(e - p) >= cap)
		return;
	snprintf(out, cap, "%.*s", (int)(e - p), p);
}

struct long_poll {
	int port;
	int status;
	char body[2048];
	int64_t took_ms;
};

static void *
long_poll(void *arg)
{
	struct long_poll *lp = arg;
	int64_t t0 = tr_mono_ms();
	lp->status =
	    th_http(lp->port, "GET", "/v1/events/G/waitlist/wa?wait=4s", NULL,
	        lp->body, sizeof(lp->body));
	lp->took_ms = tr_mono_ms() - t0;
	return NULL;
}

static void
through_the_gateway_a_buyer_waits_is_offered_pays_and_refunds(void **st)
{
	struct cluster cl;
	th_gate g;
	char body[2048], rid[TR_RID_MAX + 1], offer[TR_RID_MAX + 1];
	char path[256], state[32];
	struct long_poll lp;
	pthread_t th;
	(void)st;

	cluster_start(&cl, 2);
	create(&cl, "G", 1, 0, 0);
	create(&cl, "G2", 1, 1, 0);
	gate_start(&g, &cl);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/reservations",
	                     "{\"user\":\"u1\"}", body, sizeof(body)),
	    201);
	field(body, "reservation_id", rid, sizeof(rid));
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/reservations",
	                     "{\"user\":\"u2\"}", body, sizeof(body)),
	    409);

	/* u2 joins: 201 with a position; again: 200, the same entry. */
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/waitlist",
	                     "{\"user\":\"wa\",\"request_id\":\"j1\"}", body,
	                     sizeof(body)),
	    201);
	if (strstr(body, "\"state\":\"waiting\"") == NULL ||
	    strstr(body, "\"position\":1") == NULL)
		fail_msg("join: %s", body);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/waitlist",
	                     "{\"user\":\"wa\"}", body, sizeof(body)),
	    200);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/waitlist",
	                     "{\"user\":\"wq\",\"qty\":2}", body,
	                     sizeof(body)),
	    400);

	/* A long poll answers when the state changes: u1 gives the ticket
	 * back 1.2 s into the wait. */
	lp.port = g.port;
	pthread_create(&th, NULL, long_poll, &lp);
	tr_sleep_ms(1200);
	snprintf(path, sizeof(path), "/v1/reservations/%s/release", rid);
	assert_int_equal(th_http(g.port, "POST", path, "{\"user\":\"u1\"}",
	                     body, sizeof(body)),
	    200);
	pthread_join(th, NULL);
	print_message("long poll answered %.2f s after it began (the ticket "
	              "came back at 1.2 s; polls every 1 s)\n",
	    (double)lp.took_ms / 1000.0);
	assert_int_equal(lp.status, 200);
	field(lp.body, "state", state, sizeof(state));
	assert_string_equal(state, "offered");
	assert_true(lp.took_ms >= 1100 && lp.took_ms < 3500);
	field(lp.body, "reservation_id", offer, sizeof(offer));

	/* Pay the offer, then give the ticket back. */
	snprintf(path, sizeof(path), "/v1/reservations/%s/confirm", offer);
	assert_int_equal(th_http(g.port, "POST", path, "{\"user\":\"wa\"}",
	                     body, sizeof(body)),
	    200);
	snprintf(path, sizeof(path), "/v1/orders/%s/refund", offer);
	assert_int_equal(th_http(g.port, "POST", path, "{\"user\":\"other\"}",
	                     body, sizeof(body)),
	    403);
	assert_int_equal(th_http(g.port, "POST", path, "{\"user\":\"wa\"}",
	                     body, sizeof(body)),
	    200);
	assert_non_null(strstr(body, "\"refunded_at_ms\":"));

	/* G2's line holds one buyer: the next is refused, in JSON. (A
	 * ticket free in the pool would be offered to x at once.) */
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G2/reservations",
	                     "{\"user\":\"s\"}", body, sizeof(body)),
	    201);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G2/waitlist",
	                     "{\"user\":\"x\"}", body, sizeof(body)),
	    201);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G2/waitlist",
	                     "{\"user\":\"y\"}", body, sizeof(body)),
	    409);
	assert_non_null(strstr(body, "\"error\":\"waitlist_full\""));
	assert_int_equal(th_http(g.port, "DELETE", "/v1/events/G2/waitlist/x",
	                     NULL, body, sizeof(body)),
	    200);
	assert_non_null(strstr(body, "\"state\":\"left\""));
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G2/waitlist/nobody", NULL, body,
	                     sizeof(body)),
	    404);
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G2/waitlist/x?wait=99s", NULL, body,
	                     sizeof(body)),
	    400);
	assert_int_equal(th_http(g.port, "PUT", "/v1/events/G2/waitlist/x",
	                     NULL, body, sizeof(body)),
	    405);
	assert_audit_passes("G");
	assert_audit_passes("G2");
	th_stop(&g.proc, SIGTERM, 5000);
	cluster_stop(&cl);
}

/* An offer made before a long poll arrives: without state= the poll
 * takes "offered" for where it starts and waits past it; with the state
 * the buyer last saw (waiting) it answers at once. */
static void
a_long_poll_naming_its_state_answers_a_change_it_missed(void **st)
{
	struct cluster cl;
	th_gate g;
	char body[2048], rid[TR_RID_MAX + 1], path[256], state[32];
	int64_t t0, took;
	(void)st;

	cluster_start(&cl, 1);
	create(&cl, "G", 1, 0, 0);
	gate_start(&g, &cl);
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/reservations",
	                     "{\"user\":\"u1\"}", body, sizeof(body)),
	    201);
	field(body, "reservation_id", rid, sizeof(rid));
	assert_int_equal(th_http(g.port, "POST", "/v1/events/G/waitlist",
	                     "{\"user\":\"wb\"}", body, sizeof(body)),
	    201);
	assert_non_null(strstr(body, "\"state\":\"waiting\""));
	/* The ticket comes back between two polls of wb. */
	snprintf(path, sizeof(path), "/v1/reservations/%s/release", rid);
	assert_int_equal(th_http(g.port, "POST", path, "{\"user\":\"u1\"}",
	                     body, sizeof(body)),
	    200);

	t0 = tr_mono_ms();
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G/waitlist/wb?wait=4s&state=waiting",
	                     NULL, body, sizeof(body)),
	    200);
	took = tr_mono_ms() - t0;
	field(body, "state", state, sizeof(state));
	assert_string_equal(state, "offered");
	if (took >= 1000)
		fail_msg("answered after %lld ms: the change was waited past",
		    (long long)took);

	/* Without it, the poll starts from "offered" and waits it out (it
	 * answers the last check a second before the wait would end). */
	t0 = tr_mono_ms();
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G/waitlist/wb?wait=3s", NULL, body,
	                     sizeof(body)),
	    200);
	took = tr_mono_ms() - t0;
	field(body, "state", state, sizeof(state));
	assert_string_equal(state, "offered");
	assert_true(took >= 1500);
	/* Naming the state it has waits as before. */
	t0 = tr_mono_ms();
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G/waitlist/wb?wait=3s&state=offered",
	                     NULL, body, sizeof(body)),
	    200);
	assert_true(tr_mono_ms() - t0 >= 1500);
	assert_int_equal(th_http(g.port, "GET",
	                     "/v1/events/G/waitlist/wb?wait=2s&state=later",
	                     NULL, body, sizeof(body)),
	    400);
	assert_audit_passes("G");
	th_stop(&g.proc, SIGTERM, 5000);
	cluster_stop(&cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_redis, teardown_redis)
	    T(a_returned_ticket_goes_to_the_first_in_line_not_to_a_newcomer),
	    T(concurrent_returns_on_three_nodes_are_offered_in_join_order),
	    T(an_offer_that_expires_passes_to_the_next_in_line),
	    T(a_refund_feeds_the_line),
	    T(a_long_poll_naming_its_state_answers_a_change_it_missed),
	    T(offers_stay_confirmable_when_the_node_that_took_the_join_dies),
	    T(the_line_has_a_cap_and_a_buyer_at_the_limit_cannot_join),
	    T(a_buyer_who_got_a_ticket_elsewhere_is_skipped),
	    T(show_lists_the_head_of_the_line_for_operators),
	    T(through_the_gateway_a_buyer_waits_is_offered_pays_and_refunds),
#undef T
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
