/* tr_ids: identifier validation and reservation-id format. */
#include "tr_ids.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static bool
chars_valid(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = 0;

	if (s == NULL)
		return min == 0;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= max)
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (strchr(extra, c) == NULL)
			return false;
	}
	return n >= min;
}

bool
tr_event_id_valid(const char *s)
{
	return chars_valid(s, 1, TR_EVENT_ID_MAX, "._:-");
}

bool
tr_user_id_valid(const char *s)
{
	return chars_valid(s, 1, TR_USER_ID_MAX, "._:@-");
}

bool
tr_request_id_valid(const char *s)
{
	return chars_valid(s, 0, TR_REQUEST_ID_MAX, "._:-");
}

bool
tr_node_id_valid(const char *s)
{
	return chars_valid(s, 1, TR_NODE_ID_MAX, "_-");
}

bool
tr_payment_ref_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return true;
	for (; s[n] != '\0'; n++)
		if (n >= TR_PAYMENT_REF_MAX || s[n] < 0x20 || s[n] > 0x7e)
			return false;
	return true;
}

uint64_t
tr_random_u64(void)
{
	/* One getrandom(2) call per 64 ids keeps the syscall off the hot path.
	 */
	static __thread uint64_t pool[64];
	static __thread unsigned left;

	if (left == 0) {
		size_t got = 0;
		while (got < sizeof(pool)) {
			ssize_t n = getrandom((char *)pool + got,
			    sizeof(pool) - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				perror("getrandom");
				abort();
			}
			got += (size_t)n;
		}
		left = 64;
	}
	return pool[--left];
}

void
tr_rid_format(char *out, const char *node_id, uint64_t rand,
    const char *event_id)
{
	snprintf(out, TR_RID_MAX + 1, "%s.%016llx.%s", node_id,
	    (unsigned long long)rand, event_id);
}

bool
tr_rid_parse(const char *rid, char *node_out, char *event_out)
{
	const char *dot, *hex, *event;
	size_t node_len;

	if (rid == NULL || (dot = strchr(rid, '.')) == NULL)
		return false;
	node_len = (size_t)(dot - rid);
	hex = dot + 1;
	if (node_len == 0 || node_len > TR_NODE_ID_MAX)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		        (hex[i] >= 'a' && hex[i] <= 'f')))
			return false; /* also stops at the NUL */
	if (hex[16] != '.' || !tr_event_id_valid(event = hex + 17))
		return false;
	for (size_t i = 0; i < node_len; i++) {
		char c = rid[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	memcpy(node_out, rid, node_len);
	node_out[node_len] = '\0';
	if (event_out != NULL)
		strcpy(event_out, event);
	return true;
}
