/* node_impl: what the parts of stockd share (serve.c, ops.c, coordloop.c,
 * node.c). Not a public contract: only server/ includes it.
 *
 * Threads: nng's callback threads run serve.c and ops.c; one coordinator
 * thread (coordloop.c) does every Redis call; one ticker thread expires
 * holds and times out waiters. All ledger state is under node->lock.
 */
#ifndef TR_NODE_IMPL_H
#define TR_NODE_IMPL_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdatomic.h>

#include "ledger.h"
#include "node.h"
#include "refill.h"
#include "ticketrush.pb-c.h"
#include "tr_coord.h"

struct srv_ctx;

/* One operation's answer: the reply and copies of every string it points
 * to, so that it can be packed after the lock is released (a hold may be
 * freed by then). */
struct slot {
	Ticketrush__Reply reply;
	Ticketrush__Hold hold;
	Ticketrush__Order order;
	Ticketrush__EventInfo event;
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char event_id[TR_EVENT_ID_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char node_id[TR_NODE_ID_MAX + 1];
	char state[16];
	char detail[192];
	struct srv_ctx *ctx;
};

enum ctx_state { CTX_INIT, CTX_RECV, CTX_SEND };

/* One nng context: serves one request at a time, start to end. */
struct srv_ctx {
	tr_node *node;
	nng_ctx ctx;
	nng_aio *aio;
	enum ctx_state state;
	bool admin;
	Ticketrush__Request *req;  /* until the reply is sent */
	struct slot *slots;        /* one per op */
	size_t nslots, slots_cap;
	Ticketrush__Reply **results; /* Batch: pointers into slots */
	Ticketrush__Reply top;       /* Batch: the envelope */
	Ticketrush__NodeStatus status;
	/* ListEvents: one extra slot per event, and the pointer array. */
	struct slot *extra;
	Ticketrush__EventInfo **events;
	size_t extra_cap;
	/* Ops still being answered + 1 while the handler runs; the one who
	 * brings it to 0 sends the reply. */
	atomic_int outstanding;
};

/* A reservation waiting for a grant. Strings point into the request, which
 * lives until its reply is sent. */
struct waiter {
	struct slot *slot;
	const char *user;
	const char *request_id;
	uint32_t qty;
	int64_t deadline_mono_ms;
};

/* The node's per-event state beside the ledger's (ev->user_data). */
struct ev_state {
	struct waiter *ring;
	size_t head, count, cap;
	bool grant_in_flight;
	bool give_back_in_flight;
	bool pool_empty;   /* the last grant/sync saw an empty pool */
	bool fenced;       /* epoch went stale: re-register pending */
	uint64_t pool_known, sold_known;
	int64_t global_at_ms;
	tr_refill refill;
	bool drain_announced; /* drained: waiters answered once */
};

enum job_kind {
	JOB_GRANT,
	JOB_CONFIRM,
	JOB_GIVE_BACK,
	JOB_RESOLVE,
	JOB_CREATE_EVENT,
	JOB_REGISTER,
};

/* One coordinator call and what to do with its answer. */
struct job {
	enum job_kind kind;
	struct job *next;
	tr_event *ev; /* events are never freed while the node runs */
	char event_id[TR_EVENT_ID_MAX + 1];
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	uint32_t qty;
	uint64_t n;
	tr_event_conf conf;  /* JOB_CREATE_EVENT */
	bool repair;         /* JOB_GIVE_BACK of tickets not in our lease */
	struct slot *slot;   /* to answer, or NULL */
	tr_call call;
};

/* Slots whose answer is ready, to finish once the lock is released. */
struct finish_list {
	struct slot **v;
	size_t n, cap;
};

struct tr_node {
	tr_node_conf conf;
	tr_event_conf *events_copy;
	tr_ledger *ledger;
	pthread_mutex_t lock; /* ledger and every ev_state */
	int64_t started_mono_ms;

	nng_socket data_sock, admin_sock;
	bool data_open, admin_open;
	struct srv_ctx *ctxs;
	size_t nctxs;

	/* Coordinator mode. */
	tr_coord *coord;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct job *qhead, *qtail;
	size_t qlen;
	pthread_t coord_thread, ticker_thread;
	bool threads_started;
	atomic_bool coord_up;
	/* Monotonic ms until which this node's liveness key surely exists:
	 * past it, its lease may have been reclaimed, so it stops selling. */
	atomic_llong lease_valid_until;

	atomic_bool stopping;  /* answer new requests UNAVAILABLE */
	atomic_bool quit;      /* threads exit */
	atomic_bool draining;
	atomic_int busy;       /* requests being answered */

	atomic_ullong reserves_ok, reserves_rejected, confirms_ok;
	atomic_ullong coord_calls;
};

/* serve.c */
int serve_start(tr_node *n, const char **why);
void serve_close(tr_node *n);
void serve_free(tr_node *n);
/* Mark one op answered; sends the reply when it was the last. */
void slot_finish(struct slot *s);
void finish_add(struct finish_list *f, struct slot *s);
void finish_all(struct finish_list *f);

/* ops.c */
/* Answer c->req: fills slots; some finish later (coordinator). */
void ops_handle(struct srv_ctx *c);
/* Answer every op of c->req with err (stopping, malformed). */
void ops_reply_all(struct srv_ctx *c, int err, const char *detail);
/* Coordinator answers (called by coordloop.c, lock held). */
void ops_job_done(tr_node *n, struct job *j, struct finish_list *f);
/* Periodic work under the lock (ticker): expiry, waiter timeouts,
 * prefetch, idle returns, drain. */
void ops_tick(tr_node *n, int64_t now_mono_ms, struct finish_list *f);
/* State for a newly known event (lock held). */
int ops_event_attach(tr_node *n, tr_event *ev);
/* Fill s with an event's info (lock held). */
void ops_fill_event(tr_node *n, struct slot *s, tr_event *ev);
/* The node (re)registered for ev with a fresh epoch (lock held). */
void evs_reset_after_register(tr_event *ev);
/* Apply the coordinator's view of ev from a sync (lock held): global
 * figures, a stale epoch (fence), a coordinator lease above ours (give the
 * difference back, so nothing stays stranded). */
void evs_apply_sync(tr_node *n, tr_event *ev, const tr_sync_info *si,
    struct finish_list *f);

/* coordloop.c */
int coordloop_start(tr_node *n);
void coordloop_stop(tr_node *n);
/* Queue a coordinator call. The job is the loop's on success; on
 * TR_EOVERLOADED (queue full) it stays the caller's. Lock may be held. */
int coord_submit(tr_node *n, struct job *j);
struct job *job_new(enum job_kind kind, tr_event *ev);

#endif
