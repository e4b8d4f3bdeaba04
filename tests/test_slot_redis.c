/* test_slot_redis: tr_slot_of_key against a real redis-server with
 * cluster-enabled yes: for 2,000 keys (random bytes, braces in every
 * place, our own tr:{E}:x names) our slot must be CLUSTER KEYSLOT's. */
#include <hiredis/hiredis.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cmocka.h>

#include "harness.h"
#include "tr_slot.h"

enum { RANDOM_KEYS = 800, BRACE_KEYS = 600, EVENT_KEYS = 600, KEY_MAX = 48 };

static th_redis redis;
static redisContext *conn;

/* Runs after the tests whether they passed or failed, and from a setup
 * that failed half way: the server never outlives the test. */
static int
teardown_cluster_node(void **state)
{
	(void)state;
	if (conn != NULL)
		redisFree(conn);
	conn = NULL;
	th_redis_stop(&redis);
	th_cleanup();
	return 0;
}

static int
setup_cluster_node(void **state)
{
	struct timeval tv = {2, 0};
	(void)state;

	if (th_redis_start_cluster(&redis) != 0)
		goto fail;
	conn = redisConnectWithTimeout("127.0.0.1", redis.port, tv);
	if (conn == NULL || conn->err)
		goto fail;
	redisSetTimeout(conn, tv);
	return 0;
fail:
	teardown_cluster_node(state);
	return -1;
}

/* xorshift64: a fixed sequence, so a failure names a key found again. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
next(unsigned bound)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % bound);
}

/* Any byte, with braces often enough that tags form and break. */
static size_t
random_key(char *k)
{
	size_t len = next(KEY_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned r = next(8);
		k[i] = r == 0 ? '{' : r == 1 ? '}' : (char)next(256);
	}
	return len;
}

/* Pieces that make tags empty, nested, doubled, unclosed or reversed. */
static size_t
brace_key(char *k)
{
	static const char *const parts[] = {"{", "}", "{}", "}{", "{{", "}}",
	    "user1000", "E42", "a", "", ".following", "{bar}", "{zap}"};
	size_t len = 0;
	unsigned n = 1 + next(5);

	for (unsigned i = 0; i < n; i++) {
		const char *p = parts[next(sizeof(parts) / sizeof(parts[0]))];
		size_t pl = strlen(p);
		if (len + pl > KEY_MAX)
			break;
		memcpy(k + len, p, pl);
		len += pl;
	}
	return len;
}

static size_t
event_key(char *k)
{
	static const char *const suffixes[] = {"meta", "pool", "holds",
	    "lease", "stream", "orders", "llog"};
	return (size_t)snprintf(k, KEY_MAX, "tr:{E%u}:%s", next(100000),
	    suffixes[next(sizeof(suffixes) / sizeof(suffixes[0]))]);
}

static void
our_slot_is_cluster_keyslot_for_2000_keys(void **state)
{
	char key[KEY_MAX];
	int compared = 0;
	(void)state;

	for (int i = 0; i < RANDOM_KEYS + BRACE_KEYS + EVENT_KEYS; i++) {
		size_t len = i < RANDOM_KEYS       ? random_key(key)
		    : i < RANDOM_KEYS + BRACE_KEYS ? brace_key(key)
		                                   : event_key(key);
		redisReply *rep =
		    redisCommand(conn, "CLUSTER KEYSLOT %b", key, len);
		long long want;

		assert_non_null(rep);
		if (rep->type != REDIS_REPLY_INTEGER) {
			freeReplyObject(rep);
			fail_msg("CLUSTER KEYSLOT did not answer a number");
		}
		want = rep->integer;
		freeReplyObject(rep);
		if (tr_slot_of_key(key, len) != want) {
			char hex[2 * KEY_MAX + 1] = "";
			for (size_t j = 0; j < len; j++)
				snprintf(hex + 2 * j, 3, "%02x",
				    (unsigned char)key[j]);
			fail_msg("key %d (hex %s): ours %u, Redis %lld", i,
			    hex, tr_slot_of_key(key, len), want);
		}
		compared++;
	}
	assert_int_equal(compared, 2000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(our_slot_is_cluster_keyslot_for_2000_keys),
	};
	return cmocka_run_group_tests(tests, setup_cluster_node,
	    teardown_cluster_node);
}
