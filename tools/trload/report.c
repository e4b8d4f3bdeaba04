/* report: a trload run as JSON (both ways), as an HTML page with inline SVG
 * charts, and as a plain-text summary. */
#include "report.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "tr_err.h"

/* ---- Names and the run model ------------------------------------------ */

const char *
tl_op_name(int op)
{
	return op == TL_OP_CONFIRM ? "confirm" : "reserve";
}

const char *
tl_line_op_name(int op)
{
	static const char *names[TL_LOP_COUNT] = {"join", "wait", "confirm",
	    "leave", "refund"};
	return op >= 0 && op < TL_LOP_COUNT ? names[op] : "?";
}

static void
opstats_init(tl_opstats *o)
{
	memset(o, 0, sizeof(*o));
	tl_hist_init(&o->latency_us);
}

void
tl_phase_init(tl_phase *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	for (int i = 0; i < TL_OP_COUNT; i++)
		opstats_init(&p->op[i]);
}

tl_nodecount *
tl_phase_node(tl_phase *p, const char *name)
{
	for (size_t i = 0; i < p->n_nodes; i++)
		if (strcmp(p->nodes[i].name, name) == 0)
			return &p->nodes[i];
	if (p->n_nodes == TR_NODES_MAX)
		return NULL;
	memset(&p->nodes[p->n_nodes], 0, sizeof(p->nodes[0]));
	snprintf(p->nodes[p->n_nodes].name, sizeof(p->nodes[0].name), "%s",
	    name);
	return &p->nodes[p->n_nodes++];
}

static void
opstats_merge(tl_opstats *d, const tl_opstats *s)
{
	for (int i = 0; i < TL_STATUS_SLOTS; i++)
		d->status[i] += s->status[i];
	for (int i = 0; i < TR_API_ERROR_COUNT; i++)
		d->errors[i] += s->errors[i];
	for (int i = 0; i < TL_XP_COUNT; i++)
		d->transport[i] += s->transport[i];
	d->retries += s->retries;
	tl_hist_merge(&d->latency_us, &s->latency_us);
}

void
tl_phase_merge(tl_phase *dst, const tl_phase *src)
{
	dst->attempts += src->attempts;
	dst->reserved += src->reserved;
	dst->confirmed += src->confirmed;
	dst->abandoned += src->abandoned;
	dst->confirm_failed += src->confirm_failed;
	dst->bad_answers += src->bad_answers;
	dst->nodes_dropped += src->nodes_dropped;
	for (int i = 0; i < TL_OP_COUNT; i++)
		opstats_merge(&dst->op[i], &src->op[i]);
	for (size_t i = 0; i < src->n_nodes; i++) {
		const tl_nodecount *s = &src->nodes[i];
		tl_nodecount *d = tl_phase_node(dst, s->name);
		if (d == NULL) {
			dst->nodes_dropped += s->reserved;
			continue;
		}
		d->reserved += s->reserved;
		d->rid_prefix += s->rid_prefix;
		d->confirmed += s->confirmed;
	}
}

tl_run *
tl_run_new(size_t cap_slots, size_t cap_polls)
{
	tl_run *run = calloc(1, sizeof(*run));

	if (run == NULL)
		return NULL;
	if (cap_slots == 0)
		cap_slots = 1;
	if (cap_polls == 0)
		cap_polls = 1;
	run->s_attempts = calloc(cap_slots, sizeof(uint64_t));
	run->s_reserved = calloc(cap_slots, sizeof(uint64_t));
	run->s_confirmed = calloc(cap_slots, sizeof(uint64_t));
	run->s_joined = calloc(cap_slots, sizeof(uint64_t));
	run->s_offered = calloc(cap_slots, sizeof(uint64_t));
	run->s_offer_confirmed = calloc(cap_slots, sizeof(uint64_t));
	run->s_refunded = calloc(cap_slots, sizeof(uint64_t));
	run->polls = calloc(cap_polls, sizeof(tl_eventinfo));
	if (!run->s_attempts || !run->s_reserved || !run->s_confirmed ||
	    !run->s_joined || !run->s_offered || !run->s_offer_confirmed ||
	    !run->s_refunded || !run->polls)
		goto fail;
	run->cap_slots = cap_slots;
	run->cap_polls = cap_polls;
	run->tail_seconds = -1;
	tl_phase_init(&run->phase[0], "main");
	tl_phase_init(&run->phase[1], "tail");
	for (int i = 0; i < TL_LOP_COUNT; i++)
		opstats_init(&run->line.op[i]);
	snprintf(run->stopped_by, sizeof(run->stopped_by), "done");
	return run;
fail:
	tl_run_free(run);
	return NULL;
}

void
tl_run_free(tl_run *run)
{
	if (run == NULL)
		return;
	free(run->s_attempts);
	free(run->s_reserved);
	free(run->s_confirmed);
	free(run->s_joined);
	free(run->s_offered);
	free(run->s_offer_confirmed);
	free(run->s_refunded);
	free(run->polls);
	free(run);
}

static uint64_t
op_answers(const tl_opstats *o)
{
	uint64_t n = 0;
	for (int i = 0; i < TL_STATUS_SLOTS; i++)
		n += o->status[i];
	return n;
}

static uint64_t
op_transport(const tl_opstats *o)
{
	uint64_t n = 0;
	for (int i = 0; i < TL_XP_COUNT; i++)
		n += o->transport[i];
	return n;
}

static uint64_t
op_error_answers(const tl_opstats *o)
{
	uint64_t n = 0;
	for (int i = 300; i < TL_STATUS_SLOTS; i++)
		n += o->status[i];
	return n;
}

/* total - sold, saturating: the figures come from a gateway's answers or
 * a file, so they may be anything, and signed overflow is undefined. */
static int64_t
tickets_left(int64_t total, int64_t sold)
{
	int64_t left;

	if (__builtin_sub_overflow(total, sold, &left))
		return sold < 0 ? INT64_MAX : INT64_MIN;
	return left;
}

static double
phase_seconds(const tl_phase *p)
{
	/* In doubles: the ends may come from a file, and their difference
	 * need not fit an int64. */
	return p->end_ms > p->start_ms
	    ? ((double)p->end_ms - (double)p->start_ms) / 1000.0
	    : 0.0;
}

void
tl_run_verdict(const tl_run *run, tl_verdict *v)
{
	const tl_eventinfo *e = &run->at_end;

	memset(v, 0, sizeof(*v));
	v->total = e->valid ? e->total : -1;
	v->sold = e->valid ? e->sold : -1;
	v->held = e->valid ? e->held : -1;
	v->left_unsold = -1; /* unknown */
	if (e->valid) {
		v->left_unsold = tickets_left(e->total, e->sold);
		if (v->left_unsold < 0)
			v->left_unsold = 0; /* oversold: nothing is left */
	}
	v->oversold = e->valid && e->sold > e->total;
	for (size_t i = 0; i < run->n_phases; i++) {
		const tl_phase *p = &run->phase[i];
		v->attempts += p->attempts;
		v->reserved += p->reserved;
		v->confirmed += p->confirmed;
		v->abandoned += p->abandoned;
		for (int k = 0; k < TL_OP_COUNT; k++) {
			v->transport_errors += op_transport(&p->op[k]);
			v->error_answers += op_error_answers(&p->op[k]);
		}
	}
	if (run->n_phases > 0) {
		v->main_attempts = run->phase[0].attempts;
		v->main_seconds = phase_seconds(&run->phase[0]);
		if (v->main_seconds > 0)
			v->attempts_per_s =
			    (double)v->main_attempts / v->main_seconds;
	}
	if (run->n_phases > 1)
		v->tail_attempts = run->phase[1].attempts;
}

/* Did anyone join the line or refund, or did the event show a line? */
static bool
line_active(const tl_run *run)
{
	if (run->line.joiners > 0 || run->line.refunders > 0)
		return true;
	for (size_t i = 0; i < run->n_polls; i++)
		if (run->polls[i].waitlist > 0)
			return true;
	return false;
}

/* The last poll at or before t_ms, or NULL. */
static const tl_eventinfo *
poll_at(const tl_run *run, int64_t t_ms)
{
	const tl_eventinfo *best = NULL;
	for (size_t i = 0; i < run->n_polls && run->polls[i].t_ms <= t_ms; i++)
		best = &run->polls[i];
	return best;
}

/* ---- JSON writer ------------------------------------------------------ */

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
json_hist(FILE *f, const tl_hist *h)
{
	bool first = true;

	fprintf(f,
	    "{\"count\":%" PRIu64 ",\"min\":%" PRIu64 ",\"mean\":%.1f,"
	    "\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
	    ",\"p99_9\":%" PRIu64 ",\"max\":%" PRIu64 ",\"sum\":%" PRIu64
	    ",\"buckets\":[",
	    h->count, h->count ? h->min : 0, tl_hist_mean(h),
	    tl_hist_percentile(h, 50), tl_hist_percentile(h, 90),
	    tl_hist_percentile(h, 99), tl_hist_percentile(h, 99.9), h->max,
	    h->sum);
	for (size_t i = 0; i < TL_HIST_BUCKETS; i++) {
		uint64_t lo, hi;
		if (h->buckets[i] == 0)
			continue;
		tl_hist_bucket_range(i, &lo, &hi);
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", lo,
		    h->buckets[i]);
		first = false;
	}
	fputs("]}", f);
}

static void
json_op(FILE *f, const tl_opstats *o)
{
	bool first = true;

	fprintf(f,
	    "{\"requests\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"status\":{",
	    op_answers(o) + op_transport(o), op_answers(o));
	for (int i = 0; i < TL_STATUS_SLOTS; i++) {
		if (o->status[i] == 0)
			continue;
		fprintf(f, "%s\"%d\":%" PRIu64, first ? "" : ",", i,
		    o->status[i]);
		first = false;
	}
	fputs("},\"errors\":{", f);
	first = true;
	for (int i = 0; i < TR_API_ERROR_COUNT; i++) {
		if (o->errors[i] == 0)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
		    tr_api_error_name(i), o->errors[i]);
		first = false;
	}
	fputs("},\"transport\":{", f);
	for (int i = 0; i < TL_XP_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", tl_xport_name(i),
		    o->transport[i]);
	fprintf(f, "},\"retries\":%" PRIu64 ",\"latency_us\":", o->retries);
	json_hist(f, &o->latency_us);
	fputc('}', f);
}

static void
json_event(FILE *f, const tl_eventinfo *e)
{
	if (!e->valid) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"t_ms\":%" PRId64 ",\"state\":", e->t_ms);
	json_str(f, e->state);
	fprintf(f,
	    ",\"total\":%" PRId64 ",\"sold\":%" PRId64
	    ",\"available\":%" PRId64 ",\"held\":%" PRId64
	    ",\"hold_ms\":%" PRId64 ",\"pool\":%" PRId64
	    ",\"waitlist\":%" PRId64 ",\"offers\":%" PRId64 "}",
	    e->total, e->sold, e->available, e->held, e->hold_ms, e->pool,
	    e->waitlist, e->offers);
}

static void
json_phase(FILE *f, const tl_phase *p)
{
	double s = phase_seconds(p);

	fputs("{\"name\":", f);
	json_str(f, p->name);
	fputs(",\"stopped_by\":", f);
	json_str(f, p->stopped_by);
	fprintf(f,
	    ",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
	    ",\"seconds\":%.3f,\"concurrency\":%d,\"attempts\":%" PRIu64
	    ",\"attempts_per_s\":%.1f,\"requests_per_s\":%.1f,\"reserved\":"
	    "%" PRIu64 ",\"confirmed\":%" PRIu64 ",\"abandoned\":%" PRIu64
	    ",\"confirm_failed\":%" PRIu64 ",\"bad_answers\":%" PRIu64
	    ",\"ops\":{\"reserve\":",
	    p->start_ms, p->end_ms, s, p->concurrency, p->attempts,
	    s > 0 ? (double)p->attempts / s : 0.0,
	    s > 0 ? (double)(op_answers(&p->op[0]) + op_answers(&p->op[1])) / s
	          : 0.0,
	    p->reserved, p->confirmed, p->abandoned, p->confirm_failed,
	    p->bad_answers);
	json_op(f, &p->op[TL_OP_RESERVE]);
	fputs(",\"confirm\":", f);
	json_op(f, &p->op[TL_OP_CONFIRM]);
	fputs("},\"nodes\":[", f);
	for (size_t i = 0; i < p->n_nodes; i++) {
		fputs(i ? ",{\"node\":" : "{\"node\":", f);
		json_str(f, p->nodes[i].name);
		fprintf(f,
		    ",\"reserved\":%" PRIu64 ",\"rid_prefix\":%" PRIu64
		    ",\"confirmed\":%" PRIu64 "}",
		    p->nodes[i].reserved, p->nodes[i].rid_prefix,
		    p->nodes[i].confirmed);
	}
	fprintf(f, "],\"nodes_dropped\":%" PRIu64 "}", p->nodes_dropped);
}

static void
json_line(FILE *f, const tl_line *l)
{
	fputs("{\"stopped_by\":", f);
	json_str(f, l->stopped_by);
	fprintf(f,
	    ",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
	    ",\"joiners\":%" PRIu64 ",\"joined\":%" PRIu64
	    ",\"join_refused\":%" PRIu64 ",\"offered\":%" PRIu64
	    ",\"confirmed\":%" PRIu64 ",\"lapsed\":%" PRIu64
	    ",\"lost\":%" PRIu64 ",\"left\":%" PRIu64
	    ",\"left_offered\":%" PRIu64 ",\"skipped\":%" PRIu64
	    ",\"refunders\":%" PRIu64 ",\"refunded\":%" PRIu64
	    ",\"order_violations\":",
	    l->start_ms, l->end_ms, l->joiners, l->joined, l->join_refused,
	    l->offered, l->confirmed, l->lapsed, l->lost, l->left,
	    l->left_offered, l->skipped, l->refunders, l->refunded);
	if (l->order_violations >= 0)
		fprintf(f, "%" PRId64, l->order_violations);
	else
		fputs("null", f);
	fprintf(f, ",\"unsold_while_waiting\":%" PRId64 ",\"ops\":{",
	    l->unsold_while_waiting);
	for (int i = 0; i < TL_LOP_COUNT; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", tl_line_op_name(i));
		json_op(f, &l->op[i]);
	}
	fputs("}}", f);
}

static void
json_u64s(FILE *f, const char *name, const uint64_t *v, size_t n)
{
	fprintf(f, "\"%s\":[", name);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", v[i]);
	fputc(']', f);
}

/* Which figure of a poll a series shows. */
enum {
	PF_LEFT,
	PF_AVAILABLE,
	PF_HELD,
	PF_TOTAL,
	PF_SOLD,
	PF_POOL,
	PF_WAITLIST,
	PF_OFFERS,
	PF_T
};

static int64_t
poll_field(const tl_eventinfo *e, int which)
{
	switch (which) {
	case PF_LEFT: return tickets_left(e->total, e->sold);
	case PF_AVAILABLE: return e->available;
	case PF_HELD: return e->held;
	case PF_TOTAL: return e->total;
	case PF_SOLD: return e->sold;
	case PF_POOL: return e->pool;
	case PF_WAITLIST: return e->waitlist;
	case PF_OFFERS: return e->offers;
	default: return e->t_ms;
	}
}

/* A per-slot series of the last poll's figure (null before any poll). */
static void
json_slot_polls(FILE *f, const tl_run *run, const char *name, int which)
{
	fprintf(f, "\"%s\":[", name);
	for (size_t i = 0; i < run->n_slots; i++) {
		const tl_eventinfo *e =
		    poll_at(run, (int64_t)(i + 1) * TL_SLOT_MS);
		if (i)
			fputc(',', f);
		if (e)
			fprintf(f, "%" PRId64, poll_field(e, which));
		else
			fputs("null", f);
	}
	fputc(']', f);
}

static void
json_polls(FILE *f, const tl_run *run, const char *name, int which)
{
	fprintf(f, "\"%s\":[", name);
	for (size_t i = 0; i < run->n_polls; i++)
		fprintf(f, "%s%" PRId64, i ? "," : "",
		    poll_field(&run->polls[i], which));
	fputc(']', f);
}

int
tl_report_write_json(const tl_run *run, FILE *f)
{
	tl_verdict v;
	tl_phase all;

	tl_run_verdict(run, &v);
	fprintf(f,
	    "{\"tool\":\"trload\",\"version\":%d,\"config\":{\"target\":",
	    TL_REPORT_VERSION);
	json_str(f, run->target);
	fputs(",\"event\":", f);
	json_str(f, run->event);
	fputs(",\"user_prefix\":", f);
	json_str(f, run->user_prefix);
	fprintf(f,
	    ",\"users\":%" PRIu64 ",\"concurrency\":%d,\"threads\":%d,"
	    "\"abandon\":%.4f,\"max_seconds\":%" PRId64
	    ",\"tail_seconds\":%" PRId64
	    ",\"tail_concurrency\":%d,\"tail_rate\":%d,\"timeout_ms\":%" PRId64
	    ",\"confirm_retries\":%d,\"poll_ms\":%d",
	    run->users, run->concurrency, run->threads, run->abandon,
	    run->max_seconds, run->tail_seconds, run->tail_concurrency,
	    run->tail_rate, run->timeout_ms, run->confirm_retries,
	    run->poll_ms);
	fprintf(f,
	    ",\"waitlist_share\":%.4f,\"waiters\":%d,\"wait_ms\":%" PRId64
	    ",\"lapse\":%.4f,\"refund_share\":%.4f,\"refunds_max\":%d,"
	    "\"refund_after_ms\":%" PRId64 ",\"line_seconds\":%" PRId64 "},",
	    run->waitlist_share, run->waiters, run->wait_ms, run->lapse,
	    run->refund_share, run->refunds_max, run->refund_after_ms,
	    run->line_seconds);
	fprintf(f,
	    "\"started_at_ms\":%" PRId64 ",\"wall_ms\":%" PRId64
	    ",\"wall_seconds\":%.3f,\"stopped_by\":",
	    run->started_wall_ms, run->wall_ms, (double)run->wall_ms / 1000.0);
	json_str(f, run->stopped_by);

	fprintf(f,
	    ",\"verdict\":{\"total\":%" PRId64 ",\"sold\":%" PRId64
	    ",\"held\":%" PRId64
	    ",\"tickets_left_unsold_while_demand_remained\":",
	    v.total, v.sold, v.held);
	if (v.left_unsold >= 0)
		fprintf(f, "%" PRId64, v.left_unsold);
	else
		fputs("null", f);
	fprintf(f,
	    ",\"oversold\":%s,\"attempts\":%" PRIu64
	    ",\"main_attempts\":%" PRIu64 ",\"tail_attempts\":%" PRIu64
	    ",\"main_seconds\":%.3f,"
	    "\"attempts_per_s\":%.1f,\"reserved\":%" PRIu64
	    ",\"confirmed\":%" PRIu64 ",\"abandoned\":%" PRIu64
	    ",\"error_answers\":%" PRIu64 ",\"transport_errors\":%" PRIu64
	    "},",
	    v.oversold ? "true" : "false", v.attempts, v.main_attempts,
	    v.tail_attempts, v.main_seconds, v.attempts_per_s, v.reserved,
	    v.confirmed, v.abandoned, v.error_answers, v.transport_errors);

	fputs("\"event\":{\"at_start\":", f);
	json_event(f, &run->at_start);
	fputs(",\"at_end\":", f);
	json_event(f, &run->at_end);
	fprintf(f, ",\"tail_seconds_used\":%" PRId64 "},\"line\":",
	    run->tail_seconds_used);
	json_line(f, &run->line);
	fputs(",\"phases\":[", f);
	for (size_t i = 0; i < run->n_phases; i++) {
		if (i)
			fputc(',', f);
		json_phase(f, &run->phase[i]);
	}

	/* The whole run per op, so a reader need not add phases up. */
	tl_phase_init(&all, "all");
	for (size_t i = 0; i < run->n_phases; i++)
		tl_phase_merge(&all, &run->phase[i]);
	fputs("],\"ops\":{\"reserve\":", f);
	json_op(f, &all.op[TL_OP_RESERVE]);
	fputs(",\"confirm\":", f);
	json_op(f, &all.op[TL_OP_CONFIRM]);
	fputs("},\"nodes\":[", f);
	for (size_t i = 0; i < all.n_nodes; i++) {
		fputs(i ? ",{\"node\":" : "{\"node\":", f);
		json_str(f, all.nodes[i].name);
		fprintf(f,
		    ",\"reserved\":%" PRIu64 ",\"rid_prefix\":%" PRIu64
		    ",\"confirmed\":%" PRIu64 "}",
		    all.nodes[i].reserved, all.nodes[i].rid_prefix,
		    all.nodes[i].confirmed);
	}

	fprintf(f, "],\"series\":{\"slot_ms\":%d,", TL_SLOT_MS);
	json_u64s(f, "attempts", run->s_attempts, run->n_slots);
	fputc(',', f);
	json_u64s(f, "reserved", run->s_reserved, run->n_slots);
	fputc(',', f);
	json_u64s(f, "confirmed", run->s_confirmed, run->n_slots);
	fputc(',', f);
	json_u64s(f, "joined", run->s_joined, run->n_slots);
	fputc(',', f);
	json_u64s(f, "offered", run->s_offered, run->n_slots);
	fputc(',', f);
	json_u64s(f, "offer_confirmed", run->s_offer_confirmed, run->n_slots);
	fputc(',', f);
	json_u64s(f, "refunded", run->s_refunded, run->n_slots);
	fputc(',', f);
	json_slot_polls(f, run, "left", PF_LEFT);
	fputc(',', f);
	json_slot_polls(f, run, "available", PF_AVAILABLE);
	fputc(',', f);
	json_slot_polls(f, run, "held", PF_HELD);
	fputs("},\"polls\":{", f);
	json_polls(f, run, "t_ms", PF_T);
	fputc(',', f);
	json_polls(f, run, "total", PF_TOTAL);
	fputc(',', f);
	json_polls(f, run, "sold", PF_SOLD);
	fputc(',', f);
	json_polls(f, run, "available", PF_AVAILABLE);
	fputc(',', f);
	json_polls(f, run, "held", PF_HELD);
	fputc(',', f);
	json_polls(f, run, "pool", PF_POOL);
	fputc(',', f);
	json_polls(f, run, "waitlist", PF_WAITLIST);
	fputc(',', f);
	json_polls(f, run, "offers", PF_OFFERS);
	fputs("}}\n", f);
	return ferror(f) ? TR_EIO : 0;
}

/* ---- JSON reader (cJSON, and the checks it leaves to us) -------------- */

#define JSON_DEPTH_MAX 64  /* arrays and objects, one inside the other */
#define JSON_NUMBER_MAX 64 /* characters of one number */

static bool
json_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Four hex digits at s[0..len). */
static bool
json_hex4(const char *s, size_t len)
{
	if (len < 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* cJSON reads more than JSON, and more than trload writes: it takes every
 * byte up to 0x20 for white space, skips a byte order mark, copies control
 * bytes into strings, reads a \u without four hex digits as U+0000 and
 * (Debian's, since the fix of CVE-2023-26819) a number of any length.
 * Such bytes are refused here, before cJSON sees them. */
static bool
json_bytes_ok(const char *s, size_t len)
{
	size_t num = 0; /* characters of the number being read */
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (in_str) {
			if (c < 0x20)
				return false;
			if (c == '"')
				in_str = false;
			if (c != '\\' || i + 1 == len)
				continue;
			/* An escape: \u and four hex digits, or one byte. */
			if (s[++i] == 'u') {
				if (!json_hex4(s + i + 1, len - i - 1))
					return false;
				i += 4;
			}
			continue;
		}
		if (c >= 0x80 || (c < 0x20 && !json_ws(c)))
			return false;
		num = strchr("+-.0123456789eE", c) ? num + 1 : 0;
		if (num > JSON_NUMBER_MAX)
			return false;
		in_str = c == '"';
	}
	return true;
}

/* The tree cJSON built: nesting within JSON_DEPTH_MAX (cJSON allows 1,000
 * levels), and no number a double cannot hold. JSON has 1e999; cJSON makes
 * it infinite, trload never writes one, and it would be written back as
 * "inf", which is not JSON. */
static bool
json_tree_ok(const cJSON *n, int depth)
{
	for (; n != NULL; n = n->next) {
		if (cJSON_IsNumber(n) && !isfinite(n->valuedouble))
			return false;
		if ((cJSON_IsArray(n) || cJSON_IsObject(n)) &&
		    (depth == JSON_DEPTH_MAX ||
		        !json_tree_ok(n->child, depth + 1)))
			return false;
	}
	return true;
}

/* text[0..len) as one JSON value, or NULL: not JSON, or JSON trload cannot
 * have written (above). Free it with cJSON_Delete. */
static cJSON *
json_parse(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if (!json_bytes_ok(text, len))
		return NULL;
	/* cJSON reads at most len bytes and stops after the value, where
	 * only white space may follow. */
	if ((root = cJSON_ParseWithLengthOpts(text, len, &end, false)) == NULL)
		return NULL;
	while (end < text + len && json_ws((unsigned char)*end))
		end++;
	if (end != text + len || !json_tree_ok(root, 0)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* o's member key, or NULL (also when o is no object). Keys match exactly,
 * as they were written: cJSON_GetObjectItem would ignore case. Of a key
 * given twice the first counts. */
static const cJSON *
jget(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key)
	                         : NULL;
}

/* The members of an object, the elements of an array. */
static size_t
jcount(const cJSON *n)
{
	size_t k = 0;

	for (n = n->child; n != NULL; n = n->next)
		k++;
	return k;
}

/* A number read as a double, converted saturating: out of the target's
 * range a C conversion is undefined, and a JSON number may be anything.
 * cJSON keeps numbers as doubles only, so integers are exact up to 2^53
 * (a run's figures stay far below: ms since 1970 are 1.8e12) and the ends
 * of int64 and uint64 read as themselves. */
static int64_t
num_i64(double d)
{
	if (d >= 9223372036854775808.0) /* 2^63 */
		return INT64_MAX;
	if (d < -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static uint64_t
num_u64(double d)
{
	if (!(d > 0))
		return 0;
	if (d >= 18446744073709551616.0) /* 2^64 */
		return UINT64_MAX;
	return (uint64_t)d;
}

static int64_t
jnum_i64(const cJSON *n, int64_t dflt)
{
	return cJSON_IsNumber(n) ? num_i64(n->valuedouble) : dflt;
}

static int64_t
ji64(const cJSON *o, const char *key, int64_t dflt)
{
	return jnum_i64(jget(o, key), dflt);
}

/* An int field saturates too; the conversion from int64 would cut it to
 * 32 bits (implementation-defined, and no figure trload wrote). cJSON's
 * valueint saturates the same way, but only its source says so. */
static int
jint(const cJSON *o, const char *key)
{
	int64_t v = ji64(o, key, 0);

	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

static uint64_t
jnum_u64(const cJSON *n)
{
	return cJSON_IsNumber(n) ? num_u64(n->valuedouble) : 0;
}

static uint64_t
ju64(const cJSON *o, const char *key)
{
	return jnum_u64(jget(o, key));
}

static void
jstrcpy(const cJSON *o, const char *key, char *out, size_t cap)
{
	const cJSON *n = jget(o, key);

	if (cJSON_IsString(n))
		snprintf(out, cap, "%s", n->valuestring);
}

static void
read_event(const cJSON *o, tl_eventinfo *e)
{
	memset(e, 0, sizeof(*e));
	if (!cJSON_IsObject(o))
		return;
	e->valid = true;
	e->t_ms = ji64(o, "t_ms", 0);
	e->total = ji64(o, "total", 0);
	e->sold = ji64(o, "sold", 0);
	e->available = ji64(o, "available", 0);
	e->held = ji64(o, "held", 0);
	e->hold_ms = ji64(o, "hold_ms", 0);
	e->pool = ji64(o, "pool", 0);
	e->waitlist = ji64(o, "waitlist", 0);
	e->offers = ji64(o, "offers", 0);
	jstrcpy(o, "state", e->state, sizeof(e->state));
}

static void
read_op(const cJSON *o, tl_opstats *s)
{
	const cJSON *m, *k, *lat;

	if (cJSON_IsObject(m = jget(o, "status")))
		for (k = m->child; k != NULL; k = k->next) {
			long st = strtol(k->string, NULL, 10);
			if (st >= 0 && st < TL_STATUS_SLOTS)
				s->status[st] += jnum_u64(k);
		}
	if (cJSON_IsObject(m = jget(o, "errors")))
		for (k = m->child; k != NULL; k = k->next)
			s->errors[tr_api_error_parse(k->string,
			    strlen(k->string))] += jnum_u64(k);
	if (cJSON_IsObject(m = jget(o, "transport")))
		for (int i = 0; i < TL_XP_COUNT; i++)
			s->transport[i] = ju64(m, tl_xport_name(i));
	s->retries = ju64(o, "retries");
	lat = jget(o, "latency_us");
	if (cJSON_IsArray(m = jget(lat, "buckets"))) {
		for (k = m->child; k != NULL; k = k->next)
			if (cJSON_IsArray(k) && jcount(k) == 2)
				tl_hist_record_n(&s->latency_us,
				    jnum_u64(k->child),
				    jnum_u64(k->child->next));
		/* Buckets lose the exact extremes and sum: restore them. */
		if (s->latency_us.count > 0) {
			s->latency_us.min = ju64(lat, "min");
			s->latency_us.max = ju64(lat, "max");
			s->latency_us.sum = ju64(lat, "sum");
		}
	}
}

static void
read_phase(const cJSON *o, tl_phase *p)
{
	const cJSON *ops = jget(o, "ops"), *nodes = jget(o, "nodes"), *k;

	jstrcpy(o, "name", p->name, sizeof(p->name));
	jstrcpy(o, "stopped_by", p->stopped_by, sizeof(p->stopped_by));
	p->start_ms = ji64(o, "start_ms", 0);
	p->end_ms = ji64(o, "end_ms", 0);
	p->concurrency = jint(o, "concurrency");
	p->attempts = ju64(o, "attempts");
	p->reserved = ju64(o, "reserved");
	p->confirmed = ju64(o, "confirmed");
	p->abandoned = ju64(o, "abandoned");
	p->confirm_failed = ju64(o, "confirm_failed");
	p->bad_answers = ju64(o, "bad_answers");
	p->nodes_dropped = ju64(o, "nodes_dropped");
	for (int i = 0; i < TL_OP_COUNT; i++)
		read_op(jget(ops, tl_op_name(i)), &p->op[i]);
	if (cJSON_IsArray(nodes))
		for (k = nodes->child; k != NULL; k = k->next) {
			const cJSON *nm = jget(k, "node");
			tl_nodecount *c;
			if (!cJSON_IsString(nm) ||
			    (c = tl_phase_node(p, nm->valuestring)) == NULL)
				continue;
			c->reserved = ju64(k, "reserved");
			c->rid_prefix = ju64(k, "rid_prefix");
			c->confirmed = ju64(k, "confirmed");
		}
}

static void
read_line(const cJSON *o, tl_line *l)
{
	const cJSON *ops = jget(o, "ops");

	jstrcpy(o, "stopped_by", l->stopped_by, sizeof(l->stopped_by));
	l->start_ms = ji64(o, "start_ms", 0);
	l->end_ms = ji64(o, "end_ms", 0);
	l->joiners = ju64(o, "joiners");
	l->joined = ju64(o, "joined");
	l->join_refused = ju64(o, "join_refused");
	l->offered = ju64(o, "offered");
	l->confirmed = ju64(o, "confirmed");
	l->lapsed = ju64(o, "lapsed");
	l->lost = ju64(o, "lost");
	l->left = ju64(o, "left");
	l->left_offered = ju64(o, "left_offered");
	l->skipped = ju64(o, "skipped");
	l->refunders = ju64(o, "refunders");
	l->refunded = ju64(o, "refunded");
	/* null (unknown) stays unknown; a result of before the waitlist
	 * has no line: nothing was seen out of order. */
	l->order_violations = ji64(o, "order_violations",
	    o && cJSON_IsNull(jget(o, "order_violations")) ? -1 : 0);
	l->unsold_while_waiting = ji64(o, "unsold_while_waiting", 0);
	for (int i = 0; i < TL_LOP_COUNT; i++)
		read_op(jget(ops, tl_line_op_name(i)), &l->op[i]);
}

static void
read_u64s(const cJSON *o, const char *key, uint64_t *out, size_t n)
{
	const cJSON *a = jget(o, key), *k;
	size_t i = 0;

	if (cJSON_IsArray(a))
		for (k = a->child; k != NULL && i < n; k = k->next)
			out[i++] = jnum_u64(k);
}

/* The next figure of a poll column (0 past its end), *k moved on. */
static int64_t
poll_next(const cJSON **k)
{
	const cJSON *n = *k;

	if (n == NULL)
		return 0;
	*k = n->next;
	return jnum_i64(n, 0);
}

int
tl_report_read_json(const char *text, size_t len, tl_run **out)
{
	cJSON *root = json_parse(text, len);
	const cJSON *cfg, *ev, *ph, *series, *polls, *a, *k, *tool;
	enum { NCOL = 8 };
	const cJSON *col[NCOL];
	static const char *col_names[NCOL] = {"t_ms", "total", "sold",
	    "available", "held", "pool", "waitlist", "offers"};
	tl_run *run;
	size_t slots = 0, npolls = 0;

	tool = jget(root, "tool");
	if (!cJSON_IsString(tool) ||
	    strcmp(tool->valuestring, "trload") != 0) {
		cJSON_Delete(root);
		return TR_EPROTO;
	}
	series = jget(root, "series");
	polls = jget(root, "polls");
	if (cJSON_IsArray(a = jget(series, "attempts")))
		slots = jcount(a);
	if (cJSON_IsArray(a = jget(polls, "t_ms")))
		npolls = jcount(a);
	if ((run = tl_run_new(slots, npolls)) == NULL) {
		cJSON_Delete(root);
		return TR_ENOMEM;
	}

	cfg = jget(root, "config");
	jstrcpy(cfg, "target", run->target, sizeof(run->target));
	jstrcpy(cfg, "event", run->event, sizeof(run->event));
	jstrcpy(cfg, "user_prefix", run->user_prefix,
	    sizeof(run->user_prefix));
	run->users = ju64(cfg, "users");
	run->concurrency = jint(cfg, "concurrency");
	run->threads = jint(cfg, "threads");
	/* A share: anything else is clamped, so that it is written back as
	 * a short number (cJSON reads numbers of at most 63 characters;
	 * found by fuzz_report with "abandon":1e300). */
	if (cJSON_IsNumber(a = jget(cfg, "abandon")))
		run->abandon = a->valuedouble < 0 ? 0
		    : a->valuedouble > 1          ? 1
		                                  : a->valuedouble;
	run->max_seconds = ji64(cfg, "max_seconds", 0);
	run->tail_seconds = ji64(cfg, "tail_seconds", -1);
	run->tail_concurrency = jint(cfg, "tail_concurrency");
	run->tail_rate = jint(cfg, "tail_rate");
	run->timeout_ms = ji64(cfg, "timeout_ms", 0);
	run->confirm_retries = jint(cfg, "confirm_retries");
	run->poll_ms = jint(cfg, "poll_ms");
	if (cJSON_IsNumber(a = jget(cfg, "waitlist_share")))
		run->waitlist_share = a->valuedouble;
	run->waiters = jint(cfg, "waiters");
	run->wait_ms = ji64(cfg, "wait_ms", 0);
	if (cJSON_IsNumber(a = jget(cfg, "lapse")))
		run->lapse = a->valuedouble;
	if (cJSON_IsNumber(a = jget(cfg, "refund_share")))
		run->refund_share = a->valuedouble;
	run->refunds_max = jint(cfg, "refunds_max");
	run->refund_after_ms = ji64(cfg, "refund_after_ms", 0);
	run->line_seconds = ji64(cfg, "line_seconds", 0);
	run->started_wall_ms = ji64(root, "started_at_ms", 0);
	run->wall_ms = ji64(root, "wall_ms", 0);
	jstrcpy(root, "stopped_by", run->stopped_by, sizeof(run->stopped_by));

	ev = jget(root, "event");
	read_event(jget(ev, "at_start"), &run->at_start);
	read_event(jget(ev, "at_end"), &run->at_end);
	run->tail_seconds_used = ji64(ev, "tail_seconds_used", 0);
	read_line(jget(root, "line"), &run->line);

	if (cJSON_IsArray(ph = jget(root, "phases")))
		for (k = ph->child; k && run->n_phases < 2; k = k->next)
			read_phase(k, &run->phase[run->n_phases++]);

	run->n_slots = slots;
	read_u64s(series, "attempts", run->s_attempts, slots);
	read_u64s(series, "reserved", run->s_reserved, slots);
	read_u64s(series, "confirmed", run->s_confirmed, slots);
	read_u64s(series, "joined", run->s_joined, slots);
	read_u64s(series, "offered", run->s_offered, slots);
	read_u64s(series, "offer_confirmed", run->s_offer_confirmed, slots);
	read_u64s(series, "refunded", run->s_refunded, slots);
	/* Polls are written column by column: walk the columns side by
	 * side, each once. */
	for (int c = 0; c < NCOL; c++)
		col[c] = (a = jget(polls, col_names[c])) ? a->child : NULL;
	for (size_t i = 0; i < npolls; i++) {
		tl_eventinfo *e = &run->polls[i];
		e->valid = true;
		e->t_ms = poll_next(&col[0]);
		e->total = poll_next(&col[1]);
		e->sold = poll_next(&col[2]);
		e->available = poll_next(&col[3]);
		e->held = poll_next(&col[4]);
		e->pool = poll_next(&col[5]);
		e->waitlist = poll_next(&col[6]);
		e->offers = poll_next(&col[7]);
	}
	run->n_polls = npolls;
	cJSON_Delete(root);
	*out = run;
	return 0;
}

/* Any JSON value as display text. A number's own text is gone (cJSON
 * keeps the double): it is shown as cJSON prints one, the shorter of 15
 * and 17 digits that reads back as the same double. */
static void
jtext(const cJSON *n, char *out, size_t cap)
{
	if (cJSON_IsNull(n)) {
		snprintf(out, cap, "null");
	} else if (cJSON_IsBool(n)) {
		snprintf(out, cap, "%s", cJSON_IsTrue(n) ? "true" : "false");
	} else if (cJSON_IsString(n)) {
		snprintf(out, cap, "%s", n->valuestring);
	} else if (cJSON_IsNumber(n)) {
		char num[32];
		snprintf(num, sizeof(num), "%.15g", n->valuedouble);
		if (strtod(num, NULL) != n->valuedouble)
			snprintf(num, sizeof(num), "%.17g", n->valuedouble);
		snprintf(out, cap, "%s", num);
	} else if (cJSON_IsArray(n)) {
		snprintf(out, cap, "[%zu items]", jcount(n));
	} else {
		snprintf(out, cap, "{%zu fields}", jcount(n));
	}
}

static void
verdict_word(const cJSON *n, char *out, size_t cap)
{
	/* true/false verdicts read as pass/fail; unknown words as info. */
	static const char *ok[] = {"pass", "fail", "warn", "info"};
	char w[16] = "";

	if (cJSON_IsBool(n))
		snprintf(w, sizeof(w), "%s",
		    cJSON_IsTrue(n) ? "pass" : "fail");
	else if (cJSON_IsString(n))
		snprintf(w, sizeof(w), "%s", n->valuestring);
	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(w, ok[i]) == 0) {
			snprintf(out, cap, "%s", ok[i]);
			return;
		}
	snprintf(out, cap, "info");
}

int
tl_report_read_extra(const char *text, size_t len, tl_extra_row **rows,
    size_t *n)
{
	cJSON *root = json_parse(text, len);
	const cJSON *list, *k;
	tl_extra_row *out;
	size_t cap = 0, cnt = 0;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return TR_EPROTO;
	}
	list = jget(root, "rows");
	cap = jcount(root) + (cJSON_IsArray(list) ? jcount(list) : 0);
	if ((out = calloc(cap ? cap : 1, sizeof(*out))) == NULL) {
		cJSON_Delete(root);
		return TR_ENOMEM;
	}
	if (cJSON_IsArray(list))
		for (k = list->child; k != NULL; k = k->next) {
			const cJSON *v;
			tl_extra_row *r = &out[cnt];
			if (!cJSON_IsObject(k))
				continue;
			jstrcpy(k, "name", r->name, sizeof(r->name));
			if ((v = jget(k, "value")) != NULL)
				jtext(v, r->value, sizeof(r->value));
			verdict_word(jget(k, "verdict"), r->verdict,
			    sizeof(r->verdict));
			jstrcpy(k, "note", r->note, sizeof(r->note));
			cnt++;
		}
	for (k = root->child; k != NULL; k = k->next) {
		tl_extra_row *r = &out[cnt];
		if (strcmp(k->string, "rows") == 0 || cJSON_IsObject(k) ||
		    cJSON_IsArray(k))
			continue;
		snprintf(r->name, sizeof(r->name), "%s", k->string);
		jtext(k, r->value, sizeof(r->value));
		verdict_word(cJSON_IsBool(k) ? k : NULL, r->verdict,
		    sizeof(r->verdict));
		cnt++;
	}
	cJSON_Delete(root);
	*rows = out;
	*n = cnt;
	return 0;
}

/* A whole number member of o into *v; false if absent or not a number. */
static bool
jneed_i64(const cJSON *o, const char *key, int64_t *v)
{
	const cJSON *n = jget(o, key);

	if (!cJSON_IsNumber(n))
		return false;
	*v = num_i64(n->valuedouble);
	return true;
}

static bool
read_offer(const cJSON *o, tl_offer *r)
{
	int64_t seq;

	if (!jneed_i64(o, "seq", &seq) || seq < 0 ||
	    !jneed_i64(o, "ret_ms", &r->ret_ms) ||
	    !jneed_i64(o, "offer_ms", &r->offer_ms))
		return false;
	r->seq = (uint64_t)seq;
	return true;
}

static bool
read_entry(const cJSON *o, tl_entry *r)
{
	const cJSON *st = jget(o, "state"), *of = jget(o, "offer");
	int64_t seq;

	if (!jneed_i64(o, "seq", &seq) || seq < 0 ||
	    !jneed_i64(o, "t_ms", &r->t_ms) || !cJSON_IsString(st) ||
	    strlen(st->valuestring) != 1 ||
	    strchr("WOCXLS", st->valuestring[0]) == NULL ||
	    (of != NULL && !cJSON_IsString(of)))
		return false;
	r->seq = (uint64_t)seq;
	r->state = st->valuestring[0];
	r->offered = of != NULL && of->valuestring[0] != '\0';
	return true;
}

int
tl_report_read_line_log(const char *text, size_t len, tl_offer **offers,
    size_t *n_offers, tl_entry **entries, size_t *n_entries)
{
	cJSON *root = json_parse(text, len);
	const cJSON *ol = jget(root, "offers"), *el = jget(root, "entries");
	const cJSON *k;
	tl_offer *o = NULL;
	tl_entry *e = NULL;
	size_t no = 0, ne = 0;
	int rv = TR_EPROTO;

	if (!cJSON_IsArray(ol) || !cJSON_IsArray(el))
		goto out;
	o = calloc(jcount(ol) + 1, sizeof(*o));
	e = calloc(jcount(el) + 1, sizeof(*e));
	if (o == NULL || e == NULL) {
		rv = TR_ENOMEM;
		goto out;
	}
	for (k = ol->child; k != NULL; k = k->next)
		if (!read_offer(k, &o[no++]))
			goto out;
	for (k = el->child; k != NULL; k = k->next)
		if (!read_entry(k, &e[ne++]))
			goto out;
	*offers = o;
	*n_offers = no;
	*entries = e;
	*n_entries = ne;
	o = NULL;
	e = NULL;
	rv = 0;
out:
	free(o);
	free(e);
	cJSON_Delete(root);
	return rv;
}

/* ---- Text helpers ----------------------------------------------------- */

static void
html(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f); break;
		}
	}
}

/* 1234567 -> "1,234,567" (short name for the many uses below). */
static const char *
grp(char *buf, size_t cap, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *
tl_report_thousands(char *buf, size_t cap, uint64_t v)
{
	return grp(buf, cap, v);
}

/* Latency in us as "850 µs", "1.25 ms", "2.1 s". */
static const char *
fmt_us(char *buf, size_t cap, double us)
{
	if (us < 1000)
		snprintf(buf, cap, "%.0f µs", us);
	else if (us < 10000)
		snprintf(buf, cap, "%.2f ms", us / 1000);
	else if (us < 1000000)
		snprintf(buf, cap, "%.1f ms", us / 1000);
	else
		snprintf(buf, cap, "%.2f s", us / 1e6);
	return buf;
}

/* A power of ten of microseconds as "10 µs", "1 ms", "100 ms", "1 s". */
static const char *
fmt_decade_us(char *buf, size_t cap, double us)
{
	if (us < 1000)
		snprintf(buf, cap, "%.0f µs", us);
	else if (us < 1e6)
		snprintf(buf, cap, "%.0f ms", us / 1000);
	else
		snprintf(buf, cap, "%.0f s", us / 1e6);
	return buf;
}

/* Axis numbers: 0, 250, 1.5k, 120k, 2M. */
static const char *
fmt_si(char *buf, size_t cap, double v)
{
	double a = fabs(v);
	if (a >= 1e6)
		snprintf(buf, cap, "%gM", round(v / 1e5) / 10);
	else if (a >= 1e4)
		snprintf(buf, cap, "%gk", round(v / 1e3));
	else if (a >= 1e3)
		snprintf(buf, cap, "%gk", round(v / 1e2) / 10);
	else
		snprintf(buf, cap, "%g", round(v * 100) / 100);
	return buf;
}

/* ---- SVG charts ------------------------------------------------------- */

#define CH_W 1040
#define CH_H 300
#define CH_L 72
#define CH_R 40
#define CH_T 58 /* title row, then legend row */
#define CH_B 46

typedef struct ch_series {
	const char *name;
	const char *color;
	const double *x, *y;
	size_t n;
	bool area; /* fill under the line */
} ch_series;

typedef struct ch_chart {
	const char *title;
	const char *xlabel, *ylabel;
	double x0, x1, y1;     /* y starts at 0 */
	bool logx, xus;        /* log x axis; x values are microseconds */
	double shade0, shade1; /* a shaded x range (tail phase), if shade1 >
	                        * shade0 */
	const char *shade_label;
} ch_chart;

static double
nice_step(double range, int ticks)
{
	double raw = range / ticks, mag, fr;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	fr = raw / mag;
	return (fr <= 1 ? 1 : fr <= 2 ? 2 : fr <= 5 ? 5 : 10) * mag;
}

static double
ch_x(const ch_chart *c, double x)
{
	double w = CH_W - CH_L - CH_R, t;

	if (c->logx)
		t = (log10(x > 0 ? x : c->x0) - log10(c->x0)) /
		    (log10(c->x1) - log10(c->x0));
	else
		t = (x - c->x0) / (c->x1 - c->x0);
	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	return CH_L + t * w;
}

static double
ch_y(const ch_chart *c, double y)
{
	double h = CH_H - CH_T - CH_B, t = y / c->y1;
	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	return CH_T + (1 - t) * h;
}

static void
svg_chart(FILE *f, const ch_chart *c, const ch_series *s, size_t ns)
{
	char b1[48];
	double step, lx;

	fprintf(f,
	    "<svg class=\"chart\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
	    "aria-label=\"",
	    CH_W, CH_H, CH_W, CH_H);
	html(f, c->title);
	fprintf(f,
	    "\">\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
	    "fill=\"#fff\"/>\n<text x=\"%d\" y=\"22\" class=\"ct\">",
	    CH_W, CH_H, CH_L);
	html(f, c->title);
	fputs("</text>\n", f);
	if (c->shade1 > c->shade0) {
		double a = ch_x(c, c->shade0), b = ch_x(c, c->shade1);
		fprintf(f,
		    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\""
		    " fill=\"#eef1f5\"/>\n",
		    a, CH_T, b - a, CH_H - CH_T - CH_B);
		if (c->shade_label)
			fprintf(f,
			    "<text x=\"%.1f\" y=\"%d\" class=\"cs\">%s"
			    "</text>\n",
			    a + 4, CH_T + 12, c->shade_label);
	}
	/* y grid and labels */
	step = nice_step(c->y1, 5);
	for (double y = 0; y <= c->y1 * 1.0001; y += step) {
		double py = ch_y(c, y);
		fprintf(f,
		    "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
		    "class=\"%s\"/>\n<text x=\"%d\" y=\"%.1f\" class=\"cy\">%s"
		    "</text>\n",
		    CH_L, CH_W - CH_R, py, py, y == 0 ? "ax" : "gr", CH_L - 6,
		    py + 4, fmt_si(b1, sizeof(b1), y));
	}
	/* x ticks */
	if (c->logx) {
		for (lx = c->x0; lx <= c->x1 * 1.0001; lx *= 10) {
			double px = ch_x(c, lx);
			fprintf(f,
			    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
			    "y2=\"%d\" class=\"gr\"/>\n<text x=\"%.1f\" "
			    "y=\"%d\" class=\"cx\">%s</text>\n",
			    px, px, CH_T, CH_H - CH_B, px, CH_H - CH_B + 16,
			    c->xus ? fmt_decade_us(b1, sizeof(b1), lx)
			           : fmt_si(b1, sizeof(b1), lx));
		}
	} else {
		step = nice_step(c->x1 - c->x0, 10);
		for (lx = ceil(c->x0 / step) * step; lx <= c->x1 * 1.0001;
		     lx += step) {
			double px = ch_x(c, lx);
			fprintf(f,
			    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
			    "y2=\"%d\" class=\"tk\"/>\n<text x=\"%.1f\" "
			    "y=\"%d\" class=\"cx\">%s</text>\n",
			    px, px, CH_H - CH_B, CH_H - CH_B + 5, px,
			    CH_H - CH_B + 18, fmt_si(b1, sizeof(b1), lx));
		}
	}
	fprintf(f,
	    "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
	    "class=\"ax\"/>\n",
	    CH_L, CH_L, CH_T, CH_H - CH_B);
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"cl\">",
	    (CH_L + CH_W - CH_R) / 2, CH_H - 8);
	html(f, c->xlabel);
	fprintf(f,
	    "</text>\n<text transform=\"translate(16 %d) rotate(-90)\" "
	    "class=\"cl\">",
	    (CH_T + CH_H - CH_B) / 2);
	html(f, c->ylabel);
	fputs("</text>\n", f);

	for (size_t k = 0; k < ns; k++) {
		const ch_series *se = &s[k];
		if (se->n == 0)
			continue;
		if (se->area) {
			fprintf(f,
			    "<polygon fill=\"%s\" fill-opacity=\"0.15\" "
			    "stroke=\"none\" points=\"%.1f,%.1f",
			    se->color, ch_x(c, se->x[0]), ch_y(c, 0));
			for (size_t i = 0; i < se->n; i++)
				fprintf(f, " %.1f,%.1f", ch_x(c, se->x[i]),
				    ch_y(c, se->y[i]));
			fprintf(f, " %.1f,%.1f\"/>\n",
			    ch_x(c, se->x[se->n - 1]), ch_y(c, 0));
		}
		fprintf(f,
		    "<polyline fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\"",
		    se->color);
		for (size_t i = 0; i < se->n; i++)
			fprintf(f, "%s%.1f,%.1f", i ? " " : "",
			    ch_x(c, se->x[i]), ch_y(c, se->y[i]));
		fputs("\"/>\n", f);
	}
	/* Legend: one row under the title. */
	lx = CH_L;
	for (size_t k = 0; k < ns; k++) {
		fprintf(f,
		    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"40\" y2=\"40\" "
		    "stroke=\"%s\" stroke-width=\"3\"/>\n<text x=\"%.1f\" "
		    "y=\"44\" class=\"lg\">",
		    lx, lx + 16, s[k].color, lx + 21);
		html(f, s[k].name);
		fputs("</text>\n", f);
		lx += 44 + 6.8 * (double)strlen(s[k].name);
	}
	fputs("</svg>\n", f);
}

static const tl_phase *
tail_phase(const tl_run *run)
{
	return run->n_phases > 1 &&
	        run->phase[1].end_ms > run->phase[1].start_ms
	    ? &run->phase[1]
	    : NULL;
}

static void
chart_shade(const tl_run *run, ch_chart *c)
{
	const tl_phase *t = tail_phase(run);
	if (t) {
		c->shade0 = (double)t->start_ms / 1000;
		c->shade1 = (double)t->end_ms / 1000;
		c->shade_label = "tail: late buyers";
	}
}

/* Rates per second, with slots merged so a chart has at most ~600 points. */
static int
chart_rates(FILE *f, const tl_run *run)
{
	size_t g = run->n_slots / 600 + 1, n = (run->n_slots + g - 1) / g;
	double *x = calloc(n ? n : 1, sizeof(double));
	double *ya = calloc(n ? n : 1, sizeof(double));
	double *yr = calloc(n ? n : 1, sizeof(double));
	double *yc = calloc(n ? n : 1, sizeof(double));
	double max_a = 0, max_s = 0, span = (double)(g * TL_SLOT_MS) / 1000;
	ch_chart c = {0};
	ch_series s[2];

	if (!x || !ya || !yr || !yc) {
		free(x), free(ya), free(yr), free(yc);
		return TR_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t a = 0, r = 0, k = 0;
		for (size_t j = i * g; j < (i + 1) * g && j < run->n_slots;
		     j++) {
			a += run->s_attempts[j];
			r += run->s_reserved[j];
			k += run->s_confirmed[j];
		}
		x[i] = (double)i * span + span / 2;
		ya[i] = (double)a / span;
		yr[i] = (double)r / span;
		yc[i] = (double)k / span;
		max_a = fmax(max_a, ya[i]);
		max_s = fmax(max_s, fmax(yr[i], yc[i]));
	}
	c.x0 = 0;
	c.x1 = fmax((double)run->wall_ms / 1000, span);
	chart_shade(run, &c);
	c.xlabel = "seconds since start";

	c.title = "Attempts per second (finished reserve+confirm attempts)";
	c.ylabel = "attempts / s";
	c.y1 = max_a > 0
	    ? ceil(max_a / nice_step(max_a, 5)) * nice_step(max_a, 5)
	    : 1;
	s[0] = (ch_series){"attempts/s", "#2563eb", x, ya, n, true};
	svg_chart(f, &c, s, 1);

	c.title = "Sales per second";
	c.ylabel = "per second";
	c.y1 = max_s > 0
	    ? ceil(max_s / nice_step(max_s, 5)) * nice_step(max_s, 5)
	    : 1;
	s[0] = (ch_series){"reservations (201)", "#16a34a", x, yr, n, false};
	s[1] = (ch_series){"confirms (200)", "#ea580c", x, yc, n, false};
	svg_chart(f, &c, s, 2);
	free(x), free(ya), free(yr), free(yc);
	return 0;
}

static int
chart_tickets(FILE *f, const tl_run *run)
{
	size_t n = run->n_polls;
	double *x = calloc(n ? n : 1, sizeof(double));
	double *yl = calloc(n ? n : 1, sizeof(double));
	double *yv = calloc(n ? n : 1, sizeof(double));
	double *yh = calloc(n ? n : 1, sizeof(double));
	double max = 0;
	ch_chart c = {0};
	ch_series s[3];

	if (!x || !yl || !yv || !yh) {
		free(x), free(yl), free(yv), free(yh);
		return TR_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const tl_eventinfo *e = &run->polls[i];
		x[i] = (double)e->t_ms / 1000;
		yl[i] = (double)tickets_left(e->total, e->sold);
		yv[i] = (double)e->available;
		yh[i] = (double)e->held;
		max = fmax(max, fmax(yl[i], fmax(yv[i], yh[i])));
	}
	c.title = "Tickets over time (GET /v1/events, every poll)";
	c.xlabel = "seconds since start";
	c.ylabel = "tickets";
	c.x0 = 0;
	c.x1 = fmax((double)run->wall_ms / 1000, 0.1);
	c.y1 = max > 0 ? ceil(max / nice_step(max, 5)) * nice_step(max, 5) : 1;
	chart_shade(run, &c);
	s[0] = (ch_series){"left (total - sold)", "#dc2626", x, yl, n, true};
	s[1] = (ch_series){"available", "#2563eb", x, yv, n, false};
	s[2] = (ch_series){"held (unpaid)", "#a16207", x, yh, n, false};
	svg_chart(f, &c, s, 3);
	free(x), free(yl), free(yv), free(yh);
	return 0;
}

/* The line's length and the offers over time: the polls' figures, and the
 * offers the buyers saw and paid, added up. Only when there was a line. */
static int
chart_line(FILE *f, const tl_run *run)
{
	size_t n = run->n_polls, m = run->n_slots;
	double *x = calloc(n ? n : 1, sizeof(double));
	double *yw = calloc(n ? n : 1, sizeof(double));
	double *yo = calloc(n ? n : 1, sizeof(double));
	double *xs = calloc(m ? m : 1, sizeof(double));
	double *ys = calloc(m ? m : 1, sizeof(double));
	double *yc = calloc(m ? m : 1, sizeof(double));
	double max = 0, seen = 0, paid = 0;
	ch_chart c = {0};
	ch_series s[4];
	int rv = 0;

	if (!x || !yw || !yo || !xs || !ys || !yc) {
		rv = TR_ENOMEM;
		goto out;
	}
	if (!line_active(run))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const tl_eventinfo *e = &run->polls[i];
		x[i] = (double)e->t_ms / 1000;
		yw[i] = (double)e->waitlist;
		yo[i] = (double)e->offers;
		max = fmax(max, fmax(yw[i], yo[i]));
	}
	for (size_t i = 0; i < m; i++) {
		seen += (double)run->s_offered[i];
		paid += (double)run->s_offer_confirmed[i];
		xs[i] = (double)(i + 1) * TL_SLOT_MS / 1000;
		ys[i] = seen;
		yc[i] = paid;
	}
	max = fmax(max, seen);
	c.title = "The waitlist over time (line from GET /v1/events; offers "
	          "as the buyers in line saw them)";
	c.xlabel = "seconds since start";
	c.ylabel = "buyers / offers";
	c.x0 = 0;
	c.x1 = fmax((double)run->wall_ms / 1000, 0.1);
	c.y1 = max > 0 ? ceil(max / nice_step(max, 5)) * nice_step(max, 5) : 1;
	chart_shade(run, &c);
	s[0] = (ch_series){"in line", "#7c3aed", x, yw, n, true};
	s[1] = (ch_series){"offers unpaid", "#db2777", x, yo, n, false};
	s[2] = (ch_series){"offers seen (total)", "#0891b2", xs, ys, m, false};
	s[3] = (ch_series){"offers paid (total)", "#16a34a", xs, yc, m, false};
	svg_chart(f, &c, s, 4);
out:
	free(x), free(yw), free(yo), free(xs), free(ys), free(yc);
	return rv;
}

#define LAT_BINS_PER_DECADE 10
#define LAT_DECADES 8 /* 1 us .. 100 s */
#define LAT_BINS (LAT_BINS_PER_DECADE * LAT_DECADES)

/* Share (%) of an op's answers per log bin; x at the bin's geometric
 * middle. Returns the range of bins in use. */
static void
lat_bins(const tl_hist *h, double *x, double *y, int *first, int *last)
{
	*first = LAT_BINS;
	*last = -1;
	for (int b = 0; b < LAT_BINS; b++) {
		x[b] = pow(10, (b + 0.5) / LAT_BINS_PER_DECADE);
		y[b] = 0;
	}
	if (h->count == 0)
		return;
	for (size_t i = 0; i < TL_HIST_BUCKETS; i++) {
		uint64_t lo, hi;
		double mid;
		int b;
		if (h->buckets[i] == 0)
			continue;
		tl_hist_bucket_range(i, &lo, &hi);
		mid = ((double)lo + (double)hi) / 2;
		b = mid < 1 ? 0 : (int)floor(log10(mid) * LAT_BINS_PER_DECADE);
		if (b >= LAT_BINS)
			b = LAT_BINS - 1;
		y[b] += 100.0 * (double)h->buckets[i] / (double)h->count;
		if (b < *first)
			*first = b;
		if (b > *last)
			*last = b;
	}
}

static void
chart_latency(FILE *f, const tl_phase *all)
{
	static const char *colors[TL_OP_COUNT] = {"#2563eb", "#ea580c"};
	double x[TL_OP_COUNT][LAT_BINS], y[TL_OP_COUNT][LAT_BINS], max = 0;
	char names[TL_OP_COUNT][160], b1[32], b2[32], b3[32];
	int lo = LAT_BINS, hi = -1;
	ch_series s[TL_OP_COUNT];
	ch_chart c = {0};
	size_t ns = 0;

	for (int op = 0; op < TL_OP_COUNT; op++) {
		const tl_hist *h = &all->op[op].latency_us;
		int a, b;
		lat_bins(h, x[op], y[op], &a, &b);
		if (h->count == 0)
			continue;
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
		for (int i = 0; i < LAT_BINS; i++)
			max = fmax(max, y[op][i]);
		snprintf(names[op], sizeof(names[op]),
		    "%s: p50 %s, p99 %s, "
		    "p99.9 %s",
		    tl_op_name(op),
		    fmt_us(b1, sizeof(b1), (double)tl_hist_percentile(h, 50)),
		    fmt_us(b2, sizeof(b2), (double)tl_hist_percentile(h, 99)),
		    fmt_us(b3, sizeof(b3),
		        (double)tl_hist_percentile(h, 99.9)));
	}
	if (hi < 0) {
		lo = 10;
		hi = 39;
	}
	for (int op = 0; op < TL_OP_COUNT; op++) {
		if (all->op[op].latency_us.count == 0)
			continue;
		s[ns++] = (ch_series){names[op], colors[op], x[op] + lo,
		    y[op] + lo, (size_t)(hi - lo + 1), true};
	}
	c.title = "Latency distribution (share of answers per bin)";
	c.xlabel = "latency (log scale)";
	c.ylabel = "% of answers";
	c.logx = true;
	c.xus = true;
	c.x0 = pow(10, floor((double)lo / LAT_BINS_PER_DECADE));
	c.x1 = pow(10, ceil((double)(hi + 1) / LAT_BINS_PER_DECADE));
	if (c.x1 <= c.x0)
		c.x1 = c.x0 * 10;
	c.y1 = max > 0 ? ceil(max / nice_step(max, 5)) * nice_step(max, 5) : 1;
	svg_chart(f, &c, s, ns);
}

/* ---- HTML ------------------------------------------------------------- */

static const char *css =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
    "'Noto Sans',sans-serif;color:#1f2937;background:#f6f7f9;margin:0}"
    "main{max-width:1080px;margin:0 auto;padding:24px 20px 40px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}"
    ".sub{color:#6b7280;margin:0 0 18px}"
    "table{border-collapse:collapse;width:100%;background:#fff;"
    "box-shadow:0 1px 2px rgba(0,0,0,.06)}"
    "th,td{padding:7px 10px;border-bottom:1px solid #e5e7eb;text-align:left;"
    "vertical-align:top}th{background:#f3f4f6;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "table.verdict td:first-child{font-weight:600;width:34%}"
    ".b{display:inline-block;min-width:44px;text-align:center;border-radius:"
    "4px;"
    "padding:1px 8px;font-size:12px;font-weight:700;text-transform:uppercase}"
    ".pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;"
    "color:#991b1b}.warn{background:#fef3c7;color:#92400e}"
    ".info{background:#e5e7eb;color:#374151}"
    ".note{color:#6b7280}"
    "svg.chart{display:block;width:100%;height:auto;margin:0 0 14px;"
    "background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06)}"
    ".ct{font:600 15px system-ui,sans-serif;fill:#111827}"
    ".cl{font:12px system-ui,sans-serif;fill:#4b5563;text-anchor:middle}"
    ".cx{font:11px system-ui,sans-serif;fill:#6b7280;text-anchor:middle}"
    ".cy{font:11px system-ui,sans-serif;fill:#6b7280;text-anchor:end}"
    ".cs{font:11px system-ui,sans-serif;fill:#64748b}"
    ".lg{font:12px system-ui,sans-serif;fill:#374151}"
    ".gr{stroke:#e5e7eb;stroke-width:1}.ax{stroke:#9ca3af;stroke-width:1}"
    ".tk{stroke:#9ca3af;stroke-width:1}"
    "footer{color:#9ca3af;font-size:12px;margin-top:24px}";

static void
vrow(FILE *f, const char *name, const char *value, const char *verdict,
    const char *note)
{
	fputs("<tr><td>", f);
	html(f, name);
	fputs("</td><td>", f);
	html(f, value);
	fputs("</td><td>", f);
	if (verdict && verdict[0]) {
		fputs("<span class=\"b ", f);
		html(f, verdict);
		fputs("\">", f);
		html(f, verdict);
		fputs("</span>", f);
	}
	fputs("</td><td class=\"note\">", f);
	html(f, note ? note : "");
	fputs("</td></tr>\n", f);
}

/* "sold_out 989,000 · overloaded 12" for the non-zero error codes. */
static void
errors_text(const tl_phase *all, char *out, size_t cap)
{
	size_t o = 0;
	char b[32];

	out[0] = '\0';
	for (int op = 0; op < TL_OP_COUNT; op++)
		for (int i = 0; i < TR_API_ERROR_COUNT; i++) {
			if (all->op[op].errors[i] == 0 || o >= cap)
				continue;
			o += (size_t)snprintf(out + o, cap - o, "%s%s %s %s",
			    o ? " · " : "", tl_op_name(op),
			    tr_api_error_name(i),
			    grp(b, sizeof(b), all->op[op].errors[i]));
		}
	if (o == 0)
		snprintf(out, cap, "none");
}

static void
transport_text(const tl_phase *all, char *out, size_t cap)
{
	size_t o = 0;
	char b[32];

	out[0] = '\0';
	for (int op = 0; op < TL_OP_COUNT; op++)
		for (int i = 0; i < TL_XP_COUNT; i++) {
			if (all->op[op].transport[i] == 0 || o >= cap)
				continue;
			o += (size_t)snprintf(out + o, cap - o, "%s%s %s %s",
			    o ? " · " : "", tl_op_name(op), tl_xport_name(i),
			    grp(b, sizeof(b), all->op[op].transport[i]));
		}
	if (o == 0)
		snprintf(out, cap, "none");
}

static void
html_line_rows(FILE *f, const tl_run *run)
{
	const tl_line *l = &run->line;
	char val[256], note[256], b1[32], b2[32], b3[32], b4[32];

	if (!line_active(run))
		return;
	snprintf(val, sizeof(val), "%s of %s", grp(b1, sizeof(b1), l->joined),
	    grp(b2, sizeof(b2), l->joiners));
	snprintf(note, sizeof(note),
	    "buyers told sold out who joined: share "
	    "%.1f %%, at most %d",
	    run->waitlist_share * 100, run->waiters);
	vrow(f, "Waitlist: buyers who joined", val, "info", note);
	snprintf(val, sizeof(val),
	    "%s seen · %s confirmed · %s let "
	    "lapse · %s lost",
	    grp(b1, sizeof(b1), l->offered), grp(b2, sizeof(b2), l->confirmed),
	    grp(b3, sizeof(b3), l->lapsed), grp(b4, sizeof(b4), l->lost));
	snprintf(note, sizeof(note),
	    "long polls (?wait=%.0f s); %.1f %% let "
	    "their offer expire on purpose",
	    (double)run->wait_ms / 1000, run->lapse * 100);
	vrow(f, "Waitlist: offers", val, "info", note);
	snprintf(val, sizeof(val),
	    "%s (%s with an offer just made) · %s "
	    "skipped",
	    grp(b1, sizeof(b1), l->left), grp(b2, sizeof(b2), l->left_offered),
	    grp(b3, sizeof(b3), l->skipped));
	snprintf(note, sizeof(note),
	    "still waiting when the line phase ended "
	    "(%.1f s, stopped by: %s)",
	    l->end_ms > l->start_ms
	        ? ((double)l->end_ms - (double)l->start_ms) / 1000
	        : 0.0,
	    l->stopped_by[0] ? l->stopped_by : "-");
	vrow(f, "Waitlist: left the line at the end", val, "info", note);
	if (l->order_violations >= 0)
		snprintf(val, sizeof(val), "%" PRId64, l->order_violations);
	else
		snprintf(val, sizeof(val), "unknown");
	vrow(f, "Order violations (seen by the tool)", val,
	    l->order_violations == 0      ? "pass"
	        : l->order_violations > 0 ? "fail"
	                                  : "warn",
	    "offers to a later joiner while one of the "
	    "tool's buyers waited on");
	snprintf(val, sizeof(val), "%" PRId64, l->unsold_while_waiting);
	snprintf(note, sizeof(note),
	    "most tickets in the pool with buyers in "
	    "line for over %d ms (GET /v1/events, every poll)",
	    TL_LINE_UNSOLD_GRACE_MS);
	vrow(f, "Tickets unsold while buyers waited (polls)", val,
	    l->unsold_while_waiting == 0 ? "pass" : "fail", note);
	snprintf(val, sizeof(val), "%s of %s",
	    grp(b1, sizeof(b1), l->refunded),
	    grp(b2, sizeof(b2), l->refunders));
	snprintf(note, sizeof(note),
	    "buyers who paid and refunded %.1f s "
	    "later: share %.1f %%, at most %d",
	    (double)run->refund_after_ms / 1000, run->refund_share * 100,
	    run->refunds_max);
	vrow(f, "Refunds", val, "info", note);
}

static void
html_verdict(FILE *f, const tl_run *run, const tl_phase *all,
    const tl_verdict *v, const tl_extra_row *rows, size_t n_rows)
{
	char val[512], note[256], b1[32], b2[32], b3[32];
	const tl_phase *tail = tail_phase(run);

	fputs("<table class=\"verdict\"><thead><tr><th>Check</th><th>Value"
	      "</th><th>Verdict</th><th>Note</th></tr></thead><tbody>\n",
	    f);
	if (v->left_unsold >= 0) {
		snprintf(val, sizeof(val), "%s",
		    grp(b1, sizeof(b1), (uint64_t)v->left_unsold));
		vrow(f, "Tickets left unsold while demand remained", val,
		    v->left_unsold == 0 ? "pass" : "fail",
		    "total − sold after the tail phase (GET /v1/events)");
	} else {
		vrow(f, "Tickets left unsold while demand remained", "unknown",
		    "warn", "the event could not be read at the end");
	}
	if (v->total >= 0) {
		snprintf(val, sizeof(val), "%s of %s",
		    grp(b1, sizeof(b1), (uint64_t)(v->sold > 0 ? v->sold : 0)),
		    grp(b2, sizeof(b2), (uint64_t)v->total));
		vrow(f, "Tickets sold", val, v->oversold ? "fail" : "info",
		    v->oversold ? "OVERSOLD: sold exceeds total"
		                : "as the gateway reports them");
	}
	for (size_t i = 0; i < n_rows; i++)
		vrow(f, rows[i].name, rows[i].value, rows[i].verdict,
		    rows[i].note);
	snprintf(val, sizeof(val), "%s of %s users",
	    grp(b1, sizeof(b1), v->main_attempts),
	    grp(b2, sizeof(b2), run->users));
	snprintf(note, sizeof(note), "main phase stopped by: %s",
	    run->n_phases ? run->phase[0].stopped_by : "-");
	vrow(f, "Attempts (main phase)", val,
	    run->n_phases && v->main_attempts < run->users ? "warn" : "",
	    note);
	snprintf(val, sizeof(val), "%s /s",
	    grp(b1, sizeof(b1), (uint64_t)llround(v->attempts_per_s)));
	snprintf(note, sizeof(note), "%.2f s, %d connections, %d thread(s)",
	    v->main_seconds, run->concurrency, run->threads);
	vrow(f, "Attempt rate (main phase)", val, "", note);
	snprintf(val, sizeof(val), "%s reserved · %s confirmed · %s abandoned",
	    grp(b1, sizeof(b1), v->reserved),
	    grp(b2, sizeof(b2), v->confirmed),
	    grp(b3, sizeof(b3), v->abandoned));
	snprintf(note, sizeof(note), "abandon share %.1f %% (main phase)",
	    run->abandon * 100);
	vrow(f, "Buyers", val, "", note);
	for (int op = 0; op < TL_OP_COUNT; op++) {
		const tl_hist *h = &all->op[op].latency_us;
		char name[64];
		snprintf(name, sizeof(name), "%s latency p50 / p99 / p99.9",
		    op == TL_OP_RESERVE ? "Reserve" : "Confirm");
		snprintf(val, sizeof(val), "%s / %s / %s",
		    fmt_us(b1, sizeof(b1), (double)tl_hist_percentile(h, 50)),
		    fmt_us(b2, sizeof(b2), (double)tl_hist_percentile(h, 99)),
		    fmt_us(b3, sizeof(b3),
		        (double)tl_hist_percentile(h, 99.9)));
		snprintf(note, sizeof(note), "%s answers, max %s",
		    grp(b1, sizeof(b1), h->count),
		    fmt_us(b2, sizeof(b2), (double)h->max));
		vrow(f, name, h->count ? val : "no answers", "", note);
	}
	errors_text(all, val, sizeof(val));
	vrow(f, "Error answers by code", val, "",
	    "non-2xx answers, all phases");
	transport_text(all, val, sizeof(val));
	vrow(f, "Transport errors", val, v->transport_errors ? "warn" : "",
	    "requests that got no HTTP answer");
	if (tail) {
		snprintf(val, sizeof(val),
		    "%s attempts, %s reserved, %s "
		    "confirmed",
		    grp(b1, sizeof(b1), tail->attempts),
		    grp(b2, sizeof(b2), tail->reserved),
		    grp(b3, sizeof(b3), tail->confirmed));
		snprintf(note, sizeof(note), "%.1f s, stopped by: %s",
		    phase_seconds(tail), tail->stopped_by);
	} else {
		snprintf(val, sizeof(val), "not run");
		snprintf(note, sizeof(note), "%s",
		    v->left_unsold == 0 ? "sold out in the main phase" : "");
	}
	vrow(f, "Tail phase (late buyers)", val, "", note);
	html_line_rows(f, run);
	val[0] = '\0';
	for (size_t i = 0, o = 0; i < all->n_nodes && o < sizeof(val); i++)
		o += (size_t)snprintf(val + o, sizeof(val) - o, "%s%s %s",
		    i ? " · " : "", all->nodes[i].name,
		    grp(b1, sizeof(b1), all->nodes[i].confirmed));
	vrow(f, "Confirmed sales per node", all->n_nodes ? val : "none", "",
	    "by the \"node\" field of the confirm answers");
	snprintf(val, sizeof(val), "%.2f s", (double)run->wall_ms / 1000);
	vrow(f, "Wall time", val, "", run->stopped_by);
	fputs("</tbody></table>\n", f);
}

static void
html_op_table(FILE *f, const tl_run *run)
{
	char b[7][32];

	fputs(
	    "<table><thead><tr><th>Phase</th><th>Op</th><th>Answers</th>"
	    "<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>"
	    "<th>By HTTP status</th><th>No answer</th></tr></thead><tbody>\n",
	    f);
	for (size_t i = 0; i < run->n_phases; i++)
		for (int op = 0; op < TL_OP_COUNT; op++) {
			const tl_opstats *o = &run->phase[i].op[op];
			const tl_hist *h = &o->latency_us;
			bool first = true;
			fprintf(f,
			    "<tr><td>%s</td><td>%s</td><td class=\"n\">%s"
			    "</td><td class=\"n\">%s</td><td "
			    "class=\"n\">%s</td>"
			    "<td class=\"n\">%s</td><td class=\"n\">%s</td>"
			    "<td class=\"n\">%s</td><td>",
			    run->phase[i].name, tl_op_name(op),
			    grp(b[0], 32, h->count),
			    fmt_us(b[1], 32,
			        (double)tl_hist_percentile(h, 50)),
			    fmt_us(b[2], 32,
			        (double)tl_hist_percentile(h, 90)),
			    fmt_us(b[3], 32,
			        (double)tl_hist_percentile(h, 99)),
			    fmt_us(b[4], 32,
			        (double)tl_hist_percentile(h, 99.9)),
			    fmt_us(b[5], 32, (double)h->max));
			for (int s = 0; s < TL_STATUS_SLOTS; s++) {
				if (o->status[s] == 0)
					continue;
				fprintf(f, "%s%d: %s", first ? "" : " · ", s,
				    grp(b[6], 32, o->status[s]));
				first = false;
			}
			fprintf(f, "%s</td><td class=\"n\">%s</td></tr>\n",
			    first ? "—" : "", grp(b[0], 32, op_transport(o)));
		}
	fputs("</tbody></table>\n", f);
}

static void
html_nodes(FILE *f, const tl_phase *all)
{
	char b[3][32];

	fputs("<table><thead><tr><th>Node</th><th>Reserved (node field)</th>"
	      "<th>Reserved (id prefix)</th><th>Confirmed</th></tr></thead>"
	      "<tbody>\n",
	    f);
	for (size_t i = 0; i < all->n_nodes; i++) {
		fputs("<tr><td>", f);
		html(f, all->nodes[i].name);
		fprintf(f,
		    "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
		    "<td class=\"n\">%s</td></tr>\n",
		    grp(b[0], 32, all->nodes[i].reserved),
		    grp(b[1], 32, all->nodes[i].rid_prefix),
		    grp(b[2], 32, all->nodes[i].confirmed));
	}
	if (all->n_nodes == 0)
		fputs("<tr><td colspan=\"4\">no successful reservations</td>"
		      "</tr>\n",
		    f);
	fputs("</tbody></table>\n", f);
}

int
tl_report_write_html(const tl_run *run, const tl_extra_row *rows,
    size_t n_rows, FILE *f)
{
	tl_phase *all = malloc(sizeof(*all));
	tl_verdict v;
	char when[64] = "?", b1[32];
	time_t t = (time_t)(run->started_wall_ms / 1000);
	struct tm tm;
	int rv = 0;

	if (all == NULL)
		return TR_ENOMEM;
	tl_phase_init(all, "all");
	for (size_t i = 0; i < run->n_phases; i++)
		tl_phase_merge(all, &run->phase[i]);
	tl_run_verdict(run, &v);
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8"
	      "\">\n<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>The rush: ",
	    f);
	html(f, run->event);
	fprintf(f,
	    " — trload report</title>\n<style>%s</style>\n</head>"
	    "<body><main>\n<h1>The rush: ",
	    css);
	html(f, run->event);
	fputs("</h1>\n<p class=\"sub\">", f);
	html(f, grp(b1, sizeof(b1), run->users));
	fputs(" distinct users against ", f);
	html(f, run->target);
	fprintf(f, " · %d connections · started %s · trload report</p>\n",
	    run->concurrency, when);

	fputs("<h2>Verdict</h2>\n", f);
	html_verdict(f, run, all, &v, rows, n_rows);
	fputs("<h2>Over time</h2>\n", f);
	if ((rv = chart_rates(f, run)) != 0)
		goto out;
	if ((rv = chart_tickets(f, run)) != 0)
		goto out;
	if ((rv = chart_line(f, run)) != 0)
		goto out;
	fputs("<h2>Latency</h2>\n", f);
	chart_latency(f, all);
	html_op_table(f, run);
	fputs("<h2>Sales per node</h2>\n", f);
	html_nodes(f, all);
	fputs(
	    "<footer>Generated by trload. Attempts: a distinct user's reserve "
	    "and, on 201, confirm (abandoners never confirm). Rates count "
	    "finished attempts. Tickets: total − sold, available and held as "
	    "the gateway reported them.</footer>\n</main></body></html>\n",
	    f);
	rv = ferror(f) ? TR_EIO : 0;
out:
	free(all);
	return rv;
}

/* ---- Plain-text summary ----------------------------------------------- */

void
tl_report_write_summary(const tl_run *run, FILE *f)
{
	tl_phase *all = malloc(sizeof(*all));
	tl_verdict v;
	char b[9][32], line[512];

	if (all == NULL)
		return;
	tl_phase_init(all, "all");
	for (size_t i = 0; i < run->n_phases; i++)
		tl_phase_merge(all, &run->phase[i]);
	tl_run_verdict(run, &v);

	fprintf(f,
	    "\ntrload: event %s at %s, %s users, %d connections, "
	    "%d thread(s), %.2f s (%s)\n\n",
	    run->event, run->target, grp(b[0], 32, run->users),
	    run->concurrency, run->threads, (double)run->wall_ms / 1000,
	    run->stopped_by);
	fprintf(f, "  %-26s", "phase");
	for (size_t i = 0; i < run->n_phases; i++)
		fprintf(f, " %14s", run->phase[i].name);
	fputc('\n', f);
#define ROW(label, expr)                                                      \
	do {                                                                  \
		fprintf(f, "  %-26s", label);                                 \
		for (size_t i = 0; i < run->n_phases; i++) {                  \
			const tl_phase *p = &run->phase[i];                   \
			fprintf(f, " %14s", (expr));                          \
		}                                                             \
		fputc('\n', f);                                               \
	} while (0)
	ROW("attempts", grp(b[0], 32, p->attempts));
	ROW("seconds", (snprintf(b[0], 32, "%.2f", phase_seconds(p)), b[0]));
	ROW("attempts/s",
	    (snprintf(b[0], 32, "%.0f",
	         phase_seconds(p) > 0 ? (double)p->attempts / phase_seconds(p)
	                              : 0.0),
	        b[0]));
	ROW("answers/s (all requests)",
	    (snprintf(b[0], 32, "%.0f",
	         phase_seconds(p) > 0 ? (double)(op_answers(&p->op[0]) +
	                                    op_answers(&p->op[1])) /
	                 phase_seconds(p)
	                              : 0.0),
	        b[0]));
	ROW("reserved (2xx)", grp(b[0], 32, p->reserved));
	ROW("confirmed (2xx)", grp(b[0], 32, p->confirmed));
	ROW("abandoned", grp(b[0], 32, p->abandoned));
	ROW("confirms failed", grp(b[0], 32, p->confirm_failed));
	ROW("stopped by", p->stopped_by);
#undef ROW
	fputc('\n', f);
	fprintf(f, "  %-8s %10s %10s %10s %10s %10s %10s\n", "latency",
	    "answers", "p50", "p90", "p99", "p99.9", "max");
	for (int op = 0; op < TL_OP_COUNT; op++) {
		const tl_hist *h = &all->op[op].latency_us;
		fprintf(f, "  %-8s %10s %10s %10s %10s %10s %10s\n",
		    tl_op_name(op), grp(b[0], 32, h->count),
		    fmt_us(b[1], 32, (double)tl_hist_percentile(h, 50)),
		    fmt_us(b[2], 32, (double)tl_hist_percentile(h, 90)),
		    fmt_us(b[3], 32, (double)tl_hist_percentile(h, 99)),
		    fmt_us(b[4], 32, (double)tl_hist_percentile(h, 99.9)),
		    fmt_us(b[5], 32, (double)h->max));
	}
	fputc('\n', f);
	for (int op = 0; op < TL_OP_COUNT; op++) {
		size_t o = 0;
		for (int s = 0; s < TL_STATUS_SLOTS && o < sizeof(line); s++)
			if (all->op[op].status[s])
				o += (size_t)snprintf(line + o,
				    sizeof(line) - o, " %d:%s", s,
				    grp(b[0], 32, all->op[op].status[s]));
		fprintf(f, "  %-8s status%s\n", tl_op_name(op),
		    o ? line : " none");
	}
	errors_text(all, line, sizeof(line));
	fprintf(f, "  errors     %s\n", line);
	transport_text(all, line, sizeof(line));
	fprintf(f, "  transport  %s\n", line);
	for (size_t i = 0; i < all->n_nodes; i++)
		fprintf(f,
		    "  node %-8s reserved %s (id prefix %s), confirmed "
		    "%s\n",
		    all->nodes[i].name, grp(b[0], 32, all->nodes[i].reserved),
		    grp(b[1], 32, all->nodes[i].rid_prefix),
		    grp(b[2], 32, all->nodes[i].confirmed));
	if (line_active(run)) {
		const tl_line *l = &run->line;
		fprintf(f,
		    "  waitlist   joined %s of %s; offers seen %s, "
		    "confirmed %s, let lapse %s, lost %s; left at the end %s "
		    "(%s with an offer); skipped %s\n",
		    grp(b[0], 32, l->joined), grp(b[1], 32, l->joiners),
		    grp(b[2], 32, l->offered), grp(b[3], 32, l->confirmed),
		    grp(b[4], 32, l->lapsed), grp(b[5], 32, l->lost),
		    grp(b[6], 32, l->left), grp(b[7], 32, l->left_offered),
		    grp(b[8], 32, l->skipped));
		fprintf(f, "  refunds    %s of %s\n",
		    grp(b[0], 32, l->refunded), grp(b[1], 32, l->refunders));
		if (l->order_violations >= 0)
			snprintf(b[0], 32, "%" PRId64, l->order_violations);
		else
			snprintf(b[0], 32, "unknown");
		fprintf(f,
		    "  line phase %.2f s (%s); order violations seen: "
		    "%s; tickets unsold while buyers waited: %" PRId64 "\n",
		    l->end_ms > l->start_ms
		        ? ((double)l->end_ms - (double)l->start_ms) / 1000
		        : 0.0,
		    l->stopped_by[0] ? l->stopped_by : "-", b[0],
		    l->unsold_while_waiting);
	}
	if (run->at_end.valid)
		fprintf(f,
		    "\n  event at end: total %" PRId64 ", sold %" PRId64
		    ", held %" PRId64 ", available %" PRId64 " (%s)\n",
		    run->at_end.total, run->at_end.sold, run->at_end.held,
		    run->at_end.available, run->at_end.state);
	if (v.left_unsold >= 0)
		fprintf(f,
		    "  tickets left unsold while demand remained: %" PRId64
		    "%s\n",
		    v.left_unsold, v.oversold ? "  (OVERSOLD)" : "");
	else
		fprintf(f,
		    "  tickets left unsold while demand remained: "
		    "unknown (event not readable)\n");
	free(all);
}
