/* tr_api_error: the "error" codes of the HTTP API (docs/HTTP-API.md) and
 * their HTTP statuses, in one table: the gateway answers them, the load
 * tool counts them by name. Pure. */
#ifndef TR_API_ERROR_H
#define TR_API_ERROR_H

#include <stddef.h>

/* Most frequent first: in a rush nearly every answer is sold_out, and
 * tr_api_error_parse compares in this order. */
enum tr_api_error {
	TR_API_SOLD_OUT,
	TR_API_LIMIT_EXCEEDED,
	TR_API_DUPLICATE,
	TR_API_OVERLOADED,
	TR_API_UNAVAILABLE,
	TR_API_NOT_FOUND,
	TR_API_NOT_OPEN,
	TR_API_CONFLICT,
	TR_API_EXPIRED,
	TR_API_NOT_OWNER,
	TR_API_INVALID,
	TR_API_INVALID_JSON,
	TR_API_INTERNAL,
	TR_API_NO_ROUTE,
	TR_API_METHOD_NOT_ALLOWED,
	TR_API_BODY_TOO_LARGE,
	TR_API_HEADERS_TOO_LARGE,
	TR_API_WAITLIST_FULL,
	TR_API_CLOSED,
	/* Not an answer of the API: what a counter files an unknown code (or
	 * an error answer without one) under. */
	TR_API_OTHER,
	TR_API_ERROR_COUNT
};

/* The code's name ("sold_out", ...); "other" for TR_API_OTHER and any
 * value out of range. Never NULL. */
const char *tr_api_error_name(int code);

/* The HTTP status the API answers the code with (500 for TR_API_OTHER and
 * out of range). */
int tr_api_error_status(int code);

/* The code named by s[0..n) (s need not end in NUL); TR_API_OTHER if it
 * names none. */
int tr_api_error_parse(const char *s, size_t n);

/* The API code for a node's refusal (a tr_err below 0): the wire statuses
 * by their own names; a timeout, I/O error or fencing is unavailable
 * (retryable); anything else (a node's answer that is nonsense, an admin
 * refusal) is internal: the gateway's bug to fix. */
int tr_api_error_of(int err);

#endif
