/* ctl_print: rendering of replies and audit results for ticketctl. */
#include "ctl_print.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "tr_envelope.h"
#include "tr_err.h"

static const char *hold_states[] = {"unspecified", "held", "confirmed",
    "released", "expired"};

static const char *
hold_state_name(int s)
{
	return s >= 0 && s <= 4 ? hold_states[s] : "unknown";
}

const char *
ctl_time(char *buf, int64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)(unix_ms % 1000));
	return buf;
}

static cJSON *
hold_json(const Ticketrush__Hold *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reservation_id", h->reservation_id);
	cJSON_AddStringToObject(o, "event_id", h->event_id);
	cJSON_AddStringToObject(o, "user_id", h->user_id);
	cJSON_AddNumberToObject(o, "qty", h->qty);
	cJSON_AddStringToObject(o, "state", hold_state_name(h->state));
	cJSON_AddNumberToObject(o, "expires_at_ms", (double)h->expires_at_ms);
	if (h->request_id[0])
		cJSON_AddStringToObject(o, "request_id", h->request_id);
	return o;
}

static cJSON *
order_json(const Ticketrush__Order *x)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "order_id", x->order_id);
	cJSON_AddStringToObject(o, "event_id", x->event_id);
	cJSON_AddStringToObject(o, "user_id", x->user_id);
	cJSON_AddNumberToObject(o, "qty", x->qty);
	cJSON_AddStringToObject(o, "payment_ref", x->payment_ref);
	cJSON_AddNumberToObject(o, "confirmed_at_ms",
	    (double)x->confirmed_at_ms);
	cJSON_AddStringToObject(o, "node_id", x->node_id);
	return o;
}

static cJSON *
event_json(const Ticketrush__EventInfo *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event_id", e->event_id);
	cJSON_AddNumberToObject(o, "total", (double)e->total);
	cJSON_AddNumberToObject(o, "limit_per_user", e->limit_per_user);
	cJSON_AddNumberToObject(o, "hold_ms", (double)e->hold_ms);
	cJSON_AddNumberToObject(o, "opens_at_ms", (double)e->opens_at_ms);
	cJSON_AddStringToObject(o, "state", e->state);
	cJSON_AddNumberToObject(o, "lease", (double)e->lease);
	cJSON_AddNumberToObject(o, "held", (double)e->held);
	cJSON_AddNumberToObject(o, "available", (double)e->available);
	cJSON_AddNumberToObject(o, "sold_here", (double)e->sold_here);
	cJSON_AddNumberToObject(o, "pool", (double)e->pool);
	cJSON_AddNumberToObject(o, "sold", (double)e->sold);
	cJSON_AddNumberToObject(o, "global_at_ms", (double)e->global_at_ms);
	cJSON_AddNumberToObject(o, "epoch", (double)e->epoch);
	cJSON_AddBoolToObject(o, "closed", e->closed);
	return o;
}

static cJSON *
node_json(const Ticketrush__NodeStatus *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "node_id", s->node_id);
	cJSON_AddStringToObject(o, "mode", s->mode);
	cJSON_AddBoolToObject(o, "draining", s->draining);
	cJSON_AddNumberToObject(o, "uptime_ms", (double)s->uptime_ms);
	cJSON_AddNumberToObject(o, "events", s->events);
	cJSON_AddBoolToObject(o, "coordinator_up", s->coordinator_up);
	cJSON_AddNumberToObject(o, "reserves_ok", (double)s->reserves_ok);
	cJSON_AddNumberToObject(o, "reserves_rejected",
	    (double)s->reserves_rejected);
	cJSON_AddNumberToObject(o, "confirms_ok", (double)s->confirms_ok);
	cJSON_AddNumberToObject(o, "confirms_unreplicated",
	    (double)s->confirms_unreplicated);
	cJSON_AddNumberToObject(o, "holds_active", (double)s->holds_active);
	cJSON_AddNumberToObject(o, "coordinator_calls",
	    (double)s->coordinator_calls);
	cJSON_AddStringToObject(o, "version", s->version);
	return o;
}

static const char *wl_states[] = {"unspecified", "waiting", "offered",
    "confirmed", "expired", "left", "skipped"};

static const char *
wl_state_name(int s)
{
	return s >= 0 && s <= 6 ? wl_states[s] : "unknown";
}

static cJSON *
wl_entry_json(const Ticketrush__WaitlistEntry *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event_id", e->event_id);
	cJSON_AddStringToObject(o, "user_id", e->user_id);
	cJSON_AddStringToObject(o, "state", wl_state_name(e->state));
	cJSON_AddNumberToObject(o, "join_number", (double)e->join_number);
	cJSON_AddNumberToObject(o, "position", (double)e->position);
	cJSON_AddNumberToObject(o, "ahead", (double)e->ahead);
	cJSON_AddStringToObject(o, "reservation_id", e->reservation_id);
	cJSON_AddNumberToObject(o, "offer_expires_at_ms",
	    (double)e->offer_expires_at_ms);
	cJSON_AddNumberToObject(o, "joined_at_ms", (double)e->joined_at_ms);
	return o;
}

static cJSON *
wl_info_json(const Ticketrush__WaitlistInfo *w)
{
	cJSON *o = cJSON_CreateObject(), *a;
	cJSON_AddStringToObject(o, "event_id", w->event_id);
	cJSON_AddNumberToObject(o, "waiting", (double)w->waiting);
	cJSON_AddNumberToObject(o, "offers_live", (double)w->offers_live);
	cJSON_AddNumberToObject(o, "cap", (double)w->cap);
	cJSON_AddNumberToObject(o, "joined", (double)w->joined);
	cJSON_AddNumberToObject(o, "offered", (double)w->offered);
	cJSON_AddNumberToObject(o, "confirmed", (double)w->confirmed);
	cJSON_AddNumberToObject(o, "expired", (double)w->expired);
	cJSON_AddNumberToObject(o, "left", (double)w->left);
	cJSON_AddNumberToObject(o, "skipped", (double)w->skipped);
	a = cJSON_AddArrayToObject(o, "head");
	for (size_t i = 0; i < w->n_head; i++) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "user_id", w->head[i]->user_id);
		cJSON_AddNumberToObject(h, "join_number",
		    (double)w->head[i]->join_number);
		cJSON_AddNumberToObject(h, "joined_at_ms",
		    (double)w->head[i]->joined_at_ms);
		cJSON_AddItemToArray(a, h);
	}
	return o;
}

cJSON *
ctl_reply_json(const Ticketrush__Reply *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status",
	    tr_strerror(tr_err_from_status((int)r->status)));
	cJSON_AddStringToObject(o, "detail", r->detail);
	if (r->hold)
		cJSON_AddItemToObject(o, "hold", hold_json(r->hold));
	if (r->order)
		cJSON_AddItemToObject(o, "order", order_json(r->order));
	if (r->event)
		cJSON_AddItemToObject(o, "event", event_json(r->event));
	if (r->node)
		cJSON_AddItemToObject(o, "node", node_json(r->node));
	if (r->waitlist_entry)
		cJSON_AddItemToObject(o, "waitlist_entry",
		    wl_entry_json(r->waitlist_entry));
	if (r->waitlist)
		cJSON_AddItemToObject(o, "waitlist",
		    wl_info_json(r->waitlist));
	if (r->n_events > 0) {
		cJSON *a = cJSON_AddArrayToObject(o, "events");
		for (size_t i = 0; i < r->n_events; i++)
			cJSON_AddItemToArray(a, event_json(r->events[i]));
	}
	return o;
}

static void
print_event(FILE *f, const Ticketrush__EventInfo *e)
{
	char t[32];
	fprintf(f, "event %s: %s\n", e->event_id, e->state);
	fprintf(f,
	    "  total %" PRIu64 ", limit %u per user, hold %" PRIu64
	    " ms%s%s\n",
	    e->total, e->limit_per_user, e->hold_ms,
	    e->opens_at_ms ? ", opens " : "",
	    e->opens_at_ms ? ctl_time(t, e->opens_at_ms) : "");
	fprintf(f,
	    "  this node: lease %" PRIu64 ", held %" PRIu64
	    ", available %" PRIu64 ", sold here %" PRIu64 ", epoch %" PRIu64
	    "\n",
	    e->lease, e->held, e->available, e->sold_here, e->epoch);
	if (e->global_at_ms)
		fprintf(f,
		    "  coordinator: pool %" PRIu64 ", sold %" PRIu64
		    " (as of %s)\n",
		    e->pool, e->sold, ctl_time(t, e->global_at_ms));
}

void
ctl_reply_print(FILE *f, const Ticketrush__Reply *r)
{
	char t[32];

	if (r->order) {
		const Ticketrush__Order *o = r->order;
		fprintf(f,
		    "confirmed order %s: %u ticket(s) of %s for %s, "
		    "payment \"%s\", at %s, node %s\n",
		    o->order_id, o->qty, o->event_id, o->user_id,
		    o->payment_ref, ctl_time(t, o->confirmed_at_ms),
		    o->node_id);
		if (o->refunded_at_ms)
			fprintf(f, "  refunded at %s\n",
			    ctl_time(t, o->refunded_at_ms));
	} else if (r->hold) {
		const Ticketrush__Hold *h = r->hold;
		fprintf(f, "reservation %s: %u ticket(s) of %s for %s, %s",
		    h->reservation_id, h->qty, h->event_id, h->user_id,
		    hold_state_name(h->state));
		if (h->state == TICKETRUSH__HOLD_STATE__HOLD_STATE_HELD)
			fprintf(f, ", expires %s",
			    ctl_time(t, h->expires_at_ms));
		fputc('\n', f);
	}
	if (r->waitlist_entry) {
		const Ticketrush__WaitlistEntry *e = r->waitlist_entry;
		fprintf(f, "waitlist %s, %s: %s, joined #%" PRIu64 " at %s",
		    e->event_id, e->user_id, wl_state_name(e->state),
		    e->join_number, ctl_time(t, e->joined_at_ms));
		if (e->position)
			fprintf(f,
			    ", position %" PRIu64 " (%" PRIu64 " ahead)",
			    e->position, e->ahead);
		if (e->reservation_id[0])
			fprintf(f, ", offer %s until %s", e->reservation_id,
			    ctl_time(t, e->offer_expires_at_ms));
		fputc('\n', f);
	}
	if (r->waitlist) {
		const Ticketrush__WaitlistInfo *w = r->waitlist;
		fprintf(f,
		    "waitlist %s: %" PRIu64 " waiting (cap %" PRIu64
		    "), %" PRIu64 " offer(s) live\n",
		    w->event_id, w->waiting, w->cap, w->offers_live);
		fprintf(f,
		    "  since created: %" PRIu64 " joined, %" PRIu64
		    " offered, %" PRIu64 " confirmed, %" PRIu64
		    " expired, %" PRIu64 " left, %" PRIu64 " skipped\n",
		    w->joined, w->offered, w->confirmed, w->expired, w->left,
		    w->skipped);
		for (size_t i = 0; i < w->n_head; i++)
			fprintf(f, "  %3zu. %s (#%" PRIu64 ", joined %s)\n",
			    i + 1, w->head[i]->user_id,
			    w->head[i]->join_number,
			    ctl_time(t, w->head[i]->joined_at_ms));
	}
	if (r->event)
		print_event(f, r->event);
	for (size_t i = 0; i < r->n_events; i++)
		print_event(f, r->events[i]);
	if (r->node) {
		const Ticketrush__NodeStatus *s = r->node;
		fprintf(f, "node %s (%s), %s, up %.1f s, %u event(s)\n",
		    s->node_id, s->version, s->mode,
		    (double)s->uptime_ms / 1000, s->events);
		fprintf(f, "  coordinator %s%s\n",
		    strcmp(s->mode, "standalone") == 0 ? "none"
		        : s->coordinator_up            ? "up"
		                                       : "DOWN",
		    s->draining ? ", draining" : "");
		fprintf(f,
		    "  reserves ok %" PRIu64 ", rejected %" PRIu64
		    ", confirms %" PRIu64 ", active holds %" PRIu64
		    ", coordinator calls %" PRIu64 "\n",
		    s->reserves_ok, s->reserves_rejected, s->confirms_ok,
		    s->holds_active, s->coordinator_calls);
		if (s->confirms_unreplicated > 0)
			fprintf(f,
			    "  confirms short of --confirm-replicas "
			    "(answered unavailable) %" PRIu64 "\n",
			    s->confirms_unreplicated);
	}
}

static void add_check(ctl_check *c, int *k, const char *name, bool ok,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
add_check(ctl_check *c, int *k, const char *name, bool ok, const char *fmt,
    ...)
{
	va_list ap;
	c[*k].name = name;
	c[*k].ok = ok;
	va_start(ap, fmt);
	vsnprintf(c[*k].detail, sizeof(c[*k].detail), fmt, ap);
	va_end(ap);
	(*k)++;
}

int
ctl_audit_checks(const tr_audit *a, ctl_check *c, int *count)
{
	int k = 0, failed = 0;

	add_check(c, &k, "conservation",
	    a->pool + a->lease_sum + a->held + a->sold == a->total,
	    "pool %" PRIu64 " + leases %" PRIu64 " + held %" PRIu64
	    " + sold %" PRIu64 " = %" PRIu64 ", total %" PRIu64,
	    a->pool, a->lease_sum, a->held, a->sold,
	    a->pool + a->lease_sum + a->held + a->sold, a->total);
	add_check(c, &k, "held_matches_holds", a->live_qty == a->held,
	    "%" PRIu64 " live hold(s) for %" PRIu64
	    " ticket(s), held %" PRIu64,
	    a->live_holds, a->live_qty, a->held);
	add_check(c, &k, "holds_indexed",
	    a->holds_unindexed == 0 && a->index_dangling == 0,
	    "%" PRIu64 " live hold(s) missing from an index, %" PRIu64
	    " index entr(ies) without a live hold",
	    a->holds_unindexed, a->index_dangling);
	add_check(c, &k, "scripts_saw_no_break", a->broken == 0,
	    "%" PRIu64 " script run(s) found the sum broken", a->broken);
	add_check(c, &k, "no_oversell", a->sold <= a->total,
	    "sold %" PRIu64 " <= total %" PRIu64, a->sold, a->total);
	add_check(c, &k, "orders_match_sold", a->orders_qty == a->sold,
	    "%" PRIu64 " order(s) for %" PRIu64 " ticket(s), sold %" PRIu64,
	    a->orders_count, a->orders_qty, a->sold);
	add_check(c, &k, "buyers_match_sold", a->buyers_sum == a->sold,
	    "%" PRIu64 " buyer(s) hold %" PRIu64 " ticket(s)", a->buyers_count,
	    a->buyers_sum);
	add_check(c, &k, "per_user_limit", a->users_over_limit == 0,
	    "%" PRIu64 " user(s) over the limit of %" PRIu64 " in holds plus "
	    "orders (most: %" PRIu64 ")",
	    a->users_over_limit, a->limit_per_user, a->max_per_user);
	add_check(c, &k, "buyers_match_orders", a->buyer_order_mismatches == 0,
	    "%" PRIu64 " user(s) whose count differs from their orders",
	    a->buyer_order_mismatches);
	add_check(c, &k, "stream_complete",
	    a->stream_len == a->orders_count + a->refunds,
	    "stream has %" PRIu64 " entr(ies) for %" PRIu64
	    " order(s) and %" PRIu64 " refund(s)",
	    a->stream_len, a->orders_count, a->refunds);
	add_check(c, &k, "waitlist_consistent", a->line_bad == 0,
	    "%" PRIu64 " buyer(s) waiting, %" PRIu64 " live offer(s); %" PRIu64
	    " entr(ies) disagree with the line or their offer",
	    a->line_waiting, a->offers_live, a->line_bad);
	add_check(c, &k, "offers_in_join_order", a->offers_out_of_order == 0,
	    "%" PRIu64 " offer(s) made out of join order",
	    a->offers_out_of_order);
	add_check(c, &k, "no_negative_counts", a->negative_values == 0,
	    "%" PRIu64 " negative value(s)", a->negative_values);
	for (int i = 0; i < k; i++)
		failed += !c[i].ok;
	*count = k;
	return failed;
}
