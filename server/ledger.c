/* ledger: events, leases, holds, expiry and tombstones of one stock node. */
#include "ledger.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_err.h"
#include "tr_map.h"

#define CONFIRMS_IN_FLIGHT_MAX 8
/* How long to wait before asking the coordinator again about a hold whose
 * confirm outcome is unknown. */
#define RESOLVE_RETRY_MS 1000

/* A user's live (HELD or CONFIRMED) holds for one event. At most
 * limit_per_user of them, so lists stay short. */
struct tr_buyer {
	char user_id[TR_USER_ID_MAX + 1];
	tr_hold *holds;
	uint32_t active_qty;
};

struct tr_ledger {
	char node_id[TR_NODE_ID_MAX + 1];
	tr_map *events; /* id -> tr_event */
	tr_map *holds;  /* rid -> tr_hold, live and tombstones */
	tr_heap expiry; /* HELD holds by deadline */
	size_t active_holds;
	tr_hold *tomb_head, *tomb_tail; /* oldest first */
	size_t tomb_count;
	tr_ledger_limits lim;
	uint64_t (*rand)(void *);
	void *rand_arg;
};

#define HOLD_OF(node) \
	((tr_hold *)((char *)(node) - offsetof(tr_hold, expiry)))

static uint64_t
default_rand(void *arg)
{
	(void)arg;
	return tr_random_u64();
}

tr_ledger *
tr_ledger_new(const char *node_id, const tr_ledger_limits *lim)
{
	tr_ledger *l;

	if (!tr_node_id_valid(node_id))
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	strcpy(l->node_id, node_id);
	l->lim.tombstones_max = 65536;
	l->lim.events_max = 1024;
	if (lim != NULL) {
		if (lim->tombstones_max)
			l->lim.tombstones_max = lim->tombstones_max;
		if (lim->events_max)
			l->lim.events_max = lim->events_max;
	}
	l->rand = default_rand;
	if ((l->events = tr_map_new()) == NULL ||
	    (l->holds = tr_map_new()) == NULL)
		goto fail;
	tr_heap_init(&l->expiry);
	return l;
fail:
	tr_map_free(l->events);
	tr_map_free(l->holds);
	free(l);
	return NULL;
}

static void
free_hold_cb(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

static void
free_buyer_cb(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	free(value);
}

static void
free_event_cb(const char *key, void *value, void *arg)
{
	tr_event *ev = value;
	(void)key;
	(void)arg;
	tr_map_each(ev->buyers, free_buyer_cb, NULL);
	tr_map_free(ev->buyers);
	free(ev);
}

void
tr_ledger_free(tr_ledger *l)
{
	if (l == NULL)
		return;
	tr_map_each(l->holds, free_hold_cb, NULL);
	tr_map_free(l->holds);
	tr_map_each(l->events, free_event_cb, NULL);
	tr_map_free(l->events);
	tr_heap_fini(&l->expiry);
	free(l);
}

void
tr_ledger_set_rand(tr_ledger *l, uint64_t (*rand)(void *), void *arg)
{
	l->rand = rand;
	l->rand_arg = arg;
}

int
tr_event_conf_check(const tr_event_conf *c, const char **why)
{
	if (!tr_event_id_valid(c->id))
		*why = "event_id must be 1-64 chars of [A-Za-z0-9._:-]";
	else if (c->total < 1 || c->total > TR_TOTAL_MAX)
		*why = "total must be 1..100000000";
	else if (c->limit_per_user < 1 ||
	    c->limit_per_user > TR_LIMIT_PER_USER_MAX)
		*why = "limit_per_user must be 1..100";
	else if (c->hold_ms < 1 || c->hold_ms > TR_HOLD_MS_MAX)
		*why = "hold must be 1ms..24h";
	else if (c->opens_at_ms < 0)
		*why = "opens_at must not be negative";
	else
		return 0;
	return TR_EINVALID;
}

int
tr_ledger_event_add(tr_ledger *l, const tr_event_conf *conf, tr_event **out)
{
	tr_event *ev;
	const char *why;

	if (tr_event_conf_check(conf, &why) != 0)
		return TR_EINVALID;
	if ((ev = tr_map_get(l->events, conf->id)) != NULL) {
		*out = ev;
		return memcmp(&ev->conf, conf, sizeof(*conf)) == 0 ?
		    0 : TR_EDUPLICATE;
	}
	if (tr_map_count(l->events) >= l->lim.events_max)
		return TR_EOVERLOADED;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return TR_ENOMEM;
	memcpy(&ev->conf, conf, sizeof(*conf));
	if ((ev->buyers = tr_map_new()) == NULL)
		goto fail;
	if (tr_map_put(l->events, ev->conf.id, ev) != 0) {
		tr_map_free(ev->buyers);
		goto fail;
	}
	*out = ev;
	return 0;
fail:
	free(ev);
	return TR_ENOMEM;
}

tr_event *
tr_ledger_event_get(const tr_ledger *l, const char *event_id)
{
	return tr_map_get(l->events, event_id);
}

struct each_event_arg {
	void (*fn)(tr_event *, void *);
	void *arg;
};

static void
each_event_cb(const char *key, void *value, void *arg)
{
	struct each_event_arg *a = arg;
	(void)key;
	a->fn(value, a->arg);
}

void
tr_ledger_each_event(const tr_ledger *l, void (*fn)(tr_event *, void *),
    void *arg)
{
	struct each_event_arg a = {fn, arg};
	tr_map_each(l->events, each_event_cb, &a);
}

size_t
tr_ledger_event_count(const tr_ledger *l)
{
	return tr_map_count(l->events);
}

uint64_t
tr_event_available(const tr_event *ev)
{
	assert(ev->held <= ev->lease);
	return ev->lease - ev->held;
}

int
tr_ledger_lease_grant(tr_event *ev, uint64_t n)
{
	if (n > TR_TOTAL_MAX || ev->lease > TR_TOTAL_MAX - n)
		return TR_EINVALID;
	ev->lease += n;
	return 0;
}

int
tr_ledger_lease_return(tr_event *ev, uint64_t n)
{
	if (n > tr_event_available(ev))
		return TR_EINVALID;
	ev->lease -= n;
	return 0;
}

/* ---- buyers ------------------------------------------------------------ */

static tr_buyer *
buyer_get_or_add(tr_event *ev, const char *user_id)
{
	tr_buyer *b = tr_map_get(ev->buyers, user_id);
	if (b != NULL)
		return b;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	strcpy(b->user_id, user_id);
	if (tr_map_put(ev->buyers, b->user_id, b) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

static void
buyer_link(tr_buyer *b, tr_hold *h)
{
	h->buyer = b;
	h->buyer_next = b->holds;
	b->holds = h;
	b->active_qty += h->qty;
}

/* Take an ended hold off its buyer's list; free the buyer when it has no
 * live holds left, so memory follows live holds only. */
static void
buyer_unlink(tr_event *ev, tr_hold *h)
{
	tr_buyer *b = h->buyer;
	if (b == NULL)
		return;
	for (tr_hold **p = &b->holds; *p != NULL; p = &(*p)->buyer_next) {
		if (*p == h) {
			*p = h->buyer_next;
			break;
		}
	}
	assert(b->active_qty >= h->qty);
	b->active_qty -= h->qty;
	h->buyer = NULL;
	h->buyer_next = NULL;
	if (b->holds == NULL) {
		tr_map_del(ev->buyers, b->user_id);
		free(b);
	}
}

/* ---- tombstones -------------------------------------------------------- */

static void
tomb_unlink(tr_ledger *l, tr_hold *h)
{
	if (h->tomb_prev)
		h->tomb_prev->tomb_next = h->tomb_next;
	else if (l->tomb_head == h)
		l->tomb_head = h->tomb_next;
	else
		return; /* not in the FIFO */
	if (h->tomb_next)
		h->tomb_next->tomb_prev = h->tomb_prev;
	else
		l->tomb_tail = h->tomb_prev;
	h->tomb_prev = h->tomb_next = NULL;
	l->tomb_count--;
}

static void
tomb_push(tr_ledger *l, tr_hold *h)
{
	h->tomb_prev = l->tomb_tail;
	h->tomb_next = NULL;
	if (l->tomb_tail)
		l->tomb_tail->tomb_next = h;
	else
		l->tomb_head = h;
	l->tomb_tail = h;
	l->tomb_count++;
	while (l->tomb_count > l->lim.tombstones_max) {
		tr_hold *old = l->tomb_head;
		tomb_unlink(l, old);
		tr_map_del(l->holds, old->rid);
		free(old);
	}
}

/* ---- hold life --------------------------------------------------------- */

/* HELD -> RELEASED | EXPIRED: the ticket goes back to the lease. */
static void
hold_end(tr_ledger *l, tr_hold *h, enum tr_hold_state state)
{
	tr_event *ev = h->event;

	assert(h->state == TR_HOLD_HELD);
	assert(ev->held >= h->qty);
	ev->held -= h->qty;
	tr_heap_remove(&l->expiry, &h->expiry);
	buyer_unlink(ev, h);
	h->state = state;
	h->confirm_unknown = false;
	l->active_holds--;
	if (state == TR_HOLD_EXPIRED)
		ev->expired_count++;
	tomb_push(l, h);
}

int
tr_ledger_reserve(tr_ledger *l, tr_event *ev, const char *user_id,
    uint32_t qty, const char *request_id, int64_t now_mono_ms,
    int64_t now_wall_ms, tr_hold **out)
{
	tr_buyer *b;
	tr_hold *h;

	if (qty == 0)
		qty = 1;
	if (qty > ev->conf.limit_per_user)
		return TR_ELIMIT;
	if (ev->conf.opens_at_ms != 0 && now_wall_ms < ev->conf.opens_at_ms)
		return TR_ENOT_OPEN;
	if (ev->draining)
		return TR_EUNAVAILABLE;
	if (request_id == NULL)
		request_id = "";

	if ((b = tr_map_get(ev->buyers, user_id)) != NULL) {
		if (request_id[0] != '\0') {
			for (h = b->holds; h != NULL; h = h->buyer_next) {
				if (strcmp(h->request_id, request_id) == 0) {
					*out = h;
					return 0;
				}
			}
		}
		if (b->active_qty + qty > ev->conf.limit_per_user) {
			for (h = b->holds; h != NULL; h = h->buyer_next) {
				if (h->state == TR_HOLD_HELD) {
					*out = h;
					return TR_EDUPLICATE;
				}
			}
			return TR_ELIMIT;
		}
	}
	if (tr_event_available(ev) < qty)
		return TR_EEMPTY;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return TR_ENOMEM;
	for (int tries = 0;; tries++) {
		tr_rid_format(h->rid, l->node_id, l->rand(l->rand_arg));
		if (tr_map_get(l->holds, h->rid) == NULL)
			break;
		if (tries == 4) {
			free(h);
			return TR_EINTERNAL; /* the random source is broken */
		}
	}
	strcpy(h->user_id, user_id);
	strcpy(h->request_id, request_id);
	h->event = ev;
	h->qty = qty;
	h->state = TR_HOLD_HELD;
	h->expires_mono_ms = now_mono_ms + (int64_t)ev->conf.hold_ms;
	h->expires_wall_ms = now_wall_ms + (int64_t)ev->conf.hold_ms;
	tr_heap_node_init(&h->expiry);
	h->expiry.deadline = h->expires_mono_ms;

	if (b == NULL && (b = buyer_get_or_add(ev, user_id)) == NULL)
		goto fail;
	if (tr_map_put(l->holds, h->rid, h) != 0)
		goto fail_buyer;
	if (tr_heap_push(&l->expiry, &h->expiry) != 0) {
		tr_map_del(l->holds, h->rid);
		goto fail_buyer;
	}
	buyer_link(b, h);
	ev->held += qty;
	ev->reserved_count++;
	ev->last_reserve_mono_ms = now_mono_ms;
	l->active_holds++;
	*out = h;
	return 0;

fail_buyer:
	if (b->holds == NULL) {
		tr_map_del(ev->buyers, b->user_id);
		free(b);
	}
fail:
	free(h);
	return TR_ENOMEM;
}

int
tr_ledger_find(const tr_ledger *l, const char *rid, const char *user_id,
    tr_hold **out)
{
	tr_hold *h = tr_map_get(l->holds, rid);
	if (h == NULL)
		return TR_ENOT_FOUND;
	if (strcmp(h->user_id, user_id) != 0)
		return TR_ENOT_OWNER;
	*out = h;
	return 0;
}

tr_hold *
tr_ledger_hold_get(const tr_ledger *l, const char *rid)
{
	return tr_map_get(l->holds, rid);
}

int
tr_ledger_confirm_begin(tr_ledger *l, const char *rid, const char *user_id,
    int64_t now_mono_ms, tr_hold **out)
{
	tr_hold *h;
	int rv;

	if ((rv = tr_ledger_find(l, rid, user_id, &h)) != 0)
		return rv;
	*out = h;
	switch (h->state) {
	case TR_HOLD_CONFIRMED:
		return 0;
	case TR_HOLD_RELEASED:
		return TR_ECONFLICT;
	case TR_HOLD_EXPIRED:
		return TR_EEXPIRED;
	case TR_HOLD_HELD:
		break;
	}
	/* Past its deadline but not yet swept: it is expired, unless a confirm
	 * is in flight or its outcome is unknown (the order may exist). */
	if (now_mono_ms >= h->expires_mono_ms && h->confirming == 0 &&
	    !h->confirm_unknown) {
		hold_end(l, h, TR_HOLD_EXPIRED);
		return TR_EEXPIRED;
	}
	if (h->confirming >= CONFIRMS_IN_FLIGHT_MAX)
		return TR_EOVERLOADED;
	h->confirming++;
	return TR_EPENDING;
}

void
tr_ledger_confirm_end(tr_ledger *l, tr_hold *h, int outcome,
    const char *payment_ref, int64_t confirmed_wall_ms, int64_t now_mono_ms)
{
	tr_event *ev = h->event;

	if (h->confirming > 0)
		h->confirming--;
	if (h->state == TR_HOLD_CONFIRMED)
		return; /* an earlier answer already settled it */

	if (outcome == 0) {
		if (h->state == TR_HOLD_HELD) {
			assert(ev->held >= h->qty && ev->lease >= h->qty);
			ev->held -= h->qty;
			ev->lease -= h->qty;
			tr_heap_remove(&l->expiry, &h->expiry);
			l->active_holds--;
		} else {
			/* Ended by a fence reset while the confirm was in
			 * flight, yet the order exists: it is sold. The lease
			 * was already zeroed by the reset. */
			tomb_unlink(l, h);
			tr_buyer *b = buyer_get_or_add(ev, h->user_id);
			if (b != NULL)
				buyer_link(b, h);
		}
		h->state = TR_HOLD_CONFIRMED;
		h->confirm_unknown = false;
		ev->sold_here += h->qty;
		h->confirmed_wall_ms = confirmed_wall_ms;
		snprintf(h->payment_ref, sizeof(h->payment_ref), "%s",
		    payment_ref ? payment_ref : "");
		return;
	}
	if (h->state != TR_HOLD_HELD)
		return;
	switch (outcome) {
	case TR_ELIMIT:
		hold_end(l, h, TR_HOLD_RELEASED);
		return;
	case TR_EEXPIRED:
		hold_end(l, h, TR_HOLD_EXPIRED);
		return;
	case TR_ETIMEDOUT:
	case TR_EIO:
		/* Sent but unanswered: the script may have run, so the order
		 * may exist. (TR_EUNAVAILABLE means never sent: definite.) */
		h->confirm_unknown = true;
		break;
	default:
		/* A definite refusal (fenced, unknown event, broken
		 * invariant): no order was written; the hold stays. */
		break;
	}
	if (h->confirming == 0 && h->expiry.index == SIZE_MAX) {
		h->expiry.deadline = h->confirm_unknown ?
		    now_mono_ms + RESOLVE_RETRY_MS : h->expires_mono_ms;
		if (h->expiry.deadline < h->expires_mono_ms)
			h->expiry.deadline = h->expires_mono_ms;
		/* On ENOMEM the hold stays HELD without a deadline; the
		 * node's periodic sweep of unknown holds is not needed for
		 * correctness, only for returning the ticket. */
		(void)tr_heap_push(&l->expiry, &h->expiry);
	}
}

int
tr_ledger_release(tr_ledger *l, const char *rid, const char *user_id,
    tr_hold **out)
{
	tr_hold *h;
	int rv;

	if ((rv = tr_ledger_find(l, rid, user_id, &h)) != 0)
		return rv;
	*out = h;
	switch (h->state) {
	case TR_HOLD_RELEASED:
	case TR_HOLD_EXPIRED:
		return 0;
	case TR_HOLD_CONFIRMED:
		return TR_ECONFLICT;
	case TR_HOLD_HELD:
		break;
	}
	if (h->confirming > 0 || h->confirm_unknown)
		return TR_ECONFLICT;
	hold_end(l, h, TR_HOLD_RELEASED);
	return 0;
}

struct held_of_event {
	const tr_event *ev;
	tr_hold **v;
	size_t n, cap;
	bool nomem;
};

static void
collect_held_cb(const char *key, void *value, void *arg)
{
	struct held_of_event *c = arg;
	tr_hold *h = value;
	(void)key;
	if (h->event != c->ev || h->state != TR_HOLD_HELD)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		tr_hold **v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL) {
			c->nomem = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = h;
}

void
tr_ledger_event_reset(tr_ledger *l, tr_event *ev, uint64_t new_epoch)
{
	struct held_of_event c = {ev, NULL, 0, 0, false};

	/* Collect first: ending a hold changes the maps being walked. A
	 * fence is rare, so walking every hold is fine. */
	tr_map_each(l->holds, collect_held_cb, &c);
	for (size_t i = 0; i < c.n; i++)
		hold_end(l, c.v[i], TR_HOLD_EXPIRED);
	free(c.v);
	if (c.nomem) {
		/* Could not list them all: end the rest one by one. */
		tr_hold *h;
		do {
			struct held_of_event one = {ev, NULL, 0, 0, false};
			tr_map_each(l->holds, collect_held_cb, &one);
			h = one.n ? one.v[0] : NULL;
			free(one.v);
			if (h != NULL)
				hold_end(l, h, TR_HOLD_EXPIRED);
		} while (h != NULL);
	}
	ev->epoch = new_epoch;
	ev->lease = 0;
	ev->held = 0;
}

size_t
tr_ledger_expire_due(tr_ledger *l, int64_t now_mono_ms, size_t max,
    void (*resolve)(tr_hold *, void *), void *arg)
{
	size_t expired = 0;
	tr_heap_node *node;

	while (expired < max && (node = tr_heap_peek(&l->expiry)) != NULL &&
	    node->deadline <= now_mono_ms) {
		tr_hold *h = HOLD_OF(node);
		if (h->confirming > 0) {
			/* Settled by confirm_end, which puts it back. */
			tr_heap_remove(&l->expiry, node);
		} else if (h->confirm_unknown) {
			tr_heap_remove(&l->expiry, node);
			h->confirming++;
			resolve(h, arg);
		} else {
			hold_end(l, h, TR_HOLD_EXPIRED);
			expired++;
		}
	}
	return expired;
}

int64_t
tr_ledger_next_deadline(const tr_ledger *l)
{
	tr_heap_node *node = tr_heap_peek(&l->expiry);
	return node ? node->deadline : INT64_MAX;
}

size_t
tr_ledger_active_holds(const tr_ledger *l)
{
	return l->active_holds;
}

struct check_arg {
	const tr_event *ev; /* NULL: check holds of every event */
	const char *why;
	size_t active;
	uint64_t held_qty;
};

static void
check_hold_cb(const char *key, void *value, void *arg)
{
	struct check_arg *c = arg;
	tr_hold *h = value;
	(void)key;
	if (c->ev != NULL) {
		if (h->event == c->ev && h->state == TR_HOLD_HELD)
			c->held_qty += h->qty;
		return;
	}
	if (h->state == TR_HOLD_HELD)
		c->active++;
	if ((h->state == TR_HOLD_HELD || h->state == TR_HOLD_CONFIRMED) &&
	    h->buyer == NULL)
		c->why = "a live hold has no buyer";
	if (h->state == TR_HOLD_HELD && h->confirming == 0 &&
	    h->expiry.index == SIZE_MAX)
		c->why = "a HELD hold has no deadline";
}

struct check_events_arg {
	const tr_ledger *l;
	const char *why;
};

static void
check_event_cb(tr_event *ev, void *arg)
{
	struct check_events_arg *ce = arg;
	struct check_arg c = {ev, NULL, 0, 0};
	if (ev->held > ev->lease)
		ce->why = "held exceeds lease";
	tr_map_each(ce->l->holds, check_hold_cb, &c);
	if (c.held_qty != ev->held)
		ce->why = "held differs from the sum of HELD holds";
}

int
tr_ledger_check(const tr_ledger *l, const char **why)
{
	struct check_arg c = {NULL, NULL, 0, 0};
	struct check_events_arg ce = {l, NULL};

	tr_map_each(l->holds, check_hold_cb, &c);
	tr_ledger_each_event(l, check_event_cb, &ce);
	if (c.active != l->active_holds)
		c.why = "active hold count is off";
	if (ce.why != NULL)
		c.why = ce.why;
	if (c.why != NULL) {
		*why = c.why;
		return TR_EINTERNAL;
	}
	return 0;
}
