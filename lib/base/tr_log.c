/* tr_log: stderr logging, one write(2) per line. */
#include "tr_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "ticketrush";
static enum tr_log_level log_min = TR_LOG_INFO;

void
tr_log_init(const char *program, enum tr_log_level min_level)
{
	log_program = program;
	log_min = min_level;
}

int
tr_log_level_parse(const char *name)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void
tr_log(enum tr_log_level level, const char *fmt, ...)
{
	static const char *tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	char line[1024];
	struct timeval tv;
	struct tm tm;
	size_t n;
	va_list ap;

	if (level < log_min || level >= TR_LOG_OFF)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s[%d] ",
	    (long)(tv.tv_usec / 1000), tags[level], log_program,
	    (int)getpid());
	va_start(ap, fmt);
	if (n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
