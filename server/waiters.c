/* waiters: reservations that wait for stock. When a node's lease is empty
 * and the pool may still have tickets, a reservation waits (in arrival
 * order, bounded per event by --waiters-max, each for --wait-timeout) for
 * the grant that is in flight; the grant's answer serves them. */
#include <stdlib.h>

#include "node_impl.h"
#include "tr_clock.h"
#include "tr_err.h"

int
waiter_push(tr_node *n, struct ev_state *es, struct slot *s,
    const Ticketrush__Reserve *r, int64_t now)
{
	struct waiter *w;

	if (es->count == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		struct waiter *ring;
		if (es->cap >= n->conf.waiters_max)
			return TR_EOVERLOADED;
		if (cap > n->conf.waiters_max)
			cap = n->conf.waiters_max;
		if ((ring = malloc(cap * sizeof(*ring))) == NULL)
			return TR_ENOMEM;
		for (size_t i = 0; i < es->count; i++)
			ring[i] = es->ring[(es->head + i) % es->cap];
		free(es->ring);
		es->ring = ring;
		es->cap = cap;
		es->head = 0;
	}
	w = &es->ring[(es->head + es->count) % es->cap];
	w->slot = s;
	w->user = r->user_id;
	w->request_id = r->request_id;
	w->qty = r->qty ? r->qty : 1;
	w->deadline_mono_ms = now + n->conf.wait_timeout_ms;
	es->count++;
	return 0;
}

struct waiter *
waiter_front(struct ev_state *es)
{
	return es->count ? &es->ring[es->head] : NULL;
}

void
waiter_pop(struct ev_state *es)
{
	es->head = (es->head + 1) % es->cap;
	es->count--;
}

void
waiters_fail(tr_node *n, tr_event *ev, int err, const char *detail,
    struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	struct waiter *w;
	while ((w = waiter_front(es)) != NULL) {
		answer(w->slot, err, "%s", detail);
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(f, w->slot);
		waiter_pop(es);
	}
}

void
waiters_serve(tr_node *n, tr_event *ev, struct finish_list *f)
{
	struct ev_state *es = evs_of(ev);
	int64_t now = tr_mono_ms(), wall = tr_wall_ms();
	struct waiter *w;

	while ((w = waiter_front(es)) != NULL) {
		tr_hold *h = NULL;
		int rv = tr_ledger_reserve(n->ledger, ev, w->user, w->qty,
		    w->request_id, now, wall, &h);
		if (rv == TR_EEMPTY) {
			if (!es->pool_empty) {
				if (want_grant(n, ev) == 0)
					return; /* wait for the next grant */
				waiters_fail(n, ev, TR_EUNAVAILABLE,
				    "coordinator unavailable", f);
				return;
			}
			rv = TR_ESOLD_OUT;
		}
		if (rv == TR_EPENDING) {
			if (!reserve_admitted(n, w->slot, ev, w->user,
			        w->request_id, w->qty, now, wall))
				finish_add(f, w->slot);
		} else {
			answer_reserve(n, w->slot, ev, rv, h);
			finish_add(f, w->slot);
		}
		waiter_pop(es);
	}
}
