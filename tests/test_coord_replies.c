/* test_coord_replies: the coordinator's readers of Redis replies
 * (lib/coord/tr_coord.h), fed RESP bytes through hiredis' own reader as
 * tr_coord_run gets them, with no Redis. Linked with trcoord alone. */
#include <setjmp.h>
#include <stdarg.h>
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
	    "alice", ""), 0);
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
	    cmocka_unit_test(a_fenced_refusal_is_read_within_its_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
