/* linecheck: order violations, return-to-offer times and unsold tickets of
 * the waitlist, from the coordinator's records and the event's samples. */
#include "linecheck.h"

#include <stdlib.h>
#include <string.h>

#include "tr_err.h"

/* Offers whose (clamped) time is before t_ms: the first index at or after
 * it in the non-decreasing times t[0..n). */
static size_t
offers_before(const int64_t *t, size_t n, int64_t t_ms)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid] < t_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
tl_line_order_check(const tl_offer *offers, size_t n, const tl_entry *entries,
    size_t m, tl_order_check *out)
{
	/* t: offer times made non-decreasing. later[k]: the smallest join
	 * number offered after offer k. gone[p]: the smallest join number
	 * of the entries without an offer that waited through offers
	 * 0 .. p-1 and no further (p == n: waiting still). */
	int64_t *t = malloc((n ? n : 1) * sizeof(*t));
	uint64_t *later = malloc((n ? n : 1) * sizeof(*later));
	uint64_t *gone = malloc((n + 1) * sizeof(*gone));
	tl_order_check r;
	uint64_t run;

	if (t == NULL || later == NULL || gone == NULL) {
		free(t), free(later), free(gone);
		return TR_ENOMEM;
	}
	memset(&r, 0, sizeof(r));
	r.offers = n;
	for (size_t k = 0; k < n; k++)
		t[k] = k > 0 && offers[k].offer_ms < t[k - 1]
		    ? t[k - 1]
		    : offers[k].offer_ms;
	run = UINT64_MAX;
	for (size_t k = n; k-- > 0;) {
		later[k] = run;
		if (offers[k].seq < run)
			run = offers[k].seq;
	}
	for (size_t p = 0; p <= n; p++)
		gone[p] = UINT64_MAX;
	for (size_t i = 0; i < m; i++) {
		const tl_entry *e = &entries[i];
		size_t p;
		if (e->offered)
			continue; /* the log has it */
		if (e->state == 'W') {
			p = n;
			r.waiting++;
		} else if (e->state == 'L' || e->state == 'S') {
			p = offers_before(t, n, e->t_ms);
		} else {
			continue; /* 'O', 'C', 'X' without an offer */
		}
		if (e->seq < gone[p])
			gone[p] = e->seq;
	}
	/* Walk the offers backwards, keeping the smallest join number of
	 * the entries that still waited at offer k (those with p > k). */
	run = UINT64_MAX;
	for (size_t k = n; k-- > 0;) {
		uint64_t waiting;
		if (gone[k + 1] < run)
			run = gone[k + 1];
		waiting = run < later[k] ? run : later[k];
		if (waiting < offers[k].seq) {
			r.violations++;
			/* Backwards: the last one set is the first. */
			r.first_index = k;
			r.first_offer_seq = offers[k].seq;
			r.first_waiting_seq = waiting;
		}
	}
	free(t), free(later), free(gone);
	*out = r;
	return 0;
}

void
tl_line_return_times(const tl_offer *offers, size_t n, tl_hist *h)
{
	for (size_t k = 0; k < n; k++) {
		int64_t d;
		const tl_offer *o = &offers[k];
		if (__builtin_sub_overflow(o->offer_ms, o->ret_ms, &d) ||
		    d < 0)
			d = 0;
		tl_hist_record(h, (uint64_t)d);
	}
}

int64_t
tl_line_unsold_while_waiting(const tl_line_sample *s, size_t n,
    int64_t grace_ms)
{
	int64_t worst = 0, lasted;
	size_t start = 0;
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (s[i].waiting <= 0 || s[i].pool <= 0) {
			in = false;
			continue;
		}
		if (!in) {
			in = true;
			start = i;
		}
		/* Samples may come from a file: no signed overflow. */
		if (__builtin_sub_overflow(s[i].t_ms, s[start].t_ms, &lasted))
			lasted = s[i].t_ms > s[start].t_ms ? INT64_MAX : 0;
		if (lasted >= grace_ms && s[i].pool > worst)
			worst = s[i].pool;
	}
	return worst;
}
