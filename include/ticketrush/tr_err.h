/* tr_err: the one error enum of ticketrush, shared by every module. */
#ifndef TR_ERR_H
#define TR_ERR_H

/*
 * Functions return 0 on success or one of these negative codes. The first
 * block mirrors the wire Status of proto/ticketrush.proto one to one
 * (TR_E<x> == -STATUS_<x>), so a result maps to a reply without a table.
 * The second block is internal: it never crosses the wire as itself.
 */
enum tr_err {
	TR_OK = 0,
	TR_ESOLD_OUT = -2,
	TR_ELIMIT = -3,
	TR_EDUPLICATE = -4,
	TR_ENOT_FOUND = -5,
	TR_EEXPIRED = -6,
	TR_ENOT_OWNER = -7,
	TR_ENOT_OPEN = -8,
	TR_EINVALID = -9,
	TR_EUNAVAILABLE = -10,
	TR_EOVERLOADED = -11,
	TR_EFORBIDDEN = -12,
	TR_EINTERNAL = -13,
	TR_ECONFLICT = -14,
	TR_EWAITLIST_FULL = -15,
	TR_ECLOSED = -16,

	/* Internal codes. */
	TR_ENOMEM = -100,    /* allocation failed (wire: INTERNAL) */
	TR_EEMPTY = -101,    /* node lease exhausted: ask the coordinator */
	TR_EFENCED = -102,   /* coordinator refused a stale epoch */
	TR_ETIMEDOUT = -103, /* a bounded wait ran out (wire: UNAVAILABLE) */
	TR_EIO = -104,       /* a socket or file failed (wire: UNAVAILABLE) */
	TR_EPENDING = -105,  /* accepted; the answer comes later */
	TR_EPROTO = -106, /* peer sent bytes we cannot parse (wire: INVALID) */
};

/* A short stable name ("sold_out", "limit_exceeded", ...) for an error code,
 * the same words the HTTP API uses in its "error" field. Never NULL. */
const char *tr_strerror(int err);

#endif
