/* trload: the rush load generator. Distinct users reserve (and most confirm)
 * tickets of one event through trgate's HTTP API over keep-alive loopback
 * connections; it measures, then writes a summary, JSON and HTML.
 * Exit codes: 0 the run completed (not a verdict), 1 an output could not be
 * written, 2 usage, 3 target unreachable at start. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "httpc.h"
#include "linebuyers.h"
#include "linecheck.h"
#include "loadhist.h"
#include "report.h"
#include "tr_clock.h"
#include "tr_err.h"
#include "tr_ids.h"
#include "tr_log.h"
#include "tr_parse.h"

#define EXIT_OUTPUT 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

#define RBUF_BYTES 16384 /* answers are < 1 KiB; the API caps bodies at 8 */
#define WBUF_BYTES 2048  /* the longest request is ~600 bytes */
#define EVENTS_MAX 256
#define THREADS_MAX 16
#define CONCURRENCY_MAX 10000
#define USERS_MAX 1000000000ULL
#define PREFIX_MAX 32
#define TARGETS_MAX 8
/* After a transport error a connection pauses before its next attempt, so
 * a dead target costs a few attempts per connection per 10 ms, not a spin
 * through every user. */
#define XPORT_PAUSE_US 10000
/* 503 on confirm: the buyer retries (safe: confirm is idempotent). Short
 * next to any hold_ms a rush uses, long enough to let a queue drain. */
#define CONFIRM_RETRY_US 200000
#define POLL_TIMEOUT_US 2000000
#define START_WAIT_MS 2000
#define PROGRESS_US 250000
#define WAITERS_MAX 10000 /* buyers in line: a connection each */
#define REFUNDS_MAX 100000
/* From the last return the tool caused (an abandoned hold's deadline, a
 * lapsed offer's, a refund) to its offer seen by a buyer in line: the
 * coordinator ends an overdue hold within a second of grace plus a node
 * sync (200 ms), and a long poll notices within the gateway's 1 s
 * recheck. */
#define LINE_SETTLE_MS 3000

enum { PROGRESS_AUTO, PROGRESS_ON, PROGRESS_OFF };

struct config {
	/* The gateways: connection i of a worker uses addr[i % ntargets];
	 * the poll and the waitlist's buyers use the first. */
	struct sockaddr_in addr[TARGETS_MAX];
	int ntargets;
	bool allow_private; /* RFC 1918 targets too (scripts/hosts) */
	char target[64];
	char event[TR_EVENT_ID_MAX + 1];
	char prefix[PREFIX_MAX + 1];
	uint64_t users;
	int concurrency, threads;
	double abandon;
	int64_t max_seconds;
	int64_t tail_seconds; /* -1: the event's hold time + 5 s */
	int tail_concurrency, tail_rate;
	int64_t timeout_ms;
	int confirm_retries;
	int poll_ms;
	const char *json_path, *html_path;
	int progress;
	/* The waitlist: buyers told sold out who join (a share, at most
	 * waiters), their long polls, offers let lapse; refunds. */
	double wl_share, lapse, refund_share;
	int waiters, refunds_max;
	int64_t wait_ms, refund_after_ms, line_seconds;
};

/* Preformatted request pieces, shared read-only by every thread. */
struct templates {
	char reserve_head[256]; /* "POST ... Content-Length: " */
	size_t reserve_head_len;
	char confirm_host[160]; /* "/confirm HTTP/1.1\r\nHost: ...: " */
	size_t confirm_host_len;
	char poll[256];
	size_t poll_len;
};

/* What the control thread tells a phase's workers. */
enum { RUN_GO, RUN_DRAIN, RUN_ABORT };

struct phase_ctl {
	const struct config *cfg;
	const struct templates *tpl;
	atomic_uint_fast64_t next_user;
	uint64_t user_end;   /* exclusive */
	bool abandon_on;     /* main: yes; tail buyers never abandon */
	int64_t pace_us;     /* per thread between attempt starts; 0: none */
	atomic_int stop;     /* RUN_* */
	atomic_int finished; /* workers done */
	int64_t t0_us;       /* run start, for series slots */
	size_t cap_slots;
	tl_linebuyers *lb; /* main: where sold-out buyers join the line and
	                    * buyers who paid refund; NULL: nobody does */
};

enum { C_IDLE, C_WAIT_START, C_WAIT_RESEND, C_BUSY };

struct conn {
	tl_httpc h;
	int state;
	int op;
	uint64_t user;
	bool abandon;
	int retries;
	int64_t expires_at_ms; /* of the hold: when it comes back unpaid */
	int64_t sent_us, deadline_us, wait_until_us;
	char uid[PREFIX_MAX + 24];
	size_t uid_len;
	char rid[TR_RID_MAX + 1];
	size_t rid_len;
};

struct worker {
	pthread_t th;
	struct phase_ctl *ctl;
	int epfd;
	int nconn;
	struct conn *conns;
	int active;  /* conns not C_IDLE */
	int waiting; /* conns in C_WAIT_* */
	int64_t next_start_us;
	tl_phase st;
	uint64_t *s_attempts, *s_reserved, *s_confirmed;
	/* Mirrors of st's counters for the progress line. */
	atomic_uint_fast64_t live_attempts, live_reserved, live_confirmed;
};

static volatile sig_atomic_t signals_seen;

static void
on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

/* ---- Requests --------------------------------------------------------- */

static char *
put(char *d, const char *s, size_t n)
{
	memcpy(d, s, n);
	return d + n;
}

static char *
put_u64(char *d, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*d++ = tmp[--n];
	return d;
}

#define PUTS(d, lit) put((d), (lit), sizeof(lit) - 1)

static size_t
fmt_reserve(const struct phase_ctl *ctl, const struct conn *c, char *buf)
{
	char body[256], *b = body, *p = buf;

	b = PUTS(b, "{\"user\":\"");
	b = put(b, c->uid, c->uid_len);
	b = PUTS(b, "\",\"request_id\":\"r");
	b = put_u64(b, c->user);
	b = PUTS(b, "\"}");
	p = put(p, ctl->tpl->reserve_head, ctl->tpl->reserve_head_len);
	p = put_u64(p, (uint64_t)(b - body));
	p = PUTS(p, "\r\n\r\n");
	p = put(p, body, (size_t)(b - body));
	return (size_t)(p - buf);
}

static size_t
fmt_confirm(const struct phase_ctl *ctl, const struct conn *c, char *buf)
{
	char body[256], *b = body, *p = buf;

	b = PUTS(b, "{\"user\":\"");
	b = put(b, c->uid, c->uid_len);
	b = PUTS(b, "\",\"payment_ref\":\"PAY-");
	b = put(b, c->uid, c->uid_len);
	b = PUTS(b, "\"}");
	p = PUTS(p, "POST /v1/reservations/");
	p = put(p, c->rid, c->rid_len);
	p = put(p, ctl->tpl->confirm_host, ctl->tpl->confirm_host_len);
	p = put_u64(p, (uint64_t)(b - body));
	p = PUTS(p, "\r\n\r\n");
	p = put(p, body, (size_t)(b - body));
	return (size_t)(p - buf);
}

static int
make_templates(const struct config *cfg, struct templates *t)
{
	int n;

	n = snprintf(t->reserve_head, sizeof(t->reserve_head),
	    "POST /v1/events/%s/reservations HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: ",
	    cfg->event, cfg->target);
	if (n < 0 || (size_t)n >= sizeof(t->reserve_head))
		return TR_EINVALID;
	t->reserve_head_len = (size_t)n;
	n = snprintf(t->confirm_host, sizeof(t->confirm_host),
	    "/confirm HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json"
	    "\r\nContent-Length: ",
	    cfg->target);
	if (n < 0 || (size_t)n >= sizeof(t->confirm_host))
		return TR_EINVALID;
	t->confirm_host_len = (size_t)n;
	n = snprintf(t->poll, sizeof(t->poll),
	    "GET /v1/events/%s HTTP/1.1\r\n"
	    "Host: %s\r\n\r\n",
	    cfg->event, cfg->target);
	if (n < 0 || (size_t)n >= sizeof(t->poll))
		return TR_EINVALID;
	t->poll_len = (size_t)n;
	return 0;
}

/* The same users abandon in every run: a hash of the index, not rand(). */
static bool
user_abandons(uint64_t idx, double share)
{
	return tl_share_pick(idx, TL_PICK_ABANDON, share);
}

/* A hold the tool leaves unpaid comes back at its deadline: the line
 * phase waits for it (with LINE_SETTLE_MS). */
static void
hold_let_go(const struct worker *w, const struct conn *c)
{
	if (w->ctl->lb != NULL && c->expires_at_ms > 0)
		tl_linebuyers_return_due(w->ctl->lb, c->expires_at_ms);
}

/* ---- Worker ----------------------------------------------------------- */

static void
slot_add(const struct worker *w, uint64_t *series, int64_t now)
{
	int64_t slot = (now - w->ctl->t0_us) / (TL_SLOT_MS * 1000);
	if (slot >= 0 && (size_t)slot < w->ctl->cap_slots)
		series[slot]++;
}

static void conn_send(struct worker *w, struct conn *c, int64_t now);
static void conn_next(struct worker *w, struct conn *c, int64_t now,
    int64_t pause_us);

static void
set_state(struct worker *w, struct conn *c, int state)
{
	bool was_wait = c->state == C_WAIT_START || c->state == C_WAIT_RESEND;
	bool is_wait = state == C_WAIT_START || state == C_WAIT_RESEND;

	if (c->state == C_IDLE && state != C_IDLE)
		w->active++;
	else if (c->state != C_IDLE && state == C_IDLE)
		w->active--;
	w->waiting += (int)is_wait - (int)was_wait;
	c->state = state;
}

static void
attempt_done(struct worker *w, struct conn *c, int64_t now, int64_t pause)
{
	w->st.attempts++;
	slot_add(w, w->s_attempts, now);
	atomic_store_explicit(&w->live_attempts, w->st.attempts,
	    memory_order_relaxed);
	conn_next(w, c, now, pause);
}

static void
start_attempt(struct worker *w, struct conn *c, int64_t now)
{
	struct phase_ctl *ctl = w->ctl;
	uint64_t idx = atomic_fetch_add_explicit(&ctl->next_user, 1,
	    memory_order_relaxed);
	char *p;

	if (idx >= ctl->user_end) {
		set_state(w, c, C_IDLE);
		return;
	}
	c->user = idx;
	c->abandon = ctl->abandon_on && user_abandons(idx, ctl->cfg->abandon);
	p = put(c->uid, ctl->cfg->prefix, strlen(ctl->cfg->prefix));
	p = put_u64(p, idx);
	c->uid_len = (size_t)(p - c->uid);
	c->op = TL_OP_RESERVE;
	c->retries = 0;
	conn_send(w, c, now);
}

/* The connection is free: start the next attempt now or when the pacing
 * (tail) or a pause allows, or go idle when the phase winds down. */
static void
conn_next(struct worker *w, struct conn *c, int64_t now, int64_t pause_us)
{
	int64_t at = now + pause_us;

	if (atomic_load_explicit(&w->ctl->stop, memory_order_relaxed) !=
	    RUN_GO) {
		set_state(w, c, C_IDLE);
		return;
	}
	if (w->ctl->pace_us > 0) {
		if (at < w->next_start_us)
			at = w->next_start_us;
		w->next_start_us = at + w->ctl->pace_us;
	}
	if (at > now) {
		c->wait_until_us = at;
		set_state(w, c, C_WAIT_START);
		return;
	}
	start_attempt(w, c, now);
}

/* A request got no answer (kind) or an answer to retry later. */
static void
request_failed(struct worker *w, struct conn *c, int64_t now, bool stale)
{
	tl_opstats *o = &w->st.op[c->op];

	if (stale && c->retries == 0) {
		/* The server closed an idle keep-alive socket under us:
		 * resend at once on a new one. */
		c->retries++;
		o->retries++;
		conn_send(w, c, now);
		return;
	}
	if (c->op == TL_OP_CONFIRM &&
	    c->retries < w->ctl->cfg->confirm_retries &&
	    atomic_load_explicit(&w->ctl->stop, memory_order_relaxed) !=
	        RUN_ABORT) {
		c->retries++;
		o->retries++;
		c->wait_until_us = now + CONFIRM_RETRY_US;
		set_state(w, c, C_WAIT_RESEND);
		return;
	}
	if (c->op == TL_OP_CONFIRM) {
		w->st.confirm_failed++;
		hold_let_go(w, c);
	}
	attempt_done(w, c, now, XPORT_PAUSE_US);
}

static void
on_transport_error(struct worker *w, struct conn *c, int64_t now)
{
	bool stale = c->h.fail_stale;

	if (!stale)
		w->st.op[c->op].transport[c->h.fail]++;
	request_failed(w, c, now, stale);
}

static void
conn_send(struct worker *w, struct conn *c, int64_t now)
{
	size_t cap, len;
	char *buf = tl_httpc_wbuf(&c->h, &cap);

	len = c->op == TL_OP_RESERVE ? fmt_reserve(w->ctl, c, buf)
	                             : fmt_confirm(w->ctl, c, buf);
	set_state(w, c, C_BUSY);
	c->sent_us = now;
	c->deadline_us = now + w->ctl->cfg->timeout_ms * 1000;
	if (c->h.state == TL_HTTPC_CLOSED &&
	    tl_httpc_connect(&c->h,
	        &w->ctl->cfg->addr[(c - w->conns) % w->ctl->cfg->ntargets]) !=
	        0) {
		on_transport_error(w, c, now);
		return;
	}
	if (tl_httpc_send(&c->h, len) != 0) {
		if (c->h.state != TL_HTTPC_CLOSED) {
			/* Not ready for a request: cannot happen; never
			 * leave the connection in an unknown state. */
			tl_httpc_close(&c->h);
			c->h.fail = TL_XP_OTHER;
			c->h.fail_stale = false;
		}
		on_transport_error(w, c, now);
	}
}

/* Count a 2xx reserve answer and take what the confirm needs. */
static bool
take_reservation(struct worker *w, struct conn *c, const tl_http_resp *r)
{
	char node[TL_NODE_NAME_MAX + 1], rid_node[TR_NODE_ID_MAX + 1];
	tl_nodecount *n;

	if (tl_json_scan_str(r->body, r->body_len, "reservation_id", c->rid,
	        sizeof(c->rid)) != 0 ||
	    !tr_rid_parse(c->rid, rid_node, NULL)) {
		w->st.bad_answers++;
		return false;
	}
	c->rid_len = strlen(c->rid);
	if (tl_json_scan_i64(r->body, r->body_len, "expires_at_ms",
	        &c->expires_at_ms) != 0)
		c->expires_at_ms = 0;
	if (tl_json_scan_str(r->body, r->body_len, "node", node,
	        sizeof(node)) != 0)
		snprintf(node, sizeof(node), "?");
	if ((n = tl_phase_node(&w->st, node)) != NULL)
		n->reserved++;
	else
		w->st.nodes_dropped++;
	if ((n = tl_phase_node(&w->st, rid_node)) != NULL)
		n->rid_prefix++;
	return true;
}

static void
on_answer(struct worker *w, struct conn *c, int64_t now)
{
	const tl_http_resp *r = &c->h.resp;
	tl_opstats *o = &w->st.op[c->op];
	int status = r->status;
	bool ok = status >= 200 && status < 300;
	bool retry = false, sold_out = false;

	tl_hist_record(&o->latency_us, (uint64_t)(now - c->sent_us));
	o->status[status]++;
	if (!ok) {
		char code[40];
		int ec = TR_API_OTHER;
		if (tl_json_scan_str(r->body, r->body_len, "error", code,
		        sizeof(code)) == 0)
			ec = tr_api_error_parse(code, strlen(code));
		o->errors[ec]++;
		retry = status == 503;
		sold_out = ec == TR_API_SOLD_OUT;
	}

	if (c->op == TL_OP_RESERVE) {
		bool got = ok && take_reservation(w, c, r);
		tl_httpc_consume(&c->h);
		if (!got) {
			/* Told sold out: a share of these buyers queue. */
			if (sold_out && w->ctl->lb != NULL &&
			    tl_share_pick(c->user, TL_PICK_JOIN,
			        w->ctl->cfg->wl_share))
				tl_linebuyers_join_line(w->ctl->lb, c->user);
			attempt_done(w, c, now, 0);
			return;
		}
		w->st.reserved++;
		slot_add(w, w->s_reserved, now);
		atomic_store_explicit(&w->live_reserved, w->st.reserved,
		    memory_order_relaxed);
		if (c->abandon) {
			w->st.abandoned++;
			hold_let_go(w, c);
			attempt_done(w, c, now, 0);
			return;
		}
		c->op = TL_OP_CONFIRM;
		c->retries = 0;
		conn_send(w, c, now);
		return;
	}

	/* Confirm. */
	if (ok) {
		char node[TL_NODE_NAME_MAX + 1];
		tl_nodecount *n;
		if (tl_json_scan_str(r->body, r->body_len, "node", node,
		        sizeof(node)) != 0)
			snprintf(node, sizeof(node), "?");
		if ((n = tl_phase_node(&w->st, node)) != NULL)
			n->confirmed++;
		w->st.confirmed++;
		slot_add(w, w->s_confirmed, now);
		atomic_store_explicit(&w->live_confirmed, w->st.confirmed,
		    memory_order_relaxed);
		if (w->ctl->lb != NULL &&
		    tl_share_pick(c->user, TL_PICK_REFUND,
		        w->ctl->cfg->refund_share))
			tl_linebuyers_refund_later(w->ctl->lb, c->user, c->rid,
			    now);
		tl_httpc_consume(&c->h);
		attempt_done(w, c, now, 0);
		return;
	}
	tl_httpc_consume(&c->h);
	if (retry) {
		request_failed(w, c, now, false);
		return;
	}
	w->st.confirm_failed++;
	hold_let_go(w, c);
	attempt_done(w, c, now, 0);
}

/* Timeouts and waits that came due. */
static void
scan_timers(struct worker *w, int64_t now)
{
	for (int i = 0; i < w->nconn; i++) {
		struct conn *c = &w->conns[i];
		switch (c->state) {
		case C_BUSY:
			if (now < c->deadline_us)
				break;
			tl_httpc_close(&c->h);
			c->h.fail = TL_XP_TIMEOUT;
			c->h.fail_stale = false;
			on_transport_error(w, c, now);
			break;
		case C_WAIT_START:
			if (now < c->wait_until_us)
				break;
			if (atomic_load_explicit(&w->ctl->stop,
			        memory_order_relaxed) != RUN_GO)
				set_state(w, c, C_IDLE);
			else
				start_attempt(w, c, now);
			break;
		case C_WAIT_RESEND:
			if (now >= c->wait_until_us)
				conn_send(w, c, now);
			break;
		default: break;
		}
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[EVENTS_MAX];
	int64_t now = tr_mono_us(), last_scan = now;

	w->next_start_us = now;
	for (int i = 0; i < w->nconn; i++) {
		set_state(w, &w->conns[i], C_WAIT_START);
		w->conns[i].wait_until_us = now;
	}
	scan_timers(w, now);

	while (w->active > 0) {
		int stop =
		    atomic_load_explicit(&w->ctl->stop, memory_order_relaxed);
		int n;

		if (stop == RUN_ABORT)
			break;
		n = epoll_wait(w->epfd, evs, EVENTS_MAX, w->waiting ? 1 : 20);
		if (n < 0 && errno != EINTR) {
			tr_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = TL_HTTPC_TAG(evs[i].data.u64);
			struct conn *c;
			int rv;

			if (tag >= (uint64_t)w->nconn)
				continue;
			c = &w->conns[tag];
			rv = tl_httpc_on_event(&c->h, evs[i].data.u64,
			    evs[i].events);
			if (rv == 0 || c->state != C_BUSY)
				continue;
			now = tr_mono_us();
			if (rv == TL_HTTP_DONE)
				on_answer(w, c, now);
			else
				on_transport_error(w, c, now);
		}
		now = tr_mono_us();
		if (w->waiting || now - last_scan >= 20000) {
			scan_timers(w, now);
			last_scan = now;
		}
		if (stop == RUN_DRAIN)
			for (int i = 0; i < w->nconn; i++)
				if (w->conns[i].state == C_WAIT_START)
					set_state(w, &w->conns[i], C_IDLE);
	}
	for (int i = 0; i < w->nconn; i++)
		tl_httpc_close(&w->conns[i].h);
	atomic_fetch_add(&w->ctl->finished, 1);
	return NULL;
}

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->conns)
		for (int i = 0; i < w->nconn; i++)
			tl_httpc_fini(&w->conns[i].h);
	free(w->conns);
	free(w->s_attempts);
	free(w->s_reserved);
	free(w->s_confirmed);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w);
}

static struct worker *
worker_new(struct phase_ctl *ctl, int nconn, const char *phase)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->epfd = -1;
	w->ctl = ctl;
	tl_phase_init(&w->st, phase);
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	w->conns = calloc((size_t)nconn, sizeof(*w->conns));
	w->s_attempts = calloc(ctl->cap_slots, sizeof(uint64_t));
	w->s_reserved = calloc(ctl->cap_slots, sizeof(uint64_t));
	w->s_confirmed = calloc(ctl->cap_slots, sizeof(uint64_t));
	if (!w->conns || !w->s_attempts || !w->s_reserved || !w->s_confirmed)
		goto fail;
	for (int i = 0; i < nconn; i++) {
		if (tl_httpc_init(&w->conns[i].h, w->epfd, (uint64_t)i,
		        RBUF_BYTES, WBUF_BYTES) != 0)
			goto fail;
		w->nconn = i + 1;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

/* ---- Control: polling the event, progress, phases ---------------------- */

struct control {
	const struct config *cfg;
	const struct templates *tpl;
	tl_run *run;
	int epfd;
	tl_httpc h;
	int64_t t0_us;
	bool busy;
	int64_t sent_us, next_us;
	int last_status;     /* of the last poll answer, 0 if none */
	tl_eventinfo latest; /* the last good poll */
	uint64_t poll_errors;
	bool progress;
	int64_t next_progress_us;
	bool progress_dirty;
};

static int
parse_event(const tl_http_resp *r, tl_eventinfo *e)
{
	const char *b = r->body;
	size_t n = r->body_len;

	memset(e, 0, sizeof(*e));
	if (tl_json_scan_i64(b, n, "total", &e->total) != 0 ||
	    tl_json_scan_i64(b, n, "sold", &e->sold) != 0)
		return TR_EPROTO;
	(void)tl_json_scan_i64(b, n, "available", &e->available);
	(void)tl_json_scan_i64(b, n, "held", &e->held);
	(void)tl_json_scan_i64(b, n, "hold_ms", &e->hold_ms);
	(void)tl_json_scan_i64(b, n, "pool", &e->pool);
	(void)tl_json_scan_i64(b, n, "waitlist", &e->waitlist);
	(void)tl_json_scan_i64(b, n, "offers", &e->offers);
	if (tl_json_scan_str(b, n, "state", e->state, sizeof(e->state)) != 0)
		snprintf(e->state, sizeof(e->state), "?");
	e->valid = true;
	return 0;
}

static void
poll_send(struct control *ctl, int64_t now)
{
	size_t cap;
	char *buf = tl_httpc_wbuf(&ctl->h, &cap);

	ctl->next_us = now + (int64_t)ctl->cfg->poll_ms * 1000;
	memcpy(buf, ctl->tpl->poll, ctl->tpl->poll_len);
	if (ctl->h.state == TL_HTTPC_CLOSED &&
	    tl_httpc_connect(&ctl->h, &ctl->cfg->addr[0]) != 0) {
		ctl->poll_errors++;
		return;
	}
	if (tl_httpc_send(&ctl->h, ctl->tpl->poll_len) != 0) {
		tl_httpc_close(&ctl->h);
		ctl->poll_errors++;
		return;
	}
	ctl->busy = true;
	ctl->sent_us = now;
}

/* Wait up to wait_ms for the poll connection; handle its answer. */
static void
poll_drive(struct control *ctl, int wait_ms)
{
	struct epoll_event ev;
	int64_t now;
	int n = epoll_wait(ctl->epfd, &ev, 1, wait_ms);

	now = tr_mono_us();
	if (n == 1) {
		int rv = tl_httpc_on_event(&ctl->h, ev.data.u64, ev.events);
		if (rv == TL_HTTP_DONE && ctl->busy) {
			tl_eventinfo e;
			ctl->busy = false;
			ctl->last_status = ctl->h.resp.status;
			if (ctl->h.resp.status == 200 &&
			    parse_event(&ctl->h.resp, &e) == 0) {
				tl_run *run = ctl->run;
				e.t_ms = (now - ctl->t0_us) / 1000;
				ctl->latest = e;
				if (run->n_polls < run->cap_polls)
					run->polls[run->n_polls++] = e;
				ctl->progress_dirty = true;
			} else {
				ctl->poll_errors++;
			}
			tl_httpc_consume(&ctl->h);
		} else if (rv < 0) {
			ctl->busy = false;
			ctl->poll_errors++;
		}
	}
	if (ctl->busy && now - ctl->sent_us > POLL_TIMEOUT_US) {
		tl_httpc_close(&ctl->h);
		ctl->h.fail = TL_XP_TIMEOUT;
		ctl->busy = false;
		ctl->poll_errors++;
	}
}

/* One poll, waited for. 0 with *e filled; TR_EIO when no answer came (the
 * target is unreachable); TR_EPROTO when it answered but not with an event
 * (ctl->last_status says what). */
static int
poll_once(struct control *ctl, tl_eventinfo *e)
{
	uint64_t errors;
	int64_t until;

	while (ctl->busy)
		poll_drive(ctl,
		    50); /* a periodic poll in flight: let it end */
	errors = ctl->poll_errors;
	ctl->last_status = 0;
	poll_send(ctl, tr_mono_us());
	until = tr_mono_us() + POLL_TIMEOUT_US + 100000;
	while (ctl->busy && tr_mono_us() < until)
		poll_drive(ctl, 50);
	if (ctl->last_status == 0)
		return TR_EIO;
	if (ctl->poll_errors != errors)
		return TR_EPROTO;
	*e = ctl->latest;
	return 0;
}

/* The live line. target 0: the phase has no fixed number of users. */
static void
progress_line(struct control *ctl, const char *phase, struct worker **ws,
    int nw, int64_t now, uint64_t target, uint64_t *last_n, int64_t *last_t)
{
	uint64_t a = 0, r = 0, k = 0;
	double rate;
	char b1[32], b2[32], b3[32], b4[32], done[80], left[64] = "?";

	for (int i = 0; i < nw; i++) {
		a += atomic_load_explicit(&ws[i]->live_attempts,
		    memory_order_relaxed);
		r += atomic_load_explicit(&ws[i]->live_reserved,
		    memory_order_relaxed);
		k += atomic_load_explicit(&ws[i]->live_confirmed,
		    memory_order_relaxed);
	}
	rate = now > *last_t
	    ? (double)(a - *last_n) * 1e6 / (double)(now - *last_t)
	    : 0;
	*last_n = a;
	*last_t = now;
	if (target > 0)
		snprintf(done, sizeof(done), "%s/%s",
		    tl_report_thousands(b1, sizeof(b1), a),
		    tl_report_thousands(b2, sizeof(b2), target));
	else
		snprintf(done, sizeof(done), "%s",
		    tl_report_thousands(b1, sizeof(b1), a));
	if (ctl->latest.valid)
		snprintf(left, sizeof(left),
		    "%" PRId64 "/%" PRId64 " held %" PRId64,
		    ctl->latest.total - ctl->latest.sold, ctl->latest.total,
		    ctl->latest.held);
	fprintf(stderr,
	    "\r[%s] %s attempts  %s/s  reserved %s  confirmed %s  "
	    "left %s  %.1fs   ",
	    phase, done, tl_report_thousands(b2, sizeof(b2), (uint64_t)rate),
	    tl_report_thousands(b3, sizeof(b3), r),
	    tl_report_thousands(b4, sizeof(b4), k), left,
	    (double)(now - ctl->t0_us) / 1e6);
	fflush(stderr);
}

/* Run one phase to its end; merge its counts into run->phase[idx]. */
static void
run_phase(struct control *ctl, struct phase_ctl *pc, int nthreads, int nconn,
    size_t idx, int64_t budget_us, int64_t deadline_us)
{
	const struct config *cfg = ctl->cfg;
	tl_run *run = ctl->run;
	tl_phase *ph = &run->phase[idx];
	struct worker *ws[THREADS_MAX];
	sigset_t all, old;
	int started = 0, per = nconn / nthreads, extra = nconn % nthreads;
	int64_t start = tr_mono_us(), last_t = start;
	uint64_t last_n = 0,
	         target =
	             idx == 0 ? pc->user_end - atomic_load(&pc->next_user) : 0;
	const char *why = "done";
	int sigs = signals_seen;

	ph->start_ms = (start - ctl->t0_us) / 1000;
	ph->concurrency = nconn;
	/* Workers never take the signals: the control thread decides. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < nthreads; i++) {
		ws[i] = worker_new(pc, per + (i < extra ? 1 : 0), ph->name);
		if (ws[i] == NULL ||
		    pthread_create(&ws[i]->th, NULL, worker_main, ws[i]) !=
		        0) {
			tr_error("cannot start worker %d", i);
			worker_free(ws[i]);
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started == 0) {
		why = "error";
		goto done;
	}

	while (atomic_load(&pc->finished) < started) {
		int64_t now = tr_mono_us();
		int stop = atomic_load(&pc->stop);

		if (cfg->poll_ms > 0 && !ctl->busy && now >= ctl->next_us)
			poll_send(ctl, now);
		poll_drive(ctl, 20);
		now = tr_mono_us();
		if (now >= deadline_us && stop != RUN_ABORT) {
			atomic_store(&pc->stop, RUN_ABORT);
			why = "max_seconds";
		} else if (signals_seen != sigs && stop == RUN_GO) {
			atomic_store(&pc->stop, RUN_DRAIN);
			why = "signal";
		} else if (signals_seen > sigs + 1 && stop != RUN_ABORT) {
			atomic_store(&pc->stop, RUN_ABORT);
			why = "signal";
		} else if (budget_us > 0 && now - start >= budget_us &&
		    stop == RUN_GO) {
			atomic_store(&pc->stop, RUN_DRAIN);
			why = "tail_seconds";
		} else if (idx == 1 && stop == RUN_GO && ctl->latest.valid &&
		    ctl->latest.t_ms * 1000 >= start - ctl->t0_us &&
		    ctl->latest.sold >= ctl->latest.total) {
			atomic_store(&pc->stop, RUN_DRAIN);
			why = "sold_out";
		}
		if (ctl->progress && now >= ctl->next_progress_us) {
			progress_line(ctl, ph->name, ws, started, now, target,
			    &last_n, &last_t);
			ctl->next_progress_us = now + PROGRESS_US;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i]->th, NULL);
	if (ctl->progress) {
		progress_line(ctl, ph->name, ws, started, tr_mono_us(), target,
		    &last_n, &last_t);
		fputc('\n', stderr);
	}
	for (int i = 0; i < started; i++) {
		tl_phase_merge(ph, &ws[i]->st);
		for (size_t s = 0; s < pc->cap_slots; s++) {
			run->s_attempts[s] += ws[i]->s_attempts[s];
			run->s_reserved[s] += ws[i]->s_reserved[s];
			run->s_confirmed[s] += ws[i]->s_confirmed[s];
		}
		worker_free(ws[i]);
	}
done:
	ph->end_ms = (tr_mono_us() - ctl->t0_us) / 1000;
	snprintf(ph->stopped_by, sizeof(ph->stopped_by), "%s", why);
	run->n_phases = idx + 1;
}

/* The line phase: after the main phase, the buyers in line wait for what
 * still comes back, then leave. It ends (stopped_by) when nobody waits and
 * nothing is unsettled ("done"); when nothing the tool let go can still
 * come back and nothing is unsettled ("quiet": LINE_SETTLE_MS after the
 * last return due); at --line-seconds; at --max-seconds (dropped); on a
 * signal (a second one drops what is in flight). */
static void
run_line(struct control *ctl, tl_linebuyers *lb, const char *main_end,
    int64_t deadline_us)
{
	const struct config *cfg = ctl->cfg;
	tl_line *l = &ctl->run->line;
	int64_t start = tr_mono_us(),
	        until = start + cfg->line_seconds * 1000000, left_at = 0;
	const char *why = NULL;
	int sigs = signals_seen;
	char b[5][32];

	l->start_ms = (start - ctl->t0_us) / 1000;
	if (strcmp(main_end, "done") != 0) {
		/* The run is being cut short: no waiting for the line. */
		why = main_end;
		tl_linebuyers_stop(lb, strcmp(main_end, "signal") != 0);
		left_at = start;
	}
	for (;;) {
		tl_linebuyers_live v;
		int64_t now = tr_mono_us();

		tl_linebuyers_live_get(lb, &v);
		if (v.finished)
			break;
		if (why == NULL) {
			if (now >= deadline_us)
				why = "max_seconds";
			else if (signals_seen != sigs)
				why = "signal";
			else if (v.unsettled == 0 && v.waiting == 0)
				why = "done";
			else if (v.unsettled == 0 &&
			    tr_wall_ms() >= v.returns_due_ms + LINE_SETTLE_MS)
				why = "quiet";
			else if (now >= until)
				why = "line_seconds";
			if (why != NULL) {
				tl_linebuyers_stop(lb, now >= deadline_us);
				left_at = now;
			}
		} else if (now >= deadline_us || signals_seen > sigs + 1 ||
		    now - left_at > (cfg->timeout_ms + 1000) * 1000) {
			/* Leaving takes a request per buyer: bounded. */
			tl_linebuyers_stop(lb, true);
		}
		if (cfg->poll_ms > 0 && !ctl->busy && now >= ctl->next_us)
			poll_send(ctl, now);
		poll_drive(ctl, 20);
		now = tr_mono_us();
		if (ctl->progress && now >= ctl->next_progress_us) {
			fprintf(stderr,
			    "\r[line] in line %s  offers seen %s  "
			    "paid %s  refunds %s  joined %s  %.1fs   ",
			    tl_report_thousands(b[0], 32, v.waiting),
			    tl_report_thousands(b[1], 32, v.offered),
			    tl_report_thousands(b[2], 32, v.confirmed),
			    tl_report_thousands(b[3], 32, v.refunded),
			    tl_report_thousands(b[4], 32, v.joined),
			    (double)(now - ctl->t0_us) / 1e6);
			fflush(stderr);
			ctl->next_progress_us = now + PROGRESS_US;
		}
	}
	if (ctl->progress)
		fputc('\n', stderr);
	l->end_ms = (tr_mono_us() - ctl->t0_us) / 1000;
	snprintf(l->stopped_by, sizeof(l->stopped_by), "%s",
	    why ? why : "done");
}

/* The most tickets the polls saw in the pool while buyers waited. */
static int64_t
unsold_seen(const tl_run *run)
{
	tl_line_sample *s = calloc(run->n_polls + 1, sizeof(*s));
	int64_t v;

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < run->n_polls; i++)
		s[i] = (tl_line_sample){run->polls[i].t_ms,
		    run->polls[i].waitlist, run->polls[i].pool};
	v = tl_line_unsold_while_waiting(s, run->n_polls,
	    TL_LINE_UNSOLD_GRACE_MS);
	free(s);
	return v;
}

/* ---- Flags ------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: trload --target 127.0.0.1:PORT[,...] --event ID "
	    "[options]\n"
	    "       trload report --json IN.json --html OUT.html [--extra "
	    "EXTRA.json]\n"
	    "       trload line-check --log LOG.json\n"
	    "The rush: --users distinct users each try to buy one ticket of "
	    "--event\n"
	    "through trgate (POST reserve, then confirm unless they abandon), "
	    "then late\n"
	    "buyers take what is left. With --waitlist-share, some buyers "
	    "told sold out\n"
	    "join the waitlist and pay the offers they get; with "
	    "--refund-share, some\n"
	    "who paid refund. line-check judges the coordinator's offer log. "
	    "See\n"
	    "docs/LOADTOOL.md.\n"
	    "\n"
	    "  --target HOST:PORT[,HOST:PORT...]\n"
	    "                         the gateways (at most 8; connections "
	    "take them in\n"
	    "                         turn); loopback only (127.0.0.0/8, "
	    "localhost)\n"
	    "  --allow-private        a private address too (10/8, "
	    "172.16/12, 192.168/16):\n"
	    "                         network namespaces on this machine "
	    "(scripts/hosts)\n"
	    "  --event ID             the event to buy\n"
	    "  --users N              distinct users in the main phase "
	    "(default 1000000)\n"
	    "  --concurrency N        keep-alive connections (default 128)\n"
	    "  --threads N            event-loop threads (default 1)\n"
	    "  --abandon SHARE        share of buyers who never confirm "
	    "(default 0.10)\n"
	    "  --user-prefix P        user ids are P0 .. P{N-1} (default u)\n"
	    "  --max-seconds N        hard stop for the whole run (default "
	    "300)\n"
	    "  --tail-seconds N       late-buyer phase budget (default: the "
	    "event's\n"
	    "                         hold time + 5 s; 0: no tail)\n"
	    "  --tail-concurrency N   late-buyer connections (default 8)\n"
	    "  --tail-rate N          late-buyer attempts per second (default "
	    "1000)\n"
	    "  --timeout DUR          per request (default 10s)\n"
	    "  --confirm-retries N    retries of a confirm answered 503 "
	    "(default 3)\n"
	    "  --poll-ms N            GET /v1/events period, 0: off (default "
	    "250)\n"
	    "  --waitlist-share SHARE share of buyers told sold out (main "
	    "phase) who\n"
	    "                         join the waitlist (default 0: none)\n"
	    "  --waiters N            buyers who join, at most; one "
	    "connection each\n"
	    "                         while in line (default 1000, at most "
	    "10000)\n"
	    "  --wait DUR             long poll of an entry, ?wait= (default "
	    "5s, <= 30s)\n"
	    "  --lapse SHARE          share of joiners who let their offer "
	    "expire\n"
	    "                         (default 0.10)\n"
	    "  --refund-share SHARE   share of buyers who paid (main phase) "
	    "who refund\n"
	    "                         (default 0: none)\n"
	    "  --refunds-max N        refunds, at most (default 1000)\n"
	    "  --refund-after DUR     from the confirm's answer to the "
	    "refund\n"
	    "                         (default 1s)\n"
	    "  --line-seconds N       the line phase lasts at most N s after "
	    "the main\n"
	    "                         phase; then the buyers still in line "
	    "leave\n"
	    "                         (default 30)\n"
	    "  --json FILE            write the full result as JSON\n"
	    "  --html FILE            write the HTML report\n"
	    "  --progress auto|on|off live line on stderr (auto: if a "
	    "terminal)\n"
	    "  -h, --help\n"
	    "exit: 0 the run completed (not a verdict), 1 an output failed, 2 "
	    "usage,\n"
	    "3 target unreachable at start.\n");
}

static int
fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "trload: %s%s%s\n", msg, arg ? ": " : "",
	    arg ? arg : "");
	fprintf(stderr, "try 'trload --help'\n");
	return EXIT_USAGE;
}

static bool
prefix_valid(const char *p)
{
	char probe[PREFIX_MAX + 24];

	if (strlen(p) > PREFIX_MAX)
		return false;
	/* The longest id it makes must still be a valid user id. */
	snprintf(probe, sizeof(probe), "%s%" PRIu64, p,
	    (uint64_t)USERS_MAX * 2);
	return tr_user_id_valid(probe);
}

/* Whether a (host order) IPv4 address is private (RFC 1918). */
static bool
addr_private(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) ||
	    (a >> 16) == ((192u << 8) | 168);
}

/* One gateway, HOST:PORT, appended to cfg->addr. */
static int
parse_one_target(const char *s, struct config *cfg)
{
	char host[40]; /* an IPv4 address or "localhost" */
	struct sockaddr_in *sa;
	uint32_t a;
	int port;

	if (cfg->ntargets >= TARGETS_MAX)
		return TR_EINVALID;
	if (tr_parse_hostport(s, host, sizeof(host), &port) != 0)
		return TR_EINVALID;
	sa = &cfg->addr[cfg->ntargets];
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return TR_EINVALID;
	/* Load tests here must never leave the machine: loopback, or with
	 * --allow-private a private address, which is what the network
	 * namespaces of scripts/hosts use on this box. */
	a = ntohl(sa->sin_addr.s_addr);
	if ((a >> 24) != 127 && !(cfg->allow_private && addr_private(a)))
		return TR_EFORBIDDEN;
	if (cfg->ntargets == 0)
		snprintf(cfg->target, sizeof(cfg->target), "%s:%d", host,
		    port);
	cfg->ntargets++;
	return 0;
}

/* HOST:PORT[,HOST:PORT...]: the gateways, at most TARGETS_MAX. */
static int
parse_target(const char *s, struct config *cfg)
{
	char one[64];
	int rv;

	cfg->ntargets = 0;
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(one))
			return TR_EINVALID;
		memcpy(one, s, n);
		one[n] = '\0';
		if ((rv = parse_one_target(one, cfg)) != 0)
			return rv;
		s += n;
		if (*s == ',' && *++s == '\0')
			return TR_EINVALID;
	}
	return cfg->ntargets > 0 ? 0 : TR_EINVALID;
}

enum {
	OPT_TARGET = 256,
	OPT_EVENT,
	OPT_USERS,
	OPT_CONC,
	OPT_ABANDON,
	OPT_THREADS,
	OPT_PREFIX,
	OPT_MAXS,
	OPT_TAILS,
	OPT_TAILC,
	OPT_TAILR,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_POLL,
	OPT_JSON,
	OPT_HTML,
	OPT_PROGRESS,
	OPT_EXTRA,
	OPT_WLSHARE,
	OPT_WAITERS,
	OPT_WAIT,
	OPT_LAPSE,
	OPT_RSHARE,
	OPT_RMAX,
	OPT_RAFTER,
	OPT_LINES,
	OPT_PRIVATE,
};

static const struct option long_opts[] = {
    {"target", required_argument, NULL, OPT_TARGET},
    {"event", required_argument, NULL, OPT_EVENT},
    {"users", required_argument, NULL, OPT_USERS},
    {"concurrency", required_argument, NULL, OPT_CONC},
    {"abandon", required_argument, NULL, OPT_ABANDON},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"user-prefix", required_argument, NULL, OPT_PREFIX},
    {"max-seconds", required_argument, NULL, OPT_MAXS},
    {"tail-seconds", required_argument, NULL, OPT_TAILS},
    {"tail-concurrency", required_argument, NULL, OPT_TAILC},
    {"tail-rate", required_argument, NULL, OPT_TAILR},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"confirm-retries", required_argument, NULL, OPT_RETRIES},
    {"poll-ms", required_argument, NULL, OPT_POLL},
    {"json", required_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"waitlist-share", required_argument, NULL, OPT_WLSHARE},
    {"waiters", required_argument, NULL, OPT_WAITERS},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"lapse", required_argument, NULL, OPT_LAPSE},
    {"refund-share", required_argument, NULL, OPT_RSHARE},
    {"refunds-max", required_argument, NULL, OPT_RMAX},
    {"refund-after", required_argument, NULL, OPT_RAFTER},
    {"line-seconds", required_argument, NULL, OPT_LINES},
    {"allow-private", no_argument, NULL, OPT_PRIVATE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A share: a number 0..1. */
static bool
parse_share(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1))
		return false;
	*out = v;
	return true;
}

static int
parse_flags(int argc, char **argv, struct config *cfg)
{
	bool have_target = false, have_event = false;
	const char *target_arg = NULL;
	uint64_t v;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->users = 1000000;
	cfg->concurrency = 128;
	cfg->threads = 1;
	cfg->abandon = 0.10;
	snprintf(cfg->prefix, sizeof(cfg->prefix), "u");
	cfg->max_seconds = 300;
	cfg->tail_seconds = -1;
	cfg->tail_concurrency = 8;
	cfg->tail_rate = 1000;
	cfg->timeout_ms = 10000;
	cfg->confirm_retries = 3;
	cfg->poll_ms = 250;
	cfg->progress = PROGRESS_AUTO;
	cfg->waiters = 1000;
	cfg->wait_ms = 5000;
	cfg->lapse = 0.10;
	cfg->refunds_max = 1000;
	cfg->refund_after_ms = 1000;
	cfg->line_seconds = 30;

	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TARGET:
			/* Parsed after the loop: --allow-private may follow.
			 */
			target_arg = optarg;
			have_target = true;
			break;
		case OPT_EVENT:
			if (!tr_event_id_valid(optarg))
				return fail_usage("bad event id", optarg);
			snprintf(cfg->event, sizeof(cfg->event), "%s", optarg);
			have_event = true;
			break;
		case OPT_USERS:
			if (tr_parse_u64(optarg, 1, USERS_MAX, &cfg->users))
				return fail_usage("--users wants 1..1e9",
				    optarg);
			break;
		case OPT_CONC:
			if (tr_parse_u64(optarg, 1, CONCURRENCY_MAX, &v))
				return fail_usage("--concurrency wants "
				                  "1..10000",
				    optarg);
			cfg->concurrency = (int)v;
			break;
		case OPT_THREADS:
			if (tr_parse_u64(optarg, 1, THREADS_MAX, &v))
				return fail_usage("--threads wants 1..16",
				    optarg);
			cfg->threads = (int)v;
			break;
		case OPT_ABANDON:
			if (!parse_share(optarg, &cfg->abandon))
				return fail_usage("--abandon wants 0..1",
				    optarg);
			break;
		case OPT_WLSHARE:
			if (!parse_share(optarg, &cfg->wl_share))
				return fail_usage("--waitlist-share wants "
				                  "0..1",
				    optarg);
			break;
		case OPT_LAPSE:
			if (!parse_share(optarg, &cfg->lapse))
				return fail_usage("--lapse wants 0..1",
				    optarg);
			break;
		case OPT_RSHARE:
			if (!parse_share(optarg, &cfg->refund_share))
				return fail_usage("--refund-share wants 0..1",
				    optarg);
			break;
		case OPT_WAITERS:
			if (tr_parse_u64(optarg, 1, WAITERS_MAX, &v))
				return fail_usage("--waiters wants 1..10000",
				    optarg);
			cfg->waiters = (int)v;
			break;
		case OPT_RMAX:
			if (tr_parse_u64(optarg, 0, REFUNDS_MAX, &v))
				return fail_usage("--refunds-max wants "
				                  "0..100000",
				    optarg);
			cfg->refunds_max = (int)v;
			break;
		case OPT_WAIT:
			if (tr_parse_duration_ms(optarg, 30000, &v) || v == 0)
				return fail_usage("--wait wants a duration "
				                  "up to 30s",
				    optarg);
			cfg->wait_ms = (int64_t)v;
			break;
		case OPT_RAFTER:
			if (tr_parse_duration_ms(optarg, 600000, &v))
				return fail_usage("--refund-after wants a "
				                  "duration up to 10m",
				    optarg);
			cfg->refund_after_ms = (int64_t)v;
			break;
		case OPT_PRIVATE: cfg->allow_private = true; break;
		case OPT_LINES:
			if (tr_parse_u64(optarg, 1, 3600, &v))
				return fail_usage("--line-seconds wants "
				                  "1..3600",
				    optarg);
			cfg->line_seconds = (int64_t)v;
			break;
		case OPT_PREFIX:
			if (!prefix_valid(optarg))
				return fail_usage(
				    "bad user prefix (up to 32 of "
				    "[A-Za-z0-9._:@-])",
				    optarg);
			snprintf(cfg->prefix, sizeof(cfg->prefix), "%s",
			    optarg);
			break;
		case OPT_MAXS:
			if (tr_parse_u64(optarg, 1, 86400, &v))
				return fail_usage("--max-seconds wants "
				                  "1..86400",
				    optarg);
			cfg->max_seconds = (int64_t)v;
			break;
		case OPT_TAILS:
			if (tr_parse_u64(optarg, 0, 86400, &v))
				return fail_usage("--tail-seconds wants "
				                  "0..86400",
				    optarg);
			cfg->tail_seconds = (int64_t)v;
			break;
		case OPT_TAILC:
			if (tr_parse_u64(optarg, 1, 1000, &v))
				return fail_usage("--tail-concurrency wants "
				                  "1..1000",
				    optarg);
			cfg->tail_concurrency = (int)v;
			break;
		case OPT_TAILR:
			if (tr_parse_u64(optarg, 1, 1000000, &v))
				return fail_usage("--tail-rate wants "
				                  "1..1000000",
				    optarg);
			cfg->tail_rate = (int)v;
			break;
		case OPT_TIMEOUT:
			if (tr_parse_duration_ms(optarg, 600000, &v) || v == 0)
				return fail_usage("--timeout wants a duration "
				                  "up to 10m",
				    optarg);
			cfg->timeout_ms = (int64_t)v;
			break;
		case OPT_RETRIES:
			if (tr_parse_u64(optarg, 0, 100, &v))
				return fail_usage("--confirm-retries wants "
				                  "0..100",
				    optarg);
			cfg->confirm_retries = (int)v;
			break;
		case OPT_POLL:
			if (tr_parse_u64(optarg, 0, 60000, &v) ||
			    (v > 0 && v < 10))
				return fail_usage("--poll-ms wants 0 or "
				                  "10..60000",
				    optarg);
			cfg->poll_ms = (int)v;
			break;
		case OPT_JSON: cfg->json_path = optarg; break;
		case OPT_HTML: cfg->html_path = optarg; break;
		case OPT_PROGRESS:
			if (strcmp(optarg, "auto") == 0)
				cfg->progress = PROGRESS_AUTO;
			else if (strcmp(optarg, "on") == 0)
				cfg->progress = PROGRESS_ON;
			else if (strcmp(optarg, "off") == 0)
				cfg->progress = PROGRESS_OFF;
			else
				return fail_usage("--progress wants "
				                  "auto|on|off",
				    optarg);
			break;
		case 'h': usage(stdout); exit(0);
		default: return fail_usage("unknown option", NULL);
		}
	}
	if (optind < argc)
		return fail_usage("unexpected argument", argv[optind]);
	if (!have_target)
		return fail_usage("--target is required", NULL);
	switch (parse_target(target_arg, cfg)) {
	case 0: break;
	case TR_EFORBIDDEN:
		return fail_usage("refusing a target that is not loopback "
		                  "(127.0.0.0/8; with --allow-private also "
		                  "10/8, 172.16/12, 192.168/16)",
		    target_arg);
	default:
		return fail_usage("--target wants 127.0.0.1:PORT[,...] (at "
		                  "most 8)",
		    target_arg);
	}
	if (!have_event)
		return fail_usage("--event is required", NULL);
	if (cfg->threads > cfg->concurrency)
		return fail_usage("--threads exceeds --concurrency", NULL);
	return 0;
}

/* ---- Outputs ---------------------------------------------------------- */

static int
read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return TR_EIO;
	for (;;) {
		size_t got;
		if (n == cap) {
			char *nb;
			/* Our JSON is a few MB at most; refuse the absurd. */
			if (cap >= ((size_t)256 << 20)) {
				free(buf);
				fclose(f);
				return TR_EINVALID;
			}
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return TR_ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return TR_EIO;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int
write_html(const char *path, const tl_run *run, const tl_extra_row *rows,
    size_t n)
{
	FILE *f = fopen(path, "w");
	int rv;

	if (f == NULL) {
		tr_error("%s: %s", path, strerror(errno));
		return TR_EIO;
	}
	rv = tl_report_write_html(run, rows, n, f);
	if (fclose(f) != 0 && rv == 0)
		rv = TR_EIO;
	if (rv != 0)
		tr_error("%s: cannot write the report", path);
	return rv;
}

static int
write_json(const char *path, const tl_run *run)
{
	FILE *f = fopen(path, "w");
	int rv;

	if (f == NULL) {
		tr_error("%s: %s", path, strerror(errno));
		return TR_EIO;
	}
	rv = tl_report_write_json(run, f);
	if (fclose(f) != 0 && rv == 0)
		rv = TR_EIO;
	if (rv != 0)
		tr_error("%s: cannot write the JSON", path);
	return rv;
}

/* trload report --json IN --html OUT [--extra EXTRA] */
static int
report_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", required_argument, NULL, 'j'},
	    {"html", required_argument, NULL, 'o'},
	    {"extra", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *in = NULL, *out = NULL, *extra = NULL;
	tl_extra_row *rows = NULL;
	size_t n_rows = 0, len;
	tl_run *run = NULL;
	char *text;
	int opt, rv;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': in = optarg; break;
		case 'o': out = optarg; break;
		case 'x': extra = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return fail_usage("unknown option", NULL);
		}
	}
	if (in == NULL || out == NULL || optind < argc)
		return fail_usage("report wants --json IN --html OUT "
		                  "[--extra EXTRA]",
		    NULL);
	if ((rv = read_file(in, &text, &len)) != 0) {
		tr_error("%s: cannot read", in);
		return EXIT_OUTPUT;
	}
	rv = tl_report_read_json(text, len, &run);
	free(text);
	if (rv != 0) {
		tr_error("%s: not a trload JSON result (%s)", in,
		    tr_strerror(rv));
		return EXIT_OUTPUT;
	}
	if (extra) {
		if (read_file(extra, &text, &len) != 0) {
			tr_error("%s: cannot read", extra);
			tl_run_free(run);
			return EXIT_OUTPUT;
		}
		rv = tl_report_read_extra(text, len, &rows, &n_rows);
		free(text);
		if (rv != 0) {
			tr_error("%s: not a JSON object", extra);
			tl_run_free(run);
			return EXIT_OUTPUT;
		}
	}
	rv = write_html(out, run, rows, n_rows);
	free(rows);
	tl_run_free(run);
	return rv == 0 ? 0 : EXIT_OUTPUT;
}

/* trload line-check --log LOG.json: the waitlist's order and return-to-offer
 * times from the coordinator's records (tl_report_read_line_log says what
 * LOG holds; scripts/demo gathers it from Redis). Prints one JSON object.
 * Exit 0 whatever it found (the caller judges), 1 if LOG is unreadable. */
static int
line_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *in = NULL;
	tl_offer *offers;
	tl_entry *entries;
	size_t n, m, len;
	tl_order_check r;
	tl_hist h;
	char *text;
	int opt, rv;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': in = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return fail_usage("unknown option", NULL);
		}
	}
	if (in == NULL || optind < argc)
		return fail_usage("line-check wants --log LOG.json", NULL);
	if (read_file(in, &text, &len) != 0) {
		tr_error("%s: cannot read", in);
		return EXIT_OUTPUT;
	}
	rv = tl_report_read_line_log(text, len, &offers, &n, &entries, &m);
	free(text);
	if (rv != 0) {
		tr_error("%s: not a waitlist log (%s)", in, tr_strerror(rv));
		return EXIT_OUTPUT;
	}
	rv = tl_line_order_check(offers, n, entries, m, &r);
	tl_hist_init(&h);
	tl_line_return_times(offers, n, &h);
	free(offers);
	free(entries);
	if (rv != 0) {
		tr_error("out of memory");
		return EXIT_OUTPUT;
	}
	printf("{\"offers\":%" PRIu64 ",\"entries\":%zu,\"waiting\":%" PRIu64
	       ",\"order_violations\":%" PRIu64 ",\"first_violation\":",
	    r.offers, m, r.waiting, r.violations);
	if (r.violations)
		printf("{\"index\":%zu,\"offer_seq\":%" PRIu64
		       ",\"waiting_seq\":%" PRIu64 "}",
		    r.first_index, r.first_offer_seq, r.first_waiting_seq);
	else
		fputs("null", stdout);
	printf(",\"return_to_offer_ms\":{\"count\":%" PRIu64
	       ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"max\":%" PRIu64
	       "}}\n",
	    h.count, tl_hist_percentile(&h, 50), tl_hist_percentile(&h, 99),
	    h.max);
	return fflush(stdout) == 0 ? 0 : EXIT_OUTPUT;
}

/* ---- main ------------------------------------------------------------- */

static void
fill_run_config(tl_run *run, const struct config *cfg)
{
	snprintf(run->target, sizeof(run->target), "%s", cfg->target);
	snprintf(run->event, sizeof(run->event), "%s", cfg->event);
	snprintf(run->user_prefix, sizeof(run->user_prefix), "%s",
	    cfg->prefix);
	run->users = cfg->users;
	run->concurrency = cfg->concurrency;
	run->threads = cfg->threads;
	run->abandon = cfg->abandon;
	run->max_seconds = cfg->max_seconds;
	run->tail_seconds = cfg->tail_seconds;
	run->tail_concurrency = cfg->tail_concurrency;
	run->tail_rate = cfg->tail_rate;
	run->timeout_ms = cfg->timeout_ms;
	run->confirm_retries = cfg->confirm_retries;
	run->poll_ms = cfg->poll_ms;
	run->waitlist_share = cfg->wl_share;
	run->waiters = cfg->waiters;
	run->wait_ms = cfg->wait_ms;
	run->lapse = cfg->lapse;
	run->refund_share = cfg->refund_share;
	run->refunds_max = cfg->refunds_max;
	run->refund_after_ms = cfg->refund_after_ms;
	run->line_seconds = cfg->line_seconds;
}

/* Is the target there? Retries a refused connect for START_WAIT_MS. */
static int
check_target(struct control *ctl)
{
	int64_t until = tr_mono_ms() + START_WAIT_MS;
	int rv;

	for (;;) {
		rv = poll_once(ctl, &ctl->run->at_start);
		if (rv != TR_EIO || tr_mono_ms() >= until)
			break;
		tr_sleep_ms(100);
	}
	if (rv == TR_EIO)
		return rv;
	if (rv != 0) {
		ctl->run->at_start.valid = false;
		tr_warn("GET /v1/events/%s answered %d without the event: no "
		        "tickets-left figures, no tail phase",
		    ctl->cfg->event, ctl->last_status);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct templates tpl;
	struct control ctl;
	struct phase_ctl main_pc, tail_pc;
	struct sigaction sa;
	tl_linebuyers *lb = NULL;
	tl_run *run;
	int64_t deadline_us, hold_ms;
	size_t cap_slots;
	int rv, exit_code = 0;

	tr_log_init("trload", TR_LOG_INFO);
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "line-check") == 0)
		return line_check_main(argc - 1, argv + 1);
	if ((rv = parse_flags(argc, argv, &cfg)) != 0)
		return rv;
	if (make_templates(&cfg, &tpl) != 0)
		return fail_usage("target or event too long", NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Slots and polls for the longest run max-seconds allows. */
	cap_slots = (size_t)(cfg.max_seconds + 15) * (1000 / TL_SLOT_MS);
	run = tl_run_new(cap_slots,
	    cfg.poll_ms
	        ? (size_t)(cfg.max_seconds + 15) * 1000 / (size_t)cfg.poll_ms +
	            16
	        : 16);
	if (run == NULL) {
		tr_error("out of memory");
		return EXIT_OUTPUT;
	}
	fill_run_config(run, &cfg);

	memset(&ctl, 0, sizeof(ctl));
	ctl.cfg = &cfg;
	ctl.tpl = &tpl;
	ctl.run = run;
	ctl.progress = cfg.progress == PROGRESS_ON ||
	    (cfg.progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
	if ((ctl.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    tl_httpc_init(&ctl.h, ctl.epfd, 0, RBUF_BYTES, 512) != 0) {
		tr_error("cannot set up: %s", strerror(errno));
		tl_run_free(run);
		return EXIT_OUTPUT;
	}
	ctl.t0_us = tr_mono_us();
	run->started_wall_ms = tr_wall_ms();
	deadline_us = ctl.t0_us + cfg.max_seconds * 1000000;

	if (check_target(&ctl) != 0) {
		fprintf(stderr, "trload: %s: unreachable (%s)\n", cfg.target,
		    tl_xport_name(ctl.h.fail));
		tl_httpc_fini(&ctl.h);
		close(ctl.epfd);
		tl_run_free(run);
		return EXIT_UNREACHABLE;
	}

	/* The waitlist's buyers and the refunders, beside the main phase. */
	if (cfg.wl_share > 0 || cfg.refund_share > 0) {
		tl_linebuyers_conf lc = {
		    .addr = cfg.addr[0],
		    .target = cfg.target,
		    .event = cfg.event,
		    .prefix = cfg.prefix,
		    .waiters = cfg.wl_share > 0 ? cfg.waiters : 0,
		    .wait_ms = cfg.wait_ms,
		    .lapse = cfg.lapse,
		    .refunds_max = cfg.refund_share > 0 ? cfg.refunds_max : 0,
		    .refund_after_ms = cfg.refund_after_ms,
		    .timeout_ms = cfg.timeout_ms,
		    .t0_us = ctl.t0_us,
		    .cap_slots = cap_slots,
		};
		if ((lb = tl_linebuyers_new(&lc)) == NULL ||
		    tl_linebuyers_start(lb) != 0) {
			tr_error("cannot start the waitlist's buyers");
			tl_linebuyers_free(lb);
			tl_httpc_fini(&ctl.h);
			close(ctl.epfd);
			tl_run_free(run);
			return EXIT_OUTPUT;
		}
	}

	/* (a) main: every user once, as fast as the connections allow. */
	memset(&main_pc, 0, sizeof(main_pc));
	main_pc.cfg = &cfg;
	main_pc.tpl = &tpl;
	atomic_init(&main_pc.next_user, 0);
	main_pc.user_end = cfg.users;
	main_pc.abandon_on = true;
	atomic_init(&main_pc.stop, RUN_GO);
	atomic_init(&main_pc.finished, 0);
	main_pc.t0_us = ctl.t0_us;
	main_pc.cap_slots = cap_slots;
	main_pc.lb = lb;
	run_phase(&ctl, &main_pc, cfg.threads, cfg.concurrency, 0, 0,
	    deadline_us);
	snprintf(run->stopped_by, sizeof(run->stopped_by), "%s",
	    run->phase[0].stopped_by);

	/* (b) line: what still comes back goes to the buyers in line. */
	if (lb != NULL) {
		run_line(&ctl, lb, run->phase[0].stopped_by, deadline_us);
		tl_linebuyers_collect(lb, run);
		tl_linebuyers_free(lb);
		lb = NULL;
		if (strcmp(run->line.stopped_by, "max_seconds") == 0 ||
		    strcmp(run->line.stopped_by, "signal") == 0)
			snprintf(run->stopped_by, sizeof(run->stopped_by),
			    "%s", run->line.stopped_by);
	}

	/* (c) tail: late buyers while tickets remain unsold. */
	if (strcmp(run->stopped_by, "done") == 0 && cfg.poll_ms > 0 &&
	    cfg.tail_seconds != 0 && poll_once(&ctl, &run->at_end) == 0 &&
	    run->at_end.sold < run->at_end.total) {
		int64_t left_us = deadline_us - tr_mono_us(), budget_us;

		hold_ms = run->at_end.hold_ms > 0 ? run->at_end.hold_ms
		                                  : run->at_start.hold_ms;
		budget_us = cfg.tail_seconds > 0 ? cfg.tail_seconds * 1000000
		                                 : (hold_ms + 5000) * 1000;
		if (budget_us > left_us) {
			tr_warn("tail phase cut to %.1f s by --max-seconds "
			        "(wanted %.1f s)",
			    (double)left_us / 1e6, (double)budget_us / 1e6);
			budget_us = left_us;
		}
		if (budget_us > 0) {
			run->tail_seconds_used =
			    (budget_us + 999999) / 1000000;
			memset(&tail_pc, 0, sizeof(tail_pc));
			tail_pc.cfg = &cfg;
			tail_pc.tpl = &tpl;
			/* New users, numbered after the main ones; at most
			 * what the rate allows in the budget, and some. */
			atomic_init(&tail_pc.next_user, cfg.users);
			tail_pc.user_end = cfg.users +
			    (uint64_t)((double)cfg.tail_rate *
			        (double)budget_us / 1e6) +
			    (uint64_t)cfg.tail_concurrency + 1000;
			tail_pc.abandon_on = false;
			tail_pc.pace_us = 1000000 / cfg.tail_rate;
			atomic_init(&tail_pc.stop, RUN_GO);
			atomic_init(&tail_pc.finished, 0);
			tail_pc.t0_us = ctl.t0_us;
			tail_pc.cap_slots = cap_slots;
			run_phase(&ctl, &tail_pc, 1, cfg.tail_concurrency, 1,
			    budget_us, deadline_us);
			if (strcmp(run->phase[1].stopped_by, "max_seconds") ==
			        0 ||
			    strcmp(run->phase[1].stopped_by, "signal") == 0)
				snprintf(run->stopped_by,
				    sizeof(run->stopped_by), "%s",
				    run->phase[1].stopped_by);
		}
	}
	if (cfg.poll_ms > 0 && poll_once(&ctl, &run->at_end) != 0) {
		run->at_end.valid = false;
		tr_warn("could not read the event at the end");
	}
	if (run->at_end.valid)
		run->at_end.t_ms = (tr_mono_us() - ctl.t0_us) / 1000;
	if (cfg.poll_ms > 0)
		run->line.unsold_while_waiting = unsold_seen(run);
	run->wall_ms = (tr_mono_us() - ctl.t0_us) / 1000;
	run->n_slots = (size_t)((run->wall_ms + TL_SLOT_MS - 1) / TL_SLOT_MS);
	if (run->n_slots > cap_slots)
		run->n_slots = cap_slots;
	if (ctl.poll_errors)
		tr_warn("%" PRIu64 " event polls failed", ctl.poll_errors);
	tl_httpc_fini(&ctl.h);
	close(ctl.epfd);

	tl_report_write_summary(run, stdout);
	fflush(stdout);
	if (cfg.json_path && write_json(cfg.json_path, run) != 0)
		exit_code = EXIT_OUTPUT;
	if (cfg.html_path && write_html(cfg.html_path, run, NULL, 0) != 0)
		exit_code = EXIT_OUTPUT;
	tl_run_free(run);
	return exit_code;
}
