/* report: the result of a trload run, written as JSON (and read back) and as
 * one self-contained HTML page with inline SVG charts. No sockets, no
 * clocks: only the FILE * it is given. */
#ifndef TR_REPORT_H
#define TR_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "httpc.h"
#include "loadhist.h"

#define TR_REPORT_VERSION 1
#define TR_STATUS_SLOTS 600 /* HTTP statuses 0..599 */
#define TR_NODES_MAX 64
#define TR_NODE_NAME_MAX 32
#define TR_SLOT_MS 100      /* time series resolution */

enum tr_op { TR_OP_RESERVE, TR_OP_CONFIRM, TR_OP_COUNT };

/* The "error" codes of docs/HTTP-API.md, counted by name. TR_EC_OTHER
 * counts an unknown code or an error answer without one. */
enum tr_ecode {
	TR_EC_SOLD_OUT,
	TR_EC_LIMIT_EXCEEDED,
	TR_EC_DUPLICATE,
	TR_EC_OVERLOADED,
	TR_EC_UNAVAILABLE,
	TR_EC_NOT_FOUND,
	TR_EC_NOT_OPEN,
	TR_EC_CONFLICT,
	TR_EC_EXPIRED,
	TR_EC_NOT_OWNER,
	TR_EC_INVALID,
	TR_EC_INVALID_JSON,
	TR_EC_REQUEST_TIMEOUT,
	TR_EC_INTERNAL,
	TR_EC_NO_ROUTE,
	TR_EC_METHOD_NOT_ALLOWED,
	TR_EC_BODY_TOO_LARGE,
	TR_EC_HEADERS_TOO_LARGE,
	TR_EC_OTHER,
	TR_EC_COUNT
};

/* The API's name of an error code ("sold_out", ...; "other"). */
const char *tr_ecode_name(int ec);
/* The code named by s[0..n); TR_EC_OTHER if it is none of them. */
int tr_ecode_parse(const char *s, size_t n);
/* "reserve" or "confirm". */
const char *tr_op_name(int op);

/* What one kind of request got. */
typedef struct tr_opstats {
	uint64_t status[TR_STATUS_SLOTS]; /* answers by HTTP status */
	uint64_t errors[TR_EC_COUNT];     /* non-2xx answers by "error" */
	uint64_t transport[TR_XP_COUNT];  /* requests that got no answer */
	uint64_t retries;                 /* requests sent again */
	tr_hist latency_us;               /* answered requests */
} tr_opstats;

/* Successes of one stock node. */
typedef struct tr_nodecount {
	char name[TR_NODE_NAME_MAX + 1];
	uint64_t reserved;   /* 201 answers naming it in "node" */
	uint64_t rid_prefix; /* 201 answers whose reservation id starts
	                      * "<name>." (should equal reserved) */
	uint64_t confirmed;  /* confirm 200 answers naming it in "node" */
} tr_nodecount;

/* One phase of a run: "main" (the rush) or "tail" (late buyers). */
typedef struct tr_phase {
	char name[16];
	char stopped_by[16]; /* done, sold_out, tail_seconds, max_seconds,
	                      * signal, unreachable */
	int64_t start_ms;    /* since the run started */
	int64_t end_ms;
	int concurrency;
	uint64_t attempts;   /* users whose attempt is finished */
	uint64_t reserved;   /* ... that got a 201 */
	uint64_t confirmed;  /* ... and whose confirm got a 200 */
	uint64_t abandoned;  /* ... who left their hold on purpose */
	uint64_t confirm_failed; /* confirms that ended without a 200 */
	uint64_t bad_answers; /* 2xx answers without the fields we need */
	tr_opstats op[TR_OP_COUNT];
	tr_nodecount nodes[TR_NODES_MAX];
	size_t n_nodes;
	uint64_t nodes_dropped; /* successes of nodes past TR_NODES_MAX */
} tr_phase;

/* One answer of GET /v1/events/{event}. */
typedef struct tr_eventinfo {
	bool valid;
	int64_t t_ms;        /* since the run started */
	int64_t total, sold, available, held, hold_ms;
	char state[16];
} tr_eventinfo;

/* A whole run. Allocate with tr_run_new; series and polls have the fixed
 * capacities given there, so the hot path never allocates. */
typedef struct tr_run {
	/* Configuration, as given (tail_seconds -1: automatic). */
	char target[64];
	char event[72];
	char user_prefix[40];
	uint64_t users;
	int concurrency, threads;
	double abandon;
	int64_t max_seconds, tail_seconds, timeout_ms;
	int tail_concurrency, tail_rate, confirm_retries, poll_ms;

	/* Outcome. */
	int64_t started_wall_ms; /* Unix ms */
	int64_t wall_ms;         /* whole run */
	char stopped_by[16];     /* how the run as a whole ended */
	int64_t tail_seconds_used; /* tail budget applied (0: no tail) */
	tr_eventinfo at_start, at_end;
	tr_phase phase[2];
	size_t n_phases;

	/* Per TR_SLOT_MS since the start: finished attempts, 201s and
	 * confirm 200s (all phases). */
	size_t n_slots, cap_slots;
	uint64_t *s_attempts, *s_reserved, *s_confirmed;
	/* Every successful poll of the event, in time order. */
	size_t n_polls, cap_polls;
	tr_eventinfo *polls;
} tr_run;

/* Figures derived from a run, the same in every output. */
typedef struct tr_verdict {
	int64_t total, sold, held;  /* -1: the event could not be read */
	int64_t left_unsold;        /* total - sold at the end, -1 unknown */
	bool oversold;              /* sold > total */
	uint64_t attempts;          /* all phases */
	uint64_t main_attempts, tail_attempts;
	double main_seconds;
	double attempts_per_s;      /* main phase */
	uint64_t reserved, confirmed, abandoned;
	uint64_t transport_errors;
	uint64_t error_answers;     /* non-2xx answers */
} tr_verdict;

/* A row the rush script adds to the verdict table (extra.json). */
typedef struct tr_extra_row {
	char name[96];
	char value[200];
	char verdict[8];  /* pass, fail, warn or info */
	char note[240];
} tr_extra_row;

/* A run with room for cap_slots series slots and cap_polls polls, every
 * counter zero and both phases empty. NULL if out of memory. */
tr_run *tr_run_new(size_t cap_slots, size_t cap_polls);
void tr_run_free(tr_run *run);

/* Empty a phase and name it. */
void tr_phase_init(tr_phase *p, const char *name);

/* Add src's counts into dst (per-thread phases into the run's). Node
 * counts are matched by name. */
void tr_phase_merge(tr_phase *dst, const tr_phase *src);

/* The counters of node name in p, added if new. NULL when the table is
 * full (the caller counts nodes_dropped). */
tr_nodecount *tr_phase_node(tr_phase *p, const char *name);

/* Derive the verdict figures. */
void tr_run_verdict(const tr_run *run, tr_verdict *v);

/* Write run as one JSON document (see docs/LOADTOOL.md for the fields).
 * Returns 0 or TR_EIO if the stream failed. */
int tr_report_write_json(const tr_run *run, FILE *f);

/* Read back a document tr_report_write_json wrote (text[0..len)). On
 * success *out is a new run the caller frees with tr_run_free; on failure
 * (TR_EPROTO: not JSON or not ours; TR_ENOMEM) *out is untouched. */
int tr_report_read_json(const char *text, size_t len, tr_run **out);

/* Parse extra verdict rows: {"rows": [{"name", "value", "verdict",
 * "note"}, ...]} and/or top-level scalar members (each becomes a row named
 * after its key). Values of any JSON type are shown as text. On success
 * *rows (free with free()) and *n are set; TR_EPROTO on bad JSON. */
int tr_report_read_extra(const char *text, size_t len, tr_extra_row **rows,
    size_t *n);

/* Write the HTML report: title, verdict table (extra rows first), charts
 * (rates, tickets left, latency distributions), detail tables. No scripts,
 * no external resources. Returns 0, TR_EIO (the stream failed) or
 * TR_ENOMEM. */
int tr_report_write_html(const tr_run *run, const tr_extra_row *rows,
    size_t n_rows, FILE *f);

/* Write the human summary table (plain text) for the end of a run. */
void tr_report_write_summary(const tr_run *run, FILE *f);

/* v with thousands separators ("1234567" -> "1,234,567") into buf;
 * returns buf. */
const char *tr_report_thousands(char *buf, size_t cap, uint64_t v);

#endif
