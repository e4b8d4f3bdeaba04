/* soldout: what one gateway thread knows about sold-out events.
 *
 * When a node answers SOLD_OUT for an event, the gateway skips that node
 * for that event for `ttl_ms` (fan-out: the request tries the next node
 * with stock). When every node has said SOLD_OUT, the event itself is
 * cached as sold out for ttl_ms and the gateway answers the flood alone.
 * After ttl_ms one request (only one at a time) probes the nodes again, so
 * stock returned by expired or released holds is found and sold.
 *
 * Pure logic, time passed in; one table per gateway thread (no locks).
 */
#ifndef TR_SOLDOUT_H
#define TR_SOLDOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tr_ids.h"

/* Events remembered per thread; more are forgotten oldest first. */
#define TR_SOLDOUT_EVENTS_MAX 256

typedef struct tr_soldout_event {
	char id[TR_EVENT_ID_MAX + 1];
	int64_t node_until[TR_NODES_MAX];
	int64_t all_until; /* cached: sold out at every node */
	bool probing;      /* one request is re-probing */
	int64_t used_ms;   /* for eviction */
} tr_soldout_event;

typedef struct tr_soldout {
	tr_soldout_event events[TR_SOLDOUT_EVENTS_MAX];
	size_t count;
	int nodes;
	int64_t ttl_ms;
	uint64_t hits; /* answered from the cache */
} tr_soldout;

void tr_soldout_init(tr_soldout *s, int nodes, int64_t ttl_ms);

/* What to do with a reservation for event_id now:
 *   TR_SOLDOUT_ANSWER  answer 409 sold_out from the cache (counted a hit);
 *   TR_SOLDOUT_PROBE   go upstream as the one probe (call tr_soldout_done
 *                      with the outcome);
 *   TR_SOLDOUT_FORWARD go upstream; *exclude has the nodes to skip. */
enum tr_soldout_verdict {
	TR_SOLDOUT_FORWARD,
	TR_SOLDOUT_PROBE,
	TR_SOLDOUT_ANSWER,
};
enum tr_soldout_verdict tr_soldout_check(tr_soldout *s, const char *event_id,
    int64_t now_ms, tr_node_mask *exclude);

/* Whether the event is answered from the cache right now (a cached
 * answer that is not yet stale, or one being re-probed), without taking
 * the probe. Counts nothing. */
bool tr_soldout_peek(tr_soldout *s, const char *event_id, int64_t now_ms);

/* Node `node` said SOLD_OUT for the event. */
void tr_soldout_mark_node(tr_soldout *s, const char *event_id, int node,
    int64_t now_ms);

/* Every node said SOLD_OUT (or was skipped): cache the event as sold out.
 * Ends a probe. */
void tr_soldout_mark_all(tr_soldout *s, const char *event_id, int64_t now_ms);

/* A node sold a ticket of the event (or a probe ended otherwise): forget
 * that node's mark and the event's cached answer. Ends a probe. */
void tr_soldout_clear(tr_soldout *s, const char *event_id, int node);

/* A probe ended without an answer (transport error): let the next
 * request probe. */
void tr_soldout_probe_failed(tr_soldout *s, const char *event_id);

#endif
