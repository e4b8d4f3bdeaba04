/* test_report: trload's JSON result (read with cJSON here, and back into a
 * run by tl_report_read_json), extra verdict rows, and the self-contained
 * HTML report. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "report.h"
#include "tr_err.h"

/* A run like a small rush: 2 phases, 4 nodes, series and polls. */
static tl_run *
make_run(bool event_readable)
{
	tl_run *run = tl_run_new(100, 40);
	tl_phase *m, *t;

	assert_non_null(run);
	snprintf(run->target, sizeof(run->target), "127.0.0.1:8080");
	snprintf(run->event, sizeof(run->event), "G1234");
	snprintf(run->user_prefix, sizeof(run->user_prefix), "u");
	run->users = 1000;
	run->concurrency = 128;
	run->threads = 1;
	run->abandon = 0.1;
	run->max_seconds = 300;
	run->tail_seconds = -1;
	run->tail_concurrency = 8;
	run->tail_rate = 1000;
	run->timeout_ms = 10000;
	run->confirm_retries = 3;
	run->poll_ms = 250;
	run->started_wall_ms = 1795729640002;
	run->wall_ms = 9800;
	run->tail_seconds_used = 7;
	run->waitlist_share = 0.02;
	run->waiters = 20;
	run->wait_ms = 5000;
	run->lapse = 0.1;
	run->refund_share = 0.05;
	run->refunds_max = 1000;
	run->refund_after_ms = 1000;
	run->line_seconds = 30;

	m = &run->phase[0];
	m->start_ms = 0;
	m->end_ms = 2500;
	m->concurrency = 128;
	m->attempts = 1000;
	m->reserved = 110;
	m->confirmed = 99;
	m->abandoned = 11;
	snprintf(m->stopped_by, sizeof(m->stopped_by), "done");
	m->op[TL_OP_RESERVE].status[201] = 110;
	m->op[TL_OP_RESERVE].status[409] = 880;
	m->op[TL_OP_RESERVE].status[503] = 7;
	m->op[TL_OP_RESERVE].errors[TR_API_SOLD_OUT] = 880;
	m->op[TL_OP_RESERVE].errors[TR_API_OVERLOADED] = 7;
	m->op[TL_OP_RESERVE].transport[TL_XP_TIMEOUT] = 3;
	m->op[TL_OP_CONFIRM].status[200] = 99;
	for (int i = 0; i < 997; i++)
		tl_hist_record(&m->op[TL_OP_RESERVE].latency_us,
		    (uint64_t)(200 + i * 7));
	for (int i = 0; i < 99; i++)
		tl_hist_record(&m->op[TL_OP_CONFIRM].latency_us,
		    (uint64_t)(900 + i * 40));
	for (int n = 0; n < 4; n++) {
		char name[8];
		tl_nodecount *c;
		snprintf(name, sizeof(name), "n%d", n + 1);
		c = tl_phase_node(m, name);
		assert_non_null(c);
		c->reserved = c->rid_prefix = 27 + (n == 0);
		c->confirmed = 24 + (n == 0 ? 3 : 0);
	}

	t = &run->phase[1];
	t->start_ms = 2600;
	t->end_ms = 9700;
	t->concurrency = 8;
	t->attempts = 40;
	t->reserved = 11;
	t->confirmed = 11;
	snprintf(t->stopped_by, sizeof(t->stopped_by), "sold_out");
	t->op[TL_OP_RESERVE].status[201] = 11;
	t->op[TL_OP_RESERVE].status[409] = 29;
	t->op[TL_OP_RESERVE].errors[TR_API_SOLD_OUT] = 29;
	t->op[TL_OP_CONFIRM].status[200] = 11;
	tl_hist_record_n(&t->op[TL_OP_RESERVE].latency_us, 150, 40);
	tl_hist_record_n(&t->op[TL_OP_CONFIRM].latency_us, 800, 11);
	tl_phase_node(t, "n2")->confirmed = 11;
	run->n_phases = 2;

	run->n_slots = 98;
	for (size_t i = 0; i < run->n_slots; i++) {
		run->s_attempts[i] = i < 25 ? 40 : 1;
		run->s_reserved[i] = i < 25 ? 4 : 0;
		run->s_confirmed[i] = i < 25 ? 4 : (i % 9 == 0);
	}
	for (size_t i = 0; i < 39; i++) {
		tl_eventinfo *e = &run->polls[i];
		e->valid = true;
		e->t_ms = (int64_t)i * 250;
		e->total = 100;
		e->sold = i < 10 ? (int64_t)i * 9 : 89 + (int64_t)(i - 10) / 3;
		if (e->sold > 100)
			e->sold = 100;
		e->held = i < 20 ? 11 : 0;
		e->available = 100 - e->sold - e->held;
		if (e->available < 0)
			e->available = 0;
	}
	run->n_polls = 39;
	/* The line: 20 buyers join at 0.5 s; 11 abandoned holds come back
	 * at 2.5 s, 5 refunds at 1.5 s; one offer lapses and passes on. */
	for (size_t i = 0; i < 39; i++) {
		tl_eventinfo *e = &run->polls[i];
		e->waitlist = i < 2 ? 0
		    : i < 6         ? 20
		    : i < 10        ? 15
		    : i < 30        ? 3
		                    : 0;
		e->offers = i >= 6 && i < 12 ? 2 : 0;
		e->pool = i >= 30 ? 2 : 0;
	}
	run->s_joined[5] = 20;
	run->s_offered[15] = 5;
	run->s_offered[25] = 11;
	run->s_offered[40] = 1;
	run->s_offer_confirmed[16] = 5;
	run->s_offer_confirmed[26] = 10;
	run->s_offer_confirmed[41] = 1;
	run->s_refunded[15] = 5;
	{
		tl_line *l = &run->line;
		snprintf(l->stopped_by, sizeof(l->stopped_by), "quiet");
		l->start_ms = 2500;
		l->end_ms = 7400;
		l->joiners = 20;
		l->joined = 20;
		l->offered = 17;
		l->confirmed = 16;
		l->lapsed = 1;
		l->left = 3;
		l->refunders = 5;
		l->refunded = 5;
		l->order_violations = 0;
		l->unsold_while_waiting = 0;
		l->op[TL_LOP_JOIN].status[201] = 20;
		l->op[TL_LOP_WAIT].status[200] = 64;
		l->op[TL_LOP_CONFIRM].status[200] = 16;
		l->op[TL_LOP_LEAVE].status[200] = 3;
		l->op[TL_LOP_REFUND].status[200] = 5;
		tl_hist_record_n(&l->op[TL_LOP_WAIT].latency_us, 5000000, 40);
		tl_hist_record_n(&l->op[TL_LOP_WAIT].latency_us, 900000, 24);
	}
	run->at_start = run->polls[0];
	snprintf(run->at_start.state, sizeof(run->at_start.state), "on_sale");
	run->at_start.hold_ms = 2000;
	if (event_readable) {
		run->at_end.valid = true;
		run->at_end.t_ms = 9800;
		run->at_end.total = 100;
		run->at_end.sold = 98;
		run->at_end.held = 0;
		run->at_end.available = 2;
		run->at_end.hold_ms = 2000;
		snprintf(run->at_end.state, sizeof(run->at_end.state),
		    "on_sale");
	}
	return run;
}

static char *
to_string(int (*write)(const tl_run *, FILE *), const tl_run *run, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(write(run, f), 0);
	fclose(f);
	return buf;
}

static int
write_html_plain(const tl_run *run, FILE *f)
{
	return tl_report_write_html(run, NULL, 0, f);
}

static double
num(const cJSON *o, const char *path)
{
	/* path: "a.b.c" through objects */
	char buf[128], *save = NULL, *part;
	const cJSON *cur = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part;
	     part = strtok_r(NULL, ".", &save)) {
		cur = cJSON_GetObjectItemCaseSensitive(cur, part);
		if (cur == NULL)
			fail_msg("no %s in the JSON", path);
	}
	if (!cJSON_IsNumber(cur))
		fail_msg("%s is not a number", path);
	return cur->valuedouble;
}

static void
json_result_carries_every_figure_the_rush_script_reads(void **state)
{
	tl_run *run = make_run(true);
	size_t len;
	char *text = to_string(tl_report_write_json, run, &len);
	cJSON *root = cJSON_ParseWithLength(text, len), *ph, *a;
	(void)state;

	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "tool")->valuestring,
	    "trload");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root,
	                                            "config"),
	                        "event")
	                        ->valuestring,
	    "G1234");
	assert_true(num(root, "config.users") == 1000);
	assert_true(num(root, "config.abandon") == 0.1);
	assert_true(num(root, "wall_ms") == 9800);
	assert_true(num(root, "verdict.total") == 100);
	assert_true(num(root, "verdict.sold") == 98);
	assert_true(
	    num(root, "verdict.tickets_left_unsold_while_demand_remained") ==
	    2);
	assert_true(cJSON_IsFalse(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(root, "verdict"),
	        "oversold")));
	assert_true(num(root, "verdict.attempts") == 1040);
	assert_true(num(root, "verdict.main_attempts") == 1000);
	assert_true(num(root, "verdict.tail_attempts") == 40);
	assert_true(num(root, "verdict.attempts_per_s") == 400); /* 1000/2.5 */
	assert_true(num(root, "verdict.transport_errors") == 3);
	assert_true(num(root, "verdict.error_answers") == 880 + 7 + 29);

	ph = cJSON_GetObjectItem(root, "phases");
	assert_int_equal(cJSON_GetArraySize(ph), 2);
	a = cJSON_GetArrayItem(ph, 0);
	assert_string_equal(cJSON_GetObjectItem(a, "name")->valuestring,
	    "main");
	assert_true(num(a, "ops.reserve.status.201") == 110);
	assert_true(num(a, "ops.reserve.status.409") == 880);
	assert_true(num(a, "ops.reserve.errors.sold_out") == 880);
	assert_true(num(a, "ops.reserve.errors.overloaded") == 7);
	assert_true(num(a, "ops.reserve.transport.timeout") == 3);
	assert_true(num(a, "ops.reserve.requests") == 997 + 3);
	assert_true(num(a, "ops.reserve.latency_us.count") == 997);
	assert_true(num(a, "ops.reserve.latency_us.min") == 200);
	assert_true(num(a, "ops.reserve.latency_us.max") == 200 + 996 * 7);
	{
		/* p50 of 200 + 7i, i < 997: the 499th value, 3686 us */
		double p50 = num(a, "ops.reserve.latency_us.p50");
		assert_true(p50 > 3686 * 0.98 && p50 < 3686 * 1.02);
	}
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ph, 1),
	                        "stopped_by")
	                        ->valuestring,
	    "sold_out");
	/* Whole-run ops add the phases up. */
	assert_true(num(root, "ops.reserve.status.201") == 121);
	assert_true(num(root, "ops.confirm.latency_us.count") == 110);
	a = cJSON_GetObjectItem(root, "nodes");
	assert_int_equal(cJSON_GetArraySize(a), 4);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "node")->valuestring,
	    "n2");
	assert_true(num(cJSON_GetArrayItem(a, 1), "confirmed") == 24 + 11);

	a = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "series"),
	    "attempts");
	assert_int_equal(cJSON_GetArraySize(a), 98);
	assert_true(cJSON_GetArrayItem(a, 0)->valuedouble == 40);
	a = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "series"), "left");
	assert_int_equal(cJSON_GetArraySize(a), 98);
	/* slot 0 ends at 100 ms: the poll at 0 ms says 100 - 0 left */
	assert_true(cJSON_GetArrayItem(a, 0)->valuedouble == 100);
	a = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "polls"), "sold");
	assert_int_equal(cJSON_GetArraySize(a), 39);
	cJSON_Delete(root);
	free(text);
	tl_run_free(run);
}

static void
json_result_carries_the_waitlist_figures(void **state)
{
	tl_run *run = make_run(true);
	size_t len;
	char *text = to_string(tl_report_write_json, run, &len);
	cJSON *root = cJSON_ParseWithLength(text, len), *a;
	(void)state;

	assert_non_null(root);
	assert_true(num(root, "config.waitlist_share") == 0.02);
	assert_true(num(root, "config.waiters") == 20);
	assert_true(num(root, "config.wait_ms") == 5000);
	assert_true(num(root, "config.refund_share") == 0.05);
	assert_true(num(root, "config.line_seconds") == 30);
	assert_true(num(root, "line.joined") == 20);
	assert_true(num(root, "line.offered") == 17);
	assert_true(num(root, "line.confirmed") == 16);
	assert_true(num(root, "line.lapsed") == 1);
	assert_true(num(root, "line.refunded") == 5);
	assert_true(num(root, "line.order_violations") == 0);
	assert_true(num(root, "line.unsold_while_waiting") == 0);
	assert_true(num(root, "line.ops.wait.latency_us.count") == 64);
	assert_true(num(root, "line.ops.refund.status.200") == 5);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root,
	                                            "line"),
	                        "stopped_by")
	                        ->valuestring,
	    "quiet");
	a = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "polls"),
	    "waitlist");
	assert_int_equal(cJSON_GetArraySize(a), 39);
	assert_true(cJSON_GetArrayItem(a, 3)->valuedouble == 20);
	a = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "series"),
	    "offered");
	assert_true(cJSON_GetArrayItem(a, 25)->valuedouble == 11);
	assert_true(num(root, "event.at_end.waitlist") == 0);
	cJSON_Delete(root);
	free(text);
	tl_run_free(run);
}

static void
unknown_order_violations_stay_unknown_through_the_file(void **state)
{
	tl_run *run = make_run(true), *back = NULL;
	size_t len;
	char *text;
	(void)state;

	run->line.order_violations = -1;
	text = to_string(tl_report_write_json, run, &len);
	assert_non_null(strstr(text, "\"order_violations\":null"));
	assert_int_equal(tl_report_read_json(text, len, &back), 0);
	assert_int_equal(back->line.order_violations, -1);
	free(text);
	tl_run_free(back);
	tl_run_free(run);
}

static void
a_result_of_before_the_waitlist_reads_as_no_line(void **state)
{
	static const char old[] =
	    "{\"tool\":\"trload\",\"version\":1,"
	    "\"config\":{\"users\":5},\"phases\":[],\"series\":{"
	    "\"attempts\":[1,2]},\"polls\":{\"t_ms\":[0],\"total\":[10],"
	    "\"sold\":[3]}}";
	tl_run *back = NULL;
	size_t len;
	char *html;
	(void)state;

	assert_int_equal(tl_report_read_json(old, sizeof(old) - 1, &back), 0);
	assert_int_equal(back->line.order_violations, 0);
	assert_int_equal(back->line.joined, 0);
	assert_int_equal(back->polls[0].waitlist, 0);
	html = to_string(write_html_plain, back, &len);
	assert_null(strstr(html, "The waitlist over time"));
	assert_null(strstr(html, "Order violations"));
	free(html);
	tl_run_free(back);
}

static void
line_log_is_read_with_its_offers_in_order(void **state)
{
	static const char doc[] =
	    "{\"offers\":[{\"seq\":1,\"ret_ms\":10,"
	    "\"offer_ms\":10},{\"seq\":3,\"ret_ms\":20,\"offer_ms\":1020,"
	    "\"user\":\"u7\"}],\"entries\":[{\"seq\":1,\"state\":\"C\","
	    "\"offer\":\"_wl.0123456789abcdef.G1\",\"t_ms\":30},{\"seq\":2,"
	    "\"state\":\"W\",\"offer\":\"\",\"t_ms\":5},{\"seq\":4,"
	    "\"state\":\"L\",\"t_ms\":40}]}";
	tl_offer *o = NULL;
	tl_entry *e = NULL;
	size_t n = 0, m = 0;
	tl_order_check r;
	(void)state;

	assert_int_equal(tl_report_read_line_log(doc, sizeof(doc) - 1, &o, &n,
	                     &e, &m),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(m, 3);
	assert_int_equal(o[1].seq, 3);
	assert_int_equal(o[1].offer_ms, 1020);
	assert_true(e[0].offered);
	assert_int_equal(e[0].state, 'C');
	assert_false(e[1].offered);
	assert_false(e[2].offered); /* no "offer": none */
	assert_int_equal(e[2].t_ms, 40);
	/* 2 waits still, and 3 was served: a violation. */
	assert_int_equal(tl_line_order_check(o, n, e, m, &r), 0);
	assert_int_equal(r.violations, 1);
	assert_int_equal(r.first_waiting_seq, 2);
	free(o);
	free(e);
}

static void
line_log_without_its_figures_is_refused(void **state)
{
	static const char *bad[] = {
	    "",
	    "[]",
	    "{\"offers\":[]}",
	    "{\"entries\":[]}",
	    "{\"offers\":[{\"seq\":1,\"ret_ms\":1}],\"entries\":[]}",
	    "{\"offers\":[{\"seq\":-1,\"ret_ms\":1,\"offer_ms\":1}],"
	    "\"entries\":[]}",
	    "{\"offers\":[],\"entries\":[{\"seq\":1,\"state\":\"Q\","
	    "\"t_ms\":1}]}",
	    "{\"offers\":[],\"entries\":[{\"seq\":1,\"state\":\"WW\","
	    "\"t_ms\":1}]}",
	    "{\"offers\":[],\"entries\":[{\"seq\":1,\"state\":\"W\","
	    "\"offer\":7,\"t_ms\":1}]}",
	    "{\"offers\":[],\"entries\":[{\"seq\":1,\"state\":\"W\"}]}",
	};
	static const char empty[] = "{\"offers\":[],\"entries\":[]}";
	tl_offer *o = (tl_offer *)0x1;
	tl_entry *e = (tl_entry *)0x1;
	size_t n = 7, m = 7;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tl_report_read_line_log(bad[i], strlen(bad[i]), &o, &n, &e,
		        &m) != TR_EPROTO)
			fail_msg("accepted: %s", bad[i]);
		/* Nothing is set on failure. */
		assert_ptr_equal(o, (tl_offer *)0x1);
		assert_int_equal(n, 7);
	}
	assert_int_equal(tl_report_read_line_log(empty, strlen(empty), &o, &n,
	                     &e, &m),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(m, 0);
	free(o);
	free(e);
}

static void
unreadable_event_gives_null_not_zero_left(void **state)
{
	tl_run *run = make_run(false);
	size_t len;
	char *text = to_string(tl_report_write_json, run, &len);
	cJSON *root = cJSON_ParseWithLength(text, len), *v;
	(void)state;

	assert_non_null(root);
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "verdict"),
	    "tickets_left_unsold_while_demand_remained");
	assert_true(cJSON_IsNull(v));
	assert_true(cJSON_IsNull(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(root, "event"),
	        "at_end")));
	cJSON_Delete(root);
	free(text);
	tl_run_free(run);
}

static void
json_read_back_writes_the_identical_document(void **state)
{
	tl_run *run = make_run(true), *back = NULL;
	size_t len, len2;
	char *text = to_string(tl_report_write_json, run, &len), *again;
	(void)state;

	assert_int_equal(tl_report_read_json(text, len, &back), 0);
	assert_non_null(back);
	assert_int_equal(back->n_phases, 2);
	assert_int_equal(back->phase[0].op[TL_OP_RESERVE].latency_us.count,
	    997);
	assert_int_equal(back->n_polls, 39);
	again = to_string(tl_report_write_json, back, &len2);
	/* Everything, histograms and series included, survives. */
	assert_int_equal(len2, len);
	assert_string_equal(again, text);
	free(again);
	free(text);
	tl_run_free(back);
	tl_run_free(run);
}

static void
read_json_refuses_garbage_and_foreign_documents(void **state)
{
	static const char *bad[] = {
	    "",
	    "not json",
	    "{\"tool\":\"wrk\"}",
	    "[1,2,3]",
	    "{\"tool\":\"trload\",\"config\":{",
	    "{\"tool\":\"trload\"} x",
	    "{\"tool\":\"trload\",\"a\":\"\\x\"}",
	};
	tl_run *run = (tl_run *)0x1;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tl_report_read_json(bad[i], strlen(bad[i]), &run) !=
		    TR_EPROTO)
			fail_msg("accepted #%zu: %s", i, bad[i]);
		assert_ptr_equal(run, (tl_run *)0x1); /* untouched */
	}
	{
		/* Nesting deeper than the reader allows is refused, not a
		 * stack overflow. */
		char deep[2000];
		size_t n = 0;
		n += (size_t)snprintf(deep, sizeof(deep),
		    "{\"tool\":\"trload\","
		    "\"x\":");
		while (n < 1500)
			deep[n++] = '[';
		assert_int_equal(tl_report_read_json(deep, n, &run),
		    TR_EPROTO);
	}
}

static void
numbers_out_of_range_saturate_and_infinite_ones_refuse(void **state)
{
	/* Found by fuzz_trload: a double out of an integer's range was
	 * converted as it was (undefined behaviour). */
	const char *big =
	    "{\"tool\":\"trload\",\"config\":{\"max_seconds\":"
	    "1e300,\"timeout_ms\":-1e300,\"users\":1e300},\"polls\":{"
	    "\"t_ms\":[1e19,-1e19],\"total\":[5.5,-5.5]},\"phases\":[{"
	    "\"attempts\":2e19}]}";
	const char *huge = "{\"tool\":\"trload\",\"config\":{\"abandon\":"
	                   "1e999}}";
	tl_run *run = NULL;
	(void)state;

	assert_int_equal(tl_report_read_json(big, strlen(big), &run), 0);
	assert_true(run->max_seconds == INT64_MAX);
	assert_true(run->timeout_ms == INT64_MIN);
	assert_true(run->users == UINT64_MAX);
	assert_true(run->phase[0].attempts == UINT64_MAX);
	assert_int_equal(run->n_polls, 2);
	assert_true(run->polls[0].t_ms == INT64_MAX);
	assert_true(run->polls[1].t_ms == INT64_MIN);
	assert_true(run->polls[0].total == 5 && run->polls[1].total == -5);
	tl_run_free(run);
	run = NULL;
	/* No double holds it: not a document trload wrote. */
	assert_int_equal(tl_report_read_json(huge, strlen(huge), &run),
	    TR_EPROTO);
	assert_null(run);
}

/* A literal and its length, NUL bytes inside it included. */
#define LIT(s) s, sizeof(s) - 1

struct doc {
	const char *text;
	size_t len;
};

/* Each of docs[0..n) refused as a result, and out left untouched. */
static void
refuse_each(const struct doc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tl_run *run = (tl_run *)0x1;
		if (tl_report_read_json(docs[i].text, docs[i].len, &run) !=
		    TR_EPROTO)
			fail_msg("accepted #%zu: %.*s", i, (int)docs[i].len,
			    docs[i].text);
		assert_ptr_equal(run, (tl_run *)0x1);
	}
}

/* text read as a result; fails the test if it is refused. */
static tl_run *
read_ok(const char *text, size_t len)
{
	tl_run *run = NULL;

	if (tl_report_read_json(text, len, &run) != 0)
		fail_msg("refused: %.*s", (int)len, text);
	return run;
}

static void
control_bytes_are_refused_raw_and_read_when_escaped(void **state)
{
	/* JSON has four white space bytes and no raw control byte in a
	 * string; trload writes neither, so a file with one was not
	 * written by it. (cJSON alone takes any byte up to 0x20 for white
	 * space and copies control bytes into strings.) */
	static const struct doc bad[] = {
	    {LIT("{\"tool\":\"trload\",\x01\"wall_ms\":1}")},
	    {LIT("{\"tool\":\"trload\",\v\"wall_ms\":1}")},
	    {LIT("{\"tool\":\"trload\",\f\"wall_ms\":1}")},
	    {LIT("{\"tool\":\"trload\",\0\"wall_ms\":1}")},
	    {LIT("{\"tool\":\"trload\"}\0")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"a\x01\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"a\tb\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"a\0b\"}")},
	};
	/* The same, well-formed: white space around every token, control
	 * bytes escaped. */
	static const char good[] = " \t\r\n{ \"tool\" :\t\"trload\"\r,\n"
	                           "\"stopped_by\":\"a\\u0001\\tb\"} \t\r\n";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_string_equal(run->stopped_by, "a\x01\tb");
	tl_run_free(run);
}

static void
an_escaped_nul_ends_the_string_it_is_in(void **state)
{
	/* Fields are C strings: what follows a \u0000 cannot be kept. It
	 * is dropped, not refused, as the reader always did; no file trload
	 * wrote has one. */
	static const char x[] = "{\"rows\":[{\"name\":\"ab\\u0000cd\"}]}";
	static const char r[] = "{\"tool\":\"trload\",\"stopped_by\":"
	                        "\"ab\\u0000cd\"}";
	tl_extra_row *rows = NULL;
	tl_run *run;
	size_t n = 0;
	(void)state;

	run = read_ok(LIT(r));
	assert_string_equal(run->stopped_by, "ab");
	tl_run_free(run);
	assert_int_equal(tl_report_read_extra(LIT(x), &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].name, "ab");
	free(rows);
}

static void
a_unicode_escape_without_four_hex_digits_is_refused(void **state)
{
	/* cJSON alone reads \uzzzz as U+0000, which would cut the string
	 * short without a word. */
	static const struct doc bad[] = {
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\uzzzz\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\u12g4\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\u 123\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\u12\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\u")},
	};
	static const char good[] = "{\"tool\":\"trload\",\"stopped_by\":"
	                           "\"\\u00e9\\u00C9\"}";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_string_equal(run->stopped_by, "\xc3\xa9\xc3\x89");
	tl_run_free(run);
}

static void
bytes_past_ascii_are_kept_in_strings_and_refused_outside(void **state)
{
	/* A byte order mark is not JSON trload writes (cJSON alone skips
	 * one); UTF-8 in a string is copied as it is. */
	static const struct doc bad[] = {
	    {LIT("\xef\xbb\xbf{\"tool\":\"trload\"}")},
	    {LIT("{\"tool\":\"trload\",\xc2\xa0\"wall_ms\":1}")},
	    {LIT("{\"tool\":\"trload\"}\xc2\xa0")},
	};
	static const char good[] = "{\"tool\":\"trload\",\"stopped_by\":"
	                           "\"\xe6\x8a\xa2\xe7\xa5\xa8\"}";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_string_equal(run->stopped_by, "抢票");
	tl_run_free(run);
}

/* A result whose member "x" holds n arrays, one inside the other. */
static char *
nested(size_t n, size_t *len)
{
	char *s = malloc(n * 2 + 64);
	size_t o;

	assert_non_null(s);
	o = (size_t)sprintf(s, "{\"tool\":\"trload\",\"x\":");
	memset(s + o, '[', n);
	memset(s + o + n, ']', n);
	o += 2 * n;
	s[o++] = '}';
	*len = o;
	return s;
}

static void
nesting_is_bounded_at_64_arrays_and_objects(void **state)
{
	/* The bound keeps the reader's recursion short; cJSON alone allows
	 * 1,000 levels. The document itself is the first of the 64. */
	size_t len;
	char *s = nested(63, &len);
	tl_run *run;
	(void)state;

	run = read_ok(s, len);
	tl_run_free(run);
	free(s);
	s = nested(64, &len);
	refuse_each(&(struct doc){s, len}, 1);
	free(s);
}

static void
a_number_is_at_most_64_characters_long(void **state)
{
	/* Every number trload writes is much shorter; Debian's cJSON alone
	 * reads one of any length. */
	char s[256];
	int o = sprintf(s, "{\"tool\":\"trload\",\"wall_ms\":5.");
	tl_run *run;
	(void)state;

	memset(s + o, '0', 62); /* "5." and 62 zeros: 64 characters */
	o += 62;
	o += sprintf(s + o, "}");
	run = read_ok(s, (size_t)o);
	assert_true(run->wall_ms == 5);
	tl_run_free(run);
	memmove(s + o - 1, "0}", 2); /* one character more */
	refuse_each(&(struct doc){s, (size_t)o + 1}, 1);
}

static void
the_first_of_duplicate_keys_counts_and_statuses_add_up(void **state)
{
	/* trload writes no key twice. A figure is read from the first, as
	 * the reader always did (and cJSON's lookup does); a status map is
	 * summed key by key, so a status named twice counts twice. */
	static const char text[] =
	    "{\"tool\":\"trload\",\"wall_ms\":5,"
	    "\"wall_ms\":7,\"phases\":[{\"ops\":{\"reserve\":{\"status\":"
	    "{\"201\":2,\"409\":1,\"201\":3}}}}],\"tool\":\"wrk\"}";
	tl_run *run;
	(void)state;

	run = read_ok(LIT(text));
	assert_true(run->wall_ms == 5);
	assert_true(run->phase[0].op[TL_OP_RESERVE].status[201] == 5);
	assert_true(run->phase[0].op[TL_OP_RESERVE].status[409] == 1);
	tl_run_free(run);
}

static void
keys_are_matched_with_their_case(void **state)
{
	/* cJSON_GetObjectItem ignores case; our keys are exact. */
	static const struct doc bad[] = {
	    {LIT("{\"Tool\":\"trload\"}")},
	    {LIT("{\"tool\":\"TRLOAD\"}")},
	};
	static const char good[] = "{\"tool\":\"trload\",\"Wall_ms\":5,"
	                           "\"STOPPED_BY\":\"signal\"}";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_true(run->wall_ms == 0);
	assert_string_equal(run->stopped_by, "done");
	tl_run_free(run);
}

static void
extra_rows_are_refused_for_what_results_are_refused_for(void **state)
{
	/* One reader for both files: an infinite number anywhere, even in
	 * a member the rows ignore, and a raw control byte. */
	static const char *bad[] = {
	    "{\"skip\":{\"deep\":[1e999]}}",
	    "{\"name\":\"a\x01\"}",
	    "{\"rows\":[]} x",
	};
	tl_extra_row *rows = (tl_extra_row *)0x1;
	size_t n = 7;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tl_report_read_extra(bad[i], strlen(bad[i]), &rows, &n) !=
		    TR_EPROTO)
			fail_msg("accepted #%zu: %s", i, bad[i]);
	assert_ptr_equal(rows, (tl_extra_row *)0x1);
	assert_int_equal(n, 7);
	assert_int_equal(tl_report_read_extra(LIT("{\"skip\":{\"deep\":"
	                                          "[1e300]}}"),
	                     &rows, &n),
	    0);
	assert_int_equal(n, 0);
	free(rows);
}

static void
numbers_beyond_an_int_field_saturate_rather_than_wrap(void **state)
{
	/* Like the 64-bit figures above. The int ones were read as int64
	 * and cut to 32 bits, so 2^32 + 5 connections read back as 5. */
	static const char text[] =
	    "{\"tool\":\"trload\",\"config\":{"
	    "\"concurrency\":4294967301,\"threads\":-4294967301,"
	    "\"tail_rate\":1e300,\"tail_concurrency\":-1e300,"
	    "\"poll_ms\":2147483647,\"confirm_retries\":-2147483648},"
	    "\"phases\":[{\"concurrency\":3e9}]}";
	tl_run *run;
	(void)state;

	run = read_ok(LIT(text));
	assert_int_equal(run->concurrency, INT_MAX);
	assert_int_equal(run->threads, INT_MIN);
	assert_int_equal(run->tail_rate, INT_MAX);
	assert_int_equal(run->tail_concurrency, INT_MIN);
	assert_int_equal(run->poll_ms, INT_MAX);
	assert_int_equal(run->confirm_retries, INT_MIN);
	assert_int_equal(run->phase[0].concurrency, INT_MAX);
	tl_run_free(run);
}

static void
the_ends_of_int64_and_uint64_read_as_themselves(void **state)
{
	/* Numbers come through cJSON's double: integers are exact to 2^53,
	 * and the ends of the ranges, which saturated figures are written
	 * as, must read back as the ends, not one past them. */
	static const char text[] =
	    "{\"tool\":\"trload\",\"config\":{"
	    "\"users\":18446744073709551615,"
	    "\"max_seconds\":9223372036854775807,"
	    "\"timeout_ms\":-9223372036854775808,"
	    "\"tail_seconds\":-9007199254740992},"
	    "\"wall_ms\":9007199254740992,\"started_at_ms\":1795729640002}";
	tl_run *run;
	(void)state;

	run = read_ok(LIT(text));
	assert_true(run->users == UINT64_MAX);
	assert_true(run->max_seconds == INT64_MAX);
	assert_true(run->timeout_ms == INT64_MIN);
	assert_true(run->tail_seconds == -9007199254740992);
	assert_true(run->wall_ms == 9007199254740992);
	assert_true(run->started_wall_ms == 1795729640002);
	tl_run_free(run);
}

static void
a_lone_surrogate_is_refused_and_a_pair_is_read(void **state)
{
	/* Half a UTF-16 pair is no character. The hand-written reader made
	 * it U+FFFD; cJSON refuses it, and trload writes no \u escape
	 * above \u001f, so no file of its own is lost. */
	static const struct doc bad[] = {
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\ud800\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\udc00\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\ud800x\"}")},
	    {LIT("{\"tool\":\"trload\",\"stopped_by\":\"\\ud800"
	         "\\u0041\"}")},
	};
	static const char good[] = "{\"tool\":\"trload\",\"stopped_by\":"
	                           "\"\\ud83d\\ude00\"}";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_string_equal(run->stopped_by, "\xf0\x9f\x98\x80");
	tl_run_free(run);
}

static void
a_number_starts_with_a_minus_or_a_digit(void **state)
{
	/* JSON's grammar, and cJSON's; strtod in the hand-written reader
	 * also took "+1" and ".5", which trload never writes. */
	static const struct doc bad[] = {
	    {LIT("{\"tool\":\"trload\",\"wall_ms\":+1}")},
	    {LIT("{\"tool\":\"trload\",\"wall_ms\":.5}")},
	    {LIT("{\"tool\":\"trload\",\"wall_ms\":+.5}")},
	};
	static const char good[] = "{\"tool\":\"trload\",\"wall_ms\":-5,"
	                           "\"started_at_ms\":-0.5e1}";
	tl_run *run;
	(void)state;

	refuse_each(bad, sizeof(bad) / sizeof(bad[0]));
	run = read_ok(LIT(good));
	assert_true(run->wall_ms == -5);
	assert_true(run->started_wall_ms == -5);
	tl_run_free(run);
}

static void
extra_numbers_show_as_the_shortest_text_of_their_double(void **state)
{
	/* cJSON keeps a number's double, not its text: a value shows as
	 * cJSON prints a double, in 15 digits, or 17 when 15 do not read
	 * back as the same double. */
	static const char x[] =
	    "{\"rows\":[{\"value\":1.50},{\"value\":"
	    "1e2},{\"value\":0.041897720271102896},{\"value\":-0},"
	    "{\"value\":12345678901234567890}],\"share\":0.42}";
	static const char *want[] = {"1.5", "100", "0.041897720271102896",
	    "-0", "1.2345678901234567e+19", "0.42"};
	tl_extra_row *rows = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(tl_report_read_extra(LIT(x), &rows, &n), 0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(rows[i].value, want[i]);
	free(rows);
}

static void
oversold_by_one_leaves_none_rather_than_unknown(void **state)
{
	/* -1 means "the event could not be read": an oversell of exactly
	 * one ticket (total - sold == -1) was reported as that. */
	tl_run *run = make_run(true);
	tl_verdict v;
	size_t len;
	char *text;
	cJSON *root;
	(void)state;

	run->at_end.total = 100;
	run->at_end.sold = 101;
	tl_run_verdict(run, &v);
	assert_true(v.oversold);
	assert_true(v.left_unsold == 0);
	text = to_string(tl_report_write_json, run, &len);
	root = cJSON_ParseWithLength(text, len);
	assert_true(
	    num(root, "verdict.tickets_left_unsold_while_demand_remained") ==
	    0);
	cJSON_Delete(root);
	free(text);
	tl_run_free(run);
}

static void
figures_at_the_ends_of_int64_neither_overflow_nor_wrap(void **state)
{
	/* Found by fuzz_report: total - sold of figures read back from a
	 * file overflowed (undefined behaviour). */
	tl_run *run = make_run(true);
	tl_verdict v;
	size_t len;
	char *text;
	(void)state;

	run->at_end.total = INT64_MAX;
	run->at_end.sold = -1;
	tl_run_verdict(run, &v);
	assert_true(v.left_unsold == INT64_MAX);
	run->at_end.total = INT64_MIN;
	run->at_end.sold = 1;
	tl_run_verdict(run, &v);
	assert_true(v.left_unsold == 0);
	assert_true(v.oversold);
	/* A phase from the first int64 to the last: its length too. */
	run->phase[0].start_ms = INT64_MIN;
	run->phase[0].end_ms = INT64_MAX;
	tl_run_verdict(run, &v);
	assert_true(v.main_seconds > 1.8e16 && v.main_seconds < 1.9e16);
	run->polls[0].total = 20;
	run->polls[0].sold = INT64_MIN;
	text = to_string(tl_report_write_json, run, &len);
	assert_non_null(strstr(text, "\"left\":[9223372036854775807,"));
	free(text);
	text = to_string(write_html_plain, run, &len);
	free(text);
	tl_run_free(run);
}

static void
error_codes_are_matched_whole_never_read_past_a_name(void **state)
{
	(void)state;
	assert_int_equal(tr_api_error_parse("sold_out", 8), TR_API_SOLD_OUT);
	assert_int_equal(tr_api_error_parse("not_owner", 9), TR_API_NOT_OWNER);
	/* A name, a NUL, more bytes: not the name (fuzz_trload found the
	 * name read past its end here). */
	assert_int_equal(tr_api_error_parse("limit_exceeded\0:", 16),
	    TR_API_OTHER);
	assert_int_equal(tr_api_error_parse("sold_out_x", 10), TR_API_OTHER);
	assert_int_equal(tr_api_error_parse("sold", 4), TR_API_OTHER);
	assert_int_equal(tr_api_error_parse("", 0), TR_API_OTHER);
}

static void
extra_rows_come_from_a_list_and_from_top_level_scalars(void **state)
{
	const char *x =
	    "{\"rows\":[{\"name\":\"Audit (ticketctl audit)\","
	    "\"value\":\"conservation holds\",\"verdict\":\"PASS\",\"note\":"
	    "\"pool + leases + sold == total\"},{\"name\":\"Oversell\","
	    "\"value\":0,\"verdict\":false},{\"name\":\"\\u62a2\\u7968\","
	    "\"value\":1.5,\"verdict\":\"weird\"}],\"redis_commands_per_"
	    "attempt"
	    "\":0.42,\"baseline_ok\":true,\"skip\":{\"a\":1}}";
	tl_extra_row *rows = NULL;
	size_t n = 0;
	(void)state;

	assert_int_equal(tl_report_read_extra(x, strlen(x), &rows, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(rows[0].name, "Audit (ticketctl audit)");
	assert_string_equal(rows[0].verdict, "pass");
	assert_string_equal(rows[0].note, "pool + leases + sold == total");
	assert_string_equal(rows[1].value, "0");
	assert_string_equal(rows[1].verdict, "fail");
	assert_string_equal(rows[2].name, "抢票");
	assert_string_equal(rows[2].verdict, "info");
	assert_string_equal(rows[3].name, "redis_commands_per_attempt");
	assert_string_equal(rows[3].value, "0.42");
	assert_string_equal(rows[4].name, "baseline_ok");
	assert_string_equal(rows[4].verdict, "pass");
	free(rows);
	assert_int_equal(tl_report_read_extra("[1]", 3, &rows, &n), TR_EPROTO);
	assert_int_equal(tl_report_read_extra("{", 1, &rows, &n), TR_EPROTO);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void
html_report_is_one_self_contained_page(void **state)
{
	tl_run *run = make_run(true);
	tl_extra_row rows[2];
	size_t len;
	char *html = NULL;
	FILE *f = open_memstream(&html, &len);
	const char *sample = getenv("TRLOAD_SAMPLE_HTML");
	(void)state;

	memset(rows, 0, sizeof(rows));
	snprintf(rows[0].name, sizeof(rows[0].name), "Audit");
	snprintf(rows[0].value, sizeof(rows[0].value), "ok: sold 98");
	snprintf(rows[0].verdict, sizeof(rows[0].verdict), "pass");
	snprintf(rows[1].name, sizeof(rows[1].name),
	    "<script>alert(1)</script>");
	snprintf(rows[1].value, sizeof(rows[1].value), "a & b");
	snprintf(rows[1].verdict, sizeof(rows[1].verdict), "fail");
	assert_non_null(f);
	assert_int_equal(tl_report_write_html(run, rows, 2, f), 0);
	fclose(f);

	assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	assert_non_null(strstr(html, "</html>"));
	/* rates, sales, tickets, the waitlist, latency */
	assert_int_equal(count(html, "<svg"), 5);
	assert_int_equal(count(html, "</svg>"), 5);
	assert_non_null(strstr(html, "The waitlist over time"));
	assert_non_null(strstr(html, "offers paid (total)"));
	assert_non_null(strstr(html,
	    "<td>Order violations (seen by the tool)"
	    "</td><td>0</td>"));
	assert_non_null(strstr(html,
	    "<td>Waitlist: offers</td><td>17 seen · "
	    "16 confirmed · 1 let lapse · 0 lost</td>"));
	assert_non_null(strstr(html, "<polyline"));
	/* The verdict table comes before the charts. */
	assert_true(strstr(html, "Tickets left unsold while demand remained") <
	    strstr(html, "<svg"));
	assert_non_null(strstr(html, "<td>Audit</td><td>ok: sold 98</td>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "a &amp; b"));
	assert_non_null(strstr(html, "<td>n1</td>"));
	assert_non_null(strstr(html, "seconds since start"));
	/* Nothing to fetch, nothing to run. */
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "url("));

	if (sample != NULL) {
		/* Left for the chromium render check (tests/CMakeLists.txt).
		 */
		FILE *out = fopen(sample, "w");
		assert_non_null(out);
		assert_int_equal(fwrite(html, 1, len, out), len);
		assert_int_equal(fclose(out), 0);
	}
	free(html);
	tl_run_free(run);
}

static void
html_of_an_empty_run_still_renders(void **state)
{
	static const char *bad_num[] = {"nan,", "nan ", "nan\"", "nan<",
	    "inf,", "inf ", "inf\"", "inf<"};
	tl_run *run = tl_run_new(1, 1);
	size_t len;
	char *html;
	(void)state;

	/* A target that answered nothing: no phases, no polls, no series. */
	html = to_string(write_html_plain, run, &len);
	assert_int_equal(count(html, "<svg"), 4);
	assert_non_null(strstr(html, "unknown"));
	/* No NaN or infinity leaked into coordinates or labels. */
	for (size_t i = 0; i < sizeof(bad_num) / sizeof(bad_num[0]); i++)
		if (strstr(html, bad_num[i]))
			fail_msg("found '%s' in the page", bad_num[i]);
	free(html);
	tl_run_free(run);
}

static void
summary_names_the_left_unsold_figure(void **state)
{
	tl_run *run = make_run(true);
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	(void)state;

	tl_report_write_summary(run, f);
	fclose(f);
	assert_non_null(strstr(buf,
	    "tickets left unsold while demand "
	    "remained: 2"));
	assert_non_null(strstr(buf, "sold_out"));
	assert_non_null(strstr(buf, "timeout 3"));
	assert_non_null(strstr(buf,
	    "waitlist   joined 20 of 20; offers seen "
	    "17, confirmed 16, let lapse 1"));
	assert_non_null(strstr(buf, "refunds    5 of 5"));
	assert_non_null(strstr(buf,
	    "order violations seen: 0; tickets unsold "
	    "while buyers waited: 0"));
	free(buf);
	tl_run_free(run);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        json_result_carries_every_figure_the_rush_script_reads),
	    cmocka_unit_test(json_result_carries_the_waitlist_figures),
	    cmocka_unit_test(
	        unknown_order_violations_stay_unknown_through_the_file),
	    cmocka_unit_test(a_result_of_before_the_waitlist_reads_as_no_line),
	    cmocka_unit_test(line_log_is_read_with_its_offers_in_order),
	    cmocka_unit_test(line_log_without_its_figures_is_refused),
	    cmocka_unit_test(unreadable_event_gives_null_not_zero_left),
	    cmocka_unit_test(json_read_back_writes_the_identical_document),
	    cmocka_unit_test(read_json_refuses_garbage_and_foreign_documents),
	    cmocka_unit_test(
	        error_codes_are_matched_whole_never_read_past_a_name),
	    cmocka_unit_test(
	        figures_at_the_ends_of_int64_neither_overflow_nor_wrap),
	    cmocka_unit_test(oversold_by_one_leaves_none_rather_than_unknown),
	    cmocka_unit_test(
	        numbers_out_of_range_saturate_and_infinite_ones_refuse),
	    cmocka_unit_test(
	        numbers_beyond_an_int_field_saturate_rather_than_wrap),
	    cmocka_unit_test(
	        control_bytes_are_refused_raw_and_read_when_escaped),
	    cmocka_unit_test(an_escaped_nul_ends_the_string_it_is_in),
	    cmocka_unit_test(
	        a_unicode_escape_without_four_hex_digits_is_refused),
	    cmocka_unit_test(
	        bytes_past_ascii_are_kept_in_strings_and_refused_outside),
	    cmocka_unit_test(nesting_is_bounded_at_64_arrays_and_objects),
	    cmocka_unit_test(a_number_is_at_most_64_characters_long),
	    cmocka_unit_test(
	        the_first_of_duplicate_keys_counts_and_statuses_add_up),
	    cmocka_unit_test(keys_are_matched_with_their_case),
	    cmocka_unit_test(
	        extra_rows_are_refused_for_what_results_are_refused_for),
	    cmocka_unit_test(the_ends_of_int64_and_uint64_read_as_themselves),
	    cmocka_unit_test(a_lone_surrogate_is_refused_and_a_pair_is_read),
	    cmocka_unit_test(a_number_starts_with_a_minus_or_a_digit),
	    cmocka_unit_test(
	        extra_numbers_show_as_the_shortest_text_of_their_double),
	    cmocka_unit_test(
	        extra_rows_come_from_a_list_and_from_top_level_scalars),
	    cmocka_unit_test(html_report_is_one_self_contained_page),
	    cmocka_unit_test(html_of_an_empty_run_still_renders),
	    cmocka_unit_test(summary_names_the_left_unsold_figure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
