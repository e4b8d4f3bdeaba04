/* ledger: events, leases, holds, expiry and tombstones of one stock node. */
#include "ledger.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_err.h"
#include "tr_map.h"

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

#define HOLD_OF(node) ((tr_hold *)((char *)(node)-offsetof(tr_hold, expiry)))

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
	l->lim.events_max = 65536;
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
tr_ledger_event_add(tr_ledger *l, const tr_event_conf *conf, tr_event **out)
{
	tr_event *ev;
	const char *why;

	if (tr_event_conf_check(conf, &why) != 0)
		return TR_EINVALID;
	if ((ev = tr_map_get(l->events, conf->id)) != NULL) {
		*out = ev;
		return memcmp(&ev->conf, conf, sizeof(*conf)) == 0
		    ? 0
		    : TR_EDUPLICATE;
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
	return ev->lease;
}

int
tr_ledger_lease_grant(tr_event *ev, uint64_t n)
{
	if (n > TR_TOTAL_MAX || ev->lease > TR_TOTAL_MAX - n)
		return TR_EINVALID;
	ev->lease += n;
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

/* HELD -> RELEASED | EXPIRED: a tombstone now. */
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
	h->expiring = false;
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

	if (tr_ledger_find_request(ev, user_id, request_id, out) == 0)
		return 0;
	if ((b = tr_map_get(ev->buyers, user_id)) != NULL) {
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
	if (ev->lease < qty)
		return TR_EEMPTY;
	ev->lease -= qty;
	ev->admitting += qty;
	ev->reserved_count++;
	ev->last_reserve_mono_ms = now_mono_ms;
	return TR_EPENDING;
}

int
tr_ledger_find_request(const tr_event *ev, const char *user_id,
    const char *request_id, tr_hold **out)
{
	tr_buyer *b;

	if (request_id == NULL || request_id[0] == '\0' ||
	    (b = tr_map_get(ev->buyers, user_id)) == NULL)
		return TR_ENOT_FOUND;
	for (tr_hold *h = b->holds; h != NULL; h = h->buyer_next) {
		if (strcmp(h->request_id, request_id) == 0) {
			*out = h;
			return 0;
		}
	}
	return TR_ENOT_FOUND;
}

void
tr_ledger_event_total_set(tr_event *ev, uint64_t total)
{
	ev->conf.total = total;
}

void
tr_ledger_admit_end(tr_event *ev, uint32_t qty, bool back_to_lease)
{
	assert(ev->admitting >= qty);
	ev->admitting -= qty;
	if (back_to_lease)
		ev->lease += qty;
}

int
tr_ledger_new_rid(const tr_ledger *l, const tr_event *ev, char *out)
{
	for (int tries = 0; tries < 5; tries++) {
		tr_rid_format(out, l->node_id, l->rand(l->rand_arg),
		    ev->conf.id);
		if (tr_map_get(l->holds, out) == NULL)
			return 0;
	}
	return TR_EINTERNAL; /* the random source is broken */
}

int
tr_ledger_hold_add(tr_ledger *l, tr_event *ev, const char *rid,
    const char *user_id, uint32_t qty, const char *request_id,
    int64_t expires_wall_ms, int64_t expires_mono_ms, tr_hold **out)
{
	tr_buyer *b;
	tr_hold *h;

	if ((h = tr_map_get(l->holds, rid)) != NULL) {
		*out = h;
		return TR_EDUPLICATE;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return TR_ENOMEM;
	snprintf(h->rid, sizeof(h->rid), "%s", rid);
	snprintf(h->user_id, sizeof(h->user_id), "%s", user_id);
	snprintf(h->request_id, sizeof(h->request_id), "%s",
	    request_id ? request_id : "");
	h->event = ev;
	h->qty = qty;
	h->state = TR_HOLD_HELD;
	h->expires_mono_ms = expires_mono_ms;
	h->expires_wall_ms = expires_wall_ms;
	tr_heap_node_init(&h->expiry);
	h->expiry.deadline = expires_mono_ms;

	if ((b = buyer_get_or_add(ev, user_id)) == NULL)
		goto fail;
	if (tr_map_put(l->holds, h->rid, h) != 0)
		goto fail_buyer;
	if (tr_heap_push(&l->expiry, &h->expiry) != 0) {
		tr_map_del(l->holds, h->rid);
		goto fail_buyer;
	}
	buyer_link(b, h);
	ev->held += qty;
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

void
tr_ledger_hold_confirmed(tr_ledger *l, tr_hold *h, const char *payment_ref,
    int64_t confirmed_wall_ms)
{
	tr_event *ev = h->event;

	if (h->state != TR_HOLD_HELD)
		return;
	assert(ev->held >= h->qty);
	ev->held -= h->qty;
	ev->sold_here += h->qty;
	tr_heap_remove(&l->expiry, &h->expiry);
	l->active_holds--;
	h->state = TR_HOLD_CONFIRMED;
	h->expiring = false;
	h->confirmed_wall_ms = confirmed_wall_ms;
	snprintf(h->payment_ref, sizeof(h->payment_ref), "%s",
	    payment_ref ? payment_ref : "");
}

void
tr_ledger_hold_ended(tr_ledger *l, tr_hold *h, enum tr_hold_state state)
{
	assert(state == TR_HOLD_RELEASED || state == TR_HOLD_EXPIRED);
	if (h->state == TR_HOLD_HELD)
		hold_end(l, h, state);
}

size_t
tr_ledger_expire_due(tr_ledger *l, int64_t now_mono_ms, size_t max,
    void (*due)(tr_hold *, void *), void *arg)
{
	size_t n = 0;
	tr_heap_node *node;

	while (n < max && (node = tr_heap_peek(&l->expiry)) != NULL &&
	    node->deadline <= now_mono_ms) {
		tr_hold *h = HOLD_OF(node);
		tr_heap_remove(&l->expiry, node);
		h->expiring = true;
		n++;
		due(h, arg); /* may end h: it is not touched after */
	}
	return n;
}

int
tr_ledger_hold_reschedule(tr_ledger *l, tr_hold *h, int64_t deadline_mono_ms)
{
	if (h->state != TR_HOLD_HELD)
		return 0;
	h->expiring = false;
	tr_heap_remove(&l->expiry, &h->expiry);
	h->expiry.deadline = deadline_mono_ms;
	if (tr_heap_push(&l->expiry, &h->expiry) != 0) {
		h->expiring = true; /* no deadline; the coordinator's sweep
		                     * still ends it */
		return TR_ENOMEM;
	}
	return 0;
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

int
tr_ledger_give_back_begin(tr_event *ev, uint64_t n)
{
	if (n > ev->lease)
		return TR_EINVALID;
	ev->lease -= n;
	ev->giving += n;
	return 0;
}

void
tr_ledger_give_back_end(tr_event *ev, uint64_t n, bool back_to_lease)
{
	assert(ev->giving >= n);
	ev->giving -= n;
	if (back_to_lease)
		ev->lease += n;
}

int64_t
tr_ledger_lease_adopt(tr_event *ev, uint64_t coord_lease)
{
	uint64_t before = ev->lease, pending = ev->admitting + ev->giving;

	ev->lease = coord_lease > pending ? coord_lease - pending : 0;
	return (int64_t)ev->lease - (int64_t)before;
}

void
tr_ledger_event_fence(tr_event *ev, uint64_t new_epoch)
{
	ev->epoch = new_epoch;
	ev->lease = 0;
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
	if (h->state == TR_HOLD_HELD && !h->expiring &&
	    h->expiry.index == SIZE_MAX)
		c->why = "a HELD hold has no deadline";
	if (h->state != TR_HOLD_HELD && h->expiry.index != SIZE_MAX)
		c->why = "an ended hold is still in the expiry heap";
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
	tr_map_each(ce->l->holds, check_hold_cb, &c);
	if (c.held_qty != ev->held)
		ce->why = "held differs from the sum of HELD holds";
	if (ev->lease > TR_TOTAL_MAX || ev->admitting > TR_TOTAL_MAX ||
	    ev->giving > TR_TOTAL_MAX)
		ce->why = "a stock count is out of range";
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
