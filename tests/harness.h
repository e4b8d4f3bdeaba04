/* harness: real processes for integration tests (redis-server, stockd,
 * trgate) on free loopback ports in a private temp dir, and a small
 * blocking HTTP client. Every wait is bounded. */
#ifndef TR_HARNESS_H
#define TR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct redisReply;

typedef struct th_proc {
	pid_t pid;     /* 0: not running */
	char log[256]; /* stdout+stderr go here */
} th_proc;

/* The temp dir of this test run (created on first use, removed by
 * th_cleanup unless TH_KEEP is set in the environment). */
const char *th_dir(void);
void th_cleanup(void);

/* A port on 127.0.0.1 that was free a moment ago. */
int th_free_port(void);

/* Path of a binary built by this project (name: "stockd", "trgate", ...). */
const char *th_bin(const char *name);

/* fork + exec argv (NULL-terminated) with output to log_name in th_dir().
 * Returns 0 or -1. */
int th_spawn(th_proc *p, const char *log_name, char *const argv[]);
/* Send sig and wait up to timeout_ms for exit (then SIGKILL). Returns the
 * exit status (as from waitpid), or -1 if it had to be killed. */
int th_stop(th_proc *p, int sig, int timeout_ms);
bool th_alive(th_proc *p);

typedef struct th_redis {
	th_proc proc;
	int port;
	char dir[256];
	char addr[32]; /* "127.0.0.1:PORT" */
	bool cluster;  /* started by th_redis_start_cluster */
	/* A cluster node with AOF (appendfsync always) and this
	 * cluster-node-timeout (0: Redis's default), for failover tests. */
	bool aof;
	int node_timeout_ms;
} th_redis;

/* A private redis-server with AOF (appendfsync always). 0 or -1. */
int th_redis_start(th_redis *r);
/* A private redis-server with cluster-enabled yes (nodes.conf in its dir)
 * and no persistence; it serves no slots, so only commands such as
 * CLUSTER KEYSLOT work. 0 or -1. */
int th_redis_start_cluster(th_redis *r);

/* A Redis Cluster of n masters and no replicas on loopback: cluster-enabled
 * redis-servers (th_redis_start_cluster), the 16384 slots shared in equal
 * ranges (CLUSTER ADDSLOTSRANGE), each its own config epoch, met through
 * CLUSTER MEET. */
#define TH_CLUSTER_MAX 6
typedef struct th_cluster {
	th_redis node[TH_CLUSTER_MAX];
	size_t n;
	/* With replicas (th_cluster_start_replicas): node[0..masters-1]
	 * start as masters, node[masters + i] as the replica of node[i].
	 * 0: every node is a master. */
	size_t masters;
	char id[TH_CLUSTER_MAX][41];     /* CLUSTER MYID */
	char seeds[TH_CLUSTER_MAX * 24]; /* "127.0.0.1:P1,127.0.0.1:P2,..." */
} th_cluster;

/* Start n (1..TH_CLUSTER_MAX) masters and wait (15 s) until every one
 * says cluster_state:ok and knows the n. 0, or -1 with nothing left
 * running. */
int th_cluster_start(th_cluster *c, size_t n);
void th_cluster_stop(th_cluster *c);
/* A Redis Cluster of `masters` masters (1..TH_CLUSTER_MAX / 2), each with
 * one replica, for failover: every node with AOF (appendfsync always) and
 * cluster-node-timeout node_timeout_ms, so that a dead master's replica
 * takes over within a few seconds. Waits (15 s) until every node says
 * cluster_state:ok and every replica's master_link_status:up. seeds
 * names every node, masters first. 0, or -1 with nothing left running. */
int th_cluster_start_replicas(th_cluster *c, size_t masters,
    int node_timeout_ms);
/* Wait until node i says role:slave and master_link_status:up (a master
 * restarted after its replica took over rejoins as its replica), within
 * timeout_ms. 0 or -1. */
int th_cluster_wait_replica(th_cluster *c, size_t i, int timeout_ms);
/* Whether node i says role:master (INFO replication). */
bool th_cluster_is_master(th_cluster *c, size_t i);
/* After master m was killed: wait until its replica says role:master and
 * every live node says cluster_state:ok, within timeout_ms; if the
 * cluster did not fail over by then, send CLUSTER FAILOVER TAKEOVER to
 * the replica (*took_over true) and wait as long again. The replica's
 * index, or -1. */
int th_cluster_failover_wait(th_cluster *c, size_t m, int timeout_ms,
    bool *took_over);
/* The index of the node that serves slot by its own CLUSTER NODES line
 * ("myself"), or -1. */
int th_cluster_owner(th_cluster *c, int slot);
/* Move slot from node `from` to node `to` in redis-cli's steps, so a test
 * can act between them: begin (SETSLOT IMPORTING on `to`, MIGRATING on
 * `from`), keys (MIGRATE every key of the slot, GETKEYSINSLOT until
 * none), end (SETSLOT NODE `to` on every node). Each 0 or -1. */
int th_cluster_migrate_begin(th_cluster *c, int slot, int from, int to);
int th_cluster_migrate_keys(th_cluster *c, int slot, int from, int to);
int th_cluster_migrate_end(th_cluster *c, int slot, int to);

/* Make r (a lone Redis) a replica of master (REPLICAOF) and wait (10 s)
 * until its master_link_status is up. 0 or -1. */
int th_redis_replicate(th_redis *r, th_redis *master);

/* Stop (SIGTERM, or SIGKILL when hard) and start again on the same port
 * and dir, so the AOF is replayed. */
int th_redis_restart(th_redis *r, bool hard);
void th_redis_stop(th_redis *r);
/* Run one command (printf-style, hiredis format); NULL on error. Free the
 * reply with freeReplyObject. */
struct redisReply *th_redis_cmd(th_redis *r, const char *fmt, ...);
/* An integer key or hash field as a number (-1 if absent). */
long long th_redis_int(th_redis *r, const char *fmt, ...);

typedef struct th_stockd {
	th_proc proc;
	char node[17];
	int port;
	char data_url[64];
	char admin_url[300];
	/* How it was started, for th_stockd_restart. */
	th_redis *redis;
	char seeds[TH_CLUSTER_MAX * 24]; /* --redis of a cluster, or "" */
	char extra[24][160];
	int nextra;
} th_stockd;

/* Start stockd as node `node` against r (NULL: standalone, then pass
 * --event flags in extra). extra: NULL-terminated extra flags or NULL.
 * Waits until its admin socket answers (5 s). 0 or -1. */
int th_stockd_start(th_stockd *s, const char *node, th_redis *r,
    const char *const *extra);
/* Start stockd against a Redis Cluster: --redis seeds. As
 * th_stockd_start. */
int th_stockd_start_seeds(th_stockd *s, const char *node, const char *seeds,
    const char *const *extra);
/* Start again with the same node id, port and flags. */
int th_stockd_restart(th_stockd *s);

/* Create an event through a node's admin socket. 0 or -1. */
int th_event_create(th_stockd *s, const char *event_id,
    unsigned long long total, unsigned limit, unsigned long long hold_ms);
/* Wait until every node in nodes knows event_id (5 s). 0 or -1. */
int th_event_wait(th_stockd *nodes, size_t n, const char *event_id);

typedef struct th_gate {
	th_proc proc;
	int port;
} th_gate;

/* Start trgate on a free port with args (NULL-terminated; --listen is
 * added). Waits until GET /healthz answers (5 s). 0 or -1. */
int th_gate_start(th_gate *g, const char *const *args);

/* One HTTP/1.1 request on a new connection (Connection: close). Returns
 * the status code, or -1 on a transport error; the body goes to body (NUL
 * terminated, cut to cap). timeout 5 s. */
int th_http(int port, const char *method, const char *path,
    const char *json_body, char *body, size_t cap);

/* A keep-alive HTTP/1.1 connection, for many requests without using up
 * ephemeral ports. Reconnects once if the server closed it. */
typedef struct th_conn {
	int fd;
	int port;
} th_conn;

void th_conn_init(th_conn *c, int port);
/* Like th_http, on the kept connection. */
int th_conn_http(th_conn *c, const char *method, const char *path,
    const char *json_body, char *body, size_t cap);
void th_conn_close(th_conn *c);

/* Run a shell command line; returns its exit status (0..255) and leaves
 * its stdout in out (cut to cap). */
int th_run(const char *cmdline, char *out, size_t cap);

/* Run ticketctl with these arguments (printf-style); its exit status.
 * On a failure its output goes to stderr, for the test's log. */
int th_ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run one coordinator call on c: 0, or its error (also its script's name
 * and detail on stderr, for the test's log). */
struct tr_coord;
struct tr_call;
int th_coord_call(struct tr_coord *c, struct tr_call *k);

/* Through c, as a node would: create event ev (total tickets, limit per
 * user, hold_ms), register node in it and grant it `grant` tickets; the
 * node's epoch in *epoch. 0, or the first call's error. */
int th_coord_lease(struct tr_coord *c, const char *ev, uint64_t total,
    uint32_t limit, uint64_t hold_ms, const char *node, uint64_t grant,
    uint64_t *epoch);

#endif
