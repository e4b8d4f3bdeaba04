/* test_ledger: the stock node's book of holds, against every scenario that
 * could oversell, undersell or leak a ticket. */
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

static tr_hold *
reserve_ok(tr_ledger *l, tr_event *ev, const char *user, int64_t t)
{
	tr_hold *h = NULL;
	assert_int_equal(tr_ledger_reserve(l, ev, user, 1, "", T0_MONO + t,
	    T0_WALL + t, &h), 0);
	assert_non_null(h);
	return h;
}

static void
confirm_ok(tr_ledger *l, tr_hold *h, int64_t t)
{
	tr_hold *got = NULL;
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, h->user_id,
	    T0_MONO + t, &got), TR_EPENDING);
	assert_ptr_equal(got, h);
	tr_ledger_confirm_end(l, h, 0, "pay-1", T0_WALL + t, T0_MONO + t);
	assert_int_equal(h->state, TR_HOLD_CONFIRMED);
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
		reserve_ok(l, ev, user, 0);
	}
	assert_int_equal(tr_event_available(ev), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "late", 1, "", T0_MONO,
	    T0_WALL, &h), TR_EEMPTY);
	assert_int_equal(ev->held, 100);
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

	reserve_ok(l, ev, "first", 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "turned-away-%d", i);
		assert_int_equal(tr_ledger_reserve(l, ev, user, 1, "",
		    T0_MONO, T0_WALL, &h), TR_EEMPTY);
	}
	/* Only the one buyer with a hold is remembered. */
	assert_int_equal(tr_map_count(ev->buyers), 1);
	assert_int_equal(tr_ledger_active_holds(l), 1);
	tr_ledger_free(l);
}

static void
retried_reserve_with_same_request_id_returns_first_hold(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 10, 2, 60000);
	tr_hold *a = NULL, *b = NULL, *c = NULL;
	(void)state;

	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-1", T0_MONO,
	    T0_WALL, &a), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-1", T0_MONO,
	    T0_WALL, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(ev->held, 1);
	/* A different request id is a second ticket, within the limit. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "req-2", T0_MONO,
	    T0_WALL, &c), 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(ev->held, 2);
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

	h = reserve_ok(l, ev, "u", 0);
	/* Holding unpaid: the existing hold comes back, no new stock taken. */
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL, &again), TR_EDUPLICATE);
	assert_ptr_equal(again, h);
	assert_int_equal(ev->held, 1);
	/* Paid: no more. */
	confirm_ok(l, h, 1);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "", T0_MONO,
	    T0_WALL, &again), TR_ELIMIT);
	/* Asking for more than the limit at once is refused too. */
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 2, "", T0_MONO,
	    T0_WALL, &again), TR_ELIMIT);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
confirm_after_expiry_is_refused(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 1, 1, 500);
	tr_hold *h, *got;
	(void)state;

	h = reserve_ok(l, ev, "u", 0);
	/* Deadline passed, sweep not run yet: confirm itself expires it. */
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "u",
	    T0_MONO + 500, &got), TR_EEXPIRED);
	assert_int_equal(h->state, TR_HOLD_EXPIRED);
	assert_int_equal(tr_event_available(ev), 1);
	/* And stays refused. */
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "u",
	    T0_MONO + 600, &got), TR_EEXPIRED);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
expiry_sweep_returns_tickets_in_deadline_order(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 3, 1, 1000);
	tr_hold *a, *b, *c;
	(void)state;

	a = reserve_ok(l, ev, "a", 0);
	b = reserve_ok(l, ev, "b", 300);
	c = reserve_ok(l, ev, "c", 600);
	assert_int_equal(tr_ledger_next_deadline(l), T0_MONO + 1000);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 999, 100, NULL,
	    NULL), 0);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1300, 100, NULL,
	    NULL), 2);
	assert_int_equal(a->state, TR_HOLD_EXPIRED);
	assert_int_equal(b->state, TR_HOLD_EXPIRED);
	assert_int_equal(c->state, TR_HOLD_HELD);
	assert_int_equal(tr_event_available(ev), 2);
	assert_int_equal(ev->expired_count, 2);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
released_ticket_is_sold_again(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 1, 1, 60000);
	tr_hold *h, *out = NULL, *h2;
	(void)state;

	h = reserve_ok(l, ev, "first", 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "second", 1, "", T0_MONO,
	    T0_WALL, &out), TR_EEMPTY);
	assert_int_equal(tr_ledger_release(l, h->rid, "first", &out), 0);
	assert_int_equal(h->state, TR_HOLD_RELEASED);
	h2 = reserve_ok(l, ev, "second", 1);
	confirm_ok(l, h2, 2);
	assert_int_equal(ev->sold_here, 1);
	assert_int_equal(ev->lease, 0);
	/* Release twice is fine (idempotent); confirm of it is a conflict. */
	assert_int_equal(tr_ledger_release(l, h->rid, "first", &out), 0);
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "first", T0_MONO,
	    &out), TR_ECONFLICT);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
another_user_cannot_confirm_or_release(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 5, 1, 60000);
	tr_hold *h, *out = NULL;
	(void)state;

	h = reserve_ok(l, ev, "owner", 0);
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "thief", T0_MONO,
	    &out), TR_ENOT_OWNER);
	assert_int_equal(tr_ledger_release(l, h->rid, "thief", &out),
	    TR_ENOT_OWNER);
	assert_int_equal(h->state, TR_HOLD_HELD);
	assert_int_equal(tr_ledger_confirm_begin(l, "n1.0000000000000000",
	    "owner", T0_MONO, &out), TR_ENOT_FOUND);
	tr_ledger_free(l);
}

static void
illegal_transitions_are_refused(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 5, 5, 1000);
	tr_hold *held, *conf, *rel, *exp, *out = NULL;
	(void)state;

	held = NULL;
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "a", T0_MONO,
	    T0_WALL, &conf), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "b", T0_MONO,
	    T0_WALL, &rel), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "c", T0_MONO,
	    T0_WALL, &exp), 0);
	assert_int_equal(tr_ledger_reserve(l, ev, "u", 1, "d", T0_MONO + 900,
	    T0_WALL, &held), 0);
	confirm_ok(l, conf, 1);
	assert_int_equal(tr_ledger_release(l, rel->rid, "u", &out), 0);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 1000, 10, NULL,
	    NULL), 1);
	assert_int_equal(exp->state, TR_HOLD_EXPIRED);

	/* CONFIRMED: confirm again is OK (same order), release conflicts. */
	assert_int_equal(tr_ledger_confirm_begin(l, conf->rid, "u", T0_MONO,
	    &out), 0);
	assert_string_equal(out->payment_ref, "pay-1");
	assert_int_equal(tr_ledger_release(l, conf->rid, "u", &out),
	    TR_ECONFLICT);
	/* RELEASED: confirm conflicts. EXPIRED: confirm expired. */
	assert_int_equal(tr_ledger_confirm_begin(l, rel->rid, "u", T0_MONO,
	    &out), TR_ECONFLICT);
	assert_int_equal(tr_ledger_confirm_begin(l, exp->rid, "u", T0_MONO,
	    &out), TR_EEXPIRED);
	/* HELD with a confirm in flight: release conflicts, expiry waits. */
	assert_int_equal(tr_ledger_confirm_begin(l, held->rid, "u",
	    T0_MONO + 950, &out), TR_EPENDING);
	assert_int_equal(tr_ledger_release(l, held->rid, "u", &out),
	    TR_ECONFLICT);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 5000, 10, NULL,
	    NULL), 0);
	assert_int_equal(held->state, TR_HOLD_HELD);
	/* The coordinator refuses definitively: back to HELD with its
	 * deadline, which has passed, so the next sweep expires it. */
	tr_ledger_confirm_end(l, held, TR_EINTERNAL, NULL, 0, T0_MONO + 5000);
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 5000, 10, NULL,
	    NULL), 1);
	assert_int_equal(held->state, TR_HOLD_EXPIRED);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
limit_exceeded_at_coordinator_releases_the_hold(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 2, 1, 60000);
	tr_hold *h, *out;
	(void)state;

	h = reserve_ok(l, ev, "u", 0);
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "u", T0_MONO,
	    &out), TR_EPENDING);
	tr_ledger_confirm_end(l, h, TR_ELIMIT, NULL, 0, T0_MONO);
	assert_int_equal(h->state, TR_HOLD_RELEASED);
	assert_int_equal(tr_event_available(ev), 2);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static int resolve_calls;

static void
count_resolve(tr_hold *h, void *arg)
{
	(void)h;
	(void)arg;
	resolve_calls++;
}

static void
unknown_confirm_outcome_is_resolved_not_expired(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 1, 1, 1000);
	tr_hold *h, *out;
	(void)state;

	h = reserve_ok(l, ev, "u", 0);
	assert_int_equal(tr_ledger_confirm_begin(l, h->rid, "u", T0_MONO,
	    &out), TR_EPENDING);
	tr_ledger_confirm_end(l, h, TR_ETIMEDOUT, NULL, 0, T0_MONO);
	assert_true(h->confirm_unknown);
	/* The ticket may be sold: release must not hand it back. */
	assert_int_equal(tr_ledger_release(l, h->rid, "u", &out),
	    TR_ECONFLICT);
	resolve_calls = 0;
	assert_int_equal(tr_ledger_expire_due(l, T0_MONO + 2000, 10,
	    count_resolve, NULL), 0);
	assert_int_equal(resolve_calls, 1);
	assert_int_equal(h->state, TR_HOLD_HELD);
	assert_int_equal(tr_event_available(ev), 0);
	/* The coordinator says the order exists. */
	tr_ledger_confirm_end(l, h, 0, "p", T0_WALL, T0_MONO + 2000);
	assert_int_equal(h->state, TR_HOLD_CONFIRMED);
	assert_int_equal(ev->lease, 0);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

static void
fence_reset_ends_holds_and_zeroes_lease(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", 10, 1, 60000);
	tr_hold *a, *b, *out;
	(void)state;

	a = reserve_ok(l, ev, "a", 0);
	b = reserve_ok(l, ev, "b", 0);
	assert_int_equal(tr_ledger_confirm_begin(l, b->rid, "b", T0_MONO,
	    &out), TR_EPENDING);
	tr_ledger_event_reset(l, ev, 7);
	assert_int_equal(ev->epoch, 7);
	assert_int_equal(ev->lease, 0);
	assert_int_equal(a->state, TR_HOLD_EXPIRED);
	assert_int_equal(b->state, TR_HOLD_EXPIRED);
	/* The confirm sent before the fence succeeded after all: sold. */
	tr_ledger_confirm_end(l, b, 0, "p", T0_WALL, T0_MONO);
	assert_int_equal(b->state, TR_HOLD_CONFIRMED);
	assert_int_equal(ev->lease, 0);
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
	    T0_WALL + 60000, &h), 0);
	ev->draining = true;
	assert_int_equal(tr_ledger_reserve(l, ev, "v", 1, "", T0_MONO,
	    T0_WALL + 60000, &h), TR_EUNAVAILABLE);
	/* Only free tickets can be given back. */
	assert_int_equal(tr_ledger_lease_return(ev, 5), TR_EINVALID);
	assert_int_equal(tr_ledger_lease_return(ev, 4), 0);
	assert_int_equal(ev->lease, 1);
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
		h = reserve_ok(l, ev, "u", 0);
		if (i == 0)
			strcpy(first_rid, h->rid);
		assert_int_equal(tr_ledger_release(l, h->rid, "u", &out), 0);
	}
	assert_int_equal(tr_ledger_find(l, first_rid, "u", &out),
	    TR_ENOT_FOUND);
	assert_int_equal(tr_map_count(ev->buyers), 0);
	assert_ledger_ok(l);
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

/* A simple model: per user, which tickets are held or bought. The ledger
 * must agree with it after every step, and available + held + sold must
 * stay equal to the total. */
#define MODEL_USERS 64
#define MODEL_TOTAL 40

struct model_user {
	tr_hold *holds[4];
	int n;
	int bought;
};

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void
random_operations_agree_with_model(void **state)
{
	tr_ledger *l = tr_ledger_new("n1", NULL);
	tr_event *ev = add_event(l, "E", MODEL_TOTAL, 2, 200);
	struct model_user users[MODEL_USERS];
	uint64_t seed = 42;
	int64_t now = 0;
	int sold = 0, events = 0;
	char name[16];
	(void)state;

	memset(users, 0, sizeof(users));
	for (int step = 0; step < 100000; step++) {
		int u = (int)(lcg(&seed) % MODEL_USERS);
		struct model_user *m = &users[u];
		int op = (int)(lcg(&seed) % 10);
		tr_hold *h = NULL, *out = NULL;
		int rv;

		snprintf(name, sizeof(name), "user%d", u);
		now += (int64_t)(lcg(&seed) % 20);
		if (op < 4) {
			int live = m->n + m->bought;
			rv = tr_ledger_reserve(l, ev, name, 1, "", T0_MONO + now,
			    T0_WALL + now, &h);
			if (live >= 2) {
				assert_true(rv == TR_EDUPLICATE ||
				    rv == TR_ELIMIT);
				assert_int_equal(rv == TR_EDUPLICATE, m->n > 0);
			} else if (rv == 0) {
				m->holds[m->n++] = h;
			} else {
				assert_int_equal(rv, TR_EEMPTY);
				assert_true(tr_event_available(ev) == 0);
			}
		} else if (op < 6 && m->n > 0) {
			int k = (int)(lcg(&seed) % (uint64_t)m->n);
			h = m->holds[k];
			rv = tr_ledger_confirm_begin(l, h->rid, name,
			    T0_MONO + now, &out);
			if (rv == TR_EPENDING) {
				tr_ledger_confirm_end(l, h, 0, "", T0_WALL,
				    T0_MONO + now);
				m->bought++;
				sold++;
			} else {
				assert_int_equal(rv, TR_EEXPIRED);
			}
			m->holds[k] = m->holds[--m->n];
		} else if (op < 8 && m->n > 0) {
			int k = (int)(lcg(&seed) % (uint64_t)m->n);
			h = m->holds[k];
			assert_int_equal(tr_ledger_release(l, h->rid, name,
			    &out), 0);
			m->holds[k] = m->holds[--m->n];
		} else {
			tr_ledger_expire_due(l, T0_MONO + now, SIZE_MAX, NULL,
			    NULL);
			/* Model: drop every hold that is no longer HELD. */
			for (int i = 0; i < MODEL_USERS; i++) {
				struct model_user *x = &users[i];
				for (int k = 0; k < x->n;) {
					if (x->holds[k]->state != TR_HOLD_HELD)
						x->holds[k] = x->holds[--x->n];
					else
						k++;
				}
			}
		}
		/* Conservation: available + held + sold == total. */
		uint64_t model_held = 0;
		for (int i = 0; i < MODEL_USERS; i++)
			for (int k = 0; k < users[i].n; k++)
				if (users[i].holds[k]->state == TR_HOLD_HELD)
					model_held++;
		assert_int_equal(tr_event_available(ev) + ev->held +
		    ev->sold_here, MODEL_TOTAL);
		assert_int_equal(ev->sold_here, sold);
		assert_int_equal(ev->held, model_held);
		if (step % 1000 == 0)
			assert_ledger_ok(l);
		if (sold == MODEL_TOTAL) {
			/* Sold out: the sale is over; start the next event so
			 * that all 100,000 steps exercise contention. */
			char id[32];
			snprintf(id, sizeof(id), "E%d", ++events);
			ev = add_event(l, id, MODEL_TOTAL, 2, 200);
			memset(users, 0, sizeof(users));
			sold = 0;
		}
	}
	assert_true(events > 10);
	assert_ledger_ok(l);
	tr_ledger_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sells_exactly_total_then_sold_out),
	    cmocka_unit_test(rejected_reserve_stores_nothing),
	    cmocka_unit_test(
		retried_reserve_with_same_request_id_returns_first_hold),
	    cmocka_unit_test(per_user_limit_answers_duplicate_then_limit),
	    cmocka_unit_test(confirm_after_expiry_is_refused),
	    cmocka_unit_test(expiry_sweep_returns_tickets_in_deadline_order),
	    cmocka_unit_test(released_ticket_is_sold_again),
	    cmocka_unit_test(another_user_cannot_confirm_or_release),
	    cmocka_unit_test(illegal_transitions_are_refused),
	    cmocka_unit_test(limit_exceeded_at_coordinator_releases_the_hold),
	    cmocka_unit_test(unknown_confirm_outcome_is_resolved_not_expired),
	    cmocka_unit_test(fence_reset_ends_holds_and_zeroes_lease),
	    cmocka_unit_test(not_open_before_opens_at_and_draining_refuses),
	    cmocka_unit_test(tombstones_are_bounded),
	    cmocka_unit_test(bad_event_conf_is_refused),
	    cmocka_unit_test(random_operations_agree_with_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
