/* test_ledger: the stock node's book (its lease and its cache of holds),
 * against every scenario that could oversell, undersell or leak a ticket.
 * The coordinator's part is played by the test: it records holds
 * (tr_ledger_hold_add), answers confirms and ends holds, as the node does
 * with the coordinator's answers. */
#include <setjmp.h>
#include <stdarg.h>
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
	    T0_WALL + t, &h), TR_EPENDING);
	assert_int_equal(tr_ledger_new_rid(l, ev, rid), 0);
	tr_ledger_admit_end(ev, 1, false);
	assert_int_equal(tr_ledger_hold_add(l, ev, rid, user, 1, req,
	    T0_WALL + t + (int64_t)ev->conf.hold_ms,
	    T0_MONO + t + (int64_t)ev->conf.hold_ms, &h), 0);
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
	    T0_WALL, &h), TR_EEMPTY);
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
		assert_int_equal(tr_ledger_reserve(l, ev, user, 1, "",
		    T0_MONO, T0_WALL, &h), TR_EEMPTY);
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

	assert_int_equal(tr_ledger_reserve(l, ev, "u", 2, "", T0_MONO,
	    T0_WALL, &h), TR_EPENDING);
	assert_int_equal(ev->lease, 1);
	assert_int_equal(ev->admitting, 2);
	/* Nobody else can take them meanwhile. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 2, "", T0_MONO,
	    T0_WALL, &h), TR_EEMPTY);
	/* Refused by the coordinator: back to the lease. */
	tr_ledger_admit_end(ev, 2, true);
	assert_int_equal(ev->lease, 3);
	assert_int_equal(ev->admitting, 0);
	/* Outcome unknown (timeout): not credited, the sync repairs it. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 1, "", T0_MONO,
	    T0_WALL, &h), TR_EPENDING);
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
	    T0_WALL, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(ev->held, 1);
	assert_int_equal(ev->admitting, 0);
	/* A different request id is a second ticket, within the limit. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-2", T0_MONO,
	    T0_WALL, &b), TR_EPENDING);
	/* Paid: the same request id still answers with it. */
	tr_ledger_hold_confirmed(l, a, "P", T0_WALL);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-1", T0_MONO,
	    T0_WALL, &b), 0);
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
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL, &again), TR_EDUPLICATE);
	assert_ptr_equal(again, h);
	assert_int_equal(ev->lease, 9);
	/* Paid: no more. */
	tr_ledger_hold_confirmed(l, h, "pay-1", T0_WALL + 1);
	assert_int_equal(h->state, TR_HOLD_CONFIRMED);
	assert_int_equal(ev->sold_here, 1);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL, &again), TR_ELIMIT);
	/* Asking for more than the limit at once is refused too. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 2, "", T0_MONO,
	    T0_WALL, &again), TR_ELIMIT);
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
	    collect_due, NULL), 0);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1300, 100,
	    collect_due, NULL), 2);
	assert_int_equal(ndue, 2);
	assert_ptr_equal(due[0], a);
	assert_ptr_equal(due[1], b);
	assert_true(a->expiring && b->expiring && !c->expiring);
	/* Being ended: not due again until settled. */
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1300, 100,
	    collect_due, NULL), 0);
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
	assert_int_equal(tr_ledger_find(l, "n1.0000000000000000.E", "u",
	    &out), TR_ENOT_FOUND);
	assert_int_equal(tr_ledger_find(l, paid->rid, "u", &out), 0);
	assert_ptr_equal(out, paid);
	/* A released hold frees its request id for a new intent. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "b", T0_MONO,
	    T0_WALL, &out), TR_EPENDING);
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
	assert_int_equal(tr_ledger_reserve(l, ev, "c", 1, "", T0_MONO,
	    T0_WALL, &out), TR_EPENDING);
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
	assert_int_equal(tr_ledger_reserve(l, ev, "a", 1, "", T0_MONO,
	    T0_WALL, &h), TR_EPENDING);
	assert_int_equal(tr_ledger_reserve(l, ev, "b", 1, "", T0_MONO,
	    T0_WALL, &h), TR_EPENDING);
	assert_int_equal(tr_ledger_reserve(l, ev, "c", 1, "", T0_MONO,
	    T0_WALL, &h), TR_EPENDING);
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
	tr_event_conf c = {.id = "later", .total = 5, .limit_per_user = 1,
	    .hold_ms = 1000, .opens_at_ms = T0_WALL + 60000};
	tr_event *ev, *same;
	tr_hold *h;
	(void)state;

	assert_int_equal(tr_ledger_event_add(l, &c, &ev), 0);
	assert_int_equal(tr_ledger_event_add(l, &c, &same), 0);
	assert_ptr_equal(ev, same);
	c.total = 6;
	assert_int_equal(tr_ledger_event_add(l, &c, &same), TR_EDUPLICATE);
	tr_ledger_lease_grant(ev, 5);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL, &h), TR_ENOT_OPEN);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL + 60000, &h), TR_EPENDING);
	tr_ledger_admit_end(ev, 1, true);
	ev->draining = true;
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 1, "", T0_MONO,
	    T0_WALL + 60000, &h), TR_EUNAVAILABLE);
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
	    T0_MONO, &h), 0);
	assert_int_equal(tr_ledger_hold_add(l, ev, rid, "v", 1, "", T0_WALL,
	    T0_MONO, &h), TR_EDUPLICATE);
	assert_string_equal(h->user_id, "u");
	assert_int_equal(ev->held, 1);
	tr_ledger_free(l);
}

static void
bad_event_conf_is_refused(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event_conf c = {.id = "bad id!", .total = 5, .limit_per_user = 1,
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

/* A model of the node's book, kept by the test from its own decisions:
 * every hold with its own deadline (the model expires holds by its own
 * clock, never by reading the ledger's state), what each user holds and
 * bought, and the tickets admitted, being given back, free and sold. The
 * ledger must agree with it after every step. */
#define MODEL_USERS 64
#define MODEL_TOTAL 40
#define MODEL_HOLD_MS 200
#define MODEL_LIMIT 2

struct model_hold {
	tr_hold *h;
	int64_t deadline;
};

struct model_user {
	struct model_hold holds[MODEL_LIMIT];
	int n;
	int bought;
};

struct model {
	struct model_user users[MODEL_USERS];
	uint64_t free, giving, sold, held, expired;
};

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static struct model *due_model;
static tr_ledger *due_ledger;
static size_t due_count;

/* The ledger says h is due: the model must agree, and it ends it (to the
 * lease, as the coordinator does for the hold's own node). */
static void
model_due(tr_hold *h, void *arg)
{
	int64_t now = *(int64_t *)arg;
	for (int u = 0; u < MODEL_USERS; u++) {
		struct model_user *m = &due_model->users[u];
		for (int k = 0; k < m->n; k++) {
			if (m->holds[k].h != h)
				continue;
			assert_true(m->holds[k].deadline <= now);
			m->holds[k] = m->holds[--m->n];
			due_model->held--;
			due_model->free++;
			due_model->expired++;
			due_count++;
			tr_ledger_hold_ended(due_ledger, h, TR_HOLD_EXPIRED);
			return;
		}
	}
	fail_msg("ledger called a hold due that the model does not hold");
}

static size_t
model_due_count(const struct model *md, int64_t now)
{
	size_t n = 0;
	for (int u = 0; u < MODEL_USERS; u++)
		for (int k = 0; k < md->users[u].n; k++)
			n += md->users[u].holds[k].deadline <= now;
	return n;
}

static void
random_operations_agree_with_model(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", MODEL_TOTAL, MODEL_LIMIT,
	    MODEL_HOLD_MS);
	struct model *md = calloc(1, sizeof(*md));
	uint64_t seed = 42;
	int64_t now = 0;
	int events = 0;
	char name[16];
	(void)state;

	md->free = MODEL_TOTAL;
	for (int step = 0; step < 100000; step++) {
		int u = (int)(lcg(&seed) % MODEL_USERS);
		struct model_user *m = &md->users[u];
		int op = (int)(lcg(&seed) % 12);
		int64_t t = T0_MONO + now;
		tr_hold *h = NULL;
		int rv;

		snprintf(name, sizeof(name), "user%d", u);
		now += (int64_t)(lcg(&seed) % 20);
		t = T0_MONO + now;
		if (op < 4) {
			/* Reserve; the coordinator records or refuses it. */
			rv = tr_ledger_reserve(l, ev, name, 1, "", t,
			    T0_WALL + now, &h);
			if (m->n + m->bought >= MODEL_LIMIT) {
				assert_int_equal(rv, m->n > 0 ?
				    TR_EDUPLICATE : TR_ELIMIT);
			} else if (md->free == 0) {
				assert_int_equal(rv, TR_EEMPTY);
			} else {
				char rid[TR_RID_MAX + 1];
				assert_int_equal(rv, TR_EPENDING);
				if (lcg(&seed) % 8 == 0) {
					tr_ledger_admit_end(ev, 1, true);
					continue;
				}
				assert_int_equal(tr_ledger_new_rid(l, ev, rid),
				    0);
				tr_ledger_admit_end(ev, 1, false);
				assert_int_equal(tr_ledger_hold_add(l, ev, rid,
				    name, 1, "", T0_WALL + now +
				    MODEL_HOLD_MS, t + MODEL_HOLD_MS, &h), 0);
				m->holds[m->n].h = h;
				m->holds[m->n++].deadline = t + MODEL_HOLD_MS;
				md->free--;
				md->held++;
			}
		} else if (op < 6 && m->n > 0) {
			/* Confirmed (through any node) before its deadline;
			 * past it, the coordinator would refuse. */
			int k = (int)(lcg(&seed) % (uint64_t)m->n);
			h = m->holds[k].h;
			if (m->holds[k].deadline > t) {
				tr_ledger_hold_confirmed(l, h, "", T0_WALL);
				m->holds[k] = m->holds[--m->n];
				m->bought++;
				md->held--;
				md->sold++;
			}
		} else if (op < 8 && m->n > 0) {
			/* Released: back to this node's lease. */
			int k = (int)(lcg(&seed) % (uint64_t)m->n);
			h = m->holds[k].h;
			tr_ledger_hold_ended(l, h, TR_HOLD_RELEASED);
			assert_int_equal(tr_ledger_lease_grant(ev, 1), 0);
			m->holds[k] = m->holds[--m->n];
			md->held--;
			md->free++;
		} else if (op == 8 && md->free > 0) {
			/* Give some back; the coordinator takes them. */
			uint64_t n = 1 + lcg(&seed) % md->free;
			assert_int_equal(tr_ledger_give_back_begin(ev, n), 0);
			md->free -= n;
			md->giving += n;
			tr_ledger_give_back_end(ev, n, false);
			md->giving -= n;
			/* ...and a grant brings as many back. */
			assert_int_equal(tr_ledger_lease_grant(ev, n), 0);
			md->free += n;
		} else {
			/* The ticker: exactly the holds the model finds due. */
			size_t want = model_due_count(md, t);
			due_model = md;
			due_ledger = l;
			due_count = 0;
			tr_ledger_expire_due(l, t, SIZE_MAX, model_due, &t);
			assert_int_equal(due_count, want);
			/* model_due ended them; the tickets go back. */
			assert_int_equal(tr_ledger_lease_grant(ev, want), 0);
		}
		assert_int_equal(ev->lease, md->free);
		assert_int_equal(ev->giving, md->giving);
		assert_int_equal(ev->held, md->held);
		assert_int_equal(ev->sold_here, md->sold);
		assert_int_equal(ev->admitting, 0);
		assert_int_equal(ev->lease + ev->giving + ev->held +
		    ev->sold_here, MODEL_TOTAL);
		if (step % 1000 == 0)
			assert_ledger_ok(l);
		if (md->sold == MODEL_TOTAL) {
			/* Sold out: start the next event so that all 100,000
			 * steps exercise contention. */
			char id[32];
			snprintf(id, sizeof(id), "E%d", ++events);
			ev = add_event(l, id, MODEL_TOTAL, MODEL_LIMIT,
			    MODEL_HOLD_MS);
			memset(md, 0, sizeof(*md));
			md->free = MODEL_TOTAL;
		}
	}
	assert_true(events > 10);
	assert_ledger_ok(l);
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
