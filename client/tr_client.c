/* tr_client: synchronous request/reply over one nng REQ socket. */
#include "tr_client.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "tr_envelope.h"

struct tr_client {
	nng_socket sock;
	int last_nng_error;
	atomic_bool connected; /* a pipe came up at least once */
};

static void
pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	tr_client *c = arg;
	(void)p;
	(void)ev;
	atomic_store(&c->connected, true);
}

int
tr_client_open(const char *url, int timeout_ms, tr_client **out)
{
	tr_client *c = calloc(1, sizeof(*c));
	int rv;

	*out = NULL;
	if (c == NULL)
		return TR_ENOMEM;
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		free(c);
		return TR_ENOMEM;
	}
	/* No automatic resend: a call is sent once and the caller decides. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_SENDTIMEO, timeout_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, TR_MSG_MAX);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_added, c);
	/* Non-blocking: a blocking dial waits out nng's own 10 s handshake
	 * timeout on a frozen peer. The first call's send timeout bounds the
	 * wait for a connection instead. */
	if ((rv = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(c->sock);
		free(c);
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ||
		        rv == NNG_EINVAL
		    ? TR_EINVALID
		    : TR_EUNAVAILABLE;
	}
	*out = c;
	return 0;
}

void
tr_client_close(tr_client *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	free(c);
}

const char *
tr_client_last_error(const tr_client *c)
{
	return c->last_nng_error ? nng_strerror(c->last_nng_error) : "";
}

int
tr_client_call(tr_client *c, Ticketrush__Request *req, Ticketrush__Reply **out)
{
	nng_msg *msg;
	int rv;

	*out = NULL;
	req->version = TR_PROTOCOL_VERSION;
	if (tr_msg_pack(&req->base, &msg) != 0)
		return TR_ENOMEM;
	if ((rv = nng_sendmsg(c->sock, msg, 0)) != 0) {
		nng_msg_free(msg); /* a failed send leaves it ours */
		c->last_nng_error = rv;
		/* A REQ send waits for a peer: timing out without ever having
		 * had one means we could not connect. */
		return rv == NNG_ETIMEDOUT && atomic_load(&c->connected)
		    ? TR_ETIMEDOUT
		    : TR_EUNAVAILABLE;
	}
	if ((rv = nng_recvmsg(c->sock, &msg, 0)) != 0) {
		c->last_nng_error = rv;
		return rv == NNG_ETIMEDOUT ? TR_ETIMEDOUT : TR_EUNAVAILABLE;
	}
	*out = tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
	if (*out == NULL)
		return TR_EPROTO;
	return tr_err_from_status((int)(*out)->status);
}

int
tr_client_reserve(tr_client *c, const char *event_id, const char *user,
    uint32_t qty, const char *request_id, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;
	r.event_id = (char *)event_id;
	r.user_id = (char *)user;
	r.qty = qty;
	r.request_id = (char *)(request_id ? request_id : "");
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_confirm(tr_client *c, const char *reservation_id, const char *user,
    const char *payment_ref, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Confirm r = TICKETRUSH__CONFIRM__INIT;
	r.reservation_id = (char *)reservation_id;
	r.user_id = (char *)user;
	r.payment_ref = (char *)(payment_ref ? payment_ref : "");
	req.body_case = TICKETRUSH__REQUEST__BODY_CONFIRM;
	req.confirm = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_release(tr_client *c, const char *reservation_id, const char *user,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Release r = TICKETRUSH__RELEASE__INIT;
	r.reservation_id = (char *)reservation_id;
	r.user_id = (char *)user;
	req.body_case = TICKETRUSH__REQUEST__BODY_RELEASE;
	req.release = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_get_event(tr_client *c, const char *event_id,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__GetEvent r = TICKETRUSH__GET_EVENT__INIT;
	r.event_id = (char *)event_id;
	req.body_case = TICKETRUSH__REQUEST__BODY_GET_EVENT;
	req.get_event = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_waitlist_join(tr_client *c, const char *event_id, const char *user,
    const char *request_id, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__WaitlistJoin r = TICKETRUSH__WAITLIST_JOIN__INIT;
	r.event_id = (char *)event_id;
	r.user_id = (char *)user;
	r.request_id = (char *)(request_id ? request_id : "");
	req.body_case = TICKETRUSH__REQUEST__BODY_WAITLIST_JOIN;
	req.waitlist_join = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_waitlist_get(tr_client *c, const char *event_id, const char *user,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__WaitlistGet r = TICKETRUSH__WAITLIST_GET__INIT;
	r.event_id = (char *)event_id;
	r.user_id = (char *)user;
	req.body_case = TICKETRUSH__REQUEST__BODY_WAITLIST_GET;
	req.waitlist_get = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_waitlist_leave(tr_client *c, const char *event_id, const char *user,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__WaitlistLeave r = TICKETRUSH__WAITLIST_LEAVE__INIT;
	r.event_id = (char *)event_id;
	r.user_id = (char *)user;
	req.body_case = TICKETRUSH__REQUEST__BODY_WAITLIST_LEAVE;
	req.waitlist_leave = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_refund(tr_client *c, const char *reservation_id, const char *user,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Refund r = TICKETRUSH__REFUND__INIT;
	r.reservation_id = (char *)reservation_id;
	r.user_id = (char *)user;
	req.body_case = TICKETRUSH__REQUEST__BODY_REFUND;
	req.refund = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_waitlist_show(tr_client *c, const char *event_id, uint32_t count,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__WaitlistShow r = TICKETRUSH__WAITLIST_SHOW__INIT;
	r.event_id = (char *)event_id;
	r.count = count;
	req.body_case = TICKETRUSH__REQUEST__BODY_WAITLIST_SHOW;
	req.waitlist_show = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_status(tr_client *c, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__GetStatus r = TICKETRUSH__GET_STATUS__INIT;
	req.body_case = TICKETRUSH__REQUEST__BODY_GET_STATUS;
	req.get_status = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_list_events(tr_client *c, uint32_t offset, uint32_t limit,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__ListEvents r = TICKETRUSH__LIST_EVENTS__INIT;
	r.offset = offset;
	r.limit = limit;
	req.body_case = TICKETRUSH__REQUEST__BODY_LIST_EVENTS;
	req.list_events = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_create_event(tr_client *c, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms,
    Ticketrush__Reply **out)
{
	return tr_client_create_event_wl(c, event_id, total, limit_per_user,
	    hold_ms, opens_at_ms, 0, 0, out);
}

int
tr_client_create_event_wl(tr_client *c, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms,
    uint64_t waitlist_max, uint64_t offer_ms, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__CreateEvent r = TICKETRUSH__CREATE_EVENT__INIT;
	r.event_id = (char *)event_id;
	r.total = total;
	r.limit_per_user = limit_per_user;
	r.hold_ms = hold_ms;
	r.opens_at_ms = opens_at_ms;
	r.waitlist_max = waitlist_max;
	r.offer_ms = offer_ms;
	req.body_case = TICKETRUSH__REQUEST__BODY_CREATE_EVENT;
	req.create_event = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_drain(tr_client *c, const char *event_id, Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Drain r = TICKETRUSH__DRAIN__INIT;
	r.event_id = (char *)(event_id ? event_id : "");
	req.body_case = TICKETRUSH__REQUEST__BODY_DRAIN;
	req.drain = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_top_up(tr_client *c, const char *event_id, uint64_t n,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__TopUp r = TICKETRUSH__TOP_UP__INIT;
	r.event_id = (char *)event_id;
	r.add = n;
	req.body_case = TICKETRUSH__REQUEST__BODY_TOP_UP;
	req.top_up = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_close_sale(tr_client *c, const char *event_id,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__CloseSale r = TICKETRUSH__CLOSE_SALE__INIT;
	r.event_id = (char *)event_id;
	req.body_case = TICKETRUSH__REQUEST__BODY_CLOSE_SALE;
	req.close_sale = &r;
	return tr_client_call(c, &req, out);
}

int
tr_client_reopen_sale(tr_client *c, const char *event_id,
    Ticketrush__Reply **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__ReopenSale r = TICKETRUSH__REOPEN_SALE__INIT;
	r.event_id = (char *)event_id;
	req.body_case = TICKETRUSH__REQUEST__BODY_REOPEN_SALE;
	req.reopen_sale = &r;
	return tr_client_call(c, &req, out);
}
