/* tr_flag: flag values or a clear usage error. */
#include "tr_flag.h"

#include <stdio.h>
#include <stdlib.h>

#include "tr_parse.h"

static const char *program = "ticketrush";

void
tr_flag_program(const char *name)
{
	program = name;
}

void
tr_flag_die(const char *what, const char *arg)
{
	fprintf(stderr, "%s: invalid %s: %s\n", program, what, arg);
	exit(2);
}

uint64_t
tr_flag_u64(const char *what, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;
	if (tr_parse_u64(arg, min, max, &v) != 0)
		tr_flag_die(what, arg);
	return v;
}

int64_t
tr_flag_duration(const char *what, const char *arg, uint64_t min_ms,
    uint64_t max_ms)
{
	uint64_t v;
	if (tr_parse_duration_ms(arg, max_ms, &v) != 0 || v < min_ms)
		tr_flag_die(what, arg);
	return (int64_t)v;
}
