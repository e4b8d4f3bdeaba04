/* ledger: a stock node's in-memory book of events, leases and holds.
 *
 * Pure logic: no I/O, no locks, no clock reads (callers pass the time in).
 * The node serialises every call with one mutex. Numbers per event:
 *
 *   lease      tickets the coordinator granted to this node, not yet sold
 *              (confirmed) or given back;
 *   held       tickets of the lease taken by HELD reservations;
 *   available  lease - held: what Reserve may take without asking anyone.
 *
 * Invariant after every call: held <= lease, and held equals the sum of the
 * quantities of the event's HELD holds.
 *
 * Memory grows with holds only: a rejected Reserve stores nothing. Ended
 * holds (released, expired) are kept as tombstones, so that a late confirm
 * gets EXPIRED rather than NOT_FOUND, up to tombstones_max for the whole
 * ledger; the oldest are forgotten first.
 */
#ifndef TR_LEDGER_H
#define TR_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holdheap.h"
#include "tr_ids.h"

typedef struct tr_ledger tr_ledger;
typedef struct tr_event tr_event;
typedef struct tr_hold tr_hold;
typedef struct tr_buyer tr_buyer;

/* Same numbers as the wire HoldState. */
enum tr_hold_state {
	TR_HOLD_HELD = 1,
	TR_HOLD_CONFIRMED = 2,
	TR_HOLD_RELEASED = 3,
	TR_HOLD_EXPIRED = 4,
};

#define TR_LIMIT_PER_USER_MAX 100
#define TR_TOTAL_MAX 100000000ULL
#define TR_HOLD_MS_MAX (24ULL * 3600 * 1000)
#define TR_HOLD_MS_DEFAULT (15ULL * 60 * 1000)

typedef struct tr_event_conf {
	char id[TR_EVENT_ID_MAX + 1];
	uint64_t total;          /* 1 .. TR_TOTAL_MAX */
	uint32_t limit_per_user; /* 1 .. TR_LIMIT_PER_USER_MAX */
	uint64_t hold_ms;        /* 1 .. TR_HOLD_MS_MAX */
	int64_t opens_at_ms;     /* Unix ms; 0 = open */
} tr_event_conf;

/* Read-only outside ledger.c. */
struct tr_event {
	tr_event_conf conf;
	uint64_t lease;
	uint64_t held;
	uint64_t sold_here;   /* confirmed through this node */
	uint64_t epoch;       /* fencing token from the coordinator */
	bool draining;        /* no new reservations */
	uint64_t reserved_count; /* successful new reservations, ever */
	uint64_t expired_count;
	int64_t last_reserve_mono_ms;
	struct tr_map *buyers; /* user_id -> tr_buyer */
	void *user_data;       /* the node's per-event state (refill etc.) */
};

/* Read-only outside ledger.c. */
struct tr_hold {
	char rid[TR_RID_MAX + 1];
	char user_id[TR_USER_ID_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	tr_event *event;
	uint32_t qty;
	enum tr_hold_state state;
	/* Confirms sent to the coordinator and not yet answered. While > 0 the
	 * hold is neither released nor expired. */
	uint32_t confirming;
	/* A confirm's outcome is unknown (the coordinator timed out): the hold
	 * must be resolved with the coordinator, never silently expired,
	 * because the order may exist. */
	bool confirm_unknown;
	int64_t expires_mono_ms;
	int64_t expires_wall_ms;
	int64_t confirmed_wall_ms;
	char payment_ref[TR_PAYMENT_REF_MAX + 1];

	/* private */
	tr_heap_node expiry;
	tr_hold *buyer_next;              /* the buyer's holds */
	tr_hold *tomb_prev, *tomb_next;   /* tombstone FIFO */
	tr_buyer *buyer;
};

typedef struct tr_ledger_limits {
	size_t tombstones_max; /* ended holds remembered; default 65536 */
	size_t events_max;     /* default 1024 */
} tr_ledger_limits;

/* A new ledger for node node_id (must be valid). NULL if out of memory.
 * lim may be NULL for the defaults. */
tr_ledger *tr_ledger_new(const char *node_id, const tr_ledger_limits *lim);
void tr_ledger_free(tr_ledger *l);

/* Replace the random source of reservation ids (tests make them
 * predictable). Default: tr_random_u64. */
void tr_ledger_set_rand(tr_ledger *l, uint64_t (*rand)(void *), void *arg);

/* Check an event configuration: TR_EINVALID with *why set if out of range. */
int tr_event_conf_check(const tr_event_conf *c, const char **why);

/* Add an event with an empty lease. If it exists with the same conf, returns
 * 0 and the existing one; with another conf, TR_EDUPLICATE (unchanged).
 * TR_EINVALID for a bad conf, TR_EOVERLOADED past events_max, TR_ENOMEM. */
int tr_ledger_event_add(tr_ledger *l, const tr_event_conf *conf,
    tr_event **out);

/* The event, or NULL. */
tr_event *tr_ledger_event_get(const tr_ledger *l, const char *event_id);

/* Call fn for each event. */
void tr_ledger_each_event(const tr_ledger *l, void (*fn)(tr_event *, void *),
    void *arg);
size_t tr_ledger_event_count(const tr_ledger *l);

/* Tickets free to reserve on this node now. */
uint64_t tr_event_available(const tr_event *ev);

/* The coordinator granted n more tickets. TR_EINVALID on overflow. */
int tr_ledger_lease_grant(tr_event *ev, uint64_t n);

/* Give n tickets of the lease back (drain, idle return). Only free tickets
 * can go: TR_EINVALID if n > available (unchanged). */
int tr_ledger_lease_return(tr_event *ev, uint64_t n);

/* The coordinator fenced this node's lease (a new epoch): every HELD hold
 * of the event ends as EXPIRED (its ticket is already back in the pool),
 * the lease and held counts go to zero, and the epoch becomes new_epoch. */
void tr_ledger_event_reset(tr_ledger *l, tr_event *ev, uint64_t new_epoch);

/* Reserve qty (0 means 1) tickets for user_id. request_id may be "".
 * Returns:
 *   0              a new hold, or the hold an earlier call with the same
 *                  user and non-empty request_id made (*out);
 *   TR_EDUPLICATE  the user is at the limit and holds *out unpaid;
 *   TR_ELIMIT      the user is at the limit with paid tickets, or qty is
 *                  above the limit;
 *   TR_ENOT_OPEN   before opens_at;
 *   TR_EUNAVAILABLE the event is draining on this node;
 *   TR_EEMPTY      fewer than qty tickets available: ask the coordinator;
 *   TR_ENOMEM.
 * Nothing is stored unless 0 is returned for a new hold. */
int tr_ledger_reserve(tr_ledger *l, tr_event *ev, const char *user_id,
    uint32_t qty, const char *request_id, int64_t now_mono_ms,
    int64_t now_wall_ms, tr_hold **out);

/* Find a hold by reservation id for user_id: 0, TR_ENOT_FOUND or
 * TR_ENOT_OWNER. */
int tr_ledger_find(const tr_ledger *l, const char *rid, const char *user_id,
    tr_hold **out);

/* The hold with this reservation id (any owner), or NULL. Completions look
 * holds up again by id rather than keep pointers: a tombstone may be
 * forgotten while a call is in flight. */
tr_hold *tr_ledger_hold_get(const tr_ledger *l, const char *rid);

/* First half of Confirm. Returns:
 *   0             already CONFIRMED: answer from *out, no coordinator call;
 *   TR_EPENDING   HELD: *out is marked confirming; send it to the
 *                 coordinator and call tr_ledger_confirm_end with the answer;
 *   TR_EEXPIRED   expired (also when its deadline passed and the ticker has
 *                 not run yet: it expires now);
 *   TR_ECONFLICT  released;
 *   TR_ENOT_FOUND, TR_ENOT_OWNER. */
int tr_ledger_confirm_begin(tr_ledger *l, const char *rid,
    const char *user_id, int64_t now_mono_ms, tr_hold **out);

/* Second half of Confirm (or of a resolve, see tr_ledger_expire_due), with
 * the coordinator's answer:
 *   0           the order exists: CONFIRMED, lease and held shrink by qty;
 *   TR_ELIMIT   the user bought elsewhere: the hold is RELEASED;
 *   TR_EEXPIRED the coordinator voided the hold: EXPIRED, ticket returned;
 *   TR_ETIMEDOUT, TR_EIO: sent but unanswered, outcome unknown: the hold
 *               stays HELD and will be resolved instead of expired;
 *   anything else (not sent, fenced, unknown event): a definite refusal,
 *               the hold stays HELD as it was.
 * payment_ref and confirmed_wall_ms are stored on success. */
void tr_ledger_confirm_end(tr_ledger *l, tr_hold *h, int outcome,
    const char *payment_ref, int64_t confirmed_wall_ms, int64_t now_mono_ms);

/* Release a hold. 0 (also when already released or expired: *out shows
 * which), TR_ECONFLICT (confirmed, confirm in flight or outcome unknown),
 * TR_ENOT_FOUND, TR_ENOT_OWNER. */
int tr_ledger_release(tr_ledger *l, const char *rid, const char *user_id,
    tr_hold **out);

/* Expire at most max holds whose deadline is <= now_mono_ms; their tickets
 * return to the lease. A due hold whose confirm outcome is unknown is not
 * expired: it is marked confirming and passed to resolve(hold, arg), which
 * must ask the coordinator and call tr_ledger_confirm_end. Returns the
 * number of holds expired. */
size_t tr_ledger_expire_due(tr_ledger *l, int64_t now_mono_ms, size_t max,
    void (*resolve)(tr_hold *, void *), void *arg);

/* Monotonic ms of the earliest deadline, or INT64_MAX if none. */
int64_t tr_ledger_next_deadline(const tr_ledger *l);

/* Holds in HELD state, over all events. */
size_t tr_ledger_active_holds(const tr_ledger *l);

/* Check every invariant by walking all holds (tests; O(holds)). Returns 0
 * or TR_EINTERNAL with *why set. */
int tr_ledger_check(const tr_ledger *l, const char **why);

#endif
