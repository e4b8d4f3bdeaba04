/* trchaos: ticketrush's fault campaign. Each run starts a private Redis
 * (AOF, appendfsync always), stock nodes and the gateway, lets a crowd of
 * seeded buyers reserve, confirm, release and abandon through the HTTP API
 * (and some through the protobuf API) while a seeded schedule of faults
 * hits the processes, heals everything, checks that the sale still sells
 * out, and checks the recorded history against Redis (chaos_check.h). See
 * docs/CHAOS.md.
 *
 *   trchaos [--runs N] [--seconds S] [--seed HEX] [--nodes N]
 *           [--buyers N] [--out DIR] [--no-netns] [--net I]
 *
 * Bounded: every run's load lasts --seconds, its recovery at most 60 s;
 * every client call has a timeout; every retry loop a count.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaos_check.h"
#include "chaos_sched.h"
#include "harness.h"
#include "http_api.h"
#include "tr_client.h"
#include "tr_clock.h"
#include "tr_err.h"

#define NODES_MAX 8
#define EVENTS 2
#define USERS 240       /* the crowd */
#define FINAL_USERS 200 /* the demand after the faults */
#define ALL_USERS (USERS + FINAL_USERS)
#define HOLD_MS 3000
#define TTL_MS 2000
#define RETRIES 4
#define RECOVERY_MS 60000
#define THREADS_MAX 32

static const char *const event_names[EVENTS] = {"E0", "E1"};
static const uint32_t event_limit[EVENTS] = {1, 2};
static const uint64_t event_total[EVENTS] = {40, 50};

struct opts {
	int runs;
	int64_t load_ms;
	uint64_t seed;
	bool seed_given;
	int nodes;
	int buyers;
	char out[512];
	bool netns;
	int net;
};

struct node {
	th_proc proc;
	char id[TR_NODE_ID_MAX + 1];
	char host[32];
	int port, admin_port;
	char data_url[64], admin_url[64];
	bool in_ns;
	bool down; /* killed, not restarted (yet) */
	bool paused;
};

struct run {
	const struct opts *o;
	int index;
	uint64_t seed;
	char dir[32]; /* relative to th_dir() */
	chaos_sched sched;
	th_proc redis;
	int rport;
	char rhost[32];
	char rdir[320];
	bool redis_down, redis_paused;
	struct node nodes[NODES_MAX];
	th_proc gate;
	int gport;
	bool gate_down;
	char users[ALL_USERS][16];
	atomic_bool stop;
	int64_t t0_us;
};

/* The network namespace of the node that can be partitioned. */
static struct {
	bool on;
	char ns[32], veth_host[16], veth_ns[16];
	char host_ip[32], ns_ip[32];
	char ip[64];
} net;

/* ---- small helpers -------------------------------------------------------
 */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rv;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rv = system(cmd);
	return rv == -1 ? -1 : WEXITSTATUS(rv);
}

static int64_t
now_us(void)
{
	return tr_mono_us();
}

static redisContext *
redis_at(struct run *r)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", r->rport, tv);
	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	if (c != NULL)
		redisSetTimeout(c, tv);
	return c;
}

static long long
redis_int(struct run *r, const char *fmt, const char *arg)
{
	redisContext *c = redis_at(r);
	redisReply *rep;
	long long v = -1;
	if (c == NULL)
		return -1;
	if ((rep = redisCommand(c, fmt, arg)) != NULL) {
		if (rep->type == REDIS_REPLY_INTEGER)
			v = rep->integer;
		else if (rep->type == REDIS_REPLY_STRING)
			v = strtoll(rep->str, NULL, 10);
		else if (rep->type == REDIS_REPLY_NIL)
			v = 0;
		freeReplyObject(rep);
	}
	redisFree(c);
	return v;
}

/* ---- the network namespace -----------------------------------------------
 */

static void
net_down(void)
{
	if (!net.on)
		return;
	sh("%s netns del %s >/dev/null 2>&1", net.ip, net.ns);
	sh("%s link del %s >/dev/null 2>&1", net.ip, net.veth_host);
	net.on = false;
}

static bool
net_up(int index)
{
	const char *ips[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip",
	    "/bin/ip"};
	int id = (int)(getpid() % 10000);

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		if (access(ips[i], X_OK) == 0) {
			snprintf(net.ip, sizeof(net.ip), "%s", ips[i]);
			break;
		}
	if (net.ip[0] == '\0' || geteuid() != 0)
		return false;
	snprintf(net.ns, sizeof(net.ns), "trchaos-%d", (int)getpid());
	snprintf(net.veth_host, sizeof(net.veth_host), "tcv%dh", id);
	snprintf(net.veth_ns, sizeof(net.veth_ns), "tcv%dn", id);
	snprintf(net.host_ip, sizeof(net.host_ip), "10.213.%d.1", index);
	snprintf(net.ns_ip, sizeof(net.ns_ip), "10.213.%d.2", index);
	net.on = true;
	if (sh("%s netns add %s", net.ip, net.ns) != 0 ||
	    sh("%s link add %s type veth peer name %s", net.ip, net.veth_host,
	        net.veth_ns) != 0 ||
	    sh("%s link set %s netns %s", net.ip, net.veth_ns, net.ns) != 0 ||
	    sh("%s addr add %s/24 dev %s", net.ip, net.host_ip,
	        net.veth_host) != 0 ||
	    sh("%s link set %s up", net.ip, net.veth_host) != 0 ||
	    sh("%s netns exec %s %s addr add %s/24 dev %s", net.ip, net.ns,
	        net.ip, net.ns_ip, net.veth_ns) != 0 ||
	    sh("%s netns exec %s %s link set %s up", net.ip, net.ns, net.ip,
	        net.veth_ns) != 0 ||
	    sh("%s netns exec %s %s link set lo up", net.ip, net.ns, net.ip) !=
	        0) {
		net_down();
		return false;
	}
	return true;
}

static void
on_signal(int sig)
{
	/* Leave no namespace behind; the children die with us. */
	net_down();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- processes ---------------------------------------------------------- */

static int
redis_launch(struct run *r)
{
	char port[16], binds[80], log[400];
	char *argv[] = {"/usr/bin/redis-server", "--port", port, "--bind",
	    binds, "--dir", r->rdir, "--appendonly", "yes", "--appendfsync",
	    "always", "--save", "", "--daemonize", "no", "--protected-mode",
	    "no", NULL};
	int64_t deadline = tr_mono_ms() + 10000;

	snprintf(port, sizeof(port), "%d", r->rport);
	snprintf(binds, sizeof(binds), "127.0.0.1%s%s", net.on ? " " : "",
	    net.on ? net.host_ip : "");
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	if (th_spawn(&r->redis, log, argv) != 0)
		return -1;
	while (tr_mono_ms() < deadline) {
		redisContext *c = redis_at(r);
		if (c != NULL) {
			redisReply *rep = redisCommand(c, "PING");
			bool ok = rep && rep->type == REDIS_REPLY_STATUS;
			if (rep)
				freeReplyObject(rep);
			redisFree(c);
			if (ok)
				return 0;
		}
		tr_sleep_ms(20);
	}
	return -1;
}

static int
node_launch(struct run *r, struct node *n)
{
	char *argv[48], redis_addr[64], log[400];
	int a = 0;
	int64_t deadline = tr_mono_ms() + 8000;

	if (n->in_ns) {
		argv[a++] = net.ip;
		argv[a++] = "netns";
		argv[a++] = "exec";
		argv[a++] = net.ns;
	}
	snprintf(redis_addr, sizeof(redis_addr), "%s:%d", r->rhost, r->rport);
	if (n->in_ns)
		snprintf(redis_addr, sizeof(redis_addr), "%s:%d", net.host_ip,
		    r->rport);
	argv[a++] = (char *)th_bin("stockd");
	argv[a++] = "--node-id";
	argv[a++] = n->id;
	argv[a++] = "--listen";
	argv[a++] = n->data_url;
	argv[a++] = "--admin";
	argv[a++] = n->admin_url;
	argv[a++] = "--redis";
	argv[a++] = redis_addr;
	argv[a++] = "--liveness-ttl";
	argv[a++] = "2s";
	argv[a++] = "--sweep";
	argv[a++] = "250ms";
	argv[a++] = "--sync";
	argv[a++] = "200ms";
	argv[a++] = "--redis-timeout";
	argv[a++] = "300ms";
	argv[a++] = "--lease-idle";
	argv[a++] = "2s";
	argv[a] = NULL;
	snprintf(log, sizeof(log), "%s/stockd-%s.log", r->dir, n->id);
	if (th_spawn(&n->proc, log, argv) != 0)
		return -1;
	/* Up when its admin socket answers (a restart may wait to claim its
	 * id: that is the node's business). */
	while (tr_mono_ms() < deadline) {
		tr_client *c;
		Ticketrush__Reply *rep = NULL;
		if (!th_alive(&n->proc))
			return -1;
		if (tr_client_open(n->admin_url, 500, &c) == 0) {
			int rv = tr_client_status(c, &rep);
			tr_reply_free(rep);
			tr_client_close(c);
			if (rv == 0)
				return 0;
		}
		tr_sleep_ms(30);
	}
	return -1;
}

static int
gate_launch(struct run *r)
{
	static char flags[NODES_MAX][160];
	char listen[32], log[400], body[256];
	char *argv[64];
	int a = 0;
	int64_t deadline = tr_mono_ms() + 8000;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", r->gport);
	argv[a++] = (char *)th_bin("trgate");
	argv[a++] = "--listen";
	argv[a++] = listen;
	argv[a++] = "--threads";
	argv[a++] = "2";
	argv[a++] = "--default-event";
	argv[a++] = (char *)event_names[0];
	for (int i = 0; i < r->o->nodes; i++) {
		snprintf(flags[i], sizeof(flags[i]),
		    "%s=%s,weight=%d,"
		    "max_fails=2,fail_timeout=1s",
		    r->nodes[i].id, r->nodes[i].data_url, i + 1);
		argv[a++] = "--node";
		argv[a++] = flags[i];
	}
	argv[a] = NULL;
	snprintf(log, sizeof(log), "%s/trgate.log", r->dir);
	if (th_spawn(&r->gate, log, argv) != 0)
		return -1;
	while (tr_mono_ms() < deadline) {
		if (!th_alive(&r->gate))
			return -1;
		if (th_http(r->gport, "GET", "/healthz", NULL, body,
		        sizeof(body)) > 0)
			return 0;
		tr_sleep_ms(30);
	}
	return -1;
}

/* ---- buyers ---------------------------------------------------------------
 */

struct buyer {
	struct run *r;
	int id;
	uint64_t rng;
	th_conn http;
	tr_client *pb[NODES_MAX];
	chaos_op *ops;
	size_t nops, cap;
	uint64_t sessions;
};

static chaos_op *
op_new(struct buyer *b, enum chaos_op_kind kind, int via, int event, int user)
{
	chaos_op *op;
	if (b->nops == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		chaos_op *v = realloc(b->ops, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		b->ops = v;
		b->cap = cap;
	}
	op = &b->ops[b->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	op->via = (uint8_t)via;
	op->thread = (uint16_t)b->id;
	op->event = (uint16_t)event;
	op->user = (uint32_t)user;
	op->status = -1;
	op->sent_us = now_us() - b->r->t0_us;
	return op;
}

static void
json_str(const char *body, const char *field, char *out, size_t cap)
{
	cJSON *j = cJSON_Parse(body), *f;
	out[0] = '\0';
	if (j == NULL)
		return;
	if (cJSON_IsString(f = cJSON_GetObjectItem(j, field)))
		snprintf(out, cap, "%s", f->valuestring);
	cJSON_Delete(j);
}

static const char *
state_name(int s)
{
	static const char *names[] = {"", "held", "confirmed", "released",
	    "expired"};
	return s >= 0 && s <= 4 ? names[s] : "";
}

/* A protobuf answer as the HTTP status the gateway would give. */
static int
pb_status(int rv, Ticketrush__Reply *rep, bool created)
{
	if (rep == NULL)
		return -1;
	return tr_http_status_of(rv, created);
}

static void
do_op(struct buyer *b, chaos_op *op)
{
	struct run *r = b->r;
	char path[200], body[400], resp[4096];

	if (op->via == 0) {
		switch (op->kind) {
		case CHAOS_RESERVE:
			snprintf(path, sizeof(path),
			    "/v1/events/%s/reservations",
			    event_names[op->event]);
			snprintf(body, sizeof(body),
			    "{\"user\":\"%s\","
			    "\"request_id\":\"%s\"}",
			    r->users[op->user], op->key);
			break;
		case CHAOS_CONFIRM:
			snprintf(path, sizeof(path),
			    "/v1/reservations/%s/confirm", op->rid);
			snprintf(body, sizeof(body),
			    "{\"user\":\"%s\","
			    "\"payment_ref\":\"%s\"}",
			    r->users[op->user], op->key);
			break;
		default:
			snprintf(path, sizeof(path),
			    "/v1/reservations/%s/release", op->rid);
			snprintf(body, sizeof(body), "{\"user\":\"%s\"}",
			    r->users[op->user]);
			break;
		}
		op->status = th_conn_http(&b->http, "POST", path, body, resp,
		    sizeof(resp));
		if (op->status > 0) {
			if (op->kind == CHAOS_RESERVE)
				json_str(resp, "reservation_id", op->rid,
				    sizeof(op->rid));
			json_str(resp, "state", op->state, sizeof(op->state));
			if (op->kind == CHAOS_CONFIRM)
				json_str(resp, "payment_ref", op->paid,
				    sizeof(op->paid));
			if (op->kind == CHAOS_CONFIRM && op->status == 200)
				snprintf(op->state, sizeof(op->state),
				    "confirmed");
		}
	} else {
		tr_client *c = b->pb[op->via - 1];
		Ticketrush__Reply *rep = NULL;
		int rv;
		switch (op->kind) {
		case CHAOS_RESERVE:
			rv = tr_client_reserve(c, event_names[op->event],
			    r->users[op->user], 1, op->key, &rep);
			break;
		case CHAOS_CONFIRM:
			rv = tr_client_confirm(c, op->rid, r->users[op->user],
			    op->key, &rep);
			break;
		default:
			rv = tr_client_release(c, op->rid, r->users[op->user],
			    &rep);
			break;
		}
		op->status = pb_status(rv, rep, op->kind == CHAOS_RESERVE);
		if (rep != NULL && rep->hold != NULL) {
			if (op->kind == CHAOS_RESERVE)
				snprintf(op->rid, sizeof(op->rid), "%s",
				    rep->hold->reservation_id);
			snprintf(op->state, sizeof(op->state), "%s",
			    state_name(rep->hold->state));
		}
		if (rep != NULL && rep->order != NULL)
			snprintf(op->paid, sizeof(op->paid), "%s",
			    rep->order->payment_ref);
		tr_reply_free(rep);
	}
	op->answered_us = op->status > 0 ? now_us() - r->t0_us : 0;
}

/* Send one operation, and again with the same request id or payment
 * reference after no answer or a 503 (bounded). Returns the last status;
 * *last is the last record. */
static int
call_retrying(struct buyer *b, enum chaos_op_kind kind, int via, int event,
    int user, const char *key, const char *rid, chaos_op *last)
{
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		chaos_op *op = op_new(b, kind, via, event, user);
		if (op == NULL)
			return -1;
		snprintf(op->key, sizeof(op->key), "%s", key);
		if (rid != NULL)
			snprintf(op->rid, sizeof(op->rid), "%s", rid);
		do_op(b, op);
		*last = *op;
		if (op->status != -1 && op->status != 503)
			return op->status;
		if (atomic_load(&b->r->stop) && attempt > 0)
			break;
		tr_sleep_ms(chaos_rand_range(&b->rng, 100, 400));
	}
	return last->status;
}

static void
settle(struct buyer *b, int via, int event, int user, const char *rid)
{
	uint64_t action = chaos_rand(&b->rng) % 100;
	char ref[48];
	chaos_op last;

	snprintf(ref, sizeof(ref), "pay-%d-%" PRIu64, b->id, b->sessions);
	if (action < 60) {
		tr_sleep_ms(chaos_rand_range(&b->rng, 0, 300));
		call_retrying(b, CHAOS_CONFIRM, via, event, user, ref, rid,
		    &last);
	} else if (action < 70) {
		/* Late: around and past the deadline. */
		tr_sleep_ms(HOLD_MS + chaos_rand_range(&b->rng, -300, 800));
		call_retrying(b, CHAOS_CONFIRM, via, event, user, ref, rid,
		    &last);
	} else if (action < 80) {
		call_retrying(b, CHAOS_RELEASE, via, event, user, "", rid,
		    &last);
	}
	/* else: abandoned */
}

static void *
buyer_main(void *arg)
{
	struct buyer *b = arg;
	struct run *r = b->r;

	th_conn_init(&b->http, r->gport);
	for (int i = 0; i < r->o->nodes; i++)
		if (tr_client_open(r->nodes[i].data_url, 1000, &b->pb[i]) != 0)
			b->pb[i] = NULL;
	while (!atomic_load(&r->stop)) {
		int user = (int)(chaos_rand(&b->rng) % USERS);
		int event = (int)(chaos_rand(&b->rng) % EVENTS);
		int via = chaos_rand(&b->rng) % 5 == 0
		    ? 1 + (int)(chaos_rand(&b->rng) % (uint64_t)r->o->nodes)
		    : 0;
		int twice = chaos_rand(&b->rng) % 10 == 0 ? 2 : 1;
		char req[48];
		chaos_op last;

		if (via > 0 && b->pb[via - 1] == NULL)
			via = 0;
		b->sessions++;
		for (int k = 0; k < twice && !atomic_load(&r->stop); k++) {
			snprintf(req, sizeof(req), "r%d-%" PRIu64 "-%d", b->id,
			    b->sessions, k);
			int st = call_retrying(b, CHAOS_RESERVE, via, event,
			    user, req, NULL, &last);
			if (st == 201 && strcmp(last.state, "held") == 0)
				settle(b, via, event, user, last.rid);
			else if (st == 409 && last.rid[0] != '\0' &&
			    chaos_rand(&b->rng) % 2 == 0)
				settle(b, via, event, user, last.rid);
		}
		tr_sleep_ms(chaos_rand_range(&b->rng, 0, 30));
	}
	th_conn_close(&b->http);
	for (int i = 0; i < r->o->nodes; i++)
		if (b->pb[i] != NULL)
			tr_client_close(b->pb[i]);
	return NULL;
}

/* ---- faults ----------------------------------------------------------------
 */

struct action {
	int64_t at_ms;
	const chaos_fault *f;
	bool heal;
};

static void
apply(struct run *r, const chaos_fault *f)
{
	struct node *n = &r->nodes[f->target];

	switch (f->kind) {
	case CHAOS_NODE_KILL:
		th_stop(&n->proc, SIGKILL, 2000);
		n->down = true;
		break;
	case CHAOS_NODE_PAUSE:
		kill(n->proc.pid, SIGSTOP);
		n->paused = true;
		break;
	case CHAOS_REDIS_KILL:
		th_stop(&r->redis, SIGKILL, 2000);
		r->redis_down = true;
		break;
	case CHAOS_REDIS_PAUSE:
		kill(r->redis.pid, SIGSTOP);
		r->redis_paused = true;
		break;
	case CHAOS_GATEWAY_KILL:
		th_stop(&r->gate, SIGKILL, 2000);
		r->gate_down = true;
		break;
	case CHAOS_PARTITION:
		sh("%s link set %s down", net.ip, net.veth_host);
		break;
	default: break;
	}
}

/* Heal one fault; returns false if a process would not come back. */
static bool
heal(struct run *r, const chaos_fault *f)
{
	struct node *n = &r->nodes[f->target];

	switch (f->kind) {
	case CHAOS_NODE_KILL:
		if (!n->down)
			return true;
		n->down = false;
		return node_launch(r, n) == 0;
	case CHAOS_NODE_PAUSE:
		if (n->paused)
			kill(n->proc.pid, SIGCONT);
		n->paused = false;
		return true;
	case CHAOS_REDIS_KILL:
		if (!r->redis_down)
			return true;
		r->redis_down = false;
		return redis_launch(r) == 0;
	case CHAOS_REDIS_PAUSE:
		if (r->redis_paused)
			kill(r->redis.pid, SIGCONT);
		r->redis_paused = false;
		return true;
	case CHAOS_GATEWAY_KILL:
		if (!r->gate_down)
			return true;
		r->gate_down = false;
		return gate_launch(r) == 0;
	case CHAOS_PARTITION:
		return sh("%s link set %s up", net.ip, net.veth_host) == 0;
	default: return true;
	}
}

static int
action_cmp(const void *a, const void *b)
{
	const struct action *x = a, *y = b;
	return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

/* Run the schedule during the load; then heal what is still broken
 * (except a node killed for good). */
static bool
run_faults(struct run *r)
{
	struct action acts[2 * CHAOS_FAULTS_MAX];
	size_t n = 0;
	bool ok = true;

	for (size_t i = 0; i < r->sched.n; i++) {
		const chaos_fault *f = &r->sched.faults[i];
		acts[n++] = (struct action){f->start_ms, f, false};
		if (f->duration_ms >= 0)
			acts[n++] =
			    (struct action){f->start_ms + f->duration_ms, f,
			        true};
	}
	qsort(acts, n, sizeof(acts[0]), action_cmp);
	for (size_t i = 0; i < n; i++) {
		int64_t wait = acts[i].at_ms - (now_us() - r->t0_us) / 1000;
		if (acts[i].at_ms >= r->o->load_ms)
			break; /* healed below */
		if (wait > 0)
			tr_sleep_ms(wait);
		if (acts[i].heal)
			ok &= heal(r, acts[i].f);
		else
			apply(r, acts[i].f);
	}
	{
		int64_t wait = r->o->load_ms - (now_us() - r->t0_us) / 1000;
		if (wait > 0)
			tr_sleep_ms(wait);
	}
	atomic_store(&r->stop, true);
	for (size_t i = 0; i < r->sched.n; i++) {
		const chaos_fault *f = &r->sched.faults[i];
		if (f->duration_ms >= 0)
			ok &= heal(r, f);
	}
	return ok;
}

/* ---- recovery and facts
 * ----------------------------------------------------- */

/* Demand goes on after the faults: fresh buyers through the gateway until
 * every event sold out (or the bound), recorded like the crowd. */
static void
final_demand(struct run *r, struct buyer *b, chaos_report *rep)
{
	int next = 0;

	th_conn_init(&b->http, r->gport);
	for (int e = 0; e < EVENTS; e++) {
		int64_t deadline = tr_mono_ms() + RECOVERY_MS / EVENTS;
		char key[64];
		long long sold;
		snprintf(key, sizeof(key), "tr:{%s}:sold", event_names[e]);
		while ((sold = redis_int(r, "GET %s", key)) <
		        (long long)event_total[e] &&
		    tr_mono_ms() < deadline && next < FINAL_USERS) {
			char req[32];
			chaos_op last;
			int user = USERS + next++;
			snprintf(req, sizeof(req), "f%d", user);
			if (call_retrying(b, CHAOS_RESERVE, 0, e, user, req,
			        NULL, &last) == 201) {
				call_retrying(b, CHAOS_CONFIRM, 0, e, user,
				    "final", last.rid, &last);
			} else {
				next--; /* the same buyer tries again */
				tr_sleep_ms(100);
			}
		}
		if (sold < (long long)event_total[e]) {
			char pool[64], held[64];
			snprintf(pool, sizeof(pool), "tr:{%s}:pool",
			    event_names[e]);
			snprintf(held, sizeof(held), "tr:{%s}:held",
			    event_names[e]);
			chaos_report_add(rep, CHAOS_UNDERSOLD,
			    "event %s sold "
			    "%lld of %llu in %d s of demand after the faults; "
			    "pool %lld, held %lld",
			    event_names[e], sold,
			    (unsigned long long)event_total[e],
			    RECOVERY_MS / EVENTS / 1000,
			    redis_int(r, "GET %s", pool),
			    redis_int(r, "GET %s", held));
		}
	}
	th_conn_close(&b->http);
}

struct facts {
	chaos_order_fact *orders;
	size_t norders;
	chaos_hold_fact *holds;
	size_t nholds;
};

static int
read_facts(struct run *r, int e, struct facts *f, chaos_event_facts *ef)
{
	redisContext *c = redis_at(r);
	redisReply *o = NULL, *h = NULL;
	char key[64];
	int rv = -1;

	memset(f, 0, sizeof(*f));
	memset(ef, 0, sizeof(*ef));
	if (c == NULL)
		return -1;
	snprintf(key, sizeof(key), "tr:{%s}:orders", event_names[e]);
	o = redisCommand(c, "HGETALL %s", key);
	snprintf(key, sizeof(key), "tr:{%s}:holds", event_names[e]);
	h = redisCommand(c, "HGETALL %s", key);
	if (o == NULL || h == NULL || o->type != REDIS_REPLY_ARRAY ||
	    h->type != REDIS_REPLY_ARRAY)
		goto out;
	f->orders = calloc(o->elements / 2 + 1, sizeof(*f->orders));
	f->holds = calloc(h->elements / 2 + 1, sizeof(*f->holds));
	if (f->orders == NULL || f->holds == NULL)
		goto out;
	for (size_t i = 0; i + 1 < o->elements; i += 2) {
		chaos_order_fact *of = &f->orders[f->norders++];
		snprintf(of->rid, sizeof(of->rid), "%s", o->element[i]->str);
		json_str(o->element[i + 1]->str, "user", of->user,
		    sizeof(of->user));
		json_str(o->element[i + 1]->str, "payment_ref",
		    of->payment_ref, sizeof(of->payment_ref));
		json_str(o->element[i + 1]->str, "request_id", of->request_id,
		    sizeof(of->request_id));
		{
			cJSON *j = cJSON_Parse(o->element[i + 1]->str), *v;
			if (j != NULL &&
			    cJSON_IsNumber(
			        v = cJSON_GetObjectItem(j, "confirmed_at_ms")))
				of->confirmed_ms = (int64_t)v->valuedouble;
			cJSON_Delete(j);
		}
	}
	for (size_t i = 0; i + 1 < h->elements; i += 2) {
		chaos_hold_fact *hf = &f->holds[f->nholds++];
		cJSON *j = cJSON_Parse(h->element[i + 1]->str), *v;
		snprintf(hf->rid, sizeof(hf->rid), "%s", h->element[i]->str);
		if (j == NULL)
			continue;
		if (cJSON_IsString(v = cJSON_GetObjectItem(j, "s")))
			hf->state = v->valuestring[0];
		if (cJSON_IsString(v = cJSON_GetObjectItem(j, "u")))
			snprintf(hf->user, sizeof(hf->user), "%s",
			    v->valuestring);
		if (cJSON_IsString(v = cJSON_GetObjectItem(j, "r")))
			snprintf(hf->request_id, sizeof(hf->request_id), "%s",
			    v->valuestring);
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(j, "x")))
			hf->made_ms = (int64_t)v->valuedouble - HOLD_MS;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(j, "t")))
			hf->ended_ms = (int64_t)v->valuedouble;
		cJSON_Delete(j);
	}
	ef->orders = f->orders;
	ef->norders = f->norders;
	ef->holds = f->holds;
	ef->nholds = f->nholds;
	ef->total = event_total[e];
	ef->limit = event_limit[e];
	snprintf(key, sizeof(key), "tr:{%s}:sold", event_names[e]);
	ef->sold = (uint64_t)redis_int(r, "GET %s", key);
	rv = 0;
out:
	if (o)
		freeReplyObject(o);
	if (h)
		freeReplyObject(h);
	redisFree(c);
	return rv;
}

static void
write_history(struct run *r, struct buyer *b, int nb)
{
	char path[600];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s/history.jsonl", th_dir(), r->dir);
	if ((f = fopen(path, "w")) == NULL)
		return;
	for (int t = 0; t < nb; t++)
		for (size_t i = 0; i < b[t].nops; i++) {
			const chaos_op *op = &b[t].ops[i];
			static const char *kinds[] = {"reserve", "confirm",
			    "release"};
			fprintf(f,
			    "{\"t\":%d,\"kind\":\"%s\",\"via\":%d,"
			    "\"event\":\"%s\",\"user\":\"%s\",\"key\":\"%s\","
			    "\"rid\":\"%s\",\"sent_us\":%" PRId64 ","
			    "\"answered_us\":%" PRId64 ",\"status\":%d,"
			    "\"state\":\"%s\",\"paid\":\"%s\"}\n",
			    op->thread, kinds[op->kind], op->via,
			    event_names[op->event], r->users[op->user],
			    op->key, op->rid, op->sent_us, op->answered_us,
			    op->status, op->state, op->paid);
		}
	fclose(f);
}

/* ---- one run
 * ---------------------------------------------------------------- */

struct totals {
	size_t runs, failed, ops, faults[CHAOS_KIND_COUNT];
	size_t violations[CHAOS_VIOLATION_COUNT];
};

static bool
alive_where_expected(struct run *r, chaos_report *rep)
{
	bool ok = true;
	if (!th_alive(&r->redis)) {
		chaos_report_add(rep, CHAOS_CRASHED, "redis-server died");
		ok = false;
	}
	if (!th_alive(&r->gate)) {
		chaos_report_add(rep, CHAOS_CRASHED,
		    "trgate died (see "
		    "trgate.log)");
		ok = false;
	}
	for (int i = 0; i < r->o->nodes; i++) {
		bool forever = false;
		for (size_t k = 0; k < r->sched.n; k++)
			forever |=
			    r->sched.faults[k].kind == CHAOS_NODE_KILL &&
			    r->sched.faults[k].target == i &&
			    r->sched.faults[k].duration_ms < 0;
		if (!forever && !th_alive(&r->nodes[i].proc)) {
			chaos_report_add(rep, CHAOS_CRASHED,
			    "stockd %s died "
			    "(see stockd-%s.log)",
			    r->nodes[i].id, r->nodes[i].id);
			ok = false;
		}
	}
	return ok;
}

static void
teardown(struct run *r)
{
	th_stop(&r->gate, SIGTERM, 5000);
	for (int i = 0; i < r->o->nodes; i++) {
		if (r->nodes[i].paused)
			kill(r->nodes[i].proc.pid, SIGCONT);
		th_stop(&r->nodes[i].proc, SIGTERM, 5000);
	}
	if (r->redis_paused)
		kill(r->redis.pid, SIGCONT);
	th_stop(&r->redis, SIGTERM, 5000);
	if (net.on)
		sh("%s link set %s up", net.ip, net.veth_host);
}

static int
one_run(const struct opts *o, int index, uint64_t seed, struct totals *tot)
{
	static struct run run;
	struct run *r = &run;
	struct buyer *b;
	pthread_t t[THREADS_MAX];
	chaos_report rep;
	chaos_sched_conf sc = {seed, o->load_ms, o->nodes, TTL_MS,
	    net.on ? o->nodes - 1 : -1, 2, 6};
	char sched_text[2048], path[300];
	struct facts facts[EVENTS];
	chaos_event_facts ef[EVENTS];
	const char *users[ALL_USERS];
	size_t nops = 0;
	chaos_op *all = NULL;
	int64_t t_start = tr_mono_ms();

	memset(r, 0, sizeof(*r));
	memset(&rep, 0, sizeof(rep));
	r->o = o;
	r->index = index;
	r->seed = seed;
	snprintf(r->dir, sizeof(r->dir), "run-%d", index);
	snprintf(path, sizeof(path), "%s/%s", th_dir(), r->dir);
	mkdir(path, 0755);
	snprintf(r->rdir, sizeof(r->rdir), "%s/redis", path);
	mkdir(r->rdir, 0755);
	if (chaos_sched_make(&sc, &r->sched) != 0)
		return -1;
	chaos_sched_format(&r->sched, sched_text, sizeof(sched_text));
	for (int u = 0; u < ALL_USERS; u++) {
		snprintf(r->users[u], sizeof(r->users[u]),
		    u < USERS ? "u%d" : "final-%d", u < USERS ? u : u - USERS);
		users[u] = r->users[u];
	}

	/* The cluster. */
	snprintf(r->rhost, sizeof(r->rhost), "127.0.0.1");
	r->rport = th_free_port();
	r->gport = th_free_port();
	for (int i = 0; i < o->nodes; i++) {
		struct node *n = &r->nodes[i];
		n->in_ns = net.on && i == o->nodes - 1;
		const char *host = n->in_ns ? net.ns_ip : "127.0.0.1";
		snprintf(n->id, sizeof(n->id), "n%d", i + 1);
		snprintf(n->host, sizeof(n->host), "%s", host);
		n->port = th_free_port();
		n->admin_port = th_free_port();
		snprintf(n->data_url, sizeof(n->data_url), "tcp://%s:%d", host,
		    n->port);
		snprintf(n->admin_url, sizeof(n->admin_url), "tcp://%s:%d",
		    host, n->admin_port);
	}
	if (redis_launch(r) != 0) {
		fprintf(stderr, "run %d: redis-server did not start\n", index);
		return -1;
	}
	for (int i = 0; i < o->nodes; i++)
		if (node_launch(r, &r->nodes[i]) != 0) {
			fprintf(stderr, "run %d: stockd %s did not start\n",
			    index, r->nodes[i].id);
			teardown(r);
			return -1;
		}
	{
		tr_client *c;
		Ticketrush__Reply *cr = NULL;
		if (tr_client_open(r->nodes[0].admin_url, 5000, &c) != 0) {
			teardown(r);
			return -1;
		}
		for (int e = 0; e < EVENTS; e++) {
			if (tr_client_create_event(c, event_names[e],
			        event_total[e], event_limit[e], HOLD_MS, 0,
			        &cr) != 0) {
				fprintf(stderr,
				    "run %d: cannot create %s: %s\n", index,
				    event_names[e],
				    cr ? cr->detail : "no answer");
				tr_reply_free(cr);
				tr_client_close(c);
				teardown(r);
				return -1;
			}
			tr_reply_free(cr);
			cr = NULL;
		}
		tr_client_close(c);
	}
	if (gate_launch(r) != 0) {
		fprintf(stderr, "run %d: trgate did not start\n", index);
		teardown(r);
		return -1;
	}

	/* The load and the faults. */
	/* One more buyer for the demand after the faults. */
	if ((b = calloc((size_t)o->buyers + 1, sizeof(*b))) == NULL) {
		teardown(r);
		return -1;
	}
	r->t0_us = now_us();
	for (int i = 0; i < o->buyers; i++) {
		b[i].r = r;
		b[i].id = i;
		b[i].rng = seed * 1000003ULL + (uint64_t)i;
		pthread_create(&t[i], NULL, buyer_main, &b[i]);
	}
	if (!run_faults(r))
		chaos_report_add(&rep, CHAOS_CRASHED,
		    "a process would not "
		    "start again after its fault");
	for (int i = 0; i < o->buyers; i++)
		pthread_join(t[i], NULL);

	/* Recovery: every hold paid or expired, then demand again. */
	{
		int64_t deadline = tr_mono_ms() + HOLD_MS + TTL_MS + 8000;
		while (tr_mono_ms() < deadline &&
		    (redis_int(r, "GET %s", "tr:{E0}:held") != 0 ||
		        redis_int(r, "GET %s", "tr:{E1}:held") != 0))
			tr_sleep_ms(200);
	}
	b[o->buyers].r = r;
	b[o->buyers].id = o->buyers;
	b[o->buyers].rng = seed;
	final_demand(r, &b[o->buyers], &rep);

	/* The checks. */
	for (int i = 0; i <= o->buyers; i++)
		nops += b[i].nops;
	all = malloc((nops ? nops : 1) * sizeof(*all));
	nops = 0;
	for (int i = 0; all && i <= o->buyers; i++) {
		if (b[i].nops == 0)
			continue; /* its ops may be NULL */
		memcpy(all + nops, b[i].ops, b[i].nops * sizeof(*all));
		nops += b[i].nops;
	}
	for (int e = 0; e < EVENTS; e++)
		if (read_facts(r, e, &facts[e], &ef[e]) != 0)
			chaos_report_add(&rep, CHAOS_CRASHED,
			    "cannot read "
			    "Redis after the run");
	if (all == NULL ||
	    chaos_check(all, nops, users, ALL_USERS, ef, EVENTS, &rep) != 0)
		fprintf(stderr, "run %d: out of memory checking\n", index);
	for (int e = 0; e < EVENTS; e++) {
		char cmd[700], out[8192];
		snprintf(cmd, sizeof(cmd), "%s --redis 127.0.0.1:%d audit %s",
		    th_bin("ticketctl"), r->rport, event_names[e]);
		if (th_run(cmd, out, sizeof(out)) != 0)
			chaos_report_add(&rep, CHAOS_AUDIT_FAILED,
			    "%s: %.200s", event_names[e], out);
	}
	alive_where_expected(r, &rep);

	/* The verdict. */
	tot->runs++;
	tot->ops += nops;
	for (size_t k = 0; k < r->sched.n; k++)
		tot->faults[r->sched.faults[k].kind]++;
	for (int v = 0; v < CHAOS_VIOLATION_COUNT; v++)
		tot->violations[v] += rep.count[v];
	printf("run %d seed %016" PRIx64 ": %zu fault(s), %zu operations, "
	       "sold %lld/%llu %lld/%llu, %zu violation(s), %.1f s\n",
	    index, seed, r->sched.n, nops, (long long)ef[0].sold,
	    (unsigned long long)event_total[0], (long long)ef[1].sold,
	    (unsigned long long)event_total[1], rep.total,
	    (double)(tr_mono_ms() - t_start) / 1000.0);
	fputs(sched_text, stdout);
	if (rep.total > 0) {
		tot->failed++;
		printf("  FAILED: replay with: scripts/chaos --runs 1 --seed "
		       "%016" PRIx64 " --seconds %" PRId64 "\n",
		    seed, o->load_ms / 1000);
		for (size_t k = 0; k < rep.nexamples; k++)
			printf("  %s\n", rep.example[k]);
		write_history(r, b, o->buyers + 1);
		if (o->out[0] != '\0') {
			char cmd[1400];
			snprintf(cmd, sizeof(cmd),
			    "mkdir -p '%s' && cp -r "
			    "'%s/%s' '%s/run-%d-%016" PRIx64 "'",
			    o->out, th_dir(), r->dir, o->out, index, seed);
			sh("%s", cmd);
			printf("  logs and history: %s/run-%d-%016" PRIx64
			       "\n",
			    o->out, index, seed);
		}
	}
	fflush(stdout);
	teardown(r);
	for (int e = 0; e < EVENTS; e++) {
		free(facts[e].orders);
		free(facts[e].holds);
	}
	for (int i = 0; i <= o->buyers; i++)
		free(b[i].ops);
	free(b);
	free(all);
	/* Runs do not keep their folders unless they failed: a campaign
	 * of hundreds of runs must not fill the disk. */
	if (rep.total == 0) {
		snprintf(path, sizeof(path), "rm -rf '%s/%s'", th_dir(),
		    r->dir);
		sh("%s", path);
	}
	return rep.total == 0 ? 0 : 1;
}

/* ---- main
 * ------------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: trchaos [options]\n"
	    "ticketrush's fault campaign: runs of a sale under a seeded "
	    "schedule of\n"
	    "faults, each checked against Redis afterwards (docs/CHAOS.md).\n"
	    "\n"
	    "  --runs N        runs (default 1, at most 10000)\n"
	    "  --seconds S     load per run (default 12, 6..600)\n"
	    "  --seed HEX      seed of the first run (default: random); the "
	    "others\n"
	    "                  follow from it\n"
	    "  --nodes N       stock nodes (default 3, 2..8)\n"
	    "  --buyers N      buyer threads (default 12, 1..32)\n"
	    "  --out DIR       keep failing runs' logs and history here\n"
	    "  --no-netns      no network namespace: no partition faults\n"
	    "  --net I         subnet 10.213.I.0/24 for the namespace "
	    "(1..250)\n"
	    "exit: 0 no violation, 1 violations, 2 usage or set-up "
	    "failure.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {{"runs", 1, NULL, 'r'},
	    {"seconds", 1, NULL, 's'}, {"seed", 1, NULL, 'S'},
	    {"nodes", 1, NULL, 'n'}, {"buyers", 1, NULL, 'b'},
	    {"out", 1, NULL, 'o'}, {"no-netns", 0, NULL, 'N'},
	    {"net", 1, NULL, 'i'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct opts o = {1, 12000, 0, false, 3, 12, "", true, 0};
	struct totals tot = {0};
	uint64_t seed;
	int c, failed_setup = 0;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		char *end;
		long long v;
		switch (c) {
		case 'S':
			errno = 0;
			o.seed = strtoull(optarg, &end, 16);
			if (errno || *end) {
				fprintf(stderr, "trchaos: --seed takes hex\n");
				return 2;
			}
			o.seed_given = true;
			continue;
		case 'o':
			snprintf(o.out, sizeof(o.out), "%s", optarg);
			continue;
		case 'N': o.netns = false; continue;
		case 'h': usage(stdout); return 0;
		case '?': usage(stderr); return 2;
		}
		v = strtoll(optarg, &end, 10);
		if (*end != '\0') {
			usage(stderr);
			return 2;
		}
		switch (c) {
		case 'r': o.runs = v >= 1 && v <= 10000 ? (int)v : -1; break;
		case 's':
			o.load_ms = v >= 6 && v <= 600 ? v * 1000 : -1;
			break;
		case 'n':
			o.nodes = v >= 2 && v <= NODES_MAX ? (int)v : -1;
			break;
		case 'b':
			o.buyers = v >= 1 && v <= THREADS_MAX ? (int)v : -1;
			break;
		case 'i': o.net = v >= 1 && v <= 250 ? (int)v : -1; break;
		}
		if (o.runs < 0 || o.load_ms < 0 || o.nodes < 0 ||
		    o.buyers < 0 || o.net < 0) {
			fprintf(stderr, "trchaos: %s: value out of range\n",
			    argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!o.seed_given) {
		FILE *f = fopen("/dev/urandom", "r");
		if (f == NULL || fread(&o.seed, sizeof(o.seed), 1, f) != 1)
			o.seed = (uint64_t)now_us();
		if (f)
			fclose(f);
	}
	if (o.netns && !net_up(o.net ? o.net : 1 + (int)(getpid() % 250)))
		printf("no network namespace (needs root and iproute2): "
		       "partition faults are off\n");
	printf("trchaos: %d run(s) of %" PRId64 " s, %d nodes (%s), %d "
	       "buyers, first seed %016" PRIx64 "\n",
	    o.runs, o.load_ms / 1000, o.nodes,
	    net.on ? "the last one in its own network namespace"
	           : "no namespace",
	    o.buyers, o.seed);
	seed = o.seed;
	for (int i = 1; i <= o.runs; i++) {
		int rv = one_run(&o, i, seed, &tot);
		/* A set-up that failed (a port taken between picking and
		 * binding, by a campaign beside this one) is tried once more
		 * with fresh ports: same seed, same run. */
		if (rv < 0) {
			printf("run %d: set-up failed; once more\n", i);
			rv = one_run(&o, i, seed, &tot);
		}
		if (rv < 0)
			failed_setup++;
		seed = chaos_rand(&seed);
	}
	net_down();
	printf("\ncampaign: %zu run(s), %zu with violations, %d could not "
	       "start; %zu operations checked\nfaults:",
	    tot.runs, tot.failed, failed_setup, tot.ops);
	for (int k = 0; k < CHAOS_KIND_COUNT; k++)
		printf(" %s %zu", chaos_fault_name[k], tot.faults[k]);
	printf("\nviolations:");
	for (int v = 0; v < CHAOS_VIOLATION_COUNT; v++)
		printf(" %s %zu", chaos_violation_name[v], tot.violations[v]);
	printf("\n");
	th_cleanup();
	return tot.failed > 0 ? 1 : failed_setup > 0 ? 2 : 0;
}
