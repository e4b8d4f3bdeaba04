/* seed_coord: writes fuzz_coord's seed corpus: what a real Redis answers
 * to the coordinator's script calls, in RESP as it came on the wire, over
 * a sale's life (create, register, grant, holds, confirms, release,
 * expiry, give back, reclaim, retire, sync, info, audit), the scripts
 * outside an event (heartbeat, sweeper, unindex, leave) and refusals.
 *
 *   seed_coord HOST PORT tests/fuzz/corpus/fuzz_coord
 *
 * Use a throwaway redis-server: it creates event SEED and writes to it. A
 * seed is fuzz_coord's input: the script (enum tr_script), the items the
 * call carried, the reply. RESP 2 has one encoding per reply, so writing
 * the reply hiredis read gives back the bytes Redis sent.
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr_coord.h"
#include "tr_err.h"

#define EV "SEED"

static const char *dir;

static void
resp(FILE *f, const redisReply *r)
{
	switch (r->type) {
	case REDIS_REPLY_STRING:
		fprintf(f, "$%zu\r\n", r->len);
		fwrite(r->str, 1, r->len, f);
		fputs("\r\n", f);
		break;
	case REDIS_REPLY_ARRAY:
		fprintf(f, "*%zu\r\n", r->elements);
		for (size_t i = 0; i < r->elements; i++)
			resp(f, r->element[i]);
		break;
	case REDIS_REPLY_INTEGER: fprintf(f, ":%lld\r\n", r->integer); break;
	case REDIS_REPLY_NIL: fputs("$-1\r\n", f); break;
	case REDIS_REPLY_STATUS: fprintf(f, "+%s\r\n", r->str); break;
	default: fprintf(f, "-%s\r\n", r->str); break;
	}
}

static void
save_reply(const char *name, int script, size_t items, const redisReply *r)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		exit(1);
	}
	fputc(script, f);
	fputc((int)items, f);
	resp(f, r);
	if (fclose(f) != 0)
		exit(1);
}

/* Run k, save its answer under name, keep the call for reading. */
static void
run(tr_coord *c, tr_call *k, const char *name)
{
	tr_call *kp = k;
	size_t items = (size_t)k->xargc;

	if (k->script == TR_SCRIPT_HOLD)
		items /= 4;
	else if (k->script == TR_SCRIPT_CONFIRM)
		items /= 3;
	if (tr_coord_run(c, &kp, 1) != 0 || k->reply == NULL) {
		fprintf(stderr, "%s: no answer (%s)\n", name,
		    tr_strerror(k->rv));
		exit(1);
	}
	save_reply(name, k->script, items, k->reply);
	printf("%-28s %s\n", name, k->rv ? k->detail : "ok");
}

int
main(int argc, char **argv)
{
	tr_coord_opts o = {0};
	tr_coord *c;
	tr_call k;
	tr_event_figures fig;
	uint64_t epoch, epoch2, u, granted, pool;
	uint32_t limit;
	int64_t opens, now;
	size_t n;
	tr_hold_result h;
	char rid1[TR_RID_MAX + 1], rid2[TR_RID_MAX + 1];
	redisContext *raw;
	redisReply *r;

	if (argc != 4) {
		fprintf(stderr, "usage: seed_coord HOST PORT DIR\n");
		return 2;
	}
	o.host = argv[1];
	o.port = atoi(argv[2]);
	dir = argv[3];
	if (tr_coord_open(&o, false, &c) != 0) {
		fprintf(stderr, "cannot reach redis at %s:%d\n", o.host,
		    o.port);
		return 1;
	}

	tr_call_create_event(&k, EV, 10, 2, 900000, 0);
	run(c, &k, "create_event-created");
	tr_call_done(&k);
	tr_call_create_event(&k, EV, 10, 2, 900000, 0);
	run(c, &k, "create_event-exists");
	tr_call_done(&k);
	tr_call_create_event(&k, EV, 11, 2, 900000, 0);
	run(c, &k, "create_event-other-settings");
	tr_call_done(&k);

	tr_call_register(&k, EV, "n1");
	run(c, &k, "register");
	if (tr_result_register(&k, &fig, &u, &limit, &u, &opens) != 0)
		return 1;
	epoch = fig.epoch;
	tr_call_done(&k);
	tr_call_register(&k, "NOSUCH", "n1");
	run(c, &k, "register-no-event");
	tr_call_done(&k);
	tr_call_register(&k, EV, "n2");
	run(c, &k, "register-n2");
	(void)tr_result_register(&k, &fig, &u, &limit, &u, &opens);
	epoch2 = fig.epoch;
	tr_call_done(&k);

	tr_call_grant(&k, EV, "n1", epoch, 6);
	run(c, &k, "grant");
	(void)tr_result_grant(&k, &granted, &pool);
	tr_call_done(&k);
	tr_call_grant(&k, EV, "n2", epoch2, 2);
	run(c, &k, "grant-n2");
	tr_call_done(&k);
	tr_call_grant(&k, EV, "n1", epoch + 7, 1);
	run(c, &k, "grant-fenced");
	tr_call_done(&k);

	snprintf(rid1, sizeof(rid1), "n1.9f2c41d07be85a10." EV);
	snprintf(rid2, sizeof(rid2), "n1.0123456789abcdef." EV);
	tr_call_hold(&k, EV, "n1", epoch);
	(void)tr_call_hold_item(&k, rid1, "alice", 1, "gw-1-0-1");
	(void)tr_call_hold_item(&k, rid2, "bob", 2, "");
	(void)tr_call_hold_item(&k, "n1.00000000000000aa." EV, "alice", 2,
	    "gw-1-0-2");
	run(c, &k, "hold-created-limit");
	(void)tr_result_hold(&k, &now, &n);
	(void)tr_result_hold_item(&k, 0, &h);
	tr_call_done(&k);
	tr_call_hold(&k, EV, "n1", epoch);
	(void)tr_call_hold_item(&k, "n1.00000000000000bb." EV, "alice", 1,
	    "gw-1-0-1");
	(void)tr_call_hold_item(&k, "n1.00000000000000cc." EV, "bob", 1, "");
	run(c, &k, "hold-existing-duplicate");
	tr_call_done(&k);
	tr_call_hold(&k, EV, "n1", epoch + 7);
	(void)tr_call_hold_item(&k, "n1.00000000000000dd." EV, "carol", 1, "");
	run(c, &k, "hold-fenced");
	tr_call_done(&k);

	tr_call_confirm(&k, EV, "n1");
	(void)tr_call_confirm_item(&k, rid1, "alice", "pay-7781");
	(void)tr_call_confirm_item(&k, rid2, "mallory", "pay-1");
	(void)tr_call_confirm_item(&k, "n1.00000000000000ee." EV, "dave", "");
	run(c, &k, "confirm-ok-not-owner-not-found");
	tr_call_done(&k);
	tr_call_confirm(&k, EV, "n1");
	(void)tr_call_confirm_item(&k, rid1, "alice", "pay-7781");
	(void)tr_call_confirm_item(&k, rid1, "alice", "pay-other");
	run(c, &k, "confirm-again-conflict");
	tr_call_done(&k);

	tr_call_expire(&k, EV, "n1", epoch);
	(void)tr_call_expire_item(&k, rid1);
	(void)tr_call_expire_item(&k, rid2);
	(void)tr_call_expire_item(&k, "n1.00000000000000ff." EV);
	run(c, &k, "expire-confirmed-held-unknown");
	tr_call_done(&k);

	tr_call_release(&k, EV, "n1", epoch, rid2, "bob");
	run(c, &k, "release");
	tr_call_done(&k);
	tr_call_release(&k, EV, "n1", epoch, rid1, "alice");
	run(c, &k, "release-confirmed");
	tr_call_done(&k);
	tr_call_confirm(&k, EV, "n1");
	(void)tr_call_confirm_item(&k, rid2, "bob", "");
	run(c, &k, "confirm-released");
	tr_call_done(&k);

	tr_call_expire_due(&k, EV, 1000, 1000, 3600000, 1000);
	run(c, &k, "expire_due");
	tr_call_done(&k);
	tr_call_give_back(&k, EV, "n1", epoch, 1);
	run(c, &k, "give_back");
	tr_call_done(&k);
	tr_call_give_back(&k, EV, "n1", epoch, 1000);
	run(c, &k, "give_back-too-many");
	tr_call_done(&k);
	/* n2 never claimed its liveness: its lease is reclaimable. */
	tr_call_reclaim(&k, EV, "n2", 0, 1000, 1000);
	run(c, &k, "reclaim");
	tr_call_done(&k);
	tr_call_reclaim(&k, EV, "n2", 0, 1000, 1000);
	run(c, &k, "reclaim-again");
	tr_call_done(&k);
	tr_call_sync(&k, EV, "n1", 1000, 1000);
	run(c, &k, "sync");
	tr_call_done(&k);
	tr_call_sync(&k, EV, "n2", 1000, 1000);
	run(c, &k, "sync-fenced-node");
	tr_call_done(&k);
	tr_call_info(&k, EV);
	run(c, &k, "info");
	tr_call_done(&k);
	tr_call_sweeper(&k, "n1:i1", 3000);
	run(c, &k, "sweeper");
	tr_call_done(&k);
	tr_call_sweeper(&k, "n2:i2", 3000);
	run(c, &k, "sweeper-taken");
	tr_call_done(&k);
	tr_call_heartbeat(&k, "n1", "i1", 3000);
	run(c, &k, "heartbeat");
	tr_call_done(&k);
	tr_call_heartbeat(&k, "n1", "i2", 3000);
	run(c, &k, "heartbeat-taken");
	tr_call_done(&k);
	tr_call_unindex(&k, "n2", EV);
	run(c, &k, "unindex");
	tr_call_done(&k);
	tr_call_leave(&k, "n1", "i1");
	run(c, &k, "leave");
	tr_call_done(&k);
	/* The waitlist: SEED is sold out to these buyers or not, the
	 * replies have the shapes all the same. */
	tr_call_wl_join(&k, EV, "wl-a", "r1");
	run(c, &k, "wl_join");
	tr_call_done(&k);
	tr_call_wl_join(&k, EV, "wl-a", "r1");
	run(c, &k, "wl_join-again");
	tr_call_done(&k);
	tr_call_wl_get(&k, EV, "wl-a");
	run(c, &k, "wl_get");
	tr_call_done(&k);
	tr_call_wl_get(&k, EV, "nobody");
	run(c, &k, "wl_get-not-found");
	tr_call_done(&k);
	tr_call_wl_show(&k, EV, 10);
	run(c, &k, "wl_show");
	tr_call_done(&k);
	tr_call_wl_leave(&k, EV, "wl-a");
	run(c, &k, "wl_leave");
	tr_call_done(&k);
	tr_call_refund(&k, EV, rid2, "bob");
	run(c, &k, "refund-not-paid");
	tr_call_done(&k);
	tr_call_refund(&k, EV, rid1, "alice");
	run(c, &k, "refund");
	tr_call_done(&k);
	tr_call_audit(&k, EV);
	run(c, &k, "audit");
	tr_call_done(&k);
	tr_call_retire(&k, EV, "n1", epoch);
	run(c, &k, "retire");
	tr_call_done(&k);
	tr_call_audit(&k, EV);
	run(c, &k, "audit-after-retire");
	tr_call_done(&k);

	/* After a Redis restart: NOSCRIPT (tr_coord_run retries it, so
	 * it is asked for here without tr_coord). */
	raw = redisConnect(o.host, o.port);
	r = raw ? redisCommand(raw, "EVALSHA %s 0",
	              "0000000000000000000000000000000000000000")
	        : NULL;
	if (r == NULL)
		return 1;
	save_reply("sync-noscript", TR_SCRIPT_SYNC, 0, r);
	freeReplyObject(r);
	redisFree(raw);
	tr_coord_close(c);
	return 0;
}
