/* linebuyers: the rush's waitlist buyers and refunders, on a thread of their
 * own: buyers told sold out join the line (POST .../waitlist), long-poll
 * their entry (GET ...?wait=), pay the offer that comes (or some let it
 * lapse) and leave when the line phase ends; buyers who paid refund a while
 * later. */
#ifndef TL_LINEBUYERS_H
#define TL_LINEBUYERS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/*
 * Threads: the main phase's workers hand buyers over with
 * tl_linebuyers_join_line, tl_linebuyers_refund_later and
 * tl_linebuyers_return_due (lock-free, bounded: past the caps a call does
 * nothing); the control thread starts, watches (tl_linebuyers_live), ends
 * and collects. Every buyer has one keep-alive connection of its own while
 * it is in line (a long poll holds it); refunds share LB_REFUND_CONNS.
 */

typedef struct tl_linebuyers tl_linebuyers;

/* Which users do what: a fixed 64-bit mix of the user's index and a salt
 * per choice, below share, so the same users abandon, join, let an offer
 * lapse and refund in every run. */
enum {
	TL_PICK_ABANDON = 0,
	TL_PICK_JOIN = 0x5157a11d,
	TL_PICK_LAPSE = 0x1a95e000,
	TL_PICK_REFUND = 0x7ef0d000,
};
bool tl_share_pick(uint64_t idx, uint64_t salt, double share);

typedef struct tl_linebuyers_conf {
	struct sockaddr_in addr;
	const char *target; /* for the Host header */
	const char *event;
	const char *prefix; /* user ids are prefix + index */
	int waiters;        /* buyers who may join, at most (1..10000) */
	int64_t wait_ms;    /* ?wait= of a long poll (1..30000) */
	double lapse;       /* share of joiners who let their offer expire */
	int refunds_max;    /* refunds, at most */
	int64_t refund_after_ms; /* a refund is sent this long after the
	                          * confirm's answer */
	int64_t timeout_ms; /* per request; a long poll gets wait_ms more */
	int64_t t0_us;      /* the run's start (series slots) */
	size_t cap_slots;
} tl_linebuyers_conf;

/* What the control thread watches, read without locks. */
typedef struct tl_linebuyers_live {
	uint64_t joined, waiting, offered, confirmed, refunded;
	/* Buyers handed over and not yet answered by their join, buyers
	 * with an offer not yet paid or lapsed, refunds not yet answered:
	 * while any is non-zero the line is not settled. */
	uint64_t unsettled;
	int64_t returns_due_ms; /* wall ms: the last ticket the tool let go
	                         * comes back (0: none) */
	bool finished;          /* the thread has ended */
} tl_linebuyers_live;

/* A new, stopped set of line buyers; NULL if out of memory. */
tl_linebuyers *tl_linebuyers_new(const tl_linebuyers_conf *c);

/* Start the thread. Returns 0 or TR_EIO (nothing started). */
int tl_linebuyers_start(tl_linebuyers *lb);

/* Buyer user (index) was told sold out and goes to join the line. */
void tl_linebuyers_join_line(tl_linebuyers *lb, uint64_t user);

/* Buyer user paid reservation rid at now_us (monotonic): refund it
 * refund_after_ms later. */
void tl_linebuyers_refund_later(tl_linebuyers *lb, uint64_t user,
    const char *rid, int64_t now_us);

/* A ticket the tool let go (an abandoned hold, an unconfirmed one) comes
 * back at wall_ms. */
void tl_linebuyers_return_due(tl_linebuyers *lb, int64_t wall_ms);

void tl_linebuyers_live_get(tl_linebuyers *lb, tl_linebuyers_live *out);

/* End the line phase: buyers still waiting leave (DELETE), offers being
 * paid are paid, refunds not yet sent are dropped; the thread ends when
 * all is answered. abort: drop everything in flight, end now. */
void tl_linebuyers_stop(tl_linebuyers *lb, bool abort);

/* After the thread ended (or if it never started): wait for it, then add
 * its counts, series and the order check of what it saw into run->line. */
void tl_linebuyers_collect(tl_linebuyers *lb, tl_run *run);

void tl_linebuyers_free(tl_linebuyers *lb);

#endif
