/* fanout: the gateway's fan-out decisions. */
#include "fanout.h"

#include "tr_err.h"

static tr_node_mask
bit(int node)
{
	return node >= 0 && node < TR_NODES_MAX ? (tr_node_mask)1 << node : 0;
}

void
tr_fanout_start(tr_fanout *f, tr_node_mask skip)
{
	f->tried = skip;
	f->unknown = 0;
	f->failed = 0;
}

tr_node_mask
tr_fanout_exclude(const tr_fanout *f)
{
	return f->tried | f->failed;
}

/* No answer, or "not now": the same request may go elsewhere. */
static bool
could_not_answer(int result, bool transport_failed)
{
	return transport_failed || result == TR_EUNAVAILABLE ||
	    result == TR_EOVERLOADED || result == TR_ETIMEDOUT ||
	    result == TR_EIO;
}

bool
tr_fanout_reserve_answer(tr_fanout *f, int node, int result,
    bool transport_failed)
{
	if (could_not_answer(result, transport_failed)) {
		/* A hold the silent node may have made carries the same
		 * request id: the next node answers that hold, or it expires
		 * unpaid. */
		f->failed |= bit(node);
		return true;
	}
	if (result == TR_ESOLD_OUT) {
		f->tried |= bit(node);
		return true;
	}
	if (result == TR_ENOT_FOUND) {
		/* That node does not know the event (it looked it up, or is
		 * rate-limiting lookups): ask another. */
		f->tried |= bit(node);
		f->unknown |= bit(node);
		return true;
	}
	return false;
}

enum tr_fanout_verdict
tr_fanout_verdict(const tr_fanout *f, tr_node_mask usable)
{
	tr_node_mask sold = f->tried & ~f->unknown;

	if (f->unknown != 0 && sold == 0 && (usable & ~f->unknown) == 0)
		return TR_FANOUT_NO_EVENT;
	if (sold != 0 && usable != 0 && (usable & ~f->tried) == 0)
		return TR_FANOUT_ALL_SOLD_OUT;
	if (sold != 0 && usable == 0)
		return TR_FANOUT_SOLD_OUT; /* nodes that are down sell nothing
		                            */
	return TR_FANOUT_UNAVAILABLE;
}

bool
tr_fanout_routed_answer(tr_fanout *f, int node, int result,
    bool transport_failed)
{
	if (!could_not_answer(result, transport_failed))
		return false;
	f->failed |= bit(node);
	return true;
}

int
tr_fanout_routed_target(const tr_fanout *f, int home, tr_node_mask usable)
{
	if (home >= 0 && (bit(home) & usable & ~f->failed) != 0)
		return home;
	return -1;
}
