/* ctl_watch: ticketctl watch, refreshes read from Redis and drawn. */
#include "ctl_watch.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "tr_clock.h"
#include "tr_err.h"

/* SSCAN pages read for the event ids of one refresh at most (a set thinned
 * by deletions can answer empty pages). */
#define WATCH_PAGES_MAX 16

struct watch_event {
	char id[TR_EVENT_ID_MAX + 1];
	tr_watch w;      /* its nodes sorted by id */
	uint64_t leased; /* the sum of the nodes' free leases */
	bool has_rate;   /* false on its first refresh */
	double rate;     /* tickets sold per second since the last one */
};

/* What one refresh read. */
struct frame {
	int rv; /* 0, or why the refresh failed */
	int64_t wall_ms, mono_ms;
	size_t node_count, nodes_up;
	char nodes[CTL_WATCH_NODES_MAX][TR_NODE_ID_MAX + 1]; /* sorted */
	bool alive[CTL_WATCH_NODES_MAX];
	bool more; /* the event set may hold more than were shown */
	size_t event_count;
	struct watch_event events[CTL_WATCH_EVENTS_MAX];
};

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

static bool
unreachable(int rv)
{
	return rv == TR_EUNAVAILABLE || rv == TR_EIO || rv == TR_ETIMEDOUT;
}

static int
cmp_id(const void *a, const void *b)
{
	/* Event ids, node ids, and tr_watch's nodes (the id comes first). */
	return strcmp((const char *)a, (const char *)b);
}

/* The ids to show: the one named, or the first page of the event set. */
static int
read_ids(tr_coord *c, const ctl_watch_opts *o, struct frame *f)
{
	char ids[CTL_WATCH_EVENTS_MAX][TR_EVENT_ID_MAX + 1];
	uint64_t cursor = 0;
	size_t n = 0, kept = 0;
	int rv;

	f->more = false;
	if (o->event_id != NULL) {
		snprintf(f->events[0].id, sizeof(f->events[0].id), "%s",
		    o->event_id);
		f->event_count = 1;
		return 0;
	}
	for (int p = 0; p < WATCH_PAGES_MAX && n < CTL_WATCH_EVENTS_MAX; p++) {
		size_t got;
		if ((rv = tr_coord_event_page(c, &cursor, ids + n,
		         CTL_WATCH_EVENTS_MAX - n, &got)) != 0)
			return rv;
		n += got;
		if (cursor == 0)
			break;
	}
	f->more = cursor != 0;
	/* By id, once each (SSCAN may repeat an id across pages). */
	qsort(ids, n, sizeof(ids[0]), cmp_id);
	for (size_t i = 0; i < n; i++) {
		if (kept > 0 && strcmp(ids[i], f->events[kept - 1].id) == 0)
			continue;
		memcpy(f->events[kept++].id, ids[i], sizeof(ids[i]));
	}
	f->event_count = kept;
	return 0;
}

static int
read_nodes(tr_coord *c, struct frame *f)
{
	int rv;

	f->nodes_up = 0;
	if ((rv = tr_coord_node_list(c, f->nodes, CTL_WATCH_NODES_MAX,
	         &f->node_count)) != 0)
		return rv;
	qsort(f->nodes, f->node_count, sizeof(f->nodes[0]), cmp_id);
	if ((rv = tr_coord_alive_many(c, f->nodes, f->node_count, f->alive)) !=
	    0)
		return rv;
	for (size_t i = 0; i < f->node_count; i++)
		f->nodes_up += f->alive[i];
	return 0;
}

/* Every event's watch script in one pipeline. An event deleted since its
 * id was read is left out, unless it is the one named. */
static int
read_events(tr_coord *c, const ctl_watch_opts *o, struct frame *f,
    tr_call *calls)
{
	tr_call *ptrs[CTL_WATCH_EVENTS_MAX];
	size_t kept = 0;
	int rv;

	for (size_t i = 0; i < f->event_count; i++) {
		tr_call_watch(&calls[i], f->events[i].id);
		ptrs[i] = &calls[i];
	}
	rv = tr_coord_run(c, ptrs, f->event_count);
	f->mono_ms = tr_mono_ms();
	f->wall_ms = tr_wall_ms();
	for (size_t i = 0; rv == 0 && i < f->event_count; i++) {
		struct watch_event *e = &f->events[kept];
		int r = tr_result_watch(&calls[i], &e->w);
		if (r == TR_ENOT_FOUND && o->event_id == NULL)
			continue;
		if (r != 0) {
			rv = r;
			break;
		}
		if (kept != i)
			memcpy(e->id, f->events[i].id, sizeof(e->id));
		qsort(e->w.nodes, e->w.node_count, sizeof(e->w.nodes[0]),
		    cmp_id);
		e->leased = 0;
		for (size_t k = 0; k < e->w.node_count; k++)
			e->leased += e->w.nodes[k].lease;
		e->has_rate = false;
		kept++;
	}
	for (size_t i = 0; i < f->event_count; i++)
		tr_call_done(&calls[i]);
	f->event_count = kept;
	return rv;
}

static void
refresh(tr_coord *c, const ctl_watch_opts *o, struct frame *f, tr_call *calls)
{
	f->wall_ms = tr_wall_ms();
	f->event_count = 0;
	if (!tr_coord_connected(c) && (f->rv = tr_coord_reconnect(c)) != 0)
		return;
	if ((f->rv = read_ids(c, o, f)) != 0 ||
	    (f->rv = read_nodes(c, f)) != 0)
		return;
	f->rv = read_events(c, o, f, calls);
}

/* Sales per second of each event seen in the last good refresh too. */
static void
rates(struct frame *f, const struct frame *last)
{
	int64_t dt = last ? f->mono_ms - last->mono_ms : 0;

	for (size_t i = 0; dt > 0 && i < f->event_count; i++) {
		struct watch_event *e = &f->events[i];
		for (size_t k = 0; k < last->event_count; k++) {
			const struct watch_event *p = &last->events[k];
			if (strcmp(p->id, e->id) != 0)
				continue;
			/* A refund lowers sold: the rate may be negative. */
			e->rate = ((double)e->w.sold - (double)p->w.sold) *
			    1000.0 / (double)dt;
			e->has_rate = true;
			break;
		}
	}
}

/* ---- drawing ------------------------------------------------------------ */

/* Whether node is a stock node (the waitlist's offers are node "_wl"),
 * and if so whether it is up. */
static bool
is_stock_node(const char *node)
{
	return node[0] != '_';
}

static bool
node_up(const struct frame *f, const char *node)
{
	const char(*hit)[TR_NODE_ID_MAX + 1] = bsearch(node, f->nodes,
	    f->node_count, sizeof(f->nodes[0]), cmp_id);
	return hit != NULL && f->alive[hit - f->nodes];
}

static const char *
hhmmss(char *buf, size_t cap, int64_t wall_ms)
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(buf, cap, "%H:%M:%SZ", &tm);
	return buf;
}

/* " SOLD OUT", " CLOSED" or "". */
static const char *
marker(const struct watch_event *e)
{
	if (e->w.closed)
		return " CLOSED";
	if (e->w.pool + e->leased + e->w.held == 0)
		return " SOLD OUT";
	return "";
}

static const char *
rate_text(char *buf, size_t cap, const struct watch_event *e)
{
	if (e->has_rate)
		snprintf(buf, cap, "%.1f", e->rate);
	else
		snprintf(buf, cap, "-");
	return buf;
}

static void
print_nodes_up(FILE *out, const struct frame *f)
{
	size_t down = 0;

	fprintf(out, "nodes up %zu of %zu", f->nodes_up, f->node_count);
	for (size_t i = 0; i < f->node_count; i++) {
		if (f->alive[i])
			continue;
		fprintf(out, "%s%s", down++ == 0 ? " (down: " : ", ",
		    f->nodes[i]);
	}
	fprintf(out, "%s\n", down > 0 ? ")" : "");
}

static double
rounded(double v)
{
	/* Two decimals are plenty, and print without noise digits. */
	return (double)(int64_t)(v * 100.0 + (v < 0 ? -0.5 : 0.5)) / 100.0;
}

static void
draw_json(FILE *out, const struct frame *f, const ctl_watch_opts *o)
{
	cJSON *j = cJSON_CreateObject(), *arr;
	char *s;

	cJSON_AddNumberToObject(j, "at_ms", (double)f->wall_ms);
	if (f->rv != 0) {
		char detail[256];
		if (f->rv == TR_ENOT_FOUND)
			snprintf(detail, sizeof(detail),
			    "no event %s in Redis", o->event_id);
		else if (unreachable(f->rv))
			snprintf(detail, sizeof(detail),
			    "cannot reach Redis "
			    "at %s",
			    o->redis_addr);
		else
			snprintf(detail, sizeof(detail),
			    "Redis answered "
			    "what the watch cannot read");
		cJSON_AddStringToObject(j, "error", tr_strerror(f->rv));
		cJSON_AddStringToObject(j, "detail", detail);
		goto print;
	}
	cJSON_AddNumberToObject(j, "nodes_up", (double)f->nodes_up);
	arr = cJSON_AddArrayToObject(j, "nodes");
	for (size_t i = 0; i < f->node_count; i++) {
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "node", f->nodes[i]);
		cJSON_AddBoolToObject(n, "up", f->alive[i]);
		cJSON_AddItemToArray(arr, n);
	}
	arr = cJSON_AddArrayToObject(j, "events");
	for (size_t i = 0; i < f->event_count; i++) {
		const struct watch_event *e = &f->events[i];
		cJSON *x = cJSON_CreateObject(), *leases;
		cJSON_AddStringToObject(x, "event_id", e->id);
		cJSON_AddNumberToObject(x, "total", (double)e->w.total);
		cJSON_AddNumberToObject(x, "sold", (double)e->w.sold);
		cJSON_AddNumberToObject(x, "held", (double)e->w.held);
		cJSON_AddNumberToObject(x, "pool", (double)e->w.pool);
		cJSON_AddNumberToObject(x, "leased", (double)e->leased);
		cJSON_AddBoolToObject(x, "closed", e->w.closed);
		if (e->has_rate)
			cJSON_AddNumberToObject(x, "sales_per_s",
			    rounded(e->rate));
		else
			cJSON_AddNullToObject(x, "sales_per_s");
		leases = cJSON_AddArrayToObject(x, "leases");
		for (size_t k = 0; k < e->w.node_count; k++) {
			cJSON *n = cJSON_CreateObject();
			const char *id = e->w.nodes[k].node;
			cJSON_AddStringToObject(n, "node", id);
			cJSON_AddNumberToObject(n, "lease",
			    (double)e->w.nodes[k].lease);
			cJSON_AddNumberToObject(n, "held",
			    (double)e->w.nodes[k].held);
			/* "_wl" (the waitlist's offers) is no process. */
			if (is_stock_node(id))
				cJSON_AddBoolToObject(n, "up", node_up(f, id));
			cJSON_AddItemToArray(leases, n);
		}
		cJSON_AddItemToArray(arr, x);
	}
	cJSON_AddBoolToObject(j, "more", f->more);
print:
	s = cJSON_PrintUnformatted(j);
	fprintf(out, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(j);
}

static void
print_error(FILE *out, const struct frame *f, const ctl_watch_opts *o)
{
	if (f->rv == TR_ENOT_FOUND)
		fprintf(out, "no event %s in Redis\n", o->event_id);
	else if (unreachable(f->rv))
		fprintf(out, "cannot reach Redis at %s (%s); trying again\n",
		    o->redis_addr, tr_strerror(f->rv));
	else
		fprintf(out,
		    "Redis answered what the watch cannot read "
		    "(%s)\n",
		    tr_strerror(f->rv));
}

/* Lines for logs and pipes: per refresh, the nodes, then a line per
 * event, each starting with the time. */
static void
draw_lines(FILE *out, const struct frame *f, const ctl_watch_opts *o)
{
	char t[16], r[32];

	hhmmss(t, sizeof(t), f->wall_ms);
	fprintf(out, "%s ", t);
	if (f->rv != 0) {
		print_error(out, f, o);
		return;
	}
	print_nodes_up(out, f);
	if (f->event_count == 0)
		fprintf(out, "%s no events in Redis\n", t);
	for (size_t i = 0; i < f->event_count; i++) {
		const struct watch_event *e = &f->events[i];
		fprintf(out,
		    "%s %s: sold %" PRIu64 " of %" PRIu64 " (%s/s), "
		    "held %" PRIu64 ", pool %" PRIu64 ", leased %" PRIu64,
		    t, e->id, e->w.sold, e->w.total,
		    rate_text(r, sizeof(r), e), e->w.held, e->w.pool,
		    e->leased);
		for (size_t k = 0; k < e->w.node_count; k++)
			fprintf(out, "%s %s %" PRIu64 " (held %" PRIu64 ")",
			    k == 0 ? ":" : ",", e->w.nodes[k].node,
			    e->w.nodes[k].lease, e->w.nodes[k].held);
		fprintf(out, "%s\n", marker(e));
	}
	if (f->more)
		fprintf(out, "%s (more events than %d: name one)\n", t,
		    CTL_WATCH_EVENTS_MAX);
}

/* One event in full: its figures and a row per node. */
static void
draw_event(FILE *out, const struct frame *f, const struct watch_event *e)
{
	char r[32];

	fprintf(out, "%s%s\n\n", e->id, marker(e));
	fprintf(out, "  sold    %10" PRIu64 " of %" PRIu64 "   %s per s\n",
	    e->w.sold, e->w.total, rate_text(r, sizeof(r), e));
	fprintf(out, "  held    %10" PRIu64 "\n", e->w.held);
	fprintf(out, "  pool    %10" PRIu64 "\n", e->w.pool);
	fprintf(out, "  leased  %10" PRIu64 "\n\n", e->leased);
	fprintf(out, "  %-16s %10s %10s\n", "node", "lease", "held");
	for (size_t k = 0; k < e->w.node_count; k++) {
		const char *id = e->w.nodes[k].node;
		fprintf(out, "  %-16s %10" PRIu64 " %10" PRIu64 "   %s\n", id,
		    e->w.nodes[k].lease, e->w.nodes[k].held,
		    !is_stock_node(id)   ? "(waitlist offers)"
		        : node_up(f, id) ? "up"
		                         : "DOWN");
	}
}

/* The terminal: the screen cleared and drawn again. */
static void
draw_screen(FILE *out, const struct frame *f, const ctl_watch_opts *o)
{
	char t[16], r[32];

	fputs("\033[H\033[2J", out);
	fprintf(out,
	    "ticketctl watch%s%s - Redis %s - %s, every %.1f s - "
	    "Ctrl-C stops\n\n",
	    o->event_id ? " " : "", o->event_id ? o->event_id : "",
	    o->redis_addr, hhmmss(t, sizeof(t), tr_wall_ms()),
	    (double)o->interval_ms / 1000.0);
	if (f->rv != 0) {
		print_error(out, f, o);
		return;
	}
	if (o->event_id != NULL) {
		draw_event(out, f, &f->events[0]);
	} else if (f->event_count == 0) {
		fprintf(out, "no events in Redis\n");
	} else {
		fprintf(out, "%-24s %10s %10s %8s %8s %10s %10s\n", "event",
		    "sold", "total", "per s", "held", "pool", "leased");
		for (size_t i = 0; i < f->event_count; i++) {
			const struct watch_event *e = &f->events[i];
			fprintf(out,
			    "%-24s %10" PRIu64 " %10" PRIu64 " %8s "
			    "%8" PRIu64 " %10" PRIu64 " %10" PRIu64 "%s\n",
			    e->id, e->w.sold, e->w.total,
			    rate_text(r, sizeof(r), e), e->w.held, e->w.pool,
			    e->leased, marker(e));
		}
		if (f->more)
			fprintf(out,
			    "(more events than %d: name one to see "
			    "it alone)\n",
			    CTL_WATCH_EVENTS_MAX);
		fprintf(out, "\nleases per node: ticketctl watch EVENT\n");
	}
	fputc('\n', out);
	print_nodes_up(out, f);
}

static void
draw(const struct frame *f, const ctl_watch_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	/* What ends the watch is an error message, not a view. */
	if (!o->json && f->rv != 0 && !unreachable(f->rv)) {
		fprintf(stderr, "ticketctl: ");
		print_error(stderr, f, o);
		return;
	}
	/* Drawn whole, then written at once: no half screen on a tty, and a
	 * line reaches a pipe as soon as it is drawn. */
	if ((m = open_memstream(&text, &len)) == NULL)
		return;
	if (o->json)
		draw_json(m, f, o);
	else if (o->tty)
		draw_screen(m, f, o);
	else
		draw_lines(m, f, o);
	fclose(m);
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	free(text);
}

/* ---- the loop ----------------------------------------------------------- */

/* Sleep until the monotonic deadline; false if a signal asked to stop. */
static bool
sleep_until(int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - tr_mono_ms();
		struct timespec ts;
		if (stop_signal)
			return false;
		if (left <= 0)
			return true;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
			return true;
	}
}

int
ctl_watch_run(tr_coord *coord, const ctl_watch_opts *o)
{
	struct frame *frames = calloc(2, sizeof(*frames));
	tr_call *calls = calloc(CTL_WATCH_EVENTS_MAX, sizeof(*calls));
	struct frame *good = NULL, *work;
	struct sigaction sa, old_int, old_term;
	int64_t next = tr_mono_ms();
	int code = 0;

	if (frames == NULL || calls == NULL) {
		fprintf(stderr, "ticketctl: out of memory\n");
		free(frames);
		free(calls);
		return 1;
	}
	/* No SA_RESTART: the sleep between refreshes ends at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	stop_signal = 0;

	for (uint64_t i = 0; o->count == 0 || i < o->count; i++) {
		if (i > 0 && !sleep_until(next))
			break;
		work = good == &frames[0] ? &frames[1] : &frames[0];
		refresh(coord, o, work, calls);
		if (work->rv == 0)
			rates(work, good);
		draw(work, o);
		if (work->rv == 0) {
			good = work;
			code = 0;
		} else if (unreachable(work->rv)) {
			code = 3;
		} else {
			code = 1; /* no such event, or an answer not read */
			break;
		}
		/* On the beat; a refresh that took longer skips beats. */
		next += (int64_t)o->interval_ms;
		if (next < tr_mono_ms())
			next = tr_mono_ms();
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(frames);
	free(calls);
	return code;
}
