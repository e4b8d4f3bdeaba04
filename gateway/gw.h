/* gw: what trgate's parts share (server.c: HTTP on h2o and the request
 * logic; upstream.c: nng to the stock nodes; main.c: flags). Not a public
 * contract: only gateway/ includes it.
 *
 * Threads: N event-loop threads (h2o evloop each, SO_REUSEPORT listeners)
 * own their HTTP requests, their sold-out table, their metrics and, per
 * node, a lane: a raw nng REQ socket they drive themselves and a queue of
 * operations waiting to be batched. Answers never cross threads. The
 * weighted round-robin is shared under a mutex so that picks split
 * exactly by weight.
 */
#ifndef TR_GW_H
#define TR_GW_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fanout.h"
#include "http_api.h"
#include "metrics.h"
#include "soldout.h"
#include "ticketrush.pb-c.h"
#include "wrr.h"

#define GW_THREADS_MAX 64
#define GW_BATCH_LIMIT 256

typedef struct gw_conf {
	char listen_host[64];
	int listen_port;
	int threads; /* default: cores */
	struct {
		char id[TR_NODE_ID_MAX + 1];
		char url[256];
		int weight, max_fails;
		int64_t fail_timeout_ms;
	} nodes[TR_NODES_MAX];
	int nnodes;
	char default_event[TR_EVENT_ID_MAX + 1];
	int64_t upstream_timeout_ms; /* per nng round trip; default 3000:
	                              * above a node's longest answer (its
	                              * wait for stock, then a Redis call) */
	uint64_t max_inflight;       /* operations in flight per node; 4096 */
	int batch_max;               /* operations per nng message; 64 */
	int64_t batch_wait_ms;       /* how long the first op of a batch
	                              * waits for others; 0: end of the loop
	                              * turn; default 1 */
	int calls_per_node;          /* nng messages in flight per node per
	                              * thread; default 16 */
	int64_t soldout_ttl_ms;      /* default 100 */
	int max_connections;         /* all threads; default 10000 */
	int64_t request_timeout_ms;  /* reading a request, and keep-alive
	                              * idle; default 10000 */
} gw_conf;

struct gw_thread;

/* One stock node (each loop thread has its own socket to it). */
struct gw_node {
	int index;
	char id[TR_NODE_ID_MAX + 1];
	char url[256];
	atomic_int pipes;       /* connections up, all loops */
	atomic_ullong inflight; /* operations sent and not answered */
};

enum gw_op_kind {
	GW_OP_RESERVE,
	GW_OP_CONFIRM,
	GW_OP_RELEASE,
	GW_OP_GET,
	GW_OP_WL_JOIN,
	GW_OP_WL_GET,
	GW_OP_WL_LEAVE,
	GW_OP_REFUND,
};

/* Long polls of waitlist entries (GET ?wait=) waiting at once per thread;
 * past it the entry is answered at once. Each asks a node again every
 * GW_POLL_MS until the entry's state changes or its wait ends. */
#define GW_POLLS_MAX 4096
#define GW_POLL_MS 1000

/* Where a pending HTTP request lives; h2o's dispose hook clears it when
 * the client goes away, so an answer for a vanished client is dropped
 * instead of written into freed memory. */
struct gw_guard {
	h2o_req_t **slot;
};

/* GET /v1/events/{event}: one op per node adds into this. */
struct gw_sum {
	h2o_req_t *req;
	struct gw_guard *guard;
	int pending;
	tr_event_sum sum;
	enum tr_route_kind route;
};

/* One operation of one HTTP request, bound for one node at a time. */
struct gw_op {
	enum gw_op_kind kind;
	enum tr_route_kind route;
	struct gw_thread *t;
	h2o_req_t *req; /* NULL: client gone (or part of a sum) */
	struct gw_guard *guard;
	struct gw_sum *sum; /* GW_OP_GET */
	char event_id[TR_EVENT_ID_MAX + 1];
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	uint32_t qty;
	int node;      /* where it goes now */
	int home;      /* confirm, release: the node the
	                * reservation id names (-1: unknown) */
	tr_fanout fan; /* the nodes asked, and what they said */
	bool probe;    /* the sold-out cache's re-probe */
	/* A waitlist long poll: until when, the state first answered (0:
	 * none yet), and its timer between two asks. */
	int64_t wait_until_ms;
	int wl_state;
	h2o_timeout_entry_t poll_entry;
	struct gw_op *next;
};

/* One nng message to one node, carrying up to batch_max ops. */
struct gw_call {
	struct gw_thread *t;
	struct gw_node *node;
	uint32_t slot; /* index in its lane */
	uint32_t id;   /* request id in flight; 0: none */
	struct gw_op **ops;
	int n;
	int rv; /* 0, or TR_ETIMEDOUT / TR_EUNAVAILABLE */
	Ticketrush__Reply *reply;
	int64_t sent_us;
	h2o_timeout_entry_t timeout_entry;
	struct gw_call *next_free;
};

/* Per thread, per node: a raw REQ socket driven from the loop, what waits
 * to be sent, and the calls (free or in flight). */
struct gw_lane {
	struct gw_thread *t;
	int node;
	nng_socket sock;
	bool open;
	h2o_socket_t *watch;   /* nng's receive fd, watched not read */
	h2o_timeout_t timeout; /* upstream_timeout_ms */
	uint32_t generation;
	struct gw_op *head, *tail;
	int pending;
	struct gw_call *calls; /* calls_per_node of them */
	int ncalls;
	struct gw_call *free;
};

struct gw_thread {
	int index;
	struct gw *gw;
	pthread_t tid;
	int listen_fd;
	int started; /* 1 up, -1 failed (start_lock) */
	h2o_context_t ctx;
	h2o_accept_ctx_t accept_ctx;
	h2o_socket_t *listener;
	h2o_timeout_t flush_timeout; /* batch_wait_ms */
	h2o_timeout_t poll_timeout;  /* GW_POLL_MS */
	int polls;                   /* long polls waiting */
	h2o_timeout_entry_t flush_entry;
	struct gw_lane lanes[TR_NODES_MAX];
	int calls_in_flight;
	int connections;
	tr_soldout soldout;
	tr_gw_metrics metrics;
	uint64_t next_user;    /* /buy/ticket generated user ids */
	uint64_t next_request; /* generated request ids */
};

struct gw {
	gw_conf conf;
	h2o_globalconf_t h2o;
	struct gw_node nodes[TR_NODES_MAX];
	pthread_mutex_t wrr_lock;
	tr_wrr wrr;
	struct gw_thread threads[GW_THREADS_MAX];
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	atomic_bool stopping;
	uint64_t instance; /* random, for generated user ids */
};

/* upstream.c */
int gw_node_open(struct gw_node *n, const char *id, const char *url,
    int index);
/* On the loop thread: the lane's socket, its watch and its calls. */
int gw_lane_init(struct gw_thread *t, int node);
void gw_lane_fini(struct gw_thread *t, int node);
/* Pack the ops of call (already set) and send without blocking; the
 * answer (or the timeout) reaches gw_on_call_done on this loop. 0, or an
 * error with nothing in flight. */
int gw_call_send(struct gw_call *c);
/* After gw_on_call_done: forget the reply, the id and the timer. */
void gw_call_reset(struct gw_call *c);

/* server.c */
int gw_thread_start(struct gw *gw, int index, int listen_fd);
void gw_threads_join(struct gw *gw);
/* Called for each finished call on its loop thread. */
void gw_on_call_done(struct gw_call *c);
/* The h2o handler of every path. */
int gw_on_req(h2o_handler_t *self, h2o_req_t *req);

#endif
