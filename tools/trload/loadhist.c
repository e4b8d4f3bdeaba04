/* loadhist: log-linear latency histogram, percentiles and merge. */
#include "loadhist.h"

#include <string.h>

void
tl_hist_init(tl_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t
tl_hist_bucket_of(uint64_t v)
{
	int e;

	if (v < TL_HIST_EXACT)
		return (size_t)v;
	if (v >= TL_HIST_LIMIT)
		return TL_HIST_BUCKETS - 1;
	e = 63 - __builtin_clzll(v); /* 7 .. TL_HIST_LIMIT_BITS - 1 */
	return TL_HIST_EXACT + (size_t)(e - 7) * TL_HIST_SUB +
	    (size_t)((v >> (e - 6)) - TL_HIST_SUB);
}

void
tl_hist_bucket_range(size_t i, uint64_t *lo, uint64_t *hi)
{
	size_t k, e, sub;

	if (i < TL_HIST_EXACT) {
		*lo = *hi = i;
		return;
	}
	k = i - TL_HIST_EXACT;
	e = 7 + k / TL_HIST_SUB;
	sub = k % TL_HIST_SUB;
	*lo = (uint64_t)(TL_HIST_SUB + sub) << (e - 6);
	*hi = *lo + ((uint64_t)1 << (e - 6)) - 1;
}

void
tl_hist_record_n(tl_hist *h, uint64_t v, uint64_t n)
{
	uint64_t add;

	if (n == 0)
		return;
	h->buckets[tl_hist_bucket_of(v)] += n;
	h->count += n;
	/* Saturate: a mean that is too low beats one that wrapped to 0. */
	if (v != 0 && n > UINT64_MAX / v)
		add = UINT64_MAX;
	else
		add = v * n;
	h->sum = h->sum > UINT64_MAX - add ? UINT64_MAX : h->sum + add;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
tl_hist_record(tl_hist *h, uint64_t v)
{
	tl_hist_record_n(h, v, 1);
}

void
tl_hist_merge(tl_hist *dst, const tl_hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < TL_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum = dst->sum > UINT64_MAX - src->sum ? UINT64_MAX
	                                            : dst->sum + src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
tl_hist_percentile(const tl_hist *h, double p)
{
	uint64_t rank, seen = 0, lo, hi, mid;
	double want;

	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max;
	if (p <= 0.0)
		return h->min;
	/* Nearest-rank: the ceil(p% * count)-th value, 1-based. */
	want = p / 100.0 * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < TL_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		tl_hist_bucket_range(i, &lo, &hi);
		mid = lo + (hi - lo) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max; /* counts and buckets disagree: cannot happen */
}

double
tl_hist_mean(const tl_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
