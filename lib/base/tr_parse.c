/* tr_parse: number, duration, time and address parsing with range checks. */
#include "tr_parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tr_err.h"

int
tr_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return TR_EINVALID;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return TR_EINVALID;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return TR_EINVALID;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min || v > max)
		return TR_EINVALID;
	*out = v;
	return 0;
}

int
tr_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out_ms)
{
	char digits[24];
	const char *unit;
	size_t n = 0;
	uint64_t v, mult;

	if (s == NULL)
		return TR_EINVALID;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(digits))
		return TR_EINVALID;
	memcpy(digits, s, n);
	digits[n] = '\0';
	unit = s + n;
	if (*unit == '\0' || strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "s") == 0)
		mult = 1000;
	else if (strcmp(unit, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(unit, "h") == 0)
		mult = 3600 * 1000;
	else
		return TR_EINVALID;
	if (tr_parse_u64(digits, 0, UINT64_MAX / mult, &v) != 0)
		return TR_EINVALID;
	if (v * mult > max_ms)
		return TR_EINVALID;
	*out_ms = v * mult;
	return 0;
}

int
tr_parse_time_ms(const char *s, int64_t now_ms, int64_t *out_ms)
{
	uint64_t v;
	struct tm tm;
	const char *end;

	if (s == NULL)
		return TR_EINVALID;
	if (strcmp(s, "now") == 0) {
		*out_ms = now_ms;
		return 0;
	}
	if (s[0] == '+') {
		if (tr_parse_duration_ms(s + 1, 366ULL * 24 * 3600 * 1000, &v))
			return TR_EINVALID;
		*out_ms = now_ms + (int64_t)v;
		return 0;
	}
	if (tr_parse_u64(s, 0, (uint64_t)INT64_MAX, &v) == 0) {
		*out_ms = (int64_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
		return TR_EINVALID;
	*out_ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}

int
tr_parse_hostport(const char *s, char *host, int hostcap, int *port)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	uint64_t p;

	if (colon == NULL || colon == s || colon - s >= hostcap)
		return TR_EINVALID;
	if (tr_parse_u64(colon + 1, 1, 65535, &p) != 0)
		return TR_EINVALID;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (int)p;
	return 0;
}
