/* tr_clock: the two clocks ticketrush reads, in milliseconds. */
#ifndef TR_CLOCK_H
#define TR_CLOCK_H

#include <stdint.h>

/* Monotonic time: for timeouts and hold expiry (never jumps). */
int64_t tr_mono_ms(void);

/* Monotonic time in microseconds, for latency measurement. */
int64_t tr_mono_us(void);

/* Wall-clock Unix time: for what users see (expires_at, confirmed_at). */
int64_t tr_wall_ms(void);

/* Sleep for ms milliseconds (restarts after signals). */
void tr_sleep_ms(int64_t ms);

#endif
