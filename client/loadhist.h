/* loadhist: a latency histogram with log-linear buckets (pure, no I/O). */
#ifndef TR_LOADHIST_H
#define TR_LOADHIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Values (microseconds in trload, but any unsigned count works) below
 * TR_HIST_EXACT land in a bucket of their own; above, every power of two is
 * cut into TR_HIST_SUB equal buckets, so a bucket is at most 1/64 (1.6 %)
 * of its values wide. Values at or above TR_HIST_LIMIT are kept in the top
 * bucket (and in max). 2^40 us is 12.7 days: no request of a bounded run
 * comes near it.
 *
 * The struct is public so a histogram can be embedded (per thread, per
 * phase) without an allocation; treat the fields as read-only outside this
 * module, except that a loader may restore min, max and sum after
 * tr_hist_record_n (report.c does, to round-trip a histogram through JSON).
 */
#define TR_HIST_EXACT 128
#define TR_HIST_SUB 64
#define TR_HIST_LIMIT_BITS 40
#define TR_HIST_LIMIT ((uint64_t)1 << TR_HIST_LIMIT_BITS)
#define TR_HIST_BUCKETS \
	(TR_HIST_EXACT + (TR_HIST_LIMIT_BITS - 7) * TR_HIST_SUB)

typedef struct tr_hist {
	uint64_t count;
	uint64_t sum;  /* saturates at UINT64_MAX instead of wrapping */
	uint64_t min;  /* UINT64_MAX while empty */
	uint64_t max;
	uint64_t buckets[TR_HIST_BUCKETS];
} tr_hist;

/* Make h empty. */
void tr_hist_init(tr_hist *h);

/* Count one value. O(1), no allocation. */
void tr_hist_record(tr_hist *h, uint64_t v);

/* Count n copies of v (n may be 0: then nothing changes). */
void tr_hist_record_n(tr_hist *h, uint64_t v, uint64_t n);

/* Add every count of src into dst (src unchanged). Merging per-thread
 * histograms gives exactly the histogram of all their values. */
void tr_hist_merge(tr_hist *dst, const tr_hist *src);

/* The value at percentile p (0 < p <= 100): the smallest recorded bucket
 * such that at least p % of the values are at or below it, reported as the
 * bucket's midpoint clamped into [min, max] (exact below TR_HIST_EXACT;
 * within 1.6 % above). p >= 100 gives max exactly. 0 if empty. */
uint64_t tr_hist_percentile(const tr_hist *h, double p);

/* Mean of the recorded values, 0 if empty. */
double tr_hist_mean(const tr_hist *h);

/* The bucket that holds v, and the range [lo, hi] of values of bucket i
 * (i < TR_HIST_BUCKETS). */
size_t tr_hist_bucket_of(uint64_t v);
void tr_hist_bucket_range(size_t i, uint64_t *lo, uint64_t *hi);

#endif
