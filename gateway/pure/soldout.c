/* soldout: a small table of events per gateway thread, linear search (a
 * rush has one or a few events; the table is bounded). */
#include "soldout.h"

#include <stdio.h>
#include <string.h>

void
tr_soldout_init(tr_soldout *s, int nodes, int64_t ttl_ms)
{
	memset(s, 0, sizeof(*s));
	s->nodes = nodes < TR_NODES_MAX ? nodes : TR_NODES_MAX;
	s->ttl_ms = ttl_ms;
}

static tr_soldout_event *
find(tr_soldout *s, const char *id)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->events[i].id, id) == 0)
			return &s->events[i];
	return NULL;
}

static tr_soldout_event *
find_or_add(tr_soldout *s, const char *id, int64_t now)
{
	tr_soldout_event *e = find(s, id);
	if (e != NULL)
		return e;
	if (s->count < TR_SOLDOUT_EVENTS_MAX) {
		e = &s->events[s->count++];
	} else {
		/* Full: forget the least recently used event. */
		e = &s->events[0];
		for (size_t i = 1; i < s->count; i++)
			if (s->events[i].used_ms < e->used_ms)
				e = &s->events[i];
	}
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->used_ms = now;
	return e;
}

enum tr_soldout_verdict
tr_soldout_check(tr_soldout *s, const char *event_id, int64_t now,
    tr_node_mask *exclude)
{
	tr_soldout_event *e = find(s, event_id);

	*exclude = 0;
	if (e == NULL)
		return TR_SOLDOUT_FORWARD;
	e->used_ms = now;
	if (e->all_until > now || (e->all_until != 0 && e->probing)) {
		s->hits++;
		return TR_SOLDOUT_ANSWER;
	}
	if (e->all_until != 0) {
		/* The cached answer is stale: this request looks again, the
		 * others keep the cached answer meanwhile. */
		e->probing = true;
		memset(e->node_until, 0, sizeof(e->node_until));
		return TR_SOLDOUT_PROBE;
	}
	for (int i = 0; i < s->nodes; i++)
		if (e->node_until[i] > now)
			*exclude |= 1u << i;
	return TR_SOLDOUT_FORWARD;
}

bool
tr_soldout_peek(tr_soldout *s, const char *event_id, int64_t now)
{
	tr_soldout_event *e = find(s, event_id);
	return e != NULL &&
	    (e->all_until > now || (e->all_until != 0 && e->probing));
}

void
tr_soldout_mark_node(tr_soldout *s, const char *event_id, int node,
    int64_t now)
{
	tr_soldout_event *e = find_or_add(s, event_id, now);
	if (node >= 0 && node < s->nodes)
		e->node_until[node] = now + s->ttl_ms;
}

void
tr_soldout_mark_all(tr_soldout *s, const char *event_id, int64_t now)
{
	tr_soldout_event *e = find_or_add(s, event_id, now);
	e->all_until = now + s->ttl_ms;
	e->probing = false;
	for (int i = 0; i < s->nodes; i++)
		e->node_until[i] = now + s->ttl_ms;
}

void
tr_soldout_clear(tr_soldout *s, const char *event_id, int node)
{
	tr_soldout_event *e = find(s, event_id);
	if (e == NULL)
		return;
	e->all_until = 0;
	e->probing = false;
	if (node >= 0 && node < s->nodes)
		e->node_until[node] = 0;
}

void
tr_soldout_probe_failed(tr_soldout *s, const char *event_id)
{
	tr_soldout_event *e = find(s, event_id);
	if (e != NULL)
		e->probing = false;
}
