/* tr_api_error: the HTTP API's error codes. */
#include "tr_api_error.h"

#include <string.h>

#include "tr_err.h"

static const struct {
	const char *name;
	int status;
} table[TR_API_ERROR_COUNT] = {
    [TR_API_SOLD_OUT] = {"sold_out", 409},
    [TR_API_LIMIT_EXCEEDED] = {"limit_exceeded", 409},
    [TR_API_DUPLICATE] = {"duplicate", 409},
    [TR_API_OVERLOADED] = {"overloaded", 503},
    [TR_API_UNAVAILABLE] = {"unavailable", 503},
    [TR_API_NOT_FOUND] = {"not_found", 404},
    [TR_API_NOT_OPEN] = {"not_open", 403},
    [TR_API_CONFLICT] = {"conflict", 409},
    [TR_API_EXPIRED] = {"expired", 410},
    [TR_API_NOT_OWNER] = {"not_owner", 403},
    [TR_API_INVALID] = {"invalid", 400},
    [TR_API_INVALID_JSON] = {"invalid_json", 400},
    [TR_API_INTERNAL] = {"internal", 500},
    [TR_API_NO_ROUTE] = {"no_route", 404},
    [TR_API_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405},
    [TR_API_BODY_TOO_LARGE] = {"body_too_large", 413},
    [TR_API_HEADERS_TOO_LARGE] = {"headers_too_large", 431},
    [TR_API_WAITLIST_FULL] = {"waitlist_full", 409},
    [TR_API_CLOSED] = {"closed", 409},
    [TR_API_OTHER] = {"other", 500},
};

const char *
tr_api_error_name(int code)
{
	return code >= 0 && code < TR_API_ERROR_COUNT ? table[code].name
	                                              : "other";
}

int
tr_api_error_status(int code)
{
	return code >= 0 && code < TR_API_ERROR_COUNT ? table[code].status
	                                              : 500;
}

int
tr_api_error_parse(const char *s, size_t n)
{
	/* Lengths first: s[0..n) may hold a NUL, and a name is never read
	 * past its end. */
	for (int i = 0; i < TR_API_OTHER; i++)
		if (strlen(table[i].name) == n &&
		    memcmp(table[i].name, s, n) == 0)
			return i;
	return TR_API_OTHER;
}

int
tr_api_error_of(int err)
{
	switch (err) {
	case TR_ESOLD_OUT: return TR_API_SOLD_OUT;
	case TR_ELIMIT: return TR_API_LIMIT_EXCEEDED;
	case TR_EDUPLICATE: return TR_API_DUPLICATE;
	case TR_ENOT_FOUND: return TR_API_NOT_FOUND;
	case TR_EEXPIRED: return TR_API_EXPIRED;
	case TR_ENOT_OWNER: return TR_API_NOT_OWNER;
	case TR_ENOT_OPEN: return TR_API_NOT_OPEN;
	case TR_EINVALID: return TR_API_INVALID;
	case TR_ECONFLICT: return TR_API_CONFLICT;
	case TR_EOVERLOADED: return TR_API_OVERLOADED;
	case TR_EWAITLIST_FULL: return TR_API_WAITLIST_FULL;
	case TR_ECLOSED: return TR_API_CLOSED;
	case TR_EUNAVAILABLE:
	case TR_ETIMEDOUT:
	case TR_EIO:
	case TR_EFENCED: return TR_API_UNAVAILABLE;
	default: return TR_API_INTERNAL;
	}
}
