/* linebuyers: the waitlist's buyers and the refunders of a rush, one epoll
 * loop on a thread of their own. */
#include "linebuyers.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "httpc.h"
#include "linecheck.h"
#include "tr_api_error.h"
#include "tr_clock.h"
#include "tr_err.h"
#include "tr_ids.h"
#include "tr_log.h"

#define LB_RBUF 4096 /* an entry's answer is < 600 bytes, an error < 1 KiB */
#define LB_WBUF 1024 /* the longest request, a confirm, is < 500 bytes */
#define LB_REFUND_CONNS 4
/* A buyer's request that failed (503, no answer) is sent again 200 ms
 * later, at most LB_RETRIES times in a row; then the buyer gives up. */
#define LB_RETRIES 5
#define LB_RETRY_US 200000
#define LB_EVENTS 256
#define LB_TICK_MS 10
#define LB_UID_MAX 100 /* a prefix of 32 and an index of 20 digits */

enum { W_NEW, W_BUSY, W_PAUSE, W_DONE };
enum { RUN_GO, RUN_LEAVE, RUN_ABORT };

struct waiter {
	atomic_int ready; /* the main worker wrote user */
	uint64_t user;
	/* The line thread's alone from here. */
	int state;
	int op; /* TL_LOP_* in flight or paused */
	int retries;
	bool conn_ready; /* h is initialized */
	bool join_open;  /* handed over, its join not concluded */
	bool joined, waiting, offered, unresolved, lapser;
	char fate;    /* 'L' left at the end without an offer, 'S'
	               * skipped, 0 otherwise */
	uint64_t seq; /* join number */
	int64_t sent_us, deadline_us, wait_until_us;
	char rid[TR_RID_MAX + 1];
	tl_httpc h;
};

struct refund {
	atomic_int ready;
	uint64_t user;
	int64_t due_us;
	char rid[TR_RID_MAX + 1];
};

struct rconn {
	tl_httpc h;
	bool busy, paused;
	size_t idx; /* the refund it sends */
	int retries;
	int64_t sent_us, deadline_us, wait_until_us;
};

struct tl_linebuyers {
	tl_linebuyers_conf c;
	pthread_t th;
	bool started, joined_thread;
	int epfd;
	atomic_int stop;
	atomic_bool finished;

	struct waiter *w;
	size_t cap_w, next_w; /* next_w: the next to start (thread) */
	atomic_size_t claimed_w;
	struct refund *r;
	size_t cap_r, next_r;
	atomic_size_t claimed_r;
	struct rconn rc[LB_REFUND_CONNS];

	atomic_int_fast64_t returns_due_ms;
	atomic_uint_fast64_t live_joined, live_waiting, live_offered,
	    live_confirmed, live_refunded, live_unsettled;

	/* The thread's own. */
	bool leaving;
	size_t active; /* waiters started and not done */
	tl_line st;
	uint64_t *s_joined, *s_offered, *s_confirmed, *s_refunded;
};

/* ---- Handing over (any thread) ---------------------------------------- */

static void
unsettled_add(tl_linebuyers *lb, int64_t d)
{
	if (d >= 0)
		atomic_fetch_add(&lb->live_unsettled, (uint64_t)d);
	else
		atomic_fetch_sub(&lb->live_unsettled, (uint64_t)-d);
}

/* A slot of n, or n when all are taken (claims past the cap are dropped:
 * the counter may pass n, never the slots). */
static size_t
claim(atomic_size_t *claimed, size_t n)
{
	if (atomic_load_explicit(claimed, memory_order_relaxed) >= n)
		return n;
	size_t i = atomic_fetch_add_explicit(claimed, 1, memory_order_relaxed);
	return i < n ? i : n;
}

void
tl_linebuyers_join_line(tl_linebuyers *lb, uint64_t user)
{
	size_t i = claim(&lb->claimed_w, lb->cap_w);

	if (i == lb->cap_w)
		return;
	unsettled_add(lb, 1);
	lb->w[i].user = user;
	atomic_store_explicit(&lb->w[i].ready, 1, memory_order_release);
}

void
tl_linebuyers_refund_later(tl_linebuyers *lb, uint64_t user, const char *rid,
    int64_t now_us)
{
	size_t i = claim(&lb->claimed_r, lb->cap_r);

	if (i == lb->cap_r)
		return;
	unsettled_add(lb, 1);
	lb->r[i].user = user;
	lb->r[i].due_us = now_us + lb->c.refund_after_ms * 1000;
	snprintf(lb->r[i].rid, sizeof(lb->r[i].rid), "%s", rid);
	atomic_store_explicit(&lb->r[i].ready, 1, memory_order_release);
}

void
tl_linebuyers_return_due(tl_linebuyers *lb, int64_t wall_ms)
{
	int_fast64_t cur = atomic_load(&lb->returns_due_ms);

	while (wall_ms > cur &&
	    !atomic_compare_exchange_weak(&lb->returns_due_ms, &cur, wall_ms))
		;
}

void
tl_linebuyers_live_get(tl_linebuyers *lb, tl_linebuyers_live *out)
{
	out->joined = atomic_load(&lb->live_joined);
	out->waiting = atomic_load(&lb->live_waiting);
	out->offered = atomic_load(&lb->live_offered);
	out->confirmed = atomic_load(&lb->live_confirmed);
	out->refunded = atomic_load(&lb->live_refunded);
	out->unsettled = atomic_load(&lb->live_unsettled);
	out->returns_due_ms = atomic_load(&lb->returns_due_ms);
	out->finished = atomic_load(&lb->finished) || !lb->started;
}

/* ---- Requests --------------------------------------------------------- */

static void
slot_add(const tl_linebuyers *lb, uint64_t *series, int64_t now)
{
	int64_t slot = (now - lb->c.t0_us) / (TL_SLOT_MS * 1000);
	if (slot >= 0 && (size_t)slot < lb->c.cap_slots)
		series[slot]++;
}

static void
uid_of(const tl_linebuyers *lb, uint64_t user, char *out, size_t cap)
{
	snprintf(out, cap, "%s%" PRIu64, lb->c.prefix, user);
}

/* The request of op for buyer user (rid: the offer or the order) into
 * buf; its length, 0 if it does not fit. */
static size_t
fmt_request(const tl_linebuyers *lb, int op, uint64_t user, const char *rid,
    char *buf, size_t cap)
{
	static const char json[] = "Content-Type: application/json\r\n";
	const char *ev = lb->c.event, *host = lb->c.target;
	char uid[LB_UID_MAX], body[256];
	int n = 0, b = 0;

	uid_of(lb, user, uid, sizeof(uid));
	switch (op) {
	case TL_LOP_JOIN:
		b = snprintf(body, sizeof(body),
		    "{\"user\":\"%s\","
		    "\"request_id\":\"w%" PRIu64 "\"}",
		    uid, user);
		n = snprintf(buf, cap,
		    "POST /v1/events/%s/waitlist HTTP/1.1"
		    "\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		    ev, host, json, b, body);
		break;
	case TL_LOP_WAIT:
		/* Named, the state last seen (an offer is the only state
		 * the tool polls in besides waiting): a change between two
		 * polls is answered at once, not waited past. */
		n = snprintf(buf, cap,
		    "GET /v1/events/%s/waitlist/%s?wait=%" PRId64
		    "ms&state=%s HTTP/1.1\r\nHost: %s\r\n\r\n",
		    ev, uid, lb->c.wait_ms, rid[0] ? "offered" : "waiting",
		    host);
		break;
	case TL_LOP_LEAVE:
		n = snprintf(buf, cap,
		    "DELETE /v1/events/%s/waitlist/%s "
		    "HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n",
		    ev, uid, host);
		break;
	case TL_LOP_CONFIRM:
		b = snprintf(body, sizeof(body),
		    "{\"user\":\"%s\","
		    "\"payment_ref\":\"PAY-W-%s\"}",
		    uid, uid);
		n = snprintf(buf, cap,
		    "POST /v1/reservations/%s/confirm "
		    "HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		    rid, host, json, b, body);
		break;
	case TL_LOP_REFUND:
		b = snprintf(body, sizeof(body), "{\"user\":\"%s\"}", uid);
		n = snprintf(buf, cap,
		    "POST /v1/orders/%s/refund HTTP/1.1\r\n"
		    "Host: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		    rid, host, json, b, body);
		break;
	}
	return n > 0 && (size_t)n < cap && b >= 0 && (size_t)b < sizeof(body)
	    ? (size_t)n
	    : 0;
}

/* Send what is in c's buffer; false with c->fail set if it failed. */
static bool
send_on(tl_linebuyers *lb, tl_httpc *c, size_t len)
{
	if (len == 0) {
		c->fail = TL_XP_OTHER;
		c->fail_stale = false;
		return false;
	}
	if (c->state == TL_HTTPC_CLOSED && tl_httpc_connect(c, &lb->c.addr))
		return false;
	if (tl_httpc_send(c, len) != 0) {
		if (c->state != TL_HTTPC_CLOSED) {
			tl_httpc_close(c);
			c->fail = TL_XP_OTHER;
			c->fail_stale = false;
		}
		return false;
	}
	return true;
}

/* Count an answer in op's figures. */
static void
count_answer(tl_linebuyers *lb, int op, const tl_http_resp *r, int64_t us)
{
	tl_opstats *o = &lb->st.op[op];
	char code[40];

	tl_hist_record(&o->latency_us, (uint64_t)(us > 0 ? us : 0));
	o->status[r->status]++;
	if (r->status >= 200 && r->status < 300)
		return;
	if (tl_json_scan_str(r->body, r->body_len, "error", code,
	        sizeof(code)) == 0)
		o->errors[tr_api_error_parse(code, strlen(code))]++;
	else
		o->errors[TR_API_OTHER]++;
}

/* ---- A buyer in line --------------------------------------------------- */

static void w_send(tl_linebuyers *lb, struct waiter *w, int op, int64_t now);

static void
w_set_waiting(tl_linebuyers *lb, struct waiter *w, bool on)
{
	if (w->waiting == on)
		return;
	w->waiting = on;
	if (on)
		atomic_fetch_add(&lb->live_waiting, 1);
	else
		atomic_fetch_sub(&lb->live_waiting, 1);
}

static void
w_join_closed(tl_linebuyers *lb, struct waiter *w)
{
	if (w->join_open) {
		w->join_open = false;
		unsettled_add(lb, -1);
	}
}

static void
w_resolved(tl_linebuyers *lb, struct waiter *w)
{
	if (w->unresolved) {
		w->unresolved = false;
		unsettled_add(lb, -1);
	}
}

static void
w_finish(tl_linebuyers *lb, struct waiter *w)
{
	w_join_closed(lb, w);
	w_resolved(lb, w);
	w_set_waiting(lb, w, false);
	if (w->state != W_DONE)
		lb->active--;
	w->state = W_DONE;
}

/* The request failed or must be sent again (503): pause and resend, or
 * give up after LB_RETRIES. */
static void
w_retry(tl_linebuyers *lb, struct waiter *w, int64_t now)
{
	if (atomic_load(&lb->stop) != RUN_ABORT && w->retries < LB_RETRIES) {
		w->retries++;
		lb->st.op[w->op].retries++;
		w->state = W_PAUSE;
		w->wait_until_us = now + LB_RETRY_US;
		return;
	}
	if (w->op == TL_LOP_JOIN)
		lb->st.join_refused++;
	else if (w->op == TL_LOP_CONFIRM)
		lb->st.lost++;
	w_finish(lb, w);
}

static void
w_transport(tl_linebuyers *lb, struct waiter *w, int64_t now)
{
	if (w->h.fail_stale && w->retries == 0) {
		/* An idle keep-alive socket the server had closed: resend
		 * at once on a new one. */
		w->retries++;
		lb->st.op[w->op].retries++;
		w_send(lb, w, w->op, now);
		return;
	}
	lb->st.op[w->op].transport[w->h.fail]++;
	w_retry(lb, w, now);
}

static void
w_send(tl_linebuyers *lb, struct waiter *w, int op, int64_t now)
{
	size_t cap, len;
	char *buf;

	if (!w->conn_ready) {
		if (tl_httpc_init(&w->h, lb->epfd, (uint64_t)(w - lb->w),
		        LB_RBUF, LB_WBUF) != 0) {
			tr_warn("line buyer: out of memory");
			w_finish(lb, w);
			return;
		}
		w->conn_ready = true;
	}
	if (w->op != op)
		w->retries = 0;
	buf = tl_httpc_wbuf(&w->h, &cap);
	len = fmt_request(lb, op, w->user, w->rid, buf, cap);
	w->op = op;
	w->state = W_BUSY;
	w->sent_us = now;
	w->deadline_us = now +
	    (lb->c.timeout_ms + (op == TL_LOP_WAIT ? lb->c.wait_ms : 0)) *
	        1000;
	if (!send_on(lb, &w->h, len))
		w_transport(lb, w, now);
}

/* The next request of a buyer whose entry is answered as waiting, or
 * whose offer is being waited out: leave once the line phase ended. */
static void
w_poll_or_leave(tl_linebuyers *lb, struct waiter *w, int64_t now)
{
	w_send(lb, w, lb->leaving ? TL_LOP_LEAVE : TL_LOP_WAIT, now);
}

/* An entry's state as a join or a poll answered it. */
static void
w_entry(tl_linebuyers *lb, struct waiter *w, const char *state,
    const char *rid, int64_t offer_until_ms, int64_t now)
{
	if (strcmp(state, "waiting") == 0) {
		w_set_waiting(lb, w, true);
		w_poll_or_leave(lb, w, now);
		return;
	}
	w_set_waiting(lb, w, false);
	if (strcmp(state, "offered") == 0) {
		if (!w->offered) {
			w->offered = true;
			w->unresolved = true;
			unsettled_add(lb, 1);
			lb->st.offered++;
			atomic_fetch_add(&lb->live_offered, 1);
			slot_add(lb, lb->s_offered, now);
			snprintf(w->rid, sizeof(w->rid), "%s", rid);
			if (w->lapser && offer_until_ms > 0)
				tl_linebuyers_return_due(lb, offer_until_ms);
		}
		/* A buyer pays an offer even as the line phase ends. */
		if (w->lapser)
			w_poll_or_leave(lb, w, now);
		else
			w_send(lb, w, TL_LOP_CONFIRM, now);
		return;
	}
	if (strcmp(state, "expired") == 0) {
		if (w->offered && w->lapser)
			lb->st.lapsed++;
		else
			lb->st.lost++;
	} else if (strcmp(state, "skipped") == 0) {
		lb->st.skipped++;
		w->fate = 'S';
	} else if (strcmp(state, "left") == 0) {
		lb->st.left++;
	}
	/* confirmed (by someone else?), or a state we do not know: done */
	w_finish(lb, w);
}

static void
w_answer(tl_linebuyers *lb, struct waiter *w, int64_t now)
{
	const tl_http_resp *r = &w->h.resp;
	bool ok = r->status >= 200 && r->status < 300;
	char state[16] = "", rid[TR_RID_MAX + 1] = "";
	int64_t seq = 0, until = 0;
	int op = w->op;

	count_answer(lb, op, r, now - w->sent_us);
	if (ok) {
		(void)tl_json_scan_str(r->body, r->body_len, "state", state,
		    sizeof(state));
		(void)tl_json_scan_str(r->body, r->body_len, "reservation_id",
		    rid, sizeof(rid));
		(void)tl_json_scan_i64(r->body, r->body_len, "join_number",
		    &seq);
		(void)tl_json_scan_i64(r->body, r->body_len,
		    "offer_expires_at_ms", &until);
	}
	tl_httpc_consume(&w->h);
	if (r->status == 503) {
		w_retry(lb, w, now);
		return;
	}
	w->retries = 0;
	switch (op) {
	case TL_LOP_JOIN:
		w_join_closed(lb, w);
		if (!ok) {
			lb->st.join_refused++;
			w_finish(lb, w);
			return;
		}
		w->joined = true;
		w->seq = seq > 0 ? (uint64_t)seq : 0;
		lb->st.joined++;
		atomic_fetch_add(&lb->live_joined, 1);
		slot_add(lb, lb->s_joined, now);
		w_entry(lb, w, state, rid, until, now);
		return;
	case TL_LOP_WAIT:
		if (!ok) {
			w_finish(lb, w);
			return;
		}
		w_entry(lb, w, state, rid, until, now);
		return;
	case TL_LOP_CONFIRM:
		if (ok) {
			lb->st.confirmed++;
			atomic_fetch_add(&lb->live_confirmed, 1);
			slot_add(lb, lb->s_confirmed, now);
		} else {
			lb->st.lost++;
		}
		w_finish(lb, w);
		return;
	default: /* TL_LOP_LEAVE */
		if (ok && strcmp(state, "skipped") == 0) {
			lb->st.skipped++;
			w->fate = 'S';
		} else if (ok) {
			lb->st.left++;
			/* An offer made since the buyer last looked, given
			 * back by leaving. */
			if (!w->offered && rid[0]) {
				lb->st.left_offered++;
				w->offered = true;
			} else if (!w->offered) {
				w->fate = 'L';
			}
		}
		w_finish(lb, w);
		return;
	}
}

/* ---- Refunds ---------------------------------------------------------- */

static void rc_retry(tl_linebuyers *lb, struct rconn *rc, int64_t now);
static void rc_send(tl_linebuyers *lb, struct rconn *rc, int64_t now);

static void
rc_transport(tl_linebuyers *lb, struct rconn *rc, int64_t now)
{
	if (rc->h.fail_stale && rc->retries == 0) {
		rc->retries++;
		lb->st.op[TL_LOP_REFUND].retries++;
		rc_send(lb, rc, now);
		return;
	}
	lb->st.op[TL_LOP_REFUND].transport[rc->h.fail]++;
	rc_retry(lb, rc, now);
}

static void
rc_send(tl_linebuyers *lb, struct rconn *rc, int64_t now)
{
	size_t cap, len;
	char *buf = tl_httpc_wbuf(&rc->h, &cap);

	len = fmt_request(lb, TL_LOP_REFUND, lb->r[rc->idx].user,
	    lb->r[rc->idx].rid, buf, cap);
	rc->busy = true;
	rc->paused = false;
	rc->sent_us = now;
	rc->deadline_us = now + lb->c.timeout_ms * 1000;
	if (!send_on(lb, &rc->h, len))
		rc_transport(lb, rc, now);
}

static void
rc_done(tl_linebuyers *lb, struct rconn *rc)
{
	rc->busy = rc->paused = false;
	unsettled_add(lb, -1);
}

/* A refund that got no answer, or 503: again later, or given up. */
static void
rc_retry(tl_linebuyers *lb, struct rconn *rc, int64_t now)
{
	if (atomic_load(&lb->stop) != RUN_ABORT && rc->retries < LB_RETRIES) {
		rc->retries++;
		lb->st.op[TL_LOP_REFUND].retries++;
		rc->busy = false;
		rc->paused = true;
		rc->wait_until_us = now + LB_RETRY_US;
		return;
	}
	rc_done(lb, rc);
}

static void
rc_answer(tl_linebuyers *lb, struct rconn *rc, int64_t now)
{
	const tl_http_resp *r = &rc->h.resp;
	int status = r->status;

	count_answer(lb, TL_LOP_REFUND, r, now - rc->sent_us);
	tl_httpc_consume(&rc->h);
	if (status == 503) {
		rc_retry(lb, rc, now);
		return;
	}
	if (status >= 200 && status < 300) {
		lb->st.refunded++;
		atomic_fetch_add(&lb->live_refunded, 1);
		slot_add(lb, lb->s_refunded, now);
		/* The ticket came back now: to the line first. */
		tl_linebuyers_return_due(lb, tr_wall_ms());
	}
	rc_done(lb, rc);
}

/* ---- The loop --------------------------------------------------------- */

/* Start the buyers handed over since, and the refunds that are due. */
static void
take_new(tl_linebuyers *lb, int64_t now)
{
	size_t nw = atomic_load(&lb->claimed_w), nr;

	if (nw > lb->cap_w)
		nw = lb->cap_w;
	while (lb->next_w < nw &&
	    atomic_load_explicit(&lb->w[lb->next_w].ready,
	        memory_order_acquire)) {
		struct waiter *w = &lb->w[lb->next_w++];
		w->join_open = true;
		w->lapser = tl_share_pick(w->user, TL_PICK_LAPSE, lb->c.lapse);
		w->state = W_BUSY;
		w->op = TL_LOP_JOIN;
		lb->st.joiners++;
		lb->active++;
		w_send(lb, w, TL_LOP_JOIN, now);
	}
	nr = atomic_load(&lb->claimed_r);
	if (nr > lb->cap_r)
		nr = lb->cap_r;
	for (int i = 0; i < LB_REFUND_CONNS && lb->next_r < nr; i++) {
		struct rconn *rc = &lb->rc[i];
		struct refund *rf = &lb->r[lb->next_r];
		if (rc->busy || rc->paused)
			continue;
		if (!atomic_load_explicit(&rf->ready, memory_order_acquire) ||
		    now < rf->due_us)
			break; /* handed over in time order: the rest later */
		rc->idx = lb->next_r++;
		rc->retries = 0;
		lb->st.refunders++;
		rc_send(lb, rc, now);
	}
}

static void
timers(tl_linebuyers *lb, int64_t now)
{
	for (size_t i = 0; i < lb->next_w; i++) {
		struct waiter *w = &lb->w[i];
		if (w->state == W_BUSY && now >= w->deadline_us) {
			tl_httpc_close(&w->h);
			w->h.fail = TL_XP_TIMEOUT;
			w->h.fail_stale = false;
			w_transport(lb, w, now);
		} else if (w->state == W_PAUSE && now >= w->wait_until_us) {
			w_send(lb, w, w->op, now);
		}
	}
	for (int i = 0; i < LB_REFUND_CONNS; i++) {
		struct rconn *rc = &lb->rc[i];
		if (rc->busy && now >= rc->deadline_us) {
			tl_httpc_close(&rc->h);
			rc->h.fail = TL_XP_TIMEOUT;
			rc->h.fail_stale = false;
			rc_transport(lb, rc, now);
		} else if (rc->paused && now >= rc->wait_until_us) {
			rc_send(lb, rc, now);
		}
	}
}

/* The line phase ended: buyers who wait, or wait out an offer, leave
 * now (a long poll in flight is dropped); joins and confirms in flight end
 * first and then leave (w_poll_or_leave); refunds not sent are dropped. */
static void
start_leaving(tl_linebuyers *lb, int64_t now)
{
	size_t nr = atomic_load(&lb->claimed_r);
	size_t nw = atomic_load(&lb->claimed_w);

	lb->leaving = true;
	/* Handed over and never started (the main phase is over: no hand
	 * over is half done). */
	if (nw > lb->cap_w)
		nw = lb->cap_w;
	if (nw > lb->next_w)
		unsettled_add(lb, -(int64_t)(nw - lb->next_w));
	for (size_t i = 0; i < lb->next_w; i++) {
		struct waiter *w = &lb->w[i];
		if ((w->state == W_BUSY && w->op == TL_LOP_WAIT) ||
		    (w->state == W_PAUSE &&
		        (w->op == TL_LOP_WAIT || w->op == TL_LOP_JOIN))) {
			/* A join that failed may have been recorded all the
			 * same: leaving is harmless if it was not (404). */
			w_join_closed(lb, w);
			tl_httpc_close(&w->h);
			w_send(lb, w, TL_LOP_LEAVE, now);
		}
	}
	if (nr > lb->cap_r)
		nr = lb->cap_r;
	if (nr > lb->next_r) {
		unsettled_add(lb, -(int64_t)(nr - lb->next_r));
		lb->next_r = nr;
	}
}

static bool
refunds_idle(const tl_linebuyers *lb)
{
	for (int i = 0; i < LB_REFUND_CONNS; i++)
		if (lb->rc[i].busy || lb->rc[i].paused)
			return false;
	return true;
}

static void *
lb_main(void *arg)
{
	tl_linebuyers *lb = arg;
	struct epoll_event evs[LB_EVENTS];
	int64_t now = tr_mono_us(), last_tick = now;

	for (;;) {
		int stop = atomic_load(&lb->stop), n;

		if (stop == RUN_ABORT)
			break;
		if (stop == RUN_LEAVE && !lb->leaving)
			start_leaving(lb, now);
		if (lb->leaving && lb->active == 0 && refunds_idle(lb))
			break;
		n = epoll_wait(lb->epfd, evs, LB_EVENTS, LB_TICK_MS);
		for (int i = 0; i < n; i++) {
			uint64_t tag = TL_HTTPC_TAG(evs[i].data.u64);
			tl_httpc *h;
			int rv;
			bool busy;

			if (tag < lb->cap_w) {
				h = &lb->w[tag].h;
				busy = lb->w[tag].state == W_BUSY;
			} else if (tag - lb->cap_w < LB_REFUND_CONNS) {
				h = &lb->rc[tag - lb->cap_w].h;
				busy = lb->rc[tag - lb->cap_w].busy;
			} else {
				continue;
			}
			rv = tl_httpc_on_event(h, evs[i].data.u64,
			    evs[i].events);
			if (rv == 0 || !busy)
				continue;
			now = tr_mono_us();
			if (tag < lb->cap_w) {
				if (rv == TL_HTTP_DONE)
					w_answer(lb, &lb->w[tag], now);
				else
					w_transport(lb, &lb->w[tag], now);
			} else {
				struct rconn *rc = &lb->rc[tag - lb->cap_w];
				if (rv == TL_HTTP_DONE)
					rc_answer(lb, rc, now);
				else
					rc_transport(lb, rc, now);
			}
		}
		now = tr_mono_us();
		if (!lb->leaving)
			take_new(lb, now);
		if (now - last_tick >= LB_TICK_MS * 1000) {
			timers(lb, now);
			last_tick = now;
		}
	}
	for (size_t i = 0; i < lb->next_w; i++)
		if (lb->w[i].conn_ready)
			tl_httpc_close(&lb->w[i].h);
	for (int i = 0; i < LB_REFUND_CONNS; i++)
		tl_httpc_close(&lb->rc[i].h);
	atomic_store(&lb->finished, true);
	return NULL;
}

/* ---- Life ------------------------------------------------------------- */

bool
tl_share_pick(uint64_t idx, uint64_t salt, double share)
{
	uint64_t z = idx + 0x9e3779b97f4a7c15ULL + salt;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53 < share;
}

tl_linebuyers *
tl_linebuyers_new(const tl_linebuyers_conf *c)
{
	tl_linebuyers *lb = calloc(1, sizeof(*lb));

	if (lb == NULL)
		return NULL;
	lb->epfd = -1;
	lb->c = *c;
	lb->cap_w = c->waiters > 0 ? (size_t)c->waiters : 0;
	lb->cap_r = c->refunds_max > 0 ? (size_t)c->refunds_max : 0;
	for (int i = 0; i < TL_LOP_COUNT; i++)
		tl_hist_init(&lb->st.op[i].latency_us);
	if ((lb->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		goto fail;
	lb->w = calloc(lb->cap_w + 1, sizeof(*lb->w));
	lb->r = calloc(lb->cap_r + 1, sizeof(*lb->r));
	lb->s_joined = calloc(c->cap_slots + 1, sizeof(uint64_t));
	lb->s_offered = calloc(c->cap_slots + 1, sizeof(uint64_t));
	lb->s_confirmed = calloc(c->cap_slots + 1, sizeof(uint64_t));
	lb->s_refunded = calloc(c->cap_slots + 1, sizeof(uint64_t));
	if (!lb->w || !lb->r || !lb->s_joined || !lb->s_offered ||
	    !lb->s_confirmed || !lb->s_refunded)
		goto fail;
	for (int i = 0; i < LB_REFUND_CONNS; i++)
		if (tl_httpc_init(&lb->rc[i].h, lb->epfd,
		        lb->cap_w + (uint64_t)i, LB_RBUF, LB_WBUF) != 0) {
			for (int k = 0; k < i; k++)
				tl_httpc_fini(&lb->rc[k].h);
			goto fail;
		}
	return lb;
fail:
	if (lb->epfd >= 0)
		close(lb->epfd);
	free(lb->w), free(lb->r), free(lb->s_joined), free(lb->s_offered);
	free(lb->s_confirmed), free(lb->s_refunded);
	free(lb);
	return NULL;
}

int
tl_linebuyers_start(tl_linebuyers *lb)
{
	sigset_t all, old;
	int rv;

	/* The control thread takes the signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rv = pthread_create(&lb->th, NULL, lb_main, lb);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0)
		return TR_EIO;
	lb->started = true;
	return 0;
}

void
tl_linebuyers_stop(tl_linebuyers *lb, bool abort)
{
	int want = abort ? RUN_ABORT : RUN_LEAVE, cur = atomic_load(&lb->stop);

	while (
	    cur < want && !atomic_compare_exchange_weak(&lb->stop, &cur, want))
		;
}

static int
seq_cmp(const void *a, const void *b)
{
	uint64_t x = ((const tl_offer *)a)->seq;
	uint64_t y = ((const tl_offer *)b)->seq;

	return x < y ? -1 : x > y;
}

/* What the tool saw, checked: the buyers who had an offer, in join order
 * (when each was offered the tool cannot know exactly, so offers among
 * them are taken as in order), against those who waited to the end without
 * one: an offer to a larger join number than theirs went past them. */
static int64_t
order_seen(const tl_linebuyers *lb)
{
	tl_offer *o = calloc(lb->next_w + 1, sizeof(*o));
	tl_entry *e = calloc(lb->next_w + 1, sizeof(*e));
	size_t n = 0, m = 0;
	tl_order_check r;
	int64_t v = -1;

	if (o && e) {
		for (size_t i = 0; i < lb->next_w; i++) {
			const struct waiter *w = &lb->w[i];
			if (!w->joined || w->seq == 0)
				continue;
			if (w->offered)
				o[n++] = (tl_offer){w->seq, 0, 0};
			else if (w->fate == 'L' || w->state != W_DONE)
				e[m++] = (tl_entry){w->seq, 'W', false, 0};
		}
		qsort(o, n, sizeof(*o), seq_cmp);
		if (tl_line_order_check(o, n, e, m, &r) == 0)
			v = (int64_t)r.violations;
	}
	free(o);
	free(e);
	return v;
}

void
tl_linebuyers_collect(tl_linebuyers *lb, tl_run *run)
{
	tl_line *l = &run->line;

	if (lb->started && !lb->joined_thread) {
		pthread_join(lb->th, NULL);
		lb->joined_thread = true;
	}
	l->joiners += lb->st.joiners;
	l->joined += lb->st.joined;
	l->join_refused += lb->st.join_refused;
	l->offered += lb->st.offered;
	l->confirmed += lb->st.confirmed;
	l->lapsed += lb->st.lapsed;
	l->lost += lb->st.lost;
	l->left += lb->st.left;
	l->left_offered += lb->st.left_offered;
	l->skipped += lb->st.skipped;
	l->refunders += lb->st.refunders;
	l->refunded += lb->st.refunded;
	for (int i = 0; i < TL_LOP_COUNT; i++) {
		tl_opstats *d = &l->op[i];
		const tl_opstats *s = &lb->st.op[i];
		for (int k = 0; k < TL_STATUS_SLOTS; k++)
			d->status[k] += s->status[k];
		for (int k = 0; k < TR_API_ERROR_COUNT; k++)
			d->errors[k] += s->errors[k];
		for (int k = 0; k < TL_XP_COUNT; k++)
			d->transport[k] += s->transport[k];
		d->retries += s->retries;
		tl_hist_merge(&d->latency_us, &s->latency_us);
	}
	for (size_t s = 0; s < lb->c.cap_slots && s < run->cap_slots; s++) {
		run->s_joined[s] += lb->s_joined[s];
		run->s_offered[s] += lb->s_offered[s];
		run->s_offer_confirmed[s] += lb->s_confirmed[s];
		run->s_refunded[s] += lb->s_refunded[s];
	}
	l->order_violations = order_seen(lb);
}

void
tl_linebuyers_free(tl_linebuyers *lb)
{
	if (lb == NULL)
		return;
	if (lb->started && !lb->joined_thread) {
		tl_linebuyers_stop(lb, true);
		pthread_join(lb->th, NULL);
	}
	for (size_t i = 0; i < lb->cap_w; i++)
		if (lb->w[i].conn_ready)
			tl_httpc_fini(&lb->w[i].h);
	for (int i = 0; i < LB_REFUND_CONNS; i++)
		tl_httpc_fini(&lb->rc[i].h);
	close(lb->epfd);
	free(lb->w), free(lb->r), free(lb->s_joined), free(lb->s_offered);
	free(lb->s_confirmed), free(lb->s_refunded);
	free(lb);
}
