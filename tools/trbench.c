/* trbench: load for stock nodes over nng, and the ceiling to compare with.
 *
 *   trbench echo-server URL [--contexts N]
 *       a bare nng REP server that sends every message back: the ceiling
 *       of what any node on nng can answer on this machine;
 *   trbench run --url URL [--url URL ...] --event E [--seconds S |
 *       --attempts N] [--inflight K] [--batch B] [--confirm] [--raw]
 *       keeps K requests in flight with async nng contexts (spread over
 *       the URLs, one REQ socket each); every request reserves for new,
 *       distinct users (B per Batch message; B = 1 sends plain Reserves);
 *       with --confirm every successful reservation is confirmed on the
 *       same node right after. --raw skips reading replies (for a fair
 *       comparison with the echo server). --acked FILE writes every
 *       acknowledged reservation ("H <id>", a hold answered OK) and order
 *       ("C <id>", a confirm answered OK) to FILE, one a line, for
 *       checking what a failover lost (scripts/bench-failover). Prints
 *       one JSON line.
 *
 *   trbench create-events --redis HOST:PORT[,...] --count N [--prefix P]
 *       [--total T]
 *       create N events P0..P(N-1) of T tickets (default 100) with the
 *       create_event script and publish them, 500 per pipeline: the
 *       thousands of events of scripts/bench-events.
 *
 * Bounded: --seconds (default 5, at most 600) or --attempts (at most 1e8),
 * and at most 2 s to drain what is in flight at the end.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "tr_clock.h"
#include "tr_coord.h"
#include "tr_envelope.h"
#include "tr_event.h"
#include "tr_err.h"
#include "tr_ids.h"
#include "tr_log.h"
#include "tr_parse.h"

#define URLS_MAX 16
#define INFLIGHT_MAX 4096

/* ---- echo server -------------------------------------------------------- */

struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
};

static void
echo_cb(void *arg)
{
	struct echo_ctx *e = arg;
	if (nng_aio_result(e->aio) != 0) {
		if (e->sending)
			nng_msg_free(nng_aio_get_msg(e->aio));
		if (nng_aio_result(e->aio) == NNG_ECLOSED)
			return;
		e->sending = false;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
	if (e->sending) {
		e->sending = false;
		nng_ctx_recv(e->ctx, e->aio);
	} else {
		/* The message we got is the one we send back. */
		e->sending = true;
		nng_ctx_send(e->ctx, e->aio);
	}
}

static int
echo_server(const char *url, int contexts)
{
	nng_socket sock;
	struct echo_ctx *ctxs = calloc((size_t)contexts, sizeof(*ctxs));
	sigset_t sigs;
	int sig, rv;

	if (ctxs == NULL || nng_rep0_open(&sock) != 0)
		return 1;
	if ((rv = nng_listen(sock, url, NULL, 0)) != 0) {
		fprintf(stderr, "trbench: listen %s: %s\n", url,
		    nng_strerror(rv));
		return 1;
	}
	for (int i = 0; i < contexts; i++) {
		if (nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i]) != 0 ||
		    nng_ctx_open(&ctxs[i].ctx, sock) != 0)
			return 1;
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	fprintf(stderr, "trbench: echo server on %s, %d contexts\n", url,
	    contexts);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigwait(&sigs, &sig);
	nng_close(sock);
	for (int i = 0; i < contexts; i++) {
		nng_aio_stop(ctxs[i].aio);
		nng_aio_free(ctxs[i].aio);
	}
	free(ctxs);
	return 0;
}

/* ---- load -----------------------------------------------------------------
 */

struct bench;

struct slot {
	struct bench *b;
	int url;
	nng_ctx ctx;
	nng_aio *aio;
	enum { SLOT_SEND, SLOT_RECV } state;
	bool confirming;
	int64_t sent_us;
	/* Reservations to confirm next (from the last reply). */
	char rids[TR_BATCH_MAX_LIMIT][TR_RID_MAX + 1];
	char users[TR_BATCH_MAX_LIMIT][TR_USER_ID_MAX + 1];
	size_t n_rids;
	size_t n_confirming; /* rids sent in the confirm in flight */
};

struct bench {
	nng_socket socks[URLS_MAX];
	int nurls;
	const char *event;
	const char *prefix;
	int batch;
	bool confirm, raw;
	FILE *acked;           /* --acked: what was acknowledged, or NULL */
	uint64_t attempts_max; /* 0: by time */
	int64_t stop_at_ms;
	atomic_ullong next_user;
	atomic_ullong messages, reserve_ops, ok, sold_out, other;
	atomic_ullong confirms, confirm_ok, confirm_failed;
	atomic_ullong lat_sum_us;
	atomic_int active;
	atomic_bool stopping;
};

static void slot_cb(void *arg);

static int
build_reserves(struct slot *s, nng_msg **out)
{
	struct bench *b = s->b;
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch batch = TICKETRUSH__BATCH__INIT;
	Ticketrush__Op ops[TR_BATCH_MAX_LIMIT], *opp[TR_BATCH_MAX_LIMIT];
	Ticketrush__Reserve res[TR_BATCH_MAX_LIMIT];
	char users[TR_BATCH_MAX_LIMIT][32];
	int n = b->batch;
	uint64_t first;

	first = atomic_fetch_add(&b->next_user, (uint64_t)n);
	if (b->attempts_max && first >= b->attempts_max)
		return TR_ESOLD_OUT; /* done */
	if (b->attempts_max && first + (uint64_t)n > b->attempts_max)
		n = (int)(b->attempts_max - first);
	for (int i = 0; i < n; i++) {
		snprintf(users[i], sizeof(users[i]), "%s%" PRIu64, b->prefix,
		    first + (uint64_t)i);
		ticketrush__reserve__init(&res[i]);
		res[i].event_id = (char *)b->event;
		res[i].user_id = users[i];
		res[i].qty = 1;
		ticketrush__op__init(&ops[i]);
		ops[i].op_case = TICKETRUSH__OP__OP_RESERVE;
		ops[i].reserve = &res[i];
		opp[i] = &ops[i];
	}
	req.version = TR_PROTOCOL_VERSION;
	if (b->batch == 1) {
		req.body_case = TICKETRUSH__REQUEST__BODY_RESERVE;
		req.reserve = &res[0];
	} else {
		batch.n_ops = (size_t)n;
		batch.ops = opp;
		req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
		req.batch = &batch;
	}
	atomic_fetch_add(&b->reserve_ops, (uint64_t)n);
	return tr_msg_pack(&req.base, out);
}

static int
build_confirms(struct slot *s, nng_msg **out)
{
	Ticketrush__Request req = TICKETRUSH__REQUEST__INIT;
	Ticketrush__Batch batch = TICKETRUSH__BATCH__INIT;
	Ticketrush__Op ops[TR_BATCH_MAX_LIMIT], *opp[TR_BATCH_MAX_LIMIT];
	Ticketrush__Confirm con[TR_BATCH_MAX_LIMIT];

	for (size_t i = 0; i < s->n_rids; i++) {
		ticketrush__confirm__init(&con[i]);
		con[i].reservation_id = s->rids[i];
		con[i].user_id = s->users[i];
		con[i].payment_ref = "bench";
		ticketrush__op__init(&ops[i]);
		ops[i].op_case = TICKETRUSH__OP__OP_CONFIRM;
		ops[i].confirm = &con[i];
		opp[i] = &ops[i];
	}
	req.version = TR_PROTOCOL_VERSION;
	batch.n_ops = s->n_rids;
	batch.ops = opp;
	req.body_case = TICKETRUSH__REQUEST__BODY_BATCH;
	req.batch = &batch;
	atomic_fetch_add(&s->b->confirms, s->n_rids);
	s->n_confirming = s->n_rids;
	return tr_msg_pack(&req.base, out);
}

/* Send the next request of this slot, or retire it. */
static void
slot_next(struct slot *s)
{
	struct bench *b = s->b;
	nng_msg *msg = NULL;
	int rv;

	if (s->n_rids > 0) {
		s->confirming = true;
		rv = build_confirms(s, &msg);
	} else if (atomic_load(&b->stopping) ||
	    (!b->attempts_max && tr_mono_ms() >= b->stop_at_ms)) {
		rv = TR_ESOLD_OUT;
	} else {
		s->confirming = false;
		rv = build_reserves(s, &msg);
	}
	if (rv != 0) {
		atomic_fetch_sub(&b->active, 1);
		return;
	}
	s->state = SLOT_SEND;
	s->sent_us = tr_mono_us();
	nng_aio_set_msg(s->aio, msg);
	nng_ctx_send(s->ctx, s->aio);
}

static void
count_reply(struct slot *s, nng_msg *msg)
{
	struct bench *b = s->b;
	Ticketrush__Reply *rep, *one[1], **results;
	size_t n;

	s->n_rids = 0;
	rep = tr_reply_unpack(nng_msg_body(msg), nng_msg_len(msg));
	if (rep == NULL) {
		atomic_fetch_add(&b->other, 1);
		return;
	}
	if (rep->n_results > 0) {
		n = rep->n_results;
		results = rep->results;
	} else {
		one[0] = rep;
		n = 1;
		results = one;
	}
	for (size_t i = 0; i < n; i++) {
		Ticketrush__Reply *r = results[i];
		bool ok = r->status == TICKETRUSH__STATUS__STATUS_OK;
		if (s->confirming) {
			atomic_fetch_add(ok ? &b->confirm_ok
			                    : &b->confirm_failed,
			    1);
			if (ok && b->acked != NULL && i < s->n_confirming)
				fprintf(b->acked, "C %s\n", s->rids[i]);
			continue;
		}
		if (ok) {
			atomic_fetch_add(&b->ok, 1);
			if (b->acked != NULL && r->hold != NULL)
				fprintf(b->acked, "H %s\n",
				    r->hold->reservation_id);
			if (b->confirm && r->hold &&
			    s->n_rids < TR_BATCH_MAX_LIMIT) {
				snprintf(s->rids[s->n_rids], TR_RID_MAX + 1,
				    "%s", r->hold->reservation_id);
				snprintf(s->users[s->n_rids],
				    TR_USER_ID_MAX + 1, "%s",
				    r->hold->user_id);
				s->n_rids++;
			}
		} else if (r->status == TICKETRUSH__STATUS__STATUS_SOLD_OUT) {
			atomic_fetch_add(&b->sold_out, 1);
		} else {
			if (atomic_fetch_add(&b->other, 1) == 0)
				fprintf(stderr,
				    "trbench: first refusal: %s "
				    "(%s)\n",
				    tr_strerror(
				        tr_err_from_status((int)r->status)),
				    r->detail);
		}
	}
	tr_reply_free(rep);
}

static void
slot_cb(void *arg)
{
	struct slot *s = arg;
	struct bench *b = s->b;
	int rv = nng_aio_result(s->aio);

	if (rv != 0) {
		if (s->state == SLOT_SEND)
			nng_msg_free(nng_aio_get_msg(s->aio));
		atomic_fetch_add(&b->other, 1);
		if (rv == NNG_ECLOSED || atomic_load(&b->stopping)) {
			atomic_fetch_sub(&b->active, 1);
			return;
		}
		s->n_rids = 0;
		slot_next(s);
		return;
	}
	if (s->state == SLOT_SEND) {
		s->state = SLOT_RECV;
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	{
		nng_msg *msg = nng_aio_get_msg(s->aio);
		atomic_fetch_add(&b->messages, 1);
		atomic_fetch_add(&b->lat_sum_us,
		    (uint64_t)(tr_mono_us() - s->sent_us));
		if (b->raw)
			s->n_rids = 0;
		else
			count_reply(s, msg);
		nng_msg_free(msg);
	}
	slot_next(s);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: trbench echo-server URL [--contexts N]\n"
	    "       trbench run --url URL [--url URL...] --event E [--seconds "
	    "S |\n"
	    "               --attempts N] [--inflight K] [--batch B] "
	    "[--confirm]\n"
	    "               [--raw] [--user-prefix P] [--acked FILE]\n"
	    "       trbench create-events --redis HOST:PORT --count N "
	    "[--prefix P]\n"
	    "               [--total T]\n"
	    "Load for stock nodes over nng (see the comment at the top of "
	    "trbench.c).\n");
}

static int
run(int argc, char **argv)
{
	static const struct option opts[] = {{"url", 1, NULL, 'u'},
	    {"event", 1, NULL, 'e'}, {"seconds", 1, NULL, 's'},
	    {"attempts", 1, NULL, 'a'}, {"inflight", 1, NULL, 'i'},
	    {"batch", 1, NULL, 'b'}, {"confirm", 0, NULL, 'c'},
	    {"raw", 0, NULL, 'r'}, {"user-prefix", 1, NULL, 'p'},
	    {"acked", 1, NULL, 'k'}, {NULL, 0, NULL, 0}};
	static struct bench b;
	const char *urls[URLS_MAX];
	uint64_t v, seconds = 5, inflight = 128;
	struct slot *slots;
	int64_t t0, t1, deadline;
	double secs;
	int opt;

	b.event = "BENCH";
	b.prefix = "bench-";
	b.batch = 1;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (b.nurls == URLS_MAX)
				return 2;
			urls[b.nurls++] = optarg;
			break;
		case 'e': b.event = optarg; break;
		case 's':
			if (tr_parse_u64(optarg, 1, 600, &seconds))
				return 2;
			break;
		case 'a':
			if (tr_parse_u64(optarg, 1, 100000000, &v))
				return 2;
			b.attempts_max = v;
			break;
		case 'i':
			if (tr_parse_u64(optarg, 1, INFLIGHT_MAX, &inflight))
				return 2;
			break;
		case 'b':
			if (tr_parse_u64(optarg, 1, TR_BATCH_MAX_LIMIT, &v))
				return 2;
			b.batch = (int)v;
			break;
		case 'c': b.confirm = true; break;
		case 'r': b.raw = true; break;
		case 'p': b.prefix = optarg; break;
		case 'k':
			if ((b.acked = fopen(optarg, "w")) == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (b.nurls == 0 || !tr_event_id_valid(b.event)) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < b.nurls; i++) {
		if (nng_req0_open(&b.socks[i]) != 0)
			return 1;
		nng_socket_set_ms(b.socks[i], NNG_OPT_REQ_RESENDTIME,
		    NNG_DURATION_INFINITE);
		nng_socket_set_size(b.socks[i], NNG_OPT_RECVMAXSZ, TR_MSG_MAX);
		if (nng_dial(b.socks[i], urls[i], NULL, 0) != 0) {
			fprintf(stderr, "trbench: cannot connect to %s\n",
			    urls[i]);
			return 3;
		}
	}
	slots = calloc(inflight, sizeof(*slots));
	if (slots == NULL)
		return 1;
	t0 = tr_mono_ms();
	b.stop_at_ms = t0 + (int64_t)seconds * 1000;
	atomic_store(&b.active, (int)inflight);
	for (uint64_t i = 0; i < inflight; i++) {
		struct slot *s = &slots[i];
		s->b = &b;
		s->url = (int)(i % (uint64_t)b.nurls);
		if (nng_aio_alloc(&s->aio, slot_cb, s) != 0 ||
		    nng_ctx_open(&s->ctx, b.socks[s->url]) != 0)
			return 1;
		nng_aio_set_timeout(s->aio, 5000);
	}
	for (uint64_t i = 0; i < inflight; i++)
		slot_next(&slots[i]);
	/* Wait for the run to end; attempts mode is bounded by 600 s too. */
	deadline =
	    t0 + (b.attempts_max ? 600000 : (int64_t)seconds * 1000) + 2000;
	while (atomic_load(&b.active) > 0 && tr_mono_ms() < deadline)
		tr_sleep_ms(5);
	t1 = tr_mono_ms();
	atomic_store(&b.stopping, true);
	for (int i = 0; i < b.nurls; i++)
		nng_close(b.socks[i]);
	for (uint64_t i = 0; i < inflight; i++) {
		nng_aio_stop(slots[i].aio);
		nng_aio_free(slots[i].aio);
	}
	secs = (double)(t1 - t0) / 1000.0;
	printf("{\"seconds\":%.3f,\"messages\":%llu,\"messages_per_s\":%.0f,"
	       "\"reserve_ops\":%llu,\"reserve_ops_per_s\":%.0f,\"ok\":%llu,"
	       "\"sold_out\":%llu,\"other\":%llu,\"confirms\":%llu,"
	       "\"confirm_ok\":%llu,\"confirm_failed\":%llu,"
	       "\"confirms_per_s\":%.0f,\"mean_latency_us\":%.0f,"
	       "\"inflight\":%" PRIu64 ",\"batch\":%d}\n",
	    secs, (unsigned long long)b.messages, (double)b.messages / secs,
	    (unsigned long long)b.reserve_ops, (double)b.reserve_ops / secs,
	    (unsigned long long)b.ok, (unsigned long long)b.sold_out,
	    (unsigned long long)b.other, (unsigned long long)b.confirms,
	    (unsigned long long)b.confirm_ok,
	    (unsigned long long)b.confirm_failed, (double)b.confirm_ok / secs,
	    b.messages ? (double)b.lat_sum_us / (double)b.messages : 0.0,
	    inflight, b.batch);
	free(slots);
	if (b.acked != NULL && fclose(b.acked) != 0) {
		perror("--acked");
		return 1;
	}
	return 0;
}

static int
create_events(int argc, char **argv)
{
	char prefix[32] = "Q";
	uint64_t count = 0, total = 100;
	tr_coord_opts o = {"127.0.0.1", 6379, 5000, NULL, false};
	tr_call *calls = calloc(500, sizeof(*calls));
	tr_call **ptrs = calloc(500, sizeof(*ptrs));
	tr_coord *coord;
	char id[TR_EVENT_ID_MAX + 1];
	int rv = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--redis") == 0) {
			/* HOST:PORT, or a Redis Cluster's seeds */
			if (tr_coord_addrs_count(argv[i + 1]) < 0)
				return 2;
			o.addrs = argv[i + 1];
		} else if (strcmp(argv[i], "--count") == 0) {
			if (tr_parse_u64(argv[i + 1], 1, 1000000, &count))
				return 2;
		} else if (strcmp(argv[i], "--total") == 0) {
			if (tr_parse_u64(argv[i + 1], 1, TR_TOTAL_MAX, &total))
				return 2;
		} else if (strcmp(argv[i], "--prefix") == 0) {
			snprintf(prefix, sizeof(prefix), "%s", argv[i + 1]);
		} else {
			return 2;
		}
	}
	if (count == 0 || calls == NULL || ptrs == NULL ||
	    tr_coord_open(&o, false, &coord) != 0) {
		fprintf(stderr,
		    "trbench: create-events needs --count and a "
		    "reachable --redis\n");
		return 2;
	}
	for (uint64_t from = 0; from < count; from += 500) {
		size_t m = count - from < 500 ? count - from : 500;
		for (size_t i = 0; i < m; i++) {
			snprintf(id, sizeof(id), "%s%" PRIu64, prefix,
			    from + i);
			if (!tr_event_id_valid(id)) {
				fprintf(stderr, "trbench: bad --prefix\n");
				goto out;
			}
			tr_call_create_event(&calls[i], id, total, 1, 60000,
			    0);
			ptrs[i] = &calls[i];
		}
		if (tr_coord_run(coord, ptrs, m) != 0)
			goto out;
		for (size_t i = 0; i < m; i++) {
			bool created;
			int r = tr_result_create_event(&calls[i], &created);
			tr_call_done(&calls[i]);
			snprintf(id, sizeof(id), "%s%" PRIu64, prefix,
			    from + i);
			if (r != 0 || tr_coord_event_publish(coord, id) != 0)
				goto out;
		}
	}
	printf("{\"created\":%" PRIu64 "}\n", count);
	rv = 0;
out:
	tr_coord_close(coord);
	free(calls);
	free(ptrs);
	return rv;
}

int
main(int argc, char **argv)
{
	sigset_t sigs;

	/* The coordinator library logs its connections at INFO; a benchmark's
	 * output is its figures. */
	tr_log_init("trbench", TR_LOG_WARN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (argc >= 3 && strcmp(argv[1], "echo-server") == 0) {
		uint64_t contexts = 128;
		if (argc == 5 && strcmp(argv[3], "--contexts") == 0 &&
		    tr_parse_u64(argv[4], 1, INFLIGHT_MAX, &contexts) != 0)
			return 2;
		return echo_server(argv[2], (int)contexts);
	}
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "create-events") == 0)
		return create_events(argc - 1, argv + 1);
	usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
