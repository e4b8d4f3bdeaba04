/* loadhist: a latency histogram with log-linear buckets (pure, no I/O). */
#ifndef TL_LOADHIST_H
#define TL_LOADHIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Values (microseconds in trload, but any unsigned count works) below
 * TL_HIST_EXACT land in a bucket of their own; above, every power of two is
 * cut into TL_HIST_SUB equal buckets, so a bucket is at most 1/64 (1.6 %)
 * of its values wide. Values at or above TL_HIST_LIMIT are kept in the top
 * bucket (and in max). 2^40 us is 12.7 days: no request of a bounded run
 * comes near it.
 *
 * The struct is public so a histogram can be embedded (per thread, per
 * phase) without an allocation; treat the fields as read-only outside this
 * module, except that a loader may restore min, max and sum after
 * tl_hist_record_n (report.c does, to round-trip a histogram through JSON).
 */
#define TL_HIST_EXACT 128
#define TL_HIST_SUB 64
#define TL_HIST_LIMIT_BITS 40
#define TL_HIST_LIMIT ((uint64_t)1 << TL_HIST_LIMIT_BITS)
#define TL_HIST_BUCKETS                                                       \
	(TL_HIST_EXACT + (TL_HIST_LIMIT_BITS - 7) * TL_HIST_SUB)

typedef struct tl_hist {
	uint64_t count;
	uint64_t sum; /* saturates at UINT64_MAX instead of wrapping */
	uint64_t min; /* UINT64_MAX while empty */
	uint64_t max;
	uint64_t buckets[TL_HIST_BUCKETS];
} tl_hist;

/* Make h empty. */
void tl_hist_init(tl_hist *h);

/* Count one value. O(1), no allocation. */
void tl_hist_record(tl_hist *h, uint64_t v);

/* Count n copies of v (n may be 0: then nothing changes). */
void tl_hist_record_n(tl_hist *h, uint64_t v, uint64_t n);

/* Add every count of src into dst (src unchanged). Merging per-thread
 * histograms gives exactly the histogram of all their values. */
void tl_hist_merge(tl_hist *dst, const tl_hist *src);

/* The value at percentile p (0 < p <= 100): the smallest recorded bucket
 * such that at least p % of the values are at or below it, reported as the
 * bucket's midpoint clamped into [min, max] (exact below TL_HIST_EXACT;
 * within 1.6 % above). p >= 100 gives max exactly. 0 if empty. */
uint64_t tl_hist_percentile(const tl_hist *h, double p);

/* Mean of the recorded values, 0 if empty. */
double tl_hist_mean(const tl_hist *h);

/* The bucket that holds v, and the range [lo, hi] of values of bucket i
 * (i < TL_HIST_BUCKETS). */
size_t tl_hist_bucket_of(uint64_t v);
void tl_hist_bucket_range(size_t i, uint64_t *lo, uint64_t *hi);

#endif
