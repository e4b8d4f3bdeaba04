/* ctl_watch: `ticketctl watch`, the operators' live view of a sale. Every
 * interval it reads Redis once (the watch script of each event shown, in
 * one pipeline; the nodes' liveness keys in one MGET) and draws the
 * figures: a redrawn screen on a terminal, plain lines otherwise, or one
 * JSON object a line. Sales per second are the difference of sold between
 * two refreshes over the time between them. */
#ifndef TR_CTL_WATCH_H
#define TR_CTL_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "tr_coord.h"

/* Events one watch shows at most when none is named: the first ones of
 * the event set (as `event all` pages it), by id. */
#define CTL_WATCH_EVENTS_MAX 20
/* Nodes of tr:{#}:nodes it looks at at most. */
#define CTL_WATCH_NODES_MAX 256

typedef struct ctl_watch_opts {
	const char *event_id; /* NULL: up to CTL_WATCH_EVENTS_MAX events */
	uint64_t count;       /* refreshes; 0: until SIGINT or SIGTERM */
	uint64_t interval_ms;
	bool json;              /* one JSON object per refresh */
	bool tty;               /* redraw the screen (ANSI) instead of lines */
	const char *redis_addr; /* for messages */
} ctl_watch_opts;

/* Run the watch on coord (opened by the caller, who closes it after).
 * SIGINT and SIGTERM end it after the refresh under way. A refresh that
 * cannot reach Redis is shown as such, and the next one reconnects.
 * Returns ticketctl's exit code: 0; 1 when the named event is not in
 * Redis, or Redis answered something unreadable; 3 when the last refresh
 * could not reach Redis. */
int ctl_watch_run(tr_coord *coord, const ctl_watch_opts *o);

#endif
