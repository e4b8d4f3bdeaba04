/* tr_err: names of error codes. (Their wire statuses: tr_envelope.) */
#include "tr_err.h"

const char *
tr_strerror(int err)
{
	switch (err) {
	case TR_OK: return "ok";
	case TR_ESOLD_OUT: return "sold_out";
	case TR_ELIMIT: return "limit_exceeded";
	case TR_EDUPLICATE: return "duplicate";
	case TR_ENOT_FOUND: return "not_found";
	case TR_EEXPIRED: return "expired";
	case TR_ENOT_OWNER: return "not_owner";
	case TR_ENOT_OPEN: return "not_open";
	case TR_EINVALID: return "invalid";
	case TR_EUNAVAILABLE: return "unavailable";
	case TR_EOVERLOADED: return "overloaded";
	case TR_EFORBIDDEN: return "forbidden";
	case TR_EINTERNAL: return "internal";
	case TR_ECONFLICT: return "conflict";
	case TR_EWAITLIST_FULL: return "waitlist_full";
	case TR_ECLOSED: return "closed";
	case TR_ENOMEM: return "out_of_memory";
	case TR_EEMPTY: return "lease_empty";
	case TR_EFENCED: return "fenced";
	case TR_ETIMEDOUT: return "timed_out";
	case TR_EIO: return "io_error";
	case TR_EPENDING: return "pending";
	case TR_EPROTO: return "protocol_error";
	}
	return "unknown_error";
}
