/* test_httpc: trload's HTTP answer parser, JSON field scanner and keep-alive
 * connection against a scripted loopback server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpc.h"
#include "tr_err.h"

static const char answer_201[] =
    "HTTP/1.1 201 Created\r\n"
    "Server: trgate\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 46\r\n"
    "\r\n"
    "{\"reservation_id\":\"n3.9f2c41d07be85a10\",\"x\":1}";

/* Parse text fed in pieces of step bytes into a buffer that grows like a
 * socket's; return the parse result at the end and the byte count at which
 * it first stopped returning 0. */
static int
feed(const char *text, size_t len, size_t step, char *buf, tl_http_resp *r,
    size_t *done_at)
{
	int rv = 0;

	tl_http_resp_reset(r);
	*done_at = 0;
	for (size_t have = 0; have < len;) {
		size_t n = len - have < step ? len - have : step;
		memcpy(buf + have, text + have, n);
		have += n;
		rv = tl_http_parse(r, buf, have, false);
		if (rv != 0) {
			*done_at = have;
			return rv;
		}
	}
	return rv;
}

static void
content_length_answer_completes_at_its_last_byte_however_split(void **state)
{
	size_t len = sizeof(answer_201) - 1, done_at;
	char buf[512];
	tl_http_resp r;
	(void)state;

	/* Every piece size, including one byte at a time, which splits the
	 * head inside names, values and each CR LF. */
	for (size_t step = 1; step <= len; step++) {
		assert_int_equal(feed(answer_201, len, step, buf, &r,
		                     &done_at),
		    TL_HTTP_DONE);
		assert_int_equal(done_at, len);
		assert_int_equal(r.status, 201);
		assert_true(r.keep_alive);
		assert_int_equal(r.body_len, 46);
		assert_int_equal(r.total_len, len);
		assert_memory_equal(r.body, answer_201 + len - 46, 46);
	}
}

static void
split_between_cr_and_lf_of_the_blank_line_waits(void **state)
{
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	char buf[128];
	tl_http_resp r;
	size_t cut = strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r");
	(void)state;

	tl_http_resp_reset(&r);
	memcpy(buf, a, strlen(a));
	assert_int_equal(tl_http_parse(&r, buf, cut, false), 0);
	assert_int_equal(tl_http_parse(&r, buf, cut + 1, false), 0); /* head
	                                                              * only */
	assert_int_equal(tl_http_parse(&r, buf, cut + 2, false), 0);
	assert_int_equal(tl_http_parse(&r, buf, strlen(a), false),
	    TL_HTTP_DONE);
	assert_memory_equal(r.body, "ok", 2);
}

static void
bytes_after_an_answer_belong_to_the_next(void **state)
{
	char buf[512];
	size_t len = sizeof(answer_201) - 1;
	tl_http_resp r;
	(void)state;

	memcpy(buf, answer_201, len);
	memcpy(buf + len, answer_201, len);
	tl_http_resp_reset(&r);
	assert_int_equal(tl_http_parse(&r, buf, 2 * len, false), TL_HTTP_DONE);
	assert_int_equal(r.total_len, len);
	tl_http_resp_reset(&r);
	assert_int_equal(tl_http_parse(&r, buf + len, len, false),
	    TL_HTTP_DONE);
	assert_int_equal(r.status, 201);
}

static int
parse_all(const char *text, tl_http_resp *r, bool eof)
{
	static char buf[1024];
	size_t n = strlen(text);

	memcpy(buf, text, n);
	tl_http_resp_reset(r);
	return tl_http_parse(r, buf, n, eof);
}

static void
keep_alive_follows_version_and_connection_header(void **state)
{
	tl_http_resp r;
	(void)state;

	assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
	                           "\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_true(r.keep_alive);
	assert_int_equal(parse_all("HTTP/1.1 409 Conflict\r\nConnection: "
	                           "Close\r\nContent-Length: 0\r\n\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(r.status, 409);
	assert_int_equal(parse_all("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"
	                           "\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(parse_all("HTTP/1.0 200 OK\r\nconnection: "
	                           "keep-alive\r\nContent-Length: 0\r\n\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_true(r.keep_alive);
	/* "close" as one token of several still closes. */
	assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nConnection: foo, "
	                           "close\r\nContent-Length: 0\r\n\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_false(r.keep_alive);
}

static void
answer_without_length_runs_to_the_close(void **state)
{
	const char *a = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1"
	                "\r\n\r\n{\"error\":\"overloaded\"}";
	tl_http_resp r;
	(void)state;

	assert_int_equal(parse_all(a, &r, false), 0);
	assert_int_equal(parse_all(a, &r, true), TL_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(r.body_len, strlen("{\"error\":\"overloaded\"}"));
}

static void
no_body_for_204_and_304_even_with_a_length(void **state)
{
	tl_http_resp r;
	(void)state;

	assert_int_equal(parse_all("HTTP/1.1 204 No Content\r\n\r\n", &r,
	                     false),
	    TL_HTTP_DONE);
	assert_int_equal(r.body_len, 0);
	assert_true(r.keep_alive);
	assert_int_equal(parse_all("HTTP/1.1 304 Not Modified\r\n"
	                           "Content-Length: 99\r\n\r\n",
	                     &r, false),
	    TL_HTTP_DONE);
	assert_int_equal(r.body_len, 0);
}

static void
chunked_body_is_decoded_in_place_across_splits(void **state)
{
	const char *a =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 999\r\n\r\n"
	    "5;ext=1\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n"
	    "HTTP/1.1"; /* the start of the next answer */
	size_t len = strlen(a) - 8, done_at;
	char buf[512];
	tl_http_resp r;
	(void)state;

	for (size_t step = 1; step <= len; step++) {
		assert_int_equal(feed(a, len, step, buf, &r, &done_at),
		    TL_HTTP_DONE);
		assert_int_equal(done_at, len);
		assert_int_equal(r.body_len, 12);
		assert_memory_equal(r.body, "hello, world", 12);
		assert_int_equal(r.total_len, len);
	}
	/* Trailers after the last chunk end at their blank line. */
	assert_int_equal(
	    parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	              "chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
	        &r, false),
	    TL_HTTP_DONE);
	assert_int_equal(r.body_len, 2);
}

static void
garbage_is_refused_without_waiting_for_more(void **state)
{
	static const char *bad[] = {
	    "SSH-2.0-OpenSSH\r\n",
	    "xyz",
	    "HTTP/2 200\r\n\r\n",
	    "HTTP/1.1 2x0 OK\r\n\r\n",
	    "HTTP/1.1 200OK\r\n\r\n",
	    "HTTP/1.1 099 Low\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"
	    "\r\nab",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n"
	    "\r\n",
	    "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nokX\r\n",
	};
	tl_http_resp r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_all(bad[i], &r, false) != TR_EPROTO)
			fail_msg("accepted #%zu: %s", i, bad[i]);
	}
}

static void
answer_cut_short_by_the_close_is_an_error(void **state)
{
	tl_http_resp r;
	(void)state;

	assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	                           "\r\nabc",
	                     &r, true),
	    TR_EPROTO);
	assert_int_equal(parse_all("HTTP/1.1 200 OK\r\nContent-Le", &r, true),
	    TR_EPROTO);
	assert_int_equal(parse_all("", &r, true), TR_EPROTO);
	assert_int_equal(parse_all("", &r, false), 0);
}

static void
json_scanner_reads_only_top_level_members(void **state)
{
	const char *b =
	    "{\"message\":\"has \\\"node\\\":\\\"evil\\\" in it\","
	    "\"nested\":{\"node\":\"inner\",\"a\":[1,{\"node\":2}]},"
	    "\"list\":[\"node\",\"x\"], \"node\" : \"n3\", \"total\":10000,"
	    "\"neg\":-5,\"frac\":1.5,\"big\":99999999999999999999,"
	    "\"esc\":\"a\\n\\u00e9b\",\"nul\":null}";
	size_t n = strlen(b);
	char out[32];
	int64_t v;
	(void)state;

	assert_int_equal(tl_json_scan_str(b, n, "node", out, sizeof(out)), 0);
	assert_string_equal(out, "n3");
	assert_int_equal(tl_json_scan_i64(b, n, "total", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(tl_json_scan_i64(b, n, "neg", &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(tl_json_scan_i64(b, n, "frac", &v), TR_EINVALID);
	assert_int_equal(tl_json_scan_i64(b, n, "big", &v), TR_EINVALID);
	assert_int_equal(tl_json_scan_str(b, n, "esc", out, sizeof(out)), 0);
	assert_string_equal(out, "a\n?b");
	assert_int_equal(tl_json_scan_str(b, n, "nul", out, sizeof(out)),
	    TR_ENOT_FOUND);
	assert_int_equal(tl_json_scan_str(b, n, "absent", out, sizeof(out)),
	    TR_ENOT_FOUND);
	assert_int_equal(tl_json_scan_i64(b, n, "node", &v), TR_ENOT_FOUND);
	/* Too long for out: refused, out untouched. */
	strcpy(out, "keep");
	assert_int_equal(tl_json_scan_str(b, n, "message", out, 8),
	    TR_EINVALID);
	assert_string_equal(out, "keep");
}

static void
json_scanner_refuses_what_is_not_an_object(void **state)
{
	char out[16];
	int64_t v;
	(void)state;

	assert_int_equal(tl_json_scan_str("[1,2]", 5, "a", out, sizeof(out)),
	    TR_EPROTO);
	assert_int_equal(tl_json_scan_str("", 0, "a", out, sizeof(out)),
	    TR_EPROTO);
	assert_int_equal(tl_json_scan_i64("{\"a\":", 5, "a", &v), TR_EPROTO);
	assert_int_equal(tl_json_scan_str("{\"a\":\"open", 10, "a", out,
	                     sizeof(out)),
	    TR_EPROTO);
	assert_int_equal(tl_json_scan_str("{\"b\":1 \"a\":\"x\"}", 15, "a",
	                     out, sizeof(out)),
	    TR_EPROTO);
	assert_int_equal(tl_json_scan_str("{}", 2, "a", out, sizeof(out)),
	    TR_ENOT_FOUND);
	/* A body cut inside a nested value never reads past its end. */
	assert_int_equal(tl_json_scan_str("{\"x\":{\"y\":[", 11, "a", out,
	                     sizeof(out)),
	    TR_EPROTO);
}

/* ---- A scripted server on loopback ------------------------------------ */

struct script {
	int lfd;
	int port;
};

/* Read one request head (our test requests have no body). */
static int
read_request(int fd)
{
	char buf[2048];
	size_t n = 0;

	while (n < sizeof(buf)) {
		ssize_t got = recv(fd, buf + n, sizeof(buf) - n, 0);
		if (got <= 0)
			return -1;
		n += (size_t)got;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			return 0;
	}
	return -1;
}

static void
send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void *
server_main(void *arg)
{
	struct script *sc = arg;
	int fd;

	/* 1: two answers on one socket; the first in two writes split
	 * inside a header, the second says it closes. */
	fd = accept(sc->lfd, NULL, NULL);
	if (read_request(fd) == 0) {
		send_all(fd, "HTTP/1.1 201 Created\r\nContent-Le");
		usleep(20000);
		send_all(fd, "ngth: 2\r\n\r\nhi");
	}
	if (read_request(fd) == 0)
		send_all(fd,
		    "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Content-Length: 3\r\n\r\nbye");
	usleep(20000);
	close(fd);
	/* 2: read the request, close without a word. */
	fd = accept(sc->lfd, NULL, NULL);
	(void)read_request(fd);
	close(fd);
	/* 3: answer, then drop the idle keep-alive socket. */
	fd = accept(sc->lfd, NULL, NULL);
	if (read_request(fd) == 0)
		send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	usleep(50000);
	close(fd);
	/* 4: answer, then drop it; the client's next request meets the
	 * dead socket (a stale keep-alive). */
	fd = accept(sc->lfd, NULL, NULL);
	if (read_request(fd) == 0)
		send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	shutdown(fd, SHUT_RDWR);
	close(fd);
	return NULL;
}

/* Drive c until it answers, fails or 2 s pass. Returns the last
 * tl_httpc_on_event result (0 on timeout or a quiet close). */
static int
drive(int epfd, tl_httpc *c)
{
	for (int i = 0; i < 200; i++) {
		struct epoll_event ev;
		int n = epoll_wait(epfd, &ev, 1, 10), rv;
		if (n != 1)
			continue;
		rv = tl_httpc_on_event(c, ev.data.u64, ev.events);
		if (rv != 0 || c->state == TL_HTTPC_CLOSED)
			return rv;
	}
	return 0;
}

static int
send_get(tl_httpc *c, const struct sockaddr_in *sa)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
	size_t cap;
	char *buf = tl_httpc_wbuf(c, &cap);
	int rv;

	if (c->state == TL_HTTPC_CLOSED && (rv = tl_httpc_connect(c, sa)) != 0)
		return rv;
	memcpy(buf, req, sizeof(req) - 1);
	return tl_httpc_send(c, sizeof(req) - 1);
}

static void
connection_keeps_alive_reconnects_and_reports_failures(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct script sc;
	pthread_t th;
	tl_httpc c;
	int epfd = epoll_create1(0), one = 1;
	(void)state;

	sc.lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sc.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sc.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(sc.lfd, 8), 0);
	getsockname(sc.lfd, (struct sockaddr *)&sa, &sl);
	assert_int_equal(pthread_create(&th, NULL, server_main, &sc), 0);
	assert_int_equal(tl_httpc_init(&c, epfd, 7, 4096, 512), 0);

	/* 1: an answer split inside a header, on a kept-alive socket. */
	assert_int_equal(send_get(&c, &sa), 0);
	assert_int_equal(drive(epfd, &c), TL_HTTP_DONE);
	assert_int_equal(c.resp.status, 201);
	assert_int_equal(c.resp.body_len, 2);
	assert_memory_equal(c.resp.body, "hi", 2);
	tl_httpc_consume(&c);
	assert_int_equal(c.state, TL_HTTPC_IDLE);
	assert_int_equal(send_get(&c, &sa), 0);
	assert_int_equal(drive(epfd, &c), TL_HTTP_DONE);
	assert_int_equal(c.resp.status, 200);
	assert_false(c.resp.keep_alive);
	tl_httpc_consume(&c);
	assert_int_equal(c.state, TL_HTTPC_CLOSED); /* the server said so */

	/* 2: reconnect; the server closes without answering: a failure,
	 * and not a stale socket (nothing was answered on it). */
	assert_int_equal(send_get(&c, &sa), 0);
	assert_int_equal(drive(epfd, &c), TR_EIO);
	assert_int_equal(c.fail, TL_XP_CLOSED);
	assert_false(c.fail_stale);
	assert_int_equal(c.state, TL_HTTPC_CLOSED);

	/* 3: an idle socket the server drops just becomes CLOSED. */
	assert_int_equal(send_get(&c, &sa), 0);
	assert_int_equal(drive(epfd, &c), TL_HTTP_DONE);
	tl_httpc_consume(&c);
	assert_int_equal(c.state, TL_HTTPC_IDLE);
	assert_int_equal(drive(epfd, &c), 0);
	assert_int_equal(c.state, TL_HTTPC_CLOSED);

	/* 4: a request on a socket the server already dropped fails as
	 * stale: the caller may resend it. */
	assert_int_equal(send_get(&c, &sa), 0);
	assert_int_equal(drive(epfd, &c), TL_HTTP_DONE);
	tl_httpc_consume(&c);
	usleep(50000); /* the server closes, we have not looked yet */
	if (c.state == TL_HTTPC_IDLE) {
		int rv = send_get(&c, &sa);
		if (rv == 0)
			rv = drive(epfd, &c);
		assert_int_equal(rv, TR_EIO);
		assert_true(c.fail == TL_XP_CLOSED || c.fail == TL_XP_RESET);
		assert_true(c.fail_stale);
	}
	pthread_join(th, NULL);

	/* 5: nobody listens any more: refused. */
	close(sc.lfd);
	{
		int rv = send_get(&c, &sa);
		if (rv == 0)
			rv = drive(epfd, &c);
		assert_int_equal(rv, TR_EIO);
		assert_int_equal(c.fail, TL_XP_REFUSED);
	}
	tl_httpc_fini(&c);
	close(epfd);
}

static void
send_on_a_busy_connection_is_refused_untouched(void **state)
{
	tl_httpc c;
	size_t cap;
	(void)state;

	assert_int_equal(tl_httpc_init(&c, -1, 1, 1024, 256), 0);
	(void)tl_httpc_wbuf(&c, &cap);
	assert_int_equal(cap, 256);
	/* Closed: not connected, so nothing is sent. */
	assert_int_equal(tl_httpc_send(&c, 10), TR_EINVALID);
	assert_int_equal(c.state, TL_HTTPC_CLOSED);
	assert_false(c.pending);
	tl_httpc_fini(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        content_length_answer_completes_at_its_last_byte_however_split),
	    cmocka_unit_test(split_between_cr_and_lf_of_the_blank_line_waits),
	    cmocka_unit_test(bytes_after_an_answer_belong_to_the_next),
	    cmocka_unit_test(keep_alive_follows_version_and_connection_header),
	    cmocka_unit_test(answer_without_length_runs_to_the_close),
	    cmocka_unit_test(no_body_for_204_and_304_even_with_a_length),
	    cmocka_unit_test(chunked_body_is_decoded_in_place_across_splits),
	    cmocka_unit_test(garbage_is_refused_without_waiting_for_more),
	    cmocka_unit_test(answer_cut_short_by_the_close_is_an_error),
	    cmocka_unit_test(json_scanner_reads_only_top_level_members),
	    cmocka_unit_test(json_scanner_refuses_what_is_not_an_object),
	    cmocka_unit_test(
	        connection_keeps_alive_reconnects_and_reports_failures),
	    cmocka_unit_test(send_on_a_busy_connection_is_refused_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
