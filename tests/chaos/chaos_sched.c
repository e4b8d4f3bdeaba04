/* chaos_sched: seeded fault schedules (see chaos_sched.h). */
#include "chaos_sched.h"

#include <stdio.h>
#include <string.h>

const char *const chaos_fault_name[CHAOS_KIND_COUNT] = {
    [CHAOS_NODE_KILL] = "node_kill",
    [CHAOS_NODE_PAUSE] = "node_pause",
    [CHAOS_REDIS_KILL] = "redis_kill",
    [CHAOS_REDIS_PAUSE] = "redis_pause",
    [CHAOS_GATEWAY_KILL] = "gateway_kill",
    [CHAOS_PARTITION] = "partition",
};

uint64_t
chaos_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t
chaos_rand_range(uint64_t *state, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(chaos_rand(state) % (uint64_t)(hi - lo + 1));
}

/* Targets: nodes 0..n-1, then Redis, then the gateway. */
#define TARGET_REDIS 100
#define TARGET_GATEWAY 101

static int
target_of(const chaos_fault *f)
{
	switch (f->kind) {
	case CHAOS_REDIS_KILL:
	case CHAOS_REDIS_PAUSE: return TARGET_REDIS;
	case CHAOS_GATEWAY_KILL: return TARGET_GATEWAY;
	default: return f->target;
	}
}

/* When the fault's target is back: never for a node killed for good. */
static int64_t
end_of(const chaos_fault *f)
{
	return f->duration_ms < 0 ? INT64_MAX : f->start_ms + f->duration_ms;
}

static bool
clashes(const chaos_sched *s, const chaos_fault *f)
{
	for (size_t i = 0; i < s->n; i++) {
		const chaos_fault *g = &s->faults[i];
		if (target_of(g) != target_of(f))
			continue;
		/* Half a second apart at least: a restarted process must be up
		 * before its next fault. (end_of may be INT64_MAX: compare
		 * without adding to it.) */
		if (f->start_ms - 500 < end_of(g) &&
		    g->start_ms - 500 < end_of(f))
			return true;
	}
	return false;
}

static void
draw(const chaos_sched_conf *c, uint64_t *rs, chaos_fault *f)
{
	/* Weights: node faults are the most common; a partition only where
	 * a node sits in its own network namespace. */
	static const int weight[CHAOS_KIND_COUNT] = {
	    [CHAOS_NODE_KILL] = 3,
	    [CHAOS_NODE_PAUSE] = 2,
	    [CHAOS_REDIS_KILL] = 2,
	    [CHAOS_REDIS_PAUSE] = 2,
	    [CHAOS_GATEWAY_KILL] = 1,
	    [CHAOS_PARTITION] = 2,
	};
	int sum = 0, pick;
	for (int k = 0; k < CHAOS_KIND_COUNT; k++)
		if (k != CHAOS_PARTITION || c->netns_node >= 0)
			sum += weight[k];
	pick = (int)chaos_rand_range(rs, 0, sum - 1);
	for (int k = 0; k < CHAOS_KIND_COUNT; k++) {
		if (k == CHAOS_PARTITION && c->netns_node < 0)
			continue;
		if ((pick -= weight[k]) < 0) {
			f->kind = (enum chaos_fault_kind)k;
			break;
		}
	}
	f->start_ms = chaos_rand_range(rs, 1000, c->load_ms - 2000);
	f->target = (int)chaos_rand_range(rs, 0, c->nodes - 1);
	switch (f->kind) {
	case CHAOS_NODE_KILL:
		/* One in five stays dead to the end of the run. */
		f->duration_ms = chaos_rand_range(rs, 0, 4) == 0
		    ? -1
		    : chaos_rand_range(rs, 300, 5000);
		break;
	case CHAOS_NODE_PAUSE:
		f->duration_ms =
		    c->liveness_ttl_ms + chaos_rand_range(rs, 300, 2500);
		break;
	case CHAOS_REDIS_KILL:
		f->duration_ms = chaos_rand_range(rs, 100, 2500);
		break;
	case CHAOS_REDIS_PAUSE:
		f->duration_ms = chaos_rand_range(rs, 200, 3000);
		break;
	case CHAOS_GATEWAY_KILL:
		f->duration_ms = chaos_rand_range(rs, 100, 2000);
		break;
	case CHAOS_PARTITION:
		f->target = c->netns_node;
		/* Shorter and longer than the liveness TTL. */
		f->duration_ms =
		    chaos_rand_range(rs, 500, c->liveness_ttl_ms * 2 + 1000);
		break;
	default: break;
	}
}

static int
killed_for_good(const chaos_sched *s)
{
	int n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->faults[i].kind == CHAOS_NODE_KILL &&
		    s->faults[i].duration_ms < 0;
	return n;
}

int
chaos_sched_make(const chaos_sched_conf *c, chaos_sched *out)
{
	uint64_t rs = c->seed ^ 0x5ca1ab1e0ddba11ULL;
	chaos_sched s;
	int want;

	if (c->load_ms < 4000 || c->nodes < 1 || c->nodes > 8 ||
	    c->liveness_ttl_ms < 1 || c->faults_min < 0 ||
	    c->faults_max < c->faults_min ||
	    c->faults_max > CHAOS_FAULTS_MAX || c->netns_node >= c->nodes)
		return -1;
	memset(&s, 0, sizeof(s));
	want = (int)chaos_rand_range(&rs, c->faults_min, c->faults_max);
	/* Bounded: a draw that clashes is dropped, at most 20 tries each. */
	for (int tries = 0; (int)s.n < want && tries < want * 20; tries++) {
		chaos_fault f = {0};
		draw(c, &rs, &f);
		/* At least one node lives to the end: with none, there is no
		 * sale left to check. */
		if (f.kind == CHAOS_NODE_KILL && f.duration_ms < 0 &&
		    killed_for_good(&s) + 1 >= c->nodes)
			f.duration_ms = chaos_rand_range(&rs, 300, 5000);
		if (!clashes(&s, &f))
			s.faults[s.n++] = f;
	}
	/* Sort by start (few faults: insertion sort). */
	for (size_t i = 1; i < s.n; i++)
		for (size_t j = i;
		     j > 0 && s.faults[j].start_ms < s.faults[j - 1].start_ms;
		     j--) {
			chaos_fault t = s.faults[j];
			s.faults[j] = s.faults[j - 1];
			s.faults[j - 1] = t;
		}
	*out = s;
	return 0;
}

size_t
chaos_sched_format(const chaos_sched *s, char *buf, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->n && n + 1 < cap; i++) {
		const chaos_fault *f = &s->faults[i];
		char target[16] = "";
		int w;
		if (f->kind != CHAOS_REDIS_KILL &&
		    f->kind != CHAOS_REDIS_PAUSE &&
		    f->kind != CHAOS_GATEWAY_KILL)
			snprintf(target, sizeof(target), " n%d",
			    f->target + 1);
		if (f->duration_ms < 0)
			w = snprintf(buf + n, cap - n,
			    "  %6.2fs %s%s, never "
			    "restarted\n",
			    (double)f->start_ms / 1000.0,
			    chaos_fault_name[f->kind], target);
		else
			w = snprintf(buf + n, cap - n,
			    "  %6.2fs %s%s for "
			    "%.2fs\n",
			    (double)f->start_ms / 1000.0,
			    chaos_fault_name[f->kind], target,
			    (double)f->duration_ms / 1000.0);
		if (w < 0)
			break;
		n += (size_t)w;
		if (n >= cap)
			n = cap - 1;
	}
	return n + 1;
}
