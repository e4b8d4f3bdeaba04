/* wrr: smooth weighted round-robin over stock nodes, as nginx's upstream
 * round robin does it, with its failure accounting (max_fails,
 * fail_timeout, effective weight that drops on failure and recovers one
 * step per pick). Pure logic: time is passed in; not thread-safe (the
 * gateway holds a mutex around it). */
#ifndef TR_WRR_H
#define TR_WRR_H

#include <stdbool.h>
#include <stdint.h>

#include "tr_ids.h"

typedef struct tr_wrr_peer {
	char id[TR_NODE_ID_MAX + 1];
	int weight;           /* configured, >= 1 */
	int effective_weight; /* drops on failures, recovers per pick */
	int current_weight;
	int max_fails; /* 0: never taken out */
	int64_t fail_timeout_ms;
	int fails;
	int64_t checked_ms;  /* start of the current failure window */
	int64_t accessed_ms; /* last failure */
	bool disconnected;   /* no connection at all: skip */
	uint64_t picks;
} tr_wrr_peer;

typedef struct tr_wrr {
	tr_wrr_peer peers[TR_NODES_MAX];
	int n;
} tr_wrr;

void tr_wrr_init(tr_wrr *w);

/* Add a peer; returns its index, or -1 (full, duplicate id, bad weight). */
int tr_wrr_add(tr_wrr *w, const char *id, int weight, int max_fails,
    int64_t fail_timeout_ms);

/* The peer's index by id, or -1. */
int tr_wrr_find(const tr_wrr *w, const char *id);

/* Whether peer i may be picked now (connected, not failed out). */
bool tr_wrr_usable(const tr_wrr *w, int i, int64_t now_ms);

/* Pick a peer among those not in `exclude` (bit i = peer i) and usable,
 * by smooth weighted round-robin. Returns its index, or -1 if none. */
int tr_wrr_pick(tr_wrr *w, tr_node_mask exclude, int64_t now_ms);

/* Report the outcome of a call to peer i. A business refusal (sold out)
 * is a success here. */
void tr_wrr_failed(tr_wrr *w, int i, int64_t now_ms);
void tr_wrr_succeeded(tr_wrr *w, int i, int64_t now_ms);

/* Connection state from the transport (no pipe: skip at once). */
void tr_wrr_set_connected(tr_wrr *w, int i, bool connected);

#endif
