/* tr_rconn: connecting to Redis with timeouts, its errors as tr_err, WAIT. */
#include "tr_rconn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <sys/time.h>

#include "tr_err.h"
#include "tr_log.h"

static struct timeval
ms_to_tv(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	return tv;
}

redisContext *
tr_rconn_open(const char *host, int port, int timeout_ms)
{
	redisContext *ctx =
	    redisConnectWithTimeout(host, port, ms_to_tv(timeout_ms));

	if (ctx == NULL)
		return NULL;
	if (ctx->err != 0) {
		tr_debug("coordinator %s:%d: %s", host, port, ctx->errstr);
		redisFree(ctx);
		return NULL;
	}
	if (redisSetTimeout(ctx, ms_to_tv(timeout_ms)) != REDIS_OK) {
		redisFree(ctx);
		return NULL;
	}
	(void)redisEnableKeepAlive(ctx);
	return ctx;
}

int
tr_rconn_error(const redisContext *ctx)
{
	/* hiredis reports a socket timeout as an I/O error with EAGAIN. */
	if (ctx->err == REDIS_ERR_IO &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		return TR_ETIMEDOUT;
	return TR_EIO;
}

int
tr_rconn_wait_ms(int wait_ms, int timeout_ms)
{
	int cap = timeout_ms > 2 ? timeout_ms / 2 : 1;

	if (wait_ms < 1)
		return 1;
	return wait_ms > cap ? cap : wait_ms;
}

int
tr_rconn_wait_append(redisContext *ctx, int replicas, int wait_ms,
    int timeout_ms)
{
	char a1[16], a2[16];
	const char *argv[3] = {"WAIT", a1, a2};

	snprintf(a1, sizeof(a1), "%d", replicas);
	snprintf(a2, sizeof(a2), "%d", tr_rconn_wait_ms(wait_ms, timeout_ms));
	return redisAppendCommandArgv(ctx, 3, argv, NULL) == REDIS_OK
	    ? 0
	    : TR_ENOMEM;
}

int
tr_rconn_wait_read(redisContext *ctx, long long *replicas)
{
	redisReply *r = NULL;

	*replicas = -1;
	if (redisGetReply(ctx, (void **)&r) != REDIS_OK || r == NULL)
		return tr_rconn_error(ctx);
	if (r->type == REDIS_REPLY_INTEGER)
		*replicas = r->integer;
	else
		tr_warn("coordinator: WAIT: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "?");
	freeReplyObject(r);
	return 0;
}
