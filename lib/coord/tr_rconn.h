/* tr_rconn: a blocking hiredis connection as the coordinator makes them.
 *
 * Shared by tr_coord (one Redis) and tr_cluster (one per master), so both
 * connect, time out and report errors alike. */
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

#endif
