/* chaos_check: the history checker of a chaos run.
 *
 * Pure: it reads the history of every client operation (what was sent,
 * what was answered, or nothing) and the final facts read from Redis after
 * the run quiesced, and lists what contradicts the service's promises.
 * The checks, and why each matters to a buyer:
 *
 *   acked_order_missing     a confirm answered 200 has no order in Redis
 *                           (a paid ticket lost)
 *   paid_with_other_ref     a confirm answered 200 with another payment
 *                           reference than it sent (a double payment made
 *                           invisible)
 *   order_of_another_user   an order belongs to someone the reservation
 *                           was not given to
 *   order_after_release     an order exists for a hold its owner was told
 *                           was released or expired (the ticket sold
 *                           twice: to the owner and again)
 *   acked_hold_vanished     a reservation answered 201 is neither an
 *                           order nor a hold record, live or ended
 *   request_id_two_holds    one (user, request_id) made two live-or-paid
 *                           reservations, by the answers, or two hold
 *                           records in Redis alive at the same time (a
 *                           retry took two tickets, even when the first
 *                           answer was lost)
 *   over_limit              a user has more paid tickets than the limit
 *   oversold                sold > total
 * The driver adds what needs the live system: the audit, whether the sale
 * sold out after recovery while demand remained (undersold), and whether a
 * process died that no fault killed (crashed).
 */
#ifndef CHAOS_CHECK_H
#define CHAOS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tr_ids.h"

enum chaos_op_kind { CHAOS_RESERVE, CHAOS_CONFIRM, CHAOS_RELEASE };

/* One client operation, as the client saw it. */
typedef struct chaos_op {
	uint8_t kind;
	uint8_t via; /* 0: the gateway; 1 + i: node i directly */
	uint16_t thread;
	uint16_t event;           /* index into the run's events */
	uint32_t user;            /* index into the run's users */
	char key[48];             /* reserve: request_id; confirm:
	                           * payment_ref */
	char rid[TR_RID_MAX + 1]; /* confirm, release: the one sent;
	                           * reserve: the one answered (201, or 409
	                           * duplicate naming the user's hold) */
	int64_t sent_us, answered_us;
	int status;     /* HTTP status (protobuf mapped); -1:
	                 * no answer */
	char state[12]; /* the answer's hold state, if any */
	char paid[TR_PAYMENT_REF_MAX + 1]; /* confirm 200/409: the order's
	                                    * payment_ref */
} chaos_op;

/* What Redis says about one event after the run. */
typedef struct chaos_order_fact {
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	int64_t confirmed_ms; /* Redis' clock */
} chaos_order_fact;

typedef struct chaos_hold_fact {
	char rid[TR_RID_MAX + 1];
	char state; /* 'H' live, 'R' released, 'X' expired */
	char user[TR_USER_ID_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	int64_t made_ms;  /* Redis' clock: deadline - hold_ms */
	int64_t ended_ms; /* when it ended; 0 while live */
} chaos_hold_fact;

typedef struct chaos_event_facts {
	const chaos_order_fact *orders;
	size_t norders;
	const chaos_hold_fact *holds;
	size_t nholds;
	uint64_t sold, total, limit;
} chaos_event_facts;

enum chaos_violation {
	CHAOS_ACKED_ORDER_MISSING,
	CHAOS_PAID_WITH_OTHER_REF,
	CHAOS_ORDER_OF_ANOTHER_USER,
	CHAOS_ORDER_AFTER_RELEASE,
	CHAOS_ACKED_HOLD_VANISHED,
	CHAOS_REQUEST_ID_TWO_HOLDS,
	CHAOS_OVER_LIMIT,
	CHAOS_OVERSOLD,
	CHAOS_AUDIT_FAILED, /* set by the driver */
	CHAOS_UNDERSOLD,    /* set by the driver */
	CHAOS_CRASHED,      /* set by the driver: a process died on its own */
	CHAOS_VIOLATION_COUNT
};

extern const char *const chaos_violation_name[CHAOS_VIOLATION_COUNT];

#define CHAOS_EXAMPLES_MAX 8

typedef struct chaos_report {
	size_t ops;
	size_t count[CHAOS_VIOLATION_COUNT];
	size_t total;
	/* The first few, for humans. */
	char example[CHAOS_EXAMPLES_MAX][320];
	size_t nexamples;
} chaos_report;

/* Check a history against the final facts of its events (events[i] for
 * event index i) and users (names by index). Adds to *r (zero it first).
 * Returns 0, or -1 if out of memory (r then incomplete). */
int chaos_check(const chaos_op *ops, size_t nops, const char *const *users,
    size_t nusers, const chaos_event_facts *events, size_t nevents,
    chaos_report *r);

/* Record a violation (also for the driver's own checks). */
void chaos_report_add(chaos_report *r, enum chaos_violation v, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#endif
