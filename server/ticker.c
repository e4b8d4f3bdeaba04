/* ticker: the node's periodic work, every 10 ms under the lock: holds at
 * their deadline (asked to end), waiters past their wait, the rate of
 * sale, asking ahead for stock, idle leases given back. */
#include "node_impl.h"
#include "tr_clock.h"
#include "tr_err.h"

/* A hold of this node reached its deadline. */
static void
due_cb(tr_hold *h, void *arg)
{
	tr_node *n = arg;

	if (n->conf.standalone) {
		tr_event *ev = h->event;
		uint32_t qty = h->qty;
		tr_ledger_hold_ended(n->ledger, h, TR_HOLD_EXPIRED);
		(void)tr_ledger_lease_grant(ev, qty);
		return;
	}
	/* Ask the coordinator to end it; if that cannot be queued now, try
	 * again in a second (the sweep of any node ends it meanwhile). */
	if (!expire_enqueue(n, h))
		(void)tr_ledger_hold_reschedule(n->ledger, h,
		    tr_mono_ms() + 1000);
}

struct tick_arg {
	tr_node *n;
	int64_t now;
	struct finish_list *f;
};

static void
tick_event(tr_event *ev, void *arg)
{
	struct tick_arg *a = arg;
	tr_node *n = a->n;
	struct ev_state *es = evs_of(ev);
	struct waiter *w;
	uint64_t avail;

	if (es == NULL)
		return;
	tr_refill_observe(&es->refill, ev->reserved_count, a->now);
	while (
	    (w = waiter_front(es)) != NULL && w->deadline_mono_ms <= a->now) {
		answer(w->slot, TR_EUNAVAILABLE,
		    "timed out waiting for stock "
		    "from the coordinator");
		atomic_fetch_add(&n->reserves_rejected, 1);
		finish_add(a->f, w->slot);
		waiter_pop(es);
	}
	if (n->conf.standalone)
		return;
	avail = tr_event_available(ev);
	if (ev->draining ||
	    tr_refill_idle(ev->last_reserve_mono_ms, a->now,
	        n->conf.lease_idle_ms)) {
		if (avail > 0 && es->count == 0 && !es->grant_in_flight)
			give_back(n, ev, avail);
		return;
	}
	/* Selling recently: keep a little ahead of demand. */
	if (!es->pool_empty &&
	    tr_refill_ask_ahead(&es->refill, ev->last_reserve_mono_ms, a->now,
	        avail))
		(void)want_grant(n, ev);
}

void
ticker_run(tr_node *n, int64_t now, struct finish_list *f)
{
	struct tick_arg a = {n, now, f};

	tr_ledger_expire_due(n->ledger, now, 100000, due_cb, n);
	tr_ledger_each_event(n->ledger, tick_event, &a);
}
