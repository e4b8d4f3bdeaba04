/* test_coord_replies: the coordinator's readers of Redis replies
 * (lib/coord/tr_coord.h), with no Redis: RESP bytes go through hiredis'
 * own reader, as tr_coord_run reads them, into a call made by the
 * script's builder (tr_call_answer), then through every tr_result_*
 * reader. Each reads what its script answers (figures where they belong:
 * every value differs from its neighbours), refuses another shape with
 * TR_EPROTO, and answers a refusal with its code. The good answers have
 * the shapes a real Redis gave (tests/fuzz/corpus/fuzz_coord). Linked
 * with trcoord alone. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tr_coord.h"
#include "tr_err.h"
#include "tr_log.h"

#define EV "G1234"
#define RID1 "n1.9f2c41d07be85a10.G1234"
#define RID2 "n1.0123456789abcdef.G1234"
#define NOW_MS 1796297870436LL
#define DEADLINE_MS 1796298770436LL

/* Redis' answer, as RESP tokens separated by '|': "*2", ":7", "+OK",
 * "-TR_FENCED 3" and "$-1" as they are on the wire, "$text" for a bulk
 * string of that text. Written into resp (NUL-terminated); its length. */
static size_t
resp_of(const char *tokens, char *resp, size_t cap)
{
	size_t len = 0;
	const char *p = tokens;

	while (*p != '\0') {
		const char *end = strchr(p, '|');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int w;
		if (p[0] == '$' && !(n == 3 && strncmp(p, "$-1", 3) == 0))
			w = snprintf(resp + len, cap - len, "$%zu\r\n%.*s\r\n",
			    n - 1, (int)(n - 1), p + 1);
		else
			w = snprintf(resp + len, cap - len, "%.*s\r\n", (int)n,
			    p);
		assert_true(w > 0 && (size_t)w < cap - len);
		len += (size_t)w;
		p += n;
		if (*p == '|')
			p++;
	}
	return len;
}

/* Give k the reply hiredis reads from tokens; returns k->rv. */
static int
answer(tr_call *k, const char *tokens)
{
	static char resp[8192];
	redisReader *rd = redisReaderCreate();
	size_t len = resp_of(tokens, resp, sizeof(resp));
	void *reply = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, resp, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
	if (reply == NULL)
		fail_msg("not one whole reply: %s", tokens);
	redisReaderFree(rd);
	return tr_call_answer(k, reply);
}

/* ---- what each script answers ------------------------------------- */

static void
event_figures_are_read_from_their_places(void **state)
{
	tr_event_figures fig;
	tr_event_info info;
	uint64_t returned, hold_ms, granted, pool;
	uint32_t limit;
	int64_t opens;
	bool created;
	tr_call k;
	(void)state;

	tr_call_create_event(&k, EV, 100, 2, 900000, 0);
	assert_int_equal(answer(&k, "*1|:1"), 0);
	assert_int_equal(tr_result_create_event(&k, &created), 0);
	assert_true(created);
	tr_call_done(&k);
	tr_call_create_event(&k, EV, 100, 2, 900000, 0);
	assert_int_equal(answer(&k, "*1|:0"), 0);
	assert_int_equal(tr_result_create_event(&k, &created), 0);
	assert_false(created);
	tr_call_done(&k);

	/* epoch, returned, total, limit, hold_ms, opens_at, pool, sold,
	 * held, node_held */
	tr_call_register(&k, EV, "n1");
	assert_int_equal(answer(&k,
	                     "*11|:3|:5|:100|:2|:900000|"
	                     ":1801468800000|:60|:7|:11|:4|:1"),
	    0);
	assert_int_equal(tr_result_register(&k, &fig, &returned, &limit,
	                     &hold_ms, &opens),
	    0);
	assert_int_equal(fig.epoch, 3);
	assert_int_equal(returned, 5);
	assert_int_equal(fig.total, 100);
	assert_int_equal(limit, 2);
	assert_int_equal(hold_ms, 900000);
	assert_int_equal(opens, 1801468800000LL);
	assert_int_equal(fig.pool, 60);
	assert_int_equal(fig.sold, 7);
	assert_int_equal(fig.held, 11);
	assert_int_equal(fig.node_held, 4);
	assert_int_equal(fig.lease, 0);
	assert_int_equal(fig.expired, 0);
	assert_true(fig.closed);
	tr_call_done(&k);

	tr_call_grant(&k, EV, "n1", 3, 64);
	assert_int_equal(answer(&k, "*2|:6|:54"), 0);
	assert_int_equal(tr_result_grant(&k, &granted, &pool), 0);
	assert_int_equal(granted, 6);
	assert_int_equal(pool, 54);
	tr_call_done(&k);

	/* pool, sold, epoch, lease, total, held, node_held, expired, line,
	 * offers, closed; the numbers may come as strings too (Lua's
	 * tostring). */
	tr_call_sync(&k, EV, "n1", 1000, 1000);
	assert_int_equal(answer(&k,
	                     "*11|:60|:7|:3|$5|:100|:11|:4|:2|:9|:1|:0"),
	    0);
	assert_int_equal(tr_result_sync(&k, &fig), 0);
	assert_int_equal(fig.pool, 60);
	assert_int_equal(fig.sold, 7);
	assert_int_equal(fig.epoch, 3);
	assert_int_equal(fig.lease, 5);
	assert_int_equal(fig.total, 100);
	assert_int_equal(fig.held, 11);
	assert_int_equal(fig.node_held, 4);
	assert_int_equal(fig.expired, 2);
	assert_int_equal(fig.line, 9);
	assert_int_equal(fig.offers, 1);
	assert_false(fig.closed);
	tr_call_done(&k);

	/* total, limit, hold_ms, opens_at, pool, sold, held */
	tr_call_info(&k, EV);
	assert_int_equal(answer(&k,
	                     "*7|:100|:2|:900000|:1801468800000|:60|"
	                     ":7|:11"),
	    0);
	assert_int_equal(tr_result_info(&k, &info), 0);
	assert_int_equal(info.total, 100);
	assert_int_equal(info.limit_per_user, 2);
	assert_int_equal(info.hold_ms, 900000);
	assert_int_equal(info.opens_at_ms, 1801468800000LL);
	assert_int_equal(info.pool, 60);
	assert_int_equal(info.sold, 7);
	assert_int_equal(info.held, 11);
	tr_call_done(&k);
}

static void
hold_confirm_release_and_expire_answers_are_read_item_by_item(void **state)
{
	tr_hold_result h;
	tr_order_info o;
	char detail[160], ref[TR_PAYMENT_REF_MAX + 1];
	int64_t now, t;
	size_t n;
	int st;
	bool to_lease;
	uint32_t qty;
	tr_call k;
	(void)state;

	/* {now, {outcome, rid, qty, state, expires_at}...} */
	tr_call_hold(&k, EV, "n1", 3);
	assert_int_equal(tr_call_hold_item(&k, RID1, "alice", 2, "gw-1"), 0);
	assert_int_equal(tr_call_hold_item(&k, RID2, "bob", 1, ""), 0);
	assert_int_equal(
	    answer(&k,
	        "*3|:1796297870436|"
	        "*5|:1|$" RID1 "|:2|:1|:1796298770436|"
	        "*5|:3|$n1.00000000000000aa.G1234|:1|:1|:1796298770999"),
	    0);
	assert_int_equal(tr_result_hold(&k, &now, &n), 0);
	assert_int_equal(now, NOW_MS);
	assert_int_equal(n, 2);
	assert_int_equal(tr_result_hold_item(&k, 0, &h), 0);
	assert_int_equal(h.outcome, TR_HOLDCALL_CREATED);
	assert_string_equal(h.rid, RID1);
	assert_int_equal(h.qty, 2);
	assert_int_equal(h.state, 1);
	assert_int_equal(h.expires_at_ms, DEADLINE_MS);
	assert_int_equal(tr_result_hold_item(&k, 1, &h), 0);
	assert_int_equal(h.outcome, TR_HOLDCALL_DUPLICATE);
	assert_string_equal(h.rid, "n1.00000000000000aa.G1234");
	assert_int_equal(h.expires_at_ms, 1796298770999LL);
	/* Past the last item: refused, not read. */
	assert_int_equal(tr_result_hold_item(&k, 2, &h), TR_EPROTO);
	tr_call_done(&k);

	/* {now, {1, created, at, payment_ref, user, qty, node} or
	 * {0, refusal}...} */
	tr_call_confirm(&k, EV, "n1");
	assert_int_equal(tr_call_confirm_item(&k, RID1, "alice", "pay-7781"),
	    0);
	assert_int_equal(tr_call_confirm_item(&k, RID2, "mallory", "p"), 0);
	assert_int_equal(
	    answer(&k,
	        "*3|:1796297870438|"
	        "*7|:1|:1|:1796297870437|$pay-7781|$alice|:2|$n3|"
	        "*2|:0|$TR_NOT_OWNER reservation belongs to another user"),
	    0);
	assert_int_equal(tr_result_confirm(&k, &now, &n), 0);
	assert_int_equal(now, 1796297870438LL);
	assert_int_equal(n, 2);
	assert_int_equal(tr_result_confirm_item(&k, 0, &o, detail,
	                     sizeof(detail)),
	    0);
	assert_true(o.created);
	assert_int_equal(o.confirmed_at_ms, 1796297870437LL);
	assert_string_equal(o.payment_ref, "pay-7781");
	assert_string_equal(o.user, "alice");
	assert_int_equal(o.qty, 2);
	assert_string_equal(o.node, "n3");
	assert_int_equal(tr_result_confirm_item(&k, 1, &o, detail,
	                     sizeof(detail)),
	    TR_ENOT_OWNER);
	assert_string_equal(detail,
	    "TR_NOT_OWNER reservation belongs to another user");
	assert_int_equal(tr_result_confirm_item(&k, 2, &o, detail,
	                     sizeof(detail)),
	    TR_EPROTO);
	tr_call_done(&k);

	/* {state, to_lease, qty, expires_at} */
	tr_call_release(&k, EV, "n1", 3, RID2, "bob");
	assert_int_equal(answer(&k, "*4|:3|:1|:2|:1796298770436"), 0);
	assert_int_equal(tr_result_release(&k, &st, &to_lease, &qty, &t), 0);
	assert_int_equal(st, 3);
	assert_true(to_lease);
	assert_int_equal(qty, 2);
	assert_int_equal(t, DEADLINE_MS);
	tr_call_done(&k);

	/* {now, {state, to_lease, time, payment_ref}...} */
	tr_call_expire(&k, EV, "n1", 3);
	assert_int_equal(tr_call_expire_item(&k, RID1), 0);
	assert_int_equal(tr_call_expire_item(&k, RID2), 0);
	assert_int_equal(
	    answer(&k,
	        "*3|:1796297870440|"
	        "*4|:2|:0|:1796297870437|$pay-7781|*4|:4|:1|:1796298770436|$"),
	    0);
	assert_int_equal(tr_result_expire(&k, &now, &n), 0);
	assert_int_equal(now, 1796297870440LL);
	assert_int_equal(n, 2);
	assert_int_equal(tr_result_expire_item(&k, 0, &st, &to_lease, &t, ref,
	                     sizeof(ref)),
	    0);
	assert_int_equal(st, 2);
	assert_false(to_lease);
	assert_int_equal(t, 1796297870437LL);
	assert_string_equal(ref, "pay-7781");
	assert_int_equal(tr_result_expire_item(&k, 1, &st, &to_lease, &t, ref,
	                     sizeof(ref)),
	    0);
	assert_int_equal(st, 4);
	assert_true(to_lease);
	assert_int_equal(t, DEADLINE_MS);
	assert_string_equal(ref, "");
	assert_int_equal(tr_result_expire_item(&k, 2, &st, &to_lease, &t, ref,
	                     sizeof(ref)),
	    TR_EPROTO);
	tr_call_done(&k);
}

static void
sweeping_and_giving_back_answers_are_read(void **state)
{
	uint64_t a, b;
	int64_t node_held;
	bool yes;
	tr_call k;
	(void)state;

	tr_call_expire_due(&k, EV, 1000, 1000, 3600000, 1000);
	assert_int_equal(answer(&k, "*2|:3|:5"), 0);
	assert_int_equal(tr_result_expire_due(&k, &a, &b), 0);
	assert_int_equal(a, 3); /* expired */
	assert_int_equal(b, 5); /* pruned */
	tr_call_done(&k);

	tr_call_give_back(&k, EV, "n1", 3, 2);
	assert_int_equal(answer(&k, "*2|:4|:58"), 0);
	assert_int_equal(tr_result_give_back(&k, &a, &b), 0);
	assert_int_equal(a, 4);  /* lease left */
	assert_int_equal(b, 58); /* pool */
	tr_call_done(&k);

	/* {reclaimed, returned, node_held}; -1 held: the node is alive. */
	tr_call_reclaim(&k, EV, "n2", 0, 1000, 1000);
	assert_int_equal(answer(&k, "*3|:1|:6|:2"), 0);
	assert_int_equal(tr_result_reclaim(&k, &yes, &a, &node_held), 0);
	assert_true(yes);
	assert_int_equal(a, 6);
	assert_int_equal(node_held, 2);
	tr_call_done(&k);
	tr_call_reclaim(&k, EV, "n2", 0, 1000, 1000);
	assert_int_equal(answer(&k, "*3|:0|:0|:-1"), 0);
	assert_int_equal(tr_result_reclaim(&k, &yes, &a, &node_held), 0);
	assert_false(yes);
	assert_int_equal(node_held, -1);
	tr_call_done(&k);

	tr_call_retire(&k, EV, "n1", 3);
	assert_int_equal(answer(&k, "*1|:9"), 0);
	assert_int_equal(tr_result_retire(&k, &a), 0);
	assert_int_equal(a, 9);
	tr_call_done(&k);

	tr_call_sweeper(&k, "n1:i1", 3000);
	assert_int_equal(answer(&k, ":1"), 0);
	assert_int_equal(tr_result_sweeper(&k, &yes), 0);
	assert_true(yes);
	tr_call_done(&k);
	tr_call_sweeper(&k, "n1:i1", 3000);
	assert_int_equal(answer(&k, ":0"), 0);
	assert_int_equal(tr_result_sweeper(&k, &yes), 0);
	assert_false(yes);
	tr_call_done(&k);
}

/* An audit's answer: 26 figures, the seventh the nodes' leases. */
#define AUDIT_HEAD ":100|:2|:60|:7|:11|:22|"
#define AUDIT_NODES "*2|*3|$n1|:20|:3|*3|$n2|:2|:1|"
#define AUDIT_TAIL                                                            \
	":8|:6|:2|:0|:6|:7|:6|:0|:0|:5|:11|:1|:2|:3|:1|:4|:2|"                \
	":0|:0"

static void
an_audit_is_read_with_every_node_and_figure(void **state)
{
	tr_audit *a = malloc(sizeof(*a));
	tr_call k;
	(void)state;

	assert_non_null(a);
	tr_call_audit(&k, EV);
	assert_int_equal(answer(&k, "*26|" AUDIT_HEAD AUDIT_NODES AUDIT_TAIL),
	    0);
	assert_int_equal(tr_result_audit(&k, a), 0);
	assert_int_equal(a->total, 100);
	assert_int_equal(a->limit_per_user, 2);
	assert_int_equal(a->pool, 60);
	assert_int_equal(a->sold, 7);
	assert_int_equal(a->held, 11);
	assert_int_equal(a->lease_sum, 22);
	assert_int_equal(a->node_count, 2);
	assert_string_equal(a->nodes[0].node, "n1");
	assert_int_equal(a->nodes[0].lease, 20);
	assert_int_equal(a->nodes[0].epoch, 3);
	assert_string_equal(a->nodes[1].node, "n2");
	assert_int_equal(a->nodes[1].lease, 2);
	assert_int_equal(a->nodes[1].epoch, 1);
	assert_int_equal(a->buyers_sum, 8);
	assert_int_equal(a->buyers_count, 6);
	assert_int_equal(a->max_per_user, 2);
	assert_int_equal(a->users_over_limit, 0);
	assert_int_equal(a->orders_count, 6);
	assert_int_equal(a->orders_qty, 7);
	assert_int_equal(a->stream_len, 6);
	assert_int_equal(a->negative_values, 0);
	assert_int_equal(a->buyer_order_mismatches, 0);
	assert_int_equal(a->live_holds, 5);
	assert_int_equal(a->live_qty, 11);
	assert_int_equal(a->holds_unindexed, 1);
	assert_int_equal(a->index_dangling, 2);
	assert_int_equal(a->broken, 3);
	assert_int_equal(a->refunds, 1);
	assert_int_equal(a->line_waiting, 4);
	assert_int_equal(a->offers_live, 2);
	assert_int_equal(a->line_bad, 0);
	assert_int_equal(a->offers_out_of_order, 0);
	tr_call_done(&k);
	free(a);
}

static void
a_watch_is_read_with_every_node_s_lease_and_holds(void **state)
{
	tr_watch *w = malloc(sizeof(*w));
	tr_call k;
	(void)state;

	/* total, pool, sold, held, closed, {node, lease, held}... */
	assert_non_null(w);
	tr_call_watch(&k, EV);
	assert_int_equal(answer(&k,
	                     "*6|:100|:60|:7|:11|:1|*2|*3|$n1|:20|:3|"
	                     "*3|$_wl|:0|:2"),
	    0);
	assert_int_equal(tr_result_watch(&k, w), 0);
	assert_int_equal(w->total, 100);
	assert_int_equal(w->pool, 60);
	assert_int_equal(w->sold, 7);
	assert_int_equal(w->held, 11);
	assert_true(w->closed);
	assert_int_equal(w->node_count, 2);
	assert_string_equal(w->nodes[0].node, "n1");
	assert_int_equal(w->nodes[0].lease, 20);
	assert_int_equal(w->nodes[0].held, 3);
	assert_string_equal(w->nodes[1].node, "_wl");
	assert_int_equal(w->nodes[1].lease, 0);
	assert_int_equal(w->nodes[1].held, 2);
	tr_call_done(&k);
	/* No node yet, sale open. */
	tr_call_watch(&k, EV);
	assert_int_equal(answer(&k, "*6|:5|:5|:0|:0|:0|*0"), 0);
	assert_int_equal(tr_result_watch(&k, w), 0);
	assert_false(w->closed);
	assert_int_equal(w->node_count, 0);
	tr_call_done(&k);
	free(w);
}

/* ---- every reader, against other shapes and refusals ---------------- */

static void
build_wl_join(tr_call *k)
{
	tr_call_wl_join(k, EV, "wa", "r1");
}

static int
read_wl_entry(const tr_call *k)
{
	tr_wl_entry e;
	return tr_result_wl_entry(k, &e);
}

static void
build_wl_show(tr_call *k)
{
	tr_call_wl_show(k, EV, 10);
}

static int
read_wl_show(const tr_call *k)
{
	static tr_wl_show w;
	return tr_result_wl_show(k, &w);
}

static void
build_refund(tr_call *k)
{
	tr_call_refund(k, EV, "n1.9f2c41d07be85a10." EV, "wa");
}

static int
read_refund(const tr_call *k)
{
	tr_refund_info r;
	return tr_result_refund(k, &r);
}

static void
build_create_event(tr_call *k)
{
	tr_call_create_event(k, EV, 100, 2, 900000, 0);
}

static int
read_create_event(const tr_call *k)
{
	bool created;
	return tr_result_create_event(k, &created);
}

static void
build_register(tr_call *k)
{
	tr_call_register(k, EV, "n1");
}

static int
read_register(const tr_call *k)
{
	tr_event_figures fig;
	uint64_t returned, hold_ms;
	uint32_t limit;
	int64_t opens;
	return tr_result_register(k, &fig, &returned, &limit, &hold_ms,
	    &opens);
}

static void
build_grant(tr_call *k)
{
	tr_call_grant(k, EV, "n1", 3, 64);
}

static int
read_grant(const tr_call *k)
{
	uint64_t granted, pool;
	return tr_result_grant(k, &granted, &pool);
}

/* The calls with items carry one. Their readers read the count, then the
 * item: the first refusal is the answer. */
static void
build_hold(tr_call *k)
{
	tr_call_hold(k, EV, "n1", 3);
	assert_int_equal(tr_call_hold_item(k, RID1, "alice", 1, ""), 0);
}

static int
read_hold(const tr_call *k)
{
	tr_hold_result h;
	int64_t now;
	size_t n;
	int rv = tr_result_hold(k, &now, &n);
	return rv != 0 ? rv : tr_result_hold_item(k, 0, &h);
}

static void
build_confirm(tr_call *k)
{
	tr_call_confirm(k, EV, "n1");
	assert_int_equal(tr_call_confirm_item(k, RID1, "alice", "pay"), 0);
}

static int
read_confirm(const tr_call *k)
{
	tr_order_info o;
	char detail[160];
	int64_t now;
	size_t n;
	int rv = tr_result_confirm(k, &now, &n);
	return rv != 0
	    ? rv
	    : tr_result_confirm_item(k, 0, &o, detail, sizeof(detail));
}

static void
build_release(tr_call *k)
{
	tr_call_release(k, EV, "n1", 3, RID1, "alice");
}

static int
read_release(const tr_call *k)
{
	int st;
	bool to_lease;
	uint32_t qty;
	int64_t t;
	return tr_result_release(k, &st, &to_lease, &qty, &t);
}

static void
build_expire(tr_call *k)
{
	tr_call_expire(k, EV, "n1", 3);
	assert_int_equal(tr_call_expire_item(k, RID1), 0);
}

static int
read_expire(const tr_call *k)
{
	char ref[TR_PAYMENT_REF_MAX + 1];
	int64_t now, t;
	size_t n;
	bool to_lease;
	int st, rv = tr_result_expire(k, &now, &n);
	return rv != 0 ? rv
	               : tr_result_expire_item(k, 0, &st, &to_lease, &t, ref,
	                     sizeof(ref));
}

static void
build_expire_due(tr_call *k)
{
	tr_call_expire_due(k, EV, 1000, 1000, 3600000, 1000);
}

static int
read_expire_due(const tr_call *k)
{
	uint64_t expired, pruned;
	return tr_result_expire_due(k, &expired, &pruned);
}

static void
build_give_back(tr_call *k)
{
	tr_call_give_back(k, EV, "n1", 3, 2);
}

static int
read_give_back(const tr_call *k)
{
	uint64_t left, pool;
	return tr_result_give_back(k, &left, &pool);
}

static void
build_reclaim(tr_call *k)
{
	tr_call_reclaim(k, EV, "n2", 0, 1000, 1000);
}

static int
read_reclaim(const tr_call *k)
{
	bool reclaimed;
	uint64_t returned;
	int64_t node_held;
	return tr_result_reclaim(k, &reclaimed, &returned, &node_held);
}

static void
build_sweeper(tr_call *k)
{
	tr_call_sweeper(k, "n1:i1", 3000);
}

static int
read_sweeper(const tr_call *k)
{
	bool mine;
	return tr_result_sweeper(k, &mine);
}

static void
build_retire(tr_call *k)
{
	tr_call_retire(k, EV, "n1", 3);
}

static int
read_retire(const tr_call *k)
{
	uint64_t returned;
	return tr_result_retire(k, &returned);
}

static void
build_sync(tr_call *k)
{
	tr_call_sync(k, EV, "n1", 1000, 1000);
}

static int
read_sync(const tr_call *k)
{
	tr_event_figures fig;
	return tr_result_sync(k, &fig);
}

static void
build_info(tr_call *k)
{
	tr_call_info(k, EV);
}

static int
read_info(const tr_call *k)
{
	tr_event_info info;
	return tr_result_info(k, &info);
}

static void
build_audit(tr_call *k)
{
	tr_call_audit(k, EV);
}

static int
read_audit(const tr_call *k)
{
	static tr_audit a;
	return tr_result_audit(k, &a);
}

static void
build_watch(tr_call *k)
{
	tr_call_watch(k, EV);
}

static int
read_watch(const tr_call *k)
{
	static tr_watch w;
	return tr_result_watch(k, &w);
}

static void
build_topup(tr_call *k)
{
	tr_call_topup(k, EV, 5, 100000000);
}

static int
read_topup(const tr_call *k)
{
	uint64_t total, pool;
	return tr_result_topup(k, &total, &pool);
}

static void
build_close(tr_call *k)
{
	tr_call_close(k, EV, true);
}

static int
read_close(const tr_call *k)
{
	tr_event_figures fig;
	bool changed;
	return tr_result_close(k, &changed, &fig);
}

#define BAD_MAX 6

static const struct reader {
	const char *name;
	void (*build)(tr_call *);
	int (*read)(const tr_call *);
	const char *good;
	/* Answers of another shape: short, a word for a number, a count
	 * out of its range, not an array, ... */
	const char *bad[BAD_MAX];
} readers[] = {
    {"create_event", build_create_event, read_create_event, "*1|:1",
        {"*0", "*1|$yes", ":1", "+OK", "*1|$-1"}},
    {"register", build_register, read_register,
        "*11|:3|:5|:100|:2|:900000|:0|:60|:7|:11|:4|:0",
        {"*10|:3|:5|:100|:2|:900000|:0|:60|:7|:11|:4",
            "*11|:3|:5|:100|:4294967296|:900000|:0|:60|:7|:11|:4|:0",
            "*11|:3|:-5|:100|:2|:900000|:0|:60|:7|:11|:4|:0",
            "*11|:3|:5|:100|:2|$15m|:0|:60|:7|:11|:4|:0", "$-1"}},
    {"grant", build_grant, read_grant, "*2|:6|:54",
        {"*1|:6", "*2|:-6|:54", "*2|:6|$5x", "*2|:6|*0", ":6"}},
    {"hold", build_hold, read_hold,
        "*2|:1796297870436|*5|:1|$" RID1 "|:1|:1|:1796298770436",
        {"*1|:1796297870436",
            "*3|:1796297870436|*5|:1|$" RID1 "|:1|:1|:1|*5|:1|$x|:1|:1|:1",
            "*2|$now|*5|:1|$" RID1 "|:1|:1|:1796298770436",
            "*2|:1796297870436|*4|:1|$" RID1 "|:1|:1",
            "*2|:1796297870436|*5|:9|$" RID1 "|:1|:1|:1796298770436",
            "*2|:1796297870436|*5|:1|$" RID1 "|:-1|:1|:1796298770436"}},
    {"confirm", build_confirm, read_confirm,
        "*2|:1796297870438|*7|:1|:1|:1796297870437|$pay|$alice|:1|$n1",
        {"*1|:1796297870438",
            "*2|:1796297870438|*7|:1|:1|:1796297870437|$pay|$alice|:0|$n1",
            "*2|:1796297870438|*6|:1|:1|:1796297870437|$pay|$alice|:1",
            "*2|:1796297870438|*2|:0|$no code here",
            "*2|:1796297870438|*2|:0|:7", "*2|:1796297870438|:1"}},
    {"release", build_release, read_release, "*4|:3|:1|:1|:1796298770436",
        {"*3|:3|:1|:1", "*4|:5|:1|:1|:1796298770436",
            "*4|:3|:1|:0|:1796298770436", "*4|:3|:1|:1|$soon", "+OK"}},
    {"expire", build_expire, read_expire,
        "*2|:1796297870440|*4|:4|:1|:1796298770436|$",
        {"*3|:1796297870440|*4|:4|:1|:1|$|*4|:4|:1|:1|$",
            "*2|:1796297870440|*4|:5|:1|:1796298770436|$",
            "*2|:1796297870440|*4|:-1|:1|:1796298770436|$",
            "*2|:1796297870440|*3|:4|:1|:1796298770436",
            "*2|:1796297870440|*4|:2|:0|:1|*0"}},
    {"expire_due", build_expire_due, read_expire_due, "*2|:3|:5",
        {"*1|:3", "*2|:-3|:5", "*2|:3|$many", ":3"}},
    {"give_back", build_give_back, read_give_back, "*2|:4|:58",
        {"*1|:4", "*2|:4|:-58", "*2|$four|:58", "+OK"}},
    {"reclaim", build_reclaim, read_reclaim, "*3|:1|:6|:2",
        {"*2|:1|:6", "*3|:1|:-6|:2", "*3|:1|:6|:-2", "*3|$yes|:6|:2"}},
    {"sweeper", build_sweeper, read_sweeper, ":1",
        {"*1|:1", "+OK", "$1", "$-1"}},
    {"retire", build_retire, read_retire, "*1|:9",
        {"*0", "*1|:-9", "*1|$nine", ":9"}},
    {"sync", build_sync, read_sync, "*11|:60|:7|:3|:5|:100|:11|:4|:2|:0|:0|:0",
        {"*10|:60|:7|:3|:5|:100|:11|:4|:2|:0|:0",
            "*11|:60|:7|:3|:-5|:100|:11|:4|:2|:0|:0|:0",
            "*11|:60|:7|:3|:5|:100|:11|:4|$x|:0|:0|:0",
            "*11|:60|:7|:3|:5|*0|:11|:4|:2|:0|:0|:0",
            "*11|:60|:7|:3|:5|:100|:11|:4|:2|:-1|:0|:0",
            "*11|:60|:7|:3|:5|:100|:11|:4|:2|:0|:0|$closed"}},
    {"info", build_info, read_info, "*7|:100|:2|:900000|:0|:60|:7|:11",
        {"*6|:100|:2|:900000|:0|:60|:7",
            "*7|:100|:4294967296|:900000|:0|:60|:7|:11",
            "*7|:100|:2|:900000|$now|:60|:7|:11",
            "*7|:-100|:2|:900000|:0|:60|:7|:11"}},
    {"audit", build_audit, read_audit,
        "*26|" AUDIT_HEAD AUDIT_NODES AUDIT_TAIL,
        {"*25|" AUDIT_HEAD AUDIT_NODES ":8|:6|:2|:0|:6|:7|:6|:0|:0|:5|:11|"
         ":1|:2|:3|:1|:4|:2|:0",
            "*26|" AUDIT_HEAD ":2|" AUDIT_TAIL,
            "*26|" AUDIT_HEAD "*1|*3|$n1|:20|:-3|" AUDIT_TAIL,
            "*26|" AUDIT_HEAD "*1|*2|$n1|:20|" AUDIT_TAIL,
            "*26|" AUDIT_HEAD AUDIT_NODES ":8|:6|:2|:0|:6|:7|:6|:0|:0|:5|"
            ":11|:1|:2|:-3|:1|:4|:2|:0|:0"}},
    {"topup", build_topup, read_topup, "*2|:105|:65",
        {"*1|:105", "*2|:-105|:65", "*2|:105|$many", ":105"}},
    {"close", build_close, read_close, "*5|:1|:100|:60|:7|:11",
        {"*4|:1|:100|:60|:7", "*5|:2|:100|:60|:7|:11",
            "*5|:1|:100|:-60|:7|:11", "*5|$yes|:100|:60|:7|:11", "+OK"}},
    {"watch", build_watch, read_watch,
        "*6|:100|:60|:7|:11|:1|*2|*3|$n1|:20|:3|*3|$_wl|:0|:2",
        {"*5|:100|:60|:7|:11|:1", "*6|:100|:60|:7|:11|:1|:2",
            "*6|:100|:-60|:7|:11|:1|*0", "*6|:100|:60|:7|:11|$closed|*0",
            "*6|:100|:60|:7|:11|:1|*1|*2|$n1|:20",
            "*6|:100|:60|:7|:11|:1|*1|*3|$n1|:-20|:3"}},
    {"wl_join", build_wl_join, read_wl_entry,
        "*9|:1|:1|:7|:3|:2|$|:0|:1796297870440|:1796297870440",
        {"*8|:1|:1|:7|:3|:2|$|:0|:1796297870440",
            "*9|:1|:7|:7|:3|:2|$|:0|:1796297870440|:1796297870440",
            "*9|:1|:1|:-7|:3|:2|$|:0|:1796297870440|:1796297870440",
            "*9|$yes|:1|:7|:3|:2|$|:0|:1796297870440|:1796297870440"}},
    {"wl_show", build_wl_show, read_wl_show,
        "*10|:2|:1|:5|:3|:1|:1|:0|:0|:100000|*1|*3|$wa|:4|:1796297870440",
        {"*9|:2|:1|:5|:3|:1|:1|:0|:0|:100000",
            "*10|:2|:1|:5|:3|:1|:1|:0|:0|:100000|:1",
            "*10|:2|:1|:5|:3|:1|:1|:0|:0|:100000|*1|*2|$wa|:4",
            "*10|:-2|:1|:5|:3|:1|:1|:0|:0|:100000|*0"}},
    {"refund", build_refund, read_refund,
        "*6|:1|:1796297870440|:1|:1796297800000|$PAY|$n1",
        {"*5|:1|:1796297870440|:1|:1796297800000|$PAY",
            "*6|:1|:1796297870440|:0|:1796297800000|$PAY|$n1",
            "*6|:1|:1796297870440|:1|:1796297800000|$PAY|*0",
            "*6|:1|$soon|:1|:1796297800000|$PAY|$n1"}},
};

#define NREADERS (sizeof(readers) / sizeof(readers[0]))

static void
every_reader_refuses_an_answer_of_another_shape(void **state)
{
	tr_call k;
	(void)state;

	for (size_t i = 0; i < NREADERS; i++) {
		const struct reader *r = &readers[i];
		const struct reader *other = &readers[(i + 1) % NREADERS];

		/* The answer it expects is read... */
		r->build(&k);
		assert_int_equal(answer(&k, r->good), 0);
		if (r->read(&k) != 0)
			fail_msg("%s: its own answer was not read", r->name);
		tr_call_done(&k);
		/* ...and no other. */
		for (int b = 0; b < BAD_MAX && r->bad[b] != NULL; b++) {
			r->build(&k);
			assert_int_equal(answer(&k, r->bad[b]), 0);
			if (r->read(&k) != TR_EPROTO)
				fail_msg("%s read \"%s\"", r->name, r->bad[b]);
			tr_call_done(&k);
		}
		/* Another script's call is not this script's answer, even
		 * with this script's bytes. */
		other->build(&k);
		assert_int_equal(answer(&k, r->good), 0);
		if (r->read(&k) != TR_EPROTO)
			fail_msg("%s read a %s call", r->name, other->name);
		tr_call_done(&k);
	}
}

static void
every_reader_answers_a_refusal_with_its_code(void **state)
{
	static const struct {
		const char *error;
		int code;
		uint64_t epoch; /* TR_FENCED's */
	} refusals[] = {
	    {"-TR_NOEVENT", TR_ENOT_FOUND, 0},
	    {"-TR_NOTFOUND no such reservation", TR_ENOT_FOUND, 0},
	    {"-TR_NOT_OWNER reservation belongs to another user",
	        TR_ENOT_OWNER, 0},
	    {"-TR_FENCED 9", TR_EFENCED, 9},
	    {"-TR_FENCED", TR_EFENCED, 0},
	    {"-TR_LIMIT user already bought the limit", TR_ELIMIT, 0},
	    {"-TR_EXPIRED reservation expired", TR_EEXPIRED, 0},
	    {"-TR_RELEASED reservation was released", TR_ECONFLICT, 0},
	    {"-TR_CONFIRMED reservation is paid", TR_ECONFLICT, 0},
	    {"-TR_DUPLICATE event exists with other settings", TR_EDUPLICATE,
	        0},
	    {"-TR_TAKEN node id held by another process", TR_EDUPLICATE, 0},
	    {"-TR_INVALID qty", TR_EINVALID, 0},
	    /* Some Redis versions wrap a script's error. */
	    {"-ERR user_script:12: TR_FENCED 7 script: 5e0c", TR_EFENCED, 7},
	    /* Redis restarted: load the scripts and send it again. */
	    {"-NOSCRIPT No matching script. Please use EVAL.", TR_EPENDING, 0},
	    /* A script that broke: no code of ours. */
	    {"-ERR user_script:3: attempt to compare nil", TR_EINTERNAL, 0},
	};
	tr_call k;
	(void)state;

	for (size_t i = 0; i < NREADERS; i++) {
		const struct reader *r = &readers[i];
		for (size_t e = 0; e < sizeof(refusals) / sizeof(refusals[0]);
		     e++) {
			int code = refusals[e].code;
			r->build(&k);
			k.fenced_epoch = 12345;
			assert_int_equal(answer(&k, refusals[e].error), code);
			if (r->read(&k) != code)
				fail_msg("%s read \"%s\" as %s", r->name,
				    refusals[e].error,
				    tr_strerror(r->read(&k)));
			if (code != TR_EPENDING)
				assert_string_equal(k.detail,
				    refusals[e].error + 1);
			if (code == TR_EFENCED)
				assert_int_equal(k.fenced_epoch,
				    refusals[e].epoch);
			tr_call_done(&k);
		}
	}
}

static void
a_refused_confirm_item_says_why(void **state)
{
	static const struct {
		const char *message;
		int code;
	} why[] = {
	    {"TR_NOTFOUND no such reservation", TR_ENOT_FOUND},
	    {"TR_NOT_OWNER reservation belongs to another user",
	        TR_ENOT_OWNER},
	    {"TR_RELEASED reservation was released", TR_ECONFLICT},
	    {"TR_EXPIRED reservation expired", TR_EEXPIRED},
	    {"TR_LIMIT user already bought the limit", TR_ELIMIT},
	    /* No code of ours: not an answer the script gives. */
	    {"the ticket is lost", TR_EPROTO},
	};
	char tokens[256], detail[160], small[16];
	tr_order_info o;
	tr_call k;
	(void)state;

	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		build_confirm(&k);
		snprintf(tokens, sizeof(tokens), "*2|:1796297870438|*2|:0|$%s",
		    why[i].message);
		assert_int_equal(answer(&k, tokens), 0);
		memset(detail, 'x', sizeof(detail));
		assert_int_equal(tr_result_confirm_item(&k, 0, &o, detail,
		                     sizeof(detail)),
		    why[i].code);
		assert_string_equal(detail, why[i].message);
		/* A message longer than the caller's room is refused, not
		 * cut: here the room holds the code alone. */
		assert_int_equal(tr_result_confirm_item(&k, 0, &o, small,
		                     strcspn(why[i].message, " ") + 1),
		    TR_EPROTO);
		tr_call_done(&k);
	}
}

/* Memory that ends where the process may not read: a string placed at
 * its end shows any read past its terminator as a crash. */
struct fence_page {
	char *base;
	size_t page;
};

static char *
fence_page_tail(struct fence_page *g, size_t len)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->base = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
	return g->base + g->page - len;
}

static void
a_fenced_refusal_is_read_within_its_message(void **state)
{
	/* "TR_FENCED <epoch>" was read from 10 bytes past the code: when
	 * a message ends right after the code, one byte past its end. */
	struct fence_page g;
	char *msg = fence_page_tail(&g, sizeof("TR_FENCED"));
	redisReply *r = calloc(1, sizeof(*r));
	redisReader *rd = redisReaderCreate();
	void *item = NULL;
	const char *resp;
	char *detail;
	tr_order_info o;
	tr_call k;
	(void)state;

	/* A whole call refused. */
	memcpy(msg, "TR_FENCED", sizeof("TR_FENCED"));
	r->type = REDIS_REPLY_ERROR;
	r->str = msg;
	r->len = strlen(msg);
	tr_call_sync(&k, "G1234", "n1", 1000, 1000);
	assert_int_equal(tr_call_answer(&k, r), TR_EFENCED);
	assert_true(k.fenced_epoch == 0);
	k.reply = NULL; /* r->str is not hiredis' to free */
	tr_call_done(&k);
	free(r);

	/* One confirm refused: its message is copied into the caller's
	 * detail, which ends at the fence here. */
	detail = g.base + g.page - 10;
	tr_call_confirm(&k, "G1234", "n1");
	assert_int_equal(tr_call_confirm_item(&k, "n1.9f2c41d07be85a10.G1234",
	                     "alice", ""),
	    0);
	resp = "*2\r\n:1\r\n*2\r\n:0\r\n$9\r\nTR_FENCED\r\n";
	assert_int_equal(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &item), REDIS_OK);
	assert_non_null(item);
	assert_int_equal(tr_call_answer(&k, item), 0);
	assert_int_equal(tr_result_confirm_item(&k, 0, &o, detail, 10),
	    TR_EFENCED);
	assert_string_equal(detail, "TR_FENCED");
	tr_call_done(&k);
	redisReaderFree(rd);
	munmap(g.base, 2 * g.page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(event_figures_are_read_from_their_places),
	    cmocka_unit_test(
	        hold_confirm_release_and_expire_answers_are_read_item_by_item),
	    cmocka_unit_test(sweeping_and_giving_back_answers_are_read),
	    cmocka_unit_test(an_audit_is_read_with_every_node_and_figure),
	    cmocka_unit_test(
	        a_watch_is_read_with_every_node_s_lease_and_holds),
	    cmocka_unit_test(every_reader_refuses_an_answer_of_another_shape),
	    cmocka_unit_test(every_reader_answers_a_refusal_with_its_code),
	    cmocka_unit_test(a_refused_confirm_item_says_why),
	    cmocka_unit_test(a_fenced_refusal_is_read_within_its_message),
	};
	/* Broken scripts are logged; the cases make them on purpose. */
	tr_log_init("test_coord_replies", TR_LOG_OFF);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
