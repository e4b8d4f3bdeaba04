/* linecheck: the waitlist's verdict figures from what was recorded (pure, no
 * I/O): offers made out of join order, how long a returned ticket waited for
 * its offer, and tickets left unsold while buyers waited in line. */
#ifndef TL_LINECHECK_H
#define TL_LINECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadhist.h"

/*
 * The coordinator numbers buyers as they join (the join number, "seq") and
 * logs every offer it makes in the order made (the llog stream of
 * lib/coord/lua/common.lua: user, seq, ret_ms, offer_ms). A buyer's entry
 * (the lent hash) keeps its state, its offer if it had one, and the time of
 * its last change.
 *
 * An offer is an ORDER VIOLATION when, at the moment it was made, a buyer
 * with a smaller join number was still waiting: that buyer joined earlier
 * and should have had the ticket. A buyer stops waiting when an offer goes
 * to them (their place in the log), or when they leave or are skipped
 * without one (their entry's time). The log has milliseconds: a buyer who
 * left in the very millisecond of an offer is taken to have left first, so
 * a violation is never reported that the records cannot prove.
 */

/* One offer, in the order the coordinator made them. */
typedef struct tl_offer {
	uint64_t seq;     /* join number of the buyer it went to */
	int64_t ret_ms;   /* when its ticket came back (Unix ms, Redis' clock:
	                   * the moment of a release or refund, the deadline
	                   * of an expired hold) */
	int64_t offer_ms; /* when the offer was made */
} tl_offer;

/* One waitlist entry as the coordinator keeps it. */
typedef struct tl_entry {
	uint64_t seq; /* join number */
	char state;   /* 'W' waiting, 'O' offered, 'C' confirmed, 'X' offer
	               * expired, 'L' left, 'S' skipped */
	bool offered; /* an offer went to it (its reservation id is set):
	               * then it stopped waiting at that offer, in the log */
	int64_t t_ms; /* its last change (Unix ms) */
} tl_entry;

typedef struct tl_order_check {
	uint64_t offers;     /* offers checked */
	uint64_t waiting;    /* entries still waiting at the end */
	uint64_t violations; /* offers that went past an earlier joiner */
	/* The first violation in the log, if any: the offer's index and join
	 * number, and the smaller join number that was still waiting. */
	size_t first_index;
	uint64_t first_offer_seq, first_waiting_seq;
} tl_order_check;

/* Check offers[0..n) (in the order made) against entries[0..m). Entries
 * with an offer are judged by the log alone; an entry without one counts
 * as waiting from its join (any offer to a larger join number came after
 * it joined) until its t_ms if it left or was skipped ('L', 'S'), or to
 * the end if it waits still ('W'); an entry in another state without an
 * offer contradicts itself and is ignored (the audit reports such
 * entries). Offer times that step back (a clock adjusted) are taken as the
 * largest time before them. O((n + m) log n). Returns 0 with *out filled,
 * or TR_ENOMEM with *out untouched. */
int tl_line_order_check(const tl_offer *offers, size_t n,
    const tl_entry *entries, size_t m, tl_order_check *out);

/* Record into h, in milliseconds, how long each offer's ticket waited from
 * its return to the offer (offer_ms - ret_ms, 0 if negative). */
void tl_line_return_times(const tl_offer *offers, size_t n, tl_hist *h);

/* One sample of the event: the buyers in line and the tickets unsold in the
 * coordinator's pool, at t_ms. */
typedef struct tl_line_sample {
	int64_t t_ms;
	int64_t waiting;
	int64_t pool;
} tl_line_sample;

/* The largest number of tickets seen unsold (in the pool) while buyers
 * waited, counting only a condition that lasted: pool > 0 and line > 0 in
 * every sample over at least grace_ms (samples in time order). A ticket
 * that comes back is offered in the same coordinator script, and a figure
 * the gateway shows may be a node sync old; grace_ms absorbs that, so a
 * positive answer means tickets sat unsold with buyers waiting. 0 if never. */
int64_t tl_line_unsold_while_waiting(const tl_line_sample *s, size_t n,
    int64_t grace_ms);

/* The grace trload uses: five node syncs (200 ms each), which also covers
 * the pool a node reports from a grant while its figure of the line is a
 * sync old. */
#define TL_LINE_UNSOLD_GRACE_MS 1000

#endif
