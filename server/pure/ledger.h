/* ledger: a stock node's in-memory book: events, the lease it sells from,
 * and a cache of the holds it made.
 *
 * Pure logic: no I/O, no locks, no clock reads (callers pass the time in).
 * The node serialises every call with one mutex.
 *
 * The truth of a hold is in the coordinator (Redis), written when the hold
 * is made. The ledger decides the cheap part locally: whether the node has
 * stock for a reservation (its lease), and whether the answer is already
 * known (a retry or a second click of a user whose hold is in the cache).
 * Numbers per event:
 *
 *   lease      free tickets this node may take for new reservations now:
 *              the coordinator's lease for it, less what it admitted and
 *              has not heard back about, less what it is giving back;
 *   admitting  tickets of admitted reservations whose hold call has not
 *              answered;
 *   giving     tickets being given back to the pool;
 *   held       tickets in this node's cached HELD holds (they left the
 *              lease when the coordinator recorded them).
 *
 * So, with no call in flight, the coordinator's lease for this node equals
 * lease + admitting + giving (tr_ledger_lease_adopt repairs it from there).
 *
 * The cache: holds this node made, by reservation id and by user, with an
 * expiry heap. A CONFIRMED, RELEASED or EXPIRED state in the cache was said
 * by the coordinator and is final; a HELD one may be stale (the hold may
 * have been confirmed or released through another node) and is checked
 * with the coordinator whenever it matters. Memory grows with holds only: a
 * rejected reservation stores nothing. Ended holds stay as tombstones up to
 * tombstones_max, oldest forgotten first.
 */
#ifndef TR_LEDGER_H
#define TR_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holdheap.h"
#include "tr_event.h"
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

/* Read-only outside ledger.c. */
struct tr_event {
	tr_event_conf conf;
	uint64_t lease;
	uint64_t admitting;
	uint64_t giving;
	uint64_t held;
	uint64_t sold_here;      /* this node's holds confirmed (anywhere) */
	uint64_t epoch;          /* fencing token from the coordinator */
	bool draining;           /* no new reservations */
	uint64_t reserved_count; /* reservations admitted, ever */
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
	/* Its deadline passed and the coordinator is being asked to end it:
	 * out of the expiry heap until tr_ledger_hold_ended or
	 * tr_ledger_hold_reschedule. */
	bool expiring;
	int64_t expires_mono_ms;
	int64_t expires_wall_ms; /* the coordinator's clock */
	int64_t confirmed_wall_ms;
	char payment_ref[TR_PAYMENT_REF_MAX + 1];

	/* private */
	tr_heap_node expiry;
	tr_hold *buyer_next;            /* the buyer's holds */
	tr_hold *tomb_prev, *tomb_next; /* tombstone FIFO */
	tr_buyer *buyer;
};

typedef struct tr_ledger_limits {
	size_t tombstones_max; /* ended holds remembered; default 65536 */
	size_t events_max;     /* default 65536 */
} tr_ledger_limits;

/* A new ledger for node node_id (must be valid). NULL if out of memory.
 * lim may be NULL for the defaults. */
tr_ledger *tr_ledger_new(const char *node_id, const tr_ledger_limits *lim);
void tr_ledger_free(tr_ledger *l);

/* Replace the random source of reservation ids (tests make them
 * predictable). Default: tr_random_u64. */
void tr_ledger_set_rand(tr_ledger *l, uint64_t (*rand)(void *), void *arg);

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

/* Tickets free to reserve on this node now (the lease). */
uint64_t tr_event_available(const tr_event *ev);

/* The coordinator says the event has total tickets now (an operator added
 * some): its settings follow. The lease is not touched. */
void tr_ledger_event_total_set(tr_event *ev, uint64_t total);

/* n tickets joined the lease (a grant, a hold ended into it, a refused
 * reservation's tickets). TR_EINVALID on overflow (unchanged). */
int tr_ledger_lease_grant(tr_event *ev, uint64_t n);

/* First half of Reserve: qty (0 means 1) tickets for user_id; request_id
 * may be "". Returns:
 *   0              the cache knows this (user, request_id)'s live hold
 *                  (*out): a retry, answered from memory;
 *   TR_EDUPLICATE  the user is at the limit and holds *out unpaid;
 *   TR_ELIMIT      the user is at the limit with paid tickets, or qty is
 *                  above the limit;
 *   TR_ENOT_OPEN   before opens_at (the node's clock; the coordinator
 *                  checks again with its own);
 *   TR_EUNAVAILABLE the event is draining on this node;
 *   TR_EEMPTY      fewer than qty tickets in the lease: ask for more;
 *   TR_EPENDING    admitted: qty moved from lease to admitting. Record the
 *                  hold with the coordinator, then call
 *                  tr_ledger_admit_end (and tr_ledger_hold_add if made).
 * Nothing changes unless TR_EPENDING is returned. */
int tr_ledger_reserve(tr_ledger *l, tr_event *ev, const char *user_id,
    uint32_t qty, const char *request_id, int64_t now_mono_ms,
    int64_t now_wall_ms, tr_hold **out);

/* The hold the cache knows for user_id's request_id (not ""): 0 and *out,
 * what a retry is answered; else TR_ENOT_FOUND. Changes nothing. */
int tr_ledger_find_request(const tr_event *ev, const char *user_id,
    const char *request_id, tr_hold **out);

/* An admitted reservation of qty got its answer: admitting shrinks by
 * qty; back_to_lease returns the tickets to the lease (the coordinator did
 * not take them, and the event's epoch is still the one they were
 * admitted under). */
void tr_ledger_admit_end(tr_event *ev, uint32_t qty, bool back_to_lease);

/* A fresh reservation id of this node for ev into out (TR_RID_MAX + 1
 * bytes), unused in the cache. TR_EINTERNAL if the random source keeps
 * repeating itself. */
int tr_ledger_new_rid(const tr_ledger *l, const tr_event *ev, char *out);

/* Cache a hold the coordinator recorded for this node (state HELD,
 * deadline expires_mono_ms). held grows by qty. 0, TR_EDUPLICATE (rid
 * cached already: *out is it, unchanged) or TR_ENOMEM (not cached). */
int tr_ledger_hold_add(tr_ledger *l, tr_event *ev, const char *rid,
    const char *user_id, uint32_t qty, const char *request_id,
    int64_t expires_wall_ms, int64_t expires_mono_ms, tr_hold **out);

/* Find a hold by reservation id for user_id: 0, TR_ENOT_FOUND or
 * TR_ENOT_OWNER. */
int tr_ledger_find(const tr_ledger *l, const char *rid, const char *user_id,
    tr_hold **out);

/* The hold with this reservation id (any owner), or NULL. Completions look
 * holds up again by id rather than keep pointers: a tombstone may be
 * forgotten while a call is in flight. */
tr_hold *tr_ledger_hold_get(const tr_ledger *l, const char *rid);

/* The coordinator says the hold is paid: HELD -> CONFIRMED (held shrinks,
 * sold_here grows), payment_ref and confirmed_wall_ms stored. No-op unless
 * HELD. */
void tr_ledger_hold_confirmed(tr_ledger *l, tr_hold *h,
    const char *payment_ref, int64_t confirmed_wall_ms);

/* The coordinator says the hold ended (state TR_HOLD_RELEASED or
 * TR_HOLD_EXPIRED): it becomes a tombstone and held shrinks. The ticket's
 * place (this lease or the pool) is the caller's business. No-op unless
 * HELD. */
void tr_ledger_hold_ended(tr_ledger *l, tr_hold *h, enum tr_hold_state state);

/* Take at most max HELD holds whose deadline is <= now_mono_ms out of the
 * expiry heap, mark them expiring and pass each to due(hold, arg), which
 * asks the coordinator to end it (or ends it). Returns how many. */
size_t tr_ledger_expire_due(tr_ledger *l, int64_t now_mono_ms, size_t max,
    void (*due)(tr_hold *, void *), void *arg);

/* An expiring hold was not ended (the coordinator's clock says not yet, or
 * the call failed): back into the heap at deadline_mono_ms. TR_ENOMEM
 * leaves it expiring without a deadline. */
int tr_ledger_hold_reschedule(tr_ledger *l, tr_hold *h,
    int64_t deadline_mono_ms);

/* Monotonic ms of the earliest deadline, or INT64_MAX if none. */
int64_t tr_ledger_next_deadline(const tr_ledger *l);

/* Holds in HELD state in the cache, over all events. */
size_t tr_ledger_active_holds(const tr_ledger *l);

/* Give n tickets of the lease back: they leave the lease now and are
 * counted in giving until tr_ledger_give_back_end. TR_EINVALID if n >
 * lease (unchanged). */
int tr_ledger_give_back_begin(tr_event *ev, uint64_t n);
/* The give-back answered: giving shrinks by n; back_to_lease when the
 * coordinator surely did not take them. */
void tr_ledger_give_back_end(tr_event *ev, uint64_t n, bool back_to_lease);

/* The coordinator's lease for this node, read while no call was in flight:
 * make lease agree with it (lease + admitting + giving == coord_lease,
 * lease not below 0). Returns the change of lease. */
int64_t tr_ledger_lease_adopt(tr_event *ev, uint64_t coord_lease);

/* The coordinator moved this node's epoch (its lease was reclaimed, or it
 * registered again): the lease is empty under new_epoch. Cached holds stay
 * (they are still valid in the coordinator until they expire). */
void tr_ledger_event_fence(tr_event *ev, uint64_t new_epoch);

/* Check every invariant by walking all holds (tests; O(holds)). Returns 0
 * or TR_EINTERNAL with *why set. */
int tr_ledger_check(const tr_ledger *l, const char **why);

#endif
