/* tr_ids: the shapes of every identifier, and reservation ids. */
#ifndef TR_IDS_H
#define TR_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TR_EVENT_ID_MAX 64
#define TR_USER_ID_MAX 64
#define TR_REQUEST_ID_MAX 64
#define TR_NODE_ID_MAX 16
#define TR_PAYMENT_REF_MAX 128
/* "<node>.<16 hex digits>.<event>": a reservation id names the node that
 * made it (the gateway routes by it) and its event (any node can then find
 * the hold in the coordinator without a lookup). */
#define TR_RID_MAX (TR_NODE_ID_MAX + 1 + 16 + 1 + TR_EVENT_ID_MAX)

/* Stock nodes one gateway (or one load report) knows at most. The gateway
 * keeps sets of nodes (tried, sold out, usable) as bits of a tr_node_mask. */
#define TR_NODES_MAX 32
typedef uint32_t tr_node_mask;
_Static_assert(TR_NODES_MAX <= (int)sizeof(tr_node_mask) * 8,
    "a tr_node_mask has a bit for every node");

/* Event ids: 1-64 chars of [A-Za-z0-9._:-]. */
bool tr_event_id_valid(const char *s);
/* User ids: 1-64 chars of [A-Za-z0-9._:@-]. */
bool tr_user_id_valid(const char *s);
/* Request ids: 0-64 chars of [A-Za-z0-9._:-] (empty: none given). */
bool tr_request_id_valid(const char *s);
/* Node ids: 1-16 chars of [A-Za-z0-9_-] (no dot: it ends the node part of a
 * reservation id). */
bool tr_node_id_valid(const char *s);
/* Payment references: 0-128 printable ASCII chars. */
bool tr_payment_ref_valid(const char *s);

/* 64 bits from the kernel's CSPRNG (getrandom), buffered per thread. Aborts
 * if the kernel cannot give randomness: guessable ids are worse than none. */
uint64_t tr_random_u64(void);

/* Write "<node_id>.<16 hex of rand>.<event_id>" into out (at least
 * TR_RID_MAX + 1 bytes). Both ids must be valid. */
void tr_rid_format(char *out, const char *node_id, uint64_t rand,
    const char *event_id);

/* Check a reservation id's shape and copy its node part into node_out (at
 * least TR_NODE_ID_MAX + 1 bytes) and, if event_out is not NULL, its event
 * part into event_out (at least TR_EVENT_ID_MAX + 1 bytes). Returns false,
 * leaving both untouched, when the id is not of the shape tr_rid_format
 * makes. */
bool tr_rid_parse(const char *rid, char *node_out, char *event_out);

#endif
