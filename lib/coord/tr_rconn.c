/* tr_rconn: connecting to Redis with timeouts, and its errors as tr_err. */
#include "tr_rconn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
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
