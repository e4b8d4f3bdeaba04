/* tr_parse: strict parsing of numbers, durations and times from flags. */
#ifndef TR_PARSE_H
#define TR_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a decimal unsigned integer in [min, max]. Whole string must be
 * digits. Returns 0 or TR_EINVALID (out untouched). */
int tr_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a duration: a number with unit ms, s, m or h ("250ms", "15m");
 * a bare number is milliseconds. Result in ms, at most max_ms. Returns 0 or
 * TR_EINVALID. */
int tr_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out_ms);

/* Parse a point in time to Unix ms: "now", "+DURATION" (from now_ms), a
 * Unix time in ms, or UTC "YYYY-MM-DDTHH:MM:SS[Z]". Returns 0 or
 * TR_EINVALID. */
int tr_parse_time_ms(const char *s, int64_t now_ms, int64_t *out_ms);

/* Split "host:port" (port 1-65535) into its parts; host must fit hostcap.
 * Returns 0 or TR_EINVALID. */
int tr_parse_hostport(const char *s, char *host, int hostcap, int *port);

#endif
