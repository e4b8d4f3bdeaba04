/* fuzz_coord: the coordinator's readers of Redis replies
 * (lib/coord/tr_coord.h).
 *
 * Input: byte 0 chooses the script (of the thirteen with a reader), byte 1
 * the number of items the call carried (hold, confirm, expire: the answer
 * must have as many), the rest is what Redis sent: RESP bytes, turned into
 * a redisReply by hiredis' own reader as tr_coord_run gets it. The reply
 * goes into a call built by the script's tr_call_* builder through
 * tr_call_answer (as tr_coord_run does: errors become the script's
 * refusal codes), then every reader of that script reads it, items
 * included, also past the last item. A reader must never read outside the
 * reply, and what it returns must be within its bounds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "tr_coord.h"
#include "tr_err.h"
#include "tr_log.h"

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n",          \
			    __FILE__, __LINE__, #cond);                       \
			abort();                                              \
		}                                                             \
	} while (0)

/* Our scripts answer arrays of at most 257 items (and audit one entry per
 * node). Redis is trusted; a bigger count in fuzz bytes would only make
 * hiredis 0.14 (which has no maxelements) calloc gigabytes. */
#define ARRAY_MAX 4096

#define EVENT "G1234"
#define NODE "n1"
#define RID "n1.9f2c41d07be85a10.G1234"
/* What jobs.c gives the item readers. */
#define DETAIL_CAP 160

static redisReplyObjectFunctions bounded;
static void *(*hiredis_array)(const redisReadTask *, int);

static void *
bounded_array(const redisReadTask *task, int elements)
{
	if (elements < 0 || elements > ARRAY_MAX)
		return NULL; /* the reader reports "out of memory" */
	return hiredis_array(task, elements);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	redisReader *r = redisReaderCreate();

	(void)argc;
	(void)argv;
	/* hiredis' own reply builders, but for the array bound. */
	CHECK(r != NULL);
	bounded = *r->fn;
	hiredis_array = bounded.createArray;
	bounded.createArray = bounded_array;
	redisReaderFree(r);
	tr_log_init("fuzz_coord", TR_LOG_OFF);
	return 0;
}

/* Byte 0 picks the script: enum tr_script, modulo TR_SCRIPT_COUNT (the
 * seeds write the enum value). */

/* The call a node would have made, with items calls carrying n items. */
static void
build(tr_call *k, enum tr_script s, size_t items)
{
	char rid[TR_RID_MAX + 1], user[32];

	switch (s) {
	case TR_SCRIPT_CREATE_EVENT:
		tr_call_create_event(k, EVENT, 10000, 1, 900000, 0);
		break;
	case TR_SCRIPT_REGISTER: tr_call_register(k, EVENT, NODE); break;
	case TR_SCRIPT_GRANT: tr_call_grant(k, EVENT, NODE, 3, 64); break;
	case TR_SCRIPT_HOLD: tr_call_hold(k, EVENT, NODE, 3); break;
	case TR_SCRIPT_CONFIRM: tr_call_confirm(k, EVENT, NODE); break;
	case TR_SCRIPT_RELEASE:
		tr_call_release(k, EVENT, NODE, 3, RID, "alice");
		break;
	case TR_SCRIPT_EXPIRE: tr_call_expire(k, EVENT, NODE, 3); break;
	case TR_SCRIPT_EXPIRE_DUE:
		tr_call_expire_due(k, EVENT, 1000, 1000, 3600000, 1000);
		break;
	case TR_SCRIPT_GIVE_BACK:
		tr_call_give_back(k, EVENT, NODE, 3, 10);
		break;
	case TR_SCRIPT_RECLAIM:
		tr_call_reclaim(k, EVENT, "n2", 0, 1000, 1000);
		break;
	case TR_SCRIPT_RETIRE: tr_call_retire(k, EVENT, NODE, 3); break;
	case TR_SCRIPT_SYNC: tr_call_sync(k, EVENT, NODE, 1000, 1000); break;
	case TR_SCRIPT_INFO: tr_call_info(k, EVENT); break;
	case TR_SCRIPT_SWEEPER: tr_call_sweeper(k, NODE ":i1", 3000); break;
	case TR_SCRIPT_HEARTBEAT:
		tr_call_heartbeat(k, NODE, "i1", 3000);
		break;
	case TR_SCRIPT_LEAVE: tr_call_leave(k, NODE, "i1"); break;
	case TR_SCRIPT_UNINDEX: tr_call_unindex(k, NODE, EVENT); break;
	case TR_SCRIPT_WL_JOIN:
		tr_call_wl_join(k, EVENT, "alice", "r1");
		break;
	case TR_SCRIPT_WL_GET: tr_call_wl_get(k, EVENT, "alice"); break;
	case TR_SCRIPT_WL_LEAVE: tr_call_wl_leave(k, EVENT, "alice"); break;
	case TR_SCRIPT_WL_SHOW: tr_call_wl_show(k, EVENT, 10); break;
	case TR_SCRIPT_REFUND: tr_call_refund(k, EVENT, RID, "alice"); break;
	case TR_SCRIPT_TOPUP: tr_call_topup(k, EVENT, 5, 100000000); break;
	case TR_SCRIPT_CLOSE: tr_call_close(k, EVENT, true); break;
	case TR_SCRIPT_WATCH: tr_call_watch(k, EVENT); break;
	default: tr_call_audit(k, EVENT); break;
	}
	for (size_t i = 0; i < items; i++) {
		snprintf(rid, sizeof(rid), NODE ".%016zx." EVENT, i);
		snprintf(user, sizeof(user), "user%zu", i);
		if (s == TR_SCRIPT_HOLD)
			CHECK(tr_call_hold_item(k, rid, user, 1, "") == 0);
		else if (s == TR_SCRIPT_CONFIRM)
			CHECK(tr_call_confirm_item(k, rid, user, "pay") == 0);
		else if (s == TR_SCRIPT_EXPIRE)
			CHECK(tr_call_expire_item(k, rid) == 0);
	}
}

static size_t
elements(const tr_call *k)
{
	return k->reply->type == REDIS_REPLY_ARRAY ? k->reply->elements : 0;
}

/* A string a reader filled: NUL-terminated inside its buffer. */
static void
check_str(const char *s, size_t cap)
{
	CHECK(memchr(s, '\0', cap) != NULL);
}

static void
read_items(const tr_call *k, enum tr_script s, size_t items)
{
	/* Past the last item too: a reader must refuse, not read. */
	for (size_t i = 0; i < items + 2; i++) {
		int rv;
		if (s == TR_SCRIPT_HOLD) {
			tr_hold_result h;
			rv = tr_result_hold_item(k, i, &h);
			if (rv == 0) {
				CHECK(h.outcome >= TR_HOLDCALL_CREATED &&
				    h.outcome <= TR_HOLDCALL_CLOSED);
				check_str(h.rid, sizeof(h.rid));
			}
		} else if (s == TR_SCRIPT_CONFIRM) {
			tr_order_info o;
			char *detail = malloc(DETAIL_CAP);
			CHECK(detail != NULL);
			rv = tr_result_confirm_item(k, i, &o, detail,
			    DETAIL_CAP);
			if (rv == 0) {
				CHECK(o.qty >= 1);
				check_str(o.payment_ref,
				    sizeof(o.payment_ref));
				check_str(o.user, sizeof(o.user));
				check_str(o.node, sizeof(o.node));
			}
			free(detail);
		} else {
			int state;
			bool to_lease;
			int64_t t;
			char ref[TR_PAYMENT_REF_MAX + 1];
			rv = tr_result_expire_item(k, i, &state, &to_lease, &t,
			    ref, sizeof(ref));
			if (rv == 0) {
				CHECK(state >= 0 && state <= 4);
				check_str(ref, sizeof(ref));
			}
		}
		if (rv == 0)
			CHECK(k->rv == 0 && i + 1 < elements(k));
	}
}

static void
read_all(const tr_call *k, enum tr_script s, size_t items)
{
	tr_event_figures fig;
	uint64_t a, b;
	int64_t now;
	size_t count;
	bool flag;
	int rv = 0;

	switch (s) {
	case TR_SCRIPT_CREATE_EVENT:
		rv = tr_result_create_event(k, &flag);
		break;
	case TR_SCRIPT_REGISTER: {
		uint32_t limit;
		int64_t opens;
		rv = tr_result_register(k, &fig, &a, &limit, &b, &opens);
		break;
	}
	case TR_SCRIPT_GRANT: rv = tr_result_grant(k, &a, &b); break;
	case TR_SCRIPT_HOLD:
	case TR_SCRIPT_CONFIRM:
	case TR_SCRIPT_EXPIRE:
		rv = s == TR_SCRIPT_HOLD ? tr_result_hold(k, &now, &count)
		    : s == TR_SCRIPT_CONFIRM
		    ? tr_result_confirm(k, &now, &count)
		    : tr_result_expire(k, &now, &count);
		if (rv == 0)
			CHECK(count == items);
		read_items(k, s, items);
		break;
	case TR_SCRIPT_RELEASE: {
		int state;
		uint32_t qty;
		int64_t exp;
		rv = tr_result_release(k, &state, &flag, &qty, &exp);
		if (rv == 0)
			CHECK(qty >= 1 && state >= 1 && state <= 4);
		break;
	}
	case TR_SCRIPT_EXPIRE_DUE: rv = tr_result_expire_due(k, &a, &b); break;
	case TR_SCRIPT_GIVE_BACK: rv = tr_result_give_back(k, &a, &b); break;
	case TR_SCRIPT_RECLAIM: {
		int64_t held;
		rv = tr_result_reclaim(k, &flag, &a, &held);
		if (rv == 0)
			CHECK(held >= -1);
		break;
	}
	case TR_SCRIPT_RETIRE: rv = tr_result_retire(k, &a); break;
	case TR_SCRIPT_SYNC: rv = tr_result_sync(k, &fig); break;
	case TR_SCRIPT_INFO: {
		tr_event_info info;
		rv = tr_result_info(k, &info);
		break;
	}
	case TR_SCRIPT_SWEEPER: rv = tr_result_sweeper(k, &flag); break;
	case TR_SCRIPT_WL_JOIN:
	case TR_SCRIPT_WL_GET:
	case TR_SCRIPT_WL_LEAVE: {
		tr_wl_entry e;
		char rid[TR_RID_MAX + 1];
		rv = tr_result_wl_entry(k, &e);
		if (rv == 0) {
			CHECK(e.state >= TR_WL_WAITING &&
			    e.state <= TR_WL_SKIPPED);
			check_str(e.offer_rid, sizeof(e.offer_rid));
		}
		if (tr_result_wl_duplicate(k, rid, sizeof(rid)) == 0)
			check_str(rid, sizeof(rid));
		break;
	}
	case TR_SCRIPT_WL_SHOW: {
		tr_wl_show *w = malloc(sizeof(*w));
		CHECK(w != NULL);
		rv = tr_result_wl_show(k, w);
		if (rv == 0) {
			CHECK(w->head_count <= TR_WL_SHOW_MAX);
			for (size_t i = 0; i < w->head_count; i++)
				check_str(w->head[i].user,
				    sizeof(w->head[i].user));
		}
		free(w);
		break;
	}
	case TR_SCRIPT_TOPUP: rv = tr_result_topup(k, &a, &b); break;
	case TR_SCRIPT_CLOSE: rv = tr_result_close(k, &flag, &fig); break;
	case TR_SCRIPT_WATCH: {
		tr_watch *w = malloc(sizeof(*w));
		CHECK(w != NULL);
		rv = tr_result_watch(k, w);
		if (rv == 0) {
			CHECK(w->node_count <= TR_AUDIT_NODES_MAX);
			for (size_t i = 0; i < w->node_count; i++)
				check_str(w->nodes[i].node,
				    sizeof(w->nodes[i].node));
		}
		free(w);
		break;
	}
	case TR_SCRIPT_REFUND: {
		tr_refund_info r;
		rv = tr_result_refund(k, &r);
		if (rv == 0) {
			CHECK(r.qty >= 1);
			check_str(r.payment_ref, sizeof(r.payment_ref));
			check_str(r.node, sizeof(r.node));
		}
		break;
	}
	case TR_SCRIPT_HEARTBEAT:
	case TR_SCRIPT_LEAVE:
	case TR_SCRIPT_UNINDEX:
		rv = k->rv; /* no reader: the call's answer is all */
		break;
	case TR_SCRIPT_AUDIT:
	default: {
		tr_audit *au = malloc(sizeof(*au));
		CHECK(au != NULL);
		rv = tr_result_audit(k, au);
		if (rv == 0) {
			CHECK(au->node_count <= TR_AUDIT_NODES_MAX);
			for (size_t i = 0; i < au->node_count; i++)
				check_str(au->nodes[i].node,
				    sizeof(au->nodes[i].node));
		}
		free(au);
		break;
	}
	}
	/* A refusal of the script is the reader's answer too. */
	if (k->rv != 0)
		CHECK(rv == k->rv);
	else if (rv != 0)
		CHECK(rv == TR_EPROTO);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	void *reply = NULL;
	enum tr_script s;
	size_t items;
	tr_call k;

	if (size < 2)
		return 0;
	s = (enum tr_script)(data[0] % TR_SCRIPT_COUNT);
	items = data[1];
	CHECK((rd = redisReaderCreateWithFunctions(&bounded)) != NULL);
	if (redisReaderFeed(rd, (const char *)data + 2, size - 2) !=
	        REDIS_OK ||
	    redisReaderGetReply(rd, &reply) != REDIS_OK || reply == NULL) {
		/* Not a whole reply: tr_coord_run would wait for more (or
		 * drop a connection that sent garbage). */
		redisReaderFree(rd);
		return 0;
	}
	redisReaderFree(rd);
	build(&k, s, items);
	(void)tr_call_answer(&k, reply);
	if (k.rv != 0)
		check_str(k.detail, sizeof(k.detail));
	read_all(&k, s, items);
	tr_call_done(&k);
	return 0;
}
