/* metrics: the gateway's counters and their Prometheus text rendering.
 * Each loop thread owns one tr_gw_metrics and is its only writer; the
 * scrape adds them up (relaxed atomics, so reading while others write is
 * defined). Pure: no I/O. */
#ifndef TR_GW_METRICS_H
#define TR_GW_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http_api.h"

#define TR_METRIC_LAT_BUCKETS 13

/* HTTP statuses counted one by one; the rest go to "other". */
#define TR_METRIC_STATUSES 13
extern const int tr_metric_statuses[TR_METRIC_STATUSES];

/* Upper bounds of the upstream latency buckets, in microseconds. */
extern const uint64_t tr_metric_lat_bounds_us[TR_METRIC_LAT_BUCKETS];

typedef struct tr_gw_metrics {
	atomic_ullong requests[TR_ROUTE_COUNT][TR_METRIC_STATUSES + 1];
	atomic_ullong lat_buckets[TR_METRIC_LAT_BUCKETS + 1]; /* +Inf last */
	atomic_ullong lat_sum_us, lat_count;
	atomic_ullong picks[TR_NODES_MAX];
	atomic_ullong soldout_hits;
	atomic_ullong fanout_retries;
	atomic_ullong shed_overloaded;
	atomic_ullong connections_refused;
	atomic_ullong connections;      /* open now (gauge) */
	atomic_ullong upstream_batches; /* nng messages sent */
	atomic_ullong upstream_ops;     /* operations they carried */
} tr_gw_metrics;

/* Count one answered request. */
void tr_metrics_request(tr_gw_metrics *m, enum tr_route_kind route,
    int status);
/* Count one upstream round trip of lat_us. */
void tr_metrics_upstream(tr_gw_metrics *m, uint64_t lat_us);

/* What the scrape needs besides the counters. */
typedef struct tr_metrics_nodes {
	int n;
	const char *id[TR_NODES_MAX];
	uint64_t inflight[TR_NODES_MAX];
	int up[TR_NODES_MAX];
} tr_metrics_nodes;

/* Render the sum of `count` metric sets as Prometheus text (format
 * 0.0.4) into buf. Returns the length, or 0 if cap is too small. */
size_t tr_metrics_render(char *buf, size_t cap, tr_gw_metrics *const *sets,
    int count, const tr_metrics_nodes *nodes);

#endif
