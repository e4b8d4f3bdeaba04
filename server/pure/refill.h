/* refill: how much stock a node asks the coordinator for, and when.
 *
 * Pure policy. A node measures its rate of sale per event and asks for
 * enough to last `horizon_ms` at that rate, so a busy node refills rarely
 * and an idle one does not sit on tickets others could sell. It asks ahead
 * (prefetch) when what is left drops under a quarter of a batch, so that
 * requests rarely wait for a grant.
 */
#ifndef TR_REFILL_H
#define TR_REFILL_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tr_refill {
	uint64_t min_batch; /* default 8 */
	uint64_t max_batch; /* default 4096 */
	int64_t horizon_ms; /* default 250 */
	double rate_per_s;  /* smoothed reservations per second */
	uint64_t last_count;
	int64_t last_mono_ms;
} tr_refill;

void tr_refill_init(tr_refill *r, uint64_t min_batch, uint64_t max_batch,
    int64_t horizon_ms, int64_t now_mono_ms);

/* Feed the event's running count of reservations; call every tick or so.
 * The rate is smoothed over about one second, each measure taken over at
 * least 10 ms (a call sooner after the last one is folded into the
 * next). */
void tr_refill_observe(tr_refill *r, uint64_t reserved_count,
    int64_t now_mono_ms);

/* How many tickets to ask for in the next grant. */
uint64_t tr_refill_batch(const tr_refill *r);

/* Ask ahead when available drops to this or below. */
uint64_t tr_refill_low_water(const tr_refill *r);

/* Whether a lease untouched since last_reserve_mono_ms should go back to
 * the pool (idle for idle_ms; 0 disables). */
bool tr_refill_idle(int64_t last_reserve_mono_ms, int64_t now_mono_ms,
    int64_t idle_ms);

/* How recent the last reservation must be for a node to ask ahead. */
#define TR_REFILL_RECENT_MS 1000

/* Whether to ask ahead: the node sold within TR_REFILL_RECENT_MS (0: never
 * sold) and what is left is at the low water. A node that does not sell
 * an event never takes its stock, so a quiet node cannot sit on the last
 * tickets of an event that another node is selling. */
bool tr_refill_ask_ahead(const tr_refill *r, int64_t last_reserve_mono_ms,
    int64_t now_mono_ms, uint64_t available);

#endif
