/* refill: rate-adaptive grant sizes (exponentially smoothed rate). */
#include "refill.h"

#include <math.h>

#define RATE_TAU_MS 1000.0
/* The shortest window a rate is measured over. A sale a millisecond after
 * the event was attached is not a thousand a second: over so short a
 * window one sale would ask for the whole pool. */
#define RATE_WINDOW_MIN_MS 10

void
tr_refill_init(tr_refill *r, uint64_t min_batch, uint64_t max_batch,
    int64_t horizon_ms, int64_t now_mono_ms)
{
	r->min_batch = min_batch ? min_batch : 8;
	r->max_batch = max_batch >= r->min_batch ? max_batch : 4096;
	r->horizon_ms = horizon_ms > 0 ? horizon_ms : 250;
	r->rate_per_s = 0;
	r->last_count = 0;
	r->last_mono_ms = now_mono_ms;
}

void
tr_refill_observe(tr_refill *r, uint64_t reserved_count, int64_t now_mono_ms)
{
	int64_t dt = now_mono_ms - r->last_mono_ms;
	double inst, alpha;

	if (dt < RATE_WINDOW_MIN_MS)
		return; /* the next call measures over the longer window */
	if (reserved_count < r->last_count) /* reset: start over */
		r->last_count = reserved_count;
	inst = (double)(reserved_count - r->last_count) * 1000.0 / (double)dt;
	alpha = (double)dt / ((double)dt + RATE_TAU_MS);
	/* Rise at once, decay smoothly: a rush starts in a step and the first
	 * grants must keep up with it. */
	if (inst > r->rate_per_s)
		r->rate_per_s = inst;
	else
		r->rate_per_s += alpha * (inst - r->rate_per_s);
	r->last_count = reserved_count;
	r->last_mono_ms = now_mono_ms;
}

uint64_t
tr_refill_batch(const tr_refill *r)
{
	double want = ceil(r->rate_per_s * (double)r->horizon_ms / 1000.0);
	if (want < (double)r->min_batch)
		return r->min_batch;
	if (want > (double)r->max_batch)
		return r->max_batch;
	return (uint64_t)want;
}

uint64_t
tr_refill_low_water(const tr_refill *r)
{
	uint64_t lw = tr_refill_batch(r) / 4;
	return lw ? lw : 1;
}

bool
tr_refill_idle(int64_t last_reserve_mono_ms, int64_t now_mono_ms,
    int64_t idle_ms)
{
	return idle_ms > 0 && now_mono_ms - last_reserve_mono_ms >= idle_ms;
}

bool
tr_refill_ask_ahead(const tr_refill *r, int64_t last_reserve_mono_ms,
    int64_t now_mono_ms, uint64_t available)
{
	return last_reserve_mono_ms != 0 &&
	    now_mono_ms - last_reserve_mono_ms < TR_REFILL_RECENT_MS &&
	    available <= tr_refill_low_water(r);
}
