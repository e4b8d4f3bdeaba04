/* tr_flag: strict command-line values for the programs' mains. On a bad
 * value they print "PROGRAM: invalid WHAT: ARG" and exit with status 2
 * (usage error), so a main reads as a plain list of options. */
#ifndef TR_FLAG_H
#define TR_FLAG_H

#include <stdint.h>

/* The program name used in messages (set once in main). */
void tr_flag_program(const char *name);

/* Print the usage error and exit(2). */
void tr_flag_die(const char *what, const char *arg) __attribute__((noreturn));

/* A decimal integer in [min, max]. */
uint64_t tr_flag_u64(const char *what, const char *arg, uint64_t min,
    uint64_t max);

/* A duration ("250ms", "15m") in [min_ms, max_ms], in ms. */
int64_t tr_flag_duration(const char *what, const char *arg, uint64_t min_ms,
    uint64_t max_ms);

#endif
