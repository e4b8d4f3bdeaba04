/* chaos_check: checks a chaos run's history (see chaos_check.h). */
#include "chaos_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_err.h"
#include "tr_map.h"

const char *const chaos_violation_name[CHAOS_VIOLATION_COUNT] = {
    [CHAOS_ACKED_ORDER_MISSING] = "acked_order_missing",
    [CHAOS_PAID_WITH_OTHER_REF] = "paid_with_other_ref",
    [CHAOS_ORDER_OF_ANOTHER_USER] = "order_of_another_user",
    [CHAOS_ORDER_AFTER_RELEASE] = "order_after_release",
    [CHAOS_ACKED_HOLD_VANISHED] = "acked_hold_vanished",
    [CHAOS_REQUEST_ID_TWO_HOLDS] = "request_id_two_holds",
    [CHAOS_OVER_LIMIT] = "over_limit",
    [CHAOS_OVERSOLD] = "oversold",
    [CHAOS_AUDIT_FAILED] = "audit_failed",
    [CHAOS_UNDERSOLD] = "undersold",
    [CHAOS_CRASHED] = "crashed",
};

void
chaos_report_add(chaos_report *r, enum chaos_violation v, const char *fmt, ...)
{
	va_list ap;
	r->count[v]++;
	r->total++;
	if (r->nexamples == CHAOS_EXAMPLES_MAX)
		return;
	char *e = r->example[r->nexamples++];
	int n = snprintf(e, sizeof(r->example[0]),
	    "%s: ", chaos_violation_name[v]);
	va_start(ap, fmt);
	vsnprintf(e + n, sizeof(r->example[0]) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* What the history says about one reservation id. */
struct rid_info {
	char rid[TR_RID_MAX + 1];
	uint32_t user; /* who was given it */
	uint16_t event;
	bool given;      /* a reserve answered it (201 or duplicate) */
	bool ended_told; /* its owner was told released/expired */
	bool acked_201;
};

static struct rid_info *
info_of(tr_map *m, const char *rid, int *err)
{
	struct rid_info *ri = tr_map_get(m, rid);
	if (ri != NULL)
		return ri;
	if ((ri = calloc(1, sizeof(*ri))) == NULL) {
		*err = -1;
		return NULL;
	}
	snprintf(ri->rid, sizeof(ri->rid), "%s", rid);
	if (tr_map_put(m, ri->rid, ri) != 0) {
		free(ri);
		*err = -1;
		return NULL;
	}
	return ri;
}

static void
free_cb(const char *k, void *v, void *arg)
{
	(void)k;
	(void)arg;
	free(v);
}

static const chaos_order_fact *
order_of(const chaos_event_facts *ev, tr_map *orders, const char *rid)
{
	(void)ev;
	return tr_map_get(orders, rid);
}

/* (user, request_id) -> the rids it was answered with. */
struct req_info {
	char key[TR_USER_ID_MAX + 64];
	char rids[4][TR_RID_MAX + 1];
	int n;
};

int
chaos_check(const chaos_op *ops, size_t nops, const char *const *users,
    size_t nusers, const chaos_event_facts *events, size_t nevents,
    chaos_report *r)
{
	tr_map *rids = tr_map_new(), *reqs = tr_map_new();
	tr_map **orders = calloc(nevents ? nevents : 1, sizeof(*orders));
	tr_map **holds = calloc(nevents ? nevents : 1, sizeof(*holds));
	int err = 0;

	if (rids == NULL || reqs == NULL || orders == NULL || holds == NULL) {
		err = -1;
		goto out;
	}
	/* Index the facts. Keys point into the caller's arrays. */
	for (size_t e = 0; e < nevents; e++) {
		if ((orders[e] = tr_map_new()) == NULL ||
		    (holds[e] = tr_map_new()) == NULL) {
			err = -1;
			goto out;
		}
		for (size_t i = 0; i < events[e].norders; i++)
			if (tr_map_put(orders[e], events[e].orders[i].rid,
			        (void *)&events[e].orders[i]) == TR_ENOMEM)
				err = -1;
		for (size_t i = 0; i < events[e].nholds; i++)
			if (tr_map_put(holds[e], events[e].holds[i].rid,
			        (void *)&events[e].holds[i]) == TR_ENOMEM)
				err = -1;
	}
	r->ops += nops;

	/* Pass 1: what each reservation id was, by the history. */
	for (size_t i = 0; i < nops && err == 0; i++) {
		const chaos_op *op = &ops[i];
		struct rid_info *ri;
		if (op->rid[0] == '\0' || op->user >= nusers ||
		    op->event >= nevents)
			continue;
		if (op->kind == CHAOS_RESERVE &&
		    (op->status == 201 || op->status == 409)) {
			if ((ri = info_of(rids, op->rid, &err)) == NULL)
				break;
			ri->given = true;
			ri->user = op->user;
			ri->event = op->event;
			ri->acked_201 |= op->status == 201 &&
			    strcmp(op->state, "held") == 0;
		}
		if ((op->kind == CHAOS_RELEASE && op->status == 200 &&
		        (strcmp(op->state, "released") == 0 ||
		            strcmp(op->state, "expired") == 0)) ||
		    (op->kind == CHAOS_CONFIRM && op->status == 410)) {
			if ((ri = info_of(rids, op->rid, &err)) == NULL)
				break;
			ri->ended_told = true;
		}
	}

	/* Pass 2: the operations against the facts. */
	for (size_t i = 0; i < nops && err == 0; i++) {
		const chaos_op *op = &ops[i];
		const chaos_order_fact *o;
		if (op->event >= nevents || op->user >= nusers)
			continue;
		if (op->kind == CHAOS_CONFIRM && op->status == 200) {
			o = order_of(&events[op->event], orders[op->event],
			    op->rid);
			if (o == NULL || strcmp(o->user, users[op->user]) != 0)
				chaos_report_add(r, CHAOS_ACKED_ORDER_MISSING,
				    "confirm of %s by %s answered 200; Redis "
				    "has %s",
				    op->rid, users[op->user],
				    o ? o->user : "no order");
			if (strcmp(op->paid, op->key) != 0)
				chaos_report_add(r, CHAOS_PAID_WITH_OTHER_REF,
				    "confirm of %s with '%s' answered 200 "
				    "with payment_ref '%s'",
				    op->rid, op->key, op->paid);
		}
		if (op->kind == CHAOS_RESERVE && op->status == 201 &&
		    strcmp(op->state, "held") == 0 &&
		    order_of(&events[op->event], orders[op->event], op->rid) ==
		        NULL &&
		    tr_map_get(holds[op->event], op->rid) == NULL)
			chaos_report_add(r, CHAOS_ACKED_HOLD_VANISHED,
			    "reservation %s answered 201 to %s is neither an "
			    "order nor a hold record",
			    op->rid, users[op->user]);
		if (op->kind == CHAOS_RESERVE && op->status == 201 &&
		    op->key[0] != '\0') {
			char key[TR_USER_ID_MAX + 64];
			struct req_info *q;
			bool seen = false;
			snprintf(key, sizeof(key), "%u %u %s", op->event,
			    op->user, op->key);
			if ((q = tr_map_get(reqs, key)) == NULL) {
				if ((q = calloc(1, sizeof(*q))) == NULL) {
					err = -1;
					break;
				}
				snprintf(q->key, sizeof(q->key), "%s", key);
				if (tr_map_put(reqs, q->key, q) != 0) {
					free(q);
					err = -1;
					break;
				}
			}
			for (int k = 0; k < q->n; k++)
				seen |= strcmp(q->rids[k], op->rid) == 0;
			if (!seen && q->n < 4)
				snprintf(q->rids[q->n++], TR_RID_MAX + 1, "%s",
				    op->rid);
		}
	}

	/* One (user, request_id): at most one reservation that is live or
	 * paid (after one ended, the id may reserve anew). */
	for (size_t i = 0; i < nops && err == 0; i++) {
		const chaos_op *op = &ops[i];
		char key[TR_USER_ID_MAX + 64];
		struct req_info *q;
		int alive = 0;
		if (op->kind != CHAOS_RESERVE || op->status != 201 ||
		    op->key[0] == '\0' || op->event >= nevents)
			continue;
		snprintf(key, sizeof(key), "%u %u %s", op->event, op->user,
		    op->key);
		if ((q = tr_map_get(reqs, key)) == NULL || q->n < 2)
			continue;
		for (int k = 0; k < q->n; k++) {
			const chaos_hold_fact *h =
			    tr_map_get(holds[op->event], q->rids[k]);
			if (tr_map_get(orders[op->event], q->rids[k]) !=
			        NULL ||
			    (h != NULL && h->state == 'H'))
				alive++;
		}
		if (alive > 1)
			chaos_report_add(r, CHAOS_REQUEST_ID_TWO_HOLDS,
			    "request_id %s of %s made %d live or paid "
			    "reservations (%s, %s)",
			    op->key, users[op->user], alive, q->rids[0],
			    q->rids[1]);
		q->n = 0; /* report once */
	}

	/* Redis' own records: one (user, request_id) never has two holds
	 * alive at once (an order lives for ever). Holds are few per
	 * (user, request_id): a quadratic pass per event is fine. */
	for (size_t e = 0; e < nevents && err == 0; e++) {
		const chaos_event_facts *ev = &events[e];
		for (size_t i = 0; i < ev->nholds; i++) {
			const chaos_hold_fact *a = &ev->holds[i];
			int64_t a_end = a->ended_ms ? a->ended_ms : INT64_MAX;
			if (a->request_id[0] == '\0')
				continue;
			if (tr_map_get(orders[e], a->rid) != NULL)
				a_end = INT64_MAX;
			for (size_t k = i + 1; k < ev->nholds; k++) {
				const chaos_hold_fact *b = &ev->holds[k];
				int64_t b_end =
				    b->ended_ms ? b->ended_ms : INT64_MAX;
				if (strcmp(a->request_id, b->request_id) !=
				        0 ||
				    strcmp(a->user, b->user) != 0)
					continue;
				if (a->made_ms < b_end && b->made_ms < a_end)
					chaos_report_add(r,
					    CHAOS_REQUEST_ID_TWO_HOLDS,
					    "request_id %s of %s: holds %s "
					    "and %s "
					    "alive at once in Redis",
					    a->request_id, a->user, a->rid,
					    b->rid);
			}
			/* An order's hold was alive just before it was
			 * confirmed. A hold of the same request id that ended
			 * after that moment (or lives) was alive at the same
			 * time, or was made after the order existed (its
			 * retry should have been answered the order): a
			 * second ticket either way. One that ended before may
			 * be a new intent: not counted. */
			for (size_t k = 0; k < ev->norders; k++) {
				const chaos_order_fact *o = &ev->orders[k];
				if (strcmp(o->rid, a->rid) != 0 &&
				    strcmp(o->request_id, a->request_id) ==
				        0 &&
				    strcmp(o->user, a->user) == 0 &&
				    a_end > o->confirmed_ms)
					chaos_report_add(r,
					    CHAOS_REQUEST_ID_TWO_HOLDS,
					    "request_id %s of %s: hold %s "
					    "lived "
					    "when order %s was paid, or after",
					    a->request_id, a->user, a->rid,
					    o->rid);
			}
		}
	}

	/* The orders against the history and the limit. */
	for (size_t e = 0; e < nevents && err == 0; e++) {
		const chaos_event_facts *ev = &events[e];
		tr_map *per_user = tr_map_new();
		struct cnt {
			char user[TR_USER_ID_MAX + 1];
			uint64_t n;
		};
		if (per_user == NULL) {
			err = -1;
			break;
		}
		if (ev->sold > ev->total)
			chaos_report_add(r, CHAOS_OVERSOLD,
			    "event %zu: sold "
			    "%llu of %llu",
			    e, (unsigned long long)ev->sold,
			    (unsigned long long)ev->total);
		for (size_t i = 0; i < ev->norders; i++) {
			const chaos_order_fact *o = &ev->orders[i];
			struct rid_info *ri = tr_map_get(rids, o->rid);
			struct cnt *c;
			if (ri == NULL || !ri->given)
				chaos_report_add(r,
				    CHAOS_ORDER_OF_ANOTHER_USER,
				    "order %s of "
				    "%s: no reservation answered it",
				    o->rid, o->user);
			else if (ri->user >= nusers ||
			    strcmp(users[ri->user], o->user) != 0)
				chaos_report_add(r,
				    CHAOS_ORDER_OF_ANOTHER_USER,
				    "order %s is "
				    "%s's; it was given to %s",
				    o->rid, o->user, users[ri->user]);
			if (ri != NULL && ri->ended_told)
				chaos_report_add(r, CHAOS_ORDER_AFTER_RELEASE,
				    "order %s exists; its owner was told it "
				    "was released or expired",
				    o->rid);
			if ((c = tr_map_get(per_user, o->user)) == NULL) {
				if ((c = calloc(1, sizeof(*c))) == NULL) {
					err = -1;
					break;
				}
				snprintf(c->user, sizeof(c->user), "%s",
				    o->user);
				if (tr_map_put(per_user, c->user, c) != 0) {
					free(c);
					err = -1;
					break;
				}
			}
			if (++c->n == ev->limit + 1)
				chaos_report_add(r, CHAOS_OVER_LIMIT,
				    "%s has "
				    "more than %llu order(s) of event %zu",
				    o->user, (unsigned long long)ev->limit, e);
		}
		tr_map_each(per_user, free_cb, NULL);
		tr_map_free(per_user);
	}
out:
	if (rids) {
		tr_map_each(rids, free_cb, NULL);
		tr_map_free(rids);
	}
	if (reqs) {
		tr_map_each(reqs, free_cb, NULL);
		tr_map_free(reqs);
	}
	for (size_t e = 0; orders && holds && e < nevents; e++) {
		tr_map_free(orders[e]);
		tr_map_free(holds[e]);
	}
	free(orders);
	free(holds);
	return err;
}
