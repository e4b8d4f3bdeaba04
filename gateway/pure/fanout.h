/* fanout: which stock node a request goes to next, and when the gateway
 * stops asking and answers. Pure: the HTTP side (gateway/http_server.c)
 * feeds it the nodes' answers and the nodes usable now, and does what it
 * says.
 *
 * A reservation goes to one node at a time (weighted round-robin picks
 * among those not excluded). A node that says sold out or does not know
 * the event is not asked again; one that does not answer (timeout, down,
 * unavailable, at its in-flight bound) is not asked again either: the
 * request id makes a second attempt elsewhere the same hold. When no node
 * is left to ask, the verdict says what the client hears.
 *
 * Confirm and release go to the node the reservation id names (its home)
 * while it answers, else to any other node, each node once: any node can
 * end any hold (its record is in the coordinator), and both are
 * idempotent. */
#ifndef TR_FANOUT_H
#define TR_FANOUT_H

#include <stdbool.h>

#include "tr_ids.h"

typedef struct tr_fanout {
	tr_node_mask tried;   /* said sold out or unknown event */
	tr_node_mask unknown; /* said unknown event (a subset of tried) */
	tr_node_mask failed;  /* did not answer, or could not now */
} tr_fanout;

/* Start a reservation; skip: nodes the sold-out cache says are sold out. */
void tr_fanout_start(tr_fanout *f, tr_node_mask skip);

/* Nodes a reservation must not be sent to now. */
tr_node_mask tr_fanout_exclude(const tr_fanout *f);

/* A node's answer to a reservation (result a tr_err; transport_failed: no
 * answer at all). true: ask another node; false: the answer is final. */
bool tr_fanout_reserve_answer(tr_fanout *f, int node, int result,
    bool transport_failed);

enum tr_fanout_verdict {
	TR_FANOUT_NO_EVENT,     /* every usable node said unknown event */
	TR_FANOUT_ALL_SOLD_OUT, /* every usable node said sold out: the
	                         * sold-out cache may remember the event */
	TR_FANOUT_SOLD_OUT,     /* some said sold out, the rest are down */
	TR_FANOUT_UNAVAILABLE,  /* no node could answer: retry */
};

/* No node is left to pick: what the client hears, given the nodes usable
 * now (connected, not failed out). */
enum tr_fanout_verdict tr_fanout_verdict(const tr_fanout *f,
    tr_node_mask usable);

/* A node's answer to a confirm or release. true: ask another node. */
bool tr_fanout_routed_answer(tr_fanout *f, int node, int result,
    bool transport_failed);

/* The node a confirm or release goes to: home (-1 if the reservation id
 * names no known node) while it is usable and did not fail it; else -1,
 * and the caller picks any node outside tr_fanout_exclude. */
int tr_fanout_routed_target(const tr_fanout *f, int home, tr_node_mask usable);

#endif
