/* chaos_sched: the seeded schedule of faults of one chaos run.
 *
 * Pure: the same seed and sizes give the same schedule, so a failing run
 * is replayed with `scripts/chaos --seed S`. A schedule is a list of
 * faults, each with a start, a duration and a target; faults may overlap
 * in time, never on one target (a node is not paused while it is dead),
 * Redis has at most one fault at a time, and at least one node is never
 * killed for good.
 */
#ifndef CHAOS_SCHED_H
#define CHAOS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum chaos_fault_kind {
	CHAOS_NODE_KILL,    /* kill -9 a stock node; restart it later, or
	                     * never (restart_ms < 0) */
	CHAOS_NODE_PAUSE,   /* SIGSTOP a stock node past its liveness TTL,
	                     * then SIGCONT */
	CHAOS_REDIS_KILL,   /* kill -9 Redis, restart it from its AOF */
	CHAOS_REDIS_PAUSE,  /* SIGSTOP Redis (the coordinator stalls) */
	CHAOS_GATEWAY_KILL, /* kill -9 the gateway, restart it */
	CHAOS_PARTITION,    /* cut the network-namespaced node off (link
	                     * down), then heal */
	CHAOS_KIND_COUNT
};

extern const char *const chaos_fault_name[CHAOS_KIND_COUNT];

typedef struct chaos_fault {
	enum chaos_fault_kind kind;
	int target;          /* node index for node faults and partition */
	int64_t start_ms;    /* from the start of the load */
	int64_t duration_ms; /* until healed; < 0: never (node kill) */
} chaos_fault;

#define CHAOS_FAULTS_MAX 16

typedef struct chaos_sched_conf {
	uint64_t seed;
	int64_t load_ms;         /* faults start within [1 s, load_ms - 2 s] */
	int nodes;               /* 1..8 */
	int64_t liveness_ttl_ms; /* pauses outlast it */
	int netns_node;          /* node index that can be partitioned, or
	                          * -1: no partition faults */
	int faults_min, faults_max;
} chaos_sched_conf;

typedef struct chaos_sched {
	chaos_fault faults[CHAOS_FAULTS_MAX];
	size_t n;
} chaos_sched;

/* Make the schedule of conf (faults sorted by start). Returns 0, or -1 if
 * conf is out of range (out untouched). */
int chaos_sched_make(const chaos_sched_conf *conf, chaos_sched *out);

/* One line per fault into buf ("  3.20s node_kill n2 for 4.10s"); the
 * length written (cut to cap, NUL included). */
size_t chaos_sched_format(const chaos_sched *s, char *buf, size_t cap);

/* A small deterministic generator (splitmix64), for the schedule and for
 * the buyers' choices. */
uint64_t chaos_rand(uint64_t *state);
/* Uniform in [lo, hi]. */
int64_t chaos_rand_range(uint64_t *state, int64_t lo, int64_t hi);

#endif
