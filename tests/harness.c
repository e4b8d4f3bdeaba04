/* harness: process control, private Redis, stock nodes and HTTP for the
 * integration tests. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tr_client.h"
#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_err.h"

#ifndef TH_BIN_DIR
#error "TH_BIN_DIR must name the build directory"
#endif

static char dir_path[256];

const char *
th_dir(void)
{
	if (dir_path[0] == '\0') {
		snprintf(dir_path, sizeof(dir_path), "/tmp/trtest.XXXXXX");
		if (mkdtemp(dir_path) == NULL) {
			perror("mkdtemp");
			abort();
		}
	}
	return dir_path;
}

void
th_cleanup(void)
{
	char cmd[300];
	if (dir_path[0] == '\0' || getenv("TH_KEEP") != NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_path);
	(void)!system(cmd);
	dir_path[0] = '\0';
}

/* Whether port on 127.0.0.1 can be bound now. */
static bool
port_free(int port)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A free port whose cluster bus port (10000 higher, which Redis binds
 * too) is free and exists: Redis refuses a cluster port above 55535. */
static int
cluster_free_port(void)
{
	for (int tries = 0; tries < 200; tries++) {
		int port = th_free_port();
		if (port <= 55535 && port_free(port + 10000))
			return port;
	}
	return -1;
}

int
th_free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		perror("free port");
		abort();
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

const char *
th_bin(const char *name)
{
	static char path[8][512];
	static int next;
	char *p = path[next++ % 8];
	snprintf(p, 512, "%s/%s", TH_BIN_DIR, name);
	return p;
}

int
th_spawn(th_proc *p, const char *log_name, char *const argv[])
{
	pid_t pid;

	if ((size_t)snprintf(p->log, sizeof(p->log), "%s/%s", th_dir(),
	        log_name) >= sizeof(p->log))
		return -1; /* a cut path would log somewhere else */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		/* Die with the test, so nothing outlives a crashed run. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	p->pid = pid;
	return 0;
}

bool
th_alive(th_proc *p)
{
	int status;
	if (p->pid <= 0)
		return false;
	if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
		p->pid = 0;
		return false;
	}
	return true;
}

int
th_stop(th_proc *p, int sig, int timeout_ms)
{
	int64_t deadline = tr_mono_ms() + timeout_ms;
	int status;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	while (tr_mono_ms() < deadline) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid) {
			p->pid = 0;
			return status;
		}
		tr_sleep_ms(5);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
	return -1;
}

/* ---- Redis -------------------------------------------------------------- */

static redisContext *
redis_connect(int port)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	if (c != NULL)
		redisSetTimeout(c, tv);
	return c;
}

static int
redis_launch(th_redis *r)
{
	char port[16];
	char *argv[] = {"/usr/bin/redis-server", "--port", port, "--bind",
	    "127.0.0.1", "--dir", r->dir, "--appendonly", "yes",
	    "--appendfsync", "always", "--save", "", "--daemonize", "no",
	    "--protected-mode", "yes", NULL};
	/* A lone cluster node with no slots: enough for CLUSTER KEYSLOT.
	 * For failover tests: AOF and a short node timeout. */
	char timeout[16];
	char *cluster_argv[] = {"/usr/bin/redis-server", "--port", port,
	    "--bind", "127.0.0.1", "--dir", r->dir, "--cluster-enabled", "yes",
	    "--cluster-config-file", "nodes.conf", "--appendonly",
	    r->aof ? "yes" : "no", "--appendfsync", "always", "--save", "",
	    "--daemonize", "no", "--protected-mode", "yes",
	    r->node_timeout_ms > 0 ? "--cluster-node-timeout" : NULL, timeout,
	    NULL};
	int64_t deadline;
	char log_name[32];

	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(timeout, sizeof(timeout), "%d", r->node_timeout_ms);
	/* A cluster's nodes each log apart. */
	snprintf(log_name, sizeof(log_name),
	    r->cluster ? "redis-%d.log" : "redis.log", r->port);
	if (th_spawn(&r->proc, log_name, r->cluster ? cluster_argv : argv) !=
	    0)
		return -1;
	deadline = tr_mono_ms() + 5000;
	while (tr_mono_ms() < deadline) {
		redisContext *c = redis_connect(r->port);
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
redis_start_as(th_redis *r, bool cluster, bool aof, int node_timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->cluster = cluster;
	r->aof = aof;
	r->node_timeout_ms = node_timeout_ms;
	r->port = cluster ? cluster_free_port() : th_free_port();
	if (r->port < 0)
		return -1;
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s/redis-%d", th_dir(),
	        r->port) >= sizeof(r->dir))
		return -1;
	mkdir(r->dir, 0755);
	snprintf(r->addr, sizeof(r->addr), "127.0.0.1:%d", r->port);
	return redis_launch(r);
}

int
th_redis_start(th_redis *r)
{
	return redis_start_as(r, false, true, 0);
}

int
th_redis_start_cluster(th_redis *r)
{
	return redis_start_as(r, true, false, 0);
}

int
th_redis_restart(th_redis *r, bool hard)
{
	th_stop(&r->proc, hard ? SIGKILL : SIGTERM, 5000);
	return redis_launch(r);
}

void
th_redis_stop(th_redis *r)
{
	th_stop(&r->proc, SIGTERM, 5000);
}

static redisReply *
redis_vcmd(th_redis *r, const char *fmt, va_list ap)
{
	redisContext *c = redis_connect(r->port);
	redisReply *rep;
	if (c == NULL)
		return NULL;
	rep = redisvCommand(c, fmt, ap);
	redisFree(c);
	return rep;
}

redisReply *
th_redis_cmd(th_redis *r, const char *fmt, ...)
{
	va_list ap;
	redisReply *rep;
	va_start(ap, fmt);
	rep = redis_vcmd(r, fmt, ap);
	va_end(ap);
	return rep;
}

long long
th_redis_int(th_redis *r, const char *fmt, ...)
{
	va_list ap;
	redisReply *rep;
	long long v = -1;
	va_start(ap, fmt);
	rep = redis_vcmd(r, fmt, ap);
	va_end(ap);
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else if (rep->type == REDIS_REPLY_STRING)
		v = strtoll(rep->str, NULL, 10);
	freeReplyObject(rep);
	return v;
}

/* ---- a Redis Cluster ---------------------------------------------------- */

/* Whether every live node says cluster_state:ok and knows all n. */
static bool
cluster_ok(th_cluster *c)
{
	char known[40];

	snprintf(known, sizeof(known), "cluster_known_nodes:%zu\r", c->n);
	for (size_t i = 0; i < c->n; i++) {
		redisReply *r;
		if (!th_alive(&c->node[i].proc))
			continue; /* killed by the test */
		r = th_redis_cmd(&c->node[i], "CLUSTER INFO");
		bool ok = r != NULL && r->type == REDIS_REPLY_STRING &&
		    strstr(r->str, "cluster_state:ok") != NULL &&
		    strstr(r->str, known) != NULL;
		if (r)
			freeReplyObject(r);
		if (!ok)
			return false;
	}
	return true;
}

/* A command that must answer +OK (or a string, for MYID). */
static bool
cluster_cmd_ok(th_redis *r, const char *fmt, ...)
{
	va_list ap;
	redisReply *rep;
	bool ok;

	va_start(ap, fmt);
	rep = redis_vcmd(r, fmt, ap);
	va_end(ap);
	ok = rep != NULL &&
	    (rep->type == REDIS_REPLY_STATUS ||
	        rep->type == REDIS_REPLY_STRING);
	if (rep != NULL && !ok && rep->type == REDIS_REPLY_ERROR)
		fprintf(stderr, "harness: cluster %d: %s\n", r->port,
		    rep->str);
	if (rep)
		freeReplyObject(rep);
	return ok;
}

/* Start n cluster nodes (AOF and node timeout as asked), the first
 * `masters` each owning an equal range of the slots with its own config
 * epoch, all met through node 0; wait (15 s) until every one says
 * cluster_state:ok and knows the n. */
static int
cluster_build(th_cluster *c, size_t n, size_t masters, bool aof,
    int node_timeout_ms)
{
	size_t used = 0;
	int64_t deadline;

	memset(c, 0, sizeof(*c));
	if (masters < 1 || n < masters || n > TH_CLUSTER_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		redisReply *r;
		if (redis_start_as(&c->node[i], true, aof, node_timeout_ms) !=
		    0)
			return -1;
		c->n = i + 1;
		r = th_redis_cmd(&c->node[i], "CLUSTER MYID");
		if (r == NULL || r->type != REDIS_REPLY_STRING ||
		    r->len >= sizeof(c->id[i])) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		memcpy(c->id[i], r->str, r->len + 1);
		freeReplyObject(r);
		/* Distinct epochs, as redis-cli --cluster create sets them,
		 * so no node has to resolve a collision first. */
		if (i < masters &&
		    (!cluster_cmd_ok(&c->node[i],
		         "CLUSTER SET-CONFIG-EPOCH %d", (int)i + 1) ||
		        !cluster_cmd_ok(&c->node[i],
		            "CLUSTER ADDSLOTSRANGE %d %d",
		            (int)(16384 * i / masters),
		            (int)(16384 * (i + 1) / masters) - 1)))
			return -1;
		used +=
		    (size_t)snprintf(c->seeds + used, sizeof(c->seeds) - used,
		        "%s%s", i ? "," : "", c->node[i].addr);
	}
	for (size_t i = 1; i < n; i++)
		if (!cluster_cmd_ok(&c->node[0], "CLUSTER MEET 127.0.0.1 %d",
		        c->node[i].port))
			return -1;
	deadline = tr_mono_ms() + 15000;
	while (!cluster_ok(c)) {
		if (tr_mono_ms() > deadline)
			return -1;
		tr_sleep_ms(50);
	}
	return 0;
}

int
th_cluster_start(th_cluster *c, size_t n)
{
	if (cluster_build(c, n, n, false, 0) != 0) {
		th_cluster_stop(c);
		return -1;
	}
	return 0;
}

/* A string field of INFO <section> on node r, e.g. "role:", into out;
 * false if absent. */
static bool
info_field(th_redis *r, const char *section, const char *field, char *out,
    size_t cap)
{
	redisReply *rep = th_redis_cmd(r, "INFO %s", section);
	const char *p;
	bool ok = false;

	if (rep != NULL && rep->type == REDIS_REPLY_STRING &&
	    (p = strstr(rep->str, field)) != NULL) {
		size_t len;
		p += strlen(field);
		len = strcspn(p, "\r\n");
		if (len < cap) {
			memcpy(out, p, len);
			out[len] = '\0';
			ok = true;
		}
	}
	if (rep)
		freeReplyObject(rep);
	return ok;
}

int
th_redis_replicate(th_redis *r, th_redis *master)
{
	int64_t deadline = tr_mono_ms() + 10000;
	char st[16];

	if (!cluster_cmd_ok(r, "REPLICAOF 127.0.0.1 %d", master->port))
		return -1;
	while (!info_field(r, "replication", "master_link_status:", st,
	           sizeof(st)) ||
	    strcmp(st, "up") != 0) {
		if (tr_mono_ms() > deadline)
			return -1;
		tr_sleep_ms(20);
	}
	return 0;
}

bool
th_cluster_is_master(th_cluster *c, size_t i)
{
	char role[16];
	return info_field(&c->node[i], "replication", "role:", role,
	           sizeof(role)) &&
	    strcmp(role, "master") == 0;
}

int
th_cluster_wait_replica(th_cluster *c, size_t i, int timeout_ms)
{
	int64_t deadline = tr_mono_ms() + timeout_ms;
	char role[16], st[16];

	while (!info_field(&c->node[i], "replication", "role:", role,
	           sizeof(role)) ||
	    strcmp(role, "slave") != 0 ||
	    !info_field(&c->node[i], "replication", "master_link_status:", st,
	        sizeof(st)) ||
	    strcmp(st, "up") != 0) {
		if (tr_mono_ms() > deadline)
			return -1;
		tr_sleep_ms(50);
	}
	return 0;
}

/* Every replica's link to its master is up. */
static bool
replicas_linked(th_cluster *c)
{
	for (size_t i = c->masters; i < c->n; i++) {
		char st[16];
		if (!info_field(&c->node[i], "replication",
		        "master_link_status:", st, sizeof(st)) ||
		    strcmp(st, "up") != 0)
			return false;
	}
	return true;
}

int
th_cluster_start_replicas(th_cluster *c, size_t masters, int node_timeout_ms)
{
	int64_t deadline;

	if (cluster_build(c, masters * 2, masters, true, node_timeout_ms) != 0)
		goto fail;
	c->masters = masters;
	/* Each replica knows its master now (the cluster is ok with every
	 * node known), so it can follow it. */
	for (size_t i = masters; i < c->n; i++)
		if (!cluster_cmd_ok(&c->node[i], "CLUSTER REPLICATE %s",
		        c->id[i - masters]))
			goto fail;
	deadline = tr_mono_ms() + 15000;
	while (!cluster_ok(c) || !replicas_linked(c)) {
		if (tr_mono_ms() > deadline)
			goto fail;
		tr_sleep_ms(50);
	}
	return 0;
fail:
	th_cluster_stop(c);
	return -1;
}

int
th_cluster_failover_wait(th_cluster *c, size_t m, int timeout_ms,
    bool *took_over)
{
	size_t rep = m + c->masters;
	int64_t deadline = tr_mono_ms() + timeout_ms;

	*took_over = false;
	if (c->masters == 0 || m >= c->masters)
		return -1;
	for (;;) {
		if (th_cluster_is_master(c, rep) && cluster_ok(c))
			return (int)rep;
		if (tr_mono_ms() > deadline) {
			if (*took_over)
				return -1;
			/* The cluster did not elect it in time: the test says
			 * so and forces it. */
			*took_over = true;
			(void)cluster_cmd_ok(&c->node[rep],
			    "CLUSTER FAILOVER TAKEOVER");
			deadline = tr_mono_ms() + timeout_ms;
		}
		tr_sleep_ms(20);
	}
}

void
th_cluster_stop(th_cluster *c)
{
	for (size_t i = 0; i < c->n; i++)
		th_redis_stop(&c->node[i]);
	c->n = 0;
	c->masters = 0;
}

/* Whether the slot ranges after the 8th field of a CLUSTER NODES line
 * ("0-5460 5462 [5461->-id]") hold slot. */
static bool
line_serves(const char *line, int slot)
{
	const char *p = line;

	for (int field = 0; field < 8 && p != NULL; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	while (p != NULL && *p != '\0' && *p != '\n') {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (*p == '[') {
			/* a slot being moved: not served by this line */
		} else if (end != p) {
			if (*end == '-')
				b = strtol(end + 1, &end, 10);
			if (slot >= a && slot <= b)
				return true;
		}
		p = strpbrk(p, " \n");
		if (p != NULL && *p == ' ')
			p++;
		else
			break;
	}
	return false;
}

int
th_cluster_owner(th_cluster *c, int slot)
{
	for (size_t i = 0; i < c->n; i++) {
		redisReply *r = th_redis_cmd(&c->node[i], "CLUSTER NODES");
		const char *me;
		bool yes = false;
		if (r != NULL && r->type == REDIS_REPLY_STRING &&
		    (me = strstr(r->str, "myself")) != NULL) {
			while (me > r->str && me[-1] != '\n')
				me--;
			yes = line_serves(me, slot);
		}
		if (r)
			freeReplyObject(r);
		if (yes)
			return (int)i;
	}
	return -1;
}

int
th_cluster_migrate_begin(th_cluster *c, int slot, int from, int to)
{
	return cluster_cmd_ok(&c->node[to], "CLUSTER SETSLOT %d IMPORTING %s",
	           slot, c->id[from]) &&
	        cluster_cmd_ok(&c->node[from],
	            "CLUSTER SETSLOT %d MIGRATING %s", slot, c->id[to])
	    ? 0
	    : -1;
}

int
th_cluster_migrate_keys(th_cluster *c, int slot, int from, int to)
{
	/* Bounded: 100 rounds of 100 keys. */
	for (int round = 0; round < 100; round++) {
		redisReply *keys = th_redis_cmd(&c->node[from],
		    "CLUSTER GETKEYSINSLOT %d 100", slot);
		const char *argv[6 + 100];
		char port[16];
		size_t argc = 0;
		bool ok;
		if (keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
			if (keys)
				freeReplyObject(keys);
			return -1;
		}
		if (keys->elements == 0) {
			freeReplyObject(keys);
			return 0;
		}
		snprintf(port, sizeof(port), "%d", c->node[to].port);
		argv[argc++] = "MIGRATE";
		argv[argc++] = "127.0.0.1";
		argv[argc++] = port;
		argv[argc++] = "";
		argv[argc++] = "0";
		argv[argc++] = "5000";
		argv[argc++] = "KEYS";
		for (size_t i = 0; i < keys->elements && i < 93; i++)
			argv[argc++] = keys->element[i]->str;
		{
			redisContext *rc = redis_connect(c->node[from].port);
			redisReply *r = rc
			    ? redisCommandArgv(rc, (int)argc, argv, NULL)
			    : NULL;
			ok = r != NULL && r->type == REDIS_REPLY_STATUS;
			if (r != NULL && !ok && r->type == REDIS_REPLY_ERROR)
				fprintf(stderr, "harness: MIGRATE: %s\n",
				    r->str);
			if (r)
				freeReplyObject(r);
			if (rc)
				redisFree(rc);
		}
		freeReplyObject(keys);
		if (!ok)
			return -1;
	}
	return -1;
}

int
th_cluster_migrate_end(th_cluster *c, int slot, int to)
{
	/* The new owner first, as redis-cli does. */
	if (!cluster_cmd_ok(&c->node[to], "CLUSTER SETSLOT %d NODE %s", slot,
	        c->id[to]))
		return -1;
	for (size_t i = 0; i < c->n; i++)
		if ((int)i != to &&
		    !cluster_cmd_ok(&c->node[i], "CLUSTER SETSLOT %d NODE %s",
		        slot, c->id[to]))
			return -1;
	return 0;
}

/* ---- stock nodes -------------------------------------------------------- */

static int
stockd_launch(th_stockd *s)
{
	char *argv[64];
	int argc = 0;
	char log_name[64];
	int64_t deadline;

	argv[argc++] = (char *)th_bin("stockd");
	argv[argc++] = "--node-id";
	argv[argc++] = s->node;
	argv[argc++] = "--listen";
	argv[argc++] = s->data_url;
	argv[argc++] = "--admin";
	argv[argc++] = s->admin_url;
	if (s->seeds[0] != '\0') {
		argv[argc++] = "--redis";
		argv[argc++] = s->seeds;
	} else if (s->redis != NULL) {
		argv[argc++] = "--redis";
		argv[argc++] = s->redis->addr;
	} else {
		argv[argc++] = "--standalone";
	}
	for (int i = 0; i < s->nextra; i++)
		argv[argc++] = s->extra[i];
	argv[argc] = NULL;
	snprintf(log_name, sizeof(log_name), "stockd-%s.log", s->node);
	if (th_spawn(&s->proc, log_name, argv) != 0)
		return -1;
	deadline = tr_mono_ms() + 5000;
	while (tr_mono_ms() < deadline) {
		tr_client *c;
		Ticketrush__Reply *rep = NULL;
		if (!th_alive(&s->proc))
			return -1;
		if (tr_client_open(s->admin_url, 500, &c) == 0) {
			int rv = tr_client_status(c, &rep);
			tr_reply_free(rep);
			tr_client_close(c);
			if (rv == 0)
				return 0;
		}
		tr_sleep_ms(20);
	}
	return -1;
}

/* A node's ports and flags; how it reaches Redis is the caller's. */
static void
stockd_init(th_stockd *s, const char *node, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->node, sizeof(s->node), "%s", node);
	s->port = th_free_port();
	snprintf(s->data_url, sizeof(s->data_url), "tcp://127.0.0.1:%d",
	    s->port);
	/* TCP, not ipc: see the --admin note in server/main.c. */
	snprintf(s->admin_url, sizeof(s->admin_url), "tcp://127.0.0.1:%d",
	    th_free_port());
	for (int i = 0; extra && extra[i] && i < 24; i++) {
		snprintf(s->extra[i], sizeof(s->extra[i]), "%s", extra[i]);
		s->nextra++;
	}
}

int
th_stockd_start(th_stockd *s, const char *node, th_redis *r,
    const char *const *extra)
{
	stockd_init(s, node, extra);
	s->redis = r;
	return stockd_launch(s);
}

int
th_stockd_start_seeds(th_stockd *s, const char *node, const char *seeds,
    const char *const *extra)
{
	stockd_init(s, node, extra);
	if ((size_t)snprintf(s->seeds, sizeof(s->seeds), "%s", seeds) >=
	    sizeof(s->seeds))
		return -1;
	return stockd_launch(s);
}

int
th_stockd_restart(th_stockd *s)
{
	if (s->proc.pid > 0)
		th_stop(&s->proc, SIGTERM, 5000);
	return stockd_launch(s);
}

int
th_event_create(th_stockd *s, const char *event_id, unsigned long long total,
    unsigned limit, unsigned long long hold_ms)
{
	tr_client *c;
	Ticketrush__Reply *rep = NULL;
	int rv;
	if (tr_client_open(s->admin_url, 3000, &c) != 0)
		return -1;
	rv = tr_client_create_event(c, event_id, total, limit, hold_ms, 0,
	    &rep);
	tr_reply_free(rep);
	tr_client_close(c);
	return rv == 0 ? 0 : -1;
}

int
th_event_wait(th_stockd *nodes, size_t n, const char *event_id)
{
	int64_t deadline = tr_mono_ms() + 5000;
	for (size_t i = 0; i < n; i++) {
		for (;;) {
			tr_client *c;
			Ticketrush__Reply *rep = NULL;
			int rv = -1;
			if (tr_client_open(nodes[i].data_url, 500, &c) == 0) {
				rv = tr_client_get_event(c, event_id, &rep);
				tr_reply_free(rep);
				tr_client_close(c);
			}
			if (rv == 0)
				break;
			if (tr_mono_ms() > deadline)
				return -1;
			tr_sleep_ms(20);
		}
	}
	return 0;
}

/* ---- gateway and HTTP --------------------------------------------------- */

int
th_gate_start(th_gate *g, const char *const *args)
{
	char *argv[64];
	char listen[32], body[256];
	int argc = 0;
	int64_t deadline;

	memset(g, 0, sizeof(*g));
	g->port = th_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", g->port);
	argv[argc++] = (char *)th_bin("trgate");
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	for (int i = 0; args && args[i] && argc < 62; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	if (th_spawn(&g->proc, "trgate.log", argv) != 0)
		return -1;
	deadline = tr_mono_ms() + 5000;
	while (tr_mono_ms() < deadline) {
		if (!th_alive(&g->proc))
			return -1;
		if (th_http(g->port, "GET", "/healthz", NULL, body,
		        sizeof(body)) == 200)
			return 0;
		tr_sleep_ms(20);
	}
	return -1;
}

int
th_http(int port, const char *method, const char *path, const char *json_body,
    char *body, size_t cap)
{
	struct sockaddr_in a = {0};
	struct timeval tv = {5, 0};
	char req[8192], resp[65536];
	size_t got = 0;
	int fd, n, status = -1;
	char *p;

	if (cap > 0)
		body[0] = '\0';
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s",
	    method, path,
	    json_body ? "Content-Type: application/json\r\n" : "",
	    json_body ? "" : "\r\n");
	if (json_body)
		n += snprintf(req + n, sizeof(req) - (size_t)n,
		    "Content-Length: %zu\r\n\r\n%s", strlen(json_body),
		    json_body);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(resp) - 1)
			break;
	}
	close(fd);
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	if ((p = strstr(resp, "\r\n\r\n")) != NULL && cap > 0)
		snprintf(body, cap, "%s", p + 4);
	return status;
}

void
th_conn_init(th_conn *c, int port)
{
	c->fd = -1;
	c->port = port;
}

void
th_conn_close(th_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
conn_connect(th_conn *c)
{
	struct sockaddr_in a = {0};
	struct timeval tv = {5, 0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)c->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		th_conn_close(c);
		return -1;
	}
	return 0;
}

/* One exchange; -2 if the connection was found closed before any answer
 * (the caller may retry once on a new one). */
static int
conn_once(th_conn *c, const char *req, size_t req_len, char *body, size_t cap)
{
	char buf[65536], *end, *cl;
	size_t got = 0, need;
	int status;

	if (write(c->fd, req, req_len) != (ssize_t)req_len)
		return -2;
	for (;;) {
		ssize_t r = read(c->fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			return got == 0 ? -2 : -1;
		got += (size_t)r;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (got == sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	cl = strcasestr(buf, "content-length:");
	need = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
	while (got < need && got < sizeof(buf) - 1) {
		ssize_t r = read(c->fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	buf[got] = '\0';
	if (cap > 0)
		snprintf(body, cap, "%s", end + 4);
	return status;
}

int
th_conn_http(th_conn *c, const char *method, const char *path,
    const char *json_body, char *body, size_t cap)
{
	char req[8192];
	int n, st;

	n = snprintf(req, sizeof(req),
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n"
	    "%s",
	    method, path, json_body ? strlen(json_body) : 0,
	    json_body ? json_body : "");
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && conn_connect(c) != 0)
			return -1;
		st = conn_once(c, req, (size_t)n, body, cap);
		if (st >= 0)
			return st;
		th_conn_close(c);
		if (st != -2)
			return -1;
	}
	return -1;
}

int
th_run(const char *cmdline, char *out, size_t cap)
{
	FILE *f = popen(cmdline, "r");
	size_t got = 0;
	int status;
	if (f == NULL)
		return -1;
	if (cap > 0) {
		got = fread(out, 1, cap - 1, f);
		out[got] = '\0';
	}
	status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
th_ctl(const char *fmt, ...)
{
	char args[512], cmd[1024], out[8192];
	va_list ap;
	int rv;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s", th_bin("ticketctl"), args);
	rv = th_run(cmd, out, sizeof(out));
	if (rv != 0)
		fprintf(stderr, "ticketctl %s: exit %d\n%s\n", args, rv, out);
	return rv;
}

int
th_coord_call(tr_coord *c, tr_call *k)
{
	tr_call *kp = k;
	int rv = tr_coord_run(c, &kp, 1);
	if (rv == 0)
		rv = k->rv;
	if (rv != 0)
		fprintf(stderr, "%s: %s %s\n", tr_script_name[k->script],
		    tr_strerror(rv), k->detail);
	return rv;
}

int
th_coord_lease(tr_coord *c, const char *ev, uint64_t total, uint32_t limit,
    uint64_t hold_ms, const char *node, uint64_t grant, uint64_t *epoch)
{
	tr_call k;
	tr_event_figures fig;
	uint64_t returned, hold, granted, pool;
	int64_t opens;
	uint32_t lim;
	int rv;

	tr_call_create_event(&k, ev, total, limit, hold_ms, 0);
	rv = th_coord_call(c, &k);
	tr_call_done(&k);
	if (rv != 0)
		return rv;
	tr_call_register(&k, ev, node);
	if ((rv = th_coord_call(c, &k)) == 0)
		rv = tr_result_register(&k, &fig, &returned, &lim, &hold,
		    &opens);
	tr_call_done(&k);
	if (rv != 0)
		return rv;
	tr_call_grant(&k, ev, node, fig.epoch, grant);
	if ((rv = th_coord_call(c, &k)) == 0)
		rv = tr_result_grant(&k, &granted, &pool);
	tr_call_done(&k);
	if (rv == 0)
		*epoch = fig.epoch;
	return rv;
}
