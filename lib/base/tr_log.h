/* tr_log: one-line log records to stderr, with time, level and program. */
#ifndef TR_LOG_H
#define TR_LOG_H

/* TR_LOG_OFF prints nothing (fuzzing: a harness feeds the logging paths
 * millions of times). */
enum tr_log_level {
	TR_LOG_DEBUG,
	TR_LOG_INFO,
	TR_LOG_WARN,
	TR_LOG_ERROR,
	TR_LOG_OFF
};

/* Set the program name shown in every line and the lowest level printed.
 * Call once at start, before threads exist. */
void tr_log_init(const char *program, enum tr_log_level min_level);

/* Parse "debug" | "info" | "warn" | "error"; returns -1 if unknown. */
int tr_log_level_parse(const char *name);

/* Write one line. Thread-safe: a line is written with one write(2), so
 * lines from several threads never interleave. Lines longer than 1 KiB are
 * cut. */
void tr_log(enum tr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define tr_debug(...) tr_log(TR_LOG_DEBUG, __VA_ARGS__)
#define tr_info(...) tr_log(TR_LOG_INFO, __VA_ARGS__)
#define tr_warn(...) tr_log(TR_LOG_WARN, __VA_ARGS__)
#define tr_error(...) tr_log(TR_LOG_ERROR, __VA_ARGS__)

#endif
