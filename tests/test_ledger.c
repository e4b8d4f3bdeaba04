/* test_ledger: the stock node's book (its lease and its cache of holds),
 * against every scenario that could oversell, undersell or leak a ticket.
 * The coordinator's part is played by the test: it records holds
 * (tr_ledger_hold_add), answers confirms and ends holds, as the node does
 * with the coordinator's answers. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"
#include "tr_err.h"
#include "tr_map.h"

#define T0_MONO 1000000
#define T0_WALL 1700000000000LL

static tr_event *
add_event(tr_ledger *l, const char *id, uint64_t total, uint32_t limit,
    uint64_t hold_ms)
{
	tr_event_conf c = {0};
	tr_event *ev = NULL;
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.total = total;
	c.limit_per_user = limit;
	c.hold_ms = hold_ms;
	assert_int_equal(tr_ledger_event_add(l, &c, &ev), 0);
	assert_int_equal(tr_ledger_lease_grant(ev, total), 0);
	return ev;
}

static void
assert_ledger_ok(tr_ledger *l)
{
	const char *why = NULL;
	int rv = tr_ledger_check(l, &why);
	if (rv != 0)
		fail_msg("ledger invariant broken: %s", why);
}

/* Reserve and record the hold, as the node does when the coordinator
 * answers "created". */
static tr_hold *
hold_made(tr_ledger *l, tr_event *ev, const char *user, const char *req,
    int64_t t)
{
	char rid[TR_RID_MAX + 1];
	tr_hold *h = NULL;
	assert_int_equal(tr_ledger_reserve(l, ev, user, 1, req, T0_MONO + t,
	                     T0_WALL + t, &h),
	    TR_EPENDING);
	assert_int_equal(tr_ledger_new_rid(l, ev, rid), 0);
	tr_ledger_admit_end(ev, 1, false);
	assert_int_equal(tr_ledger_hold_add(l, ev, rid, user, 1, req,
	                     T0_WALL + t + (int64_t)ev->conf.hold_ms,
	                     T0_MONO + t + (int64_t)ev->conf.hold_ms, &h),
	    0);
	assert_non_null(h);
	return h;
}

static void
sells_exactly_total_then_sold_out(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "G1234", 100, 1, 60000);
	char user[32];
	tr_hold *h;
	(void)state;

	for (int i = 0; i < 100; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		hold_made(l, ev, user, "", 0);
	}
	assert_int_equal(tr_event_available(ev), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "late", 1, "", T0_MONO,
	                     T0_WALL, &h),
	    TR_EEMPTY);
	assert_int_equal(ev->held, 100);
	assert_int_equal(tr_ledger_active_holds(l), 100);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
rejected_reserve_stores_nothing(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 1, 1, 60000);
	char user[32];
	tr_hold *h;
	(void)state;

	hold_made(l, ev, "first", "", 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "turned-away-%d", i);
		assert_int_equal(tr_ledger_reserve(l, ev, user, 1, "", T0_MONO,
		                     T0_WALL, &h),
		    TR_EEMPTY);
	}
	/* Only the one buyer with a hold is remembered. */
	assert_int_equal(tr_map_count(ev->buyers), 1);
	assert_int_equal(tr_ledger_active_holds(l), 1);
	assert_int_equal(ev->admitting, 0);
	tr_ledger_free(l);
}

static void
admitted_tickets_leave_the_lease_until_the_coordinator_answers(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 3, 3, 60000);
	tr_hold *h = NULL;
	(void)state;

	assert_int_equal(tr_ledger_reserve(l, ev, "u", 2, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EPENDING);
	assert_int_equal(ev->lease, 1);
	assert_int_equal(ev->admitting, 2);
	/* Nobody else can take them meanwhile. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 2, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EEMPTY);
	/* Refused by the coordinator: back to the lease. */
	tr_ledger_admit_end(ev, 2, true);
	assert_int_equal(ev->lease, 3);
	assert_int_equal(ev->admitting, 0);
	/* Outcome unknown (timeout): not credited, the sync repairs it. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 1, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EPENDING);
	tr_ledger_admit_end(ev, 1, false);
	assert_int_equal(ev->lease, 2);
	assert_int_equal(ev->reserved_count, 2);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
retried_reserve_with_same_request_id_is_answered_from_the_cache(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 10, 2, 60000);
	tr_hold *a, *b = NULL;
	(void)state;

	a = hold_made(l, ev, "u", "req-1", 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-1", T0_MONO,
	                     T0_WALL, &b),
	    0);
	assert_ptr_equal(a, b);
	assert_int_equal(ev->held, 1);
	assert_int_equal(ev->admitting, 0);
	/* A different request id is a second ticket, within the limit. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-2", T0_MONO,
	                     T0_WALL, &b),
	    TR_EPENDING);
	/* Paid: the same request id still answers with it. */
	tr_ledger_hold_confirmed(l, a, "P", T0_WALL);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-1", T0_MONO,
	                     T0_WALL, &b),
	    0);
	assert_ptr_equal(a, b);
	assert_int_equal(b->state, TR_HOLD_CONFIRMED);
	tr_ledger_admit_end(ev, 1, true);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
per_user_limit_answers_duplicate_then_limit(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 10, 1, 60000);
	tr_hold *h, *again = NULL;
	(void)state;

	h = hold_made(l, ev, "u", "", 0);
	/* Holding unpaid: the existing hold comes back, no stock taken. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO, T0_WALL,
	                     &again),
	    TR_EDUPLICATE);
	assert_ptr_equal(again, h);
	assert_int_equal(ev->lease, 9);
	/* Paid: no more. */
	tr_ledger_hold_confirmed(l, h, "pay-1", T0_WALL + 1);
	assert_int_equal(h->state, TR_HOLD_CONFIRMED);
	assert_int_equal(ev->sold_here, 1);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO, T0_WALL,
	                     &again),
	    TR_ELIMIT);
	/* Asking for more than the limit at once is refused too. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 2, "", T0_MONO, T0_WALL,
	                     &again),
	    TR_ELIMIT);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static tr_hold *due[16];
static size_t ndue;

static void
collect_due(tr_hold *h, void *arg)
{
	(void)arg;
	if (ndue < 16)
		due[ndue++] = h;
}

static void
due_holds_leave_the_heap_in_deadline_order_until_settled(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 3, 1, 1000);
	tr_hold *a, *b, *c;
	(void)state;

	a = hold_made(l, ev, "a", "", 0);
	b = hold_made(l, ev, "b", "", 300);
	c = hold_made(l, ev, "c", "", 600);
	assert_int_equal(tr_ledger_next_deadline(l), T0_MONO + 1000);
	ndue = 0;
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 999, 100,
	                     collect_due, NULL),
	    0);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1300, 100,
	                     collect_due, NULL),
	    2);
	assert_int_equal(ndue, 2);
	assert_ptr_equal(due[0], a);
	assert_ptr_equal(due[1], b);
	assert_true(a->expiring && b->expiring && !c->expiring);
	/* Being ended: not due again until settled. */
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1300, 100,
	                     collect_due, NULL),
	    0);
	assert_ledger_ok(l);
	/* The coordinator ended a; its clock says b is not due yet. */
	tr_ledger_hold_ended(l, a, TR_HOLD_EXPIRED);
	assert_int_equal(tr_ledger_hold_reschedule(l, b, T0_MONO + 1400), 0);
	assert_int_equal(a->state, TR_HOLD_EXPIRED);
	assert_int_equal(ev->expired_count, 1);
	assert_int_equal(ev->held, 2);
	assert_int_equal(tr_ledger_next_deadline(l), T0_MONO + 1400);
	/* The ticket's place is the caller's business: the lease did not
	 * change by itself. */
	assert_int_equal(ev->lease, 0);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
final_states_are_kept_and_a_stale_answer_changes_nothing(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 5, 5, 60000);
	tr_hold *paid, *gone, *out = NULL;
	(void)state;

	paid = hold_made(l, ev, "u", "a", 0);
	gone = hold_made(l, ev, "u", "b", 0);
	tr_ledger_hold_confirmed(l, paid, "P1", T0_WALL + 5);
	tr_ledger_hold_ended(l, gone, TR_HOLD_RELEASED);
	/* Late or repeated answers do not move a final state. */
	tr_ledger_hold_ended(l, paid, TR_HOLD_EXPIRED);
	tr_ledger_hold_confirmed(l, gone, "P2", T0_WALL + 6);
	assert_int_equal(paid->state, TR_HOLD_CONFIRMED);
	assert_string_equal(paid->payment_ref, "P1");
	assert_int_equal(paid->confirmed_wall_ms, T0_WALL + 5);
	assert_int_equal(gone->state, TR_HOLD_RELEASED);
	assert_int_equal(ev->held, 0);
	assert_int_equal(ev->sold_here, 1);
	/* Another user is told so; an unknown id is not found. */
	assert_int_equal(tr_ledger_find(l, paid->rid, "thief", &out),
	    TR_ENOT_OWNER);
	assert_int_equal(tr_ledger_find(l, "n1.0000000000000000.E", "u", &out),
	    TR_ENOT_FOUND);
	assert_int_equal(tr_ledger_find(l, paid->rid, "u", &out), 0);
	assert_ptr_equal(out, paid);
	/* A released hold frees its request id for a new intent. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "b", T0_MONO,
	                     T0_WALL, &out),
	    TR_EPENDING);
	tr_ledger_admit_end(ev, 1, true);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
fence_empties_the_lease_and_keeps_the_holds(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 10, 1, 60000);
	tr_hold *a, *b, *out = NULL;
	(void)state;

	a = hold_made(l, ev, "a", "", 0);
	b = hold_made(l, ev, "b", "", 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "c", 1, "", T0_MONO, T0_WALL,
	                     &out),
	    TR_EPENDING);
	tr_ledger_event_fence(ev, 7);
	assert_int_equal(ev->epoch, 7);
	assert_int_equal(ev->lease, 0);
	/* The holds are in the coordinator, confirmable until they expire. */
	assert_int_equal(a->state, TR_HOLD_HELD);
	assert_int_equal(b->state, TR_HOLD_HELD);
	assert_int_equal(ev->held, 2);
	/* The admitted one was refused (fenced): nothing comes back. */
	tr_ledger_admit_end(ev, 1, false);
	assert_int_equal(ev->lease, 0);
	tr_ledger_hold_confirmed(l, b, "p", T0_WALL);
	assert_int_equal(ev->sold_here, 1);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
lease_adopts_the_coordinators_figure_both_ways(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 100, 1, 60000);
	tr_hold *h = NULL;
	(void)state;

	/* 10 in the lease: 3 admitted, 2 being given back, 5 free. */
	assert_int_equal(tr_ledger_give_back_begin(ev, 90), 0);
	tr_ledger_give_back_end(ev, 90, false);
	assert_int_equal(tr_ledger_reserve(l, ev, "a", 1, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EPENDING);
	assert_int_equal(tr_ledger_reserve(l, ev, "b", 1, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EPENDING);
	assert_int_equal(tr_ledger_reserve(l, ev, "c", 1, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_EPENDING);
	assert_int_equal(tr_ledger_give_back_begin(ev, 2), 0);
	assert_int_equal(ev->lease, 5);
	/* The coordinator has as much as we think: no change. */
	assert_int_equal(tr_ledger_lease_adopt(ev, 10), 0);
	/* A lost grant answer: the coordinator has more. */
	assert_int_equal(tr_ledger_lease_adopt(ev, 16), 6);
	assert_int_equal(ev->lease, 11);
	/* A lost write (failover): it has less; never below zero. */
	assert_int_equal(tr_ledger_lease_adopt(ev, 7), -9);
	assert_int_equal(ev->lease, 2);
	assert_int_equal(tr_ledger_lease_adopt(ev, 1), -2);
	assert_int_equal(ev->lease, 0);
	tr_ledger_admit_end(ev, 3, false);
	tr_ledger_give_back_end(ev, 2, false);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
only_free_tickets_are_given_back(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 5, 1, 60000);
	(void)state;

	hold_made(l, ev, "u", "", 0);
	assert_int_equal(tr_ledger_give_back_begin(ev, 5), TR_EINVALID);
	assert_int_equal(ev->lease, 4);
	assert_int_equal(tr_ledger_give_back_begin(ev, 4), 0);
	assert_int_equal(ev->lease, 0);
	assert_int_equal(ev->giving, 4);
	/* Never sent: back. */
	tr_ledger_give_back_end(ev, 4, true);
	assert_int_equal(ev->lease, 4);
	assert_int_equal(ev->giving, 0);
	assert_int_equal(tr_ledger_lease_grant(ev, TR_TOTAL_MAX + 1),
	    TR_EINVALID);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
not_open_before_opens_at_and_draining_refuses(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event_conf c = {.id = "later",
	    .total = 5,
	    .limit_per_user = 1,
	    .hold_ms = 1000,
	    .opens_at_ms = T0_WALL + 60000};
	tr_event *ev, *same;
	tr_hold *h;
	(void)state;

	assert_int_equal(tr_ledger_event_add(l, &c, &ev), 0);
	assert_int_equal(tr_ledger_event_add(l, &c, &same), 0);
	assert_ptr_equal(ev, same);
	c.total = 6;
	assert_int_equal(tr_ledger_event_add(l, &c, &same), TR_EDUPLICATE);
	tr_ledger_lease_grant(ev, 5);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO, T0_WALL,
	                     &h),
	    TR_ENOT_OPEN);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	                     T0_WALL + 60000, &h),
	    TR_EPENDING);
	tr_ledger_admit_end(ev, 1, true);
	ev->draining = true;
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 1, "", T0_MONO,
	                     T0_WALL + 60000, &h),
	    TR_EUNAVAILABLE);
	assert_int_equal(ev->lease, 5);
	tr_ledger_free(l);
}

static void
tombstones_are_bounded(void **state)
{
	tr_ledger_limits lim = {.tombstones_max = 10};
	tr_ledger *l = tr_ledger_new("n1", &lim);
	tr_event *ev = add_event(l, "E", 1, 1, 60000);
	char first_rid[TR_RID_MAX + 1];
	tr_hold *h, *out;
	(void)state;

	for (int i = 0; i < 100; i++) {
		h = hold_made(l, ev, "u", "", 0);
		if (i == 0)
			strcpy(first_rid, h->rid);
		tr_ledger_hold_ended(l, h, TR_HOLD_RELEASED);
		assert_int_equal(tr_ledger_lease_grant(ev, 1), 0);
	}
	assert_int_equal(tr_ledger_find(l, first_rid, "u", &out),
	    TR_ENOT_FOUND);
	assert_int_equal(tr_map_count(ev->buyers), 0);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
reservation_ids_name_this_node_and_the_event(void **state)
{
	tr_ledger *l = tr_ledger_new("node-9", NULL);
	tr_event *ev = add_event(l, "G1234:2027-02-01", 5, 1, 60000);
	char rid[TR_RID_MAX + 1], node[TR_NODE_ID_MAX + 1];
	char event[TR_EVENT_ID_MAX + 1];
	tr_hold *h = NULL;
	(void)state;

	assert_int_equal(tr_ledger_new_rid(l, ev, rid), 0);
	assert_true(tr_rid_parse(rid, node, event));
	assert_string_equal(node, "node-9");
	assert_string_equal(event, "G1234:2027-02-01");
	/* Caching the same id twice is refused, the first stays. */
	assert_int_equal(tr_ledger_hold_add(l, ev, rid, "u", 1, "", T0_WALL,
	                     T0_MONO, &h),
	    0);
	assert_int_equal(tr_ledger_hold_add(l, ev, rid, "v", 1, "", T0_WALL,
	                     T0_MONO, &h),
	    TR_EDUPLICATE);
	assert_string_equal(h->user_id, "u");
	assert_int_equal(ev->held, 1);
	tr_ledger_free(l);
}

static void
bad_event_conf_is_refused(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event_conf c = {.id = "bad id!",
	    .total = 5,
	    .limit_per_user = 1,
	    .hold_ms = 1000};
	tr_event *ev;
	(void)state;

	assert_int_equal(tr_ledger_event_add(l, &c, &ev), TR_EINVALID);
	strcpy(c.id, "ok");
	c.total = 0;
	assert_int_equal(tr_ledger_event_add(l, &c, &ev), TR_EINVALID);
	c.total = 1;
	c.hold_ms = 0;
	assert_int_equal(tr_ledger_event_add(l, &c, &ev), TR_EINVALID);
	assert_null(tr_ledger_new("bad.node", NULL));
	tr_ledger_free(l);
}

/* A model of the node's book, kept by the test from its own decisions
 * alone: every hold with its own deadline, state and request id, what each
 * user holds and bought, and the tickets free, being given back, held and
 * sold. The model decides by its own clock which holds are due and what
 * each call must answer; the ledger must give the same answers (which
 * hold, in which state, due when) and the same figures after every step.
 * Nothing the model expects is read from the ledger. */
#define MODEL_USERS 64
#define MODEL_TOTAL 40
/* A hold lives about 100 steps: long enough for its user to come back to
 * it (pay one, retry, click again) while it lives. */
#define MODEL_HOLD_MS 1000
#define MODEL_LIMIT 2
#define MODEL_REQS 3 /* request ids a user reuses: q0, q1, q2 */
#define MODEL_LIVE (MODEL_USERS * MODEL_LIMIT)

struct model_hold {
	char rid[TR_RID_MAX + 1];
	int user;
	int req;          /* -1: no request id */
	int64_t deadline; /* the coordinator's, on the node's clock */
	enum tr_hold_state state;
	bool expiring; /* handed to the coordinator, not answered yet */
};

struct model {
	struct model_hold *holds; /* every hold of the current event */
	size_t nholds, cap;
	/* A user's live holds (HELD or CONFIRMED), indexes into holds. */
	size_t live[MODEL_USERS][MODEL_LIMIT];
	int nlive[MODEL_USERS];
	uint64_t free, giving, held, sold, expired;
	uint64_t rescheduled, lost; /* over all events */
};

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void
model_reset(struct model *md)
{
	md->nholds = 0;
	memset(md->nlive, 0, sizeof(md->nlive));
	md->free = MODEL_TOTAL;
	md->giving = md->held = md->sold = md->expired = 0;
}

static void
user_name(char *out, size_t cap, int u)
{
	snprintf(out, cap, "user%d", u);
}

static void
req_name(char *out, size_t cap, int req)
{
	if (req < 0)
		out[0] = '\0';
	else
		snprintf(out, cap, "q%d", req);
}

static int
model_held_count(const struct model *md, int u)
{
	int n = 0;
	for (int k = 0; k < md->nlive[u]; k++)
		n += md->holds[md->live[u][k]].state == TR_HOLD_HELD;
	return n;
}

/* The user's live hold made with request id req, or NULL. */
static struct model_hold *
model_retry_of(struct model *md, int u, int req)
{
	if (req < 0)
		return NULL;
	for (int k = 0; k < md->nlive[u]; k++) {
		struct model_hold *mh = &md->holds[md->live[u][k]];
		if (mh->req == req)
			return mh;
	}
	return NULL;
}

static struct model_hold *
model_find(struct model *md, const char *rid)
{
	for (int u = 0; u < MODEL_USERS; u++)
		for (int k = 0; k < md->nlive[u]; k++) {
			struct model_hold *mh = &md->holds[md->live[u][k]];
			if (strcmp(mh->rid, rid) == 0)
				return mh;
		}
	return NULL;
}

/* A HELD hold ends (RELEASED or EXPIRED): the ticket goes back to this
 * node's lease in the model, and the test tells the ledger so. */
static void
model_end(struct model *md, tr_ledger *l, tr_event *ev, struct model_hold *mh,
    enum tr_hold_state state)
{
	char name[16];
	tr_hold *h = NULL;
	int u = mh->user;
	size_t i = (size_t)(mh - md->holds);

	user_name(name, sizeof(name), u);
	assert_int_equal(tr_ledger_find(l, mh->rid, name, &h), 0);
	tr_ledger_hold_ended(l, h, state);
	assert_int_equal(tr_ledger_lease_grant(ev, 1), 0);
	for (int k = 0; k < md->nlive[u]; k++)
		if (md->live[u][k] == i)
			md->live[u][k] = md->live[u][--md->nlive[u]];
	mh->state = state;
	mh->expiring = false;
	md->held--;
	md->free++;
	if (state == TR_HOLD_EXPIRED)
		md->expired++;
}

/* The ledger's cached hold of mh says what the model says. */
static void
assert_hold_agrees(tr_ledger *l, const struct model_hold *mh)
{
	char name[16];
	tr_hold *h = NULL;

	user_name(name, sizeof(name), mh->user);
	assert_int_equal(tr_ledger_find(l, mh->rid, name, &h), 0);
	assert_string_equal(h->rid, mh->rid);
	assert_int_equal(h->state, mh->state);
	if (mh->state == TR_HOLD_HELD)
		assert_int_equal(h->expiring, mh->expiring);
	user_name(name, sizeof(name), (mh->user + 1) % MODEL_USERS);
	assert_int_equal(tr_ledger_find(l, mh->rid, name, &h), TR_ENOT_OWNER);
}

/* Every figure of the ledger against the model's. */
static void
assert_ledger_agrees(tr_ledger *l, const tr_event *ev, const struct model *md)
{
	int64_t next = INT64_MAX;
	size_t held = 0;

	assert_int_equal(ev->lease, md->free);
	assert_int_equal(ev->giving, md->giving);
	assert_int_equal(ev->held, md->held);
	assert_int_equal(ev->sold_here, md->sold);
	assert_int_equal(ev->expired_count, md->expired);
	assert_int_equal(ev->admitting, 0);
	assert_int_equal(ev->lease + ev->giving + ev->held + ev->sold_here,
	    MODEL_TOTAL);
	for (int u = 0; u < MODEL_USERS; u++) {
		for (int k = 0; k < md->nlive[u]; k++) {
			const struct model_hold *mh =
			    &md->holds[md->live[u][k]];
			if (mh->state != TR_HOLD_HELD)
				continue;
			held++;
			if (!mh->expiring && mh->deadline < next)
				next = mh->deadline;
		}
	}
	/* Earlier events ended sold out: no hold of theirs is HELD. */
	assert_int_equal(tr_ledger_active_holds(l), held);
	assert_int_equal(tr_ledger_next_deadline(l), next);
}

/* What the ledger hands to the expiry callback, in its order. */
struct due_seen {
	char rid[MODEL_LIVE][TR_RID_MAX + 1];
	size_t n;
};

static void
due_record(tr_hold *h, void *arg)
{
	struct due_seen *d = arg;
	if (d->n < MODEL_LIVE)
		snprintf(d->rid[d->n], sizeof(d->rid[0]), "%s", h->rid);
	d->n++;
}

/* The ticker at t: the ledger must hand over exactly the HELD holds the
 * model finds due (not already with the coordinator), earliest first.
 * The coordinator then ends most of them, says "not yet" (its clock) to
 * some, and leaves some unanswered (a timeout), settled at a later tick. */
static void
model_tick(struct model *md, tr_ledger *l, tr_event *ev, int64_t t,
    uint64_t *seed)
{
	static struct due_seen seen;
	struct model_hold *mh, *got[MODEL_LIVE];
	size_t want = 0;
	int64_t last = INT64_MIN;

	/* Earlier answers that were lost come now. */
	for (size_t i = 0; i < md->nholds; i++) {
		mh = &md->holds[i];
		if (mh->state != TR_HOLD_HELD || !mh->expiring ||
		    lcg(seed) % 2 == 0)
			continue;
		model_end(md, l, ev, mh, TR_HOLD_EXPIRED);
	}
	for (int u = 0; u < MODEL_USERS; u++)
		for (int k = 0; k < md->nlive[u]; k++) {
			mh = &md->holds[md->live[u][k]];
			want += mh->state == TR_HOLD_HELD && !mh->expiring &&
			    mh->deadline <= t;
		}
	seen.n = 0;
	assert_int_equal(tr_ledger_expire_due(l, t, SIZE_MAX, due_record,
	                     &seen),
	    want);
	assert_int_equal(seen.n, want);
	for (size_t i = 0; i < seen.n; i++) {
		if ((mh = model_find(md, seen.rid[i])) == NULL)
			fail_msg("due %s: the model has no live hold of it",
			    seen.rid[i]);
		assert_int_equal(mh->state, TR_HOLD_HELD);
		assert_false(mh->expiring);
		assert_true(mh->deadline <= t);
		assert_true(mh->deadline >= last);
		last = mh->deadline;
		mh->expiring = true; /* no hold is handed over twice */
		got[i] = mh;
	}
	for (size_t i = 0; i < seen.n; i++) {
		tr_hold *h = NULL;
		char name[16];
		uint64_t r = lcg(seed) % 8;

		mh = got[i];
		if (r < 6) {
			model_end(md, l, ev, mh, TR_HOLD_EXPIRED);
		} else if (r == 6) {
			/* Not due by the coordinator's clock: back in the
			 * heap at the deadline it says. */
			user_name(name, sizeof(name), mh->user);
			assert_int_equal(tr_ledger_find(l, mh->rid, name, &h),
			    0);
			mh->deadline = t + 1 + (int64_t)(lcg(seed) % 50);
			mh->expiring = false;
			assert_int_equal(tr_ledger_hold_reschedule(l, h,
			                     mh->deadline),
			    0);
			md->rescheduled++;
		} else {
			/* The answer was lost: still expiring. */
			md->lost++;
		}
	}
}

static void
random_operations_agree_with_model(void **state)
{
	/* Every hold stays findable, so that its final state is checked
	 * to the end (tombstones_are_bounded tests the bound). */
	tr_ledger_limits lim = {.tombstones_max = 1 << 20};
	tr_ledger *l = tr_ledger_new("n1", &lim);
	tr_event *ev =
	    add_event(l, "E", MODEL_TOTAL, MODEL_LIMIT, MODEL_HOLD_MS);
	struct model *md = calloc(1, sizeof(*md));
	uint64_t seed = 42, retries = 0, duplicates = 0, limits = 0;
	uint64_t paid_and_held = 0;
	int64_t now = 0;
	int events = 0;
	char name[16], req[8];
	(void)state;

	assert_non_null(md);
	model_reset(md);
	for (int step = 0; step < 100000; step++) {
		int u = (int)(lcg(&seed) % MODEL_USERS);
		int op = (int)(lcg(&seed) % 12);
		int64_t t;
		struct model_hold *mh;
		tr_hold *h = NULL;
		int rv, nheld = model_held_count(md, u);

		user_name(name, sizeof(name), u);
		now += (int64_t)(lcg(&seed) % 20);
		t = T0_MONO + now;
		if (op < 4) {
			/* Reserve, half of them with a request id the user
			 * may have used before; the coordinator records or
			 * refuses what the lease admits. */
			int rq = lcg(&seed) % 2
			    ? (int)(lcg(&seed) % MODEL_REQS)
			    : -1;
			req_name(req, sizeof(req), rq);
			rv = tr_ledger_reserve(l, ev, name, 1, req, t,
			    T0_WALL + now, &h);
			if ((mh = model_retry_of(md, u, rq)) != NULL) {
				/* A retry: the same hold, from memory. */
				assert_int_equal(rv, 0);
				assert_string_equal(h->rid, mh->rid);
				retries++;
			} else if (md->nlive[u] >= MODEL_LIMIT) {
				assert_int_equal(rv,
				    nheld > 0 ? TR_EDUPLICATE : TR_ELIMIT);
				if (nheld > 0) {
					/* It names one of the user's
					 * unpaid holds. */
					paid_and_held += nheld < md->nlive[u];
					mh = model_find(md, h->rid);
					assert_non_null(mh);
					assert_int_equal(mh->user, u);
					assert_int_equal(mh->state,
					    TR_HOLD_HELD);
					duplicates++;
				} else {
					limits++;
				}
			} else if (md->free == 0) {
				assert_int_equal(rv, TR_EEMPTY);
			} else {
				assert_int_equal(rv, TR_EPENDING);
				if (lcg(&seed) % 8 == 0) {
					tr_ledger_admit_end(ev, 1, true);
					goto check;
				}
				if (md->nholds == md->cap) {
					md->cap = md->cap ? 2 * md->cap : 1024;
					md->holds = realloc(md->holds,
					    md->cap * sizeof(*md->holds));
					assert_non_null(md->holds);
				}
				mh = &md->holds[md->nholds];
				assert_int_equal(tr_ledger_new_rid(l, ev,
				                     mh->rid),
				    0);
				tr_ledger_admit_end(ev, 1, false);
				mh->user = u;
				mh->req = rq;
				mh->deadline = t + MODEL_HOLD_MS;
				mh->state = TR_HOLD_HELD;
				mh->expiring = false;
				assert_int_equal(tr_ledger_hold_add(l, ev,
				                     mh->rid, name, 1, req,
				                     T0_WALL + now +
				                         MODEL_HOLD_MS,
				                     mh->deadline, &h),
				    0);
				md->live[u][md->nlive[u]++] = md->nholds++;
				md->free--;
				md->held++;
			}
		} else if (op < 6 && nheld > 0) {
			/* Confirmed (through any node) before its deadline;
			 * past it, the coordinator refuses. */
			int k = (int)(lcg(&seed) % (uint64_t)md->nlive[u]);
			mh = &md->holds[md->live[u][k]];
			if (mh->state == TR_HOLD_HELD && mh->deadline > t) {
				assert_int_equal(tr_ledger_find(l, mh->rid,
				                     name, &h),
				    0);
				tr_ledger_hold_confirmed(l, h, "", T0_WALL);
				mh->state = TR_HOLD_CONFIRMED;
				mh->expiring = false;
				md->held--;
				md->sold++;
			}
		} else if (op < 8 && nheld > 0) {
			/* Released: back to this node's lease; EXPIRED if
			 * its deadline passed first. */
			int k = (int)(lcg(&seed) % (uint64_t)md->nlive[u]);
			mh = &md->holds[md->live[u][k]];
			if (mh->state == TR_HOLD_HELD)
				model_end(md, l, ev, mh,
				    mh->deadline > t ? TR_HOLD_RELEASED
				                     : TR_HOLD_EXPIRED);
		} else if (op == 8 && md->free > 0) {
			/* Give some back; the coordinator takes them. */
			uint64_t n = 1 + lcg(&seed) % md->free;
			assert_int_equal(tr_ledger_give_back_begin(ev, n), 0);
			md->free -= n;
			md->giving += n;
			assert_ledger_agrees(l, ev, md);
			tr_ledger_give_back_end(ev, n, false);
			md->giving -= n;
			/* ...and a grant brings as many back. */
			assert_int_equal(tr_ledger_lease_grant(ev, n), 0);
			md->free += n;
		} else if (op > 8) {
			model_tick(md, l, ev, t, &seed);
		}
	check:
		assert_ledger_agrees(l, ev, md);
		if (md->nholds > 0)
			assert_hold_agrees(l,
			    &md->holds[lcg(&seed) % md->nholds]);
		if (step % 1000 == 0) {
			for (size_t i = 0; i < md->nholds; i++)
				assert_hold_agrees(l, &md->holds[i]);
			assert_ledger_ok(l);
		}
		if (md->sold == MODEL_TOTAL) {
			/* Sold out: start the next event so that all 100,000
			 * steps exercise contention. */
			char id[32];
			for (size_t i = 0; i < md->nholds; i++)
				assert_hold_agrees(l, &md->holds[i]);
			snprintf(id, sizeof(id), "E%d", ++events);
			ev = add_event(l, id, MODEL_TOTAL, MODEL_LIMIT,
			    MODEL_HOLD_MS);
			model_reset(md);
		}
	}
	print_message("%d events sold out; answered %" PRIu64
	              " retries, %" PRIu64 " duplicates (%" PRIu64
	              " to users who paid one), %" PRIu64 " limits; %" PRIu64
	              " holds not due yet, %" PRIu64 " answers lost\n",
	    events, retries, duplicates, paid_and_held, limits,
	    md->rescheduled, md->lost);
	/* Every path was taken, many times. */
	assert_true(events > 10);
	assert_true(retries > 100 && duplicates > 100 && limits > 100);
	assert_true(paid_and_held > 100);
	assert_true(md->rescheduled > 100 && md->lost > 100);
	assert_ledger_ok(l);
	free(md->holds);
	free(md);
	tr_ledger_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sells_exactly_total_then_sold_out),
	    cmocka_unit_test(rejected_reserve_stores_nothing),
	    cmocka_unit_test(
	        admitted_tickets_leave_the_lease_until_the_coordinator_answers),
	    cmocka_unit_test(
	        retried_reserve_with_same_request_id_is_answered_from_the_cache),
	    cmocka_unit_test(per_user_limit_answers_duplicate_then_limit),
	    cmocka_unit_test(
	        due_holds_leave_the_heap_in_deadline_order_until_settled),
	    cmocka_unit_test(
	        final_states_are_kept_and_a_stale_answer_changes_nothing),
	    cmocka_unit_test(fence_empties_the_lease_and_keeps_the_holds),
	    cmocka_unit_test(lease_adopts_the_coordinators_figure_both_ways),
	    cmocka_unit_test(only_free_tickets_are_given_back),
	    cmocka_unit_test(not_open_before_opens_at_and_draining_refuses),
	    cmocka_unit_test(tombstones_are_bounded),
	    cmocka_unit_test(reservation_ids_name_this_node_and_the_event),
	    cmocka_unit_test(bad_event_conf_is_refused),
	    cmocka_unit_test(random_operations_agree_with_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
