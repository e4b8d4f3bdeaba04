/* tr_client: a small synchronous C client for stock nodes, for other C
 * services and for ticketctl. Installed as <ticketrush/tr_client.h> with
 * libticketrush (pkg-config ticketrush, or find_package(ticketrush)):
 *
 *   #include <ticketrush/tr_client.h>
 *
 *   tr_client *c;
 *   Ticketrush__Reply *rep;
 *   if (tr_client_open("tcp://127.0.0.1:7001", 2000, &c) != 0) ...
 *   rv = tr_client_reserve(c, "G1234", "alice", 1, "req-1", &rep);
 *   // rv: 0 (STATUS_OK), another tr_err from the reply's status (rep set),
 *   //     or TR_ETIMEDOUT / TR_EUNAVAILABLE with no reply (rep NULL).
 *   ... rep->hold->reservation_id ...
 *   tr_reply_free(rep);
 *   tr_client_close(c);
 *
 * One tr_client is one nng REQ socket: use it from one thread at a time.
 * Automatic resend is off, so a call is sent once; every operation is
 * idempotent (Reserve by request_id, Confirm and Release by reservation id),
 * so after a timeout the caller may simply call again.
 *
 * The messages are those of ticketrush.proto (installed beside this
 * header as ticketrush.pb-c.h); tr_err.h names the return codes.
 */
#ifndef TR_CLIENT_H
#define TR_CLIENT_H

#include <stdint.h>

#include "ticketrush.pb-c.h"
#include "tr_err.h"

typedef struct tr_client tr_client;

/* Prepare a connection to a node's data or admin URL; connecting goes on
 * in the background (and again after a drop). timeout_ms bounds each call
 * (send, including waiting for a connection, and receive). Returns 0,
 * TR_EINVALID (bad URL: *out is NULL) or TR_ENOMEM. */
int tr_client_open(const char *url, int timeout_ms, tr_client **out);
void tr_client_close(tr_client *c);

/* Free a reply a call gave (NULL is allowed). */
void tr_reply_free(Ticketrush__Reply *rep);

/* The last transport error's text (nng's), for messages. */
const char *tr_client_last_error(const tr_client *c);

/* Send req (its version is set for you) and wait for the reply. On any
 * reply, *out is set (free with tr_reply_free) and the return value is the
 * reply's status as a tr_err (0 for OK). Without a reply, *out is NULL and
 * the return value is TR_EUNAVAILABLE (no connection within the timeout),
 * TR_ETIMEDOUT (connected, but no answer in time) or TR_EPROTO (the answer
 * was not a Reply). */
int tr_client_call(tr_client *c, Ticketrush__Request *req,
    Ticketrush__Reply **out);

/* Data-plane shortcuts (request_id and payment_ref may be NULL). */
int tr_client_reserve(tr_client *c, const char *event_id, const char *user,
    uint32_t qty, const char *request_id, Ticketrush__Reply **out);
int tr_client_confirm(tr_client *c, const char *reservation_id,
    const char *user, const char *payment_ref, Ticketrush__Reply **out);
int tr_client_release(tr_client *c, const char *reservation_id,
    const char *user, Ticketrush__Reply **out);
int tr_client_get_event(tr_client *c, const char *event_id,
    Ticketrush__Reply **out);

/* The waitlist (request_id may be NULL) and refunds. */
int tr_client_waitlist_join(tr_client *c, const char *event_id,
    const char *user, const char *request_id, Ticketrush__Reply **out);
int tr_client_waitlist_get(tr_client *c, const char *event_id,
    const char *user, Ticketrush__Reply **out);
int tr_client_waitlist_leave(tr_client *c, const char *event_id,
    const char *user, Ticketrush__Reply **out);
int tr_client_refund(tr_client *c, const char *reservation_id,
    const char *user, Ticketrush__Reply **out);

/* Admin-plane shortcuts (send them to the admin URL). */
/* An event's waitlist: its figures and the first count buyers (0: 10). */
int tr_client_waitlist_show(tr_client *c, const char *event_id, uint32_t count,
    Ticketrush__Reply **out);
int tr_client_status(tr_client *c, Ticketrush__Reply **out);
/* A page of the events the node knows: at most limit (0: 1000) from
 * offset. */
int tr_client_list_events(tr_client *c, uint32_t offset, uint32_t limit,
    Ticketrush__Reply **out);
int tr_client_create_event(tr_client *c, const char *event_id, uint64_t total,
    uint32_t limit_per_user, uint64_t hold_ms, int64_t opens_at_ms,
    Ticketrush__Reply **out);
/* With the waitlist's cap (0: 100,000) and offer time (0: hold_ms). */
int tr_client_create_event_wl(tr_client *c, const char *event_id,
    uint64_t total, uint32_t limit_per_user, uint64_t hold_ms,
    int64_t opens_at_ms, uint64_t waitlist_max, uint64_t offer_ms,
    Ticketrush__Reply **out);
int tr_client_drain(tr_client *c, const char *event_id,
    Ticketrush__Reply **out);
/* Add n tickets to an event's stock (not idempotent: after
 * TR_ETIMEDOUT, read the event's total before calling again). */
int tr_client_top_up(tr_client *c, const char *event_id, uint64_t n,
    Ticketrush__Reply **out);
/* Close an event's sale now (new reservations answer TR_ECLOSED; holds
 * stay confirmable until they expire), or reopen it. */
int tr_client_close_sale(tr_client *c, const char *event_id,
    Ticketrush__Reply **out);
int tr_client_reopen_sale(tr_client *c, const char *event_id,
    Ticketrush__Reply **out);

#endif
