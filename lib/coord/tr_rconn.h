/* tr_rconn: a blocking hiredis connection as the coordinator makes them.
 *
 * Shared by tr_coord (one Redis) and tr_cluster (one per master), so both
 * connect, time out, report errors and WAIT for replicas alike. */
#ifndef TR_RCONN_H
#define TR_RCONN_H

struct redisContext;

/* Connect to host:port within timeout_ms, with that timeout on every
 * reply and TCP keep-alive. Returns the context (the caller frees it with
 * redisFree), or NULL (nothing to free). */
struct redisContext *tr_rconn_open(const char *host, int port, int timeout_ms);

/* The tr_err of a context's failed call, read right after it:
 * TR_ETIMEDOUT for a reply that did not come in time, else TR_EIO. */
int tr_rconn_error(const struct redisContext *ctx);

/* The WAIT timeout for wait_ms on a connection whose replies time out
 * after timeout_ms: wait_ms kept within 1 (WAIT 0 would block for ever)
 * and timeout_ms / 2, so that a WAIT never outlasts the reply timeout
 * (which would cost the connection). */
int tr_rconn_wait_ms(int wait_ms, int timeout_ms);

/* Append WAIT replicas tr_rconn_wait_ms(wait_ms, timeout_ms) to ctx's
 * pipeline. 0, or TR_ENOMEM (nothing appended). */
int tr_rconn_wait_append(struct redisContext *ctx, int replicas, int wait_ms,
    int timeout_ms);

/* Read WAIT's answer: 0 and *replicas (the count, or -1 when Redis
 * answered an error), or the tr_rconn_error of a failed read (the context
 * is then dead). */
int tr_rconn_wait_read(struct redisContext *ctx, long long *replicas);

#endif
