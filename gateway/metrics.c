/* metrics: counters and Prometheus text. */
#include "metrics.h"

#include "tr_buf.h"

#include <inttypes.h>
#include <stdio.h>

const int tr_metric_statuses[TR_METRIC_STATUSES] = {200, 201, 400, 403, 404,
    405, 409, 410, 413, 431, 500, 503, 504};

const uint64_t tr_metric_lat_bounds_us[TR_METRIC_LAT_BUCKETS] = {100, 250, 500,
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000};

#define RELAXED memory_order_relaxed

void
tr_metrics_request(tr_gw_metrics *m, enum tr_route_kind route, int status)
{
	int slot = TR_METRIC_STATUSES;
	for (int i = 0; i < TR_METRIC_STATUSES; i++)
		if (tr_metric_statuses[i] == status)
			slot = i;
	atomic_fetch_add_explicit(&m->requests[route][slot], 1, RELAXED);
}

void
tr_metrics_upstream(tr_gw_metrics *m, uint64_t lat_us)
{
	int b = TR_METRIC_LAT_BUCKETS;
	for (int i = 0; i < TR_METRIC_LAT_BUCKETS; i++) {
		if (lat_us <= tr_metric_lat_bounds_us[i]) {
			b = i;
			break;
		}
	}
	atomic_fetch_add_explicit(&m->lat_buckets[b], 1, RELAXED);
	atomic_fetch_add_explicit(&m->lat_sum_us, lat_us, RELAXED);
	atomic_fetch_add_explicit(&m->lat_count, 1, RELAXED);
}

#define SUM(field)                                                            \
	({                                                                    \
		uint64_t s_ = 0;                                              \
		for (int k_ = 0; k_ < count; k_++)                            \
			s_ +=                                                 \
			    atomic_load_explicit(&sets[k_]->field, RELAXED);  \
		s_;                                                           \
	})

size_t
tr_metrics_render(char *buf, size_t cap, tr_gw_metrics *const *sets, int count,
    const tr_metrics_nodes *nodes)
{
	tr_buf o;
	uint64_t cum = 0;

	tr_buf_init(&o, buf, cap);

	tr_buf_printf(&o,
	    "# HELP trgate_requests_total HTTP requests answered, by "
	    "route and status.\n# TYPE trgate_requests_total counter\n");
	for (int r = 0; r < TR_ROUTE_COUNT; r++) {
		for (int s = 0; s <= TR_METRIC_STATUSES; s++) {
			uint64_t v = SUM(requests[r][s]);
			if (v == 0)
				continue;
			if (s < TR_METRIC_STATUSES)
				tr_buf_printf(&o,
				    "trgate_requests_total{route=\"%s\","
				    "status=\"%d\"} %" PRIu64 "\n",
				    tr_route_name[r], tr_metric_statuses[s],
				    v);
			else
				tr_buf_printf(&o,
				    "trgate_requests_total{route=\"%s\","
				    "status=\"other\"} %" PRIu64 "\n",
				    tr_route_name[r], v);
		}
	}
	tr_buf_printf(&o,
	    "# HELP trgate_upstream_latency_seconds Round trips to stock "
	    "nodes (one per nng message).\n"
	    "# TYPE trgate_upstream_latency_seconds histogram\n");
	for (int b = 0; b < TR_METRIC_LAT_BUCKETS; b++) {
		cum += SUM(lat_buckets[b]);
		tr_buf_printf(&o,
		    "trgate_upstream_latency_seconds_bucket{le=\"%g\"} "
		    "%" PRIu64 "\n",
		    (double)tr_metric_lat_bounds_us[b] / 1e6, cum);
	}
	cum += SUM(lat_buckets[TR_METRIC_LAT_BUCKETS]);
	tr_buf_printf(&o,
	    "trgate_upstream_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64
	    "\n",
	    cum);
	tr_buf_printf(&o, "trgate_upstream_latency_seconds_sum %.6f\n",
	    (double)SUM(lat_sum_us) / 1e6);
	tr_buf_printf(&o,
	    "trgate_upstream_latency_seconds_count %" PRIu64 "\n",
	    SUM(lat_count));
	tr_buf_printf(&o,
	    "# HELP trgate_node_picks_total Operations sent to each node "
	    "(weighted round-robin picks, fan-out and routed confirms).\n"
	    "# TYPE trgate_node_picks_total counter\n");
	for (int i = 0; i < nodes->n; i++)
		tr_buf_printf(&o,
		    "trgate_node_picks_total{node=\"%s\"} %" PRIu64 "\n",
		    nodes->id[i], SUM(picks[i]));
	tr_buf_printf(&o,
	    "# HELP trgate_node_inflight Operations in flight to each "
	    "node.\n# TYPE trgate_node_inflight gauge\n");
	for (int i = 0; i < nodes->n; i++)
		tr_buf_printf(&o,
		    "trgate_node_inflight{node=\"%s\"} %" PRIu64 "\n",
		    nodes->id[i], nodes->inflight[i]);
	tr_buf_printf(&o,
	    "# HELP trgate_node_up Whether a node is picked (connected, "
	    "not failed out).\n# TYPE trgate_node_up gauge\n");
	for (int i = 0; i < nodes->n; i++)
		tr_buf_printf(&o, "trgate_node_up{node=\"%s\"} %d\n",
		    nodes->id[i], nodes->up[i]);
	tr_buf_printf(&o,
	    "# HELP trgate_soldout_cache_hits_total Reservations answered "
	    "sold out by the gateway's cache.\n"
	    "# TYPE trgate_soldout_cache_hits_total counter\n"
	    "trgate_soldout_cache_hits_total %" PRIu64 "\n",
	    SUM(soldout_hits));
	tr_buf_printf(&o,
	    "# HELP trgate_fanout_retries_total Reservations retried on "
	    "another node after a sold-out or failed node.\n"
	    "# TYPE trgate_fanout_retries_total counter\n"
	    "trgate_fanout_retries_total %" PRIu64 "\n",
	    SUM(fanout_retries));
	tr_buf_printf(&o,
	    "# HELP trgate_shed_total Requests answered 503 at the "
	    "in-flight bound.\n# TYPE trgate_shed_total counter\n"
	    "trgate_shed_total %" PRIu64 "\n",
	    SUM(shed_overloaded));
	tr_buf_printf(&o,
	    "# HELP trgate_upstream_messages_total nng messages sent to "
	    "nodes, and the operations they carried.\n"
	    "# TYPE trgate_upstream_messages_total counter\n"
	    "trgate_upstream_messages_total %" PRIu64 "\n"
	    "# TYPE trgate_upstream_ops_total counter\n"
	    "trgate_upstream_ops_total %" PRIu64 "\n",
	    SUM(upstream_batches), SUM(upstream_ops));
	tr_buf_printf(&o,
	    "# HELP trgate_connections Open client connections.\n"
	    "# TYPE trgate_connections gauge\ntrgate_connections %" PRIu64 "\n"
	    "# HELP trgate_connections_refused_total Connections closed at "
	    "the connection limit.\n"
	    "# TYPE trgate_connections_refused_total counter\n"
	    "trgate_connections_refused_total %" PRIu64 "\n",
	    SUM(connections), SUM(connections_refused));
	return tr_buf_len(&o);
}
