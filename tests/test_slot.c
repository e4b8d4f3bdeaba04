/* test_slot: Redis Cluster routing (key slots, MOVED/ASK, the slot map),
 * linked with trbase alone. Slot numbers are what CLUSTER KEYSLOT of
 * redis-server 7.0 answers (test_slot_redis compares 2,000 more). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tr_err.h"
#include "tr_slot.h"

static uint16_t
slot(const char *key)
{
	return tr_slot_of_key(key, strlen(key));
}

static void
slots_are_crc16_xmodem_mod_16384(void **state)
{
	(void)state;
	/* 0x31C3 is the XMODEM check value; below 16384, so also the slot. */
	assert_int_equal(slot("123456789"), 0x31C3);
	/* CRC16("foo") is 0xAF96: the slot keeps its low 14 bits. */
	assert_int_equal(slot("foo"), 0xAF96 & 0x3FFF);
	assert_int_equal(slot("foo"), 12182);
	assert_int_equal(slot("bar"), 5061);
	assert_int_equal(slot("somekey"), 11058);
	assert_int_equal(slot(""), 0);
}

static void
hash_tags_follow_the_cluster_spec(void **state)
{
	(void)state;
	assert_int_equal(slot("{user1000}.following"), 3443);
	assert_int_equal(slot("{user1000}.followers"), 3443);
	assert_int_equal(slot("foo{hash_tag}"), slot("hash_tag"));
	assert_int_equal(slot("foo{hash_tag}"), 2515);
	/* Empty first tag: the whole key, not the later "{bar}". */
	assert_int_equal(slot("foo{}{bar}"), 8363);
	assert_int_not_equal(slot("foo{}{bar}"), slot("bar"));
	/* From the first '{' to the first '}' after it. */
	assert_int_equal(slot("foo{{bar}}zap"), slot("{bar"));
	assert_int_equal(slot("foo{{bar}}zap"), 4015);
	assert_int_equal(slot("foo{bar}{zap}"), slot("bar"));
	/* No '}' after the first '{', or one only before it: whole key. */
	assert_int_equal(slot("a{b"), 13340);
	assert_int_equal(slot("}{"), 12793);
	assert_int_equal(slot("{}"), 15257);
}

static void
every_key_of_one_event_shares_the_event_slot(void **state)
{
	static const char *const suffixes[] = {"meta", "pool", "sold", "held",
	    "lease", "epoch", "buyers", "orders", "stream", "holds",
	    "deadlines", "uholds", "reqs", "ended", "nheld", "line", "lent",
	    "lended", "llog"};
	char key[64];
	(void)state;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(key, sizeof(key), "tr:{E42}:%s", suffixes[i]);
		assert_int_equal(slot(key), 10525);
	}
	assert_int_equal(slot("E42"), 10525);
	assert_int_not_equal(slot("tr:{E43}:meta"), 10525);
}

static void
keys_are_counted_bytes_not_c_strings(void **state)
{
	static const char key[] = "a\0{E42}\0";
	(void)state;

	assert_int_equal(tr_slot_of_key(key, sizeof(key) - 1), 10525);
	/* Only the first byte: "a" alone. */
	assert_int_equal(tr_slot_of_key(key, 1), slot("a"));
	/* The tag's '}' is past len: no tag, the whole "a\0{E42". */
	assert_int_not_equal(tr_slot_of_key(key, 6), 10525);
}

static int
parse(const char *text, tr_slot_redirect *r)
{
	return tr_slot_redirect_parse(text, strlen(text), r);
}

static void
moved_and_ask_parse_with_every_form_of_host(void **state)
{
	tr_slot_redirect r;
	char buf[64];
	(void)state;

	assert_int_equal(parse("MOVED 3999 127.0.0.1:6381", &r), 0);
	assert_int_equal(r.kind, TR_SLOT_MOVED);
	assert_int_equal(r.slot, 3999);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.port, 6381);

	assert_int_equal(parse("ASK 16383 redis-2.example.com:1", &r), 0);
	assert_int_equal(r.kind, TR_SLOT_ASK);
	assert_int_equal(r.slot, 16383);
	assert_string_equal(r.host, "redis-2.example.com");
	assert_int_equal(r.port, 1);

	/* IPv6: the last ':' is the port's. */
	assert_int_equal(parse("MOVED 0 2001:db8::7:65535", &r), 0);
	assert_int_equal(r.slot, 0);
	assert_string_equal(r.host, "2001:db8::7");
	assert_int_equal(r.port, 65535);
	assert_int_equal(parse("ASK 7 ::1:6380", &r), 0);
	assert_string_equal(r.host, "::1");

	/* No host: the one of the connection that answered. */
	assert_int_equal(parse("MOVED 3999 :6380", &r), 0);
	assert_string_equal(r.host, "");
	assert_int_equal(r.port, 6380);

	/* The text is counted: bytes after len are not read. */
	snprintf(buf, sizeof(buf), "MOVED 12 10.0.0.1:7000GARBAGE");
	assert_int_equal(tr_slot_redirect_parse(buf, 22, &r), 0);
	assert_string_equal(r.host, "10.0.0.1");
	assert_int_equal(r.port, 7000);
}

static void
malformed_redirections_are_refused_and_leave_the_result_untouched(void **state)
{
	static const char *const bad[] = {
	    "",
	    "MOVED",
	    "MOVED ",
	    "MOVED 3999",
	    "MOVED 3999 ",
	    "ERR unknown command",
	    "moved 3999 127.0.0.1:6380",
	    "MOVEDX 3999 127.0.0.1:6380",
	    "ASK",
	    "ASK 3999",
	    "TRYAGAIN Multiple keys request during rehashing of slot",
	    /* slot */
	    "MOVED 16384 127.0.0.1:6380",
	    "MOVED 99999 127.0.0.1:6380",
	    "MOVED 4294967296 127.0.0.1:6380",
	    "MOVED -1 127.0.0.1:6380",
	    "MOVED +1 127.0.0.1:6380",
	    "MOVED  3999 127.0.0.1:6380",
	    "MOVED 39a9 127.0.0.1:6380",
	    /* port */
	    "MOVED 3999 127.0.0.1:0",
	    "MOVED 3999 127.0.0.1:65536",
	    "MOVED 3999 127.0.0.1:99999999999",
	    "MOVED 3999 127.0.0.1:",
	    "MOVED 3999 127.0.0.1",
	    "MOVED 3999 127.0.0.1:-1",
	    "MOVED 3999 127.0.0.1:+80",
	    /* trailing garbage */
	    "MOVED 3999 127.0.0.1:6380 ",
	    "MOVED 3999 127.0.0.1:6380 x",
	    "MOVED 3999 127.0.0.1:6380\r\n",
	    "ASK 3999 127.0.0.1:6380x",
	    /* host */
	    "MOVED 3999 a b:6380",
	    "MOVED 3999 a\tb:6380",
	};
	tr_slot_redirect r, before;
	char text[TR_SLOT_HOST_MAX + 32];
	(void)state;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != TR_EPROTO)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&r, &before, sizeof(r));
	}
	/* A NUL inside the counted text, in the host. */
	assert_int_equal(tr_slot_redirect_parse("ASK 1 a\0b:6380", 14, &r),
	    TR_EPROTO);
	assert_int_equal(tr_slot_redirect_parse(NULL, 0, &r), TR_EPROTO);

	/* The longest host fits; one byte more does not. */
	memcpy(text, "MOVED 1 ", 8);
	memset(text + 8, 'h', TR_SLOT_HOST_MAX);
	strcpy(text + 8 + TR_SLOT_HOST_MAX, ":6380");
	assert_int_equal(parse(text, &r), 0);
	assert_int_equal(strlen(r.host), TR_SLOT_HOST_MAX);
	r = before;
	memset(text + 8, 'h', TR_SLOT_HOST_MAX + 1);
	strcpy(text + 8 + TR_SLOT_HOST_MAX + 1, ":6380");
	assert_int_equal(parse(text, &r), TR_EPROTO);
	assert_memory_equal(&r, &before, sizeof(r));
}

static tr_slot_map *
three_masters(void)
{
	tr_slot_map *m = malloc(sizeof(*m));
	assert_non_null(m);
	tr_slot_map_reset(m);
	/* As CLUSTER SLOTS may list them: not in slot order. */
	assert_int_equal(tr_slot_map_add_range(m, 10923, 16383, "10.0.0.3",
	                     7002),
	    0);
	assert_int_equal(tr_slot_map_add_range(m, 0, 5460, "10.0.0.1", 7000),
	    0);
	assert_int_equal(tr_slot_map_add_range(m, 5461, 10922, "10.0.0.2",
	                     7001),
	    0);
	return m;
}

static void
a_map_of_three_ranges_routes_every_slot(void **state)
{
	tr_slot_map *m = three_masters();
	(void)state;

	assert_true(tr_slot_map_covered(m));
	assert_int_equal(m->nmasters, 3);
	assert_int_equal(tr_slot_map_lookup(m, 0), 1);
	assert_int_equal(tr_slot_map_lookup(m, 5460), 1);
	assert_int_equal(tr_slot_map_lookup(m, 5461), 2);
	assert_int_equal(tr_slot_map_lookup(m, 10922), 2);
	assert_int_equal(tr_slot_map_lookup(m, 10923), 0);
	assert_int_equal(tr_slot_map_lookup(m, 16383), 0);
	assert_int_equal(tr_slot_map_lookup(m, 16384), TR_ENOT_FOUND);
	assert_int_equal(tr_slot_map_lookup(m, -1), TR_ENOT_FOUND);
	/* Our event's keys go to the master of slot 10525. */
	assert_string_equal(tr_slot_map_master(m,
	                        tr_slot_map_lookup(m, slot("tr:{E42}:holds")))
	                        ->host,
	    "10.0.0.2");
	assert_int_equal(tr_slot_map_master(m, 0)->port, 7002);
	assert_null(tr_slot_map_master(m, 3));
	assert_null(tr_slot_map_master(m, -1));

	tr_slot_map_reset(m);
	assert_int_equal(m->nmasters, 0);
	assert_false(tr_slot_map_covered(m));
	assert_int_equal(tr_slot_map_lookup(m, 0), TR_ENOT_FOUND);
	free(m);
}

static void
a_map_with_a_hole_is_not_covered_and_finds_no_master_there(void **state)
{
	tr_slot_map *m = malloc(sizeof(*m));
	(void)state;

	assert_non_null(m);
	tr_slot_map_reset(m);
	assert_int_equal(tr_slot_map_add_range(m, 0, 9999, "a", 7000), 0);
	assert_int_equal(tr_slot_map_add_range(m, 10001, 16383, "a", 7000), 0);
	/* One master for both ranges. */
	assert_int_equal(m->nmasters, 1);
	assert_false(tr_slot_map_covered(m));
	assert_int_equal(tr_slot_map_lookup(m, 10000), TR_ENOT_FOUND);
	assert_int_equal(tr_slot_map_lookup(m, 9999), 0);
	assert_int_equal(tr_slot_map_lookup(m, 10001), 0);
	assert_int_equal(tr_slot_map_add_range(m, 10000, 10000, "b", 7000), 0);
	assert_true(tr_slot_map_covered(m));
	assert_int_equal(tr_slot_map_lookup(m, 10000), 1);
	free(m);
}

static void
bad_ranges_are_refused_and_change_nothing(void **state)
{
	tr_slot_map *m = malloc(sizeof(*m)), *before = malloc(sizeof(*m));
	char longhost[TR_SLOT_HOST_MAX + 2];
	(void)state;

	assert_non_null(m);
	assert_non_null(before);
	tr_slot_map_reset(m);
	assert_int_equal(tr_slot_map_add_range(m, 100, 200, "a", 7000), 0);
	memcpy(before, m, sizeof(*m));

	assert_int_equal(tr_slot_map_add_range(m, 300, 299, "b", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, -1, 10, "b", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 16000, 16384, "b", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, "", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, NULL, 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, "b c", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, "b", 0), TR_EINVALID);
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, "b", 65536),
	    TR_EINVALID);
	memset(longhost, 'h', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, longhost, 7001),
	    TR_EINVALID);
	/* Overlaps, at either end: two masters for one slot. */
	assert_int_equal(tr_slot_map_add_range(m, 0, 100, "b", 7001),
	    TR_ECONFLICT);
	assert_int_equal(tr_slot_map_add_range(m, 200, 300, "b", 7001),
	    TR_ECONFLICT);
	assert_int_equal(tr_slot_map_add_range(m, 150, 150, "a", 7000),
	    TR_ECONFLICT);
	assert_int_equal(tr_slot_map_apply_moved(m, 16384, "b", 7001),
	    TR_EINVALID);
	assert_int_equal(tr_slot_map_apply_moved(m, 150, "", 7001),
	    TR_EINVALID);
	assert_memory_equal(m, before, sizeof(*m));

	longhost[TR_SLOT_HOST_MAX] = '\0';
	assert_int_equal(tr_slot_map_add_range(m, 0, 10, longhost, 7001), 0);
	assert_string_equal(tr_slot_map_master(m, 1)->host, longhost);
	free(before);
	free(m);
}

static void
moved_gives_one_slot_to_its_new_master(void **state)
{
	tr_slot_map *m = three_masters();
	(void)state;

	/* A new master takes slot 10525 (resharding). */
	assert_int_equal(tr_slot_map_apply_moved(m, 10525, "10.0.0.4", 7003),
	    0);
	assert_int_equal(m->nmasters, 4);
	assert_int_equal(tr_slot_map_lookup(m, 10525), 3);
	assert_int_equal(tr_slot_map_lookup(m, 10524), 2);
	assert_int_equal(tr_slot_map_lookup(m, 10526), 2);
	assert_true(tr_slot_map_covered(m));
	/* Then a master we know takes it: no new master. */
	assert_int_equal(tr_slot_map_apply_moved(m, 10525, "10.0.0.1", 7000),
	    0);
	assert_int_equal(m->nmasters, 4);
	assert_int_equal(tr_slot_map_lookup(m, 10525), 1);
	/* Same host, other port: another master. */
	assert_int_equal(tr_slot_map_apply_moved(m, 0, "10.0.0.1", 7010), 0);
	assert_int_equal(m->nmasters, 5);
	assert_int_equal(tr_slot_map_lookup(m, 0), 4);
	/* A hole is filled by MOVED too. */
	tr_slot_map_reset(m);
	assert_int_equal(tr_slot_map_apply_moved(m, 5, "10.0.0.1", 7000), 0);
	assert_int_equal(tr_slot_map_lookup(m, 5), 0);
	assert_int_equal(tr_slot_map_lookup(m, 6), TR_ENOT_FOUND);
	free(m);
}

static void
a_map_refuses_a_master_past_its_bound_and_stays_as_it_was(void **state)
{
	tr_slot_map *m = malloc(sizeof(*m)), *before = malloc(sizeof(*m));
	(void)state;

	assert_non_null(m);
	assert_non_null(before);
	tr_slot_map_reset(m);
	for (int i = 0; i < TR_SLOT_MASTERS_MAX; i++)
		assert_int_equal(tr_slot_map_add_range(m, i * 100,
		                     i * 100 + 99, "10.0.0.1", 7000 + i),
		    0);
	assert_int_equal(m->nmasters, TR_SLOT_MASTERS_MAX);
	memcpy(before, m, sizeof(*m));
	assert_int_equal(tr_slot_map_add_range(m, 9000, 9001, "10.0.0.1",
	                     7000 + TR_SLOT_MASTERS_MAX),
	    TR_ELIMIT);
	assert_int_equal(tr_slot_map_apply_moved(m, 50, "10.0.0.2", 7000),
	    TR_ELIMIT);
	assert_memory_equal(m, before, sizeof(*m));
	/* Masters it knows still take ranges and slots. */
	assert_int_equal(tr_slot_map_add_range(m, 9000, 9001, "10.0.0.1",
	                     7000 + TR_SLOT_MASTERS_MAX - 1),
	    0);
	assert_int_equal(tr_slot_map_apply_moved(m, 50, "10.0.0.1", 7001), 0);
	assert_int_equal(tr_slot_map_lookup(m, 50), 1);
	assert_int_equal(tr_slot_map_lookup(m, 9001), TR_SLOT_MASTERS_MAX - 1);
	free(before);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(slots_are_crc16_xmodem_mod_16384),
	    cmocka_unit_test(hash_tags_follow_the_cluster_spec),
	    cmocka_unit_test(every_key_of_one_event_shares_the_event_slot),
	    cmocka_unit_test(keys_are_counted_bytes_not_c_strings),
	    cmocka_unit_test(moved_and_ask_parse_with_every_form_of_host),
	    cmocka_unit_test(
	        malformed_redirections_are_refused_and_leave_the_result_untouched),
	    cmocka_unit_test(a_map_of_three_ranges_routes_every_slot),
	    cmocka_unit_test(
	        a_map_with_a_hole_is_not_covered_and_finds_no_master_there),
	    cmocka_unit_test(bad_ranges_are_refused_and_change_nothing),
	    cmocka_unit_test(moved_gives_one_slot_to_its_new_master),
	    cmocka_unit_test(
	        a_map_refuses_a_master_past_its_bound_and_stays_as_it_was),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
