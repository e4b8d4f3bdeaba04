/* seed_node: writes fuzz_node's seed corpus: the messages a stock node gets
 * (packed as the gateway's upstream.c and client/tr_client.c pack them),
 * in the sequences of a sale, into the folder given.
 *
 *   seed_node tests/fuzz/corpus/fuzz_node
 *
 * A seed is fuzz_node's input: a flags byte (bit 0: admin socket, bit 1:
 * two tickets per user), then messages separated by fuzz_node's separator.
 * "n1.XXXXXXXXXXXXXXXX.G1234" names the last reservation the node made.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticketrush.pb-c.h"
#include "tr_envelope.h"

#define SEP "\xff\xfe\xfd\xfc"
#define LAST_RID "n1.XXXXXXXXXXXXXXXX.G1234"
#define SEQ_MAX 16

struct seed {
	uint8_t buf[65536];
	size_t len;
};

static void
put(struct seed *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		fprintf(stderr, "seed too large\n");
		exit(1);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void
add_request(struct seed *s, Ticketrush__Request *req)
{
	uint8_t tmp[32768];
	size_t n = ticketrush__request__get_packed_size(req);

	if (n > sizeof(tmp))
		exit(1);
	ticketrush__request__pack(req, tmp);
	if (s->len > 1)
		put(s, SEP, 4);
	put(s, tmp, n);
}

static void
add_raw(struct seed *s, const void *p, size_t n)
{
	if (s->len > 1)
		put(s, SEP, 4);
	put(s, p, n);
}

/* The gateway's request ids: gw-<instance>-<thread>-<n>. */
static void
reserve(struct seed *s, const char *event, const char *user, uint32_t qty,
    const char *request_id)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Reserve r = TICKETRUSH__RESERVE__INIT;

	r.event_id = (char *)event;
	r.user_id = (char *)user;
	r.qty = qty;
	r.request_id = (char *)request_id;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
	req.reserve = &r;
	add_request(s, &req);
}

static void
confirm(struct seed *s, const char *rid, const char *user, const char *ref)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Confirm c = TICKETRUSH__CONFIRM__INIT;

	c.reservation_id = (char *)rid;
	c.user_id = (char *)user;
	c.payment_ref = (char *)ref;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_CONFIRM;
	req.confirm = &c;
	add_request(s, &req);
}

static void
release(struct seed *s, const char *rid, const char *user)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Release l = TICKETRUSH__RELEASE__INIT;

	l.reservation_id = (char *)rid;
	l.user_id = (char *)user;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_RELEASE;
	req.release = &l;
	add_request(s, &req);
}

static void
get_event(struct seed *s, const char *event, uint32_t version)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__GetEvent g = TICKETRUSH__GET_EVENT__INIT;

	g.event_id = (char *)event;
	req.version = version;
	req.body_case = TICKETRUSH__REQUEST__BODY_GET_EVENT;
	req.get_event = &g;
	add_request(s, &req);
}

/* A gateway Batch: n ops, kinds by the letters of kinds (r reserve, c
 * confirm of the last reservation, l release of it, g get event). */
static void
batch(struct seed *s, const char *kinds)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch b = TICKETRUSH__BATCH__INIT;
	size_t n = strlen(kinds);
	Ticketrush__Op ops[64], *opp[64];
	Ticketrush__Reserve r[64];
	Ticketrush__Confirm c[64];
	Ticketrush__Release l[64];
	Ticketrush__GetEvent g[64];
	char users[64][32], reqs[64][64];

	for (size_t i = 0; i < n && i < 64; i++) {
		ticketrush__op__init(&ops[i]);
		snprintf(users[i], sizeof(users[i]), "u%zu", i);
		snprintf(reqs[i], sizeof(reqs[i]), "gw-6b8d1f0e2a4c9357-0-%zu",
		    100 + i);
		switch (kinds[i]) {
		case 'r':
			ticketrush__reserve__init(&r[i]);
			r[i].event_id = "G1234";
			r[i].user_id = users[i];
			r[i].qty = 1;
			r[i].request_id = reqs[i];
			ops[i].op_case = TICKETRUSH__OP__OP_RESERVE;
			ops[i].reserve = &r[i];
			break;
		case 'c':
			ticketrush__confirm__init(&c[i]);
			c[i].reservation_id = LAST_RID;
			c[i].user_id = "u0";
			c[i].payment_ref = "pay-1";
			ops[i].op_case = TICKETRUSH__OP__OP_CONFIRM;
			ops[i].confirm = &c[i];
			break;
		case 'l':
			ticketrush__release__init(&l[i]);
			l[i].reservation_id = LAST_RID;
			l[i].user_id = "u0";
			ops[i].op_case = TICKETRUSH__OP__OP_RELEASE;
			ops[i].release = &l[i];
			break;
		case 'g':
			ticketrush__get_event__init(&g[i]);
			g[i].event_id = "G1234";
			ops[i].op_case = TICKETRUSH__OP__OP_GET_EVENT;
			ops[i].get_event = &g[i];
			break;
		default: /* an Op with nothing set */ break;
		}
		opp[i] = &ops[i];
	}
	b.n_ops = n;
	b.ops = opp;
	req.version = TR_PROTOCOL_VERSION;
	req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
	req.batch = &b;
	add_request(s, &req);
}

static void
admin(struct seed *s, int body, const char *event, uint64_t total)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__CreateEvent ce = TICKETRUSH__CREATE_EVENT__INIT;
	Ticketrush__GetStatus gs = TICKETRUSH__GET_STATUS__INIT;
	Ticketrush__Drain d = TICKETRUSH__DRAIN__INIT;
	Ticketrush__ListEvents le = TICKETRUSH__LIST_EVENTS__INIT;

	req.version = TR_PROTOCOL_VERSION;
	req.body_case = body;
	switch (body) {
	case TICKETRUSH__REQUEST__BODY_CREATE_EVENT:
		ce.event_id = (char *)event;
		ce.total = total;
		ce.limit_per_user = 2;
		ce.hold_ms = 900000;
		req.create_event = &ce;
		break;
	case TICKETRUSH__REQUEST__BODY_GET_STATUS: req.get_status = &gs; break;
	case TICKETRUSH__REQUEST__BODY_DRAIN:
		d.event_id = (char *)(event ? event : "");
		req.drain = &d;
		break;
	default: req.list_events = &le; break;
	}
	add_request(s, &req);
}

static void
save(const char *dir, const char *name, const struct seed *s)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static struct seed *
start(uint8_t flags)
{
	static struct seed s;
	s.len = 0;
	put(&s, &flags, 1);
	return &s;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct seed *s;

	s = start(0);
	reserve(s, "G1234", "alice", 1, "gw-6b8d1f0e2a4c9357-0-1");
	save(dir, "reserve", s);

	s = start(0);
	reserve(s, "G1234", "alice", 1, "gw-6b8d1f0e2a4c9357-0-1");
	confirm(s, LAST_RID, "alice", "pay-7781");
	confirm(s, LAST_RID, "alice", "pay-7781");
	confirm(s, LAST_RID, "alice", "pay-other");
	release(s, LAST_RID, "alice");
	save(dir, "reserve-confirm-again-conflict", s);

	s = start(0);
	reserve(s, "G1234", "bob@example.com", 1, "");
	release(s, LAST_RID, "mallory");
	release(s, LAST_RID, "bob@example.com");
	release(s, LAST_RID, "bob@example.com");
	confirm(s, LAST_RID, "bob@example.com", "");
	save(dir, "reserve-release-twice", s);

	s = start(0);
	reserve(s, "G1234", "carol", 1, "req-1");
	reserve(s, "G1234", "carol", 1, "req-1");
	reserve(s, "G1234", "carol", 1, "req-2");
	save(dir, "retry-and-duplicate", s);

	s = start(2);
	reserve(s, "G1234", "dave", 2, "gw-6b8d1f0e2a4c9357-1-9");
	reserve(s, "G1234", "erin", 2, "gw-6b8d1f0e2a4c9357-1-10");
	reserve(s, "G1234", "frank", 1, "gw-6b8d1f0e2a4c9357-1-11");
	reserve(s, "G1234", "grace", 3, "");
	save(dir, "limit-two-sold-out", s);

	s = start(0);
	batch(s, "rrrrg");
	save(dir, "gateway-batch", s);

	s = start(0);
	batch(s, "rcg");
	batch(s, "lrrg");
	save(dir, "batch-confirm-release", s);

	s = start(0);
	batch(s, "rrrrrrrrr"); /* one over fuzz_node's batch_max */
	save(dir, "batch-over-limit", s);

	s = start(0);
	batch(s, "r-g");
	batch(s, "");
	save(dir, "batch-empty-op-and-empty", s);

	s = start(0);
	get_event(s, "S1", TR_PROTOCOL_VERSION);
	reserve(s, "S1", "heidi", 1, "");
	reserve(s, "NOPE", "heidi", 1, "");
	get_event(s, "NOPE", TR_PROTOCOL_VERSION);
	save(dir, "scheduled-and-unknown", s);

	s = start(0);
	get_event(s, "G1234", 2);
	get_event(s, "G1234", 0);
	save(dir, "wrong-versions", s);

	s = start(0);
	reserve(s, "bad id", "ivan", 1, "");
	reserve(s, "G1234", "", 1, "");
	reserve(s, "G1234", "ivan", 101, "");
	reserve(s, "G1234", "ivan", 1, "bad request id");
	confirm(s, "n1.xyz.G1234", "ivan", "");
	confirm(s, LAST_RID, "ivan", "\x01");
	release(s, "n1.9f2c41d07be85a10", "ivan");
	save(dir, "invalid-fields", s);

	s = start(0);
	admin(s, TICKETRUSH__REQUEST__BODY_GET_STATUS, NULL, 0);
	admin(s, TICKETRUSH__REQUEST__BODY_CREATE_EVENT, "NEW", 10);
	save(dir, "admin-on-data-socket", s);

	s = start(1);
	admin(s, TICKETRUSH__REQUEST__BODY_GET_STATUS, NULL, 0);
	admin(s, TICKETRUSH__REQUEST__BODY_CREATE_EVENT, "NEW", 10);
	admin(s, TICKETRUSH__REQUEST__BODY_CREATE_EVENT, "NEW", 10);
	admin(s, TICKETRUSH__REQUEST__BODY_CREATE_EVENT, "NEW", 11);
	admin(s, TICKETRUSH__REQUEST__BODY_CREATE_EVENT, "bad id", 11);
	admin(s, TICKETRUSH__REQUEST__BODY_LIST_EVENTS, NULL, 0);
	reserve(s, "NEW", "judy", 2, "");
	admin(s, TICKETRUSH__REQUEST__BODY_DRAIN, "G1234", 0);
	admin(s, TICKETRUSH__REQUEST__BODY_DRAIN, "NOPE", 0);
	reserve(s, "G1234", "judy", 1, "");
	admin(s, TICKETRUSH__REQUEST__BODY_DRAIN, NULL, 0);
	save(dir, "admin-create-list-drain", s);

	s = start(0);
	add_raw(s, "", 0);
	add_raw(s, "\x08\x01", 2); /* version 1, no body */
	add_raw(s, "GET / HTTP/1.1\r\n\r\n", 18);
	add_raw(s, "\x72\x05\x0a\x03\x0a\x01", 6); /* cut short */
	save(dir, "not-requests", s);
	return 0;
}
