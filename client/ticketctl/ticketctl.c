/* ticketctl: the operators' command line for stock nodes and the
 * coordinator. Exit codes: 0 done; 1 the node or audit said no; 2 usage;
 * 3 could not reach the node or Redis (timeout, refused). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_print.h"
#include "ctl_watch.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_event.h"
#include "tr_ids.h"
#include "tr_log.h"
#include "tr_parse.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

static const char *data_url = "tcp://127.0.0.1:7001";
static const char *admin_url = "tcp://127.0.0.1:7101";
static const char *redis_addr = "127.0.0.1:6379";
static bool redis_cluster;
static int timeout_ms = 3000;
static bool json;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ticketctl [options] COMMAND [ARGS]\n"
	    "Operate ticketrush stock nodes.\n"
	    "\n"
	    "commands:\n"
	    "  status                         the node's state and counters "
	    "(admin)\n"
	    "  event create ID --total N [--limit-per-user K] [--hold DUR]\n"
	    "               [--opens-at TIME] [--waitlist-max N] [--offer "
	    "DUR]\n"
	    "                                 create an event (admin); TIME "
	    "is\n"
	    "                                 'now', +DUR, unix ms or\n"
	    "                                 YYYY-MM-DDTHH:MM:SSZ\n"
	    "  event show ID                  an event as the node sees it\n"
	    "  event topup ID N               add N tickets to the event's "
	    "stock, on\n"
	    "                                 sale or not (admin; not "
	    "idempotent: after\n"
	    "                                 a timeout, event show before "
	    "retrying)\n"
	    "  event close ID                 stop the sale now: new "
	    "reservations answer\n"
	    "                                 closed; holds stay confirmable "
	    "(admin)\n"
	    "  event reopen ID                resume a closed sale (admin)\n"
	    "  event list [--offset N] [--count N]\n"
	    "                                 a page of the events the node "
	    "knows\n"
	    "                                 (admin; default 100, at most "
	    "1000)\n"
	    "  event all [--cursor C] [--count N]\n"
	    "                                 a page of every event, from "
	    "Redis\n"
	    "                                 (default 100, at most 1000); "
	    "prints the\n"
	    "                                 cursor of the next page (0: the "
	    "end)\n"
	    "  reserve EVENT USER [--qty N] [--request-id ID]\n"
	    "  confirm RESERVATION USER [--payment-ref REF]\n"
	    "  release RESERVATION USER\n"
	    "  drain [EVENT]                  stop selling here, give stock "
	    "back (admin)\n"
	    "  waitlist show EVENT [--count N] the line: length, offers, "
	    "counts, the\n"
	    "                                 first N buyers (admin; default "
	    "10, at\n"
	    "                                 most 100)\n"
	    "  waitlist join|get|leave EVENT USER [--request-id ID]\n"
	    "  refund RESERVATION USER        give a paid ticket back (to the "
	    "line)\n"
	    "  audit EVENT                    check the ledger in Redis: "
	    "conservation,\n"
	    "                                 oversell, holds and their "
	    "indexes,\n"
	    "                                 per-user limit, orders\n"
	    "  watch [EVENT] [--count N] [--interval DUR] [--json]\n"
	    "                                 live view from Redis, refreshed "
	    "every\n"
	    "                                 --interval (default 1s, "
	    "100ms..10m):\n"
	    "                                 sold, held, pool, leases per "
	    "node,\n"
	    "                                 sales per second, nodes up; "
	    "without\n"
	    "                                 EVENT the first 20 events; "
	    "--count N\n"
	    "                                 refreshes (default 0: until "
	    "Ctrl-C or\n"
	    "                                 SIGTERM); --json: one object a "
	    "line\n"
	    "\n"
	    "options:\n"
	    "  --url URL         node URL for every command (default: data "
	    "commands\n"
	    "                    tcp://127.0.0.1:7001, admin commands\n"
	    "                    tcp://127.0.0.1:7101)\n"
	    "  --redis HOST:PORT[,HOST:PORT...]\n"
	    "                    Redis for audit, event all and watch "
	    "(default\n"
	    "                    127.0.0.1:6379); several addresses: the "
	    "seeds of a\n"
	    "                    Redis Cluster\n"
	    "  --redis-cluster   --redis names a Redis Cluster even with one "
	    "address\n"
	    "  --timeout DUR     per call (default 3s)\n"
	    "  --json            print JSON (also for errors)\n"
	    "  -h, --help\n"
	    "exit: 0 ok, 1 refused (sold out, not found, audit failed...), 2 "
	    "usage,\n"
	    "3 unreachable.\n");
}

static int
fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ticketctl: %s%s%s\n", msg, arg ? ": " : "",
	    arg ? arg : "");
	fprintf(stderr, "try 'ticketctl --help'\n");
	return EXIT_USAGE;
}

static int
show_transport_error(const char *url, int rv, tr_client *c)
{
	const char *what = rv == TR_ETIMEDOUT ? "timed out"
	    : rv == TR_EPROTO
	    ? "answered something that is not a Reply"
	    : "cannot connect (no connection within the timeout)";
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;
		cJSON_AddStringToObject(o, "status",
		    rv == TR_ETIMEDOUT ? "timed_out" : "unavailable");
		cJSON_AddStringToObject(o, "detail", what);
		cJSON_AddStringToObject(o, "url", url);
		s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else {
		fprintf(stderr, "ticketctl: %s: %s%s%s\n", url, what,
		    c && tr_client_last_error(c)[0] ? " - " : "",
		    c ? tr_client_last_error(c) : "");
	}
	return EXIT_UNREACHABLE;
}

/* Print a reply; returns the exit code. */
static int
show(const Ticketrush__Reply *r, int rv)
{
	if (json) {
		cJSON *o = ctl_reply_json(r);
		char *s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else if (rv == 0) {
		ctl_reply_print(stdout, r);
	} else {
		fprintf(stderr, "ticketctl: %s: %s\n", tr_strerror(rv),
		    r->detail);
		ctl_reply_print(stderr, r);
	}
	return rv == 0 ? 0 : EXIT_REFUSED;
}

typedef int (*call_fn)(tr_client *c, Ticketrush__Reply **out, void *arg);

static int
with_node(const char *url, call_fn fn, void *arg)
{
	tr_client *c = NULL;
	Ticketrush__Reply *r = NULL;
	int rv, code;

	if ((rv = tr_client_open(url, timeout_ms, &c)) != 0) {
		if (rv == TR_EINVALID)
			return fail_usage("bad URL", url);
		return show_transport_error(url, rv, NULL);
	}
	rv = fn(c, &r, arg);
	if (r == NULL)
		code = show_transport_error(url, rv, c);
	else
		code = show(r, rv);
	tr_reply_free(r);
	tr_client_close(c);
	return code;
}

/* ---- commands ----------------------------------------------------------- */

struct args {
	const char *a, *b, *c;
	const char *sub; /* waitlist: join, get, leave, show */
	uint64_t total, hold_ms;
	uint32_t limit, qty;
	int64_t opens_at;
	uint64_t offset, count, cursor; /* event list, event all */
	uint64_t waitlist_max, offer_ms;
};

static int
call_status(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	(void)arg;
	return tr_client_status(c, out);
}

static int
call_list(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_list_events(c, (uint32_t)a->offset,
	    (uint32_t)a->count, out);
}

static int
call_show(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_get_event(c, a->a, out);
}

static int
call_create(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_create_event_wl(c, a->a, a->total, a->limit,
	    a->hold_ms, a->opens_at, a->waitlist_max, a->offer_ms, out);
}

static int
call_reserve(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_reserve(c, a->a, a->b, a->qty, a->c, out);
}

static int
call_confirm(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_confirm(c, a->a, a->b, a->c, out);
}

static int
call_release(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_release(c, a->a, a->b, out);
}

static int
call_wl(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	if (strcmp(a->sub, "join") == 0)
		return tr_client_waitlist_join(c, a->a, a->b, a->c, out);
	if (strcmp(a->sub, "get") == 0)
		return tr_client_waitlist_get(c, a->a, a->b, out);
	return tr_client_waitlist_leave(c, a->a, a->b, out);
}

static int
call_wl_show(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_waitlist_show(c, a->a, (uint32_t)a->count, out);
}

static int
call_refund(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_refund(c, a->a, a->b, out);
}

static int
call_drain(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_drain(c, a->a, out);
}

static int
call_topup(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_top_up(c, a->a, a->total, out);
}

static int
call_close(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_close_sale(c, a->a, out);
}

static int
call_reopen(tr_client *c, Ticketrush__Reply **out, void *arg)
{
	struct args *a = arg;
	return tr_client_reopen_sale(c, a->a, out);
}

static int
open_redis(tr_coord **coord)
{
	tr_coord_opts o = {NULL, 0, timeout_ms, redis_addr, redis_cluster};

	if (tr_coord_addrs_count(redis_addr) < 0)
		return fail_usage("bad --redis (HOST:PORT[,HOST:PORT...])",
		    redis_addr);
	if (tr_coord_open(&o, false, coord) != 0) {
		fprintf(stderr, "ticketctl: cannot reach Redis at %s\n",
		    redis_addr);
		return EXIT_UNREACHABLE;
	}
	return 0;
}

/* A page of every event, straight from Redis: their ids by SSCAN, their
 * figures in one pipeline. */
static int
cmd_event_all(const struct args *a)
{
	char(*ids)[TR_EVENT_ID_MAX + 1] = calloc(a->count, sizeof(*ids));
	tr_call *calls = calloc(a->count, sizeof(*calls));
	tr_call **ptrs = calloc(a->count, sizeof(*ptrs));
	uint64_t cursor = a->cursor;
	tr_coord *coord = NULL;
	cJSON *arr = NULL;
	size_t n = 0;
	int rv;

	if (ids == NULL || calls == NULL || ptrs == NULL) {
		rv = EXIT_REFUSED;
		goto out;
	}
	if ((rv = open_redis(&coord)) != 0)
		goto out;
	if ((rv = tr_coord_event_page(coord, &cursor, ids, a->count, &n)) !=
	    0) {
		fprintf(stderr, "ticketctl: cannot list events: %s\n",
		    tr_strerror(rv));
		rv = EXIT_UNREACHABLE;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		tr_call_info(&calls[i], ids[i]);
		ptrs[i] = &calls[i];
	}
	tr_coord_run(coord, ptrs, n);
	if (json)
		arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		tr_event_info e;
		if (tr_result_info(&calls[i], &e) != 0)
			continue; /* deleted meanwhile */
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "event_id", ids[i]);
			cJSON_AddNumberToObject(o, "total", (double)e.total);
			cJSON_AddNumberToObject(o, "sold", (double)e.sold);
			cJSON_AddNumberToObject(o, "held", (double)e.held);
			cJSON_AddNumberToObject(o, "pool", (double)e.pool);
			cJSON_AddNumberToObject(o, "limit_per_user",
			    e.limit_per_user);
			cJSON_AddNumberToObject(o, "hold_ms",
			    (double)e.hold_ms);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%-24s total %" PRIu64 ", sold %" PRIu64
			       ", held %" PRIu64 ", pool %" PRIu64 "\n",
			    ids[i], e.total, e.sold, e.held, e.pool);
		}
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;
		cJSON_AddItemToObject(o, "events", arr);
		char next[24];
		/* A string: SSCAN cursors use all 64 bits. */
		snprintf(next, sizeof(next), "%" PRIu64, cursor);
		cJSON_AddStringToObject(o, "next_cursor", next);
		s = cJSON_PrintUnformatted(o);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(o);
	} else {
		printf("next cursor %" PRIu64 "%s\n", cursor,
		    cursor == 0 ? " (the end)" : "");
	}
	rv = 0;
out:
	for (size_t i = 0; calls != NULL && i < n; i++)
		tr_call_done(&calls[i]);
	tr_coord_close(coord);
	free(ids);
	free(calls);
	free(ptrs);
	return rv;
}

static int
cmd_audit(const char *event_id)
{
	int rv, failed, count;
	tr_coord *coord = NULL;
	tr_call k, *kp = &k;
	tr_audit a;
	ctl_check checks[CTL_AUDIT_CHECKS];

	if (!tr_event_id_valid(event_id))
		return fail_usage("bad event id", event_id);
	if ((rv = open_redis(&coord)) != 0)
		return rv;
	tr_call_audit(&k, event_id);
	tr_coord_run(coord, &kp, 1);
	rv = tr_result_audit(&k, &a);
	tr_call_done(&k);
	tr_coord_close(coord);
	if (rv == TR_ENOT_FOUND) {
		fprintf(stderr, "ticketctl: no event %s in Redis\n", event_id);
		return EXIT_REFUSED;
	}
	if (rv != 0) {
		fprintf(stderr, "ticketctl: audit failed: %s\n",
		    tr_strerror(rv));
		return rv == TR_EIO || rv == TR_ETIMEDOUT ||
		        rv == TR_EUNAVAILABLE
		    ? EXIT_UNREACHABLE
		    : EXIT_REFUSED;
	}
	failed = ctl_audit_checks(&a, checks, &count);
	if (json) {
		cJSON *j = cJSON_CreateObject(), *arr, *nodes;
		char *s;
		cJSON_AddStringToObject(j, "event_id", event_id);
		cJSON_AddBoolToObject(j, "ok", failed == 0);
		cJSON_AddNumberToObject(j, "total", (double)a.total);
		cJSON_AddNumberToObject(j, "sold", (double)a.sold);
		cJSON_AddNumberToObject(j, "pool", (double)a.pool);
		cJSON_AddNumberToObject(j, "held", (double)a.held);
		cJSON_AddNumberToObject(j, "live_holds", (double)a.live_holds);
		cJSON_AddNumberToObject(j, "leases", (double)a.lease_sum);
		cJSON_AddNumberToObject(j, "orders", (double)a.orders_count);
		cJSON_AddNumberToObject(j, "buyers", (double)a.buyers_count);
		cJSON_AddNumberToObject(j, "max_per_user",
		    (double)a.max_per_user);
		nodes = cJSON_AddObjectToObject(j, "lease_by_node");
		for (size_t i = 0; i < a.node_count; i++)
			cJSON_AddNumberToObject(nodes, a.nodes[i].node,
			    (double)a.nodes[i].lease);
		arr = cJSON_AddArrayToObject(j, "checks");
		for (int i = 0; i < count; i++) {
			cJSON *c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "name", checks[i].name);
			cJSON_AddBoolToObject(c, "ok", checks[i].ok);
			cJSON_AddStringToObject(c, "detail", checks[i].detail);
			cJSON_AddItemToArray(arr, c);
		}
		s = cJSON_PrintUnformatted(j);
		printf("%s\n", s);
		cJSON_free(s);
		cJSON_Delete(j);
	} else {
		printf("audit of %s: total %" PRIu64 ", sold %" PRIu64
		       ", held %" PRIu64 " in %" PRIu64
		       " hold(s), pool %" PRIu64 ", leased %" PRIu64
		       ", %" PRIu64 " order(s), %" PRIu64 " buyer(s)\n",
		    event_id, a.total, a.sold, a.held, a.live_holds, a.pool,
		    a.lease_sum, a.orders_count, a.buyers_count);
		for (size_t i = 0; i < a.node_count; i++)
			printf("  node %-16s lease %" PRId64 ", epoch %" PRIu64
			       "\n",
			    a.nodes[i].node, a.nodes[i].lease,
			    a.nodes[i].epoch);
		for (int i = 0; i < count; i++)
			printf("  %s %-20s %s\n",
			    checks[i].ok ? "PASS" : "FAIL", checks[i].name,
			    checks[i].detail);
		printf("%s\n", failed ? "AUDIT FAILED" : "audit passed");
	}
	return failed ? EXIT_REFUSED : 0;
}

/* watch [EVENT] [--count N] [--interval DUR] [--json]: --json may also
 * follow the command, as scripts tend to write it. */
static int
cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {{"count", 1, NULL, 'c'},
	    {"interval", 1, NULL, 'i'}, {"json", 0, NULL, 'j'},
	    {NULL, 0, NULL, 0}};
	ctl_watch_opts w = {.interval_ms = 1000, .redis_addr = redis_addr};
	tr_coord *coord = NULL;
	int opt, rv;

	optind = 0; /* 0: glibc re-initialises (the first scan used "+") */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (tr_parse_u64(optarg, 0, 1000000, &w.count))
				return fail_usage("--count must be 0..1000000 "
				                  "(0: until Ctrl-C)",
				    optarg);
			break;
		case 'i':
			if (tr_parse_duration_ms(optarg, 600000,
			        &w.interval_ms) ||
			    w.interval_ms < 100)
				return fail_usage("--interval must be a "
				                  "duration of 100ms..10m",
				    optarg);
			break;
		case 'j': json = true; break;
		default: return fail_usage("unknown option for watch", NULL);
		}
	}
	/* getopt_long moved the positional arguments after the options. */
	if (optind < argc)
		w.event_id = argv[optind++];
	if (optind < argc)
		return fail_usage("watch takes one event id at most",
		    argv[optind]);
	if (w.event_id != NULL && !tr_event_id_valid(w.event_id))
		return fail_usage("bad event id (1-64 of [A-Za-z0-9._:-])",
		    w.event_id);
	w.json = json;
	w.tty = !json && isatty(STDOUT_FILENO);
	if ((rv = open_redis(&coord)) != 0)
		return rv;
	rv = ctl_watch_run(coord, &w);
	tr_coord_close(coord);
	return rv;
}

/* Parse the options that follow a command's positional arguments. */
static int
parse_cmd_opts(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {{"total", 1, NULL, 't'},
	    {"limit-per-user", 1, NULL, 'l'}, {"hold", 1, NULL, 'H'},
	    {"opens-at", 1, NULL, 'o'}, {"qty", 1, NULL, 'q'},
	    {"request-id", 1, NULL, 'r'}, {"payment-ref", 1, NULL, 'p'},
	    {"offset", 1, NULL, 'O'}, {"count", 1, NULL, 'c'},
	    {"cursor", 1, NULL, 'C'}, {"waitlist-max", 1, NULL, 'W'},
	    {"offer", 1, NULL, 'F'}, {NULL, 0, NULL, 0}};
	uint64_t v;
	int opt;

	optind = 0; /* 0: glibc re-initialises (the first scan used "+") */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (tr_parse_u64(optarg, 1, TR_TOTAL_MAX, &a->total))
				return fail_usage(
				    "--total must be " TR_TOTAL_RANGE, optarg);
			break;
		case 'l':
			if (tr_parse_u64(optarg, 1, TR_LIMIT_PER_USER_MAX, &v))
				return fail_usage(
				    "--limit-per-user must "
				    "be " TR_LIMIT_PER_USER_RANGE,
				    optarg);
			a->limit = (uint32_t)v;
			break;
		case 'H':
			if (tr_parse_duration_ms(optarg, TR_HOLD_MS_MAX,
			        &a->hold_ms) ||
			    a->hold_ms == 0)
				return fail_usage(
				    "--hold must be a duration " TR_HOLD_RANGE
				    " (e.g. 15m)",
				    optarg);
			break;
		case 'o':
			if (tr_parse_time_ms(optarg, tr_wall_ms(),
			        &a->opens_at))
				return fail_usage(
				    "--opens-at must be now, "
				    "+DUR, unix ms or YYYY-MM-DDTHH:MM:SSZ",
				    optarg);
			break;
		case 'q':
			if (tr_parse_u64(optarg, 1, TR_QTY_MAX, &v))
				return fail_usage(
				    "--qty must be " TR_QTY_RANGE, optarg);
			a->qty = (uint32_t)v;
			break;
		case 'O':
			if (tr_parse_u64(optarg, 0, 100000000, &a->offset))
				return fail_usage("--offset must be "
				                  "0..100000000",
				    optarg);
			break;
		case 'c':
			if (tr_parse_u64(optarg, 1, 1000, &a->count))
				return fail_usage("--count must be 1..1000",
				    optarg);
			break;
		case 'C':
			if (tr_parse_u64(optarg, 0, UINT64_MAX, &a->cursor))
				return fail_usage("--cursor must be a number "
				                  "printed by the last page",
				    optarg);
			break;
		case 'W':
			if (tr_parse_u64(optarg, 0, TR_WAITLIST_MAX,
			        &a->waitlist_max))
				return fail_usage(
				    "--waitlist-max must be " TR_WAITLIST_RANGE
				    " (0: 100000)",
				    optarg);
			break;
		case 'F':
			if (tr_parse_duration_ms(optarg, TR_HOLD_MS_MAX,
			        &a->offer_ms))
				return fail_usage("--offer must be a "
				                  "duration " TR_OFFER_RANGE
				                  " (0: the hold)",
				    optarg);
			break;
		case 'r':
			if (!tr_request_id_valid(optarg))
				return fail_usage("--request-id must be 0-64 "
				                  "of [A-Za-z0-9._:-]",
				    optarg);
			a->c = optarg;
			break;
		case 'p':
			if (!tr_payment_ref_valid(optarg))
				return fail_usage("--payment-ref must be "
				                  "0-128 printable chars",
				    optarg);
			a->c = optarg;
			break;
		default:
			return fail_usage("unknown option for this command",
			    NULL);
		}
	}
	return 0;
}

/* The positional arguments after argv[0] (the command), up to max; -1 if
 * there are more. Options are skipped with their values. */
static int
positionals(int argc, char **argv, const char **pos, int max)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			i++; /* every command option takes a value */
			continue;
		}
		if (n == max)
			return -1;
		pos[n++] = argv[i];
	}
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"url", 1, NULL, 'u'},
	    {"redis", 1, NULL, 'r'}, {"redis-cluster", 0, NULL, 'C'},
	    {"timeout", 1, NULL, 't'}, {"json", 0, NULL, 'j'},
	    {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct args a = {0};
	const char *pos[3] = {NULL, NULL, NULL};
	const char *cmd;
	uint64_t v;
	int opt, np, rv;

	tr_log_init("ticketctl", TR_LOG_ERROR);
	/* Global options come before the command ("+": stop at it). */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': data_url = admin_url = optarg; break;
		case 'r': redis_addr = optarg; break;
		case 'C': redis_cluster = true; break;
		case 't':
			if (tr_parse_duration_ms(optarg, 600000, &v) || v == 0)
				return fail_usage("bad --timeout", optarg);
			timeout_ms = (int)v;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	a.qty = 1;

	if (strcmp(cmd, "event") == 0) {
		if (argc < 2)
			return fail_usage("event needs create, show, list, "
			                  "all, topup, close or reopen",
			    NULL);
		cmd = argv[1];
		argc--;
		argv++;
		np = positionals(argc, argv, pos, 2);
		if (np < 0)
			return fail_usage("too many arguments", NULL);
		if ((rv = parse_cmd_opts(argc, argv, &a)) != 0)
			return rv;
		a.a = pos[0];
		if (a.count == 0)
			a.count = 100;
		if (strcmp(cmd, "list") == 0)
			return with_node(admin_url, call_list, &a);
		if (strcmp(cmd, "all") == 0)
			return cmd_event_all(&a);
		if (strcmp(cmd, "topup") == 0) {
			if (np != 2 || !tr_event_id_valid(a.a))
				return fail_usage("event topup needs an event "
				                  "id and a number of tickets",
				    NULL);
			if (tr_parse_u64(pos[1], 1, TR_TOTAL_MAX, &a.total))
				return fail_usage("the number of tickets "
				                  "must be " TR_TOTAL_RANGE,
				    pos[1]);
			return with_node(admin_url, call_topup, &a);
		}
		if (np != 1 || !tr_event_id_valid(a.a))
			return fail_usage(
			    "event create/show/close/reopen needs "
			    "an event id of 1-64 [A-Za-z0-9._:-]",
			    a.a);
		if (strcmp(cmd, "close") == 0)
			return with_node(admin_url, call_close, &a);
		if (strcmp(cmd, "reopen") == 0)
			return with_node(admin_url, call_reopen, &a);
		if (strcmp(cmd, "show") == 0)
			return with_node(data_url, call_show, &a);
		if (strcmp(cmd, "create") == 0) {
			if (a.total == 0)
				return fail_usage("event create needs "
				                  "--total N",
				    NULL);
			return with_node(admin_url, call_create, &a);
		}
		return fail_usage("unknown event command", cmd);
	}
	if (strcmp(cmd, "waitlist") == 0) {
		if (argc < 2)
			return fail_usage("waitlist needs show, join, get or "
			                  "leave",
			    NULL);
		a.sub = argv[1];
		argc--;
		argv++;
		np = positionals(argc, argv, pos, 2);
		if (np < 0)
			return fail_usage("too many arguments", NULL);
		if ((rv = parse_cmd_opts(argc, argv, &a)) != 0)
			return rv;
		a.a = pos[0];
		a.b = pos[1];
		if (np < 1 || !tr_event_id_valid(a.a))
			return fail_usage("waitlist needs an event id of 1-64 "
			                  "[A-Za-z0-9._:-]",
			    a.a);
		if (strcmp(a.sub, "show") == 0 && np == 1) {
			if (a.count > TR_WL_SHOW_MAX)
				return fail_usage("--count must be 1..100",
				    NULL);
			return with_node(admin_url, call_wl_show, &a);
		}
		if ((strcmp(a.sub, "join") == 0 || strcmp(a.sub, "get") == 0 ||
		        strcmp(a.sub, "leave") == 0) &&
		    np == 2) {
			if (!tr_user_id_valid(a.b))
				return fail_usage("bad user id (1-64 of "
				                  "[A-Za-z0-9._:@-])",
				    a.b);
			return with_node(data_url, call_wl, &a);
		}
		return fail_usage("unknown waitlist command or wrong number "
		                  "of arguments",
		    a.sub);
	}
	if (strcmp(cmd, "watch") == 0)
		return cmd_watch(argc, argv);
	np = positionals(argc, argv, pos, 2);
	if (np < 0)
		return fail_usage("too many arguments", NULL);
	if ((rv = parse_cmd_opts(argc, argv, &a)) != 0)
		return rv;
	a.a = pos[0];
	a.b = pos[1];
	if (strcmp(cmd, "status") == 0 && np == 0)
		return with_node(admin_url, call_status, &a);
	if (strcmp(cmd, "drain") == 0 && np <= 1) {
		if (a.a && !tr_event_id_valid(a.a))
			return fail_usage("bad event id", a.a);
		return with_node(admin_url, call_drain, &a);
	}
	if (strcmp(cmd, "audit") == 0 && np == 1)
		return cmd_audit(a.a);
	if (strcmp(cmd, "reserve") == 0 && np == 2) {
		if (!tr_event_id_valid(a.a))
			return fail_usage("bad event id", a.a);
		if (!tr_user_id_valid(a.b))
			return fail_usage("bad user id (1-64 of "
			                  "[A-Za-z0-9._:@-])",
			    a.b);
		return with_node(data_url, call_reserve, &a);
	}
	if ((strcmp(cmd, "confirm") == 0 || strcmp(cmd, "release") == 0 ||
	        strcmp(cmd, "refund") == 0) &&
	    np == 2) {
		char node[TR_NODE_ID_MAX + 1];
		if (!tr_rid_parse(a.a, node, NULL))
			return fail_usage("bad reservation id (expected "
			                  "<node>.<16 hex>)",
			    a.a);
		if (!tr_user_id_valid(a.b))
			return fail_usage("bad user id", a.b);
		return with_node(data_url,
		    cmd[0] == 'c'                    ? call_confirm
		        : strcmp(cmd, "refund") == 0 ? call_refund
		                                     : call_release,
		    &a);
	}
	return fail_usage("unknown command or wrong number of arguments", cmd);
}
