/* fuzz_node: a stock node's handling of received messages, offline.
 *
 * Input: one flags byte, then up to MSG_MAX messages separated by SEP.
 * Flags bit 0: the messages arrive on the admin socket (else the data
 * socket); bit 1: the event allows 2 tickets per user (else 1). Each
 * message goes through tr_node_handle_offline, the code a message received
 * on a socket goes through: the Batch counted on the wire, the Request
 * unpacked, version and field checks, batch limits, the operations on the
 * ledger, the Reply packed. Before a message is handed over, every
 * PLACEHOLDER in it becomes the 16 hex digits of the last reservation id
 * the node answered (same length, so the protobuf stays well-formed): a
 * confirm or release can then name a hold that exists.
 *
 * Checked after every message: the reply is a Ticketrush__Reply of
 * version 1 whose status is never 0; a well-formed Batch within the limit
 * (its ops, and those counted on the wire) gets one answered result per
 * op, one over it INVALID; anything that is not a Request gets INVALID.
 * After the input: an event's stock is conserved (lease + held + sold ==
 * total), read through GetEvent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "ticketrush.pb-c.h"
#include "tr_envelope.h"
#include "tr_err.h"
#include "tr_log.h"

#define SEP "\xff\xfe\xfd\xfc"
#define SEP_LEN 4
#define MSG_MAX 16
#define PLACEHOLDER "XXXXXXXXXXXXXXXX"
#define PLACEHOLDER_LEN 16
#define BATCH_MAX 8 /* small, so the limit is easy to cross */

/* The events every node starts with: one on sale with little stock (sold
 * out after a few holds), one that opens in 2100. */
#define EVENT_ON_SALE "G1234"
#define EVENT_TOTAL 3
#define EVENT_LATER "S1"
#define EVENT_LATER_OPENS_MS 4102444800000LL

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

struct run {
	tr_node *node;
	char hex[PLACEHOLDER_LEN + 1]; /* of the last reservation id */
	bool have_hex;
};

static void
remember_rid(struct run *r, const Ticketrush__Hold *h)
{
	const char *dot;

	if (h == NULL || h->reservation_id == NULL ||
	    (dot = strchr(h->reservation_id, '.')) == NULL ||
	    strlen(dot + 1) < PLACEHOLDER_LEN)
		return;
	memcpy(r->hex, dot + 1, PLACEHOLDER_LEN);
	r->hex[PLACEHOLDER_LEN] = '\0';
	r->have_hex = true;
}

static void
check_answer(const Ticketrush__Reply *a)
{
	CHECK(a->version == TR_PROTOCOL_VERSION);
	/* A status the .proto names (found by fuzz_node when CLOSED, 16,
	 * came after a bound that stopped at CONFLICT, 14). */
	CHECK(protobuf_c_enum_descriptor_get_value(
	          &ticketrush__status__descriptor, (int)a->status) != NULL);
	CHECK(a->status != TICKETRUSH__STATUS__STATUS_UNSPECIFIED);
	/* A slot no operation answered keeps this detail. */
	CHECK(a->detail == NULL || strcmp(a->detail, "not answered") != 0);
}

static bool
is_admin_body(int body)
{
	return body == TICKETRUSH__REQUEST__BODY_CREATE_EVENT ||
	    body == TICKETRUSH__REQUEST__BODY_GET_STATUS ||
	    body == TICKETRUSH__REQUEST__BODY_DRAIN ||
	    body == TICKETRUSH__REQUEST__BODY_LIST_EVENTS;
}

/* What the reply must be, knowing what the message was. The node refuses
 * in this order: a Batch too large on the wire, bytes that are not a
 * Request, another version, an admin call on the data socket. */
static void
check_reply(struct run *r, const uint8_t *msg, size_t len, bool admin,
    const Ticketrush__Reply *rep)
{
	Ticketrush__Request *req = tr_request_unpack(msg, len);
	size_t wire = 0;
	bool batch;

	/* The node counts a Batch's ops on the wire before unpacking: those
	 * of every Batch field, also of one a later body field replaces
	 * (unpacking allocates them all). */
	if (tr_wire_batch_ops(msg, len, &wire) != 0)
		wire = 0; /* not protobuf to the counter: unpacking decides */
	check_answer(rep);
	remember_rid(r, rep->hold);
	batch = req != NULL &&
	    req->body_case == TICKETRUSH__REQUEST__BODY_BATCH &&
	    req->batch->n_ops >= 1 && req->batch->n_ops <= BATCH_MAX;
	if (wire > BATCH_MAX || req == NULL ||
	    req->version != TR_PROTOCOL_VERSION) {
		CHECK(rep->status == TICKETRUSH__STATUS__STATUS_INVALID);
		CHECK(rep->n_results == 0);
	} else if (!admin && is_admin_body(req->body_case)) {
		CHECK(rep->status == TICKETRUSH__STATUS__STATUS_FORBIDDEN);
	} else if (batch) {
		CHECK(rep->status == TICKETRUSH__STATUS__STATUS_OK);
		CHECK(rep->n_results == req->batch->n_ops);
		for (size_t i = 0; i < rep->n_results; i++) {
			check_answer(rep->results[i]);
			remember_rid(r, rep->results[i]->hold);
		}
	}
	if (!batch)
		CHECK(rep->n_results == 0);
	tr_request_free(req);
}

static void
handle(struct run *r, bool admin, uint8_t *msg, size_t len)
{
	Ticketrush__Reply *rep;
	void *out = NULL;
	size_t out_len = 0;

	for (size_t i = 0; r->have_hex && i + PLACEHOLDER_LEN <= len; i++)
		if (memcmp(msg + i, PLACEHOLDER, PLACEHOLDER_LEN) == 0)
			memcpy(msg + i, r->hex, PLACEHOLDER_LEN);
	CHECK(tr_node_handle_offline(r->node, admin, msg, len, &out,
	          &out_len) == 0);
	rep = tr_reply_unpack(out, out_len);
	CHECK(rep != NULL);
	check_reply(r, msg, len, admin, rep);
	tr_reply_free(rep);
	free(out);
}

/* Every ticket of the event is in the lease, held, or sold. */
static void
check_conserved(struct run *r, const char *event_id, uint64_t total)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__GetEvent ge = TICKETRUSH__GET_EVENT__INIT;
	Ticketrush__Reply *rep;
	uint8_t buf[128];
	void *out = NULL;
	size_t len, out_len = 0;
	const Ticketrush__EventInfo *e;

	ge.event_id = (char *)event_id;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_GET_EVENT;
	req.get_event = &ge;
	len = ticketrush__request__get_packed_size(&req);
	CHECK(len <= sizeof(buf));
	ticketrush__request__pack(&req, buf);
	CHECK(tr_node_handle_offline(r->node, false, buf, len, &out,
	          &out_len) == 0);
	CHECK((rep = tr_reply_unpack(out, out_len)) != NULL);
	if (rep->status == TICKETRUSH__STATUS__STATUS_OK) {
		CHECK((e = rep->event) != NULL);
		/* A CreateEvent through the admin socket cannot change an
		 * event that exists: its total is the one it started with. */
		CHECK(e->total == total);
		CHECK(e->lease + e->held + e->sold_here == e->total);
		CHECK(e->available == e->lease);
		CHECK(e->sold == e->sold_here);
	} else {
		CHECK(rep->status == TICKETRUSH__STATUS__STATUS_NOT_FOUND);
	}
	tr_reply_free(rep);
	free(out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tr_log_init("fuzz_node", TR_LOG_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tr_event_conf events[2] = {{0}};
	tr_node_conf conf;
	struct run r = {0};
	const char *why;
	uint8_t *copy, *p, *end;
	bool admin;

	if (size < 1)
		return 0;
	admin = data[0] & 1;
	tr_node_conf_defaults(&conf);
	conf.standalone = true;
	conf.batch_max = BATCH_MAX;
	snprintf(events[0].id, sizeof(events[0].id), EVENT_ON_SALE);
	events[0].total = EVENT_TOTAL;
	events[0].limit_per_user = data[0] & 2 ? 2 : 1;
	events[0].hold_ms = 15 * 60 * 1000;
	snprintf(events[1].id, sizeof(events[1].id), EVENT_LATER);
	events[1].total = 100;
	events[1].limit_per_user = 1;
	events[1].hold_ms = 60 * 1000;
	events[1].opens_at_ms = EVENT_LATER_OPENS_MS;
	conf.events = events;
	conf.event_count = 2;
	CHECK(tr_node_open_offline(&conf, &r.node, &why) == 0);

	/* A copy: the placeholders are replaced in place. */
	CHECK((copy = malloc(size)) != NULL);
	memcpy(copy, data, size);
	p = copy + 1;
	end = copy + size;
	for (int i = 0; i < MSG_MAX && p <= end; i++) {
		uint8_t *sep = memmem(p, (size_t)(end - p), SEP, SEP_LEN);
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
		/* Exactly the message's bytes, so reading past them shows. */
		uint8_t *msg = malloc(len ? len : 1);
		CHECK(msg != NULL);
		memcpy(msg, p, len);
		handle(&r, admin, msg, len);
		free(msg);
		if (sep == NULL)
			break;
		p = sep + SEP_LEN;
	}
	check_conserved(&r, EVENT_ON_SALE, EVENT_TOTAL);
	check_conserved(&r, EVENT_LATER, 100);
	free(copy);
	tr_node_stop(r.node, 0);
	return 0;
}
