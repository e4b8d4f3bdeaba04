/* tr_event: the bounds of an event's settings. */
#include "tr_event.h"

#include "tr_err.h"

_Static_assert(TR_TOTAL_MAX == 100000000ULL, "TR_TOTAL_RANGE says so");
_Static_assert(TR_LIMIT_PER_USER_MAX == 100,
    "TR_LIMIT_PER_USER_RANGE says so");
_Static_assert(TR_QTY_MAX == 100, "TR_QTY_RANGE says so");
_Static_assert(TR_HOLD_MS_MAX == 24ULL * 3600 * 1000,
    "TR_HOLD_RANGE and TR_OFFER_RANGE say so");
_Static_assert(TR_WAITLIST_MAX == 10000000ULL, "TR_WAITLIST_RANGE says so");

int
tr_event_conf_check(const tr_event_conf *c, const char **why)
{
	if (!tr_event_id_valid(c->id))
		*why = "event_id must be 1-64 chars of [A-Za-z0-9._:-]";
	else if (c->total < 1 || c->total > TR_TOTAL_MAX)
		*why = "total must be " TR_TOTAL_RANGE;
	else if (c->limit_per_user < 1 ||
	    c->limit_per_user > TR_LIMIT_PER_USER_MAX)
		*why = "limit_per_user must be " TR_LIMIT_PER_USER_RANGE;
	else if (c->hold_ms < 1 || c->hold_ms > TR_HOLD_MS_MAX)
		*why = "hold must be " TR_HOLD_RANGE;
	else if (c->waitlist_max > TR_WAITLIST_MAX)
		*why = "waitlist_max must be " TR_WAITLIST_RANGE;
	else if (c->offer_ms > TR_HOLD_MS_MAX)
		*why = "offer must be " TR_OFFER_RANGE;
	else if (c->opens_at_ms < 0)
		*why = "opens_at must not be negative";
	else
		return 0;
	return TR_EINVALID;
}
