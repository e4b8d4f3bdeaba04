/* tr_event: what an event may be. The bounds of its settings and of a
 * reservation, in one place for the stock node, the gateway and ticketctl
 * (the coordinator's create_event.lua checks the same numbers). Pure. */
#ifndef TR_EVENT_H
#define TR_EVENT_H

#include <stdint.h>

#include "tr_ids.h"

#define TR_TOTAL_MAX 100000000ULL
#define TR_LIMIT_PER_USER_MAX 100
/* Tickets in one reservation: at most what one user may hold. */
#define TR_QTY_MAX TR_LIMIT_PER_USER_MAX
#define TR_HOLD_MS_MAX (24ULL * 3600 * 1000)
#define TR_HOLD_MS_DEFAULT (15ULL * 60 * 1000)
/* The waitlist: buyers in line at most (0 in a setting: the default). */
#define TR_WAITLIST_MAX 10000000ULL
#define TR_WAITLIST_DEFAULT 100000ULL

/* An event's settings. */
typedef struct tr_event_conf {
	char id[TR_EVENT_ID_MAX + 1];
	uint64_t total;          /* 1 .. TR_TOTAL_MAX */
	uint32_t limit_per_user; /* 1 .. TR_LIMIT_PER_USER_MAX */
	uint64_t hold_ms;        /* 1 .. TR_HOLD_MS_MAX */
	int64_t opens_at_ms;     /* Unix ms; 0 = open */
	uint64_t waitlist_max; /* 0 (TR_WAITLIST_DEFAULT) .. TR_WAITLIST_MAX */
	uint64_t offer_ms;     /* 0 (hold_ms) .. TR_HOLD_MS_MAX */
} tr_event_conf;

/* 0, or TR_EINVALID with *why naming the first bad setting and its range
 * (a sentence for an operator). */
int tr_event_conf_check(const tr_event_conf *c, const char **why);

/* The sentences tr_event_conf_check and the other checkers use, for
 * callers that check one setting alone (a flag, a JSON field). */
#define TR_TOTAL_RANGE "1..100000000"
#define TR_LIMIT_PER_USER_RANGE "1..100"
#define TR_QTY_RANGE "1..100"
#define TR_HOLD_RANGE "1ms..24h"
#define TR_WAITLIST_RANGE "0..10000000"
#define TR_OFFER_RANGE "0..24h"

#endif
