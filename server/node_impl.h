/* node_impl: what the parts of stockd share. Not a public contract: only
 * server/ includes it.
 *
 *   serve.c      nng sockets and contexts: a request in, a reply out
 *   ops.c        the data operations, under the node lock: input checks,
 *                reservations, confirm, release, reads
 *   waiters.c    reservations waiting for stock (a grant in flight)
 *   admin.c      the admin calls (create, status, list, drain, top up,
 *                close and reopen a sale)
 *   ticker.c     the ticker's work (expiry, waiter timeouts, prefetch,
 *                idle returns)
 *   reply.c      filling the protobuf answers
 *   jobs.c       coordinator calls: what starts them (grants, hold and
 *                expire batches, give-backs, lookups of unknown events)
 *                and what their answers do
 *   coordloop.c  the coordinator thread (every Redis call, pipelined; the
 *                liveness claim, sync of busy events, the sweeper) and
 *                the ticker thread
 *   node.c       start and stop
 *
 * Threads: nng's callback threads run serve.c, ops.c and admin.c; one
 * coordinator thread does every Redis call; one ticker thread runs every 10
 * ms. All ledger state and every ev_state is under node->lock, held for
 * microseconds and never across I/O.
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

/* Reservations recorded, or holds paid for, in one hold or confirm call. */
#define HOLD_BATCH_MAX 256
#define CONFIRM_BATCH_MAX 256
/* Due holds ended in one expire call. */
#define EXPIRE_BATCH_MAX 256
/* A hold past its deadline by this much is ended by any node's sweep
 * (its own node normally ends it at the deadline). */
#define EXPIRE_GRACE_MS 1000
/* Ended holds are remembered in the coordinator this long (a late confirm
 * answers EXPIRED, not NOT_FOUND), pruned up to EXPIRE_PRUNE_MAX per sweep
 * per event. */
#define ENDED_KEEP_MS (3600 * 1000)
#define EXPIRE_PRUNE_MAX 1000
#define EXPIRE_DUE_MAX 1000
/* Unknown events: looked up in the coordinator at most LOOKUPS_MAX at once;
 * after LOOKUP_MISSES_PER_S lookups that found nothing within a second, no
 * new one starts until the next second, and "no such event" is remembered
 * for LOOKUP_MISS_MS (LOOKUP_MISS_MAX ids): a flood of made-up event ids
 * costs a few Redis calls a second, while real events (a restarted node
 * meeting hundreds of them) are all looked up. */
#define LOOKUPS_MAX 64
#define LOOKUP_MISSES_PER_S 20
#define LOOKUP_MISS_MS 1000
#define LOOKUP_MISS_MAX 256
/* An event is busy on a node, and synced every --sync, while the node has
 * a lease, holds (its own, or Redis says so), waiters or batches in it, or
 * a request touched it within BUSY_MS. Quiet events cost nothing. */
#define BUSY_MS 2000
/* The node answers "sold out" from memory only while what it knows of the
 * pool is this fresh; older, it asks (a grant), which also wakes the
 * event up. */
#define POOL_FRESH_MS 1000
/* The sweeper (its role's lease: TR_SWEEPER_LEASE_SWEEPS, node.h) also
 * passes slowly over every event, SWEEP_SCAN_PER_S events a second
 * (ended holds pruned, overdue ones ended: the safety net of events no
 * node is busy with; a pass over 10,000 events takes ~17 minutes, well
 * within the hour ended records are kept). */
#define SWEEP_SCAN_PER_S 10

struct srv_ctx;

/* One operation's answer: the reply and copies of every string it points
 * to, so that it can be packed after the lock is released (a hold may be
 * freed by then). */
struct slot {
	Ticketrush__Reply reply;
	Ticketrush__Hold hold;
	Ticketrush__Order order;
	Ticketrush__EventInfo event;
	Ticketrush__WaitlistEntry wl_entry;
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char event_id[TR_EVENT_ID_MAX + 1];
	char request_id[TR_REQUEST_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	char node_id[TR_NODE_ID_MAX + 1];
	char state[16];
	char detail[256];
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
	Ticketrush__Request *req; /* until the reply is sent */
	Ticketrush__Op single;    /* a request of one op, as an Op */
	struct slot *slots;       /* one per op */
	size_t nslots, slots_cap;
	Ticketrush__Reply **results; /* Batch: pointers into slots */
	Ticketrush__Reply top;       /* Batch: the envelope */
	Ticketrush__NodeStatus status;
	/* WaitlistShow (admin): its answer, allocated when first used. */
	struct wl_show_out *wl_show;
	/* ListEvents: one extra slot per event, and the pointer array. */
	struct slot *extra;
	Ticketrush__EventInfo **events;
	size_t extra_cap;
	/* Ops still being answered + 1 while the handler runs; the one who
	 * brings it to 0 sends the reply. */
	atomic_int outstanding;
	/* An offline node's context (no socket): the packed reply is kept
	 * here instead of sent. */
	bool offline;
	nng_msg *offline_reply;
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
	bool pool_empty; /* the last grant/sync saw an empty pool */
	bool fenced;     /* epoch went stale: re-register pending */
	/* The sale is closed, as the coordinator last said (register, sync,
	 * close/reopen through this node, a hold call's answer): new
	 * reservations are refused here without a Redis call. The hold script
	 * refuses them anyway; this only spares Redis the flood. */
	bool closed;
	uint64_t pool_known, sold_known, held_known;
	int64_t global_at_ms;  /* wall clock, for readers */
	int64_t known_mono_ms; /* when pool_known was learnt */
	int64_t touch_mono_ms; /* the last request about the event */
	uint64_t redis_held;   /* this node's holds, as Redis counts */
	/* The waitlist, as of the last sync: buyers waiting, live offers.
	 * While either is not 0 the node stays busy with the event (offers
	 * expire through the sync); while buyers wait, returned tickets are
	 * theirs: the node sells nothing and gives its free lease back. */
	uint64_t line, offers;
	tr_refill refill;
	bool drain_announced; /* drained: waiters answered once */
	/* The open batches: admitted reservations, confirms and due holds
	 * queue here until the coordinator thread takes the job (it seals it
	 * then). */
	struct job *hold_job;
	struct job *confirm_job;
	struct job *expire_job;
};

enum job_kind {
	JOB_GRANT,
	JOB_HOLD,
	JOB_CONFIRM,
	JOB_RELEASE,
	JOB_EXPIRE,
	JOB_GIVE_BACK,
	JOB_CREATE_EVENT,
	JOB_REGISTER, /* again, after a fence */
	JOB_LOOKUP,   /* an event this node does not know */
	JOB_WAITLIST, /* a waitlist call or a refund, for one slot */
	JOB_TOPUP,    /* admin: add stock (j->n) */
	JOB_CLOSE,    /* admin: close (j->n 1) or reopen (0) the sale */
};

/* A reservation admitted from the lease, in a hold job. */
struct hold_item {
	struct slot *slot;
	const char *user;       /* into the request */
	const char *request_id; /* into the request */
	uint32_t qty;
	uint64_t epoch; /* the event's when admitted */
	char rid[TR_RID_MAX + 1];
	int sent; /* index in the call, or -1: not sent */
};

/* A confirm, in a confirm job. */
struct confirm_item {
	struct slot *slot;
	char rid[TR_RID_MAX + 1];
	char user[TR_USER_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
	int sent; /* index in the call, or -1: not sent */
};

/* A due hold, in an expire job. */
struct expire_item {
	char rid[TR_RID_MAX + 1];
	uint32_t qty;
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
	uint64_t n;
	uint64_t epoch;     /* the event's when the job was made */
	tr_event_conf conf; /* JOB_CREATE_EVENT */
	struct slot *slot;  /* to answer, or NULL */
	/* JOB_HOLD, JOB_CONFIRM, JOB_EXPIRE: the batch (items grow until
	 * sealed). */
	void *items;
	size_t nitems, items_cap;
	bool sealed;
	tr_call call;
};

/* Slots whose answer is ready, to finish once the lock is released. */
struct finish_list {
	struct slot **v;
	size_t n, cap;
};

/* An op waiting for the lookup of an event the node does not know. */
struct parked {
	struct slot *slot;
	const Ticketrush__Op *op;
	struct parked *next;
};

struct lookup {
	bool in_use;
	char id[TR_EVENT_ID_MAX + 1];
	struct parked *head, *tail;
};

struct lookup_miss {
	char id[TR_EVENT_ID_MAX + 1];
	int64_t until_mono_ms;
};

struct tr_node {
	tr_node_conf conf;
	tr_event_conf *events_copy;
	tr_ledger *ledger;
	pthread_mutex_t lock; /* ledger, every ev_state, the lookups */
	int64_t started_mono_ms;
	char instance[17]; /* random id of this process (liveness claim) */

	nng_socket data_sock, admin_sock;
	bool data_open, admin_open;
	struct srv_ctx *ctxs;
	size_t nctxs;
	bool offline; /* tr_node_open_offline: no sockets, no threads */

	/* Coordinator mode. */
	tr_coord *coord;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct job *qhead, *qtail;
	size_t qlen;
	pthread_t coord_thread, ticker_thread;
	bool threads_started;
	atomic_bool coord_up;
	/* This process holds its node id's liveness claim (heartbeat
	 * succeeded since it last connected). */
	atomic_bool claimed;
	/* Monotonic ms until which this node's liveness key surely exists
	 * and its epochs were checked since it last connected: past it, its
	 * lease may have been reclaimed, so it stops selling. */
	atomic_llong lease_valid_until;

	/* Unknown events (under lock). */
	struct lookup lookups[LOOKUPS_MAX];
	struct lookup_miss misses[LOOKUP_MISS_MAX];
	size_t misses_next;
	int64_t lookup_window_ms;
	int misses_in_window;
	size_t parked;

	atomic_bool stopping; /* answer new requests UNAVAILABLE */
	atomic_bool quit;     /* threads exit */
	atomic_bool draining;
	atomic_int busy; /* requests being answered */

	atomic_ullong reserves_ok, reserves_rejected, confirms_ok;
	/* Confirms recorded but answered UNAVAILABLE: fewer replicas than
	 * --confirm-replicas acknowledged within --confirm-wait. */
	atomic_ullong confirms_unreplicated;
	atomic_ullong coord_calls;
};

/* serve.c */
int serve_start(tr_node *n, const char **why);
void serve_close(tr_node *n);
void serve_free(tr_node *n);
/* Offline nodes: a data and an admin context without sockets; then one
 * message at a time through the handling of a received one (see
 * tr_node_handle_offline for the returns). */
int serve_start_offline(tr_node *n);
int serve_offline(tr_node *n, bool admin, const void *msg, size_t len,
    void **reply, size_t *reply_len);
/* Mark one op answered; sends the reply when it was the last. */
void slot_finish(struct slot *s);
void finish_add(struct finish_list *f, struct slot *s);
void finish_all(struct finish_list *f);

/* reply.c: filling answers (lock held when a hold or event is read) */
void answer(struct slot *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void fill_hold_fields(struct slot *s, const char *rid, const char *event_id,
    const char *user, const char *request_id, uint32_t qty, int state,
    int64_t expires_at_ms);
void fill_hold(struct slot *s, const tr_hold *h);
void fill_order_fields(struct slot *s, const char *rid, const char *event_id,
    const char *user, const char *request_id, uint32_t qty,
    const char *payment_ref, int64_t confirmed_at_ms, const char *node);
void fill_order(struct slot *s, const tr_hold *h, const char *node);
void ops_fill_event(tr_node *n, struct slot *s, tr_event *ev);

/* An event's node-side state (ops_event_attach made it). */
static inline struct ev_state *
evs_of(tr_event *ev)
{
	return ev->user_data;
}

/* ops.c: the data operations */
/* Answer c->req: fills slots; some finish later (coordinator). */
void ops_handle(struct srv_ctx *c);
/* Answer every op of c->req with err (stopping, malformed). */
void ops_reply_all(struct srv_ctx *c, int err, const char *detail);
/* Run one checked data op under the lock; true if it finishes later. */
bool ops_run(tr_node *n, struct slot *s, const Ticketrush__Op *op,
    int64_t now_mono_ms, int64_t now_wall_ms);
/* A reservation's refusal or hold, answered (counts it). */
void answer_reserve(tr_node *n, struct slot *s, tr_event *ev, int rv,
    tr_hold *h);
/* The lease admitted qty for user: record the hold (standalone: in
 * memory; else with the coordinator, which answers later). True if the
 * answer comes later. */
bool reserve_admitted(tr_node *n, struct slot *s, tr_event *ev,
    const char *user, const char *request_id, uint32_t qty, int64_t now,
    int64_t wall);
/* State for a newly known event (lock held). */
int ops_event_attach(tr_node *n, tr_event *ev);

/* waiters.c: reservations waiting for a grant (lock held) */
/* Queue a reservation behind the event's others. 0, or TR_ENOMEM. */
int waiter_push(tr_node *n, struct ev_state *es, struct slot *s,
    const Ticketrush__Reserve *r, int64_t now);
struct waiter *waiter_front(struct ev_state *es);
void waiter_pop(struct ev_state *es);
/* Stock arrived (or the pool is known empty): serve ev's waiters. */
void waiters_serve(tr_node *n, tr_event *ev, struct finish_list *f);
/* Answer every waiter of ev with err. */
void waiters_fail(tr_node *n, tr_event *ev, int err, const char *detail,
    struct finish_list *f);

/* waitlist.c: the waitlist and refunds (lock held) */
/* Input checks of a join, get or leave (no lock needed). */
bool waitlist_check(struct slot *s, const Ticketrush__Op *op);
/* Run a join, get or leave; a refund; true if the answer comes later. */
bool waitlist_run(tr_node *n, struct slot *s, const Ticketrush__Op *op);
bool refund_run(tr_node *n, struct slot *s, const Ticketrush__Op *op);
/* Admin: the line of an event, read from the coordinator. */
bool waitlist_show_run(tr_node *n, struct slot *s,
    const Ticketrush__WaitlistShow *w);
void waitlist_done(tr_node *n, struct job *j, struct finish_list *f);

/* The answer of a WaitlistShow, kept by its context until sent. */
struct wl_show_out {
	tr_wl_show show;
	Ticketrush__WaitlistInfo info;
	Ticketrush__WaitlistHead head[TR_WL_SHOW_MAX];
	Ticketrush__WaitlistHead *head_ptrs[TR_WL_SHOW_MAX];
	char event_id[TR_EVENT_ID_MAX + 1];
};

/* admin.c: an admin request, answered in slot 0 (lock held). True if it
 * finishes later. */
bool admin_run(tr_node *n, struct srv_ctx *c, struct finish_list *f);

/* ticker.c: periodic work under the lock: expiry, waiter timeouts,
 * prefetch, idle returns. */
void ticker_run(tr_node *n, int64_t now_mono_ms, struct finish_list *f);

/* jobs.c (lock held unless said otherwise) */
struct job *job_new(enum job_kind kind, tr_event *ev);
void job_free(struct job *j);
/* Ask for a grant unless one is in flight: 0 if one is (now) in flight. */
int want_grant(tr_node *n, tr_event *ev);
/* Give count free tickets of the lease back to the pool. */
void give_back(tr_node *n, tr_event *ev, uint64_t count);
/* Queue an admitted reservation for the event's next hold call. 0, or an
 * error (nothing queued; the caller undoes the admission). */
int hold_enqueue(tr_node *n, tr_event *ev, struct slot *s, const char *user,
    const char *request_id, uint32_t qty);
/* Queue a confirm for the event's next confirm call. 0, or an error
 * (nothing queued). */
int confirm_enqueue(tr_node *n, tr_event *ev, struct slot *s, const char *rid,
    const char *user, const char *payment_ref);
/* Queue a due hold for the event's next expire call; false if it cannot
 * be queued now. */
bool expire_enqueue(tr_node *n, tr_hold *h);
/* Park op until event_id is looked up in the coordinator; false if it was
 * answered instead (known missing, too many lookups, coordinator down). */
bool lookup_park(tr_node *n, struct slot *s, const Ticketrush__Op *op,
    const char *event_id);
/* The coordinator moved ev's epoch: drop the lease and register again. */
void fence(tr_node *n, tr_event *ev, uint64_t coord_epoch,
    struct finish_list *f);
/* Apply what register said (the event's settings are in the ledger). */
void apply_register(tr_node *n, tr_event *ev, const tr_event_figures *fig);
/* Apply the coordinator's view of ev from a sync: global figures, a stale
 * epoch (fence), its lease for this node (adopted: Redis is the truth). */
void apply_sync(tr_node *n, tr_event *ev, const tr_event_figures *fig,
    struct finish_list *f);
/* Whether ev is busy on this node (see BUSY_MS). */
bool event_busy(const tr_event *ev, int64_t now_mono_ms);
/* Whether what the node knows of ev's pool is fresh enough to answer
 * "sold out" from memory. */
bool pool_known_fresh(const tr_event *ev, int64_t now_mono_ms);
/* Before a pipeline is sent (coordinator thread, lock held): close the
 * open batches of hold, confirm and expire jobs and build their calls. */
void jobs_seal(tr_node *n, struct job **jobs, size_t k);
/* A coordinator answer (coordinator thread, lock held). */
void jobs_done(tr_node *n, struct job *j, struct finish_list *f);
/* Register an event with the coordinator and add it to the ledger
 * (coordinator thread, lock NOT held). */
int register_event(tr_node *n, const char *id, tr_event **out);
/* The coordinator says ev's sale is closed (or open): refuse (or take)
 * new reservations; waiting ones are answered CLOSED. */
void apply_closed(tr_node *n, tr_event *ev, bool closed,
    struct finish_list *f);

/* coordloop.c */
int coordloop_start(tr_node *n);
void coordloop_stop(tr_node *n);
/* Queue a coordinator call. The job is the loop's on success; on
 * TR_EOVERLOADED (queue full) it stays the caller's. Lock may be held. */
int coord_submit(tr_node *n, struct job *j);

#endif
