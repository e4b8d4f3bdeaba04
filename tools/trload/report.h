/* report: the result of a trload run, written as JSON (and read back) and as
 * one self-contained HTML page with inline SVG charts. No sockets, no
 * clocks: only the FILE * it is given. */
#ifndef TL_REPORT_H
#define TL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "httpc.h"
#include "linecheck.h"
#include "loadhist.h"
#include "tr_api_error.h"
#include "tr_ids.h"

#define TL_REPORT_VERSION 1
#define TL_STATUS_SLOTS 600 /* HTTP statuses 0..599 */
#define TL_NODE_NAME_MAX 32
#define TL_SLOT_MS 100 /* time series resolution */

enum tl_op { TL_OP_RESERVE, TL_OP_CONFIRM, TL_OP_COUNT };

/* "reserve" or "confirm". */
const char *tl_op_name(int op);

/* What one kind of request got. */
typedef struct tl_opstats {
	uint64_t status[TL_STATUS_SLOTS]; /* answers by HTTP status */
	/* Non-2xx answers by their "error" code (enum tr_api_error;
	 * TR_API_OTHER: an unknown code, or none). */
	uint64_t errors[TR_API_ERROR_COUNT];
	uint64_t transport[TL_XP_COUNT]; /* requests that got no answer */
	uint64_t retries;                /* requests sent again */
	tl_hist latency_us;              /* answered requests */
} tl_opstats;

/* Successes of one stock node. */
typedef struct tl_nodecount {
	char name[TL_NODE_NAME_MAX + 1];
	uint64_t reserved;   /* 201 answers naming it in "node" */
	uint64_t rid_prefix; /* 201 answers whose reservation id starts
	                      * "<name>." (should equal reserved) */
	uint64_t confirmed;  /* confirm 200 answers naming it in "node" */
} tl_nodecount;

/* One phase of a run: "main" (the rush) or "tail" (late buyers). */
typedef struct tl_phase {
	char name[16];
	char stopped_by[16]; /* done, sold_out, tail_seconds, max_seconds,
	                      * signal, unreachable */
	int64_t start_ms;    /* since the run started */
	int64_t end_ms;
	int concurrency;
	uint64_t attempts;       /* users whose attempt is finished */
	uint64_t reserved;       /* ... that got a 201 */
	uint64_t confirmed;      /* ... and whose confirm got a 200 */
	uint64_t abandoned;      /* ... who left their hold on purpose */
	uint64_t confirm_failed; /* confirms that ended without a 200 */
	uint64_t bad_answers;    /* 2xx answers without the fields we need */
	tl_opstats op[TL_OP_COUNT];
	tl_nodecount nodes[TR_NODES_MAX];
	size_t n_nodes;
	uint64_t nodes_dropped; /* successes of nodes past TR_NODES_MAX */
} tl_phase;

/* One answer of GET /v1/events/{event}. */
typedef struct tl_eventinfo {
	bool valid;
	int64_t t_ms; /* since the run started */
	int64_t total, sold, available, held, hold_ms;
	int64_t pool;     /* the coordinator's unleased tickets */
	int64_t waitlist; /* buyers in line */
	int64_t offers;   /* offers made and not yet paid or expired */
	char state[16];
} tl_eventinfo;

/* The requests of the waitlist's buyers and of refunds. */
enum tl_line_op {
	TL_LOP_JOIN,    /* POST /v1/events/{e}/waitlist */
	TL_LOP_WAIT,    /* GET .../waitlist/{user}?wait=: a long poll */
	TL_LOP_CONFIRM, /* confirm of an offer */
	TL_LOP_LEAVE,   /* DELETE .../waitlist/{user} */
	TL_LOP_REFUND,  /* POST /v1/orders/{id}/refund */
	TL_LOP_COUNT
};

/* "join", "wait", "confirm", "leave" or "refund". */
const char *tl_line_op_name(int op);

/* What the buyers who joined the waitlist, and the buyers who refunded, did
 * and saw (all zero when none did). */
typedef struct tl_line {
	char stopped_by[16];   /* the line phase: done, quiet, line_seconds,
	                        * max_seconds, signal; "" if it did not run */
	int64_t start_ms;      /* the line phase: after the main phase, */
	int64_t end_ms;        /* until the buyers still waiting left */
	uint64_t joiners;      /* buyers told sold out who went to join */
	uint64_t joined;       /* ... whose join was answered 2xx */
	uint64_t join_refused; /* ... refused or never answered */
	uint64_t offered;      /* joiners who saw an offer */
	uint64_t confirmed;    /* ... and paid it (2xx) */
	uint64_t lapsed;       /* ... let it expire on purpose, and saw so */
	uint64_t lost;         /* ... whose confirm was refused */
	uint64_t left;         /* waiting when the line phase ended: left */
	uint64_t left_offered; /* ... with an offer just made to them */
	uint64_t skipped;      /* passed over: told "skipped" */
	uint64_t refunders;    /* buyers who paid and went to refund */
	uint64_t refunded;     /* ... answered 2xx */
	/* Offers to a later joiner than one of the tool's buyers who waited
	 * on (tl_line_order_check over what the tool saw); -1 unknown. */
	int64_t order_violations;
	/* Tickets in the pool while buyers waited, for longer than a node
	 * sync can explain (tl_line_unsold_while_waiting over the polls). */
	int64_t unsold_while_waiting;
	tl_opstats op[TL_LOP_COUNT];
} tl_line;

/* A whole run. Allocate with tl_run_new; series and polls have the fixed
 * capacities given there, so the hot path never allocates. */
typedef struct tl_run {
	/* Configuration, as given (tail_seconds -1: automatic). */
	char target[64];
	char event[72];
	char user_prefix[40];
	uint64_t users;
	int concurrency, threads;
	double abandon;
	int64_t max_seconds, tail_seconds, timeout_ms;
	int tail_concurrency, tail_rate, confirm_retries, poll_ms;
	double waitlist_share, lapse, refund_share;
	int waiters, refunds_max;
	int64_t wait_ms, refund_after_ms, line_seconds;

	/* Outcome. */
	int64_t started_wall_ms;   /* Unix ms */
	int64_t wall_ms;           /* whole run */
	char stopped_by[16];       /* how the run as a whole ended */
	int64_t tail_seconds_used; /* tail budget applied (0: no tail) */
	tl_eventinfo at_start, at_end;
	tl_phase phase[2];
	size_t n_phases;
	tl_line line;

	/* Per TL_SLOT_MS since the start: finished attempts, 201s and
	 * confirm 200s (all phases). */
	size_t n_slots, cap_slots;
	uint64_t *s_attempts, *s_reserved, *s_confirmed;
	/* Per slot, the waitlist's: joins answered 2xx, offers seen, offers
	 * paid, refunds answered 2xx. */
	uint64_t *s_joined, *s_offered, *s_offer_confirmed, *s_refunded;
	/* Every successful poll of the event, in time order. */
	size_t n_polls, cap_polls;
	tl_eventinfo *polls;
} tl_run;

/* Figures derived from a run, the same in every output. */
typedef struct tl_verdict {
	int64_t total, sold, held; /* -1: the event could not be read */
	int64_t left_unsold;       /* total - sold at the end, -1 unknown */
	bool oversold;             /* sold > total */
	uint64_t attempts;         /* all phases */
	uint64_t main_attempts, tail_attempts;
	double main_seconds;
	double attempts_per_s; /* main phase */
	uint64_t reserved, confirmed, abandoned;
	uint64_t transport_errors;
	uint64_t error_answers; /* non-2xx answers */
} tl_verdict;

/* A row the rush script adds to the verdict table (extra.json). */
typedef struct tl_extra_row {
	char name[96];
	char value[200];
	char verdict[8]; /* pass, fail, warn or info */
	char note[240];
} tl_extra_row;

/* A run with room for cap_slots series slots and cap_polls polls, every
 * counter zero and both phases empty. NULL if out of memory. */
tl_run *tl_run_new(size_t cap_slots, size_t cap_polls);
void tl_run_free(tl_run *run);

/* Empty a phase and name it. */
void tl_phase_init(tl_phase *p, const char *name);

/* Add src's counts into dst (per-thread phases into the run's). Node
 * counts are matched by name. */
void tl_phase_merge(tl_phase *dst, const tl_phase *src);

/* The counters of node name in p, added if new. NULL when the table is
 * full (the caller counts nodes_dropped). */
tl_nodecount *tl_phase_node(tl_phase *p, const char *name);

/* Derive the verdict figures. */
void tl_run_verdict(const tl_run *run, tl_verdict *v);

/* Write run as one JSON document (see docs/LOADTOOL.md for the fields).
 * Returns 0 or TR_EIO if the stream failed. */
int tl_report_write_json(const tl_run *run, FILE *f);

/* Read back a document tl_report_write_json wrote (text[0..len)). On
 * success *out is a new run the caller frees with tl_run_free; on failure
 * (TR_EPROTO: not JSON or not ours; TR_ENOMEM) *out is untouched. A number
 * beyond its field's range saturates there; JSON trload does not write
 * (a number no double holds, raw control bytes, nesting past 64, a number
 * of more than 64 characters) is TR_EPROTO. */
int tl_report_read_json(const char *text, size_t len, tl_run **out);

/* Parse extra verdict rows: {"rows": [{"name", "value", "verdict",
 * "note"}, ...]} and/or top-level scalar members (each becomes a row named
 * after its key). Values of any JSON type are shown as text (a number as
 * its double prints: 1.50 as 1.5). On success *rows (free with free())
 * and *n are set; TR_EPROTO on bad JSON, as tl_report_read_json refuses
 * it. */
int tl_report_read_extra(const char *text, size_t len, tl_extra_row **rows,
    size_t *n);

/* Read the waitlist's records of an event as scripts/demo gathers them from
 * Redis: {"offers": [{"seq", "ret_ms", "offer_ms"}, ...] in the order
 * made (the llog stream), "entries": [{"seq", "state", "offer", "t_ms"},
 * ...] (the lent hash: state one of W O C X L S, offer the reservation id
 * of its offer or ""), other members ignored. On success *offers and
 * *entries (free both with free()) and their counts are set; TR_EPROTO on
 * JSON tl_report_read_json refuses, or without both arrays, or an element
 * without its numbers; TR_ENOMEM. Nothing is set on failure. */
int tl_report_read_line_log(const char *text, size_t len, tl_offer **offers,
    size_t *n_offers, tl_entry **entries, size_t *n_entries);

/* Write the HTML report: title, verdict table (extra rows first), charts
 * (rates, tickets left, the waitlist if anyone joined, latency
 * distributions), detail tables. No scripts,
 * no external resources. Returns 0, TR_EIO (the stream failed) or
 * TR_ENOMEM. */
int tl_report_write_html(const tl_run *run, const tl_extra_row *rows,
    size_t n_rows, FILE *f);

/* Write the human summary table (plain text) for the end of a run. */
void tl_report_write_summary(const tl_run *run, FILE *f);

/* v with thousands separators ("1234567" -> "1,234,567") into buf;
 * returns buf. */
const char *tl_report_thousands(char *buf, size_t cap, uint64_t v);

#endif
