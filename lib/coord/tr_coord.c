/* tr_coord: hiredis connection, script loading, pipelined script calls. */
#include "tr_coord.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_cluster.h"
#include "tr_err.h"
#include "tr_log.h"
#include "tr_parse.h"
#include "tr_rconn.h"
#include "tr_slot.h"

struct tr_coord {
	char host[256];
	int port;
	int timeout_ms;
	redisContext *ctx; /* NULL while down (one Redis) */
	tr_cluster *cl;    /* a Redis Cluster: routing (else NULL) */
	char sha[TR_SCRIPT_COUNT][41];
	uint64_t commands;
};

/* A context that reported an error is dead: free it, never reuse it. */
static void
drop_ctx(tr_coord *c, const char *why)
{
	if (c->ctx == NULL)
		return;
	tr_warn("coordinator %s:%d connection dropped: %s", c->host, c->port,
	    why);
	redisFree(c->ctx);
	c->ctx = NULL;
}

/* SCRIPT LOAD every script on ctx. 0, or TR_EUNAVAILABLE with *why (the
 * context is then dead: the caller frees it). */
static int
load_scripts_on(tr_coord *c, redisContext *ctx, const char **why)
{
	for (int i = 0; i < TR_SCRIPT_COUNT; i++) {
		const char *argv[3] = {"SCRIPT", "LOAD", tr_script_source[i]};
		redisReply *r = redisCommandArgv(ctx, 3, argv, NULL);
		c->commands++;
		if (r == NULL) {
			*why = ctx->errstr;
			return TR_EUNAVAILABLE;
		}
		if (r->type != REDIS_REPLY_STRING || r->len != 40) {
			tr_error("SCRIPT LOAD %s failed: %s",
			    tr_script_name[i],
			    r->type == REDIS_REPLY_ERROR ? r->str : "?");
			freeReplyObject(r);
			*why = "script load failed";
			return TR_EUNAVAILABLE;
		}
		/* The SHA-1 of the source: the same on every server. */
		memcpy(c->sha[i], r->str, 40);
		c->sha[i][40] = '\0';
		freeReplyObject(r);
	}
	return 0;
}

static int
load_scripts(tr_coord *c)
{
	const char *why = NULL;
	int rv = load_scripts_on(c, c->ctx, &why);
	if (rv != 0)
		drop_ctx(c, why);
	return rv;
}

/* A new connection to a cluster master: the scripts first. */
static int
cluster_hook(redisContext *ctx, void *arg)
{
	const char *why = NULL;
	int rv = load_scripts_on(arg, ctx, &why);
	if (rv != 0)
		tr_warn("coordinator: cluster master: %s", why);
	return rv;
}

int
tr_coord_reconnect(tr_coord *c)
{
	redisContext *ctx;

	if (c->cl != NULL) {
		/* Masters are connected (and their scripts loaded) when a
		 * call first needs them. */
		return tr_cluster_refresh(c->cl) == 0 ? 0 : TR_EUNAVAILABLE;
	}
	drop_ctx(c, "reconnecting");
	if ((ctx = tr_rconn_open(c->host, c->port, c->timeout_ms)) == NULL)
		return TR_EUNAVAILABLE;
	c->ctx = ctx;
	if (load_scripts(c) != 0)
		return TR_EUNAVAILABLE;
	tr_info("coordinator %s:%d connected, %d scripts loaded", c->host,
	    c->port, TR_SCRIPT_COUNT);
	return 0;
}

/* "host:port[,host:port...]" into seeds. The count, or TR_EINVALID. */
static int
parse_addrs(const char *s, tr_slot_master *seeds, size_t cap)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return TR_EINVALID;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char one[TR_SLOT_HOST_MAX + 8];
		if (n == cap || len == 0 || len >= sizeof(one))
			return TR_EINVALID;
		memcpy(one, s, len);
		one[len] = '\0';
		if (tr_parse_hostport(one, seeds[n].host,
		        (int)sizeof(seeds[n].host), &seeds[n].port) != 0)
			return TR_EINVALID;
		n++;
		if (comma == NULL)
			return (int)n;
		s = comma + 1;
	}
}

int
tr_coord_addrs_count(const char *addrs)
{
	tr_slot_master seeds[TR_CLUSTER_SEEDS_MAX];
	return parse_addrs(addrs, seeds, TR_CLUSTER_SEEDS_MAX);
}

int
tr_coord_open(const tr_coord_opts *o, bool allow_down, tr_coord **out)
{
	tr_slot_master seeds[TR_CLUSTER_SEEDS_MAX];
	tr_coord *c;
	int rv, nseeds = 0;

	*out = NULL;
	if (o->addrs != NULL &&
	    (nseeds = parse_addrs(o->addrs, seeds, TR_CLUSTER_SEEDS_MAX)) < 0)
		return TR_EINVALID;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TR_ENOMEM;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 500;
	if (nseeds > 1 || (nseeds == 1 && o->cluster)) {
		rv = tr_cluster_new(seeds, (size_t)nseeds, c->timeout_ms,
		    cluster_hook, c, &c->cl);
		if (rv != 0) {
			free(c);
			return rv;
		}
		snprintf(c->host, sizeof(c->host), "%s", seeds[0].host);
		c->port = seeds[0].port;
	} else if (nseeds == 1) {
		snprintf(c->host, sizeof(c->host), "%s", seeds[0].host);
		c->port = seeds[0].port;
	} else {
		snprintf(c->host, sizeof(c->host), "%s",
		    o->host ? o->host : "127.0.0.1");
		c->port = o->port ? o->port : 6379;
	}
	rv = tr_coord_reconnect(c);
	if (rv != 0 && !allow_down) {
		tr_coord_close(c);
		return rv;
	}
	*out = c;
	return rv;
}

void
tr_coord_close(tr_coord *c)
{
	if (c == NULL)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	tr_cluster_free(c->cl);
	free(c);
}

bool
tr_coord_connected(const tr_coord *c)
{
	return c->cl != NULL ? tr_cluster_up(c->cl) : c->ctx != NULL;
}

bool
tr_coord_is_cluster(const tr_coord *c)
{
	return c->cl != NULL;
}

int
tr_coord_cluster_stats(const tr_coord *c, tr_cluster_stats *out)
{
	if (c->cl == NULL)
		return TR_EINVALID;
	tr_cluster_stats_get(c->cl, out);
	return 0;
}

uint64_t
tr_coord_commands(const tr_coord *c)
{
	tr_cluster_stats st = {0};

	if (c->cl != NULL)
		tr_cluster_stats_get(c->cl, &st);
	return c->commands + st.commands;
}

/* ---- building calls ---------------------------------------------------- */

static void
call_push(tr_call *k, const char *s, size_t len)
{
	/* Strings are copied into the call, so builders may take temporaries.
	 * Inputs are bounded by the id shapes; the check guards the sum. */
	if (k->used + len + 1 > sizeof(k->buf) ||
	    k->argc >= (int)(sizeof(k->argv) / sizeof(k->argv[0]))) {
		tr_error("script call %s too large",
		    tr_script_name[k->script]);
		abort();
	}
	memcpy(k->buf + k->used, s, len);
	k->buf[k->used + len] = '\0';
	k->argv[k->argc] = k->buf + k->used;
	k->argvlen[k->argc] = len;
	k->argc++;
	k->used += len + 1;
}

static void call_pushf(tr_call *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
call_pushf(tr_call *k, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	call_push(k, tmp,
	    (size_t)(n < (int)sizeof(tmp) ? n : (int)sizeof(tmp) - 1));
}

/* Arguments past the fixed part (hold and expire items). */
static int
call_push_extra(tr_call *k, const char *s, size_t len)
{
	if (k->xargc == k->xargcap) {
		int cap = k->xargcap ? k->xargcap * 2 : 64;
		size_t *off = realloc(k->xoff, (size_t)cap * sizeof(*off));
		if (off == NULL)
			return TR_ENOMEM;
		k->xoff = off;
		size_t *lens = realloc(k->xlen, (size_t)cap * sizeof(*lens));
		if (lens == NULL)
			return TR_ENOMEM;
		k->xlen = lens;
		k->xargcap = cap;
	}
	if (k->xused + len + 1 > k->xcap) {
		size_t cap = k->xcap ? k->xcap * 2 : 4096;
		while (cap < k->xused + len + 1)
			cap *= 2;
		char *b = realloc(k->xbuf, cap);
		if (b == NULL)
			return TR_ENOMEM;
		k->xbuf = b;
		k->xcap = cap;
	}
	memcpy(k->xbuf + k->xused, s, len);
	k->xbuf[k->xused + len] = '\0';
	k->xoff[k->xargc] = k->xused;
	k->xlen[k->xargc] = len;
	k->xargc++;
	k->xused += len + 1;
	return 0;
}

static void
call_init(tr_call *k, enum tr_script script)
{
	memset(k, 0, offsetof(tr_call, buf));
	k->used = 0;
	k->xbuf = NULL;
	k->xused = k->xcap = 0;
	k->xoff = k->xlen = NULL;
	k->xargc = k->xargcap = 0;
	k->reply = NULL;
	k->rv = 0;
	k->detail[0] = '\0';
	k->fenced_epoch = 0;
	k->wait_replicas = k->wait_ms = 0;
	k->replicas = -1;
	k->script = script;
	call_push(k, "EVALSHA", 7);
	call_push(k, "", 0); /* sha: filled in at run time */
}

static void
call_begin(tr_call *k, enum tr_script script, const char *event_id)
{
	static const char *suffix[TR_EVENT_KEY_COUNT] = {"meta", "pool",
	    "sold", "held", "lease", "epoch", "buyers", "orders", "stream",
	    "holds", "deadlines", "uholds", "reqs", "ended", "nheld", "line",
	    "lent", "lended", "llog"};

	call_init(k, script);
	/* Every key of an event script is the event's: one slot. */
	call_pushf(k, "%d", TR_EVENT_KEY_COUNT);
	for (int i = 0; i < TR_EVENT_KEY_COUNT; i++)
		call_pushf(k, "tr:{%s}:%s", event_id, suffix[i]);
}

static void
call_arg(tr_call *k, const char *s)
{
	call_push(k, s, strlen(s));
}

static void
alive_key(char *out, size_t cap, const char *node)
{
	snprintf(out, cap, TR_KEY_NODE "%s:alive", node);
}

/* 128 random bits in hex: the secret of an event's offer ids. */
static void
push_secret(tr_call *k)
{
	call_pushf(k, "%016" PRIx64 "%016" PRIx64, tr_random_u64(),
	    tr_random_u64());
}

void
tr_call_create_event(tr_call *k, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms)
{
	tr_call_create_event_wl(k, event_id, total, limit_per_user, hold_ms,
	    opens_at_ms, 0, 0);
}

void
tr_call_create_event_wl(tr_call *k, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms,
    uint64_t waitlist_max, uint64_t offer_ms)
{
	call_begin(k, TR_SCRIPT_CREATE_EVENT, event_id);
	call_pushf(k, "%" PRIu64, total);
	call_pushf(k, "%" PRIu32, limit_per_user);
	call_pushf(k, "%" PRIu64, hold_ms);
	call_pushf(k, "%" PRId64, opens_at_ms);
	call_pushf(k, "%" PRIu64, waitlist_max);
	call_pushf(k, "%" PRIu64, offer_ms);
	push_secret(k);
}

void
tr_call_register(tr_call *k, const char *event_id, const char *node)
{
	call_begin(k, TR_SCRIPT_REGISTER, event_id);
	call_arg(k, node);
}

void
tr_call_grant(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t want)
{
	call_begin(k, TR_SCRIPT_GRANT, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
	call_pushf(k, "%" PRIu64, want);
}

/* Calls whose items follow: the count is the last fixed argument, set when
 * the call is run (see items_count). */
void
tr_call_hold(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch)
{
	call_begin(k, TR_SCRIPT_HOLD, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
	call_push(k, "", 0); /* count */
}

int
tr_call_hold_item(tr_call *k, const char *rid, const char *user, uint32_t qty,
    const char *request_id)
{
	char q[16];
	int n = snprintf(q, sizeof(q), "%" PRIu32, qty);
	if (call_push_extra(k, rid, strlen(rid)) != 0 ||
	    call_push_extra(k, user, strlen(user)) != 0 ||
	    call_push_extra(k, q, (size_t)n) != 0 ||
	    call_push_extra(k, request_id ? request_id : "",
	        request_id ? strlen(request_id) : 0) != 0)
		return TR_ENOMEM;
	return 0;
}

void
tr_call_confirm(tr_call *k, const char *event_id, const char *node)
{
	call_begin(k, TR_SCRIPT_CONFIRM, event_id);
	call_arg(k, node);
	call_arg(k, event_id);
	call_push(k, "", 0); /* count */
}

int
tr_call_confirm_item(tr_call *k, const char *rid, const char *user,
    const char *payment_ref)
{
	if (payment_ref == NULL)
		payment_ref = "";
	if (call_push_extra(k, rid, strlen(rid)) != 0 ||
	    call_push_extra(k, user, strlen(user)) != 0 ||
	    call_push_extra(k, payment_ref, strlen(payment_ref)) != 0)
		return TR_ENOMEM;
	return 0;
}

void
tr_call_release(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, const char *rid, const char *user)
{
	call_begin(k, TR_SCRIPT_RELEASE, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
	call_arg(k, rid);
	call_arg(k, user);
}

void
tr_call_expire(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch)
{
	call_begin(k, TR_SCRIPT_EXPIRE, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
	call_push(k, "", 0); /* count */
}

int
tr_call_expire_item(tr_call *k, const char *rid)
{
	return call_push_extra(k, rid, strlen(rid));
}

void
tr_call_expire_due(tr_call *k, const char *event_id, uint64_t grace_ms,
    uint32_t limit, uint64_t keep_ended_ms, uint32_t prune_limit)
{
	call_begin(k, TR_SCRIPT_EXPIRE_DUE, event_id);
	call_pushf(k, "%" PRIu64, grace_ms);
	call_pushf(k, "%" PRIu32, limit);
	call_pushf(k, "%" PRIu64, keep_ended_ms);
	call_pushf(k, "%" PRIu32, prune_limit);
}

void
tr_call_give_back(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t n)
{
	call_begin(k, TR_SCRIPT_GIVE_BACK, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
	call_pushf(k, "%" PRIu64, n);
}

void
tr_call_reclaim(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch, uint64_t grace_ms, uint32_t limit)
{
	call_begin(k, TR_SCRIPT_RECLAIM, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, grace_ms);
	call_pushf(k, "%" PRIu32, limit);
	call_pushf(k, "%" PRIu64, epoch);
}

void
tr_call_retire(tr_call *k, const char *event_id, const char *node,
    uint64_t epoch)
{
	call_begin(k, TR_SCRIPT_RETIRE, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, epoch);
}

void
tr_call_sync(tr_call *k, const char *event_id, const char *node,
    uint64_t grace_ms, uint32_t limit)
{
	call_begin(k, TR_SCRIPT_SYNC, event_id);
	call_arg(k, node);
	call_pushf(k, "%" PRIu64, grace_ms);
	call_pushf(k, "%" PRIu32, limit);
}

void
tr_call_audit(tr_call *k, const char *event_id)
{
	call_begin(k, TR_SCRIPT_AUDIT, event_id);
}

void
tr_call_info(tr_call *k, const char *event_id)
{
	call_begin(k, TR_SCRIPT_INFO, event_id);
}

void
tr_call_wl_join(tr_call *k, const char *event_id, const char *user,
    const char *request_id)
{
	call_begin(k, TR_SCRIPT_WL_JOIN, event_id);
	call_arg(k, user);
	call_arg(k, request_id);
	push_secret(k);
}

void
tr_call_wl_get(tr_call *k, const char *event_id, const char *user)
{
	call_begin(k, TR_SCRIPT_WL_GET, event_id);
	call_arg(k, user);
}

void
tr_call_wl_leave(tr_call *k, const char *event_id, const char *user)
{
	call_begin(k, TR_SCRIPT_WL_LEAVE, event_id);
	call_arg(k, user);
}

void
tr_call_wl_show(tr_call *k, const char *event_id, uint32_t count)
{
	call_begin(k, TR_SCRIPT_WL_SHOW, event_id);
	call_pushf(k, "%" PRIu32, count);
}

void
tr_call_refund(tr_call *k, const char *event_id, const char *rid,
    const char *user)
{
	call_begin(k, TR_SCRIPT_REFUND, event_id);
	call_arg(k, rid);
	call_arg(k, user);
}

void
tr_call_topup(tr_call *k, const char *event_id, uint64_t n, uint64_t max_total)
{
	call_begin(k, TR_SCRIPT_TOPUP, event_id);
	call_pushf(k, "%" PRIu64, n);
	call_pushf(k, "%" PRIu64, max_total);
}

void
tr_call_close(tr_call *k, const char *event_id, bool closed)
{
	call_begin(k, TR_SCRIPT_CLOSE, event_id);
	call_arg(k, closed ? "1" : "0");
}

void
tr_call_watch(tr_call *k, const char *event_id)
{
	call_begin(k, TR_SCRIPT_WATCH, event_id);
}

void
tr_call_heartbeat(tr_call *k, const char *node, const char *instance,
    uint64_t ttl_ms)
{
	char key[64];
	alive_key(key, sizeof(key), node);
	call_init(k, TR_SCRIPT_HEARTBEAT);
	call_push(k, "2", 1);
	call_arg(k, key);
	call_arg(k, TR_KEY_NODES);
	call_arg(k, instance);
	call_pushf(k, "%" PRIu64, ttl_ms);
	call_arg(k, node);
}

void
tr_call_leave(tr_call *k, const char *node, const char *instance)
{
	char key[64];
	alive_key(key, sizeof(key), node);
	call_init(k, TR_SCRIPT_LEAVE);
	call_push(k, "1", 1);
	call_arg(k, key);
	call_arg(k, instance);
}

void
tr_call_sweeper(tr_call *k, const char *me, uint64_t px_ms)
{
	call_init(k, TR_SCRIPT_SWEEPER);
	call_push(k, "1", 1);
	call_arg(k, TR_KEY_SWEEPER);
	call_arg(k, me);
	call_pushf(k, "%" PRIu64, px_ms);
}

void
tr_call_unindex(tr_call *k, const char *node, const char *event_id)
{
	char key[64], idx[64];
	alive_key(key, sizeof(key), node);
	snprintf(idx, sizeof(idx), TR_KEY_NODE "%s:events", node);
	call_init(k, TR_SCRIPT_UNINDEX);
	call_push(k, "3", 1);
	call_arg(k, key);
	call_arg(k, idx);
	call_arg(k, TR_KEY_NODES);
	call_arg(k, node);
	call_arg(k, event_id);
}

void
tr_call_wait(tr_call *k, int replicas, int wait_ms)
{
	k->wait_replicas = replicas > 0 ? replicas : 0;
	k->wait_ms = wait_ms;
}

void
tr_call_done(tr_call *k)
{
	if (k->reply != NULL) {
		freeReplyObject(k->reply);
		k->reply = NULL;
	}
	free(k->xbuf);
	free(k->xoff);
	free(k->xlen);
	k->xbuf = NULL;
	k->xoff = k->xlen = NULL;
	k->xused = k->xcap = 0;
	k->xargc = k->xargcap = 0;
}

/* Calls with items (hold, confirm, expire): the count is the last fixed
 * argument, each item a fixed number of arguments. */
static int
args_per_item(enum tr_script script)
{
	switch (script) {
	case TR_SCRIPT_HOLD: return 4;
	case TR_SCRIPT_CONFIRM: return 3;
	case TR_SCRIPT_EXPIRE: return 1;
	default: return 0;
	}
}

static size_t
items_of(const tr_call *k)
{
	int per = args_per_item(k->script);
	return per ? (size_t)k->xargc / (size_t)per : 0;
}

/* ---- running ----------------------------------------------------------- */

static int code_of(const char *msg, uint64_t *fenced_epoch);

static int
script_error_code(tr_call *k, const char *msg)
{
	int err;

	snprintf(k->detail, sizeof(k->detail), "%s", msg);
	if ((err = code_of(msg, &k->fenced_epoch)) == TR_EINTERNAL)
		tr_error("script %s failed: %s", tr_script_name[k->script],
		    msg);
	return err;
}

/* The tr_err of a script's refusal "TR_<CODE> message". */
static int
code_of(const char *msg, uint64_t *fenced_epoch)
{
	/* No code is a substring of another. */
	static const struct {
		const char *code;
		int err;
	} codes[] = {
	    {"TR_NOEVENT", TR_ENOT_FOUND},
	    {"TR_NOTFOUND", TR_ENOT_FOUND},
	    {"TR_NOT_OWNER", TR_ENOT_OWNER},
	    {"TR_FENCED", TR_EFENCED},
	    {"TR_LIMIT", TR_ELIMIT},
	    {"TR_EXPIRED", TR_EEXPIRED},
	    {"TR_RELEASED", TR_ECONFLICT},
	    {"TR_CONFIRMED", TR_ECONFLICT},
	    {"TR_DUPLICATE", TR_EDUPLICATE},
	    {"TR_TAKEN", TR_EDUPLICATE},
	    {"TR_INVALID", TR_EINVALID},
	    {"TR_WAITLIST_FULL", TR_EWAITLIST_FULL},
	    {"TR_NOT_PAID", TR_ECONFLICT},
	};
	const char *p;

	/* Redis prefixes Lua errors with "ERR " in some versions, and may
	 * append script context: find our code anywhere. */
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if ((p = strstr(msg, codes[i].code)) != NULL) {
			/* "TR_FENCED <epoch>": the number starts after the
			 * code, if there is one (strtoull skips the space). */
			if (codes[i].err == TR_EFENCED)
				*fenced_epoch =
				    strtoull(p + strlen(codes[i].code), NULL,
				        10);
			return codes[i].err;
		}
	}
	return TR_EINTERNAL;
}

int
tr_call_answer(tr_call *k, redisReply *r)
{
	if (k->reply != NULL)
		freeReplyObject(k->reply);
	k->reply = r;
	if (r->type != REDIS_REPLY_ERROR)
		k->rv = 0;
	else if (strncmp(r->str, "NOSCRIPT", 8) == 0)
		k->rv = TR_EPENDING;
	else
		k->rv = script_error_code(k, r->str);
	return k->rv;
}

/* A call's whole argument vector: the sha and, for calls with items, the
 * count (written in count, which must outlive the vector) and the items
 * after the fixed arguments, in new arrays (free them with argv_free).
 * 0 or TR_ENOMEM. */
static int
call_argv(tr_coord *c, tr_call *k, char count[24], const char ***argvp,
    size_t **argvlenp, int *argcp)
{
	const char **argv = k->argv;
	size_t *argvlen = k->argvlen;
	int argc = k->argc;

	k->argv[1] = c->sha[k->script];
	k->argvlen[1] = 40;
	if (args_per_item(k->script) > 0) {
		argc = k->argc + k->xargc;
		argv = malloc((size_t)argc * sizeof(*argv));
		argvlen = malloc((size_t)argc * sizeof(*argvlen));
		if (argv == NULL || argvlen == NULL) {
			free(argv);
			free(argvlen);
			return TR_ENOMEM;
		}
		memcpy(argv, k->argv, (size_t)k->argc * sizeof(*argv));
		memcpy(argvlen, k->argvlen,
		    (size_t)k->argc * sizeof(*argvlen));
		argvlen[k->argc - 1] =
		    (size_t)snprintf(count, 24, "%zu", items_of(k));
		argv[k->argc - 1] = count;
		for (int i = 0; i < k->xargc; i++) {
			argv[k->argc + i] = k->xbuf + k->xoff[i];
			argvlen[k->argc + i] = k->xlen[i];
		}
	}
	*argvp = argv;
	*argvlenp = argvlen;
	*argcp = argc;
	return 0;
}

static void
argv_free(const tr_call *k, const char **argv, size_t *argvlen)
{
	if (argv != k->argv) {
		free(argv);
		free(argvlen);
	}
}

/* Append one call to the pipeline. */
static int
append_call(tr_coord *c, tr_call *k)
{
	const char **argv;
	size_t *argvlen;
	char count[24];
	int argc, rv;

	if (call_argv(c, k, count, &argv, &argvlen, &argc) != 0)
		return TR_ENOMEM;
	rv = redisAppendCommandArgv(c->ctx, argc, argv, argvlen) == REDIS_OK
	    ? 0
	    : TR_EUNAVAILABLE;
	argv_free(k, argv, argvlen);
	return rv;
}

/* ---- a Redis Cluster --------------------------------------------------- */

/* One call routed by tr_cluster: its command and its argument space. */
struct routed {
	tr_cluster_cmd cmd;
	char count[24];
	size_t *argvlen;
};

/* Every call to the master of its event's slot (KEYS[1]'s: every key of
 * a script shares its hash tag), one pipeline per master. A NOSCRIPT (a
 * master restarted) reconnects every master, which loads the scripts, and
 * sends the refused calls once more. */
static int
cluster_run(tr_coord *c, tr_call *const *calls, size_t n)
{
	struct routed *rt = calloc(n ? n : 1, sizeof(*rt));
	tr_cluster_cmd **cmds = calloc(n ? n : 1, sizeof(*cmds));
	size_t m = 0;
	int rv = 0;

	if (rt == NULL || cmds == NULL) {
		for (size_t i = 0; i < n; i++)
			calls[i]->rv = TR_ENOMEM;
		free(rt);
		free(cmds);
		return 0;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		bool noscript = false;
		m = 0;
		for (size_t i = 0; i < n; i++) {
			tr_call *k = calls[i];
			struct routed *r = &rt[i];
			if (attempt > 0 && k->rv != TR_EPENDING)
				continue;
			if (call_argv(c, k, r->count, &r->cmd.argv,
			        &r->argvlen, &r->cmd.argc) != 0) {
				k->rv = TR_ENOMEM; /* not sent */
				continue;
			}
			r->cmd.argvlen = r->argvlen;
			/* EVALSHA sha numkeys KEYS[1] ... */
			r->cmd.slot =
			    tr_slot_of_key(r->cmd.argv[3], r->cmd.argvlen[3]);
			r->cmd.master = -1;
			r->cmd.wait_replicas = k->wait_replicas;
			r->cmd.wait_ms = k->wait_ms;
			cmds[m++] = &r->cmd;
		}
		rv = tr_cluster_run(c->cl, cmds, m);
		for (size_t i = 0, j = 0; i < n && j < m; i++) {
			struct routed *r = &rt[i];
			if (&r->cmd != cmds[j])
				continue;
			j++;
			argv_free(calls[i], r->cmd.argv, r->argvlen);
			calls[i]->replicas = r->cmd.replicas;
			if (r->cmd.rv != 0) {
				calls[i]->rv = r->cmd.rv;
				continue;
			}
			if (tr_call_answer(calls[i], r->cmd.reply) ==
			    TR_EPENDING)
				noscript = true;
		}
		if (!noscript || rv != 0)
			break;
		tr_warn("coordinator answered NOSCRIPT: reloading scripts");
		tr_cluster_drop_connections(c->cl);
	}
	for (size_t i = 0; i < n; i++)
		if (calls[i]->rv == TR_EPENDING)
			calls[i]->rv = TR_EUNAVAILABLE;
	free(rt);
	free(cmds);
	return rv;
}

/* Append WAIT after a pipeline when a call of it asked (tr_call_wait):
 * the largest count and timeout asked. Whether one was appended. */
static bool
append_wait(tr_coord *c, tr_call *const *calls, size_t n)
{
	int replicas = 0, ms = 0;

	for (size_t i = 0; i < n; i++) {
		if (calls[i]->rv != TR_EPENDING)
			continue;
		if (calls[i]->wait_replicas > replicas)
			replicas = calls[i]->wait_replicas;
		if (calls[i]->wait_ms > ms)
			ms = calls[i]->wait_ms;
	}
	if (replicas == 0 ||
	    tr_rconn_wait_append(c->ctx, replicas, ms, c->timeout_ms) != 0)
		return false;
	c->commands++;
	return true;
}

/* WAIT's answer: the replicas of every answered call that asked. */
static int
read_wait(tr_coord *c, tr_call *const *calls, size_t n)
{
	long long got;
	int code;

	if ((code = tr_rconn_wait_read(c->ctx, &got)) != 0) {
		/* The calls were answered; only the count is unknown. */
		drop_ctx(c,
		    c->ctx->errstr[0] ? c->ctx->errstr : "no reply to WAIT");
		return code;
	}
	for (size_t i = 0; i < n; i++)
		if (calls[i]->wait_replicas > 0 && calls[i]->reply != NULL)
			calls[i]->replicas = got;
	return 0;
}

static int
run_once(tr_coord *c, tr_call *const *calls, size_t n, bool *noscript)
{
	bool wait;
	size_t i;

	*noscript = false;
	for (i = 0; i < n; i++) {
		int rv = append_call(c, calls[i]);
		if (rv == TR_ENOMEM) {
			/* Out of memory for this one: it is not sent; the
			 * calls before it are, and are read below. */
			calls[i]->rv = TR_ENOMEM;
			continue;
		}
		if (rv != 0) {
			drop_ctx(c, "append failed (out of memory)");
			for (; i < n; i++)
				calls[i]->rv = TR_EUNAVAILABLE;
			return TR_EUNAVAILABLE;
		}
		calls[i]->rv = TR_EPENDING;
	}
	c->commands += n;
	wait = append_wait(c, calls, n);
	for (i = 0; i < n; i++) {
		tr_call *k = calls[i];
		redisReply *r = NULL;
		if (k->rv == TR_ENOMEM)
			continue;
		if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK ||
		    r == NULL) {
			/* Sent but unanswered: the outcome of this call and of
			 * every later one is unknown. */
			int code = tr_rconn_error(c->ctx);
			drop_ctx(c,
			    c->ctx->errstr[0] ? c->ctx->errstr : "no reply");
			for (; i < n; i++)
				if (calls[i]->rv != TR_ENOMEM)
					calls[i]->rv = code;
			return code;
		}
		if (tr_call_answer(k, r) == TR_EPENDING)
			*noscript = true; /* retried by tr_coord_run */
	}
	return wait ? read_wait(c, calls, n) : 0;
}

int
tr_coord_run(tr_coord *c, tr_call *const *calls, size_t n)
{
	bool noscript;
	int rv;

	if (c->cl != NULL)
		return cluster_run(c, calls, n);
	if (c->ctx == NULL) {
		for (size_t i = 0; i < n; i++)
			calls[i]->rv = TR_EUNAVAILABLE;
		return TR_EUNAVAILABLE;
	}
	if ((rv = run_once(c, calls, n, &noscript)) != 0 || !noscript)
		return rv;
	/* Redis lost its script cache (restart, SCRIPT FLUSH): load again
	 * and retry the refused calls, which had no effect. */
	tr_warn("coordinator answered NOSCRIPT: reloading scripts");
	if ((rv = load_scripts(c)) != 0) {
		for (size_t i = 0; i < n; i++)
			if (calls[i]->rv == TR_EPENDING)
				calls[i]->rv = TR_EUNAVAILABLE;
		return rv;
	}
	for (size_t i = 0; i < n; i++) {
		if (calls[i]->rv != TR_EPENDING)
			continue;
		if ((rv = run_once(c, &calls[i], 1, &noscript)) != 0)
			return rv;
		if (noscript)
			calls[i]->rv = TR_EUNAVAILABLE;
	}
	return 0;
}

/* ---- reading answers --------------------------------------------------- */

static bool
int_of(const redisReply *e, int64_t *out)
{
	if (e->type == REDIS_REPLY_INTEGER) {
		*out = e->integer;
		return true;
	}
	if (e->type == REDIS_REPLY_STRING) {
		char *end;
		errno = 0;
		*out = strtoll(e->str, &end, 10);
		return errno == 0 && end != e->str && *end == '\0';
	}
	return false;
}

static bool
int_at(const redisReply *r, size_t i, int64_t *out)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return false;
	return int_of(r->element[i], out);
}

static bool
uint_at(const redisReply *r, size_t i, uint64_t *out)
{
	int64_t v;
	if (!int_at(r, i, &v) || v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

static bool
str_at(const redisReply *r, size_t i, char *out, size_t cap)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return false;
	const redisReply *e = r->element[i];
	if (e->type == REDIS_REPLY_STRING && e->len < cap) {
		memcpy(out, e->str, e->len);
		out[e->len] = '\0';
		return true;
	}
	if (e->type == REDIS_REPLY_INTEGER) {
		snprintf(out, cap, "%lld", e->integer);
		return true;
	}
	return false;
}

static int
check(const tr_call *k, enum tr_script script, size_t min_elements)
{
	if (k->rv != 0)
		return k->rv;
	if (k->script != script || k->reply == NULL ||
	    k->reply->type != REDIS_REPLY_ARRAY ||
	    k->reply->elements < min_elements)
		return TR_EPROTO;
	return 0;
}

/* A script's answer of two non-negative counts, {a, b}. */
static int
two_counts(const tr_call *k, enum tr_script script, uint64_t *a, uint64_t *b)
{
	int rv = check(k, script, 2);
	if (rv != 0)
		return rv;
	if (!uint_at(k->reply, 0, a) || !uint_at(k->reply, 1, b))
		return TR_EPROTO;
	return 0;
}

int
tr_result_create_event(const tr_call *k, bool *created)
{
	int64_t v;
	int rv = check(k, TR_SCRIPT_CREATE_EVENT, 1);
	if (rv != 0)
		return rv;
	if (!int_at(k->reply, 0, &v))
		return TR_EPROTO;
	*created = v == 1;
	return 0;
}

int
tr_result_register(const tr_call *k, tr_event_figures *fig, uint64_t *returned,
    uint32_t *limit_per_user, uint64_t *hold_ms, int64_t *opens_at_ms)
{
	uint64_t limit, closed;
	int rv = check(k, TR_SCRIPT_REGISTER, 11);
	if (rv != 0)
		return rv;
	if (!uint_at(k->reply, 0, &fig->epoch) ||
	    !uint_at(k->reply, 1, returned) ||
	    !uint_at(k->reply, 2, &fig->total) ||
	    !uint_at(k->reply, 3, &limit) || !uint_at(k->reply, 4, hold_ms) ||
	    !int_at(k->reply, 5, opens_at_ms) ||
	    !uint_at(k->reply, 6, &fig->pool) ||
	    !uint_at(k->reply, 7, &fig->sold) ||
	    !uint_at(k->reply, 8, &fig->held) ||
	    !uint_at(k->reply, 9, &fig->node_held) ||
	    !uint_at(k->reply, 10, &closed) || limit > UINT32_MAX)
		return TR_EPROTO;
	fig->lease = 0;
	fig->expired = 0;
	fig->closed = closed == 1;
	*limit_per_user = (uint32_t)limit;
	return 0;
}

int
tr_result_grant(const tr_call *k, uint64_t *granted, uint64_t *pool)
{
	return two_counts(k, TR_SCRIPT_GRANT, granted, pool);
}

/* Calls with items answer {now, item...}: as many items as were sent. */
static int
check_items(const tr_call *k, enum tr_script script, int64_t *now_ms,
    size_t *count)
{
	int rv = check(k, script, 1);
	if (rv != 0)
		return rv;
	if (!int_at(k->reply, 0, now_ms) ||
	    k->reply->elements - 1 != items_of(k))
		return TR_EPROTO;
	*count = k->reply->elements - 1;
	return 0;
}

int
tr_result_hold(const tr_call *k, int64_t *now_ms, size_t *count)
{
	return check_items(k, TR_SCRIPT_HOLD, now_ms, count);
}

int
tr_result_hold_item(const tr_call *k, size_t i, tr_hold_result *out)
{
	const redisReply *e;
	int64_t outcome, qty, state;

	if (k->rv != 0)
		return k->rv;
	if (k->reply == NULL || k->reply->type != REDIS_REPLY_ARRAY ||
	    i + 1 >= k->reply->elements)
		return TR_EPROTO;
	e = k->reply->element[i + 1];
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 5 ||
	    !int_at(e, 0, &outcome) || outcome < TR_HOLDCALL_CREATED ||
	    outcome > TR_HOLDCALL_CLOSED ||
	    !str_at(e, 1, out->rid, sizeof(out->rid)) || !int_at(e, 2, &qty) ||
	    qty < 0 || qty > UINT32_MAX || !int_at(e, 3, &state) ||
	    !int_at(e, 4, &out->expires_at_ms))
		return TR_EPROTO;
	out->outcome = (enum tr_hold_outcome)outcome;
	out->qty = (uint32_t)qty;
	out->state = (int)state;
	return 0;
}

int
tr_result_confirm(const tr_call *k, int64_t *now_ms, size_t *count)
{
	return check_items(k, TR_SCRIPT_CONFIRM, now_ms, count);
}

int
tr_result_confirm_item(const tr_call *k, size_t i, tr_order_info *out,
    char *detail, size_t detail_cap)
{
	const redisReply *e;
	int64_t ok, created, at, qty;
	uint64_t unused;

	if (k->rv != 0)
		return k->rv;
	if (k->reply == NULL || k->reply->type != REDIS_REPLY_ARRAY ||
	    i + 1 >= k->reply->elements)
		return TR_EPROTO;
	e = k->reply->element[i + 1];
	if (e->type != REDIS_REPLY_ARRAY || !int_at(e, 0, &ok))
		return TR_EPROTO;
	if (ok == 0) {
		int err;
		if (!str_at(e, 1, detail, detail_cap))
			return TR_EPROTO;
		err = code_of(detail, &unused);
		return err == TR_EINTERNAL ? TR_EPROTO : err;
	}
	if (!int_at(e, 1, &created) || !int_at(e, 2, &at) ||
	    !str_at(e, 3, out->payment_ref, sizeof(out->payment_ref)) ||
	    !str_at(e, 4, out->user, sizeof(out->user)) ||
	    !int_at(e, 5, &qty) ||
	    !str_at(e, 6, out->node, sizeof(out->node)) || qty < 1 ||
	    qty > UINT32_MAX)
		return TR_EPROTO;
	out->created = created == 1;
	out->confirmed_at_ms = at;
	out->qty = (uint32_t)qty;
	return 0;
}

int
tr_result_release(const tr_call *k, int *state, bool *to_lease, uint32_t *qty,
    int64_t *expires_at_ms)
{
	int64_t s, tl, q;
	int rv = check(k, TR_SCRIPT_RELEASE, 4);
	if (rv != 0)
		return rv;
	if (!int_at(k->reply, 0, &s) || !int_at(k->reply, 1, &tl) ||
	    !int_at(k->reply, 2, &q) || !int_at(k->reply, 3, expires_at_ms) ||
	    q < 1 || q > UINT32_MAX || s < 1 || s > 4)
		return TR_EPROTO;
	*state = (int)s;
	*to_lease = tl == 1;
	*qty = (uint32_t)q;
	return 0;
}

int
tr_result_expire(const tr_call *k, int64_t *now_ms, size_t *count)
{
	return check_items(k, TR_SCRIPT_EXPIRE, now_ms, count);
}

int
tr_result_expire_item(const tr_call *k, size_t i, int *state, bool *to_lease,
    int64_t *time_ms, char *payment_ref, size_t ref_cap)
{
	const redisReply *e;
	int64_t s, tl;

	if (k->rv != 0)
		return k->rv;
	if (k->reply == NULL || k->reply->type != REDIS_REPLY_ARRAY ||
	    i + 1 >= k->reply->elements)
		return TR_EPROTO;
	e = k->reply->element[i + 1];
	if (e->type != REDIS_REPLY_ARRAY || !int_at(e, 0, &s) || s < 0 ||
	    s > 4 || !int_at(e, 1, &tl) || !int_at(e, 2, time_ms) ||
	    !str_at(e, 3, payment_ref, ref_cap))
		return TR_EPROTO;
	*state = (int)s;
	*to_lease = tl == 1;
	return 0;
}

int
tr_result_expire_due(const tr_call *k, uint64_t *expired, uint64_t *pruned)
{
	return two_counts(k, TR_SCRIPT_EXPIRE_DUE, expired, pruned);
}

int
tr_result_give_back(const tr_call *k, uint64_t *lease_left, uint64_t *pool)
{
	return two_counts(k, TR_SCRIPT_GIVE_BACK, lease_left, pool);
}

int
tr_result_reclaim(const tr_call *k, bool *reclaimed, uint64_t *returned,
    int64_t *node_held)
{
	int64_t r;
	int rv = check(k, TR_SCRIPT_RECLAIM, 3);
	if (rv != 0)
		return rv;
	/* -1 says "alive"; anything under it is no count of tickets. */
	if (!int_at(k->reply, 0, &r) || !uint_at(k->reply, 1, returned) ||
	    !int_at(k->reply, 2, node_held) || *node_held < -1)
		return TR_EPROTO;
	*reclaimed = r == 1;
	return 0;
}

int
tr_result_sweeper(const tr_call *k, bool *mine)
{
	if (k->rv != 0)
		return k->rv;
	if (k->script != TR_SCRIPT_SWEEPER || k->reply == NULL ||
	    k->reply->type != REDIS_REPLY_INTEGER)
		return TR_EPROTO;
	*mine = k->reply->integer == 1;
	return 0;
}

int
tr_result_retire(const tr_call *k, uint64_t *returned)
{
	int rv = check(k, TR_SCRIPT_RETIRE, 1);
	if (rv != 0)
		return rv;
	if (!uint_at(k->reply, 0, returned))
		return TR_EPROTO;
	return 0;
}

int
tr_result_sync(const tr_call *k, tr_event_figures *out)
{
	uint64_t closed;
	int rv = check(k, TR_SCRIPT_SYNC, 11);
	if (rv != 0)
		return rv;
	if (!uint_at(k->reply, 8, &out->line) ||
	    !uint_at(k->reply, 9, &out->offers) ||
	    !uint_at(k->reply, 0, &out->pool) ||
	    !uint_at(k->reply, 1, &out->sold) ||
	    !uint_at(k->reply, 2, &out->epoch) ||
	    !uint_at(k->reply, 3, &out->lease) ||
	    !uint_at(k->reply, 4, &out->total) ||
	    !uint_at(k->reply, 5, &out->held) ||
	    !uint_at(k->reply, 6, &out->node_held) ||
	    !uint_at(k->reply, 7, &out->expired) ||
	    !uint_at(k->reply, 10, &closed))
		return TR_EPROTO;
	out->closed = closed == 1;
	return 0;
}

int
tr_result_info(const tr_call *k, tr_event_info *out)
{
	uint64_t limit;
	int rv = check(k, TR_SCRIPT_INFO, 7);
	if (rv != 0)
		return rv;
	if (!uint_at(k->reply, 0, &out->total) ||
	    !uint_at(k->reply, 1, &limit) ||
	    !uint_at(k->reply, 2, &out->hold_ms) ||
	    !int_at(k->reply, 3, &out->opens_at_ms) ||
	    !uint_at(k->reply, 4, &out->pool) ||
	    !uint_at(k->reply, 5, &out->sold) ||
	    !uint_at(k->reply, 6, &out->held) || limit > UINT32_MAX)
		return TR_EPROTO;
	out->limit_per_user = (uint32_t)limit;
	return 0;
}

int
tr_result_topup(const tr_call *k, uint64_t *total, uint64_t *pool)
{
	return two_counts(k, TR_SCRIPT_TOPUP, total, pool);
}

int
tr_result_close(const tr_call *k, bool *changed, tr_event_figures *fig)
{
	uint64_t c;
	int rv = check(k, TR_SCRIPT_CLOSE, 5);
	if (rv != 0)
		return rv;
	memset(fig, 0, sizeof(*fig));
	if (!uint_at(k->reply, 0, &c) || !uint_at(k->reply, 1, &fig->total) ||
	    !uint_at(k->reply, 2, &fig->pool) ||
	    !uint_at(k->reply, 3, &fig->sold) ||
	    !uint_at(k->reply, 4, &fig->held) || c > 1)
		return TR_EPROTO;
	*changed = c == 1;
	return 0;
}

int
tr_result_watch(const tr_call *k, tr_watch *out)
{
	const redisReply *nodes;
	uint64_t closed;
	int rv = check(k, TR_SCRIPT_WATCH, 6);
	if (rv != 0)
		return rv;
	memset(out, 0, sizeof(*out));
	if (!uint_at(k->reply, 0, &out->total) ||
	    !uint_at(k->reply, 1, &out->pool) ||
	    !uint_at(k->reply, 2, &out->sold) ||
	    !uint_at(k->reply, 3, &out->held) ||
	    !uint_at(k->reply, 4, &closed))
		return TR_EPROTO;
	out->closed = closed == 1;
	nodes = k->reply->element[5];
	if (nodes->type != REDIS_REPLY_ARRAY)
		return TR_EPROTO;
	/* More nodes than fit are left out, as the audit does. */
	for (size_t i = 0; i < nodes->elements && i < TR_AUDIT_NODES_MAX;
	     i++) {
		const redisReply *e = nodes->element[i];
		if (!str_at(e, 0, out->nodes[i].node,
		        sizeof(out->nodes[i].node)) ||
		    !uint_at(e, 1, &out->nodes[i].lease) ||
		    !uint_at(e, 2, &out->nodes[i].held))
			return TR_EPROTO;
		out->node_count++;
	}
	return 0;
}

int
tr_result_audit(const tr_call *k, tr_audit *out)
{
	const redisReply *r = k->reply, *nodes;
	int rv = check(k, TR_SCRIPT_AUDIT, 26);
	if (rv != 0)
		return rv;
	memset(out, 0, sizeof(*out));
	if (!uint_at(r, 0, &out->total) ||
	    !uint_at(r, 1, &out->limit_per_user) ||
	    !uint_at(r, 2, &out->pool) || !uint_at(r, 3, &out->sold) ||
	    !uint_at(r, 4, &out->held) || !uint_at(r, 5, &out->lease_sum))
		return TR_EPROTO;
	nodes = r->element[6];
	if (nodes->type != REDIS_REPLY_ARRAY)
		return TR_EPROTO;
	for (size_t i = 0; i < nodes->elements && i < TR_AUDIT_NODES_MAX;
	     i++) {
		const redisReply *e = nodes->element[i];
		if (!str_at(e, 0, out->nodes[i].node,
		        sizeof(out->nodes[i].node)) ||
		    !int_at(e, 1, &out->nodes[i].lease) ||
		    !uint_at(e, 2, &out->nodes[i].epoch))
			return TR_EPROTO;
		out->node_count++;
	}
	if (!uint_at(r, 7, &out->buyers_sum) ||
	    !uint_at(r, 8, &out->buyers_count) ||
	    !uint_at(r, 9, &out->max_per_user) ||
	    !uint_at(r, 10, &out->users_over_limit) ||
	    !uint_at(r, 11, &out->orders_count) ||
	    !uint_at(r, 12, &out->orders_qty) ||
	    !uint_at(r, 13, &out->stream_len) ||
	    !uint_at(r, 14, &out->negative_values) ||
	    !uint_at(r, 15, &out->buyer_order_mismatches) ||
	    !uint_at(r, 16, &out->live_holds) ||
	    !uint_at(r, 17, &out->live_qty) ||
	    !uint_at(r, 18, &out->holds_unindexed) ||
	    !uint_at(r, 19, &out->index_dangling) ||
	    !uint_at(r, 20, &out->broken) || !uint_at(r, 21, &out->refunds) ||
	    !uint_at(r, 22, &out->line_waiting) ||
	    !uint_at(r, 23, &out->offers_live) ||
	    !uint_at(r, 24, &out->line_bad) ||
	    !uint_at(r, 25, &out->offers_out_of_order))
		return TR_EPROTO;
	return 0;
}

int
tr_result_wl_entry(const tr_call *k, tr_wl_entry *out)
{
	int64_t created, state;
	int rv;

	if (k->script != TR_SCRIPT_WL_JOIN && k->script != TR_SCRIPT_WL_GET &&
	    k->script != TR_SCRIPT_WL_LEAVE)
		return TR_EPROTO;
	if ((rv = check(k, k->script, 9)) != 0)
		return rv;
	if (!int_at(k->reply, 0, &created) || !int_at(k->reply, 1, &state) ||
	    state < TR_WL_WAITING || state > TR_WL_SKIPPED ||
	    !uint_at(k->reply, 2, &out->join_number) ||
	    !uint_at(k->reply, 3, &out->position) ||
	    !uint_at(k->reply, 4, &out->ahead) ||
	    !str_at(k->reply, 5, out->offer_rid, sizeof(out->offer_rid)) ||
	    !int_at(k->reply, 6, &out->offer_expires_at_ms) ||
	    !int_at(k->reply, 7, &out->joined_at_ms) ||
	    !int_at(k->reply, 8, &out->changed_at_ms))
		return TR_EPROTO;
	out->created = created == 1;
	out->state = (enum tr_wl_state)state;
	return 0;
}

int
tr_result_wl_duplicate(const tr_call *k, char *rid, size_t cap)
{
	const char *p;

	if (k->rv != TR_EDUPLICATE ||
	    (p = strstr(k->detail, "TR_DUPLICATE ")) == NULL)
		return TR_EPROTO;
	p += strlen("TR_DUPLICATE ");
	if (strcspn(p, " ") >= cap)
		return TR_EPROTO;
	snprintf(rid, cap, "%.*s", (int)strcspn(p, " "), p);
	return 0;
}

int
tr_result_wl_show(const tr_call *k, tr_wl_show *out)
{
	const redisReply *head;
	int rv = check(k, TR_SCRIPT_WL_SHOW, 10);

	if (rv != 0)
		return rv;
	memset(out, 0, sizeof(*out));
	if (!uint_at(k->reply, 0, &out->waiting) ||
	    !uint_at(k->reply, 1, &out->offers_live) ||
	    !uint_at(k->reply, 2, &out->joined) ||
	    !uint_at(k->reply, 3, &out->offered) ||
	    !uint_at(k->reply, 4, &out->confirmed) ||
	    !uint_at(k->reply, 5, &out->expired) ||
	    !uint_at(k->reply, 6, &out->left) ||
	    !uint_at(k->reply, 7, &out->skipped) ||
	    !uint_at(k->reply, 8, &out->cap))
		return TR_EPROTO;
	head = k->reply->element[9];
	if (head->type != REDIS_REPLY_ARRAY)
		return TR_EPROTO;
	for (size_t i = 0; i < head->elements && i < TR_WL_SHOW_MAX; i++) {
		const redisReply *e = head->element[i];
		if (e->type != REDIS_REPLY_ARRAY ||
		    !str_at(e, 0, out->head[i].user,
		        sizeof(out->head[i].user)) ||
		    !uint_at(e, 1, &out->head[i].join_number) ||
		    !int_at(e, 2, &out->head[i].joined_at_ms))
			return TR_EPROTO;
		out->head_count++;
	}
	return 0;
}

int
tr_result_refund(const tr_call *k, tr_refund_info *out)
{
	int64_t created, qty;
	int rv = check(k, TR_SCRIPT_REFUND, 6);

	if (rv != 0)
		return rv;
	if (!int_at(k->reply, 0, &created) ||
	    !int_at(k->reply, 1, &out->refunded_at_ms) ||
	    !int_at(k->reply, 2, &qty) || qty < 1 || qty > UINT32_MAX ||
	    !int_at(k->reply, 3, &out->confirmed_at_ms) ||
	    !str_at(k->reply, 4, out->payment_ref, sizeof(out->payment_ref)) ||
	    !str_at(k->reply, 5, out->node, sizeof(out->node)))
		return TR_EPROTO;
	out->created = created == 1;
	out->qty = (uint32_t)qty;
	return 0;
}

/* ---- plain commands ---------------------------------------------------- */

/* On a cluster: to master (>= 0), or to the master of argv[1]'s slot
 * (every plain command here names its keys there, all of one slot). */
static int
cluster_plain(tr_coord *c, int master, int argc, const char **argv,
    redisReply **out)
{
	tr_cluster_cmd cmd = {0}, *cp = &cmd;
	int rv;

	cmd.master = master;
	cmd.slot = argc > 1 ? tr_slot_of_key(argv[1], strlen(argv[1])) : 0;
	cmd.argc = argc;
	cmd.argv = argv;
	cmd.argvlen = NULL;
	if ((rv = tr_cluster_run(c->cl, &cp, 1)) != 0 && cmd.rv == 0)
		cmd.rv = rv;
	*out = cmd.reply;
	return cmd.rv;
}

static int
plain_on(tr_coord *c, int master, int argc, const char **argv,
    redisReply **out)
{
	redisReply *r;
	int rv;

	*out = NULL;
	if (c->cl != NULL) {
		if ((rv = cluster_plain(c, master, argc, argv, &r)) != 0)
			return rv;
	} else {
		if (c->ctx == NULL)
			return TR_EUNAVAILABLE;
		c->commands++;
		r = redisCommandArgv(c->ctx, argc, argv, NULL);
		if (r == NULL) {
			int code = tr_rconn_error(c->ctx);
			drop_ctx(c, c->ctx->errstr);
			return code;
		}
	}
	if (r->type == REDIS_REPLY_ERROR) {
		tr_error("coordinator: %s: %s", argv[0], r->str);
		freeReplyObject(r);
		return TR_EINTERNAL;
	}
	*out = r;
	return 0;
}

static int
plain(tr_coord *c, int argc, const char **argv, redisReply **out)
{
	return plain_on(c, -1, argc, argv, out);
}

int
tr_coord_event_publish(tr_coord *c, const char *event_id)
{
	const char *argv[] = {"SADD", TR_KEY_EVENTS, event_id};
	redisReply *r;
	int rv = plain(c, 3, argv, &r);
	if (r)
		freeReplyObject(r);
	return rv;
}

/* One SSCAN page of a set of ids into ids (valid ones only). */
static int
set_page(tr_coord *c, const char *key, uint64_t *cursor, char *ids,
    size_t id_size, size_t cap, size_t *n, bool (*valid)(const char *))
{
	char cur[24], count[24];
	const char *argv[] = {"SSCAN", key, cur, "COUNT", count};
	const redisReply *items;
	redisReply *r;
	int64_t next;
	int rv;

	*n = 0;
	snprintf(cur, sizeof(cur), "%" PRIu64, *cursor);
	/* SSCAN may return a little more than COUNT: ask for less. */
	snprintf(count, sizeof(count), "%zu", cap > 16 ? cap / 2 : cap);
	if ((rv = plain(c, 5, argv, &r)) != 0)
		return rv;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    !int_of(r->element[0], &next) || next < 0 ||
	    (items = r->element[1])->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return TR_EPROTO;
	}
	/* What does not fit is seen on the next pass over the set. */
	for (size_t i = 0; i < items->elements && *n < cap; i++) {
		const redisReply *e = items->element[i];
		if (e->type != REDIS_REPLY_STRING || e->len >= id_size ||
		    !valid(e->str))
			continue;
		memcpy(ids + *n * id_size, e->str, e->len + 1);
		(*n)++;
	}
	*cursor = (uint64_t)next;
	freeReplyObject(r);
	return 0;
}

int
tr_coord_event_page(tr_coord *c, uint64_t *cursor,
    char (*ids)[TR_EVENT_ID_MAX + 1], size_t cap, size_t *n)
{
	return set_page(c, TR_KEY_EVENTS, cursor, (char *)ids,
	    TR_EVENT_ID_MAX + 1, cap, n, tr_event_id_valid);
}

static void
index_key(char *out, size_t cap, const char *node)
{
	snprintf(out, cap, TR_KEY_NODE "%s:events", node);
}

/* A command whose reply is not needed beyond success. */
static int
plain_done(tr_coord *c, int argc, const char **argv)
{
	redisReply *r;
	int rv = plain(c, argc, argv, &r);
	if (r)
		freeReplyObject(r);
	return rv;
}

int
tr_coord_node_join(tr_coord *c, const char *node)
{
	const char *argv[] = {"SADD", TR_KEY_NODES, node};
	return plain_done(c, 3, argv);
}

int
tr_coord_node_list(tr_coord *c, char (*nodes)[TR_NODE_ID_MAX + 1], size_t cap,
    size_t *n)
{
	uint64_t cursor = 0;
	int rv;
	*n = 0;
	/* Node ids are few: page through the whole set. */
	do {
		size_t got = 0;
		if ((rv = set_page(c, TR_KEY_NODES, &cursor, (char *)nodes[*n],
		         TR_NODE_ID_MAX + 1, cap - *n, &got,
		         tr_node_id_valid)) != 0)
			return rv;
		*n += got;
	} while (cursor != 0 && *n < cap);
	return 0;
}

int
tr_coord_alive_many(tr_coord *c, char (*nodes)[TR_NODE_ID_MAX + 1], size_t n,
    bool *alive)
{
	const char **argv;
	char(*keys)[48];
	redisReply *r;
	int rv;

	if (n == 0)
		return 0;
	argv = malloc((n + 1) * sizeof(*argv));
	keys = malloc(n * sizeof(*keys));
	if (argv == NULL || keys == NULL) {
		free(argv);
		free(keys);
		return TR_ENOMEM;
	}
	argv[0] = "MGET";
	for (size_t i = 0; i < n; i++) {
		alive_key(keys[i], sizeof(keys[i]), nodes[i]);
		argv[i + 1] = keys[i];
	}
	rv = plain(c, (int)n + 1, argv, &r);
	free(argv);
	free(keys);
	if (rv != 0)
		return rv;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		freeReplyObject(r);
		return TR_EPROTO;
	}
	for (size_t i = 0; i < n; i++)
		alive[i] = r->element[i]->type == REDIS_REPLY_STRING;
	freeReplyObject(r);
	return 0;
}

int
tr_coord_index_add(tr_coord *c, const char *node, const char *event_id)
{
	char key[64];
	const char *argv[] = {"SADD", key, event_id};
	index_key(key, sizeof(key), node);
	return plain_done(c, 3, argv);
}

int
tr_coord_index_del(tr_coord *c, const char *node, const char *event_id)
{
	char key[64];
	const char *argv[] = {"SREM", key, event_id};
	index_key(key, sizeof(key), node);
	return plain_done(c, 3, argv);
}

int
tr_coord_index_page(tr_coord *c, const char *node, uint64_t *cursor,
    char (*ids)[TR_EVENT_ID_MAX + 1], size_t cap, size_t *n)
{
	char key[64];
	index_key(key, sizeof(key), node);
	return set_page(c, key, cursor, (char *)ids, TR_EVENT_ID_MAX + 1, cap,
	    n, tr_event_id_valid);
}

int
tr_coord_epoch_of(tr_coord *c, const char *event_id, const char *node,
    uint64_t *epoch)
{
	char key[TR_EVENT_ID_MAX + 16];
	const char *argv[] = {"HGET", key, node};
	redisReply *r;
	int rv;

	snprintf(key, sizeof(key), "tr:{%s}:epoch", event_id);
	if ((rv = plain(c, 3, argv, &r)) != 0)
		return rv;
	*epoch = 0;
	if (r->type == REDIS_REPLY_STRING)
		*epoch = strtoull(r->str, NULL, 10);
	else if (r->type != REDIS_REPLY_NIL)
		rv = TR_EPROTO;
	freeReplyObject(r);
	return rv;
}

/* One server's count of commands processed; master -1: the only one. */
static int
server_commands(tr_coord *c, int master, uint64_t *out)
{
	const char *argv[] = {"INFO", "stats"};
	redisReply *r;
	const char *p;
	int rv = plain_on(c, master, 2, argv, &r);
	if (rv != 0)
		return rv;
	p = r->type == REDIS_REPLY_STRING
	    ? strstr(r->str, "total_commands_processed:")
	    : NULL;
	if (p == NULL) {
		freeReplyObject(r);
		return TR_EPROTO;
	}
	*out = strtoull(p + strlen("total_commands_processed:"), NULL, 10);
	freeReplyObject(r);
	return 0;
}

int
tr_coord_server_commands(tr_coord *c, uint64_t *out)
{
	uint64_t sum = 0, one;
	int rv;

	if (c->cl == NULL)
		return server_commands(c, -1, out);
	/* A cluster: the sum over its masters. */
	for (int m = 0; m < tr_cluster_masters(c->cl); m++) {
		if ((rv = server_commands(c, m, &one)) != 0)
			return rv;
		sum += one;
	}
	*out = sum;
	return 0;
}
