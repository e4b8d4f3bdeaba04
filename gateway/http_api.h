/* http_api: the gateway's HTTP API as pure functions (docs/HTTP-API.md):
 * routes, request bodies, the mapping of node statuses to HTTP, and the
 * JSON answers. No I/O. */
#ifndef TR_HTTP_API_H
#define TR_HTTP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ticketrush.pb-c.h"
#include "tr_api_error.h"
#include "tr_ids.h"

/* Largest request body accepted (bigger: 413). */
#define TR_HTTP_BODY_MAX 8192
/* Largest request head (request line + headers) accepted (bigger: 431). */
#define TR_HTTP_HEADERS_MAX 8192
/* What h2o itself reads before giving up with its own plain-text 413:
 * bodies between TR_HTTP_BODY_MAX and this get our JSON 413. */
#define TR_HTTP_BODY_READ_MAX 65536

enum tr_route_kind {
	TR_ROUTE_RESERVE, /* POST /v1/events/{event}/reservations */
	TR_ROUTE_CONFIRM, /* POST /v1/reservations/{id}/confirm */
	TR_ROUTE_RELEASE, /* POST /v1/reservations/{id}/release */
	TR_ROUTE_EVENT,   /* GET  /v1/events/{event} */
	TR_ROUTE_BUY,     /* GET  /buy/ticket[?user=U] */
	TR_ROUTE_HEALTH,  /* GET  /healthz */
	TR_ROUTE_METRICS, /* GET  /metrics */
	TR_ROUTE_WL_JOIN, /* POST /v1/events/{event}/waitlist */
	TR_ROUTE_WL_GET,  /* GET  /v1/events/{event}/waitlist/{user}[?wait=] */
	TR_ROUTE_WL_LEAVE,  /* DELETE /v1/events/{event}/waitlist/{user} */
	TR_ROUTE_REFUND,    /* POST /v1/orders/{id}/refund */
	TR_ROUTE_DASHBOARD, /* GET /dashboard[?event=E] */
	TR_ROUTE_OTHER,     /* no such route (for metrics) */
	TR_ROUTE_COUNT
};

/* Names for metrics labels ("reserve", "confirm", ...). */
extern const char *const tr_route_name[TR_ROUTE_COUNT];

typedef struct tr_route {
	enum tr_route_kind kind;
	char event_id[TR_EVENT_ID_MAX + 1]; /* also from rid; dashboard:
	                                     * ?event= ("" if not given) */
	char rid[TR_RID_MAX + 1];
	char node[TR_NODE_ID_MAX + 1]; /* from rid */
	char user[TR_USER_ID_MAX + 1]; /* /buy/ticket?user=, waitlist/{user} */
	int64_t wait_ms; /* waitlist GET ?wait=DUR: a long poll (0: none) */
	int wait_state;  /* &state=NAME: the entry's state the client knows
	                  * (WaitlistState, 1..6); 0: the one found first */
} tr_route;

/* The longest long poll of a waitlist entry (?wait=). */
#define TR_HTTP_WAIT_MAX_MS 30000

/* An HTTP error answer: status, stable code, message for humans. */
typedef struct tr_http_error {
	int status;
	const char *code;
	char message[192];
} tr_http_error;

/* Set *err to the API error api_code (enum tr_api_error: its status and
 * name from the one table) with a message. */
void tr_http_error_set(tr_http_error *err, int api_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Match method and path (query string allowed). 0, or -1 with *err set
 * (404 no_route, 405 method_not_allowed, 400 invalid for an id of the
 * wrong shape in the path). */
int tr_route_parse(const char *method, size_t method_len, const char *path,
    size_t path_len, tr_route *out, tr_http_error *err);

typedef struct tr_reserve_body {
	char user[TR_USER_ID_MAX + 1];
	uint32_t qty;
	char request_id[TR_REQUEST_ID_MAX + 1];
} tr_reserve_body;

typedef struct tr_confirm_body {
	char user[TR_USER_ID_MAX + 1];
	char payment_ref[TR_PAYMENT_REF_MAX + 1];
} tr_confirm_body;

/* Parse and check a JSON body. 0, or -1 with *err (400 invalid_json or
 * invalid naming the field). Unknown fields are ignored. */
int tr_body_reserve(const char *body, size_t len, tr_reserve_body *out,
    tr_http_error *err);
/* Confirm: user and optional payment_ref. Release: user only (a
 * payment_ref is ignored). */
int tr_body_confirm(const char *body, size_t len, tr_confirm_body *out,
    tr_http_error *err);

/* HTTP status for a node's answer (a tr_err; 0 = OK): tr_api_error_of's
 * code's status. created: 201 for OK instead of 200. */
int tr_http_status_of(int err, bool created);

/* Set *err from a node's refusal (tr_api_error_of the code). */
void tr_http_error_from(tr_http_error *err, int code, const char *detail);

/* The gateway's buffer for one JSON answer. Every writer below fits in it
 * when given what the route and body parsers accept and what a node
 * answers (ids of their documented shapes, details under 256 bytes). */
#define TR_HTTP_ANSWER_MAX 2048

/* JSON writers. Each writes at most cap bytes (NUL included) and returns
 * the length, or 0 if it did not fit. tr_json_error adds reservation_id
 * and payment_ref when they are not NULL (a duplicate names the user's
 * hold; a second payment names the order and its payment reference). */
size_t tr_json_error(char *buf, size_t cap, const tr_http_error *err,
    const char *reservation_id, const char *payment_ref);
size_t tr_json_hold(char *buf, size_t cap, const Ticketrush__Hold *h,
    const char *node);
size_t tr_json_order(char *buf, size_t cap, const Ticketrush__Order *o);
/* A waitlist entry: state by name ("waiting", "offered", ...). */
size_t tr_json_wl_entry(char *buf, size_t cap,
    const Ticketrush__WaitlistEntry *e);

/* GET /v1/events/{event}: the figures added up over the nodes that
 * answered. */
typedef struct tr_event_sum {
	char event_id[TR_EVENT_ID_MAX + 1];
	uint64_t total, sold, available, held, pool;
	int64_t global_at_ms; /* of the figures sold, pool and held */
	uint32_t limit_per_user;
	uint64_t hold_ms;
	int64_t opens_at_ms;
	uint64_t waitlist, offers; /* buyers in line, live offers */
	int nodes;                 /* that answered */
	bool scheduled;
	bool closed; /* as the freshest node knows it */
} tr_event_sum;

/* Add one node's EventInfo to the sum: available adds up; sold, pool and
 * held (the coordinator's) come from the freshest node. */
void tr_event_sum_add(tr_event_sum *s, const Ticketrush__EventInfo *e);
size_t tr_json_event(char *buf, size_t cap, const tr_event_sum *s);

/* The seed article's /buy/ticket answers. */
size_t tr_json_buy_ok(char *buf, size_t cap, const char *reservation_id);
/* The flood's answers, the same bytes every time (served from static
 * memory): 409 on the API, 200 on /buy/ticket as the article had it. */
extern const char tr_json_sold_out[];
extern const char tr_json_buy_sold_out[];
size_t tr_json_buy_error(char *buf, size_t cap, const tr_http_error *err);

#endif
